// Superblock probing with libblkid (see blkid_probe.h).
//
// blkid_new_probe_from_filename + blkid_do_safeprobe is the low-level probe:
// it reads the device directly and never touches blkid's cache file
// (/run/blkid/blkid.tab), so probing is side-effect free. It works on ext4,
// xfs and btrfs over loop devices, partitions and bare image files. The
// virtual root disk of some VMs refuses open() even to root (EPERM): callers
// treat any error as "identity unknown", not as a failure.
#include "disk/blkid_probe.h"

#include <cerrno>
#include <memory>
#include <string>

#include <blkid/blkid.h>
#include <sys/stat.h>

namespace atlas {
namespace {

std::string LookupValue(blkid_probe probe, const char* name) {
  const char* data = nullptr;
  std::size_t len = 0;
  if (blkid_probe_lookup_value(probe, name, &data, &len) != 0 || data == nullptr)
    return {};
  // len counts the terminating NUL.
  std::string value(data, len);
  while (!value.empty() && value.back() == '\0') value.pop_back();
  return value;
}

}  // namespace

Result<SuperblockInfo> ProbeSuperblock(const std::string& device) {
  errno = 0;
  blkid_probe raw = blkid_new_probe_from_filename(device.c_str());
  if (raw == nullptr) {
    const int err = errno != 0 ? errno : EIO;
    return Status::FromErrno(err, "blkid probe " + device);
  }
  std::unique_ptr<blkid_struct_probe, void (*)(blkid_probe)> probe(raw, &blkid_free_probe);
  if (blkid_probe_enable_superblocks(raw, 1) != 0 ||
      blkid_probe_set_superblocks_flags(
          raw, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL) != 0) {
    return Status::Internal("blkid probe " + device + ": cannot enable superblock probing");
  }
  errno = 0;
  const int rc = blkid_do_safeprobe(raw);
  if (rc == 1)
    return Status::NotFound("blkid probe " + device + ": no file system signature");
  if (rc == -2) {
    return Status::FailedPrecondition("blkid probe " + device +
                                      ": conflicting file system signatures");
  }
  if (rc != 0) {
    const int err = errno != 0 ? errno : EIO;
    return Status::FromErrno(err, "blkid probe " + device);
  }
  SuperblockInfo info;
  info.type = LookupValue(raw, "TYPE");
  info.uuid = LookupValue(raw, "UUID");
  info.label = LookupValue(raw, "LABEL");
  return info;
}

bool IsBlockDevice(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode);
}

}  // namespace atlas
