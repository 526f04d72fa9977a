// metrics through the real binary: the exposition's values after sync and a
// scrub that finds corruption, promtool's verdict, and the textfile write.
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <map>
#include <sstream>

#include "support/temp_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

// "name{labels}" -> value for every sample line; HELP/TYPE lines counted by name.
struct Exposition {
  std::map<std::string, double> samples;
  std::map<std::string, int> help;
  std::map<std::string, std::string> type;
};

Exposition Parse(const std::string& text) {
  Exposition e;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      e.help[line.substr(7, line.find(' ', 7) - 7)]++;
    } else if (line.rfind("# TYPE ", 0) == 0) {
      std::string rest = line.substr(7);
      e.type[rest.substr(0, rest.find(' '))] = rest.substr(rest.find(' ') + 1);
    } else if (!line.empty()) {
      std::size_t sp = line.rfind(' ');
      e.samples[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
    }
  }
  return e;
}

std::string ReadFileText(const fs::path& path) {
  std::vector<std::byte> bytes = ReadFileBytes(path);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// Runs `promtool check metrics` on `text`; nullopt when promtool is absent.
std::optional<std::pair<int, std::string>> Promtool(const std::string& text) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) return std::nullopt;
  TempDir dir;
  WriteFile(dir / "in.prom", text);
  std::string cmd = "promtool check metrics < '" + (dir / "in.prom").string() + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  return std::make_pair(WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out);
}

void Populate(TempArray& a) {
  a.Write(1, "Movies/Big Film (2010).mkv", 10 * 65536 + 123, 1);
  a.Write(2, "Music/album/track.flac", 4 * 65536, 2);
  a.Write(3, "Photos/img.jpg", 70000, 3);
}

constexpr std::uint64_t kPopulatedBytes = 10 * 65536 + 123 + 4 * 65536 + 70000;

