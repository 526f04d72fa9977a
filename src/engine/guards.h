// The content guards of sync (atlas-scrub(1), GUARDS), beside the disk and
// delete guards of engine/disk_guards.h and engine/drift.h: a recorded file that is
// now 0 bytes, more files modified than [guards] max_modified(_pct), and a
// move across disks whose content no longer matches the recorded checksums.
// Each refuses the sync in its read-only check pass, so nothing is written,
// unless its --force flag says the change is intended. [guards] exempt
// leaves chosen paths out of every guard.
//
// Also here: the permission rule shared by scrub, check and fix (a file or
// parity file the user running the command may not read is one usage error,
// not a read_error per block).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "atlas/config.h"
#include "atlas/engine.h"
#include "atlas/hash.h"
#include "atlas/manifest.h"

#include "engine/array.h"
#include "engine/exclude.h"
#include "engine/drift.h"

namespace atlas {

// How many example paths a guard finding or refusal names.
inline constexpr std::size_t kGuardExamples = 10;

// [guards] exempt, for one data disk (patterns are relative to its root).
// The rules are `exclude`'s (engine/exclude.h): "*.part" matches a base name
// anywhere, a leading '/' anchors the pattern at the disk root, a trailing
// '/' matches directories only. A file is exempt when a pattern matches it
// or any directory that holds it, so "/Downloads/" exempts everything below
// the disk's Downloads directory.
class GuardExemptions {
 public:
  explicit GuardExemptions(const GuardsConfig& guards);
  // True if the file at `rel_path` (relative to the disk root) is exempt.
  bool Exempt(std::string_view rel_path) const;
  bool empty() const { return patterns_.empty(); }

 private:
  std::vector<PathPattern> patterns_;
};

// zero_size for each file (not exempt) that held data at the last sync and is
// now 0 bytes, unless force_zero; mass_modify when the files modified (not
// exempt) exceed [guards] max_modified or max_modified_pct of the recorded
// files, unless force_modified. `drift` as ScanAllDisks fills it.
std::vector<Finding> CheckContentGuards(const Config& config, const ArrayView& array,
                                        const std::vector<DiskDrift>& drift, bool force_zero,
                                        bool force_modified);

// The content identity of the file `rel` of the disk at `root`, as sync
// records it: XXH3-128 over the XXH3-128 of each block. kIOError if the
// file changed size while read.
Result<Hash128> ContentOnDisk(FileSystem* fs, const std::filesystem::path& root,
                              const std::string& rel, std::uint64_t size, std::uint32_t bs);

// move_mismatch for each move across disks (a deleted file whose base name,
// size and mtime reappear as an added file on another disk) whose content
// differs from the checksums recorded for the deleted file: a file damaged
// and then moved. Reads the candidates (rare: only files that look like a
// move), after walking again only the disks that hold one. Files that
// cannot be read, deleted files without a recorded content identity and
// exempt paths are left out. Nothing with force_move.
Result<std::vector<Finding>> CheckCrossDiskMoves(const RunContext& ctx, Manifest* manifest,
                                                 const ArrayView& array,
                                                 const std::vector<DiskDrift>& drift,
                                                 bool force_move);

// Whether `s` is a permission error (EACCES, EPERM): the user running the
// command may not read what the array holds, which says nothing about the
// disk.
bool IsPermissionDenied(const Status& s);

struct ScannedStripe;

// The PermissionError for the first block or parity level of `s` that could
// not be read for lack of permission, or OK.
Status PermissionProblem(std::string_view command, const ArrayView& array, const ScannedStripe& s);

// The one error a command returns for such a file, instead of a read_error
// per block: kInvalidArgument (exit 2), naming the file and saying to run
// the command as root.
Status PermissionError(std::string_view command, const std::string& what, const Status& s);

}  // namespace atlas
