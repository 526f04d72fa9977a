// fix through the real binary: every repair SnapRAID does, verified byte for
// byte, with mode, owner and mtime restored.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "support/temp_array.h"
#include "support/verify_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

struct Snapshot {
  std::map<std::string, std::vector<std::byte>> bytes;  // "dN/path" -> content
  std::map<std::string, struct stat> stats;
};

// Every file of every data disk, with its stat.
Snapshot Take(const TempArray& a, int disks) {
  Snapshot s;
  for (int d = 1; d <= disks; ++d) {
    for (const auto& e : fs::recursive_directory_iterator(a.Disk(d))) {
      std::string rel = e.path().lexically_relative(a.Disk(d)).string();
      if (rel.rfind(".atlas-scrub", 0) == 0 || !e.is_regular_file()) continue;
      std::string key = "d" + std::to_string(d) + "/" + rel;
      s.bytes[key] = ReadFileBytes(e.path());
      struct stat st {};
      REQUIRE(lstat(e.path().c_str(), &st) == 0);
      s.stats[key] = st;
    }
  }
  return s;
}

// Same names, bytes, size, mode, owner and mtime (ns).
void ExpectSame(const Snapshot& want, const Snapshot& got) {
  REQUIRE(got.bytes.size() == want.bytes.size());
  for (const auto& [key, bytes] : want.bytes) {
    INFO(key);
    REQUIRE(got.bytes.count(key) == 1);
    CHECK(got.bytes.at(key) == bytes);
    const struct stat& w = want.stats.at(key);
    const struct stat& g = got.stats.at(key);
    CHECK(g.st_mode == w.st_mode);
    CHECK(g.st_uid == w.st_uid);
    CHECK(g.st_gid == w.st_gid);
    CHECK(g.st_mtim.tv_sec == w.st_mtim.tv_sec);
    CHECK(g.st_mtim.tv_nsec == w.st_mtim.tv_nsec);
  }
}

std::size_t CountKind(const nlohmann::json& doc, const std::string& kind) {
  std::size_t n = 0;
  for (const auto& f : doc["findings"]) n += f["kind"] == kind ? 1 : 0;
  return n;
}

