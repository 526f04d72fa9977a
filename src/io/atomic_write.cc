// WriteFileAtomic (atlas/env.h): the one way atlas replaces a whole file.
// Everything goes through the FileSystem it is given, so fault tests can
// fail any step, and a caller that must write inside a directory it judged
// by descriptor passes "/proc/self/fd/N/NAME" (the outside index does):
// every step then resolves to that very directory.
#include <cerrno>
#include <span>
#include <string>

#include <unistd.h>

#include "atlas/env.h"
#include "core/crash_point.h"

namespace atlas {
namespace {

namespace stdfs = std::filesystem;

stdfs::path TempPath(const stdfs::path& path, bool hidden) {
  const std::string pid = std::to_string(::getpid());
  if (!hidden) return path.native() + ".tmp." + pid;
  return path.parent_path() / ("." + path.filename().native() + "." + pid + ".tmp");
}

// Puts the temporary over `path`; `exclusive` never replaces a file there.
Status RenameInto(FileSystem* fs, const stdfs::path& tmp, const stdfs::path& path, bool exclusive) {
  if (!exclusive) return fs->Rename(tmp, path);
  Status s = fs->RenameNoReplace(tmp, path);
  if (!s.ok() && s.sys_errno() == EEXIST) return Status::FailedPrecondition(path.native() + " already exists");
  return s;
}

}  // namespace

Status WriteFileAtomic(FileSystem* fs, const stdfs::path& path, std::string_view contents,
                       const AtomicWriteOptions& options) {
  if (options.exclusive) {
    Result<FileStat> st = fs->Stat(path);
    if (st.ok()) return Status::FailedPrecondition(path.native() + " already exists");
    if (st.status().code() != Code::kNotFound) return st.status();
  }
  const stdfs::path tmp = TempPath(path, options.hidden_temp);
  // A stale temporary (an earlier run with the same pid crashed) would keep
  // its old mode under kCreate; start from scratch instead.
  fs->Remove(tmp).IgnoreError();
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                         fs->OpenForWrite(tmp, OpenMode::kCreateExclusive, options.mode));
  const auto fail = [&](const Status& s) {
    file.reset();
    fs->Remove(tmp).IgnoreError();
    return s;
  };
  if (options.exact_mode) {
    if (Status s = file->SetMode(options.mode); !s.ok()) return fail(s);
  }
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(contents.data()),
                                         contents.size());
  if (Status s = file->WriteAt(0, bytes); !s.ok()) return fail(s);
  if (Status s = file->Sync(); !s.ok()) return fail(s);
  if (Status s = file->Close(); !s.ok()) return fail(s);
  // Invariant: the new contents are durable in `tmp`; `path` still holds the
  // old ones. A crash here leaves both, and the next write replaces `tmp`.
  ATLAS_CRASH_POINT(std::string(options.crash_points) + "_before_rename");
  if (Status s = RenameInto(fs, tmp, path, options.exclusive); !s.ok()) return fail(s);
  // Invariant: `path` names the new, durable contents, but the rename itself
  // is durable only after SyncDir; a crash here may bring back the old file,
  // never a partial one.
  ATLAS_CRASH_POINT(std::string(options.crash_points) + "_after_rename");
  const stdfs::path dir = path.has_parent_path() ? path.parent_path() : stdfs::path(".");
  return fs->SyncDir(dir);
}

Status WriteFileAtomic(FileSystem* fs, const stdfs::path& path, std::string_view contents,
                       std::uint32_t mode, bool exclusive) {
  AtomicWriteOptions options;
  options.mode = mode;
  options.exclusive = exclusive;
  return WriteFileAtomic(fs, path, contents, options);
}

}  // namespace atlas
