// STRATEGY:
// 1. Saved dumps of real drives (tests/data/smart) go through the real
//    binary with `smart --input`: JSON shape, verdicts and exit codes.
// 2. Bad files are exit 2 naming the file.
// 3. `--input d1=FILE` twice on a synced array, the second with a grown
//    attribute: the second run reports the growth and the trend, `status`
//    then shows d1's SMART state, and [smart] ignore silences it.
// 4. Live reads go through a fake smartctl ($ATLAS_SCRUB_SMARTCTL): a
//    sleeping disk is standby with the last reading's time and no finding; an
//    NVMe drive is judged from its JSON.
// 5. An array on tmpfs with devices = "auto" is unknown, no finding, exit 0.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "support/temp_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kData = fs::path(ATLAS_SOURCE_DIR) / "tests" / "data" / "smart";

// The HGST fixture (a clean ATA disk) with attribute 5's raw count set.
fs::path HgstWithReallocated(const fs::path& dir, std::uint64_t count) {
  json doc = json::parse(ReadFileText(kData / "HGST_HMS5C4040BLE640.json"));
  for (json& a : doc["ata_smart_attributes"]["table"]) {
    if (a["id"] == 5) {
      a["raw"]["value"] = count;
      a["raw"]["string"] = std::to_string(count);
    }
  }
  fs::path p = dir / ("hgst-5-" + std::to_string(count) + ".json");
  WriteFile(p, doc.dump(1, '\t'));
  return p;
}

fs::path FakeSmartctl(const fs::path& dir, const std::string& body) {
  fs::path p = dir / "fake-smartctl";
  WriteFile(p, "#!/bin/sh\n" + body + "\n");
  fs::permissions(p, fs::perms::owner_all);
  return p;
}

TEST_CASE("smart: --input FILE prints the SPEC JSON and exits by verdict", "[smart][e2e]") {
  CliResult ok = RunCli({"--json", "smart", "--input", (kData / "HGST_HMS5C4040BLE640.json").string()});
  CHECK(ok.exit_code == 0);
  REQUIRE(ok.json.is_object());
  CHECK(ok.json["command"] == "smart");
  REQUIRE(ok.json["disks"].size() == 1);
  const json& d = ok.json["disks"][0];
  CHECK(d["name"] == "HGST_HMS5C4040BLE640.json");
  CHECK(d["device"] == (kData / "HGST_HMS5C4040BLE640.json").string());
  CHECK(d["model"] == "HGST HMS5C4040BLE640");
  CHECK(d["serial"] == "PL01234567890J");
  CHECK(d["protocol"] == "ata");
  CHECK(d["smart"] == "ok");
  CHECK(d["temperature_c"] == 35);
  CHECK(d["power_on_hours"] == 60390);
  REQUIRE(d["attributes"].is_array());
  std::vector<std::string> keys;
  for (const json& a : d["attributes"]) keys.push_back(a["key"]);
  CHECK(keys == std::vector<std::string>{"5", "197", "198"});
  CHECK(ok.json["findings"].empty());

  CliResult many = RunCli({"--json", "smart", "--input", (kData / "smart-fail2.json").string(),
                           (kData / "smart-nvme-failed.json").string(), (kData / "SAMSUNG_HD501LJ--CR100-12").string()});
  CHECK(many.exit_code == 1);
  REQUIRE(many.json["disks"].size() == 3);
  CHECK(many.json["disks"][0]["smart"] == "failing");
  CHECK(many.json["disks"][1]["smart"] == "warning");
  CHECK(many.json["disks"][1]["protocol"] == "nvme");
  CHECK(many.json["disks"][2]["smart"] == "warning");
  REQUIRE_FALSE(many.json["findings"].empty());
  CHECK(many.json["findings"][0]["severity"] == "critical");
  CHECK(many.json["findings"][0]["kind"] == "smart_failing");
  CHECK(many.json["findings"][0]["disk"] == "smart-fail2.json");

  CliResult text = RunCli({"smart", "--input", (kData / "WDC_WD20EARS-00MVWB0.bin").string()});
  CHECK(text.exit_code == 1);
  CHECK(text.out.find("smart failing") != std::string::npos);
  CHECK(text.out.find("smart_failing") != std::string::npos);
  CHECK(text.out.find("at or below its threshold 140") != std::string::npos);
}

