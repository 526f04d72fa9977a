// Scanning every data disk in parallel (one thread per disk) and turning the
// result into drift counts, guard findings and drift findings. Shared by
// sync (its first, read-only pass), diff and status.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "atlas/engine.h"
#include "atlas/manifest.h"
#include "engine/array.h"
#include "engine/scan.h"

namespace atlas {

struct DiskDrift {
  ScanTotals totals;
  DriftCounts drift;
  std::vector<FileRecord> deleted;
  // Filled only when collecting findings:
  std::vector<WalkEntry> added;
  std::vector<std::pair<FileRecord, WalkEntry>> modified;
  std::vector<std::pair<FileRecord, WalkEntry>> moved;
  // Entries added, removed or changed, and files whose metadata alone
  // changed, as drift findings.
  std::vector<Finding> other;
  // (base name, size, mtime) keys of added files, for telling a move across
  // disks from a deletion without reading data.
  std::vector<std::uint64_t> added_keys;
  // For the content guards (engine/guards.h), [guards] exempt paths left out:
  // modified files, the first few of them, and files that held data at the
  // last sync and are now 0 bytes (path, recorded size; the first few).
  std::uint64_t guarded_modified = 0;
  std::vector<std::string> modified_examples;
  std::uint64_t zeroed_count = 0;
  std::vector<std::pair<std::string, std::uint64_t>> zeroed;
  // The oldest mtime among added and modified files (INT64_MAX if none).
  std::int64_t oldest_change_mtime_ns = INT64_MAX;
  bool scanned = false;
};

// Scans every present data disk of `array`. With `collect`, keeps each
// added/modified/moved entry (diff); otherwise only counts and deletions.
Status ScanAllDisks(const RunContext& ctx, Manifest* manifest, const ArrayView& array, bool collect,
                    std::vector<DiskDrift>* out);

// The (base name, size, mtime) key used for the cheap cross-disk move check.
std::uint64_t MoveKey(std::string_view path, std::uint64_t size, std::int64_t mtime_ns);

// Deleted files that reappear with the same base name, size and mtime on
// another disk (a `mv` across disks): they count as moves for the
// mass-delete guard.
std::uint64_t CountLikelyCrossDiskMoves(const ArrayView& array, const std::vector<DiskDrift>& drift);

// missing_disk for disks that held files and are now empty, mass_delete when
// deletions (not counting [guards] exempt paths) exceed [guards]. Honors the
// force flags.
std::vector<Finding> CheckScanGuards(const Config& config, const ArrayView& array,
                                     const std::vector<DiskDrift>& drift, bool force_empty,
                                     bool force_delete);


}  // namespace atlas
