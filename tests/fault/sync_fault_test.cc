// sync under injected faults (through FaultFileSystem, in-process): a data
// read error or a short read never corrupts parity, a failed parity write or
// fdatasync never marks positions synced, and the next clean sync completes
// with parity that verifies byte for byte.
#include "atlas/engine.h"

#include "support/engine_harness.h"
#include "support/fault_fs.h"
#include "support/temp_array.h"
#include "support/verify_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

bool Has(const SyncReport& r, FindingKind kind, const std::string& path) {
  for (const Finding& f : r.findings) {
    if (f.kind == kind && f.path == path) return true;
  }
  return false;
}

void Fill(TempArray& a) {
  a.Write(1, "Movies/a.mkv", 5 * 65536 + 100, 1);
  a.Write(2, "Movies/b.mkv", 3 * 65536, 2);
  a.Write(3, "Music/c.flac", 1000, 3);
}

TEST_CASE("sync: EIO reading a data file is a read_error, its stripe stays unsynced, and the next sync completes",
          "[sync][fault]") {
  // STRATEGY:
  // 1. EIO on block 2 of d1's file during the first sync.
  // 2. The sync succeeds as a run but reports read_error with path and byte
  //    offset, and leaves that position dirty.
  // 3. status shows the read_error (critical) until a sync reads the block
  //    back clean.
  TempArray a(3, 2);
  Fill(a);
  EngineHarness h(a);
  FaultFileSystem faulty;
  faulty.Inject({.path_substr = "Movies/a.mkv", .op = Op::kRead, .offset_begin = 2 * 65536,
                 .offset_end = 2 * 65536 + 1, .fault = Fault::Errno(EIO)});
  SyncReport r = h.Sync(&faulty);
  CHECK(faulty.fired(Op::kRead) >= 1);
  REQUIRE(Has(r, FindingKind::kReadError, "Movies/a.mkv"));
  for (const Finding& f : r.findings) {
    if (f.kind == FindingKind::kReadError) CHECK(f.offset == 2 * 65536);
  }
  CHECK(r.positions_left == 1);
  CHECK(VerifyArray(a).dirty_positions == 1);

  StatusReport st = h.GetStatus();
  CHECK(st.health == 2);
  CHECK(std::any_of(st.findings.begin(), st.findings.end(),
                    [](const Finding& f) { return f.kind == FindingKind::kReadError; }));

  // 4. The next clean sync reads the block back and closes the finding.
  SyncReport again = h.Sync();
  CHECK(again.positions_left == 0);
  REQUIRE_ARRAY_CLEAN(h);
  st = h.GetStatus();
  CHECK(std::none_of(st.findings.begin(), st.findings.end(),
                     [](const Finding& f) { return f.kind == FindingKind::kReadError; }));
  CHECK(st.health == 0);
}

TEST_CASE("sync: short reads from a data file still produce correct parity", "[sync][fault]") {
  TempArray a(3, 1);
  Fill(a);
  EngineHarness h(a);
  FaultFileSystem faulty;
  faulty.Inject({.path_substr = "Movies/b.mkv", .op = Op::kRead, .fault = Fault::ShortRead(1000)});
  SyncReport r = h.Sync(&faulty);
  CHECK(faulty.fired(Op::kRead) > 3);
  CHECK(r.positions_left == 0);
  REQUIRE_ARRAY_CLEAN(h);
}

TEST_CASE("sync: a read that comes back empty mid-file is drift, never corruption", "[sync][fault]") {
  TempArray a(3, 1);
  Fill(a);
  EngineHarness h(a);
  FaultFileSystem faulty;
  faulty.Inject({.path_substr = "Movies/b.mkv", .op = Op::kRead, .offset_begin = 65536,
                 .offset_end = 65537, .fault = Fault::ShortRead(0)});
  SyncReport r = h.Sync(&faulty);
  CHECK(Has(r, FindingKind::kModified, "Movies/b.mkv"));
  for (const Finding& f : r.findings) CHECK(f.kind != FindingKind::kSilentCorruption);
  CHECK(r.positions_left == 1);
  h.Sync();
  REQUIRE_ARRAY_CLEAN(h);
}

TEST_CASE("sync: ENOSPC writing parity fails the run, marks nothing synced, and the next sync completes",
          "[sync][fault]") {
  TempArray a(3, 2);
  Fill(a);
  EngineHarness h(a);
  FaultFileSystem faulty;
  faulty.Inject({.path_substr = "parity2", .op = Op::kWrite, .offset_begin = 65536, .fault = Fault::Errno(ENOSPC)});
  SyncReport r;
  Status s = h.TrySync(&faulty, &r);
  CHECK(s.code() == Code::kNoSpace);
  CHECK(s.ToString().find("parity2") != std::string::npos);
  ArrayCheck mid = VerifyArray(a);
  CHECK(mid.dirty_positions > 0);

  h.Sync();
  REQUIRE_ARRAY_CLEAN(h);
}

TEST_CASE("sync: EIO on the parity fdatasync fails the run and the next sync completes", "[sync][fault]") {
  TempArray a(3, 2);
  Fill(a);
  EngineHarness h(a);
  FaultFileSystem faulty;
  faulty.Inject({.path_substr = "atlas.parity", .op = Op::kSync, .count = 1, .fault = Fault::Errno(EIO)});
  SyncReport r;
  Status s = h.TrySync(&faulty, &r);
  CHECK(s.code() == Code::kIOError);
  CHECK(VerifyArray(a).dirty_positions > 0);
  h.Sync();
  REQUIRE_ARRAY_CLEAN(h);
}

