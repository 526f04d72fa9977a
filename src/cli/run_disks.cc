#include "cli/run_disks.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include <fmt/format.h>

#include "atlas/advice.h"
#include "atlas/disk.h"
#include "atlas/manifest.h"

namespace atlas::cli {

SmartReadOptions SmartReadOptionsFor(const Config* config) {
  SmartReadOptions read;
  read.skip_standby = config ? config->smart.skip_standby : true;
  if (const char* p = std::getenv("ATLAS_SCRUB_SMARTCTL"); p != nullptr && *p != '\0') read.smartctl = p;
  return read;
}

namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;

// Every configured disk's own name list, data disks first (the monitor's
// indexes follow it).
std::vector<std::string> Names(const Config& config) {
  std::vector<std::string> out;
  for (const DataDiskConfig& d : config.data) out.push_back(d.name);
  for (const ParityConfig& p : config.parity) out.push_back(p.name);
  return out;
}

bool IsSmartFinding(const Finding& f) {
  return f.kind == FindingKind::kSmartFailing || f.kind == FindingKind::kSmartWarning;
}

// The mount points of every file system on whole disk `node` (another
// partition of it mounted elsewhere is a use of the disk too).
std::vector<std::filesystem::path> MountsOnDisk(const std::string& node) {
  std::vector<std::filesystem::path> out;
  Result<std::vector<MountInfo>> mounts = ReadMountInfo(FileSystem::Default());
  if (!mounts.ok()) return out;
  for (const MountInfo& m : *mounts) {
    if (!m.source.starts_with("/dev/")) continue;
    Result<BlockDevice> bd = DescribeBlockDeviceNode("/sys", m.source);
    const std::string disk = bd.ok() && !bd->disk_node.empty() ? bd->disk_node : m.source;
    if (disk == node) out.emplace_back(m.mount_point);
  }
  return out;
}

}  // namespace

RunDisks::RunDisks(const CommandEnv& env, const Config& config, std::string command)
    : env_(env), config_(config), command_(std::move(command)),
      source_(MakeDeviceSmartSource(SmartReadOptionsFor(&config))) {
  RunContext ctx{&config_, FileSystem::Default(), Clock::Default(), NullProgress(), {}};
  for (ArrayDevice& d : ArrayDevices(ctx, config_)) {
    Disk disk;
    disk.name = d.disk;
    disk.device = std::move(d.device);
    disks_.push_back(std::move(disk));
  }
  for (std::size_t i = 0; i < config_.data.size(); ++i) disks_[i].paths.push_back(config_.data[i].path);
  for (std::size_t l = 0; l < config_.parity.size(); ++l) {
    disks_[config_.data.size() + l].paths.push_back(config_.parity[l].path.parent_path());
  }
}

void RunDisks::LoadStored() {
  Result<std::unique_ptr<Manifest>> m = OpenManifestIfExists(config_);
  if (!m.ok() || !*m) return;  // the run itself reports a manifest it cannot open
  Result<std::vector<std::pair<std::string, SmartLastState>>> last = LastSmartStates(m->get(), Names(config_));
  if (!last.ok()) return;
  for (auto& [name, state] : *last) {
    for (Disk& d : disks_) {
      if (d.name == name) d.stored = std::move(state);
    }
  }
}

std::optional<std::int64_t> RunDisks::Temperature(const std::string& disk) {
  for (const Disk& d : disks_) {
    if (d.name != disk || d.device.node.empty()) continue;
    SmartReading r = source_->Read(d.device.node, d.device.transport);
    if (r.state == SmartState::kUnknown || r.state == SmartState::kStandby) return std::nullopt;
    return r.temperature_c;
  }
  return std::nullopt;
}

