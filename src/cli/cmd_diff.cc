#include <algorithm>
#include <iterator>
#include <string_view>

#include <fmt/format.h>

#include "atlas/advice.h"
#include "cli/commands.h"

namespace atlas::cli {

int CmdDiff(const CommandEnv& env) {
  Result<Config> config = LoadConfigFor(env.global);
  if (!config.ok()) return ReportError(env.global, "diff", config.status());
  std::unique_ptr<ProgressSink> progress = MakeProgress(env.global);
  RunContext ctx{&*config, FileSystem::Default(), Clock::Default(), progress.get(), env.stop};
  DiffReport report;
  Status s = RunDiff(ctx, DiffOptions(), &report);
  if (!s.ok()) return ReportError(env.global, "diff", s, report.findings);
  int code = ExitCodeForFindings(report.findings);
  if (env.global.json) {
    PrintJson({{"schema", 1},
               {"command", "diff"},
               {"ok", true},
               {"exit_code", code},
               {"drift", DriftJson(report.drift)},
               {"positions_unsynced", report.positions_unsynced},
               {"findings", FindingsJson(report.findings)}});
    return code;
  }
  if (env.global.quiet) return code;
  for (const Finding& f : report.findings) {
    std::string where = f.disk + (f.path.empty() ? "" : ":" + DisplayPath(f.path));
    if (f.kind == FindingKind::kMoved) {
      fmt::print("{:<9} {} -> {}\n", "moved", DisplayPath(f.from), where);
    } else if (f.severity == Severity::kInfo && f.kind != FindingKind::kSharedFilesystem) {
      // Entries and metadata say what they are; a file's add/modify/delete
      // needs no words.
      static constexpr std::string_view kWorded[] = {"directory ", "symlink ",          "hard link ",
                                                     "FIFO ",      "socket ",           "character device ",
                                                     "block device ", "metadata changed"};
      const bool worded = std::any_of(std::begin(kWorded), std::end(kWorded),
                                      [&](std::string_view w) { return f.message.starts_with(w); });
      if (worded) {
        fmt::print("{:<9} {}  ({})\n", KindName(f.kind), where, DisplayPath(f.message));
      } else {
        fmt::print("{:<9} {}\n", KindName(f.kind), where);
      }
    } else {
      PrintFindingsText(stdout, {f});
    }
  }
  const DriftCounts& d = report.drift;
  const std::string entries = EntryDriftText(d);
  fmt::print("diff: {} unchanged, {} added, {} modified, {} deleted, {} moved{}{}\n", d.unchanged, d.added,
             d.modified, d.deleted, d.moved, entries,
             d.Changes() + report.positions_unsynced == 0 ? "; nothing to sync"
                                                            : fmt::format("; run `{}`", DriftNextStep("atlas-scrub")));
  if (report.positions_unsynced > 0) {
    fmt::print("diff: {} positions were left unsynced by an interrupted sync\n", report.positions_unsynced);
  }
  return code;
}

}  // namespace atlas::cli
