#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

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

// A clock that stands still and keeps the longest sleep asked of it, safe
// to share between threads.
class StillClock final : public Clock {
 public:
  std::int64_t NowUnixNanos() override { return 10'000'000'000; }
  std::int64_t MonotonicNanos() override { return 10'000'000'000; }
  void SleepFor(std::chrono::nanoseconds d) override {
    std::int64_t seen = longest_.load();
    while (d.count() > seen && !longest_.compare_exchange_weak(seen, d.count())) {
    }
  }
  std::int64_t longest() const { return longest_.load(); }

 private:
  std::atomic<std::int64_t> longest_{0};
};

TEST_CASE("throttle: workers sharing a disk share its limit", "[throttle][unit]") {
  // Whole-stripe reads: several workers read one disk. 100 MB at 10 MB/s
  // from two threads ends 9 s out (10 s less the 1 s burst), as from one;
  // a throttle per thread would let each read 50 MB in 4 s.
  StillClock clock;
  Throttle t(10'000'000, &clock);
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) t.Acquire(1'000'000);
    });
  }
  for (std::thread& th : threads) th.join();
  CHECK(clock.longest() >= 8'900'000'000);
  CHECK(clock.longest() <= 9'000'000'000);
}

}  // namespace
}  // namespace atlas
