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

  const Config defaults;
  std::string out;
  auto line = [&out](std::string_view text) {
    out += text;
    out += '\n';
  };

  line("# atlas-scrub configuration; every key is described in atlas-scrub.toml(5).");
  line("#");
  line("# Written by `atlas-scrub init`. A commented-out key shows its default:");
  line("# uncomment it and edit the value to change it.");
  line("");
  line("# The manifest (a RocksDB database) records every file and block. Keep it");
  line("# off the data disks; copies are refreshed after every run that changes it,");
  line("# so losing one disk never loses the manifest.");
  out += fmt::format("manifest = {}\n", QuoteString(manifest.string()));
  std::vector<fs::path> copies;
  for (std::size_t i = 0; i < data_paths.size() && i < 2; ++i) {
    copies.push_back(data_paths[i] / ".atlas-scrub");
  }
  out += fmt::format("manifest_copies = {}\n",
                     TomlArray(copies, [](const fs::path& p) { return p.string(); }));
  line("");
  line("# Parity block size, a power of two from 4KiB to 16MiB. It is fixed at the");
  line("# first sync: another value is refused after it (a new size needs a new");
  line("# manifest and new parity files).");
  out += fmt::format("#block_size = \"{}KiB\"\n", defaults.block_size / 1024);
  line("# Paths never scanned: \"*.tmp\" matches a name anywhere, a leading \"/\"");
  line("# anchors at the disk root, a trailing \"/\" matches only directories.");
  out += fmt::format("#exclude = {}\n",
                     TomlArray(defaults.exclude, [](const std::string& s) { return s; }));
  line("# Reader threads; 0 means one reader per disk.");
  out += fmt::format("#io_threads = {}\n", defaults.io_threads);
  line("# \"per-disk\" (hard disks), \"whole-stripes\" (SSDs, RAM) or \"auto\".");
  out += fmt::format("#read_layout = \"{}\"\n", ReadLayoutName(defaults.read_layout));
  line("# Read bandwidth limit per disk, such as \"150MB/s\"; \"\" means none.");
  line("#bandwidth_limit = \"\"");
  line("");

  line("# Data disks: a name, used in findings and commands, and a mount path.");
  for (std::size_t i = 0; i < data_paths.size(); ++i) {
    line("[[data]]");
    out += fmt::format("name = \"d{}\"\n", i + 1);
    out += fmt::format("path = {}\n", QuoteString(data_paths[i].string()));
    line("");
  }

  line("# Parity files, one per parity level (1 to 6), each on its own disk.");
  line("# N levels recover any N failed disks.");
  for (std::size_t i = 0; i < parity_paths.size(); ++i) {
    fs::path p = parity_paths[i];
    // A path ending in '/' names the directory the parity file goes into.
    if (!p.has_filename())
      p /= "atlas.parity";
    line("[[parity]]");
    out += fmt::format("name = \"parity{}\"\n", i + 1);
    out += fmt::format("path = {}\n", QuoteString(p.string()));
    line("");
  }

  const GuardsConfig& g = defaults.guards;
  line("[guards]");
  line("# sync refuses to record more deletions than this at once...");
  out += fmt::format("#max_deletes = {}\n", g.max_deletes);
  line("# ...or than this percentage of the array's files (override: --force-delete).");
  out += fmt::format("#max_deletes_pct = {}\n", g.max_deletes_pct);
  line("# sync refuses to record more modified files than this at once (ransomware)...");
  out += fmt::format("#max_modified = {}\n", g.max_modified);
  line("# ...or than this percentage of the array's files (override: --force-modified).");
  out += fmt::format("#max_modified_pct = {}\n", g.max_modified_pct);
  line("# Paths the deletion and content guards ignore, with exclude's rules, e.g.");
  line("# [\"/Downloads/\"] for each disk's top-level Downloads directory.");
  line("#exempt = []");
  line("# Changes left without parity for longer than this are an `unsynced` warning.");
  out += fmt::format("#unsynced_warn_after = \"{}\"\n", DurationText(g.unsynced_warn_after_s));
  line("# Blocks left unverified for longer than this are a `scrub_overdue` warning.");
  out += fmt::format("#scrub_overdue_after = \"{}\"\n", DurationText(g.scrub_overdue_after_s));
  line("");

  line("[scrub]");
  line("# Share of the array one `scrub` verifies, in percent.");
  out += fmt::format("#percent = {}\n", defaults.scrub.percent);
  line("# Only blocks last verified at least this long ago are picked.");
  out += fmt::format("#older_than = \"{}\"\n", DurationText(defaults.scrub.older_than_s));
  line("");

  line("[smart]");
  line("# \"auto\" finds each disk's device itself; or name them, as in");
  line("# devices = { d1 = \"/dev/disk/by-id/ata-...\", parity1 = \"/dev/sdc\" }");
  line("#devices = \"auto\"");
  line("# Never wake a disk in standby just to read SMART.");
  line("#skip_standby = true");
  line("# Attributes not to judge, as \"DISK:ID\", such as [\"d2:188\"].");
  line("#ignore = []");
  line("");

  line("[outside]");
  line("# Extensions (lower case, no dot) that `outside` counts as media.");
  out += fmt::format("#media_extensions = {}\n", TomlArray(defaults.outside.media_extensions,
                                                           [](const std::string& s) { return s; }));
  line("# On a compute host: the key the outside index must be signed with, as");
  line("# `atlas-scrub outside --print-key` prints it on Atlas (\"ed25519:...\");");
  line("# empty: none.");
  line("#trusted_key = \"\"");
  line("");

  line("[alerts]");
  line("# Alert on findings of at least this severity: info, warning or critical.");
  line("#min_severity = \"warning\"");
  line("# An unchanged open finding is not sent again before this long.");
  out += fmt::format("#repeat_after = \"{}\"\n", DurationText(defaults.alerts.repeat_after_s));
  line("# healthchecks.io-style URL pinged at start (/start) and end (/<exit code>).");
  line("#healthcheck_url = \"\"");
  line("# Each delivery: a timeout per attempt, the attempts, and the wait before");
  line("# the second attempt (doubled after each). A failed one is sent by the next run.");
  out += fmt::format("#timeout = \"{}\"\n", DurationText(defaults.alerts.timeout_s));
  out += fmt::format("#attempts = {}\n", defaults.alerts.attempts);
  out += fmt::format("#retry_delay = \"{}\"\n", DurationText(defaults.alerts.retry_delay_s));
  line("");
  line("# A webhook; repeat the table for more than one.");
  line("#[[alerts.webhook]]");
  line("#url = \"https://ntfy.example/atlas\"");
  line("#format = \"ntfy\"                       # json | ntfy | gotify | discord | slack");
  line("#token_file = \"/etc/atlas-scrub/ntfy.token\"   # bearer/app token, read from a file");
  line("");
  line("# Email, through SMTP (smtp:// uses STARTTLS when offered, smtps:// implicit");
  line("# TLS) or a local sendmail.");
  line("#[[alerts.email]]");
  line("#smtp_url = \"smtp://mail.example:587\"");
  line("#from = \"atlas@example\"");
  line("#to = [\"me@example\"]");
  line("#username = \"\"");
  line("#password_file = \"/etc/atlas-scrub/smtp.password\"");
  line("#sendmail = \"/usr/sbin/sendmail\"      # instead of smtp_url");

  // Invariant: the text parses back to the disks given; see the file comment.
  Result<Config> check = ParseConfig(out, "starter config");
  if (!check.ok()) {
    return Status::InvalidArgument(
        fmt::format("cannot write a starter config for these paths: {}", check.status().message()));
  }
  return out;
}

}  // namespace atlas
