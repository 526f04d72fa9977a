// Disk power: whether a disk sleeps, putting it to sleep, and whether
// something else is using it.
//
// Asking never wakes a disk: ATA (and SATA behind most USB bridges) are
// asked with `hdparm -C` (CHECK POWER MODE), SCSI/SAS with `sdparm
// --command=sense` (REQUEST SENSE reports a standby condition). A disk is
// put to standby with `hdparm -y` (ATA, USB) or `sdparm --command=stop`
// (SCSI, and USB when hdparm fails). The programs are looked up on PATH;
// NVMe, loop, virtio and devices without a transport we know are not
// spun down (NVMe manages its own power states).
//
// Thread-safety: the functions are independent; each runs a program.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "atlas/status.h"

namespace atlas {

enum class PowerState : std::uint8_t { kUnknown = 0, kActive = 1, kStandby = 2 };
std::string_view PowerStateName(PowerState s);  // "unknown", "active", "standby"

struct PowerReading {
  PowerState state = PowerState::kUnknown;
  std::string note;  // why unknown
};

// The power state of whole-disk device `node` with `transport` ("ata",
// "usb", "scsi", "nvme", "" when unknown, ...), without waking it.
PowerReading QueryPowerState(const std::string& node, const std::string& transport);

// Puts `node` to standby. kFailedPrecondition for a transport that is not
// spun down; kIOError naming the program and its output when it fails.
Status SpinDown(const std::string& node, const std::string& transport);

// Processes other than this one that use a disk: an open file or working
// directory beneath one of `paths`, or the device `node` itself open.
// "1234 (smbd)" each, in pid order. /proc entries this user may not read
// are passed over.
std::vector<std::string> ProcessesUsing(const std::vector<std::filesystem::path>& paths, const std::string& node);

}  // namespace atlas
