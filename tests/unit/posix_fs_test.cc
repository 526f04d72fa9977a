#include <algorithm>
#include <climits>
#include <span>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "atlas/env.h"
#include "atlas/status.h"

#include "support/test_util.h"

namespace atlas {
namespace {

namespace stdfs = std::filesystem;
using testing::RandomBytes;
using testing::TempDir;
using testing::WriteFile;

std::vector<std::string> WalkAll(const stdfs::path& root, const WalkOptions& options = {}) {
  std::vector<std::string> out;
  Status s = FileSystem::Default()->Walk(root, options, [&](const WalkEntry& e) {
    out.push_back(e.rel_path);
    return Status::Ok();
  });
  INFO(s.ToString());
  REQUIRE(s.ok());
  return out;
}

std::span<const std::byte> Bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

mode_t CurrentUmask() {
  const mode_t m = ::umask(0);
  ::umask(m);
  return m;
}

struct stat LStat(const stdfs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st;
}

// Makes this thread's file-system checks those of an unprivileged user, so
// that permission tests mean something when the suite runs as root: with
// fsuid != 0 the kernel drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH.
class AsUnprivileged {
 public:
  AsUnprivileged() {
    if (::geteuid() != 0)
      return;
    ::setfsuid(65534);
    ::setfsgid(65534);
    active_ = ::setfsuid(static_cast<uid_t>(-1)) == 65534;
  }
  ~AsUnprivileged() {
    if (::geteuid() != 0)
      return;
    ::setfsuid(0);
    ::setfsgid(0);
  }
  AsUnprivileged(const AsUnprivileged&) = delete;
  AsUnprivileged& operator=(const AsUnprivileged&) = delete;
  // False when running as root and the switch did not happen.
  bool ok() const { return ::geteuid() != 0 || active_; }

 private:
  bool active_ = false;
};

TEST_CASE("posix_fs: ReadAt fills the buffer and comes back short only at end of file",
          "[posix_fs][unit]") {
  TempDir dir;
  const std::vector<std::byte> data = RandomBytes(10000, 1);
  WriteFile(dir / "f", data);
  Result<std::unique_ptr<RandomAccessFile>> file = FileSystem::Default()->OpenForRead(dir / "f");
  REQUIRE_OK(file);
  CHECK((*file)->path() == dir / "f");

  std::vector<std::byte> buf(4096);
  Result<std::size_t> n = (*file)->ReadAt(0, buf);
  REQUIRE_OK(n);
  CHECK(*n == 4096);
  CHECK(std::equal(buf.begin(), buf.end(), data.begin()));

  n = (*file)->ReadAt(8192, buf);
  REQUIRE_OK(n);
  CHECK(*n == 10000 - 8192);
  CHECK(std::equal(buf.begin(), buf.begin() + static_cast<long>(*n), data.begin() + 8192));

  n = (*file)->ReadAt(10000, buf);
  REQUIRE_OK(n);
  CHECK(*n == 0);
  n = (*file)->ReadAt(1'000'000, buf);
  REQUIRE_OK(n);
  CHECK(*n == 0);
}

TEST_CASE("posix_fs: read errors name the syscall, path and offset and keep the errno",
          "[posix_fs][unit]") {
  TempDir dir;
  // A directory is refused at open, naming what it is (pread on it would
  // fail with EISDIR; nothing but a regular file is ever read).
  Result<std::unique_ptr<RandomAccessFile>> file = FileSystem::Default()->OpenForRead(dir.path());
  REQUIRE_FALSE(file.ok());
  CHECK(file.status().code() == Code::kFailedPrecondition);
  CHECK(file.status().ToString() ==
        "open " + dir.path().native() + ": a directory where a regular file was expected; not read");

  Result<std::unique_ptr<RandomAccessFile>> missing =
      FileSystem::Default()->OpenForRead(dir / "nope");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK(missing.status().ToString().find((dir / "nope").native()) != std::string::npos);
}

TEST_CASE("posix_fs: OpenForWrite modes, WriteAt, Truncate, Sync and Close", "[posix_fs][unit]") {
  TempDir dir;
  FileSystem* fs = FileSystem::Default();
  const stdfs::path p = dir / "w";

  Result<std::unique_ptr<WritableFile>> missing = fs->OpenForWrite(p, OpenMode::kExisting);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Code::kNotFound);

  Result<std::unique_ptr<WritableFile>> w = fs->OpenForWrite(p, OpenMode::kCreateExclusive, 0600);
  REQUIRE_OK(w);
  CHECK((LStat(p).st_mode & 0777) == (0600 & ~CurrentUmask()));
  REQUIRE_OK((*w)->WriteAt(0, Bytes("hello")));
  REQUIRE_OK((*w)->WriteAt(10, Bytes("world")));  // leaves a hole of zeros
  REQUIRE_OK((*w)->Sync());
  CHECK(stdfs::file_size(p) == 15);
  REQUIRE_OK((*w)->Truncate(7));
  CHECK(stdfs::file_size(p) == 7);
  REQUIRE_OK((*w)->Close());
  CHECK_FALSE((*w)->WriteAt(0, Bytes("x")).ok());
  CHECK_FALSE((*w)->Close().ok());

