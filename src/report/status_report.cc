// status: the one-glance view of the array.
//
// Everything here is read-only and live: stored findings (corruption, read
// errors found by earlier runs), the disk guards as they stand now (a disk
// unmounted since the last sync shows at once, not at the next sync), drift
// from a metadata-only walk, and scrub coverage.
//
// Cost (docs/DESIGN.md "Scale"): coverage comes from the manifest's coverage
// summary (a few hundred per-minute counters kept exact by every commit) and
// file counts from the disk records, so status reads O(disks + open findings
// + dirty positions) records, whatever the size of the array. The drift
// walk is the one O(files) part (a stat per file): by default it stops after
// StatusOptions::drift_time_limit_ns and reports what it saw as "partial".
#include <algorithm>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include <fmt/format.h>

#include "atlas/advice.h"
#include "atlas/manifest.h"
#include "atlas/outside.h"
#include "atlas/power.h"
#include "atlas/report.h"
#include "atlas/smart_report.h"
#include "engine/array.h"
#include "engine/disk_guards.h"
#include "engine/drift.h"
#include "engine/guards.h"

namespace atlas {
namespace {

constexpr std::int64_t kNsPerDay = 86'400'000'000'000;

std::string Age(std::int64_t ns) {
  std::int64_t s = ns / 1'000'000'000;
  if (s >= 2 * 86400) return fmt::format("{} days", s / 86400);
  if (s >= 2 * 3600) return fmt::format("{} hours", s / 3600);
  return fmt::format("{} minutes", std::max<std::int64_t>(0, s / 60));
}

// "`atlas-scrub scrub`": the first step the advice table gives `kind`, for
// the messages of the findings status makes itself.
std::string RunFor(FindingKind kind) {
  return "`" + NextSteps(MakeFinding(kind, "", "", ""), "atlas-scrub").front() + "`";
}

void AppendAll(std::vector<Finding>* to, std::vector<Finding> from) {
  for (Finding& f : from) to->push_back(std::move(f));
}

// One row per data disk and parity level, and the files and bytes the data
// disks held at the last sync.
void AddDiskRows(const ArrayView& array, StatusReport* report) {
  for (const ArrayDataDisk& d : array.data) {
    DiskStatus ds;
    ds.name = d.name;
    ds.role = "data";
    ds.path = d.root.string();
    if (d.identity) {
      ds.device = d.identity->device;
      ds.fs_uuid = d.identity->uuid;
      ds.model = d.identity->model;
      ds.serial = d.identity->serial;
    }
    ds.mounted = DataDiskMounted(d);
    if (d.record) {
      ds.files = d.record->files;
      ds.bytes = d.record->bytes;
      ds.directories = d.record->directories;
      ds.symlinks = d.record->symlinks;
      ds.hard_links = d.record->hard_links;
      ds.special_files = d.record->special_files;
      report->files += ds.files;
      report->bytes += ds.bytes;
    }
    report->disks.push_back(std::move(ds));
  }
  for (const ArrayParity& p : array.parity) {
    DiskStatus ds;
    ds.name = p.name;
    ds.role = "parity";
    ds.path = p.path.string();
    if (p.identity) {
      ds.device = p.identity->device;
      ds.fs_uuid = p.identity->uuid;
      ds.model = p.identity->model;
      ds.serial = p.identity->serial;
    }
    ds.mounted = ParityMounted(p);
    ds.bytes = p.file_size.value_or(0);
    report->disks.push_back(std::move(ds));
  }
}

// The drift walk as `options` asks: none, to the end, or until the time
// limit (then report->drift_walk is "partial" and `drift` holds what was
// seen). Errors other than the time limit end the status.
Status WalkDrift(const RunContext& ctx, const StatusOptions& options, Manifest* m, const ArrayView& array,
                 StatusReport* report, std::vector<DiskDrift>* drift) {
  if (options.drift == DriftWalk::kNone) {
    report->drift_walk = "skipped";
    return Status::Ok();
  }
  // The walk stops at the caller's stop request, and in bounded mode at
  // the time limit: a timer thread requests a stop that ScanDisk checks
  // every 1024 files.
  std::stop_source walk_stop;
  std::stop_callback forward(ctx.stop, [&] { walk_stop.request_stop(); });
  std::jthread timer;
  if (options.drift == DriftWalk::kBounded) {
    timer = std::jthread([&walk_stop, limit = options.drift_time_limit_ns](std::stop_token done) {
      std::mutex mu;
      std::condition_variable_any cv;
      std::unique_lock<std::mutex> lock(mu);
      if (!cv.wait_for(lock, done, std::chrono::nanoseconds(limit), [] { return false; }) &&
          !done.stop_requested()) {
        walk_stop.request_stop();
      }
    });
  }
  RunContext walk_ctx = ctx;
  walk_ctx.stop = walk_stop.get_token();
  Status walked = ScanAllDisks(walk_ctx, m, array, /*collect=*/false, drift);
  if (timer.joinable()) {
    timer.request_stop();
    timer.join();
  }
  if (!walked.ok()) {
    if (walked.code() != Code::kCancelled || ctx.stop.stop_requested()) return walked;
    report->drift_walk = "partial";
  }
  return Status::Ok();
}

// Sums the walk into report->drift; returns the oldest mtime among added
// and modified files (INT64_MAX if none).
std::int64_t AddDrift(const std::vector<DiskDrift>& drift, StatusReport* report) {
  std::int64_t oldest_change = INT64_MAX;
  for (const DiskDrift& d : drift) {
    report->drift_files_walked += d.totals.files;
    report->drift.Add(d.drift);
    oldest_change = std::min(oldest_change, d.oldest_change_mtime_ns);
  }
  return oldest_change;
}

// A disk whose newest SMART reading is older than [smart] stale_after: its
// health is no longer known.
Finding StaleFinding(const std::string& disk, std::int64_t age_ns) {
  return MakeFinding(FindingKind::kSmartStale, disk, "",
                     fmt::format("the newest SMART reading of {} is {} old, beyond [smart] stale_after; its "
                                 "health is not known (no run read it since, or it slept at every reading); run {}",
                                 disk, Age(age_ns), RunFor(FindingKind::kSmartStale)));
}

// What earlier runs stored: findings, dirty positions, and each disk's
// SMART state, temperature and findings from its newest stored reading
// (every sync, scrub, check, fix and `smart` stores them; they are not in
// the findings table), and smart_stale for a reading too old.
Status AddStored(const Config& config, Manifest* m, std::int64_t now, StatusReport* report,
                 std::vector<Finding>* findings) {
  ATLAS_ASSIGN_OR_RETURN(std::vector<StoredFinding> stored, m->ListFindings());
  for (StoredFinding& sf : stored) findings->push_back(std::move(sf.finding));
  ATLAS_ASSIGN_OR_RETURN(report->positions_unsynced, CountDirtyPositions(m));
  std::vector<std::string> names;
  for (const DiskStatus& ds : report->disks) names.push_back(ds.name);
  ATLAS_ASSIGN_OR_RETURN(auto smart, LastSmartStates(m, names));
  for (auto& [name, last] : smart) {
    for (DiskStatus& ds : report->disks) {
      if (ds.name != name) continue;
      ds.smart = std::string(SmartStateName(last.state));
      ds.smart_read_ns = last.time_ns;
      ds.temperature_c = last.temperature_c;
      ds.over_temp_limit = config.smart.temp_limit_c > 0 && last.temperature_c &&
                           *last.temperature_c > config.smart.temp_limit_c;
    }
    if (now - last.time_ns > config.smart.stale_after_s * 1'000'000'000) {
      findings->push_back(StaleFinding(name, now - last.time_ns));
    }
    AppendAll(findings, std::move(last.findings));
  }
  return Status::Ok();
}

// smart_stale for a disk that has SMART to read (a block device of a
// transport with SMART) but no stored reading, once the array's first sync
// is older than stale_after: every run since should have read it. Disks
// without SMART (tmpfs, loop, virtio) stay "unknown" with no finding.
Status AddNeverRead(const Config& config, Manifest* m, const std::vector<ArrayDevice>& devices, std::int64_t now,
                    const StatusReport& report, std::vector<Finding>* findings) {
  ATLAS_ASSIGN_OR_RETURN(std::optional<std::int64_t> first_sync, GetMetaInt(m, "first_sync_ns"));
  if (!first_sync || now - *first_sync <= config.smart.stale_after_s * 1'000'000'000) return Status::Ok();
  for (const ArrayDevice& d : devices) {
    if (d.device.node.empty() || !TransportHasSmart(d.device.transport)) continue;
    for (const DiskStatus& ds : report.disks) {
      if (ds.name != d.disk || ds.smart_read_ns) continue;
      findings->push_back(MakeFinding(
          FindingKind::kSmartStale, d.disk, "",
          fmt::format("no SMART reading of {} ({}) has been stored since the array's first sync {} ago: no run "
                      "used it, it slept at every reading, or its SMART cannot be read; run {}",
                      d.disk, d.device.node, Age(now - *first_sync), RunFor(FindingKind::kSmartStale))));
    }
  }
  return Status::Ok();
}

// Each disk's power state, asked without waking it; disks without a block
// device stay "unknown" without running anything.
void AddPowerStates(const std::vector<ArrayDevice>& devices, StatusReport* report) {
  for (const ArrayDevice& d : devices) {
    if (d.device.node.empty()) continue;
    const PowerReading p = QueryPowerState(d.device.node, d.device.transport);
    for (DiskStatus& ds : report->disks) {
      if (ds.name == d.disk) ds.power = std::string(PowerStateName(p.state));
    }
  }
}

// The configured outside hosts as their stored records say (a host never
// run has a row with neither time), and the findings those records stand
// for.
Status AddOutsideHosts(const Config& config, Manifest* m, StatusReport* report, std::vector<Finding>* findings) {
  std::vector<OutsideHostRecord> records;
  if (m != nullptr && !config.outside.hosts.empty()) {
    ATLAS_ASSIGN_OR_RETURN(records, m->ListOutsideHosts());
  }
  for (const OutsideHostConfig& host : config.outside.hosts) {
    OutsideHostStatus row;
    row.host = host.name;
    for (const OutsideHostRecord& r : records) {
      if (r.host != host.name) continue;
      if (r.checked_ns != 0) row.checked_ns = r.checked_ns;
      if (r.attempted_ns != 0) row.last_attempt_ns = r.attempted_ns;
      row.reachable = r.error.empty();
      row.error = r.error;
      row.only_copy = r.only_copy;
      row.duplicates = r.duplicates;
      row.scanned_files = r.scanned_files;
    }
    report->outside.push_back(std::move(row));
  }
  AppendAll(findings, OutsideHostFindings(records, config));
  return Status::Ok();
}

// Scrub coverage: from the coverage summary (synced blocks per minute of
// their last verification), or, for a manifest that has none yet, from
// every block record. A bucket counts as verified within 30 days when its
// last nanosecond is, and the oldest verification is its bucket's start:
// ages are exact to the minute, rounded up. scrub_overdue when the oldest
// verification is older than [guards] scrub_overdue_after.
Status AddCoverage(const Config& config, Manifest* m, const ArrayView& array, std::int64_t now,
                   StatusReport* report, std::vector<Finding>* findings) {
  std::uint64_t recent = 0;
  std::int64_t oldest_verified = INT64_MAX;
  ATLAS_ASSIGN_OR_RETURN(std::optional<std::vector<CoverageBucket>> coverage, m->Coverage());
  if (coverage) {
    for (const CoverageBucket& c : *coverage) {
      report->blocks += c.blocks;
      if (now - (c.start_ns + kCoverageBucketNs - 1) <= 30 * kNsPerDay) recent += c.blocks;
      if (c.blocks > 0) oldest_verified = std::min(oldest_verified, c.start_ns);
    }
  } else {
    for (const ArrayDataDisk& d : array.data) {
      if (!d.record) continue;
      std::unique_ptr<Cursor<BlockRecord>> b = m->Blocks(d.slot, 0);
      for (; b->Valid(); b->Next()) {
        const BlockRecord& r = b->value();
        if (r.state != BlockState::kSynced) continue;
        report->blocks++;
        if (now - r.verified_ns <= 30 * kNsPerDay) recent++;
        oldest_verified = std::min(oldest_verified, r.verified_ns);
      }
      ATLAS_RETURN_IF_ERROR(b->status());
    }
  }
  if (report->blocks == 0) return Status::Ok();
  report->verified_pct_30d = 100.0 * static_cast<double>(recent) / static_cast<double>(report->blocks);
  report->oldest_unverified_days = (now - oldest_verified) / kNsPerDay;
  if (now - oldest_verified > config.guards.scrub_overdue_after_s * 1'000'000'000) {
    findings->push_back(MakeFinding(FindingKind::kScrubOverdue, "", "",
                                    fmt::format("the oldest block was last verified {} ago, beyond "
                                                "scrub_overdue_after; run {}",
                                                Age(now - oldest_verified), RunFor(FindingKind::kScrubOverdue))));
  }
  return Status::Ok();
}

// Unsynced: changes unprotected for longer than [guards]
// unsynced_warn_after. They are unprotected since they were made (mtime),
// but never longer than since the last sync; deletions and moves count from
// the last sync.
std::optional<Finding> UnsyncedFinding(const Config& config, const ArrayView& array, const StatusReport& report,
                                       std::int64_t oldest_change, std::int64_t now) {
  if (!array.synced_ever) {
    return MakeFinding(FindingKind::kUnsynced, "", "",
                       "the array has never been synced: nothing is protected by parity yet; run " +
                           RunFor(FindingKind::kUnsynced));
  }
  const std::int64_t last_sync = array.last_sync_ns.value_or(0);
  std::int64_t since = INT64_MAX;
  if (report.drift.added + report.drift.modified > 0) since = std::max(oldest_change, last_sync);
  // Entries and metadata have no mtime of their own to date them by.
  if (report.drift.deleted + report.drift.moved + report.drift.EntryChanges() + report.drift.metadata_changed > 0 ||
      report.positions_unsynced > 0) {
    since = std::min(since, last_sync);
  }
  if (since == INT64_MAX || now - since <= config.guards.unsynced_warn_after_s * 1'000'000'000) {
    return std::nullopt;
  }
  return MakeFinding(FindingKind::kUnsynced, "", "",
                     fmt::format("{} changed files and {} unsynced positions have been unprotected for {}; "
                                 "run {}",
                                 report.drift.Changes(), report.positions_unsynced, Age(now - since),
                                 RunFor(FindingKind::kUnsynced)));
}

}  // namespace

Status BuildStatus(const RunContext& ctx, StatusReport* report) {
  return BuildStatus(ctx, StatusOptions(), report);
}

Status BuildStatus(const RunContext& ctx, const StatusOptions& options, StatusReport* report) {
  *report = StatusReport();
  const Config& config = *ctx.config;
  const std::int64_t now = ctx.clock->NowUnixNanos();
  Result<std::unique_ptr<Manifest>> opened = OpenManifestIfExists(config);
  if (!opened.ok()) return opened.status().WithContext("status");
  std::unique_ptr<Manifest> m = std::move(opened).value();
  ATLAS_ASSIGN_OR_RETURN(ArrayView array, LoadArray(ctx, m.get()));
  report->block_size = config.block_size;
  report->data_disks = array.data.size();
  report->parity_levels = array.parity.size();
  report->synced_ever = array.synced_ever;
  report->last_sync_ns = array.last_sync_ns;
  report->last_scrub_ns = array.last_scrub_ns;
  if (m) {
    // What a compute host passes to `outside --key`.
    ATLAS_ASSIGN_OR_RETURN(std::optional<OutsideKeyPair> key, OutsideSigningKey(m.get(), /*create=*/false));
    if (key) report->outside_key = FormatOutsideKey(key->public_key);
  }

  // The findings in the order they are shown within a severity: the live
  // guards, what earlier runs stored, then what status judges itself.
  std::vector<Finding> findings = CheckDiskGuards(array);
  AddDiskRows(array, report);
  const std::vector<ArrayDevice> devices = ArrayDevices(ctx, config);
  if (options.power_states) AddPowerStates(devices, report);
  std::vector<DiskDrift> drift;
  if (Status s = WalkDrift(ctx, options, m.get(), array, report, &drift); !s.ok()) return s.WithContext("status");
  const std::int64_t oldest_change = AddDrift(drift, report);
  if (!drift.empty()) {
    AppendAll(&findings, CheckScanGuards(config, array, drift, false, false));
    AppendAll(&findings, CheckContentGuards(config, array, drift, false, false));
  }
  if (m) {
    ATLAS_RETURN_IF_ERROR(AddStored(config, m.get(), now, report, &findings));
    ATLAS_RETURN_IF_ERROR(AddNeverRead(config, m.get(), devices, now, *report, &findings));
    ATLAS_RETURN_IF_ERROR(AddCoverage(config, m.get(), array, now, report, &findings));
  }
  ATLAS_RETURN_IF_ERROR(AddOutsideHosts(config, m.get(), report, &findings));
  if (std::optional<Finding> f = UnsyncedFinding(config, array, *report, oldest_change, now)) {
    findings.push_back(std::move(*f));
  }
  AppendAll(&findings, SharedFilesystemFindings(array));
  std::stable_sort(findings.begin(), findings.end(),
                   [](const Finding& a, const Finding& b) { return a.severity > b.severity; });
  report->health = HealthOf(findings);
  report->findings = std::move(findings);
  return Status::Ok();
}

}  // namespace atlas