TEST_CASE("smart: a garbage, truncated or empty --input is exit 2 naming the file", "[smart][e2e]") {
  TempDir dir;
  std::string blob = ReadFileText(kData / "TOSHIBA_THNSNH128GBST.bin");
  WriteFile(dir / "empty.json", std::string());
  WriteFile(dir / "half.bin", blob.substr(0, 700));
  WriteFile(dir / "junk", std::string("this is not SMART data\n"));
  for (const char* name : {"empty.json", "half.bin", "junk"}) {
    DYNAMIC_SECTION(name) {
      CliResult r = RunCli({"smart", "--input", (kData / "TOSHIBA_THNSNH128GBST.json").string(), (dir / name).string()});
      CHECK(r.exit_code == 2);
      CHECK(r.err.find((dir / name).string()) != std::string::npos);
      CHECK(r.out.empty());
      CliResult j = RunCli({"--json", "smart", "--input", (dir / name).string()});
      CHECK(j.exit_code == 2);
      REQUIRE(j.json.is_object());
      CHECK(j.json["ok"] == false);
    }
  }
}

TEST_CASE("smart: a stored reading gives the next one its trend, and status shows the state", "[smart][e2e]") {
  TempArray a(2, 1);
  a.Write(1, "f.bin", 1000, 1);
  TempDir dumps;
  fs::path first = HgstWithReallocated(dumps.path(), 8);
  fs::path second = HgstWithReallocated(dumps.path(), 12);

  SECTION("before the first sync the reading is judged but not stored") {
    CliResult r = a.Run({"smart", "--input", "d1=" + first.string()});
    CHECK(r.exit_code == 1);
    CHECK(r.json["store_note"].get<std::string>().find("never been synced") != std::string::npos);
    CHECK(r.json["disks"][0]["stored"] == false);
    return;
  }
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  CliResult r1 = a.Run({"smart", "--input", "d1=" + first.string()});
  CHECK(r1.exit_code == 1);
  CHECK(r1.json["disks"][0]["name"] == "d1");
  CHECK(r1.json["disks"][0]["stored"] == true);
  CHECK(r1.json["disks"][0]["last_reading"].is_null());
  REQUIRE(r1.json["findings"].size() == 1);
  CHECK(r1.json["findings"][0]["message"] == "5 Reallocated_Sector_Ct raw count 8");

  CliResult r2 = a.Run({"smart", "--input", "d1=" + second.string()});
  CHECK(r2.exit_code == 1);
  REQUIRE(r2.json["findings"].size() == 1);
  const json& f = r2.json["findings"][0];
  CHECK(f["kind"] == "smart_warning");
  CHECK(f["disk"] == "d1");
  CHECK(f["message"].get<std::string>().starts_with("5 Reallocated_Sector_Ct raw count 12, grew from 8 on "));
  const json& attr5 = r2.json["disks"][0]["attributes"][0];
  CHECK(attr5["key"] == "5");
  CHECK(attr5["previous"] == 8);
  CHECK(attr5["count"] == 12);
  CHECK(attr5["previous_time"].is_string());

  CliResult text = a.Run({"smart", "--input", "d1=" + second.string()}, /*json=*/false);
  CHECK(text.out.find("12 -> 12 (") != std::string::npos);

  CliResult status = a.Run({"status"});
  CHECK(status.exit_code == 1);
  bool found_d1 = false;
  for (const json& d : status.json["disks"]) {
    if (d["name"] == "d1") {
      found_d1 = true;
      CHECK(d["smart"] == "warning");
    } else {
      CHECK(d["smart"] == "unknown");
    }
  }
  CHECK(found_d1);
  bool smart_finding = false;
  for (const json& sf : status.json["findings"]) smart_finding = smart_finding || sf["kind"] == "smart_warning";
  CHECK(smart_finding);

  // An unknown disk name is a usage error.
  CliResult bad = a.Run({"smart", "--input", "d9=" + second.string()});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("d9") != std::string::npos);
}

TEST_CASE("smart: [smart] ignore silences one attribute of one disk", "[smart][e2e]") {
  TempArray a(2, 1, 64 * 1024, "[smart]\nignore = [\"d1:5\"]\n");
  TempDir dumps;
  fs::path dump = HgstWithReallocated(dumps.path(), 8);
  CliResult d1 = a.Run({"smart", "--input", "d1=" + dump.string()});
  CHECK(d1.exit_code == 0);
  CHECK(d1.json["findings"].empty());
  CHECK(d1.json["disks"][0]["smart"] == "ok");
  CHECK(d1.json["disks"][0]["attributes"][0]["ignored"] == true);
  CliResult d2 = a.Run({"smart", "--input", "d2=" + dump.string()});
  CHECK(d2.exit_code == 1);
  CHECK(d2.json["findings"].size() == 1);
}

