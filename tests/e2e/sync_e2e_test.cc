// End-to-end tests of init, sync, diff and status through the real binary.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "atlas/manifest.h"
#include "support/temp_array.h"
#include "support/verify_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

std::size_t CountKind(const nlohmann::json& doc, const std::string& kind) {
  std::size_t n = 0;
  for (const auto& f : doc["findings"]) n += f["kind"] == kind ? 1 : 0;
  return n;
}

bool HasFinding(const nlohmann::json& doc, const std::string& kind, const std::string& disk,
                const std::string& path) {
  for (const auto& f : doc["findings"]) {
    if (f["kind"] == kind && f["disk"] == disk && f["path"] == path) return true;
  }
  return false;
}

// Sets a file's mtime (ns) so "unchanged content, unchanged mtime" can be staged.
void SetMtime(const fs::path& p, std::int64_t mtime_ns) {
  timespec times[2] = {{0, UTIME_OMIT}, {mtime_ns / 1'000'000'000, mtime_ns % 1'000'000'000}};
  REQUIRE(utimensat(AT_FDCWD, p.c_str(), times, 0) == 0);
}

// A mix of sizes that exercise every block boundary, on 4 disks.
struct Population {
  std::size_t files = 0;
};

Population Populate(TempArray& a) {
  const std::size_t bs = a.block_size();
  Population p;
  auto w = [&](int disk, const std::string& rel, std::size_t size, std::uint64_t seed) {
    a.Write(disk, rel, size, seed);
    p.files++;
  };
  w(1, "empty.txt", 0, 1);
  w(1, "one-byte.bin", 1, 2);
  w(1, "Movies/exact block.mkv", bs, 3);
  w(1, "Movies/block plus one.mkv", bs + 1, 4);
  w(2, "Music/große Fuge – Beethoven.flac", 3 * 1024 * 1024 + 17, 5);
  w(2, "Photos/2009/été à Paris/IMG 0001.jpg", 5 * bs - 1, 6);
  w(3, "TV/Show S01E01.mkv", 2 * 1024 * 1024, 7);
  w(3, "TV/日本語のファイル.ts", 777, 8);
  w(4, "Home Videos/birthday 2012.mp4", 4 * 1024 * 1024 + 3, 9);
  w(4, "a", 10, 10);
  w(4, "a.txt", 11, 11);
  w(4, "a b/c", 12, 12);
  return p;
}

TEST_CASE("sync: a 4+2 array with every block boundary and unicode names is protected",
          "[sync][e2e]") {
  // STRATEGY:
  // 1. Populate 4 data disks with empty, 1-byte, exact-block, block+1 and
  //    multi-MiB files, unicode names and spaces.
  // 2. sync, then status: health ok, the right file count, nothing unsynced.
  // 3. Recompute every parity byte independently from the data files and
  //    compare; check every block hash against the data.
  TempArray a(4, 2);
  Population p = Populate(a);

  CliResult sync = a.Run({"sync"});
  INFO(sync.out << sync.err);
  REQUIRE(sync.exit_code == 0);
  REQUIRE(sync.json["ok"] == true);
  CHECK(sync.json["drift"]["added"] == p.files);
  CHECK(sync.json["positions_left"] == 0);

  CliResult status = a.Run({"status"});
  INFO(status.out << status.err);
  REQUIRE(status.exit_code == 0);
  CHECK(status.json["health"] == "ok");
  CHECK(status.json["array"]["files"] == p.files);
  CHECK(status.json["array"]["data_disks"] == 4);
  CHECK(status.json["array"]["parity_levels"] == 2);
  CHECK(status.json["array"]["block_size"] == a.block_size());
  CHECK(status.json["last_sync"].is_string());
  CHECK(status.json["scrub"]["verified_pct_30d"] == 100.0);
  CHECK(status.json["disks"].size() == 6);
  CHECK(CountKind(status.json, "unsynced") == 0);

  ArrayCheck check = VerifyArray(a);
  INFO(check.first_problem);
  CHECK(check.files == p.files);
  CHECK(check.dirty_positions == 0);
  CHECK(check.bad_blocks == 0);
  CHECK(check.bad_parity_bytes == 0);
  CHECK(check.false_parity_hashes == 0);
  CHECK(check.coverage_mismatches == 0);
  CHECK(check.blocks > 20);
}

