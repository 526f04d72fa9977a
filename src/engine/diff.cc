// diff: drift since the last sync, changing nothing.
//
// Metadata only (one parallel walk merge-joined with the manifest), with one
// exception: a file added on one disk with the size of a file deleted from
// another is hashed, block by block, to tell a move across disks (same
// content) from an unrelated add. Candidates are rare, so this costs little.
#include <map>
#include <vector>

#include <fmt/format.h>

#include "atlas/engine.h"
#include "atlas/hash.h"
#include "atlas/manifest.h"
#include "engine/array.h"
#include "engine/disk_guards.h"
#include "engine/drift.h"
#include "engine/guards.h"

namespace atlas {

Status RunDiff(const RunContext& ctx, const DiffOptions& options, DiffReport* report) {
  *report = DiffReport();
  const Config& config = *ctx.config;
  Result<std::unique_ptr<Manifest>> opened = OpenManifestIfExists(config);
  if (!opened.ok()) return opened.status().WithContext("diff");
  std::unique_ptr<Manifest> m = std::move(opened).value();
  ATLAS_ASSIGN_OR_RETURN(ArrayView array, LoadArray(ctx, m.get()));
  std::vector<Finding> problems = CheckDiskGuards(array);
  for (Finding& f : SharedFilesystemFindings(array)) problems.push_back(std::move(f));

  std::vector<DiskDrift> drift;
  ATLAS_RETURN_IF_ERROR(ScanAllDisks(ctx, m.get(), array, /*collect=*/true, &drift).WithContext("diff"));
  for (Finding& f : CheckScanGuards(config, array, drift, false, false)) problems.push_back(std::move(f));
  for (Finding& f : CheckContentGuards(config, array, drift, false, false)) problems.push_back(std::move(f));
  {
    Result<std::vector<Finding>> mismatched = CheckCrossDiskMoves(ctx, m.get(), array, drift, false);
    if (!mismatched.ok()) return mismatched.status().WithContext("diff");
    for (Finding& f : *mismatched) problems.push_back(std::move(f));
  }

  // Moves across disks: same size, then same content.
  std::multimap<std::uint64_t, std::pair<std::size_t, const FileRecord*>> deleted_by_size;
  for (std::size_t i = 0; i < drift.size(); ++i) {
    for (const FileRecord& rec : drift[i].deleted) {
      if (rec.content && rec.size > 0) deleted_by_size.emplace(rec.size, std::make_pair(i, &rec));
    }
  }
  std::vector<std::vector<bool>> added_moved(drift.size());
  std::vector<std::vector<bool>> deleted_moved(drift.size());
  for (std::size_t i = 0; i < drift.size(); ++i) {
    added_moved[i].assign(drift[i].added.size(), false);
    deleted_moved[i].assign(drift[i].deleted.size(), false);
  }
  std::vector<Finding> moves;
  for (std::size_t i = 0; i < drift.size() && !deleted_by_size.empty(); ++i) {
    for (std::size_t a = 0; a < drift[i].added.size(); ++a) {
      const WalkEntry& e = drift[i].added[a];
      auto [lo, hi] = deleted_by_size.equal_range(e.stat.size);
      if (lo == hi) continue;
      Result<Hash128> content = ContentOnDisk(ctx.fs, array.data[i].root, e.rel_path, e.stat.size, config.block_size);
      if (!content.ok()) continue;  // unreadable now: reported as added
      for (auto it = lo; it != hi; ++it) {
        auto [j, rec] = it->second;
        if (j == i || *rec->content != *content) continue;
        std::size_t index = static_cast<std::size_t>(rec - drift[j].deleted.data());
        if (deleted_moved[j][index]) continue;
        deleted_moved[j][index] = true;
        added_moved[i][a] = true;
        Finding f = MakeFinding(FindingKind::kMoved, array.data[i].name, e.rel_path,
                                fmt::format("moved from {}:{}", array.data[j].name, DisplayPath(rec->path)));
        f.from = array.data[j].name + ":" + rec->path;
        moves.push_back(std::move(f));
        break;
      }
    }
  }

  std::vector<Finding> items;
  for (std::size_t i = 0; i < drift.size(); ++i) {
    const std::string& disk = array.data[i].name;
    DriftCounts& c = report->drift;
    c.unchanged += drift[i].drift.unchanged;
    c.moved += drift[i].drift.moved;
    // Entries and metadata: counted by the walk, listed as found.
    c.AddEntries(drift[i].drift);
    for (const Finding& f : drift[i].other) items.push_back(f);
    for (const auto& [rec, e] : drift[i].moved) {
      Finding f = MakeFinding(FindingKind::kMoved, disk, e.rel_path,
                              fmt::format("moved from {}", DisplayPath(rec.path)));
      f.from = disk + ":" + rec.path;
      items.push_back(std::move(f));
    }
    for (const auto& [rec, e] : drift[i].modified) {
      c.modified++;
      c.added_bytes += e.stat.size;
      items.push_back(MakeFinding(FindingKind::kModified, disk, e.rel_path,
                                  fmt::format("modified: {} -> {} bytes", rec.size, e.stat.size)));
    }
    for (std::size_t a = 0; a < drift[i].added.size(); ++a) {
      if (added_moved[i][a]) continue;
      const WalkEntry& e = drift[i].added[a];
      c.added++;
      c.added_bytes += e.stat.size;
      items.push_back(MakeFinding(FindingKind::kAdded, disk, e.rel_path,
                                  fmt::format("added ({} bytes)", e.stat.size)));
    }
    for (std::size_t d = 0; d < drift[i].deleted.size(); ++d) {
      if (deleted_moved[i][d]) continue;
      const FileRecord& rec = drift[i].deleted[d];
      c.deleted++;
      c.deleted_bytes += rec.size;
      items.push_back(MakeFinding(FindingKind::kDeleted, disk, rec.path, "deleted since the last sync"));
    }
  }
  report->drift.moved += moves.size();
  for (Finding& f : moves) items.push_back(std::move(f));

  if (m) {
    ATLAS_ASSIGN_OR_RETURN(report->positions_unsynced, CountDirtyPositions(m.get()));
  }
  report->findings = std::move(problems);
  report->drift_truncated = items.size() > options.max_drift_findings;
  if (report->drift_truncated) items.resize(options.max_drift_findings);
  for (Finding& f : items) report->findings.push_back(std::move(f));
  return Status::Ok();
}

}  // namespace atlas
