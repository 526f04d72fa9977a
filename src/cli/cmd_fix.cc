#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/run_disks.h"
#include "cli/run_notifier.h"

namespace atlas::cli {

namespace {

int Render(const CommandEnv& env, const FixArgs& args, const Status& s, const FixReport& r, const RunDisks& disks) {
  if (!s.ok() && s.code() != Code::kCancelled) return ReportError(env.global, "fix", s, r.findings);
  int code = s.ok() ? ExitCodeForFindings(r.findings) : ExitCodeFor(s);
  if (env.global.json) {
    nlohmann::json doc = {{"schema", 1},
               {"command", "fix"},
               {"ok", s.ok()},
               {"exit_code", code},
               {"interrupted", !s.ok()},
               {"dry_run", args.dry_run},
               {"files_repaired", r.files_repaired},
               {"files_unrecoverable", r.files_unrecoverable},
               {"blocks_recovered", r.blocks_recovered},
               {"bytes_recovered", r.bytes_recovered},
               {"parity_blocks_repaired", r.parity_blocks_repaired},
               {"entries_restored", r.entries_restored},
               {"bytes_read", r.bytes_read},
               {"seconds", r.seconds},
               {"actions", [&] {
                  nlohmann::json a = nlohmann::json::array();
                  for (const std::string& line : r.actions) a.push_back(DisplayPath(line));
                  return a;
                }()},
               {"findings", FindingsJson(r.findings)}};
    disks.AddJson(&doc);
    PrintJson(doc);
    return code;
  }
  if (!env.global.quiet) {
    for (const std::string& line : r.actions) fmt::print("{}{}\n", args.dry_run ? "would " : "", line);
    double rate = r.seconds > 0 ? static_cast<double>(r.bytes_recovered) / r.seconds : 0;
    fmt::print("fix{}: {} files {}, {} unrecoverable, {} parity blocks {}{}; {} rebuilt in {:.2f} s ({}/s "
               "recovered)\n",
               args.dry_run ? " --dry-run" : "", r.files_repaired, args.dry_run ? "to repair" : "repaired",
               r.files_unrecoverable, r.parity_blocks_repaired, args.dry_run ? "to rewrite" : "rewritten",
               r.entries_restored == 0
                   ? std::string()
                   : fmt::format(", {} links, symlinks, directories and special files {}", r.entries_restored,
                                 args.dry_run ? "to restore" : "restored"),
               HumanBytes(r.bytes_recovered), r.seconds, HumanBytes(static_cast<std::uint64_t>(rate)));
    std::vector<Finding> shown;
    for (const Finding& f : r.findings) {
      if (f.severity >= Severity::kWarning || env.global.verbose) shown.push_back(f);
    }
    PrintFindingsText(stdout, shown);
    disks.PrintText();
  }
  if (!s.ok()) fmt::print(stderr, "atlas-scrub: {}\n", s.ToString());
  return code;
}

}  // namespace

int CmdFix(const CommandEnv& env, const FixArgs& args) {
  Result<Config> config = LoadConfigFor(env.global);
  if (!config.ok()) return ReportError(env.global, "fix", config.status());
  // A dry run changes nothing, so it alerts like any other run of fix but
  // is one "fix" for the alert state as well.
  RunNotifier notifier(env, *config, "fix");
  notifier.set_covers_scope(args.disks.empty() && args.filters.empty());
  FixOptions options;
  options.disks = args.disks;
  options.filters = args.filters;
  options.dry_run = args.dry_run;
  options.errors_only = args.errors_only;
  std::unique_ptr<ProgressSink> progress = MakeProgress(env.global);
  RunContext ctx{&*config, FileSystem::Default(), Clock::Default(), progress.get(), env.stop};
  RunDisks disks(env, *config, "fix");
  disks.Begin(&ctx);
  FixReport r;
  Status s = RunFix(ctx, options, &r);
  disks.Finish(&r.findings);
  return notifier.Finish(r.findings, Render(env, args, s, r, disks));
}

}  // namespace atlas::cli
