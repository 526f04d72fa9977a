// The alerts at the end of one command run: the alert state read from the
// manifest under its lock, the policy's plan, delivery, the state written
// back, and the healthcheck ping (FinishRunAlerts, atlas/alert.h).
//
// Reading before sending and writing after: the state says what each
// channel already has, so it must be read first, and it may only record a
// message as sent once the channel took it. The manifest is opened
// read-only for the read and reopened read-write only when the plan changed
// something, so a run whose alerts are all unchanged writes nothing. The
// lock is held from the read to the write, so two runs ending at once
// cannot both send a finding that neither had sent.
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "atlas/alert.h"
#include "atlas/manifest.h"

namespace atlas {
namespace {

// The manifest and its lock while the alert state is in use.
struct StateHandle {
  std::unique_ptr<ManifestLock> lock;
  std::unique_ptr<Manifest> manifest;  // read-only; null: send without state
};

// Takes the lock and reads the findings table and the alert state into
// `in`. On any failure the handle has no manifest and `why` says what failed.
StateHandle ReadAlertState(const Config& config, AlertPolicyInput* in, std::string* why) {
  StateHandle h;
  Result<std::unique_ptr<ManifestLock>> lock = ManifestLock::Acquire(config.manifest);
  if (!lock.ok()) {
    *why = std::string(lock.status().message());
    return h;
  }
  h.lock = std::move(*lock);
  // Read-only until there is something to write: a run whose alert state
  // does not change leaves the manifest's files as they were.
  ManifestOptions ro;
  ro.read_only = true;
  ro.copy_dirs = config.manifest_copies;
  Result<std::unique_ptr<Manifest>> m = OpenManifest(config.manifest, ro);
  if (!m.ok()) {
    *why = std::string(m.status().message());
    return h;
  }
  Result<std::vector<StoredFinding>> stored = (*m)->ListFindings();
  Result<std::vector<AlertStateRecord>> state = (*m)->ListAlertStates();
  if (!stored.ok() || !state.ok()) {
    *why = std::string((stored.ok() ? state.status() : stored.status()).message());
    return h;
  }
  in->stored.emplace();
  for (StoredFinding& sf : *stored) in->stored->push_back(std::move(sf.finding));
  in->state = std::move(*state);
  h.manifest = std::move(*m);
  return h;
}

AlertPolicyInput PolicyInput(const Config& config, const Notifier& notifier, Clock* clock,
                             const RunAlertsInput& input) {
  AlertPolicyInput in;
  in.command = input.command;
  in.completed = input.completed;
  in.covers_scope = input.covers_scope;
  in.findings = input.findings;
  in.min_severity = config.alerts.min_severity;
  in.repeat_after_ns = config.alerts.repeat_after_s * 1'000'000'000;
  in.now_ns = clock->NowUnixNanos();
  for (std::size_t i = 0; i < notifier.channel_count(); ++i) in.channel_ids.push_back(notifier.ChannelId(i));
  return in;
}

// Sends each channel its alert and resolved messages and records in `plan`
// what it took.
void SendPlan(Notifier* notifier, Clock* clock, const RunAlertsInput& input, AlertPlan* plan,
              RunAlertsReport* report) {
  for (std::size_t i = 0; i < notifier->channel_count(); ++i) {
    bool alert_ok = true, resolved_ok = true;
    for (AlertEvent event : {AlertEvent::kAlert, AlertEvent::kResolved}) {
      const std::vector<Finding>& list = event == AlertEvent::kAlert ? plan->alerts[i] : plan->resolved[i];
      if (list.empty()) continue;
      AlertMessage m;
      m.event = event;
      m.host = input.host;
      m.command = input.command;
      m.time_ns = clock->NowUnixNanos();
      m.findings = list;
      ChannelOutcome out = notifier->Send(i, m);
      (event == AlertEvent::kAlert ? alert_ok : resolved_ok) = out.ok;
      report->deliveries.push_back(AlertDelivery{event, list.size(), std::move(out)});
    }
    plan->Record(i, alert_ok, resolved_ok);
  }
}

bool SameState(const AlertStateRecord& a, const AlertStateRecord& b) {
  return a.fingerprint == b.fingerprint && a.finding.severity == b.finding.severity &&
         a.finding.kind == b.finding.kind && a.finding.disk == b.finding.disk && a.finding.path == b.finding.path &&
         a.finding.message == b.finding.message && a.command == b.command && a.first_seen_ns == b.first_seen_ns &&
         a.last_sent_ns == b.last_sent_ns && a.open == b.open && a.recorded == b.recorded && a.pending == b.pending;
}

// Writes the records of `plan` that differ from `before`, and its
// deletions, in one durable batch. The read-only `h.manifest` is closed
// first and the manifest reopened read-write, only when there is something
// to write. REQUIRES: h.lock held.
Status CommitAlertState(const Config& config, const std::vector<AlertStateRecord>& before, const AlertPlan& plan,
                        StateHandle* h) {
  std::vector<AlertStateRecord> put;
  for (AlertStateRecord& r : plan.ToPut()) {
    bool same = std::any_of(before.begin(), before.end(),
                            [&](const AlertStateRecord& old) { return SameState(old, r); });
    if (!same) put.push_back(std::move(r));
  }
  std::vector<std::string> del = plan.ToDelete();
  if (put.empty() && del.empty()) return Status::Ok();
  h->manifest.reset();
  ManifestOptions rw;
  rw.copy_dirs = config.manifest_copies;
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<Manifest> m, OpenManifest(config.manifest, rw));
  std::unique_ptr<ManifestBatch> batch = m->NewBatch();
  for (const AlertStateRecord& r : put) batch->PutAlertState(r);
  for (const std::string& fp : del) batch->DeleteAlertState(fp);
  return m->Commit(*batch, /*durable=*/true);
}

// Steps 1 to 3 of FinishRunAlerts: the alert state, the plan, delivery and
// the state written back.
void SendAlerts(const Config& config, Notifier* notifier, Clock* clock, const RunAlertsInput& input,
                RunAlertsReport* report) {
  AlertPolicyInput in = PolicyInput(config, *notifier, clock, input);
  std::string why;
  StateHandle h = ReadAlertState(config, &in, &why);
  // Without the state (in.state unset), PlanAlerts sends every finding and
  // resolves none.
  if (!h.manifest) report->stateless_why = why;
  AlertPlan plan = PlanAlerts(in);
  SendPlan(notifier, clock, input, &plan, report);
  if (h.manifest) report->state_write = CommitAlertState(config, *in.state, plan, &h);
}

}  // namespace

