// scrub and check: the same verification, rendered the same way.
#include <fmt/format.h>

#include "atlas/advice.h"
#include "cli/commands.h"
#include "cli/run_disks.h"
#include "cli/run_notifier.h"

namespace atlas::cli {
namespace {

int Render(const CommandEnv& env, std::string_view command, const Status& s, const VerifyReport& r, const RunDisks& disks) {
  if (!s.ok() && s.code() != Code::kCancelled) return ReportError(env.global, command, s, r.findings);
  int code = s.ok() ? ExitCodeForFindings(r.findings) : ExitCodeFor(s);
  if (env.global.json) {
    nlohmann::json doc = {{"schema", 1},
               {"command", command},
               {"ok", s.ok()},
               {"exit_code", code},
               {"interrupted", !s.ok()},
               {"positions_selected", r.positions_selected},
               {"positions_verified", r.positions_verified},
               {"positions_bad", r.positions_bad},
               {"positions_skipped", r.positions_skipped},
               {"bytes_read", r.bytes_read},
               {"seconds", r.seconds},
               {"disks_given_up", r.disks_given_up},
               {"findings", FindingsJson(r.findings)}};
    disks.AddJson(&doc);
    PrintJson(doc);
    return code;
  }
  if (!env.global.quiet) {
    double rate = r.seconds > 0 ? static_cast<double>(r.bytes_read) / r.seconds : 0;
    fmt::print("{}: {} of {} positions verified, {} bad, {} skipped (not synced); {} read in {:.2f} s ({}/s)\n",
               command, r.positions_verified, r.positions_selected, r.positions_bad, r.positions_skipped,
               HumanBytes(r.bytes_read), r.seconds, HumanBytes(static_cast<std::uint64_t>(rate)));
    std::vector<Finding> shown;
    for (const Finding& f : r.findings) {
      if (f.severity >= Severity::kWarning || env.global.verbose) shown.push_back(f);
    }
    PrintFindingsText(stdout, shown);
    disks.PrintText();
    if (code == kExitAttention) fmt::print("{}: next: {}\n", command, NextStepSummary(r.findings, "atlas-scrub"));
  }
  if (!s.ok()) fmt::print(stderr, "atlas-scrub: {}\n", s.ToString());
  return code;
}

}  // namespace

int CmdScrub(const CommandEnv& env, const ScrubArgs& args) {
  Result<Config> config = LoadConfigFor(env.global);
  if (!config.ok()) return ReportError(env.global, "scrub", config.status());
  RunNotifier notifier(env, *config, "scrub");
  ScrubOptions options;
  if (args.plan == "new") options.plan = ScrubPlan::kNew;
  if (args.plan == "bad") options.plan = ScrubPlan::kBad;
  if (args.plan == "full") options.plan = ScrubPlan::kFull;
  if (args.percent >= 0) options.percent = args.percent;
  if (args.older_than_days >= 0) options.older_than_s = static_cast<std::int64_t>(args.older_than_days * 86400);
  std::unique_ptr<ProgressSink> progress = MakeProgress(env.global);
  RunContext ctx{&*config, FileSystem::Default(), Clock::Default(), progress.get(), env.stop};
  RunDisks disks(env, *config, "scrub");
  disks.Begin(&ctx);
  VerifyReport report;
  Status s = RunScrub(ctx, options, &report);
  disks.Finish(&report.findings);
  return notifier.Finish(report.findings, Render(env, "scrub", s, report, disks));
}

int CmdCheck(const CommandEnv& env, const CheckArgs& args) {
  Result<Config> config = LoadConfigFor(env.global);
  if (!config.ok()) return ReportError(env.global, "check", config.status());
  RunNotifier notifier(env, *config, "check");
  notifier.set_covers_scope(args.disks.empty() && args.filters.empty());
  CheckOptions options;
  options.disks = args.disks;
  options.filters = args.filters;
  std::unique_ptr<ProgressSink> progress = MakeProgress(env.global);
  RunContext ctx{&*config, FileSystem::Default(), Clock::Default(), progress.get(), env.stop};
  RunDisks disks(env, *config, "check");
  disks.Begin(&ctx);
  VerifyReport report;
  Status s = RunCheck(ctx, options, &report);
  disks.Finish(&report.findings);
  return notifier.Finish(report.findings, Render(env, "check", s, report, disks));
}

}  // namespace atlas::cli
