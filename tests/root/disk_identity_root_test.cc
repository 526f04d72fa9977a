// STRATEGY:
// 1. Create a sparse 100 MB image, mkfs.ext4 it, attach it to a loop device
//    and mount it under a temp dir; a guard undoes every step in reverse, on
//    every path out of the test.
// 2. Check ProbeFsIdentity against the kernel and blkid(8): the loop device,
//    ext4, the UUID blkid prints, the label, and is_mount_point.
// 3. Mount a tmpfs inside the ext4 mount and check that Walk skips it with
//    same_device and enters it without.
#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "atlas/disk.h"
#include "atlas/env.h"

#include "support/test_util.h"

namespace atlas {
namespace {

using testing::TempDir;
using testing::WriteFile;

struct Output {
  int exit_code = -1;
  std::string out;
};

// Runs a shell command, capturing stdout (stderr goes to ours).
Output Run(const std::string& cmd) {
  Output r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr)
    return r;
  std::array<char, 512> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == ' ')) r.out.pop_back();
  return r;
}

std::string Quote(const std::string& s) {
  return "'" + s + "'";
}

// Undoes mounts (innermost first) and detaches the loop device.
class LoopGuard {
 public:
  ~LoopGuard() {
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) {
      Run("umount " + Quote(*it) + " 2>/dev/null || umount -l " + Quote(*it));
    }
    if (!loop_.empty())
      Run("losetup -d " + loop_);
  }
  void set_loop(std::string dev) { loop_ = std::move(dev); }
  void add_mount(std::string dir) { mounts_.push_back(std::move(dir)); }

 private:
  std::string loop_;
  std::vector<std::string> mounts_;
};

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
  const std::string img = (dir / "disk1.img").native();
  const std::string mnt = (dir / "mnt").native();
  {
    const int fd = ::open(img.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, 100 << 20) == 0);  // sparse: costs no disk space
    ::close(fd);
  }
  REQUIRE(Run("mkfs.ext4 -q -F -L atlas-root-t " + Quote(img) + " >/dev/null 2>&1").exit_code == 0);
  LoopGuard guard;
  const Output loop = Run("losetup --find --show " + Quote(img));
  REQUIRE(loop.exit_code == 0);
  REQUIRE(loop.out.starts_with("/dev/loop"));
  guard.set_loop(loop.out);
  std::filesystem::create_directories(mnt);
  REQUIRE(Run("mount -t ext4 " + loop.out + " " + Quote(mnt)).exit_code == 0);
  guard.add_mount(mnt);

  // -c /dev/null: no blkid cache is read or written.
  const Output uuid = Run("blkid -c /dev/null -s UUID -o value " + loop.out);
  REQUIRE(uuid.exit_code == 0);
  REQUIRE(uuid.out.size() == 36);

  Result<FsIdentity> id = ProbeFsIdentity(FileSystem::Default(), mnt);
  REQUIRE_OK(id);
  CHECK(id->device == loop.out);
  CHECK(id->fs_type == "ext4");
  CHECK(id->uuid == uuid.out);
  CHECK(id->label == "atlas-root-t");
  CHECK(id->mount_point == mnt);
  CHECK(id->is_mount_point);

  // A directory inside the file system: same identity, not a mount point.
  std::filesystem::create_directories(mnt + "/Movies");
  Result<FsIdentity> sub = ProbeFsIdentity(FileSystem::Default(), mnt + "/Movies/");
  REQUIRE_OK(sub);
  CHECK(sub->uuid == uuid.out);
  CHECK(sub->mount_point == mnt);
  CHECK_FALSE(sub->is_mount_point);

  // The directory the disk is mounted on, seen from outside, is another
  // file system: what an unmounted disk leaves behind.
  Result<FsIdentity> parent = ProbeFsIdentity(FileSystem::Default(), dir.path());
  REQUIRE_OK(parent);
  CHECK(parent->device != loop.out);

  SECTION("Walk skips a nested mount with same_device, and enters it without") {
    WriteFile(mnt + "/Movies/a.mkv", "a");
    const std::string nested = mnt + "/Movies/nested";
    std::filesystem::create_directories(nested);
    REQUIRE(Run("mount -t tmpfs -o size=1m tmpfs " + Quote(nested)).exit_code == 0);
    guard.add_mount(nested);
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
