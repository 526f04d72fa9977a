// The array as configured, matched with what the manifest recorded, and the
// disk guards of SPEC "Safety rules" that do not need a walk.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "atlas/disk.h"
#include "atlas/engine.h"
#include "atlas/manifest.h"
#include "atlas/parity.h"

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

// kInvalidArgument when a data disk of the manifest is not in the config
// (array.orphans): sync, scrub, check and fix all stop, since parity
// computed or "repaired" without it would make its files unrecoverable.
Status CheckOrphans(const Config& config, const ArrayView& array);

// missing_disk findings for disks that are absent, no longer a mount point,
// or carry another filesystem than recorded, and for parity files that are
// missing or shorter than recorded. (An emptied disk needs a walk: see scan.)
std::vector<Finding> CheckDiskGuards(const ArrayView& array);

// shared_filesystem (info) for configured disks that sit on one filesystem.
std::vector<Finding> SharedFilesystemFindings(const ArrayView& array);

// Whether a data disk is there as recorded: its directory exists and, where
// it was a mount point at the last sync, it still is one.
bool DataDiskMounted(const ArrayDataDisk& d);
// Whether a parity file that held data at the last sync is still there.
bool ParityMounted(const ArrayParity& p);

// Whether block reads go by whole stripes (ReadLayout::kWholeStripes) rather
// than one reader per disk. `auto` picks whole stripes when no
// bandwidth_limit is set and every data disk and parity file is known not
// to be rotational (SSDs, RAM): there the reads cost CPU (the kernel's page
// copies), not waits, and a worker per core that reads, hashes and checks a
// whole stripe keeps every core busy and the stripe in cache. On hard disks
// a reader per disk keeps each disk streaming in order, all disks at once.
bool ReadsWholeStripes(const Config& config, const ArrayView& array);

// Worker threads for whole-stripe reads: io_threads, or one per core.
std::size_t WholeStripeWorkers(const Config& config);

// Identity as stored in the manifest.
DiskIdentityRecord ToRecord(const FsIdentity& id);

}  // namespace atlas
