#include <fmt/format.h>

#include "atlas/advice.h"
#include "cli/commands.h"

namespace atlas::cli {

int CmdInit(const CommandEnv& env, const InitArgs& args) {
  std::vector<std::filesystem::path> data(args.data.begin(), args.data.end());
  std::vector<std::filesystem::path> parity;
  for (const std::string& p : args.parity) {
    // A parity path that is an existing directory gets the default file name.
    Result<FileStat> st = FileSystem::Default()->Stat(p);
    bool is_dir = st.ok() && st->type == FileType::kDirectory;
    parity.push_back(is_dir ? std::filesystem::path(p) / "atlas.parity" : std::filesystem::path(p));
  }
  std::filesystem::path manifest = args.manifest.empty() ? std::string(kDefaultManifestPath) : args.manifest;
  Result<std::string> text = StarterConfig(data, parity, manifest);
  if (!text.ok()) return ReportError(env.global, "init", text.status());
  std::filesystem::path path = ConfigPath(env.global);
  // A bare file name ("-c atlas-scrub.toml") has no directory to create.
  Status s = path.has_parent_path() ? FileSystem::Default()->CreateDirs(path.parent_path()) : Status::Ok();
  if (s.ok()) s = WriteFileAtomic(FileSystem::Default(), path, *text, 0644, /*exclusive=*/true);
  if (s.code() == Code::kFailedPrecondition) {
    s = Status::InvalidArgument(fmt::format(
        "{} already exists; init never overwrites a config: edit it, or pass -c NEWPATH", path.string()));
  }
  if (!s.ok()) return ReportError(env.global, "init", s.WithContext("init"));
  if (env.global.json) {
    PrintJson({{"schema", 1}, {"command", "init"}, {"ok", true}, {"exit_code", 0}, {"config", path.string()},
               {"findings", nlohmann::json::array()}});
  } else if (!env.global.quiet) {
    const std::string program = "atlas-scrub" + (env.global.config.empty() ? "" : " -c " + env.global.config);
    fmt::print("wrote {}\nnext: review it, then run `{}`\n", path.string(), DriftNextStep(program));
  }
  return kExitOk;
}

}  // namespace atlas::cli
