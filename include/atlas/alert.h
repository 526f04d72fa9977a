// Alerts: webhooks (json, ntfy, gotify, discord, slack), email (SMTP or a
// local sendmail), healthcheck pings, and the policy that decides what is
// sent (SPEC "Alerts"; man atlas-scrub(1) ALERTS has the user's view).
//
// Layers, each testable alone:
//   payload   AlertMessage -> the bytes one channel receives (pure functions:
//             BuildWebhookRequest, BuildEmailMessage)
//   transport one attempt of one HTTP POST or one mail (AlertTransport; the
//             production one is libcurl, NewCurlTransport; tests may fake it)
//   notifier  the configured channels, secrets read from their files, bounded
//             retries with backoff, healthcheck pings (Notifier)
//   policy    which findings to send to which channel given the alert state
//             kept in the manifest, and the state to write back (PlanAlerts,
//             AlertPlan::Record)
//   run       the end of one command run: read the state under the
//             manifest lock, plan, send, write the state back, ping the
//             healthcheck (FinishRunAlerts); the CLI only wires and logs
//
// Nothing here prints or exits: failures come back as ChannelOutcome/Status
// for the CLI to log. No call can take longer than the configured timeouts
// times the attempts (plus the backoff between them).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "atlas/config.h"
#include "atlas/env.h"
#include "atlas/finding.h"
#include "atlas/manifest.h"
#include "atlas/status.h"

namespace atlas {

enum class AlertEvent : std::uint8_t { kAlert, kResolved, kTest };
// "alert", "resolved", "test".
std::string_view AlertEventName(AlertEvent event);

// One message to every channel (or to one).
struct AlertMessage {
  AlertEvent event = AlertEvent::kAlert;
  std::string host;                // this machine's name
  std::string command;             // the run that sends it ("scrub"); empty for a test
  std::int64_t time_ns = 0;        // when it is sent
  std::vector<Finding> findings;   // kAlert: the findings alerted; kResolved: those cleared
};

// "ok", "warning" or "critical": for an alert the highest severity among its
// findings (info leaves it "ok"); "ok" for a resolved notice or a test.
std::string_view AlertHealthName(const AlertMessage& m);
// One line: "atlas: 2 critical findings (scrub)", "atlas: 1 finding resolved",
// "atlas: test message".
std::string AlertTitle(const AlertMessage& m);
// The plain-text body: one line per finding ("critical silent_corruption
// d1:Movies/x.mkv: message"), at most `max_findings` of them followed by
// "… and N more findings; run `atlas-scrub status`", then what to do next.
std::string AlertText(const AlertMessage& m, std::size_t max_findings = 50);

// The JSON document of a `json` webhook (SPEC "Alerts").
std::string AlertJson(const AlertMessage& m);

struct HttpRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Length
  std::string body;
};

// The request for one webhook. `token` is the content of the hook's
// token_file (trimmed), empty for none: ntfy sends it as a Bearer token,
// gotify as X-Gotify-Key, json as a Bearer token.
HttpRequest BuildWebhookRequest(const WebhookConfig& hook, std::string_view token, const AlertMessage& m);

// A complete RFC 5322 message (CRLF line ends): Date, Message-ID, From, To,
// Subject "[atlas-scrub] CRITICAL: ..." (WARNING, RESOLVED, TEST; an alert of
// info findings only says INFO), MIME text/plain UTF-8, the AlertText body
// with dot-stuffing left to the transport.
std::string BuildEmailMessage(const EmailConfig& email, const AlertMessage& m, std::string_view message_id);

// One mail to deliver: through smtp_url, or sendmail when that is set.
struct MailRequest {
  std::string smtp_url;
  std::filesystem::path sendmail;
  std::string from;
  std::vector<std::string> to;
  std::string username;
  std::string password;
  std::string message;  // BuildEmailMessage's text
};

// Timeouts and retries of every delivery and ping.
struct DeliveryOptions {
  std::int64_t connect_timeout_ms = 10'000;
  std::int64_t timeout_ms = 30'000;  // the whole request
  int attempts = 3;
  std::int64_t retry_delay_ms = 2'000;  // before the 2nd attempt; doubled after each
};
// From [alerts] timeout, attempts and retry_delay.
DeliveryOptions DeliveryOptionsFrom(const AlertsConfig& config);

