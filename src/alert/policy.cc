// The alert policy: what to send where, given the state in the manifest's
// alerts table (docs/FORMAT.md) and this run's findings. Pure: no I/O, so
// every rule is tested without a network (tests/unit/alert_test.cc).
//
// Per fingerprint the state remembers the severity last sent, when, which
// command last reported it, whether it ever sat in the findings table, and
// which channels are still owed something. Per channel, the plan is the
// findings to alert and the findings to announce as resolved; Record()
// then moves each channel's fingerprints into or out of `pending`.
#include <algorithm>
#include <set>

#include "atlas/alert.h"

namespace atlas {
namespace {

bool StoredKind(FindingKind k) {
  return k == FindingKind::kSilentCorruption || k == FindingKind::kReadError ||
         k == FindingKind::kParityMismatch || k == FindingKind::kUnrecoverable;
}

void AddUnique(std::vector<std::string>* v, const std::string& s) {
  if (std::find(v->begin(), v->end(), s) == v->end()) v->push_back(s);
}
void Remove(std::vector<std::string>* v, const std::string& s) {
  v->erase(std::remove(v->begin(), v->end(), s), v->end());
}
bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

std::string AlertFingerprint(const Finding& f) {
  std::string fp(KindName(f.kind));
  fp.push_back('\0');
  fp += f.disk;
  fp.push_back('\0');
  // A SMART finding names its attribute in `from` (it has no path); other
  // kinds keep changing details there (parity_mismatch's position range), so
  // it is not part of their identity.
  bool smart = f.kind == FindingKind::kSmartFailing || f.kind == FindingKind::kSmartWarning;
  fp += f.path.empty() && smart ? f.from : f.path;
  return fp;
}

AlertPlan PlanAlerts(const AlertPolicyInput& in) {
  AlertPlan plan;
  const std::size_t nch = in.channel_ids.size();
  plan.alerts.assign(nch, {});
  plan.resolved.assign(nch, {});
  plan.alert_fps_.assign(nch, {});
  plan.resolved_fps_.assign(nch, {});
  plan.channel_ids_ = in.channel_ids;
  plan.stateful_ = in.state.has_value();

  // The findings that count now, one per fingerprint (the worst).
  std::map<std::string, Finding> current;
  std::set<std::string> in_table;
  auto consider = [&](const Finding& f) {
    if (f.severity < in.min_severity) return;
    std::string fp = AlertFingerprint(f);
    auto it = current.find(fp);
    if (it == current.end() || f.severity > it->second.severity) current[fp] = f;
  };
  for (const Finding& f : in.findings) consider(f);
  if (in.stored) {
    for (const Finding& f : *in.stored) {
      consider(f);
      in_table.insert(AlertFingerprint(f));
    }
  }
  std::set<std::string> reported;
  for (const Finding& f : in.findings) reported.insert(AlertFingerprint(f));

  auto send_all = [&](const std::string& fp, const Finding& f) {
    for (std::size_t i = 0; i < nch; ++i) {
      plan.alerts[i].push_back(f);
      plan.alert_fps_[i].push_back(fp);
    }
  };

  if (!in.state) {
    for (const auto& [fp, f] : current) send_all(fp, f);
    return plan;
  }
  for (const AlertStateRecord& r : *in.state) plan.state_[r.fingerprint] = r;

  for (const auto& [fp, f] : current) {
    auto it = plan.state_.find(fp);
    bool everywhere = false;
    if (it == plan.state_.end() || !it->second.open) {
      everywhere = true;  // new, or back after it cleared
      AlertStateRecord r;
      r.fingerprint = fp;
      r.first_seen_ns = in.now_ns;
      plan.state_[fp] = std::move(r);
      it = plan.state_.find(fp);
    } else {
      const AlertStateRecord& r = it->second;
      everywhere = f.severity > r.finding.severity || in.now_ns - r.last_sent_ns >= in.repeat_after_ns;
    }
    AlertStateRecord& r = it->second;
    if (everywhere) {
      send_all(fp, f);
      r.last_sent_ns = in.now_ns;
      r.pending.clear();
      r.finding = f;
    } else {
      // Only the channels a failed delivery still owes.
      for (std::size_t i = 0; i < nch; ++i) {
        if (Has(r.pending, in.channel_ids[i])) {
          plan.alerts[i].push_back(f);
          plan.alert_fps_[i].push_back(fp);
        }
      }
      Severity sent = r.finding.severity;
      r.finding = f;
      r.finding.severity = std::max(sent, f.severity);
    }
    r.open = true;
    if (in_table.count(fp) != 0) r.recorded = true;
    // The command that clears it; a stored kind once in the table is
    // cleared by the table instead, whoever reports it again.
    bool by_table = StoredKind(f.kind) && r.recorded;
    if (reported.count(fp) != 0 && (!by_table || r.command.empty())) r.command = in.command;
  }

  for (auto& [fp, r] : plan.state_) {
    if (current.count(fp) != 0) continue;
    if (r.open) {
      bool cleared = false;
      if (StoredKind(r.finding.kind) && r.recorded) {
        cleared = in.stored.has_value() && in_table.count(fp) == 0;
      } else {
        cleared = in.completed && in.covers_scope && r.command == in.command && reported.count(fp) == 0;
      }
      if (!cleared) continue;
      // Owed to every channel that got the alert (not to those still owed it).
      std::vector<std::string> owed;
      for (const std::string& id : in.channel_ids) {
        if (!Has(r.pending, id) && r.last_sent_ns != 0) owed.push_back(id);
      }
      r.open = false;
      r.pending = owed;
    }
    // Closed: announce to the channels still owed the notice.
    for (std::size_t i = 0; i < nch; ++i) {
      if (Has(r.pending, in.channel_ids[i])) {
        plan.resolved[i].push_back(r.finding);
        plan.resolved_fps_[i].push_back(fp);
      }
    }
  }
  return plan;
}

void AlertPlan::Record(std::size_t channel, bool alert_ok, bool resolved_ok) {
  if (!stateful_ || channel >= channel_ids_.size()) return;
  const std::string& id = channel_ids_[channel];
  for (const std::string& fp : alert_fps_[channel]) {
    AlertStateRecord& r = state_[fp];
    if (alert_ok) {
      Remove(&r.pending, id);
    } else {
      AddUnique(&r.pending, id);
    }
  }
  for (const std::string& fp : resolved_fps_[channel]) {
    AlertStateRecord& r = state_[fp];
    if (resolved_ok) {
      Remove(&r.pending, id);
    } else {
      AddUnique(&r.pending, id);
    }
  }
}

std::vector<AlertStateRecord> AlertPlan::ToPut() const {
  std::vector<AlertStateRecord> out;
  if (!stateful_) return out;
  for (const auto& [fp, r] : state_) {
    if (!r.open && PendingKnown(r).empty()) continue;
    AlertStateRecord copy = r;
    copy.pending = PendingKnown(r);
    out.push_back(std::move(copy));
  }
  return out;
}

std::vector<std::string> AlertPlan::ToDelete() const {
  std::vector<std::string> out;
  if (!stateful_) return out;
  for (const auto& [fp, r] : state_) {
    if (!r.open && PendingKnown(r).empty()) out.push_back(fp);
  }
  return out;
}

std::vector<std::string> AlertPlan::PendingKnown(const AlertStateRecord& r) const {
  std::vector<std::string> out;
  for (const std::string& id : r.pending) {
    if (Has(channel_ids_, id)) out.push_back(id);
  }
  return out;
}

}  // namespace atlas
