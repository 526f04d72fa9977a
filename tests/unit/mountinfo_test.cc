#include <cstdlib>
#include <string>
#include <vector>

#include <unistd.h>

#include "atlas/disk.h"
#include "atlas/env.h"

#include "disk/blkid_probe.h"
#include "support/test_util.h"

namespace atlas {
namespace {

using testing::TempDir;
using testing::WriteFile;

// Recorded from real hosts (ids and options trimmed), covering the shapes
// atlas meets: the root on a virtio disk, ext4 on loops, a btrfs subvolume
// with its anonymous 0:39 device, tmpfs, a mount point with a space, and a
// tmpfs stacked on top of /mnt/disk1.
constexpr std::string_view kHost =
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n"
    "60 27 7:0 / /mnt/disk1 rw,relatime shared:30 - ext4 /dev/loop0 rw\n"
    "61 27 7:1 / /mnt/disk10 rw,relatime shared:31 master:2 - ext4 /dev/loop1 rw\n"
    "62 27 0:39 /@data /mnt/pool rw,relatime - btrfs /dev/loop2 "
    "rw,space_cache=v2,subvolid=256,subvol=/@data\n"
    "63 27 0:45 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw,size=1024k\n"
    "64 27 7:3 / /mnt/my\\040disk rw - ext4 /dev/loop3 rw\n"
    "65 60 0:47 / /mnt/disk1 rw - tmpfs tmpfs rw\n";

// A container: overlay root whose parent is not visible.
constexpr std::string_view kContainer =
    "1200 1100 0:52 / / rw,relatime master:1 - overlay overlay "
    "rw,lowerdir=/var/lib/docker/overlay2/l/A:/var/lib/docker/overlay2/l/B,"
    "upperdir=/var/lib/docker/overlay2/x/diff,workdir=/var/lib/docker/overlay2/x/work\n"
    "1201 1200 0:55 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "1210 1200 254:1 /srv/media /media rw,relatime - ext4 /dev/vdb1 rw\n";

std::vector<MountInfo> Parse(std::string_view text) {
  Result<std::vector<MountInfo>> r = ParseMountInfo(text);
  REQUIRE_OK(r);
  return *r;
}

std::string SourceFor(const std::vector<MountInfo>& mounts, const char* path) {
  const std::optional<MountInfo> m = FindMountFor(mounts, path);
  REQUIRE(m.has_value());
  return m->source + " " + m->mount_point;
}

TEST_CASE("mountinfo: every field of the kernel format is parsed", "[disk][unit]") {
  const std::vector<MountInfo> m = Parse(kHost);
  REQUIRE(m.size() == 8);
  CHECK(m[1].mount_id == 27);
  CHECK(m[1].parent_id == 1);
  CHECK(m[1].major == 254);
  CHECK(m[1].minor == 0);
  CHECK(m[1].root == "/");
  CHECK(m[1].mount_point == "/");
  CHECK(m[1].options == "rw,relatime");
  CHECK(m[1].fs_type == "ext4");
  CHECK(m[1].source == "/dev/vda");
  CHECK(m[1].super_options == "rw,discard");

  // Optional fields before " - " are skipped, however many there are.
  CHECK(m[3].source == "/dev/loop1");
  CHECK(m[3].fs_type == "ext4");

  // btrfs: the anonymous device, the subvolume as root.
  CHECK(m[4].major == 0);
  CHECK(m[4].minor == 39);
  CHECK(m[4].root == "/@data");
  CHECK(m[4].fs_type == "btrfs");
  CHECK(m[4].super_options == "rw,space_cache=v2,subvolid=256,subvol=/@data");

  CHECK(m[5].source == "tmpfs");
  CHECK(m[6].mount_point == "/mnt/my disk");  // \040 decoded
}

TEST_CASE("mountinfo: octal escapes decode to raw bytes in every string field", "[disk][unit]") {
  const std::vector<MountInfo> m = Parse(
      "70 27 7:4 /a\\134b /mnt/tab\\011new\\012line\\040x\\377 rw - ext4 /dev/my\\040dev rw\n");
  REQUIRE(m.size() == 1);
  CHECK(m[0].root == "/a\\b");
  CHECK(m[0].mount_point == "/mnt/tab\tnew\nline x\xff");
  CHECK(m[0].source == "/dev/my dev");
  // A backslash not followed by three octal digits stays as it is.
  CHECK(Parse("71 27 7:5 / /x\\09 rw - ext4 /dev/l rw\n")[0].mount_point == "/x\\09");
}

TEST_CASE("mountinfo: malformed lines are kCorruption naming the line", "[disk][unit]") {
  CHECK(Parse("").empty());
  CHECK(Parse("\n\n").size() == 0);
  Result<std::vector<MountInfo>> no_sep =
      ParseMountInfo("27 1 254:0 / / rw\n28 27 7:0 / /x rw shared:1 ext4 /dev/loop0 rw\n");
  REQUIRE_FALSE(no_sep.ok());
  CHECK(no_sep.status().code() == Code::kCorruption);
  CHECK(no_sep.status().ToString().find("mountinfo line 1:") == 0);
  Result<std::vector<MountInfo>> bad_dev =
      ParseMountInfo("27 1 254:0 / / rw - ext4 /dev/vda rw\n28 27 7-0 / /x rw - ext4 /dev/l rw\n");
  REQUIRE_FALSE(bad_dev.ok());
  CHECK(bad_dev.status().ToString().find("mountinfo line 2: bad major:minor") == 0);
  CHECK_FALSE(ParseMountInfo("x 1 1:1 / / rw - ext4 /dev/vda rw\n").ok());
  CHECK_FALSE(ParseMountInfo("1 1 1:1 / / rw - ext4\n").ok());
}

TEST_CASE("mountinfo: FindMountFor matches on path-component boundaries", "[disk][unit]") {
  const std::vector<MountInfo> m = Parse(kHost);
  CHECK(SourceFor(m, "/mnt/disk10") == "/dev/loop1 /mnt/disk10");
  CHECK(SourceFor(m, "/mnt/disk10/Movies/x.mkv") == "/dev/loop1 /mnt/disk10");
  CHECK(SourceFor(m, "/mnt/disk100") == "/dev/vda /");
  CHECK(SourceFor(m, "/mnt") == "/dev/vda /");
  CHECK(SourceFor(m, "/mnt/my disk/a") == "/dev/loop3 /mnt/my disk");
  CHECK(SourceFor(m, "/mnt/pool/photos") == "/dev/loop2 /mnt/pool");
  CHECK(SourceFor(m, "/") == "/dev/vda /");
  // Trailing slashes and "." components are lexical noise.
  CHECK(SourceFor(m, "/mnt/disk10/./x/") == "/dev/loop1 /mnt/disk10");
  CHECK_FALSE(FindMountFor(m, "relative/path").has_value());
}

TEST_CASE("mountinfo: the topmost of stacked mounts wins", "[disk][unit]") {
  const std::vector<MountInfo> m = Parse(kHost);
  // 65 (tmpfs) sits on 60 (/dev/loop0) at /mnt/disk1.
  CHECK(SourceFor(m, "/mnt/disk1") == "tmpfs /mnt/disk1");
  CHECK(SourceFor(m, "/mnt/disk1/a/b") == "tmpfs /mnt/disk1");
  CHECK(FindMountFor(m, "/mnt/disk1/a")->mount_id == 65);
  // The same table without usable parent links falls back to longest
  // prefix, last one wins, with the same answers.
  std::vector<MountInfo> flat = m;
  for (MountInfo& x : flat) x.parent_id = 999;
  CHECK(FindMountFor(flat, "/mnt/disk1/a")->mount_id == 65);
  CHECK(FindMountFor(flat, "/mnt/disk10/a")->mount_id == 61);
  CHECK(FindMountFor(flat, "/etc")->mount_id == 27);
  // A root that names itself as parent is still the root of the tree.
  std::vector<MountInfo> self = m;
  self[1].parent_id = self[1].mount_id;
  CHECK(FindMountFor(self, "/mnt/disk1/a")->mount_id == 65);
}

TEST_CASE("mountinfo: a mount hidden under a later mount on its parent is not returned",
          "[disk][unit]") {
  // /mnt/disk1 was mounted first, then a tmpfs over /mnt hid it.
  const std::vector<MountInfo> m = Parse(
      "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
      "60 27 7:0 / /mnt/disk1 rw - ext4 /dev/loop0 rw\n"
      "70 27 0:50 / /mnt rw - tmpfs tmpfs rw\n");
  CHECK(SourceFor(m, "/mnt/disk1/x") == "tmpfs /mnt");
  CHECK_FALSE(IsMountPoint(m, "/mnt/disk1"));
  CHECK(IsMountPoint(m, "/mnt"));
}

TEST_CASE("mountinfo: overlay container root and bind mounts", "[disk][unit]") {
  const std::vector<MountInfo> m = Parse(kContainer);
  CHECK(SourceFor(m, "/etc/passwd") == "overlay /");
  CHECK(FindMountFor(m, "/")->fs_type == "overlay");
  const std::optional<MountInfo> media = FindMountFor(m, "/media/films");
  REQUIRE(media.has_value());
  CHECK(media->source == "/dev/vdb1");
  CHECK(media->root == "/srv/media");
}

TEST_CASE("mountinfo: IsMountPoint is true only for the mount point itself", "[disk][unit]") {
  const std::vector<MountInfo> m = Parse(kHost);
  CHECK(IsMountPoint(m, "/"));
  CHECK(IsMountPoint(m, "/mnt/disk10"));
  CHECK(IsMountPoint(m, "/mnt/disk10/"));
  CHECK_FALSE(IsMountPoint(m, "/mnt/disk10/sub"));
  CHECK_FALSE(IsMountPoint(m, "/mnt"));
  CHECK_FALSE(IsMountPoint(m, "mnt/disk10"));
}

TEST_CASE("mountinfo: this process's table parses and holds /", "[disk][unit]") {
  Result<std::vector<MountInfo>> m = ReadMountInfo(FileSystem::Default());
  REQUIRE_OK(m);
  REQUIRE_FALSE(m->empty());
  const std::optional<MountInfo> root = FindMountFor(*m, "/");
  REQUIRE(root.has_value());
  CHECK(root->mount_point == "/");
  CHECK(IsMountPoint(*m, "/proc"));
}

TEST_CASE("disk: ProbeFsIdentity works on / and a temp dir even when the device is closed to us",
          "[disk][unit]") {
  // Here the root disk refuses open() even to root (EPERM): that leaves the
  // UUID empty and is not an error.
  Result<FsIdentity> root = ProbeFsIdentity(FileSystem::Default(), "/");
  REQUIRE_OK(root);
  CHECK(root->mount_point == "/");
  CHECK(root->is_mount_point);
  CHECK_FALSE(root->fs_type.empty());

  TempDir dir;
  Result<FsIdentity> tmp = ProbeFsIdentity(FileSystem::Default(), dir.path());
  REQUIRE_OK(tmp);
  CHECK_FALSE(tmp->is_mount_point);
  CHECK_FALSE(tmp->mount_point.empty());
  CHECK(dir.path().native().starts_with(tmp->mount_point));
  if (!tmp->device.empty())
    CHECK(tmp->device.starts_with("/dev/"));

  // Symlinks are resolved before the lookup.
  REQUIRE(::symlink("/proc", (dir / "to-proc").c_str()) == 0);
  Result<FsIdentity> proc = ProbeFsIdentity(FileSystem::Default(), dir / "to-proc");
  REQUIRE_OK(proc);
  CHECK(proc->mount_point == "/proc");
  CHECK(proc->fs_type == "proc");
  CHECK(proc->is_mount_point);
  CHECK(proc->device.empty());

  CHECK(ProbeFsIdentity(FileSystem::Default(), dir / "nope").status().code() == Code::kNotFound);
}

const char* FindMkfsExt4() {
  for (const char* p : {"/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4"}) {
    if (::access(p, X_OK) == 0)
      return p;
  }
  return nullptr;
}

TEST_CASE("blkid: reads type, UUID and label from an ext4 image file", "[disk][unit]") {
  const char* mkfs = FindMkfsExt4();
  if (mkfs == nullptr) {
    WARN("mkfs.ext4 not installed; image probe not run");
    return;
  }
  TempDir dir;
  const std::string img = (dir / "fs.img").native();
  const std::string cmd = std::string(mkfs) +
                          " -q -F -U 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 -L atlas-d1 '" + img +
                          "' 4M >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  Result<SuperblockInfo> sb = ProbeSuperblock(img);
  REQUIRE_OK(sb);
  CHECK(sb->type == "ext4");
  CHECK(sb->uuid == "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
  CHECK(sb->label == "atlas-d1");
  CHECK_FALSE(IsBlockDevice(img));
}

TEST_CASE("blkid: no signature is kNotFound, a missing device keeps its errno", "[disk][unit]") {
  TempDir dir;
  WriteFile(dir / "noise.img", std::vector<std::byte>(1 << 20));  // zeros: no signature
  Result<SuperblockInfo> none = ProbeSuperblock((dir / "noise.img").native());
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == Code::kNotFound);
  Result<SuperblockInfo> missing = ProbeSuperblock((dir / "nope").native());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK(missing.status().sys_errno() == ENOENT);
}

}  // namespace
}  // namespace atlas
