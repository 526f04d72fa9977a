#include "atlas/power.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "io/process.h"

namespace atlas {
namespace fs = std::filesystem;

namespace {

// A power command gets 30 s: a disk spinning up or down takes seconds,
// one that takes longer is not answering.
ProcessResult RunPowerTool(const std::vector<std::string>& argv) {
  ProcessOptions options;
  options.timeout = std::chrono::seconds(30);
  options.keep_stderr = 2048;
  return RunProcess(argv, options);
}

bool UsesHdparm(const std::string& transport) {
  return transport == "ata" || transport == "usb" || transport.empty();
}

std::string Trim(std::string_view s) {
  const std::size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string_view::npos) return "";
  const std::size_t b = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(a, b - a + 1));
}

std::string Failure(const std::string& tool, const ProcessResult& r) {
  std::string said = Trim(r.err.empty() ? r.out : r.err);
  if (said.size() > 200) said = said.substr(said.size() - 200);
  return fmt::format("{}: {}{}", tool, r.Describe(), said.empty() ? "" : ": " + said);
}

// `hdparm -C` prints " drive state is:  standby" (or active/idle, idle,
// sleeping, unknown).
PowerReading FromHdparm(const std::string& node) {
  PowerReading p;
  ProcessResult r = RunPowerTool({"hdparm", "-C", node});
  const std::size_t at = r.out.find("drive state is:");
  if (!r.started || r.exit_status != 0 || at == std::string::npos) {
    p.note = Failure("hdparm -C", r);
    return p;
  }
  const std::size_t end = r.out.find('\n', at);
  const std::string state = Trim(r.out.substr(at + 15, end == std::string::npos ? std::string::npos : end - at - 15));
  if (state == "standby" || state == "sleeping") {
    p.state = PowerState::kStandby;
  } else if (state.starts_with("active") || state == "idle") {
    p.state = PowerState::kActive;
  } else {
    p.note = "hdparm -C: drive state " + state;
  }
  return p;
}

// `sdparm --command=sense` reports "Standby condition activated by ..."
// while the disk is stopped to standby.
PowerReading FromSdparm(const std::string& node) {
  PowerReading p;
  ProcessResult r = RunPowerTool({"sdparm", "--command=sense", node});
  if (!r.started || r.exit_status != 0) {
    p.note = Failure("sdparm --command=sense", r);
    return p;
  }
  std::string text = r.out;
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  p.state = text.find("standby") != std::string::npos ? PowerState::kStandby : PowerState::kActive;
  return p;
}

bool Beneath(const std::string& target, const std::vector<fs::path>& paths) {
  for (const fs::path& p : paths) {
    const std::string prefix = p.lexically_normal().string();
    if (prefix.empty()) continue;
    if (target == prefix || (target.starts_with(prefix) && (prefix.back() == '/' || target[prefix.size()] == '/'))) {
      return true;
    }
  }
  return false;
}

// Whether process `pid` has something beneath `paths` or `node` open, or
// works beneath `paths`.
bool ProcessUses(const std::string& pid, const std::vector<fs::path>& paths, const std::string& node) {
  auto target_of = [](const std::string& link) -> std::string {
    char buf[4096];
    ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  };
  const std::string base = "/proc/" + pid;
  if (Beneath(target_of(base + "/cwd"), paths)) return true;
  DIR* dir = opendir((base + "/fd").c_str());
  if (dir == nullptr) return false;
  bool uses = false;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    const std::string target = target_of(base + "/fd/" + e->d_name);
    if (target.empty()) continue;
    if ((!node.empty() && target == node) || Beneath(target, paths)) {
      uses = true;
      break;
    }
  }
  closedir(dir);
  return uses;
}

}  // namespace

std::string_view PowerStateName(PowerState s) {
  switch (s) {
    case PowerState::kActive:
      return "active";
    case PowerState::kStandby:
      return "standby";
    case PowerState::kUnknown:
      break;
  }
  return "unknown";
}

PowerReading QueryPowerState(const std::string& node, const std::string& transport) {
  if (node.empty()) return PowerReading{PowerState::kUnknown, "no block device"};
  if (UsesHdparm(transport)) return FromHdparm(node);
  if (transport == "scsi") return FromSdparm(node);
  return PowerReading{PowerState::kUnknown, fmt::format("a {} device has no standby to ask about", transport)};
}

Status SpinDown(const std::string& node, const std::string& transport) {
  if (node.empty() || !(UsesHdparm(transport) || transport == "scsi")) {
    return Status::FailedPrecondition(
        fmt::format("{} is a {} device: not spun down", node.empty() ? "the disk" : node,
                    transport.empty() ? "unknown" : transport));
  }
  std::string failed;
  if (UsesHdparm(transport)) {
    ProcessResult r = RunPowerTool({"hdparm", "-y", node});
    if (r.started && r.exit_status == 0) return Status::Ok();
    failed = Failure("hdparm -y", r);
    if (transport != "usb") return Status::IOError(failed);
  }
  ProcessResult r = RunPowerTool({"sdparm", "--readonly", "--command=stop", node});
  if (r.started && r.exit_status == 0) return Status::Ok();
  return Status::IOError((failed.empty() ? "" : failed + "; ") + Failure("sdparm --command=stop", r));
}

std::vector<std::string> ProcessesUsing(const std::vector<fs::path>& paths, const std::string& node) {
  std::vector<std::pair<long, std::string>> found;
  const std::string self = std::to_string(getpid());
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return {};
  while (dirent* e = readdir(proc)) {
    const std::string pid = e->d_name;
    if (pid.empty() || !std::all_of(pid.begin(), pid.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    if (pid == self || !ProcessUses(pid, paths, node)) continue;
    std::string comm;
    std::ifstream in("/proc/" + pid + "/comm");
    std::getline(in, comm);
    found.emplace_back(std::strtol(pid.c_str(), nullptr, 10), fmt::format("{} ({})", pid, comm));
  }
  closedir(proc);
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& [pid, text] : found) out.push_back(std::move(text));
  return out;
}

}  // namespace atlas
