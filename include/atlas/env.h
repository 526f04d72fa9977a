// The I/O seam. Every access atlas makes to data disks, parity files and the
// config goes through a FileSystem, so tests can wrap the real one and make
// chosen operations fail (EIO, ENOSPC), come back short, or return flipped
// bits (tests/support/fault_fs.h). Time is split out into Clock.
//
// Keep this interface small: throttling, statistics and retries live above it
// (io/block_reader), not in implementations.
//
// Thread-safety: FileSystem and RandomAccessFile methods may be called from
// several threads at once. A WritableFile is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "atlas/status.h"

namespace atlas {

enum class FileType : std::uint8_t { kRegular, kDirectory, kSymlink, kOther };

// What lstat(2) says about one path. mtime in nanoseconds since the epoch.
struct FileStat {
  FileType type = FileType::kOther;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t inode = 0;
  std::uint64_t dev = 0;
  std::uint32_t mode = 0;  // permission bits and file type bits, as st_mode
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint64_t nlink = 0;
  std::int64_t ctime_ns = 0;  // status change: any metadata (xattrs too) or link count
  std::uint64_t blocks = 0;   // allocated 512-byte units (st_blocks): below size/512 = sparse
  std::uint64_t rdev = 0;     // device nodes: the device number
};

// One extended attribute: its full name ("user.DOSATTRIB",
// "system.posix_acl_access") and raw value bytes.
struct Xattr {
  std::string name;
  std::string value;
  friend bool operator==(const Xattr&, const Xattr&) = default;
};

// A byte range of a file: a hole of a sparse file.
struct ByteRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

// What fix gives back to a directory, symlink or special file it restores
// (SetMetadataUnder).
struct EntryMetadata {
  std::uint32_t mode = 0;  // permission bits (07777); ignored for a symlink
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::int64_t mtime_ns = 0;
  const std::vector<Xattr>* xattrs = nullptr;  // set as they are; null: left alone
};

// One entry produced by FileSystem::Walk.
struct WalkEntry {
  // Path relative to the walk root, '/'-separated, no leading '/'. Raw bytes
  // from the file system: it may hold any byte but '/' and NUL, including
  // newlines and invalid UTF-8.
  std::string rel_path;
  FileStat stat;
};

struct WalkOptions {
  // Called for every directory and file before it is visited (is_dir tells
  // which). Returning true skips it (and, for a directory, everything under
  // it). May be empty.
  std::function<bool(std::string_view rel_path, bool is_dir)> exclude;
  // Called when a directory cannot be read. If empty, the walk stops and
  // returns that error; otherwise the walk skips the directory and goes on
  // when the callback returns OK, or stops with the Status it returns.
  std::function<Status(std::string_view rel_path, const Status& error)> on_error;
  // Skip directories on another device than the root (nested mounts).
  bool same_device = true;
  // Report each directory too (its WalkEntry has type kDirectory), right
  // before its contents; the root itself is not reported.
  bool report_dirs = false;
};

// Called for each non-directory entry; a non-OK return stops the walk and is
// returned from Walk.
// With WalkOptions::report_dirs, directories too, in the same order
// (a directory "d" comes where "d/" sorts, right before its contents).
using WalkFn = std::function<Status(const WalkEntry&)>;

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to buf.size() bytes at `offset` into buf. Returns the number of
  // bytes read: fewer than buf.size() only at end of file (an implementation
  // that returns short elsewhere is a fault the caller must survive). Errors
  // carry the errno, path and offset. Safe to call concurrently.
  virtual Result<std::size_t> ReadAt(std::uint64_t offset, std::span<std::byte> buf) const = 0;
  // The path this file was opened with.
  virtual const std::filesystem::path& path() const = 0;
  // fstat(2) of the open descriptor: what was (and is being) read, whatever
  // the path names by now.
  virtual Result<FileStat> Stat() const = 0;
  // The first offset at or after `offset` that holds data (lseek
  // SEEK_DATA), the file size when only a hole follows: a range before it
  // is a hole, zeros that need no reading. The default says "data here".
  virtual Result<std::uint64_t> NextDataOffset(std::uint64_t offset) const { return offset; }
};

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes all of `data` at `offset` (retrying short writes). kNoSpace on ENOSPC.
  virtual Status WriteAt(std::uint64_t offset, std::span<const std::byte> data) = 0;
  // Sets the file size (grows with a hole, or shrinks).
  virtual Status Truncate(std::uint64_t size) = 0;
  // fdatasync(2): the data written so far is durable when this returns OK.
  virtual Status Sync() = 0;
  // Closes the descriptor; further calls fail. Reports close(2) errors.
  virtual Status Close() = 0;
  // Sets owner, permission bits (07777) and mtime (ns) of the open file:
  // fchown, fchmod, futimens on the descriptor, never through a name (fix
  // restores them). Owner first: fchown clears set-user-ID bits.
  virtual Status SetAttributes(const FileStat& attrs) = 0;
  // Sets the permission bits (07777) of the open file to exactly `mode`,
  // whatever the umask took from them at creation (fchmod on the
  // descriptor).
  virtual Status SetMode(std::uint32_t mode) = 0;
  // Sets every extended attribute of `xattrs` on the open file
  // (fsetxattr). The default refuses anything but an empty list.
  virtual Status SetXattrs(const std::vector<Xattr>& xattrs);
  virtual const std::filesystem::path& path() const = 0;
};

