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

Status RunSmart(const RunContext& ctx, const SmartRunOptions& options, SmartReport* report) {
  *report = SmartReport();
  const Config* config = ctx.config;

  // 1. The disks to look at, and for inputs, their readings.
  struct Item {
    std::string disk;  // empty: a plain input, judged alone
    std::string name;  // shown
    std::string device;
    std::optional<SmartReading> reading;  // inputs: parsed up front
    SmartDevice dev;
  };
  std::vector<Item> items;
  if (!options.inputs.empty()) {
    std::set<std::string> known;
    if (config != nullptr) {
      for (const DataDiskConfig& d : config->data) known.insert(d.name);
      for (const ParityConfig& p : config->parity) known.insert(p.name);
    }
    for (const SmartInput& in : options.inputs) {
      if (!in.disk.empty() && !known.contains(in.disk)) {
        std::string names;
        for (const std::string& n : known) names += (names.empty() ? "" : ", ") + n;
        return Status::InvalidArgument(fmt::format(
            "--input {}={}: no configured disk is named '{}'{}", in.disk, in.file.string(), in.disk,
            names.empty() ? " (no config was loaded)" : "; the disks are " + names));
      }
      ATLAS_ASSIGN_OR_RETURN(SmartReading r, ReadSmartFile(in.file));
      Item item;
      item.disk = in.disk;
      item.name = in.disk.empty() ? in.file.filename().string() : in.disk;
      item.device = in.file.string();
      item.reading = std::move(r);
      items.push_back(std::move(item));
    }
  } else {
    if (config == nullptr) return Status::InvalidArgument("smart needs a config, or --input FILE");
    auto add = [&](const std::string& name, const fs::path& path) {
      Item item;
      item.disk = name;
      item.name = name;
      if (!config->smart.devices_auto) {
        auto it = config->smart.devices.find(name);
        if (it == config->smart.devices.end()) {
          item.dev.note = "not listed in [smart] devices";
        } else {
          // The node as configured (a /dev/disk/by-id link stays readable
          // in the output); sysfs tells the transport.
          item.dev = DeviceForNode(it->second);
          item.dev.node = it->second;
          item.dev.note.clear();
        }
      } else {
        item.dev = options.resolve ? options.resolve(path) : ResolveSmartDevice(ctx.fs, path);
      }
      item.device = item.dev.node;
      items.push_back(std::move(item));
    };
    for (const DataDiskConfig& d : config->data) add(d.name, d.path);
    for (const ParityConfig& p : config->parity) add(p.name, p.path.parent_path());
  }

  // 2. The manifest: writable when there is something to store.
  std::unique_ptr<ManifestLock> lock;
  std::unique_ptr<Manifest> m;
  bool any_disk = std::any_of(items.begin(), items.end(), [](const Item& i) { return !i.disk.empty(); });
  if (any_disk && config != nullptr) {
    ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<Manifest> ro, OpenManifestIfExists(*config));
    if (!ro) {
      report->store_note = "the array has never been synced: SMART readings are stored from the first sync on";
    } else {
      ro.reset();
      Result<std::unique_ptr<ManifestLock>> locked = ManifestLock::Acquire(config->manifest);
      if (locked.ok()) {
        lock = std::move(locked).value();
        ManifestOptions rw;
        rw.copy_dirs = config->manifest_copies;
        ATLAS_ASSIGN_OR_RETURN(m, OpenManifest(config->manifest, rw));
      } else if (locked.status().code() == Code::kBusy) {
        report->store_note = "the manifest is locked by another atlas-scrub run: readings judged, not stored";
        ATLAS_ASSIGN_OR_RETURN(m, OpenManifestIfExists(*config));
      } else {
        return locked.status();
      }
    }
  }

  // 3. Read, judge, store.
  std::unique_ptr<ManifestBatch> batch = (m && lock) ? m->NewBatch() : nullptr;
  const std::int64_t now = ctx.clock->NowUnixNanos();
  std::int64_t seq = 0;
  for (Item& item : items) {
    SmartDiskReport d;
    d.time_ns = now;
    d.name = item.name;
    d.device = item.device;
    if (item.reading) {
      d.reading = std::move(*item.reading);
    } else if (item.dev.node.empty()) {
      d.reading.state = SmartState::kUnknown;
      d.reading.note = item.dev.note;
    } else {
      d.reading = options.source->Read(item.dev.node, item.dev.transport);
    }
    if (d.reading.source.empty()) d.reading.source = d.device;
    if (m && !item.disk.empty()) {
      ATLAS_ASSIGN_OR_RETURN(d.previous, m->LatestSmartRecord(item.disk));
    }
    const std::vector<std::string> no_ignore;
    d.verdict = JudgeSmart(item.name, d.reading, d.previous, config ? config->smart.ignore : no_ignore);
    const bool real = d.verdict.state != SmartState::kUnknown && d.verdict.state != SmartState::kStandby;
    if (batch && real && !item.disk.empty()) {
      // Distinct keys even when one run stores two readings of one disk.
      std::int64_t t = now + seq++;
      if (d.previous && t <= d.previous->time_ns) t = d.previous->time_ns + 1;
      batch->PutSmartRecord(MakeSmartRecord(item.disk, t, d.reading, d.verdict));
      ATLAS_ASSIGN_OR_RETURN(std::vector<SmartRecord> history, m->SmartRecords(item.disk));
      // history + the new one; keep the newest options.history_kept.
      const std::size_t keep = std::max<std::size_t>(1, options.history_kept);
      if (history.size() + 1 > keep) {
        std::size_t drop = history.size() + 1 - keep;
        for (std::size_t i = 0; i < drop; ++i) batch->DeleteSmartRecord(item.disk, history[i].time_ns);
      }
      d.stored = true;
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
    s.findings = r->findings;
    out.emplace_back(name, std::move(s));
  }
  return out;
}

}  // namespace atlas
