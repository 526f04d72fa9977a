// The POSIX implementation of the I/O seam (atlas/env.h) and the real Clock.
//
// Paths are raw bytes. Names on a data disk may hold newlines, invalid UTF-8
// or anything but '/' and NUL, so nothing here converts encodings: every
// syscall gets path.native(), every message embeds it unchanged, and Walk
// compares names with std::string, whose char_traits order is unsigned bytes.
//
// Walk. The order contract (strictly increasing byte order of rel_path, a
// directory "d" sorting as "d/") lets sync merge-join a walk with the sorted
// manifest keys in one pass. Each directory is read completely with readdir,
// every name is fstatat'ed relative to the directory fd (AT_SYMLINK_NOFOLLOW),
// the listing is sorted with directories keyed as name + "/", and the walk
// recurses depth first. Memory is one listing per level of depth (a million
// files spread over directories cost a few MB, not the whole tree) plus one
// open descriptor per level. Traversal is openat-based (O_NOFOLLOW on every
// subdirectory), so a directory swapped for a symlink mid-walk is not
// followed out of the tree. Rejected: std::filesystem::recursive_directory_
// iterator (unsorted, throws or stops on the first EACCES, follows nothing
// we can control) and nftw (no sort, no per-level pruning with state).
//
// same_device: a subdirectory whose st_dev differs from the root's is a nested
// mount and is skipped. One exception: btrfs gives every subvolume its own
// anonymous st_dev although it is the same mount, so when st_dev differs we
// also compare statx mount ids (Linux >= 5.8) and descend when they match.
//
// Errors carry the syscall, the path and (for I/O) the offset, once:
// "pread /mnt/disk1/x.mkv @ 30988713984: Input/output error".
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <chrono>
#include <cstring>
#include <functional>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>  // struct open_how, RESOLVE_*
#include <sys/syscall.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include "atlas/env.h"
#include "atlas/status.h"

