// The sync disk guards on real filesystems: ext4 images on loop devices,
// mounted where the config's [[data]] paths point, driven through the real
// binary. The in-process and e2e tests can only fake an unmounted disk with
// an emptied directory; here the kernel's mount table and the superblock UUID
// change for real, so the not-a-mount-point and filesystem-UUID guards of
// engine/disk_guards.cc are exercised as a user would trip them.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "root/loop_disk.h"
#include "support/run_cli.h"
#include "support/temp_array.h"
#include "support/test_util.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kImageSize = 64ull << 20;
constexpr std::uint32_t kBlock = 64 * 1024;

struct DataDir {
  std::string name;
  fs::path path;
};

// The files every data disk gets: a few blocks, a partial block, an empty file.
void Populate(const fs::path& root, std::uint64_t seed) {
  WriteFile(root / "Movies/film.mkv", RandomBytes(3 * kBlock + 123, seed));
  WriteFile(root / "Music/track.flac", RandomBytes(40000, seed + 1));
  WriteFile(root / "empty.txt", std::string());
}

// An array whose data directories are given; parity, manifest and manifest
// copies sit on plain directories of the temp dir's own filesystem, so only
// the data disks come and go.
class Array {
 public:
  Array(const TempDir& dir, const std::vector<DataDir>& data) : dir_(dir) {
    std::string toml;
    toml += "manifest = \"" + Manifest().string() + "\"\n";
    toml += "manifest_copies = [\"" + Copies().string() + "\"]\n";
    toml += "block_size = " + std::to_string(kBlock) + "\n";
    // Every test here deletes nothing on purpose; the limit must not be what
    // refuses a sync.
    toml += "[guards]\nmax_deletes_pct = 100\n";
    for (const DataDir& d : data) {
      toml += "[[data]]\nname = \"" + d.name + "\"\npath = \"" + d.path.string() + "\"\n";
    }
    fs::create_directories(Parity().parent_path());
    toml += "[[parity]]\npath = \"" + Parity().string() + "\"\n";
    config_ = dir_.path() / "atlas-scrub.toml";
    WriteFile(config_, toml);
  }

  fs::path Manifest() const { return dir_.path() / "var" / "manifest"; }
  fs::path Copies() const { return dir_.path() / "copies"; }
  fs::path Parity() const { return dir_.path() / "parity" / "atlas.parity"; }

  CliResult Run(const std::string& command) const {
    return RunCli({"-c", config_.string(), "--json", command});
  }

  // Manifest, its copies and the parity file, to assert "nothing changed".
  std::string Fingerprint() const {
    return TreeFingerprint(Manifest()) + TreeFingerprint(Copies()) + TreeFingerprint(Parity());
  }

 private:
  const TempDir& dir_;
  fs::path config_;
};

const nlohmann::json* FindFinding(const nlohmann::json& doc, const std::string& kind,
                                  const std::string& disk) {
  for (const auto& f : doc["findings"]) {
    if (f["kind"] == kind && f["disk"] == disk)
      return &f;
  }
  return nullptr;
}

std::size_t CountKind(const nlohmann::json& doc, const std::string& kind) {
  std::size_t n = 0;
  for (const auto& f : doc["findings"]) n += f["kind"] == kind ? 1 : 0;
  return n;
}

const nlohmann::json* FindDisk(const nlohmann::json& status, const std::string& name) {
  for (const auto& d : status["disks"]) {
    if (d["name"] == name)
      return &d;
  }
  return nullptr;
}

bool Mentions(const nlohmann::json* finding, const std::string& text) {
  return finding != nullptr &&
         (*finding)["message"].get<std::string>().find(text) != std::string::npos;
}

