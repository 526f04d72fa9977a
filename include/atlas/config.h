// The configuration file (TOML, SPEC "Configuration"; every key is documented
// in man/atlas-scrub.toml.5).
//
// LoadConfig reads and validates a whole file. Errors are kInvalidArgument
// (exit code 2) and name the file, the line, the key, and what would be valid:
//   "/etc/atlas-scrub/atlas-scrub.toml:7: guards.max_deletes_pct: expected a
//    number from 0 to 100, got "ten""
// An unknown key is an error that names the key. A missing file is kNotFound
// and an unreadable one kIOError, both naming the path. Text that is not
// TOML gives "<file>:<line>:<column>: TOML syntax error: <description>".
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "atlas/env.h"
#include "atlas/finding.h"
#include "atlas/status.h"

namespace atlas {

inline constexpr std::string_view kDefaultConfigPath = "/etc/atlas-scrub/atlas-scrub.toml";
inline constexpr std::string_view kDefaultManifestPath = "/var/lib/atlas-scrub/manifest";
inline constexpr std::uint32_t kDefaultBlockSize = 256 * 1024;

struct DataDiskConfig {
  std::string name;            // [A-Za-z0-9_.-]{1,32}, unique among data and parity
  std::filesystem::path path;  // absolute mount path
};

struct ParityConfig {
  std::string name;            // defaults to "parity1".."parity6" by position
  std::filesystem::path path;  // absolute path of the parity *file*
};

struct GuardsConfig {
  std::uint64_t max_deletes = 500;
  double max_deletes_pct = 10.0;
  // sync refuses when more files than this, or more than this share of the
  // array's files, were modified since the last sync (ransomware rewriting
  // files in place); --force-modified overrides.
  std::uint64_t max_modified = 500;
  double max_modified_pct = 50.0;
  // Paths (relative to each data disk's root, `exclude`'s pattern rules) the
  // content and delete guards leave out: files matching one, or inside a
  // directory matching one, never count towards max_deletes, max_modified,
  // a file emptied to 0 bytes or a move across disks whose content changed.
  std::vector<std::string> exempt;
  std::int64_t unsynced_warn_after_s = 3 * 86400;
  std::int64_t scrub_overdue_after_s = 45 * 86400;
};

struct ScrubConfig {
  double percent = 8.0;                  // 0 < percent <= 100
  std::int64_t older_than_s = 10 * 86400;
};

struct SmartConfig {
  bool devices_auto = true;                    // devices = "auto"
  std::map<std::string, std::string> devices;  // disk name -> device node, when not auto
  bool skip_standby = true;
  std::vector<std::string> ignore;             // "disk:attribute id", e.g. "d2:188"
  // A disk's newest reading older than this is a smart_stale finding.
  std::int64_t stale_after_s = 10 * 86400;
  // Runs hold a disk hotter than this (degrees Celsius); 0: no limit.
  std::int64_t temp_limit_c = 0;
  std::int64_t temp_check_every_s = 300;  // 0: before every window of reads
  std::int64_t temp_wait_max_s = 3600;    // sync, check, fix wait this long, then stop
  // Whether scrub reads a disk whose SMART reports failing ("read") or
  // verifies the other disks only ("skip", the default).
  bool scrub_reads_failing = false;
};

struct DisksConfig {
  // Put the disks a run woke back to standby at its end.
  bool spindown_after_run = false;
};

// One [[outside.hosts]]: a compute host that `outside` on Atlas runs a scan
// on, by running `command` (an argv, no shell, e.g. ssh ... atlas-scrub
// outside --json --index - PATH) with the index on its standard input.
struct OutsideHostConfig {
  std::string name;                  // [A-Za-z0-9_.-]{1,32}, unique
  std::vector<std::string> command;  // argv; command[0] looked up in PATH
  std::int64_t timeout_s = 2 * 3600;  // 1 s .. 7 days: then killed, outside_unreachable
};
inline constexpr std::int64_t kOutsideHostMaxTimeoutS = 7 * 86400;

struct OutsideConfig {
  // Lower case, without dot. The default is SPEC's list, so `outside` run
  // without a config file still knows what media is.
  std::vector<std::string> media_extensions = {
      "mkv", "mp4", "avi",  "m4v", "mov",  "ts",  "flac", "mp3", "m4a", "ogg", "opus",
      "wav", "jpg", "jpeg", "png", "heic", "raw", "cr2",  "nef", "dng", "gif", "webp"};
  // The public key an outside index must be signed with ("ed25519:" and 44
  // base64 characters, as `outside --print-key` prints it); empty: none.
  std::string trusted_key;
  // On a compute host: absolute paths where Atlas is mounted, reported as
  // writable_atlas_mount when the mount holding them is writable.
  std::vector<std::filesystem::path> atlas_mounts;
  // On Atlas: the compute hosts `outside` (without PATH) scans through.
  std::vector<OutsideHostConfig> hosts;
};

struct WebhookConfig {
  std::string url;
  std::string format = "json";  // json | ntfy | gotify | discord | slack
  std::filesystem::path token_file;
};

struct EmailConfig {
  std::string smtp_url;  // smtp:// (STARTTLS when offered) or smtps://
  std::string from;
  std::vector<std::string> to;
  std::string username;
  std::filesystem::path password_file;
  std::filesystem::path sendmail;  // used instead of smtp_url when set
};

struct AlertsConfig {
  Severity min_severity = Severity::kWarning;
  std::int64_t repeat_after_s = 24 * 3600;
  std::string healthcheck_url;
  // Delivery of every alert and healthcheck ping (man atlas-scrub.toml(5)).
  std::int64_t timeout_s = 30;     // per attempt, 1 s .. 10 min
  int attempts = 3;                // 1 .. 10
  std::int64_t retry_delay_s = 2;  // before the second attempt, doubled after each
  std::vector<WebhookConfig> webhooks;
  std::vector<EmailConfig> emails;
};

// How sync, scrub, check and fix spread their block reads over threads
// (toml(5) `read_layout`).
enum class ReadLayout {
  kAuto,          // whole stripes when every disk is solid-state or in RAM, else per disk
  kPerDisk,       // one reader per disk: each disk read in order, all disks at once
  kWholeStripes,  // one worker per core, each reading, hashing and checking whole stripes
};
std::string_view ReadLayoutName(ReadLayout layout);

struct Config {
  std::filesystem::path source;  // the file this was read from
  std::filesystem::path manifest{std::string(kDefaultManifestPath)};
  std::vector<std::filesystem::path> manifest_copies;
  std::vector<DataDiskConfig> data;
  std::vector<ParityConfig> parity;
  std::uint32_t block_size = kDefaultBlockSize;  // power of two, 4 KiB .. 16 MiB
  std::vector<std::string> exclude = {"*.unrecoverable", "/lost+found/", "*.tmp"};
  int io_threads = 0;                 // 0 = one reader per disk (per core for whole stripes)
  ReadLayout read_layout = ReadLayout::kAuto;
  std::uint64_t bandwidth_limit = 0;  // bytes per second per disk; 0 = none
  GuardsConfig guards;
  ScrubConfig scrub;
  SmartConfig smart;
  DisksConfig disks;
  OutsideConfig outside;
  AlertsConfig alerts;
};

// Every key the parser accepts, dotted ("guards.max_deletes",
// "alerts.webhook.url", "data.name", ...). The man page test checks that each
// appears in atlas-scrub.toml.5.
const std::vector<std::string>& KnownConfigKeys();

// Parses and validates TOML text; `source` names it in errors. When there
// are several errors, the one earliest in the text is returned.
Result<Config> ParseConfig(std::string_view text, const std::filesystem::path& source);

// Reads `path` through `fs` and parses it.
Result<Config> LoadConfig(FileSystem* fs, const std::filesystem::path& path);

// A starter config for the given data disk mount paths and parity file (or
// parity directory: then "<dir>/atlas.parity") paths, with every other key at
// its default and commented. Data disks are named d1, d2, ...; manifest copies
// go to "<first two data paths>/.atlas-scrub". kInvalidArgument for relative
// paths, no data or no parity, or more than 6 parity paths.
// This function does no I/O: a parity path counts as a directory when it ends
// in '/', so the caller appends '/' to a path that is an existing directory.
// The text always parses back (ParseConfig) to these disks, or this fails.
Result<std::string> StarterConfig(const std::vector<std::filesystem::path>& data_paths,
                                  const std::vector<std::filesystem::path>& parity_paths,
                                  const std::filesystem::path& manifest);

// The dotted keys of `config` whose values themselves carry a credential: a
// URL with a password ("smtps://user:pw@host") or a token-like query parameter
// (token, access_token, apikey, api_key, key, auth, password, secret), and
// discord/slack webhook URLs (the URL is the credential). Secrets kept in
// token_file/password_file are not counted. The CLI warns when a config
// holding any is readable by others (SPEC "Configuration").
std::vector<std::string> KeysHoldingSecrets(const Config& config);

// Parses "3d", "24h", "90m", "45s", "2w" into seconds. Parts may be chained
// ("1d12h"); a bare number is seconds. kInvalidArgument otherwise, with a
// message "expected <what is valid>, got "<text>"".
Result<std::int64_t> ParseDuration(std::string_view text);
// Parses "256KiB", "1MiB", "4096", "1M" (binary) into bytes. K M G T and
// KiB..TiB are binary, KB MB GB TB decimal; a fraction must give whole bytes.
Result<std::uint64_t> ParseSize(std::string_view text);
// Parses "150MB/s", "1.5GB/s", "80MiB/s" into bytes per second; "" is 0 (none).
// Units as ParseSize; "/s" may be left out; fractions round down.
Result<std::uint64_t> ParseRate(std::string_view text);

}  // namespace atlas
