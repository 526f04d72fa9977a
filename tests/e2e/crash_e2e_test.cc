// Crash points of sync through the real binary: the process dies at a named
// point (exit 137, as if killed), and the next sync completes the work and
// leaves parity that verifies byte for byte.
#include "support/temp_array.h"
#include "support/verify_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

const char* const kSyncCrashPoints[] = {
    "sync.apply.after_commit",   "sync.parity.after_write", "sync.parity.after_fsync",
    "sync.parity.after_commit",  "sync.finish.before_copies",
};

// Four files, and (issue 17) what is not a file's content: a second name
// of a.mkv, a symlink, an empty directory; none of them adds a file.
void Fill(TempArray& a, std::uint64_t seed) {
  a.Write(1, "Movies/a.mkv", 700000, seed + 1);
  a.Write(2, "Movies/b.mkv", 300001, seed + 2);
  a.Write(3, "Music/c.flac", 65536, seed + 3);
  a.Write(3, "Music/d.flac", 10, seed + 4);
  if (!fs::exists(a.File(1, "downloads/a.mkv"))) {
    fs::create_directories(a.File(1, "downloads"));
    fs::create_hard_link(a.File(1, "Movies/a.mkv"), a.File(1, "downloads/a.mkv"));
    fs::create_symlink("Movies/b.mkv", a.File(2, "latest.mkv"));
    fs::create_directories(a.File(3, "Music/Empty"));
  }
}

TEST_CASE("sync: killed at each crash point, the next sync completes and parity verifies",
          "[sync][crash][e2e]") {
  // STRATEGY:
  // 1. For each crash point: a first sync killed there (exit 137).
  // 2. A plain sync then exits 0 and the array verifies (hashes and every
  //    parity byte), with no dirty positions left.
  // 3. Then an incremental change (modify, delete, add), a sync killed at the
  //    same point, and again a completing sync that verifies.
  // 4. After every kill and every completed sync, the coverage summary equals
  //    a recount of the block records.
  for (const char* point : kSyncCrashPoints) {
    DYNAMIC_SECTION("crash at " << point) {
      TempArray a(3, 2, 64 * 1024, "[guards]\nmax_deletes_pct = 50\n");
      Fill(a, 10);
      CliResult crashed = a.Run({"sync"}, true, {{"ATLAS_SCRUB_CRASH_AT", point}});
      INFO(crashed.err);
      REQUIRE(crashed.exit_code == 137);
      // The coverage summary commits with the blocks it counts: exact even
      // in a manifest left by a killed run.
      CHECK(CheckCoverage(a) == "");
      CliResult resumed = a.Run({"sync"});
      INFO(resumed.out << resumed.err);
      REQUIRE(resumed.exit_code == 0);
      // Every name recorded once: nothing left to do, nothing drifted.
      CliResult again = a.Run({"sync"});
      CHECK(again.json["nothing_to_do"] == true);
      ArrayCheck c1 = VerifyArray(a);
      INFO(c1.first_problem);
      CHECK(c1.files == 4);
      CHECK(c1.bad_blocks == 0);
      CHECK(c1.bad_parity_bytes == 0);
      CHECK(c1.false_parity_hashes == 0);
      CHECK(c1.dirty_positions == 0);
      CHECK(c1.coverage_mismatches == 0);

      a.Write(1, "Movies/a.mkv", 500000, 99);
      fs::remove(a.File(3, "Music/d.flac"));
      a.Write(2, "Movies/e.mkv", 123457, 98);
      crashed = a.Run({"sync"}, true, {{"ATLAS_SCRUB_CRASH_AT", point}});
      REQUIRE(crashed.exit_code == 137);
      CHECK(CheckCoverage(a) == "");
      resumed = a.Run({"sync"});
      INFO(resumed.out << resumed.err);
      REQUIRE(resumed.exit_code == 0);
      ArrayCheck c2 = VerifyArray(a);
      INFO(c2.first_problem);
      CHECK(c2.files == 4);
      CHECK(c2.bad_blocks == 0);
      CHECK(c2.bad_parity_bytes == 0);
      CHECK(c2.false_parity_hashes == 0);
      CHECK(c2.dirty_positions == 0);
      CHECK(c2.coverage_mismatches == 0);
    }
  }
}

}  // namespace
}  // namespace atlas::testing
