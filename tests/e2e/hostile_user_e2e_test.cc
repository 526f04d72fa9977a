// Data disks belong to the household: anyone can create, rename or delete
// files, links and folders there over SMB, also while atlas-scrub runs as
// root. Each case here is something a user (uid 65534 owns everything they
// plant) did to make root write outside the array, read for them, hang, or
// judge one file by another's checksums, run against the real binary.
//
// STRATEGY:
// 1. Build a small array, sync it, and keep a directory outside the array
//    (`outside/`, world-writable as /tmp would be) with a root-only file in
//    it: the targets a symlink would lead root to.
// 2. Plant the attack as the user (uid 65534, through setpriv, in folders
//    they own as on an SMB share) would: symlinks over directories, FIFOs
//    over files, old-style temporary names, another file renamed over a
//    synced one with the same size and mtime, a path longer than PATH_MAX,
//    a directory replaced by a file; race a directory/symlink swap against
//    fix where the attack races.
// 3. Run sync, check, scrub and fix (bounded by `timeout -s KILL`, so a hang
//    is a failed test, not a stuck suite) and assert what a user would
//    notice: the exit code, the exact findings, files outside the array
//    untouched byte for byte, the user's files neither written nor deleted,
//    and the admin's real damage elsewhere still repaired.
#include <atomic>
#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/temp_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kUser = 65534;

std::size_t CountKind(const nlohmann::json& doc, const std::string& kind) {
  std::size_t n = 0;
  for (const auto& f : doc["findings"]) n += f["kind"] == kind ? 1 : 0;
  return n;
}

bool HasFinding(const nlohmann::json& doc, const std::string& kind, const std::string& path) {
  for (const auto& f : doc["findings"]) {
    if (f["kind"] == kind && f.value("path", "") == path) return true;
  }
  return false;
}

// Runs the binary with a hard time limit: a hang is exit 137.
CliResult RunBounded(const TempArray& a, std::vector<std::string> args) {
  std::vector<std::string> full = {"-c", a.config().string()};
  full.insert(full.end(), args.begin(), args.end());
  full.push_back("--json");
  return RunCliPrefixed({"/usr/bin/timeout", "-s", "KILL", "60"}, full);
}

// The household: the folders on the data disks belong to uid 65534, as an
// SMB share's do, and what the user does runs as that uid (setpriv), so
// the kernel allows them exactly what it would allow a real user. Call
// before the first sync, so the manifest records their ownership.
class Household {
 public:
  explicit Household(const TempArray& a, int disks) {
    REQUIRE(chmod(a.root().c_str(), 0755) == 0);
    for (int d = 1; d <= disks; ++d) {
      REQUIRE(lchown(a.Disk(d).c_str(), kUser, kUser) == 0);
      for (auto it = fs::recursive_directory_iterator(a.Disk(d)); it != fs::recursive_directory_iterator(); ++it) {
        if (it->path().filename() == ".atlas-scrub") {  // atlas's own, root's
          it.disable_recursion_pending();
          continue;
        }
        REQUIRE(lchown(it->path().c_str(), kUser, kUser) == 0);
      }
    }
  }
  // Runs `script` with /bin/sh as the user; fails the test when it fails.
  static void Do(const std::string& script) {
    const std::string cmd = "/usr/bin/setpriv --reuid=" + std::to_string(kUser) +
                            " --regid=" + std::to_string(kUser) + " --clear-groups /bin/sh -ec '" +
                            script + "'";
    INFO(cmd);
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
};

// A path for the user's shell (no single quotes in temp dirs).
std::string Q(const fs::path& p) { return "\"" + p.string() + "\""; }

// A world-writable directory outside the array with a root-only secret in it.
struct Outside {
  explicit Outside(const TempArray& a) : dir(a.root() / "outside"), secret(dir / "secret") {
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms(01777));
    WriteFile(secret, std::string(300000, 'S'));
    fs::permissions(secret, fs::perms(0600));
    fingerprint = TreeFingerprint(dir);
  }
  // Nothing was created, written or removed there.
  bool Untouched() const { return TreeFingerprint(dir) == fingerprint; }
  fs::path dir, secret;
  std::string fingerprint;
};