  Result<std::string> contents = fs->ReadFile(p);
  REQUIRE_OK(contents);
  CHECK(*contents == std::string("hello\0\0", 7));

  Result<std::unique_ptr<WritableFile>> again = fs->OpenForWrite(p, OpenMode::kCreateExclusive);
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == Code::kIOError);
  CHECK(again.status().sys_errno() == EEXIST);

  Result<std::unique_ptr<WritableFile>> keep = fs->OpenForWrite(p, OpenMode::kCreate);
  REQUIRE_OK(keep);
  REQUIRE_OK((*keep)->Close());
  CHECK(stdfs::file_size(p) == 7);  // kCreate keeps existing contents
}

TEST_CASE("posix_fs: Stat reports lstat fields with full-nanosecond mtime", "[posix_fs][unit]") {
  TempDir dir;
  FileSystem* fs = FileSystem::Default();
  WriteFile(dir / "f", std::string(1234, 'x'));
  struct timespec times[2] = {{0, UTIME_OMIT}, {1'600'000'000, 123'456'789}};
  REQUIRE(::utimensat(AT_FDCWD, (dir / "f").c_str(), times, 0) == 0);
  REQUIRE(::link((dir / "f").c_str(), (dir / "hard").c_str()) == 0);
  REQUIRE(::symlink("f", (dir / "sym").c_str()) == 0);

  Result<FileStat> st = fs->Stat(dir / "f");
  REQUIRE_OK(st);
  const struct stat raw = LStat(dir / "f");
  CHECK(st->type == FileType::kRegular);
  CHECK(st->size == 1234);
  CHECK(st->mtime_ns == 1'600'000'000'123'456'789LL);
  CHECK(st->inode == raw.st_ino);
  CHECK(st->dev == raw.st_dev);
  CHECK(st->mode == raw.st_mode);
  CHECK(st->uid == raw.st_uid);
  CHECK(st->gid == raw.st_gid);
  CHECK(st->nlink == 2);

  Result<FileStat> sym = fs->Stat(dir / "sym");
  REQUIRE_OK(sym);
  CHECK(sym->type == FileType::kSymlink);
  CHECK(sym->size == 1);  // the length of the target "f": not followed
  Result<FileStat> d = fs->Stat(dir.path());
  REQUIRE_OK(d);
  CHECK(d->type == FileType::kDirectory);
  CHECK(fs->Stat(dir / "nope").status().code() == Code::kNotFound);
}

TEST_CASE("posix_fs: Walk yields entries in strictly increasing byte order of rel_path",
          "[posix_fs][unit]") {
  TempDir dir;
  // "a" is a directory, so its children sort as "a/...": after "a.txt"
  // ('.' < '/') and before "a0" ('/' < '0').
  const std::vector<std::string> files = {
      "a/x",         "a/y/z",       "a.txt",
      "a b",         "a-b",         "a0",
      "b",           "Zebra",       "\xc3\xa9t\xc3\xa9",  // "été" in UTF-8
      "line\nbreak", "bad\xff\xfe", "d/e/f/g",
      "d/e.txt",     "~tilde",
  };
  for (const std::string& f : files) WriteFile(dir / f, f);
  stdfs::create_directories(dir / "empty/deeper");  // directories are not entries

  const std::vector<std::string> got = WalkAll(dir.path());
  std::vector<std::string> want = files;
  std::sort(want.begin(), want.end());
  CHECK(got == want);
  for (std::size_t i = 1; i < got.size(); ++i) {
    INFO(i);
    CHECK(got[i - 1] < got[i]);
  }
  // Spot-check the directory rule and the unsigned byte order.
  CHECK(std::find(got.begin(), got.end(), "a.txt") < std::find(got.begin(), got.end(), "a/x"));
  CHECK(std::find(got.begin(), got.end(), "a/y/z") < std::find(got.begin(), got.end(), "a0"));
  CHECK(got.back() == "\xc3\xa9t\xc3\xa9");  // 0xc3 > '~': bytes compare unsigned
  CHECK(got[got.size() - 2] == "~tilde");
}

TEST_CASE("posix_fs: Walk reports stats, symlinks unfollowed, and nothing for directories",
          "[posix_fs][unit]") {
  TempDir dir;
  WriteFile(dir / "real/file", std::string(77, 'q'));
  REQUIRE(::symlink("real", (dir / "link-to-dir").c_str()) == 0);
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  std::vector<WalkEntry> entries;
  REQUIRE_OK(FileSystem::Default()->Walk(dir.path(), {}, [&](const WalkEntry& e) {
    entries.push_back(e);
    return Status::Ok();
  }));
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].rel_path == "fifo");
  CHECK(entries[0].stat.type == FileType::kOther);
  CHECK(entries[1].rel_path == "link-to-dir");
  CHECK(entries[1].stat.type == FileType::kSymlink);
  CHECK(entries[2].rel_path == "real/file");
  CHECK(entries[2].stat.type == FileType::kRegular);
  CHECK(entries[2].stat.size == 77);
  CHECK(entries[2].stat.inode == LStat(dir / "real/file").st_ino);
}

