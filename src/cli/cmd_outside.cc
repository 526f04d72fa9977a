// `outside [--index FILE|-] [--all] PATH...`: runs on a compute host that
// mounts Atlas read-only, or is reached from Atlas, and usually has no config.
// The index comes from --index (- for standard input), or from the manifest
// copies of a config when one is given or installed.
//
// `outside` without PATH, on Atlas with [[outside.hosts]]: runs each host's
// command and stores what it reports (RunOutsideHosts).
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

#include "atlas/manifest.h"
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

// The array's own key, read from the manifest of `config` (on Atlas); nullopt
// when there is none here (a compute host has no manifest).
std::optional<std::string> LocalKey(const Config& config) {
  ManifestOptions ro;
  ro.read_only = true;
  Result<std::unique_ptr<Manifest>> m = OpenManifest(config.manifest, ro);
  if (!m.ok())
    return std::nullopt;
  Result<std::optional<OutsideKeyPair>> key = OutsideSigningKey(m->get(), /*create=*/false);
  if (!key.ok() || !*key)
    return std::nullopt;
  return (*key)->public_key;
}

int PrintKey(const CommandEnv& env) {
  Result<Config> config = LoadConfigFor(env.global);
  if (!config.ok())
    return ReportError(env.global, "outside", config.status());
  ManifestOptions ro;
  ro.read_only = true;
  ro.copy_dirs = config->manifest_copies;
  Result<std::unique_ptr<Manifest>> m = OpenManifest(config->manifest, ro);
  if (!m.ok())
    return ReportError(env.global, "outside", m.status());
  Result<std::optional<OutsideKeyPair>> key = OutsideSigningKey(m->get(), /*create=*/false);
  if (!key.ok())
    return ReportError(env.global, "outside", key.status());
  if (!*key) {
    return ReportError(env.global, "outside",
                       Status::FailedPrecondition("the array has no outside index key yet; run "
                                                  "`atlas-scrub sync`, which makes one"));
  }
  const std::string text = FormatOutsideKey((*key)->public_key);
  if (env.global.json) {
    PrintJson(
        {{"schema", 1}, {"command", "outside"}, {"ok", true}, {"exit_code", 0}, {"key", text}});
  } else {
    fmt::print("{}\n", text);
  }
  return kExitOk;
}

nlohmann::json ErrorsJson(const std::vector<OutsideError>& errors) {
  nlohmann::json arr = nlohmann::json::array();
  for (const OutsideError& e : errors) {
    arr.push_back({{"path", DisplayPath(e.path)}, {"message", DisplayPath(e.message)}});
  }
  return arr;
}

// The key an index must be signed with: --key, [outside] trusted_key, or
// on Atlas itself the array's own (from the manifest); empty for none.
Result<std::string> TrustedKey(const OutsideArgs& args, const std::optional<Config>& config) {
  std::string key_text = args.key;
  if (key_text.empty() && config)
    key_text = config->outside.trusted_key;
  if (!key_text.empty())
    return ParseOutsideKey(key_text);
  return config ? LocalKey(*config).value_or("") : std::string();
}

// The index to scan against: --index, or with a config and a trusted key the
// newest good one in its manifest copies. `index_path` is where it came from.
Result<OutsideIndex> FindIndex(const OutsideArgs& args, const std::optional<Config>& config,
                               const OutsideTrust& trust, std::filesystem::path* index_path) {
  *index_path = args.index;
  if (args.paths.empty())
    return Status::InvalidArgument("outside needs at least one PATH to scan (or --print-key)");
  if (args.index == "-")
    return ReadOutsideIndexFd(STDIN_FILENO, "standard input", trust);
  if (!args.index.empty())
    return ReadOutsideIndex(*index_path, trust);
  if (config && trust.trusted_key.empty()) {
    // An index found on a disk users can write is used only when its
    // signature can be checked; one named with --index is the user's choice.
    return Status::InvalidArgument(
        "no trusted key to check the outside index in the manifest copies with; give the key "
        "that `atlas-scrub outside --print-key` prints on Atlas with --key KEY or [outside] "
        "trusted_key, or name an index with --index FILE to use it unverified");
  }
  if (config)
    return FindOutsideIndex(config->manifest_copies, trust, index_path);
  return Status::InvalidArgument(fmt::format("outside needs --index FILE when there is no config "
                                             "({} does not exist): on a compute host, "
                                             "point it at the index sync writes on Atlas, e.g. "
                                             "--index /mnt/atlas/disk1/.atlas-scrub/outside.idx",
                                             kDefaultConfigPath));
}

