// SMART parsing and verdicts against real drives' dumps (tests/data/smart:
// MANIFEST.tsv gives each file's expected verdict), raw value decoding, bad
// input, growth and ignore, and the manifest's reading table.
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "atlas/manifest.h"
#include "atlas/smart.h"
#include "atlas/smart_report.h"
#include "support/fake_clock.h"
#include "support/test_util.h"

namespace atlas {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const fs::path kData = fs::path(ATLAS_SOURCE_DIR) / "tests" / "data" / "smart";

void Spit(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

struct Expected {
  std::string file, protocol, format, verdict;
};

std::vector<Expected> ReadManifestTsv() {
  std::vector<Expected> out;
  std::istringstream in(testing::ReadFileText(kData / "MANIFEST.tsv"));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> cols;
    std::size_t start = 0;
    for (;;) {
      std::size_t tab = line.find('\t', start);
      cols.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    REQUIRE(cols.size() >= 9);
    out.push_back({cols[0], cols[5], cols[6], cols[7]});
  }
  return out;
}

const SmartAttribute* Attr(const SmartReading& r, const std::string& key) {
  for (const SmartAttribute& a : r.attributes) {
    if (a.key == key) return &a;
  }
  return nullptr;
}

TEST_CASE("smart: every fixture in MANIFEST.tsv gets its expected verdict", "[smart][unit]") {
  std::vector<Expected> all = ReadManifestTsv();
  REQUIRE(all.size() == 15);
  for (const Expected& e : all) {
    DYNAMIC_SECTION(e.file) {
      Result<SmartReading> r = ReadSmartFile(kData / e.file);
      REQUIRE_OK(r.status());
      CHECK(SmartProtocolName(r->protocol) == e.protocol);
      CHECK_FALSE(r->model.empty());
      CHECK(r->power_on_hours.has_value());
      SmartVerdict v = JudgeSmart("d1", *r, std::nullopt, {});
      CHECK(SmartStateName(v.state) == e.verdict);
      // Findings agree with the state: failing has a critical one, ok none.
      bool critical = false, warning = false;
      for (const Finding& f : v.findings) {
        critical = critical || f.kind == FindingKind::kSmartFailing;
        warning = warning || f.kind == FindingKind::kSmartWarning;
        CHECK(f.disk == "d1");
      }
      CHECK(critical == (e.verdict == "failing"));
      if (e.verdict == "ok") CHECK(v.findings.empty());
      if (e.verdict == "warning") CHECK(warning);
    }
  }
}

TEST_CASE("smart: packed raw values decode to their counts", "[smart][unit]") {
  // 187/188: low 16 bits (Seagate's 188 is three 16-bit counters, "2 2 2").
  CHECK(DecodeAtaCount(188, 8590065666ull) == 2);
  CHECK(DecodeAtaCount(188, 17180131332ull) == 4);
  CHECK(DecodeAtaCount(187, 1114112) == 0);   // Hitachi 0x110000
  CHECK(DecodeAtaCount(187, 65536) == 0);     // Samsung HD501LJ
  CHECK(DecodeAtaCount(5, 2818091) == 43);    // Hitachi 0x2B002B
  // Temperature: the low byte ("49 (Min/Max 24/56)").
  CHECK(DecodeAtaCount(194, 240519741489ull) == 49);
  CHECK(DecodeAtaCount(197, 878) == 878);

  SECTION("Seagate's packed error rates on 1 and 7 are not counts") {
    Result<SmartReading> r = ReadSmartFile(kData / "ST3500418AS_12.json");
    REQUIRE_OK(r.status());
    REQUIRE(Attr(*r, "7") != nullptr);
    CHECK(Attr(*r, "7")->raw == 12834215976973ull);
    SmartVerdict v = JudgeSmart("d1", *r, std::nullopt, {});
    REQUIRE(v.findings.size() == 1);  // only 5 = 304
    CHECK(v.findings[0].message == "5 Reallocated_Sector_Ct raw count 304");
    for (const JudgedAttribute& j : v.judged) CHECK(j.attr.id != 7);
  }
  SECTION("a libatasmart blob's packed 5, 187 and 188") {
    Result<SmartReading> r = ReadSmartFile(kData / "Hitachi_HDS721010CLA632.bin");
    REQUIRE_OK(r.status());
    CHECK(Attr(*r, "5")->raw == 2818091);
    CHECK(Attr(*r, "5")->count == 43);
    CHECK(Attr(*r, "187")->count == 0);
    CHECK(Attr(*r, "188")->raw == 8590917686ull);
    CHECK(Attr(*r, "188")->count == 54);
    CHECK(r->temperature_c == 30);
  }
  SECTION("an SSD's attribute 231 (life left) is not its temperature") {
    Result<SmartReading> r = ReadSmartFile(kData / "KINGSTON_SA400S37240G_SBFK71B1.bin");
    REQUIRE_OK(r.status());
    CHECK(Attr(*r, "194")->raw == 231929151514ull);
    CHECK(r->temperature_c == 26);  // 194's low byte, 0x1A
  }
  SECTION("smartctl's decoded temperature and hours win over packed raws") {
    Result<SmartReading> r =
        ReadSmartFile(kData / "sat-Seagate_Enterprise_Capacity_3.5_HDD-ST10000NM0016-1TT101-sda.json");
    REQUIRE_OK(r.status());
    CHECK(r->temperature_c == 25);
    CHECK(r->power_on_hours == 34013);
  }
}

TEST_CASE("smart: garbage, truncated and empty files are errors naming the file", "[smart][unit]") {
  TempDir dir;
  std::string json = testing::ReadFileText(kData / "HGST_HMS5C4040BLE640.json");
  std::string blob = testing::ReadFileText(kData / "TOSHIBA_THNSNH128GBST.bin");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty.json", ""},
      {"spaces", "  \n"},
      {"garbage.bin", "\x7f" "ELF\x02\x01\x01 not smart at all"},
      {"truncated.json", json.substr(0, json.size() / 2)},
      {"truncated.bin", blob.substr(0, 100)},
      {"other.json", "{\"hello\": [1, 2]}"},
      {"old.json", "{\"json_format_version\": [0, 0]}"},
      {"array.json", "[1, 2, 3]"},
  };
  for (const auto& [name, content] : cases) {
    DYNAMIC_SECTION(name) {
      Spit(dir / name, content);
      Result<SmartReading> r = ReadSmartFile(dir / name);
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == Code::kInvalidArgument);
      CHECK(r.status().message().find((dir / name).string()) != std::string_view::npos);
    }
  }
  Result<SmartReading> missing = ReadSmartFile(dir / "nope.json");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find("nope.json") != std::string_view::npos);
}

