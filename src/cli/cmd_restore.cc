// `restore-manifest [--from DIR]`: puts the newest trusted manifest copy in
// place. Copies in directories atlas cannot trust (manifest/copy_dir.h) are
// skipped, each with a line saying why; they are also the run's findings.
#include <fmt/format.h>

#include "atlas/advice.h"
#include "atlas/manifest.h"
#include "cli/commands.h"

namespace atlas::cli {

int CmdRestoreManifest(const CommandEnv& env, const RestoreArgs& args) {
  Result<Config> config = LoadConfigFor(env.global);
  if (!config.ok()) return ReportError(env.global, "restore-manifest", config.status());
  Result<std::unique_ptr<ManifestLock>> lock = ManifestLock::Acquire(config->manifest);
  if (!lock.ok()) return ReportError(env.global, "restore-manifest", lock.status());
  std::vector<Finding> skipped;
  Result<ManifestCopyInfo> used =
      RestoreManifest(config->manifest, config->manifest_copies, args.from, &skipped);
  if (!used.ok()) return ReportError(env.global, "restore-manifest", used.status().WithContext("restore-manifest"));
  std::string when = Rfc3339(used->timestamp_s * 1'000'000'000);
  const int code = ExitCodeForFindings(skipped);
  if (env.global.json) {
    PrintJson({{"schema", 1},
               {"command", "restore-manifest"},
               {"ok", true},
               {"exit_code", code},
               {"from", used->dir.string()},
               {"copy_time", when},
               {"manifest", config->manifest.string()},
               {"findings", FindingsJson(skipped)}});
  } else if (!env.global.quiet) {
    for (const Finding& f : skipped) {
      fmt::print("skipped the copy in {}: {}\n", DisplayPath(f.path), DisplayPath(f.message));
    }
    fmt::print("restored {} from the copy in {} (taken {})\nnext: run `atlas-scrub diff` to see what "
               "changed since then, then `{}`\n",
               config->manifest.string(), used->dir.string(), when, DriftNextStep("atlas-scrub"));
  }
  return code;
}

}  // namespace atlas::cli
