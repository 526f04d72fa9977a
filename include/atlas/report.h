// Views of the array for the admin: `status` (the one-glance view) and
// `disks` (the block devices behind the array). Both only read: the
// manifest, the disks' metadata and the system's device databases.
//
// Each call takes a RunContext and fills a report; on an error the report
// holds what was gathered before it.
//
// Thread-safety: each call is self-contained and uses its own threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "atlas/disk.h"
#include "atlas/engine.h"
#include "atlas/finding.h"
#include "atlas/run_context.h"
#include "atlas/status.h"

namespace atlas {

struct DiskStatus {
  std::string name;
  std::string role;  // "data" | "parity"
  std::string path;
  std::string device;
  std::string model;
  std::string serial;
  std::string fs_uuid;
  bool mounted = false;  // present and, where it was a mount point, still one
  std::string smart = "unknown";          // the newest stored reading's verdict
  std::optional<std::int64_t> smart_read_ns;        // when it was taken
  std::optional<std::int64_t> temperature_c;        // what it said
  bool over_temp_limit = false;                     // hotter than [smart] temp_limit
  // "active", "standby" or "unknown", asked without waking the disk
  // (StatusOptions::power_states).
  std::string power = "unknown";
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
  // data: entries recorded at the last sync (issue 17)
  std::uint64_t directories = 0;
  std::uint64_t symlinks = 0;
  std::uint64_t hard_links = 0;
  std::uint64_t special_files = 0;
};

// One [[outside.hosts]] host as `status` shows it (its stored record).
struct OutsideHostStatus {
  std::string host;
  std::optional<std::int64_t> checked_ns;       // last successful scan; nullopt: never
  std::optional<std::int64_t> last_attempt_ns;  // newest attempt; nullopt: never run
  bool reachable = false;  // the newest attempt succeeded
  std::string error;       // why it failed (raw host output: DisplayPath to print)
  std::uint64_t only_copy = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t scanned_files = 0;
};

struct StatusReport {
  int health = 0;  // 0 ok, 1 warning, 2 critical
  std::size_t data_disks = 0;
  std::size_t parity_levels = 0;
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
  std::uint32_t block_size = 0;
  std::uint64_t blocks = 0;           // blocks in use
  std::uint64_t positions_unsynced = 0;
  std::optional<std::int64_t> last_sync_ns;
  std::optional<std::int64_t> last_scrub_ns;
  double verified_pct_30d = 0;        // share of blocks verified in the last 30 days
  std::int64_t oldest_unverified_days = 0;
  bool synced_ever = false;
  DriftCounts drift;
  // How much of the drift walk ran: "full" (every disk walked to the end),
  // "partial" (stopped at the time limit: the counts are what it saw, and
  // deletions are not counted), or "skipped".
  std::string drift_walk = "full";
  std::uint64_t drift_files_walked = 0;
  std::vector<DiskStatus> disks;
  std::vector<Finding> findings;      // open findings that need attention, then info
  // The outside index's public key ("ed25519:..."), empty before the first
  // sync that wrote an index.
  std::string outside_key;
  // Every configured [[outside.hosts]] host, in config order.
  std::vector<OutsideHostStatus> outside;
};

enum class DriftWalk : std::uint8_t {
  kBounded,  // walk until StatusOptions::drift_time_limit_ns, then report what was seen
  kFull,     // walk every disk to the end, however long it takes
  kNone,     // no walk: drift from the manifest alone (unsynced positions)
};

struct StatusOptions {
  DriftWalk drift = DriftWalk::kBounded;
  // Ask each disk with a block device whether it sleeps (hdparm -C, sdparm:
  // atlas/power.h), which never wakes it.
  bool power_states = true;
  std::int64_t drift_time_limit_ns = 300'000'000;  // 0.3 s
};

// The one-glance view: stored findings, live guard checks, drift
// (metadata only), scrub coverage. Writes nothing. Coverage comes from the
// manifest's coverage summary and disk records, so everything but the drift
// walk costs O(disks + open findings + dirty positions), not O(files).
Status BuildStatus(const RunContext& ctx, const StatusOptions& options, StatusReport* report);
// BuildStatus with the default StatusOptions (a drift walk bounded to 0.3 s).
Status BuildStatus(const RunContext& ctx, StatusReport* report);

// One configured data disk or parity level and what holds it.
struct DiskInfo {
  std::string name;
  std::string role;  // "data" | "parity"
  std::string path;  // data: mount path; parity: the parity file
  bool present = false;  // data: the directory exists; parity: the file's directory does
  // Present and, where it was a mount point at the last sync, still one.
  bool mounted = false;
  std::optional<FsIdentity> fs;       // the filesystem holding the path; nullopt: not present
  std::optional<BlockDevice> device;  // nullopt: no block device (tmpfs, network, FUSE)
  std::optional<std::string> recorded_uuid;    // at the last sync; nullopt: never synced
  std::optional<std::string> recorded_serial;
  std::optional<std::string> recorded_device;
};

struct DisksReport {
  std::vector<DiskInfo> disks;
  // missing_disk for a disk that is absent, unmounted or another disk than
  // recorded; shared_filesystem (info) for disks on one filesystem.
  std::vector<Finding> findings;
};

// The block devices behind the array (`disks`): mountinfo, sysfs, libblkid
// and the udev database where there is one. Writes nothing.
Status ListArrayDisks(const RunContext& ctx, DisksReport* report);

}  // namespace atlas
