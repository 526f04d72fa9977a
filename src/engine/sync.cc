// sync: bring the manifest and the parity up to date with the data disks.
//
// The approach, in four passes:
//
//  1. Check (read-only). Take the manifest lock, open the manifest read-only,
//     probe every disk, and walk all data disks in parallel, merge-joining
//     each walk with the manifest (engine/scan.h). The disk and delete guards
//     are decided here, so a sync that a guard refuses has written nothing:
//     the manifest is opened read-only and RocksDB's info log is discarded,
//     which leaves its directory byte-identical. A sync with nothing to do
//     stops here too, in the time of one metadata walk.
//  2. Apply. Walk again (the metadata is in the dentry cache) and record each
//     change: added and modified files get block positions marked dirty,
//     deleted files' positions are marked deleted-and-dirty, moves just
//     rename the record. Batches commit every few thousand files; a lost
//     batch is redone by the next scan, so they need no fsync.
//  3. Parity. Take the dirty positions in order, a window at a time. For each
//     position read the block of every data disk there (one reader thread
//     per disk, all disks at once, hashing on the reader thread, so hashing
//     uses every core), verify synced blocks against their checksums, hash
//     new ones, re-stat the file after reading (a file that changed while
//     read is drift, never corruption), compute all parity levels with ISA-L
//     and write them. Every few hundred MiB: fdatasync the parity, then
//     commit the manifest durably (the invariant is written at that line).
//     A position whose stripe had a read error, a corrupt block or a file
//     that changed stays dirty, with a finding; the next sync retries it.
//  4. Finish. Content identities of completed files, moves across disks
//     (a deleted file's content reappearing elsewhere), disk identities, run
//     history, then a copy of the manifest into every manifest_copies dir.
//
// Parity is written only at dirty positions, in one of two ways per stripe.
// A full recompute reads every data disk's block there (and verifies the
// synced ones). A delta update is used when every change at the position is
// a new block over zeros (a fresh position: past_zero) and it reads fewer
// blocks: the stored parity plus the new blocks, parity += C * new block
// with ec_encode_data_update, and the other disks are not read at all. A
// modified or deleted block needs its old data for a delta, which is gone,
// so those stripes are recomputed in full. The parity_written_from mark
// keeps a crashed run's uncommitted parity from ever getting a delta twice.
//
// Rejected: SnapRAID's content-file rewrite at every autosave (O(array) per
// save), its 2 s settle sleep, and hashing on one thread.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "atlas/engine.h"
#include "atlas/hash.h"
#include "atlas/manifest.h"
#include "atlas/outside.h"
#include "atlas/parity.h"
#include "core/crash_point.h"
#include "io/throttle.h"
#include "engine/array.h"
#include "engine/block_reader.h"
#include "engine/disk_workers.h"
#include "engine/drift.h"
#include "engine/extent_map.h"
#include "engine/guards.h"
#include "engine/parallel.h"
#include "engine/scan.h"

namespace atlas {
namespace {

// A dirty entry with this slot asks for the parity of a position to be
// recomputed without any data change (a parity level was added).
constexpr std::uint16_t kParityOnlySlot = 0xffff;
// Apply-pass batches: files per commit.
constexpr std::size_t kApplyBatchFiles = 4096;
// Parity pass: files whose content identity waits for the next commit.
constexpr std::size_t kContentFlushFiles = 65536;
// Parity pass: commit (fdatasync + manifest) after this much parity written.
constexpr std::uint64_t kCommitParityBytes = 512ull << 20;
constexpr std::int64_t kCommitIntervalNs = 10'000'000'000;
// ... or after this many manifest updates: with small blocks, 512 MiB of
// parity is 131072 positions at 4 KiB, whose updates (a block record and a
// dirty entry per block) would otherwise sit in memory, about 100 MB at 4
// data disks (docs/DESIGN.md "Scale").
constexpr std::size_t kCommitUpdates = 65536;
// Memory for all windows of stripes (data + parity buffers). 16 MiB keeps
// a window of a 4+2 array at 256 KiB blocks at 3 positions (at least one per
// whole-stripe worker); 32 MiB measured no faster and doubled the RSS of the
// commands (docs/DESIGN.md, Performance). Three windows: while this thread
// records one, the readers work on the other two, so a reader done with its
// share of one goes on with the next instead of waiting for the others.
constexpr std::uint64_t kWindowBytes = 16ull << 20;
constexpr std::size_t kWindows = 3;

std::uint64_t BlocksFor(std::uint64_t size, std::uint32_t bs) { return (size + bs - 1) / bs; }

// The manifest record of a configured parity level as it is now.
DiskRecord ParityRecord(const ArrayParity& p) {
  DiskRecord r = p.record.value_or(DiskRecord());
  r.name = p.name;
  r.role = DiskRole::kParity;
  r.index = static_cast<std::uint16_t>(p.level);
  r.path = p.path.string();
  if (p.identity) r.identity = ToRecord(*p.identity);
  return r;
}

// The refusal of a tripped guard: the first finding, and how many more
// there are (a zero_size finding names one file of possibly many).
std::string RefusalSummary(const std::vector<Finding>& guards) {
  const Finding& f = guards.front();
  std::string out = f.path.empty() ? f.message : fmt::format("{}:{} {}", f.disk, DisplayPath(f.path), f.message);
  if (guards.size() > 1) out += fmt::format(" (and {} more findings)", guards.size() - 1);
  return out;
}

std::string Where(const ArrayDataDisk& d, std::string_view path) {
  return d.name + ":" + std::string(path);
}


// Drift findings, capped, with complete counts beside them.
class DriftList {
 public:
  explicit DriftList(std::size_t max) : max_(max) {}
  void Add(Finding f) {
    std::lock_guard<std::mutex> lock(mu_);
    if (items_.size() < max_) {
      items_.push_back(std::move(f));
    } else {
      truncated_ = true;
    }
  }
  // Removes an added/deleted finding that turned out to be half of a move.
  void Remove(FindingKind kind, const std::string& disk, const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find_if(items_.begin(), items_.end(), [&](const Finding& f) {
      return f.kind == kind && f.disk == disk && f.path == path;
    });
    if (it != items_.end()) items_.erase(it);
  }
  std::vector<Finding> Take() { return std::move(items_); }
  bool truncated() const { return truncated_; }

 private:
  std::mutex mu_;
  std::size_t max_;
  std::vector<Finding> items_;
  bool truncated_ = false;
};

// What one reader thread found for one block.
struct BlockRead {
  enum class Outcome : std::uint8_t { kNone, kOk, kFailed } outcome = Outcome::kNone;
  bool skip = false;               // not needed: a delta stripe's unchanged block
  std::optional<BlockRecord> rec;  // the block at this (slot, position), if any
  Hash128 hash;
  std::uint64_t bytes = 0;
};

class Syncer {
 public:
  Syncer(const RunContext& ctx, const SyncOptions& options, SyncReport* report)
      : ctx_(ctx), config_(*ctx.config), options_(options), report_(report),
        drift_list_(options.max_drift_findings) {}

  Status Run();

 private:
  Status Check(bool* nothing_to_do);
  Status Apply();
  Status ApplyDisk(std::size_t di);
  Status WriteParity();
  Status Finish();
  Status CommitApply(ManifestBatch* batch, std::size_t di, bool final_batch, const ScanTotals* totals);
  Status CommitParity(ManifestBatch* batch);
  Status CopyManifest();
  Status StoreContents(const std::set<std::uint64_t>& ids);
  Result<std::uint64_t> LiveEnd();
  Status FitParity(std::uint64_t live_end, std::uint64_t max_next);
  void RecordFailure(const Status& failure);
  Result<std::optional<Finding>> UnprotectedFinding();

  const RunContext& ctx_;
  const Config& config_;
  const SyncOptions& options_;
  SyncReport* report_;

