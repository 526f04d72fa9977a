// STRATEGY:
// 1. Create a sparse 100 MB image, mkfs.ext4 it, attach it to a loop device
//    and mount it under a temp dir; LoopDisk and Mount (root/loop_disk.h)
//    undo every step in reverse, on every path out of the test.
// 2. Check ProbeFsIdentity against the kernel and blkid(8): the loop device,
//    ext4, the UUID blkid prints, the label, and is_mount_point.
// 3. Mount a tmpfs inside the ext4 mount and check that Walk skips it with
//    same_device and enters it without.
#include <string>
#include <vector>

#include "atlas/disk.h"
#include "atlas/env.h"

#include "root/loop_disk.h"
#include "support/test_util.h"

namespace atlas {
namespace {

using testing::LoopDisk;
using testing::Mount;
using testing::TempDir;
using testing::WriteFile;

std::vector<std::string> Walk(const std::filesystem::path& root, bool same_device) {
  std::vector<std::string> out;
  WalkOptions options;
  options.same_device = same_device;
  Status s = FileSystem::Default()->Walk(root, options, [&](const WalkEntry& e) {
    out.push_back(e.rel_path);
    return Status::Ok();
  });
  INFO(s.ToString());
  REQUIRE(s.ok());
  return out;
}

TEST_CASE("disk: ProbeFsIdentity names the loop device, ext4 and the UUID blkid reports",
          "[disk][root]") {
  TempDir dir;
  const std::string mnt = (dir / "mnt").native();
  LoopDisk disk(dir / "disk1.img", 100 << 20, "atlas-root-t");
  Mount mount(disk.device(), mnt);
  const std::string uuid = disk.Uuid();
  REQUIRE(uuid.size() == 36);

  Result<FsIdentity> id = ProbeFsIdentity(FileSystem::Default(), mnt);
  REQUIRE_OK(id);
  CHECK(id->device == disk.device());
  CHECK(id->fs_type == "ext4");
  CHECK(id->uuid == uuid);
  CHECK(id->label == "atlas-root-t");
  CHECK(id->mount_point == mnt);
  CHECK(id->is_mount_point);

  // A directory inside the file system: same identity, not a mount point.
  std::filesystem::create_directories(mnt + "/Movies");
  Result<FsIdentity> sub = ProbeFsIdentity(FileSystem::Default(), mnt + "/Movies/");
  REQUIRE_OK(sub);
  CHECK(sub->uuid == uuid);
  CHECK(sub->mount_point == mnt);
  CHECK_FALSE(sub->is_mount_point);

  // The directory the disk is mounted on, seen from outside, is another
  // file system: what an unmounted disk leaves behind.
  Result<FsIdentity> parent = ProbeFsIdentity(FileSystem::Default(), dir.path());
  REQUIRE_OK(parent);
  CHECK(parent->device != disk.device());

  SECTION("Walk skips a nested mount with same_device, and enters it without") {
    WriteFile(mnt + "/Movies/a.mkv", "a");
    const std::string nested = mnt + "/Movies/nested";
    std::filesystem::create_directories(nested);
    Mount tmpfs_mount("tmpfs", nested, "tmpfs", "size=1m");
    WriteFile(nested + "/inside", "x");
    const std::vector<std::string> same = Walk(mnt, /*same_device=*/true);
    CHECK(same == std::vector<std::string>{"Movies/a.mkv"});
    const std::vector<std::string> all = Walk(mnt, /*same_device=*/false);
    CHECK(all == std::vector<std::string>{"Movies/a.mkv", "Movies/nested/inside"});
    Result<FsIdentity> tmpfs = ProbeFsIdentity(FileSystem::Default(), nested);
    REQUIRE_OK(tmpfs);
    CHECK(tmpfs->fs_type == "tmpfs");
    CHECK(tmpfs->device.empty());
    CHECK(tmpfs->is_mount_point);
  }
}

}  // namespace
}  // namespace atlas