SmartReading AtaWithCounts(std::uint64_t c5, std::uint64_t c197) {
  Result<SmartReading> r = ReadSmartFile(kData / "HGST_HMS5C4040BLE640.json");
  REQUIRE_OK(r.status());
  SmartReading out = *r;
  for (SmartAttribute& a : out.attributes) {
    if (a.id == 5) a.raw = a.count = c5;
    if (a.id == 197) a.raw = a.count = c197;
  }
  return out;
}

TEST_CASE("smart: a count that grew since the last reading says so; ignore silences it", "[smart][unit]") {
  SmartReading before = AtaWithCounts(8, 0);
  SmartVerdict v0 = JudgeSmart("d2", before, std::nullopt, {});
  CHECK(v0.state == SmartState::kWarning);
  SmartRecord prev = MakeSmartRecord("d2", 1'700'000'000'000'000'000, before, v0);
  CHECK(prev.reading.attributes.size() == 3);  // 5, 197, 198 (this HGST reports no 187/188)

  SmartReading now = AtaWithCounts(12, 0);
  SmartVerdict v = JudgeSmart("d2", now, prev, {});
  REQUIRE(v.findings.size() == 1);
  CHECK(v.findings[0].kind == FindingKind::kSmartWarning);
  CHECK(v.findings[0].message == "5 Reallocated_Sector_Ct raw count 12, grew from 8 on 2023-11-14T22:13:20Z");
  for (const JudgedAttribute& j : v.judged) {
    if (j.attr.id == 5) {
      CHECK(j.previous == 8u);
      CHECK(j.flagged);
    }
  }

  // Another drive in d2's place (a new serial) starts a new baseline.
  SmartReading replaced = AtaWithCounts(12, 0);
  replaced.serial = "NEW-DRIVE-1";
  SmartVerdict fresh = JudgeSmart("d2", replaced, prev, {});
  REQUIRE(fresh.findings.size() == 1);
  CHECK(fresh.findings[0].message == "5 Reallocated_Sector_Ct raw count 12");

  SmartVerdict ignored = JudgeSmart("d2", now, prev, {"d2:5", "d1:197"});
  CHECK(ignored.findings.empty());
  CHECK(ignored.state == SmartState::kOk);
  // Another disk's entry does not silence this one.
  SmartVerdict other = JudgeSmart("d2", AtaWithCounts(0, 3), prev, {"d1:197"});
  REQUIRE(other.findings.size() == 1);
  CHECK(other.findings[0].message == "197 Current_Pending_Sector raw count 3, grew from 0 on 2023-11-14T22:13:20Z");
}

