#include "atlas/config.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "atlas/env.h"

#include "support/test_util.h"

namespace atlas {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMinimal = R"(manifest = "/var/lib/atlas-scrub/manifest"
manifest_copies = ["/mnt/disk1/.atlas-scrub", "/mnt/disk2/.atlas-scrub"]

[[data]]
name = "d1"
path = "/mnt/disk1"

[[data]]
name = "d2"
path = "/mnt/disk2"

[[parity]]
path = "/mnt/parity1/atlas.parity"
)";

// Two data disks and one parity file on lines 1-8, so a table appended after
// them starts on line 9.
constexpr const char* kDisks = R"([[data]]
name = "d1"
path = "/mnt/disk1"
[[data]]
name = "d2"
path = "/mnt/disk2"
[[parity]]
path = "/mnt/parity1/atlas.parity"
)";

// `top` (top-level keys), then kDisks, then `tables`.
std::string Doc(const std::string& top, const std::string& tables = "") {
  return top + kDisks + tables;
}

// The message of the error ParseConfig gives for `text`, read as "/etc/x.toml".
std::string ErrorOf(const std::string& text) {
  Result<Config> r = ParseConfig(text, "/etc/x.toml");
  INFO(text);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidArgument);
  return std::string(r.status().message());
}

Config Parsed(const std::string& text) {
  Result<Config> r = ParseConfig(text, "/etc/x.toml");
  INFO(text);
  REQUIRE_OK(r);
  return std::move(r).value();
}

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

TEST_CASE("config: the minimal SPEC example parses with every default", "[config][unit]") {
  Config c = Parsed(kMinimal);
  CHECK(c.source == "/etc/x.toml");
  CHECK(c.manifest == "/var/lib/atlas-scrub/manifest");
  CHECK(c.manifest_copies ==
        std::vector<fs::path>{"/mnt/disk1/.atlas-scrub", "/mnt/disk2/.atlas-scrub"});
  REQUIRE(c.data.size() == 2);
  CHECK(c.data[0].name == "d1");
  CHECK(c.data[0].path == "/mnt/disk1");
  CHECK(c.data[1].name == "d2");
  CHECK(c.data[1].path == "/mnt/disk2");
  REQUIRE(c.parity.size() == 1);
  CHECK(c.parity[0].name == "parity1");
  CHECK(c.parity[0].path == "/mnt/parity1/atlas.parity");

  CHECK(c.block_size == 256 * 1024);
  CHECK(c.exclude == std::vector<std::string>{"*.unrecoverable", "/lost+found/", "*.tmp"});
  CHECK(c.io_threads == 0);
  CHECK(c.read_layout == ReadLayout::kAuto);
  CHECK(c.bandwidth_limit == 0);
  CHECK(c.guards.max_deletes == 500);
  CHECK(c.guards.max_deletes_pct == 10.0);
  CHECK(c.guards.unsynced_warn_after_s == 3 * 86400);
  CHECK(c.guards.scrub_overdue_after_s == 45 * 86400);
  CHECK(c.scrub.percent == 8.0);
  CHECK(c.scrub.older_than_s == 10 * 86400);
  CHECK(c.smart.devices_auto);
  CHECK(c.smart.devices.empty());
  CHECK(c.smart.skip_standby);
  CHECK(c.smart.ignore.empty());
  CHECK(c.outside.media_extensions ==
        std::vector<std::string>{"mkv", "mp4", "avi",  "m4v", "mov", "ts",   "flac", "mp3",
                                 "m4a", "ogg", "opus", "wav", "jpg", "jpeg", "png",  "heic",
                                 "raw", "cr2", "nef",  "dng", "gif", "webp"});
  CHECK(c.alerts.min_severity == Severity::kWarning);
  CHECK(c.alerts.repeat_after_s == 24 * 3600);
  CHECK(c.alerts.healthcheck_url.empty());
  CHECK(c.alerts.webhooks.empty());
  CHECK(c.alerts.emails.empty());
}

TEST_CASE("config: every key of the SPEC reference block parses to its value", "[config][unit]") {
  const std::string text = std::string(kMinimal) + R"(
[guards]
max_deletes = 200
max_deletes_pct = 2.5
unsynced_warn_after = "2d"
scrub_overdue_after = "2w"

[scrub]
percent = 12.5
older_than = "90m"

[smart]
devices = { d1 = "/dev/sdb", d2 = "/dev/disk/by-id/ata-X", parity1 = "/dev/sdd" }
skip_standby = false
ignore = ["d2:188", "parity1:9"]

[outside]
media_extensions = [".MKV", "mp4", "Mp4"]

[alerts]
min_severity = "critical"
repeat_after = "12h"
healthcheck_url = "https://hc-ping.com/abc/"

[[alerts.webhook]]
url = "https://ntfy.example/atlas"
format = "ntfy"
token_file = "/etc/atlas-scrub/ntfy.token"

[[alerts.webhook]]
url = "http://10.0.0.2:8080/hook"

[[alerts.email]]
smtp_url = "smtps://mail.example:465"
from = "atlas@example"
to = ["me@example", "you@example"]
username = "atlas"
password_file = "/etc/atlas-scrub/smtp.password"

[[alerts.email]]
sendmail = "/usr/sbin/sendmail"
from = "atlas@example"
to = ["root"]
)";
  const std::string top = R"(block_size = "1MiB"
exclude = ["*.part"]
io_threads = 4
read_layout = "per-disk"
bandwidth_limit = "150MB/s"
)";
  Config c = Parsed(top + text);
  CHECK(c.block_size == 1024 * 1024);
  CHECK(c.exclude == std::vector<std::string>{"*.part"});
  CHECK(c.io_threads == 4);
  CHECK(c.read_layout == ReadLayout::kPerDisk);
  CHECK(c.bandwidth_limit == 150'000'000);
  CHECK(c.guards.max_deletes == 200);
  CHECK(c.guards.max_deletes_pct == 2.5);
  CHECK(c.guards.unsynced_warn_after_s == 2 * 86400);
  CHECK(c.guards.scrub_overdue_after_s == 14 * 86400);
  CHECK(c.scrub.percent == 12.5);
  CHECK(c.scrub.older_than_s == 90 * 60);
  CHECK_FALSE(c.smart.devices_auto);
  CHECK(c.smart.devices == std::map<std::string, std::string>{{"d1", "/dev/sdb"},
                                                              {"d2", "/dev/disk/by-id/ata-X"},
                                                              {"parity1", "/dev/sdd"}});
  CHECK_FALSE(c.smart.skip_standby);
  CHECK(c.smart.ignore == std::vector<std::string>{"d2:188", "parity1:9"});
  CHECK(c.outside.media_extensions == std::vector<std::string>{"mkv", "mp4"});
  CHECK(c.alerts.min_severity == Severity::kCritical);
  CHECK(c.alerts.repeat_after_s == 12 * 3600);
  CHECK(c.alerts.healthcheck_url == "https://hc-ping.com/abc");
  REQUIRE(c.alerts.webhooks.size() == 2);
  CHECK(c.alerts.webhooks[0].url == "https://ntfy.example/atlas");
  CHECK(c.alerts.webhooks[0].format == "ntfy");
  CHECK(c.alerts.webhooks[0].token_file == "/etc/atlas-scrub/ntfy.token");
  CHECK(c.alerts.webhooks[1].format == "json");
  CHECK(c.alerts.webhooks[1].token_file.empty());
  REQUIRE(c.alerts.emails.size() == 2);
  CHECK(c.alerts.emails[0].smtp_url == "smtps://mail.example:465");
  CHECK(c.alerts.emails[0].from == "atlas@example");
  CHECK(c.alerts.emails[0].to == std::vector<std::string>{"me@example", "you@example"});
  CHECK(c.alerts.emails[0].username == "atlas");
  CHECK(c.alerts.emails[0].password_file == "/etc/atlas-scrub/smtp.password");
  CHECK(c.alerts.emails[0].sendmail.empty());
  CHECK(c.alerts.emails[1].smtp_url.empty());
  CHECK(c.alerts.emails[1].sendmail == "/usr/sbin/sendmail");
}