enum class OpenMode : std::uint8_t {
  kExisting,        // O_RDWR, the file must exist
  kCreate,          // O_RDWR|O_CREAT, keep existing contents
  kCreateExclusive  // O_RDWR|O_CREAT|O_EXCL, fails with kIOError (EEXIST) if present
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The POSIX implementation. Never null; lives for the whole process.
  static FileSystem* Default();

  // Opens a regular file for reading. A FIFO, socket, device node or
  // directory is refused (kFailedPrecondition) without blocking: the open
  // uses O_NONBLOCK and the descriptor is fstat'ed before it is returned.
  virtual Result<std::unique_ptr<RandomAccessFile>> OpenForRead(
      const std::filesystem::path& path) = 0;
  // Opens for writing with permission bits `mode` for a new file.
  virtual Result<std::unique_ptr<WritableFile>> OpenForWrite(const std::filesystem::path& path,
                                                             OpenMode open_mode,
                                                             std::uint32_t mode = 0644) = 0;
  // lstat(2): symlinks are reported as kSymlink, not followed.
  virtual Result<FileStat> Stat(const std::filesystem::path& path) = 0;
  // Streams every non-directory entry under `root`. Order contract: entries
  // come in strictly increasing byte order of rel_path (within a directory,
  // a subdirectory "d" sorts as "d/"), so a walk can be merge-joined with a
  // sorted key range. Symlinks are reported, not followed.
  virtual Status Walk(const std::filesystem::path& root, const WalkOptions& options,
                      const WalkFn& fn) = 0;
  // Reads a whole small file (config, index): a regular file only (a FIFO
  // or device is refused without blocking), at most `max_bytes` (larger is
  // kInvalidArgument naming the size). kNotFound when absent.
  static constexpr std::uint64_t kDefaultReadFileMax = 64ull << 20;
  virtual Result<std::string> ReadFile(const std::filesystem::path& path,
                                       std::uint64_t max_bytes = kDefaultReadFileMax) = 0;
  // mkdir -p with mode 0755 for new directories.
  virtual Status CreateDirs(const std::filesystem::path& path) = 0;
  virtual Status Rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  // Like Rename, but never replaces `to`: fails with sys_errno() == EEXIST
  // (code kIOError) when it exists. This default checks with Stat and then
  // renames, which leaves a race window; the POSIX file system uses
  // renameat2(RENAME_NOREPLACE), atomic where the file system supports it.
  virtual Status RenameNoReplace(const std::filesystem::path& from,
                                 const std::filesystem::path& to);
  // Removes a file or an empty directory. kNotFound when absent.
  virtual Status Remove(const std::filesystem::path& path) = 0;
  // fsync(2) on a directory, so a rename or create in it is durable.
  virtual Status SyncDir(const std::filesystem::path& path) = 0;

