// The starter config that `atlas-scrub init` writes.
//
// It is meant to be read once by the person who will own the file, so it
// lists every key with a one-line reason, in the order of atlas-scrub.toml(5).
// Only what init knows is set: the disks, the manifest and its copies. Every
// other key is written commented out at its default, so that uncommenting a
// line changes exactly one thing and a later release that changes a default
// is not shadowed by a stale copy of it.
//
// The text is built from the same defaults the parser uses (Config{}), and
// the result is parsed back before it is returned: a starter config that the
// parser would refuse (nested data paths, a path TOML cannot hold) is an
// error here, not at the first `sync`.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "atlas/config.h"

#include "config/text.h"

namespace atlas {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxParityLevels = 6;

// ["a", "b"] with each element quoted for TOML.
template <typename Range, typename ToString>
std::string TomlArray(const Range& items, ToString to_string) {
  std::string out = "[";
  bool first = true;
  for (const auto& item : items) {
    if (!first)
      out += ", ";
    out += QuoteString(to_string(item));
    first = false;
  }
  out += "]";
  return out;
}

// The largest unit that divides `seconds` and gives at least 2 of it, so the
// defaults read as SPEC writes them: "24h" rather than "1d", "45d", "2w".
std::string DurationText(std::int64_t seconds) {
  constexpr std::pair<std::int64_t, char> kUnits[] = {
      {7 * 86400, 'w'}, {86400, 'd'}, {3600, 'h'}, {60, 'm'}};
  for (auto [unit_s, suffix] : kUnits) {
    if (seconds % unit_s == 0 && seconds >= 2 * unit_s) {
      return fmt::format("{}{}", seconds / unit_s, suffix);
    }
  }
  return fmt::format("{}s", seconds);
}

Status CheckAbsolute(const fs::path& path, std::string_view what) {
  if (path.is_absolute())
    return Status::Ok();
  return Status::InvalidArgument(
      fmt::format(R"({} path {} is not absolute, expected a path starting with "/")", what,
                  QuoteString(path.string())));
}

// The text being written, a line at a time.
struct Text {
  std::string out;
  void Line(std::string_view text) {
    out += text;
    out += '\n';
  }
};

// The header, the manifest and its copies, and the top-level keys.
void WriteTopLevel(const Config& defaults, const std::vector<fs::path>& data_paths, const fs::path& manifest,
                   Text* t) {
  t->Line("# atlas-scrub configuration; every key is described in atlas-scrub.toml(5).");
  t->Line("#");
  t->Line("# Written by `atlas-scrub init`. A commented-out key shows its default:");
  t->Line("# uncomment it and edit the value to change it.");
  t->Line("");
  t->Line("# The manifest (a RocksDB database) records every file and block. Keep it");
  t->Line("# off the data disks; copies are refreshed after every run that changes it,");
  t->Line("# so losing one disk never loses the manifest.");
  t->out += fmt::format("manifest = {}\n", QuoteString(manifest.string()));
  std::vector<fs::path> copies;
  for (std::size_t i = 0; i < data_paths.size() && i < 2; ++i) {
    copies.push_back(data_paths[i] / ".atlas-scrub");
  }
  t->out += fmt::format("manifest_copies = {}\n",
                        TomlArray(copies, [](const fs::path& p) { return p.string(); }));
  t->Line("");
  t->Line("# Parity block size, a power of two from 4KiB to 16MiB. It is fixed at the");
  t->Line("# first sync: another value is refused after it (a new size needs a new");
  t->Line("# manifest and new parity files).");
  t->out += fmt::format("#block_size = \"{}KiB\"\n", defaults.block_size / 1024);
  t->Line("# Paths never scanned: \"*.tmp\" matches a name anywhere, a leading \"/\"");
  t->Line("# anchors at the disk root, a trailing \"/\" matches only directories.");
  t->out += fmt::format("#exclude = {}\n",
                        TomlArray(defaults.exclude, [](const std::string& s) { return s; }));
  t->Line("# Reader threads; 0 means one reader per disk.");
  t->out += fmt::format("#io_threads = {}\n", defaults.io_threads);
  t->Line("# \"per-disk\" (hard disks), \"whole-stripes\" (SSDs, RAM) or \"auto\".");
  t->out += fmt::format("#read_layout = \"{}\"\n", ReadLayoutName(defaults.read_layout));
  t->Line("# Read bandwidth limit per disk, such as \"150MB/s\"; \"\" means none.");
  t->Line("#bandwidth_limit = \"\"");
  t->Line("");
}

// One [[data]] table per data path, one [[parity]] table per parity path.
void WriteDisks(const std::vector<fs::path>& data_paths, const std::vector<fs::path>& parity_paths, Text* t) {
  t->Line("# Data disks: a name, used in findings and commands, and a mount path.");
  for (std::size_t i = 0; i < data_paths.size(); ++i) {
    t->Line("[[data]]");
    t->out += fmt::format("name = \"d{}\"\n", i + 1);
    t->out += fmt::format("path = {}\n", QuoteString(data_paths[i].string()));
    t->Line("");
  }
  t->Line("# Parity files, one per parity level (1 to 6), each on its own disk.");
  t->Line("# N levels recover any N failed disks.");
  for (std::size_t i = 0; i < parity_paths.size(); ++i) {
    fs::path p = parity_paths[i];
    // A path ending in '/' names the directory the parity file goes into.
    if (!p.has_filename())
      p /= "atlas.parity";
    t->Line("[[parity]]");
    t->out += fmt::format("name = \"parity{}\"\n", i + 1);
    t->out += fmt::format("path = {}\n", QuoteString(p.string()));
    t->Line("");
  }
}

// [guards] and [scrub].
void WriteGuardsAndScrub(const Config& defaults, Text* t) {
  const GuardsConfig& g = defaults.guards;
  t->Line("[guards]");
  t->Line("# sync refuses to record more deletions than this at once...");
  t->out += fmt::format("#max_deletes = {}\n", g.max_deletes);
  t->Line("# ...or than this percentage of the array's files (override: --force-delete).");
  t->out += fmt::format("#max_deletes_pct = {}\n", g.max_deletes_pct);
  t->Line("# sync refuses to record more modified files than this at once (ransomware)...");
  t->out += fmt::format("#max_modified = {}\n", g.max_modified);
  t->Line("# ...or than this percentage of the array's files (override: --force-modified).");
  t->out += fmt::format("#max_modified_pct = {}\n", g.max_modified_pct);
  t->Line("# Paths the deletion and content guards ignore, with exclude's rules, e.g.");
  t->Line("# [\"/Downloads/\"] for each disk's top-level Downloads directory.");
  t->Line("#exempt = []");
  t->Line("# Changes left without parity for longer than this are an `unsynced` warning.");
  t->out += fmt::format("#unsynced_warn_after = \"{}\"\n", DurationText(g.unsynced_warn_after_s));
  t->Line("# Blocks left unverified for longer than this are a `scrub_overdue` warning.");
  t->out += fmt::format("#scrub_overdue_after = \"{}\"\n", DurationText(g.scrub_overdue_after_s));
  t->Line("");

  t->Line("[scrub]");
  t->Line("# Share of the array one `scrub` verifies, in percent.");
  t->out += fmt::format("#percent = {}\n", defaults.scrub.percent);
  t->Line("# Only blocks last verified at least this long ago are picked.");
  t->out += fmt::format("#older_than = \"{}\"\n", DurationText(defaults.scrub.older_than_s));
  t->Line("");
}

// [smart] and [outside].
void WriteSmartAndOutside(const Config& defaults, Text* t) {
  t->Line("[smart]");
  t->Line("# \"auto\" finds each disk's device itself; or name them, as in");
  t->Line("# devices = { d1 = \"/dev/disk/by-id/ata-...\", parity1 = \"/dev/sdc\" }");
  t->Line("#devices = \"auto\"");
  t->Line("# Never wake a disk in standby just to read SMART.");
  t->Line("#skip_standby = true");
  t->Line("# Attributes not to judge, as \"DISK:ID\", such as [\"d2:188\"].");
  t->Line("#ignore = []");
  t->Line("# Every sync, scrub, check and fix reads SMART of the disks it used; a");
  t->Line("# disk whose newest reading is older than this is a smart_stale finding.");
  t->out += fmt::format("#stale_after = \"{}\"\n", DurationText(defaults.smart.stale_after_s));
  t->Line("# Degrees Celsius above which a run stops reading a disk until it cools");
  t->Line("# (scrub skips it, sync, check and fix wait); 0: no limit.");
  t->out += fmt::format("#temp_limit = {}\n", defaults.smart.temp_limit_c);
  t->Line("# How often a run reads the temperatures, and how long sync, check and");
  t->Line("# fix wait for a hot disk before they stop (the next run resumes).");
  t->out += fmt::format("#temp_check_every = \"{}\"\n", DurationText(defaults.smart.temp_check_every_s));
  t->out += fmt::format("#temp_wait_max = \"{}\"\n", DurationText(defaults.smart.temp_wait_max_s));
  t->Line("# \"skip\": scrub does not read a disk whose SMART reports failing; \"read\".");
  t->Line("#scrub_failing = \"skip\"");
  t->Line("");

  t->Line("[disks]");
  t->Line("# Put the disks a run woke back to standby at its end (hdparm -y,");
  t->Line("# sdparm --command=stop), unless another process uses them.");
  t->Line("#spindown_after_run = false");
  t->Line("");

  t->Line("[outside]");
  t->Line("# Extensions (lower case, no dot) that `outside` counts as media.");
  t->out += fmt::format("#media_extensions = {}\n", TomlArray(defaults.outside.media_extensions,
                                                              [](const std::string& s) { return s; }));
  t->Line("# On a compute host: the key the outside index must be signed with, as");
  t->Line("# `atlas-scrub outside --print-key` prints it on Atlas (\"ed25519:...\");");
  t->Line("# empty: none.");
  t->Line("#trusted_key = \"\"");
  t->Line("# On a compute host: where Atlas is mounted, reported when writable.");
  t->Line("#atlas_mounts = []");
  t->Line("# On Atlas: compute hosts `outside` scans (atlas-scrub(1) OUTSIDE), one");
  t->Line("# table each; the command is run without a shell, the index on its stdin.");
  t->Line("# [[outside.hosts]]");
  t->Line("# name = \"prometheus\"");
  t->Line("# command = [\"ssh\", \"-T\", \"atlas-scan@prometheus\", \"atlas-scrub\", \"outside\",");
  t->Line("#            \"--json\", \"--index\", \"-\", \"/srv/media\"]");
  t->Line("# timeout = \"2h\"");
  t->Line("");
}

// [alerts], with a webhook and an email table commented out as examples.
void WriteAlerts(const Config& defaults, Text* t) {
  t->Line("[alerts]");
  t->Line("# Alert on findings of at least this severity: info, warning or critical.");
  t->Line("#min_severity = \"warning\"");
  t->Line("# An unchanged open finding is not sent again before this long.");
  t->out += fmt::format("#repeat_after = \"{}\"\n", DurationText(defaults.alerts.repeat_after_s));
  t->Line("# healthchecks.io-style URL pinged at start (/start) and end (/<exit code>).");
  t->Line("#healthcheck_url = \"\"");
  t->Line("# Each delivery: a timeout per attempt, the attempts, and the wait before");
  t->Line("# the second attempt (doubled after each). A failed one is sent by the next run.");
  t->out += fmt::format("#timeout = \"{}\"\n", DurationText(defaults.alerts.timeout_s));
  t->out += fmt::format("#attempts = {}\n", defaults.alerts.attempts);
  t->out += fmt::format("#retry_delay = \"{}\"\n", DurationText(defaults.alerts.retry_delay_s));
  t->Line("");
  t->Line("# A webhook; repeat the table for more than one.");
  t->Line("#[[alerts.webhook]]");
  t->Line("#url = \"https://ntfy.example/atlas\"");
  t->Line("#format = \"ntfy\"                       # json | ntfy | gotify | discord | slack");
  t->Line("#token_file = \"/etc/atlas-scrub/ntfy.token\"   # bearer/app token, read from a file");
  t->Line("");
  t->Line("# Email, through SMTP (smtp:// uses STARTTLS when offered, smtps:// implicit");
  t->Line("# TLS) or a local sendmail.");
  t->Line("#[[alerts.email]]");
  t->Line("#smtp_url = \"smtp://mail.example:587\"");
  t->Line("#from = \"atlas@example\"");
  t->Line("#to = [\"me@example\"]");
  t->Line("#username = \"\"");
  t->Line("#password_file = \"/etc/atlas-scrub/smtp.password\"");
  t->Line("#sendmail = \"/usr/sbin/sendmail\"      # instead of smtp_url");
}

}  // namespace

