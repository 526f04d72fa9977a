// Internal: opening the manifest over a chosen rocksdb::Env, so fault tests
// can inject errors into the manifest's own I/O (rocksdb::FileSystemWrapper
// through rocksdb::NewCompositeEnv).
#pragma once

#include <filesystem>
#include <memory>

#include "atlas/manifest.h"

namespace rocksdb {
class Env;
class Status;
}  // namespace rocksdb

namespace atlas {

// Like OpenManifest, with `env` (not owned; must outlive the manifest) used for
// every file the database touches. nullptr means rocksdb::Env::Default().
Result<std::unique_ptr<Manifest>> OpenManifestWithEnv(const std::filesystem::path& path,
                                                      const ManifestOptions& options,
                                                      rocksdb::Env* env);

// Maps a RocksDB status to ours (NoSpace -> kNoSpace, Busy/lock -> kBusy,
// Corruption -> kCorruption, everything else -> kIOError), with `what` as
// context.
Status FromRocksDb(const rocksdb::Status& s, std::string_view what);

}  // namespace atlas