  std::unique_ptr<Manifest> m_;
  ArrayView array_;
  std::vector<ExtentMap> free_maps_;      // by array_.data index
  std::atomic<std::uint64_t> next_file_id_{1};
  std::mutex commit_mu_;                  // serializes commits of the apply pass
  std::mutex findings_mu_;
  std::vector<Finding> problems_;         // REQUIRES: findings_mu_ held
  DriftList drift_list_;
  // Files added by this run have ids from here to next_file_id_ (moves
  // across disks are looked for among them, by content, in Finish).
  std::uint64_t first_new_file_id_ = 1;
  // Files whose blocks were synced since the last StoreContents; bounded by
  // kContentFlushFiles (docs/DESIGN.md "Scale").
  std::set<std::uint64_t> touched_ids_;
  std::vector<std::unique_ptr<WritableFile>> parity_files_;
  std::vector<std::unique_ptr<RandomAccessFile>> parity_readers_;
  // The stored parity_written_from (see WriteParity), as this run keeps it.
  std::optional<std::uint64_t> written_from_;
  // Stored read_error/silent_corruption findings by (disk, path), and the
  // ones whose block this sync read back clean (they are closed in Finish).
  std::map<std::pair<std::string, std::string>, std::vector<std::uint64_t>> watched_;
  std::vector<Finding> healed_;  // REQUIRES: findings_mu_ held
  std::int64_t start_ns_ = 0;
  std::int64_t now_ns_ = 0;
  bool copies_pending_ = false;  // the manifest changed since its last copy
  // Stripes whose parity could not be computed (a read error, a corrupt
  // block, a parity level unreadable): the position, and the data slots
  // whose block failed. The first kMaxFailedStripes; the count is complete.
  struct FailedStripe {
    std::uint64_t pos = 0;
    std::vector<std::uint16_t> failed_slots;
  };
  static constexpr std::size_t kMaxFailedStripes = 1000;
  std::vector<FailedStripe> failed_stripes_;
  std::uint64_t failed_count_ = 0;

  void Problem(Finding f) {
    std::lock_guard<std::mutex> lock(findings_mu_);
    problems_.push_back(std::move(f));
  }
  // A block that an open read_error/silent_corruption finding is about read
  // back clean: the finding can be closed (unless this run reports it again).
  void NoteCleanRead(std::size_t di, const BlockRead& r, const FileRecord& file);
};

Status Syncer::Run() {
  start_ns_ = ctx_.clock->NowUnixNanos();
  now_ns_ = start_ns_;
  std::int64_t t0 = ctx_.clock->MonotonicNanos();
  ATLAS_RETURN_IF_ERROR(EngineSelfTest());
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<ManifestLock> lock, ManifestLock::Acquire(config_.manifest));

  bool nothing_to_do = false;
  Status s = Check(&nothing_to_do);
  if (s.ok() && nothing_to_do && copies_pending_) {
    // The last sync changed the manifest but died before copying it.
    s = CopyManifest();
  } else if (s.ok() && nothing_to_do) {
    std::vector<Finding> refused;  // unsafe copy directories: findings, not errors
    s = ExportOutsideIndexIfMissing(ctx_.fs, config_, ctx_.clock->NowUnixNanos(),
                                    &refused);  // writes nothing if all present
    for (Finding& f : refused) Problem(std::move(f));
  }
  if (s.ok() && !nothing_to_do) {
    s = Apply();
    if (s.ok()) s = WriteParity();
    if (s.ok() || s.code() == Code::kCancelled) {
      Status f = Finish();
      if (s.ok()) s = f;
    } else {
      RecordFailure(s);
    }
  }
  report_->nothing_to_do = nothing_to_do;
  {
    std::lock_guard<std::mutex> guard(findings_mu_);
    std::vector<Finding> findings = std::move(problems_);
    for (Finding& f : drift_list_.Take()) findings.push_back(std::move(f));
    report_->findings = std::move(findings);
  }
  report_->drift_truncated = drift_list_.truncated();
  report_->seconds = static_cast<double>(ctx_.clock->MonotonicNanos() - t0) / 1e9;
  return s;
}

Status Syncer::Check(bool* nothing_to_do) {
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<Manifest> existing, OpenManifestIfExists(config_));
  ATLAS_ASSIGN_OR_RETURN(array_, LoadArray(ctx_, existing.get()));
  if (existing) {
    ATLAS_ASSIGN_OR_RETURN(std::optional<std::int64_t> pending, GetMetaInt(existing.get(), "copies_pending"));
    copies_pending_ = pending.value_or(0) != 0;
  }
  for (Finding& f : SharedFilesystemFindings(array_)) Problem(std::move(f));
  std::vector<Finding> guards = CheckDiskGuards(array_);
  ATLAS_RETURN_IF_ERROR(CheckOrphans(config_, array_));
  if (!guards.empty()) {
    std::string first = guards.front().message;
    for (Finding& f : guards) Problem(std::move(f));
    return Status::FailedPrecondition("refused: " + first);
  }

  std::vector<DiskDrift> drift;
  ATLAS_RETURN_IF_ERROR(ScanAllDisks(ctx_, existing.get(), array_, /*collect=*/false, &drift));
  for (const DiskDrift& d : drift) {
    report_->drift.unchanged += d.drift.unchanged;
  }
  std::vector<Finding> scan_guards =
      CheckScanGuards(config_, array_, drift, options_.force_empty, options_.force_delete);
  for (Finding& f : CheckContentGuards(config_, array_, drift, options_.force_zero, options_.force_modified)) {
    scan_guards.push_back(std::move(f));
  }
  if (scan_guards.empty()) {
    // Reads the few files that look moved across disks: only when nothing
    // else refused already.
    ATLAS_ASSIGN_OR_RETURN(std::vector<Finding> moves,
                           CheckCrossDiskMoves(ctx_, existing.get(), array_, drift, options_.force_move));
    for (Finding& f : moves) scan_guards.push_back(std::move(f));
  }
  if (!scan_guards.empty()) {
    std::string first = RefusalSummary(scan_guards);
    for (Finding& f : scan_guards) Problem(std::move(f));
    for (const DiskDrift& d : drift) {
      report_->drift.added += d.drift.added;
      report_->drift.modified += d.drift.modified;
      report_->drift.deleted += d.drift.deleted;
      report_->drift.moved += d.drift.moved;
    }
    return Status::FailedPrecondition("refused: " + first);
  }

  std::uint64_t changes = 0;
  for (const DiskDrift& d : drift) changes += d.drift.Changes();
  bool dirty = false;
  bool records_stale = !array_.synced_ever;
  if (existing) {
    std::unique_ptr<Cursor<DirtyEntry>> c = existing->Dirty(0);
    dirty = c->Valid();
    ATLAS_RETURN_IF_ERROR(c->status());
  }
  for (const ArrayDataDisk& d : array_.data) {
    if (!d.record || !d.identity || d.record->path != d.root.string() ||
        d.record->identity.uuid != d.identity->uuid ||
        d.record->identity.is_mount_point != d.identity->is_mount_point ||
        d.record->identity.device != d.identity->device) {
      records_stale = true;
    }
  }
  for (const ArrayParity& p : array_.parity) {
    if (!p.record || p.record->path != p.path.string()) records_stale = true;
  }
  *nothing_to_do = changes == 0 && !dirty && !records_stale;
  return Status::Ok();
}