TEST_CASE("sync: EIO writing parity fails the run and the next sync completes", "[sync][fault]") {
  TempArray a(3, 1);
  Fill(a);
  EngineHarness h(a);
  h.Sync();
  a.Write(2, "Movies/b.mkv", 4 * 65536, 77);  // modified: its positions are rewritten
  FaultFileSystem faulty;
  faulty.Inject({.path_substr = "atlas.parity", .op = Op::kWrite, .fault = Fault::Errno(EIO)});
  SyncReport r;
  CHECK(h.TrySync(&faulty, &r).code() == Code::kIOError);
  SyncReport again = h.Sync();
  CHECK(again.drift.modified == 0);  // recorded by the failed run; only parity was left
  REQUIRE_ARRAY_CLEAN(h);
}

TEST_CASE("sync: a stop request ends the run after the batch in hand and the next sync resumes",
          "[sync][fault]") {
  TempArray a(3, 2);
  Fill(a);
  EngineHarness h(a);
  std::stop_source stop;
  stop.request_stop();
  SyncReport r;
  Status s = h.TrySync(FileSystem::Default(), &r, SyncOptions(), stop.get_token());
  CHECK(s.code() == Code::kCancelled);
  SyncReport again = h.Sync();
  CHECK(again.positions_left == 0);
  REQUIRE_ARRAY_CLEAN(h);
}

TEST_CASE("sync: a file that silently changed under a synced block is silent_corruption, not parity",
          "[sync][fault]") {
  // STRATEGY:
  // 1. Sync; then modify d2's file and sync again so d1's blocks are re-read
  //    for parity at shared positions while a bit flips in d1's file (the
  //    read path flips it; size and mtime are unchanged).
  // 2. The stripe is not recomputed from the corrupt block: the finding is
  //    silent_corruption naming d1's file, and parity still verifies against
  //    the real (unflipped) data once the fault is gone.
  TempArray a(2, 1);
  a.Write(1, "x.mkv", 3 * 65536, 1);
  a.Write(2, "y.mkv", 3 * 65536, 2);
  EngineHarness h(a);
  h.Sync();
  a.Write(2, "y.mkv", 3 * 65536, 3);
  FaultFileSystem faulty;
  faulty.Inject({.path_substr = "x.mkv", .op = Op::kRead, .fault = Fault::FlipBit(65536 + 10, 3)});
  SyncReport r = h.Sync(&faulty);
  CHECK(Has(r, FindingKind::kSilentCorruption, "x.mkv"));
  CHECK(r.positions_left == 1);
  h.Sync();
  REQUIRE_ARRAY_CLEAN(h);
}

}  // namespace
}  // namespace atlas::testing

namespace atlas::testing {
namespace {

TEST_CASE("sync: a file added where other disks hold data updates parity from the new blocks alone",
          "[sync][fault]") {
  // STRATEGY:
  // 1. Four data disks and two parity levels; d2..d4 hold files spanning
  //    positions 0..7, d1 holds one block.
  // 2. Add a 5-block file on d1: its positions 1..5 are fresh (parity has
  //    zeros for d1 there), so the parity is updated from the new blocks and
  //    the stored parity (ec_encode_data_update); d2..d4 are not read at all.
  // 3. Every parity byte verifies against an independent recomputation.
  TempArray a(4, 2);
  a.Write(1, "one.mkv", 1000, 1);
  for (int d = 2; d <= 4; ++d) a.Write(d, "f.mkv", 8 * 65536, 10 + d);
  EngineHarness h(a);
  h.Sync();
  a.Write(1, "new.mkv", 5 * 65536, 2);

  FaultFileSystem counting;
  int others = counting.Inject({.path_substr = "/f.mkv", .op = Op::kRead, .fault = Fault::Delay(0)});
  SyncReport r = h.Sync(&counting);
  CHECK(r.drift.added == 1);
  CHECK(counting.rule_fired(others) == 0);
  REQUIRE_ARRAY_CLEAN(h);
}

TEST_CASE("sync: a delta update is never applied twice after a crash", "[sync][fault]") {
  // STRATEGY:
  // 1. As above, but the parity write of the delta stripe is followed by a
  //    simulated crash: the parity of one level is written, the other fails
  //    with EIO and nothing is committed (the positions stay dirty).
  // 2. The next sync must not add the new blocks to parity that already has
  //    them: parity_written_from makes it recompute those positions in full.
  TempArray a(4, 2);
  a.Write(1, "one.mkv", 1000, 1);
  for (int d = 2; d <= 4; ++d) a.Write(d, "f.mkv", 8 * 65536, 10 + d);
  EngineHarness h(a);
  h.Sync();
  a.Write(1, "new.mkv", 5 * 65536, 2);

  FaultFileSystem faulty;
  faulty.Inject({.path_substr = "parity2", .op = Op::kWrite, .offset_begin = 3 * 65536,
                 .fault = Fault::Errno(EIO)});
  SyncReport r;
  CHECK(h.TrySync(&faulty, &r).code() == Code::kIOError);
  CHECK(VerifyArray(a).dirty_positions > 0);

  h.Sync();
  REQUIRE_ARRAY_CLEAN(h);
}

}  // namespace
}  // namespace atlas::testing
