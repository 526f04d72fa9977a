// metrics: the state `status` computes, as Prometheus gauges.
//
// Everything is a gauge: the counts are of things open or present now, and
// the per-command figures describe the newest run, so none of them only
// grows. Values are printed exactly (integers without exponent, ratios and
// seconds with as many digits as they need); no sample carries a timestamp
// (node_exporter's textfile collector rejects them, and the file's mtime is
// exported by node_exporter as node_textfile_mtime_seconds).
#include "atlas/metrics.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <set>

#include <fmt/format.h>

#include "atlas/manifest.h"

namespace atlas {
namespace {

// Enough history to find the newest run of every command even after years
// of daily syncs and scrubs (one record per run, newest first).
constexpr std::size_t kRunHistoryScan = 20000;

std::string EscapeLabel(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 9.0e15) return fmt::format("{}", static_cast<std::int64_t>(v));
  return fmt::format("{}", v);
}

double Seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }

// Families are kept in a deque: a reference Add returned stays valid while
// more families are added.
struct Builder {
  std::deque<MetricFamily> families;
  std::vector<MetricFamily> Done() {
    // A family without samples would still be announced by its HELP/TYPE
    // lines; drop it (no data disk: no disk_files).
    std::erase_if(families, [](const MetricFamily& f) { return f.samples.empty(); });
    return {std::make_move_iterator(families.begin()), std::make_move_iterator(families.end())};
  }
  MetricFamily& Add(std::string name, std::string help) {
    families.push_back(MetricFamily{std::move(name), std::move(help), "gauge", {}});
    return families.back();
  }
  void One(std::string name, std::string help, double value) {
    Add(std::move(name), std::move(help)).samples.push_back(MetricSample{{}, value});
  }
};

}  // namespace

int SmartStatusValue(const std::string& smart) {
  if (smart == "ok") return 0;
  if (smart == "warning") return 1;
  if (smart == "failing") return 2;
  return 3;
}

Status BuildMetrics(const RunContext& ctx, MetricsReport* report) {
  *report = MetricsReport();
  ATLAS_RETURN_IF_ERROR(BuildStatus(ctx, &report->status));
  Result<std::unique_ptr<Manifest>> opened = OpenManifestIfExists(*ctx.config);
  if (!opened.ok()) return opened.status().WithContext("metrics");
  std::unique_ptr<Manifest> m = std::move(opened).value();
  if (!m) return Status::Ok();
  ATLAS_ASSIGN_OR_RETURN(std::vector<RunRecord> runs, m->RecentRuns(kRunHistoryScan));
  std::set<std::string> seen;
  for (RunRecord& r : runs) {
    if (seen.insert(r.command).second) report->last_runs.push_back(std::move(r));
  }
  std::sort(report->last_runs.begin(), report->last_runs.end(),
            [](const RunRecord& a, const RunRecord& b) { return a.command < b.command; });
  return Status::Ok();
}

// Per disk: up, SMART verdict, files, bytes, the newest SMART reading's
// time and temperature, and the power state.
void AddDiskFamilies(const StatusReport& s, Builder* builder) {
  Builder& b = *builder;
  MetricFamily& up = b.Add("atlas_scrub_disk_up", "1 if the disk (or parity file) is present and mounted as recorded, else 0.");
  MetricFamily& smart = b.Add("atlas_scrub_disk_smart_status",
                              "SMART verdict of the disk: 0 ok, 1 warning, 2 failing, 3 unknown or standby.");
  MetricFamily& files = b.Add("atlas_scrub_disk_files", "Files on the data disk as of the last sync.");
  MetricFamily& bytes = b.Add("atlas_scrub_disk_bytes",
                              "Bytes of file data on a data disk as of the last sync; size of a parity file.");
  MetricFamily& read_at = b.Add("atlas_scrub_disk_smart_reading_timestamp_seconds",
                                "When the disk's newest stored SMART reading was taken (Unix time).");
  MetricFamily& temp = b.Add("atlas_scrub_disk_temperature_celsius",
                             "Disk temperature in degrees Celsius at its newest stored SMART reading.");
  MetricFamily& standby = b.Add("atlas_scrub_disk_standby",
                                "1 if the disk is in standby (asked without waking it), 0 if active; absent when "
                                "unknown.");
  for (const DiskStatus& disk : s.disks) {
    if (disk.smart_read_ns) read_at.samples.push_back(MetricSample{{{"disk", disk.name}}, Seconds(*disk.smart_read_ns)});
    if (disk.temperature_c) {
      temp.samples.push_back(MetricSample{{{"disk", disk.name}}, static_cast<double>(*disk.temperature_c)});
    }
    if (disk.power != "unknown") {
      standby.samples.push_back(MetricSample{{{"disk", disk.name}}, disk.power == "standby" ? 1.0 : 0.0});
    }
    up.samples.push_back(MetricSample{{{"disk", disk.name}, {"role", disk.role}}, disk.mounted ? 1.0 : 0.0});
    smart.samples.push_back(MetricSample{{{"disk", disk.name}}, static_cast<double>(SmartStatusValue(disk.smart))});
    if (disk.role == "data") {
      files.samples.push_back(MetricSample{{{"disk", disk.name}}, static_cast<double>(disk.files)});
    }
    bytes.samples.push_back(MetricSample{{{"disk", disk.name}, {"role", disk.role}}, static_cast<double>(disk.bytes)});
  }
}

