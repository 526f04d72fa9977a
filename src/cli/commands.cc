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
    {"outside", "find media under PATH... (on a compute host) that is not on Atlas or duplicates it"},
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

}  // namespace

int RunCli(int argc, char** argv, std::stop_token stop) {
  CommandEnv env;
  env.stop = stop;
  CLI::App app("atlas-scrub: storage integrity and parity for a homelab NAS", "atlas-scrub");
  app.set_version_flag("-V,--version", kVersion);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("-c,--config", env.global.config,
                 "config file (default: $ATLAS_SCRUB_CONFIG, then /etc/atlas-scrub/atlas-scrub.toml)");
  app.add_flag("--json", env.global.json, "print one JSON document on stdout");
  auto* quiet = app.add_flag("-q,--quiet", env.global.quiet, "print only errors");
  app.add_flag("-v,--verbose", env.global.verbose, "print notes while working")->excludes(quiet);
  app.add_flag("--no-progress", env.global.no_progress, "no progress line on a terminal");

  InitArgs init;
  CLI::App* cmd_init = app.add_subcommand("init", CommandHelp("init"));
  cmd_init->add_option("--data", init.data, "mount path of a data disk (repeat)")->required()->expected(1, -1);
  cmd_init->add_option("--parity", init.parity, "parity file, or directory for it (repeat, 1 to 6)")
      ->required()->expected(1, -1);
  cmd_init->add_option("--manifest", init.manifest, "manifest directory (default /var/lib/atlas-scrub/manifest)");

  SyncArgs sync;
  CLI::App* cmd_sync = app.add_subcommand("sync", CommandHelp("sync"));
  cmd_sync->add_flag("--force-empty", sync.force_empty, "sync even though a disk that held files is empty");
  cmd_sync->add_flag("--force-delete", sync.force_delete, "sync even though deletions exceed [guards]");
  cmd_sync->add_flag("--force-zero,-Z", sync.force_zero, "sync even though files that held data are now 0 bytes");
  cmd_sync->add_flag("--force-modified", sync.force_modified,
                     "sync even though modifications exceed [guards] max_modified");
  cmd_sync->add_flag("--force-move", sync.force_move,
                     "sync even though files moved across disks no longer match their checksums");

  CLI::App* cmd_diff = app.add_subcommand("diff", CommandHelp("diff"));
  CLI::App* cmd_status = app.add_subcommand("status", CommandHelp("status"));
  StatusArgs status;
  auto* full_drift = cmd_status->add_flag(
      "--full-drift", status.full_drift, "walk every disk for drift however long it takes (default: stop after 0.3 s)");
  cmd_status->add_flag("--no-drift", status.no_drift, "no drift walk: answer from the manifest alone")
      ->excludes(full_drift);
  ScrubArgs scrub;
  CLI::App* cmd_scrub = app.add_subcommand("scrub", CommandHelp("scrub"));
  cmd_scrub->add_option("--plan", scrub.plan, "new | bad | full (default: oldest share, see [scrub])")
      ->check(CLI::IsMember({"new", "bad", "full"}));
  auto* percent = cmd_scrub->add_option("--percent", scrub.percent, "share of the array to verify, 0-100")
                      ->check(CLI::Range(0.0, 100.0));
  auto* older = cmd_scrub->add_option("--older-than", scrub.older_than_days, "only blocks not verified for DAYS")
                    ->check(CLI::NonNegativeNumber);
  percent->excludes("--plan");
  older->excludes("--plan");

  CheckArgs check;
  CLI::App* cmd_check = app.add_subcommand("check", CommandHelp("check"));
  cmd_check->add_option("--disk", check.disks, "only this data disk (repeat)");
  cmd_check->add_option("--filter", check.filters, "only files whose path matches this glob (repeat)");

  FixArgs fix;
  CLI::App* cmd_fix = app.add_subcommand("fix", CommandHelp("fix"));
  cmd_fix->add_option("--disk", fix.disks, "only this data disk or parity level, e.g. a replaced disk (repeat)");
  cmd_fix->add_option("--filter", fix.filters, "only files whose path matches this glob (repeat)");
  cmd_fix->add_flag("--dry-run", fix.dry_run, "say what would be repaired, write nothing");
  cmd_fix->add_flag("--errors-only", fix.errors_only,
                    "repair only what reads back wrong; never recreate deleted files");

  RestoreArgs restore;
  CLI::App* cmd_restore = app.add_subcommand("restore-manifest", CommandHelp("restore-manifest"));
  cmd_restore->add_option("--from", restore.from, "restore from this manifest_copies directory");

  CLI::App* cmd_disks = app.add_subcommand("disks", CommandHelp("disks"));
  MetricsArgs metrics;
  CLI::App* cmd_metrics = app.add_subcommand("metrics", CommandHelp("metrics"));
  cmd_metrics->add_option("--textfile", metrics.textfile,
                          "write DIR/atlas_scrub.prom atomically (node_exporter textfile collector)");
  CLI::App* cmd_alert = app.add_subcommand("alert", CommandHelp("alert"));
  cmd_alert->require_subcommand(1);
  CLI::App* cmd_alert_test =
      cmd_alert->add_subcommand("test", "send a test message through every configured channel; say which took it");
  OutsideArgs outside;
  CLI::App* cmd_outside = app.add_subcommand("outside", CommandHelp("outside"));
  cmd_outside->add_option("--index", outside.index,
                          "the outside.idx that sync writes (default: in the config's manifest_copies)");
  cmd_outside->add_flag("--all", outside.all, "consider every file, not only [outside] media_extensions");
  cmd_outside->add_option(
      "--key", outside.key,
      "the public key the index must be signed with (default: [outside] trusted_key)");
  cmd_outside->add_flag(
      "--print-key", outside.print_key,
      "on Atlas: print the key that sync signs the index with, for --key on a compute host");
  cmd_outside->add_option("paths", outside.paths, "directories or files to scan")->expected(0, -1);

  SmartArgs smart;
  CLI::App* cmd_smart = app.add_subcommand("smart", CommandHelp("smart"));
  cmd_smart->add_option("--input", smart.inputs,
                        "judge a saved `smartctl --json` output or libatasmart blob instead of devices; "
                        "NAME=FILE stores it as disk NAME's reading (repeat)")
      ->expected(1, -1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    if (argc > 1) {
      // Name an unknown command plainly, with the valid ones.
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

  if (cmd_init->parsed()) return CmdInit(env, init);
  if (cmd_sync->parsed()) return CmdSync(env, sync);
  if (cmd_diff->parsed()) return CmdDiff(env);
  if (cmd_status->parsed()) return CmdStatus(env, status);
  if (cmd_disks->parsed()) return CmdDisks(env);
  if (cmd_scrub->parsed()) return CmdScrub(env, scrub);
  if (cmd_check->parsed()) return CmdCheck(env, check);
  if (cmd_fix->parsed()) return CmdFix(env, fix);
  if (cmd_restore->parsed()) return CmdRestoreManifest(env, restore);
  if (cmd_metrics->parsed()) return CmdMetrics(env, metrics);
  if (cmd_alert_test->parsed()) return CmdAlertTest(env);
  if (cmd_outside->parsed()) return CmdOutside(env, outside);
  if (cmd_smart->parsed()) return CmdSmart(env, smart);
  fmt::print(stderr, "atlas-scrub: error: a command is required: {}\n", CommandList());
  return kExitUsage;
}

}  // namespace atlas::cli
