// STRATEGY:
// 1. Disks are named in [smart] devices as device nodes that do not exist,
//    so every SMART reading goes through a fake smartctl
//    ($ATLAS_SCRUB_SMARTCTL) and every power question through a fake hdparm
//    first on PATH. The fakes log their argv and answer from files: a
//    "<node>.standby" file makes the disk asleep, "<node>.temps" holds the
//    temperatures of its next readings, one per line.
// 2. A scrub stores a reading of exactly the disks it read (a data disk
//    with no blocks is not read, so it gets none), `status` and `metrics`
//    show them without a `smart` run, and a sleeping disk is asked with
//    -n standby and never woken.
// 3. [smart] temp_limit with temp_check_every = 0: a disk reported hot is
//    held from the next window on and resumed when it reads cool; the
//    positions it held are exactly those a `scrub --plan new` verifies next.
// 4. A stored failing reading is named at the top of sync and scrub, its
//    finding is in their findings (so in their alert and exit code), and
//    scrub does not read that disk unless [smart] scrub_failing = "read".
// 5. [disks] spindown_after_run: hdparm -y is asked for exactly the disks
//    that were in standby before the run and that it used, never for one a
//    process holds a file open on; status shows the power states, asking
//    with hdparm -C only.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "support/http_receiver.h"
#include "support/temp_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kData = fs::path(ATLAS_SOURCE_DIR) / "tests" / "data" / "smart";