Result<std::string> StarterConfig(const std::vector<fs::path>& data_paths,
                                  const std::vector<fs::path>& parity_paths,
                                  const fs::path& manifest) {
  if (data_paths.empty()) {
    return Status::InvalidArgument("no data disk given, expected at least one data path");
  }
  if (parity_paths.empty() || parity_paths.size() > kMaxParityLevels) {
    return Status::InvalidArgument(
        fmt::format("{} parity paths given, expected 1 to {} (one per parity level)",
                    parity_paths.size(), kMaxParityLevels));
  }
  ATLAS_RETURN_IF_ERROR(CheckAbsolute(manifest, "manifest"));
  for (const fs::path& p : data_paths) ATLAS_RETURN_IF_ERROR(CheckAbsolute(p, "data"));
  for (const fs::path& p : parity_paths) ATLAS_RETURN_IF_ERROR(CheckAbsolute(p, "parity"));

  // The tables in the order of atlas-scrub.toml(5).
  const Config defaults;
  Text t;
  WriteTopLevel(defaults, data_paths, manifest, &t);
  WriteDisks(data_paths, parity_paths, &t);
  WriteGuardsAndScrub(defaults, &t);
  WriteSmartAndOutside(defaults, &t);
  WriteAlerts(defaults, &t);

  // Invariant: the text parses back to the disks given; see the file comment.
  Result<Config> check = ParseConfig(t.out, "starter config");
  if (!check.ok()) {
    return Status::InvalidArgument(
        fmt::format("cannot write a starter config for these paths: {}", check.status().message()));
  }
  return t.out;
}

}  // namespace atlas
