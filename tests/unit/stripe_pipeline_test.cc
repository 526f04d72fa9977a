// The stripe pipeline (engine/stripe_pipeline.h) that sync's parity pass and
// the StripeScanner share: windows consumed in order, every task run once,
// stops and errors honoured, and a window refilled only when what was queued
// for it has finished. No disk is read: the stages are the test's.
#include "engine/stripe_pipeline.h"

#include <atomic>
#include <mutex>
#include <stop_token>
#include <thread>

#include "atlas/config.h"
#include "atlas/progress.h"

#include "support/test_util.h"

namespace atlas::testing {
namespace {

constexpr std::size_t kData = 3;
constexpr std::size_t kLevels = 2;

struct Fixture {
  explicit Fixture(ReadLayout layout, int io_threads = 0) {
    config.read_layout = layout;
    config.io_threads = io_threads;
    config.block_size = 4096;
    for (std::size_t i = 0; i < kData; ++i) {
      ArrayDataDisk d;
      d.name = "d" + std::to_string(i + 1);
      array.data.push_back(d);
    }
    for (std::size_t l = 0; l < kLevels; ++l) {
      ArrayParity p;
      p.name = "parity" + std::to_string(l + 1);
      p.level = static_cast<int>(l + 1);
      array.parity.push_back(p);
    }
    ctx.config = &config;
    ctx.fs = FileSystem::Default();
    ctx.clock = Clock::Default();
    ctx.progress = NullProgress();
  }
  Config config;
  ArrayView array;
  RunContext ctx;
};

// Positions 0..total-1, a window at a time, recorded per window.
struct Source {
  explicit Source(std::size_t positions) : total(positions) {}
  Result<std::size_t> Fill(std::size_t w, std::size_t per_window) {
    std::size_t n = std::min(per_window, total - next);
    windows[w].assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) windows[w][i] = next++;
    return n;
  }
  std::size_t total;
  std::size_t next = 0;
  std::vector<std::uint64_t> windows[StripePipeline::kWindows];
};

TEST_CASE("pipeline: every stripe is worked once and windows are consumed in position order, in both layouts",
          "[pipeline][unit]") {
  for (ReadLayout layout : {ReadLayout::kPerDisk, ReadLayout::kWholeStripes}) {
    INFO(ReadLayoutName(layout));
    Fixture f(layout, 2);
    // About 3 stripes a window: 16 MiB / 3 windows / 2 MiB a stripe.
    StripePipeline pipeline(f.ctx, nullptr, f.array, kLevels, 2ull << 20);
    CHECK(pipeline.whole_stripes() == (layout == ReadLayout::kWholeStripes));
    CHECK(pipeline.per_window() == 2);
    Source src(50);
    std::vector<std::atomic<int>> stripe_work(50), disk_work(50), level_work(50);
    std::vector<std::uint64_t> consumed;
    StripePipeline::Stages st;
    st.fill = [&](std::size_t w) { return src.Fill(w, pipeline.per_window()); };
    st.stripe = [&](std::size_t w, std::size_t i, std::size_t) { stripe_work[src.windows[w][i]]++; };
    st.disk = [&](std::size_t w, std::size_t) {
      for (std::uint64_t pos : src.windows[w]) disk_work[pos]++;
    };
    st.level = [&](std::size_t w, std::size_t l) {
      if (l == 1) return;
      for (std::uint64_t pos : src.windows[w]) level_work[pos]++;
    };
    st.level_wanted = [&](std::size_t w, std::size_t) { return src.windows[w].front() % 4 == 0; };
    st.consume = [&](std::size_t w, std::size_t count, bool stop) -> Status {
      CHECK_FALSE(stop);
      CHECK(count == src.windows[w].size());
      for (std::uint64_t pos : src.windows[w]) consumed.push_back(pos);
      return Status::Ok();
    };
    REQUIRE(pipeline.Run(st).ok());
    REQUIRE(consumed.size() == 50);
    for (std::uint64_t pos = 0; pos < 50; ++pos) {
      INFO(pos);
      CHECK(consumed[pos] == pos);
      if (pipeline.whole_stripes()) {
        CHECK(stripe_work[pos] == 1);
        CHECK(disk_work[pos] == 0);
      } else {
        CHECK(stripe_work[pos] == 0);
        CHECK(disk_work[pos] == static_cast<int>(kData));
        CHECK(level_work[pos] == ((pos / 2 * 2) % 4 == 0 ? 1 : 0));
      }
    }
  }
}

TEST_CASE("pipeline: a stop request ends the run after the window in hand, with kCancelled", "[pipeline][unit]") {
  Fixture f(ReadLayout::kPerDisk);
  std::stop_source stop;
  f.ctx.stop = stop.get_token();
  StripePipeline pipeline(f.ctx, nullptr, f.array, kLevels, 2ull << 20);
  Source src(100);
  std::vector<std::uint64_t> consumed;
  std::size_t fills_after_stop = 0;
  bool saw_stop = false;
  StripePipeline::Stages st;
  st.fill = [&](std::size_t w) {
    if (stop.stop_requested()) fills_after_stop++;
    return src.Fill(w, pipeline.per_window());
  };
  st.disk = [](std::size_t, std::size_t) {};
  st.consume = [&](std::size_t w, std::size_t, bool stop_now) -> Status {
    for (std::uint64_t pos : src.windows[w]) consumed.push_back(pos);
    saw_stop = stop_now;
    if (consumed.size() >= 10) stop.request_stop();
    return Status::Ok();
  };
  Status s = pipeline.Run(st);
  CHECK(s.code() == Code::kCancelled);
  CHECK(saw_stop);  // the last window consumed was told
  CHECK(fills_after_stop <= 1);  // at most the window started before the stop was seen
  CHECK(consumed.size() == 12);  // 10 before the request, and the window in hand
  for (std::size_t i = 0; i < consumed.size(); ++i) CHECK(consumed[i] == i);
}

TEST_CASE("pipeline: an error from fill or consume ends the run with that error", "[pipeline][unit]") {
  Fixture f(ReadLayout::kWholeStripes, 2);
  StripePipeline pipeline(f.ctx, nullptr, f.array, kLevels, 2ull << 20);
  SECTION("fill") {
    Source src(100);
    std::size_t consumed = 0;
    StripePipeline::Stages st;
    st.fill = [&](std::size_t w) -> Result<std::size_t> {
      if (src.next >= 8) return Status::IOError("manifest read failed");
      return src.Fill(w, pipeline.per_window());
    };
    st.stripe = [](std::size_t, std::size_t, std::size_t) {};
    st.consume = [&](std::size_t, std::size_t count, bool) -> Status {
      consumed += count;
      return Status::Ok();
    };
    Status s = pipeline.Run(st);
    CHECK(s.code() == Code::kIOError);
    CHECK(s.ToString().find("manifest read failed") != std::string::npos);
    CHECK(consumed < 8);
  }
  SECTION("consume") {
    Source src(100);
    int calls = 0;
    StripePipeline::Stages st;
    st.fill = [&](std::size_t w) { return src.Fill(w, pipeline.per_window()); };
    st.stripe = [](std::size_t, std::size_t, std::size_t) {};
    st.consume = [&](std::size_t, std::size_t, bool) -> Status {
      return ++calls == 3 ? Status::NoSpace("parity disk full") : Status::Ok();
    };
    CHECK(pipeline.Run(st).code() == Code::kNoSpace);
    CHECK(calls == 3);
  }
}

TEST_CASE("pipeline: a window is refilled only after the level tasks queued for it have finished",
          "[pipeline][unit]") {
  Fixture f(ReadLayout::kPerDisk);
  StripePipeline pipeline(f.ctx, nullptr, f.array, kLevels, 2ull << 20);
  Source src(60);
  std::atomic<int> pending[StripePipeline::kWindows] = {};
  std::atomic<int> finished{0};
  bool refilled_early = false;
  StripePipeline::Stages st;
  st.fill = [&](std::size_t w) {
    if (pending[w] != 0) refilled_early = true;
    return src.Fill(w, pipeline.per_window());
  };
  st.disk = [](std::size_t, std::size_t) {};
  st.consume = [&](std::size_t w, std::size_t, bool) -> Status {
    pending[w] += static_cast<int>(kLevels);
    pipeline.SubmitToLevels(w, [&, w](std::size_t) {
      for (int i = 0; i < 2000; ++i) std::this_thread::yield();  // a slow write
      pending[w]--;
      finished++;
    });
    return Status::Ok();
  };
  REQUIRE(pipeline.Run(st).ok());
  CHECK_FALSE(refilled_early);
  pipeline.WaitLevels();
  CHECK(finished == static_cast<int>(30 * kLevels));  // 30 windows of 2
}

}  // namespace
}  // namespace atlas::testing
