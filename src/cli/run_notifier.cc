// The CLI's side of alerts: wiring the configured channels to one command
// run and logging on stderr what the alert module reports. What is sent,
// and the state kept for the next run, is the library's (FinishRunAlerts,
// atlas/alert.h).
#include "cli/run_notifier.h"

#include <unistd.h>

#include <fmt/format.h>

namespace atlas::cli {
namespace {

// Logs on stderr what FinishRunAlerts did: failures always, successes with
// --verbose, in the order they happened.
void LogRunAlerts(const GlobalOptions& g, const RunAlertsReport& r, int exit_code) {
  if (r.stateless_why && g.verbose) {
    fmt::print(stderr, "atlas-scrub: alert: sending without alert state ({})\n", *r.stateless_why);
  }
  for (const AlertDelivery& d : r.deliveries) {
    const ChannelOutcome& out = d.outcome;
    if (!out.ok) {
      fmt::print(stderr, "atlas-scrub: alert: {} failed after {} attempt{}: {}; {}\n", out.channel, out.attempts,
                 out.attempts == 1 ? "" : "s", out.error,
                 r.stateless_why ? "not recorded (no manifest)" : "the next run sends it again");
    } else if (g.verbose) {
      fmt::print(stderr, "atlas-scrub: alert: {} {} sent to {}\n", d.findings,
                 d.event == AlertEvent::kAlert ? "finding(s)" : "resolved finding(s)", out.channel);
    }
  }
  if (!r.state_write.ok()) {
    fmt::print(stderr, "atlas-scrub: alert: cannot record alert state: {}\n", r.state_write.ToString());
  }
  if (!r.ping.ok()) fmt::print(stderr, "atlas-scrub: healthcheck /{} failed: {}\n", exit_code, r.ping.message());
}

}  // namespace

void WarnReadableSecretFiles(const Config& config) {
  for (const std::filesystem::path& p : ReadableSecretFiles(FileSystem::Default(), config.alerts)) {
    fmt::print(stderr, "atlas-scrub: warning: secret file {} is readable by every user; run `chmod 600 {}`\n",
               p.string(), p.string());
  }
}

std::string HostName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

RunNotifier::RunNotifier(const CommandEnv& env, const Config& config, std::string command)
    : env_(env), config_(config), command_(std::move(command)) {
  const AlertsConfig& a = config_.alerts;
  if (a.healthcheck_url.empty() && a.webhooks.empty() && a.emails.empty()) return;
  WarnReadableSecretFiles(config_);
  DeliveryOptions options = DeliveryOptionsFrom(a);
  transport_ = NewCurlTransport(options);
  notifier_ = std::make_unique<Notifier>(a, transport_.get(), options);
  if (notifier_->has_healthcheck()) {
    Status s = notifier_->Ping("start", "");
    if (!s.ok()) fmt::print(stderr, "atlas-scrub: healthcheck /start failed: {}\n", s.message());
  }
}

int RunNotifier::Finish(const std::vector<Finding>& findings, int exit_code) {
  if (!notifier_) return exit_code;
  RunAlertsInput in;
  in.command = command_;
  in.host = HostName();
  in.exit_code = exit_code;
  in.completed = exit_code == kExitOk || exit_code == kExitAttention;
  in.covers_scope = covers_scope_;
  in.findings = findings;
  RunAlertsReport report;
  FinishRunAlerts(config_, notifier_.get(), Clock::Default(), in, &report);
  LogRunAlerts(env_.global, report, exit_code);
  return exit_code;
}

}  // namespace atlas::cli