TEST_CASE("sync: a data disk whose filesystem was swapped (new UUID) is refused as missing_disk",
          "[sync][guard][root]") {
  // STRATEGY:
  // 1. Three ext4 loop filesystems mounted as d1..d3, with files; sync.
  // 2. Unmount d2 and mount another ext4 image (another UUID) at the same
  //    path, holding the same file names and sizes.
  // 3. sync --json exits 3 with missing_disk for d2 naming both UUIDs;
  //    manifest, copies and parity are byte-identical.
  // 4. status --json exits 1, health critical, the finding, and d2's live UUID.
  // 5. Mount the original filesystem back: sync exits 0 with nothing to do.
  TempDir dir;
  const fs::path mnt = dir / "mnt";
  LoopDisk disk1(dir / "img/disk1.img", kImageSize);
  LoopDisk disk2(dir / "img/disk2.img", kImageSize);
  LoopDisk disk3(dir / "img/disk3.img", kImageSize);
  LoopDisk impostor(dir / "img/other.img", kImageSize);
  Mount m1(disk1.device(), mnt / "disk1");
  std::optional<Mount> m2(std::in_place, disk2.device(), mnt / "disk2");
  Mount m3(disk3.device(), mnt / "disk3");
  Array a(dir, {{"d1", mnt / "disk1"}, {"d2", mnt / "disk2"}, {"d3", mnt / "disk3"}});
  for (int i = 1; i <= 3; ++i) Populate(mnt / ("disk" + std::to_string(i)), 10 * i);

  CliResult first = a.Run("sync");
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  REQUIRE(first.json["drift"]["added"] == 9);

  const std::string uuid2 = disk2.Uuid();
  const std::string other_uuid = impostor.Uuid();
  REQUIRE(uuid2 != other_uuid);
  m2.reset();
  m2.emplace(impostor.device(), mnt / "disk2");
  Populate(mnt / "disk2", 999);  // same names and sizes, other bytes
  const std::string before = a.Fingerprint();

  CliResult sync = a.Run("sync");
  INFO(sync.out << sync.err);
  CHECK(sync.exit_code == 3);
  CHECK(sync.json["ok"] == false);
  const nlohmann::json* missing = FindFinding(sync.json, "missing_disk", "d2");
  REQUIRE(missing != nullptr);
  CHECK((*missing)["severity"] == "critical");
  CHECK(Mentions(missing, "UUID"));
  CHECK(Mentions(missing, uuid2));
  CHECK(Mentions(missing, other_uuid));
  CHECK(CountKind(sync.json, "missing_disk") == 1);
  CHECK(a.Fingerprint() == before);

  CliResult status = a.Run("status");
  INFO(status.out << status.err);
  CHECK(status.exit_code == 1);
  CHECK(status.json["health"] == "critical");
  CHECK(Mentions(FindFinding(status.json, "missing_disk", "d2"), "UUID"));
  const nlohmann::json* d2 = FindDisk(status.json, "d2");
  REQUIRE(d2 != nullptr);
  CHECK((*d2)["fs_uuid"] == other_uuid);
  CHECK((*d2)["device"] == impostor.device());
  CHECK(a.Fingerprint() == before);

  m2.reset();
  m2.emplace(disk2.device(), mnt / "disk2");
  CliResult back = a.Run("sync");
  INFO(back.out << back.err);
  CHECK(back.exit_code == 0);
  CHECK(back.json["nothing_to_do"] == true);
  CHECK(CountKind(back.json, "missing_disk") == 0);
}

TEST_CASE(
    "sync: a data disk that is no longer mounted is refused even if its empty directory exists",
    "[sync][guard][root]") {
  // STRATEGY:
  // 1. Two ext4 loop filesystems mounted as d1, d2, with files; sync.
  // 2. Unmount d2: its path is now an empty directory on the parent
  //    filesystem. sync exits 3 with missing_disk for d2 saying "not
  //    mounted"; manifest, copies and parity are byte-identical; status shows
  //    d2 as not mounted.
  // 3. Put files into that plain directory (the same names the disk held),
  //    so the disk is not empty: sync is still refused with "not mounted".
  //    This is the mount-point guard; the empty-disk guard cannot see it.
  // 4. Mount d2 again: sync exits 0 with nothing to do.
  TempDir dir;
  const fs::path mnt = dir / "mnt";
  LoopDisk disk1(dir / "img/disk1.img", kImageSize);
  LoopDisk disk2(dir / "img/disk2.img", kImageSize);
  Mount m1(disk1.device(), mnt / "disk1");
  std::optional<Mount> m2(std::in_place, disk2.device(), mnt / "disk2");
  Array a(dir, {{"d1", mnt / "disk1"}, {"d2", mnt / "disk2"}});
  Populate(mnt / "disk1", 1);
  Populate(mnt / "disk2", 2);
  CliResult first = a.Run("sync");
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);

  m2->Unmount();
  REQUIRE(fs::is_directory(mnt / "disk2"));
  REQUIRE(fs::is_empty(mnt / "disk2"));
  const std::string before = a.Fingerprint();

  CliResult empty = a.Run("sync");
  INFO(empty.out << empty.err);
  CHECK(empty.exit_code == 3);
  CHECK(Mentions(FindFinding(empty.json, "missing_disk", "d2"), "not mounted"));
  CHECK(CountKind(empty.json, "missing_disk") == 1);
  CHECK(a.Fingerprint() == before);

  CliResult status = a.Run("status");
  INFO(status.out << status.err);
  CHECK(status.exit_code == 1);
  CHECK(status.json["health"] == "critical");
  CHECK(Mentions(FindFinding(status.json, "missing_disk", "d2"), "not mounted"));
  const nlohmann::json* d2 = FindDisk(status.json, "d2");
  REQUIRE(d2 != nullptr);
  CHECK((*d2)["mounted"] == false);

  Populate(mnt / "disk2", 2);  // what was on the disk, now on the parent fs
  CliResult full = a.Run("sync");
  INFO(full.out << full.err);
  CHECK(full.exit_code == 3);
  const nlohmann::json* missing = FindFinding(full.json, "missing_disk", "d2");
  REQUIRE(missing != nullptr);
  CHECK(Mentions(missing, "not mounted"));
  CHECK_FALSE(Mentions(missing, "is empty"));
  CHECK(a.Fingerprint() == before);

  m2.reset();
  m2.emplace(disk2.device(), mnt / "disk2");
  CliResult back = a.Run("sync");
  INFO(back.out << back.err);
  CHECK(back.exit_code == 0);
  CHECK(back.json["nothing_to_do"] == true);
}

