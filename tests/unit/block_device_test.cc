// DescribeBlockDevice on recorded sysfs trees: the layouts the kernel gives a
// SATA drive (libata, SCSI disk), an NVMe namespace, a USB bridge, a virtio
// disk and a loop device, each built file by file under a temp dir with the
// relative symlinks of the real /sys. The guard test then checks that a
// changed serial or filesystem UUID is missing_disk and a renamed device
// alone is not.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "atlas/disk.h"
#include "engine/array.h"
#include "engine/disk_guards.h"
#include "engine/read_layout.h"
#include "support/test_util.h"

namespace atlas {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::WriteFile;

// A sysfs tree under `root`: block device directories and their
// /sys/dev/block/MAJ:MIN links.
class FakeSysfs {
 public:
  explicit FakeSysfs(fs::path root) : root_(std::move(root)) {}

  // Creates the device directory `rel` (under devices/) with its uevent,
  // dev and size attributes, and the dev/block link to it.
  fs::path AddBlock(const std::string& rel, const std::string& name, int major, int minor,
                    std::uint64_t sectors) {
    const fs::path dir = root_ / "devices" / rel;
    fs::create_directories(dir);
    WriteFile(dir / "uevent", "MAJOR=" + std::to_string(major) + "\nMINOR=" + std::to_string(minor) +
                                  "\nDEVNAME=" + name + "\nDEVTYPE=disk\n");
    WriteFile(dir / "dev", std::to_string(major) + ":" + std::to_string(minor) + "\n");
    WriteFile(dir / "size", std::to_string(sectors) + "\n");
    fs::create_directories(root_ / "dev" / "block");
    const fs::path link = root_ / "dev" / "block" / (std::to_string(major) + ":" + std::to_string(minor));
    fs::create_directory_symlink(fs::path("../../devices") / rel, link);
    return dir;
  }

  const fs::path& root() const { return root_; }

