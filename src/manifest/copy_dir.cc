// Manifest copy directories, opened and judged by descriptor (copy_dir.h).
//
// Why a descriptor and not a path check: a user who can write the data disk
// can swap ".atlas-scrub" for a symlink between a stat by name and the open
// that follows; a check on the open descriptor cannot be raced that way, and
// everything after it (RocksDB through /proc/self/fd/N, outside.idx through
// openat) goes through that descriptor.
//
// Why ownership and mode, not a content check: a directory that only the
// euid can write holds only what the euid put there, so nothing in it can be
// a planted symlink, forged backup or rolled-back copy. A directory anyone
// else owns or may write is refused whole, with the command that fixes it;
// atlas never chowns or chmods a directory someone else made (that would
// bless whatever they planted).
//
// Rejected: openat2(RESOLVE_NO_SYMLINKS) for the whole path: the admin's
// configured path may legitimately pass through symlinks (/mnt -> /srv/mnt);
// only the last component is on a disk users write. The parents are
// resolved as configured.
#include "manifest/copy_dir.h"

#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace atlas {
namespace fs = std::filesystem;

namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
// Nesting of a RocksDB backup directory: meta/N, private/N/FILE,
// shared_checksum/FILE. Deeper than this is not RocksDB's.
constexpr int kMaxBackupDepth = 3;

std::string Mode(mode_t m) {
  return fmt::format("{:04o}", m & 07777);
}

Status Refuse(std::string what) {
  return Status::FailedPrecondition(std::move(what));
}

// Judges an open directory: owned by the euid, not writable by group or
// others. `name` is what the message calls it; `fix` is the advice.
Status JudgeDir(int fd, const std::string& name, const std::string& fix) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return Status::FromErrno(errno, "fstat " + name);
  if (!S_ISDIR(st.st_mode))
    return Refuse(fmt::format("{} is not a directory; {}", name, fix));
  const uid_t euid = ::geteuid();
  if (st.st_uid != euid) {
    return Refuse(
        fmt::format("{} is owned by uid {}, not by uid {} that runs atlas-scrub, so its "
                    "owner could plant or replace what atlas writes and reads there; {}",
                    name, st.st_uid, euid, fix));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Refuse(fmt::format("{} is writable by group or others (mode {}); {}", name,
                              Mode(st.st_mode), fix));
  }
  return Status::Ok();
}

// The names in the directory open at `fd` ("." and ".." left out), read
// through a duplicate so that `fd` stays usable for fstatat and openat.
Result<std::vector<std::string>> ListNames(int fd, const std::string& where) {
  int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0)
    return Status::FromErrno(errno, "dup " + where);
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    int err = errno;
    ::close(dup);
    return Status::FromErrno(err, "opendir " + where);
  }
  ::rewinddir(d);
  std::vector<std::string> names;
  Status s;
  for (;;) {
    errno = 0;
    dirent* e = ::readdir(d);
    if (e == nullptr) {
      if (errno != 0)
        s = Status::FromErrno(errno, "readdir " + where);
      break;
    }
    const std::string name = e->d_name;
    if (name != "." && name != "..")
      names.push_back(name);
  }
  ::closedir(d);
  if (!s.ok())
    return s;
  return names;
}

// Every entry under the backup directory `fd` must be a directory or a
// regular file owned by the euid. `rel` is the path so far, for messages.
Status ScanBackup(int fd, const std::string& rel, int depth, const std::string& where,
                  const std::string& fix) {
  ATLAS_ASSIGN_OR_RETURN(std::vector<std::string> names,
                         ListNames(fd, rel.empty() ? where : where + "/" + rel));
  const uid_t euid = ::geteuid();
  for (const std::string& name : names) {
    const std::string path = rel.empty() ? name : rel + "/" + name;
    struct stat st {};
    if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return Status::FromErrno(errno, "stat " + where + "/" + path);
    if (S_ISLNK(st.st_mode) || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
      return Refuse(fmt::format("{} holds {} {}, which atlas-scrub did not create there; {}",
                                where, S_ISLNK(st.st_mode) ? "a symbolic link" : "a special file",
                                path, fix));
    }
    if (st.st_uid != euid) {
      return Refuse(fmt::format("{} holds {}, owned by uid {}, which atlas-scrub did not create "
                                "there; {}",
                                where, path, st.st_uid, fix));
    }
    if (!S_ISDIR(st.st_mode))
      continue;
    if (depth >= kMaxBackupDepth) {
      return Refuse(fmt::format("{} holds a directory {} nested deeper than a manifest copy has; {}",
                                where, path, fix));
    }
    int sub = ::openat(fd, name.c_str(), kDirFlags);
    if (sub < 0)
      return Status::FromErrno(errno, "open " + where + "/" + path);
    Status s = ScanBackup(sub, path, depth + 1, where, fix);
    ::close(sub);
    ATLAS_RETURN_IF_ERROR(s);
  }
  return Status::Ok();
}