TEST_CASE("config: a TOML syntax error names file, line and column", "[config][unit]") {
  std::string msg = ErrorOf("manifest = \"/m\"\nio_threads = = 3\n");
  CHECK_THAT(msg, StartsWith("/etc/x.toml:2:"));
  CHECK_THAT(msg, Contains(": TOML syntax error: "));
  CHECK_THAT(ErrorOf("a = 1\na = 2\n"), StartsWith("/etc/x.toml:2:5: TOML syntax error: "));
}

TEST_CASE("config: an unknown key is an error naming the key and line", "[config][unit]") {
  CHECK(ErrorOf(Doc("blocksize = 4096\n")) ==
        "/etc/x.toml:1: blocksize: unknown key, expected one of manifest, manifest_copies, "
        "block_size, exclude, io_threads, read_layout, bandwidth_limit, data, parity, guards, scrub, smart, "
        "disks, outside, alerts (did you mean \"block_size\"?)");
  CHECK(ErrorOf(Doc("", "[guards]\nmax_delete = 5\n")) ==
        "/etc/x.toml:10: guards.max_delete: unknown key, expected one of max_deletes, "
        "max_deletes_pct, max_modified, max_modified_pct, exempt, unsynced_warn_after, "
        "scrub_overdue_after (did you mean "
        "\"max_deletes\"?)");
  // Inside arrays of tables too.
  CHECK(ErrorOf("[[data]]\nname = \"d1\"\npath = \"/mnt/d1\"\nmount = \"/x\"\n"
                "[[parity]]\npath = \"/p/atlas.parity\"\n") ==
        "/etc/x.toml:4: data.mount: unknown key, expected one of name, path");
  CHECK(ErrorOf(Doc("", "[[alerts.webhook]]\nurl = \"https://x\"\nfromat = \"ntfy\"\n")) ==
        "/etc/x.toml:11: alerts.webhook.fromat: unknown key, expected one of url, format, "
        "token_file (did you mean \"format\"?)");
  CHECK_THAT(ErrorOf(Doc("", "[gaurds]\n")), StartsWith("/etc/x.toml:9: gaurds: unknown key") &&
                                                 Contains("(did you mean \"guards\"?)"));
  // A known key in the wrong table says where it belongs.
  CHECK_THAT(ErrorOf(Doc("percent = 5\n")), StartsWith("/etc/x.toml:1: percent: unknown key") &&
                                                Contains("(\"percent\" belongs in [scrub])"));
  CHECK_THAT(ErrorOf(Doc("", "[alerts]\nurl = \"https://x\"\n")),
             Contains("(\"url\" belongs in [[alerts.webhook]])"));
  // Keys that are not bare are shown quoted.
  CHECK_THAT(ErrorOf(Doc("\"my key\" = 1\n")),
             StartsWith("/etc/x.toml:1: \"my key\": unknown key"));
}

TEST_CASE("config: the error earliest in the file is the one reported", "[config][unit]") {
  // toml++ sorts keys; "alerts" sorts before "io_threads" but comes later.
  CHECK_THAT(ErrorOf(Doc("io_threads = -1\n", "[alerts]\nmin_severity = \"loud\"\n")),
             StartsWith("/etc/x.toml:1: io_threads:"));
  CHECK_THAT(ErrorOf(Doc("", "[scrub]\npercent = 0\n[alerts]\nmin_severity = \"loud\"\n")),
             StartsWith("/etc/x.toml:10: scrub.percent:"));
}

TEST_CASE("config: a wrong type names the expected type", "[config][unit]") {
  CHECK(ErrorOf(Doc("", "[guards]\nmax_deletes_pct = \"ten\"\n")) ==
        "/etc/x.toml:10: guards.max_deletes_pct: expected a number from 0 to 100, got \"ten\"");
  CHECK(ErrorOf(Doc("io_threads = \"4\"\n")) ==
        "/etc/x.toml:1: io_threads: expected a whole number from 0 to 1024, got \"4\"");
  CHECK(ErrorOf(Doc("read_layout = \"stripes\"\n")) ==
        "/etc/x.toml:1: read_layout: expected \"auto\", \"per-disk\" or \"whole-stripes\", got \"stripes\"");
  CHECK(ErrorOf(Doc("read_layout = 2\n")) == "/etc/x.toml:1: read_layout: expected a string, got 2");
  CHECK(ErrorOf(Doc("manifest = 5\n")) == "/etc/x.toml:1: manifest: expected a string, got 5");
  CHECK(ErrorOf(Doc("exclude = \"*.tmp\"\n")) ==
        "/etc/x.toml:1: exclude: expected an array of strings such as [\"a\", \"b\"], got "
        "\"*.tmp\"");
  CHECK(ErrorOf(Doc("exclude = [\"*.tmp\", 3]\n")) ==
        "/etc/x.toml:1: exclude: expected an array of strings, got 3 in it");
  CHECK(ErrorOf(Doc("", "[smart]\nskip_standby = \"yes\"\n")) ==
        "/etc/x.toml:10: smart.skip_standby: expected true or false, got \"yes\"");
  CHECK(ErrorOf(Doc("guards = 5\n")) == "/etc/x.toml:1: guards: expected a table [guards], got 5");
  CHECK(ErrorOf(Doc("", "[guards]\nmax_deletes = 1.5\n")) ==
        "/etc/x.toml:10: guards.max_deletes: expected a whole number of 0 or more, got 1.5");
  CHECK(ErrorOf(Doc("", "[alerts]\nrepeat_after = true\n")) ==
        "/etc/x.toml:10: alerts.repeat_after: expected a duration such as \"3d\", \"24h\", "
        "\"90m\" or a number of seconds, got true");
  CHECK_THAT(ErrorOf("[data]\nname = \"d1\"\npath = \"/mnt/d1\"\n[[parity]]\npath = \"/p/f\"\n"),
             StartsWith("/etc/x.toml:1: data: expected [[data]] tables (double brackets), got a "
                        "table"));
}

