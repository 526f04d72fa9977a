// fix in-process, through FaultFileSystem: data and parity blocks that fail
// with EIO are rebuilt; a repair that cannot be written (ENOSPC on the
// temporary file, EIO on the rename) leaves the original file exactly as it
// was and the next fix completes; --dry-run writes nothing.
#include <algorithm>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atlas/engine.h"

#include "engine/disk_workers.h"
#include "support/engine_harness.h"
#include "support/fault_fs.h"
#include "support/temp_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kBlock = 64 * 1024;

// "" when `got` equals `want`, else where they first differ. (Catch would
// print every byte of both vectors.)
std::string Difference(const std::vector<std::byte>& got, const std::vector<std::byte>& want) {
  const std::size_t n = std::min(got.size(), want.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (got[i] != want[i])
      return "first difference at byte " + std::to_string(i);
  }
  if (got.size() != want.size()) {
    return "sizes differ: " + std::to_string(got.size()) + " and " + std::to_string(want.size());
  }
  return "";
}

std::int64_t MtimeNs(const fs::path& p) {
  struct stat st {};
  REQUIRE(stat(p.c_str(), &st) == 0);
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// Temporary files of fix anywhere under `root`.
std::vector<std::string> FixTemps(const fs::path& root) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.path().filename().string().starts_with(".atlas-fix-"))
      out.push_back(e.path().string());
  }
  return out;
}

void Fill(TempArray& a) {
  a.Write(1, "Movies/film.mkv", 5 * kBlock + 100, 1);
  a.Write(2, "Movies/other.mkv", 4 * kBlock, 2);
  a.Write(3, "Music/track.flac", 2 * kBlock + 7, 3);
}

TEST_CASE("fix: with whole-stripe reads the workers run below the thread that writes the rebuilt files",
          "[fix][fault]") {
  // STRATEGY: fix's own thread writes the rebuilt files while the
  // whole-stripe workers read and solve stripes; with a worker per core the
  // writer would wait for a share of a core (ScanOptions::busy_callback).
  // FaultFileSystem's observer notes the nice value of the thread behind
  // every read of the surviving disks' files and every write of the rebuilt
  // one: the reads run 10 steps below fix's thread, the writes at its own
  // priority. The lost file comes back byte for byte.
  TempArray a(3, 2, kBlock, "read_layout = \"whole-stripes\"\nio_threads = 2");
  Fill(a);
  EngineHarness h(a);
  h.Sync();
  const fs::path other = a.File(2, "Movies/other.mkv");
  const std::vector<std::byte> before = ReadFileBytes(other);
  fs::remove(other);

  std::mutex mu;
  std::set<int> read_nice, write_nice;
  FaultFileSystem watched;
  watched.Observe([&](Op op, std::string_view path) {
    const bool source = path.find("/film.mkv") != std::string_view::npos ||
                        path.find("/track.flac") != std::string_view::npos;
    const bool rebuilt = path.find("/.atlas-fix-") != std::string_view::npos;
    if ((op == Op::kRead && source) || (op == Op::kWrite && rebuilt)) {
      std::lock_guard<std::mutex> lock(mu);
      (op == Op::kRead ? read_nice : write_nice).insert(CurrentThreadNice());
    }
  });
  const int own = CurrentThreadNice();
  FixOptions only_d2;
  only_d2.disks = {"d2"};
  FixReport fix = h.Fix(&watched, only_d2);
  CHECK(fix.files_repaired == 1);
  CHECK(Difference(ReadFileBytes(other), before) == "");
  CHECK(read_nice == std::set<int>{LowerPriorityThan(own)});
  CHECK(write_nice == std::set<int>{own});
  CHECK(CurrentThreadNice() == own);
}