Status Syncer::Apply() {
  // Reopen read-write. The lock is held, so nothing changed since Check.
  ManifestOptions rw;
  rw.create_if_missing = true;
  rw.copy_dirs = config_.manifest_copies;
  ATLAS_ASSIGN_OR_RETURN(m_, OpenManifest(config_.manifest, rw));
  bool first_sync = !array_.synced_ever;
  ATLAS_ASSIGN_OR_RETURN(array_, LoadArray(ctx_, m_.get()));
  next_file_id_ = array_.next_file_id;
  first_new_file_id_ = array_.next_file_id;
  ATLAS_ASSIGN_OR_RETURN(std::vector<StoredFinding> stored, m_->ListFindings());
  for (const StoredFinding& sf : stored) {
    const Finding& f = sf.finding;
    if ((f.kind == FindingKind::kReadError || f.kind == FindingKind::kSilentCorruption) && f.offset) {
      watched_[{f.disk, f.path}].push_back(*f.offset);
    }
  }

  free_maps_.resize(array_.data.size());
  std::uint64_t max_next = 0;
  for (std::size_t i = 0; i < array_.data.size(); ++i) {
    const ArrayDataDisk& d = array_.data[i];
    std::vector<Extent> free_extents;
    if (d.record) {
      ATLAS_ASSIGN_OR_RETURN(free_extents, m_->FreeExtents(d.slot));
    }
    free_maps_[i].Load(free_extents, d.record ? d.record->next_pos : 0);
    max_next = std::max(max_next, free_maps_[i].next_pos());
  }

  // Array-wide records: block size, parity levels, and a parity level that
  // is new on an array that already has data needs every position recomputed.
  std::unique_ptr<ManifestBatch> batch = m_->NewBatch();
  batch->PutMeta("block_size", std::to_string(config_.block_size));
  batch->PutMeta("parity_levels", std::to_string(config_.parity.size()));
  if (first_sync) batch->PutMeta("first_sync_ns", std::to_string(start_ns_));
  batch->PutMeta("last_sync_start_ns", std::to_string(start_ns_));
  bool new_level = false;
  for (const ArrayParity& p : array_.parity) {
    if (!p.record) new_level = true;
    batch->PutDisk(ParityRecord(p));
  }
  if (new_level && !first_sync) {
    for (std::uint64_t pos = 0; pos < max_next; ++pos) batch->MarkDirty(pos, kParityOnlySlot);
  }
  ATLAS_RETURN_IF_ERROR(m_->Commit(*batch, /*durable=*/false));

  ctx_.progress->BeginPhase("scan", 0);
  std::vector<Status> statuses(array_.data.size());
  {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < array_.data.size(); ++i) {
      threads.emplace_back([this, i, &statuses] { statuses[i] = ApplyDisk(i); });
    }
  }
  ctx_.progress->EndPhase();
  for (const Status& s : statuses) ATLAS_RETURN_IF_ERROR(s);
  return Status::Ok();
}

Status Syncer::CommitApply(ManifestBatch* batch, std::size_t di, bool final_batch,
                           const ScanTotals* totals) {
  const ArrayDataDisk& d = array_.data[di];
  free_maps_[di].Flush(d.slot, batch);
  DiskRecord r = d.record.value_or(DiskRecord());
  r.name = d.name;
  r.role = DiskRole::kData;
  r.index = d.slot;
  r.path = d.root.string();
  if (d.identity) r.identity = ToRecord(*d.identity);
  r.next_pos = free_maps_[di].next_pos();
  if (final_batch) {
    r.files = totals->files;
    r.bytes = totals->bytes;
  }
  std::lock_guard<std::mutex> lock(commit_mu_);
  batch->PutDisk(r);
  batch->PutMeta("next_file_id", std::to_string(next_file_id_.load()));
  // Not durable: a lost apply batch is found again by the next scan, and the
  // WAL is sequential, so a later durable commit makes this one durable too.
  ATLAS_RETURN_IF_ERROR(m_->Commit(*batch, /*durable=*/false));
  ATLAS_CRASH_POINT("sync.apply.after_commit");
  return Status::Ok();
}

Status Syncer::ApplyDisk(std::size_t di) {
  const ArrayDataDisk& disk = array_.data[di];
  ExtentMap& fm = free_maps_[di];
  const std::uint32_t bs = config_.block_size;
  std::unique_ptr<ManifestBatch> batch = m_->NewBatch();
  std::size_t files_in_batch = 0;
  DriftCounts counts;

  auto mark_deleted = [&](std::uint64_t pos) -> Status {
    ATLAS_ASSIGN_OR_RETURN(std::optional<BlockRecord> old, m_->GetBlock(disk.slot, pos));
    BlockRecord b;
    b.slot = disk.slot;
    b.pos = pos;
    b.state = BlockState::kDeleted;
    if (old) b.hash = old->hash;
    batch->ReplaceBlock(old, b);
    batch->MarkDirty(pos, disk.slot);
    return Status::Ok();
  };
  // Records every block of `rec` as dirty. `zero_before(pos)` tells whether
  // the parity still has zeros for this disk there (a freshly allocated
  // position, or a kept one never synced since it was); `old_at(pos)` the
  // record there now (none at a freshly allocated position: the free table
  // and the block records never share a position).
  using OldAt = std::function<std::optional<BlockRecord>(std::uint64_t)>;
  auto put_dirty_blocks = [&](const FileRecord& rec, const std::function<bool(std::uint64_t)>& zero_before,
                              const OldAt& old_at) {
    std::uint64_t index = 0;
    for (const Extent& e : rec.extents) {
      for (std::uint64_t i = 0; i < e.count; ++i, ++index) {
        BlockRecord b;
        b.slot = disk.slot;
        b.pos = e.start + i;
        b.state = BlockState::kDirty;
        b.file_id = rec.file_id;
        b.file_block = index;
        b.past_zero = zero_before(b.pos);
        batch->ReplaceBlock(old_at(b.pos), b);
        batch->MarkDirty(b.pos, disk.slot);
      }
    }
  };
  auto fill_from_stat = [&](FileRecord* rec, const WalkEntry& e) {
    rec->slot = disk.slot;
    rec->path = e.rel_path;
    rec->size = e.stat.size;
    rec->mtime_ns = e.stat.mtime_ns;
    rec->inode = e.stat.inode;
    rec->mode = e.stat.mode;
    rec->uid = e.stat.uid;
    rec->gid = e.stat.gid;
  };
  auto drift = [&](FindingKind kind, const std::string& path, std::string msg) {
    drift_list_.Add(MakeFinding(kind, disk.name, path, std::move(msg)));
  };

  ScanTotals totals;
  Status s = ScanDisk(config_, ctx_.fs, m_.get(), disk, ctx_.stop, [&](const ScanEvent& ev) -> Status {
    switch (ev.change) {
      case ScanChange::kUnchanged: {
        const FileRecord& old = *ev.record;
        const FileStat& st = ev.entry->stat;
        if (old.inode != st.inode || old.mode != st.mode || old.uid != st.uid || old.gid != st.gid) {
          FileRecord rec = old;
          fill_from_stat(&rec, *ev.entry);
          batch->DeleteFile(old);
          batch->PutFile(rec);
        }
        return Status::Ok();
      }
      case ScanChange::kModified: {
        FileRecord rec = *ev.record;
        const std::uint64_t old_n = rec.BlockCount();
        const std::uint64_t new_n = BlocksFor(ev.entry->stat.size, bs);
        // Keep the file's positions (no parity growth for in-place edits);
        // free what it no longer needs, take more if it grew.
        std::vector<Extent> kept;
        std::set<std::uint64_t> zero_before;
        std::map<std::uint64_t, BlockRecord> olds;  // the records at kept positions
        std::uint64_t index = 0;
        for (const Extent& e : rec.extents) {
          for (std::uint64_t i = 0; i < e.count; ++i, ++index) {
            std::uint64_t pos = e.start + i;
            if (index < new_n) {
              if (!kept.empty() && kept.back().start + kept.back().count == pos) {
                kept.back().count++;
              } else {
                kept.push_back({pos, 1});
              }
              ATLAS_ASSIGN_OR_RETURN(std::optional<BlockRecord> old, m_->GetBlock(disk.slot, pos));
              if (old && old->state == BlockState::kDirty && old->past_zero) zero_before.insert(pos);
              if (old) olds.emplace(pos, *old);
            } else {
              ATLAS_RETURN_IF_ERROR(mark_deleted(pos));
            }
          }
        }
        if (new_n > old_n) {
          for (const Extent& e : fm.Allocate(new_n - old_n)) {
            kept.push_back(e);
            for (std::uint64_t i = 0; i < e.count; ++i) zero_before.insert(e.start + i);
          }
        }
        batch->DeleteFile(rec);
        fill_from_stat(&rec, *ev.entry);
        rec.extents = std::move(kept);
        rec.content.reset();
        if (new_n == 0) rec.content = Hasher128().Digest();
        put_dirty_blocks(
            rec, [&](std::uint64_t pos) { return zero_before.count(pos) != 0; },
            [&](std::uint64_t pos) {
              auto it = olds.find(pos);
              return it == olds.end() ? std::optional<BlockRecord>() : std::optional<BlockRecord>(it->second);
            });
        batch->PutFile(rec);
        counts.modified++;
        counts.added_bytes += rec.size;
        drift(FindingKind::kModified, rec.path,
              fmt::format("modified since the last sync ({} bytes)", rec.size));
        break;
      }
      case ScanChange::kAdded: {
        FileRecord rec;
        fill_from_stat(&rec, *ev.entry);
        rec.file_id = next_file_id_.fetch_add(1);
        rec.extents = fm.Allocate(BlocksFor(rec.size, bs));
        if (rec.size == 0) rec.content = Hasher128().Digest();
        put_dirty_blocks(  // all freshly allocated
            rec, [](std::uint64_t) { return true; }, [](std::uint64_t) { return std::optional<BlockRecord>(); });
        batch->PutFile(rec);
        counts.added++;
        counts.added_bytes += rec.size;
        drift(FindingKind::kAdded, rec.path, fmt::format("added ({} bytes)", rec.size));
        break;
      }
      case ScanChange::kMoved: {
        const FileRecord& old = *ev.record;
        FileRecord rec = old;
        fill_from_stat(&rec, *ev.entry);
        batch->DeleteFile(old);
        batch->PutFile(rec);
        counts.moved++;
        Finding f = MakeFinding(FindingKind::kMoved, disk.name, rec.path,
                                fmt::format("moved from {}", DisplayPath(old.path)));
        f.from = Where(disk, old.path);
        drift_list_.Add(std::move(f));
        break;
      }
      case ScanChange::kDeleted: {
        const FileRecord& old = *ev.record;
        for (const Extent& e : old.extents) {
          for (std::uint64_t i = 0; i < e.count; ++i) ATLAS_RETURN_IF_ERROR(mark_deleted(e.start + i));
        }
        batch->DeleteFile(old);
        if (old.content && old.size > 0) batch->PutDeletedContent(*old.content, Where(disk, old.path));
        counts.deleted++;
        counts.deleted_bytes += old.size;
        drift(FindingKind::kDeleted, old.path, "deleted since the last sync");
        break;
      }
    }
    if (++files_in_batch >= kApplyBatchFiles) {
      ATLAS_RETURN_IF_ERROR(CommitApply(batch.get(), di, false, nullptr));
      batch = m_->NewBatch();
      files_in_batch = 0;
    }
    return Status::Ok();
  }, &totals);
  if (!s.ok()) {
    if (s.code() == Code::kCancelled) {
      // Keep what was scanned; positions recorded so far are dirty and the
      // next sync goes on from there.
      ATLAS_RETURN_IF_ERROR(CommitApply(batch.get(), di, false, nullptr));
    }
    return s;
  }
  ATLAS_RETURN_IF_ERROR(CommitApply(batch.get(), di, true, &totals));
  std::lock_guard<std::mutex> lock(findings_mu_);
  report_->drift.added += counts.added;
  report_->drift.modified += counts.modified;
  report_->drift.deleted += counts.deleted;
  report_->drift.moved += counts.moved;
  report_->drift.added_bytes += counts.added_bytes;
  report_->drift.deleted_bytes += counts.deleted_bytes;
  return Status::Ok();
}