TEST_CASE("config: at least one [[data]] and one to six [[parity]] are required",
          "[config][unit]") {
  CHECK(ErrorOf("[[parity]]\npath = \"/p/atlas.parity\"\n") ==
        "/etc/x.toml: data: no [[data]] table, expected at least one with name = \"d1\" and "
        "path = \"/mnt/disk1\"");
  CHECK(ErrorOf("[[data]]\nname = \"d1\"\npath = \"/mnt/d1\"\n") ==
        "/etc/x.toml: parity: no [[parity]] table, expected 1 to 6 with path = "
        "\"/mnt/parity1/atlas.parity\"");
  std::string text = "[[data]]\nname = \"d1\"\npath = \"/mnt/d1\"\n";
  for (int i = 1; i <= 6; ++i) text += "[[parity]]\npath = \"/p" + std::to_string(i) + "/f\"\n";
  Config six = Parsed(text);
  REQUIRE(six.parity.size() == 6);
  CHECK(six.parity[5].name == "parity6");
  text += "[[parity]]\npath = \"/p7/f\"\n";
  CHECK(ErrorOf(text) ==
        "/etc/x.toml:16: parity: 7 [[parity]] tables, expected 1 to 6 parity levels");
}

TEST_CASE("config: disk names are valid and unique across data and parity", "[config][unit]") {
  CHECK(
      ErrorOf("[[data]]\nname = \"my disk\"\npath = \"/mnt/d1\"\n[[parity]]\npath = \"/p/f\"\n") ==
      "/etc/x.toml:2: data.name: expected 1 to 32 of A-Z a-z 0-9 _ . - such as \"d1\", got "
      "\"my disk\"");
  CHECK_THAT(ErrorOf("[[data]]\nname = \"" + std::string(33, 'a') +
                     "\"\npath = \"/mnt/d1\"\n[[parity]]\npath = \"/p/f\"\n"),
             StartsWith("/etc/x.toml:2: data.name: expected 1 to 32"));
  CHECK(ErrorOf("[[data]]\npath = \"/mnt/d1\"\n[[parity]]\npath = \"/p/f\"\n") ==
        "/etc/x.toml:1: data.name: missing, expected a disk name such as \"d1\"");
  CHECK(ErrorOf(Doc("", "[[data]]\nname = \"d1\"\npath = \"/mnt/disk3\"\n")) ==
        "/etc/x.toml:10: data.name: \"d1\" is already used on line 2, expected a name unique "
        "across [[data]] and [[parity]]");
  CHECK(ErrorOf(Doc("", "[[parity]]\nname = \"d2\"\npath = \"/mnt/parity2/f\"\n")) ==
        "/etc/x.toml:10: parity.name: \"d2\" is already used on line 5, expected a name unique "
        "across [[data]] and [[parity]]");
  // A parity level without a name takes parity<N>, which must be free too.
  CHECK_THAT(ErrorOf("[[data]]\nname = \"parity1\"\npath = \"/mnt/d1\"\n[[parity]]\npath = "
                     "\"/p/f\"\n"),
             StartsWith("/etc/x.toml:4: parity.name: \"parity1\" (the default name of this "
                        "[[parity]]"));
  Config named = Parsed(Doc("", "[[parity]]\nname = \"q.2_x-Y\"\npath = \"/mnt/parity2/f\"\n"));
  CHECK(named.parity[1].name == "q.2_x-Y");
}

TEST_CASE("config: every configured path must be absolute", "[config][unit]") {
  const std::string want = ": expected an absolute path (starting with \"/\"), got ";
  CHECK(ErrorOf(Doc("manifest = \"var/m\"\n")) == "/etc/x.toml:1: manifest" + want + "\"var/m\"");
  CHECK(ErrorOf(Doc("manifest_copies = [\"/a\", \"b\"]\n")) ==
        "/etc/x.toml:1: manifest_copies" + want + "\"b\"");
  CHECK(ErrorOf("[[data]]\nname = \"d1\"\npath = \"mnt/d1\"\n[[parity]]\npath = \"/p/f\"\n") ==
        "/etc/x.toml:3: data.path" + want + "\"mnt/d1\"");
  CHECK(ErrorOf("[[data]]\nname = \"d1\"\npath = \"\"\n[[parity]]\npath = \"/p/f\"\n") ==
        "/etc/x.toml:3: data.path" + want + "\"\"");
  CHECK(ErrorOf("[[data]]\nname = \"d1\"\npath = \"/mnt/d1\"\n[[parity]]\npath = \"p/f\"\n") ==
        "/etc/x.toml:5: parity.path" + want + "\"p/f\"");
  CHECK(ErrorOf("[[data]]\nname = \"d1\"\npath = \"/mnt/d1\"\n[[parity]]\npath = \"/p/\"\n") ==
        "/etc/x.toml:5: parity.path: expected the path of a file, not a directory (it ends in "
        "\"/\"), got \"/p/\"");
  CHECK(ErrorOf("[[data]]\nname = \"d1\"\n[[parity]]\npath = \"/p/f\"\n") ==
        "/etc/x.toml:1: data.path: missing, expected the disk's mount path such as \"/mnt/disk1\"");
  CHECK(ErrorOf(Doc("manifest = \"/m\"\nmanifest_copies = [\"/m/\"]\n")) ==
        "/etc/x.toml:2: manifest_copies: \"/m/\" is the manifest itself, expected a directory on "
        "another disk");
  CHECK(ErrorOf(Doc("manifest = \"/mnt/disk2/.atlas/manifest\"\n")) ==
        "/etc/x.toml:1: manifest: \"/mnt/disk2/.atlas/manifest\" is inside data disk d2 "
        "(\"/mnt/disk2\", line 7), expected a path off the data disks (copies go in "
        "manifest_copies)");
  CHECK_THAT(ErrorOf("[[data]]\nname = \"root\"\npath = \"/\"\n[[parity]]\npath = \"/p/f\"\n"),
             StartsWith("/etc/x.toml: manifest: \"/var/lib/atlas-scrub/manifest\" is inside data "
                        "disk root"));
  // Paths are kept in lexically normal form.
  Config c = Parsed(
      "[[data]]\nname = \"d1\"\npath = \"/mnt//disk1/\"\n[[parity]]\npath = "
      "\"/mnt/p/../parity1/f\"\n");
  CHECK(c.data[0].path == "/mnt/disk1");
  CHECK(c.parity[0].path == "/mnt/parity1/f");
}