TEST_CASE("fix: an empty file is never undeleted through a directory a user replaced by a symlink",
          "[fix][e2e][security][issue-14]") {
  TempArray a(2, 2);  // two levels: the lost album and the rotten film may share a position
  a.Write(1, "Music/album/empty.cue", 0, 1);
  a.Write(1, "Music/album/track.flac", 200000, 2);
  const std::vector<std::byte> want = a.Write(2, "Movies/film.mkv", 300000, 3);
  Household home(a, 2);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  Outside out(a);
  // The user empties the album and puts a symlink to elsewhere in its place;
  // the admin's film on the other disk rots.
  Household::Do("rm -rf " + Q(a.File(1, "Music/album")) + " && ln -s " + Q(out.dir) + " " +
                Q(a.File(1, "Music/album")));
  FlipByteKeepMtime(a.File(2, "Movies/film.mkv"), 70000);

  CliResult fix = RunBounded(a, {"fix"});
  INFO(fix.out << fix.err);
  CHECK(out.Untouched());  // no empty.cue, no track.flac, no temporary file out there
  CHECK(fs::is_symlink(a.File(1, "Music/album")));
  CHECK(HasFinding(fix.json, "unrecoverable", "Music/album/empty.cue"));
  CHECK(HasFinding(fix.json, "unrecoverable", "Music/album/track.flac"));
  // The rest of the run went on: the corrupt film is repaired.
  CHECK(HasFinding(fix.json, "repaired", "Movies/film.mkv"));
  CHECK(ReadFileBytes(a.File(2, "Movies/film.mkv")) == want);
  CHECK(fix.exit_code == 1);
}

TEST_CASE("fix: a directory a user replaced by a file stops only the files below it",
          "[fix][e2e][security][issue-14]") {
  TempArray a(2, 2);
  a.Write(1, "Photos/2019/a.jpg", 100000, 1);
  const std::vector<std::byte> want = a.Write(2, "Movies/film.mkv", 300000, 2);
  Household home(a, 2);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  Household::Do("rm -rf " + Q(a.File(1, "Photos/2019")) + " && echo notes > " + Q(a.File(1, "Photos/2019")));
  const std::string notes = TreeFingerprint(a.File(1, "Photos"));
  FlipByteKeepMtime(a.File(2, "Movies/film.mkv"), 5);

  CliResult fix = RunBounded(a, {"fix"});
  INFO(fix.out << fix.err);
  CHECK(fix.exit_code == 1);
  CHECK(HasFinding(fix.json, "unrecoverable", "Photos/2019/a.jpg"));
  CHECK(HasFinding(fix.json, "repaired", "Movies/film.mkv"));
  CHECK(ReadFileBytes(a.File(2, "Movies/film.mkv")) == want);
  CHECK(TreeFingerprint(a.File(1, "Photos")) == notes);  // the user's file as they left it
}

TEST_CASE("fix: planted temporary-file names are neither written through nor deleted",
          "[fix][e2e][security][issue-14]") {
  TempArray a(2, 1);
  const std::vector<std::byte> want = a.Write(1, "Movies/a.mkv", 300000, 1);
  a.Write(2, "Movies/b.mkv", 100000, 2);
  Household home(a, 2);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  Outside out(a);
  // The names older versions used for their temporary files: a symlink to a
  // root-only file, and a plain file of the user's that merely ends the
  // same way.
  Household::Do("ln -s " + Q(out.secret) + " " + Q(a.File(1, "Movies/.a.mkv.atlas-fix-tmp")) +
                " && printf mine > " + Q(a.File(1, "Movies/notes.atlas-fix-tmp")));
  FlipByteKeepMtime(a.File(1, "Movies/a.mkv"), 123456);

  CliResult fix = RunBounded(a, {"fix"});
  INFO(fix.out << fix.err);
  CHECK(fix.exit_code == 0);
  CHECK(HasFinding(fix.json, "repaired", "Movies/a.mkv"));
  CHECK(ReadFileBytes(a.File(1, "Movies/a.mkv")) == want);
  CHECK(out.Untouched());
  CHECK(fs::is_symlink(a.File(1, "Movies/.a.mkv.atlas-fix-tmp")));
  CHECK(ReadFileBytes(a.File(1, "Movies/notes.atlas-fix-tmp")).size() == 4);
  // fix's own temporary file is gone, and it left nothing else behind.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(a.File(1, "Movies"))) ++entries;
  CHECK(entries == 3);
}

TEST_CASE("fix: a directory swapped with a symlink in a loop never leads a write outside the disk",
          "[fix][e2e][security][issue-14]") {
  TempArray a(2, 1);
  for (int i = 0; i < 12; ++i) a.Write(1, "Shows/s01/e" + std::to_string(i) + ".mkv", 70000 + i * 1000, 10 + i);
  a.Write(1, "Shows/s01/empty.nfo", 0, 99);
  a.Write(2, "Movies/b.mkv", 100000, 2);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  Outside out(a);
  const fs::path dir = a.File(1, "Shows/s01");
  const fs::path aside = a.File(1, "Shows/.s01-real");
  std::atomic<bool> stop{false};
  int rounds = 0;
  for (int run = 0; run < 4; ++run) {
    // Every episode deleted: fix restores them while the user swaps the
    // directory for a symlink to outside/ and back, as fast as it can.
    for (int i = 0; i < 12; ++i) fs::remove(dir / ("e" + std::to_string(i) + ".mkv"));
    fs::remove(dir / "empty.nfo");
    stop = false;
    std::thread swapper([&] {
      while (!stop) {
        if (rename(dir.c_str(), aside.c_str()) != 0) continue;
        symlink(out.dir.c_str(), dir.c_str());
        std::this_thread::yield();
        unlink(dir.c_str());
        rename(aside.c_str(), dir.c_str());
        ++rounds;
      }
    });
    CliResult fix = RunBounded(a, {"fix"});
    stop = true;
    swapper.join();
    INFO(fix.out << fix.err);
    CHECK(fix.exit_code != 137);
    CHECK(out.Untouched());
  }
  CHECK(rounds > 0);
  CHECK(fs::is_directory(dir));
  CHECK(!fs::is_symlink(dir));
}

