// libblkid behind a small internal interface, so that only blkid_probe.cc
// includes <blkid/blkid.h>.
#pragma once

#include <string>

#include "atlas/status.h"

namespace atlas {

// What a superblock says about its file system; fields blkid did not report
// are empty.
struct SuperblockInfo {
  std::string type;  // "ext4", "btrfs", "xfs", ...
  std::string uuid;  // as `blkid -s UUID -o value` prints it
  std::string label;
};

// Reads the file system superblock of a block device or an image file with
// libblkid's low-level probe (no cache file is read or written).
// Returns the errno error of opening `device` (EPERM on a virtual root disk,
// EACCES without privilege, ENOENT), kNotFound when no file system signature
// is present, and kFailedPrecondition when several conflicting signatures are
// (blkid's "ambivalent" result).
Result<SuperblockInfo> ProbeSuperblock(const std::string& device);

// True when `path`, following symlinks, is a block device node.
bool IsBlockDevice(const std::string& path);

}  // namespace atlas
