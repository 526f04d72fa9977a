// Alerts and healthcheck pings around one command run (man atlas-scrub(1)
// ALERTS). A command makes one at its start and hands it its findings and
// exit code at the end:
//
//   RunNotifier notifier(env, *config, "scrub");      // pings <healthcheck>/start
//   ...
//   return notifier.Finish(report.findings, code);    // alerts, pings /<code>
//
// Finish hands the run to the alert module (FinishRunAlerts, atlas/alert.h:
// the policy with the state in the manifest, delivery, the healthcheck ping)
// and logs on stderr what it reports, once it is done. Delivery failures
// never change the exit code, and the whole step is bounded by [alerts]
// timeout x attempts.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "atlas/alert.h"
#include "cli/cli.h"

namespace atlas::cli {

class RunNotifier {
 public:
  RunNotifier(const CommandEnv& env, const Config& config, std::string command);
  RunNotifier(const RunNotifier&) = delete;
  RunNotifier& operator=(const RunNotifier&) = delete;

  // A narrowed run (check --disk/--filter, fix --disk) does not clear
  // findings of its command that it did not look at.
  void set_covers_scope(bool covers) { covers_scope_ = covers; }

  // Sends what the policy says and pings the healthcheck with the exit code
  // and a summary. Returns `exit_code`, unchanged.
  int Finish(const std::vector<Finding>& findings, int exit_code);

 private:
  const CommandEnv& env_;
  const Config& config_;
  std::string command_;
  bool covers_scope_ = true;
  std::unique_ptr<AlertTransport> transport_;
  std::unique_ptr<Notifier> notifier_;
};

// Warns on stderr about each token_file/password_file of [alerts] that every
// user may read (SPEC: a secret readable by others draws a warning).
void WarnReadableSecretFiles(const Config& config);

// This machine's host name ("atlas"), for alert titles.
std::string HostName();

}  // namespace atlas::cli
