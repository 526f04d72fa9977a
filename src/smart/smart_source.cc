// Names, raw decoding, reading saved files, and the live device source.
//
// Live NVMe and SCSI devices (and ATA behind a USB bridge) are read by
// running `smartctl --json -x -n standby DEVICE` (fork/exec, no shell).
// smartctl's exit status is a bit mask (smartctl(8) EXIT STATUS); the JSON
// carries the same value as smartctl.exit_status, and ParseSmartctlJson
// decodes it. When smartctl prints no JSON at all (not installed, killed),
// the process status alone decides: 127 is "not found", anything else is
// unknown with the status in the note.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "atlas/smart.h"
#include "io/process.h"

namespace atlas {

SmartReading ReadAtaDevice(const std::string& device, bool skip_standby);  // atasmart_source.cc

std::string_view SmartProtocolName(SmartProtocol p) {
  switch (p) {
    case SmartProtocol::kAta: return "ata";
    case SmartProtocol::kNvme: return "nvme";
    case SmartProtocol::kScsi: return "scsi";
  }
  return "ata";
}

std::string_view SmartStateName(SmartState s) {
  switch (s) {
    case SmartState::kUnknown: return "unknown";
    case SmartState::kOk: return "ok";
    case SmartState::kWarning: return "warning";
    case SmartState::kFailing: return "failing";
    case SmartState::kStandby: return "standby";
  }
  return "unknown";
}

std::optional<SmartState> ParseSmartState(std::string_view name) {
  for (SmartState s : {SmartState::kUnknown, SmartState::kOk, SmartState::kWarning, SmartState::kFailing,
                       SmartState::kStandby}) {
    if (SmartStateName(s) == name) return s;
  }
  return std::nullopt;
}

std::uint64_t DecodeAtaCount(int id, std::uint64_t raw48) {
  switch (id) {
    case 5:
    case 187:
    case 188:
      return raw48 & 0xFFFF;
    case 190:
    case 194:
      return raw48 & 0xFF;
    default:
      return raw48 & 0xFFFF'FFFF;
  }
}

namespace {

bool LooksLikeBlob(std::string_view bytes) {
  if (bytes.size() < 8) return false;
  std::string_view tag = bytes.substr(0, 4);
  return tag == "IDFY" || tag == "SMST" || tag == "SMDT" || tag == "SMTH";
}

}  // namespace

Result<SmartReading> ReadSmartFile(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument(fmt::format("{}: cannot be read: {}", name, std::strerror(errno)));
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad() || std::filesystem::is_directory(file)) {
    return Status::InvalidArgument(fmt::format("{}: cannot be read (a directory?)", name));
  }
  if (bytes.empty()) {
    return Status::InvalidArgument(fmt::format(
        "{}: empty; expected `smartctl --json` output or a libatasmart blob (`skdump --save`)", name));
  }
  if (LooksLikeBlob(bytes)) return ParseAtasmartBlob(bytes, name);
  std::size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && bytes[first] == '{') return ParseSmartctlJson(bytes, name);
  return Status::InvalidArgument(fmt::format(
      "{}: neither `smartctl --json` output nor a libatasmart blob (`skdump --save`)", name));
}

namespace {

}  // namespace

bool TransportHasSmart(std::string_view transport) {
  return transport == "ata" || transport == "nvme" || transport == "scsi" || transport == "usb" || transport.empty();
}

namespace {

class DeviceSmartSource final : public SmartSource {
 public:
  explicit DeviceSmartSource(SmartReadOptions options) : options_(std::move(options)) {}

  SmartReading Read(const std::string& device, const std::string& transport) override {
    if (transport == "ata") return ReadAtaDevice(device, options_.skip_standby);
    if (TransportHasSmart(transport)) return ReadSmartctl(device);
    SmartReading r;
    r.source = device;
    r.state = SmartState::kUnknown;
    r.note = fmt::format("{} is a {} device: it has no SMART", device, transport);
    return r;
  }

 private:
  SmartReading ReadSmartctl(const std::string& device) {
    // A disk that hangs a SMART command (a dying one can take minutes per
    // command) must not hang the run: smartctl gets a minute.
    ProcessOptions run;
    run.timeout = std::chrono::seconds(60);
    ProcessResult p = RunProcess({options_.smartctl, "--json", "-x", "-n",
                                  options_.skip_standby ? "standby" : "never", device},
                                 run);
    SmartReading r;
    r.source = device;
    r.state = SmartState::kUnknown;
    if (!p.started) {
      r.note = p.error.find("No such file") != std::string::npos
                   ? fmt::format("{} was not found (install smartmontools)", options_.smartctl)
                   : fmt::format("could not run {}: {}", options_.smartctl, p.error);
      return r;
    }
    Result<SmartReading> parsed = ParseSmartctlJson(p.out, device);
    if (!parsed.ok()) {
      r.note = fmt::format("{} printed no usable JSON ({})", options_.smartctl, p.Describe());
      return r;
    }
    return std::move(parsed).value();
  }

  SmartReadOptions options_;
};

}  // namespace

std::unique_ptr<SmartSource> MakeDeviceSmartSource(const SmartReadOptions& options) {
  return std::make_unique<DeviceSmartSource>(options);
}

}  // namespace atlas