TEST_CASE("diff: each kind of drift is reported, then gone after the next sync", "[diff][sync][e2e]") {
  // STRATEGY:
  // 1. Sync a populated array.
  // 2. Add a file, modify one (size change) and one in place (same size, new
  //    mtime), delete one, rename one on its disk, and move one to another disk.
  // 3. diff reports exactly those findings, and changes nothing.
  // 4. sync reports the same counts; parity verifies; diff is then clean.
  TempArray a(4, 2, 64 * 1024, "[guards]\nmax_deletes_pct = 50\n");
  Populate(a);
  REQUIRE(a.Run({"sync"}).exit_code == 0);

  a.Write(1, "Movies/new film.mkv", 300000, 100);
  a.Write(3, "TV/Show S01E01.mkv", 2 * 1024 * 1024 + 5, 101);  // grown
  a.Write(4, "a.txt", 11, 102);                                 // same size, new data
  SetMtime(a.File(4, "a.txt"), 1'700'000'000'123'456'789);
  fs::remove(a.File(1, "one-byte.bin"));
  fs::rename(a.File(2, "Photos/2009/été à Paris/IMG 0001.jpg"), a.File(2, "Photos/renamed.jpg"));
  fs::create_directories(a.File(3, "Music"));
  fs::copy_file(a.File(4, "Home Videos/birthday 2012.mp4"), a.File(3, "Music/birthday 2012.mp4"));
  fs::remove(a.File(4, "Home Videos/birthday 2012.mp4"));

  std::string manifest_before = TreeFingerprint(a.Manifest());
  std::string parity_before = TreeFingerprint(a.Parity(1));
  CliResult diff = a.Run({"diff"});
  INFO(diff.out << diff.err);
  REQUIRE(diff.exit_code == 0);
  CHECK(HasFinding(diff.json, "added", "d1", "Movies/new film.mkv"));
  CHECK(HasFinding(diff.json, "modified", "d3", "TV/Show S01E01.mkv"));
  CHECK(HasFinding(diff.json, "modified", "d4", "a.txt"));
  CHECK(HasFinding(diff.json, "deleted", "d1", "one-byte.bin"));
  CHECK(HasFinding(diff.json, "moved", "d2", "Photos/renamed.jpg"));
  CHECK(HasFinding(diff.json, "moved", "d3", "Music/birthday 2012.mp4"));
  CHECK(diff.json["drift"]["added"] == 1);
  CHECK(diff.json["drift"]["modified"] == 2);
  CHECK(diff.json["drift"]["deleted"] == 1);
  CHECK(diff.json["drift"]["moved"] == 2);
  CHECK(TreeFingerprint(a.Manifest()) == manifest_before);
  CHECK(TreeFingerprint(a.Parity(1)) == parity_before);

  CliResult sync = a.Run({"sync"});
  INFO(sync.out << sync.err);
  REQUIRE(sync.exit_code == 0);
  CHECK(sync.json["drift"]["added"] == 1);
  CHECK(sync.json["drift"]["modified"] == 2);
  CHECK(sync.json["drift"]["deleted"] == 1);
  CHECK(sync.json["drift"]["moved"] == 2);
  CHECK(HasFinding(sync.json, "moved", "d3", "Music/birthday 2012.mp4"));

  ArrayCheck check = VerifyArray(a);
  INFO(check.first_problem);
  CHECK(check.bad_blocks == 0);
  CHECK(check.bad_parity_bytes == 0);
  CHECK(check.false_parity_hashes == 0);
  CHECK(check.coverage_mismatches == 0);
  CHECK(check.dirty_positions == 0);

  CliResult clean = a.Run({"diff"});
  REQUIRE(clean.exit_code == 0);
  CHECK(clean.json["drift"]["added"] == 0);
  CHECK(clean.json["drift"]["modified"] == 0);
  CHECK(clean.json["drift"]["deleted"] == 0);
  CHECK(clean.json["drift"]["moved"] == 0);
}

