// The alert policy, payloads and the alert-state records, in process.
#include "atlas/alert.h"

#include <nlohmann/json.hpp>

#include "alert/url.h"
#include "support/fake_clock.h"
#include "support/test_util.h"

namespace atlas {
namespace {

using nlohmann::json;
constexpr std::int64_t kSec = 1'000'000'000;

Finding Corrupt(const std::string& path) {
  return MakeFinding(FindingKind::kSilentCorruption, "d1", path, "block 3 does not match its checksum");
}

struct World {
  std::vector<AlertStateRecord> state;
  std::vector<std::string> channels = {"aaaa", "bbbb"};
  std::int64_t now_ns = 1000 * kSec;

  // One run: plans, "delivers" with the given per-channel outcomes, keeps the state.
  AlertPlan Run(const std::string& command, const std::vector<Finding>& findings,
                const std::vector<Finding>& stored, std::vector<bool> ok = {true, true}) {
    AlertPolicyInput in;
    in.command = command;
    in.completed = true;
    in.findings = findings;
    in.stored = stored;
    in.state = state;
    in.channel_ids = channels;
    in.repeat_after_ns = 3600 * kSec;
    in.now_ns = now_ns;
    AlertPlan plan = PlanAlerts(in);
    for (std::size_t i = 0; i < channels.size(); ++i) plan.Record(i, ok[i], ok[i]);
    std::vector<std::string> del = plan.ToDelete();
    std::vector<AlertStateRecord> put = plan.ToPut();
    state = put;
    return plan;
  }
};

TEST_CASE("alert policy: an open finding is sent once, again after repeat_after, resolved when cleared",
          "[alert][unit]") {
  World w;
  Finding a = Corrupt("a.mkv");
  AlertPlan p1 = w.Run("scrub", {a}, {a});
  REQUIRE(p1.alerts[0].size() == 1);
  CHECK(p1.alerts[1].size() == 1);
  w.now_ns += 60 * kSec;
  AlertPlan p2 = w.Run("scrub", {a}, {a});
  CHECK(p2.alerts[0].empty());
  CHECK(p2.alerts[1].empty());
  // Still open in the table though this run did not see it (partial scrub).
  AlertPlan p3 = w.Run("scrub", {}, {a});
  CHECK(p3.alerts[0].empty());
  CHECK(p3.resolved[0].empty());
  w.now_ns += 3600 * kSec;
  AlertPlan p4 = w.Run("sync", {}, {a});
  CHECK(p4.alerts[0].size() == 1);
  AlertPlan p5 = w.Run("fix", {}, {});
  REQUIRE(p5.resolved[0].size() == 1);
  CHECK(p5.resolved[0][0].path == "a.mkv");
  CHECK(w.state.empty());
  AlertPlan p6 = w.Run("scrub", {}, {});
  CHECK(p6.resolved[0].empty());
}

TEST_CASE("alert policy: a worse finding is sent at once", "[alert][unit]") {
  World w;
  Finding warn = MakeFinding(FindingKind::kMissingDisk, "d2", "", "not mounted");
  warn.severity = Severity::kWarning;
  CHECK(w.Run("scrub", {warn}, {}).alerts[0].size() == 1);
  w.now_ns += kSec;
  CHECK(w.Run("scrub", {warn}, {}).alerts[0].empty());
  Finding crit = warn;
  crit.severity = Severity::kCritical;
  AlertPlan p = w.Run("scrub", {crit}, {});
  REQUIRE(p.alerts[0].size() == 1);
  CHECK(p.alerts[0][0].severity == Severity::kCritical);
  // And back to warning is not "worse".
  CHECK(w.Run("scrub", {warn}, {}).alerts[0].empty());
}

TEST_CASE("alert policy: a failed channel is owed the finding, the other is not sent it twice",
          "[alert][unit]") {
  World w;
  Finding a = Corrupt("a.mkv");
  w.Run("scrub", {a}, {a}, {true, false});
  w.now_ns += kSec;
  AlertPlan p = w.Run("scrub", {}, {a});
  CHECK(p.alerts[0].empty());
  CHECK(p.alerts[1].size() == 1);
  AlertPlan q = w.Run("scrub", {}, {a});
  CHECK(q.alerts[1].empty());
  // Resolved goes to both (both got the alert); a failure is owed until it works.
  AlertPlan r = w.Run("fix", {}, {}, {true, false});
  CHECK(r.resolved[0].size() == 1);
  CHECK(r.resolved[1].size() == 1);
  AlertPlan s = w.Run("scrub", {}, {});
  CHECK(s.resolved[0].empty());
  CHECK(s.resolved[1].size() == 1);
  CHECK(w.state.empty());
}

TEST_CASE("alert policy: a kind the findings table does not keep clears only by its own command",
          "[alert][unit]") {
  World w;
  Finding smart = MakeFinding(FindingKind::kSmartWarning, "d1", "", "reallocated sectors grew");
  smart.from = "5";
  CHECK(w.Run("smart", {smart}, {}).alerts[0].size() == 1);
  CHECK(w.Run("scrub", {}, {}).resolved[0].empty());
  CHECK(w.Run("sync", {}, {}).resolved[0].empty());
  AlertPlan p = w.Run("smart", {}, {});
  REQUIRE(p.resolved[0].size() == 1);
  CHECK(p.resolved[0][0].kind == FindingKind::kSmartWarning);

  // A narrowed or interrupted run of the command does not clear it.
  w.Run("smart", {smart}, {});
  AlertPolicyInput in;
  in.command = "smart";
  in.completed = false;
  in.state = w.state;
  in.stored = std::vector<Finding>{};
  in.channel_ids = w.channels;
  in.now_ns = w.now_ns;
  in.repeat_after_ns = 3600 * kSec;
  CHECK(PlanAlerts(in).resolved[0].empty());
  in.completed = true;
  in.covers_scope = false;
  CHECK(PlanAlerts(in).resolved[0].empty());
}

TEST_CASE("alert policy: a changed message or position range is the same finding; SMART attributes differ",
          "[alert][unit]") {
  World w;
  Finding pm = MakeFinding(FindingKind::kParityMismatch, "parity1", "", "stored parity disagrees");
  pm.from = "positions 2-2";
  CHECK(w.Run("scrub", {pm}, {pm}).alerts[0].size() == 1);
  pm.from = "positions 2-9";
  pm.message = "stored parity disagrees at 8 positions";
  AlertPlan p = w.Run("scrub", {pm}, {pm});
  CHECK(p.alerts[0].empty());
  CHECK(p.resolved[0].empty());

  Finding s5 = MakeFinding(FindingKind::kSmartWarning, "d1", "", "5 grew");
  s5.from = "5";
  Finding s197 = s5;
  s197.from = "197";
  CHECK(w.Run("smart", {s5}, {pm}).alerts[0].size() == 1);
  AlertPlan q = w.Run("smart", {s5, s197}, {pm});
  REQUIRE(q.alerts[0].size() == 1);
  CHECK(q.alerts[0][0].from == "197");
}

TEST_CASE("alert policy: without state every finding at min_severity is sent, nothing resolved",
          "[alert][unit]") {
  AlertPolicyInput in;
  in.command = "outside";
  in.completed = true;
  in.findings = {MakeFinding(FindingKind::kOnlyCopyOutside, "", "/srv/x.mkv", "no copy on Atlas"),
                 MakeFinding(FindingKind::kAdded, "d1", "new.mkv", "added")};
  in.channel_ids = {"c"};
  AlertPlan p = PlanAlerts(in);
  REQUIRE(p.alerts[0].size() == 1);
  CHECK(p.alerts[0][0].kind == FindingKind::kOnlyCopyOutside);
  CHECK(p.ToPut().empty());
  CHECK(p.ToDelete().empty());
}

AlertMessage Many(std::size_t n) {
  AlertMessage m;
  m.host = "atlas";
  m.command = "scrub";
  m.time_ns = 1'700'000'000 * kSec;
  for (std::size_t i = 0; i < n; ++i) {
    m.findings.push_back(Corrupt("Photos/" + std::string(200, 'p') + "/\xC3\xA9t\xC3\xA9 " + std::to_string(i) + ".jpg"));
  }
  return m;
}

TEST_CASE("alert payload: discord stays within every limit and counts what it left out", "[alert][unit]") {
  for (std::size_t n : {1u, 10u, 30u, 1000u}) {
    INFO(n);
    WebhookConfig hook{.url = "https://discord.com/api/webhooks/1/abc", .format = "discord", .token_file = {}};
    json d = json::parse(BuildWebhookRequest(hook, "", Many(n)).body);
    std::string desc = d["embeds"][0]["description"];
    std::string title = d["embeds"][0]["title"];
    CHECK(d["content"].get<std::string>().size() <= 2000);
    CHECK(title.size() <= 256);
    CHECK(desc.size() <= 4096);
    CHECK(desc.size() + title.size() <= 6000);
    CHECK(d["embeds"].size() == 1);
    std::size_t listed = 0;
    for (std::size_t p = desc.find("critical silent_corruption"); p != std::string::npos;
         p = desc.find("critical silent_corruption", p + 1)) {
      ++listed;
    }
    if (listed < n) {
      CHECK(desc.find("\xE2\x80\xA6 and " + std::to_string(n - listed) + " more finding") != std::string::npos);
    } else {
      CHECK(desc.find("more finding") == std::string::npos);
    }
  }
}

TEST_CASE("alert payload: ntfy priorities and tags follow the event; gotify posts to /message",
          "[alert][unit]") {
  AlertMessage m = Many(1);
  m.findings[0].severity = Severity::kWarning;
  WebhookConfig ntfy{.url = "https://ntfy.sh/atlas", .format = "ntfy", .token_file = {}};
  HttpRequest r = BuildWebhookRequest(ntfy, "", m);
  auto header = [&](const std::string& k) {
    for (const auto& [name, v] : r.headers) {
      if (name == k) return v;
    }
    return std::string("<none>");
  };
  CHECK(header("Priority") == "4");
  CHECK(header("Tags") == "warning,floppy_disk");
  CHECK(header("Authorization") == "<none>");
  m.event = AlertEvent::kResolved;
  r = BuildWebhookRequest(ntfy, "", m);
  CHECK(header("Priority") == "3");
  CHECK(header("Title") == "atlas: 1 finding resolved (scrub)");

  WebhookConfig gotify{.url = "https://push.example/?token=x", .format = "gotify", .token_file = {}};
  CHECK(BuildWebhookRequest(gotify, "", m).url == "https://push.example/message?token=x");
  gotify.url = "https://push.example/message";
  CHECK(BuildWebhookRequest(gotify, "", m).url == "https://push.example/message");
}

TEST_CASE("alert payload: email subjects carry the severity, non-ASCII is encoded", "[alert][unit]") {
  EmailConfig email;
  email.from = "atlas@example.org";
  email.to = {"me@example.org"};
  AlertMessage m = Many(2);
  m.host = "atlas";
  m.findings[1].severity = Severity::kWarning;
  std::string msg = BuildEmailMessage(email, m, "id@example.org");
  CHECK(msg.find("\r\nSubject: [atlas-scrub] CRITICAL: atlas: 1 critical and 1 warning findings (scrub)\r\n") !=
        std::string::npos);
  CHECK(msg.find("Message-ID: <id@example.org>\r\n") != std::string::npos);
  CHECK(msg.find("Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n") == 0);
  m.findings.erase(m.findings.begin());
  CHECK(BuildEmailMessage(email, m, "x").find("Subject: [atlas-scrub] WARNING: ") != std::string::npos);
  m.host = "\xC3\xA0tlas";
  CHECK(BuildEmailMessage(email, m, "x").find("Subject: =?UTF-8?B?") != std::string::npos);
}

TEST_CASE("alert payload: URLs in logs and channel names hide credentials and tokens", "[alert][unit]") {
  CHECK(RedactUrl("https://user:pw@ntfy.example/atlas?auth=tk") == "https://ntfy.example/atlas");
  CHECK(RedactUrl("https://discord.com/api/webhooks/123456789012345678/abcdefghijklmnopqrstuvwxyz") ==
        "https://discord.com/api/webhooks/\xE2\x80\xA6/\xE2\x80\xA6");
  CHECK(RedactUrl("smtp://mail.example:587") == "smtp://mail.example:587");
}

TEST_CASE("alert state: records round-trip through a real manifest", "[alert][unit]") {
  testing::TempDir dir;
  ManifestOptions o;
  o.create_if_missing = true;
  Result<std::unique_ptr<Manifest>> m = OpenManifest(dir.path() / "manifest", o);
  REQUIRE_OK(m);
  AlertStateRecord r;
  r.finding = Corrupt(std::string("odd\0name\n.mkv", 13));
  r.fingerprint = AlertFingerprint(r.finding);
  r.command = "scrub";
  r.first_seen_ns = 5;
  r.last_sent_ns = -7;
  r.open = false;
  r.recorded = true;
  r.pending = {"0123456789abcdef", "fedcba9876543210"};
  std::unique_ptr<ManifestBatch> b = (*m)->NewBatch();
  b->PutAlertState(r);
  REQUIRE_OK((*m)->Commit(*b, true));
  Result<std::vector<AlertStateRecord>> got = (*m)->ListAlertStates();
  REQUIRE_OK(got);
  REQUIRE(got->size() == 1);
  const AlertStateRecord& g = (*got)[0];
  CHECK(g.fingerprint == r.fingerprint);
  CHECK(g.finding.path == r.finding.path);
  CHECK(g.finding.kind == FindingKind::kSilentCorruption);
  CHECK(g.finding.severity == Severity::kCritical);
  CHECK(g.finding.message == r.finding.message);
  CHECK(g.command == "scrub");
  CHECK(g.first_seen_ns == 5);
  CHECK(g.last_sent_ns == -7);
  CHECK_FALSE(g.open);
  CHECK(g.recorded);
  CHECK(g.pending == r.pending);
  // The findings table is separate.
  CHECK((*m)->ListFindings()->empty());
  b = (*m)->NewBatch();
  b->DeleteAlertState(r.fingerprint);
  REQUIRE_OK((*m)->Commit(*b, true));
  CHECK((*m)->ListAlertStates()->empty());
}

TEST_CASE("alert config: timeout, attempts and retry_delay parse and are bounded", "[alert][unit]") {
  const std::string disks =
      "[[data]]\nname = \"d1\"\npath = \"/mnt/disk1\"\n[[parity]]\npath = \"/mnt/p/atlas.parity\"\n";
  Result<Config> c = ParseConfig(disks + "[alerts]\ntimeout = \"5s\"\nattempts = 1\nretry_delay = \"0s\"\n", "/x");
  REQUIRE_OK(c);
  CHECK(c->alerts.timeout_s == 5);
  CHECK(c->alerts.attempts == 1);
  CHECK(c->alerts.retry_delay_s == 0);
  DeliveryOptions o = DeliveryOptionsFrom(c->alerts);
  CHECK(o.timeout_ms == 5000);
  CHECK(o.connect_timeout_ms == 5000);
  Result<Config> d = ParseConfig(disks, "/x");
  REQUIRE_OK(d);
  CHECK(DeliveryOptionsFrom(d->alerts).connect_timeout_ms == 10'000);
  CHECK(DeliveryOptionsFrom(d->alerts).timeout_ms == 30'000);
  CHECK(DeliveryOptionsFrom(d->alerts).attempts == 3);
  Result<Config> bad = ParseConfig(disks + "[alerts]\nattempts = 0\n", "/x");
  CHECK(bad.status().message() == "/x:7: alerts.attempts: expected a whole number from 1 to 10, got 0");
  Result<Config> slow = ParseConfig(disks + "[alerts]\ntimeout = \"1h\"\n", "/x");
  CHECK(std::string(slow.status().message()).find("alerts.timeout: expected a duration from \"1s\" to \"10m\"") !=
        std::string::npos);
}

// Records what would have been posted; every post succeeds.
class RecordingTransport final : public AlertTransport {
 public:
  Status Post(const HttpRequest& request) override {
    posts.push_back(request);
    return Status::Ok();
  }
  Status SendMail(const MailRequest&) override { return Status::Ok(); }
  std::vector<HttpRequest> posts;
};

TEST_CASE("alert run: without a manifest every finding is sent; with one, the state keeps it from repeating",
          "[alert][unit]") {
  testing::TempDir dir;
  Config config;
  config.manifest = dir.path() / "manifest";
  config.alerts.healthcheck_url = "http://127.0.0.1:9/hc";
  config.alerts.webhooks.push_back(WebhookConfig{"http://127.0.0.1:9/hook", "json", {}});
  RecordingTransport transport;
  Notifier notifier(config.alerts, &transport, DeliveryOptionsFrom(config.alerts));
  testing::FakeClock clock(1000 * kSec);
  RunAlertsInput in;
  in.command = "scrub";
  in.host = "atlas";
  in.exit_code = 1;
  in.completed = true;
  in.findings = {Corrupt("a.mkv")};

  // 1. No manifest yet: sent without state, nothing recorded; the
  //    healthcheck gets the exit code and the summary.
  RunAlertsReport first;
  FinishRunAlerts(config, &notifier, &clock, in, &first);
  CHECK(first.stateless_why.has_value());
  REQUIRE(first.deliveries.size() == 1);
  CHECK(first.deliveries[0].outcome.ok);
  CHECK(first.deliveries[0].findings == 1);
  REQUIRE(transport.posts.size() == 2);
  CHECK(transport.posts[1].url == "http://127.0.0.1:9/hc/1");
  CHECK(transport.posts[1].body.find("atlas-scrub scrub on atlas: exit 1; 1 critical, 0 warning findings\n") == 0);
  CHECK(first.state_write.ok());
  CHECK(first.ping.ok());

  // 2. With a manifest the finding is sent once more (the state had none)
  //    and recorded; 3. the same run again sends nothing.
  ManifestOptions create;
  create.create_if_missing = true;
  REQUIRE_OK(OpenManifest(config.manifest, create));
  RunAlertsReport second;
  FinishRunAlerts(config, &notifier, &clock, in, &second);
  CHECK_FALSE(second.stateless_why.has_value());
  CHECK(second.deliveries.size() == 1);
  INFO(second.state_write.ToString());
  CHECK(second.state_write.ok());
  ManifestOptions ro;
  ro.read_only = true;
  Result<std::unique_ptr<Manifest>> m = OpenManifest(config.manifest, ro);
  REQUIRE_OK(m);
  CHECK(m->get()->ListAlertStates()->size() == 1);
  m->reset();

  RunAlertsReport third;
  FinishRunAlerts(config, &notifier, &clock, in, &third);
  CHECK_FALSE(third.stateless_why.has_value());
  CHECK(third.deliveries.empty());
  CHECK(transport.posts.size() == 5);  // 2 + alert + ping, then only a ping
}

}  // namespace
}  // namespace atlas
