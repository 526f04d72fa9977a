// What a run tells about the disks it uses, and how it is told to leave one
// alone for a while.
//
// The CLI gives each sync, scrub, check and fix run one DiskMonitor
// (RunContext::monitor; null: nothing is watched). The engine
//   - marks every disk it reads or writes (MarkUsed): afterwards the run
//     takes a SMART reading of exactly those disks, which are awake then,
//     and spins down the ones it woke ([disks] spindown_after_run);
//   - calls Poll() between units of work (a window of stripes, a file): when
//     [smart] temp_check_every has passed since the last check, the monitor
//     reads the temperature of every disk in use or held, through its probe
//     (never waking a sleeping disk), and holds a disk hotter than
//     [smart] temp_limit until a reading shows it kTempResumeMargin degrees
//     below the limit;
//   - asks Held() before reading a disk: scrub leaves a held disk's blocks
//     unread (the positions stay unverified, so the next scrub takes them
//     first); sync, check and fix wait for it (WaitWhileHeld).
// A disk can also be held for the whole run (Hold): scrub holds a disk
// whose SMART reports failing.
//
// Thread-safety: every method may be called from any thread. MarkUsed,
// Used, Held and CountSkipped are single atomic operations (they sit in
// the per-block path); Poll lets one caller probe at a time.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "atlas/env.h"
#include "atlas/status.h"

namespace atlas {

// A disk held for its temperature is released by a reading this many
// degrees Celsius below [smart] temp_limit (so it is not stopped and
// started at every check around the limit).
inline constexpr std::int64_t kTempResumeMargin = 3;

class DiskMonitor {
 public:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  struct Options {
    std::int64_t temp_limit_c = 0;                   // 0: no limit
    std::int64_t check_every_ns = 300'000'000'000;   // 5 minutes
    std::int64_t wait_max_ns = 3'600'000'000'000;    // sync, check, fix: then stop
  };
  // The temperature of `disk` now, in degrees Celsius; nullopt when it is
  // not known (no SMART, asleep).
  using TemperatureProbe = std::function<std::optional<std::int64_t>(const std::string& disk)>;

  // What happened to a disk during the run, in order.
  struct Event {
    std::string disk;
    std::int64_t time_ns = 0;
    bool held = false;  // true: it was held from here; false: released
    std::optional<std::int64_t> temperature_c;
    std::string why;    // "52 C, over temp_limit 50 C", "SMART reports failing", "cooled to 46 C"
  };

  struct DiskSummary {
    std::string name;
    bool used = false;
    bool held = false;               // still held at the end
    std::uint64_t skipped = 0;       // positions left unread (scrub)
    std::optional<std::int64_t> temperature_c;      // last reading of the run
    std::optional<std::int64_t> max_temperature_c;  // hottest reading of the run
  };

  // `disks`: every data disk and parity level of the config, by name.
  // `stopper` (may be null) is the run's stop source, requested when a disk
  // stays too hot for too long.
  DiskMonitor(std::vector<std::string> disks, Options options, TemperatureProbe probe, Clock* clock,
              std::stop_source* stopper = nullptr);

  // The index of disk `name`, or npos when it is not one of the run's.
  std::size_t Index(std::string_view name) const;
  const std::string& Name(std::size_t i) const { return disks_[i].name; }
  std::size_t size() const { return disks_.size(); }

  void MarkUsed(std::size_t i) {
    // Read first: after the first block, the per-block call only reads, so
    // the readers of different disks do not pass the cache line around.
    if (i < disks_.size() && !disks_[i].used.load(std::memory_order_relaxed)) {
      disks_[i].used.store(true, std::memory_order_relaxed);
    }
  }
  bool Used(std::size_t i) const { return i < disks_.size() && disks_[i].used.load(std::memory_order_relaxed); }
  bool Held(std::size_t i) const { return i < disks_.size() && disks_[i].held.load(std::memory_order_relaxed); }
  void CountSkipped(std::size_t i, std::uint64_t positions) {
    if (i < disks_.size()) disks_[i].skipped.fetch_add(positions, std::memory_order_relaxed);
  }
  // Holds disk `i` for the rest of the run; temperature checks do not
  // release it.
  void Hold(std::size_t i, std::string why);

  // Checks temperatures when a check is due (or `force`). Cheap otherwise.
  void Poll(bool force = false);
  // Returns when none of `disks` is held: at once, or after they cooled
  // (checked every temp_check_every, at least every 10 ms), or when `stop`
  // is requested. A disk held longer than wait_max stops the run through
  // the stop source given at construction (StopReason() says why): it ends
  // as if interrupted, and the next run resumes.
  void WaitWhileHeld(const std::vector<std::size_t>& disks, std::stop_token stop);
  // Why the monitor stopped the run; empty when it did not.
  std::string StopReason() const;
  // True when some disk is held (a cheap check before WaitWhileHeld).
  bool AnyHeld() const { return held_count_.load(std::memory_order_relaxed) > 0; }

  std::vector<Event> Events() const;
  std::vector<DiskSummary> Summary() const;
  std::vector<std::string> UsedDisks() const;
  std::int64_t temp_limit_c() const { return options_.temp_limit_c; }

 private:
  struct Disk {
    std::string name;
    std::atomic<bool> used{false};
    std::atomic<bool> held{false};
    std::atomic<std::uint64_t> skipped{0};
    bool held_for_run = false;  // under mu_
    std::optional<std::int64_t> temperature_c;      // under mu_
    std::optional<std::int64_t> max_temperature_c;  // under mu_
  };
  void SetHeld(Disk& d, bool held, std::optional<std::int64_t> temp, std::string why);  // REQUIRES: mu_

  Options options_;
  TemperatureProbe probe_;
  Clock* clock_;
  std::stop_source* stopper_;
  std::string stop_reason_;  // under mu_
  mutable std::mutex mu_;  // events, temperatures, held_for_run
  std::mutex poll_mu_;     // one probe at a time
  std::int64_t last_check_ = 0;  // monotonic ns; under poll_mu_
  bool checked_ = false;         // under poll_mu_
  std::atomic<int> held_count_{0};
  std::vector<Event> events_;
  // Fixed at construction; elements are not movable (atomics).
  struct DiskArray {
    std::unique_ptr<Disk[]> items;
    std::size_t n = 0;
    Disk& operator[](std::size_t i) const { return items[i]; }
    std::size_t size() const { return n; }
  } disks_;
};

// Marks disk `name` used when there is a monitor.
inline void MarkDiskUsed(DiskMonitor* monitor, std::string_view name) {
  if (monitor != nullptr) monitor->MarkUsed(monitor->Index(name));
}

}  // namespace atlas