namespace atlas {
namespace {

namespace stdfs = std::filesystem;

std::string Describe(std::string_view op, const stdfs::path& path) {
  std::string s(op);
  s += ' ';
  s += path.native();
  return s;
}

std::string DescribeAt(std::string_view op, const stdfs::path& path, std::uint64_t offset) {
  std::string s = Describe(op, path);
  s += " @ ";
  s += std::to_string(offset);
  return s;
}

Status ErrnoStatus(int err, std::string_view op, const stdfs::path& path) {
  return Status::FromErrno(err, Describe(op, path));
}

FileType TypeOf(mode_t mode) {
  if (S_ISREG(mode))
    return FileType::kRegular;
  if (S_ISDIR(mode))
    return FileType::kDirectory;
  if (S_ISLNK(mode))
    return FileType::kSymlink;
  return FileType::kOther;
}

FileStat ToFileStat(const struct stat& st) {
  FileStat out;
  out.type = TypeOf(st.st_mode);
  out.size = static_cast<std::uint64_t>(st.st_size);
  out.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                 static_cast<std::int64_t>(st.st_mtim.tv_nsec);
  out.inode = static_cast<std::uint64_t>(st.st_ino);
  out.dev = static_cast<std::uint64_t>(st.st_dev);
  out.mode = static_cast<std::uint32_t>(st.st_mode);
  out.uid = static_cast<std::uint32_t>(st.st_uid);
  out.gid = static_cast<std::uint32_t>(st.st_gid);
  out.nlink = static_cast<std::uint64_t>(st.st_nlink);
  out.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 +
                 static_cast<std::int64_t>(st.st_ctim.tv_nsec);
  out.blocks = static_cast<std::uint64_t>(st.st_blocks);
  out.rdev = static_cast<std::uint64_t>(st.st_rdev);
  return out;
}

// Closes a descriptor on scope exit. close(2) errors on read-only or
// directory descriptors carry no information worth reporting.
class ScopedFd {
 public:
  explicit ScopedFd(int fd = -1) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

int OpenRetryingEintr(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

Result<FileStat> FstatOf(int fd, const stdfs::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return ErrnoStatus(errno, "fstat", path);
  return ToFileStat(st);
}

// Owner, then permission bits (fchown clears set-user-ID and set-group-ID
// bits, which fchmod restores), then mtime, all on the descriptor: no name
// is looked up, so nothing a user swaps in between is touched.
Status SetAttributesOfFd(int fd, const stdfs::path& path, const FileStat& attrs) {
  if (::fchown(fd, static_cast<uid_t>(attrs.uid), static_cast<gid_t>(attrs.gid)) != 0)
    return ErrnoStatus(errno, "fchown", path);
  if (::fchmod(fd, static_cast<mode_t>(attrs.mode & 07777)) != 0)
    return ErrnoStatus(errno, "fchmod", path);
  // Floor division, so that times before 1970 keep 0 <= tv_nsec < 1e9.
  std::int64_t sec = attrs.mtime_ns / 1'000'000'000;
  std::int64_t nsec = attrs.mtime_ns % 1'000'000'000;
  if (nsec < 0) {
    nsec += 1'000'000'000;
    sec -= 1;
  }
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_NOW;  // atime
  times[1].tv_sec = static_cast<time_t>(sec);
  times[1].tv_nsec = static_cast<long>(nsec);
  if (::futimens(fd, times) != 0)
    return ErrnoStatus(errno, "futimens", path);
  return Status::Ok();
}

// A descriptor opened for reading is a regular file, or it is closed and
// refused: a FIFO, socket, device node or directory is never read. The open
// used O_NONBLOCK (a FIFO without a writer would block the open itself);
// for a regular file the flag means nothing, and it is cleared anyway.
Result<int> KeepRegular(int fd, const stdfs::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus(err, "fstat", path);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    const char* what = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device node"
                                                                    : "not a regular file";
    return Status::FailedPrecondition(
        Describe("open", path) + ": " + what + " where a regular file was expected; not read");
  }
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl >= 0)
    ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  return fd;
}

constexpr int kReadFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;

// fsync(2) of a directory descriptor, retried on EINTR.
Status FsyncFd(int fd, const stdfs::path& path) {
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0)
    return ErrnoStatus(errno, "fsync", path);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Beneath a data disk's root (the *Under calls of atlas/env.h)

constexpr std::uint64_t kResolveBeneath =
    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;


// ---------------------------------------------------------------------------
// Extended attributes. `list`, `get`, `set` and `remove` wrap the
// f/path/l variants, so one body serves a descriptor (a file being
// written), "/proc/self/fd/N" of an O_PATH descriptor (a directory, a
// special file: exactly the inode the descriptor holds, nothing opened),
// and "/proc/self/fd/DIR/NAME" (a name in a directory held open).

struct XattrOps {
  std::function<ssize_t(char*, std::size_t)> list;
  std::function<ssize_t(const char*, void*, std::size_t)> get;
  std::function<int(const char*, const void*, std::size_t)> set;
  std::function<int(const char*)> remove;
};

XattrOps XattrOpsOfFd(int fd) {
  return {[fd](char* b, std::size_t n) { return ::flistxattr(fd, b, n); },
          [fd](const char* k, void* v, std::size_t n) { return ::fgetxattr(fd, k, v, n); },
          [fd](const char* k, const void* v, std::size_t n) { return ::fsetxattr(fd, k, v, n, 0); },
          [fd](const char* k) { return ::fremovexattr(fd, k); }};
}

XattrOps XattrOpsOfPath(std::string path) {
  return {[path](char* b, std::size_t n) { return ::listxattr(path.c_str(), b, n); },
          [path](const char* k, void* v, std::size_t n) { return ::getxattr(path.c_str(), k, v, n); },
          [path](const char* k, const void* v, std::size_t n) { return ::setxattr(path.c_str(), k, v, n, 0); },
          [path](const char* k) { return ::removexattr(path.c_str(), k); }};
}

// The same by name with the l* calls: a symlink at the name is not followed.
XattrOps XattrOpsOfName(std::string path) {
  return {[path](char* b, std::size_t n) { return ::llistxattr(path.c_str(), b, n); },
          [path](const char* k, void* v, std::size_t n) { return ::lgetxattr(path.c_str(), k, v, n); },
          [path](const char* k, const void* v, std::size_t n) { return ::lsetxattr(path.c_str(), k, v, n, 0); },
          [path](const char* k) { return ::lremovexattr(path.c_str(), k); }};
}

bool NoXattrSupport(int err) { return err == ENOTSUP || err == ENOSYS; }

Result<std::vector<std::string>> XattrNames(const XattrOps& ops, const stdfs::path& path) {
  std::string buf;
  for (int attempt = 0; attempt < 8; ++attempt) {
    const ssize_t want = ops.list(nullptr, 0);
    if (want < 0) {
      if (NoXattrSupport(errno))
        return std::vector<std::string>();
      return ErrnoStatus(errno, "listxattr", path);
    }
    buf.resize(static_cast<std::size_t>(want));
    const ssize_t got = want == 0 ? 0 : ops.list(buf.data(), buf.size());
    if (got < 0 && errno == ERANGE)
      continue;  // grew in between
    if (got < 0)
      return ErrnoStatus(errno, "listxattr", path);
    buf.resize(static_cast<std::size_t>(got));
    std::vector<std::string> names;
    for (std::size_t at = 0; at < buf.size();) {
      const std::size_t end = buf.find('\0', at);
      const std::size_t stop = end == std::string::npos ? buf.size() : end;
      if (stop > at)
        names.emplace_back(buf, at, stop - at);
      at = stop + 1;
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  return ErrnoStatus(ERANGE, "listxattr", path);
}

Result<std::vector<Xattr>> ReadXattrs(const XattrOps& ops, const stdfs::path& path) {
  ATLAS_ASSIGN_OR_RETURN(std::vector<std::string> names, XattrNames(ops, path));
  std::vector<Xattr> out;
  for (std::string& name : names) {
    std::string value;
    bool gone = false;
    for (int attempt = 0;; ++attempt) {
      const ssize_t want = ops.get(name.c_str(), nullptr, 0);
      if (want < 0 && errno == ENODATA) {
        gone = true;  // removed since it was listed
        break;
      }
      if (want < 0)
        return ErrnoStatus(errno, "getxattr " + name, path);
      value.resize(static_cast<std::size_t>(want));
      const ssize_t got = want == 0 ? 0 : ops.get(name.c_str(), value.data(), value.size());
      if (got < 0 && errno == ERANGE && attempt < 8)
        continue;
      if (got < 0 && errno == ENODATA) {
        gone = true;
        break;
      }
      if (got < 0)
        return ErrnoStatus(errno, "getxattr " + name, path);
      value.resize(static_cast<std::size_t>(got));
      break;
    }
    if (!gone)
      out.push_back(Xattr{std::move(name), std::move(value)});
  }
  return out;
}

// Makes the attributes exactly `want`: each set, and every other one
// removed (one inherited from a default ACL, say), except security.selinux,
// which belongs to the running system's policy. A file system without
// xattr support accepts an empty list.
Status WriteXattrs(const XattrOps& ops, const stdfs::path& path, const std::vector<Xattr>& want) {
  Result<std::vector<std::string>> have = XattrNames(ops, path);
  if (!have.ok())
    return have.status();
  for (const std::string& name : *have) {
    if (name == "security.selinux")
      continue;
    const bool wanted = std::any_of(want.begin(), want.end(), [&](const Xattr& x) { return x.name == name; });
    if (!wanted && ops.remove(name.c_str()) != 0 && errno != ENODATA)
      return ErrnoStatus(errno, "removexattr " + name, path);
  }
  for (const Xattr& x : want) {
    if (ops.set(x.name.c_str(), x.value.data(), x.value.size()) != 0)
      return ErrnoStatus(errno, "setxattr " + x.name, path);
  }
  return Status::Ok();
}

std::string ProcFdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

struct timespec MtimeSpec(std::int64_t mtime_ns) {
  // Floor division, so that times before 1970 keep 0 <= tv_nsec < 1e9.
  std::int64_t sec = mtime_ns / 1'000'000'000;
  std::int64_t nsec = mtime_ns % 1'000'000'000;
  if (nsec < 0) {
    nsec += 1'000'000'000;
    sec -= 1;
  }
  struct timespec ts {};
  ts.tv_sec = static_cast<time_t>(sec);
  ts.tv_nsec = static_cast<long>(nsec);
  return ts;
}

// Set once openat2 answered ENOSYS (kernels before 5.6): every later call
// takes the component walk.
std::atomic<bool> g_no_openat2{false};

std::string JoinUnder(const stdfs::path& root, std::string_view rel) {
  std::string s = root.native();
  if (rel.empty())
    return s;
  if (s.empty() || s.back() != '/')
    s += '/';
  s.append(rel);
  return s;
}

// What a refused resolution means to the caller, or the plain errno status.
Status UnderError(int err, std::string_view op, const stdfs::path& root, std::string_view rel) {
  const std::string where = JoinUnder(root, rel);
  if (err == ELOOP || err == EXDEV || err == ENOTDIR) {
    return Status::FailedPrecondition(fmt::format(
        "{} {}: a symlink, a non-directory or another file system lies on the path beneath {} "
        "(users may have replaced a directory); not followed",
        op, where, root.native()));
  }
  return Status::FromErrno(err, Describe(op, where));
}

// Opens `rel` beneath the directory `root_fd` with `flags` (O_NOFOLLOW and
// O_CLOEXEC are added). "" opens the root itself. Returns -1 with errno set.
int OpenBeneath(int root_fd, std::string_view rel, int flags, mode_t mode) {
  flags |= O_NOFOLLOW | O_CLOEXEC;
  const std::string path = rel.empty() ? std::string(".") : std::string(rel);
  if (!g_no_openat2.load(std::memory_order_relaxed) && path.size() < PATH_MAX) {
    struct open_how how {};
    how.flags = static_cast<std::uint64_t>(flags);
    how.mode = (flags & O_CREAT) != 0 ? mode : 0;
    how.resolve = kResolveBeneath;
    for (int attempt = 0;; ++attempt) {
      const long fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
      if (fd >= 0)
        return static_cast<int>(fd);
      // EAGAIN: a concurrent rename made the kernel unsure the resolution
      // stayed beneath; it asks for a retry.
      if (errno == EINTR || (errno == EAGAIN && attempt < 16))
        continue;
      if (errno != ENOSYS)
        return -1;
      g_no_openat2.store(true, std::memory_order_relaxed);
      break;
    }
  }
  // Component by component: each directory opened O_PATH | O_NOFOLLOW
  // relative to the one before, so no symlink is followed and a path of
  // any length resolves; a component on another device is refused, as
  // RESOLVE_NO_XDEV would.
  struct stat root_st {};
  if (::fstat(root_fd, &root_st) != 0)
    return -1;
  if (rel.empty())
    return ::openat(root_fd, ".", flags, mode);
  int dir = root_fd;
  ScopedFd held;
  std::string_view rest = rel;
  for (;;) {
    const std::size_t slash = rest.find('/');
    const std::string name(rest.substr(0, slash));
    if (name.empty() || name == "." || name == "..") {
      errno = EXDEV;  // never produced by a walk: refused as leaving the tree
      return -1;
    }
    if (slash == std::string_view::npos) {
      int fd;
      do {
        fd = ::openat(dir, name.c_str(), flags, mode);
      } while (fd < 0 && errno == EINTR);
      return fd;
    }
    const int next = ::openat(dir, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0)
      return -1;
    struct stat st {};
    if (::fstat(next, &st) != 0 || st.st_dev != root_st.st_dev) {
      ::close(next);
      errno = EXDEV;
      return -1;
    }
    held.reset(next);
    dir = next;
    rest = rest.substr(slash + 1);
  }
}

// The parent directory of `rel` beneath root, open, and rel's last name.
struct ParentAndName {
  ScopedFd parent;
  std::string name;
};

Status OpenRoot(const stdfs::path& root, ScopedFd* out) {
  const int fd = OpenRetryingEintr(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ErrnoStatus(errno, "open", root);
  out->reset(fd);
  return Status::Ok();
}

Status OpenParentUnder(const stdfs::path& root, std::string_view rel, std::string_view op,
                       ParentAndName* out) {
  const std::size_t slash = rel.rfind('/');
  const std::string_view dir = slash == std::string_view::npos ? std::string_view() : rel.substr(0, slash);
  out->name = std::string(slash == std::string_view::npos ? rel : rel.substr(slash + 1));
  if (out->name.empty() || out->name == "." || out->name == "..")
    return UnderError(EXDEV, op, root, rel);
  ScopedFd root_fd;
  ATLAS_RETURN_IF_ERROR(OpenRoot(root, &root_fd));
  const int fd = OpenBeneath(root_fd.get(), dir, O_PATH | O_DIRECTORY, 0);
  if (fd < 0)
    return UnderError(errno, op, root, rel);
  out->parent.reset(fd);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Files

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(int fd, stdfs::path path) : fd_(fd), path_(std::move(path)) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Result<std::size_t> ReadAt(std::uint64_t offset, std::span<std::byte> buf) const override {
    std::size_t done = 0;
    while (done < buf.size()) {
      const std::uint64_t pos = offset + done;
      const ssize_t n = ::pread(fd_, buf.data() + done, buf.size() - done, static_cast<off_t>(pos));
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return Status::FromErrno(errno, DescribeAt("pread", path_, pos));
      }
      if (n == 0)
        break;  // end of file
      done += static_cast<std::size_t>(n);
    }
    return done;
  }

  const stdfs::path& path() const override { return path_; }

  Result<FileStat> Stat() const override { return FstatOf(fd_, path_); }

  Result<std::uint64_t> NextDataOffset(std::uint64_t offset) const override {
    const off_t at = ::lseek(fd_, static_cast<off_t>(offset), SEEK_DATA);
    if (at >= 0)
      return static_cast<std::uint64_t>(at);
    if (errno == ENXIO) {  // a hole to the end of the file
      ATLAS_ASSIGN_OR_RETURN(FileStat st, FstatOf(fd_, path_));
      return std::max<std::uint64_t>(offset, st.size);
    }
    if (errno == EINVAL || errno == ENOTSUP)
      return offset;  // no hole support: all data
    return Status::FromErrno(errno, DescribeAt("lseek SEEK_DATA", path_, offset));
  }

 private:
  int fd_;
  stdfs::path path_;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, stdfs::path path) : fd_(fd), path_(std::move(path)) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0)
      ::close(fd_);
  }