TEST_CASE("sync: disks on one filesystem are noted as shared_filesystem (info) and health stays ok",
          "[sync][guard][root]") {
  // STRATEGY:
  // 1. One ext4 loop filesystem; two [[data]] entries point at two
  //    directories on it (neither is a mount point).
  // 2. sync exits 0 and reports one shared_filesystem finding, severity
  //    info, naming both disks; nothing else is wrong.
  // 3. status exits 0 with health ok and the same info finding.
  TempDir dir;
  const fs::path mnt = dir / "mnt" / "shared";
  LoopDisk disk(dir / "img/shared.img", kImageSize);
  Mount m(disk.device(), mnt);
  Array a(dir, {{"d1", mnt / "one"}, {"d2", mnt / "two"}});
  Populate(mnt / "one", 1);
  Populate(mnt / "two", 2);

  CliResult sync = a.Run("sync");
  INFO(sync.out << sync.err);
  REQUIRE(sync.exit_code == 0);
  CHECK(sync.json["drift"]["added"] == 6);
  CHECK(CountKind(sync.json, "shared_filesystem") == 1);
  const nlohmann::json* shared = FindFinding(sync.json, "shared_filesystem", "d1");
  REQUIRE(shared != nullptr);
  CHECK((*shared)["severity"] == "info");
  CHECK(Mentions(shared, "d1, d2"));
  CHECK(Mentions(shared, mnt.string()));
  for (const auto& f : sync.json["findings"]) {
    if (f["kind"] != "added")
      CHECK(f["kind"] == "shared_filesystem");
  }

  CliResult status = a.Run("status");
  INFO(status.out << status.err);
  CHECK(status.exit_code == 0);
  CHECK(status.json["health"] == "ok");
  CHECK(status.json["array"]["files"] == 6);
  const nlohmann::json* noted = FindFinding(status.json, "shared_filesystem", "d1");
  REQUIRE(noted != nullptr);
  CHECK((*noted)["severity"] == "info");
  CHECK(CountKind(status.json, "missing_disk") == 0);
}