// Per outside host ([[outside.hosts]]): its last scan and what it found.
void AddOutsideFamilies(const StatusReport& s, Builder* builder) {
  Builder& b = *builder;
  MetricFamily& out_checked = b.Add("atlas_scrub_outside_checked_timestamp_seconds",
                                    "When the last successful scan of the outside host ended (Unix time).");
  MetricFamily& out_reachable = b.Add("atlas_scrub_outside_reachable",
                                      "1 if the newest scan of the outside host succeeded, else 0.");
  MetricFamily& out_only = b.Add("atlas_scrub_outside_only_copy_files",
                                 "Media files on the outside host with no copy on Atlas, at its last scan.");
  MetricFamily& out_dup = b.Add("atlas_scrub_outside_duplicate_files",
                                "Media files on the outside host that duplicate an Atlas file, at its last scan.");
  for (const OutsideHostStatus& h : s.outside) {
    const std::vector<std::pair<std::string, std::string>> host = {{"host", h.host}};
    if (h.checked_ns) out_checked.samples.push_back(MetricSample{host, Seconds(*h.checked_ns)});
    out_reachable.samples.push_back(MetricSample{host, h.reachable ? 1.0 : 0.0});
    out_only.samples.push_back(MetricSample{host, static_cast<double>(h.only_copy)});
    out_dup.samples.push_back(MetricSample{host, static_cast<double>(h.duplicates)});
  }
}