TEST_CASE("posix_fs: Walk exclude skips files and whole directories", "[posix_fs][unit]") {
  TempDir dir;
  for (const char* f : {"keep/a", "skip/a", "skip/deep/b", "x.tmp", "y"}) WriteFile(dir / f, "1");
  std::vector<std::pair<std::string, bool>> asked;
  WalkOptions options;
  options.exclude = [&](std::string_view rel, bool is_dir) {
    asked.emplace_back(std::string(rel), is_dir);
    return rel == "skip" || rel.ends_with(".tmp");
  };
  CHECK(WalkAll(dir.path(), options) == std::vector<std::string>{"keep/a", "y"});
  // Directories are offered without a trailing slash, and nothing under an
  // excluded directory is offered at all.
  const std::vector<std::pair<std::string, bool>> want = {
      {"keep", true}, {"keep/a", false}, {"skip", true}, {"x.tmp", false}, {"y", false}};
  CHECK(asked == want);
}

TEST_CASE("posix_fs: a callback error stops Walk and is returned unchanged", "[posix_fs][unit]") {
  TempDir dir;
  for (const char* f : {"a", "b/c", "d"}) WriteFile(dir / f, "1");
  int calls = 0;
  Status s = FileSystem::Default()->Walk(dir.path(), {}, [&](const WalkEntry& e) {
    ++calls;
    return e.rel_path == "b/c" ? Status::Cancelled("stop here") : Status::Ok();
  });
  CHECK(s.code() == Code::kCancelled);
  CHECK(s.ToString() == "stop here");
  CHECK(calls == 2);

  Status missing =
      FileSystem::Default()->Walk(dir / "nope", {}, [](const WalkEntry&) { return Status::Ok(); });
  CHECK(missing.code() == Code::kNotFound);
  CHECK(missing.ToString().find("opendir " + (dir / "nope").native()) == 0);
}

TEST_CASE("posix_fs: an unreadable directory goes to on_error, or ends the walk without it",
          "[posix_fs][unit]") {
  TempDir dir;
  for (const char* f : {"a", "locked/secret", "z"}) WriteFile(dir / f, "1");
  // The unprivileged identity must be able to reach the tree.
  stdfs::permissions(dir.path(), stdfs::perms::owner_all | stdfs::perms::group_read |
                                     stdfs::perms::group_exec | stdfs::perms::others_read |
                                     stdfs::perms::others_exec);
  REQUIRE(::chmod((dir / "locked").c_str(), 0) == 0);

  AsUnprivileged guard;
  if (!guard.ok()) {
    WARN("cannot drop file-system privileges as root; unreadable-directory check not run");
    return;
  }
  if (::access(dir.path().c_str(), R_OK | X_OK) != 0) {
    WARN("temp dir not reachable as an unprivileged user; check not run");
    return;
  }

  std::vector<std::string> reported;
  WalkOptions options;
  options.on_error = [&](std::string_view rel, const Status& error) {
    reported.emplace_back(rel);
    CHECK(error.sys_errno() == EACCES);
    return Status::Ok();
  };
  CHECK(WalkAll(dir.path(), options) == std::vector<std::string>{"a", "z"});
  CHECK(reported == std::vector<std::string>{"locked"});

  std::vector<std::string> seen;
  Status fatal = FileSystem::Default()->Walk(dir.path(), {}, [&](const WalkEntry& e) {
    seen.push_back(e.rel_path);
    return Status::Ok();
  });
  CHECK(fatal.code() == Code::kIOError);
  CHECK(fatal.sys_errno() == EACCES);
  CHECK(fatal.ToString().find("opendir " + (dir / "locked").native()) == 0);
  CHECK(seen == std::vector<std::string>{"a"});

  options.on_error = [](std::string_view, const Status& error) {
    return error.WithContext("walk d1");
  };
  Status stopped = FileSystem::Default()->Walk(dir.path(), options,
                                               [](const WalkEntry&) { return Status::Ok(); });
  CHECK(stopped.ToString().find("walk d1: opendir ") == 0);
}