void Syncer::NoteCleanRead(std::size_t di, const BlockRead& r, const FileRecord& file) {
  auto it = watched_.find({array_.data[di].name, file.path});
  if (it == watched_.end()) return;
  const std::uint64_t begin = r.rec->file_block * config_.block_size;
  std::lock_guard<std::mutex> lock(findings_mu_);
  for (std::uint64_t off : it->second) {
    if (off >= begin && off < begin + config_.block_size) {
      Finding f;
      f.disk = it->first.first;
      f.path = it->first.second;
      f.offset = off;
      healed_.push_back(std::move(f));
    }
  }
}

Status Syncer::CommitParity(ManifestBatch* batch) {
  for (const std::unique_ptr<WritableFile>& p : parity_files_) {
    ATLAS_RETURN_IF_ERROR(p->Sync().WithContext("sync parity"));
  }
  ATLAS_CRASH_POINT("sync.parity.after_fsync");
  // Invariant: parity at P is fdatasync'ed (above) before the manifest marks
  // any block at P synced (this commit, with its WAL fsync'ed). A crash
  // between the two leaves P dirty, and the next sync recomputes it.
  for (std::size_t i = 0; i < free_maps_.size(); ++i) free_maps_[i].Flush(array_.data[i].slot, batch);
  ATLAS_RETURN_IF_ERROR(m_->Commit(*batch, /*durable=*/true));
  ATLAS_CRASH_POINT("sync.parity.after_commit");
  return Status::Ok();
}

namespace {


// One window of dirty positions in flight: its stripes, every disk's block
// record and read outcome there, and the buffers the reads land in.
struct Window {
  struct Stripe {
    std::uint64_t pos = 0;
    std::vector<std::uint16_t> dirty_slots;
    // Update the stored parity with the new blocks alone (see WriteParity).
    bool delta = false;
    // A block or a stored parity level could not be read: the position
    // stays dirty (compute sets it).
    bool failed = false;
    // Parity computed: the writers write it (compute sets it).
    bool write = false;
    // At or past the end of the live data (Syncer::LiveEnd): every block
    // here is deleted, the parity is zeros, and FitParity left a hole there
    // already, so nothing is computed or written.
    bool tail = false;
  };
  Window(std::size_t positions, std::size_t ndata, std::size_t levels, std::uint32_t bs)
      : data(positions * ndata * bs),
        parity(positions * levels * bs),
        parity_failed(positions * levels),
        parity_hash(positions * levels),
        reads(positions * ndata) {}
  std::vector<Stripe> stripes;
  AlignedBuffer data;
  AlignedBuffer parity;                     // [stripe * levels + level]
  std::vector<std::uint8_t> parity_failed;  // [stripe * levels + level], one writer each
  std::vector<Hash128> parity_hash;         // [stripe * levels + level]: of a full (not delta) compute
  std::vector<BlockRead> reads;             // [stripe * ndata + disk]
  bool active = false;  // started and not yet recorded
  std::atomic<std::size_t> next_stripe{0};  // whole-stripe layout: the next stripe to take
  WaitGroup done;    // reads of the window (whole stripes: and its parity writes)
  WaitGroup writes;  // per-disk layout: parity writes of the window (one task per level)
};

}  // namespace