TEST_CASE("config: data paths may not overlap and parity may not be a data path",
          "[config][unit]") {
  CHECK(ErrorOf(Doc("", "[[data]]\nname = \"d3\"\npath = \"/mnt/disk1/\"\n")) ==
        "/etc/x.toml:11: data.path: \"/mnt/disk1\" is also the path of data disk d1 "
        "(\"/mnt/disk1\", line 3), expected data disks that do not overlap");
  CHECK(ErrorOf(Doc("", "[[data]]\nname = \"d3\"\npath = \"/mnt/disk2/sub\"\n")) ==
        "/etc/x.toml:11: data.path: \"/mnt/disk2/sub\" is inside data disk d2 (\"/mnt/disk2\", "
        "line 6), expected data disks that do not overlap");
  CHECK(ErrorOf(Doc("", "[[data]]\nname = \"d3\"\npath = \"/mnt\"\n")) ==
        "/etc/x.toml:11: data.path: \"/mnt\" contains data disk d1 (\"/mnt/disk1\", line 3), "
        "expected data disks that do not overlap");
  // Whole components: /mnt/disk10 is beside /mnt/disk1, not inside it.
  CHECK(Parsed(Doc("", "[[data]]\nname = \"d3\"\npath = \"/mnt/disk10\"\n")).data.size() == 3);
  CHECK(ErrorOf(Doc("", "[[parity]]\npath = \"/mnt/disk2\"\n")) ==
        "/etc/x.toml:10: parity.path: \"/mnt/disk2\" is the path of data disk d2 (line 6), "
        "expected the path of a parity file");
  CHECK(ErrorOf(Doc("", "[[parity]]\npath = \"/mnt/parity1/atlas.parity\"\n")) ==
        "/etc/x.toml:10: parity.path: \"/mnt/parity1/atlas.parity\" is also the file of parity1 "
        "(line 8), expected one file per parity level");
  // A parity file may sit on a data disk; it is then never scanned as data.
  CHECK(Parsed(Doc("", "[[parity]]\npath = \"/mnt/disk1/atlas.parity\"\n")).parity.size() == 2);
}

TEST_CASE("config: block_size is a power of two from 4KiB to 16MiB", "[config][unit]") {
  CHECK(Parsed(Doc("block_size = \"4KiB\"\n")).block_size == 4096);
  CHECK(Parsed(Doc("block_size = \"16M\"\n")).block_size == 16 * 1024 * 1024);
  CHECK(Parsed(Doc("block_size = 65536\n")).block_size == 65536);
  const std::string want =
      "/etc/x.toml:1: block_size: expected a power of two from 4KiB to 16MiB such as \"256KiB\", "
      "got ";
  CHECK(ErrorOf(Doc("block_size = \"300KiB\"\n")) == want + "\"300KiB\"");
  CHECK(ErrorOf(Doc("block_size = \"2KiB\"\n")) == want + "\"2KiB\"");
  CHECK(ErrorOf(Doc("block_size = \"32MiB\"\n")) == want + "\"32MiB\"");
  CHECK(ErrorOf(Doc("block_size = \"256KB\"\n")) == want + "\"256KB\"");  // decimal
  CHECK(ErrorOf(Doc("block_size = 1000\n")) == want + "1000");
  CHECK(ErrorOf(Doc("block_size = \"big\"\n")) == want + "\"big\"");
}

TEST_CASE("config: io_threads and bandwidth_limit are checked", "[config][unit]") {
  CHECK(ErrorOf(Doc("io_threads = -1\n")) ==
        "/etc/x.toml:1: io_threads: expected a whole number from 0 to 1024, got -1");
  CHECK(Parsed(Doc("io_threads = 1024\n")).io_threads == 1024);
  CHECK(Parsed(Doc("bandwidth_limit = \"\"\n")).bandwidth_limit == 0);
  CHECK(Parsed(Doc("bandwidth_limit = \"80MiB/s\"\n")).bandwidth_limit == 80ULL << 20);
  CHECK(Parsed(Doc("bandwidth_limit = 1000000\n")).bandwidth_limit == 1'000'000);
  CHECK(ErrorOf(Doc("bandwidth_limit = \"fast\"\n")) ==
        "/etc/x.toml:1: bandwidth_limit: expected a rate such as \"150MB/s\", \"1.5GB/s\", "
        "\"80MiB/s\", or \"\" for no limit, got \"fast\"");
}

TEST_CASE("config: guards and scrub keys stay in their ranges", "[config][unit]") {
  CHECK(ErrorOf(Doc("", "[guards]\nmax_deletes_pct = 101\n")) ==
        "/etc/x.toml:10: guards.max_deletes_pct: expected a number from 0 to 100, got 101");
  CHECK(ErrorOf(Doc("", "[guards]\nmax_deletes_pct = nan\n")) ==
        "/etc/x.toml:10: guards.max_deletes_pct: expected a number from 0 to 100, got nan");
  CHECK(Parsed(Doc("", "[guards]\nmax_deletes = 0\nmax_deletes_pct = 0\n")).guards.max_deletes ==
        0);
  CHECK(ErrorOf(Doc("", "[guards]\nunsynced_warn_after = \"3 days\"\n")) ==
        "/etc/x.toml:10: guards.unsynced_warn_after: expected a duration such as \"45s\", "
        "\"90m\", \"24h\", \"3d\", \"2w\" or a number of seconds, got \"3 days\"");
  CHECK(ErrorOf(Doc("", "[guards]\nscrub_overdue_after = 0\n")) ==
        "/etc/x.toml:10: guards.scrub_overdue_after: expected a duration above zero such as "
        "\"3d\", \"24h\", \"90m\" or a number of seconds, got 0");
  CHECK(Parsed(Doc("", "[guards]\nunsynced_warn_after = 7200\n")).guards.unsynced_warn_after_s ==
        7200);
  CHECK(ErrorOf(Doc("", "[scrub]\npercent = 0\n")) ==
        "/etc/x.toml:10: scrub.percent: expected a number above 0 and at most 100, got 0");
  CHECK(ErrorOf(Doc("", "[scrub]\npercent = 100.5\n")) ==
        "/etc/x.toml:10: scrub.percent: expected a number above 0 and at most 100, got 100.5");
  CHECK(Parsed(Doc("", "[scrub]\npercent = 100\n")).scrub.percent == 100.0);
  CHECK(Parsed(Doc("", "[scrub]\nolder_than = \"0s\"\n")).scrub.older_than_s == 0);
}

