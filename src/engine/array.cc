#include "engine/array.h"

#include <algorithm>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>

namespace atlas {

bool DataDiskMounted(const ArrayDataDisk& d) {
  return d.present &&
         !(d.record && d.record->identity.is_mount_point && d.identity && !d.identity->is_mount_point);
}

bool ParityMounted(const ArrayParity& p) {
  return p.file_size.has_value() || !p.record || p.record->parity_size == 0;
}

bool ReadsWholeStripes(const Config& config, const ArrayView& array) {
  switch (config.read_layout) {
    case ReadLayout::kPerDisk:
      return false;
    case ReadLayout::kWholeStripes:
      return true;
    case ReadLayout::kAuto:
      break;
  }
  if (config.bandwidth_limit > 0) return false;
  auto solid = [](const std::optional<FsIdentity>& id) { return id && id->rotational == false; };
  return std::all_of(array.data.begin(), array.data.end(), [&](const ArrayDataDisk& d) { return solid(d.identity); }) &&
         std::all_of(array.parity.begin(), array.parity.end(), [&](const ArrayParity& p) { return solid(p.identity); });
}

std::size_t WholeStripeWorkers(const Config& config) {
  if (config.io_threads > 0) return static_cast<std::size_t>(config.io_threads);
  return std::max(1u, std::thread::hardware_concurrency());
}

DiskIdentityRecord ToRecord(const FsIdentity& id) {
  DiskIdentityRecord r;
  r.device = id.device;
  r.fs_type = id.fs_type;
  r.uuid = id.uuid;
  r.serial = id.serial;
  r.is_mount_point = id.is_mount_point;
  return r;
}

Result<ArrayView> LoadArray(const RunContext& ctx, Manifest* manifest) {
  const Config& config = *ctx.config;
  ArrayView view;
  view.block_size = config.block_size;
  std::vector<DiskRecord> records;
  if (manifest != nullptr) {
    ATLAS_ASSIGN_OR_RETURN(records, manifest->ListDisks());
    ATLAS_ASSIGN_OR_RETURN(std::optional<std::int64_t> bs, GetMetaInt(manifest, "block_size"));
    if (bs) {
      view.synced_ever = true;
      if (static_cast<std::uint32_t>(*bs) != config.block_size) {
        return Status::InvalidArgument(fmt::format(
            "{}: block_size is {} bytes in the config, but the array was synced with {} bytes; "
            "block_size is fixed at the first sync: set block_size = {} again",
            config.source.string(), config.block_size, *bs, *bs));
      }
    }
    ATLAS_ASSIGN_OR_RETURN(view.last_sync_ns, GetMetaInt(manifest, "last_sync_ns"));
    ATLAS_ASSIGN_OR_RETURN(view.last_scrub_ns, GetMetaInt(manifest, "last_scrub_ns"));
    ATLAS_ASSIGN_OR_RETURN(std::optional<std::int64_t> next_id, GetMetaInt(manifest, "next_file_id"));
    if (next_id) view.next_file_id = static_cast<std::uint64_t>(*next_id);
  }

  std::set<std::uint16_t> used_slots;
  for (const DiskRecord& r : records) {
    if (r.role == DiskRole::kData) used_slots.insert(r.index);
  }
  for (const DataDiskConfig& dc : config.data) {
    ArrayDataDisk d;
    d.name = dc.name;
    d.root = dc.path;
    auto it = std::find_if(records.begin(), records.end(), [&](const DiskRecord& r) {
      return r.role == DiskRole::kData && r.name == dc.name;
    });
    if (it != records.end()) {
      d.record = *it;
      d.slot = it->index;
    } else {
      std::uint16_t slot = 0;
      while (used_slots.count(slot) != 0) ++slot;
      if (slot >= kMaxDataDisks) return Status::InvalidArgument("more than 250 data disks");
      used_slots.insert(slot);
      d.slot = slot;
    }
    Result<FileStat> st = ctx.fs->Stat(dc.path);
    d.present = st.ok() && st->type == FileType::kDirectory;
    if (d.present) {
      Result<FsIdentity> id = ProbeFsIdentity(ctx.fs, dc.path);
      if (id.ok()) d.identity = *id;
    }
    view.data.push_back(std::move(d));
  }
  for (const DiskRecord& r : records) {
    if (r.role != DiskRole::kData) continue;
    bool configured = std::any_of(config.data.begin(), config.data.end(),
                                  [&](const DataDiskConfig& dc) { return dc.name == r.name; });
    if (!configured) view.orphans.push_back(r);
  }

  int recorded_levels = 0;
  for (const DiskRecord& r : records) recorded_levels += r.role == DiskRole::kParity ? 1 : 0;
  if (view.synced_ever && static_cast<int>(config.parity.size()) < recorded_levels) {
    return Status::InvalidArgument(fmt::format(
        "{}: {} parity levels are configured but the array has {}; removing a parity level is "
        "not supported: restore the [[parity]] entries",
        config.source.string(), config.parity.size(), recorded_levels));
  }
  for (std::size_t level = 0; level < config.parity.size(); ++level) {
    ArrayParity p;
    p.name = config.parity[level].name;
    p.path = config.parity[level].path;
    p.level = static_cast<int>(level);
    for (const DiskRecord& r : records) {
      if (r.role == DiskRole::kParity && r.index == level) p.record = r;
    }
    Result<FileStat> st = ctx.fs->Stat(p.path);
    if (st.ok()) p.file_size = st->size;
    Result<FsIdentity> id = ProbeFsIdentity(ctx.fs, p.path.parent_path());
    if (id.ok()) p.identity = *id;
    view.parity.push_back(std::move(p));
  }
  return view;
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
