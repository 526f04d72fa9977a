#include "engine/disk_guards.h"

#include <optional>
#include <set>
#include <string>

#include <fmt/format.h>

namespace atlas {

bool DataDiskMounted(const ArrayDataDisk& d) {
  return d.present &&
         !(d.record && d.record->identity.is_mount_point && d.identity && !d.identity->is_mount_point);
}

bool ParityMounted(const ArrayParity& p) {
  return p.file_size.has_value() || !p.record || p.record->parity_size == 0;
}

Status CheckOrphans(const Config& config, const ArrayView& array) {
  if (array.orphans.empty()) return Status::Ok();
  return Status::InvalidArgument(fmt::format(
      "{}: data disk {} is in the manifest but not in the config; put its [[data]] entry back "
      "(removing a disk from the array is not supported yet: parity computed or repaired without "
      "it would make its files unrecoverable)",
      config.source.string(), array.orphans.front().name));
}

namespace {

// What makes the disk now at a path a different one than recorded, if
// anything: another filesystem UUID, another drive serial, or, when neither
// identifies the disk (tmpfs, a device that reports no serial), another
// device. A device name alone may change at any reboot (sdb becomes sdc) and
// is not a change while the UUID or serial still match.
std::optional<std::string> IdentityChange(const DiskIdentityRecord& was, const FsIdentity& now) {
  if (!was.uuid.empty() && !now.uuid.empty() && was.uuid != now.uuid) {
    return fmt::format("filesystem UUID {} at the last sync, now {} ({})", was.uuid, now.uuid,
                       now.device.empty() ? "no device" : now.device);
  }
  if (!was.serial.empty() && !now.serial.empty() && was.serial != now.serial) {
    return fmt::format("drive serial {} at the last sync, now {} ({})", was.serial, now.serial,
                       now.device.empty() ? "no device" : now.device);
  }
  const bool identified = (!was.uuid.empty() && !now.uuid.empty()) || (!was.serial.empty() && !now.serial.empty());
  if (!identified && !was.device.empty() && !now.device.empty() && was.device != now.device) {
    return fmt::format("device {} at the last sync, now {}", was.device, now.device);
  }
  return std::nullopt;
}

}  // namespace

std::vector<Finding> CheckDiskGuards(const ArrayView& array) {
  std::vector<Finding> out;
  auto missing = [&](const std::string& disk, std::string msg) {
    out.push_back(MakeFinding(FindingKind::kMissingDisk, disk, "", std::move(msg)));
  };
  for (const ArrayDataDisk& d : array.data) {
    if (!d.present) {
      missing(d.name, fmt::format("data disk {} is missing: {} does not exist or is not a directory",
                                  d.name, d.root.string()));
      continue;
    }
    if (!d.record || !d.identity) continue;
    const DiskIdentityRecord& was = d.record->identity;
    if (was.is_mount_point && !d.identity->is_mount_point) {
      missing(d.name, fmt::format("data disk {} is not mounted: {} was a mount point at the last "
                                  "sync and is now a plain directory on {}",
                                  d.name, d.root.string(), d.identity->mount_point));
    } else if (std::optional<std::string> change = IdentityChange(was, *d.identity)) {
      missing(d.name, fmt::format("data disk {} at {} is not the disk of the last sync: {}", d.name,
                                  d.root.string(), *change));
    }
  }
  for (const ArrayParity& p : array.parity) {
    if (!p.record || p.record->parity_size == 0) continue;
    if (!p.file_size) {
      missing(p.name, fmt::format("parity file {} is missing (it held {} bytes at the last sync); "
                                  "is the parity disk mounted?",
                                  p.path.string(), p.record->parity_size));
    } else if (*p.file_size < p.record->parity_size) {
      missing(p.name, fmt::format("parity file {} is {} bytes, shorter than the {} bytes it held at "
                                  "the last sync; is the parity disk mounted?",
                                  p.path.string(), *p.file_size, p.record->parity_size));
    } else if (p.record->identity.is_mount_point && p.identity && !p.identity->is_mount_point &&
               p.identity->mount_point != p.path.parent_path()) {
      // The parity file's directory was a mount point and no longer is.
      missing(p.name, fmt::format("parity disk {} is not mounted at {}", p.name,
                                  p.path.parent_path().string()));
    } else if (std::optional<std::string> change =
                   p.identity ? IdentityChange(p.record->identity, *p.identity) : std::nullopt) {
      missing(p.name, fmt::format("parity disk {} holding {} is not the disk of the last sync: {}",
                                  p.name, p.path.string(), *change));
    }
  }
  return out;
}

std::vector<Finding> SharedFilesystemFindings(const ArrayView& array) {
  struct Entry {
    std::string name;
    std::string fs_key;
  };
  std::vector<Entry> entries;
  for (const ArrayDataDisk& d : array.data) {
    if (d.identity) entries.push_back({d.name, d.identity->device + "\n" + d.identity->mount_point});
  }
  for (const ArrayParity& p : array.parity) {
    if (p.identity) entries.push_back({p.name, p.identity->device + "\n" + p.identity->mount_point});
  }
  std::vector<Finding> out;
  std::set<std::string> reported;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (reported.count(entries[i].fs_key) != 0) continue;
    std::vector<std::string> names = {entries[i].name};
    for (std::size_t j = i + 1; j < entries.size(); ++j) {
      if (entries[j].fs_key == entries[i].fs_key) names.push_back(entries[j].name);
    }
    if (names.size() < 2) continue;
    reported.insert(entries[i].fs_key);
    std::string mount = entries[i].fs_key.substr(entries[i].fs_key.find('\n') + 1);
    out.push_back(MakeFinding(
        FindingKind::kSharedFilesystem, names.front(), "",
        fmt::format("disks {} share one filesystem ({}): parity cannot protect against losing it",
                    fmt::join(names, ", "), mount)));
  }
  return out;
}

}  // namespace atlas