TEST_CASE("posix_fs: Walk goes deep without running out of descriptors", "[posix_fs][unit]") {
  TempDir dir;
  std::string rel;
  for (int i = 0; i < 300; ++i) rel += "d/";
  WriteFile(dir / (rel + "leaf"), "x");
  CHECK(WalkAll(dir.path()) == std::vector<std::string>{rel + "leaf"});
}

TEST_CASE("posix_fs: WriteFileAtomic replaces, and exclusive refuses an existing file",
          "[posix_fs][unit]") {
  TempDir dir;
  FileSystem* fs = FileSystem::Default();
  const stdfs::path p = dir / "config.toml";
  REQUIRE_OK(WriteFileAtomic(fs, p, "one", 0640, /*exclusive=*/true));
  CHECK(*fs->ReadFile(p) == "one");
  REQUIRE_OK(WriteFileAtomic(fs, p, "two"));
  CHECK(*fs->ReadFile(p) == "two");

  Status s = WriteFileAtomic(fs, p, "three", 0644, /*exclusive=*/true);
  CHECK(s.code() == Code::kFailedPrecondition);
  CHECK(s.ToString() == p.native() + " already exists");
  CHECK(*fs->ReadFile(p) == "two");
  // No temporary file is left behind either way.
  CHECK(WalkAll(dir.path()) == std::vector<std::string>{"config.toml"});

  Status no_dir = WriteFileAtomic(fs, dir / "missing/x", "y");
  CHECK(no_dir.code() == Code::kNotFound);
}

