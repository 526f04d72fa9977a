// STRATEGY:
// 1. A synced array; a SMART reading of d1 stored in its manifest as every
//    run stores one (MakeSmartRecord); the harness's clock moves on.
// 2. status at 9 days: no smart_stale; at 11 days (past the default
//    stale_after of 10 days): exactly one, for d1, with its age; a disk with
//    no reading at all raises none (its SMART was never known: unknown).
// 3. A newer reading clears it.
#include "atlas/manifest.h"
#include "atlas/smart.h"
#include "support/engine_harness.h"
#include "support/temp_array.h"
#include "support/test_util.h"

namespace atlas::testing {
namespace {

void StoreReading(const Config& config, const std::string& disk, std::int64_t time_ns, std::int64_t temp) {
  ManifestOptions rw;
  Result<std::unique_ptr<Manifest>> m = OpenManifest(config.manifest, rw);
  REQUIRE_OK(m.status());
  SmartReading r;
  r.model = "HGST HMS5C4040BLE640";
  r.overall_passed = true;
  r.temperature_c = temp;
  const SmartVerdict v = JudgeSmart(disk, r, std::nullopt, {});
  std::unique_ptr<ManifestBatch> b = (*m)->NewBatch();
  b->PutSmartRecord(MakeSmartRecord(disk, time_ns, r, v));
  REQUIRE_OK((*m)->Commit(*b, /*durable=*/true));
}

std::vector<Finding> Stale(const StatusReport& r) {
  std::vector<Finding> out;
  for (const Finding& f : r.findings) {
    if (f.kind == FindingKind::kSmartStale) out.push_back(f);
  }
  return out;
}

TEST_CASE("status: a SMART reading older than stale_after is smart_stale, a newer one clears it",
          "[status][smart][fault][issue-16]") {
  TempArray a(2, 1);
  a.Write(1, "f.bin", 100000, 1);
  EngineHarness h(a);
  h.Sync();
  StoreReading(h.config(), "d1", h.clock().NowUnixNanos(), 36);

  StatusOptions quick;
  quick.drift = DriftWalk::kNone;
  quick.power_states = false;
  h.clock().AdvanceDays(9);
  StatusReport fresh = h.GetStatus(quick);
  CHECK(Stale(fresh).empty());
  REQUIRE(fresh.disks[0].name == "d1");
  CHECK(fresh.disks[0].smart == "ok");
  CHECK(fresh.disks[0].temperature_c == 36);
  CHECK(fresh.disks[0].smart_read_ns.has_value());
  CHECK_FALSE(fresh.disks[1].smart_read_ns.has_value());  // d2: never read, unknown, not stale

  h.clock().AdvanceDays(2);
  StatusReport old = h.GetStatus(quick);
  const std::vector<Finding> stale = Stale(old);
  REQUIRE(stale.size() == 1);
  CHECK(stale[0].disk == "d1");
  CHECK(stale[0].severity == Severity::kWarning);
  CHECK(stale[0].message ==
        "the newest SMART reading of d1 is 11 days old, beyond [smart] stale_after; its health is not known "
        "(no run read it since, or it slept at every reading); run `atlas-scrub smart`");

  StoreReading(h.config(), "d1", h.clock().NowUnixNanos(), 37);
  StatusReport again = h.GetStatus(quick);
  CHECK(Stale(again).empty());
  CHECK(again.disks[0].temperature_c == 37);
}

TEST_CASE("status: a disk with SMART to read but no reading since the first sync is smart_stale",
          "[status][smart][fault][issue-16]") {
  // d1 is named as a block device whose transport is unknown (smartctl
  // would be tried); d2 is on the test's file system with no device.
  TempArray a(2, 1, 64 * 1024, "[smart]\ndevices = { d1 = \"/dev/atlas-test-d1\" }\n");
  a.Write(1, "f.bin", 100000, 1);
  EngineHarness h(a);
  h.Sync();
  StatusOptions quick;
  quick.drift = DriftWalk::kNone;
  quick.power_states = false;
  h.clock().AdvanceDays(9);
  CHECK(Stale(h.GetStatus(quick)).empty());
  h.clock().AdvanceDays(2);
  const std::vector<Finding> stale = Stale(h.GetStatus(quick));
  REQUIRE(stale.size() == 1);
  CHECK(stale[0].disk == "d1");
  CHECK(stale[0].message ==
        "no SMART reading of d1 (/dev/atlas-test-d1) has been stored since the array's first sync 11 days ago: no "
        "run used it, it slept at every reading, or its SMART cannot be read; run `atlas-scrub smart`");
  StoreReading(h.config(), "d1", h.clock().NowUnixNanos(), 35);
  CHECK(Stale(h.GetStatus(quick)).empty());
}

}  // namespace
}  // namespace atlas::testing
