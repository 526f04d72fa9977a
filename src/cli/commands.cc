// The command table and argument parsing. CLI11 is header-only and slow to
// compile, so it lives in this one translation unit.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"

namespace atlas::cli {
namespace {

const std::string kVersion = std::string("atlas-scrub ") + kVersionNumber;

struct Command {
  const char* name;
  const char* help;
};
constexpr Command kCommands[] = {
    {"init", "write a starter config from --data PATH... and --parity PATH...; never overwrites"},
    {"sync", "bring the manifest and parity up to date with the data disks"},
    {"diff", "list drift since the last sync (added, modified, deleted, moved); changes nothing"},
    {"status", "one-glance health: array, last sync, scrub coverage, open findings, drift"},
    {"scrub", "verify part of the array against checksums and parity, oldest first"},
    {"check", "verify everything (or --disk/--filter) without recording a scrub"},
    {"fix", "repair from parity: corruption, read errors, deleted files, replaced disks, parity"},
    {"restore-manifest", "restore the manifest from the newest copy in manifest_copies"},
    {"disks", "the block devices behind the array: mount, device, model, serial, WWN, size, UUID"},
    {"metrics", "Prometheus text exposition; --textfile DIR writes DIR/atlas_scrub.prom atomically"},
    {"alert", "alerts: `alert test` sends a test message through every configured channel"},
    {"outside", "find media under PATH... (on a compute host, or on each [[outside.hosts]] from Atlas) that is not on Atlas or duplicates it"},
    {"smart", "SMART health and trend of each disk; --input FILE... reads saved smartctl --json or skdump files"},
};

const char* CommandHelp(std::string_view name) {
  for (const Command& c : kCommands) {
    if (name == c.name) return c.help;
  }
  return "";
}

std::string CommandList() {
  std::string out;
  for (const Command& c : kCommands) out += (out.empty() ? "" : ", ") + std::string(c.name);
  return out;
}

// Every command's arguments, filled in by CLI11 while it parses.
struct Args {
  InitArgs init;
  SyncArgs sync;
  StatusArgs status;
  ScrubArgs scrub;
  CheckArgs check;
  FixArgs fix;
  RestoreArgs restore;
  MetricsArgs metrics;
  OutsideArgs outside;
  SmartArgs smart;
};

void AddGlobalOptions(CLI::App& app, GlobalOptions* g) {
  app.set_version_flag("-V,--version", kVersion);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("-c,--config", g->config,
                 "config file (default: $ATLAS_SCRUB_CONFIG, then /etc/atlas-scrub/atlas-scrub.toml)");
  app.add_flag("--json", g->json, "print one JSON document on stdout");
  auto* quiet = app.add_flag("-q,--quiet", g->quiet, "print only errors");
  app.add_flag("-v,--verbose", g->verbose, "print notes while working")->excludes(quiet);
  app.add_flag("--no-progress", g->no_progress, "no progress line on a terminal");
}

// init, sync, diff and status.
void AddSyncCommands(CLI::App& app, Args* a) {
  CLI::App* init = app.add_subcommand("init", CommandHelp("init"));
  init->add_option("--data", a->init.data, "mount path of a data disk (repeat)")->required()->expected(1, -1);
  init->add_option("--parity", a->init.parity, "parity file, or directory for it (repeat, 1 to 6)")
      ->required()->expected(1, -1);
  init->add_option("--manifest", a->init.manifest, "manifest directory (default /var/lib/atlas-scrub/manifest)");

  CLI::App* sync = app.add_subcommand("sync", CommandHelp("sync"));
  sync->add_flag("--force-empty", a->sync.force_empty, "sync even though a disk that held files is empty");
  sync->add_flag("--force-delete", a->sync.force_delete, "sync even though deletions exceed [guards]");
  sync->add_flag("--force-zero,-Z", a->sync.force_zero, "sync even though files that held data are now 0 bytes");
  sync->add_flag("--force-modified", a->sync.force_modified,
                 "sync even though modifications exceed [guards] max_modified");
  sync->add_flag("--force-move", a->sync.force_move,
                 "sync even though files moved across disks no longer match their checksums");

  app.add_subcommand("diff", CommandHelp("diff"));
  CLI::App* status = app.add_subcommand("status", CommandHelp("status"));
  auto* full_drift = status->add_flag("--full-drift", a->status.full_drift,
                                      "walk every disk for drift however long it takes (default: stop after 0.3 s)");
  status->add_flag("--no-drift", a->status.no_drift, "no drift walk: answer from the manifest alone")
      ->excludes(full_drift);
}

// scrub, check, fix and restore-manifest.
void AddVerifyCommands(CLI::App& app, Args* a) {
  CLI::App* scrub = app.add_subcommand("scrub", CommandHelp("scrub"));
  scrub->add_option("--plan", a->scrub.plan, "new | bad | full (default: oldest share, see [scrub])")
      ->check(CLI::IsMember({"new", "bad", "full"}));
  auto* percent = scrub->add_option("--percent", a->scrub.percent, "share of the array to verify, 0-100")
                      ->check(CLI::Range(0.0, 100.0));
  auto* older = scrub->add_option("--older-than", a->scrub.older_than_days, "only blocks not verified for DAYS")
                    ->check(CLI::NonNegativeNumber);
  percent->excludes("--plan");
  older->excludes("--plan");

  CLI::App* check = app.add_subcommand("check", CommandHelp("check"));
  check->add_option("--disk", a->check.disks, "only this data disk (repeat)");
  check->add_option("--filter", a->check.filters, "only files whose path matches this glob (repeat)");

  CLI::App* fix = app.add_subcommand("fix", CommandHelp("fix"));
  fix->add_option("--disk", a->fix.disks, "only this data disk or parity level, e.g. a replaced disk (repeat)");
  fix->add_option("--filter", a->fix.filters, "only files whose path matches this glob (repeat)");
  fix->add_flag("--dry-run", a->fix.dry_run, "say what would be repaired, write nothing");
  fix->add_flag("--errors-only", a->fix.errors_only, "repair only what reads back wrong; never recreate deleted files");

  CLI::App* restore = app.add_subcommand("restore-manifest", CommandHelp("restore-manifest"));
  restore->add_option("--from", a->restore.from, "restore from this manifest_copies directory");
}

// disks, metrics, alert test, outside and smart.
void AddReportCommands(CLI::App& app, Args* a) {
  app.add_subcommand("disks", CommandHelp("disks"));
  CLI::App* metrics = app.add_subcommand("metrics", CommandHelp("metrics"));
  metrics->add_option("--textfile", a->metrics.textfile,
                      "write DIR/atlas_scrub.prom atomically (node_exporter textfile collector)");
  CLI::App* alert = app.add_subcommand("alert", CommandHelp("alert"));
  alert->require_subcommand(1);
  alert->add_subcommand("test", "send a test message through every configured channel; say which took it");

  CLI::App* outside = app.add_subcommand("outside", CommandHelp("outside"));
  outside->add_option("--index", a->outside.index,
                      "the outside.idx that sync writes (default: in the config's manifest_copies)");
  outside->add_flag("--all", a->outside.all, "consider every file, not only [outside] media_extensions");
  outside->add_option("--key", a->outside.key,
                      "the public key the index must be signed with (default: [outside] trusted_key)");
  outside->add_flag("--print-key", a->outside.print_key,
                    "on Atlas: print the key that sync signs the index with, for --key on a compute host");
  outside->add_option("--atlas-mount", a->outside.atlas_mounts,
                      "where Atlas is mounted on this host: warn when it is writable (also [outside] atlas_mounts)")
      ->allow_extra_args(false);
  outside->add_option("paths", a->outside.paths, "directories or files to scan")->expected(0, -1);

  CLI::App* smart = app.add_subcommand("smart", CommandHelp("smart"));
  smart->add_option("--input", a->smart.inputs,
                    "judge a saved `smartctl --json` output or libatasmart blob instead of devices; "
                    "NAME=FILE stores it as disk NAME's reading (repeat)")
      ->expected(1, -1);
}

// The parse error as the user sees it: an unknown command named plainly
// with the valid ones, as JSON with --json; exit 2.
int ReportParseError(const CLI::ParseError& e, int argc, char** argv) {
  std::string msg = e.what();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.empty() || a[0] == '-') {
      if (a == "-c" || a == "--config") ++i;
      continue;
    }
    bool known = false;
    for (const Command& c : kCommands) known = known || a == c.name;
    if (!known) msg = fmt::format("unknown command '{}'; commands are: {}", a, CommandList());
    break;
  }
  bool json = false;
  for (int i = 1; i < argc; ++i) json = json || std::string(argv[i]) == "--json";
  if (json) {
    GlobalOptions g;
    g.json = true;
    return ReportError(g, "", Status::InvalidArgument(msg + "; run 'atlas-scrub --help' for usage"));
  }
  fmt::print(stderr, "atlas-scrub: error: {}\nRun 'atlas-scrub --help' for usage.\n", msg);
  return kExitUsage;
}