TEST_CASE("posix_fs: WriteFileAtomic's exact mode beats the umask, and the temporary can be hidden",
          "[posix_fs][unit]") {
  // Records the temporary names WriteFileAtomic creates.
  class Recording : public FileSystemWrapper {
   public:
    Recording() : FileSystemWrapper(FileSystem::Default()) {}
    Result<std::unique_ptr<WritableFile>> OpenForWrite(const stdfs::path& p, OpenMode om,
                                                       std::uint32_t mode) override {
      opened.push_back(p);
      return FileSystemWrapper::OpenForWrite(p, om, mode);
    }
    std::vector<stdfs::path> opened;
  };
  TempDir dir;
  Recording fs;
  const stdfs::path p = dir / "atlas_scrub.prom";
  const mode_t old_umask = ::umask(077);
  Status plain = WriteFileAtomic(&fs, dir / "plain", "x", 0644);
  AtomicWriteOptions options;
  options.mode = 0644;
  options.exact_mode = true;
  options.hidden_temp = true;
  Status exact = WriteFileAtomic(&fs, p, "metric 1\n", options);
  ::umask(old_umask);
  REQUIRE_OK(plain);
  REQUIRE_OK(exact);

  struct stat st {};
  REQUIRE(::stat((dir / "plain").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  REQUIRE(::stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0644);
  CHECK(*fs.ReadFile(p) == "metric 1\n");
  const std::string pid = std::to_string(::getpid());
  CHECK(fs.opened == std::vector<stdfs::path>{dir / ("plain.tmp." + pid),
                                              dir / (".atlas_scrub.prom." + pid + ".tmp")});
  CHECK(WalkAll(dir.path()) == std::vector<std::string>{"atlas_scrub.prom", "plain"});
}

TEST_CASE("posix_fs: RenameNoReplace refuses to replace with EEXIST", "[posix_fs][unit]") {
  TempDir dir;
  FileSystem* fs = FileSystem::Default();
  WriteFile(dir / "a", "a");
  WriteFile(dir / "b", "b");
  Status s = fs->RenameNoReplace(dir / "a", dir / "b");
  CHECK(s.sys_errno() == EEXIST);
  CHECK(*fs->ReadFile(dir / "b") == "b");
  REQUIRE_OK(fs->RenameNoReplace(dir / "a", dir / "c"));
  CHECK(*fs->ReadFile(dir / "c") == "a");
  REQUIRE_OK(fs->Rename(dir / "c", dir / "b"));
  CHECK(*fs->ReadFile(dir / "b") == "a");
  CHECK(fs->Rename(dir / "nope", dir / "b").code() == Code::kNotFound);
}

TEST_CASE("posix_fs: SetAttributes restores mode, owner and mtime to the nanosecond",
          "[posix_fs][unit]") {
  TempDir dir;
  FileSystem* fs = FileSystem::Default();
  Result<std::unique_ptr<WritableFile>> f = fs->CreateUnder(dir.path(), "f", 0600);
  REQUIRE_OK(f.status());
  REQUIRE_OK((*f)->WriteAt(0, Bytes("data")));
  FileStat want = *fs->Stat(dir / "f");
  want.mode = (want.mode & ~07777u) | 0640;
  want.mtime_ns = 1'234'567'890'987'654'321LL;
  REQUIRE_OK((*f)->SetAttributes(want));
  FileStat got = *fs->Stat(dir / "f");
  CHECK((got.mode & 07777) == 0640);
  CHECK(got.mtime_ns == want.mtime_ns);
  CHECK(got.uid == want.uid);
  CHECK(got.gid == want.gid);

  // Before 1970: negative nanoseconds must not wrap.
  want.mtime_ns = -1'500'000'000LL;
  REQUIRE_OK((*f)->SetAttributes(want));
  CHECK(fs->Stat(dir / "f")->mtime_ns == -1'500'000'000LL);

  // On the descriptor: renamed away and replaced by a symlink, the name is
  // not what changes.
  WriteFile(dir / "victim", "v");
  ::chmod((dir / "victim").c_str(), 0600);
  REQUIRE(::rename((dir / "f").c_str(), (dir / "g").c_str()) == 0);
  REQUIRE(::symlink("victim", (dir / "f").c_str()) == 0);
  want.mode = (want.mode & ~07777u) | 0604;
  REQUIRE_OK((*f)->SetAttributes(want));
  CHECK((fs->Stat(dir / "g")->mode & 07777) == 0604);
  CHECK((fs->Stat(dir / "victim")->mode & 07777) == 0600);
  REQUIRE_OK((*f)->Close());
}

TEST_CASE("posix_fs: the Under calls never follow a symlink at any component",
          "[posix_fs][unit][security][issue-14]") {
  TempDir dir, elsewhere;
  FileSystem* fs = FileSystem::Default();
  const stdfs::path root = dir / "disk";
  ::mkdir(root.c_str(), 0755);
  ::mkdir((root / "Movies").c_str(), 0755);
  WriteFile(root / "Movies" / "a.mkv", "film");
  WriteFile(elsewhere / "secret", "root only");
  REQUIRE(::symlink(elsewhere.path().c_str(), (root / "Shows").c_str()) == 0);
  REQUIRE(::symlink((elsewhere / "secret").c_str(), (root / "Movies" / "link.mkv").c_str()) == 0);

  // Reads: a plain file opens; a symlink as the last or a middle component
  // is refused as such, never followed.
  Result<std::unique_ptr<RandomAccessFile>> ok = fs->OpenUnder(root, "Movies/a.mkv");
  REQUIRE_OK(ok.status());
  CHECK((*ok)->Stat()->size == 4);
  CHECK(fs->OpenUnder(root, "Movies/link.mkv").status().code() == Code::kFailedPrecondition);
  CHECK(fs->OpenUnder(root, "Shows/secret").status().code() == Code::kFailedPrecondition);
  CHECK(fs->OpenUnder(root, "Movies/../../x").status().code() == Code::kFailedPrecondition);
  CHECK(fs->OpenUnder(root, "Movies/nope").status().code() == Code::kNotFound);
  CHECK(fs->StatUnder(root, "Shows/secret").status().code() == Code::kFailedPrecondition);
  CHECK(fs->StatUnder(root, "Movies/link.mkv")->type == FileType::kSymlink);

  // Writes: nothing is created, renamed or removed through the symlink.
  CHECK(fs->CreateDirsUnder(root, "Shows/new").code() == Code::kFailedPrecondition);
  CHECK(fs->CreateUnder(root, "Shows/planted", 0600).status().code() == Code::kFailedPrecondition);
  CHECK(fs->CreateUnder(root, "Movies/link.mkv", 0600).status().sys_errno() == EEXIST);
  CHECK(fs->RemoveUnder(root, "Shows/secret").code() == Code::kFailedPrecondition);
  CHECK(fs->RenameUnder(root, "Movies/a.mkv", "Shows/a.mkv", true).code() == Code::kFailedPrecondition);
  CHECK(fs->SyncDirUnder(root, "Shows").code() == Code::kFailedPrecondition);
  CHECK(*fs->ReadFile(elsewhere / "secret") == "root only");
  std::vector<std::string> there = WalkAll(elsewhere.path());
  CHECK(there == std::vector<std::string>{"secret"});

  // The same calls do their work on real directories.
  REQUIRE_OK(fs->CreateDirsUnder(root, "TV/s01"));
  Result<std::unique_ptr<WritableFile>> w = fs->CreateUnder(root, "TV/s01/.t", 0600);
  REQUIRE_OK(w.status());
  REQUIRE_OK((*w)->WriteAt(0, Bytes("ep")));
  REQUIRE_OK((*w)->Close());
  REQUIRE_OK(fs->RenameUnder(root, "TV/s01/.t", "TV/s01/e1.mkv", false));
  // Never over a name that exists, without `replace`; over it, with.
  WriteFile(root / "TV" / "s01" / ".u", "new");
  CHECK(fs->RenameUnder(root, "TV/s01/.u", "TV/s01/e1.mkv", false).sys_errno() == EEXIST);
  CHECK(*fs->ReadFile(root / "TV" / "s01" / "e1.mkv") == "ep");
  REQUIRE_OK(fs->RenameUnder(root, "TV/s01/.u", "TV/s01/e1.mkv", true));
  CHECK(*fs->ReadFile(root / "TV" / "s01" / "e1.mkv") == "new");
  REQUIRE_OK(fs->SyncDirUnder(root, "TV/s01"));
  REQUIRE_OK(fs->SyncDirUnder(root, ""));
  CHECK(*fs->ReadFile(root / "TV" / "s01" / "e1.mkv") == "new");
  REQUIRE_OK(fs->RemoveUnder(root, "TV/s01/e1.mkv"));
  CHECK(fs->StatUnder(root, "TV/s01/e1.mkv").status().code() == Code::kNotFound);
}

TEST_CASE("posix_fs: a FIFO, a directory or a device is refused for reading without blocking",
          "[posix_fs][unit][security][issue-14]") {
  TempDir dir;
  FileSystem* fs = FileSystem::Default();
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0666) == 0);
  ::mkdir((dir / "d").c_str(), 0755);
  // No writer holds the FIFO open: a blocking open would never return.
  CHECK(fs->OpenUnder(dir.path(), "fifo").status().code() == Code::kFailedPrecondition);
  CHECK(fs->OpenForRead(dir / "fifo").status().code() == Code::kFailedPrecondition);
  CHECK(fs->ReadFile(dir / "fifo").status().code() == Code::kFailedPrecondition);
  CHECK(fs->OpenUnder(dir.path(), "d").status().code() == Code::kFailedPrecondition);
  CHECK(fs->OpenForRead("/dev/null").status().code() == Code::kFailedPrecondition);
  CHECK(fs->ReadFile("/dev/zero").status().code() == Code::kFailedPrecondition);
  // A regular file over the cap is refused before it is read.
  WriteFile(dir / "big", std::string(5000, 'b'));
  Result<std::string> capped = fs->ReadFile(dir / "big", 4096);
  CHECK(capped.status().code() == Code::kInvalidArgument);
  CHECK(capped.status().ToString().find("5000 bytes") != std::string::npos);
  CHECK(fs->ReadFile(dir / "big", 5000)->size() == 5000);
}

TEST_CASE("posix_fs: the Under calls reach paths longer than PATH_MAX", "[posix_fs][unit][issue-14]") {
  TempDir dir;
  FileSystem* fs = FileSystem::Default();
  std::string rel;
  for (int i = 0; i < 22; ++i) {
    if (!rel.empty()) rel += '/';
    rel += std::string(250, static_cast<char>('a' + i));
  }
  REQUIRE(rel.size() > PATH_MAX);
  REQUIRE_OK(fs->CreateDirsUnder(dir.path(), rel));
  const std::string file = rel + "/f";
  Result<std::unique_ptr<WritableFile>> w = fs->CreateUnder(dir.path(), file, 0644);
  REQUIRE_OK(w.status());
  REQUIRE_OK((*w)->WriteAt(0, Bytes("deep")));
  REQUIRE_OK((*w)->Close());
  Result<std::unique_ptr<RandomAccessFile>> r = fs->OpenUnder(dir.path(), file);
  REQUIRE_OK(r.status());
  std::string buf(4, '\0');
  CHECK(*(*r)->ReadAt(0, std::as_writable_bytes(std::span(buf))) == 4);
  CHECK(buf == "deep");
  CHECK(fs->StatUnder(dir.path(), file)->size == 4);
  REQUIRE_OK(fs->RenameUnder(dir.path(), file, rel + "/g", true));
  REQUIRE_OK(fs->RemoveUnder(dir.path(), rel + "/g"));
  // The walk reaches it too (through descriptors), as sync's scan does.
  bool seen = false;
  REQUIRE_OK(fs->Walk(dir.path(), {}, [&](const WalkEntry&) {
    seen = true;
    return Status::Ok();
  }));
  CHECK(!seen);
}

TEST_CASE("posix_fs: CreateDirs, Remove, SyncDir and ReadFile", "[posix_fs][unit]") {
  TempDir dir;
  FileSystem* fs = FileSystem::Default();
  REQUIRE_OK(fs->CreateDirs(dir / "a/b/c/"));
  CHECK(stdfs::is_directory(dir / "a/b/c"));
  CHECK((LStat(dir / "a/b").st_mode & 07777) == (0755 & ~CurrentUmask()));
  REQUIRE_OK(fs->CreateDirs(dir / "a/b/c"));  // idempotent
  WriteFile(dir / "file", "x");
  CHECK_FALSE(fs->CreateDirs(dir / "file").ok());
  CHECK_FALSE(fs->CreateDirs(dir / "file/sub").ok());

  REQUIRE_OK(fs->SyncDir(dir / "a"));
  CHECK(fs->SyncDir(dir / "nope").code() == Code::kNotFound);

  REQUIRE_OK(fs->Remove(dir / "file"));
  CHECK(fs->Remove(dir / "file").code() == Code::kNotFound);
  Status not_empty = fs->Remove(dir / "a/b");
  CHECK(not_empty.sys_errno() == ENOTEMPTY);
  REQUIRE_OK(fs->Remove(dir / "a/b/c"));
  CHECK_FALSE(stdfs::exists(dir / "a/b/c"));

  CHECK(fs->ReadFile(dir / "nope").status().code() == Code::kNotFound);
  // /proc files report size 0: ReadFile must read to EOF, not to st_size.
  Result<std::string> mounts = fs->ReadFile("/proc/self/mountinfo");
  REQUIRE_OK(mounts);
  CHECK(mounts->find(" - ") != std::string::npos);
  const std::vector<std::byte> big = RandomBytes(300'000, 9);
  WriteFile(dir / "big", big);
  Result<std::string> got = fs->ReadFile(dir / "big");
  REQUIRE_OK(got);
  REQUIRE(got->size() == big.size());
  CHECK(std::memcmp(got->data(), big.data(), big.size()) == 0);
}

TEST_CASE("posix_fs: directories are reported before their contents with report_dirs", "[posix_fs][unit][issue-17]") {
  TempDir dir;
  WriteFile(dir.path() / "d-x", "1");
  stdfs::create_directories(dir.path() / "d" / "e");
  WriteFile(dir.path() / "d" / "f", "2");
  WalkOptions o;
  o.report_dirs = true;
  // Byte order with a directory "d" where "d/" sorts: after "d-x".
  CHECK(WalkAll(dir.path(), o) == std::vector<std::string>{"d-x", "d", "d/e", "d/f"});
  CHECK(WalkAll(dir.path()) == std::vector<std::string>{"d-x", "d/f"});
}

TEST_CASE("posix_fs: xattrs, symlink targets and holes are read without following or opening",
          "[posix_fs][unit][issue-17]") {
  TempDir dir;
  FileSystem* fs = FileSystem::Default();
  WriteFile(dir.path() / "f", "data");
  const std::string value("\x01\x00\x02", 3);
  const bool xattrs = ::setxattr((dir.path() / "f").c_str(), "user.DOSATTRIB", value.data(), value.size(), 0) == 0;
  if (xattrs) {
    REQUIRE(::setxattr((dir.path() / "f").c_str(), "user.a", "1", 1, 0) == 0);
    Result<std::vector<Xattr>> got = fs->ListXattrsUnder(dir.path(), "f");
    REQUIRE_OK(got);
    // Sorted by name, binary values intact; whatever the system adds
    // (security.selinux) aside.
    std::vector<Xattr> user;
    for (const Xattr& x : *got) {
      if (x.name.starts_with("user.")) user.push_back(x);
    }
    CHECK(user == std::vector<Xattr>{{"user.DOSATTRIB", value}, {"user.a", "1"}});
  } else {
    WARN("user xattrs unsupported here: " << std::strerror(errno));
  }
  REQUIRE(::symlink("../../etc/passwd", (dir.path() / "l").c_str()) == 0);
  Result<std::string> target = fs->ReadLinkUnder(dir.path(), "l");
  REQUIRE_OK(target);
  CHECK(*target == "../../etc/passwd");
  // A symlink has no readable xattrs without following it: empty.
  Result<std::vector<Xattr>> of_link = fs->ListXattrsUnder(dir.path(), "l");
  REQUIRE_OK(of_link);
  CHECK(of_link->empty());
  // A FIFO is never opened: its xattrs are empty, and this returns.
  REQUIRE(::mkfifo((dir.path() / "p").c_str(), 0644) == 0);
  REQUIRE_OK(fs->ListXattrsUnder(dir.path(), "p"));

  // A 64 MiB file with data at 0 and at 32 MiB.
  {
    const int fd = ::open((dir.path() / "sparse").c_str(), O_CREAT | O_WRONLY, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, "x", 1, 0) == 1);
    REQUIRE(::pwrite(fd, "y", 1, 32 << 20) == 1);
    REQUIRE(::ftruncate(fd, 64 << 20) == 0);
    ::close(fd);
  }
  Result<std::vector<ByteRange>> holes = fs->HolesUnder(dir.path(), "sparse");
  REQUIRE_OK(holes);
  if (holes->empty()) {
    WARN("this file system reports no holes");
  } else {
    REQUIRE(holes->size() == 2);
    CHECK((*holes)[0].offset > 0);
    CHECK((*holes)[0].offset + (*holes)[0].length <= (32u << 20));
    CHECK((*holes)[1].offset + (*holes)[1].length == (64u << 20));
    Result<std::unique_ptr<RandomAccessFile>> f = fs->OpenUnder(dir.path(), "sparse");
    REQUIRE_OK(f);
    Result<std::uint64_t> next = (*f)->NextDataOffset((*holes)[0].offset);
    REQUIRE_OK(next);
    CHECK(*next == (*holes)[0].offset + (*holes)[0].length);
    next = (*f)->NextDataOffset((*holes)[1].offset);
    REQUIRE_OK(next);
    CHECK(*next == (64u << 20));
  }
  Result<std::vector<ByteRange>> none = fs->HolesUnder(dir.path(), "f");
  REQUIRE_OK(none);
  CHECK(none->empty());
}

TEST_CASE("posix_fs: symlinks, nodes, links and metadata are made beneath the root, on what was made",
          "[posix_fs][unit][issue-17]") {
  TempDir dir;
  FileSystem* fs = FileSystem::Default();
  REQUIRE_OK(fs->CreateSymlinkUnder(dir.path(), "l", "target/that/dangles"));
  CHECK(fs->CreateSymlinkUnder(dir.path(), "l", "x").sys_errno() == EEXIST);
  EntryMetadata meta;
  meta.uid = ::geteuid();
  meta.gid = ::getegid();
  meta.mtime_ns = 1'500'000'000'123'456'789;
  REQUIRE_OK(fs->SetMetadataUnder(dir.path(), "l", FileType::kSymlink, 0, meta));
  struct stat st = LStat(dir.path() / "l");
  CHECK(S_ISLNK(st.st_mode));
  CHECK(st.st_mtim.tv_sec == 1'500'000'000);
  CHECK(st.st_mtim.tv_nsec == 123'456'789);

  REQUIRE_OK(fs->CreateNodeUnder(dir.path(), "p", S_IFIFO | 0640, 0));
  meta.mode = 0640;
  REQUIRE_OK(fs->SetMetadataUnder(dir.path(), "p", FileType::kOther, 0, meta));
  st = LStat(dir.path() / "p");
  CHECK(S_ISFIFO(st.st_mode));
  CHECK((st.st_mode & 07777) == 0640);

  stdfs::create_directories(dir.path() / "d");
  meta.mode = 02770;
  std::vector<Xattr> none;
  meta.xattrs = &none;
  REQUIRE_OK(fs->SetMetadataUnder(dir.path(), "d", FileType::kDirectory, 0, meta));
  CHECK((LStat(dir.path() / "d").st_mode & 07777) == 02770);
  // The name holds something else than asked (a symlink where the
  // directory was): refused, nothing changed through it.
  stdfs::remove(dir.path() / "d");
  REQUIRE(::symlink("/etc", (dir.path() / "d").c_str()) == 0);
  const struct stat etc_before = LStat("/etc");
  Status refused = fs->SetMetadataUnder(dir.path(), "d", FileType::kDirectory, 0, meta);
  CHECK(refused.code() == Code::kFailedPrecondition);
  CHECK(LStat("/etc").st_mode == etc_before.st_mode);
  CHECK(LStat("/etc").st_mtim.tv_sec == etc_before.st_mtim.tv_sec);

  WriteFile(dir.path() / "f", "content");
  const std::uint64_t inode = LStat(dir.path() / "f").st_ino;
  // Another inode than the one expected: not linked.
  CHECK(fs->LinkUnder(dir.path(), "f", "g", inode + 1).code() == Code::kFailedPrecondition);
  CHECK_FALSE(stdfs::exists(dir.path() / "g"));
  REQUIRE_OK(fs->LinkUnder(dir.path(), "f", "g", inode));
  CHECK(LStat(dir.path() / "g").st_ino == inode);
  CHECK(LStat(dir.path() / "f").st_nlink == 2);
  // Never over an existing name, never from a symlink.
  CHECK(fs->LinkUnder(dir.path(), "f", "g", inode).sys_errno() == EEXIST);
  CHECK(fs->LinkUnder(dir.path(), "l", "h", 0).code() == Code::kFailedPrecondition);
}

TEST_CASE("clock: wall time is plausible and monotonic time does not go back", "[posix_fs][unit]") {
  Clock* clock = Clock::Default();
  CHECK(clock->NowUnixNanos() > 1'600'000'000LL * 1'000'000'000LL);
  const std::int64_t t0 = clock->MonotonicNanos();
  clock->SleepFor(std::chrono::milliseconds(2));
  CHECK(clock->MonotonicNanos() - t0 >= 2'000'000);
}

}  // namespace
}  // namespace atlas