TEST_CASE("config: smart devices and ignore entries must name configured disks", "[config][unit]") {
  CHECK(ErrorOf(Doc("", "[smart]\ndevices = \"manual\"\n")) ==
        "/etc/x.toml:10: smart.devices: expected \"auto\" or a table of disk name = device node "
        "such as { d1 = \"/dev/sdb\" }, got \"manual\"");
  CHECK(ErrorOf(Doc("", "[smart]\ndevices = { d3 = \"/dev/sdb\" }\n")) ==
        "/etc/x.toml:10: smart.devices.d3: \"d3\" is not a configured disk, expected one of d1, "
        "d2, parity1 (did you mean \"d1\"?)");
  CHECK(ErrorOf(Doc("", "[smart.devices]\nd1 = \"sdb\"\n")) ==
        "/etc/x.toml:10: smart.devices.d1: expected a device node such as \"/dev/sdb\" or "
        "\"/dev/disk/by-id/...\", got \"sdb\"");
  const std::string want_tail =
      ", expected \"DISK:ID\" such as \"d2:188\" with DISK one of d1, d2, parity1 and ID an "
      "attribute number from 1 to 255 or an NVMe/SCSI value name such as media_errors";
  CHECK(Parsed(Doc("", "[smart]\nignore = [\"d1:media_errors\", \"d2:188\"]\n")).smart.ignore.size() == 2);
  CHECK(ErrorOf(Doc("", "[smart]\nignore = [\"d2:188\", \"d9:5\"]\n")) ==
        "/etc/x.toml:10: smart.ignore: \"d9:5\" names no configured disk" + want_tail);
  CHECK(ErrorOf(Doc("", "[smart]\nignore = [\"d2:256\"]\n")) ==
        "/etc/x.toml:10: smart.ignore: \"d2:256\" is not DISK:ID" + want_tail);
  CHECK(ErrorOf(Doc("", "[smart]\nignore = [\"188\"]\n")) ==
        "/etc/x.toml:10: smart.ignore: \"188\" is not DISK:ID" + want_tail);
  CHECK(ErrorOf(Doc("", "[smart]\nignore = [\"d2:0\"]\n")) ==
        "/etc/x.toml:10: smart.ignore: \"d2:0\" is not DISK:ID" + want_tail);
  CHECK(ErrorOf(Doc("", "[smart.devices]\nd1 = \"/dev/sdb\"\nd2 = \"/dev/sdb\"\n")) ==
        "/etc/x.toml:11: smart.devices.d2: \"/dev/sdb\" is also the device of d1, expected one "
        "device per disk");
  Config c = Parsed(Doc("", "[smart]\ndevices = {}\n"));
  CHECK_FALSE(c.smart.devices_auto);
  CHECK(c.smart.devices.empty());
}

TEST_CASE("config: media extensions are lower-cased without leading dots", "[config][unit]") {
  Config c = Parsed(Doc("", "[outside]\nmedia_extensions = [\"..MKV\", \".flac\", \"mkv\"]\n"));
  CHECK(c.outside.media_extensions == std::vector<std::string>{"mkv", "flac"});
  CHECK(ErrorOf(Doc("", "[outside]\nmedia_extensions = [\"tar.gz\"]\n")) ==
        "/etc/x.toml:10: outside.media_extensions: expected a file extension without dots such "
        "as \"mkv\", got \"tar.gz\"");
  CHECK_THAT(ErrorOf(Doc("", "[outside]\nmedia_extensions = [\".\"]\n")), Contains("got \".\""));
  CHECK(Parsed(Doc("", "[outside]\nmedia_extensions = []\n")).outside.media_extensions.empty());
}

TEST_CASE("config: alert severities, webhooks and emails are validated", "[config][unit]") {
  CHECK(ErrorOf(Doc("", "[alerts]\nmin_severity = \"error\"\n")) ==
        "/etc/x.toml:10: alerts.min_severity: expected one of info, warning, critical, got "
        "\"error\"");
  CHECK(Parsed(Doc("", "[alerts]\nmin_severity = \"info\"\n")).alerts.min_severity ==
        Severity::kInfo);
  CHECK(ErrorOf(Doc("", "[alerts]\nhealthcheck_url = \"hc-ping.com/x\"\n")) ==
        "/etc/x.toml:10: alerts.healthcheck_url: expected an http:// or https:// URL such as "
        "\"https://hc-ping.com/<uuid>\", or \"\" for none, got \"hc-ping.com/x\"");

  CHECK(ErrorOf(Doc("", "[[alerts.webhook]]\nformat = \"ntfy\"\n")) ==
        "/etc/x.toml:9: alerts.webhook.url: missing, expected the URL to post to such as "
        "\"https://ntfy.sh/atlas\"");
  CHECK(ErrorOf(Doc("", "[[alerts.webhook]]\nurl = \"\"\n")) ==
        "/etc/x.toml:10: alerts.webhook.url: expected an http:// or https:// URL, got \"\"");
  CHECK(ErrorOf(Doc("", "[[alerts.webhook]]\nurl = \"ftp://x/y\"\n")) ==
        "/etc/x.toml:10: alerts.webhook.url: expected an http:// or https:// URL, got "
        "\"ftp://x/y\"");
  CHECK(ErrorOf(Doc("", "[[alerts.webhook]]\nurl = \"https://x\"\nformat = \"teams\"\n")) ==
        "/etc/x.toml:11: alerts.webhook.format: expected one of json, ntfy, gotify, discord, "
        "slack, got \"teams\"");
  CHECK(ErrorOf(Doc("", "[alerts.webhook]\nurl = \"https://x\"\n")) ==
        "/etc/x.toml:9: alerts.webhook: expected [[alerts.webhook]] tables (double brackets), "
        "got a table");
  CHECK(ErrorOf(Doc("", "[[alerts.webhook]]\nurl = \"https://x\"\ntoken_file = \"tok\"\n")) ==
        "/etc/x.toml:11: alerts.webhook.token_file: expected an absolute path (starting with "
        "\"/\"), got \"tok\"");

  const std::string email = "[[alerts.email]]\nfrom = \"a@b\"\nto = [\"c@d\"]\n";
  CHECK(ErrorOf(Doc("", email)) ==
        "/etc/x.toml:9: alerts.email: neither smtp_url nor sendmail is set, expected smtp_url = "
        "\"smtp://mail.example:587\" or sendmail = \"/usr/sbin/sendmail\"");
  CHECK(ErrorOf(Doc("", email + "smtp_url = \"http://mail:25\"\n")) ==
        "/etc/x.toml:12: alerts.email.smtp_url: expected an smtp:// (STARTTLS when offered) or "
        "smtps:// (implicit TLS) URL such as \"smtp://mail.example:587\", got \"http://mail:25\"");
  CHECK(
      ErrorOf(Doc("", email + "smtp_url = \"smtp://m:25\"\nsendmail = \"/usr/sbin/sendmail\"\n")) ==
      "/etc/x.toml:13: alerts.email.sendmail: set together with smtp_url (line 12), expected "
      "only one of them");
  CHECK(ErrorOf(Doc("", "[[alerts.email]]\nsmtp_url = \"smtp://m\"\nto = [\"c@d\"]\n")) ==
        "/etc/x.toml:9: alerts.email.from: missing, expected the sender address such as "
        "\"atlas@example\"");
  CHECK(ErrorOf(
            Doc("", "[[alerts.email]]\nsmtp_url = \"smtp://m\"\nfrom = \"\"\nto = [\"c@d\"]\n")) ==
        "/etc/x.toml:11: alerts.email.from: expected a sender address such as \"atlas@example\", "
        "got \"\"");
  CHECK(ErrorOf(Doc("", "[[alerts.email]]\nsmtp_url = \"smtp://m\"\nfrom = \"a@b\"\nto = []\n")) ==
        "/etc/x.toml:12: alerts.email.to: expected at least one recipient such as "
        "[\"me@example\"], got an empty array");
  CHECK(ErrorOf(Doc("",
                    "[[alerts.email]]\nsmtp_url = \"smtp://m\"\nfrom = \"a@b\"\n"
                    "to = [\"c@d\\nBcc: x@y\"]\n")) ==
        "/etc/x.toml:12: alerts.email.to: expected a recipient address such as \"me@example\", "
        "got \"c@d\\nBcc: x@y\"");
  CHECK(ErrorOf(Doc("", "[[alerts.email]]\nsmtp_url = \"smtp://m\"\nfrom = \"a@b\"\n")) ==
        "/etc/x.toml:9: alerts.email.to: missing, expected the recipients such as "
        "[\"me@example\"]");
}

