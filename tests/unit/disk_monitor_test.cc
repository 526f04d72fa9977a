// STRATEGY:
// 1. A clock the test drives (SleepFor advances it) and a probe that answers
//    from a table and counts its calls: the monitor's decisions are exact and
//    take no real time.
// 2. Which disks are probed (only used or held ones), when (temp_check_every),
//    hold above the limit and release kTempResumeMargin below it, holds for
//    the run, waiting, and the stop after temp_wait_max.
#include <map>

#include "atlas/disk_monitor.h"
#include "support/test_util.h"

namespace atlas {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

class StepClock final : public Clock {
 public:
  std::int64_t NowUnixNanos() override { return 1'800'000'000 * kSecond + mono_; }
  std::int64_t MonotonicNanos() override { return mono_; }
  void SleepFor(std::chrono::nanoseconds d) override { mono_ += d.count(); }
  void Advance(std::int64_t ns) { mono_ += ns; }

 private:
  std::int64_t mono_ = kSecond;
};

struct Probe {
  std::map<std::string, std::vector<std::int64_t>> temps;  // consumed front to back; the last one stays
  std::map<std::string, int> calls;
  std::optional<std::int64_t> operator()(const std::string& disk) {
    calls[disk]++;
    auto it = temps.find(disk);
    if (it == temps.end() || it->second.empty()) return std::nullopt;
    std::int64_t t = it->second.front();
    if (it->second.size() > 1) it->second.erase(it->second.begin());
    return t;
  }
};

DiskMonitor::Options Limit(std::int64_t c, std::int64_t every_s = 60, std::int64_t wait_s = 3600) {
  DiskMonitor::Options o;
  o.temp_limit_c = c;
  o.check_every_ns = every_s * kSecond;
  o.wait_max_ns = wait_s * kSecond;
  return o;
}

TEST_CASE("disk monitor: only disks the run used are probed, and only when a check is due",
          "[disk_monitor][unit][issue-16]") {
  StepClock clock;
  Probe probe;
  probe.temps = {{"d1", {40}}, {"d2", {41}}, {"parity1", {42}}};
  DiskMonitor m({"d1", "d2", "parity1"}, Limit(50), std::ref(probe), &clock);
  m.Poll();
  CHECK(probe.calls.empty());  // nothing used yet: a sleeping disk is never asked
  m.MarkUsed(m.Index("d1"));
  m.Poll();
  CHECK(probe.calls == std::map<std::string, int>{{"d1", 1}});
  m.MarkUsed(m.Index("parity1"));
  m.Poll();  // within temp_check_every: no check
  CHECK(probe.calls == std::map<std::string, int>{{"d1", 1}});
  clock.Advance(60 * kSecond);
  m.Poll();
  CHECK(probe.calls == std::map<std::string, int>{{"d1", 2}, {"parity1", 1}});
  CHECK(m.UsedDisks() == std::vector<std::string>{"d1", "parity1"});
  CHECK(m.Index("d9") == DiskMonitor::npos);
  m.MarkUsed(DiskMonitor::npos);  // an unknown disk is ignored
  CHECK_FALSE(m.Held(DiskMonitor::npos));

  // No limit: never probed.
  Probe none;
  DiskMonitor off({"d1"}, Limit(0), std::ref(none), &clock);
  off.MarkUsed(0);
  off.Poll(/*force=*/true);
  CHECK(none.calls.empty());
}

TEST_CASE("disk monitor: a disk over the limit is held until it reads 3 degrees below it",
          "[disk_monitor][unit][issue-16]") {
  StepClock clock;
  Probe probe;
  probe.temps = {{"d1", {51, 48, 47, 52}}, {"d2", {50}}};
  DiskMonitor m({"d1", "d2"}, Limit(50, 0), std::ref(probe), &clock);
  m.MarkUsed(0);
  m.MarkUsed(1);
  m.Poll();
  CHECK(m.Held(0));
  CHECK_FALSE(m.Held(1));  // at the limit is not over it
  CHECK(m.AnyHeld());
  m.Poll();
  CHECK(m.Held(0));  // 48: cooler, not 3 below
  m.Poll();
  CHECK_FALSE(m.Held(0));  // 47 = 50 - kTempResumeMargin
  m.Poll();
  CHECK(m.Held(0));  // 52 again
  const std::vector<DiskMonitor::Event> events = m.Events();
  REQUIRE(events.size() == 3);
  CHECK(events[0].why == "51 C, over temp_limit 50 C");
  CHECK(events[0].held);
  CHECK(events[1].why == "cooled to 47 C");
  CHECK_FALSE(events[1].held);
  CHECK(events[2].temperature_c == 52);
  const std::vector<DiskMonitor::DiskSummary> summary = m.Summary();
  CHECK(summary[0].temperature_c == 52);
  CHECK(summary[0].max_temperature_c == 52);
  CHECK(summary[1].temperature_c == 50);
}

TEST_CASE("disk monitor: a disk held for the run stays held whatever its temperature",
          "[disk_monitor][unit][issue-16]") {
  StepClock clock;
  Probe probe;
  probe.temps = {{"d1", {30}}};
  DiskMonitor m({"d1"}, Limit(50, 0), std::ref(probe), &clock);
  m.Hold(0, "SMART reports failing");
  m.Poll();
  CHECK(probe.calls["d1"] == 1);  // held disks are still probed (for their temperature)
  CHECK(m.Held(0));
  m.CountSkipped(0, 7);
  m.CountSkipped(0, 2);
  CHECK(m.Summary()[0].skipped == 9);
  REQUIRE(m.Events().size() == 1);
  CHECK(m.Events()[0].why == "SMART reports failing");
}

TEST_CASE("disk monitor: waiting ends when the disk cools, or stops the run after temp_wait_max",
          "[disk_monitor][unit][issue-16]") {
  StepClock clock;
  Probe probe;
  probe.temps = {{"d1", {60, 59, 58, 40}}};
  std::stop_source stop;
  DiskMonitor m({"d1", "d2"}, Limit(50, 30, 600), std::ref(probe), &clock, &stop);
  m.MarkUsed(0);
  m.Poll();
  REQUIRE(m.Held(0));
  const std::int64_t start = clock.MonotonicNanos();
  m.WaitWhileHeld({1}, stop.get_token());  // d2 is not held: returns at once
  CHECK(clock.MonotonicNanos() == start);
  m.WaitWhileHeld({0, 1}, stop.get_token());
  CHECK_FALSE(m.Held(0));
  CHECK(clock.MonotonicNanos() - start == 3 * 30 * kSecond);  // three checks, temp_check_every apart
  CHECK_FALSE(stop.stop_requested());
  CHECK(m.StopReason().empty());

  Probe hot;
  hot.temps = {{"d1", {70}}};
  std::stop_source stop2;
  DiskMonitor m2({"d1"}, Limit(50, 60, 600), std::ref(hot), &clock, &stop2);
  m2.MarkUsed(0);
  m2.Poll();
  m2.WaitWhileHeld({0}, stop2.get_token());
  CHECK(stop2.stop_requested());
  CHECK(m2.StopReason() ==
        "d1 stayed over temp_limit 50 C (last 70 C) for longer than temp_wait_max: stopped; the next run resumes");

  // A stop requested by the user ends the wait too, with no reason of its own.
  std::stop_source user;
  DiskMonitor m3({"d1"}, Limit(50, 60, 600), std::ref(hot), &clock, nullptr);
  m3.MarkUsed(0);
  m3.Poll();
  user.request_stop();
  m3.WaitWhileHeld({0}, user.get_token());
  CHECK(m3.StopReason().empty());
}

}  // namespace
}  // namespace atlas
