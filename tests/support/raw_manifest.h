// The manifest's RocksDB opened directly, below the Manifest interface: for
// tests that make a manifest what an older program left (docs/FORMAT.md:
// meta := 'm' name), or look at its raw keys.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <rocksdb/db.h>

namespace atlas::testing {

// Opens the database (REQUIREs success).
std::unique_ptr<rocksdb::DB> OpenRaw(const std::filesystem::path& dir);
// The meta key `name`'s value, or "<none>".
std::string Meta(const std::filesystem::path& dir, const std::string& name);
// Sets (or, with nullptr, deletes) the meta key `name`, durably.
void SetMeta(const std::filesystem::path& dir, const std::string& name, const std::string* value);

}  // namespace atlas::testing
