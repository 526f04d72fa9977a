// Findings: what is wrong with (or has changed in) the array.
//
// A Finding is not an error: the run that produced it completed. Severity
// decides the exit code (warning or above -> 1) and the health shown by
// `status`. The kinds and their severities are fixed by SPEC "Findings".
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace atlas {

enum class Severity : std::uint8_t { kInfo = 0, kWarning = 1, kCritical = 2 };

enum class FindingKind : std::uint8_t {
  kSilentCorruption,
  kReadError,
  kParityMismatch,
  kUnrecoverable,
  kMissingDisk,
  kSmartFailing,
  kSmartWarning,
  kOnlyCopyOutside,
  kDuplicateOutside,
  kUnsynced,
  kScrubOverdue,
  kMassDelete,
  kAdded,
  kModified,
  kDeleted,
  kMoved,
  kSharedFilesystem,
  kRepaired,
  // A manifest copy directory atlas will not write into or restore from:
  // a symlink, or owned or writable by someone else.
  kUnsafeCopyDir,
  // Guards of sync beyond SPEC's mass_delete (atlas-scrub(1), GUARDS):
  kZeroSize,      // a recorded non-empty file is now 0 bytes
  kMassModify,    // more files modified than [guards] max_modified(_pct)
  kMoveMismatch,  // a move across disks whose content differs from the recorded checksums
  // `outside` beyond SPEC's only_copy_outside and duplicate_outside
  // (atlas-scrub(1), OUTSIDE):
  kOutsideUnreachable,  // an [[outside.hosts]] command that timed out, failed or printed no report
  kWritableAtlasMount,  // on a compute host: Atlas mounted writable
  // A disk's newest SMART reading is older than [smart] stale_after.
  kSmartStale,
};

// Every kind, in enum order (for tables that must cover them all: the
// zero series of metrics, the advice of atlas/advice.h).
std::span<const FindingKind> AllFindingKinds();
// "silent_corruption", "missing_disk", ... as in SPEC.
std::string_view KindName(FindingKind kind);
// Parses a SPEC kind name; nullopt if unknown.
std::optional<FindingKind> ParseKind(std::string_view name);
// The severity SPEC assigns to `kind`.
Severity DefaultSeverity(FindingKind kind);
// "info", "warning", "critical".
std::string_view SeverityName(Severity severity);

struct Finding {
  Severity severity = Severity::kInfo;
  FindingKind kind = FindingKind::kAdded;
  std::string disk;     // disk name, or empty
  std::string path;     // path relative to the disk root (raw bytes), or empty
  std::string message;  // one human sentence, no trailing period needed
  // For `moved`: the old location ("d1:old/path").
  std::string from;
  // For block-level findings: byte offset in the file or parity, if known.
  std::optional<std::uint64_t> offset;
};

// Makes a Finding with the SPEC severity of `kind`.
Finding MakeFinding(FindingKind kind, std::string disk, std::string path, std::string message);

// Collects findings from worker threads. Thread-safe.
class FindingSink {
 public:
  void Add(Finding f);
  // Moves out everything collected so far.
  std::vector<Finding> Take();
  // The highest severity added so far, or nullopt if none.
  std::optional<Severity> MaxSeverity() const;
  std::size_t size() const;

 private:
  mutable std::mutex mu_;
  std::vector<Finding> findings_;  // REQUIRES: mu_ held
};

// Printable form of a raw path (file names are bytes, not text): invalid
// UTF-8 and control characters become \xNN (newline \n, tab \t, backslash
// \\), so text and JSON output stay valid and a newline in a name cannot
// forge an output line. The mapping is reversible.
std::string DisplayPath(std::string_view raw);

// Health from a set of findings: the highest severity among them, where info
// findings leave the health at "ok". Returns 0 ok, 1 warning, 2 critical.
int HealthOf(const std::vector<Finding>& findings);
// "ok", "warning", "critical" for HealthOf's result.
std::string_view HealthName(int health);

}  // namespace atlas
