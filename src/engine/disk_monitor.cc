#include "atlas/disk_monitor.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

namespace atlas {

DiskMonitor::DiskMonitor(std::vector<std::string> disks, Options options, TemperatureProbe probe, Clock* clock,
                         std::stop_source* stopper)
    : options_(options), probe_(std::move(probe)), clock_(clock), stopper_(stopper) {
  disks_.items = std::make_unique<Disk[]>(disks.size());
  disks_.n = disks.size();
  for (std::size_t i = 0; i < disks.size(); ++i) disks_[i].name = std::move(disks[i]);
}

std::size_t DiskMonitor::Index(std::string_view name) const {
  for (std::size_t i = 0; i < disks_.size(); ++i) {
    if (disks_[i].name == name) return i;
  }
  return npos;
}

void DiskMonitor::SetHeld(Disk& d, bool held, std::optional<std::int64_t> temp, std::string why) {
  if (d.held.load() == held) return;
  d.held.store(held);
  held_count_.fetch_add(held ? 1 : -1);
  events_.push_back(Event{d.name, clock_->NowUnixNanos(), held, temp, std::move(why)});
}

void DiskMonitor::Hold(std::size_t i, std::string why) {
  if (i >= disks_.size()) return;
  std::lock_guard<std::mutex> lock(mu_);
  disks_[i].held_for_run = true;
  SetHeld(disks_[i], true, disks_[i].temperature_c, std::move(why));
}

void DiskMonitor::Poll(bool force) {
  if (options_.temp_limit_c <= 0 || !probe_) return;
  std::unique_lock<std::mutex> polling(poll_mu_, std::try_to_lock);
  if (!polling.owns_lock()) return;  // another thread is checking now
  const std::int64_t now = clock_->MonotonicNanos();
  if (!force && checked_ && now - last_check_ < options_.check_every_ns) return;
  const std::int64_t limit = options_.temp_limit_c;
  for (std::size_t i = 0; i < disks_.size(); ++i) {
    Disk& d = disks_[i];
    // Only disks the run has woken (or holds): a sleeping disk is cool,
    // and the probe must not be what wakes it. A poll before any disk is
    // used is no check: the first one comes as soon as a disk is read.
    if (!d.used.load() && !d.held.load()) continue;
    checked_ = true;
    last_check_ = now;
    const std::optional<std::int64_t> t = probe_(d.name);
    std::lock_guard<std::mutex> lock(mu_);
    if (t) {
      d.temperature_c = t;
      d.max_temperature_c = std::max(d.max_temperature_c.value_or(*t), *t);
    }
    if (!t || d.held_for_run) continue;
    if (*t > limit && !d.held.load()) {
      SetHeld(d, true, t, fmt::format("{} C, over temp_limit {} C", *t, limit));
    } else if (*t <= limit - kTempResumeMargin && d.held.load()) {
      SetHeld(d, false, t, fmt::format("cooled to {} C", *t));
    }
  }
}

void DiskMonitor::WaitWhileHeld(const std::vector<std::size_t>& disks, std::stop_token stop) {
  auto held = [&]() -> const Disk* {
    for (std::size_t i : disks) {
      if (Held(i)) return &disks_[i];
    }
    return nullptr;
  };
  const std::int64_t start = clock_->MonotonicNanos();
  while (const Disk* d = held()) {
    if (stop.stop_requested()) return;
    if (clock_->MonotonicNanos() - start > options_.wait_max_ns) {
      std::lock_guard<std::mutex> lock(mu_);
      stop_reason_ = fmt::format(
          "{} stayed over temp_limit {} C ({}) for longer than temp_wait_max: stopped; the next run resumes",
          d->name, options_.temp_limit_c,
          d->temperature_c ? fmt::format("last {} C", *d->temperature_c) : std::string("temperature unknown"));
      if (stopper_ != nullptr) stopper_->request_stop();
      return;
    }
    const std::int64_t pause = std::clamp<std::int64_t>(options_.check_every_ns, 10'000'000, 10'000'000'000);
    clock_->SleepFor(std::chrono::nanoseconds(pause));
    Poll();
  }
}

std::string DiskMonitor::StopReason() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stop_reason_;
}

std::vector<DiskMonitor::Event> DiskMonitor::Events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

std::vector<DiskMonitor::DiskSummary> DiskMonitor::Summary() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DiskSummary> out;
  for (std::size_t i = 0; i < disks_.size(); ++i) {
    const Disk& d = disks_[i];
    out.push_back(DiskSummary{d.name, d.used.load(), d.held.load(), d.skipped.load(), d.temperature_c,
                              d.max_temperature_c});
  }
  return out;
}

std::vector<std::string> DiskMonitor::UsedDisks() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < disks_.size(); ++i) {
    if (disks_[i].used.load()) out.push_back(disks_[i].name);
  }
  return out;
}

}  // namespace atlas