  // --- Paths on a data disk ------------------------------------------------
  // Everything below a data disk's root belongs to the household: any user
  // may rename, replace or link anything there while atlas runs as root.
  // These calls take the disk root (the admin's config: trusted, resolved
  // as usual) and a path relative to it (the users': untrusted), and
  // resolve that path beneath the root with no symlink, no ".." and no
  // mount crossing at any component: openat2(RESOLVE_BENEATH |
  // RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV), or openat component by
  // component with O_NOFOLLOW where openat2 is missing or the path is longer
  // than PATH_MAX. A symlink, a file where a directory should be, or a
  // mount point anywhere on the way is kFailedPrecondition, never followed.
  // Engine code reaches data disks only through these
  // (tests/unit/seam_discipline_test.cc holds it).
  //
  // A regular file for reading, as OpenForRead (O_NONBLOCK, fstat'ed:
  // anything else is kFailedPrecondition). kNotFound when absent.
  virtual Result<std::unique_ptr<RandomAccessFile>> OpenUnder(const std::filesystem::path& root,
                                                              std::string_view rel);
  // lstat(2) of `rel`'s last component.
  virtual Result<FileStat> StatUnder(const std::filesystem::path& root, std::string_view rel);
  // Creates a new file: O_CREAT | O_EXCL | O_NOFOLLOW in its directory, which
  // must exist. Fails (EEXIST) when anything has that name, a symlink too.
  virtual Result<std::unique_ptr<WritableFile>> CreateUnder(const std::filesystem::path& root,
                                                            std::string_view rel,
                                                            std::uint32_t mode);
  // mkdir -p of the directory `rel_dir` ("" is the root): every component
  // that exists must be a real directory; missing ones get mode 0755.
  virtual Status CreateDirsUnder(const std::filesystem::path& root, std::string_view rel_dir);
  // renameat(2) between two names beneath the same root. Without
  // `replace`, never over an existing `to` (renameat2 RENAME_NOREPLACE;
  // EEXIST, code kIOError): fix restoring a deleted file must not replace
  // a file a user has put there since.
  virtual Status RenameUnder(const std::filesystem::path& root, std::string_view from,
                             std::string_view to, bool replace);
  // unlinkat(2) of a file (never a directory). kNotFound when absent.
  virtual Status RemoveUnder(const std::filesystem::path& root, std::string_view rel);
  // fsync(2) of the directory `rel_dir` ("" is the root).
  virtual Status SyncDirUnder(const std::filesystem::path& root, std::string_view rel_dir);

  // --- Entries other than file contents (hard links, symlinks, directories,
  // special files, extended attributes, holes), by the same rules. Nothing
  // here opens a FIFO, socket or device node: they are reached with
  // O_PATH, which does not open the file itself.
  //
  // The extended attributes of `rel` (a regular file or directory; a
  // symlink or special file has none that can be read without following
  // or opening it: empty), sorted by name. A file system without xattr
  // support gives an empty list.
  virtual Result<std::vector<Xattr>> ListXattrsUnder(const std::filesystem::path& root,
                                                     std::string_view rel);
  // The target bytes of the symlink `rel` (readlinkat; never followed).
  virtual Result<std::string> ReadLinkUnder(const std::filesystem::path& root, std::string_view rel);
  // The holes of the regular file `rel` (SEEK_HOLE/SEEK_DATA, no data
  // read), in offset order; the implicit hole at end of file is not listed.
  virtual Result<std::vector<ByteRange>> HolesUnder(const std::filesystem::path& root,
                                                    std::string_view rel);
  // symlinkat(target, rel); fails (EEXIST) when anything has the name.
  virtual Status CreateSymlinkUnder(const std::filesystem::path& root, std::string_view rel,
                                    std::string_view target);
  // mknodat(rel, mode, rdev): a FIFO, or a device node (root only);
  // fails (EEXIST) when anything has the name.
  virtual Status CreateNodeUnder(const std::filesystem::path& root, std::string_view rel,
                                 std::uint32_t mode, std::uint64_t rdev);
  // A new name `new_rel` for the regular file at `existing_rel`, which must
  // still have inode `inode`: it is opened O_PATH | O_NOFOLLOW, fstat'ed,
  // and linked by descriptor (linkat AT_EMPTY_PATH), so a name swapped in
  // between is never linked. Never replaces `new_rel` (EEXIST).
  virtual Status LinkUnder(const std::filesystem::path& root, std::string_view existing_rel,
                           std::string_view new_rel, std::uint64_t inode);
  // Owner, mode (not of a symlink), mtime and, when given, xattrs of `rel`,
  // which must be of `type` (and, when `inode` is not 0, that inode): all
  // through a descriptor opened O_PATH | O_NOFOLLOW and checked, never
  // through a name. kFailedPrecondition when `rel` is something else.
  virtual Status SetMetadataUnder(const std::filesystem::path& root, std::string_view rel,
                                  FileType type, std::uint64_t inode, const EntryMetadata& meta);
};

