// Issue 14, under injected disk faults (FaultFileSystem, in process): what
// a sync that cannot finish leaves unprotected is never silent in `status`,
// and a parity disk that ran full recovers once the file that filled it is
// deleted.
#include <filesystem>

#include <sys/stat.h>

#include "atlas/engine.h"

#include "support/engine_harness.h"
#include "support/fault_fs.h"
#include "support/temp_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t kBlock = 64 * 1024;

// status walks every disk to the end, so what it shows never depends on
// how far a bounded walk got.
const StatusOptions kFullDrift{.drift = DriftWalk::kFull};

bool Mentions(const Finding* f, const std::string& text) {
  return f != nullptr && f->message.find(text) != std::string::npos;
}

TEST_CASE(
    "status: a position sync could not read names the files of other disks it leaves unprotected",
    "[sync][status][fault][issue-14]") {
  // STRATEGY:
  // 1. Sync d3's file; then add a 5-block file on d1 and a 3-block file on
  //    d2 (both from position 0), and sync with EIO on d1's block 2.
  // 2. The sync reports read_error and an `unsynced` warning naming
  //    d2:Movies/b.mkv, whose block 2 shares the position.
  // 3. status (a fresh sync, so no age-based `unsynced`) shows that
  //    warning: health is not ok for d2's unprotected file.
  // 4. A clean sync closes it: status has no `unsynced`.
  TempArray a(3, 1, kBlock);
  a.Write(3, "Music/c.flac", 1000, 3);
  EngineHarness h(a);
  h.Sync();

  a.Write(1, "Movies/a.mkv", 5 * kBlock, 1);
  a.Write(2, "Movies/b.mkv", 3 * kBlock, 2);
  FaultFileSystem faulty;
  faulty.Inject({.path_substr = "Movies/a.mkv",
                 .op = Op::kRead,
                 .offset_begin = 2 * kBlock,
                 .offset_end = 2 * kBlock + 1,
                 .fault = Fault::Errno(EIO)});
  SyncReport r = h.Sync(&faulty);
  CHECK(r.positions_left == 1);
  const Finding* u = FindFinding(r.findings, FindingKind::kUnsynced);
  REQUIRE(u != nullptr);
  CHECK(u->severity == Severity::kWarning);
  CHECK(Mentions(u, "1 position could not be synced (from position 2"));
  CHECK(Mentions(u, "d2:Movies/b.mkv"));
  CHECK_FALSE(Mentions(u, "d1:Movies/a.mkv"));  // it has its own read_error

  StatusReport st = h.GetStatus(kFullDrift);
  CHECK(st.health >= 1);
  const Finding* su = FindFinding(st.findings, FindingKind::kUnsynced);
  REQUIRE(su != nullptr);
  CHECK(Mentions(su, "d2:Movies/b.mkv"));

  SyncReport clean = h.Sync();
  CHECK(clean.positions_left == 0);
  StatusReport after = h.GetStatus(kFullDrift);
  CHECK(FindFinding(after.findings, FindingKind::kUnsynced) == nullptr);
  CHECK(after.health == 0);
}

TEST_CASE(
    "sync: a sparse file larger than the free parity space is reported while it lasts, and sync "
    "completes once it is deleted",
    "[sync][status][fault][issue-14]") {
  // STRATEGY:
  // 1. Sync a 3-block and a 2-block file. Add a sparse 40-block file on d1;
  //    the parity disk is "full" past 8 blocks (ENOSPC on any write there).
  // 2. sync fails with kNoSpace; status is no longer ok: an `unsynced`
  //    warning says the last sync failed and why.
  // 3. Delete the sparse file; sync, with the parity disk still full,
  //    completes: the parity file is cut back to the 3 live positions
  //    instead of zeros being written into holes.
  // 4. status is ok again, the array verifies byte for byte, and the
  //    parity file is 3 blocks long.
  TempArray a(2, 1, kBlock, "[guards]\nmax_deletes_pct = 100\n");
  a.Write(1, "Movies/a.mkv", 3 * kBlock, 1);
  a.Write(2, "Movies/b.mkv", 2 * kBlock, 2);
  EngineHarness h(a);
  h.Sync();

  {
    const fs::path big = a.File(1, "big.img");
    WriteFile(big, std::string());
    fs::resize_file(big, 40ull * kBlock);  // sparse
  }
  FaultFileSystem full;
  full.Inject({.path_substr = "parity1/atlas.parity",
               .op = Op::kWrite,
               .offset_begin = 8ull * kBlock,
               .fault = Fault::Errno(ENOSPC)});
  SyncReport failed;
  Status s = h.TrySync(&full, &failed);
  CHECK(s.code() == Code::kNoSpace);
  CHECK(full.fired(Op::kWrite) >= 1);

  StatusReport during = h.GetStatus(kFullDrift);
  CHECK(during.health >= 1);
  const Finding* u = FindFinding(during.findings, FindingKind::kUnsynced);
  REQUIRE(u != nullptr);
  CHECK(Mentions(u, "the last sync failed"));
  CHECK(Mentions(u, "No space left on device"));

  fs::remove(a.File(1, "big.img"));
  SyncReport recovered = h.Sync(&full);
  CHECK(recovered.positions_left == 0);
  CHECK(recovered.drift.deleted == 1);

  StatusReport after = h.GetStatus(kFullDrift);
  CHECK(FindFinding(after.findings, FindingKind::kUnsynced) == nullptr);
  CHECK(after.health == 0);
  REQUIRE_ARRAY_CLEAN(h);
  // The deleted file's parity is a hole now, not written zeros.
  struct stat st {};
  REQUIRE(stat(a.Parity(1).c_str(), &st) == 0);
  CHECK(static_cast<std::uint64_t>(st.st_blocks) * 512 <= 4ull * kBlock);

  // And it stays usable: a new file past the cut grows the parity again.
  a.Write(2, "Movies/c.mkv", 4 * kBlock, 3);
  h.Sync();
  REQUIRE_ARRAY_CLEAN(h);
}

}  // namespace
}  // namespace atlas::testing
