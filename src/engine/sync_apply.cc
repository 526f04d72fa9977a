// sync, pass 2: apply (sync.cc says how sync works as a whole).
//
// The manifest is reopened read-write (the lock is held, so nothing changed
// since the check) and every data disk walked again, one thread per disk;
// the metadata is in the dentry cache by now. Each change becomes manifest
// updates:
//   added     positions from the disk's free extents (first fit, then the
//             high-water mark), every block dirty;
//   modified  keeps its positions, frees those it no longer needs and takes
//             more if it grew, all dirty;
//   deleted   its blocks become deleted-and-dirty (the old hash is kept,
//             since the parity still includes that data), and its content
//             identity is remembered for move detection;
//   moved     (on the same disk) only the record is renamed.
// Batches commit every few thousand files without fsync: a lost batch is
// found again by the next scan.
#include <fmt/format.h>

#include <functional>
#include <map>
#include <set>
#include <thread>

#include "atlas/disk_monitor.h"
#include "atlas/hash.h"
#include "core/crash_point.h"
#include "engine/scan.h"
#include "engine/sync_internal.h"

namespace atlas::sync {
namespace {

std::uint64_t BlocksFor(std::uint64_t size, std::uint32_t bs) { return (size + bs - 1) / bs; }

std::string Where(const ArrayDataDisk& d, std::string_view path) { return d.name + ":" + std::string(path); }

void FillFromStat(std::uint16_t slot, const WalkEntry& e, FileRecord* rec) {
  rec->slot = slot;
  rec->path = e.rel_path;
  rec->size = e.stat.size;
  rec->mtime_ns = e.stat.mtime_ns;
  rec->inode = e.stat.inode;
  rec->mode = e.stat.mode;
  rec->uid = e.stat.uid;
  rec->gid = e.stat.gid;
  rec->ctime_ns = e.stat.ctime_ns;
}

// The xattrs and holes the scan read (kept as recorded when it read none).
void FillExtras(const ScanEvent& ev, FileRecord* rec) {
  if (ev.extras == nullptr) return;
  rec->xattrs = ev.extras->xattrs;
  rec->holes = ev.extras->holes;
}

// One data disk's changes, recorded from its walk (one per disk thread).
class DiskApplier {
 public:
  DiskApplier(SyncState& st, std::size_t di)
      : st_(st), di_(di), disk_(st.array.data[di]), fm_(st.free_maps[di]), bs_(st.config.block_size),
        batch_(st.m->NewBatch()) {}

  Status Run();

 private:
  Status OnEvent(const ScanEvent& ev);
  bool Unchanged(const ScanEvent& ev);
  Status Modified(const ScanEvent& ev);
  void Added(const ScanEvent& ev);
  void Moved(const ScanEvent& ev);
  Status Deleted(const FileRecord& old, bool became_link);
  bool Entry(const ScanEvent& ev);
  Status MarkDeleted(std::uint64_t pos);
  // Records every block of `rec` as dirty. `zero_before(pos)`: the parity
  // still has zeros for this disk there (a freshly allocated position, or a
  // kept one never synced since); `old_at(pos)`: the record there now (none
  // at a freshly allocated position: the free table and the block records
  // never share a position).
  void PutDirtyBlocks(const FileRecord& rec, const std::function<bool(std::uint64_t)>& zero_before,
                      const std::function<std::optional<BlockRecord>(std::uint64_t)>& old_at);
  void Drift(FindingKind kind, const std::string& path, std::string msg) {
    st_.findings.drift.Add(MakeFinding(kind, disk_.name, path, std::move(msg)));
  }
  Status Commit(bool final_batch, const ScanTotals* totals);

