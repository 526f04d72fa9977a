// Prometheus metrics: the array's state as text exposition (format 0.0.4),
// for node_exporter's textfile collector (SPEC "Metrics").
//
// BuildMetrics gathers what `status` shows plus the newest run of each
// command from the manifest's run history; RenderMetrics turns the families
// into text. The split keeps the renderer a pure function for unit tests and
// lets the CLI print the same families as JSON.
//
// Label policy: low cardinality only (disk name, role, command, severity,
// kind, change); never a path. atlas_scrub_findings_open has a series (0 when
// none is open) for every kind whose SPEC severity is warning or critical, so
// an alert rule can tell "none open" (0) from "not exported" (absent); a
// finding of another kind/severity pair (shared_filesystem, info) gets a
// series only while open. Drift is not a finding here: it has its own family
// (atlas_scrub_drift_files{change}).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "atlas/report.h"
#include "atlas/manifest.h"
#include "atlas/status.h"

namespace atlas {

struct MetricSample {
  std::vector<std::pair<std::string, std::string>> labels;  // name, raw value (escaped on output)
  double value = 0;
};

struct MetricFamily {
  std::string name;  // "atlas_scrub_..."
  std::string help;
  std::string type;  // "gauge" (every family here is a gauge)
  std::vector<MetricSample> samples;
};

struct MetricsReport {
  StatusReport status;
  std::vector<RunRecord> last_runs;  // the newest run of each command, by command name
};

// BuildStatus plus the run history. Before the first sync (no manifest)
// this succeeds: health and disks as `status` sees them, array figures 0,
// no last-run series. Errors as BuildStatus (a corrupt manifest, ...).
Status BuildMetrics(const RunContext& ctx, MetricsReport* report);

// The metric families of `report`. `scrape_seconds` is how long collecting
// took (atlas_scrub_scrape_duration_seconds); `version` goes into
// atlas_scrub_info. With `ok` false only atlas_scrub_info and
// atlas_scrub_scrape_* are returned (a failed collection: scrape_success 0).
std::vector<MetricFamily> MetricFamilies(const MetricsReport& report, bool ok, double scrape_seconds,
                                         const std::string& version);

// Text exposition of `families`: # HELP and # TYPE lines, then one line per
// sample; label values escaped (\\, \", \n) and HELP text escaped (\\, \n).
std::string RenderMetrics(const std::vector<MetricFamily>& families);

// The value 0..3 of atlas_scrub_disk_smart_status for a DiskStatus.smart
// word: ok 0, warning 1, failing 2, anything else (unknown, standby) 3.
int SmartStatusValue(const std::string& smart);

}  // namespace atlas