TEST_CASE("metrics: after a scrub finds corruption the exposition says so in every figure",
          "[metrics][e2e]") {
  // STRATEGY:
  // 1. Sync 3 files on 3 data disks (2 parity levels), scrub clean, flip one
  //    byte, scrub again: one silent_corruption, scrub exit 1.
  // 2. `metrics` exits 0 and prints files 3, the exact bytes, health 2, the
  //    corruption counted under {critical, silent_corruption}, zero series
  //    for the other warning/critical kinds, last-run figures for sync (0)
  //    and scrub (1), every disk up, SMART unknown (3).
  // 3. Every family has exactly one HELP and a gauge TYPE; no label holds a path.
  // 4. promtool check metrics accepts it (skipped with a warning without promtool).
  TempArray a(3, 2);
  Populate(a);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  REQUIRE(a.Run({"scrub", "--plan", "full"}).exit_code == 0);
  FlipByteKeepMtime(a.File(1, "Movies/Big Film (2010).mkv"), 2 * 65536 + 17);
  REQUIRE(a.Run({"scrub", "--plan", "full"}).exit_code == 1);

  CliResult r = a.Run({"metrics"}, /*json=*/false);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  Exposition e = Parse(r.out);
  CHECK(e.samples["atlas_scrub_health"] == 2);
  CHECK(e.samples["atlas_scrub_scrape_success"] == 1);
  CHECK(e.samples["atlas_scrub_synced"] == 1);
  CHECK(e.samples["atlas_scrub_array_files"] == 3);
  CHECK(e.samples["atlas_scrub_array_bytes"] == kPopulatedBytes);
  CHECK(e.samples["atlas_scrub_array_data_disks"] == 3);
  CHECK(e.samples["atlas_scrub_array_parity_levels"] == 2);
  CHECK(e.samples["atlas_scrub_unsynced_files"] == 0);
  CHECK(e.samples["atlas_scrub_unsynced_positions"] == 0);
  CHECK(e.samples["atlas_scrub_scrub_verified_ratio"] > 0.5);  // all but the bad position
  CHECK(e.samples["atlas_scrub_scrub_verified_ratio"] <= 1.0);
  CHECK(e.samples["atlas_scrub_findings_open{severity=\"critical\",kind=\"silent_corruption\"}"] == 1);
  CHECK(e.samples.count("atlas_scrub_findings_open{severity=\"critical\",kind=\"read_error\"}") == 1);
  CHECK(e.samples["atlas_scrub_findings_open{severity=\"critical\",kind=\"read_error\"}"] == 0);
  CHECK(e.samples.count("atlas_scrub_findings_open{severity=\"warning\",kind=\"scrub_overdue\"}") == 1);
  CHECK(e.samples["atlas_scrub_last_run_exit_code{command=\"scrub\"}"] == 1);
  CHECK(e.samples["atlas_scrub_last_run_exit_code{command=\"sync\"}"] == 0);
  CHECK(e.samples.count("atlas_scrub_last_run_timestamp_seconds{command=\"scrub\"}") == 1);
  CHECK(e.samples["atlas_scrub_last_run_timestamp_seconds{command=\"scrub\"}"] >=
        e.samples["atlas_scrub_last_run_timestamp_seconds{command=\"sync\"}"]);
  CHECK(e.samples["atlas_scrub_last_run_duration_seconds{command=\"sync\"}"] >= 0);
  CHECK(e.samples.count("atlas_scrub_last_run_exit_code{command=\"fix\"}") == 0);  // never ran
  CHECK(e.samples["atlas_scrub_last_sync_timestamp_seconds"] > 1.6e9);
  CHECK(e.samples["atlas_scrub_last_scrub_timestamp_seconds"] > 1.6e9);
  for (int d = 1; d <= 3; ++d) {
    std::string disk = "d" + std::to_string(d);
    CHECK(e.samples["atlas_scrub_disk_up{disk=\"" + disk + "\",role=\"data\"}"] == 1);
    CHECK(e.samples["atlas_scrub_disk_smart_status{disk=\"" + disk + "\"}"] == 3);
  }
  CHECK(e.samples["atlas_scrub_disk_files{disk=\"d1\"}"] == 1);
  CHECK(e.samples["atlas_scrub_disk_bytes{disk=\"d1\",role=\"data\"}"] == 10 * 65536 + 123);
  CHECK(e.samples["atlas_scrub_info{version=\"0.1.0\",schema=\"1\"}"] == 1);

  for (const auto& [name, n] : e.help) {
    CHECK(n == 1);
    CHECK(e.type[name] == "gauge");
  }
  for (const char* name : {"atlas_scrub_health", "atlas_scrub_last_run_timestamp_seconds",
                           "atlas_scrub_last_run_duration_seconds", "atlas_scrub_last_run_exit_code",
                           "atlas_scrub_array_files", "atlas_scrub_array_bytes", "atlas_scrub_unsynced_files",
                           "atlas_scrub_scrub_verified_ratio", "atlas_scrub_findings_open",
                           "atlas_scrub_disk_up", "atlas_scrub_disk_smart_status"}) {
    INFO(name);
    CHECK(e.help.count(name) == 1);
  }
  CHECK(r.out.find("Movies") == std::string::npos);
  CHECK(r.out.find(a.root().string()) == std::string::npos);

  auto promtool = Promtool(r.out);
  if (!promtool) {
    WARN("promtool not found (Debian package prometheus): `promtool check metrics` skipped");
  } else {
    INFO(promtool->second);
    CHECK(promtool->first == 0);
    CHECK(promtool->second.empty());
  }

  CliResult json = a.Run({"metrics"});
  REQUIRE(json.exit_code == 0);
  CHECK(json.json["command"] == "metrics");
  CHECK(json.json["health"] == "critical");
  bool found = false;
  for (const auto& f : json.json["metrics"]) {
    if (f["name"] != "atlas_scrub_array_files") continue;
    found = true;
    CHECK(f["samples"][0]["value"] == 3);
  }
  CHECK(found);
}

TEST_CASE("metrics: before the first sync health and disks are exported and array figures are 0",
          "[metrics][e2e]") {
  // STRATEGY:
  // 1. A configured array that was never synced, one file on d1: exit 0,
  //    health 1 (the never-synced `unsynced` warning), synced 0, files 0,
  //    unsynced_files 1, every disk up, no last-run series.
  // 2. promtool accepts it.
  TempArray a(2, 1);
  a.Write(1, "a.mkv", 1000, 1);
  CliResult r = a.Run({"metrics"}, /*json=*/false);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  Exposition e = Parse(r.out);
  CHECK(e.samples["atlas_scrub_health"] == 1);
  CHECK(e.samples["atlas_scrub_synced"] == 0);
  CHECK(e.samples["atlas_scrub_array_files"] == 0);
  CHECK(e.samples["atlas_scrub_array_bytes"] == 0);
  CHECK(e.samples["atlas_scrub_unsynced_files"] == 1);
  CHECK(e.samples["atlas_scrub_findings_open{severity=\"warning\",kind=\"unsynced\"}"] == 1);
  CHECK(e.samples["atlas_scrub_disk_up{disk=\"d1\",role=\"data\"}"] == 1);
  CHECK(e.samples["atlas_scrub_disk_up{disk=\"d2\",role=\"data\"}"] == 1);
  CHECK(e.help.count("atlas_scrub_last_run_exit_code") == 0);
  CHECK(e.help.count("atlas_scrub_last_sync_timestamp_seconds") == 0);
  auto promtool = Promtool(r.out);
  if (!promtool) {
    WARN("promtool not found (Debian package prometheus): `promtool check metrics` skipped");
  } else {
    INFO(promtool->second);
    CHECK(promtool->first == 0);
  }
}