Status Syncer::WriteParity() {
  const std::uint32_t bs = config_.block_size;
  const std::size_t levels = config_.parity.size();
  const std::size_t ndata = array_.data.size();
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<ParityCodec> codec, ParityCodec::Create(static_cast<int>(levels)));

  std::uint64_t max_next = 0;
  for (const ExtentMap& fm : free_maps_) max_next = std::max(max_next, fm.next_pos());
  ATLAS_ASSIGN_OR_RETURN(const std::uint64_t live_end, LiveEnd());
  for (const ArrayParity& p : array_.parity) {
    ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f,
                           ctx_.fs->OpenForWrite(p.path, OpenMode::kCreate, 0600));
    parity_files_.push_back(std::move(f));
  }
  ATLAS_RETURN_IF_ERROR(FitParity(live_end, max_next));
  for (const ArrayParity& p : array_.parity) {
    ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> r, ctx_.fs->OpenForRead(p.path));
    parity_readers_.push_back(std::move(r));
  }
  // Positions at or after `parity_written_from` may hold parity that an
  // earlier run wrote but never committed (it crashed): a delta update on
  // top of that would add the new blocks twice, so they are recomputed in
  // full instead.
  ATLAS_ASSIGN_OR_RETURN(std::optional<std::int64_t> written_from, GetMetaInt(m_.get(), "parity_written_from"));
  if (written_from) written_from_ = static_cast<std::uint64_t>(*written_from);
  const std::uint64_t distrust_from = written_from_.value_or(~0ull);

  // Count the work for progress.
  ATLAS_ASSIGN_OR_RETURN(std::uint64_t dirty_positions, CountDirtyPositions(m_.get()));
  ctx_.progress->BeginPhase("hash+parity", dirty_positions * bs * std::max<std::size_t>(1, ndata));

  // Two windows: the readers fill one while this thread records the other
  // in the manifest, so reading, hashing, parity math and writing overlap.
  //
  // Per-disk layout (hard disks): one reader per data disk, then one thread
  // per parity file that reads the stored parity for delta stripes and
  // writes the computed parity; this thread computes the parity. Whole
  // stripes (SSDs, RAM; ReadsWholeStripes): a worker per core takes the
  // window's stripes one at a time and reads, hashes, computes and writes
  // each, while the stripe is in cache (DESIGN.md, Performance).
  const bool whole_stripes = ReadsWholeStripes(config_, array_);
  const std::size_t stripe_workers = whole_stripes ? WholeStripeWorkers(config_) : 0;
  const std::size_t positions = std::max<std::uint64_t>(
      std::max<std::size_t>(1, stripe_workers), kWindowBytes / kWindows / (static_cast<std::uint64_t>(ndata + levels) * bs));
  std::vector<std::unique_ptr<Window>> windows;
  for (std::size_t i = 0; i < kWindows; ++i) windows.push_back(std::make_unique<Window>(positions, ndata, levels, bs));
  const std::size_t threads = config_.io_threads > 0 ? std::min<std::size_t>(config_.io_threads, ndata) : ndata;
  DiskWorkers workers(whole_stripes ? stripe_workers : threads + levels);
  DiskReaders readers(ctx_, m_.get(), array_, whole_stripes ? stripe_workers : 1);

  std::unique_ptr<Cursor<DirtyEntry>> cursor = m_->Dirty(0);
  std::unique_ptr<ManifestBatch> batch = m_->NewBatch();
  std::uint64_t pending_bytes = 0;
  std::int64_t last_commit = ctx_.clock->MonotonicNanos();
  std::set<std::uint64_t>& touched = touched_ids_;

  // Parity writes run on the parity files' workers, so that writing one
  // window's parity overlaps computing the next (on tmpfs, page allocation
  // for a fresh parity file costs more than the encoding). The first write
  // error is kept here; it ends the run after the window in hand, and
  // nothing is committed after it.
  std::mutex write_mu;
  Status write_error;  // REQUIRES: write_mu held
  auto write_status = [&]() -> Status {
    std::lock_guard<std::mutex> lock(write_mu);
    return write_error;
  };
  auto wait_writes = [&]() -> Status {
    for (const std::unique_ptr<Window>& w : windows) w->writes.Wait();
    return write_status();
  };

  // Invariant: before parity at P is written, the manifest durably says that
  // positions from parity_written_from <= P on may hold uncommitted parity;
  // a later run then recomputes them in full rather than apply a delta
  // twice. It is cleared only once no position is left dirty. Called before
  // a window's work is queued.
  auto mark_written_from = [&](std::uint64_t first) -> Status {
    if (written_from_ && first >= *written_from_) return Status::Ok();
    written_from_ = first;
    std::unique_ptr<ManifestBatch> mark = m_->NewBatch();
    mark->PutMeta("parity_written_from", std::to_string(first));
    return m_->Commit(*mark, /*durable=*/true);
  };

  // The work on one stripe `i` of a window, run by whichever thread the
  // layout gives it to.
  auto read_parity = [&](Window& w, std::size_t i, std::size_t l) {
    const std::uint64_t pos = w.stripes[i].pos;
    std::byte* buf = w.parity.data + (i * levels + l) * bs;
    Result<std::size_t> n = parity_readers_[l]->ReadAt(pos * bs, std::span(buf, bs));
    if (!n.ok()) {
      Finding f = MakeFinding(FindingKind::kReadError, array_.parity[l].name, "",
                              fmt::format("read error in parity file {} at byte {}: {}",
                                          array_.parity[l].path.string(), pos * bs, n.status().ToString()));
      f.offset = pos * bs;
      Problem(std::move(f));
      w.parity_failed[i * levels + l] = 1;
      return;
    }
    if (*n < bs) std::memset(buf + *n, 0, bs - *n);  // past the end: zeros
  };
  auto read_block = [&](Window& w, std::size_t i, std::size_t di, BlockReader& reader) {
    BlockRead& r = w.reads[i * ndata + di];
    if (!r.rec || r.rec->state == BlockState::kDeleted || r.skip) return;
    BlockCheck c = reader.Read(*r.rec, w.data.data + (i * ndata + di) * bs);
    if (c.outcome == BlockCheck::Outcome::kOk) {
      r.outcome = BlockRead::Outcome::kOk;
      r.hash = c.hash;
      r.bytes = c.bytes;
    } else {
      r.outcome = BlockRead::Outcome::kFailed;
      Problem(BlockFinding(reader, *r.rec, c, "sync"));
    }
    if (r.outcome == BlockRead::Outcome::kOk && !watched_.empty()) NoteCleanRead(di, r, *reader.file());
    ctx_.progress->Advance(bs);
  };
  // Computes the parity of a stripe whose blocks all read clean.
  auto compute = [&](Window& w, std::size_t i) {
    Window::Stripe& stripe = w.stripes[i];
    if (stripe.tail) return;  // zeros: FitParity left a hole there
    std::vector<int> slots;
    std::vector<const std::byte*> ptrs;
    std::array<std::byte*, kMaxParityLevels> out{};
    for (std::size_t l = 0; l < levels; ++l) {
      out[l] = w.parity.data + (i * levels + l) * bs;
      stripe.failed = stripe.failed || w.parity_failed[i * levels + l] != 0;
    }
    for (std::size_t di = 0; di < ndata; ++di) {
      const BlockRead& r = w.reads[i * ndata + di];
      if (r.outcome == BlockRead::Outcome::kFailed) stripe.failed = true;
      if (r.outcome == BlockRead::Outcome::kOk) {
        slots.push_back(array_.data[di].slot);
        ptrs.push_back(w.data.data + (i * ndata + di) * bs);
      }
    }
    if (stripe.failed) return;
    if (stripe.delta) {
      // The stored parity is in `out`; add each new block (ec_encode_data_update).
      for (std::size_t k = 0; k < slots.size(); ++k) codec->Accumulate(slots[k], ptrs[k], out.data(), bs);
    } else {
      codec->Encode(slots, ptrs.data(), out.data(), bs);  // zeros without slots
      // Computed from the whole stripe, so its checksums can stand for it
      // (a delta builds on stored parity that nothing here verified).
      for (std::size_t l = 0; l < levels; ++l) {
        w.parity_hash[i * levels + l] = HashBlock(std::span<const std::byte>(out[l], bs));
      }
    }
    stripe.write = true;
  };
  // Writes one level of a computed stripe; false after a write error (kept
  // in write_error).
  auto write_parity = [&](Window& w, std::size_t i, std::size_t l) -> bool {
    const Window::Stripe& stripe = w.stripes[i];
    if (!stripe.write) return true;
    const std::byte* block = w.parity.data + (i * levels + l) * bs;
    Status ws = parity_files_[l]
                    ->WriteAt(stripe.pos * bs, std::span<const std::byte>(block, bs))
                    .WithContext(fmt::format("write parity {} at position {}", array_.parity[l].name, stripe.pos));
    if (!ws.ok()) {
      std::lock_guard<std::mutex> lock(write_mu);
      if (write_error.ok()) write_error = ws;
      return false;
    }
    ATLAS_CRASH_POINT("sync.parity.after_write");
    return true;
  };

  // Gathers the next dirty positions into `w`, looks up every disk's block
  // at each, and queues the reads (one task per disk). False when no dirty
  // position is left.
  auto start_window = [&](Window& w) -> Result<bool> {
    w.writes.Wait();  // the window's buffers hold parity still being written
    w.stripes.clear();
    while (cursor->Valid()) {
      const DirtyEntry& e = cursor->value();
      if (w.stripes.empty() || w.stripes.back().pos != e.pos) {
        if (w.stripes.size() == positions) break;
        w.stripes.push_back({e.pos, {}});
      }
      w.stripes.back().dirty_slots.push_back(e.slot);
      cursor->Next();
    }
    ATLAS_RETURN_IF_ERROR(cursor->status());
    if (w.stripes.empty()) return false;
    bool any_delta = false;
    for (std::size_t i = 0; i < w.stripes.size(); ++i) {
      Window::Stripe& stripe = w.stripes[i];
      // Delta or full? A stripe qualifies for a delta update when every
      // change at it is a new block over zeros (past_zero) and nothing was
      // deleted there: then parity += C * new block (ec_encode_data_update)
      // is exact, and the other disks need not be read. It is chosen when it
      // reads fewer blocks: the parity levels plus the new blocks, against
      // every block of the stripe.
      bool eligible = stripe.pos < distrust_from;
      stripe.tail = stripe.pos >= live_end;
      std::size_t full_reads = 0;
      for (std::size_t di = 0; di < ndata; ++di) {
        BlockRead& r = w.reads[i * ndata + di];
        r = BlockRead();
        ATLAS_ASSIGN_OR_RETURN(r.rec, m_->GetBlock(array_.data[di].slot, stripe.pos));
        if (!r.rec) continue;
        if (r.rec->state == BlockState::kDeleted) eligible = false;
        if (r.rec->state == BlockState::kDirty && !r.rec->past_zero) eligible = false;
        if (r.rec->state != BlockState::kDeleted) full_reads++;
      }
      std::size_t new_blocks = 0;
      for (std::uint16_t slot : stripe.dirty_slots) {
        if (slot == kParityOnlySlot) eligible = false;
        new_blocks++;
      }
      stripe.delta = !stripe.tail && eligible && levels + new_blocks < full_reads;
      for (std::size_t l = 0; l < levels; ++l) w.parity_failed[i * levels + l] = 0;
      if (stripe.delta) {
        any_delta = true;
        for (std::size_t di = 0; di < ndata; ++di) {
          BlockRead& r = w.reads[i * ndata + di];
          if (r.rec && r.rec->state == BlockState::kSynced) r.skip = true;
        }
      }
    }
    ATLAS_RETURN_IF_ERROR(mark_written_from(w.stripes.front().pos));
    if (whole_stripes) {
      w.next_stripe = 0;
      w.done.Add(static_cast<int>(stripe_workers));
      for (std::size_t t = 0; t < stripe_workers; ++t) {
        workers.Submit(t, [&, t, wp = &w] {
          for (std::size_t i = wp->next_stripe++; i < wp->stripes.size(); i = wp->next_stripe++) {
            if (wp->stripes[i].delta) {
              for (std::size_t l = 0; l < levels; ++l) read_parity(*wp, i, l);
            }
            for (std::size_t di = 0; di < ndata; ++di) read_block(*wp, i, di, readers.at(t, di));
            compute(*wp, i);
            for (std::size_t l = 0; l < levels; ++l) {
              if (!write_parity(*wp, i, l)) break;
            }
          }
          ClearUpperVectorState();
          wp->done.Done();
        });
      }
      return true;
    }
    if (any_delta) {
      w.done.Add(static_cast<int>(levels));
      for (std::size_t l = 0; l < levels; ++l) {
        workers.Submit(threads + l, [&, l, wp = &w] {
          for (std::size_t i = 0; i < wp->stripes.size(); ++i) {
            if (wp->stripes[i].delta) read_parity(*wp, i, l);
          }
          wp->done.Done();
        });
      }
    }
    w.done.Add(static_cast<int>(ndata));
    for (std::size_t di = 0; di < ndata; ++di) {
      workers.Submit(di % threads, [&, di, wp = &w] {
        for (std::size_t i = 0; i < wp->stripes.size(); ++i) read_block(*wp, i, di, readers.at(0, di));
        ClearUpperVectorState();
        wp->done.Done();
      });
    }
    return true;
  };

  // Records in the manifest every stripe of `w` whose parity was computed
  // (per-disk layout: computes it first, and queues the writes).
  auto finish_window = [&](Window& w) -> Status {
    now_ns_ = ctx_.clock->NowUnixNanos();
    for (std::size_t i = 0; i < w.stripes.size(); ++i) {
      Window::Stripe& stripe = w.stripes[i];
      if (!whole_stripes) compute(w, i);
      if (stripe.failed) {
        report_->positions_left++;
        failed_count_++;
        if (failed_stripes_.size() < kMaxFailedStripes) {
          FailedStripe failed{stripe.pos, {}};
          for (std::size_t di = 0; di < ndata; ++di) {
            if (w.reads[i * ndata + di].outcome == BlockRead::Outcome::kFailed) {
              failed.failed_slots.push_back(array_.data[di].slot);
            }
          }
          failed_stripes_.push_back(std::move(failed));
        }
        continue;
      }
      std::vector<std::pair<std::uint16_t, Hash128>> included;  // what the parity was computed from
      for (std::size_t di = 0; di < ndata; ++di) {
        const BlockRead& r = w.reads[i * ndata + di];
        if (r.outcome == BlockRead::Outcome::kOk) included.emplace_back(array_.data[di].slot, r.hash);
        if (!r.rec) continue;
        BlockRecord b = *r.rec;
        if (b.state == BlockState::kDeleted) {
          batch->DeleteBlock(b.slot, b.pos);
          free_maps_[di].Free(b.pos);
        } else if (b.state == BlockState::kDirty) {
          b.state = BlockState::kSynced;
          b.hash = r.hash;
          b.verified_ns = now_ns_;
          // r.rec is as stored: read when the window started, and no other
          // window holds this position.
          batch->ReplaceBlock(*r.rec, b);
          touched.insert(b.file_id);
          report_->bytes_hashed += r.bytes;
        }
      }
      for (std::uint16_t slot : stripe.dirty_slots) batch->ClearDirty(stripe.pos, slot);
      if (stripe.delta || stripe.tail) {
        batch->DeleteParityHash(stripe.pos);
      } else {
        ParityHashRecord ph;
        ph.pos = stripe.pos;
        ph.levels.assign(w.parity_hash.begin() + static_cast<std::ptrdiff_t>(i * levels),
                         w.parity_hash.begin() + static_cast<std::ptrdiff_t>((i + 1) * levels));
        ph.data_digest = ParityDataDigest(std::move(included));
        batch->PutParityHash(ph);
      }
      report_->positions_synced++;
      pending_bytes += static_cast<std::uint64_t>(levels) * bs;
    }
    ClearUpperVectorState();
    if (whole_stripes) return Status::Ok();  // the workers wrote the parity
    // Queue the writes: one task per level, stripes in position order.
    w.writes.Add(static_cast<int>(levels));
    for (std::size_t l = 0; l < levels; ++l) {
      workers.Submit(threads + l, [&, l, wp = &w] {
        for (std::size_t i = 0; i < wp->stripes.size(); ++i) {
          if (!write_parity(*wp, i, l)) break;
        }
        wp->writes.Done();
      });
    }
    return Status::Ok();
  };

  Status status;
  Result<bool> more = true;
  for (std::size_t i = 0; i + 1 < kWindows && more.ok() && *more; ++i) {
    more = start_window(*windows[i]);
    windows[i]->active = more.ok() && *more;
  }
  std::size_t cur = 0;
  while (more.ok() && windows[cur]->active) {
    Window& w = *windows[cur];
    w.done.Wait();
    const bool stop = ctx_.stop.stop_requested();
    // Queue the reads of the free window before working on this one.
    if (*more) {
      Window& free = *windows[(cur + kWindows - 1) % kWindows];
      more = stop ? Result<bool>(false) : start_window(free);
      free.active = more.ok() && *more;
    }
    status = finish_window(w);
    w.active = false;
    if (status.ok()) status = write_status();
    if (!status.ok()) break;
    std::int64_t mono = ctx_.clock->MonotonicNanos();
    if (pending_bytes >= kCommitParityBytes || mono - last_commit >= kCommitIntervalNs ||
        batch->Count() >= kCommitUpdates || stop) {
      // Invariant: every parity write queued so far has completed before
      // CommitParity fdatasyncs the files and commits the manifest.
      status = wait_writes();
      if (!status.ok()) break;
      status = CommitParity(batch.get());
      if (!status.ok()) break;
      batch = m_->NewBatch();
      pending_bytes = 0;
      last_commit = mono;
      // Every block of `touched` is committed now, so a file complete now is
      // complete in the manifest; one still incomplete is touched again when
      // its remaining blocks sync. Storing contents here keeps the set
      // bounded however many files one sync adds.
      if (touched.size() >= kContentFlushFiles) {
        status = StoreContents(touched);
        if (!status.ok()) break;
        touched.clear();
      }
    }
    if (stop) {
      status = Status::Cancelled("sync interrupted; the next sync resumes where this one stopped");
      break;
    }
    cur = (cur + 1) % kWindows;
  }
  workers.Wait();  // no read or write may still use a window buffer
  if (status.ok()) status = wait_writes();
  if (status.ok() && !more.ok()) status = more.status();
  if (status.ok()) status = CommitParity(batch.get());
  ctx_.progress->EndPhase();
  return status;
}