TEST_CASE("smart: a sleeping disk is standby with its last reading's time, not woken, no finding",
          "[smart][e2e]") {
  TempArray a(1, 1, 64 * 1024, "[smart]\ndevices = { d1 = \"/dev/null\", parity1 = \"/dev/zero\" }\n");
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  TempDir dumps;
  REQUIRE(a.Run({"smart", "--input", "d1=" + HgstWithReallocated(dumps.path(), 0).string()}).exit_code == 0);
  fs::path log = dumps / "argv.log";
  fs::path fake = FakeSmartctl(
      dumps.path(),
      "echo \"$@\" >> '" + log.string() + "'\n"
      "echo '{\"json_format_version\":[1,0],\"smartctl\":{\"version\":[7,3],\"exit_status\":2,"
      "\"messages\":[{\"string\":\"Device is in STANDBY mode, exit(2)\",\"severity\":\"information\"}]},"
      "\"device\":{\"name\":\"/dev/null\",\"protocol\":\"ATA\"}}'\nexit 2");
  CliResult r = a.Run({"smart"}, true, {{"ATLAS_SCRUB_SMARTCTL", fake.string()}});
  CHECK(r.exit_code == 0);
  CHECK(r.json["findings"].empty());
  REQUIRE(r.json["disks"].size() == 2);
  CHECK(r.json["disks"][0]["name"] == "d1");
  CHECK(r.json["disks"][0]["smart"] == "standby");
  CHECK(r.json["disks"][0]["last_reading"].is_string());
  CHECK(r.json["disks"][1]["smart"] == "standby");
  CHECK(r.json["disks"][1]["last_reading"].is_null());
  // smartctl was told not to wake the disk.
  CHECK(ReadFileText(log).find("--json -x -n standby /dev/null") != std::string::npos);
  CliResult text = a.Run({"smart"}, false, {{"ATLAS_SCRUB_SMARTCTL", fake.string()}});
  CHECK(text.out.find("d1  /dev/null: smart standby, not woken; last reading ") != std::string::npos);
  // A standby reading is not stored: status keeps the last real one.
  CliResult status = a.Run({"status"});
  CHECK(status.json["disks"][0]["smart"] == "ok");
}

TEST_CASE("smart: an NVMe drive is read through smartctl's JSON", "[smart][e2e]") {
  TempArray a(1, 1, 64 * 1024, "[smart]\ndevices = { d1 = \"/dev/null\", parity1 = \"/dev/zero\" }\n");
  TempDir dir;
  fs::path fake = FakeSmartctl(dir.path(), "cat '" + (kData / "smart-nvme-failed.json").string() + "'\nexit 0");
  CliResult r = a.Run({"smart"}, true, {{"ATLAS_SCRUB_SMARTCTL", fake.string()}});
  CHECK(r.exit_code == 1);
  REQUIRE(r.json["disks"].size() == 2);
  const json& d = r.json["disks"][0];
  CHECK(d["protocol"] == "nvme");
  CHECK(d["smart"] == "warning");
  CHECK(d["device"] == "/dev/null");
  CHECK(d["model"] == "Samsung SSD 970 EVO 500GB");
  REQUIRE(r.json["findings"].size() == 2);
  CHECK(r.json["findings"][0]["message"] == "media_errors 7");

  // A smartctl that is not there: unknown, no finding.
  CliResult none = a.Run({"smart"}, true, {{"ATLAS_SCRUB_SMARTCTL", (dir / "no-such-smartctl").string()}});
  CHECK(none.exit_code == 0);
  CHECK(none.json["disks"][0]["smart"] == "unknown");
  CHECK(none.json["disks"][0]["note"].get<std::string>().find("not found") != std::string::npos);
}

TEST_CASE("smart: an array on tmpfs with devices auto is unknown, exit 0", "[smart][e2e]") {
  std::error_code ec;
  if (!fs::is_directory("/dev/shm", ec)) {
    WARN("skipped: no /dev/shm");
    return;
  }
  const char* old = std::getenv("TMPDIR");
  std::string saved = old ? old : "";
  setenv("TMPDIR", "/dev/shm", 1);
  TempArray a(2, 1);
  if (old) setenv("TMPDIR", saved.c_str(), 1); else unsetenv("TMPDIR");
  CliResult r = a.Run({"smart"});
  CHECK(r.exit_code == 0);
  REQUIRE(r.json["disks"].size() == 3);
  for (const json& d : r.json["disks"]) {
    CHECK(d["smart"] == "unknown");
    CHECK(d["note"].get<std::string>().find("not on a block device") != std::string::npos);
  }
  CHECK(r.json["findings"].empty());
  CliResult text = a.Run({"smart"}, false);
  CHECK(text.out.find("d1: smart unknown (") != std::string::npos);
}

}  // namespace
}  // namespace atlas::testing
