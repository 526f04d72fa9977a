// status through the real binary: the drift walk flags and their JSON, and
// coverage read from the manifest's coverage summary.
#include <filesystem>

#include "support/temp_array.h"
#include "support/verify_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

TEST_CASE("status: --no-drift answers from the manifest alone, --full-drift walks every file",
          "[status][e2e]") {
  // STRATEGY:
  // 1. Sync 2 disks with 3 files, then add one and delete one.
  // 2. Default status: the small array is walked to the end within the
  //    limit: drift_walk "full", 1 added, 1 deleted, 3 files walked.
  // 3. --full-drift: the same. --no-drift: "skipped", no drift counted, and
  //    the coverage (from the summary) is the same as with a walk.
  // 4. Both flags at once: exit 2.
  TempArray a(2, 1);
  a.Write(1, "a.mkv", 3 * 65536, 1);
  a.Write(1, "b.mkv", 65536, 2);
  a.Write(2, "c.mkv", 2 * 65536 + 3, 3);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  a.Write(2, "new.mkv", 10, 4);
  fs::remove(a.File(1, "b.mkv"));

  CliResult def = a.Run({"status"});
  INFO(def.out << def.err);
  REQUIRE(def.json.is_object());
  CHECK(def.json["drift_walk"] == "full");
  CHECK(def.json["drift_files_walked"] == 3);
  CHECK(def.json["drift"]["added"] == 1);
  CHECK(def.json["drift"]["deleted"] == 1);
  CHECK(def.json["array"]["blocks"] == 7);
  CHECK(def.json["scrub"]["verified_pct_30d"] == 100.0);

  CliResult full = a.Run({"status", "--full-drift"});
  CHECK(full.json["drift_walk"] == "full");
  CHECK(full.json["drift"]["added"] == 1);
  CHECK(full.json["drift"]["deleted"] == 1);

  CliResult none = a.Run({"status", "--no-drift"});
  INFO(none.out << none.err);
  CHECK(none.exit_code == 0);
  CHECK(none.json["drift_walk"] == "skipped");
  CHECK(none.json["drift_files_walked"] == 0);
  CHECK(none.json["drift"]["added"] == 0);
  CHECK(none.json["drift"]["deleted"] == 0);
  CHECK(none.json["array"]["blocks"] == 7);
  CHECK(none.json["scrub"] == def.json["scrub"]);

  CliResult text = a.Run({"status", "--no-drift"}, false);
  CHECK(text.out.find("drift:      not walked (--no-drift)") != std::string::npos);

  CliResult both = a.Run({"status", "--no-drift", "--full-drift"}, false);
  CHECK(both.exit_code == 2);
  CHECK(CheckCoverage(a) == "");
}

}  // namespace
}  // namespace atlas::testing