// The end of the live data: one past the last position that holds a block
// which is not deleted, on any data disk. Positions from here on hold only
// deleted blocks (or none), so their parity is zeros. Walks down from each
// disk's free tail over deleted blocks: one lookup per disk unless the last
// files were deleted, then one per deleted block there.
Result<std::uint64_t> Syncer::LiveEnd() {
  std::uint64_t end = 0;
  for (std::size_t i = 0; i < array_.data.size(); ++i) {
    std::uint64_t pos = free_maps_[i].TailStart();
    while (pos > end) {
      ATLAS_ASSIGN_OR_RETURN(std::optional<BlockRecord> b, m_->GetBlock(array_.data[i].slot, pos - 1));
      if (b && b->state != BlockState::kDeleted) break;
      --pos;
    }
    end = std::max(end, pos);
  }
  return end;
}

// Makes every parity file as long as the positions in use (a sparse
// ftruncate), and zeros the parity past the live data without a write when
// positions there wait to be recomputed. Those positions hold only deleted
// blocks, so their parity is zeros; a write of them fills holes, and after
// the file that filled the parity disk is deleted (a huge sparse file) it
// fails with ENOSPC at every sync, for ever. Cutting the file at live_end
// and growing it back leaves a hole there instead, and gives the space back.
Status Syncer::FitParity(std::uint64_t live_end, std::uint64_t max_next) {
  const std::uint64_t bs = config_.block_size;
  std::unique_ptr<Cursor<DirtyEntry>> past = m_->Dirty(live_end);
  const bool zero_tail = past->Valid();
  ATLAS_RETURN_IF_ERROR(past->status());
  for (std::size_t l = 0; l < array_.parity.size(); ++l) {
    ArrayParity& p = array_.parity[l];
    Result<FileStat> st = ctx_.fs->Stat(p.path);
    if (!st.ok()) continue;
    std::uint64_t size = st->size;
    if (zero_tail && size > live_end * bs) {
      // Invariant: the manifest durably records the shorter length before
      // the file is cut, so a crash before it grows back never looks like a
      // parity file shorter than recorded (a missing_disk); no block lives at
      // or past live_end, so zeros there are that parity.
      DiskRecord r = ParityRecord(p);
      if (r.parity_size > live_end * bs) {
        r.parity_size = live_end * bs;
        std::unique_ptr<ManifestBatch> mark = m_->NewBatch();
        mark->PutDisk(r);
        ATLAS_RETURN_IF_ERROR(m_->Commit(*mark, /*durable=*/true));
        if (p.record) p.record->parity_size = r.parity_size;
      }
      ATLAS_RETURN_IF_ERROR(parity_files_[l]->Truncate(live_end * bs).WithContext("cut parity " + p.path.string()));
      size = live_end * bs;
    }
    if (size < max_next * bs) {
      ATLAS_RETURN_IF_ERROR(parity_files_[l]->Truncate(max_next * bs).WithContext("grow parity " + p.path.string()));
    }
    if (size != st->size) ATLAS_RETURN_IF_ERROR(parity_files_[l]->Sync().WithContext("cut parity " + p.path.string()));
  }
  return Status::Ok();
}