// Runs the command that was parsed.
int Dispatch(const CLI::App& app, const CommandEnv& env, const Args& a) {
  if (app.got_subcommand("init")) return CmdInit(env, a.init);
  if (app.got_subcommand("sync")) return CmdSync(env, a.sync);
  if (app.got_subcommand("diff")) return CmdDiff(env);
  if (app.got_subcommand("status")) return CmdStatus(env, a.status);
  if (app.got_subcommand("disks")) return CmdDisks(env);
  if (app.got_subcommand("scrub")) return CmdScrub(env, a.scrub);
  if (app.got_subcommand("check")) return CmdCheck(env, a.check);
  if (app.got_subcommand("fix")) return CmdFix(env, a.fix);
  if (app.got_subcommand("restore-manifest")) return CmdRestoreManifest(env, a.restore);
  if (app.got_subcommand("metrics")) return CmdMetrics(env, a.metrics);
  if (app.got_subcommand("alert") && app.get_subcommand("alert")->got_subcommand("test")) return CmdAlertTest(env);
  if (app.got_subcommand("outside")) return CmdOutside(env, a.outside);
  if (app.got_subcommand("smart")) return CmdSmart(env, a.smart);
  fmt::print(stderr, "atlas-scrub: error: a command is required: {}\n", CommandList());
  return kExitUsage;
}

}  // namespace

int RunCli(int argc, char** argv, std::stop_token stop) {
  CommandEnv env;
  env.stop = stop;
  Args args;
  CLI::App app("atlas-scrub: storage integrity and parity for a homelab NAS", "atlas-scrub");
  AddGlobalOptions(app, &env.global);
  AddSyncCommands(app, &args);
  AddVerifyCommands(app, &args);
  AddReportCommands(app, &args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return ReportParseError(e, argc, argv);
  }
  return Dispatch(app, env, args);
}

}  // namespace atlas::cli