TEST_CASE("fix: a data block that returns EIO is rebuilt from parity and the file rewritten",
          "[fix][fault]") {
  // STRATEGY:
  // 1. Sync 3 disks with 2 parity levels; keep a copy of d1's film.
  // 2. EIO on reads of block 2 of the film. The rule's substring "/film.mkv"
  //    matches the file but not fix's temporary ".atlas-fix-TAG-ID".
  // 3. scrub --plan full through the faulty FS: one read_error, d1, the path,
  //    the block's byte offset.
  // 4. fix through the same faulty FS rebuilds block 2 from parity and
  //    rewrites the file: same bytes and mtime as before, one repaired finding.
  // 5. Faults cleared: scrub --plan full is clean, status has no read_error,
  //    and parity still verifies byte for byte.
  TempArray a(3, 2);
  Fill(a);
  EngineHarness h(a);
  h.Sync();
  const fs::path film = a.File(1, "Movies/film.mkv");
  const std::vector<std::byte> before = ReadFileBytes(film);
  const std::int64_t mtime = MtimeNs(film);

  FaultFileSystem faulty;
  faulty.Inject({.path_substr = "/film.mkv",
                 .op = Op::kRead,
                 .offset_begin = 2 * kBlock,
                 .offset_end = 2 * kBlock + 1,
                 .fault = Fault::Errno(EIO)});
  VerifyReport scrub = h.Scrub(&faulty);
  REQUIRE(CountFindings(scrub.findings, FindingKind::kReadError) == 1);
  const Finding* f = FindFinding(scrub.findings, FindingKind::kReadError);
  CHECK(f->disk == "d1");
  CHECK(f->path == "Movies/film.mkv");
  CHECK(f->offset == 2 * kBlock);
  CHECK(scrub.positions_bad == 1);

  FixReport fix = h.Fix(&faulty);
  CHECK(faulty.fired(Op::kRead) >= 2);  // the scrub's and the fix's read of block 2
  CHECK(fix.files_repaired == 1);
  CHECK(fix.files_unrecoverable == 0);
  CHECK(fix.blocks_recovered == 1);
  CHECK(fix.bytes_recovered == kBlock);
  CHECK(CountFindings(fix.findings, FindingKind::kRepaired) == 1);
  CHECK(Difference(ReadFileBytes(film), before) == "");
  CHECK(MtimeNs(film) == mtime);
  CHECK(FixTemps(a.Disk(1)).empty());

  faulty.ClearFaults();
  VerifyReport clean = h.Scrub();
  CHECK(clean.findings.empty());
  CHECK(clean.positions_bad == 0);
  StatusReport st = h.GetStatus();
  CHECK(CountFindings(st.findings, FindingKind::kReadError) == 0);
  CHECK(st.health == 0);
  REQUIRE_ARRAY_CLEAN(h);
}

TEST_CASE("fix: a dying disk with more unreadable blocks than scrub's error limit is still rebuilt",
          "[fix][fault]") {
  // scrub gives a disk up after 100 read errors; fix must not: every block
  // it cannot read is one it can rebuild. 150 blocks of one file fail.
  TempArray a(3, 1, 4096);
  const std::vector<std::byte> want = a.Write(1, "Movies/worn.mkv", 150 * 4096 + 11, 7);
  a.Write(2, "b.mkv", 160 * 4096, 8);
  a.Write(3, "c.mkv", 40 * 4096, 9);
  EngineHarness h(a);
  h.Sync();
  const fs::path worn = a.File(1, "Movies/worn.mkv");
  FaultFileSystem faulty;
  faulty.Inject({.path_substr = "/worn.mkv", .op = Op::kRead, .fault = Fault::Errno(EIO)});
  FixReport fix = h.Fix(&faulty);
  CHECK(fix.files_unrecoverable == 0);
  CHECK(fix.files_repaired == 1);
  CHECK(fix.blocks_recovered == 151);
  CHECK(Difference(ReadFileBytes(worn), want) == "");
  REQUIRE_ARRAY_CLEAN(h);
}

