// The `smart` command as a library call: pick the readings (live devices or
// saved files), judge each against its disk's previous stored reading, and
// store the new ones in the manifest.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "atlas/run_context.h"
#include "atlas/smart.h"

namespace atlas {

// A saved reading to judge instead of a device. With `disk` (from
// `--input NAME=FILE`) it is judged against that disk's previous reading and
// stored; without, it is judged alone and nothing is stored.
struct SmartInput {
  std::string disk;
  std::filesystem::path file;
};

// Where a disk's SMART comes from: its whole-disk device node and transport
// ("ata", "nvme", "scsi", "usb", "virtio", "loop", or "" when unknown).
struct SmartDevice {
  std::string node;
  std::string transport;
  std::string note;  // why there is no node (tmpfs, network file system, ...)
};

// A configured data disk or parity level and its device (ArrayDevices).
struct ArrayDevice {
  std::string disk;
  SmartDevice device;
};

struct SmartRunOptions {
  std::vector<SmartInput> inputs;  // empty: read the configured disks' devices
  SmartSource* source = nullptr;   // live reads; REQUIRES: non-null when inputs is empty
  // The configured disks' devices when the caller has found them already
  // (ArrayDevices); empty: found here.
  std::vector<ArrayDevice> devices;
  // Stored readings kept per disk; older ones are deleted.
  std::size_t history_kept = kSmartHistoryKept;
  // Configured disks only: read just these (by name); empty: every disk.
  // What a sync, scrub, check or fix run uses for the disks it read.
  std::vector<std::string> only_disks;
};

struct SmartDiskReport {
  std::string name;
  std::string device;  // device node, or the input file
  SmartReading reading;
  SmartVerdict verdict;
  std::optional<SmartRecord> previous;  // the last stored reading before this run
  std::int64_t time_ns = 0;             // when this reading was taken (or loaded)
  bool stored = false;
};

struct SmartReport {
  std::vector<SmartDiskReport> disks;
  std::vector<Finding> findings;  // every disk's, worst first
  // Set when readings could not be stored (never synced, manifest locked).
  std::string store_note;
};

// Runs `smart`. ctx.config may be null when every input is a plain file.
//   kInvalidArgument: an input file is unreadable or not a SMART dump (the
//     message names it), or NAME= names no configured disk
//   kIOError/kCorruption: the manifest could not be read or written
Status RunSmart(const RunContext& ctx, const SmartRunOptions& options, SmartReport* report);

// The whole-disk device under `disk_path` and its transport, from the mount
// table and sysfs. No node (and a note) for tmpfs and other file systems
// without a block device.
SmartDevice ResolveSmartDevice(FileSystem* fs, const std::filesystem::path& disk_path);

// Every configured data disk and parity level with the device its SMART
// (and power state) is read from: [smart] devices as configured, or found
// from its path (ResolveSmartDevice).
std::vector<ArrayDevice> ArrayDevices(const RunContext& ctx, const Config& config);

// Each disk's state and findings from its last stored reading, for `status`
// (disks without a reading are absent). Reads the manifest only.
struct SmartLastState {
  SmartState state = SmartState::kUnknown;
  std::int64_t time_ns = 0;
  std::optional<std::int64_t> temperature_c;
  std::vector<Finding> findings;
};
class Manifest;
Result<std::vector<std::pair<std::string, SmartLastState>>> LastSmartStates(
    Manifest* manifest, const std::vector<std::string>& disks);

}  // namespace atlas