std::vector<MetricFamily> MetricFamilies(const MetricsReport& report, bool ok, double scrape_seconds,
                                         const std::string& version) {
  Builder b;
  b.Add("atlas_scrub_info", "Version of atlas-scrub and of its machine output schema; always 1.")
      .samples.push_back(MetricSample{{{"version", version}, {"schema", "1"}}, 1});
  b.One("atlas_scrub_scrape_success",
        "1 if the metrics were collected, 0 if the manifest or a disk could not be read (see the "
        "command's stderr).",
        ok ? 1 : 0);
  b.One("atlas_scrub_scrape_duration_seconds", "Time taken to collect these metrics.", scrape_seconds);
  if (!ok) return b.Done();

  const StatusReport& s = report.status;
  b.One("atlas_scrub_health", "Health of the array: 0 ok, 1 warning, 2 critical (the worst open finding).",
        s.health);
  b.One("atlas_scrub_synced", "1 once the array has been synced at least once, else 0.", s.synced_ever ? 1 : 0);
  b.One("atlas_scrub_array_data_disks", "Configured data disks.", static_cast<double>(s.data_disks));
  b.One("atlas_scrub_array_parity_levels", "Configured parity levels.", static_cast<double>(s.parity_levels));
  b.One("atlas_scrub_array_files", "Files protected as of the last sync.", static_cast<double>(s.files));
  b.One("atlas_scrub_array_bytes", "Bytes of file data protected as of the last sync.",
        static_cast<double>(s.bytes));
  b.One("atlas_scrub_array_blocks", "Blocks in use as of the last sync.", static_cast<double>(s.blocks));
  b.One("atlas_scrub_block_size_bytes", "Block size of the array.", s.block_size);

  const DriftCounts& d = s.drift;
  b.One("atlas_scrub_unsynced_files",
        "Files added, modified, deleted or moved since the last sync (not yet protected by parity).",
        static_cast<double>(d.Changes()));
  b.One("atlas_scrub_unsynced_bytes", "Bytes of files added or modified since the last sync.",
        static_cast<double>(d.added_bytes));
  b.One("atlas_scrub_unsynced_positions",
        "Stripe positions whose parity is not up to date (an interrupted or failed sync).",
        static_cast<double>(s.positions_unsynced));
  MetricFamily& drift = b.Add("atlas_scrub_drift_files", "Files changed since the last sync, by change.");
  drift.samples.push_back(MetricSample{{{"change", "added"}}, static_cast<double>(d.added)});
  drift.samples.push_back(MetricSample{{{"change", "modified"}}, static_cast<double>(d.modified)});
  drift.samples.push_back(MetricSample{{{"change", "deleted"}}, static_cast<double>(d.deleted)});
  drift.samples.push_back(MetricSample{{{"change", "moved"}}, static_cast<double>(d.moved)});

  if (s.last_sync_ns) {
    b.One("atlas_scrub_last_sync_timestamp_seconds", "When the last complete sync ended (Unix time).",
          Seconds(*s.last_sync_ns));
  }
  if (s.last_scrub_ns) {
    b.One("atlas_scrub_last_scrub_timestamp_seconds", "When the last scrub ended (Unix time).",
          Seconds(*s.last_scrub_ns));
  }
  b.One("atlas_scrub_scrub_verified_ratio", "Share of blocks in use verified in the last 30 days, 0 to 1.",
        s.verified_pct_30d / 100.0);
  b.One("atlas_scrub_scrub_oldest_unverified_age_seconds",
        "Age of the least recently verified block, in whole days expressed in seconds.",
        static_cast<double>(s.oldest_unverified_days) * 86400.0);

  // Open findings by (severity, kind): a zero series for every kind SPEC
  // rates warning or critical, plus whatever else is open.
  std::map<std::pair<std::string, std::string>, double> open;
  for (FindingKind k : AllFindingKinds()) {
    Severity sev = DefaultSeverity(k);
    if (sev >= Severity::kWarning) open[{std::string(SeverityName(sev)), std::string(KindName(k))}] = 0;
  }
  for (const Finding& f : s.findings) open[{std::string(SeverityName(f.severity)), std::string(KindName(f.kind))}] += 1;
  MetricFamily& findings = b.Add("atlas_scrub_findings_open", "Findings open now, by severity and kind.");
  for (const auto& [key, n] : open) {
    findings.samples.push_back(MetricSample{{{"severity", key.first}, {"kind", key.second}}, n});
  }

  AddDiskFamilies(s, &b);
  AddOutsideFamilies(s, &b);

  if (!report.last_runs.empty()) {
    MetricFamily& ts = b.Add("atlas_scrub_last_run_timestamp_seconds",
                             "When the newest completed run of the command ended (Unix time).");
    MetricFamily& dur = b.Add("atlas_scrub_last_run_duration_seconds", "How long the newest run of the command took.");
    MetricFamily& code = b.Add("atlas_scrub_last_run_exit_code",
                               "Exit code of the newest recorded run of the command: 0 clean, 1 needs attention.");
    for (const RunRecord& r : report.last_runs) {
      ts.samples.push_back(MetricSample{{{"command", r.command}}, Seconds(r.end_ns)});
      dur.samples.push_back(MetricSample{{{"command", r.command}}, std::max(0.0, Seconds(r.end_ns - r.start_ns))});
      code.samples.push_back(MetricSample{{{"command", r.command}}, static_cast<double>(r.exit_code)});
    }
  }
  return b.Done();
}

std::string RenderMetrics(const std::vector<MetricFamily>& families) {
  std::string out;
  for (const MetricFamily& f : families) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, EscapeHelp(f.help), f.name, f.type);
    for (const MetricSample& s : f.samples) {
      out += f.name;
      if (!s.labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < s.labels.size(); ++i) {
          out += fmt::format("{}{}=\"{}\"", i == 0 ? "" : ",", s.labels[i].first, EscapeLabel(s.labels[i].second));
        }
        out += '}';
      }
      out += ' ';
      out += FormatValue(s.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace atlas