  Status WriteAt(std::uint64_t offset, std::span<const std::byte> data) override {
    if (fd_ < 0)
      return Status::FromErrno(EBADF, DescribeAt("pwrite", path_, offset));
    std::size_t done = 0;
    while (done < data.size()) {
      const std::uint64_t pos = offset + done;
      const ssize_t n =
          ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(pos));
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return Status::FromErrno(errno, DescribeAt("pwrite", path_, pos));
      }
      // pwrite returns 0 for a non-empty buffer only on odd devices; treat it
      // as "no space" rather than spinning.
      if (n == 0)
        return Status::FromErrno(ENOSPC, DescribeAt("pwrite", path_, pos));
      done += static_cast<std::size_t>(n);
    }
    return Status::Ok();
  }

  Status Truncate(std::uint64_t size) override {
    if (fd_ < 0)
      return ErrnoStatus(EBADF, "ftruncate", path_);
    int rc;
    do {
      rc = ::ftruncate(fd_, static_cast<off_t>(size));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0)
      return Status::FromErrno(errno, DescribeAt("ftruncate", path_, size));
    return Status::Ok();
  }

  Status Sync() override {
    if (fd_ < 0)
      return ErrnoStatus(EBADF, "fdatasync", path_);
    int rc;
    do {
      rc = ::fdatasync(fd_);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0)
      return ErrnoStatus(errno, "fdatasync", path_);
    return Status::Ok();
  }

  Status Close() override {
    if (fd_ < 0)
      return ErrnoStatus(EBADF, "close", path_);
    const int fd = std::exchange(fd_, -1);
    // Linux releases the descriptor even when close fails (EINTR included),
    // so it is never retried.
    if (::close(fd) != 0)
      return ErrnoStatus(errno, "close", path_);
    return Status::Ok();
  }

  Status SetAttributes(const FileStat& attrs) override {
    if (fd_ < 0)
      return ErrnoStatus(EBADF, "fchown", path_);
    return SetAttributesOfFd(fd_, path_, attrs);
  }

  Status SetXattrs(const std::vector<Xattr>& xattrs) override {
    if (fd_ < 0)
      return ErrnoStatus(EBADF, "fsetxattr", path_);
    return WriteXattrs(XattrOpsOfFd(fd_), path_, xattrs);
  }

  Status SetMode(std::uint32_t mode) override {
    if (fd_ < 0)
      return ErrnoStatus(EBADF, "fchmod", path_);
    if (::fchmod(fd_, static_cast<mode_t>(mode & 07777)) != 0)
      return ErrnoStatus(errno, "fchmod", path_);
    return Status::Ok();
  }

  const stdfs::path& path() const override { return path_; }

 private:
  int fd_;
  stdfs::path path_;
};