Status ChmodFiles(int fd, const std::string& where, int depth) {
  ATLAS_ASSIGN_OR_RETURN(std::vector<std::string> names, ListNames(fd, where));
  for (const std::string& name : names) {
    struct stat st {};
    if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      continue;  // gone: fine
    if (S_ISDIR(st.st_mode) && depth < kMaxBackupDepth) {
      int sub = ::openat(fd, name.c_str(), kDirFlags);
      if (sub < 0)
        continue;
      if ((st.st_mode & 077) != 0)
        ::fchmod(sub, 0700);
      Status s = ChmodFiles(sub, where + "/" + name, depth + 1);
      ::close(sub);
      ATLAS_RETURN_IF_ERROR(s);
    } else if (S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
      int f = ::openat(fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
      if (f < 0)
        continue;
      const bool ok = ::fchmod(f, st.st_mode & 0600) == 0;
      const int err = errno;
      ::close(f);
      if (!ok)
        return Status::FromErrno(err, "chmod " + where + "/" + name);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<CopyDir> CopyDir::Open(const fs::path& dir, bool create, bool need_backup) {
  const std::string fix = fmt::format(
      "make it a directory owned by uid {} and writable only by it (chown root:root and chmod "
      "0755 {}), or remove it and let sync create it",
      ::geteuid(), dir.string());
  CopyDir out;
  out.dir_ = dir;
  const fs::path parent = dir.has_parent_path() ? dir.parent_path() : fs::path("/");
  const std::string name = dir.filename().string();
  if (name.empty() || name == "." || name == "..") {
    return Status::InvalidArgument(
        fmt::format("manifest copy directory {} has no name of its own", dir.string()));
  }
  if (create) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec)
      return Status::FromErrno(ec.value(), "create manifest copy directory " + dir.string());
  }
  int pfd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0)
    return Status::FromErrno(errno, "open manifest copy directory " + dir.string());
  int fd = ::openat(pfd, name.c_str(), kDirFlags);
  if (fd < 0 && errno == ENOENT && create) {
    if (::mkdirat(pfd, name.c_str(), 0755) != 0 && errno != EEXIST) {
      int err = errno;
      ::close(pfd);
      return Status::FromErrno(err, "create manifest copy directory " + dir.string());
    }
    fd = ::openat(pfd, name.c_str(), kDirFlags);
  }
  int err = errno;
  struct stat lst {};
  // O_DIRECTORY|O_NOFOLLOW on a symlink fails with ENOTDIR, as on a file.
  const bool is_link = fd < 0 && ::fstatat(pfd, name.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
                       S_ISLNK(lst.st_mode);
  ::close(pfd);
  if (fd < 0) {
    if (err == ELOOP || is_link) {
      return Refuse(
          fmt::format("manifest copy directory {} is a symbolic link; {}", dir.string(), fix));
    }
    if (err == ENOTDIR) {
      return Refuse(
          fmt::format("manifest copy directory {} is not a directory; {}", dir.string(), fix));
    }
    return Status::FromErrno(err, "open manifest copy directory " + dir.string());
  }
  out.fd_ = fd;
  ATLAS_RETURN_IF_ERROR(JudgeDir(fd, "manifest copy directory " + dir.string(), fix));

  const std::string where = (dir / kCopyBackupDirName).string();
  const std::string backup_fix =
      fmt::format("remove {} (as root) and let the next sync write a new copy", where);
  int bfd = ::openat(fd, kCopyBackupDirName, kDirFlags);
  if (bfd < 0 && errno == ENOENT && create) {
    if (::mkdirat(fd, kCopyBackupDirName, 0700) != 0 && errno != EEXIST) {
      return Status::FromErrno(errno, "create " + where);
    }
    bfd = ::openat(fd, kCopyBackupDirName, kDirFlags);
  }
  if (bfd < 0) {
    err = errno;
    if (err == ENOENT && !need_backup)
      return out;
    if (err == ELOOP || err == ENOTDIR) {
      const bool link =
          err == ELOOP || (::fstatat(fd, kCopyBackupDirName, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
                           S_ISLNK(lst.st_mode));
      return Refuse(fmt::format("{} is {}; {}", where, link ? "a symbolic link" : "not a directory",
                                backup_fix));
    }
    return Status::FromErrno(err, "open " + where);
  }
  out.backup_fd_ = bfd;
  ATLAS_RETURN_IF_ERROR(JudgeDir(bfd, where, backup_fix));
  // A copy written before copies were root-only is 0755: the directory is
  // the euid's and nobody else could write it, so tightening it is safe.
  struct stat st {};
  if (::fstat(bfd, &st) != 0)
    return Status::FromErrno(errno, "fstat " + where);
  if ((st.st_mode & 077) != 0 && ::fchmod(bfd, 0700) != 0) {
    return Status::FromErrno(errno, "chmod 0700 " + where);
  }
  ATLAS_RETURN_IF_ERROR(ScanBackup(bfd, "", 1, where, backup_fix));
  return out;
}

CopyDir::CopyDir(CopyDir&& other) noexcept
    : dir_(std::move(other.dir_)), fd_(other.fd_), backup_fd_(other.backup_fd_) {
  other.fd_ = -1;
  other.backup_fd_ = -1;
}

CopyDir& CopyDir::operator=(CopyDir&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    if (backup_fd_ >= 0)
      ::close(backup_fd_);
    dir_ = std::move(other.dir_);
    fd_ = other.fd_;
    backup_fd_ = other.backup_fd_;
    other.fd_ = -1;
    other.backup_fd_ = -1;
  }
  return *this;
}

CopyDir::~CopyDir() {
  if (fd_ >= 0)
    ::close(fd_);
  if (backup_fd_ >= 0)
    ::close(backup_fd_);
}

std::string CopyDir::FdPath() const { return fmt::format("/proc/self/fd/{}", fd_); }

std::string CopyDir::BackupPath() const {
  return backup_fd_ < 0 ? std::string() : fmt::format("/proc/self/fd/{}", backup_fd_);
}

Status CopyDir::TightenBackupFiles() const {
  if (backup_fd_ < 0)
    return Status::Ok();
  return ChmodFiles(backup_fd_, (dir_ / kCopyBackupDirName).string(), 1);
}

Finding CopyDirFinding(const fs::path& dir, const Status& refusal) {
  return MakeFinding(FindingKind::kUnsafeCopyDir, "", dir.string(),
                     std::string(refusal.message()) + "; nothing was written there");
}

void AddCopyDirFinding(std::vector<Finding>* findings, Finding f) {
  for (const Finding& have : *findings) {
    if (have.kind == f.kind && have.path == f.path)
      return;
  }
  findings->push_back(std::move(f));
}

Status TightenDir(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return Status::FromErrno(errno, "open " + path.string());
  struct stat st {};
  Status s;
  if (::fstat(fd, &st) != 0) {
    s = Status::FromErrno(errno, "fstat " + path.string());
  } else if ((st.st_mode & 077) != 0 && st.st_uid == ::geteuid() &&
             ::fchmod(fd, st.st_mode & 0700) != 0) {
    s = Status::FromErrno(errno, "chmod 0700 " + path.string());
  }
  ::close(fd);
  return s;
}

Status TightenTree(const fs::path& dir) {
  int fd = ::open(dir.c_str(), kDirFlags);
  if (fd < 0)
    return Status::FromErrno(errno, "open " + dir.string());
  Status s;
  if (::fchmod(fd, 0700) != 0)
    s = Status::FromErrno(errno, "chmod 0700 " + dir.string());
  if (s.ok())
    s = ChmodFiles(fd, dir.string(), 1);
  ::close(fd);
  return s;
}

}  // namespace atlas