TEST_CASE("fix: a parity block that returns EIO is rewritten from the data", "[fix][fault]") {
  // STRATEGY:
  // 1. Sync 3 disks with 2 parity levels.
  // 2. EIO on reads of position 1 of parity2: scrub reports a read_error on
  //    parity2 at that byte offset.
  // 3. fix through the faulty FS recomputes position 1 from the data, which
  //    verifies, and writes it back (writes are not faulted): one parity
  //    block repaired, no file touched.
  // 4. Every parity byte verifies against a scalar recomputation, and a
  //    scrub without faults is clean.
  TempArray a(3, 2);
  Fill(a);
  EngineHarness h(a);
  h.Sync();
  const std::vector<std::byte> film = ReadFileBytes(a.File(1, "Movies/film.mkv"));
  const std::vector<std::byte> other = ReadFileBytes(a.File(2, "Movies/other.mkv"));

  FaultFileSystem faulty;
  faulty.Inject({.path_substr = "parity2",
                 .op = Op::kRead,
                 .offset_begin = kBlock,
                 .offset_end = kBlock + 1,
                 .fault = Fault::Errno(EIO)});
  VerifyReport scrub = h.Scrub(&faulty);
  REQUIRE(CountFindings(scrub.findings, FindingKind::kReadError) == 1);
  const Finding* f = FindFinding(scrub.findings, FindingKind::kReadError);
  CHECK(f->disk == "parity2");
  CHECK(f->offset == kBlock);

  FixReport fix = h.Fix(&faulty);
  CHECK(fix.parity_blocks_repaired == 1);
  CHECK(fix.files_repaired == 0);
  CHECK(std::count_if(fix.actions.begin(), fix.actions.end(), [](const std::string& l) {
          return l.find("parity2") != std::string::npos;
        }) == 1);
  REQUIRE_ARRAY_CLEAN(h);
  faulty.ClearFaults();
  VerifyReport clean = h.Scrub();
  CHECK(clean.positions_bad == 0);
  CHECK(CountFindings(clean.findings, FindingKind::kReadError) == 0);
  CHECK(Difference(ReadFileBytes(a.File(1, "Movies/film.mkv")), film) == "");
  CHECK(Difference(ReadFileBytes(a.File(2, "Movies/other.mkv")), other) == "");
}

TEST_CASE("fix: rewriting a parity block that returned EIO closes its read_error",
          "[fix][fault]") {
  // STRATEGY:
  // 1. As above: a scrub stores a read_error on parity2; fix rewrites the
  //    block (faults still on for its read, cleared after).
  // 2. status shows no read_error and health ok, as after a data block's
  //    repair.
  // Regression: after rewriting parity, Fixer::Run (src/engine/fix.cc) once
  // deleted only stored parity_mismatch findings, never a parity level's
  // read_error, so status stayed critical for a block that was repaired.
  TempArray a(3, 2);
  Fill(a);
  EngineHarness h(a);
  h.Sync();
  FaultFileSystem faulty;
  faulty.Inject({.path_substr = "parity2",
                 .op = Op::kRead,
                 .offset_begin = kBlock,
                 .offset_end = kBlock + 1,
                 .fault = Fault::Errno(EIO)});
  REQUIRE(CountFindings(h.Scrub(&faulty).findings, FindingKind::kReadError) == 1);
  FixReport fix = h.Fix(&faulty);
  REQUIRE(fix.parity_blocks_repaired == 1);
  StatusReport st = h.GetStatus();
  CHECK(CountFindings(st.findings, FindingKind::kReadError) == 0);
  CHECK(st.health == 0);
}

