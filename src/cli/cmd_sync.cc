#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/run_disks.h"
#include "cli/run_notifier.h"

namespace atlas::cli {

namespace {

int Render(const CommandEnv& env, const Status& s, const SyncReport& report, const RunDisks& disks) {
  if (!s.ok() && s.code() != Code::kCancelled) {
    return ReportError(env.global, "sync", s, report.findings);
  }
  int code = s.ok() ? ExitCodeForFindings(report.findings) : ExitCodeFor(s);
  if (env.global.json) {
    nlohmann::json doc = {{"schema", 1},
               {"command", "sync"},
               {"ok", s.ok()},
               {"exit_code", code},
               {"interrupted", !s.ok()},
               {"nothing_to_do", report.nothing_to_do},
               {"drift", DriftJson(report.drift)},
               {"bytes_hashed", report.bytes_hashed},
               {"positions_synced", report.positions_synced},
               {"positions_left", report.positions_left},
               {"seconds", report.seconds},
               {"drift_truncated", report.drift_truncated},
               {"findings", FindingsJson(report.findings)}};
    disks.AddJson(&doc);
    PrintJson(doc);
    return code;
  }
  if (!env.global.quiet) {
    if (report.nothing_to_do) {
      fmt::print("sync: nothing to do, parity is up to date ({:.2f} s)\n", report.seconds);
    } else {
      const DriftCounts& d = report.drift;
      double rate = report.seconds > 0 ? static_cast<double>(report.bytes_hashed) / report.seconds : 0;
      fmt::print("sync: {} added, {} modified, {} deleted, {} moved{}; {} hashed in {:.2f} s ({}/s)\n",
                 d.added, d.modified, d.deleted, d.moved, EntryDriftText(d), HumanBytes(report.bytes_hashed),
                 report.seconds, HumanBytes(static_cast<std::uint64_t>(rate)));
      if (report.positions_left > 0) {
        fmt::print("sync: {} positions are not protected yet; {}\n", report.positions_left,
                   s.ok() ? "see the findings below, then sync again" : "run sync again to finish");
      } else {
        fmt::print("sync: parity is up to date\n");
      }
    }
    std::vector<Finding> shown;
    for (const Finding& f : report.findings) {
      if (f.severity >= Severity::kWarning || env.global.verbose) shown.push_back(f);
    }
    PrintFindingsText(stdout, shown);
    disks.PrintText();
  }
  if (!s.ok()) fmt::print(stderr, "atlas-scrub: {}\n", s.ToString());
  return code;
}

}  // namespace

int CmdSync(const CommandEnv& env, const SyncArgs& args) {
  Result<Config> config = LoadConfigFor(env.global);
  if (!config.ok()) return ReportError(env.global, "sync", config.status());
  RunNotifier notifier(env, *config, "sync");
  std::unique_ptr<ProgressSink> progress = MakeProgress(env.global);
  RunContext ctx{&*config, FileSystem::Default(), Clock::Default(), progress.get(), env.stop};
  RunDisks disks(env, *config, "sync");
  disks.Begin(&ctx);
  SyncOptions options;
  options.force_empty = args.force_empty;
  options.force_delete = args.force_delete;
  options.force_zero = args.force_zero;
  options.force_modified = args.force_modified;
  options.force_move = args.force_move;
  SyncReport report;
  Status s = RunSync(ctx, options, &report);
  disks.Finish(&report.findings);
  return notifier.Finish(report.findings, Render(env, s, report, disks));
}

}  // namespace atlas::cli