// A sync that failed half way (parity disk full, an I/O error) still says
// so in `status` until a sync completes: an `unsynced` finding and a run
// record, best effort (the manifest itself may be what failed).
void Syncer::RecordFailure(const Status& failure) {
  if (!m_) return;
  Result<std::uint64_t> left = CountDirtyPositions(m_.get());
  StoredFinding sf;
  sf.finding = MakeFinding(
      FindingKind::kUnsynced, "", "",
      fmt::format("the last sync failed: {}; {} positions are not protected by parity until a sync "
                  "completes",
                  failure.ToString(), left.ok() ? std::to_string(*left) : std::string("some")));
  sf.first_seen_ns = start_ns_;
  sf.last_seen_ns = start_ns_;
  Result<std::vector<StoredFinding>> stored = m_->ListFindings();
  if (stored.ok()) {
    for (const StoredFinding& old : *stored) {
      if (old.finding.kind == FindingKind::kUnsynced && old.finding.disk.empty() && old.finding.path.empty()) {
        sf.first_seen_ns = old.first_seen_ns;
      }
    }
  }
  std::unique_ptr<ManifestBatch> batch = m_->NewBatch();
  batch->PutFinding(sf);
  RunRecord run;
  run.command = "sync";
  run.start_ns = start_ns_;
  run.end_ns = ctx_.clock->NowUnixNanos();
  run.exit_code = 3;
  run.summary = "failed: " + failure.ToString();
  batch->PutRun(run);
  m_->Commit(*batch, /*durable=*/true).IgnoreError();  // the failure itself is what the run returns
}

// The files that the stripes this sync could not compute leave without
// protection: every block of another disk at such a position is only
// recoverable once the position syncs. Null when every stripe synced.
Result<std::optional<Finding>> Syncer::UnprotectedFinding() {
  if (failed_count_ == 0) return std::optional<Finding>();
  std::vector<std::string> files;
  std::set<std::pair<std::uint16_t, std::uint64_t>> seen;  // (slot, file id)
  std::uint64_t more = 0;
  for (const FailedStripe& stripe : failed_stripes_) {
    for (const ArrayDataDisk& d : array_.data) {
      const std::vector<std::uint16_t>& bad = stripe.failed_slots;
      if (std::find(bad.begin(), bad.end(), d.slot) != bad.end()) continue;
      ATLAS_ASSIGN_OR_RETURN(std::optional<BlockRecord> b, m_->GetBlock(d.slot, stripe.pos));
      if (!b || b->state == BlockState::kDeleted || !seen.insert({d.slot, b->file_id}).second) continue;
      ATLAS_ASSIGN_OR_RETURN(std::optional<FileRecord> f, m_->GetFileById(b->file_id));
      if (!f) continue;
      if (files.size() < kGuardExamples) {
        files.push_back(d.name + ":" + DisplayPath(f->path));
      } else {
        more++;
      }
    }
  }
  const FailedStripe& first = failed_stripes_.front();
  std::string what = files.empty() ? std::string("no file of another disk is there")
                                   : fmt::format("these files of other disks are not protected by parity until "
                                                 "they are: {}{}",
                                                 fmt::join(files, ", "),
                                                 more > 0 ? fmt::format(" (and {} more)", more) : std::string());
  Finding f = MakeFinding(
      FindingKind::kUnsynced, "", "",
      fmt::format("{} position{} could not be synced (from position {}; see the read_error and "
                  "silent_corruption findings); {}",
                  failed_count_, failed_count_ == 1 ? "" : "s", first.pos, what));
  f.offset = first.pos * config_.block_size;
  return std::optional<Finding>(std::move(f));
}

// The content identity of every file of `ids` whose blocks are all synced
// and committed, in its own batches (no fsync: Finish's durable commit comes
// later, and a lost identity only costs move detection for that file).
Status Syncer::StoreContents(const std::set<std::uint64_t>& ids) {
  std::unique_ptr<ManifestBatch> batch = m_->NewBatch();
  for (std::uint64_t id : ids) {
    ATLAS_ASSIGN_OR_RETURN(std::optional<FileRecord> rec, m_->GetFileById(id));
    if (!rec || rec->content) continue;
    Hasher128 h;
    bool complete = true;
    for (std::uint64_t i = 0; i < rec->BlockCount() && complete; ++i) {
      ATLAS_ASSIGN_OR_RETURN(std::optional<BlockRecord> b, m_->GetBlock(rec->slot, rec->PositionOf(i)));
      if (!b || b->state != BlockState::kSynced || !b->hash || b->file_id != id) {
        complete = false;
        break;
      }
      std::byte raw[16];
      b->hash->ToBytes(raw);
      h.Update(std::span<const std::byte>(raw, 16));
    }
    if (!complete) continue;
    rec->content = h.Digest();
    batch->PutFile(*rec);
    if (batch->Count() >= 3 * kApplyBatchFiles) {
      ATLAS_RETURN_IF_ERROR(m_->Commit(*batch, false));
      batch = m_->NewBatch();
    }
  }
  return m_->Commit(*batch, false);
}