TEST_CASE("sync: files swapped for symlinks and FIFOs while it reads never put another file's bytes in parity",
          "[sync][e2e][security][issue-14]") {
  // The user swaps each file for a symlink to a root-only file of the same
  // size (or for a FIFO) and back, as fast as it can, while sync runs; the
  // walk sees regular files, the reads may not. Afterwards every file is
  // back: no block may have been recorded with the secret's bytes (check
  // would call it corrupt, and fix would hand the secret to the user), and
  // no run may block on a FIFO.
  TempArray a(2, 1);
  constexpr int kFiles = 24;
  constexpr std::size_t kSize = 300000;
  for (int i = 0; i < kFiles; ++i) a.Write(1, "Race/f" + std::to_string(i) + ".mkv", kSize, 40 + i);
  a.Write(2, "Movies/b.mkv", 100000, 2);
  Outside out(a);  // its secret has the films' size
  REQUIRE(fs::file_size(out.secret) == kSize);
  std::atomic<bool> stop{false};
  std::atomic<int> swaps{0};
  std::thread swapper([&] {
    for (int round = 0; !stop; ++round) {
      for (int i = 0; i < kFiles && !stop; ++i) {
        const fs::path f = a.File(1, "Race/f" + std::to_string(i) + ".mkv");
        const fs::path aside = a.File(1, "Race/.f" + std::to_string(i));
        if (rename(f.c_str(), aside.c_str()) != 0) continue;
        if (round % 2 == 0) {
          symlink(out.secret.c_str(), f.c_str());
        } else {
          mkfifo(f.c_str(), 0666);
        }
        // About as long as reading a block takes: a read that opened the
        // swapped-in file may see the real one back when it re-checks.
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        unlink(f.c_str());
        rename(aside.c_str(), f.c_str());
        ++swaps;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
  });
  std::vector<int> codes;
  for (int run = 0; run < 3; ++run) {
    // Every film is modified each round: past the mass-modification guard.
    codes.push_back(RunBounded(a, {"sync", "--force-modified"}).exit_code);
    // Touch every film so that the next sync reads them all again.
    for (int i = 0; i < kFiles; ++i) {
      timespec times[2] = {{0, UTIME_OMIT}, {1'600'000'000 + run, 0}};
      utimensat(AT_FDCWD, a.File(1, "Race/f" + std::to_string(i) + ".mkv").c_str(), times, AT_SYMLINK_NOFOLLOW);
    }
  }
  stop = true;
  swapper.join();
  CHECK(swaps > 0);
  for (int code : codes) CHECK(code != 137);
  // Every file is back as it was; a quiet sync settles what was left dirty.
  CliResult sync = RunBounded(a, {"sync", "--force-modified"});
  INFO(sync.out << sync.err);
  CHECK(sync.exit_code == 0);
  CliResult check = RunBounded(a, {"check"});
  INFO(check.out << check.err);
  CHECK(CountKind(check.json, "silent_corruption") == 0);
  CHECK(check.exit_code == 0);
  CHECK(out.Untouched());
}

TEST_CASE("check, scrub and fix never block on a FIFO planted where a synced file was",
          "[scrub][fix][e2e][security][issue-14]") {
  TempArray a(2, 1);
  a.Write(1, "Movies/a.mkv", 300000, 1);
  a.Write(2, "Movies/b.mkv", 100000, 2);
  Household home(a, 2);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  Household::Do("rm " + Q(a.File(1, "Movies/a.mkv")) + " && mkfifo " + Q(a.File(1, "Movies/a.mkv")));

  for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
           {"check"}, {"scrub", "--plan", "full"}, {"fix"}}) {
    CliResult r = RunBounded(a, cmd);
    INFO(cmd[0] << ": " << r.out << r.err);
    CHECK(r.exit_code != 137);  // not killed by the time limit
    CHECK(CountKind(r.json, "read_error") == 0);
    CHECK(CountKind(r.json, "silent_corruption") == 0);
  }
  // A changed file is the user's: fix left the FIFO where it is.
  struct stat st {};
  REQUIRE(lstat(a.File(1, "Movies/a.mkv").c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  // sync sees a FIFO, not a file: the film is deleted, and sync does not hang.
  CliResult sync = RunBounded(a, {"sync"});
  CHECK(sync.exit_code != 137);
}

TEST_CASE("sync: a file renamed over a synced one with the same size and mtime is rehashed, never called corrupt",
          "[sync][fix][e2e][security][issue-14]") {
  TempArray a(2, 1);
  a.Write(1, "Movies/a.mkv", 300000, 1);
  a.Write(2, "Movies/b.mkv", 100000, 2);
  Household home(a, 2);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  // Another file, same size and mtime, renamed over the synced one.
  const std::string other(300000, 'N');
  const fs::path swap = a.File(1, "Movies/.swap");
  Household::Do("head -c 300000 /dev/zero | tr \"\\000\" N > " + Q(swap) + " && touch -r " +
                Q(a.File(1, "Movies/a.mkv")) + " " + Q(swap) + " && mv " + Q(swap) + " " +
                Q(a.File(1, "Movies/a.mkv")));

  CliResult check = RunBounded(a, {"check"});
  INFO(check.out << check.err);
  CHECK(CountKind(check.json, "silent_corruption") == 0);
  CHECK(HasFinding(check.json, "modified", "Movies/a.mkv"));
  CliResult fix = RunBounded(a, {"fix"});
  INFO(fix.out << fix.err);
  CHECK(CountKind(fix.json, "repaired") == 0);
  CHECK(ReadFileBytes(a.File(1, "Movies/a.mkv")).size() == other.size());
  {
    std::ifstream in(a.File(1, "Movies/a.mkv"), std::ios::binary);
    std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(got == other);  // the new bytes, not the old file's
  }
  CliResult diff = RunBounded(a, {"diff"});
  CHECK(HasFinding(diff.json, "modified", "Movies/a.mkv"));
  CliResult sync = RunBounded(a, {"sync"});
  INFO(sync.out << sync.err);
  CHECK(sync.exit_code == 0);
  CliResult clean = RunBounded(a, {"check"});
  INFO(clean.out << clean.err);
  CHECK(clean.exit_code == 0);
  CHECK(clean.json["findings"].empty());
}

// mkdir -p and a file at a path longer than PATH_MAX, through descriptors.
struct LongPath {
  explicit LongPath(const fs::path& root) {
    int dir = open(root.c_str(), O_RDONLY | O_DIRECTORY);
    REQUIRE(dir >= 0);
    for (int i = 0; i < 24; ++i) {
      const std::string name = std::string(200, static_cast<char>('a' + i));
      rel += name + "/";
      REQUIRE((mkdirat(dir, name.c_str(), 0755) == 0 || errno == EEXIST));
      const int next = openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY);
      REQUIRE(next >= 0);
      close(dir);
      dir = next;
    }
    parent = dir;
    rel += "deep.bin";
  }
  ~LongPath() { close(parent); }
  void Write(const std::string& bytes) const {
    const int fd = openat(parent, "deep.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
    close(fd);
  }
  std::string Read() const {
    const int fd = openat(parent, "deep.bin", O_RDONLY);
    if (fd < 0) return "<missing>";
    std::string out(1 << 20, '\0');
    const ssize_t n = read(fd, out.data(), out.size());
    close(fd);
    out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
    return out;
  }
  void Remove() const { REQUIRE(unlinkat(parent, "deep.bin", 0) == 0); }
  int parent = -1;
  std::string rel;
};

TEST_CASE("sync: a path longer than PATH_MAX is protected and restored like any other",
          "[sync][fix][e2e][issue-14]") {
  TempArray a(2, 1);
  a.Write(2, "Movies/b.mkv", 100000, 2);
  LongPath deep(a.Disk(1));
  REQUIRE(deep.rel.size() > 4096);
  std::string bytes(150000, 'x');
  for (std::size_t i = 0; i < bytes.size(); i += 7) bytes[i] = static_cast<char>(i);
  deep.Write(bytes);

  CliResult sync = RunBounded(a, {"sync"});
  INFO(sync.out << sync.err);
  CHECK(sync.exit_code == 0);
  CHECK(CountKind(sync.json, "read_error") == 0);
  CliResult check = RunBounded(a, {"check"});
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
  CHECK(check.json["findings"].empty());

  deep.Remove();
  CliResult fix = RunBounded(a, {"fix"});
  INFO(fix.out << fix.err);
  CHECK(fix.exit_code == 0);
  CHECK(HasFinding(fix.json, "repaired", deep.rel));
  CHECK(deep.Read() == bytes);
}

}  // namespace
}  // namespace atlas::testing