TEST_CASE("disks: ext4, xfs and btrfs loop disks show their device, filesystem and the UUID blkid reads",
          "[disks][root]") {
  // STRATEGY:
  // 1. d1 ext4, d2 xfs, d3 btrfs, each on its own loop device, mounted where
  //    the config points; parity on the temp dir's filesystem.
  // 2. disks --json before any sync: exit 0, every data disk mounted on its
  //    own mount point, the loop device as device and disk, transport loop,
  //    the image as backing file, its size, the type and the UUID of blkid(8),
  //    nothing recorded yet.
  // 3. sync, then disks --json shows the recorded UUID equal to the live one.
  // 4. Unmount d2: disks exits 1 with missing_disk for d2 and d2 not mounted.
  if (::access("/usr/sbin/mkfs.xfs", X_OK) != 0 && ::access("/sbin/mkfs.xfs", X_OK) != 0) {
    WARN("SKIPPED: mkfs.xfs is missing: install xfsprogs (scripts/install-deps.sh)");
    return;
  }
  TempDir dir;
  const fs::path mnt = dir / "mnt";
  struct Spec {
    std::string fs_type;
    std::uint64_t size;
  };
  const Spec specs[] = {{"ext4", kImageSize}, {"xfs", 320ull << 20}, {"btrfs", 128ull << 20}};
  std::vector<std::unique_ptr<LoopDisk>> disks;
  std::vector<std::unique_ptr<Mount>> mounts;
  std::vector<DataDir> data;
  for (int i = 0; i < 3; ++i) {
    const std::string n = std::to_string(i + 1);
    disks.push_back(std::make_unique<LoopDisk>(dir / ("img/disk" + n + ".img"), specs[i].size, "atlas-d" + n,
                                               specs[i].fs_type));
    mounts.push_back(std::make_unique<Mount>(disks.back()->device(), mnt / ("disk" + n), specs[i].fs_type));
    data.push_back({"d" + n, mnt / ("disk" + n)});
    Populate(mnt / ("disk" + n), 7 * (i + 1));
  }
  Array a(dir, data);

  CliResult before = a.Run("disks");
  INFO(before.out << before.err);
  REQUIRE(before.exit_code == 0);
  REQUIRE(before.json["disks"].size() == 4);
  for (int i = 0; i < 3; ++i) {
    const nlohmann::json* d = FindDisk(before.json, "d" + std::to_string(i + 1));
    REQUIRE(d != nullptr);
    INFO(d->dump());
    CHECK((*d)["role"] == "data");
    CHECK((*d)["mounted"] == true);
    CHECK((*d)["is_mount_point"] == true);
    CHECK((*d)["device"] == disks[i]->device());
    CHECK((*d)["disk"] == disks[i]->device());
    CHECK((*d)["transport"] == "loop");
    CHECK((*d)["backing_file"] == (dir / ("img/disk" + std::to_string(i + 1) + ".img")).string());
    CHECK((*d)["size_bytes"] == specs[i].size);
    CHECK((*d)["fs_type"] == specs[i].fs_type);
    CHECK((*d)["fs_uuid"] == disks[i]->Uuid());
    CHECK((*d)["fs_label"] == "atlas-d" + std::to_string(i + 1));
    CHECK((*d)["recorded"].is_null());
  }
  const nlohmann::json* parity = FindDisk(before.json, "parity1");
  REQUIRE(parity != nullptr);
  CHECK((*parity)["role"] == "parity");
  CHECK(CountKind(before.json, "missing_disk") == 0);

  CliResult sync = a.Run("sync");
  INFO(sync.out << sync.err);
  REQUIRE(sync.exit_code == 0);
  CliResult after = a.Run("disks");
  REQUIRE(after.exit_code == 0);
  const nlohmann::json* d3 = FindDisk(after.json, "d3");
  REQUIRE(d3 != nullptr);
  CHECK((*d3)["recorded"]["fs_uuid"] == disks[2]->Uuid());
  CHECK((*d3)["recorded"]["device"] == disks[2]->device());

  mounts[1]->Unmount();
  CliResult gone = a.Run("disks");
  INFO(gone.out << gone.err);
  CHECK(gone.exit_code == 1);
  const nlohmann::json* d2 = FindDisk(gone.json, "d2");
  REQUIRE(d2 != nullptr);
  CHECK((*d2)["mounted"] == false);
  CHECK((*d2)["is_mount_point"] == false);
  const nlohmann::json* missing = FindFinding(gone.json, "missing_disk", "d2");
  REQUIRE(missing != nullptr);
  CHECK(Mentions(missing, "not mounted"));
  CHECK(CountKind(gone.json, "missing_disk") == 1);

  // The text table names every disk and says MOUNTED NO for d2.
  CliResult text = RunCli({"-c", (dir / "atlas-scrub.toml").string(), "disks"});
  CHECK(text.exit_code == 1);
  CHECK(text.out.find("NAME") != std::string::npos);
  CHECK(text.out.find(disks[0]->device()) != std::string::npos);
  CHECK(text.out.find("missing_disk") != std::string::npos);
}

}  // namespace
}  // namespace atlas::testing