TEST_CASE("smart: NVMe critical warning bits, spare and wear are judged", "[smart][unit]") {
  nlohmann::json doc = nlohmann::json::parse(testing::ReadFileText(kData / "nvme-null-INTEL_SSDPE2KX020T7-nvme6.json"));
  auto judge = [&](const nlohmann::json& d) {
    Result<SmartReading> r = ParseSmartctlJson(d.dump(), "nvme.json");
    REQUIRE_OK(r.status());
    return JudgeSmart("n1", *r, std::nullopt, {});
  };
  nlohmann::json worn = doc;
  worn["nvme_smart_health_information_log"]["percentage_used"] = 92;
  SmartVerdict v = judge(worn);
  CHECK(v.state == SmartState::kWarning);
  REQUIRE(v.findings.size() == 1);
  CHECK(v.findings[0].message.starts_with("percentage used 92%"));

  nlohmann::json bad = doc;
  bad["nvme_smart_health_information_log"]["critical_warning"] = 0x0C;
  bad["nvme_smart_health_information_log"]["available_spare"] = 5;
  bad["nvme_smart_health_information_log"]["percentage_used"] = 100;
  v = judge(bad);
  CHECK(v.state == SmartState::kFailing);
  REQUIRE(v.findings.size() == 3);
  CHECK(v.findings[0].message.starts_with("NVMe critical warning 0x0c: reliability_degraded, media_read_only"));
  CHECK(v.findings[1].message.starts_with("available spare 5% is below its threshold 10%"));
  CHECK(v.findings[2].message.starts_with("percentage used 100%"));
}

TEST_CASE("smart: smartctl output for a sleeping or unreadable device is standby or unknown, no finding",
          "[smart][unit]") {
  const std::string standby =
      R"j({"json_format_version":[1,0],"smartctl":{"version":[7,3],"exit_status":2,"messages":)j"
      R"j([{"string":"Device is in STANDBY mode, exit(2)","severity":"information"}]},)j"
      R"j("device":{"name":"/dev/sdb","protocol":"ATA"}})j";
  Result<SmartReading> r = ParseSmartctlJson(standby, "/dev/sdb");
  REQUIRE_OK(r.status());
  CHECK(r->state == SmartState::kStandby);
  SmartVerdict v = JudgeSmart("d1", *r, std::nullopt, {});
  CHECK(v.state == SmartState::kStandby);
  CHECK(v.findings.empty());

  const std::string cannot_open =
      R"j({"json_format_version":[1,0],"smartctl":{"version":[7,3],"exit_status":1,"messages":)j"
      R"j([{"string":"/dev/vda: Unable to detect device type","severity":"error"}]}})j";
  r = ParseSmartctlJson(cannot_open, "/dev/vda");
  REQUIRE_OK(r.status());
  CHECK(r->state == SmartState::kUnknown);
  CHECK(r->note == "smartctl: /dev/vda: Unable to detect device type");
  v = JudgeSmart("d1", *r, std::nullopt, {});
  CHECK(v.state == SmartState::kUnknown);
  CHECK(v.findings.empty());
}

TEST_CASE("smart: a tmpfs disk has no device to read", "[smart][unit]") {
  std::error_code ec;
  if (!fs::is_directory("/dev/shm", ec)) {
    WARN("skipped: no /dev/shm");
    return;
  }
  SmartDevice d = ResolveSmartDevice(FileSystem::Default(), "/dev/shm");
  CHECK(d.node.empty());
  CHECK(d.note.find("not on a block device") != std::string::npos);
}