// The warning for an index no trusted key verified; empty when verified.
std::string UnverifiedWarning(const OutsideIndex& index, const std::filesystem::path& index_path,
                              const std::string& signer) {
  if (index.verified())
    return "";
  return fmt::format(
      "index {} is not verified: no trusted key was given, so it may not come from "
      "Atlas ({}); pass --key with the key `atlas-scrub outside --print-key` prints "
      "on Atlas",
      DisplayPath(index_path.native()),
      signer.empty() ? "it is an unsigned version 1 index" : "it says it is signed by " + signer);
}

OutsideOptions ScanOptions(const OutsideArgs& args, const std::optional<Config>& config) {
  OutsideOptions options;
  // Findings name absolute paths, so a finding is the same whatever the
  // working directory of the run (alerts recognise it by its path).
  for (const std::string& p : args.paths) {
    std::error_code ec;
    std::filesystem::path abs = std::filesystem::absolute(p, ec);
    options.paths.push_back(ec ? std::filesystem::path(p) : abs);
  }
  options.all = args.all;
  options.media_extensions = config ? config->outside.media_extensions : OutsideConfig().media_extensions;
  return options;
}

// What one scan found, and against which index.
struct OutsideRun {
  const OutsideIndex& index;
  const std::filesystem::path& index_path;
  const std::string& signer;
  const OutsideReport& report;
  const Status& status;  // not OK: interrupted
  int code;
};

void PrintOutsideJson(const OutsideRun& r) {
  PrintJson({{"schema", 1},
             {"command", "outside"},
             {"ok", r.status.ok()},
             {"exit_code", r.code},
             {"interrupted", !r.status.ok()},
             {"index", DisplayPath(r.index_path.native())},
             {"index_created", Rfc3339(r.index.created_ns())},
             {"index_files", r.index.entries().size()},
             {"index_verified", r.index.verified()},
             {"index_key", r.signer.empty() ? nlohmann::json() : nlohmann::json(r.signer)},
             {"scanned_files", r.report.scanned_files},
             {"scanned_bytes", r.report.scanned_bytes},
             {"hashed_files", r.report.hashed_files},
             {"hashed_bytes", r.report.hashed_bytes},
             {"seconds", r.report.seconds},
             {"findings", FindingsJson(r.report.findings)},
             {"errors", ErrorsJson(r.report.errors)}});
}

void PrintOutsideText(const GlobalOptions& g, const OutsideRun& r) {
  const OutsideReport& report = r.report;
  if (!g.quiet) {
    fmt::print("outside: index {} ({} Atlas files, written {})\n", DisplayPath(r.index_path.native()),
               r.index.entries().size(), Rfc3339(r.index.created_ns()));
    double rate = report.seconds > 0 ? static_cast<double>(report.hashed_bytes) / report.seconds : 0;
    fmt::print(
        "outside: {} media files ({}) scanned, {} hashed ({}, {}/s) in {:.2f} s: {} only on this "
        "host, "
        "{} duplicates of Atlas files{}\n",
        report.scanned_files, HumanBytes(report.scanned_bytes), report.hashed_files,
        HumanBytes(report.hashed_bytes), HumanBytes(static_cast<std::uint64_t>(rate)), report.seconds,
        report.only_copy, report.duplicates,
        report.errors.empty() ? "" : fmt::format(", {} unreadable", report.errors.size()));
    PrintFindingsText(stdout, report.findings);
  }
  for (const OutsideError& e : report.errors) {
    fmt::print(stderr, "atlas-scrub: warning: not scanned: {}\n", DisplayPath(e.message));
  }
}