TEST_CASE("config: secrets held in URLs are named for the permission warning", "[config][unit]") {
  Config plain = Parsed(Doc("",
                            "[alerts]\nhealthcheck_url = \"https://hc-ping.com/u\"\n"
                            "[[alerts.webhook]]\nurl = \"https://ntfy.example/t\"\n"
                            "token_file = \"/etc/atlas-scrub/t\"\n"
                            "[[alerts.email]]\nsmtp_url = \"smtp://user@m:587\"\n"
                            "from = \"a@b\"\nto = [\"c@d\"]\n"));
  CHECK(KeysHoldingSecrets(plain).empty());
  Config secret = Parsed(Doc("",
                             "[alerts]\nhealthcheck_url = \"https://hc/u?token=x\"\n"
                             "[[alerts.webhook]]\nurl = \"https://discord.com/api/webhooks/1/t\"\n"
                             "format = \"discord\"\n"
                             "[[alerts.email]]\nsmtp_url = \"smtps://user:pw@m:465\"\n"
                             "from = \"a@b\"\nto = [\"c@d\"]\n"));
  CHECK(KeysHoldingSecrets(secret) == std::vector<std::string>{"alerts.healthcheck_url",
                                                               "alerts.webhook.url",
                                                               "alerts.email.smtp_url"});
}

TEST_CASE("config: durations take s, m, h, d, w or plain seconds", "[config][unit]") {
  CHECK(*ParseDuration("45s") == 45);
  CHECK(*ParseDuration("90m") == 5400);
  CHECK(*ParseDuration("24h") == 86400);
  CHECK(*ParseDuration("3d") == 3 * 86400);
  CHECK(*ParseDuration("2w") == 14 * 86400);
  CHECK(*ParseDuration("3600") == 3600);
  CHECK(*ParseDuration("1d12h") == 36 * 3600);
  CHECK(*ParseDuration("0") == 0);
  for (const char* bad :
       {"", "3 days", "1.5h", "-1s", "h", "3y", "1h30", "99999999999999999999s"}) {
    Result<std::int64_t> r = ParseDuration(bad);
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
  }
  CHECK(ParseDuration("3 days").status().message() ==
        "expected a duration such as \"45s\", \"90m\", \"24h\", \"3d\", \"2w\" or a number of "
        "seconds, got \"3 days\"");
  CHECK_FALSE(ParseDuration("30000000000000000w").ok());  // overflows int64
}