TEST_CASE("metrics: a missing disk is disk_up 0 and a critical missing_disk", "[metrics][e2e]") {
  // STRATEGY: sync, remove d2's directory, metrics: disk_up{d2} 0, d1 1,
  // findings_open{critical,missing_disk} 1, health 2.
  TempArray a(2, 1);
  a.Write(1, "a.mkv", 1000, 1);
  a.Write(2, "b.mkv", 1000, 2);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  fs::remove_all(a.Disk(2));
  CliResult r = a.Run({"metrics"}, /*json=*/false);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  Exposition e = Parse(r.out);
  CHECK(e.samples["atlas_scrub_disk_up{disk=\"d2\",role=\"data\"}"] == 0);
  CHECK(e.samples["atlas_scrub_disk_up{disk=\"d1\",role=\"data\"}"] == 1);
  CHECK(e.samples["atlas_scrub_findings_open{severity=\"critical\",kind=\"missing_disk\"}"] >= 1);
  CHECK(e.samples["atlas_scrub_health"] == 2);
}

TEST_CASE("metrics: --textfile replaces DIR/atlas_scrub.prom atomically, mode 0644, silently",
          "[metrics][e2e]") {
  // STRATEGY:
  // 1. A stale atlas_scrub.prom and an unrelated file sit in DIR; umask 077.
  // 2. metrics --textfile DIR exits 0 and prints nothing; the file now holds
  //    the exposition (files 1), mode 0644 despite the umask, is a new inode
  //    (renamed over, not rewritten in place), and no temporary file is left.
  // 3. A second run after another sync replaces it again (files 2).
  // 4. A missing DIR is exit 2 naming it; nothing is created.
  TempArray a(2, 1);
  a.Write(1, "a.mkv", 1000, 1);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  TempDir dir;
  WriteFile(dir / "atlas_scrub.prom", std::string("stale 1\n"));
  WriteFile(dir / "other.prom", std::string("other_metric 1\n"));
  struct stat before {};
  REQUIRE(stat((dir / "atlas_scrub.prom").c_str(), &before) == 0);

  std::string cmd = "umask 077 && '" + std::string(ATLAS_SCRUB_BIN) + "' -c '" + a.config().string() +
                    "' metrics --textfile '" + dir.path().string() + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  INFO(out);
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 0);
  CHECK(out.empty());

  struct stat after {};
  REQUIRE(stat((dir / "atlas_scrub.prom").c_str(), &after) == 0);
  CHECK((after.st_mode & 07777) == 0644);
  CHECK(after.st_ino != before.st_ino);
  std::string text = ReadFileText(dir / "atlas_scrub.prom");
  CHECK(Parse(text).samples["atlas_scrub_array_files"] == 1);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir.path())) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"atlas_scrub.prom", "other.prom"});

  a.Write(2, "b.mkv", 1000, 2);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  CliResult again = a.Run({"metrics", "--textfile", dir.path().string()}, /*json=*/false);
  CHECK(again.exit_code == 0);
  CHECK(again.out.empty());
  CHECK(Parse(ReadFileText(dir / "atlas_scrub.prom")).samples["atlas_scrub_array_files"] == 2);

  CliResult missing = a.Run({"metrics", "--textfile", (dir / "nope").string()}, /*json=*/false);
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find((dir / "nope").string()) != std::string::npos);
  CHECK(missing.err.find("not a directory") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "nope"));
}

TEST_CASE("metrics: an unreadable manifest exits 3 and still writes scrape_success 0", "[metrics][e2e]") {
  // STRATEGY: sync, then replace the manifest directory's CURRENT file with
  // junk so RocksDB cannot open it: metrics --textfile exits 3 with an error
  // on stderr, and the textfile holds atlas_scrub_scrape_success 0 (so a
  // broken manifest alerts instead of leaving a stale file).
  TempArray a(2, 1);
  a.Write(1, "a.mkv", 1000, 1);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  WriteFile(a.Manifest() / "CURRENT", std::string("MANIFEST-999999\n"));
  TempDir dir;
  CliResult r = a.Run({"metrics", "--textfile", dir.path().string()}, /*json=*/false);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("error") != std::string::npos);
  Exposition e = Parse(ReadFileText(dir / "atlas_scrub.prom"));
  CHECK(e.samples["atlas_scrub_scrape_success"] == 0);
  CHECK(e.samples.count("atlas_scrub_health") == 0);
}

}  // namespace
}  // namespace atlas::testing