// What a host command may see of this run's environment: enough for ssh
// (HOME for its config and known_hosts, the agent socket) and nothing else.
std::vector<std::string> HostEnvironment() {
  std::vector<std::string> env;
  for (const char* name : {"PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "SSH_AUTH_SOCK"}) {
    if (const char* v = std::getenv(name))
      env.push_back(std::string(name) + "=" + v);
  }
  return env;
}

nlohmann::json HostsJson(const OutsideHostsReport& report) {
  nlohmann::json hosts = nlohmann::json::array();
  for (const OutsideHostResult& h : report.hosts) {
    const OutsideHostRecord& r = h.record;
    hosts.push_back({{"host", h.host},
                     {"reachable", h.reachable},
                     {"checked", r.checked_ns == 0 ? nlohmann::json() : nlohmann::json(Rfc3339(r.checked_ns))},
                     {"scanned_files", r.scanned_files},
                     {"only_copy", r.only_copy},
                     {"duplicates", r.duplicates},
                     {"error", r.error.empty() ? nlohmann::json() : nlohmann::json(DisplayPath(r.error))}});
  }
  return hosts;
}

int RunHosts(const CommandEnv& env, const Config& config, RunNotifier& notifier) {
  std::unique_ptr<ProgressSink> progress = MakeProgress(env.global);
  RunContext ctx{&config, FileSystem::Default(), Clock::Default(), progress.get(), env.stop};
  OutsideHostsOptions options;
  options.environment = HostEnvironment();
  OutsideHostsReport report;
  Status s = RunOutsideHosts(ctx, options, &report);
  if (!s.ok())
    return notifier.Finish({}, ReportError(env.global, "outside", s));
  const int code = ExitCodeForFindings(report.findings);
  if (env.global.json) {
    PrintJson({{"schema", 1},
               {"command", "outside"},
               {"ok", true},
               {"exit_code", code},
               {"hosts", HostsJson(report)},
               {"findings", FindingsJson(report.findings)}});
  } else if (!env.global.quiet) {
    for (const OutsideHostResult& h : report.hosts) {
      if (h.reachable) {
        fmt::print("outside {}: {} media files scanned: {} only on that host, {} duplicates of Atlas files\n",
                   h.host, h.record.scanned_files, h.record.only_copy, h.record.duplicates);
      } else {
        fmt::print("outside {}: unreachable: {}\n", h.host, DisplayPath(h.record.error));
      }
    }
    PrintFindingsText(stdout, report.findings);
  }
  return notifier.Finish(report.findings, code);
}

}  // namespace

int CmdOutside(const CommandEnv& env, const OutsideArgs& args) {
  if (args.print_key)
    return PrintKey(env);
  Result<std::optional<Config>> config = OptionalConfig(env.global);
  if (!config.ok())
    return ReportError(env.global, "outside", config.status());
  if (args.paths.empty() && args.index.empty() && *config && !(*config)->outside.hosts.empty()) {
    RunNotifier hosts_notifier(env, **config, "outside");
    return RunHosts(env, **config, hosts_notifier);
  }
  // With a config (on Atlas, or a compute host given one), findings alert
  // like any run's.
  std::optional<RunNotifier> notifier;
  if (*config) notifier.emplace(env, **config, "outside");
  auto finish = [&](const std::vector<Finding>& findings, int code) {
    return notifier ? notifier->Finish(findings, code) : code;
  };

  OutsideTrust trust;
  Result<std::string> key = TrustedKey(args, *config);
  if (!key.ok())
    return finish({}, ReportError(env.global, "outside", key.status()));
  trust.trusted_key = *key;
  std::filesystem::path index_path;
  Result<OutsideIndex> index = FindIndex(args, *config, trust, &index_path);
  if (!index.ok())
    return finish({}, ReportError(env.global, "outside", index.status()));
  const std::string signer = index->signer().empty() ? "" : FormatOutsideKey(index->signer());
  if (std::string w = UnverifiedWarning(*index, index_path, signer); !w.empty())
    fmt::print(stderr, "atlas-scrub: warning: {}\n", w);

  std::unique_ptr<ProgressSink> progress = MakeProgress(env.global);
  RunContext ctx{config->has_value() ? &**config : nullptr, FileSystem::Default(), Clock::Default(),
                 progress.get(), env.stop};
  OutsideReport report;
  Status s = RunOutside(ctx, *index, ScanOptions(args, *config), &report);
  if (!s.ok() && s.code() != Code::kCancelled)
    return finish(report.findings, ReportError(env.global, "outside", s));
  // The seed's rule checked where it can be: Atlas read-only on this host.
  std::vector<std::filesystem::path> atlas_mounts(args.atlas_mounts.begin(), args.atlas_mounts.end());
  if (*config)
    atlas_mounts.insert(atlas_mounts.end(), (*config)->outside.atlas_mounts.begin(),
                        (*config)->outside.atlas_mounts.end());
  for (std::filesystem::path& p : atlas_mounts) p = std::filesystem::absolute(p);
  Result<std::vector<Finding>> writable = WritableAtlasMounts(FileSystem::Default(), atlas_mounts);
  if (!writable.ok())
    return finish(report.findings, ReportError(env.global, "outside", writable.status()));
  report.findings.insert(report.findings.end(), writable->begin(), writable->end());

  // The run's result, decided in one place: its findings and exit code (an
  // interrupted scan is exit 3 with what it decided so far).
  const int code = s.ok() ? ExitCodeForFindings(report.findings) : ExitCodeFor(s);
  const OutsideRun run{*index, index_path, signer, report, s, code};
  if (env.global.json) {
    PrintOutsideJson(run);
  } else {
    PrintOutsideText(env.global, run);
  }
  if (!s.ok() && !env.global.json)
    fmt::print(stderr, "atlas-scrub: {}\n", s.ToString());
  return finish(report.findings, code);
}

}  // namespace atlas::cli
