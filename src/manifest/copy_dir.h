// Manifest copy directories that atlas-scrub owns, opened so that nobody
// else can redirect what root writes into them or reads out of them.
//
// A copy directory usually sits on a data disk, which every household user
// can write over SMB. Before root writes a manifest copy or outside.idx
// there, or restore-manifest reads one back, the directory is opened with
// O_NOFOLLOW|O_DIRECTORY and judged on the open descriptor (fstat):
//   - it is a directory, not a symlink (nor a file, FIFO, ...);
//   - it is owned by the process's effective uid;
//   - it is not writable by group or others (so nobody else can add,
//     rename or remove entries in it).
// The backup subdirectory ("manifest") must pass the same test, is created
// mode 0700 and tightened to 0700 when an older version left it 0755, and
// every entry under it must be a directory or regular file owned by the
// euid: a symlink, FIFO or device in there was planted, and RocksDB would
// follow or block on it.
//
// RocksDB's BackupEngine takes a path, not a descriptor, so callers hand it
// BackupPath() ("/proc/self/fd/N"): the kernel resolves that to the very
// directory that was checked, whatever is renamed around it afterwards.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "atlas/finding.h"
#include "atlas/status.h"

namespace atlas {

// The name of the backup subdirectory inside a copy directory.
inline constexpr const char* kCopyBackupDirName = "manifest";

class CopyDir {
 public:
  // Opens `dir`. With `create`, creates it (mode 0755, its missing parents
  // as create_directories does) and its backup subdirectory (0700).
  //   kFailedPrecondition: the directory (or its backup subdirectory, or an
  //     entry under that) is not one atlas can trust; message() says what
  //     is wrong and what would be right. Nothing was written there.
  //   kNotFound: !create and the directory does not exist (or has no backup
  //     subdirectory and `need_backup`)
  //   other codes: the system call that failed, with errno
  static Result<CopyDir> Open(const std::filesystem::path& dir, bool create, bool need_backup);

  CopyDir(CopyDir&& other) noexcept;
  CopyDir& operator=(CopyDir&& other) noexcept;
  CopyDir(const CopyDir&) = delete;
  CopyDir& operator=(const CopyDir&) = delete;
  ~CopyDir();

  const std::filesystem::path& dir() const { return dir_; }
  // Descriptor of the copy directory itself, owned by this object.
  int fd() const { return fd_; }
  // "/proc/self/fd/N" of the copy directory: a path for path-based calls
  // (WriteFileAtomic) that the kernel resolves to the very directory that
  // was checked.
  std::string FdPath() const;
  // "/proc/self/fd/N" of the backup subdirectory; empty if it has none.
  std::string BackupPath() const;
  // Sets every regular file under the backup subdirectory to mode 0600,
  // through descriptors (RocksDB creates them 0644).
  Status TightenBackupFiles() const;

 private:
  CopyDir() = default;
  std::filesystem::path dir_;
  int fd_ = -1;
  int backup_fd_ = -1;
};

// A kFailedPrecondition from CopyDir::Open as the warning finding that
// sync, scrub and fix report. The finding's path is the copy directory.
Finding CopyDirFinding(const std::filesystem::path& dir, const Status& refusal);
// Appends `f` unless a finding about the same directory is already there
// (the manifest copy and the outside index judge the same directory).
void AddCopyDirFinding(std::vector<Finding>* findings, Finding f);

// Opens the directory at `path` (following a symlink the admin may have
// made there), and when its mode gives group or others any access, sets it
// to owner-only through the descriptor (fchmod). Used for the manifest's
// own directory and for restore's temporary directory.
Status TightenDir(const std::filesystem::path& path);
// Sets `dir` to 0700 and every regular file in it (and in its
// subdirectories, three levels deep) to 0600 through descriptors.
Status TightenTree(const std::filesystem::path& dir);

}  // namespace atlas
