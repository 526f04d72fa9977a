#include "engine/array.h"

#include <algorithm>
#include <optional>
#include <set>

#include <fmt/format.h>

namespace atlas {

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

}  // namespace atlas
