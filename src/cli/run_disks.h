// The disks' side of a sync, scrub, check or fix run (man atlas-scrub(1),
// "DISKS DURING A RUN"):
//
//   before  the stored SMART state of every disk: a failing disk is named
//           at the top of the output; with [disks] spindown_after_run, each
//           disk's power state (asked without waking it); scrub holds a
//           failing disk unless [smart] scrub_failing = "read";
//   during  a DiskMonitor in RunContext::monitor: it learns which disks the
//           run uses and holds a disk over [smart] temp_limit;
//   after   a SMART reading of every disk the run used (awake then, and read
//           with -n standby all the same), judged and stored as `smart`
//           does; then the disks the run woke are put back to standby,
//           unless another process uses them.
//
// The SMART findings of the run are every disk's newest judged ones: each
// run reports the disks' health as it stands, so an alert for a failing
// disk is repeated by sync and scrub until the disk is replaced.
//
//   RunDisks disks(env, *config, "scrub");
//   RunContext ctx{...};
//   disks.Begin(&ctx);           // sets ctx.monitor and ctx.stop
//   Status s = RunScrub(ctx, options, &report);
//   disks.Finish(&report.findings);
#pragma once

#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "atlas/disk_monitor.h"
#include "atlas/power.h"
#include "atlas/smart.h"
#include "atlas/smart_report.h"
#include "cli/cli.h"

namespace atlas::cli {

// How runs and `smart` read SMART: [smart] skip_standby, and
// $ATLAS_SCRUB_SMARTCTL for the smartctl program.
SmartReadOptions SmartReadOptionsFor(const Config* config);

class RunDisks {
 public:
  RunDisks(const CommandEnv& env, const Config& config, std::string command);
  RunDisks(const RunDisks&) = delete;
  RunDisks& operator=(const RunDisks&) = delete;

  // Sets ctx->monitor and ctx->stop (the command's stop, or the monitor's
  // when a disk stays too hot), and prints the failing disks first.
  void Begin(RunContext* ctx);
  // Reads SMART of the disks the run used and spins down the ones it woke;
  // replaces any SMART findings in `findings` with the disks' newest.
  void Finish(std::vector<Finding>* findings);

  // {"smart": [...], "held": [...], "spindown": [...]} for --json.
  void AddJson(nlohmann::json* doc) const;
  // Holds, spin-downs and (verbose) readings, after the run's own lines.
  void PrintText() const;
  // Why the monitor stopped the run (a disk too hot for too long), or "".
  std::string StopReason() const { return monitor_ ? monitor_->StopReason() : ""; }

 private:
  struct Disk {
    std::string name;
    std::vector<std::filesystem::path> paths;  // where a user of it would have files open
    SmartDevice device;
    std::optional<SmartLastState> stored;      // newest stored reading before the run
    PowerState power_before = PowerState::kUnknown;
  };
  struct SpinDownResult {
    std::string disk;
    std::string action;  // "standby", "in_use", "failed"
    std::string note;
  };
  void LoadStored();
  void PrintFailing() const;
  std::optional<std::int64_t> Temperature(const std::string& disk);
  void SpinDownWoken();

  const CommandEnv& env_;
  const Config& config_;
  std::string command_;
  std::vector<Disk> disks_;
  std::unique_ptr<SmartSource> source_;
  std::stop_source stop_;
  std::optional<std::stop_callback<std::function<void()>>> forward_;
  std::unique_ptr<DiskMonitor> monitor_;
  SmartReport smart_;  // the readings taken at the end
  std::vector<SpinDownResult> spindown_;
};

}  // namespace atlas::cli