TEST_CASE("smart: readings round-trip through the manifest, newest last", "[smart][unit]") {
  TempDir dir;
  ManifestOptions mo;
  mo.create_if_missing = true;
  Result<std::unique_ptr<Manifest>> m = OpenManifest(dir / "manifest", mo);
  REQUIRE_OK(m.status());
  Result<SmartReading> hitachi = ReadSmartFile(kData / "Hitachi_HDS721010CLA632.bin");
  Result<SmartReading> nvme = ReadSmartFile(kData / "smart-nvme-failed.json");
  REQUIRE_OK(hitachi.status());
  REQUIRE_OK(nvme.status());
  SmartRecord a = MakeSmartRecord("d1", 100, *hitachi, JudgeSmart("d1", *hitachi, std::nullopt, {}));
  SmartRecord b = MakeSmartRecord("d1", 200, *hitachi, JudgeSmart("d1", *hitachi, a, {}));
  SmartRecord c = MakeSmartRecord("d10", 50, *nvme, JudgeSmart("d10", *nvme, std::nullopt, {}));
  std::unique_ptr<ManifestBatch> batch = (*m)->NewBatch();
  batch->PutSmartRecord(b);
  batch->PutSmartRecord(a);
  batch->PutSmartRecord(c);
  REQUIRE_OK((*m)->Commit(*batch, true));

  Result<std::optional<SmartRecord>> latest = (*m)->LatestSmartRecord("d1");
  REQUIRE_OK(latest.status());
  REQUIRE(latest->has_value());
  const SmartRecord& got = **latest;
  CHECK(got.time_ns == 200);
  CHECK(got.state == SmartState::kWarning);
  CHECK(got.reading.model == "Hitachi HDS721010CLA632");
  CHECK(got.reading.temperature_c == 30);
  CHECK(got.reading.overall_passed == true);
  REQUIRE(got.reading.attributes.size() == b.reading.attributes.size());
  for (std::size_t i = 0; i < got.reading.attributes.size(); ++i) {
    CHECK(got.reading.attributes[i].key == b.reading.attributes[i].key);
    CHECK(got.reading.attributes[i].raw == b.reading.attributes[i].raw);
    CHECK(got.reading.attributes[i].count == b.reading.attributes[i].count);
    CHECK(got.reading.attributes[i].threshold == b.reading.attributes[i].threshold);
  }
  REQUIRE(got.findings.size() == b.findings.size());
  CHECK(got.findings[0].message == b.findings[0].message);
  CHECK(got.findings[0].disk == "d1");

  Result<std::vector<SmartRecord>> hist = (*m)->SmartRecords("d1");
  REQUIRE_OK(hist.status());
  REQUIRE(hist->size() == 2);
  CHECK((*hist)[0].time_ns == 100);
  Result<std::optional<SmartRecord>> d10 = (*m)->LatestSmartRecord("d10");
  REQUIRE_OK(d10.status());
  REQUIRE(d10->has_value());
  CHECK((*d10)->reading.protocol == SmartProtocol::kNvme);
  CHECK((*d10)->reading.nvme_spare_threshold == 10u);
  Result<std::optional<SmartRecord>> none = (*m)->LatestSmartRecord("d2");
  REQUIRE_OK(none.status());
  CHECK_FALSE(none->has_value());
}


// A source that must not be asked: every disk below is given by file.
class NoDevices final : public SmartSource {
 public:
  SmartReading Read(const std::string& device, const std::string&) override {
    FAIL("a device was read: " << device);
    return {};
  }
};

TEST_CASE("smart: each disk keeps its newest readings (400 by default), and a run before the first sync stores none",
          "[smart][unit]") {
  TempDir dir;
  Config config;
  config.manifest = dir / "manifest";
  config.data = {{"d1", dir / "d1"}};
  config.parity = {{"parity1", dir / "p" / "atlas.parity"}};
  testing::FakeClock clock(1'700'000'000'000'000'000);
  NoDevices none;
  SmartRunOptions options;
  options.source = &none;
  options.inputs = {{"d1", kData / "Hitachi_HDS721010CLA632.bin"}};
  RunContext ctx{&config, FileSystem::Default(), &clock, NullProgress(), {}};
  CHECK(options.history_kept == 400);
  options.history_kept = 5;

  SmartReport report;
  REQUIRE_OK(RunSmart(ctx, options, &report));
  CHECK(report.store_note.find("never been synced") != std::string::npos);
  REQUIRE(report.disks.size() == 1);
  CHECK_FALSE(report.disks[0].stored);
  CHECK(report.disks[0].verdict.state == SmartState::kWarning);

  {
    ManifestOptions mo;
    mo.create_if_missing = true;
    REQUIRE_OK(OpenManifest(config.manifest, mo).status());
  }
  for (int i = 0; i < 7; ++i) {
    clock.AdvanceDays(1);
    REQUIRE_OK(RunSmart(ctx, options, &report));
    REQUIRE(report.disks[0].stored);
  }
  CHECK(report.store_note.empty());
  REQUIRE(report.disks[0].previous.has_value());
  CHECK(report.disks[0].previous->time_ns == 1'700'000'000'000'000'000 + 6 * 86'400'000'000'000);
  ManifestOptions ro;
  ro.read_only = true;
  Result<std::unique_ptr<Manifest>> m = OpenManifest(config.manifest, ro);
  REQUIRE_OK(m.status());
  Result<std::vector<SmartRecord>> hist = (*m)->SmartRecords("d1");
  REQUIRE_OK(hist.status());
  REQUIRE(hist->size() == 5);
  CHECK(hist->front().time_ns == 1'700'000'000'000'000'000 + 3 * 86'400'000'000'000);
  CHECK(hist->back().time_ns == 1'700'000'000'000'000'000 + 7 * 86'400'000'000'000);
}

}  // namespace
}  // namespace atlas
