// Disk identity: which file system, on which device, holds a path.
//
// atlas records each disk's identity at sync (device, file system UUID,
// whether the configured path is a mount point) and reports a change as
// missing_disk: an unmounted disk leaves an empty directory behind, and a
// scrub of that directory must not conclude that every file was deleted.
//
// Paths map to file systems through /proc/self/mountinfo, never st_dev: on
// btrfs, stat() reports an anonymous per-subvolume device (0:40) that matches
// neither mountinfo (0:39) nor the block device (7:2). UUID and label come
// from libblkid reading the superblock: many hosts (containers, VMs) have no
// udev database to ask.
//
// Thread-safety: every function here is safe to call concurrently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "atlas/env.h"
#include "atlas/status.h"

namespace atlas {

// One line of /proc/self/mountinfo (see proc(5)):
//
//   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//   (1)(2) (3)  (4)     (5)         (6)       (7)    (8) (9)   (10)       (11)
//
// String fields hold raw bytes with the kernel's octal escapes (\040 for a
// space, \011 tab, \012 newline, \134 backslash) already decoded.
struct MountInfo {
  std::uint64_t mount_id = 0;   // (1) unique per mount, reused after umount
  std::uint64_t parent_id = 0;  // (2) the mount this one sits on
  std::uint32_t major = 0;      // (3) st_dev of the file system,
  std::uint32_t minor = 0;      //     0:N for btrfs, tmpfs, overlay
  std::string root;             // (4) "/", or the bind-mounted subdirectory
                                //     or btrfs subvolume ("/@data")
  std::string mount_point;      // (5) relative to this process's root
  std::string fs_type;          // (9) "ext4", "btrfs", "fuse.mergerfs", ...
  std::string source;           // (10) "/dev/sdb1", "tmpfs", "overlay", ...
  std::string options;          // (6) per-mount options: "rw,relatime"
  std::string super_options;    // (11) per-superblock options: "rw,subvol=/@data"
};

// Parses the text of a mountinfo file. Optional fields (7) are skipped.
// Empty lines are ignored; an empty text gives an empty vector.
// Returns kCorruption, naming the 1-based line, for a line that does not
// have the kernel format (missing " - " separator, a bad number).
Result<std::vector<MountInfo>> ParseMountInfo(std::string_view text);

// Reads and parses /proc/self/mountinfo through `fs` (not owned; must not
// be null). Errors are those of FileSystem::ReadFile or ParseMountInfo.
Result<std::vector<MountInfo>> ReadMountInfo(FileSystem* fs);

// The mount holding `absolute_path`, compared lexically (pass a canonical
// path; "." components and trailing slashes are ignored); nullopt for a
// relative path or no match. That is the longest mount point prefixing the
// path on a component boundary ("/mnt/disk1" holds "/mnt/disk1/x", not
// "/mnt/disk10"); of mounts stacked on one point, the last (visible) wins.
// Parent links are followed like the kernel's path walk, so a mount hidden
// under a later mount on an ancestor is never returned; a table without a
// root mount falls back to plain longest prefix.
std::optional<MountInfo> FindMountFor(const std::vector<MountInfo>& mounts,
                                      const std::filesystem::path& absolute_path);

// True when `absolute_path` (same rules as FindMountFor) is itself the mount
// point of the mount that holds it.
bool IsMountPoint(const std::vector<MountInfo>& mounts, const std::filesystem::path& absolute_path);

// What atlas records about the file system under a data or parity path.
struct FsIdentity {
  // The mount source when it names a device ("/dev/sdb1", "/dev/loop3",
  // "/dev/mapper/x" as mounted, not resolved), else empty (tmpfs, overlay,
  // network and FUSE file systems).
  std::string device;
  // From libblkid when it could read the superblock, else from mountinfo.
  // They differ for FUSE block file systems: "ntfs" against "fuseblk".
  std::string fs_type;
  // From the superblock, as blkid prints them; empty when the device could
  // not be probed (no device, no permission) or has no label.
  std::string uuid;
  std::string label;
  // The mount point of the file system that holds the path.
  std::string mount_point;
  // True when the path itself is that mount point. A disk path that is not
  // may be the empty directory an unmounted disk leaves behind.
  bool is_mount_point = false;
  // The drive's model and serial number (DescribeBlockDevice of the
  // device), empty when unknown: loop devices, tmpfs, drives that do not
  // report them.
  std::string model;
  std::string serial;
  // Whether reads wait on a platter: the whole disk's queue/rotational for
  // a block device, false for RAM file systems (tmpfs, ramfs), unknown
  // otherwise (network and FUSE file systems, devices sysfs does not know).
  std::optional<bool> rotational;
};

// Identifies the file system holding `path` (not necessarily a mount point):
// the path is canonicalized (it must exist), its mount is found through
// /proc/self/mountinfo read via `fs` (not owned), and, when the mount source
// is a block device, libblkid reads the superblock for type, UUID and label.
//
// A device that cannot be opened (EPERM on a virtual root disk, a device
// node that does not exist such as /dev/root) is not an error: uuid and
// label stay empty and fs_type comes from mountinfo.
//
// Returns kNotFound when the path does not exist or no mount holds it, and
// the errors of ReadMountInfo.
Result<FsIdentity> ProbeFsIdentity(FileSystem* fs, const std::filesystem::path& path);

// A block device and the drive behind it, as the kernel describes it in
// sysfs. A partition ("sdb1") maps to its whole disk ("sdb"): SMART, model,
// serial and WWN belong to the drive.
//
// Sources, best first: the udev database when the host has one (ID_SERIAL_SHORT,
// ID_MODEL, ID_WWN: udev's ata_id/scsi_id read them from the drive), then
// sysfs attributes of the whole disk: device/model, device/serial (NVMe),
// serial (virtio), device/vpd_pg80 (the SCSI unit serial number page, which
// libata fills with a SATA drive's serial), wwid / device/wwid. Many hosts
// (containers, VMs) have no udev database; sysfs is always there.
struct BlockDevice {
  std::string name;       // kernel name: "sdb1", "nvme0n1p2", "loop3"
  std::string node;       // "/dev/sdb1"
  std::string disk_name;  // the whole disk: "sdb", "nvme0n1", "loop3"
  std::string disk_node;  // "/dev/sdb"
  std::uint32_t major = 0;
  std::uint32_t minor = 0;
  std::string model;      // trimmed; empty when the device reports none
  std::string serial;
  std::string wwn;        // "naa.5000c500a1b2c3d4", "eui.0025385b71b0a1b2", ...
  std::uint64_t size_bytes = 0;    // of the whole disk
  std::optional<bool> rotational;  // queue/rotational of the whole disk
  // How the drive is attached, which decides how SMART is read:
  // "ata" (SATA through libata), "nvme", "scsi" (SAS), "usb", "virtio",
  // "loop", "md", "dm", or "" when unknown.
  std::string transport;
  std::string backing_file;  // loop devices: the image file
};

// Describes the block device `major`:`minor` from the sysfs tree at
// `sys_root` ("/sys"; tests pass a recorded tree). The udev database is
// consulted only when `sys_root` is "/sys".
// Returns kNotFound when sysfs has no such device.
Result<BlockDevice> DescribeBlockDevice(const std::filesystem::path& sys_root, std::uint32_t major,
                                        std::uint32_t minor);

// The same for a device node ("/dev/sdb1", symlinks followed), found by its
// device number. Returns kNotFound when `node` does not exist and
// kInvalidArgument when it is not a block device.
Result<BlockDevice> DescribeBlockDeviceNode(const std::filesystem::path& sys_root, const std::string& node);

}  // namespace atlas