// Forwards every call to a target; subclass it and override what you change.
class FileSystemWrapper : public FileSystem {
 public:
  explicit FileSystemWrapper(FileSystem* target) : target_(target) {}
  FileSystem* target() const { return target_; }

  Result<std::unique_ptr<RandomAccessFile>> OpenForRead(const std::filesystem::path& p) override {
    return target_->OpenForRead(p);
  }
  Result<std::unique_ptr<WritableFile>> OpenForWrite(const std::filesystem::path& p, OpenMode om,
                                                     std::uint32_t mode) override {
    return target_->OpenForWrite(p, om, mode);
  }
  Result<FileStat> Stat(const std::filesystem::path& p) override { return target_->Stat(p); }
  Status Walk(const std::filesystem::path& root, const WalkOptions& o, const WalkFn& fn) override {
    return target_->Walk(root, o, fn);
  }
  Result<std::string> ReadFile(const std::filesystem::path& p,
                               std::uint64_t max_bytes = kDefaultReadFileMax) override {
    return target_->ReadFile(p, max_bytes);
  }
  Status CreateDirs(const std::filesystem::path& p) override { return target_->CreateDirs(p); }
  Status Rename(const std::filesystem::path& a, const std::filesystem::path& b) override {
    return target_->Rename(a, b);
  }
  Status RenameNoReplace(const std::filesystem::path& a, const std::filesystem::path& b) override {
    return target_->RenameNoReplace(a, b);
  }
  Status Remove(const std::filesystem::path& p) override { return target_->Remove(p); }
  Status SyncDir(const std::filesystem::path& p) override { return target_->SyncDir(p); }
  Result<std::unique_ptr<RandomAccessFile>> OpenUnder(const std::filesystem::path& root,
                                                      std::string_view rel) override {
    return target_->OpenUnder(root, rel);
  }
  Result<FileStat> StatUnder(const std::filesystem::path& root, std::string_view rel) override {
    return target_->StatUnder(root, rel);
  }
  Result<std::unique_ptr<WritableFile>> CreateUnder(const std::filesystem::path& root,
                                                    std::string_view rel,
                                                    std::uint32_t mode) override {
    return target_->CreateUnder(root, rel, mode);
  }
  Status CreateDirsUnder(const std::filesystem::path& root, std::string_view rel_dir) override {
    return target_->CreateDirsUnder(root, rel_dir);
  }
  Status RenameUnder(const std::filesystem::path& root, std::string_view from,
                     std::string_view to, bool replace) override {
    return target_->RenameUnder(root, from, to, replace);
  }
  Status RemoveUnder(const std::filesystem::path& root, std::string_view rel) override {
    return target_->RemoveUnder(root, rel);
  }
  Status SyncDirUnder(const std::filesystem::path& root, std::string_view rel_dir) override {
    return target_->SyncDirUnder(root, rel_dir);
  }
  Result<std::vector<Xattr>> ListXattrsUnder(const std::filesystem::path& root,
                                             std::string_view rel) override {
    return target_->ListXattrsUnder(root, rel);
  }
  Result<std::string> ReadLinkUnder(const std::filesystem::path& root, std::string_view rel) override {
    return target_->ReadLinkUnder(root, rel);
  }
  Result<std::vector<ByteRange>> HolesUnder(const std::filesystem::path& root,
                                            std::string_view rel) override {
    return target_->HolesUnder(root, rel);
  }
  Status CreateSymlinkUnder(const std::filesystem::path& root, std::string_view rel,
                            std::string_view target) override {
    return target_->CreateSymlinkUnder(root, rel, target);
  }
  Status CreateNodeUnder(const std::filesystem::path& root, std::string_view rel, std::uint32_t mode,
                         std::uint64_t rdev) override {
    return target_->CreateNodeUnder(root, rel, mode, rdev);
  }
  Status LinkUnder(const std::filesystem::path& root, std::string_view existing_rel,
                   std::string_view new_rel, std::uint64_t inode) override {
    return target_->LinkUnder(root, existing_rel, new_rel, inode);
  }
  Status SetMetadataUnder(const std::filesystem::path& root, std::string_view rel, FileType type,
                          std::uint64_t inode, const EntryMetadata& meta) override {
    return target_->SetMetadataUnder(root, rel, type, inode, meta);
  }

