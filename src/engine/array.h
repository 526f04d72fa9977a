// The array as configured, matched with what the manifest recorded: the
// view every command starts from. The guards that judge it are beside it
// (engine/disk_guards.h); how its blocks are read is engine/read_layout.h.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "atlas/disk.h"
#include "atlas/manifest.h"
#include "atlas/parity.h"
#include "atlas/run_context.h"

namespace atlas {

struct ArrayDataDisk {
  std::string name;
  std::filesystem::path root;
  std::uint16_t slot = 0;
  std::optional<DiskRecord> record;  // nullopt: never synced
  std::optional<FsIdentity> identity;  // nullopt: could not be probed (missing)
  bool present = false;                // root exists and is a directory
};

struct ArrayParity {
  std::string name;
  std::filesystem::path path;
  int level = 0;
  std::optional<DiskRecord> record;
  std::optional<FsIdentity> identity;  // of the directory holding the file
  std::optional<std::uint64_t> file_size;  // nullopt: file absent
};

struct ArrayView {
  std::vector<ArrayDataDisk> data;
  std::vector<ArrayParity> parity;
  std::vector<DiskRecord> orphans;  // data disks in the manifest but not in the config
  std::uint32_t block_size = 0;
  bool synced_ever = false;
  std::optional<std::int64_t> last_sync_ns;
  std::optional<std::int64_t> last_scrub_ns;
  std::uint64_t next_file_id = 1;
};

// Matches config and manifest (`manifest` may be null before the first
// sync), assigns slots to new data disks and probes every disk's identity.
// kInvalidArgument when the config contradicts the manifest in a way only the
// user can resolve (block size changed, parity levels removed).
Result<ArrayView> LoadArray(const RunContext& ctx, Manifest* manifest);

// Identity as stored in the manifest.
DiskIdentityRecord ToRecord(const FsIdentity& id);

}  // namespace atlas