 private:
  fs::path root_;
};

// A VPD page 0x80 as libata builds it: header, then the serial, space-padded.
std::string Vpd80(const std::string& serial) {
  std::string page = {'\0', '\x80', '\0', static_cast<char>(serial.size() + 4)};
  return page + "    " + serial;
}

TEST_CASE("disk: a SATA partition maps to its drive with model, serial from VPD 0x80, WWN and size",
          "[disk][unit]") {
  TempDir dir;
  FakeSysfs sys(dir.path());
  const std::string host = "pci0000:00/0000:00:17.0/ata3/host2/target2:0:0/2:0:0:0";
  const fs::path sdb = sys.AddBlock(host + "/block/sdb", "sdb", 8, 16, 7814037168);
  WriteFile(sdb / "queue" / "rotational", "1\n");
  const fs::path scsi = dir.path() / "devices" / host;
  WriteFile(scsi / "vendor", "ATA     \n");
  WriteFile(scsi / "model", "WDC WD40EFRX-68N\n");
  WriteFile(scsi / "wwid", "naa.50014ee2b5e4c4a1\n");
  WriteFile(scsi / "vpd_pg80", Vpd80("WD-WCC7K1234567"));
  fs::create_directory_symlink("../../../2:0:0:0", sdb / "device");
  const fs::path sdb1 = sys.AddBlock(host + "/block/sdb/sdb1", "sdb1", 8, 17, 7814035087);
  WriteFile(sdb1 / "partition", "1\n");

  Result<BlockDevice> dev = DescribeBlockDevice(sys.root(), 8, 17);
  REQUIRE_OK(dev);
  CHECK(dev->name == "sdb1");
  CHECK(dev->node == "/dev/sdb1");
  CHECK(dev->disk_name == "sdb");
  CHECK(dev->disk_node == "/dev/sdb");
  CHECK(dev->model == "WDC WD40EFRX-68N");
  CHECK(dev->serial == "WD-WCC7K1234567");
  CHECK(dev->wwn == "naa.50014ee2b5e4c4a1");
  CHECK(dev->size_bytes == 7814037168ull * 512);  // of the drive, not the partition
  REQUIRE(dev->rotational.has_value());
  CHECK(*dev->rotational);
  CHECK(dev->transport == "ata");

  // The whole disk describes itself the same way.
  Result<BlockDevice> whole = DescribeBlockDevice(sys.root(), 8, 16);
  REQUIRE_OK(whole);
  CHECK(whole->node == "/dev/sdb");
  CHECK(whole->serial == "WD-WCC7K1234567");
}

TEST_CASE("disk: an NVMe namespace takes model and serial from its controller and the WWN of the namespace",
          "[disk][unit]") {
  TempDir dir;
  FakeSysfs sys(dir.path());
  const std::string ctrl = "pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0";
  const fs::path ns = sys.AddBlock(ctrl + "/nvme0n1", "nvme0n1", 259, 0, 3907029168);
  WriteFile(ns / "queue" / "rotational", "0\n");
  WriteFile(ns / "wwid", "eui.0025385b71b0a1b2\n");
  WriteFile(dir.path() / "devices" / ctrl / "model", "Samsung SSD 970 EVO Plus 2TB           \n");
  WriteFile(dir.path() / "devices" / ctrl / "serial", "S4J4NX0R123456      \n");
  fs::create_directory_symlink("..", ns / "device");
  const fs::path p2 = sys.AddBlock(ctrl + "/nvme0n1/nvme0n1p2", "nvme0n1p2", 259, 2, 1000000);
  WriteFile(p2 / "partition", "2\n");

  Result<BlockDevice> dev = DescribeBlockDevice(sys.root(), 259, 2);
  REQUIRE_OK(dev);
  CHECK(dev->node == "/dev/nvme0n1p2");
  CHECK(dev->disk_node == "/dev/nvme0n1");
  CHECK(dev->model == "Samsung SSD 970 EVO Plus 2TB");
  CHECK(dev->serial == "S4J4NX0R123456");
  CHECK(dev->wwn == "eui.0025385b71b0a1b2");
  CHECK(dev->transport == "nvme");
  REQUIRE(dev->rotational.has_value());
  CHECK_FALSE(*dev->rotational);
}

TEST_CASE("disk: a drive behind a USB bridge, a virtio disk and a loop device are told apart",
          "[disk][unit]") {
  TempDir dir;
  FakeSysfs sys(dir.path());
  const std::string usb = "pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0";
  const fs::path sdc = sys.AddBlock(usb + "/block/sdc", "sdc", 8, 32, 100);
  WriteFile(dir.path() / "devices" / usb / "vendor", "Seagate \n");
  fs::create_directory_symlink("../../../6:0:0:0", sdc / "device");
  const fs::path vda = sys.AddBlock("pci0000:00/0000:00:05.0/virtio2/block/vda", "vda", 254, 0, 200);
  WriteFile(vda / "serial", "overlayblk\n");
  const fs::path loop = sys.AddBlock("virtual/block/loop3", "loop3", 7, 3, 2097152);
  WriteFile(loop / "loop" / "backing_file", "/srv/images/disk1.img\n");

  Result<BlockDevice> u = DescribeBlockDevice(sys.root(), 8, 32);
  REQUIRE_OK(u);
  CHECK(u->transport == "usb");
  CHECK(u->serial.empty());  // a bridge without pass-through reports none
  Result<BlockDevice> v = DescribeBlockDevice(sys.root(), 254, 0);
  REQUIRE_OK(v);
  CHECK(v->transport == "virtio");
  CHECK(v->serial == "overlayblk");
  CHECK_FALSE(v->rotational.has_value());  // no queue/rotational recorded
  Result<BlockDevice> l = DescribeBlockDevice(sys.root(), 7, 3);
  REQUIRE_OK(l);
  CHECK(l->transport == "loop");
  CHECK(l->backing_file == "/srv/images/disk1.img");
  CHECK(l->size_bytes == 2097152ull * 512);
  CHECK(l->model.empty());
}

TEST_CASE("disk: an unknown device number is kNotFound and a regular file is not a block device",
          "[disk][unit]") {
  TempDir dir;
  Result<BlockDevice> none = DescribeBlockDevice(dir.path(), 8, 99);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == Code::kNotFound);
  WriteFile(dir / "plain", "x");
  Result<BlockDevice> plain = DescribeBlockDeviceNode("/sys", (dir / "plain").string());
  REQUIRE_FALSE(plain.ok());
  CHECK(plain.status().code() == Code::kInvalidArgument);
  CHECK(plain.status().ToString().find("is not a block device") != std::string::npos);
}

// An array view of one data disk recorded with `was` and found now as `now`.
ArrayView OneDisk(const DiskIdentityRecord& was, const FsIdentity& now) {
  ArrayView view;
  ArrayDataDisk d;
  d.name = "d1";
  d.root = "/mnt/disk1";
  d.present = true;
  DiskRecord record;
  record.name = "d1";
  record.identity = was;
  d.record = record;
  d.identity = now;
  view.data.push_back(d);
  return view;
}