// One attempt of one delivery. Errors name what failed: "connection refused
// (http://127.0.0.1:9/x)", "HTTP 500 from ...", "SMTP: Login denied".
class AlertTransport {
 public:
  virtual ~AlertTransport() = default;
  // POSTs the request; any 2xx answer is success.
  virtual Status Post(const HttpRequest& request) = 0;
  // Sends the mail over SMTP (smtp:// tries STARTTLS, smtps:// implicit TLS)
  // or pipes it to `sendmail -t -oi`.
  virtual Status SendMail(const MailRequest& mail) = 0;
};

// libcurl (HTTP, SMTP) and fork/exec of sendmail. Initializes libcurl once
// per process.
std::unique_ptr<AlertTransport> NewCurlTransport(const DeliveryOptions& options);

struct ChannelOutcome {
  std::string channel;  // Notifier::ChannelName
  bool ok = false;
  std::string error;    // the last attempt's error when !ok
  int attempts = 0;
};

// The configured channels of [alerts], in config order: webhooks, then emails.
class Notifier {
 public:
  // `transport` must outlive the notifier.
  Notifier(const AlertsConfig& config, AlertTransport* transport, const DeliveryOptions& options);

  std::size_t channel_count() const { return channels_.size(); }
  // "webhook ntfy https://ntfy.example/atlas" (the URL without its query or
  // credentials), "email smtp://mail.example:587 to me@example",
  // "email sendmail /usr/sbin/sendmail to me@example".
  const std::string& ChannelName(std::size_t i) const { return channels_[i].name; }
  // A stable id for the alert state: 16 hex digits.
  const std::string& ChannelId(std::size_t i) const { return channels_[i].id; }

  // Sends `m` through channel `i`, retrying as DeliveryOptions says.
  ChannelOutcome Send(std::size_t i, const AlertMessage& m);

  bool has_healthcheck() const { return !healthcheck_url_.empty(); }
  // POSTs `body` to "<healthcheck_url>/<suffix>" ("start", "0", "1", ...),
  // with the same retries. OK without a healthcheck URL.
  Status Ping(std::string_view suffix, std::string_view body);

 private:
  struct Channel {
    std::string name;
    std::string id;
    const WebhookConfig* webhook = nullptr;
    const EmailConfig* email = nullptr;
  };
  Status Once(const Channel& c, const AlertMessage& m);
  template <typename Fn>
  Status WithRetries(Fn&& once, int* attempts);

  AlertTransport* transport_;
  DeliveryOptions options_;
  std::string healthcheck_url_;
  std::vector<Channel> channels_;
};

// Reads a secret from a file: its content without trailing newlines or
// spaces. kNotFound/kIOError naming the file; kInvalidArgument when empty.
Result<std::string> ReadSecretFile(const std::filesystem::path& path);

// ---------------------------------------------------------------- policy ---

// The fingerprint of a finding: kind, disk, and path, NUL-separated; for
// smart_failing/smart_warning without a path, `from` instead of the path:
// the `smart` command puts the attribute there ("5", "nvme:media_errors"),
// so each attribute of a disk is its own finding.
std::string AlertFingerprint(const Finding& f);

struct AlertPolicyInput {
  std::string command;             // "sync", "scrub", ...
  bool completed = false;          // the run finished its work (exit 0 or 1)
  bool covers_scope = true;        // false for a narrowed run (check --disk)
  std::vector<Finding> findings;   // what this run reported
  // The manifest's findings table, when it could be read.
  std::optional<std::vector<Finding>> stored;
  // The alerts table; nullopt: no manifest, every finding is sent, no
  // resolved notices.
  std::optional<std::vector<AlertStateRecord>> state;
  std::vector<std::string> channel_ids;  // Notifier::ChannelId, in order
  Severity min_severity = Severity::kWarning;
  std::int64_t repeat_after_ns = 0;
  std::int64_t now_ns = 0;
};

// What to send to each channel, and the state to keep.
class AlertPlan {
 public:
  // Findings to alert / announce as resolved on channel i.
  std::vector<std::vector<Finding>> alerts;
  std::vector<std::vector<Finding>> resolved;

  // After delivery: what channel i did with its alert and resolved messages.
  void Record(std::size_t channel, bool alert_ok, bool resolved_ok);
  // State to write (PutAlertState) and fingerprints to delete
  // (DeleteAlertState). Empty when the input had no state.
  std::vector<AlertStateRecord> ToPut() const;
  std::vector<std::string> ToDelete() const;

