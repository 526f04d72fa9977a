// metrics [--textfile DIR]: Prometheus text exposition on stdout, or written
// atomically to DIR/atlas_scrub.prom for node_exporter's textfile collector.
//
// Exit codes: 0 when the metrics were collected, whatever the array's health
// (the health is a value in the output; an exporter run every few minutes
// from a timer should not turn the unit "failed" while a finding is open);
// 2 for a bad config or a missing --textfile directory; 3 when the manifest
// could not be read -- the exposition is still written then, with
// atlas_scrub_scrape_success 0, so a stale or broken state is alertable.
#include <sys/stat.h>

#include <fmt/format.h>

#include "atlas/metrics.h"
#include "cli/commands.h"

namespace atlas::cli {
namespace {

constexpr const char* kTextfileName = "atlas_scrub.prom";

nlohmann::json FamiliesJson(const std::vector<MetricFamily>& families) {
  nlohmann::json arr = nlohmann::json::array();
  for (const MetricFamily& f : families) {
    nlohmann::json samples = nlohmann::json::array();
    for (const MetricSample& s : f.samples) {
      nlohmann::json labels = nlohmann::json::object();
      for (const auto& [k, v] : s.labels) labels[k] = v;
      samples.push_back({{"labels", labels}, {"value", s.value}});
    }
    arr.push_back({{"name", f.name}, {"help", f.help}, {"type", f.type}, {"samples", samples}});
  }
  return arr;
}

// DIR/atlas_scrub.prom through the temporary DIR/.atlas_scrub.prom.PID.tmp
// (node_exporter reads only *.prom), mode 0644 whatever the umask
// (node_exporter runs as another user): a scrape sees the old file or the
// new one, never a part (WriteFileAtomic, atlas/env.h).
Status WriteTextfile(const std::filesystem::path& target, const std::string& text) {
  AtomicWriteOptions options;
  options.mode = 0644;
  options.exact_mode = true;
  options.hidden_temp = true;
  return WriteFileAtomic(FileSystem::Default(), target, text, options);
}

}  // namespace

int CmdMetrics(const CommandEnv& env, const MetricsArgs& args) {
  Result<Config> config = LoadConfigFor(env.global);
  if (!config.ok()) return ReportError(env.global, "metrics", config.status());
  std::filesystem::path target;
  if (!args.textfile.empty()) {
    struct stat st {};
    if (::stat(args.textfile.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return ReportError(env.global, "metrics",
                         Status::InvalidArgument(fmt::format(
                             "--textfile {}: not a directory; give node_exporter's "
                             "--collector.textfile.directory (e.g. /var/lib/prometheus/node-exporter)",
                             args.textfile)));
    }
    target = std::filesystem::path(args.textfile) / kTextfileName;
  }

  Clock* clock = Clock::Default();
  std::unique_ptr<ProgressSink> progress = MakeProgress(env.global);
  RunContext ctx{&*config, FileSystem::Default(), clock, progress.get(), env.stop};
  const std::int64_t t0 = clock->MonotonicNanos();
  MetricsReport report;
  Status s = BuildMetrics(ctx, &report);
  const double seconds = static_cast<double>(clock->MonotonicNanos() - t0) / 1e9;
  std::vector<MetricFamily> families = MetricFamilies(report, s.ok(), seconds, kVersionNumber);
  std::string text = RenderMetrics(families);

  if (!target.empty()) {
    Status w = WriteTextfile(target, text);
    if (!w.ok()) return ReportError(env.global, "metrics", w.WithContext("metrics --textfile"));
  }
  if (!s.ok()) return ReportError(env.global, "metrics", s);
  if (env.global.json) {
    PrintJson({{"schema", 1},
               {"command", "metrics"},
               {"ok", true},
               {"exit_code", kExitOk},
               {"health", HealthName(report.status.health)},
               {"textfile", target.empty() ? nlohmann::json(nullptr) : nlohmann::json(target.string())},
               {"metrics", FamiliesJson(families)},
               {"findings", FindingsJson(report.status.findings)}});
    return kExitOk;
  }
  if (target.empty()) fmt::print("{}", text);
  return kExitOk;
}

}  // namespace atlas::cli
