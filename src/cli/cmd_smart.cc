// smart: SMART health and trend of each disk.
//
//   atlas-scrub smart                       every configured disk's device
//   atlas-scrub smart --input FILE...       saved dumps, judged alone (no config needed)
//   atlas-scrub smart --input d1=FILE...    a saved dump as disk d1's reading: judged
//                                           against d1's last reading and stored
//
// $ATLAS_SCRUB_SMARTCTL names the smartctl program (default: smartctl on PATH).
// The findings and the exit code are computed in one place, at the end.
#include <cstdlib>
#include <regex>

#include <fmt/format.h>

#include "atlas/smart_report.h"
#include "cli/commands.h"
#include "cli/run_disks.h"
#include "cli/run_notifier.h"

namespace atlas::cli {
namespace {

// "d1=/path" -> {"d1", "/path"} when the part before '=' is a disk name and
// the whole argument is not itself an existing file.
SmartInput ParseInput(const std::string& arg) {
  static const std::regex kName("^[A-Za-z0-9_.-]{1,32}$");
  std::size_t eq = arg.find('=');
  std::error_code ec;
  if (eq != std::string::npos && std::regex_match(arg.substr(0, eq), kName) &&
      !std::filesystem::exists(arg, ec)) {
    return SmartInput{arg.substr(0, eq), arg.substr(eq + 1)};
  }
  return SmartInput{"", arg};
}

nlohmann::json OrNull(const auto& opt) { return opt ? nlohmann::json(*opt) : nlohmann::json(nullptr); }

nlohmann::json DiskJson(const SmartDiskReport& d) {
  const SmartReading& r = d.reading;
  const bool has_data = d.verdict.state != SmartState::kUnknown || !r.model.empty();
  nlohmann::json attrs = nlohmann::json::array();
  for (const JudgedAttribute& j : d.verdict.judged) {
    const SmartAttribute& a = j.attr;
    attrs.push_back({{"key", a.key},
                     {"id", a.id == 0 ? nlohmann::json(nullptr) : nlohmann::json(a.id)},
                     {"name", a.name},
                     {"value", OrNull(a.value)},
                     {"worst", OrNull(a.worst)},
                     {"threshold", OrNull(a.threshold)},
                     {"prefail", a.prefail},
                     {"raw", a.raw},
                     {"count", a.count},
                     {"previous", OrNull(j.previous)},
                     {"previous_time", j.previous ? nlohmann::json(Rfc3339(j.previous_time_ns)) : nlohmann::json(nullptr)},
                     {"flagged", j.flagged},
                     {"ignored", j.ignored}});
  }
  return {{"name", d.name},
          {"device", d.device},
          {"model", r.model},
          {"serial", r.serial},
          {"firmware", r.firmware},
          {"protocol", has_data ? nlohmann::json(SmartProtocolName(r.protocol)) : nlohmann::json(nullptr)},
          {"smart", SmartStateName(d.verdict.state)},
          {"overall_passed", OrNull(r.overall_passed)},
          {"temperature_c", OrNull(r.temperature_c)},
          {"power_on_hours", OrNull(r.power_on_hours)},
          {"note", r.note},
          {"last_reading", d.previous ? nlohmann::json(Rfc3339(d.previous->time_ns)) : nlohmann::json(nullptr)},
          {"stored", d.stored},
          {"attributes", attrs}};
}

void PrintDiskText(const SmartDiskReport& d) {
  auto date = [](std::int64_t ns) { return Rfc3339(ns).substr(0, 10); };
  const SmartReading& r = d.reading;
  const SmartState state = d.verdict.state;
  std::string head = d.name;
  if (!d.device.empty() && d.device != d.name) head += "  " + d.device;
  if (state == SmartState::kUnknown) {
    fmt::print("{}: smart unknown{}\n", head, r.note.empty() ? "" : " (" + r.note + ")");
    return;
  }
  if (state == SmartState::kStandby) {
    fmt::print("{}: smart standby, not woken; last reading {}\n", head,
               d.previous ? fmt::format("{} ({})", Rfc3339(d.previous->time_ns), SmartStateName(d.previous->state))
                          : "none");
    return;
  }
  fmt::print("{}: smart {}\n", head, SmartStateName(state));
  fmt::print("  {} {}  serial {}  firmware {}\n", SmartProtocolName(r.protocol), r.model.empty() ? "?" : r.model,
             r.serial.empty() ? "?" : r.serial, r.firmware.empty() ? "?" : r.firmware);
  std::string line = "  overall self-assessment ";
  line += !r.overall_passed ? "not reported" : (*r.overall_passed ? "passed" : "FAILED");
  if (r.temperature_c) line += fmt::format(", {} C", *r.temperature_c);
  if (r.power_on_hours) line += fmt::format(", {} power-on hours", *r.power_on_hours);
  fmt::print("{}\n", line);
  for (const JudgedAttribute& j : d.verdict.judged) {
    const SmartAttribute& a = j.attr;
    std::string label = a.id != 0 ? fmt::format("{:>3} {}", a.id, a.name) : a.name;
    std::string normalized;
    if (a.value) {
      normalized = fmt::format("  (value {}, worst {}, threshold {})", *a.value, a.worst ? *a.worst : 0,
                               a.threshold ? *a.threshold : 0);
    }
    std::string trend = j.previous ? fmt::format("{} -> {} ({} -> {})", *j.previous, a.count, date(j.previous_time_ns), date(d.time_ns))
                                   : fmt::format("{}", a.count);
    std::string mark = j.ignored ? "  [ignored]" : (j.flagged ? "  <-" : "");
    fmt::print("  {:<28} {}{}{}\n", label, trend, normalized, mark);
  }
}

}  // namespace

int CmdSmart(const CommandEnv& env, const SmartArgs& args) {
  SmartRunOptions options;
  bool needs_config = args.inputs.empty();
  for (const std::string& a : args.inputs) {
    options.inputs.push_back(ParseInput(a));
    needs_config = needs_config || !options.inputs.back().disk.empty();
  }
  std::optional<Config> config;
  {
    std::error_code ec;
    bool explicit_config = !env.global.config.empty() || std::getenv("ATLAS_SCRUB_CONFIG") != nullptr;
    if (needs_config || explicit_config || std::filesystem::exists(ConfigPath(env.global), ec)) {
      Result<Config> loaded = LoadConfigFor(env.global);
      if (!loaded.ok()) return ReportError(env.global, "smart", loaded.status());
      config = std::move(loaded).value();
    }
  }
  std::unique_ptr<SmartSource> source = MakeDeviceSmartSource(SmartReadOptionsFor(config ? &*config : nullptr));
  options.source = source.get();

  // Alerts for readings of the array's disks; saved files judged alone
  // (--input FILE without NAME=) alert nobody.
  std::optional<RunNotifier> notifier;
  if (config && needs_config) {
    notifier.emplace(env, *config, "smart");
    notifier->set_covers_scope(args.inputs.empty());
  }
  auto finish = [&](const std::vector<Finding>& findings, int code) {
    return notifier ? notifier->Finish(findings, code) : code;
  };

  std::unique_ptr<ProgressSink> progress = MakeProgress(env.global);
  RunContext ctx{config ? &*config : nullptr, FileSystem::Default(), Clock::Default(), progress.get(), env.stop};
  SmartReport report;
  Status s = RunSmart(ctx, options, &report);
  if (!s.ok()) return finish(report.findings, ReportError(env.global, "smart", s));

  // The run's findings and exit code, in one place.
  const std::vector<Finding>& findings = report.findings;
  const int code = ExitCodeForFindings(findings);

  if (env.global.json) {
    nlohmann::json disks = nlohmann::json::array();
    for (const SmartDiskReport& d : report.disks) disks.push_back(DiskJson(d));
    PrintJson({{"schema", 1},
               {"command", "smart"},
               {"ok", true},
               {"exit_code", code},
               {"health", HealthName(HealthOf(findings))},
               {"store_note", report.store_note},
               {"disks", disks},
               {"findings", FindingsJson(findings)}});
    return finish(findings, code);
  }
  if (env.global.quiet) return finish(findings, code);
  for (const SmartDiskReport& d : report.disks) PrintDiskText(d);
  if (!report.store_note.empty()) fmt::print("note: {}\n", report.store_note);
  if (!findings.empty()) {
    fmt::print("\n");
    PrintFindingsText(stdout, findings);
  }
  return finish(findings, code);
}

}  // namespace atlas::cli