TEST_CASE(
    "fix: ENOSPC writing the repaired file leaves the original untouched, and the next fix repairs "
    "it "
    "leaving no temporary file",
    "[fix][fault]") {
  // STRATEGY:
  // 1. Sync; flip one byte of block 2 of d1's film, keeping its mtime.
  // 2. fix with ENOSPC on every write to a temporary file: it fails with
  //    kNoSpace naming the file; the film keeps its (corrupt) bytes and its
  //    mtime, nothing is counted as repaired.
  // 3. A fix without faults removes the temporary file the failed one left
  //    (a fix that fails leaves it: only the next fix removes them), repairs
  //    the film byte for byte, and leaves no temporary file.
  TempArray a(3, 2);
  Fill(a);
  EngineHarness h(a);
  h.Sync();
  const fs::path film = a.File(1, "Movies/film.mkv");
  const std::vector<std::byte> before = ReadFileBytes(film);
  const std::int64_t mtime = MtimeNs(film);
  FlipByteKeepMtime(film, 2 * kBlock + 999);
  const std::vector<std::byte> corrupt = ReadFileBytes(film);

  FaultFileSystem faulty;
  faulty.Inject({.path_substr = "/.atlas-fix-", .op = Op::kWrite, .fault = Fault::Errno(ENOSPC)});
  FixReport failed;
  Status s = h.TryFix(&faulty, &failed);
  INFO(s.ToString());
  CHECK(s.code() == Code::kNoSpace);
  CHECK(s.ToString().find("Movies/film.mkv") != std::string::npos);
  CHECK(faulty.fired(Op::kWrite) >= 1);
  CHECK(failed.files_repaired == 0);
  CHECK(Difference(ReadFileBytes(film), corrupt) == "");
  CHECK(MtimeNs(film) == mtime);

  FixReport fix = h.Fix();
  CHECK(fix.files_repaired == 1);
  CHECK(fix.blocks_recovered == 1);
  CHECK(Difference(ReadFileBytes(film), before) == "");
  CHECK(MtimeNs(film) == mtime);
  CHECK(FixTemps(a.Disk(1)).empty());
  CHECK(h.Scrub().findings.empty());
  REQUIRE_ARRAY_CLEAN(h);
}

TEST_CASE("fix: a file a user puts at a missing file's name before the restore lands is left alone",
          "[fix][fault][issue-14]") {
  // STRATEGY:
  // 1. Sync; delete d1's film, so fix restores it.
  // 2. Right before fix renames its rebuilt copy into place, a user writes a
  //    new file at that name (the observer runs before the operation).
  // 3. fix does not replace the user's file: it is unrecoverable with the
  //    reason, the user's bytes are untouched, and no temporary file is left.
  TempArray a(3, 2);
  Fill(a);
  EngineHarness h(a);
  h.Sync();
  const fs::path film = a.File(1, "Movies/film.mkv");
  fs::remove(film);
  FaultFileSystem watched;
  watched.Observe([&](Op op, std::string_view path) {
    if (op == Op::kRename && path.find("/.atlas-fix-") != std::string_view::npos && !fs::exists(film)) {
      WriteFile(film, std::string("the user's newer file"));
    }
  });
  FixReport fix = h.Fix(&watched);
  CHECK(fix.files_unrecoverable == 1);
  CHECK(fix.files_repaired == 0);
  REQUIRE(CountFindings(fix.findings, FindingKind::kUnrecoverable) == 1);
  for (const Finding& f : fix.findings) {
    if (f.kind == FindingKind::kUnrecoverable) CHECK(f.message.find("a file was put at its name") != std::string::npos);
  }
  const std::vector<std::byte> got = ReadFileBytes(film);
  CHECK(std::string(reinterpret_cast<const char*>(got.data()), got.size()) == "the user's newer file");
  CHECK(FixTemps(a.Disk(1)).empty());
}

TEST_CASE("fix: EIO on the rename leaves the original in place and the next fix completes",
          "[fix][fault]") {
  // STRATEGY:
  // 1. Sync; flip one byte of block 2 of d1's film (mtime kept); a scrub
  //    stores the silent_corruption.
  // 2. fix with EIO on renaming the temporary file: it fails with kIOError;
  //    the film keeps its bytes and mtime; the finding is still open (the
  //    manifest was not committed).
  // 3. The next fix (no faults) removes the temporary file the failed one
  //    left, repairs the film byte for byte and closes the finding.
  TempArray a(3, 2);
  Fill(a);
  EngineHarness h(a);
  h.Sync();
  const fs::path film = a.File(1, "Movies/film.mkv");
  const std::vector<std::byte> before = ReadFileBytes(film);
  const std::int64_t mtime = MtimeNs(film);
  FlipByteKeepMtime(film, 2 * kBlock + 999);
  const std::vector<std::byte> corrupt = ReadFileBytes(film);
  REQUIRE(CountFindings(h.Scrub().findings, FindingKind::kSilentCorruption) == 1);

  FaultFileSystem faulty;
  faulty.Inject({.path_substr = "/.atlas-fix-", .op = Op::kRename, .fault = Fault::Errno(EIO)});
  FixReport failed;
  Status s = h.TryFix(&faulty, &failed);
  INFO(s.ToString());
  CHECK(s.code() == Code::kIOError);
  CHECK(s.ToString().find("Movies/film.mkv") != std::string::npos);
  CHECK(faulty.fired(Op::kRename) == 1);
  CHECK(failed.files_repaired == 0);
  CHECK(Difference(ReadFileBytes(film), corrupt) == "");
  CHECK(MtimeNs(film) == mtime);
  CHECK(CountFindings(h.GetStatus().findings, FindingKind::kSilentCorruption) == 1);

  FixReport fix = h.Fix();
  CHECK(fix.files_repaired == 1);
  CHECK(Difference(ReadFileBytes(film), before) == "");
  CHECK(MtimeNs(film) == mtime);
  CHECK(FixTemps(a.Disk(1)).empty());
  StatusReport st = h.GetStatus();
  CHECK(CountFindings(st.findings, FindingKind::kSilentCorruption) == 0);
  CHECK(h.Scrub().findings.empty());
  REQUIRE_ARRAY_CLEAN(h);
}

