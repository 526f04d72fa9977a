// status: the admin's daily glance. Text: health in one line (coloured on a
// terminal unless NO_COLOR is set, https://no-color.org), then each finding
// that needs attention with the exact commands to run next, then the array,
// last sync and scrub, coverage, drift and the disks. --json: SPEC "Machine
// output", plus next_steps per finding.
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

#include "atlas/advice.h"
#include "atlas/report.h"
#include "cli/commands.h"

namespace atlas::cli {
namespace {

// "atlas-scrub", or "atlas-scrub -c 'CONFIG'" when the config was named on
// the command line, so a printed command runs as is.
std::string Program(const GlobalOptions& g) {
  return g.config.empty() ? "atlas-scrub" : "atlas-scrub -c " + ShellQuote(g.config);
}

nlohmann::json StatusJson(const StatusReport& r, const std::string& program) {
  nlohmann::json disks = nlohmann::json::array();
  for (const DiskStatus& d : r.disks) {
    disks.push_back({{"name", d.name},
                     {"role", d.role},
                     {"path", DisplayPath(d.path)},
                     {"device", d.device},
                     {"model", d.model},
                     {"serial", d.serial},
                     {"fs_uuid", d.fs_uuid},
                     {"mounted", d.mounted},
                     {"smart", d.smart},
                     {"smart_read", d.smart_read_ns ? nlohmann::json(Rfc3339(*d.smart_read_ns)) : nlohmann::json()},
                     {"temperature_c", d.temperature_c ? nlohmann::json(*d.temperature_c) : nlohmann::json()},
                     {"over_temp_limit", d.over_temp_limit},
                     {"power", d.power},
                     {"files", d.files},
                     {"bytes", d.bytes},
                     {"directories", d.directories},
                     {"symlinks", d.symlinks},
                     {"hard_links", d.hard_links},
                     {"special_files", d.special_files}});
  }
  nlohmann::json findings = FindingsJson(r.findings);
  for (std::size_t i = 0; i < r.findings.size(); ++i) {
    nlohmann::json steps = nlohmann::json::array();
    for (const std::string& step : NextSteps(r.findings[i], program)) steps.push_back(step);
    findings[i]["next_steps"] = steps;
  }
  auto time_or_null = [](const std::optional<std::int64_t>& ns) {
    return ns ? nlohmann::json(Rfc3339(*ns)) : nlohmann::json(nullptr);
  };
  nlohmann::json outside = nlohmann::json::array();
  for (const OutsideHostStatus& h : r.outside) {
    outside.push_back({{"host", h.host},
                       {"checked", time_or_null(h.checked_ns)},
                       {"last_attempt", time_or_null(h.last_attempt_ns)},
                       {"reachable", h.reachable},
                       {"error", h.error.empty() ? nlohmann::json() : nlohmann::json(DisplayPath(h.error))},
                       {"scanned_files", h.scanned_files},
                       {"only_copy", h.only_copy},
                       {"duplicates", h.duplicates}});
  }
  return {{"schema", 1},
          {"command", "status"},
          {"ok", true},
          {"health", HealthName(r.health)},
          {"exit_code", ExitCodeForFindings(r.findings)},
          {"array",
           {{"data_disks", r.data_disks},
            {"parity_levels", r.parity_levels},
            {"files", r.files},
            {"bytes", r.bytes},
            {"block_size", r.block_size},
            {"blocks", r.blocks}}},
          {"last_sync", time_or_null(r.last_sync_ns)},
          {"last_scrub", time_or_null(r.last_scrub_ns)},
          {"scrub", {{"verified_pct_30d", r.verified_pct_30d}, {"oldest_unverified_days", r.oldest_unverified_days}}},
          {"drift", DriftJson(r.drift)},
          {"drift_walk", r.drift_walk},
          {"drift_files_walked", r.drift_files_walked},
          {"positions_unsynced", r.positions_unsynced},
          {"disks", disks},
          {"outside_key", r.outside_key.empty() ? nlohmann::json() : nlohmann::json(r.outside_key)},
          {"outside", outside},
          {"findings", findings}};
}

bool UseColour() {
  const char* no_colour = std::getenv("NO_COLOR");
  return isatty(STDOUT_FILENO) == 1 && (no_colour == nullptr || *no_colour == '\0');
}

// "4 hours ago"; `compact` ("4h ago", a time in the future as "just now")
// for a table column.
std::string Ago(std::int64_t now_ns, std::int64_t then_ns, bool compact = false) {
  std::int64_t s = (now_ns - then_ns) / 1'000'000'000;
  if (s < 0 && !compact) return "in the future (clock skew?)";
  if (s < 120) return "just now";
  if (s < 2 * 3600) return fmt::format("{}{} ago", s / 60, compact ? "m" : " minutes");
  if (s < 2 * 86400) return fmt::format("{}{} ago", s / 3600, compact ? "h" : " hours");
  return fmt::format("{}{} ago", s / 86400, compact ? "d" : " days");
}

std::string When(std::int64_t now_ns, const std::optional<std::int64_t>& ns) {
  return ns ? fmt::format("{} ({})", Rfc3339(*ns), Ago(now_ns, *ns)) : "never";
}

// At most this many findings are spelled out with their commands; the rest
// are counted (status --json lists them all).
constexpr std::size_t kMaxListed = 20;

void PrintStatusText(const GlobalOptions& g, const StatusReport& r, std::int64_t now_ns) {
  const std::string program = Program(g);
  std::vector<const Finding*> attention;
  std::vector<const Finding*> notes;
  for (const Finding& f : r.findings) (f.severity >= Severity::kWarning ? attention : notes).push_back(&f);

  std::string headline = "OK";
  const char* colour = "\033[32m";
  if (r.health == 1) {
    headline = "WARNING";
    colour = "\033[33m";
  } else if (r.health >= 2) {
    headline = "CRITICAL";
    colour = "\033[1;31m";
  }
  if (!attention.empty()) {
    headline += fmt::format(" - {} {}", attention.size(),
                            attention.size() == 1 ? "finding needs attention" : "findings need attention");
  }
  if (UseColour()) {
    fmt::print("atlas: {}{}\033[0m\n", colour, headline);
  } else {
    fmt::print("atlas: {}\n", headline);
  }

  if (!attention.empty()) {
    fmt::print("\nNeeds attention:\n");
    std::size_t listed = 0;
    for (const Finding* f : attention) {
      if (listed++ == kMaxListed) {
        fmt::print("  ... and {} more: {} status --json lists them all\n", attention.size() - kMaxListed, program);
        break;
      }
      PrintFindingsText(stdout, {*f});
      std::vector<std::string> steps = NextSteps(*f, program);
      for (std::size_t i = 0; i < steps.size(); ++i) {
        fmt::print("      {} {}\n", i == 0 ? "next:" : "then:", steps[i]);
      }
    }
  }
  if (!notes.empty()) {
    fmt::print("\nNotes:\n");
    for (std::size_t i = 0; i < notes.size() && i < kMaxListed; ++i) PrintFindingsText(stdout, {*notes[i]});
    if (notes.size() > kMaxListed) fmt::print("  ... and {} more\n", notes.size() - kMaxListed);
  }

  fmt::print("\n");
  fmt::print("array:      {} data disks, {} parity level{}, {} files, {}, block {}\n", r.data_disks,
             r.parity_levels, r.parity_levels == 1 ? "" : "s", r.files, HumanBytes(r.bytes),
             HumanBinary(r.block_size));
  fmt::print("last sync:  {}\n", When(now_ns, r.last_sync_ns));
  fmt::print("last scrub: {}\n", When(now_ns, r.last_scrub_ns));
  fmt::print("coverage:   {:.1f}% verified in the last 30 days, oldest block verified {} days ago\n",
             r.verified_pct_30d, r.oldest_unverified_days);
  const DriftCounts& d = r.drift;
  if (r.drift_walk == "skipped") {
    fmt::print("drift:      not walked (--no-drift); {} unsynced positions\n", r.positions_unsynced);
  } else if (r.drift_walk == "partial") {
    fmt::print("drift:      partial: {} files walked in the time limit: {} added, {} modified, {} moved, "
               "{} unsynced positions; `{} diff` or `{} status --full-drift` walks everything\n",
               r.drift_files_walked, d.added, d.modified, d.moved, r.positions_unsynced, program, program);
  } else if (!r.synced_ever) {
    fmt::print("drift:      never synced: {} files not protected; run `{}`\n", d.added, DriftNextStep(program));
  } else if (d.Changes() + r.positions_unsynced == 0) {
    fmt::print("drift:      none, parity is up to date\n");
  } else {
    fmt::print("drift:      {} added, {} modified, {} deleted, {} moved, {} unsynced positions: run "
               "`{}`\n",
               d.added, d.modified, d.deleted, d.moved, r.positions_unsynced, DriftNextStep(program));
  }
  for (const OutsideHostStatus& h : r.outside) {
    const std::string checked =
        h.checked_ns ? fmt::format("checked {}, {} only-copy, {} duplicates", Ago(now_ns, *h.checked_ns), h.only_copy,
                                   h.duplicates)
                     : "never checked";
    if (!h.last_attempt_ns) {
      fmt::print("outside {}: never checked: run `{} outside`\n", h.host, program);
    } else if (h.reachable) {
      fmt::print("outside {}: {}\n", h.host, checked);
    } else {
      fmt::print("outside {}: unreachable at the last attempt ({}), {}\n", h.host, Ago(now_ns, *h.last_attempt_ns),
                 checked);
    }
  }
  fmt::print("disks:\n");
  fmt::print("  {:<8} {:<6} {:<7} {:<12} {:<8} {:<12} {:<6} {:<8} {}\n", "NAME", "ROLE", "STATE", "DEVICE", "SMART",
             "READ", "TEMP", "POWER", "PATH");
  for (const DiskStatus& disk : r.disks) {
    const std::string read = disk.smart_read_ns ? Ago(now_ns, *disk.smart_read_ns, /*compact=*/true) : "never";
    std::string temp = disk.temperature_c ? fmt::format("{}C", *disk.temperature_c) : "-";
    if (disk.over_temp_limit) temp += "!";
    fmt::print("  {:<8} {:<6} {:<7} {:<12} {:<8} {:<12} {:<6} {:<8} {}\n", disk.name, disk.role,
               disk.mounted ? "ok" : "MISSING", disk.device.empty() ? "-" : disk.device, disk.smart, read, temp,
               disk.power, DisplayPath(disk.path));
  }
}

}  // namespace

int CmdStatus(const CommandEnv& env, const StatusArgs& args) {
  Result<Config> config = LoadConfigFor(env.global);
  if (!config.ok()) return ReportError(env.global, "status", config.status());
  std::unique_ptr<ProgressSink> progress = MakeProgress(env.global);
  RunContext ctx{&*config, FileSystem::Default(), Clock::Default(), progress.get(), env.stop};
  StatusOptions options;
  if (args.full_drift) options.drift = DriftWalk::kFull;
  if (args.no_drift) options.drift = DriftWalk::kNone;
  StatusReport r;
  Status s = BuildStatus(ctx, options, &r);
  if (!s.ok()) return ReportError(env.global, "status", s);
  int code = ExitCodeForFindings(r.findings);
  if (env.global.json) {
    PrintJson(StatusJson(r, Program(env.global)));
    return code;
  }
  if (env.global.quiet) return code;
  PrintStatusText(env.global, r, Clock::Default()->NowUnixNanos());
  return code;
}

}  // namespace atlas::cli