  SyncState& st_;
  const std::size_t di_;
  const ArrayDataDisk& disk_;
  ExtentMap& fm_;
  const std::uint32_t bs_;
  std::unique_ptr<ManifestBatch> batch_;
  std::size_t files_in_batch_ = 0;
  DriftCounts counts_;
};

Status DiskApplier::MarkDeleted(std::uint64_t pos) {
  ATLAS_ASSIGN_OR_RETURN(std::optional<BlockRecord> old, st_.m->GetBlock(disk_.slot, pos));
  BlockRecord b;
  b.slot = disk_.slot;
  b.pos = pos;
  b.state = BlockState::kDeleted;
  if (old) b.hash = old->hash;
  batch_->ReplaceBlock(old, b);
  batch_->MarkDirty(pos, disk_.slot);
  return Status::Ok();
}

void DiskApplier::PutDirtyBlocks(const FileRecord& rec, const std::function<bool(std::uint64_t)>& zero_before,
                                 const std::function<std::optional<BlockRecord>(std::uint64_t)>& old_at) {
  std::uint64_t index = 0;
  for (const Extent& e : rec.extents) {
    for (std::uint64_t i = 0; i < e.count; ++i, ++index) {
      BlockRecord b;
      b.slot = disk_.slot;
      b.pos = e.start + i;
      b.state = BlockState::kDirty;
      b.file_id = rec.file_id;
      b.file_block = index;
      b.past_zero = zero_before(b.pos);
      batch_->ReplaceBlock(old_at(b.pos), b);
      batch_->MarkDirty(b.pos, disk_.slot);
    }
  }
}

// Content unchanged; the record follows a new mode, owner, xattrs or
// ctime. Whether anything was written.
bool DiskApplier::Unchanged(const ScanEvent& ev) {
  if (!ev.refresh) return false;
  const FileRecord& old = *ev.record;
  FileRecord rec = old;
  FillFromStat(disk_.slot, *ev.entry, &rec);
  FillExtras(ev, &rec);
  batch_->DeleteFile(old);
  batch_->PutFile(rec);
  return true;
}

// An entry (directory, symlink, hard link, special file) added, changed or
// removed: only its record. Whether anything was written.
bool DiskApplier::Entry(const ScanEvent& ev) {
  switch (ev.change) {
    case ScanChange::kEntryUnchanged:
      return false;
    case ScanChange::kEntryRemoved:
      batch_->DeleteEntry(disk_.slot, ev.recorded->path);
      return true;
    default:  // added, changed
      batch_->PutEntry(*ev.now);
      return true;
  }
}

// Keeps the file's positions (no parity growth for in-place edits); frees
// what it no longer needs, takes more if it grew.
Status DiskApplier::Modified(const ScanEvent& ev) {
  const FileRecord& old = *ev.record;
  const WalkEntry& e = *ev.entry;
  FileRecord rec = old;
  const std::uint64_t old_n = rec.BlockCount();
  const std::uint64_t new_n = BlocksFor(e.stat.size, bs_);
  std::vector<Extent> kept;
  std::set<std::uint64_t> zero_before;
  std::map<std::uint64_t, BlockRecord> olds;  // the records at kept positions
  std::uint64_t index = 0;
  for (const Extent& x : rec.extents) {
    for (std::uint64_t i = 0; i < x.count; ++i, ++index) {
      const std::uint64_t pos = x.start + i;
      if (index >= new_n) {
        ATLAS_RETURN_IF_ERROR(MarkDeleted(pos));
        continue;
      }
      if (!kept.empty() && kept.back().start + kept.back().count == pos) {
        kept.back().count++;
      } else {
        kept.push_back({pos, 1});
      }
      ATLAS_ASSIGN_OR_RETURN(std::optional<BlockRecord> at, st_.m->GetBlock(disk_.slot, pos));
      if (at && at->state == BlockState::kDirty && at->past_zero) zero_before.insert(pos);
      if (at) olds.emplace(pos, *at);
    }
  }
  if (new_n > old_n) {
    for (const Extent& x : fm_.Allocate(new_n - old_n)) {
      kept.push_back(x);
      for (std::uint64_t i = 0; i < x.count; ++i) zero_before.insert(x.start + i);
    }
  }
  batch_->DeleteFile(rec);
  FillFromStat(disk_.slot, e, &rec);
  FillExtras(ev, &rec);
  rec.extents = std::move(kept);
  rec.content.reset();
  if (new_n == 0) rec.content = Hasher128().Digest();
  PutDirtyBlocks(
      rec, [&](std::uint64_t pos) { return zero_before.count(pos) != 0; },
      [&](std::uint64_t pos) {
        auto it = olds.find(pos);
        return it == olds.end() ? std::optional<BlockRecord>() : std::optional<BlockRecord>(it->second);
      });
  batch_->PutFile(rec);
  counts_.modified++;
  counts_.added_bytes += rec.size;
  Drift(FindingKind::kModified, rec.path, fmt::format("modified since the last sync ({} bytes)", rec.size));
  return Status::Ok();
}

void DiskApplier::Added(const ScanEvent& ev) {
  FileRecord rec;
  FillFromStat(disk_.slot, *ev.entry, &rec);
  FillExtras(ev, &rec);
  rec.file_id = st_.next_file_id.fetch_add(1);
  rec.extents = fm_.Allocate(BlocksFor(rec.size, bs_));
  if (rec.size == 0) rec.content = Hasher128().Digest();
  PutDirtyBlocks(  // all freshly allocated
      rec, [](std::uint64_t) { return true; }, [](std::uint64_t) { return std::optional<BlockRecord>(); });
  batch_->PutFile(rec);
  counts_.added++;
  counts_.added_bytes += rec.size;
  Drift(FindingKind::kAdded, rec.path, fmt::format("added ({} bytes)", rec.size));
}

void DiskApplier::Moved(const ScanEvent& ev) {
  const FileRecord& old = *ev.record;
  FileRecord rec = old;
  FillFromStat(disk_.slot, *ev.entry, &rec);
  FillExtras(ev, &rec);
  batch_->DeleteFile(old);
  batch_->PutFile(rec);
  counts_.moved++;
  Finding f = MakeFinding(FindingKind::kMoved, disk_.name, rec.path, fmt::format("moved from {}", DisplayPath(old.path)));
  f.from = Where(disk_, old.path);
  st_.findings.drift.Add(std::move(f));
}

Status DiskApplier::Deleted(const FileRecord& old, bool became_link) {
  for (const Extent& e : old.extents) {
    for (std::uint64_t i = 0; i < e.count; ++i) ATLAS_RETURN_IF_ERROR(MarkDeleted(e.start + i));
  }
  batch_->DeleteFile(old);
  // The name is now another name of a recorded file: its link entry says
  // so, and the parity sheds the second copy it held.
  if (became_link) return Status::Ok();
  if (old.content && old.size > 0) batch_->PutDeletedContent(*old.content, Where(disk_, old.path));
  counts_.deleted++;
  counts_.deleted_bytes += old.size;
  Drift(FindingKind::kDeleted, old.path, "deleted since the last sync");
  return Status::Ok();
}

Status DiskApplier::OnEvent(const ScanEvent& ev) {
  // Metadata, entries and quiet refreshes: counted and listed as the
  // check pass and diff count them.
  if (CountEntryDrift(ev, &counts_)) st_.findings.drift.Add(DriftFinding(disk_.name, ev));
  switch (ev.change) {
    case ScanChange::kUnchanged:
      if (!Unchanged(ev)) return Status::Ok();  // nothing written, not counted towards a batch
      break;
    case ScanChange::kModified:
      ATLAS_RETURN_IF_ERROR(Modified(ev));
      break;
    case ScanChange::kAdded:
      Added(ev);
      break;
    case ScanChange::kMoved:
      Moved(ev);
      break;
    case ScanChange::kDeleted:
      ATLAS_RETURN_IF_ERROR(Deleted(*ev.record, ev.became_link));
      break;
    default:
      if (!Entry(ev)) return Status::Ok();
      break;
  }
  if (++files_in_batch_ >= kApplyBatchFiles) {
    ATLAS_RETURN_IF_ERROR(Commit(false, nullptr));
    batch_ = st_.m->NewBatch();
    files_in_batch_ = 0;
  }
  return Status::Ok();
}

Status DiskApplier::Commit(bool final_batch, const ScanTotals* totals) {
  fm_.Flush(disk_.slot, batch_.get());
  DiskRecord r = disk_.record.value_or(DiskRecord());
  r.name = disk_.name;
  r.role = DiskRole::kData;
  r.index = disk_.slot;
  r.path = disk_.root.string();
  if (disk_.identity) r.identity = ToRecord(*disk_.identity);
  r.next_pos = fm_.next_pos();
  if (final_batch) {
    r.files = totals->files;
    r.bytes = totals->bytes;
    r.directories = totals->directories;
    r.symlinks = totals->symlinks;
    r.hard_links = totals->hard_links;
    r.special_files = totals->special_files;
  }
  std::lock_guard<std::mutex> lock(st_.apply_mu);
  batch_->PutDisk(r);
  batch_->PutMeta("next_file_id", std::to_string(st_.next_file_id.load()));
  // Not durable: a lost apply batch is found again by the next scan, and the
  // WAL is sequential, so a later durable commit makes this one durable too.
  ATLAS_RETURN_IF_ERROR(st_.m->Commit(*batch_, /*durable=*/false));
  ATLAS_CRASH_POINT("sync.apply.after_commit");
  return Status::Ok();
}

Status DiskApplier::Run() {
  ScanTotals totals;
  MarkDiskUsed(st_.ctx.monitor, disk_.name);
  Status s = ScanDisk(st_.config, st_.ctx.fs, st_.m.get(), disk_, st_.ctx.stop,
                      [this](const ScanEvent& ev) { return OnEvent(ev); }, &totals);
  if (!s.ok()) {
    // Interrupted: keep what was scanned; positions recorded so far are
    // dirty and the next sync goes on from there.
    if (s.code() == Code::kCancelled) ATLAS_RETURN_IF_ERROR(Commit(false, nullptr));
    return s;
  }
  ATLAS_RETURN_IF_ERROR(Commit(true, &totals));
  std::lock_guard<std::mutex> lock(st_.apply_mu);
  st_.report->drift.Add(counts_);  // `unchanged` is the check pass's: none here
  return Status::Ok();
}

// Loads every data disk's free extents; the highest high-water mark.
Result<std::uint64_t> LoadFreeMaps(SyncState& st) {
  st.free_maps.resize(st.array.data.size());
  std::uint64_t max_next = 0;
  for (std::size_t i = 0; i < st.array.data.size(); ++i) {
    const ArrayDataDisk& d = st.array.data[i];
    std::vector<Extent> free_extents;
    if (d.record) {
      ATLAS_ASSIGN_OR_RETURN(free_extents, st.m->FreeExtents(d.slot));
    }
    st.free_maps[i].Load(free_extents, d.record ? d.record->next_pos : 0);
    max_next = std::max(max_next, st.free_maps[i].next_pos());
  }
  return max_next;
}

// Array-wide records: block size, parity levels; a parity level that is new
// on an array that already has data needs every position recomputed.
Status PutArrayRecords(SyncState& st, bool first_sync, std::uint64_t max_next) {
  std::unique_ptr<ManifestBatch> batch = st.m->NewBatch();
  batch->PutMeta("block_size", std::to_string(st.config.block_size));
  batch->PutMeta("parity_levels", std::to_string(st.config.parity.size()));
  if (first_sync) batch->PutMeta("first_sync_ns", std::to_string(st.start_ns));
  batch->PutMeta("last_sync_start_ns", std::to_string(st.start_ns));
  bool new_level = false;
  for (const ArrayParity& p : st.array.parity) {
    if (!p.record) new_level = true;
    batch->PutDisk(ParityRecord(p));
  }
  if (new_level && !first_sync) {
    for (std::uint64_t pos = 0; pos < max_next; ++pos) batch->MarkDirty(pos, kParityOnlySlot);
  }
  return st.m->Commit(*batch, /*durable=*/false);
}

}  // namespace

Status Apply(SyncState& st) {
  ManifestOptions rw;
  rw.create_if_missing = true;
  rw.copy_dirs = st.config.manifest_copies;
  ATLAS_ASSIGN_OR_RETURN(st.m, OpenManifest(st.config.manifest, rw));
  const bool first_sync = !st.array.synced_ever;
  ATLAS_ASSIGN_OR_RETURN(st.array, LoadArray(st.ctx, st.m.get()));
  st.next_file_id = st.array.next_file_id;
  st.first_new_file_id = st.array.next_file_id;
  ATLAS_ASSIGN_OR_RETURN(std::vector<StoredFinding> stored, st.m->ListFindings());
  st.findings.Watch(stored);
  ATLAS_ASSIGN_OR_RETURN(const std::uint64_t max_next, LoadFreeMaps(st));
  ATLAS_RETURN_IF_ERROR(PutArrayRecords(st, first_sync, max_next));

  st.ctx.progress->BeginPhase("scan", 0);
  std::vector<Status> statuses(st.array.data.size());
  {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < st.array.data.size(); ++i) {
      threads.emplace_back([&st, i, &statuses] { statuses[i] = DiskApplier(st, i).Run(); });
    }
  }
  st.ctx.progress->EndPhase();
  for (const Status& s : statuses) ATLAS_RETURN_IF_ERROR(s);
  return Status::Ok();
}

}  // namespace atlas::sync