TEST_CASE("fix --dry-run writes nothing", "[fix][fault]") {
  // STRATEGY:
  // 1. Sync 3 disks, 2 parity levels. Then: flip a byte in block 2 of d1's
  //    film (mtime kept), delete d3's track, scribble over position 4 of
  //    parity1 (where only the film has a block, which verifies).
  // 2. fix --dry-run succeeds and lists a repair, a restore and a parity
  //    rewrite, with the counts; the fingerprint of the whole array (data,
  //    manifest copies, parity, manifest) is unchanged and there is no
  //    temporary file.
  // 3. A real fix then does exactly what the dry run listed, and everything
  //    verifies.
  TempArray a(3, 2);
  Fill(a);
  EngineHarness h(a);
  h.Sync();
  const std::vector<std::byte> film = ReadFileBytes(a.File(1, "Movies/film.mkv"));
  const std::vector<std::byte> track = ReadFileBytes(a.File(3, "Music/track.flac"));
  FlipByteKeepMtime(a.File(1, "Movies/film.mkv"), 2 * kBlock + 999);
  fs::remove(a.File(3, "Music/track.flac"));
  {
    int fd = open(a.Parity(1).c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    std::vector<std::byte> junk = RandomBytes(100, 7);
    REQUIRE(pwrite(fd, junk.data(), junk.size(), 4 * kBlock + 500) == 100);
    close(fd);
  }
  const std::string array_before = TreeFingerprint(a.root());

  FixReport dry = h.Fix({.disks = {}, .filters = {}, .dry_run = true});
  CHECK(TreeFingerprint(a.root()) == array_before);
  CHECK(FixTemps(a.root()).empty());
  CHECK(dry.files_repaired == 2);
  CHECK(dry.files_unrecoverable == 0);
  CHECK(dry.blocks_recovered == 4);  // film block 2 and the track's 3 blocks
  CHECK(dry.parity_blocks_repaired == 1);
  auto listed = [&](const std::vector<std::string>& actions, const std::string& what) {
    return std::any_of(actions.begin(), actions.end(),
                       [&](const std::string& l) { return l.find(what) != std::string::npos; });
  };
  INFO([&] {
    std::string all;
    for (const std::string& l : dry.actions) all += l + "\n";
    return all;
  }());
  CHECK(dry.actions.size() == 3);
  CHECK(listed(dry.actions, "d1:Movies/film.mkv"));
  CHECK(listed(dry.actions, "d3:Music/track.flac"));
  CHECK(listed(dry.actions, "parity1 at position 4"));

  FixReport fix = h.Fix();
  CHECK(fix.actions == dry.actions);
  CHECK(fix.files_repaired == 2);
  CHECK(fix.blocks_recovered == 4);
  CHECK(fix.parity_blocks_repaired == 1);
  CHECK(Difference(ReadFileBytes(a.File(1, "Movies/film.mkv")), film) == "");
  CHECK(Difference(ReadFileBytes(a.File(3, "Music/track.flac")), track) == "");
  REQUIRE_ARRAY_CLEAN(h);
}

}  // namespace
}  // namespace atlas::testing
