// smart: read, judge, remember.
//
// Order of work: the inputs are parsed first (a bad file is a usage error
// before anything is read from a device or written), then the manifest is
// opened: writable under ManifestLock when there is something to store, or
// read-only when another run holds the lock (the readings are judged against
// the stored history but not stored, and the report says so). Before the
// first sync there is no manifest: readings are judged alone.
//
// Only real readings are stored (not unknown or standby ones), so "the last
// reading" always has values to compare with; each disk keeps the newest
// kSmartHistoryKept, older ones are deleted in the same batch.
#include "atlas/smart_report.h"

#include <algorithm>
#include <set>
#include <system_error>

#include <fmt/format.h>

#include "atlas/disk.h"
#include "atlas/manifest.h"

namespace atlas {
namespace fs = std::filesystem;

namespace {

// The whole disk behind device node `node` (a partition maps to its disk)
// and how it is attached, from sysfs (and udev's database where there is one).
SmartDevice DeviceForNode(const std::string& node) {
  SmartDevice d;
  Result<BlockDevice> bd = DescribeBlockDeviceNode("/sys", node);
  if (!bd.ok()) {
    d.note = fmt::format("cannot describe {}: {}", node, bd.status().message());
    return d;
  }
  d.node = bd->disk_node.empty() ? node : bd->disk_node;
  d.transport = bd->transport;
  return d;
}

void SortFindings(std::vector<Finding>* f) {
  std::stable_sort(f->begin(), f->end(), [](const Finding& a, const Finding& b) { return a.severity > b.severity; });
}

}  // namespace

SmartDevice ResolveSmartDevice(FileSystem* fsys, const fs::path& disk_path) {
  SmartDevice d;
  Result<FsIdentity> id = ProbeFsIdentity(fsys, disk_path);
  if (!id.ok()) {
    d.note = fmt::format("cannot tell the device of {}: {}", disk_path.string(), id.status().message());
    return d;
  }
  if (id->device.empty() || !id->device.starts_with("/dev/")) {
    d.note = fmt::format("{} is not on a block device ({})", disk_path.string(),
                         id->fs_type.empty() ? "no device" : id->fs_type);
    return d;
  }
  return DeviceForNode(id->device);
}

namespace {

// One disk (or saved reading) to look at.
struct SmartItem {
  std::string disk;  // empty: a plain input, judged alone
  std::string name;  // shown
  std::string device;
  std::optional<SmartReading> reading;  // inputs: parsed up front
  SmartDevice dev;
};

// The saved readings of --input, parsed before anything else is read or
// written; a NAME= that names no configured disk is a usage error.
Result<std::vector<SmartItem>> InputItems(const Config* config, const std::vector<SmartInput>& inputs) {
  std::set<std::string> known;
  if (config != nullptr) {
    for (const DataDiskConfig& d : config->data) known.insert(d.name);
    for (const ParityConfig& p : config->parity) known.insert(p.name);
  }
  std::vector<SmartItem> items;
  for (const SmartInput& in : inputs) {
    if (!in.disk.empty() && !known.contains(in.disk)) {
      std::string names;
      for (const std::string& n : known) names += (names.empty() ? "" : ", ") + n;
      return Status::InvalidArgument(fmt::format(
          "--input {}={}: no configured disk is named '{}'{}", in.disk, in.file.string(), in.disk,
          names.empty() ? " (no config was loaded)" : "; the disks are " + names));
    }
    ATLAS_ASSIGN_OR_RETURN(SmartReading r, ReadSmartFile(in.file));
    SmartItem item;
    item.disk = in.disk;
    item.name = in.disk.empty() ? in.file.filename().string() : in.disk;
    item.device = in.file.string();
    item.reading = std::move(r);
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace

std::vector<ArrayDevice> ArrayDevices(const RunContext& ctx, const Config& config) {
  std::vector<ArrayDevice> out;
  auto add = [&](const std::string& name, const fs::path& path) {
    ArrayDevice d;
    d.disk = name;
    if (!config.smart.devices_auto) {
      auto it = config.smart.devices.find(name);
      if (it == config.smart.devices.end()) {
        d.device.note = "not listed in [smart] devices";
      } else {
        // The node as configured (a /dev/disk/by-id link stays readable
        // in the output); sysfs tells the transport.
        d.device = DeviceForNode(it->second);
        d.device.node = it->second;
        d.device.note.clear();
      }
    } else {
      d.device = ResolveSmartDevice(ctx.fs, path);
    }
    out.push_back(std::move(d));
  };
  for (const DataDiskConfig& d : config.data) add(d.name, d.path);
  for (const ParityConfig& p : config.parity) add(p.name, p.path.parent_path());
  return out;
}

namespace {

// Every configured data disk and parity disk (or those of
// options.only_disks), with the device to read.
std::vector<SmartItem> ConfiguredItems(const RunContext& ctx, const Config& config,
                                       const SmartRunOptions& options) {
  std::vector<SmartItem> items;
  std::vector<ArrayDevice> devices = options.devices.empty() ? ArrayDevices(ctx, config) : options.devices;
  for (ArrayDevice& d : devices) {
    const std::vector<std::string>& only = options.only_disks;
    if (!only.empty() && std::find(only.begin(), only.end(), d.disk) == only.end()) continue;
    SmartItem item;
    item.disk = d.disk;
    item.name = d.disk;
    item.dev = std::move(d.device);
    item.device = item.dev.node;
    items.push_back(std::move(item));
  }
  return items;
}

// The manifest readings are judged against and stored in.
struct SmartStore {
  std::unique_ptr<ManifestLock> lock;  // held: the readings are stored
  std::unique_ptr<Manifest> m;         // null: judged alone
};

// Writable under ManifestLock when there is something to store; read-only
// when another run holds the lock; none before the first sync. Says in
// report->store_note why readings are not stored.
Status OpenStore(const Config& config, SmartStore* store, SmartReport* report) {
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<Manifest> ro, OpenManifestIfExists(config));
  if (!ro) {
    report->store_note = "the array has never been synced: SMART readings are stored from the first sync on";
    return Status::Ok();
  }
  ro.reset();
  Result<std::unique_ptr<ManifestLock>> locked = ManifestLock::Acquire(config.manifest);
  if (locked.ok()) {
    store->lock = std::move(locked).value();
    ManifestOptions rw;
    rw.copy_dirs = config.manifest_copies;
    ATLAS_ASSIGN_OR_RETURN(store->m, OpenManifest(config.manifest, rw));
    return Status::Ok();
  }
  if (locked.status().code() != Code::kBusy) return locked.status();
  report->store_note = "the manifest is locked by another atlas-scrub run: readings judged, not stored";
  ATLAS_ASSIGN_OR_RETURN(store->m, OpenManifestIfExists(config));
  return Status::Ok();
}

// The reading of `item`: parsed already, read from its device, or unknown
// when there is no device to read.
SmartReading ReadItem(SmartItem& item, const SmartRunOptions& options) {
  SmartReading r;
  if (item.reading) {
    r = std::move(*item.reading);
  } else if (item.dev.node.empty()) {
    r.state = SmartState::kUnknown;
    r.note = item.dev.note;
  } else {
    r = options.source->Read(item.dev.node, item.dev.transport);
  }
  if (r.source.empty()) r.source = item.device;
  return r;
}

// Adds `d`'s reading of `disk` to `batch` at `time_ns` (later than the
// previous one), and deletes what falls out of the newest history_kept.
Status StoreReading(Manifest* m, ManifestBatch* batch, const std::string& disk, std::int64_t time_ns,
                    std::size_t history_kept, SmartDiskReport* d) {
  // Distinct keys even when one run stores two readings of one disk.
  if (d->previous && time_ns <= d->previous->time_ns) time_ns = d->previous->time_ns + 1;
  batch->PutSmartRecord(MakeSmartRecord(disk, time_ns, d->reading, d->verdict));
  ATLAS_ASSIGN_OR_RETURN(std::vector<SmartRecord> history, m->SmartRecords(disk));
  // history + the new one; keep the newest history_kept.
  const std::size_t keep = std::max<std::size_t>(1, history_kept);
  if (history.size() + 1 > keep) {
    std::size_t drop = history.size() + 1 - keep;
    for (std::size_t i = 0; i < drop; ++i) batch->DeleteSmartRecord(disk, history[i].time_ns);
  }
  d->stored = true;
  return Status::Ok();
}

}  // namespace

Status RunSmart(const RunContext& ctx, const SmartRunOptions& options, SmartReport* report) {
  *report = SmartReport();
  const Config* config = ctx.config;

  // 1. The disks to look at, and for inputs, their readings.
  std::vector<SmartItem> items;
  if (!options.inputs.empty()) {
    ATLAS_ASSIGN_OR_RETURN(items, InputItems(config, options.inputs));
  } else {
    if (config == nullptr) return Status::InvalidArgument("smart needs a config, or --input FILE");
    items = ConfiguredItems(ctx, *config, options);
  }

  // 2. The readings, then the manifest: writable only when a real reading
  // of a configured disk is to be stored (a run on disks without SMART
  // writes nothing).
  std::vector<SmartReading> readings;
  bool to_store = false;
  for (SmartItem& item : items) {
    readings.push_back(ReadItem(item, options));
    const SmartState st = readings.back().state;
    to_store = to_store || (!item.disk.empty() && st != SmartState::kUnknown && st != SmartState::kStandby);
  }
  SmartStore store;
  const bool any_disk = std::any_of(items.begin(), items.end(), [](const SmartItem& i) { return !i.disk.empty(); });
  if (to_store && config != nullptr) {
    ATLAS_RETURN_IF_ERROR(OpenStore(*config, &store, report));
  } else if (any_disk && config != nullptr) {
    ATLAS_ASSIGN_OR_RETURN(store.m, OpenManifestIfExists(*config));  // to judge against, read-only
  }

  // 3. Judge, store.
  Manifest* m = store.m.get();
  std::unique_ptr<ManifestBatch> batch = (m && store.lock) ? m->NewBatch() : nullptr;
  const std::int64_t now = ctx.clock->NowUnixNanos();
  const std::vector<std::string> no_ignore;
  std::int64_t seq = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const SmartItem& item = items[i];
    SmartDiskReport d;
    d.time_ns = now;
    d.name = item.name;
    d.device = item.device;
    d.reading = std::move(readings[i]);
    if (m && !item.disk.empty()) {
      ATLAS_ASSIGN_OR_RETURN(d.previous, m->LatestSmartRecord(item.disk));
    }
    d.verdict = JudgeSmart(item.name, d.reading, d.previous, config ? config->smart.ignore : no_ignore);
    const bool real = d.verdict.state != SmartState::kUnknown && d.verdict.state != SmartState::kStandby;
    if (batch && real && !item.disk.empty()) {
      ATLAS_RETURN_IF_ERROR(StoreReading(m, batch.get(), item.disk, now + seq++, options.history_kept, &d));
    }
    for (const Finding& f : d.verdict.findings) report->findings.push_back(f);
    report->disks.push_back(std::move(d));
  }
  if (batch && batch->Count() > 0) ATLAS_RETURN_IF_ERROR(m->Commit(*batch, /*durable=*/true).WithContext("smart"));
  SortFindings(&report->findings);
  return Status::Ok();
}

Result<std::vector<std::pair<std::string, SmartLastState>>> LastSmartStates(Manifest* manifest,
                                                                            const std::vector<std::string>& disks) {
  std::vector<std::pair<std::string, SmartLastState>> out;
  for (const std::string& name : disks) {
    ATLAS_ASSIGN_OR_RETURN(std::optional<SmartRecord> r, manifest->LatestSmartRecord(name));
    if (!r) continue;
    SmartLastState s;
    s.state = r->state;
    s.time_ns = r->time_ns;
    s.temperature_c = r->reading.temperature_c;
    s.findings = r->findings;
    out.emplace_back(name, std::move(s));
  }
  return out;
}

}  // namespace atlas
