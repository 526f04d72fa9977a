#include <fmt/format.h>

#include "atlas/report.h"
#include "cli/commands.h"

namespace atlas::cli {
namespace {

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

nlohmann::json OptString(const std::optional<std::string>& s) {
  return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

nlohmann::json DiskJson(const DiskInfo& d) {
  nlohmann::json j = {{"name", d.name},
                      {"role", d.role},
                      {"path", DisplayPath(d.path)},
                      {"present", d.present},
                      {"mounted", d.mounted}};
  const FsIdentity* fs = d.fs ? &*d.fs : nullptr;
  j["mount_point"] = fs ? nlohmann::json(DisplayPath(fs->mount_point)) : nlohmann::json(nullptr);
  j["is_mount_point"] = fs ? fs->is_mount_point : false;
  j["fs_type"] = fs ? fs->fs_type : "";
  j["fs_uuid"] = fs ? fs->uuid : "";
  j["fs_label"] = fs ? fs->label : "";
  const BlockDevice* dev = d.device ? &*d.device : nullptr;
  j["device"] = dev ? dev->node : (fs ? fs->device : "");
  j["disk"] = dev ? dev->disk_node : "";
  j["model"] = dev ? dev->model : "";
  j["serial"] = dev ? dev->serial : "";
  j["wwn"] = dev ? dev->wwn : "";
  j["size_bytes"] = dev ? dev->size_bytes : 0;
  j["rotational"] = dev && dev->rotational ? nlohmann::json(*dev->rotational) : nlohmann::json(nullptr);
  j["transport"] = dev ? dev->transport : "";
  if (dev && !dev->backing_file.empty()) j["backing_file"] = DisplayPath(dev->backing_file);
  j["recorded"] = d.recorded_uuid ? nlohmann::json{{"fs_uuid", *d.recorded_uuid},
                                                   {"serial", OptString(d.recorded_serial)},
                                                   {"device", OptString(d.recorded_device)}}
                                  : nlohmann::json(nullptr);
  return j;
}

// Prints rows as columns two spaces apart, each as wide as its widest cell.
void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()), 0);
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    fmt::print("{}\n", line);
  }
}

}  // namespace

int CmdDisks(const CommandEnv& env) {
  Result<Config> config = LoadConfigFor(env.global);
  if (!config.ok()) return ReportError(env.global, "disks", config.status());
  RunContext ctx{&*config, FileSystem::Default(), Clock::Default(), nullptr, env.stop};
  DisksReport report;
  Status s = ListArrayDisks(ctx, &report);
  if (!s.ok()) return ReportError(env.global, "disks", s);
  const int code = ExitCodeForFindings(report.findings);
  if (env.global.json) {
    nlohmann::json disks = nlohmann::json::array();
    for (const DiskInfo& d : report.disks) disks.push_back(DiskJson(d));
    PrintJson({{"schema", 1},
               {"command", "disks"},
               {"ok", true},
               {"exit_code", code},
               {"disks", disks},
               {"findings", FindingsJson(report.findings)}});
    return code;
  }
  if (env.global.quiet) return code;
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "ROLE", "MOUNTED", "PATH", "DEVICE", "DISK", "MODEL", "SERIAL", "WWN", "SIZE", "ROT", "FS", "UUID"}};
  for (const DiskInfo& d : report.disks) {
    const FsIdentity* fs = d.fs ? &*d.fs : nullptr;
    const BlockDevice* dev = d.device ? &*d.device : nullptr;
    std::string mounted = !d.present ? "MISSING" : !d.mounted ? "NO" : fs && fs->is_mount_point ? "yes" : "dir";
    std::string rot = "-";
    if (dev && dev->rotational) rot = *dev->rotational ? "hdd" : "ssd";
    std::string model = dev ? dev->model : "";
    if (dev && model.empty() && !dev->backing_file.empty()) model = "loop:" + dev->backing_file;
    rows.push_back({d.name, d.role, mounted, DisplayPath(d.path),
                    OrDash(dev ? dev->node : (fs ? fs->device : "")), OrDash(dev ? dev->disk_node : ""),
                    OrDash(DisplayPath(model)), OrDash(dev ? dev->serial : ""), OrDash(dev ? dev->wwn : ""),
                    dev && dev->size_bytes ? HumanBytes(dev->size_bytes) : "-", rot,
                    OrDash(fs ? fs->fs_type : ""), OrDash(fs ? fs->uuid : "")});
  }
  PrintTable(rows);
  std::vector<Finding> shown;
  for (const Finding& f : report.findings) {
    if (f.severity >= Severity::kWarning || env.global.verbose || f.kind == FindingKind::kSharedFilesystem) {
      shown.push_back(f);
    }
  }
  if (!shown.empty()) fmt::print("\n");
  PrintFindingsText(stdout, shown);
  return code;
}

}  // namespace atlas::cli