void RunDisks::Begin(RunContext* ctx) {
  LoadStored();
  if (config_.disks.spindown_after_run) {
    for (Disk& d : disks_) {
      if (!d.device.node.empty()) d.power_before = QueryPowerState(d.device.node, d.device.transport).state;
    }
  }
  DiskMonitor::Options options;
  options.temp_limit_c = config_.smart.temp_limit_c;
  options.check_every_ns = config_.smart.temp_check_every_s * kNsPerSecond;
  options.wait_max_ns = config_.smart.temp_wait_max_s * kNsPerSecond;
  monitor_ = std::make_unique<DiskMonitor>(
      Names(config_), options, [this](const std::string& disk) { return Temperature(disk); }, ctx->clock, &stop_);
  forward_.emplace(env_.stop, std::function<void()>([this] { stop_.request_stop(); }));
  ctx->stop = stop_.get_token();
  ctx->monitor = monitor_.get();
  // A failing disk: scrub verifies the other disks, which a rebuild of it
  // will read, and does not wear it with reads of its own.
  if (command_ == "scrub" && !config_.smart.scrub_reads_failing) {
    for (std::size_t i = 0; i < disks_.size(); ++i) {
      if (disks_[i].stored && disks_[i].stored->state == SmartState::kFailing) {
        monitor_->Hold(i, "SMART reports failing; not read by scrub ([smart] scrub_failing = \"skip\")");
      }
    }
  }
  PrintFailing();
}

void RunDisks::PrintFailing() const {
  if (env_.global.json || env_.global.quiet) return;
  for (const Disk& d : disks_) {
    if (!d.stored || d.stored->state != SmartState::kFailing) continue;
    std::string what;
    for (const Finding& f : d.stored->findings) {
      if (f.kind == FindingKind::kSmartFailing) what = f.message;
    }
    fmt::print("{}: WARNING: {}'s SMART reports failing (read {}){}\n", command_, d.name, Rfc3339(d.stored->time_ns),
               what.empty() ? "" : ": " + what);
    if (command_ == "scrub" && !config_.smart.scrub_reads_failing) {
      fmt::print("{}: {} is not read while it fails; the other disks, which a rebuild of it reads, are verified\n",
                 command_, d.name);
    }
    const std::vector<std::string> steps =
        NextSteps(MakeFinding(FindingKind::kSmartFailing, d.name, "", ""), "atlas-scrub");
    if (!steps.empty()) fmt::print("{}: next: {}\n", command_, steps.front());
  }
}

void RunDisks::Finish(std::vector<Finding>* findings) {
  if (!monitor_) return;
  const std::vector<std::string> used = monitor_->UsedDisks();
  if (!used.empty()) {
    SmartRunOptions options;
    options.only_disks = used;
    options.source = source_.get();
    for (const Disk& d : disks_) options.devices.push_back(ArrayDevice{d.name, d.device});  // found at the start
    RunContext ctx{&config_, FileSystem::Default(), Clock::Default(), NullProgress(), {}};
    Status s = RunSmart(ctx, options, &smart_);
    if (!s.ok()) fmt::print(stderr, "atlas-scrub: warning: SMART readings after the run: {}\n", s.ToString());
  }
  // Every disk's newest judged findings: this run's reading where it took
  // a real one, else the stored one.
  std::erase_if(*findings, IsSmartFinding);
  for (const Disk& d : disks_) {
    auto taken = std::find_if(smart_.disks.begin(), smart_.disks.end(), [&](const SmartDiskReport& r) {
      return r.name == d.name && r.verdict.state != SmartState::kUnknown && r.verdict.state != SmartState::kStandby;
    });
    if (taken != smart_.disks.end()) {
      for (const Finding& f : taken->verdict.findings) findings->push_back(f);
    } else if (d.stored) {
      for (const Finding& f : d.stored->findings) findings->push_back(f);
    }
  }
  SpinDownWoken();
}

