// The array engine: `sync`, `diff`, `scrub`, `check` and `fix`. (`status`
// and `disks` are views the report module builds: atlas/report.h.)
//
// Each entry point takes a RunContext (config, I/O seam, clock, progress,
// stop token) and fills a report. The report is filled even when the call
// fails, so a refused sync still tells which guard tripped (its findings) and
// the CLI can print them with exit code 3.
//
// Thread-safety: each call is self-contained and uses its own threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "atlas/finding.h"
#include "atlas/manifest.h"
#include "atlas/run_context.h"
#include "atlas/status.h"

namespace atlas {

// Counts of drift between the disks and the manifest.
struct DriftCounts {
  std::uint64_t unchanged = 0;
  std::uint64_t added = 0;
  std::uint64_t modified = 0;
  std::uint64_t deleted = 0;
  std::uint64_t moved = 0;
  std::uint64_t added_bytes = 0;     // size of added and modified files
  std::uint64_t deleted_bytes = 0;
  // Names with no data of their own, by kind (issue 17): added, removed,
  // changed (a symlink retargeted, a hard link now of another file, a
  // directory's mode, owner or xattrs).
  struct Entries {
    std::uint64_t added = 0;
    std::uint64_t removed = 0;
    std::uint64_t changed = 0;
    std::uint64_t Total() const { return added + removed + changed; }
  };
  Entries directories, symlinks, hard_links, special_files;
  // Files whose mode, owner or xattrs changed, content the same: recorded
  // without hashing.
  std::uint64_t metadata_changed = 0;
  // Records to rewrite with nothing a user would call a change (a ctime,
  // an inode, a directory's mtime): sync writes them, nobody is told.
  std::uint64_t refreshed = 0;
  Entries& ForKind(EntryKind kind) {
    switch (kind) {
      case EntryKind::kDirectory:
        return directories;
      case EntryKind::kSymlink:
        return symlinks;
      case EntryKind::kHardLink:
        return hard_links;
      default:
        return special_files;
    }
  }
  std::uint64_t EntryChanges() const {
    return directories.Total() + symlinks.Total() + hard_links.Total() + special_files.Total();
  }
  std::uint64_t Changes() const { return added + modified + deleted + moved + EntryChanges() + metadata_changed; }
  // The entry, metadata and refresh counts of `o`, added.
  void AddEntries(const DriftCounts& o) {
    for (auto [a, b] : {std::pair{&directories, &o.directories}, std::pair{&symlinks, &o.symlinks},
                        std::pair{&hard_links, &o.hard_links}, std::pair{&special_files, &o.special_files}}) {
      a->added += b->added;
      a->removed += b->removed;
      a->changed += b->changed;
    }
    metadata_changed += o.metadata_changed;
    refreshed += o.refreshed;
  }
  // Every count of `o`, added.
  void Add(const DriftCounts& o) {
    unchanged += o.unchanged;
    added += o.added;
    modified += o.modified;
    deleted += o.deleted;
    moved += o.moved;
    added_bytes += o.added_bytes;
    deleted_bytes += o.deleted_bytes;
    AddEntries(o);
  }
};

struct SyncOptions {
  bool force_empty = false;   // sync even though a disk that held files is empty
  bool force_delete = false;  // sync even though deletions exceed [guards]
  bool force_zero = false;      // sync even though files that held data are now 0 bytes
  bool force_modified = false;  // sync even though modifications exceed [guards] max_modified(_pct)
  bool force_move = false;      // record moves across disks whose content changed as add + delete
  // At most this many drift findings (added/modified/deleted/moved) are
  // listed in the report; counts are always complete.
  std::size_t max_drift_findings = 1000;
};

struct SyncReport {
  DriftCounts drift;
  std::vector<Finding> findings;  // problems first, then drift (capped)
  bool drift_truncated = false;
  bool nothing_to_do = false;       // nothing was written
  std::uint64_t bytes_hashed = 0;   // data read and hashed for parity
  std::uint64_t positions_synced = 0;
  std::uint64_t positions_left = 0;  // still dirty after this run (errors, interruption)
  double seconds = 0;
};

// Brings manifest and parity up to date with the data disks.
//   kFailedPrecondition: a guard tripped (missing_disk, mass_delete,
//     zero_size, mass_modify or move_mismatch in report->findings); nothing
//     was written
//   kBusy: another run holds the manifest
//   kCancelled: stopped by ctx.stop after committing the batch in hand; the
//     next sync resumes
//   kInvalidArgument: config and manifest disagree in a way only the user
//     can resolve (block size changed, ...)
//   kNoSpace/kIOError: parity or manifest could not be written; everything
//     committed before stays consistent
Status RunSync(const RunContext& ctx, const SyncOptions& options, SyncReport* report);

struct DiffOptions {
  std::size_t max_drift_findings = SIZE_MAX;
};

struct DiffReport {
  DriftCounts drift;
  std::vector<Finding> findings;  // guard problems, then every drift item
  bool drift_truncated = false;
  std::uint64_t positions_unsynced = 0;  // dirty positions left by an interrupted sync
};

// Lists drift since the last sync. Reads metadata only, except that a file
// added on one disk with the size of a file deleted from another is hashed to
// tell a move from an add. Writes nothing.
Status RunDiff(const RunContext& ctx, const DiffOptions& options, DiffReport* report);

enum class ScrubPlan : std::uint8_t {
  kDefault,  // the oldest-verified share ([scrub] percent, older_than), plus bad positions
  kNew,      // positions synced but never scrubbed
  kBad,      // positions with open findings
  kFull,     // everything
};

struct ScrubOptions {
  ScrubPlan plan = ScrubPlan::kDefault;
  std::optional<double> percent{};            // overrides [scrub] percent
  std::optional<std::int64_t> older_than_s{};  // overrides [scrub] older_than
};

struct VerifyReport {
  std::uint64_t positions_selected = 0;
  std::uint64_t positions_verified = 0;  // every block and parity level checked out
  std::uint64_t positions_bad = 0;       // something at the position did not
  std::uint64_t positions_skipped = 0;   // unsynced (parity not current), or unread
  std::uint64_t bytes_read = 0;
  std::vector<std::string> disks_given_up;  // hit the per-disk read error limit
  std::vector<Finding> findings;
  double seconds = 0;
};

// Verifies part of the array against checksums and parity and records each
// verified block's time. Findings: silent_corruption, read_error,
// parity_mismatch (stored until fixed), modified (drift: not verified).
//   kFailedPrecondition: a disk is missing (missing_disk in findings)
//   kInvalidArgument: a data disk of the manifest is not in the config, or
//     a file or parity file may not be read by this user (EACCES/EPERM):
//     one error, not a read_error per block
//   kBusy, kCancelled, kIOError as for sync
Status RunScrub(const RunContext& ctx, const ScrubOptions& options, VerifyReport* report);

struct CheckOptions {
  std::vector<std::string> disks;    // only positions holding blocks of these disks
  std::vector<std::string> filters;  // only positions of files whose path matches a glob
};

// Verifies everything (or what the options select) like scrub, but records
// nothing: the manifest is only read.
Status RunCheck(const RunContext& ctx, const CheckOptions& options, VerifyReport* report);

struct FixOptions {
  // Only files of these data disks, or these parity levels (a whole
  // replaced disk is rebuilt this way; up to as many disks at once as there
  // are parity levels). Empty: every disk.
  std::vector<std::string> disks;
  // Only files whose path matches a glob. A file modified since the last
  // sync is restored to its synced content only when a filter names it.
  std::vector<std::string> filters;
  bool dry_run = false;  // say what would be done, write nothing
  // Repair only what reads back wrong (read errors, silent corruption,
  // parity): never recreate a file that is gone, so files deleted on purpose
  // since the last sync stay deleted. What scrub and status advise.
  bool errors_only = false;
};

struct FixReport {
  std::uint64_t files_repaired = 0;
  std::uint64_t files_unrecoverable = 0;
  std::uint64_t blocks_recovered = 0;
  std::uint64_t bytes_recovered = 0;     // file bytes rebuilt from parity
  std::uint64_t parity_blocks_repaired = 0;
  // Hard links, symlinks, directories and special files put back (issue 17).
  std::uint64_t entries_restored = 0;
  std::uint64_t bytes_read = 0;
  std::vector<std::string> actions;      // one line per repair (done, or planned with dry_run)
  std::vector<Finding> findings;         // repaired (info), unrecoverable (critical), ...
  double seconds = 0;
};

// Repairs from parity and the other disks: blocks that fail their checksum
// or cannot be read, files deleted since the last sync (undelete), whole
// replaced disks, and parity that disagrees with good data. A repaired file
// is written beside the original, verified against the manifest's
// checksums, fdatasync'ed and renamed over it, with its mode, owner and
// mtime restored; a file that cannot be restored is left exactly as it was
// and named in an `unrecoverable` finding.
//   kFailedPrecondition: a disk not being fixed is missing
//   kInvalidArgument: --disk names no disk, or more disks than parity levels;
//     a data disk of the manifest is not in the config; a file or parity
//     file may not be read by this user (EACCES/EPERM)
Status RunFix(const RunContext& ctx, const FixOptions& options, FixReport* report);

// Runs the hash and parity known-answer self-tests once per process.
Status EngineSelfTest();

}  // namespace atlas