 private:
  friend AlertPlan PlanAlerts(const AlertPolicyInput& in);
  // `pending` without ids of channels no longer configured.
  std::vector<std::string> PendingKnown(const AlertStateRecord& r) const;
  bool stateful_ = false;
  std::vector<std::string> channel_ids_;
  std::map<std::string, AlertStateRecord> state_;  // by fingerprint
  std::vector<std::string> deleted_;
  // Fingerprints sent on each channel.
  std::vector<std::vector<std::string>> alert_fps_, resolved_fps_;
};

// The policy (man atlas-scrub(1) ALERTS):
//  - the findings considered are this run's and the manifest's stored ones,
//    at or above min_severity, one per fingerprint (the highest severity);
//  - one not open in the state is sent to every channel; one open and worse
//    than what was sent, or sent repeat_after ago or longer, is sent again to
//    every channel; otherwise only channels still owed it (a failed
//    delivery) get it;
//  - an open one no longer present is cleared: a stored kind
//    (silent_corruption, read_error, parity_mismatch, unrecoverable) once it
//    has been in the findings table and is there no more; any other kind (or
//    a stored kind only `check` reported) when a completed run of the command
//    that last reported it covers its scope without it. A cleared finding is
//    announced as resolved on the channels that got its alert.
AlertPlan PlanAlerts(const AlertPolicyInput& in);

// --------------------------------------------------------------- one run ---

// The token_file and password_file of [alerts] that every user may read
// (SPEC: a secret readable by others draws a warning), in config order.
// A file that cannot be opened is not listed (sending reports it).
std::vector<std::filesystem::path> ReadableSecretFiles(FileSystem* fs, const AlertsConfig& config);

// The healthcheck body after a run: "atlas-scrub scrub on atlas: exit 1; 2
// critical, 0 warning findings", then one line per finding of severity
// warning or above, at most 10 of them and "..." after.
std::string HealthcheckSummary(std::string_view host, std::string_view command, int exit_code,
                               const std::vector<Finding>& findings);

// What a command's run hands to its alerts when it ends.
struct RunAlertsInput {
  std::string command;         // "scrub"
  std::string host;            // this machine's name, for titles and the summary
  int exit_code = 0;           // pinged as <healthcheck_url>/<exit_code>
  bool completed = false;      // the run finished its work (exit 0 or 1)
  bool covers_scope = true;    // false for a narrowed run (check --disk, fix --filter)
  std::vector<Finding> findings;  // what the run reported
};

// One message handed to one channel.
struct AlertDelivery {
  AlertEvent event = AlertEvent::kAlert;  // kAlert or kResolved
  std::size_t findings = 0;               // how many findings it carried
  ChannelOutcome outcome;
};

// What FinishRunAlerts did, for the caller to log.
struct RunAlertsReport {
  // Set when there were channels but the manifest's alert state could not
  // be used (no manifest yet, another run holds the lock, unreadable), with
  // the reason: every finding at or above min_severity was sent, nothing
  // announced as resolved, and nothing recorded for the next run.
  std::optional<std::string> stateless_why;
  std::vector<AlertDelivery> deliveries;  // in the order sent
  Status state_write;  // writing the changed alert state back; OK if nothing changed
  Status ping;         // the healthcheck ping; OK without a healthcheck URL
};

// The alerts at the end of one command run (man atlas-scrub(1) ALERTS),
// once the engine has let go of the manifest:
//   1. takes ManifestLock and reads the findings table and the alert state
//      from the manifest opened read-only;
//   2. plans what goes to which channel (PlanAlerts) and sends it through
//      `notifier`, alerts before resolved notices, channel by channel;
//   3. writes back the alert state that changed, reopening the manifest
//      read-write only then, so a run whose alert state is unchanged leaves
//      the manifest's files as they were; then lets go of the lock;
//   4. pings the healthcheck with the exit code and HealthcheckSummary.
// Without a manifest, or while another run holds the lock, it sends without
// state (report->stateless_why). Never fails as a whole: every problem is in
// `report`, and none of them should change the run's exit code. Takes at
// most the notifier's timeouts times its attempts (plus backoff) per
// message. `notifier` and `clock` must outlive the call.
void FinishRunAlerts(const Config& config, Notifier* notifier, Clock* clock, const RunAlertsInput& input,
                     RunAlertsReport* report);

}  // namespace atlas