 private:
  FileSystem* target_;
};

// How WriteFileAtomic creates and names what it writes.
struct AtomicWriteOptions {
  // Permission bits of the new file, less the process umask unless
  // `exact_mode`.
  std::uint32_t mode = 0644;
  // Give the file exactly `mode` whatever the umask (SetMode before the data
  // is written): for a file another user reads, such as node_exporter's
  // textfile or the outside index a compute host reads over NFS.
  bool exact_mode = false;
  // Fail with kFailedPrecondition when `path` exists, and never replace a
  // file that appears there meanwhile (RenameNoReplace).
  bool exclusive = false;
  // The temporary file's name beside `path`: "NAME.tmp.PID", or with
  // `hidden_temp` ".NAME.PID.tmp", a dot file ending in .tmp, for a
  // directory whose reader takes every file with the target's suffix
  // (node_exporter reads *.prom).
  bool hidden_temp = false;
  // Names the crash points passed on the way: "<crash_points>_before_rename"
  // and "<crash_points>_after_rename" (docs/DESIGN.md "Crash points").
  std::string_view crash_points = "io.atomic_write";
};

// Writes `contents` to `path` so that `path` holds either its old contents
// or all of `contents`, never a mix, even after a crash or power loss. The
// one way atlas replaces a whole file (the config of `init`, the metrics
// textfile, the outside index); every step goes through `fs`:
//   1. The temporary file beside `path` is removed if an earlier run with
//      this pid left it, and created anew with O_CREAT|O_EXCL, so it is
//      never opened through a symlink someone put at its name.
//   2. `contents` is written, the mode set when `exact_mode`, and the file
//      fdatasync(2)'ed and closed: the data and the size are durable before
//      the name points at them. (fdatasync, not fsync: the mode is not
//      promised durable by POSIX, though ext4, xfs and btrfs commit it with
//      the new inode.)
//   3. It is renamed over `path` (rename(2), atomic for readers; with
//      `exclusive`, renameat2 RENAME_NOREPLACE).
//   4. The directory holding `path` is fsync(2)'ed, which makes the rename
//      itself durable.
// A crash before 3 leaves `path` as it was and the synced temporary beside
// it (removed by the next write with the same pid, or by a caller that
// knows the name is its own); between 3 and 4 a power loss may bring back
// the old file, never a partial one.
//   kFailedPrecondition: `exclusive` and `path` exists
//   otherwise the code of the call that failed (kNoSpace, kIOError, ...),
//   with its errno and path; the temporary is removed and `path` is as it
//   was (unless only step 4 failed).
// Writers of one path must be serialized by the caller: two concurrent
// calls in one process would share the temporary name.
Status WriteFileAtomic(FileSystem* fs, const std::filesystem::path& path,
                       std::string_view contents, const AtomicWriteOptions& options);
// The same with only `mode` and `exclusive` chosen.
Status WriteFileAtomic(FileSystem* fs, const std::filesystem::path& path,
                       std::string_view contents, std::uint32_t mode = 0644,
                       bool exclusive = false);

class Clock {
 public:
  virtual ~Clock() = default;
  // The real clock. Never null.
  static Clock* Default();
  // Wall-clock time, nanoseconds since the Unix epoch.
  virtual std::int64_t NowUnixNanos() = 0;
  // Monotonic time in nanoseconds, for rates and durations.
  virtual std::int64_t MonotonicNanos() = 0;
  virtual void SleepFor(std::chrono::nanoseconds d) = 0;
};

// A wall-clock time as RFC 3339 in UTC to the second: "2026-11-25T03:30:12Z".
std::string Rfc3339(std::int64_t unix_ns);

// Test hooks. With ATLAS_TEST_HOOKS compiled in, the process exits with status
// 137 (as if SIGKILLed) when it reaches the crash point called `name`
// (see ATLAS_CRASH_POINT in src/core/crash_point.h and docs/DESIGN.md for the
// list). Without test hooks this does nothing.
void SetCrashPoint(std::string name);
// True when crash points are compiled into this build.
bool TestHooksEnabled();

}  // namespace atlas
