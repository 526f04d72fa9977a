#include "cli/run_notifier.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

namespace atlas::cli {
namespace {

// The healthcheck body: one line of counts, then up to 10 findings.
std::string Summary(const std::string& host, const std::string& command, int exit_code,
                    const std::vector<Finding>& findings) {
  std::size_t crit = 0, warn = 0;
  for (const Finding& f : findings) {
    crit += f.severity == Severity::kCritical ? 1 : 0;
    warn += f.severity == Severity::kWarning ? 1 : 0;
  }
  std::string out = fmt::format("atlas-scrub {} on {}: exit {}; {} critical, {} warning findings\n", command, host,
                                exit_code, crit, warn);
  std::size_t shown = 0;
  for (const Finding& f : findings) {
    if (f.severity < Severity::kWarning) continue;
    if (shown++ == 10) {
      out += "...\n";
      break;
    }
    std::string where = f.disk;
    if (!f.path.empty()) where += (where.empty() ? "" : ":") + DisplayPath(f.path);
    out += fmt::format("{} {} {} {}\n", SeverityName(f.severity), KindName(f.kind), where, DisplayPath(f.message));
  }
  return out;
}

bool SameState(const AlertStateRecord& a, const AlertStateRecord& b) {
  return a.fingerprint == b.fingerprint && a.finding.severity == b.finding.severity &&
         a.finding.kind == b.finding.kind && a.finding.disk == b.finding.disk && a.finding.path == b.finding.path &&
         a.finding.message == b.finding.message && a.command == b.command && a.first_seen_ns == b.first_seen_ns &&
         a.last_sent_ns == b.last_sent_ns && a.open == b.open && a.recorded == b.recorded && a.pending == b.pending;
}

}  // namespace

void WarnReadableSecretFiles(const Config& config) {
  std::vector<std::filesystem::path> files;
  for (const WebhookConfig& w : config.alerts.webhooks) {
    if (!w.token_file.empty()) files.push_back(w.token_file);
  }
  for (const EmailConfig& e : config.alerts.emails) {
    if (!e.password_file.empty()) files.push_back(e.password_file);
  }
  for (const std::filesystem::path& p : files) {
    struct stat st;
    if (stat(p.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0) {
      fmt::print(stderr, "atlas-scrub: warning: secret file {} is readable by every user; run `chmod 600 {}`\n",
                 p.string(), p.string());
    }
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
  Clock* clock = Clock::Default();
  std::string host = HostName();

  if (notifier_->channel_count() > 0) {
    AlertPolicyInput in;
    in.command = command_;
    in.completed = exit_code == kExitOk || exit_code == kExitAttention;
    in.covers_scope = covers_scope_;
    in.findings = findings;
    in.min_severity = config_.alerts.min_severity;
    in.repeat_after_ns = config_.alerts.repeat_after_s * 1'000'000'000;
    in.now_ns = clock->NowUnixNanos();
    for (std::size_t i = 0; i < notifier_->channel_count(); ++i) in.channel_ids.push_back(notifier_->ChannelId(i));

    // The state, when the manifest is there and free.
    std::unique_ptr<ManifestLock> lock;
    std::unique_ptr<Manifest> manifest;
    std::string stateless_why;
    if (Result<std::unique_ptr<ManifestLock>> l = ManifestLock::Acquire(config_.manifest); l.ok()) {
      lock = std::move(*l);
      // Read-only until there is something to write: a run whose alert state
      // does not change leaves the manifest's files as they were.
      ManifestOptions mo;
      mo.read_only = true;
      mo.copy_dirs = config_.manifest_copies;
      Result<std::unique_ptr<Manifest>> m = OpenManifest(config_.manifest, mo);
      if (m.ok()) {
        manifest = std::move(*m);
      } else {
        stateless_why = std::string(m.status().message());
      }
    } else {
      stateless_why = std::string(l.status().message());
    }
    if (manifest) {
      Result<std::vector<StoredFinding>> stored = manifest->ListFindings();
      Result<std::vector<AlertStateRecord>> state = manifest->ListAlertStates();
      if (stored.ok() && state.ok()) {
        in.stored.emplace();
        for (StoredFinding& sf : *stored) in.stored->push_back(std::move(sf.finding));
        in.state = std::move(*state);
      } else {
        stateless_why = std::string((stored.ok() ? state.status() : stored.status()).message());
        manifest.reset();
      }
    }
    if (!manifest && env_.global.verbose) {
      fmt::print(stderr, "atlas-scrub: alert: sending without alert state ({})\n", stateless_why);
    }

    AlertPlan plan = PlanAlerts(in);
    for (std::size_t i = 0; i < notifier_->channel_count(); ++i) {
      bool alert_ok = true, resolved_ok = true;
      for (int pass = 0; pass < 2; ++pass) {
        const std::vector<Finding>& list = pass == 0 ? plan.alerts[i] : plan.resolved[i];
        if (list.empty()) continue;
        AlertMessage m;
        m.event = pass == 0 ? AlertEvent::kAlert : AlertEvent::kResolved;
        m.host = host;
        m.command = command_;
        m.time_ns = clock->NowUnixNanos();
        m.findings = list;
        ChannelOutcome out = notifier_->Send(i, m);
        (pass == 0 ? alert_ok : resolved_ok) = out.ok;
        if (!out.ok) {
          fmt::print(stderr,
                     "atlas-scrub: alert: {} failed after {} attempt{}: {}; {}\n", out.channel, out.attempts,
                     out.attempts == 1 ? "" : "s", out.error,
                     manifest ? "the next run sends it again" : "not recorded (no manifest)");
        } else if (env_.global.verbose) {
          fmt::print(stderr, "atlas-scrub: alert: {} {} sent to {}\n", list.size(),
                     pass == 0 ? "finding(s)" : "resolved finding(s)", out.channel);
        }
      }
      plan.Record(i, alert_ok, resolved_ok);
    }
    if (manifest) {
      std::vector<AlertStateRecord> put;
      for (AlertStateRecord& r : plan.ToPut()) {
        bool same = std::any_of(in.state->begin(), in.state->end(),
                                [&](const AlertStateRecord& old) { return SameState(old, r); });
        if (!same) put.push_back(std::move(r));
      }
      std::vector<std::string> del = plan.ToDelete();
      if (!put.empty() || !del.empty()) {
        manifest.reset();
        ManifestOptions mo;
        mo.copy_dirs = config_.manifest_copies;
        Result<std::unique_ptr<Manifest>> rw = OpenManifest(config_.manifest, mo);
        Status s = rw.status();
        if (rw.ok()) {
          std::unique_ptr<ManifestBatch> batch = (*rw)->NewBatch();
          for (const AlertStateRecord& r : put) batch->PutAlertState(r);
          for (const std::string& fp : del) batch->DeleteAlertState(fp);
          s = (*rw)->Commit(*batch, /*durable=*/true);
        }
        if (!s.ok()) fmt::print(stderr, "atlas-scrub: alert: cannot record alert state: {}\n", s.ToString());
      }
    }
  }

  if (notifier_->has_healthcheck()) {
    Status s = notifier_->Ping(std::to_string(exit_code), Summary(host, command_, exit_code, findings));
    if (!s.ok()) fmt::print(stderr, "atlas-scrub: healthcheck /{} failed: {}\n", exit_code, s.message());
  }
  return exit_code;
}

}  // namespace atlas::cli