TEST_CASE("sync: a sync with nothing to do writes nothing", "[sync][e2e]") {
  TempArray a(2, 1);
  a.Write(1, "x.mkv", 200000, 1);
  a.Write(2, "y.mkv", 100, 2);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  std::string manifest = TreeFingerprint(a.Manifest());
  std::string parity = TreeFingerprint(a.Parity(1));
  std::string copies = TreeFingerprint(a.Copy(1));
  CliResult again = a.Run({"sync"});
  INFO(again.out << again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(again.json["nothing_to_do"] == true);
  CHECK(TreeFingerprint(a.Manifest()) == manifest);
  CHECK(TreeFingerprint(a.Parity(1)) == parity);
  CHECK(TreeFingerprint(a.Copy(1)) == copies);
}

TEST_CASE("sync: an emptied disk is refused as missing_disk and nothing changes", "[sync][guard][e2e]") {
  // STRATEGY:
  // 1. Sync, then empty d2 (as if its filesystem were not mounted).
  // 2. sync exits 3 with a missing_disk finding for d2; manifest, parity and
  //    copies are byte-identical; status shows the finding.
  // 3. sync --force-empty accepts the deletions.
  TempArray a(3, 1);
  a.Write(1, "a.mkv", 100000, 1);
  a.Write(2, "b.mkv", 100000, 2);
  a.Write(2, "c.mkv", 1000, 3);
  a.Write(3, "d.mkv", 1000, 4);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  fs::remove(a.File(2, "b.mkv"));
  fs::remove(a.File(2, "c.mkv"));
  std::string manifest = TreeFingerprint(a.Manifest());
  std::string parity = TreeFingerprint(a.Parity(1));

  CliResult sync = a.Run({"sync"});
  INFO(sync.out << sync.err);
  CHECK(sync.exit_code == 3);
  CHECK(HasFinding(sync.json, "missing_disk", "d2", ""));
  CHECK(TreeFingerprint(a.Manifest()) == manifest);
  CHECK(TreeFingerprint(a.Parity(1)) == parity);

  CliResult status = a.Run({"status"});
  CHECK(status.exit_code == 1);
  CHECK(status.json["health"] == "critical");
  CHECK(HasFinding(status.json, "missing_disk", "d2", ""));

  CliResult forced = a.Run({"sync", "--force-empty"});
  INFO(forced.out << forced.err);
  CHECK(forced.exit_code == 0);
  CHECK(forced.json["drift"]["deleted"] == 2);
  CHECK(VerifyArray(a).bad_parity_bytes == 0);
}

TEST_CASE("sync: a missing disk directory is refused", "[sync][guard][e2e]") {
  TempArray a(2, 1);
  a.Write(1, "a.mkv", 1000, 1);
  a.Write(2, "b.mkv", 1000, 2);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  fs::rename(a.Disk(2), a.root() / "elsewhere");
  std::string manifest = TreeFingerprint(a.Manifest());
  CliResult sync = a.Run({"sync"});
  CHECK(sync.exit_code == 3);
  CHECK(HasFinding(sync.json, "missing_disk", "d2", ""));
  CHECK(TreeFingerprint(a.Manifest()) == manifest);
}

TEST_CASE("sync: deletions above max_deletes are refused as mass_delete", "[sync][guard][e2e]") {
  // STRATEGY:
  // 1. A config with max_deletes = 3; sync 10 files.
  // 2. Delete 4: sync exits 3 with mass_delete, nothing written.
  // 3. --force-delete syncs them.
  TempArray a(2, 1, 64 * 1024, "[guards]\nmax_deletes = 3\nmax_deletes_pct = 100\n");
  for (int i = 0; i < 10; ++i) a.Write(1 + i % 2, "f" + std::to_string(i) + ".mkv", 5000 + i, i);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  for (int i = 0; i < 4; ++i) fs::remove(a.File(1 + i % 2, "f" + std::to_string(i) + ".mkv"));
  std::string manifest = TreeFingerprint(a.Manifest());
  std::string parity = TreeFingerprint(a.Parity(1));
  CliResult sync = a.Run({"sync"});
  INFO(sync.out << sync.err);
  CHECK(sync.exit_code == 3);
  CHECK(CountKind(sync.json, "mass_delete") == 1);
  CHECK(TreeFingerprint(a.Manifest()) == manifest);
  CHECK(TreeFingerprint(a.Parity(1)) == parity);

  CliResult forced = a.Run({"sync", "--force-delete"});
  CHECK(forced.exit_code == 0);
  CHECK(forced.json["drift"]["deleted"] == 4);
  CHECK(VerifyArray(a).bad_parity_bytes == 0);
}

TEST_CASE("sync: names with a newline and invalid UTF-8 sync, and JSON stays valid", "[sync][e2e]") {
  TempArray a(2, 1);
  a.Write(1, "line\nbreak.mkv", 3000, 1);
  a.Write(2, std::string("bad-\xff\xfe-utf8.mkv"), 4000, 2);
  CliResult sync = a.Run({"sync"});
  INFO(sync.out << sync.err);
  REQUIRE(sync.exit_code == 0);
  REQUIRE_FALSE(sync.json.is_null());  // parsed: valid JSON
  CHECK(HasFinding(sync.json, "added", "d1", "line\\nbreak.mkv"));
  CHECK(HasFinding(sync.json, "added", "d2", "bad-\\xFF\\xFE-utf8.mkv"));
  CHECK(VerifyArray(a).bad_parity_bytes == 0);
  CliResult diff = a.Run({"diff"}, /*json=*/false);
  CHECK(diff.exit_code == 0);
}

TEST_CASE("sync: a second run while one holds the manifest exits 3 at once", "[sync][e2e]") {
  TempArray a(2, 1);
  a.Write(1, "a.mkv", 1000, 1);
  Result<std::unique_ptr<ManifestLock>> lock = ManifestLock::Acquire(a.Manifest());
  REQUIRE_OK(lock.status());
  CliResult sync = a.Run({"sync"});
  CHECK(sync.exit_code == 3);
  CHECK(sync.json["error"].get<std::string>().find("manifest locked") != std::string::npos);
}

TEST_CASE("manifest: a corrupted manifest is a clear error, and restore-manifest brings a copy back",
          "[manifest][e2e]") {
  // STRATEGY:
  // 1. Sync (copies go to the two manifest_copies dirs).
  // 2. Overwrite every file of the manifest with garbage: status exits 3 and
  //    names restore-manifest.
  // 3. restore-manifest restores it; status is ok again.
  // 4. Delete the manifest: sync refuses (exit 3) instead of starting over.
  TempArray a(2, 1);
  a.Write(1, "a.mkv", 100000, 1);
  a.Write(2, "b.mkv", 100000, 2);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  for (const auto& e : fs::directory_iterator(a.Manifest())) {
    if (e.path().filename().string().rfind("MANIFEST", 0) == 0 || e.path().filename() == "CURRENT") {
      WriteFile(e.path(), std::string("garbage, not a manifest"));
    }
  }
  CliResult status = a.Run({"status"});
  INFO(status.out << status.err);
  CHECK(status.exit_code == 3);
  CHECK(status.err.find("restore-manifest") != std::string::npos);

  CliResult restore = a.Run({"restore-manifest"});
  INFO(restore.out << restore.err);
  REQUIRE(restore.exit_code == 0);
  CliResult after = a.Run({"status"});
  CHECK(after.exit_code == 0);
  CHECK(after.json["array"]["files"] == 2);

  fs::remove_all(a.Manifest());
  CliResult sync = a.Run({"sync"});
  CHECK(sync.exit_code == 3);
  CHECK(sync.json["error"].get<std::string>().find("restore-manifest") != std::string::npos);
}

}  // namespace
}  // namespace atlas::testing