TEST_CASE("config: sizes are binary for K/KiB and decimal for KB", "[config][unit]") {
  CHECK(*ParseSize("4096") == 4096);
  CHECK(*ParseSize("4096B") == 4096);
  CHECK(*ParseSize("256KiB") == 256 * 1024);
  CHECK(*ParseSize("256 KiB") == 256 * 1024);
  CHECK(*ParseSize("1MiB") == 1 << 20);
  CHECK(*ParseSize("1M") == 1 << 20);
  CHECK(*ParseSize("1G") == 1ULL << 30);
  CHECK(*ParseSize("2TiB") == 2ULL << 40);
  CHECK(*ParseSize("1.5KiB") == 1536);
  CHECK(*ParseSize("1KB") == 1000);
  CHECK(*ParseSize("3GB") == 3'000'000'000ULL);
  for (const char* bad : {"", "KiB", "1.3B", "1 mib", "1Mb", "-1K", "1.K", "20000000T"}) {
    INFO(bad);
    CHECK_FALSE(ParseSize(bad).ok());
  }
  CHECK(ParseSize("1Mb").status().message() ==
        "expected a size such as \"256KiB\", \"1MiB\", \"1G\" or a number of bytes, got \"1Mb\"");
}

TEST_CASE("config: rates are per second, decimal MB and binary MiB", "[config][unit]") {
  CHECK(*ParseRate("") == 0);
  CHECK(*ParseRate("0") == 0);
  CHECK(*ParseRate("150MB/s") == 150'000'000);
  CHECK(*ParseRate("1.5GB/s") == 1'500'000'000);
  CHECK(*ParseRate("80MiB/s") == 80ULL << 20);
  CHECK(*ParseRate("80MiB") == 80ULL << 20);
  CHECK(*ParseRate("1000/s") == 1000);
  for (const char* bad : {"fast", "150 Mbit/s", "/s", "MB/s", "1.5Mb/s"}) {
    INFO(bad);
    CHECK_FALSE(ParseRate(bad).ok());
  }
}

TEST_CASE("config: a starter config lists the disks and parses back", "[config][unit]") {
  Result<std::string> text =
      StarterConfig({"/mnt/disk1", "/mnt/disk2", "/mnt/disk3"},
                    {"/mnt/parity1/", "/mnt/parity2/snap.parity"}, "/var/lib/atlas-scrub/manifest");
  REQUIRE_OK(text);
  Config c = Parsed(*text);
  REQUIRE(c.data.size() == 3);
  CHECK(c.data[0].name == "d1");
  CHECK(c.data[2].name == "d3");
  CHECK(c.data[2].path == "/mnt/disk3");
  REQUIRE(c.parity.size() == 2);
  CHECK(c.parity[0].name == "parity1");
  CHECK(c.parity[0].path == "/mnt/parity1/atlas.parity");
  CHECK(c.parity[1].path == "/mnt/parity2/snap.parity");
  CHECK(c.manifest == "/var/lib/atlas-scrub/manifest");
  CHECK(c.manifest_copies ==
        std::vector<fs::path>{"/mnt/disk1/.atlas-scrub", "/mnt/disk2/.atlas-scrub"});
  // Everything else is at its default, and every key is shown.
  Config defaults = Parsed(kMinimal);
  CHECK(c.block_size == defaults.block_size);
  CHECK(c.exclude == defaults.exclude);
  CHECK(c.guards.max_deletes_pct == defaults.guards.max_deletes_pct);
  CHECK(c.outside.media_extensions == defaults.outside.media_extensions);
  for (const std::string& key : KnownConfigKeys()) {
    INFO(key);
    std::string leaf = key.substr(key.rfind('.') + 1);
    CHECK_THAT(*text, Contains(leaf + " = "));
  }
  // Uncommenting every default line must still parse: the defaults are valid.
  std::string uncommented;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    bool is_default = line.size() > 1 && line[0] == '#' && line[1] != ' ' &&
                      line.find(" = ") != std::string::npos;
    uncommented += (is_default ? line.substr(1) : line) + "\n";
    if (line == "#[[alerts.webhook]]")
      break;  // the alert examples are not defaults
  }
  REQUIRE_OK(ParseConfig(uncommented, "uncommented"));
}

TEST_CASE("config: a starter config refuses what it cannot write", "[config][unit]") {
  CHECK(StarterConfig({}, {"/p/"}, "/m").status().message() ==
        "no data disk given, expected at least one data path");
  CHECK(StarterConfig({"/d"}, {}, "/m").status().message() ==
        "0 parity paths given, expected 1 to 6 (one per parity level)");
  CHECK(StarterConfig({"/d"}, {"/1/", "/2/", "/3/", "/4/", "/5/", "/6/", "/7/"}, "/m")
            .status()
            .code() == Code::kInvalidArgument);
  CHECK(StarterConfig({"mnt/d"}, {"/p/"}, "/m").status().message() ==
        "data path \"mnt/d\" is not absolute, expected a path starting with \"/\"");
  CHECK(StarterConfig({"/d"}, {"p"}, "/m").status().code() == Code::kInvalidArgument);
  CHECK(StarterConfig({"/d"}, {"/p/"}, "m").status().code() == Code::kInvalidArgument);
  CHECK_THAT(std::string(StarterConfig({"/mnt/a", "/mnt/a/b"}, {"/p/"}, "/m").status().message()),
             StartsWith("cannot write a starter config for these paths: starter config:") &&
                 Contains("data.path: \"/mnt/a/b\" is inside data disk d1"));
  // One data disk: one manifest copy. Odd characters survive TOML quoting.
  Result<std::string> one = StarterConfig({"/mnt/my \"disk\""}, {"/p/"}, "/m");
  REQUIRE_OK(one);
  Config c = Parsed(*one);
  CHECK(c.data[0].path == "/mnt/my \"disk\"");
  CHECK(c.manifest_copies == std::vector<fs::path>{"/mnt/my \"disk\"/.atlas-scrub"});
}

// A FileSystem holding a few files in memory; only ReadFile works.
class MapFileSystem : public FileSystem {
 public:
  std::map<std::string, std::string> files;
  std::set<std::string> unreadable;

  Result<std::string> ReadFile(const fs::path& path, std::uint64_t = kDefaultReadFileMax) override {
    if (unreadable.count(path.string()) != 0) {
      return Status::IOError("open " + path.string() + ": Permission denied", 13);
    }
    auto it = files.find(path.string());
    if (it == files.end())
      return Status::NotFound("open " + path.string() + ": No such file");
    return it->second;
  }
  Result<std::unique_ptr<RandomAccessFile>> OpenForRead(const fs::path&) override {
    return Status::Internal("unused");
  }
  Result<std::unique_ptr<WritableFile>> OpenForWrite(const fs::path&, OpenMode,
                                                     std::uint32_t) override {
    return Status::Internal("unused");
  }
  Result<FileStat> Stat(const fs::path&) override { return Status::Internal("unused"); }
  Status Walk(const fs::path&, const WalkOptions&, const WalkFn&) override {
    return Status::Internal("unused");
  }
  Status CreateDirs(const fs::path&) override { return Status::Internal("unused"); }
  Status Rename(const fs::path&, const fs::path&) override { return Status::Internal("unused"); }
  Status Remove(const fs::path&) override { return Status::Internal("unused"); }
  Status SyncDir(const fs::path&) override { return Status::Internal("unused"); }
};

TEST_CASE("config: LoadConfig reads through the FileSystem and names a missing file",
          "[config][unit]") {
  MapFileSystem fs;
  fs.files["/etc/atlas-scrub/atlas-scrub.toml"] = kMinimal;
  fs.files["/etc/bad.toml"] = "io_threads = -2\n";
  fs.unreadable.insert("/etc/secret.toml");

  Result<Config> ok = LoadConfig(&fs, "/etc/atlas-scrub/atlas-scrub.toml");
  REQUIRE_OK(ok);
  CHECK(ok->source == "/etc/atlas-scrub/atlas-scrub.toml");
  CHECK(ok->data.size() == 2);

  Result<Config> missing = LoadConfig(&fs, "/etc/none.toml");
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK(missing.status().message() ==
        "config file /etc/none.toml not found; create one with `atlas-scrub init --data PATH... "
        "--parity PATH...` or pass -c PATH");

  Result<Config> denied = LoadConfig(&fs, "/etc/secret.toml");
  CHECK(denied.status().code() == Code::kIOError);
  CHECK(denied.status().sys_errno() == 13);
  CHECK_THAT(std::string(denied.status().message()),
             StartsWith("cannot read config file /etc/secret.toml: "));

  CHECK_THAT(std::string(LoadConfig(&fs, "/etc/bad.toml").status().message()),
             StartsWith("/etc/bad.toml:1: io_threads: "));
}

// The first word of a roff line's first macro argument: `.BI "a.b = " type`
// gives "a.b". Empty when the line is not a .B, .BR or .BI request.
std::string BoldKeyOf(const std::string& line) {
  for (const char* macro : {".B ", ".BR ", ".BI "}) {
    std::string_view m(macro);
    if (line.compare(0, m.size(), m) != 0)
      continue;
    std::string rest = line.substr(m.size());
    if (!rest.empty() && rest[0] == '"')
      rest.erase(0, 1);
    return rest.substr(0, rest.find_first_of(" \"\\"));
  }
  return "";
}

// The .EX/.EE block that follows `.SH <section>` in the man page, with roff
// escapes (\- \e \&) turned back into plain text.
std::string ManExample(const std::string& section) {
  std::ifstream page(ATLAS_SOURCE_DIR "/man/atlas-scrub.toml.5");
  std::string out;
  bool in_section = false;
  bool in_example = false;
  for (std::string line; std::getline(page, line);) {
    if (line.rfind(".SH ", 0) == 0)
      in_section = line == ".SH " + section;
    if (!in_section)
      continue;
    if (line == ".EX") {
      in_example = true;
    } else if (line == ".EE") {
      break;
    } else if (in_example) {
      std::string plain;
      for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) {
          char next = line[++i];
          if (next == '-')
            plain += '-';
          if (next == 'e')
            plain += '\\';
          continue;  // \& is dropped
        }
        plain += line[i];
      }
      out += plain + "\n";
    }
  }
  return out;
}

