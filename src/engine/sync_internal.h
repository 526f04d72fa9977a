// What the passes of sync share. sync.cc runs them in order (its top says
// how sync works as a whole); each pass has its own file:
//   sync_check.cc   1. Check: guards and "nothing to do", read-only
//   sync_apply.cc   2. Apply: each change into manifest records
//   sync_parity.cc  3. Parity: dirty positions read, hashed, parity written
//   sync_finish.cc  4. Finish: contents, moves, findings, run record, copies
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "atlas/engine.h"
#include "atlas/manifest.h"
#include "engine/array.h"
#include "engine/extent_map.h"

namespace atlas::sync {

// A dirty entry with this slot asks for the parity of a position to be
// recomputed without any data change (a parity level was added).
inline constexpr std::uint16_t kParityOnlySlot = 0xffff;
// Apply-pass batches: files per commit.
inline constexpr std::size_t kApplyBatchFiles = 4096;

// The manifest record of a configured parity level as it is now.
DiskRecord ParityRecord(const ArrayParity& p);

// Drift findings, capped, with complete counts beside them.
class DriftList {
 public:
  explicit DriftList(std::size_t max) : max_(max) {}
  void Add(Finding f);
  // Removes an added/deleted finding that turned out to be half of a move.
  void Remove(FindingKind kind, const std::string& disk, const std::string& path);
  std::vector<Finding> Take() { return std::move(items_); }
  bool truncated() const { return truncated_; }

 private:
  std::mutex mu_;
  std::size_t max_;
  std::vector<Finding> items_;  // REQUIRES: mu_ held
  bool truncated_ = false;      // REQUIRES: mu_ held
};

// The problems a sync found and the stored findings it may close, from any
// thread.
class SyncFindings {
 public:
  explicit SyncFindings(std::size_t max_drift) : drift(max_drift) {}
  void Problem(Finding f);
  // Stored read_error/silent_corruption findings to watch, by (disk, path):
  // the file offsets they are about. Set before the parity pass.
  void Watch(const std::vector<StoredFinding>& stored);
  bool watching() const { return !watched_.empty(); }
  // A block [begin, begin + len) of `disk`:`path` read back clean: the
  // watched findings inside it can be closed (unless reported again).
  void NoteCleanRead(const std::string& disk, const std::string& path, std::uint64_t begin, std::uint64_t len);
  // Whether a stored finding's block read back clean and this run did not
  // report it again.
  bool Healed(const Finding& stored) const;
  std::vector<Finding> Problems() const;
  // The problems, then the drift findings.
  std::vector<Finding> TakeAll();

  DriftList drift;

 private:
  mutable std::mutex mu_;
  std::vector<Finding> problems_;  // REQUIRES: mu_ held
  std::vector<Finding> healed_;    // REQUIRES: mu_ held
  std::map<std::pair<std::string, std::string>, std::vector<std::uint64_t>> watched_;  // read-only once set
};

// Stripes whose parity could not be computed (a read error, a corrupt
// block, a parity level unreadable): the position, and the data slots whose
// block failed. The first kMax; the count is complete.
struct FailedStripes {
  struct Stripe {
    std::uint64_t pos = 0;
    std::vector<std::uint16_t> failed_slots;
  };
  static constexpr std::size_t kMax = 1000;
  std::vector<Stripe> first;
  std::uint64_t count = 0;
};

// The state of one sync, passed from pass to pass.
struct SyncState {
  SyncState(const RunContext& c, const SyncOptions& o, SyncReport* r)
      : ctx(c), config(*c.config), options(o), report(r), findings(o.max_drift_findings) {}

  const RunContext& ctx;
  const Config& config;
  const SyncOptions& options;
  SyncReport* report;
  SyncFindings findings;

  std::unique_ptr<Manifest> m;  // read-write from the apply pass on
  ArrayView array;
  std::vector<ExtentMap> free_maps;  // by array.data index
  std::atomic<std::uint64_t> next_file_id{1};
  // The apply pass's disk threads: their commits and report counts.
  std::mutex apply_mu;
  // Files added by this run have ids from here to next_file_id (moves
  // across disks are looked for among them, by content, in Finish).
  std::uint64_t first_new_file_id = 1;
  // Files whose blocks were synced since the last StoreContents; bounded by
  // kContentFlushFiles (docs/DESIGN.md "Scale").
  std::set<std::uint64_t> touched_ids;
  // The stored parity_written_from (sync_parity.cc), as this run keeps it.
  std::optional<std::uint64_t> written_from;
  FailedStripes failed;
  std::int64_t start_ns = 0;
  bool copies_pending = false;  // the manifest changed since its last copy
};

// 1. Read-only: *nothing_to_do when there is no change, dirty position or
//    stale disk record. kFailedPrecondition when a guard trips.
Status Check(SyncState& st, bool* nothing_to_do);
// 2. Reopens the manifest read-write and records every change.
Status Apply(SyncState& st);
// 3. Computes and writes the parity of every dirty position.
Status WriteParity(SyncState& st);
// 4. Content identities, moves across disks, findings, disk records, the
//    run record, then the manifest copies.
Status Finish(SyncState& st);
// The manifest into every manifest_copies directory, with the outside index.
Status CopyManifest(SyncState& st);
// The content identity of every file of `ids` whose blocks are all synced
// and committed.
Status StoreContents(SyncState& st, const std::set<std::uint64_t>& ids);
// A sync that failed half way still says so in `status`: an `unsynced`
// finding and a run record, best effort.
void RecordFailure(SyncState& st, const Status& failure);

}  // namespace atlas::sync
