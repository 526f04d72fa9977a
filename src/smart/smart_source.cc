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

struct ProcessOutput {
  bool started = false;
  int exit_status = -1;  // -1: killed by a signal
  std::string out;
  std::string error;  // why it did not start
};

// Runs argv[0] (PATH lookup) with stdin from /dev/null and stderr discarded,
// collecting stdout.
ProcessOutput Run(const std::vector<std::string>& argv) {
  ProcessOutput result;
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    result.error = fmt::format("pipe: {}", std::strerror(errno));
    return result;
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    result.error = fmt::format("fork: {}", std::strerror(errno));
    close(pipefd[0]);
    close(pipefd[1]);
    return result;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    dup2(pipefd[1], STDOUT_FILENO);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, STDIN_FILENO);
      dup2(devnull, STDERR_FILENO);
    }
    execvp(args[0], args.data());
    _exit(127);
  }
  close(pipefd[1]);
  char buf[65536];
  for (;;) {
    ssize_t n = read(pipefd[0], buf, sizeof buf);
    if (n > 0) {
      result.out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  close(pipefd[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.started = true;
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class DeviceSmartSource final : public SmartSource {
 public:
  explicit DeviceSmartSource(SmartReadOptions options) : options_(std::move(options)) {}

  SmartReading Read(const std::string& device, const std::string& transport) override {
    if (transport == "ata") return ReadAtaDevice(device, options_.skip_standby);
    if (transport == "nvme" || transport == "scsi" || transport == "usb" || transport.empty()) {
      return ReadSmartctl(device);
    }
    SmartReading r;
    r.source = device;
    r.state = SmartState::kUnknown;
    r.note = fmt::format("{} is a {} device: it has no SMART", device, transport);
    return r;
  }

 private:
  SmartReading ReadSmartctl(const std::string& device) {
    ProcessOutput p = Run({options_.smartctl, "--json", "-x", "-n",
                           options_.skip_standby ? "standby" : "never", device});
    SmartReading r;
    r.source = device;
    r.state = SmartState::kUnknown;
    if (!p.started) {
      r.note = fmt::format("could not run {}: {}", options_.smartctl, p.error);
      return r;
    }
    if (p.exit_status == 127 && p.out.empty()) {
      r.note = fmt::format("{} was not found (install smartmontools)", options_.smartctl);
      return r;
    }
    Result<SmartReading> parsed = ParseSmartctlJson(p.out, device);
    if (!parsed.ok()) {
      r.note = fmt::format("{} printed no usable JSON (exit status {})", options_.smartctl, p.exit_status);
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