TEST_CASE("disk: a changed serial or UUID is missing_disk; a device renamed at boot is not",
          "[disk][unit]") {
  DiskIdentityRecord was;
  was.device = "/dev/sdb1";
  was.fs_type = "ext4";
  was.uuid = "0d5c3c8e-1111-4c4c-9a9a-222233334444";
  was.serial = "WD-WCC7K1234567";
  was.is_mount_point = true;
  FsIdentity now;
  now.device = "/dev/sdb1";
  now.fs_type = "ext4";
  now.uuid = was.uuid;
  now.serial = was.serial;
  now.mount_point = "/mnt/disk1";
  now.is_mount_point = true;

  CHECK(CheckDiskGuards(OneDisk(was, now)).empty());

  SECTION("sdb becomes sdc after a reboot: same UUID and serial, no finding") {
    now.device = "/dev/sdc1";
    CHECK(CheckDiskGuards(OneDisk(was, now)).empty());
  }
  SECTION("the same filesystem image on another drive (dd to a new disk): serial changed") {
    now.serial = "ZCT0ABCD";
    const std::vector<Finding> f = CheckDiskGuards(OneDisk(was, now));
    REQUIRE(f.size() == 1);
    CHECK(f[0].kind == FindingKind::kMissingDisk);
    CHECK(f[0].severity == Severity::kCritical);
    CHECK(f[0].disk == "d1");
    CHECK(f[0].message.find("drive serial WD-WCC7K1234567 at the last sync, now ZCT0ABCD") != std::string::npos);
  }
  SECTION("another filesystem: UUID changed") {
    now.uuid = "99999999-1111-4c4c-9a9a-222233334444";
    const std::vector<Finding> f = CheckDiskGuards(OneDisk(was, now));
    REQUIRE(f.size() == 1);
    CHECK(f[0].message.find("filesystem UUID 0d5c3c8e") != std::string::npos);
  }
  SECTION("neither UUID nor serial known: the device is all there is, and it changed") {
    was.uuid.clear();
    was.serial.clear();
    now.uuid.clear();
    now.serial.clear();
    now.device = "/dev/sdc1";
    const std::vector<Finding> f = CheckDiskGuards(OneDisk(was, now));
    REQUIRE(f.size() == 1);
    CHECK(f[0].message.find("device /dev/sdb1 at the last sync, now /dev/sdc1") != std::string::npos);
  }
  SECTION("a serial not readable now (USB bridge) is not a change") {
    now.serial.clear();
    CHECK(CheckDiskGuards(OneDisk(was, now)).empty());
  }
}

TEST_CASE("disk: auto reads whole stripes only when every disk is known to be solid-state or RAM",
          "[disk][unit]") {
  auto disk = [](std::optional<bool> rotational) {
    FsIdentity id;
    id.rotational = rotational;
    return std::optional<FsIdentity>(id);
  };
  ArrayView view;
  for (int i = 0; i < 3; ++i) {
    ArrayDataDisk d;
    d.identity = disk(false);
    view.data.push_back(d);
  }
  ArrayParity p;
  p.identity = disk(false);
  view.parity.push_back(p);
  Config config;
  CHECK(config.read_layout == ReadLayout::kAuto);
  CHECK(ReadsWholeStripes(config, view));

  SECTION("one hard disk among SSDs: per disk") {
    view.data[1].identity = disk(true);
    CHECK_FALSE(ReadsWholeStripes(config, view));
    config.read_layout = ReadLayout::kWholeStripes;  // the user's word goes
    CHECK(ReadsWholeStripes(config, view));
  }
  SECTION("a parity disk of unknown kind (NFS, FUSE) or not probed (missing): per disk") {
    view.parity[0].identity = disk(std::nullopt);
    CHECK_FALSE(ReadsWholeStripes(config, view));
    view.parity[0].identity = disk(false);
    view.data[2].identity.reset();
    CHECK_FALSE(ReadsWholeStripes(config, view));
  }
  SECTION("bandwidth_limit asks for politeness: per disk") {
    config.bandwidth_limit = 50'000'000;
    CHECK_FALSE(ReadsWholeStripes(config, view));
  }
  SECTION("per-disk set by hand") {
    config.read_layout = ReadLayout::kPerDisk;
    CHECK_FALSE(ReadsWholeStripes(config, view));
  }
  SECTION("workers: io_threads, else one per core") {
    CHECK(WholeStripeWorkers(config) >= 1);
    config.io_threads = 3;
    CHECK(WholeStripeWorkers(config) == 3);
  }
}

TEST_CASE("disk: ProbeFsIdentity says a tmpfs is not rotational", "[disk][unit]") {
  Result<FsIdentity> shm = ProbeFsIdentity(FileSystem::Default(), "/dev/shm");
  if (!shm.ok() || shm->fs_type != "tmpfs") {
    WARN("skipped: no tmpfs at /dev/shm here");
    return;
  }
  REQUIRE(shm->rotational.has_value());
  CHECK_FALSE(*shm->rotational);
}

}  // namespace
}  // namespace atlas