// ---------------------------------------------------------------------------
// Walk

// Mount id of `name` in the directory open at `dir_fd` ("" for the directory
// itself), or 0 when the kernel cannot say.
std::uint64_t MountIdOf(int dir_fd, const char* name) {
  struct statx stx {};
  const int flags = name[0] == '\0' ? AT_EMPTY_PATH : AT_SYMLINK_NOFOLLOW;
  if (::statx(dir_fd, name, flags, STATX_MNT_ID, &stx) != 0)
    return 0;
  if ((stx.stx_mask & STATX_MNT_ID) == 0)
    return 0;
  return stx.stx_mnt_id;
}

class Walker {
 public:
  Walker(const stdfs::path& root, const WalkOptions& options, const WalkFn& fn)
      : root_(root), options_(options), fn_(fn) {}

  Status Run() {
    const int fd = OpenRetryingEintr(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      return ErrnoStatus(errno, "opendir", root_);
    ScopedFd root_fd(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0)
      return ErrnoStatus(errno, "fstat", root_);
    root_dev_ = static_cast<std::uint64_t>(st.st_dev);
    root_mnt_id_ = MountIdOf(fd, "");
    // The root itself is never handed to on_error: a walk that cannot read
    // its root has nothing to report and fails.
    std::string rel;
    bool unreadable = false;
    ATLAS_RETURN_IF_ERROR(WalkDir(fd, &rel, &unreadable));
    return Status::Ok();
  }

 private:
  struct Entry {
    std::string key;  // the name, plus '/' for a directory: the sort key
    FileStat stat;
    bool is_dir() const { return key.back() == '/'; }
    std::string_view name() const {
      return std::string_view(key).substr(0, key.size() - (is_dir() ? 1 : 0));
    }
  };

  std::string FullPath(std::string_view rel) const {
    if (rel.empty())
      return root_.native();
    std::string s = root_.native();
    if (s.empty() || s.back() != '/')
      s += '/';
    s.append(rel);
    return s;
  }

  // A directory (or an entry in it) could not be read. Returns OK to go on.
  Status OnError(std::string_view rel, const Status& error) const {
    if (!options_.on_error)
      return error;
    return options_.on_error(rel, error);
  }

  // Reads all names in `dir_fd` and stats each. A failure to list is
  // returned with *unreadable set; per-entry stat failures go to OnError.
  Status List(int dir_fd, const std::string& rel, std::vector<Entry>* out, bool* unreadable) {
    // fdopendir takes ownership, so give it a duplicate and keep dir_fd for
    // fstatat/openat after the DIR (and its 32 KiB buffer) is freed.
    const int dup_fd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) {
      *unreadable = true;
      return ErrnoStatus(errno, "dup", FullPath(rel));
    }
    DIR* dir = ::fdopendir(dup_fd);
    if (dir == nullptr) {
      const int err = errno;
      ::close(dup_fd);
      *unreadable = true;
      return ErrnoStatus(err, "opendir", FullPath(rel));
    }
    std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, &::closedir);
    std::vector<std::string> names;
    for (;;) {
      errno = 0;
      const struct dirent* de = ::readdir(dir);
      if (de == nullptr) {
        if (errno != 0) {
          *unreadable = true;
          return ErrnoStatus(errno, "readdir", FullPath(rel));
        }
        break;
      }
      const std::string_view name(de->d_name);
      if (name == "." || name == "..")
        continue;
      names.emplace_back(name);
    }
    closer.reset();