std::vector<std::string> Lines(const fs::path& p) {
  std::vector<std::string> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::size_t Count(const std::vector<std::string>& lines, const std::string& needle) {
  std::size_t n = 0;
  for (const std::string& l : lines) n += l.find(needle) != std::string::npos;
  return n;
}

// Fake smartctl and hdparm in `dir`, answering from files in `dir`.
struct FakeTools {
  TempDir dir;
  fs::path smart_log = dir / "smartctl.log";
  fs::path hdparm_log = dir / "hdparm.log";

  FakeTools() {
    // A clean ATA disk (the HGST fixture) whose temperature is filled in.
    json doc = json::parse(ReadFileText(kData / "HGST_HMS5C4040BLE640.json"));
    doc["temperature"]["current"] = 987654;
    std::string text = doc.dump();
    text.replace(text.find("987654"), 6, "__TEMP__");
    WriteFile(dir / "template.json", text);
    const std::string d = dir.path().string();
    Script("smartctl",
           "echo \"$@\" >> '" + smart_log.string() + "'\n"
           "for a; do dev=$a; done\n"
           "n=$(basename \"$dev\")\n"
           "if [ -e '" + d + "'/$n.standby ]; then\n"
           "  echo '{\"json_format_version\":[1,0],\"smartctl\":{\"version\":[7,3],\"exit_status\":2,"
           "\"messages\":[{\"string\":\"Device is in STANDBY mode, exit(2)\",\"severity\":\"information\"}]}}'\n"
           "  exit 2\n"
           "fi\n"
           "t=35\n"
           "f='" + d + "'/$n.temps\n"
           "if [ -s \"$f\" ]; then\n"
           "  t=$(head -n 1 \"$f\")\n"
           "  if [ $(wc -l < \"$f\") -gt 1 ]; then tail -n +2 \"$f\" > \"$f.next\" && mv \"$f.next\" \"$f\"; fi\n"
           "fi\n"
           "sed \"s/__TEMP__/$t/\" '" + d + "/template.json'\n");
    Script("hdparm",
           "echo \"$@\" >> '" + hdparm_log.string() + "'\n"
           "dev=$2; n=$(basename \"$dev\")\n"
           "case $1 in\n"
           "  -C) printf '\\n%s:\\n' \"$dev\"\n"
           "      if [ -e '" + d + "'/$n.standby ]; then echo ' drive state is:  standby';"
           " else echo ' drive state is:  active/idle'; fi ;;\n"
           "  -y) touch '" + d + "'/$n.standby; printf '\\n%s:\\n issuing standby command\\n' \"$dev\" ;;\n"
           "  *) exit 1 ;;\n"
           "esac\n");
  }
  void Script(const std::string& name, const std::string& body) {
    fs::path p = dir / name;
    WriteFile(p, "#!/bin/sh\n" + body);
    fs::permissions(p, fs::perms::owner_all);
  }
  std::map<std::string, std::string> Env() const {
    const char* path = std::getenv("PATH");
    return {{"ATLAS_SCRUB_SMARTCTL", (dir / "smartctl").string()},
            {"PATH", dir.path().string() + ":" + (path ? path : "/usr/bin:/bin")}};
  }
  void Asleep(const std::string& node, bool asleep) {
    const fs::path f = dir / (fs::path(node).filename().string() + ".standby");
    if (asleep) {
      WriteFile(f, "");
    } else {
      fs::remove(f);
    }
  }
  void Temperatures(const std::string& node, const std::vector<int>& temps) {
    std::string text;
    for (int t : temps) text += std::to_string(t) + "\n";
    WriteFile(dir / (fs::path(node).filename().string() + ".temps"), text);
  }
};

// Disks d1..dN and parity1 on device nodes /dev/atlas-test-NAME, which do
// not exist: only the fakes ever see them.
std::string Devices(int data) {
  std::string t = "[smart]\ndevices = { ";
  for (int i = 1; i <= data; ++i) t += fmt::format("d{0} = \"/dev/atlas-test-d{0}\", ", i);
  return t + "parity1 = \"/dev/atlas-test-parity1\" }\n";
}

const json* DiskRow(const json& status, const std::string& name) {
  for (const json& d : status["disks"]) {
    if (d["name"] == name) return &d;
  }
  return nullptr;
}

std::vector<std::string> SmartDisks(const json& run) {
  std::vector<std::string> out;
  for (const json& r : run["smart"]) {
    if (r["stored"] == true) out.push_back(r["disk"]);
  }
  return out;
}

TEST_CASE("smart: a scrub stores a reading of each disk it read and none of a disk it did not read",
          "[smart][scrub][e2e][issue-16]") {
  TempArray a(3, 1, 64 * 1024, Devices(3));
  a.Write(1, "a.bin", 300'000, 1);
  a.Write(2, "b.bin", 200'000, 2);  // d3 holds nothing: scrub reads no block of it
  FakeTools fake;
  // The sync runs with no smartctl at all: nothing is stored.
  CliResult sync = a.Run({"sync"}, true, {{"ATLAS_SCRUB_SMARTCTL", (fake.dir / "none").string()}});
  REQUIRE(sync.exit_code == 0);
  CHECK(SmartDisks(sync.json).empty());
  CliResult before = a.Run({"status"}, true, fake.Env());
  CHECK((*DiskRow(before.json, "d1"))["smart_read"].is_null());
  CHECK((*DiskRow(before.json, "d1"))["smart"] == "unknown");

  fake.Asleep("/dev/atlas-test-parity1", true);  // the parity disk sleeps now (its blocks come from the cache)
  CliResult scrub = a.Run({"scrub", "--plan", "full"}, true, fake.Env());
  REQUIRE(scrub.exit_code == 0);
  CHECK(SmartDisks(scrub.json) == std::vector<std::string>{"d1", "d2"});
  const std::vector<std::string> calls = Lines(fake.smart_log);
  CHECK(Count(calls, "/dev/atlas-test-d1") == 1);
  CHECK(Count(calls, "/dev/atlas-test-d2") == 1);
  CHECK(Count(calls, "/dev/atlas-test-d3") == 0);       // not read: not asked
  CHECK(Count(calls, "/dev/atlas-test-parity1") == 1);  // read, asleep: asked without waking
  CHECK(Count(calls, "-n standby") == calls.size());
  CHECK(Count(calls, "-n never") == 0);

  // status shows the readings without a `smart` run.
  CliResult status = a.Run({"status"}, true, fake.Env());
  for (const std::string name : {"d1", "d2"}) {
    const json& row = *DiskRow(status.json, name);
    CHECK(row["smart"] == "ok");
    CHECK(row["smart_read"].is_string());
    CHECK(row["temperature_c"] == 35);
  }
  CHECK((*DiskRow(status.json, "d3"))["smart_read"].is_null());
  CHECK((*DiskRow(status.json, "parity1"))["smart_read"].is_null());  // asleep: not stored
  CHECK((*DiskRow(status.json, "parity1"))["power"] == "standby");
  CHECK((*DiskRow(status.json, "d1"))["power"] == "active");
  CHECK(Count(Lines(fake.hdparm_log), "-y") == 0);  // status only asks
  CliResult text = a.Run({"status"}, false, fake.Env());
  CHECK(text.out.find("just now") != std::string::npos);
  CliResult metrics = a.Run({"metrics"}, false, fake.Env());
  CHECK(metrics.out.find("atlas_scrub_disk_temperature_celsius{disk=\"d1\"} 35\n") != std::string::npos);
  CHECK(metrics.out.find("atlas_scrub_disk_temperature_celsius{disk=\"d3\"}") == std::string::npos);
  CHECK(metrics.out.find("atlas_scrub_disk_smart_reading_timestamp_seconds{disk=\"d2\"} ") != std::string::npos);
  CHECK(metrics.out.find("atlas_scrub_disk_standby{disk=\"parity1\"} 1\n") != std::string::npos);
}

TEST_CASE("smart: temp_limit makes a scrub skip a hot disk and resume it once it has cooled",
          "[smart][scrub][e2e][issue-16]") {
  TempArray a(3, 1, 64 * 1024,
              Devices(3) + "temp_limit = 50\ntemp_check_every = \"0s\"\n");
  // About 90 positions: five windows of reads.
  for (int d = 1; d <= 3; ++d) a.Write(d, "big.bin", 6'000'000, d);
  FakeTools fake;
  REQUIRE(a.Run({"sync"}, true, {{"ATLAS_SCRUB_SMARTCTL", (fake.dir / "none").string()}}).exit_code == 0);
  // d2 reads 60 C at the first two checks, then 40 C.
  fake.Temperatures("/dev/atlas-test-d2", {60, 60, 40});
  CliResult scrub = a.Run({"scrub", "--plan", "full"}, true, fake.Env());
  REQUIRE(scrub.exit_code == 0);
  const json& held = scrub.json["held"];
  REQUIRE(held.size() == 2);
  CHECK(held[0]["disk"] == "d2");
  CHECK(held[0]["held"] == true);
  CHECK(held[0]["temperature_c"] == 60);
  CHECK(held[0]["why"] == "60 C, over temp_limit 50 C");
  CHECK(held[1]["disk"] == "d2");
  CHECK(held[1]["held"] == false);
  CHECK(held[1]["why"] == "cooled to 40 C");
  const std::uint64_t skipped = scrub.json["positions_left_on_held_disks"]["d2"].get<std::uint64_t>();
  CHECK(skipped > 0);
  CHECK(scrub.json["positions_skipped"] == skipped);
  CHECK(scrub.json["positions_verified"].get<std::uint64_t>() + skipped ==
        scrub.json["positions_selected"].get<std::uint64_t>());
  CHECK(scrub.json["findings"].empty());

  CliResult text = a.Run({"scrub", "--plan", "new"}, false, fake.Env());
  CHECK(text.exit_code == 0);
  // Exactly the positions d2 was held at were left never scrubbed.
  CHECK(text.out.find(fmt::format("scrub: {} of {} positions verified", skipped, skipped)) != std::string::npos);

  // The newest reading's temperature in status and metrics.
  CliResult status = a.Run({"status"}, true, fake.Env());
  CHECK((*DiskRow(status.json, "d2"))["temperature_c"] == 40);
  CHECK((*DiskRow(status.json, "d2"))["over_temp_limit"] == false);

  // Text output says which disk, when and why.
  fake.Temperatures("/dev/atlas-test-d2", {55, 41});
  CliResult again = a.Run({"scrub", "--plan", "full"}, false, fake.Env());
  CHECK(again.out.find("scrub: d2 held at ") != std::string::npos);
  CHECK(again.out.find("(55 C, over temp_limit 50 C)") != std::string::npos);
  CHECK(again.out.find("scrub: d2 resumed at ") != std::string::npos);
}

TEST_CASE("smart: sync waits for a hot disk and finishes once it has cooled", "[smart][sync][e2e][issue-16]") {
  TempArray a(2, 1, 64 * 1024, Devices(2) + "temp_limit = 50\ntemp_check_every = \"0s\"\n");
  for (int d = 1; d <= 2; ++d) a.Write(d, "big.bin", 1'000'000, d);
  FakeTools fake;
  REQUIRE(a.Run({"sync"}, true, {{"ATLAS_SCRUB_SMARTCTL", (fake.dir / "none").string()}}).exit_code == 0);
  a.Write(1, "more.bin", 2'000'000, 9);
  fake.Temperatures("/dev/atlas-test-d1", {58, 57, 40});
  CliResult sync = a.Run({"sync"}, true, fake.Env());
  REQUIRE(sync.exit_code == 0);
  CHECK(sync.json["positions_left"] == 0);
  REQUIRE(sync.json["held"].size() == 2);
  CHECK(sync.json["held"][0]["why"] == "58 C, over temp_limit 50 C");
  CHECK(sync.json["held"][1]["why"] == "cooled to 40 C");
  CHECK(sync.json["positions_left_on_held_disks"].empty());  // waited, skipped nothing
  CHECK(a.Run({"check"}, true, fake.Env()).exit_code == 0);
}

TEST_CASE("smart: a disk that stays too hot stops sync as interrupted, and the next sync finishes",
          "[smart][sync][e2e][issue-16]") {
  TempArray a(2, 1, 64 * 1024,
              Devices(2) + "temp_limit = 50\ntemp_check_every = \"0s\"\ntemp_wait_max = \"0s\"\n");
  a.Write(1, "a.bin", 3'000'000, 1);
  a.Write(2, "b.bin", 3'000'000, 2);
  FakeTools fake;
  fake.Temperatures("/dev/atlas-test-d2", {70});
  CliResult hot = a.Run({"sync"}, true, fake.Env());
  CHECK(hot.exit_code == 3);
  CHECK(hot.json["interrupted"] == true);
  CHECK(hot.json["stopped_because"] ==
        "d2 stayed over temp_limit 50 C (last 70 C) for longer than temp_wait_max: stopped; the next run resumes");
  CHECK(hot.json["positions_left"].get<std::uint64_t>() > 0);
  CliResult text = a.Run({"status"}, false, fake.Env());
  CHECK(text.out.find("70C!") != std::string::npos);  // the newest reading, over the limit

  fake.Temperatures("/dev/atlas-test-d2", {40});
  CliResult cool = a.Run({"sync"}, true, fake.Env());
  CHECK(cool.exit_code == 0);
  CHECK(cool.json["positions_left"] == 0);
  CHECK(a.Run({"check"}, true, fake.Env()).exit_code == 0);
}

TEST_CASE("smart: a failing disk is named first by sync and scrub, and scrub leaves it unread",
          "[smart][scrub][e2e][issue-16]") {
  TempArray a(2, 1, 64 * 1024, Devices(2));
  a.Write(1, "a.bin", 300'000, 1);
  a.Write(2, "b.bin", 300'000, 2);
  FakeTools fake;
  const std::map<std::string, std::string> no_smartctl = {{"ATLAS_SCRUB_SMARTCTL", (fake.dir / "none").string()}};
  REQUIRE(a.Run({"sync"}, true, no_smartctl).exit_code == 0);
  CliResult stored = a.Run({"smart", "--input", "d2=" + (kData / "smart-fail2.json").string()});
  REQUIRE(stored.exit_code == 1);

  CliResult scrub = a.Run({"scrub", "--plan", "full"}, false, no_smartctl);
  CHECK(scrub.exit_code == 1);  // needs attention: a critical finding
  CHECK(scrub.out.starts_with("scrub: WARNING: d2's SMART reports failing (read "));
  CHECK(scrub.out.find("scrub: d2 is not read while it fails; the other disks, which a rebuild of it reads, are "
                       "verified\n") != std::string::npos);
  CHECK(scrub.out.find("smart_failing") != std::string::npos);
  CliResult json_scrub = a.Run({"scrub", "--plan", "full"}, true, no_smartctl);
  CHECK(json_scrub.exit_code == 1);
  const std::uint64_t d2_positions = json_scrub.json["positions_left_on_held_disks"]["d2"].get<std::uint64_t>();
  CHECK(d2_positions == 5);  // 300,000 bytes in 64 KiB blocks
  bool failing = false;
  for (const json& f : json_scrub.json["findings"]) failing = failing || (f["kind"] == "smart_failing" && f["disk"] == "d2");
  CHECK(failing);

  CliResult sync = a.Run({"sync"}, false, no_smartctl);
  CHECK(sync.exit_code == 1);
  CHECK(sync.out.starts_with("sync: WARNING: d2's SMART reports failing (read "));

  // [smart] scrub_failing = "read": read like any disk.
  TempArray b(2, 1, 64 * 1024, Devices(2) + "scrub_failing = \"read\"\n");
  b.Write(2, "b.bin", 300'000, 2);
  REQUIRE(b.Run({"sync"}, true, no_smartctl).exit_code == 0);
  REQUIRE(b.Run({"smart", "--input", "d2=" + (kData / "smart-fail2.json").string()}).exit_code == 1);
  CliResult reads = b.Run({"scrub", "--plan", "full"}, true, no_smartctl);
  CHECK(reads.json["positions_left_on_held_disks"].empty());
  CHECK(reads.json["positions_verified"] == 5);
}

TEST_CASE("alert: a failing disk's finding is in the alert of the sync that names it", "[alert][smart][e2e][issue-16]") {
  HttpReceiver rx;
  TempArray a(2, 1, 64 * 1024,
              Devices(2) + "[alerts]\ntimeout = \"5s\"\nattempts = 2\nretry_delay = \"0s\"\n"
                           "[[alerts.webhook]]\nurl = \"" + rx.Url("/hook") + "\"\nformat = \"json\"\n");
  a.Write(1, "a.bin", 100'000, 1);
  const std::map<std::string, std::string> no_smartctl = {{"ATLAS_SCRUB_SMARTCTL", "/nonexistent/smartctl"}};
  REQUIRE(a.Run({"sync"}, true, no_smartctl).exit_code == 0);
  // The failing reading is stored through a config without alerts (the same
  // array and manifest), so the first alert about it is the sync's.
  std::string quiet = ReadFileText(a.config());
  const std::size_t from = quiet.find("[alerts]");
  const std::string last = "format = \"json\"\n";
  quiet.erase(from, quiet.find(last, from) + last.size() - from);
  const fs::path quiet_config = a.root() / "quiet.toml";
  WriteFile(quiet_config, quiet);
  CliResult stored =
      RunCli({"-c", quiet_config.string(), "smart", "--input", "d2=" + (kData / "smart-fail2.json").string()});
  INFO(stored.out << stored.err);
  REQUIRE(stored.exit_code == 1);
  REQUIRE(rx.requests().empty());
  a.Write(1, "b.bin", 100'000, 2);
  CliResult sync = a.Run({"sync"}, false, no_smartctl);
  CHECK(sync.exit_code == 1);
  CHECK(sync.out.starts_with("sync: WARNING: d2's SMART reports failing"));
  const std::vector<HttpRecord> got = rx.requests();
  REQUIRE(got.size() == 1);
  const json doc = json::parse(got[0].body);
  CHECK(doc["command"] == "sync");
  CHECK(doc["health"] == "critical");
  bool failing = false;
  for (const json& f : doc["findings"]) failing = failing || (f["kind"] == "smart_failing" && f["disk"] == "d2");
  CHECK(failing);
}

TEST_CASE("disks: spindown_after_run puts back to standby exactly the disks the run woke",
          "[disks][scrub][e2e][issue-16]") {
  TempArray a(3, 1, 64 * 1024, Devices(3) + "\n[disks]\nspindown_after_run = true\n");
  for (int d = 1; d <= 3; ++d) a.Write(d, "f.bin", 200'000, d);
  FakeTools fake;
  REQUIRE(a.Run({"sync"}, true, {{"ATLAS_SCRUB_SMARTCTL", (fake.dir / "none").string()}}).exit_code == 0);
  fs::remove(fake.hdparm_log);
  // d1 and parity1 sleep, d2 and d3 spin. The scrub reads every disk,
  // which wakes d1 and parity1 (the fakes go on saying "standby", so no
  // SMART reading of them is stored: asked with -n standby, never woken).
  fake.Asleep("/dev/atlas-test-d1", true);
  fake.Asleep("/dev/atlas-test-parity1", true);
  CliResult scrub = a.Run({"scrub", "--plan", "full"}, true, fake.Env());
  REQUIRE(scrub.exit_code == 0);
  const std::vector<std::string> calls = Lines(fake.hdparm_log);
  CHECK(Count(calls, "-y /dev/atlas-test-d1") == 1);
  CHECK(Count(calls, "-y /dev/atlas-test-parity1") == 1);
  CHECK(Count(calls, "-y") == 2);  // not d2 or d3: they were spinning before the run
  REQUIRE(scrub.json["spindown"].size() == 2);
  CHECK(scrub.json["spindown"][0]["disk"] == "d1");
  CHECK(scrub.json["spindown"][0]["action"] == "standby");
  CHECK(scrub.json["spindown"][1]["disk"] == "parity1");

  // A disk another process uses is left running, and the output says by whom.
  fake.Asleep("/dev/atlas-test-d1", true);
  fs::remove(fake.hdparm_log);
  pid_t holder = fork();
  REQUIRE(holder >= 0);
  if (holder == 0) {
    // Holds d1's file open (as a Samba client's smbd would) until killed.
    int fd = open(a.File(1, "f.bin").c_str(), O_RDONLY);
    if (fd < 0) _exit(1);
    pause();
    _exit(0);
  }
  // Wait until the child has the file open.
  for (int i = 0; i < 200; ++i) {
    bool open_now = false;
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator(fmt::format("/proc/{}/fd", holder), ec)) {
      open_now = open_now || fs::read_symlink(e.path(), ec) == a.File(1, "f.bin");
    }
    if (open_now) break;
    usleep(10'000);
  }
  CliResult busy = a.Run({"scrub", "--plan", "full"}, false, fake.Env());
  kill(holder, SIGKILL);
  waitpid(holder, nullptr, 0);
  CHECK(busy.exit_code == 0);
  CHECK(Count(Lines(fake.hdparm_log), "-y /dev/atlas-test-d1") == 0);
  CHECK(busy.out.find(fmt::format("scrub: spin-down d1: left running: in use by {} (", holder)) != std::string::npos);
  CHECK(busy.out.find("scrub: spin-down parity1: /dev/atlas-test-parity1 put back to standby") != std::string::npos);
}

}  // namespace
}  // namespace atlas::testing