void RunDisks::SpinDownWoken() {
  if (!config_.disks.spindown_after_run) return;
  // One physical disk may hold several of the array's disks (partitions).
  std::map<std::string, std::vector<const Disk*>> by_node;
  for (const Disk& d : disks_) {
    if (!d.device.node.empty()) by_node[d.device.node].push_back(&d);
  }
  for (const auto& [node, on] : by_node) {
    bool asleep_before = false, used = false;
    std::vector<std::filesystem::path> paths = MountsOnDisk(node);
    std::string names;
    for (const Disk* d : on) {
      asleep_before = asleep_before || d->power_before == PowerState::kStandby;
      used = used || monitor_->Used(monitor_->Index(d->name));
      paths.insert(paths.end(), d->paths.begin(), d->paths.end());
      names += (names.empty() ? "" : ",") + d->name;
    }
    // Only what this run woke: a disk that was spinning before belongs to
    // whoever spun it up.
    if (!asleep_before || !used) continue;
    std::vector<std::string> users = ProcessesUsing(paths, node);
    if (!users.empty()) {
      std::string list;
      for (const std::string& u : users) list += (list.empty() ? "" : ", ") + u;
      spindown_.push_back({names, "in_use", fmt::format("left running: in use by {}", list)});
      continue;
    }
    Status s = SpinDown(node, on.front()->device.transport);
    spindown_.push_back(s.ok() ? SpinDownResult{names, "standby", fmt::format("{} put back to standby", node)}
                               : SpinDownResult{names, "failed", std::string(s.message())});
  }
}

void RunDisks::AddJson(nlohmann::json* doc) const {
  nlohmann::json smart = nlohmann::json::array();
  for (const SmartDiskReport& r : smart_.disks) {
    smart.push_back({{"disk", r.name},
                     {"device", r.device},
                     {"smart", SmartStateName(r.verdict.state)},
                     {"temperature_c", r.reading.temperature_c ? nlohmann::json(*r.reading.temperature_c) : nlohmann::json()},
                     {"stored", r.stored},
                     {"note", r.reading.note}});
  }
  nlohmann::json held = nlohmann::json::array();
  if (monitor_) {
    for (const DiskMonitor::Event& e : monitor_->Events()) {
      held.push_back({{"disk", e.disk},
                      {"time", Rfc3339(e.time_ns)},
                      {"held", e.held},
                      {"temperature_c", e.temperature_c ? nlohmann::json(*e.temperature_c) : nlohmann::json()},
                      {"why", e.why}});
    }
  }
  nlohmann::json skipped = nlohmann::json::object();
  if (monitor_) {
    for (const DiskMonitor::DiskSummary& s : monitor_->Summary()) {
      if (s.skipped > 0) skipped[s.name] = s.skipped;
    }
  }
  nlohmann::json spindown = nlohmann::json::array();
  for (const SpinDownResult& r : spindown_) {
    spindown.push_back({{"disk", r.disk}, {"action", r.action}, {"note", r.note}});
  }
  (*doc)["smart"] = smart;
  (*doc)["held"] = held;
  (*doc)["positions_left_on_held_disks"] = skipped;
  (*doc)["spindown"] = spindown;
  const std::string reason = StopReason();
  (*doc)["stopped_because"] = reason.empty() ? nlohmann::json() : nlohmann::json(reason);
}

void RunDisks::PrintText() const {
  if (env_.global.quiet) return;
  if (monitor_) {
    for (const DiskMonitor::Event& e : monitor_->Events()) {
      fmt::print("{}: {} {} at {} ({})\n", command_, e.disk, e.held ? "held" : "resumed", Rfc3339(e.time_ns), e.why);
    }
    for (const DiskMonitor::DiskSummary& s : monitor_->Summary()) {
      if (s.skipped == 0) continue;
      fmt::print("{}: {} positions were not verified because {} was held; the next scrub takes them first\n",
                 command_, s.skipped, s.name);
    }
  }
  if (env_.global.verbose) {
    for (const SmartDiskReport& r : smart_.disks) {
      fmt::print("{}: smart {} {}{}{}\n", command_, r.name, SmartStateName(r.verdict.state),
                 r.reading.temperature_c ? fmt::format(", {} C", *r.reading.temperature_c) : "",
                 r.stored ? ", stored" : (r.reading.note.empty() ? "" : " (" + r.reading.note + ")"));
    }
  }
  for (const SpinDownResult& r : spindown_) fmt::print("{}: spin-down {}: {}\n", command_, r.disk, r.note);
  if (const std::string reason = StopReason(); !reason.empty()) fmt::print("{}: {}\n", command_, reason);
}

}  // namespace atlas::cli
