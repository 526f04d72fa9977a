// A wall clock the test sets (for ages: scrub plans, unsynced, overdue);
// monotonic time and sleeps are real.
#pragma once

#include <atomic>

#include "atlas/env.h"

namespace atlas::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t now_ns = Clock::Default()->NowUnixNanos()) : now_(now_ns) {}
  std::int64_t NowUnixNanos() override { return now_.load(); }
  std::int64_t MonotonicNanos() override { return Clock::Default()->MonotonicNanos(); }
  void SleepFor(std::chrono::nanoseconds d) override { Clock::Default()->SleepFor(d); }
  void AdvanceDays(double days) { now_ += static_cast<std::int64_t>(days * 86400e9); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace atlas::testing