TEST_CASE("config: the examples in atlas-scrub.toml(5) parse", "[config][unit]") {
  std::string minimal = ManExample("MINIMAL EXAMPLE");
  REQUIRE_FALSE(minimal.empty());
  CHECK(Parsed(minimal).data.size() == 2);
  std::string full = ManExample("EXAMPLE");
  REQUIRE_FALSE(full.empty());
  Config c = Parsed(full);
  CHECK(c.data.size() == 4);
  CHECK(c.parity.size() == 2);
  CHECK(c.alerts.webhooks.size() == 1);
  CHECK(c.alerts.emails.size() == 1);
  CHECK(KeysHoldingSecrets(c).empty());
}

TEST_CASE("config: manifest_copies at or above a data disk's root is an error naming the disk",
          "[config][unit][issue-14]") {
  CHECK(ErrorOf(Doc("manifest_copies = [\"/mnt/disk3/.atlas-scrub\", \"/mnt/disk2\"]\n")) ==
        "/etc/x.toml:1: manifest_copies: \"/mnt/disk2\" is the root of data disk d2 "
        "(\"/mnt/disk2\", line 7); manifest_copies must be a directory of its own such as "
        "\"/mnt/disk2/.atlas-scrub\", not the data disk root");
  CHECK(ErrorOf(Doc("manifest_copies = [\"/mnt\"]\n")) ==
        "/etc/x.toml:1: manifest_copies: \"/mnt\" is above data disk d1 (\"/mnt/disk1\", line 4); "
        "manifest_copies must be a directory of its own such as \"/mnt/disk1/.atlas-scrub\", not "
        "the data disk root");
  Config c = Parsed(Doc("manifest_copies = [\"/mnt/disk1/.atlas-scrub\", \"/mnt/disk10\"]\n"));
  CHECK(c.manifest_copies.size() == 2);
}

TEST_CASE("config: [outside] trusted_key takes the form --print-key prints, nothing else",
          "[config][unit][issue-14]") {
  const std::string key = "ed25519:" + std::string(43, 'A') + "=";
  CHECK(Parsed(Doc("", "[outside]\ntrusted_key = \"" + key + "\"\n")).outside.trusted_key == key);
  CHECK(ErrorOf(Doc("", "[outside]\ntrusted_key = \"ssh-ed25519 AAAA\"\n")) ==
        "/etc/x.toml:10: outside.trusted_key: expected \"ed25519:\" and 44 base64 characters, as "
        "`atlas-scrub outside --print-key` prints it on Atlas, got \"ssh-ed25519 AAAA\"");
}

TEST_CASE("config: [[outside.hosts]] takes a name, an argv command and a timeout",
          "[config][unit][issue-16]") {
  const std::string host =
      "[[outside.hosts]]\nname = \"prometheus\"\ncommand = [\"ssh\", \"-T\", \"scan@prometheus\"]\n";
  Config c = Parsed(Doc("", "[outside]\natlas_mounts = [\"/mnt/atlas/\"]\n" + host +
                                "[[outside.hosts]]\nname = \"b-2.x_y\"\ncommand = [\"true\"]\n"
                                "timeout = \"90s\"\n"));
  CHECK(c.outside.atlas_mounts == std::vector<fs::path>{"/mnt/atlas"});
  REQUIRE(c.outside.hosts.size() == 2);
  CHECK(c.outside.hosts[0].name == "prometheus");
  CHECK(c.outside.hosts[0].command == std::vector<std::string>{"ssh", "-T", "scan@prometheus"});
  CHECK(c.outside.hosts[0].timeout_s == 2 * 3600);
  CHECK(c.outside.hosts[1].timeout_s == 90);
  CHECK(Parsed(kMinimal).outside.hosts.empty());

  CHECK(ErrorOf(Doc("", "[[outside.hosts]]\nname = \"a b\"\ncommand = [\"true\"]\n")) ==
        "/etc/x.toml:10: outside.hosts.name: expected 1 to 32 of the characters A-Z a-z 0-9 _ . -, "
        "got \"a b\"");
  CHECK(ErrorOf(Doc("", host + host)) ==
        "/etc/x.toml:13: outside.hosts.name: another [[outside.hosts]] is already named "
        "\"prometheus\"; each needs its own name");
  CHECK_THAT(ErrorOf(Doc("", "[[outside.hosts]]\nname = \"a\"\ncommand = []\n")),
             StartsWith("/etc/x.toml:11: outside.hosts.command: expected a non-empty array of strings, "
                        "the program first (it is run without a shell)"));
  CHECK_THAT(ErrorOf(Doc("", "[[outside.hosts]]\nname = \"a\"\ncommand = \"ssh host\"\n")),
             StartsWith("/etc/x.toml:11: outside.hosts.command: expected an array of strings"));
  CHECK_THAT(ErrorOf(Doc("", "[[outside.hosts]]\nname = \"a\"\n")),
             Contains("outside.hosts.command: missing, expected the command to run as an array"));
  CHECK(ErrorOf(Doc("", host + "timeout = \"8d\"\n")) ==
        "/etc/x.toml:12: outside.hosts.timeout: expected a duration from 1 second to 7 days such as "
        "\"2h\", got 691200 seconds");
  CHECK_THAT(ErrorOf(Doc("", host + "timeout = 0\n")),
             StartsWith("/etc/x.toml:12: outside.hosts.timeout: expected a duration above zero"));
  CHECK_THAT(ErrorOf(Doc("", host + "user = \"x\"\n")),
             Contains("outside.hosts.user: unknown key, expected one of name, command, timeout"));
  CHECK_THAT(ErrorOf(Doc("", "[outside]\natlas_mounts = [\"mnt\"]\n")),
             Contains("outside.atlas_mounts: expected an absolute path"));
}

TEST_CASE("config: every known key has an entry in atlas-scrub.toml(5)", "[config][unit][docs]") {
  std::ifstream page(ATLAS_SOURCE_DIR "/man/atlas-scrub.toml.5");
  REQUIRE(page.good());
  std::set<std::string> entries;
  for (std::string line; std::getline(page, line);) entries.insert(BoldKeyOf(line));
  // + alerts.timeout, attempts, retry_delay, read_layout, guards.max_modified(_pct), guards.exempt,
  // outside.trusted_key, outside.atlas_mounts, outside.hosts.{name,command,timeout},
  // smart.stale_after, temp_limit, temp_check_every, temp_wait_max, scrub_failing,
  // disks.spindown_after_run
  REQUIRE(KnownConfigKeys().size() == 50);
  for (const std::string& key : KnownConfigKeys()) {
    INFO("no .B/.BI entry for " << key);
    CHECK(entries.count(key) == 1);
  }
}

}  // namespace
}  // namespace atlas
