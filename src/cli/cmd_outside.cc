// `outside [--index FILE] [--all] PATH...`: runs on a compute host that mounts
// Atlas read-only and usually has no config. The index comes from --index, or
// from the manifest copies of a config when one is given or installed.
#include <fmt/format.h>

#include "atlas/outside.h"

#include "cli/commands.h"
#include "cli/run_notifier.h"

namespace atlas::cli {
namespace {

// The config of this run: the one named by -c or $ATLAS_SCRUB_CONFIG (an
// error if it does not load), else the default path if it exists, else none.
Result<std::optional<Config>> OptionalConfig(const GlobalOptions& g) {
  const std::filesystem::path path = ConfigPath(g);
  const bool named = path != std::filesystem::path(std::string(kDefaultConfigPath));
  if (!named) {
    Result<FileStat> st = FileSystem::Default()->Stat(path);
    if (!st.ok() && st.status().code() == Code::kNotFound)
      return std::optional<Config>();
  }
  ATLAS_ASSIGN_OR_RETURN(Config config, LoadConfigFor(g));
  return std::optional<Config>(std::move(config));
}

nlohmann::json ErrorsJson(const std::vector<OutsideError>& errors) {
  nlohmann::json arr = nlohmann::json::array();
  for (const OutsideError& e : errors) {
    arr.push_back({{"path", DisplayPath(e.path)}, {"message", DisplayPath(e.message)}});
  }
  return arr;
}

}  // namespace

int CmdOutside(const CommandEnv& env, const OutsideArgs& args) {
  Result<std::optional<Config>> config = OptionalConfig(env.global);
  if (!config.ok())
    return ReportError(env.global, "outside", config.status());
  // With a config (on Atlas, or a compute host given one), findings alert
  // like any run's.
  std::optional<RunNotifier> notifier;
  if (*config) notifier.emplace(env, **config, "outside");
  auto finish = [&](const std::vector<Finding>& findings, int code) {
    return notifier ? notifier->Finish(findings, code) : code;
  };

  std::filesystem::path index_path = args.index;
  Result<OutsideIndex> index = Status::Internal("no index");
  if (!args.index.empty()) {
    index = ReadOutsideIndex(FileSystem::Default(), index_path);
  } else if (*config) {
    index = FindOutsideIndex(FileSystem::Default(), (*config)->manifest_copies, &index_path);
  } else {
    index =
        Status::InvalidArgument(fmt::format("outside needs --index FILE when there is no config "
                                            "({} does not exist): on a compute host, "
                                            "point it at the index sync writes on Atlas, e.g. "
                                            "--index /mnt/atlas/disk1/.atlas-scrub/outside.idx",
                                            kDefaultConfigPath));
  }
  if (!index.ok())
    return finish({}, ReportError(env.global, "outside", index.status()));

  OutsideOptions options;
  // Findings name absolute paths, so a finding is the same whatever the
  // working directory of the run (alerts recognise it by its path).
  for (const std::string& p : args.paths) {
    std::error_code ec;
    std::filesystem::path abs = std::filesystem::absolute(p, ec);
    options.paths.push_back(ec ? std::filesystem::path(p) : abs);
  }
  options.all = args.all;
  options.media_extensions =
      *config ? (*config)->outside.media_extensions : OutsideConfig().media_extensions;
  std::unique_ptr<ProgressSink> progress = MakeProgress(env.global);
  RunContext ctx{config->has_value() ? &**config : nullptr, FileSystem::Default(), Clock::Default(),
                 progress.get(), env.stop};
  OutsideReport report;
  Status s = RunOutside(ctx, *index, options, &report);
  if (!s.ok() && s.code() != Code::kCancelled)
    return finish(report.findings, ReportError(env.global, "outside", s));

  // The run's result, decided in one place: its findings and exit code (an
  // interrupted scan is exit 3 with what it decided so far).
  const std::vector<Finding>& findings = report.findings;
  const int code = s.ok() ? ExitCodeForFindings(findings) : ExitCodeFor(s);

  if (env.global.json) {
    PrintJson({{"schema", 1},
               {"command", "outside"},
               {"ok", s.ok()},
               {"exit_code", code},
               {"interrupted", !s.ok()},
               {"index", DisplayPath(index_path.native())},
               {"index_created", Rfc3339(index->created_ns())},
               {"index_files", index->entries().size()},
               {"scanned_files", report.scanned_files},
               {"scanned_bytes", report.scanned_bytes},
               {"hashed_files", report.hashed_files},
               {"hashed_bytes", report.hashed_bytes},
               {"seconds", report.seconds},
               {"findings", FindingsJson(findings)},
               {"errors", ErrorsJson(report.errors)}});
  } else {
    if (!env.global.quiet) {
      fmt::print("outside: index {} ({} Atlas files, written {})\n",
                 DisplayPath(index_path.native()), index->entries().size(),
                 Rfc3339(index->created_ns()));
      double rate =
          report.seconds > 0 ? static_cast<double>(report.hashed_bytes) / report.seconds : 0;
      fmt::print(
          "outside: {} media files ({}) scanned, {} hashed ({}, {}/s) in {:.2f} s: {} only on this "
          "host, "
          "{} duplicates of Atlas files{}\n",
          report.scanned_files, HumanBytes(report.scanned_bytes), report.hashed_files,
          HumanBytes(report.hashed_bytes), HumanBytes(static_cast<std::uint64_t>(rate)),
          report.seconds, report.only_copy, report.duplicates,
          report.errors.empty() ? "" : fmt::format(", {} unreadable", report.errors.size()));
      PrintFindingsText(stdout, findings);
    }
    for (const OutsideError& e : report.errors) {
      fmt::print(stderr, "atlas-scrub: warning: not scanned: {}\n", DisplayPath(e.message));
    }
  }
  if (!s.ok() && !env.global.json)
    fmt::print(stderr, "atlas-scrub: {}\n", s.ToString());
  return finish(findings, code);
}

}  // namespace atlas::cli
