// Walks one data disk and merge-joins it with the manifest's file records.
//
// Both sides come in byte order of path (FileSystem::Walk's contract and the
// manifest's key order), so the comparison streams: memory holds one
// directory listing per depth level, the files deleted since the last sync,
// and the paths that moved away. That is what keeps a sync of a million-file
// array flat in memory (SnapRAID holds every file and block in RAM).
//
// Classification (SnapRAID's, with the inode as the same-disk move key):
//   unchanged  same path, size, mtime (ns) and inode
//   modified   same path, other size, mtime or inode (a file renamed over
//              the recorded one keeps its bytes unknown until hashed: a
//              restore from backup is rehashed, never trusted)
//   moved      a new path whose inode, size and mtime belong to a recorded
//              file whose old path is gone
//   added / deleted  the rest (deleted ones are reported after the walk,
//              once moves are known)
#pragma once

#include <functional>
#include <stop_token>

#include "atlas/config.h"
#include "atlas/env.h"
#include "atlas/manifest.h"
#include "engine/array.h"

namespace atlas {

enum class ScanChange : std::uint8_t { kUnchanged, kModified, kAdded, kMoved, kDeleted };

struct ScanEvent {
  ScanChange change = ScanChange::kUnchanged;
  const WalkEntry* entry = nullptr;    // the file on disk; null for kDeleted
  const FileRecord* record = nullptr;  // the recorded file; null for kAdded
};

using ScanVisitor = std::function<Status(const ScanEvent&)>;

struct ScanTotals {
  std::uint64_t files = 0;  // regular files found (not excluded)
  std::uint64_t bytes = 0;
};

// Scans `disk`. `manifest` may be null (never synced). Stops with kCancelled
// when `stop` is requested. Errors name the disk.
Status ScanDisk(const Config& config, FileSystem* fs, Manifest* manifest,
                const ArrayDataDisk& disk, std::stop_token stop, const ScanVisitor& visit,
                ScanTotals* totals);

}  // namespace atlas
