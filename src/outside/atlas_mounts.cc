// writable_atlas_mount: a compute host must not be able to write Atlas's
// authoritative data (SPEC: services on the compute host only read it), so
// `outside` checks the mounts it is told are Atlas ([outside] atlas_mounts,
// --atlas-mount) and reports each one mounted writable.
//
// Writable is judged from /proc/self/mountinfo, per mount and per
// superblock: a bind mount made read-only ("mount -o bind,ro") is read-only
// in its mount options while its superblock is rw, and an NFS export mounted
// "ro" the other way round; either "ro" makes it read-only here. Rejected:
// access(W_OK), which answers for the calling user (an unprivileged scan
// account is refused by permissions on a writable mount, and root is not),
// and statvfs alone, which cannot name the mount point.
//
// Not done: recognising a mount of Atlas by the data disks' file-system UUIDs
// (that needs them in the outside index, a new index version); the paths
// must be configured.
#include <algorithm>

#include <fmt/format.h>

#include "atlas/disk.h"
#include "atlas/outside.h"

namespace atlas {
namespace {

bool HasOption(std::string_view options, std::string_view want) {
  while (!options.empty()) {
    const std::size_t comma = options.find(',');
    if (options.substr(0, comma) == want)
      return true;
    if (comma == std::string_view::npos)
      break;
    options.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

Result<std::vector<Finding>> WritableAtlasMounts(FileSystem* fs,
                                                 const std::vector<std::filesystem::path>& atlas_paths) {
  std::vector<Finding> out;
  if (atlas_paths.empty())
    return out;
  ATLAS_ASSIGN_OR_RETURN(std::vector<MountInfo> mounts, ReadMountInfo(fs));
  std::vector<std::string> reported;
  for (const std::filesystem::path& p : atlas_paths) {
    std::error_code ec;
    const std::filesystem::path canonical = std::filesystem::canonical(p, ec);
    if (ec)
      continue;
    std::optional<MountInfo> m = FindMountFor(mounts, canonical);
    if (!m || HasOption(m->options, "ro") || HasOption(m->super_options, "ro"))
      continue;
    if (std::find(reported.begin(), reported.end(), m->mount_point) != reported.end())
      continue;
    reported.push_back(m->mount_point);
    out.push_back(MakeFinding(
        FindingKind::kWritableAtlasMount, "", m->mount_point,
        fmt::format("Atlas ({}) is mounted writable here ({} {}, options {}); services on this host must "
                    "not be able to write its authoritative data: mount it read-only",
                    DisplayPath(p.native()), m->fs_type, DisplayPath(m->source), m->options)));
  }
  return out;
}

}  // namespace atlas