    out->clear();
    out->reserve(names.size());
    for (std::string& name : names) {
      struct stat st {};
      if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        const int err = errno;
        if (err == ENOENT)
          continue;  // deleted since readdir: as if never listed
        std::string entry_rel = rel + name;
        ATLAS_RETURN_IF_ERROR(OnError(entry_rel, ErrnoStatus(err, "lstat", FullPath(entry_rel))));
        continue;
      }
      Entry e;
      e.key = std::move(name);
      if (S_ISDIR(st.st_mode))
        e.key += '/';
      e.stat = ToFileStat(st);
      out->push_back(std::move(e));
    }
    std::sort(out->begin(), out->end(),
              [](const Entry& a, const Entry& b) { return a.key < b.key; });
    return Status::Ok();
  }

  // True when subdirectory `name` of `dir_fd` is on the root's mount (see
  // the file top for btrfs subvolumes).
  bool SameMount(int dir_fd, const std::string& name, const FileStat& st) const {
    if (st.dev == root_dev_)
      return true;
    if (root_mnt_id_ == 0)
      return false;
    const std::uint64_t id = MountIdOf(dir_fd, name.c_str());
    return id != 0 && id == root_mnt_id_;
  }

  // Walks the directory open at `dir_fd`, whose path relative to the root is
  // *rel ("" for the root, else ending in '/'). *rel is restored on return.
  Status WalkDir(int dir_fd, std::string* rel, bool* unreadable) {
    std::vector<Entry> entries;
    ATLAS_RETURN_IF_ERROR(List(dir_fd, *rel, &entries, unreadable));
    const std::size_t base = rel->size();
    for (const Entry& e : entries) {
      rel->resize(base);
      rel->append(e.name());
      const bool is_dir = e.is_dir();
      if (options_.exclude && options_.exclude(*rel, is_dir))
        continue;
      if (!is_dir) {
        ATLAS_RETURN_IF_ERROR(fn_(WalkEntry{*rel, e.stat}));
        continue;
      }
      const std::string name(e.name());
      // Nested mounts are skipped before opening them: a foreign mount may
      // not even be readable.
      if (options_.same_device && !SameMount(dir_fd, name, e.stat))
        continue;
      if (options_.report_dirs)
        ATLAS_RETURN_IF_ERROR(fn_(WalkEntry{*rel, e.stat}));
      const int fd =
          ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) {
        const int err = errno;
        if (err == ENOENT)
          continue;  // removed since it was listed
        ATLAS_RETURN_IF_ERROR(OnError(*rel, ErrnoStatus(err, "opendir", FullPath(*rel))));
        continue;
      }
      ScopedFd sub(fd);
      rel->push_back('/');
      bool sub_unreadable = false;
      Status s = WalkDir(fd, rel, &sub_unreadable);
      if (!s.ok()) {
        // Only a listing failure of this very subdirectory goes to on_error;
        // anything else (a callback's Status, an error on_error returned
        // deeper down) ends the walk unchanged.
        if (!sub_unreadable) {
          rel->resize(base);
          return s;
        }
        rel->pop_back();
        ATLAS_RETURN_IF_ERROR(OnError(*rel, s));
      }
    }
    rel->resize(base);
    return Status::Ok();
  }

  const stdfs::path& root_;
  const WalkOptions& options_;
  const WalkFn& fn_;
  std::uint64_t root_dev_ = 0;
  std::uint64_t root_mnt_id_ = 0;
};

