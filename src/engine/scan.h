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
//
// Hard links: the names of one inode on a disk are one file. A regular
// file with more than one link is held back until the walk ends (memory:
// the multi-link names only); then each inode's names are grouped and one
// of them carries the content (the name recorded as content before, else a
// recorded name, else a move by inode, else the first in byte order),
// classified as above. Every other name is a hard-link entry pointing at it.
//
// Entries (directories, symlinks, hard-link names, FIFOs, sockets, device
// nodes) have no data: they are collected during the walk, sorted, and
// merge-joined with the manifest's entries table after it:
//   entry added / removed / changed, or unchanged. A change that only moves
//   a directory's mtime (a file added in it) or a ctime is `quiet`: it is
//   recorded, never reported. Xattrs and symlink targets are read only when
//   the ctime differs from the recorded one (or nothing is recorded): an
//   xattr change always moves the ctime.
//
// The extras of regular files (xattrs, holes) are read the same way: xattrs
// when the ctime moved, holes when a file's content is recorded anew and it
// has fewer blocks allocated than its size needs. Nothing here opens a FIFO,
// socket or device node.
#pragma once

#include <functional>
#include <stop_token>

#include "atlas/config.h"
#include "atlas/engine.h"
#include "atlas/env.h"
#include "atlas/manifest.h"
#include "engine/array.h"

namespace atlas {

enum class ScanChange : std::uint8_t {
  kUnchanged,
  kModified,
  kAdded,
  kMoved,
  kDeleted,
  kEntryAdded,
  kEntryChanged,
  kEntryRemoved,
  kEntryUnchanged,
};

// What a file has besides its bytes, as read now.
struct FileExtras {
  std::vector<Xattr> xattrs;
  std::vector<ByteRange> holes;
};

struct ScanEvent {
  ScanChange change = ScanChange::kUnchanged;
  const WalkEntry* entry = nullptr;    // the file on disk; null for kDeleted
  const FileRecord* record = nullptr;  // the recorded file; null for kAdded
  // File events other than kDeleted: the xattrs as read now (null: not
  // read, the ctime did not move, so they are the recorded ones) and the
  // holes (read for added and modified files that look sparse).
  const FileExtras* extras = nullptr;
  // kUnchanged: mode, owner or xattrs differ from the record (content the
  // same): `modified` drift that needs no hashing.
  bool metadata_changed = false;
  // kUnchanged: the record must be rewritten (the above, or only the
  // inode or ctime moved).
  bool refresh = false;
  // Entry events: as recorded (changed, removed, unchanged) and as now
  // (added, changed, unchanged).
  const EntryRecord* recorded = nullptr;
  const EntryRecord* now = nullptr;
  // kEntryChanged: only a directory's mtime, an inode or a ctime moved.
  // kEntryRemoved: a link name that now carries the content itself.
  bool quiet = false;
  // kDeleted: the name is still there, as a hard link to another recorded
  // name of the same file (or the file it was relinked to): its content
  // left this name, the name did not go (not a deletion for the guards).
  bool became_link = false;
};

using ScanVisitor = std::function<Status(const ScanEvent&)>;

struct ScanTotals {
  std::uint64_t files = 0;  // regular files found (not excluded), one per inode
  std::uint64_t bytes = 0;
  std::uint64_t directories = 0;  // the root not counted
  std::uint64_t symlinks = 0;
  std::uint64_t hard_links = 0;   // names beyond the first of an inode
  std::uint64_t special_files = 0;
};

// The entry kind of what lstat says, for anything but a regular file.
EntryKind EntryKindOf(const FileStat& st);
// Human words for a metadata change of a file whose content is the same:
// "metadata changed: mode 0644 -> 0600, extended attributes changed".
std::string DescribeMetadataChange(const FileRecord& rec, const FileStat& now, const FileExtras* extras);
// Counts into `c` what `ev` drifts besides a file's content: a file's
// metadata change, an entry added, removed or changed, or a record to
// rewrite quietly (`refreshed`). True when it is a drift to list, with
// DriftFinding. Sync's apply pass and ScanAllDisks count alike through it.
bool CountEntryDrift(const ScanEvent& ev, DriftCounts* c);
// The finding of what CountEntryDrift listed, on `disk`: a file's metadata
// change (modified), an entry added, removed or changed (added, deleted,
// modified).
Finding DriftFinding(const std::string& disk, const ScanEvent& ev);
// Human words for an entry change: "symlink changed: -> a became -> b".
std::string DescribeEntryChange(const EntryRecord& was, const EntryRecord& now);

// Scans `disk`. `manifest` may be null (never synced). Stops with kCancelled
// when `stop` is requested. Errors name the disk.
// `extras_of_new`: read the xattrs and holes of added, modified and moved
// files (the apply pass of sync records them); a scan that only counts
// (diff, status, sync's check) leaves them out: one walk fewer of xattr
// calls per new file. Unchanged files' xattrs are read either way when
// their ctime moved, to tell a metadata change.
Status ScanDisk(const Config& config, FileSystem* fs, Manifest* manifest,
                const ArrayDataDisk& disk, std::stop_token stop, const ScanVisitor& visit,
                ScanTotals* totals, bool extras_of_new = true);

}  // namespace atlas
