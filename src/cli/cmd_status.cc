#include <fmt/format.h>

#include "cli/commands.h"

namespace atlas::cli {
namespace {

nlohmann::json StatusJson(const StatusReport& r) {
  nlohmann::json disks = nlohmann::json::array();
  for (const DiskStatus& d : r.disks) {
    disks.push_back({{"name", d.name},
                     {"role", d.role},
                     {"path", DisplayPath(d.path)},
                     {"device", d.device},
                     {"model", d.model},
                     {"serial", d.serial},
                     {"fs_uuid", d.fs_uuid},
                     {"mounted", d.mounted},
                     {"smart", d.smart},
                     {"files", d.files},
                     {"bytes", d.bytes}});
  }
  auto time_or_null = [](const std::optional<std::int64_t>& ns) {
    return ns ? nlohmann::json(Rfc3339(*ns)) : nlohmann::json(nullptr);
  };
  return {{"schema", 1},
          {"command", "status"},
          {"ok", true},
          {"health", HealthName(r.health)},
          {"exit_code", ExitCodeForFindings(r.findings)},
          {"array",
           {{"data_disks", r.data_disks},
            {"parity_levels", r.parity_levels},
            {"files", r.files},
            {"bytes", r.bytes},
            {"block_size", r.block_size},
            {"blocks", r.blocks}}},
          {"last_sync", time_or_null(r.last_sync_ns)},
          {"last_scrub", time_or_null(r.last_scrub_ns)},
          {"scrub", {{"verified_pct_30d", r.verified_pct_30d}, {"oldest_unverified_days", r.oldest_unverified_days}}},
          {"drift", DriftJson(r.drift)},
          {"drift_walk", r.drift_walk},
          {"drift_files_walked", r.drift_files_walked},
          {"positions_unsynced", r.positions_unsynced},
          {"disks", disks},
          {"findings", FindingsJson(r.findings)}};
}

}  // namespace

int CmdStatus(const CommandEnv& env) { return CmdStatus(env, StatusArgs()); }

int CmdStatus(const CommandEnv& env, const StatusArgs& args) {
  Result<Config> config = LoadConfigFor(env.global);
  if (!config.ok()) return ReportError(env.global, "status", config.status());
  std::unique_ptr<ProgressSink> progress = MakeProgress(env.global);
  RunContext ctx{&*config, FileSystem::Default(), Clock::Default(), progress.get(), env.stop};
  StatusOptions options;
  if (args.full_drift) options.drift = DriftWalk::kFull;
  if (args.no_drift) options.drift = DriftWalk::kNone;
  StatusReport r;
  Status s = BuildStatus(ctx, options, &r);
  if (!s.ok()) return ReportError(env.global, "status", s);
  int code = ExitCodeForFindings(r.findings);
  if (env.global.json) {
    PrintJson(StatusJson(r));
    return code;
  }
  if (env.global.quiet) return code;
  std::size_t attention = 0;
  for (const Finding& f : r.findings) attention += f.severity >= Severity::kWarning ? 1 : 0;
  fmt::print("atlas-scrub: {}{}\n", HealthName(r.health),
             attention == 0 ? "" : fmt::format(" ({} {} attention)", attention, attention == 1 ? "finding needs" : "findings need"));
  if (!r.findings.empty()) PrintFindingsText(stdout, r.findings);
  fmt::print("array:     {} data disks, {} parity level{}, {} files, {}, block {}\n", r.data_disks,
             r.parity_levels, r.parity_levels == 1 ? "" : "s", r.files, HumanBytes(r.bytes),
             HumanBinary(r.block_size));
  fmt::print("last sync: {}\n", r.last_sync_ns ? Rfc3339(*r.last_sync_ns) : "never");
  fmt::print("scrub:     last {}, {:.1f}% verified in 30 days, oldest {} days\n",
             r.last_scrub_ns ? Rfc3339(*r.last_scrub_ns) : "never", r.verified_pct_30d,
             r.oldest_unverified_days);
  const DriftCounts& d = r.drift;
  if (r.drift_walk == "skipped") {
    fmt::print("drift:     not walked (--no-drift); {} unsynced positions\n", r.positions_unsynced);
  } else if (r.drift_walk == "partial") {
    fmt::print("drift:     partial: {} files walked in the time limit: {} added, {} modified, {} moved, "
               "{} unsynced positions; `atlas-scrub diff` or `status --full-drift` walks everything\n",
               r.drift_files_walked, d.added, d.modified, d.moved, r.positions_unsynced);
  } else if (!r.synced_ever) {
    fmt::print("drift:     never synced: {} files not protected; run `atlas-scrub sync`\n", d.added);
  } else if (d.Changes() + r.positions_unsynced == 0) {
    fmt::print("drift:     none, parity is up to date\n");
  } else {
    fmt::print("drift:     {} added, {} modified, {} deleted, {} moved, {} unsynced positions: run "
               "`atlas-scrub sync`\n",
               d.added, d.modified, d.deleted, d.moved, r.positions_unsynced);
  }
  fmt::print("disks:\n");
  for (const DiskStatus& disk : r.disks) {
    fmt::print("  {:<8} {:<6} {:<7} {:<12} smart {:<8} {}\n", disk.name, disk.role,
               disk.mounted ? "ok" : "MISSING", disk.device.empty() ? "-" : disk.device, disk.smart,
               DisplayPath(disk.path));
  }
  return code;
}

}  // namespace atlas::cli
