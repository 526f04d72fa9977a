// writable_atlas_mount through the real binary, on real mounts.
//
// STRATEGY:
// 1. A loop-mounted ext4 file system stands for an Atlas data disk as a
//    compute host sees it; it is bind-mounted twice, writable and read-only.
// 2. `outside --atlas-mount` on the writable bind mount reports
//    writable_atlas_mount naming it (exit 1); on the read-only one, nothing
//    (exit 0 with an empty scan).
#include <filesystem>

#include "root/loop_disk.h"
#include "support/run_cli.h"
#include "support/temp_array.h"
#include "support/test_util.h"

namespace atlas::testing {
namespace {

TEST_CASE("outside: a writable mount of Atlas on the compute host is writable_atlas_mount, a read-only one is not",
          "[outside][root][issue-16]") {
  TempArray a(2, 1);
  a.Write(1, "a.mkv", 100000, 1);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  const std::string index = (a.Copy(1) / "outside.idx").string();
  TempDir dir;
  LoopDisk disk(dir / "disk.img", 300u << 20);
  Mount fs(disk.device(), dir / "disk1");
  Mount rw(fs.dir().string(), dir / "atlas-rw", "none", "bind");
  Mount ro(fs.dir().string(), dir / "atlas-ro", "none", "bind,ro");
  std::filesystem::create_directories(dir / "media");

  CliResult w = RunCli({"--json", "outside", "--index", index, "--atlas-mount", (dir / "atlas-rw").string(),
                        (dir / "media").string()});
  INFO(w.out << w.err);
  CHECK(w.exit_code == 1);
  REQUIRE(w.json["findings"].size() == 1);
  CHECK(w.json["findings"][0]["kind"] == "writable_atlas_mount");
  CHECK(w.json["findings"][0]["severity"] == "warning");
  CHECK(w.json["findings"][0]["path"] == (dir / "atlas-rw").string());

  CliResult r = RunCli({"--json", "outside", "--index", index, "--atlas-mount", (dir / "atlas-ro").string(),
                        (dir / "media").string()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.json["findings"].empty());
}

}  // namespace
}  // namespace atlas::testing
