// status at scale, in process: the coverage summary that status reads
// instead of every block record stays equal to a recount through sync,
// scrub and fix, and the drift walk stops at its time limit.
#include <filesystem>

#include "atlas/engine.h"

#include "support/engine_harness.h"
#include "support/fault_fs.h"
#include "support/temp_array.h"
#include "support/test_util.h"
#include "support/verify_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

TEST_CASE("status: coverage from the summary equals a recount after sync, scrub, fix and resync",
          "[status][coverage][fault]") {
  // STRATEGY:
  // 1. Sync 3 disks at day 0; the summary equals a recount of the block
  //    records, and status counts every synced block.
  // 2. Day 40: scrub half (default plan): two buckets; coverage 50%.
  // 3. A corrupt block, scrub --plan full (finds it), fix (repairs it), and a
  //    sync after a modify, a delete and an add: a recount after each step.
  // 4. Status counts the synced blocks at each step.
  TempArray a(3, 1, 64 * 1024, "[guards]\nmax_deletes_pct = 50\n");
  a.Write(1, "a.mkv", 6 * 65536, 1);
  a.Write(2, "b.mkv", 6 * 65536, 2);
  a.Write(3, "c.mkv", 6 * 65536 + 17, 3);
  EngineHarness h(a);
  h.Sync();
  CHECK(CheckCoverage(a) == "");
  StatusReport s0 = h.GetStatus();
  CHECK(s0.blocks == 19);
  CHECK(s0.verified_pct_30d == 100.0);

  h.clock().AdvanceDays(40);
  ScrubOptions half{.plan = ScrubPlan::kDefault, .percent = 50.0, .older_than_s = 10 * 86400};
  CHECK(h.Scrub(half).positions_verified == 4);
  CHECK(CheckCoverage(a) == "");
  StatusReport s1 = h.GetStatus();
  CHECK(s1.blocks == 19);
  CHECK(s1.oldest_unverified_days == 40);
  // Positions 0..3 of every disk verified now: 4 + 4 + 4 = 12 of 19 blocks.
  CHECK(s1.verified_pct_30d == Approx(100.0 * 12 / 19));

  FlipByteKeepMtime(a.File(2, "b.mkv"), 65536 + 5);
  h.clock().AdvanceDays(1);
  VerifyReport full = h.Scrub();
  CHECK(full.positions_bad == 1);
  CHECK(CheckCoverage(a) == "");
  CHECK(h.Fix().files_repaired == 1);
  CHECK(CheckCoverage(a) == "");

  a.Write(1, "a.mkv", 3 * 65536, 9);  // modified: shrinks, new content
  fs::remove(a.File(3, "c.mkv"));
  a.Write(2, "d.mkv", 2 * 65536, 10);
  a.Write(3, "e.mkv", 65536, 11);
  h.Sync();
  CHECK(CheckCoverage(a) == "");
  StatusReport s2 = h.GetStatus();
  CHECK(s2.blocks == 3 + 6 + 2 + 1);
  CHECK(s2.positions_unsynced == 0);
}

TEST_CASE("status: the drift walk stops at its time limit and says partial; --full-drift walks all",
          "[status][fault]") {
  // STRATEGY:
  // 1. One disk, never synced, with 1100 empty files in a/ and 1100 in b/.
  //    Opening b/ takes 3 s (a Delay fault on the walk).
  // 2. Status with a 1 s limit: the walk of a/ finishes, the limit passes
  //    while b/ opens, and ScanDisk stops at its next check (every 1024
  //    files): "partial", with fewer files walked than exist, all added.
  // 3. Full walk: every file; no walk: none, "skipped".
  TempArray a(1, 1);
  for (int i = 0; i < 1100; ++i) {
    a.Write(1, "a/f" + std::to_string(10000 + i), 0, 1);
    a.Write(1, "b/f" + std::to_string(10000 + i), 0, 1);
  }
  EngineHarness h(a);
  FaultFileSystem slow;
  slow.Inject({.path_substr = (a.Disk(1) / "b").string(), .op = Op::kWalk, .fault = Fault::Delay(3000)});

  StatusReport partial =
      h.GetStatus(&slow, {.drift = DriftWalk::kBounded, .drift_time_limit_ns = 1'000'000'000});
  CHECK(partial.drift_walk == "partial");
  CHECK(partial.drift_files_walked >= 1024);
  CHECK(partial.drift_files_walked < 2200);
  CHECK(partial.drift.added == partial.drift_files_walked);

  StatusReport full = h.GetStatus(&slow, {.drift = DriftWalk::kFull});
  CHECK(full.drift_walk == "full");
  CHECK(full.drift_files_walked == 2200);
  CHECK(full.drift.added == 2200);

  StatusReport none = h.GetStatus({.drift = DriftWalk::kNone});
  CHECK(none.drift_walk == "skipped");
  CHECK(none.drift_files_walked == 0);
  CHECK(none.drift.Changes() == 0);
}

}  // namespace
}  // namespace atlas::testing