std::vector<std::filesystem::path> ReadableSecretFiles(FileSystem* fs, const AlertsConfig& config) {
  std::vector<std::filesystem::path> files;
  for (const WebhookConfig& w : config.webhooks) {
    if (!w.token_file.empty()) files.push_back(w.token_file);
  }
  for (const EmailConfig& e : config.emails) {
    if (!e.password_file.empty()) files.push_back(e.password_file);
  }
  std::vector<std::filesystem::path> readable;
  for (const std::filesystem::path& p : files) {
    // The mode of the file that sending reads: opened (following a symlink,
    // as reading it does) and judged on its descriptor.
    Result<std::unique_ptr<RandomAccessFile>> f = fs->OpenForRead(p);
    if (!f.ok()) continue;
    Result<FileStat> st = (*f)->Stat();
    if (st.ok() && (st->mode & S_IROTH) != 0) readable.push_back(p);
  }
  return readable;
}

std::string HealthcheckSummary(std::string_view host, std::string_view command, int exit_code,
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

void FinishRunAlerts(const Config& config, Notifier* notifier, Clock* clock, const RunAlertsInput& input,
                     RunAlertsReport* report) {
  if (notifier->channel_count() > 0) SendAlerts(config, notifier, clock, input, report);
  if (notifier->has_healthcheck()) {
    report->ping = notifier->Ping(std::to_string(input.exit_code),
                                  HealthcheckSummary(input.host, input.command, input.exit_code, input.findings));
  }
}

}  // namespace atlas
