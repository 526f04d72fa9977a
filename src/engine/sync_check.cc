// sync, pass 1: check, read-only (sync.cc says how sync works as a whole).
//
// The manifest is opened read-only and RocksDB's info log is discarded, so a
// sync that a guard refuses leaves the manifest directory byte-identical.
#include <fmt/format.h>

#include "engine/disk_guards.h"
#include "engine/drift.h"
#include "engine/guards.h"
#include "engine/sync_internal.h"

namespace atlas::sync {
namespace {

// The refusal of a tripped guard: the first finding, and how many more
// there are (a zero_size finding names one file of possibly many).
std::string RefusalSummary(const std::vector<Finding>& guards) {
  const Finding& f = guards.front();
  std::string out = f.path.empty() ? f.message : fmt::format("{}:{} {}", f.disk, DisplayPath(f.path), f.message);
  if (guards.size() > 1) out += fmt::format(" (and {} more findings)", guards.size() - 1);
  return out;
}

// The guards that need the walk: emptied disk, mass delete, files emptied
// to 0 bytes, mass modification, and (reading only the candidates, and only
// when nothing else refused) moves across disks whose content changed.
Result<std::vector<Finding>> ScanGuards(SyncState& st, Manifest* existing, const std::vector<DiskDrift>& drift) {
  const SyncOptions& o = st.options;
  std::vector<Finding> out = CheckScanGuards(st.config, st.array, drift, o.force_empty, o.force_delete);
  for (Finding& f : CheckContentGuards(st.config, st.array, drift, o.force_zero, o.force_modified)) {
    out.push_back(std::move(f));
  }
  if (out.empty()) {
    ATLAS_ASSIGN_OR_RETURN(out, CheckCrossDiskMoves(st.ctx, existing, st.array, drift, o.force_move));
  }
  return out;
}

// Whether a disk record differs from the disk as configured and probed now
// (path, identity): the records are rewritten even when no file changed.
bool RecordsStale(const ArrayView& array) {
  if (!array.synced_ever) return true;
  for (const ArrayDataDisk& d : array.data) {
    if (!d.record || !d.identity || d.record->path != d.root.string() ||
        d.record->identity.uuid != d.identity->uuid ||
        d.record->identity.is_mount_point != d.identity->is_mount_point ||
        d.record->identity.device != d.identity->device) {
      return true;
    }
  }
  for (const ArrayParity& p : array.parity) {
    if (!p.record || p.record->path != p.path.string()) return true;
  }
  return false;
}

}  // namespace

Status Check(SyncState& st, bool* nothing_to_do) {
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<Manifest> existing, OpenManifestIfExists(st.config));
  ATLAS_ASSIGN_OR_RETURN(st.array, LoadArray(st.ctx, existing.get()));
  if (existing) {
    ATLAS_ASSIGN_OR_RETURN(std::optional<std::int64_t> pending, GetMetaInt(existing.get(), "copies_pending"));
    st.copies_pending = pending.value_or(0) != 0;
  }
  for (Finding& f : SharedFilesystemFindings(st.array)) st.findings.Problem(std::move(f));
  std::vector<Finding> guards = CheckDiskGuards(st.array);
  ATLAS_RETURN_IF_ERROR(CheckOrphans(st.config, st.array));
  if (!guards.empty()) {
    std::string first = guards.front().message;
    for (Finding& f : guards) st.findings.Problem(std::move(f));
    return Status::FailedPrecondition("refused: " + first);
  }

  std::vector<DiskDrift> drift;
  ATLAS_RETURN_IF_ERROR(ScanAllDisks(st.ctx, existing.get(), st.array, /*collect=*/false, &drift));
  DriftCounts& counts = st.report->drift;
  for (const DiskDrift& d : drift) counts.unchanged += d.drift.unchanged;
  ATLAS_ASSIGN_OR_RETURN(std::vector<Finding> scan_guards, ScanGuards(st, existing.get(), drift));
  if (!scan_guards.empty()) {
    std::string first = RefusalSummary(scan_guards);
    for (Finding& f : scan_guards) st.findings.Problem(std::move(f));
    for (const DiskDrift& d : drift) {
      counts.added += d.drift.added;
      counts.modified += d.drift.modified;
      counts.deleted += d.drift.deleted;
      counts.moved += d.drift.moved;
      counts.AddEntries(d.drift);
    }
    return Status::FailedPrecondition("refused: " + first);
  }

  std::uint64_t changes = 0;
  for (const DiskDrift& d : drift) changes += d.drift.Changes() + d.drift.refreshed;
  bool dirty = false;
  if (existing) {
    std::unique_ptr<Cursor<DirtyEntry>> c = existing->Dirty(0);
    dirty = c->Valid();
    ATLAS_RETURN_IF_ERROR(c->status());
  }
  *nothing_to_do = changes == 0 && !dirty && !RecordsStale(st.array);
  return Status::Ok();
}

}  // namespace atlas::sync
