// The disk guards of SPEC "Safety rules" that need no walk: whether each
// disk of the array view is there and is the disk recorded at the last sync.
// Beside them, the scan guards (engine/drift.h) and the content guards
// (engine/guards.h) need a walk of the disks.
#pragma once

#include <vector>

#include "atlas/config.h"
#include "atlas/finding.h"
#include "atlas/status.h"
#include "engine/array.h"

namespace atlas {

// kInvalidArgument when a data disk of the manifest is not in the config
// (array.orphans): sync, scrub, check and fix all stop, since parity
// computed or "repaired" without it would make its files unrecoverable.
Status CheckOrphans(const Config& config, const ArrayView& array);

// missing_disk findings for disks that are absent, no longer a mount point,
// or carry another filesystem than recorded, and for parity files that are
// missing or shorter than recorded. (An emptied disk needs a walk: see scan.)
std::vector<Finding> CheckDiskGuards(const ArrayView& array);

// shared_filesystem (info) for configured disks that sit on one filesystem.
std::vector<Finding> SharedFilesystemFindings(const ArrayView& array);

// Whether a data disk is there as recorded: its directory exists and, where
// it was a mount point at the last sync, it still is one.
bool DataDiskMounted(const ArrayDataDisk& d);
// Whether a parity file that held data at the last sync is still there.
bool ParityMounted(const ArrayParity& p);

}  // namespace atlas
