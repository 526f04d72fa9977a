#include "engine/drift.h"

#include <algorithm>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "atlas/disk_monitor.h"
#include "atlas/hash.h"
#include "engine/guards.h"

namespace atlas {

std::uint64_t MoveKey(std::string_view path, std::uint64_t size, std::int64_t mtime_ns) {
  std::string_view base = path;
  if (std::size_t slash = base.rfind('/'); slash != std::string_view::npos) base.remove_prefix(slash + 1);
  Hasher128 h;
  h.Update(std::as_bytes(std::span(base.data(), base.size())));
  h.Update(std::as_bytes(std::span(&size, 1)));
  h.Update(std::as_bytes(std::span(&mtime_ns, 1)));
  return h.Digest().lo;
}

Status ScanAllDisks(const RunContext& ctx, Manifest* manifest, const ArrayView& array, bool collect,
                    std::vector<DiskDrift>* out) {
  out->assign(array.data.size(), DiskDrift());
  std::vector<Status> statuses(array.data.size());
  std::vector<std::jthread> threads;
  for (std::size_t i = 0; i < array.data.size(); ++i) {
    if (!array.data[i].present) continue;
    threads.emplace_back([&, i] {
      DiskDrift& d = (*out)[i];
      const ArrayDataDisk& disk = array.data[i];
      const GuardExemptions exempt(ctx.config->guards);
      MarkDiskUsed(ctx.monitor, disk.name);  // its metadata is read: it is awake
      statuses[i] = ScanDisk(*ctx.config, ctx.fs, manifest, disk, ctx.stop,
                             [&](const ScanEvent& ev) -> Status {
        switch (ev.change) {
          case ScanChange::kUnchanged:
            d.drift.unchanged++;
            break;
          case ScanChange::kModified:
            d.drift.modified++;
            d.drift.added_bytes += ev.entry->stat.size;
            d.oldest_change_mtime_ns = std::min(d.oldest_change_mtime_ns, ev.entry->stat.mtime_ns);
            if (collect) d.modified.emplace_back(*ev.record, *ev.entry);
            if (!exempt.Exempt(ev.entry->rel_path)) {
              d.guarded_modified++;
              if (d.modified_examples.size() < kGuardExamples) d.modified_examples.push_back(ev.entry->rel_path);
              if (ev.entry->stat.size == 0 && ev.record->size > 0) {
                d.zeroed_count++;
                if (d.zeroed.size() < kGuardExamples) d.zeroed.emplace_back(ev.entry->rel_path, ev.record->size);
              }
            }
            break;
          case ScanChange::kAdded:
            d.drift.added++;
            d.drift.added_bytes += ev.entry->stat.size;
            d.oldest_change_mtime_ns = std::min(d.oldest_change_mtime_ns, ev.entry->stat.mtime_ns);
            if (collect) d.added.push_back(*ev.entry);
            d.added_keys.push_back(MoveKey(ev.entry->rel_path, ev.entry->stat.size,
                                           ev.entry->stat.mtime_ns));
            break;
          case ScanChange::kMoved:
            d.drift.moved++;
            if (collect) d.moved.emplace_back(*ev.record, *ev.entry);
            break;
          case ScanChange::kDeleted:
            if (ev.became_link) break;  // counted below
            d.drift.deleted++;
            d.drift.deleted_bytes += ev.record->size;
            d.deleted.push_back(*ev.record);
            break;
          default:  // entries: counted below
            break;
        }
        if (CountEntryDrift(ev, &d.drift) && collect) d.other.push_back(DriftFinding(disk.name, ev));
        return Status::Ok();
      }, &d.totals, /*extras_of_new=*/false);
      d.scanned = statuses[i].ok();
    });
  }
  threads.clear();  // joins
  for (const Status& s : statuses) ATLAS_RETURN_IF_ERROR(s);
  return Status::Ok();
}

namespace {

// Deleted files that reappear on another disk with the same key, paired one
// to one (one added cover.jpg is the move of one deleted cover.jpg, not of
// twenty). Deletions on the disks `uncounted` names (an emptied disk synced
// with --force-empty) are not counted as deletions, so none of them is
// counted as a move either.
std::uint64_t CountMoves(const std::vector<DiskDrift>& drift, const GuardExemptions* exempt,
                         const std::vector<bool>& uncounted = {}) {
  std::vector<std::unordered_map<std::uint64_t, std::uint64_t>> added(drift.size());
  for (std::size_t j = 0; j < drift.size(); ++j) {
    for (std::uint64_t key : drift[j].added_keys) added[j][key]++;
  }
  std::uint64_t moves = 0;
  for (std::size_t i = 0; i < drift.size(); ++i) {
    if (i < uncounted.size() && uncounted[i]) continue;
    for (const FileRecord& rec : drift[i].deleted) {
      if (exempt != nullptr && exempt->Exempt(rec.path)) continue;
      const std::uint64_t key = MoveKey(rec.path, rec.size, rec.mtime_ns);
      for (std::size_t j = 0; j < drift.size(); ++j) {
        if (j == i) continue;
        auto it = added[j].find(key);
        if (it == added[j].end() || it->second == 0) continue;
        it->second--;
        ++moves;
        break;
      }
    }
  }
  return moves;
}

}  // namespace

std::uint64_t CountLikelyCrossDiskMoves(const ArrayView& array, const std::vector<DiskDrift>& drift) {
  (void)array;
  return CountMoves(drift, nullptr);
}

std::vector<Finding> CheckScanGuards(const Config& config, const ArrayView& array,
                                     const std::vector<DiskDrift>& drift, bool force_empty,
                                     bool force_delete) {
  std::vector<Finding> out;
  const GuardExemptions exempt(config.guards);
  std::uint64_t recorded = 0, deleted = 0;
  std::vector<bool> uncounted(array.data.size(), false);  // deletions --force-empty says are intended
  for (std::size_t i = 0; i < array.data.size(); ++i) {
    const ArrayDataDisk& disk = array.data[i];
    if (!disk.record) continue;
    recorded += disk.record->files;
    const bool emptied = drift[i].scanned && disk.record->files > 0 && drift[i].totals.files == 0;
    // --force-empty says the emptied disk's deletions are intended: they do
    // not count towards the mass-delete limit either.
    uncounted[i] = emptied && force_empty;
    if (!uncounted[i]) {
      for (const FileRecord& rec : drift[i].deleted) deleted += exempt.Exempt(rec.path) ? 0 : 1;
    }
    if (!force_empty && emptied) {
      out.push_back(MakeFinding(
          FindingKind::kMissingDisk, disk.name, "",
          fmt::format("data disk {} is empty: {} held {} files at the last sync and holds none now; "
                      "is the disk mounted? If the files were really removed, run "
                      "`atlas-scrub sync --force-empty`",
                      disk.name, disk.root.string(), disk.record->files)));
    }
  }
  if (!out.empty() || force_delete || deleted == 0) return out;
  std::uint64_t moves = std::min(deleted, CountMoves(drift, &exempt, uncounted));
  std::uint64_t effective = deleted - moves;
  double pct = recorded > 0 ? 100.0 * static_cast<double>(effective) / static_cast<double>(recorded) : 0;
  bool over_count = effective > config.guards.max_deletes;
  bool over_pct = pct > config.guards.max_deletes_pct;
  if (over_count || over_pct) {
    out.push_back(MakeFinding(
        FindingKind::kMassDelete, "", "",
        fmt::format("{} {} deleted since the last sync ({:.1f}% of {}), above the limit of {} files "
                    "or {}% ([guards] max_deletes, max_deletes_pct), so sync refuses to run; check "
                    "with `atlas-scrub diff`, then run `atlas-scrub sync --force-delete` if intended",
                    effective, effective == 1 ? "file was" : "files were", pct, recorded,
                    config.guards.max_deletes, config.guards.max_deletes_pct)));
  }
  return out;
}

}  // namespace atlas