void Populate(TempArray& a, int disks) {
  for (int d = 1; d <= disks; ++d) {
    a.Write(d, "Movies/film " + std::to_string(d) + ".mkv", (3 + d) * 65536 + 77 * d, 100 + d);
    a.Write(d, "Photos/2012/IMG_" + std::to_string(d) + ".jpg", 30000 + d, 200 + d);
    a.Write(d, "Music/empty.cue", 0, 300 + d);
  }
  // Distinct modes, owners and mtimes to restore.
  fs::permissions(a.File(1, "Movies/film 1.mkv"), fs::perms(0640));
  REQUIRE(chown(a.File(2, "Photos/2012/IMG_2.jpg").c_str(), 1234, 2345) == 0);
  timespec times[2] = {{0, UTIME_OMIT}, {1'300'000'000, 123456789}};
  REQUIRE(utimensat(AT_FDCWD, a.File(3, "Movies/film 3.mkv").c_str(), times, 0) == 0);
}

TEST_CASE("fix: a silently corrupted block is restored byte for byte and the next scrub is clean",
          "[fix][e2e]") {
  // STRATEGY:
  // 1. Sync; flip one byte mid-block keeping the mtime.
  // 2. scrub --plan full: exit 1, exactly one silent_corruption.
  // 3. fix --dry-run lists the repair and changes nothing; fix restores the
  //    file (bytes, mode, owner, mtime) and reports it repaired.
  // 4. scrub --plan full: exit 0, and the finding is gone from status.
  TempArray a(4, 2);
  Populate(a, 4);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  Snapshot before = Take(a, 4);
  FlipByteKeepMtime(a.File(1, "Movies/film 1.mkv"), 2 * 65536 + 999);
  CliResult scrub = a.Run({"scrub", "--plan", "full"});
  REQUIRE(scrub.exit_code == 1);
  REQUIRE(CountKind(scrub.json, "silent_corruption") == 1);

  std::string corrupt = TreeFingerprint(a.Disk(1));
  CliResult dry = a.Run({"fix", "--dry-run"});
  INFO(dry.out << dry.err);
  CHECK(dry.exit_code == 0);
  CHECK(dry.json["files_repaired"] == 1);
  CHECK(dry.json["blocks_recovered"] == 1);
  CHECK(TreeFingerprint(a.Disk(1)) == corrupt);

  CliResult fix = a.Run({"fix"});
  INFO(fix.out << fix.err);
  REQUIRE(fix.exit_code == 0);
  CHECK(fix.json["files_repaired"] == 1);
  CHECK(fix.json["blocks_recovered"] == 1);
  CHECK(CountKind(fix.json, "repaired") == 1);
  ExpectSame(before, Take(a, 4));

  CliResult clean = a.Run({"scrub", "--plan", "full"});
  CHECK(clean.exit_code == 0);
  CliResult status = a.Run({"status"});
  CHECK(status.exit_code == 0);
  CHECK(CountKind(status.json, "silent_corruption") == 0);
}

TEST_CASE("fix: a corrupted parity file is repaired from the data", "[fix][e2e]") {
  TempArray a(3, 2);
  Populate(a, 3);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  Snapshot before = Take(a, 3);
  {
    int fd = open(a.Parity(1).c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    std::vector<std::byte> junk = RandomBytes(3000, 9);
    REQUIRE(pwrite(fd, junk.data(), junk.size(), 65536 - 1000) == 3000);  // spans positions 0 and 1
    close(fd);
  }
  CliResult scrub = a.Run({"scrub", "--plan", "full"});
  CHECK(CountKind(scrub.json, "parity_mismatch") == 1);
  CliResult fix = a.Run({"fix"});
  INFO(fix.out << fix.err);
  REQUIRE(fix.exit_code == 0);
  CHECK(fix.json["parity_blocks_repaired"] == 2);
  CHECK(fix.json["files_repaired"] == 0);
  ExpectSame(before, Take(a, 3));
  CHECK(a.Run({"scrub", "--plan", "full"}).exit_code == 0);
  CHECK(VerifyArray(a).bad_parity_bytes == 0);
}

TEST_CASE("fix: rewritten parity is summarised per level as position ranges, not a line per position",
          "[fix][e2e]") {
  // STRATEGY: every position of parity level 2 but one (position 3) is
  // overwritten with junk; fix rewrites them all and says so in one line for
  // the level, with the two ranges, in text and in JSON.
  TempArray a(3, 2);
  Populate(a, 3);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  const std::uint64_t bs = a.block_size();
  const std::uint64_t positions = fs::file_size(a.Parity(2)) / bs;
  REQUIRE(positions >= 6);
  {
    int fd = open(a.Parity(2).c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    std::vector<std::byte> junk = RandomBytes(positions * bs, 11);
    REQUIRE(pwrite(fd, junk.data(), 3 * bs, 0) == static_cast<ssize_t>(3 * bs));
    REQUIRE(pwrite(fd, junk.data() + 4 * bs, (positions - 4) * bs, static_cast<off_t>(4 * bs)) ==
            static_cast<ssize_t>((positions - 4) * bs));
    close(fd);
  }
  const std::string line = "rewrite parity parity2 at " + std::to_string(positions - 1) +
                           " positions in 2 ranges: 0-2, 4-" + std::to_string(positions - 1);
  CliResult dry = a.Run({"fix", "--dry-run"}, /*json=*/false);
  INFO(dry.out << dry.err);
  REQUIRE(dry.exit_code == 0);
  std::size_t lines = 0;
  std::istringstream out(dry.out);
  for (std::string l; std::getline(out, l);) lines += l.find("rewrite parity") != std::string::npos ? 1 : 0;
  CHECK(lines == 1);
  CHECK(dry.out.find("would " + line + "\n") != std::string::npos);

  CliResult fix = a.Run({"fix"});
  INFO(fix.out << fix.err);
  REQUIRE(fix.exit_code == 0);
  CHECK(fix.json["parity_blocks_repaired"] == positions - 1);
  REQUIRE(fix.json["actions"].size() == 1);
  CHECK(fix.json["actions"][0] == line);
  CHECK(CountKind(fix.json, "repaired") == 1);
  CHECK(VerifyArray(a).bad_parity_bytes == 0);
}

TEST_CASE("fix: files deleted since the last sync are restored (undelete)", "[fix][e2e]") {
  TempArray a(3, 1);
  Populate(a, 3);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  Snapshot before = Take(a, 3);
  fs::remove(a.File(2, "Movies/film 2.mkv"));
  fs::remove(a.File(2, "Music/empty.cue"));
  fs::remove_all(a.Disk(3) / "Photos");
  CliResult fix = a.Run({"fix"});
  INFO(fix.out << fix.err);
  REQUIRE(fix.exit_code == 0);
  CHECK(fix.json["files_repaired"] == 3);
  ExpectSame(before, Take(a, 3));
}

TEST_CASE("fix: an emptied (replaced) disk is rebuilt with --disk, reading all other disks", "[fix][e2e]") {
  // STRATEGY:
  // 1. Sync 4 disks with 2 parity levels; replace d2 with an empty directory.
  // 2. sync refuses (missing_disk); `fix --disk d2` rebuilds every file of d2
  //    byte for byte with attributes; status and scrub are clean after.
  TempArray a(4, 2);
  Populate(a, 4);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  Snapshot before = Take(a, 4);
  fs::path copy_backup = a.root() / "copy-of-d2-copy";
  fs::rename(a.Copy(2), copy_backup);  // the manifest copy lived there too
  fs::remove_all(a.Disk(2));
  fs::create_directories(a.Disk(2));
  CHECK(a.Run({"sync"}).exit_code == 3);

  CliResult fix = a.Run({"fix", "--disk", "d2"});
  INFO(fix.out << fix.err);
  REQUIRE(fix.exit_code == 0);
  CHECK(fix.json["files_repaired"] == 3);
  CHECK(fix.json["files_unrecoverable"] == 0);
  ExpectSame(before, Take(a, 4));
  CHECK(a.Run({"scrub", "--plan", "full"}).exit_code == 0);
  CliResult sync = a.Run({"sync"});
  CHECK(sync.exit_code == 0);
  CHECK(sync.json["nothing_to_do"] == true);
}

TEST_CASE("fix --disk: a corrupt block on another disk is found when the rebuilt block does not verify",
          "[fix][e2e]") {
  // STRATEGY: a rebuild hashes the blocks it solves from only when the block
  // it rebuilt does not match its checksum. Here d1's film has a flipped
  // byte at position 1 (size and mtime kept) and d2 is emptied: the first
  // solution at position 1 fails, d1's block is then hashed and found
  // corrupt, and the stripe is solved for both blocks with both levels. d2
  // comes back byte for byte; d1, not in scope, is left as it is.
  TempArray a(4, 2);
  Populate(a, 4);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  Snapshot before = Take(a, 4);
  FlipByteKeepMtime(a.File(1, "Movies/film 1.mkv"), 65536 + 999);  // block 1: position 1
  std::vector<std::byte> corrupt = ReadFileBytes(a.File(1, "Movies/film 1.mkv"));
  for (const auto& e : fs::directory_iterator(a.Disk(2))) {
    if (e.path().filename() != ".atlas-scrub") fs::remove_all(e.path());
  }

  CliResult fix = a.Run({"fix", "--disk", "d2"});
  INFO(fix.out << fix.err);
  REQUIRE(fix.exit_code == 0);
  CHECK(fix.json["files_repaired"] == 3);
  CHECK(fix.json["files_unrecoverable"] == 0);
  Snapshot after = Take(a, 4);
  for (const auto& [key, bytes] : before.bytes) {
    INFO(key);
    if (key.rfind("d2/", 0) == 0) CHECK(after.bytes.at(key) == bytes);
  }
  CHECK(ReadFileBytes(a.File(1, "Movies/film 1.mkv")) == corrupt);

  CliResult all = a.Run({"fix"});
  INFO(all.out << all.err);
  CHECK(all.exit_code == 0);
  ExpectSame(before, Take(a, 4));
}

TEST_CASE("fix: two disks lost at once are rebuilt with two parity levels", "[fix][e2e]") {
  TempArray a(4, 2);
  Populate(a, 4);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  Snapshot before = Take(a, 4);
  for (int d : {1, 3}) {
    for (const auto& e : fs::directory_iterator(a.Disk(d))) {
      if (e.path().filename() != ".atlas-scrub") fs::remove_all(e.path());
    }
  }
  CliResult fix = a.Run({"fix", "--disk", "d1", "--disk", "d3"});
  INFO(fix.out << fix.err);
  REQUIRE(fix.exit_code == 0);
  CHECK(fix.json["files_repaired"] == 6);
  ExpectSame(before, Take(a, 4));
  CHECK(a.Run({"fix", "--disk", "d1", "--disk", "d2", "--disk", "d3"}).exit_code == 2);  // > 2 levels
}

TEST_CASE("fix: with m levels and m+1 lost disks every unrebuildable file is named and nothing else is touched",
          "[fix][e2e]") {
  // STRATEGY:
  // 1. One parity level; delete the films of d1 and d2, which share positions.
  // 2. fix exits 1 with an unrecoverable finding for each film; the
  //    surviving files and the other disks are byte-identical; no temporary
  //    file is left behind.
  TempArray a(3, 1);
  Populate(a, 3);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  fs::remove(a.File(1, "Movies/film 1.mkv"));
  fs::remove(a.File(2, "Movies/film 2.mkv"));
  Snapshot before = Take(a, 3);
  std::string parity = TreeFingerprint(a.Parity(1));
  CliResult fix = a.Run({"fix", "--filter", "Movies/*"});
  INFO(fix.out << fix.err);
  CHECK(fix.exit_code == 1);
  CHECK(CountKind(fix.json, "unrecoverable") == 2);
  for (const auto& f : fix.json["findings"]) {
    if (f["kind"] == "unrecoverable") CHECK(f["path"].get<std::string>().rfind("Movies/film ", 0) == 0);
  }
  ExpectSame(before, Take(a, 3));  // bytes and stats, and no temporary file
  CHECK(TreeFingerprint(a.Parity(1)) == parity);
}

TEST_CASE("fix: a file modified after the sync is left alone unless a filter asks for it", "[fix][e2e]") {
  TempArray a(2, 1);
  a.Write(1, "doc.mkv", 3 * 65536, 1);
  a.Write(2, "other.mkv", 3 * 65536, 2);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  std::vector<std::byte> synced = ReadFileBytes(a.File(1, "doc.mkv"));
  std::vector<std::byte> newer = a.Write(1, "doc.mkv", 3 * 65536, 3);  // the user's new version
  CliResult fix = a.Run({"fix"});
  CHECK(fix.exit_code == 0);
  CHECK(fix.json["files_repaired"] == 0);
  CHECK(ReadFileBytes(a.File(1, "doc.mkv")) == newer);

  CliResult revert = a.Run({"fix", "--filter", "doc.mkv"});
  INFO(revert.out << revert.err);
  CHECK(revert.exit_code == 0);
  CHECK(revert.json["files_repaired"] == 1);
  CHECK(ReadFileBytes(a.File(1, "doc.mkv")) == synced);
}

TEST_CASE("fix: killed at each crash point, a rerun completes with every file as synced and no temp files",
          "[fix][crash][e2e]") {
  const char* const points[] = {"fix.after_block_write", "fix.after_temp_write", "fix.after_fsync_before_rename",
                                "fix.after_rename", "fix.after_commit"};
  for (const char* point : points) {
    DYNAMIC_SECTION("crash at " << point) {
      TempArray a(3, 2);
      Populate(a, 3);
      REQUIRE(a.Run({"sync"}).exit_code == 0);
      Snapshot before = Take(a, 3);
      fs::remove(a.File(2, "Movies/film 2.mkv"));
      FlipByteKeepMtime(a.File(1, "Movies/film 1.mkv"), 70000);
      CliResult crashed = a.Run({"fix"}, true, {{"ATLAS_SCRUB_CRASH_AT", point}});
      INFO(crashed.err);
      REQUIRE(crashed.exit_code == 137);
      CliResult rerun = a.Run({"fix"});
      INFO(rerun.out << rerun.err);
      REQUIRE(rerun.exit_code == 0);
      ExpectSame(before, Take(a, 3));  // also proves no temporary file is left
      CHECK(a.Run({"scrub", "--plan", "full"}).exit_code == 0);
    }
  }
}

TEST_CASE("fix: a manifest path that would leave the disk is refused", "[fix][e2e]") {
  // A directory on the disk replaced by a symlink to elsewhere: restoring a
  // file under it would write outside the disk root.
  TempArray a(2, 1);
  a.Write(1, "dir/x.mkv", 100000, 1);
  a.Write(2, "y.mkv", 100000, 2);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  fs::remove_all(a.File(1, "dir"));
  fs::create_directories(a.root() / "outside");
  fs::create_directory_symlink(a.root() / "outside", a.File(1, "dir"));
  CliResult fix = a.Run({"fix"});
  INFO(fix.out << fix.err);
  CHECK(fix.exit_code == 1);
  CHECK(CountKind(fix.json, "unrecoverable") == 1);
  CHECK(fs::is_empty(a.root() / "outside"));
}

}  // namespace
}  // namespace atlas::testing
