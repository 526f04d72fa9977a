// Block devices and the drives behind them, from sysfs and the udev database
// (see disk.h).
//
// The walk: /sys/dev/block/MAJ:MIN is a symlink into the device tree,
//   /sys/devices/pci0000:00/.../host2/target2:0:0/2:0:0:0/block/sdb/sdb1
// A partition has a "partition" attribute and sits in its whole disk's
// directory, so the parent directory is the drive. Drive attributes live on
// the whole disk and on its "device" link (the SCSI device, the NVMe
// controller, the virtio device). libudev would give the same tree, but its
// sysfs root is fixed at /sys; reading the files ourselves lets tests use
// recorded trees. libudev is used for what only it has: the properties that
// udev's ata_id and scsi_id rules read from the drive (ID_SERIAL_SHORT,
// ID_MODEL, ID_WWN), present only on hosts that run udevd.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <libudev.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "atlas/disk.h"

namespace atlas {
namespace stdfs = std::filesystem;
namespace {

// The text of a sysfs attribute, trailing whitespace and NULs removed;
// empty when the attribute does not exist or cannot be read.
std::string ReadAttr(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string s = buf.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\0' || s.back() == '\t')) {
    s.pop_back();
  }
  std::size_t start = 0;
  while (start < s.size() && (s[start] == ' ' || s[start] == '\t')) ++start;
  return s.substr(start);
}

std::map<std::string, std::string> ReadUevent(const stdfs::path& dir) {
  std::map<std::string, std::string> out;
  std::istringstream in(ReadAttr(dir / "uevent"));
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

// SCSI VPD page 0x80 (unit serial number): a 4-byte header whose bytes 2-3
// give the length, then ASCII, often space-padded. libata fills it with the
// serial of a SATA drive.
std::string SerialFromVpd80(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (page.size() < 4 || static_cast<unsigned char>(page[1]) != 0x80) return {};
  const std::size_t len = (static_cast<unsigned char>(page[2]) << 8) | static_cast<unsigned char>(page[3]);
  std::string serial = page.substr(4, len);
  std::string out;
  for (char c : serial) {
    if (c >= 0x21 && c <= 0x7e) out += c;
    else if (c == ' ' && !out.empty()) out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// udev database properties of a device, only on hosts where udevd has
// initialized it; empty otherwise.
std::map<std::string, std::string> UdevProperties(std::uint32_t major, std::uint32_t minor) {
  std::map<std::string, std::string> out;
  std::unique_ptr<udev, decltype(&udev_unref)> u(udev_new(), &udev_unref);
  if (!u) return out;
  std::unique_ptr<udev_device, decltype(&udev_device_unref)> dev(
      udev_device_new_from_devnum(u.get(), 'b', makedev(major, minor)), &udev_device_unref);
  if (!dev || udev_device_get_is_initialized(dev.get()) <= 0) return out;
  for (udev_list_entry* e = udev_device_get_properties_list_entry(dev.get()); e != nullptr;
       e = udev_list_entry_get_next(e)) {
    const char* name = udev_list_entry_get_name(e);
    const char* value = udev_list_entry_get_value(e);
    if (name != nullptr && value != nullptr) out[name] = value;
  }
  return out;
}

std::string Transport(const std::string& disk_name, const stdfs::path& disk_dir) {
  if (disk_name.starts_with("loop")) return "loop";
  if (disk_name.starts_with("nvme")) return "nvme";
  if (disk_name.starts_with("vd")) return "virtio";
  if (disk_name.starts_with("md")) return "md";
  if (disk_name.starts_with("dm-")) return "dm";
  if (disk_name.starts_with("sd")) {
    // The canonical path of a USB drive passes through its USB device.
    if (disk_dir.native().find("/usb") != std::string::npos) return "usb";
    return ReadAttr(disk_dir / "device" / "vendor") == "ATA" ? "ata" : "scsi";
  }
  return "";
}

}  // namespace

Result<BlockDevice> DescribeBlockDevice(const stdfs::path& sys_root, std::uint32_t major,
                                        std::uint32_t minor) {
  const stdfs::path link = sys_root / "dev" / "block" / fmt::format("{}:{}", major, minor);
  std::error_code ec;
  const stdfs::path dir = stdfs::canonical(link, ec);
  if (ec) {
    return Status::NotFound(fmt::format("no block device {}:{} in {}", major, minor,
                                        (sys_root / "dev" / "block").string()));
  }
  BlockDevice dev;
  dev.major = major;
  dev.minor = minor;
  dev.name = dir.filename().string();
  const std::map<std::string, std::string> uevent = ReadUevent(dir);
  if (auto it = uevent.find("DEVNAME"); it != uevent.end()) dev.name = it->second;
  dev.node = "/dev/" + dev.name;

  const bool partition = stdfs::exists(dir / "partition", ec);
  const stdfs::path disk_dir = partition ? dir.parent_path() : dir;
  dev.disk_name = disk_dir.filename().string();
  const std::map<std::string, std::string> disk_uevent = ReadUevent(disk_dir);
  if (auto it = disk_uevent.find("DEVNAME"); it != disk_uevent.end()) dev.disk_name = it->second;
  dev.disk_node = "/dev/" + dev.disk_name;

  if (std::string size = ReadAttr(disk_dir / "size"); !size.empty()) {
    dev.size_bytes = std::strtoull(size.c_str(), nullptr, 10) * 512;  // always 512-byte units
  }
  if (std::string rot = ReadAttr(disk_dir / "queue" / "rotational"); !rot.empty()) {
    dev.rotational = rot == "1";
  }
  dev.transport = Transport(dev.disk_name, disk_dir);
  dev.backing_file = ReadAttr(disk_dir / "loop" / "backing_file");

  // sysfs: the drive's own attributes.
  dev.model = ReadAttr(disk_dir / "device" / "model");
  dev.serial = ReadAttr(disk_dir / "device" / "serial");                    // NVMe controller
  if (dev.serial.empty()) dev.serial = ReadAttr(disk_dir / "serial");        // virtio
  if (dev.serial.empty()) dev.serial = SerialFromVpd80(disk_dir / "device" / "vpd_pg80");  // SATA, SAS
  dev.wwn = ReadAttr(disk_dir / "wwid");                                    // NVMe namespace
  if (dev.wwn.empty()) dev.wwn = ReadAttr(disk_dir / "device" / "wwid");    // SCSI, SATA

  // The udev database, where there is one, knows better (ata_id asks the drive).
  if (sys_root == "/sys") {
    std::uint32_t disk_major = major;
    std::uint32_t disk_minor = minor;
    if (partition) {
      const std::string devnum = ReadAttr(disk_dir / "dev");  // "8:16"
      const std::size_t colon = devnum.find(':');
      if (colon != std::string::npos) {
        disk_major = static_cast<std::uint32_t>(std::strtoul(devnum.c_str(), nullptr, 10));
        disk_minor = static_cast<std::uint32_t>(std::strtoul(devnum.c_str() + colon + 1, nullptr, 10));
      }
    }
    std::map<std::string, std::string> props = UdevProperties(disk_major, disk_minor);
    auto take = [&](const char* key, std::string* field) {
      if (auto it = props.find(key); it != props.end() && !it->second.empty()) *field = it->second;
    };
    take("ID_MODEL", &dev.model);
    take("ID_SERIAL_SHORT", &dev.serial);
    take("ID_WWN_WITH_EXTENSION", &dev.wwn);
    if (dev.wwn.empty()) take("ID_WWN", &dev.wwn);
  }
  return dev;
}

Result<BlockDevice> DescribeBlockDeviceNode(const stdfs::path& sys_root, const std::string& node) {
  struct stat st {};
  if (::stat(node.c_str(), &st) != 0) return Status::FromErrno(errno, "stat " + node);
  if (!S_ISBLK(st.st_mode)) return Status::InvalidArgument(node + " is not a block device");
  return DescribeBlockDevice(sys_root, ::major(st.st_rdev), ::minor(st.st_rdev));
}

}  // namespace atlas