// ---------------------------------------------------------------------------
// The file system

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<RandomAccessFile>> OpenForRead(const stdfs::path& path) override {
    // O_NOATIME keeps a scrub from dirtying every inode it reads, but it is
    // only allowed on files we own (or with CAP_FOWNER): fall back on EPERM.
    int fd = OpenRetryingEintr(path.c_str(), kReadFlags | O_NOATIME);
    if (fd < 0 && errno == EPERM)
      fd = OpenRetryingEintr(path.c_str(), kReadFlags);
    if (fd < 0)
      return ErrnoStatus(errno, "open", path);
    ATLAS_ASSIGN_OR_RETURN(fd, KeepRegular(fd, path));
    return std::unique_ptr<RandomAccessFile>(std::make_unique<PosixRandomAccessFile>(fd, path));
  }

  Result<std::unique_ptr<WritableFile>> OpenForWrite(const stdfs::path& path, OpenMode open_mode,
                                                     std::uint32_t mode) override {
    int flags = O_RDWR | O_CLOEXEC;
    if (open_mode == OpenMode::kCreate)
      flags |= O_CREAT;
    if (open_mode == OpenMode::kCreateExclusive)
      flags |= O_CREAT | O_EXCL;
    const int fd = OpenRetryingEintr(path.c_str(), flags, static_cast<mode_t>(mode));
    if (fd < 0)
      return ErrnoStatus(errno, "open", path);
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(fd, path));
  }

  Result<FileStat> Stat(const stdfs::path& path) override {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
      return ErrnoStatus(errno, "lstat", path);
    return ToFileStat(st);
  }

  Status Walk(const stdfs::path& root, const WalkOptions& options, const WalkFn& fn) override {
    Walker walker(root, options, fn);
    return walker.Run();
  }

  Result<std::string> ReadFile(const stdfs::path& path, std::uint64_t max_bytes) override {
    int fd = OpenRetryingEintr(path.c_str(), kReadFlags);
    if (fd < 0)
      return ErrnoStatus(errno, "open", path);
    // /proc files are regular files of size 0; a FIFO or /dev/zero is
    // refused here rather than read for ever.
    ATLAS_ASSIGN_OR_RETURN(fd, KeepRegular(fd, path));
    ScopedFd closer(fd);
    const auto too_large = [&](std::uint64_t size) {
      return Status::InvalidArgument(fmt::format(
          "{}: {} bytes, more than the {} this file may hold; not read", path.native(), size,
          max_bytes));
    };
    // st_size is only a hint: /proc and /sys files report 0.
    struct stat st {};
    std::size_t chunk = 64 * 1024;
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
        return too_large(static_cast<std::uint64_t>(st.st_size));
      chunk = std::max(chunk, static_cast<std::size_t>(st.st_size) + 1);
    }
    std::string out;
    for (;;) {
      const std::size_t old = out.size();
      out.resize(old + chunk);
      const ssize_t n = ::read(fd, out.data() + old, chunk);
      if (n < 0) {
        out.resize(old);
        if (errno == EINTR)
          continue;
        return Status::FromErrno(errno, DescribeAt("read", path, old));
      }
      out.resize(old + static_cast<std::size_t>(n));
      if (n == 0)
        break;
      if (out.size() > max_bytes)
        return too_large(out.size());
    }
    return out;
  }

  Status CreateDirs(const stdfs::path& path) override {
    if (path.empty())
      return Status::InvalidArgument("mkdir: empty path");
    std::string p = path.native();
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return MakeDirs(p);
  }

  Status Rename(const stdfs::path& from, const stdfs::path& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return Status::FromErrno(errno, "rename " + from.native() + " -> " + to.native());
    }
    return Status::Ok();
  }

  Status RenameNoReplace(const stdfs::path& from, const stdfs::path& to) override {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
      return Status::Ok();
    }
    // EINVAL: this file system does not support the flag (older NFS, some
    // FUSE); ENOSYS: no renameat2 at all. Fall back to check-then-rename.
    if (errno == EINVAL || errno == ENOSYS)
      return FileSystem::RenameNoReplace(from, to);
    return Status::FromErrno(errno, "rename " + from.native() + " -> " + to.native());
  }

  Status Remove(const stdfs::path& path) override {
    if (::unlink(path.c_str()) == 0)
      return Status::Ok();
    // Linux says EISDIR for a directory (POSIX allows EPERM).
    if (errno != EISDIR && errno != EPERM)
      return ErrnoStatus(errno, "unlink", path);
    const int unlink_err = errno;
    if (::rmdir(path.c_str()) == 0)
      return Status::Ok();
    // rmdir of a non-directory is ENOTDIR: the unlink error was the real one.
    if (errno == ENOTDIR)
      return ErrnoStatus(unlink_err, "unlink", path);
    return ErrnoStatus(errno, "rmdir", path);
  }

  Status SyncDir(const stdfs::path& path) override {
    const int fd = OpenRetryingEintr(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      return ErrnoStatus(errno, "open", path);
    ScopedFd closer(fd);
    return FsyncFd(fd, path);
  }

  Result<std::unique_ptr<RandomAccessFile>> OpenUnder(const stdfs::path& root,
                                                      std::string_view rel) override {
    ScopedFd root_fd;
    ATLAS_RETURN_IF_ERROR(OpenRoot(root, &root_fd));
    int fd = OpenBeneath(root_fd.get(), rel, kReadFlags | O_NOATIME, 0);
    if (fd < 0 && errno == EPERM)
      fd = OpenBeneath(root_fd.get(), rel, kReadFlags, 0);
    if (fd < 0)
      return UnderError(errno, "open", root, rel);
    const stdfs::path path = JoinUnder(root, rel);
    ATLAS_ASSIGN_OR_RETURN(fd, KeepRegular(fd, path));
    return std::unique_ptr<RandomAccessFile>(std::make_unique<PosixRandomAccessFile>(fd, path));
  }

  Result<FileStat> StatUnder(const stdfs::path& root, std::string_view rel) override {
    ParentAndName p;
    ATLAS_RETURN_IF_ERROR(OpenParentUnder(root, rel, "lstat", &p));
    struct stat st {};
    if (::fstatat(p.parent.get(), p.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return UnderError(errno, "lstat", root, rel);
    return ToFileStat(st);
  }

  Result<std::unique_ptr<WritableFile>> CreateUnder(const stdfs::path& root, std::string_view rel,
                                                    std::uint32_t mode) override {
    ParentAndName p;
    ATLAS_RETURN_IF_ERROR(OpenParentUnder(root, rel, "create", &p));
    int fd;
    do {
      fd = ::openat(p.parent.get(), p.name.c_str(),
                    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, static_cast<mode_t>(mode));
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
      return UnderError(errno, "create", root, rel);
    return std::unique_ptr<WritableFile>(
        std::make_unique<PosixWritableFile>(fd, JoinUnder(root, rel)));
  }

  Status CreateDirsUnder(const stdfs::path& root, std::string_view rel_dir) override {
    ScopedFd dir;
    ATLAS_RETURN_IF_ERROR(OpenRoot(root, &dir));
    std::string_view rest = rel_dir;
    std::size_t done = 0;
    while (!rest.empty()) {
      const std::size_t slash = rest.find('/');
      const std::string name(rest.substr(0, slash));
      done += name.size() + (slash == std::string_view::npos ? 0 : 1);
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
      if (name.empty())
        continue;
      if (name == "." || name == "..")
        return UnderError(EXDEV, "mkdir", root, rel_dir);
      if (::mkdirat(dir.get(), name.c_str(), 0755) != 0 && errno != EEXIST)
        return UnderError(errno, "mkdir", root, rel_dir.substr(0, done));
      // Whatever holds the name now (made by us or found), it is entered
      // only if it is a real directory on the same file system.
      const int next = OpenBeneath(dir.get(), name, O_PATH | O_DIRECTORY, 0);
      if (next < 0)
        return UnderError(errno, "mkdir", root, rel_dir.substr(0, done));
      dir.reset(next);
    }
    return Status::Ok();
  }

  Status RenameUnder(const stdfs::path& root, std::string_view from, std::string_view to,
                     bool replace) override {
    ParentAndName a, b;
    ATLAS_RETURN_IF_ERROR(OpenParentUnder(root, from, "rename", &a));
    ATLAS_RETURN_IF_ERROR(OpenParentUnder(root, to, "rename", &b));
    const int rc = replace ? ::renameat(a.parent.get(), a.name.c_str(), b.parent.get(), b.name.c_str())
                           : ::renameat2(a.parent.get(), a.name.c_str(), b.parent.get(), b.name.c_str(),
                                         RENAME_NOREPLACE);
    if (rc != 0) {
      return Status::FromErrno(errno, "rename " + JoinUnder(root, from) + " -> " + JoinUnder(root, to));
    }
    return Status::Ok();
  }

  Status RemoveUnder(const stdfs::path& root, std::string_view rel) override {
    ParentAndName p;
    ATLAS_RETURN_IF_ERROR(OpenParentUnder(root, rel, "unlink", &p));
    if (::unlinkat(p.parent.get(), p.name.c_str(), 0) != 0)
      return UnderError(errno, "unlink", root, rel);
    return Status::Ok();
  }

  Status SyncDirUnder(const stdfs::path& root, std::string_view rel_dir) override {
    ScopedFd root_fd;
    ATLAS_RETURN_IF_ERROR(OpenRoot(root, &root_fd));
    const int fd = OpenBeneath(root_fd.get(), rel_dir, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
      return UnderError(errno, "open", root, rel_dir);
    ScopedFd closer(fd);
    return FsyncFd(fd, JoinUnder(root, rel_dir));
  }


  Result<std::vector<Xattr>> ListXattrsUnder(const stdfs::path& root, std::string_view rel) override {
    // The name in its parent's descriptor, reached through the descriptor's
    // /proc link and read with the l* calls: nothing is opened and a
    // symlink at the name is not followed (the scan asks only for files
    // and directories; one swapped in meanwhile gives its own, harmless).
    ParentAndName p;
    ATLAS_RETURN_IF_ERROR(OpenParentUnder(root, rel, "listxattr", &p));
    return ReadXattrs(XattrOpsOfName(ProcFdPath(p.parent.get()) + "/" + p.name), JoinUnder(root, rel));
  }

  Result<std::string> ReadLinkUnder(const stdfs::path& root, std::string_view rel) override {
    ParentAndName p;
    ATLAS_RETURN_IF_ERROR(OpenParentUnder(root, rel, "readlink", &p));
    std::string buf(256, '\0');
    for (;;) {
      const ssize_t n = ::readlinkat(p.parent.get(), p.name.c_str(), buf.data(), buf.size());
      if (n < 0)
        return UnderError(errno, "readlink", root, rel);
      if (static_cast<std::size_t>(n) < buf.size()) {
        buf.resize(static_cast<std::size_t>(n));
        return buf;
      }
      buf.resize(buf.size() * 2);
    }
  }

  Result<std::vector<ByteRange>> HolesUnder(const stdfs::path& root, std::string_view rel) override {
    ScopedFd root_fd;
    ATLAS_RETURN_IF_ERROR(OpenRoot(root, &root_fd));
    int fd = OpenBeneath(root_fd.get(), rel, kReadFlags, 0);
    if (fd < 0)
      return UnderError(errno, "open", root, rel);
    const stdfs::path path = JoinUnder(root, rel);
    ATLAS_ASSIGN_OR_RETURN(fd, KeepRegular(fd, path));
    ScopedFd closer(fd);
    ATLAS_ASSIGN_OR_RETURN(FileStat st, FstatOf(fd, path));
    std::vector<ByteRange> holes;
    const off_t size = static_cast<off_t>(st.size);
    off_t at = 0;
    while (at < size) {
      off_t data = ::lseek(fd, at, SEEK_DATA);
      if (data < 0) {
        if (errno == ENXIO) {
          data = size;  // a hole to the end
        } else if (errno == EINVAL || errno == ENOTSUP) {
          return std::vector<ByteRange>();  // no hole support: all data
        } else {
          return Status::FromErrno(errno, DescribeAt("lseek SEEK_DATA", path, static_cast<std::uint64_t>(at)));
        }
      }
      if (data > size)
        data = size;
      if (data > at)
        holes.push_back(ByteRange{static_cast<std::uint64_t>(at), static_cast<std::uint64_t>(data - at)});
      if (data >= size)
        break;
      const off_t hole = ::lseek(fd, data, SEEK_HOLE);
      if (hole < 0)
        return Status::FromErrno(errno, DescribeAt("lseek SEEK_HOLE", path, static_cast<std::uint64_t>(data)));
      if (hole <= data)
        break;
      at = hole;
    }
    return holes;
  }

  Status CreateSymlinkUnder(const stdfs::path& root, std::string_view rel, std::string_view target) override {
    ParentAndName p;
    ATLAS_RETURN_IF_ERROR(OpenParentUnder(root, rel, "symlink", &p));
    const std::string t(target);
    if (::symlinkat(t.c_str(), p.parent.get(), p.name.c_str()) != 0)
      return UnderError(errno, "symlink", root, rel);
    return Status::Ok();
  }

  Status CreateNodeUnder(const stdfs::path& root, std::string_view rel, std::uint32_t mode,
                         std::uint64_t rdev) override {
    ParentAndName p;
    ATLAS_RETURN_IF_ERROR(OpenParentUnder(root, rel, "mknod", &p));
    // The permission bits are set exactly afterwards (SetMetadataUnder);
    // 0600 until then, whatever the umask.
    if (::mknodat(p.parent.get(), p.name.c_str(), static_cast<mode_t>((mode & S_IFMT) | 0600),
                  static_cast<dev_t>(rdev)) != 0)
      return UnderError(errno, "mknod", root, rel);
    return Status::Ok();
  }

  Status LinkUnder(const stdfs::path& root, std::string_view existing_rel, std::string_view new_rel,
                   std::uint64_t inode) override {
    ScopedFd fd;
    FileStat st;
    ATLAS_RETURN_IF_ERROR(OpenPathUnder(root, existing_rel, "link", &fd, &st));
    if (st.type != FileType::kRegular || (inode != 0 && st.inode != inode)) {
      return Status::FailedPrecondition(JoinUnder(root, existing_rel) +
                                        ": no longer the file to link (another file or not a regular file); not linked");
    }
    ParentAndName to;
    ATLAS_RETURN_IF_ERROR(OpenParentUnder(root, new_rel, "link", &to));
    if (::linkat(fd.get(), "", to.parent.get(), to.name.c_str(), AT_EMPTY_PATH) == 0)
      return Status::Ok();
    // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the descriptor's /proc link
    // reaches the same inode for anyone.
    if (errno != ENOENT && errno != EPERM)
      return Status::FromErrno(errno, "link " + JoinUnder(root, existing_rel) + " -> " + JoinUnder(root, new_rel));
    if (::linkat(AT_FDCWD, ProcFdPath(fd.get()).c_str(), to.parent.get(), to.name.c_str(), AT_SYMLINK_FOLLOW) != 0)
      return Status::FromErrno(errno, "link " + JoinUnder(root, existing_rel) + " -> " + JoinUnder(root, new_rel));
    return Status::Ok();
  }

  Status SetMetadataUnder(const stdfs::path& root, std::string_view rel, FileType type, std::uint64_t inode,
                          const EntryMetadata& meta) override {
    ScopedFd fd;
    FileStat st;
    ATLAS_RETURN_IF_ERROR(OpenPathUnder(root, rel, "set attributes of", &fd, &st));
    const stdfs::path path = JoinUnder(root, rel);
    if (st.type != type || (inode != 0 && st.inode != inode)) {
      return Status::FailedPrecondition(path.native() + ": no longer the entry to restore (replaced since); left alone");
    }
    const std::string proc = ProcFdPath(fd.get());
    const bool link = type == FileType::kSymlink;
    if (meta.xattrs != nullptr && !link)
      ATLAS_RETURN_IF_ERROR(WriteXattrs(XattrOpsOfPath(proc), path, *meta.xattrs));
    if (::fchownat(fd.get(), "", static_cast<uid_t>(meta.uid), static_cast<gid_t>(meta.gid), AT_EMPTY_PATH) != 0)
      return ErrnoStatus(errno, "chown", path);
    if (!link && ::chmod(proc.c_str(), static_cast<mode_t>(meta.mode & 07777)) != 0)
      return ErrnoStatus(errno, "chmod", path);
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1] = MtimeSpec(meta.mtime_ns);
    if (::utimensat(fd.get(), "", times, AT_EMPTY_PATH) != 0) {
      // Kernels before AT_EMPTY_PATH support in utimensat: through /proc,
      // which for anything but a symlink reaches the same inode.
      if (errno != EINVAL || link || ::utimensat(AT_FDCWD, proc.c_str(), times, 0) != 0)
        return ErrnoStatus(errno, "utimensat", path);
    }
    return Status::Ok();
  }

 private:
  // `rel` itself, opened O_PATH | O_NOFOLLOW in its parent (resolved
  // beneath root), and what fstat says it is.
  static Status OpenPathUnder(const stdfs::path& root, std::string_view rel, std::string_view op, ScopedFd* out,
                              FileStat* st) {
    ParentAndName p;
    ATLAS_RETURN_IF_ERROR(OpenParentUnder(root, rel, op, &p));
    int fd;
    do {
      fd = ::openat(p.parent.get(), p.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
      return UnderError(errno, op, root, rel);
    out->reset(fd);
    struct stat raw {};
    if (::fstat(fd, &raw) != 0)
      return UnderError(errno, op, root, rel);
    *st = ToFileStat(raw);
    return Status::Ok();
  }

  // mkdir -p for a path without trailing slashes: try the directory itself
  // first, so existing ancestors (which we may not even be allowed to
  // search) are never touched.
  static Status MakeDirs(const std::string& p) {
    if (::mkdir(p.c_str(), 0755) == 0)
      return Status::Ok();
    int err = errno;
    if (err == EEXIST) {
      struct stat st {};
      if (::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        return Status::Ok();
      return ErrnoStatus(EEXIST, "mkdir", p);
    }
    if (err != ENOENT)
      return ErrnoStatus(err, "mkdir", p);
    const std::size_t slash = p.find_last_of('/');
    if (slash == std::string::npos || slash == 0)
      return ErrnoStatus(err, "mkdir", p);
    ATLAS_RETURN_IF_ERROR(MakeDirs(p.substr(0, slash)));
    if (::mkdir(p.c_str(), 0755) == 0)
      return Status::Ok();
    err = errno;
    if (err == EEXIST)
      return Status::Ok();  // raced with another creator
    return ErrnoStatus(err, "mkdir", p);
  }
};

class PosixClock final : public Clock {
 public:
  std::int64_t NowUnixNanos() override { return Read(CLOCK_REALTIME); }
  std::int64_t MonotonicNanos() override { return Read(CLOCK_MONOTONIC); }
  // sleep_for resumes after signals (it loops on nanosleep's EINTR).
  void SleepFor(std::chrono::nanoseconds d) override {
    if (d.count() > 0)
      std::this_thread::sleep_for(d);
  }

 private:
  static std::int64_t Read(clockid_t id) {
    struct timespec ts {};
    ::clock_gettime(id, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 +
           static_cast<std::int64_t>(ts.tv_nsec);
  }
};

}  // namespace

FileSystem* FileSystem::Default() {
  // Never destroyed: other static destructors may still do I/O.
  static FileSystem* const fs = new PosixFileSystem();
  return fs;
}

Status FileSystem::RenameNoReplace(const stdfs::path& from, const stdfs::path& to) {
  // Race window: another process can create `to` between this Stat and the
  // Rename, and would be replaced. Callers that need atomicity get it from
  // the POSIX override on file systems with RENAME_NOREPLACE.
  Result<FileStat> st = Stat(to);
  if (st.ok())
    return Status::FromErrno(EEXIST, "rename " + from.native() + " -> " + to.native());
  if (st.status().code() != Code::kNotFound)
    return st.status();
  return Rename(from, to);
}

// The *Under calls have no safe meaning without real descriptors: a
// FileSystem that does not implement them (a test fake over a map) refuses.
namespace {
Status NoUnder(std::string_view op) {
  return Status::Internal(std::string(op) + ": this FileSystem has no beneath-root resolution");
}
}  // namespace

Result<std::unique_ptr<RandomAccessFile>> FileSystem::OpenUnder(const stdfs::path&, std::string_view) {
  return NoUnder("OpenUnder");
}
Result<FileStat> FileSystem::StatUnder(const stdfs::path&, std::string_view) { return NoUnder("StatUnder"); }
Result<std::unique_ptr<WritableFile>> FileSystem::CreateUnder(const stdfs::path&, std::string_view,
                                                              std::uint32_t) {
  return NoUnder("CreateUnder");
}
Status FileSystem::CreateDirsUnder(const stdfs::path&, std::string_view) { return NoUnder("CreateDirsUnder"); }
Result<std::vector<Xattr>> FileSystem::ListXattrsUnder(const stdfs::path&, std::string_view) {
  return NoUnder("ListXattrsUnder");
}
Result<std::string> FileSystem::ReadLinkUnder(const stdfs::path&, std::string_view) { return NoUnder("ReadLinkUnder"); }
Result<std::vector<ByteRange>> FileSystem::HolesUnder(const stdfs::path&, std::string_view) {
  return NoUnder("HolesUnder");
}
Status FileSystem::CreateSymlinkUnder(const stdfs::path&, std::string_view, std::string_view) {
  return NoUnder("CreateSymlinkUnder");
}
Status FileSystem::CreateNodeUnder(const stdfs::path&, std::string_view, std::uint32_t, std::uint64_t) {
  return NoUnder("CreateNodeUnder");
}
Status FileSystem::LinkUnder(const stdfs::path&, std::string_view, std::string_view, std::uint64_t) {
  return NoUnder("LinkUnder");
}
Status FileSystem::SetMetadataUnder(const stdfs::path&, std::string_view, FileType, std::uint64_t,
                                    const EntryMetadata&) {
  return NoUnder("SetMetadataUnder");
}
Status WritableFile::SetXattrs(const std::vector<Xattr>& xattrs) {
  if (xattrs.empty())
    return Status::Ok();
  return Status::Internal("SetXattrs: this WritableFile cannot set extended attributes");
}
Status FileSystem::RenameUnder(const stdfs::path&, std::string_view, std::string_view, bool) {
  return NoUnder("RenameUnder");
}
Status FileSystem::RemoveUnder(const stdfs::path&, std::string_view) { return NoUnder("RemoveUnder"); }
Status FileSystem::SyncDirUnder(const stdfs::path&, std::string_view) { return NoUnder("SyncDirUnder"); }

std::string Rfc3339(std::int64_t unix_ns) {
  std::time_t t = static_cast<std::time_t>(unix_ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Clock* Clock::Default() {
  static Clock* const clock = new PosixClock();
  return clock;
}

}  // namespace atlas
