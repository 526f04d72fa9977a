#include <chrono>

#include "io/throttle.h"
#include "support/test_util.h"

namespace atlas {
namespace {

// A clock that only moves when slept on.
class FakeClock final : public Clock {
 public:
  std::int64_t NowUnixNanos() override { return now_; }
  std::int64_t MonotonicNanos() override { return now_; }
  void SleepFor(std::chrono::nanoseconds d) override {
    now_ += d.count();
    slept_ += d.count();
  }
  std::int64_t slept() const { return slept_; }
  void Advance(std::int64_t ns) { now_ += ns; }

 private:
  std::int64_t now_ = 10'000'000'000;
  std::int64_t slept_ = 0;
};

TEST_CASE("throttle: reads are paced to bandwidth_limit after a one-second burst", "[throttle][unit]") {
  FakeClock clock;
  Throttle t(100'000'000, &clock);  // 100 MB/s
  // 3 GB at 100 MB/s takes 30 s; the first second may burst.
  for (int i = 0; i < 3000; ++i) t.Acquire(1'000'000);
  CHECK(clock.slept() >= 29'000'000'000);
  CHECK(clock.slept() <= 30'000'000'000);
}

TEST_CASE("throttle: no limit never sleeps, and idle time is not banked beyond a second",
          "[throttle][unit]") {
  FakeClock clock;
  Throttle unlimited(0, &clock);
  unlimited.Acquire(1'000'000'000);
  CHECK(clock.slept() == 0);

  Throttle t(10'000'000, &clock);  // 10 MB/s
  clock.Advance(60'000'000'000);   // a minute idle
  for (int i = 0; i < 30; ++i) t.Acquire(1'000'000);  // 30 MB
  // One second of credit at most: 30 MB costs at least 2 s of sleep.
  CHECK(clock.slept() >= 1'900'000'000);
}

}  // namespace
}  // namespace atlas