Status Syncer::Finish() {
  if (!m_) return Status::Ok();
  // Content identity of every file whose last blocks were synced now.
  ATLAS_RETURN_IF_ERROR(StoreContents(touched_ids_));
  touched_ids_.clear();
  std::unique_ptr<ManifestBatch> batch = m_->NewBatch();

  // A deleted file whose content reappeared on another disk was moved. The
  // candidates are the files this run added (ids from first_new_file_id_ on)
  // whose content is known now; there are none to look at without deletions.
  ATLAS_ASSIGN_OR_RETURN(std::vector<Hash128> deleted_contents, m_->ListDeletedContent());
  const std::uint64_t end_id = deleted_contents.empty() ? first_new_file_id_ : next_file_id_.load();
  for (std::uint64_t id = first_new_file_id_; id < end_id; ++id) {
    ATLAS_ASSIGN_OR_RETURN(std::optional<FileRecord> rec, m_->GetFileById(id));
    if (!rec || !rec->content || rec->size == 0) continue;
    auto disk = std::find_if(array_.data.begin(), array_.data.end(),
                             [&](const ArrayDataDisk& d) { return d.slot == rec->slot; });
    if (disk == array_.data.end()) continue;
    const std::size_t di = static_cast<std::size_t>(disk - array_.data.begin());
    {
      const Hash128 content = *rec->content;
      ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> from, m_->GetDeletedContent(content));
      if (!from) continue;
      std::size_t colon = from->find(':');
      std::string from_disk = from->substr(0, colon);
      std::string from_path = colon == std::string::npos ? "" : from->substr(colon + 1);
      drift_list_.Remove(FindingKind::kAdded, array_.data[di].name, rec->path);
      drift_list_.Remove(FindingKind::kDeleted, from_disk, from_path);
      Finding f = MakeFinding(FindingKind::kMoved, array_.data[di].name, rec->path,
                              fmt::format("moved from {}:{}", from_disk, DisplayPath(from_path)));
      f.from = *from;
      drift_list_.Add(std::move(f));
      batch->DeleteDeletedContent(content);
      report_->drift.added--;
      report_->drift.deleted--;
      report_->drift.moved++;
    }
  }
  ATLAS_ASSIGN_OR_RETURN(std::vector<Hash128> leftovers, m_->ListDeletedContent());
  for (const Hash128& h : leftovers) batch->DeleteDeletedContent(h);

  // Findings that only a sync can clear, and the problems this sync found.
  ATLAS_ASSIGN_OR_RETURN(std::vector<StoredFinding> stored, m_->ListFindings());
  for (const StoredFinding& sf : stored) {
    const Finding& f = sf.finding;
    if (f.kind == FindingKind::kMissingDisk || f.kind == FindingKind::kMassDelete) batch->DeleteFinding(f);
    // What the last sync could not protect (UnprotectedFinding, RecordFailure):
    // this one says it again below if it still holds.
    if (f.kind == FindingKind::kUnsynced && f.disk.empty() && f.path.empty()) batch->DeleteFinding(f);
    // A finding about a file that no longer exists in the array (deleted,
    // and this sync recorded it) has nothing left to point at.
    if ((f.kind == FindingKind::kSilentCorruption || f.kind == FindingKind::kReadError ||
         f.kind == FindingKind::kUnrecoverable) &&
        !f.path.empty()) {
      auto disk = std::find_if(array_.data.begin(), array_.data.end(),
                               [&](const ArrayDataDisk& d) { return d.name == f.disk; });
      if (disk != array_.data.end()) {
        ATLAS_ASSIGN_OR_RETURN(std::optional<FileRecord> still, m_->GetFile(disk->slot, f.path));
        if (!still) batch->DeleteFinding(f);
      }
    }
  }
  {
    // Close read errors and corruption whose block now reads back clean and
    // that this run did not report again.
    std::lock_guard<std::mutex> lock(findings_mu_);
    for (const StoredFinding& sf : stored) {
      const Finding& f = sf.finding;
      if (f.kind != FindingKind::kReadError && f.kind != FindingKind::kSilentCorruption) continue;
      bool healed = std::any_of(healed_.begin(), healed_.end(), [&](const Finding& h) {
        return h.disk == f.disk && h.path == f.path && h.offset == f.offset;
      });
      bool again = std::any_of(problems_.begin(), problems_.end(), [&](const Finding& p) {
        return p.kind == f.kind && p.disk == f.disk && p.path == f.path;
      });
      if (healed && !again) batch->DeleteFinding(f);
    }
  }
  ATLAS_ASSIGN_OR_RETURN(std::optional<Finding> unprotected, UnprotectedFinding());
  if (unprotected) Problem(std::move(*unprotected));
  {
    std::lock_guard<std::mutex> lock(findings_mu_);
    for (const Finding& f : problems_) {
      if (f.severity < Severity::kWarning) continue;
      StoredFinding sf;
      sf.finding = f;
      sf.first_seen_ns = start_ns_;
      sf.last_seen_ns = start_ns_;
      for (const StoredFinding& old : stored) {
        if (old.finding.kind == f.kind && old.finding.disk == f.disk && old.finding.path == f.path) {
          sf.first_seen_ns = old.first_seen_ns;
        }
      }
      batch->PutFinding(sf);
    }
  }

  for (const ArrayParity& p : array_.parity) {
    DiskRecord r = ParityRecord(p);
    Result<FileStat> st = ctx_.fs->Stat(p.path);
    if (st.ok()) r.parity_size = st->size;
    batch->PutDisk(r);
  }
  // Count what is still dirty (interrupted, or stripes with errors).
  ATLAS_ASSIGN_OR_RETURN(std::uint64_t left, CountDirtyPositions(m_.get()));
  report_->positions_left = left;
  std::int64_t end_ns = ctx_.clock->NowUnixNanos();
  if (left == 0) {
    batch->PutMeta("last_sync_ns", std::to_string(end_ns));
    // Every written position is committed: no parity is in doubt any more.
    if (written_from_) batch->PutMeta("parity_written_from", "");
  }
  RunRecord run;
  run.command = "sync";
  run.start_ns = start_ns_;
  run.end_ns = end_ns;
  run.exit_code = left == 0 ? 0 : 1;
  run.summary = fmt::format("{} added, {} modified, {} deleted, {} moved, {} bytes hashed, {} positions left",
                            report_->drift.added, report_->drift.modified, report_->drift.deleted,
                            report_->drift.moved, report_->bytes_hashed, left);
  batch->PutRun(run);
  batch->PutMeta("copies_pending", "1");
  ATLAS_RETURN_IF_ERROR(m_->Commit(*batch, /*durable=*/true));
  ATLAS_CRASH_POINT("sync.finish.before_copies");
  return CopyManifest();
}

Status Syncer::CopyManifest() {
  if (!m_) {
    ManifestOptions rw;
    rw.copy_dirs = config_.manifest_copies;
    ATLAS_ASSIGN_OR_RETURN(m_, OpenManifest(config_.manifest, rw));
  }
  // A copy taken now holds copies_pending=1; restoring it only makes the
  // next sync copy again.
  if (!config_.manifest_copies.empty()) {
    ctx_.progress->Note("copying the manifest to " + std::to_string(config_.manifest_copies.size()) +
                        " manifest_copies directories");
    // A copy directory atlas cannot trust gets nothing and is a finding;
    // the others still get their copy (manifest/copy_dir.h).
    std::vector<Finding> refused;
    // The outside index signing key goes into the manifest before its
    // first copy, so every copy can restore it.
    ATLAS_RETURN_IF_ERROR(OutsideSigningKey(m_.get(), /*create=*/true).status());
    ATLAS_RETURN_IF_ERROR(
        m_->CopyTo(config_.manifest_copies, &refused).WithContext("manifest copy"));
    // The compute hosts' view of Atlas, refreshed with every copy (outside.h).
    ATLAS_RETURN_IF_ERROR(ExportOutsideIndex(ctx_.fs, m_.get(), config_.manifest_copies,
                                             ctx_.clock->NowUnixNanos(), &refused));
    for (Finding& f : refused) Problem(std::move(f));
  }
  std::unique_ptr<ManifestBatch> done = m_->NewBatch();
  done->PutMeta("copies_pending", "0");
  return m_->Commit(*done, /*durable=*/true);
}

}  // namespace

Status EngineSelfTest() {
  static const Status result = [] {
    Status s = HashSelfTest();
    if (s.ok()) s = ParitySelfTest();
    ClearUpperVectorState();
    return s.WithContext("self-test");
  }();
  return result;
}

Status RunSync(const RunContext& ctx, const SyncOptions& options, SyncReport* report) {
  *report = SyncReport();
  Syncer syncer(ctx, options, report);
  return syncer.Run().WithContext("sync");
}

}  // namespace atlas
