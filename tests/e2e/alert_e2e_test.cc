// Alerts through the real binary, delivered to real receivers on 127.0.0.1
// (tests/support/http_receiver, smtp_receiver): every webhook format's
// payload, email over SMTP with AUTH and through sendmail, the policy across
// runs (dedup, repeat_after, a new finding at once, resolved after fix),
// healthcheck pings, refused connections and `alert test`.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "support/http_receiver.h"
#include "support/smtp_receiver.h"
#include "support/temp_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Host() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

void Populate(TempArray& a) {
  a.Write(1, "Movies/Big Film (2010).mkv", 10 * 65536 + 123, 1);
  a.Write(2, "Music/album/track.flac", 4 * 65536, 2);
  a.Write(3, "Photos/img.jpg", 70000, 3);
}

std::string Hook(const std::string& url, const std::string& format, const std::string& token_file = "") {
  std::string t = "[[alerts.webhook]]\nurl = \"" + url + "\"\nformat = \"" + format + "\"\n";
  if (!token_file.empty()) t += "token_file = \"" + token_file + "\"\n";
  return t;
}

// [alerts] with fast delivery settings, then `tables`.
std::string Alerts(const std::string& tables, const std::string& keys = "") {
  return "[alerts]\ntimeout = \"5s\"\nattempts = 2\nretry_delay = \"0s\"\n" + keys + tables;
}

std::string Secret(const TempArray& a, const std::string& name, const std::string& value) {
  fs::path p = a.root() / name;
  WriteFile(p, value + "\n");
  fs::permissions(p, fs::perms(0600));
  return p.string();
}

json Body(const HttpRecord& r) { return json::parse(r.body); }

TEST_CASE("alert: a json webhook gets one alert per open finding across runs, and resolved after fix",
          "[alert][e2e]") {
  // STRATEGY:
  // 1. A json webhook on a local receiver; sync and a clean scrub send nothing.
  // 2. Flip a byte; scrub: exit 1 and one POST whose document has every SPEC
  //    field (schema, source, host, event alert, health critical, title,
  //    message, findings in the SPEC shape).
  // 3. A second scrub finds it again: nothing is sent (repeat_after 24h).
  // 4. fix repairs it: one POST with event resolved naming the finding.
  // 5. A clean scrub after that sends nothing.
  HttpReceiver rx;
  TempArray a(3, 1, 64 * 1024, Alerts(Hook(rx.Url("/hook"), "json")));
  Populate(a);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  REQUIRE(a.Run({"scrub", "--plan", "full"}).exit_code == 0);
  CHECK(rx.requests().empty());

  FlipByteKeepMtime(a.File(1, "Movies/Big Film (2010).mkv"), 3 * 65536 + 4000);
  CliResult scrub = a.Run({"scrub", "--plan", "full"});
  INFO(scrub.out << scrub.err);
  CHECK(scrub.exit_code == 1);
  std::vector<HttpRecord> got = rx.requests();
  REQUIRE(got.size() == 1);
  CHECK(got[0].method == "POST");
  CHECK(got[0].path == "/hook");
  CHECK(got[0].Header("content-type") == "application/json");
  json doc = Body(got[0]);
  CHECK(doc["schema"] == 1);
  CHECK(doc["source"] == "atlas-scrub");
  CHECK(doc["host"] == Host());
  CHECK(doc["event"] == "alert");
  CHECK(doc["command"] == "scrub");
  CHECK(doc["health"] == "critical");
  CHECK(doc["title"] == Host() + ": 1 critical finding (scrub)");
  CHECK(doc["message"].get<std::string>().find("silent_corruption d1:Movies/Big Film (2010).mkv") !=
        std::string::npos);
  CHECK(doc["message"].get<std::string>().find("atlas-scrub fix --dry-run") != std::string::npos);
  REQUIRE(doc["findings"].size() == 1);
  CHECK(doc["findings"][0]["severity"] == "critical");
  CHECK(doc["findings"][0]["kind"] == "silent_corruption");
  CHECK(doc["findings"][0]["disk"] == "d1");
  CHECK(doc["findings"][0]["path"] == "Movies/Big Film (2010).mkv");
  CHECK(doc["findings"][0]["offset"] == 3 * 65536);
  CHECK(doc["time"].get<std::string>().size() == 20);

  CliResult again = a.Run({"scrub", "--plan", "full"});
  CHECK(again.exit_code == 1);
  CHECK(rx.requests().size() == 1);
  // check records nothing, and with nothing new to send, neither do alerts.
  std::string manifest = TreeFingerprint(a.Manifest());
  CHECK(a.Run({"check"}).exit_code == 1);
  CHECK(rx.requests().size() == 1);
  CHECK(TreeFingerprint(a.Manifest()) == manifest);

  CliResult fix = a.Run({"fix"});
  INFO(fix.out << fix.err);
  REQUIRE(fix.exit_code == 0);
  got = rx.requests();
  REQUIRE(got.size() == 2);
  json resolved = Body(got[1]);
  CHECK(resolved["event"] == "resolved");
  CHECK(resolved["health"] == "ok");
  CHECK(resolved["command"] == "fix");
  CHECK(resolved["title"] == Host() + ": 1 finding resolved (fix)");
  REQUIRE(resolved["findings"].size() == 1);
  CHECK(resolved["findings"][0]["kind"] == "silent_corruption");
  CHECK(resolved["findings"][0]["path"] == "Movies/Big Film (2010).mkv");

  CHECK(a.Run({"scrub", "--plan", "full"}).exit_code == 0);
  CHECK(rx.requests().size() == 2);
}

TEST_CASE("alert: a new finding is sent at once while an old one stays quiet; repeat_after sends it again",
          "[alert][e2e]") {
  // STRATEGY:
  // 1. repeat_after = "2s". Corrupt file A; scrub alerts A.
  // 2. Corrupt file B at once; scrub alerts B only (A was sent < 2 s ago).
  // 3. Wait past repeat_after; scrub alerts A and B again.
  HttpReceiver rx;
  TempArray a(3, 1, 64 * 1024, Alerts(Hook(rx.Url("/hook"), "json"), "repeat_after = \"2s\"\n"));
  Populate(a);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  FlipByteKeepMtime(a.File(1, "Movies/Big Film (2010).mkv"), 100);
  REQUIRE(a.Run({"scrub", "--plan", "full"}).exit_code == 1);
  REQUIRE(rx.requests().size() == 1);

  FlipByteKeepMtime(a.File(2, "Music/album/track.flac"), 65536 + 5);
  REQUIRE(a.Run({"scrub", "--plan", "full"}).exit_code == 1);
  std::vector<HttpRecord> got = rx.requests();
  REQUIRE(got.size() == 2);
  json second = Body(got[1]);
  REQUIRE(second["findings"].size() == 1);
  CHECK(second["findings"][0]["path"] == "Music/album/track.flac");

  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  REQUIRE(a.Run({"scrub", "--plan", "full"}).exit_code == 1);
  got = rx.requests();
  REQUIRE(got.size() == 3);
  CHECK(Body(got[2])["findings"].size() == 2);
}

TEST_CASE("alert: ntfy, gotify, slack and discord each get their service's payload", "[alert][e2e]") {
  // STRATEGY:
  // 1. Four webhooks on one receiver (distinct paths), ntfy and gotify with
  //    token files.
  // 2. A scrub with one corruption: each gets exactly one request in its
  //    own shape (ntfy headers and text body, gotify /message JSON with its
  //    key header, slack {"text"}, discord content + one embed).
  HttpReceiver rx;
  TempArray a(3, 1, 64 * 1024, "");
  std::string ntfy_token = Secret(a, "ntfy.token", "tk_secret1");
  std::string gotify_token = Secret(a, "gotify.token", "AppToken2");
  std::string cfg = Alerts(Hook(rx.Url("/ntfy/atlas"), "ntfy", ntfy_token) +
                           Hook(rx.Url("/gotify"), "gotify", gotify_token) + Hook(rx.Url("/slack"), "slack") +
                           Hook(rx.Url("/discord"), "discord"));
  std::ofstream(a.config(), std::ios::app) << cfg;
  Populate(a);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  FlipByteKeepMtime(a.File(3, "Photos/img.jpg"), 10);
  CliResult scrub = a.Run({"scrub", "--plan", "full"});
  INFO(scrub.out << scrub.err);
  REQUIRE(scrub.exit_code == 1);

  std::vector<HttpRecord> ntfy = rx.RequestsTo("/ntfy/atlas");
  REQUIRE(ntfy.size() == 1);
  CHECK(ntfy[0].method == "POST");
  CHECK(ntfy[0].Header("title") == Host() + ": 1 critical finding (scrub)");
  CHECK(ntfy[0].Header("priority") == "5");
  CHECK(ntfy[0].Header("tags") == "rotating_light,floppy_disk");
  CHECK(ntfy[0].Header("authorization") == "Bearer tk_secret1");
  CHECK(ntfy[0].body.find("critical silent_corruption d3:Photos/img.jpg") == 0);

  std::vector<HttpRecord> gotify = rx.RequestsTo("/gotify");
  REQUIRE(gotify.size() == 1);
  CHECK(gotify[0].path == "/gotify/message");
  CHECK(gotify[0].Header("x-gotify-key") == "AppToken2");
  json g = Body(gotify[0]);
  CHECK(g["title"] == Host() + ": 1 critical finding (scrub)");
  CHECK(g["priority"] == 8);
  CHECK(g["message"].get<std::string>().find("d3:Photos/img.jpg") != std::string::npos);

  std::vector<HttpRecord> slack = rx.RequestsTo("/slack");
  REQUIRE(slack.size() == 1);
  json s = Body(slack[0]);
  CHECK(s.size() == 1);
  CHECK(s["text"].get<std::string>().find("*" + Host() + ": 1 critical finding (scrub)*\ncritical "
                                          "silent_corruption d3:Photos/img.jpg") == 0);

  std::vector<HttpRecord> discord = rx.RequestsTo("/discord");
  REQUIRE(discord.size() == 1);
  json d = Body(discord[0]);
  CHECK(d["content"] == "**CRITICAL** " + Host() + ": 1 critical finding (scrub)");
  REQUIRE(d["embeds"].size() == 1);
  CHECK(d["embeds"][0]["title"] == Host() + ": 1 critical finding (scrub)");
  CHECK(d["embeds"][0]["color"] == 0xE74C3C);
  CHECK(d["embeds"][0]["description"].get<std::string>().find("d3:Photos/img.jpg") != std::string::npos);
}

TEST_CASE("alert: discord gets many findings within its limits, the rest counted", "[alert][e2e]") {
  // STRATEGY:
  // 1. 120 small files with long names on d1, each corrupted after sync.
  // 2. scrub: 120 silent_corruption findings; the discord post keeps the
  //    description within 4096 and everything within 6000 characters, and
  //    ends its list with "… and N more findings", N + listed = 120.
  HttpReceiver rx;
  TempArray a(2, 1, 4096, Alerts(Hook(rx.Url("/discord"), "discord")));
  std::string longname(60, 'x');
  for (int i = 0; i < 120; ++i) a.Write(1, "Photos/" + longname + std::to_string(i) + ".jpg", 5000, 10 + i);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  for (int i = 0; i < 120; ++i) FlipByteKeepMtime(a.File(1, "Photos/" + longname + std::to_string(i) + ".jpg"), 7);
  CliResult scrub = a.Run({"scrub", "--plan", "full"});
  INFO(scrub.err);
  REQUIRE(scrub.exit_code == 1);
  std::vector<HttpRecord> got = rx.requests();
  REQUIRE(got.size() == 1);
  json d = Body(got[0]);
  std::string desc = d["embeds"][0]["description"];
  std::string title = d["embeds"][0]["title"];
  CHECK(desc.size() <= 4096);
  CHECK(desc.size() + title.size() <= 6000);
  CHECK(d["content"].get<std::string>().size() <= 2000);
  std::size_t listed = 0;
  for (std::size_t p = desc.find("critical silent_corruption"); p != std::string::npos;
       p = desc.find("critical silent_corruption", p + 1)) {
    ++listed;
  }
  std::string more = "\xE2\x80\xA6 and " + std::to_string(120 - listed) + " more findings; run `atlas-scrub status`";
  CHECK(listed > 10);
  CHECK(listed < 120);
  CHECK(desc.find(more) != std::string::npos);
}

TEST_CASE("alert: the healthcheck is pinged at start and with the exit code and a summary", "[alert][e2e]") {
  // STRATEGY:
  // 1. Only a healthcheck URL. A clean scrub pings /start then /0.
  // 2. A scrub with corruption pings /start then /1 with a body naming the
  //    finding.
  HttpReceiver rx;
  TempArray a(3, 1, 64 * 1024, Alerts("", "healthcheck_url = \"" + rx.Url("/ping/abc-123") + "\"\n"));
  Populate(a);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  rx.Clear();
  REQUIRE(a.Run({"scrub", "--plan", "full"}).exit_code == 0);
  std::vector<HttpRecord> got = rx.requests();
  REQUIRE(got.size() == 2);
  CHECK(got[0].path == "/ping/abc-123/start");
  CHECK(got[1].path == "/ping/abc-123/0");
  CHECK(got[1].body.find("atlas-scrub scrub on " + Host() + ": exit 0; 0 critical, 0 warning findings") == 0);

  rx.Clear();
  FlipByteKeepMtime(a.File(2, "Music/album/track.flac"), 77);
  REQUIRE(a.Run({"scrub", "--plan", "full"}).exit_code == 1);
  got = rx.requests();
  REQUIRE(got.size() == 2);
  CHECK(got[0].path == "/ping/abc-123/start");
  CHECK(got[1].path == "/ping/abc-123/1");
  CHECK(got[1].body.find("exit 1; 1 critical, 0 warning findings") != std::string::npos);
  CHECK(got[1].body.find("critical silent_corruption d2:Music/album/track.flac") != std::string::npos);
}

TEST_CASE("alert: a refused connection is logged, leaves the exit code, and the next run delivers",
          "[alert][e2e]") {
  // STRATEGY:
  // 1. A webhook on a port where nothing listens (2 attempts, no delay).
  // 2. A scrub with corruption: exit 1 as without alerts, the JSON output
  //    intact, stderr names the channel and that the next run sends it.
  // 3. A receiver starts on that port; the next scrub (same open finding,
  //    well within repeat_after) delivers it, and a third sends nothing.
  int port = UnusedPort();
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  TempArray a(3, 1, 64 * 1024, Alerts(Hook(url, "json")));
  Populate(a);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  FlipByteKeepMtime(a.File(1, "Movies/Big Film (2010).mkv"), 1000);
  CliResult scrub = a.Run({"scrub", "--plan", "full"});
  CHECK(scrub.exit_code == 1);
  CHECK(scrub.json["findings"].size() == 1);
  CHECK(scrub.err.find("alert: webhook json http://127.0.0.1:" + std::to_string(port) +
                       "/hook failed after 2 attempts") != std::string::npos);
  CHECK(scrub.err.find("the next run sends it again") != std::string::npos);

  HttpReceiver rx(200, port);
  CliResult next = a.Run({"scrub", "--plan", "full"});
  INFO(next.err);
  CHECK(next.exit_code == 1);
  std::vector<HttpRecord> got = rx.requests();
  REQUIRE(got.size() == 1);
  CHECK(Body(got[0])["findings"][0]["path"] == "Movies/Big Film (2010).mkv");
  CHECK(a.Run({"scrub", "--plan", "full"}).exit_code == 1);
  CHECK(rx.requests().size() == 1);
}

TEST_CASE("alert: a channel that answers 500 is retried and owed; the other channel is not sent twice",
          "[alert][e2e]") {
  // STRATEGY:
  // 1. Two webhooks: /good answers 200, /bad (another receiver) 500.
  // 2. Scrub with corruption: /good once, /bad twice (2 attempts).
  // 3. /bad recovers; the next scrub sends to /bad only.
  HttpReceiver good;
  HttpReceiver bad(500);
  TempArray a(3, 1, 64 * 1024, Alerts(Hook(good.Url("/good"), "json") + Hook(bad.Url("/bad"), "json")));
  Populate(a);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  FlipByteKeepMtime(a.File(1, "Movies/Big Film (2010).mkv"), 1000);
  CliResult scrub = a.Run({"scrub", "--plan", "full"});
  CHECK(scrub.exit_code == 1);
  CHECK(scrub.err.find("HTTP 500 from http://127.0.0.1:" + std::to_string(bad.port()) + "/bad") !=
        std::string::npos);
  CHECK(good.requests().size() == 1);
  CHECK(bad.requests().size() == 2);

  bad.set_status(200);
  CHECK(a.Run({"scrub", "--plan", "full"}).exit_code == 1);
  CHECK(good.requests().size() == 1);
  CHECK(bad.requests().size() == 3);
}

TEST_CASE("alert: email over SMTP authenticates from password_file; subjects say TEST, CRITICAL, RESOLVED",
          "[alert][e2e]") {
  // STRATEGY:
  // 1. An [[alerts.email]] to a local SMTP receiver with username and
  //    password_file.
  // 2. alert test (before the first sync): one message, subject
  //    "[atlas-scrub] TEST: ...", envelope and AUTH as configured.
  // 3. A scrub with corruption: "[atlas-scrub] CRITICAL: ..." with RFC 5322
  //    headers and the finding in the body; fix: "[atlas-scrub] RESOLVED: ...".
  SmtpReceiver smtp;
  TempArray a(3, 1, 64 * 1024, "");
  std::string pw = Secret(a, "smtp.pw", "s3cret pass");
  std::ofstream(a.config(), std::ios::app)
      << Alerts("[[alerts.email]]\nsmtp_url = \"" + smtp.Url() +
                "\"\nfrom = \"atlas@example.org\"\nto = [\"me@example.org\", \"you@example.org\"]\n"
                "username = \"atlas\"\npassword_file = \"" + pw + "\"\n");
  CliResult test = a.Run({"alert", "test"}, false);
  INFO(test.out << test.err);
  CHECK(test.exit_code == 0);
  std::vector<SmtpRecord> got = smtp.messages();
  REQUIRE(got.size() == 1);
  CHECK(got[0].mail_from == "atlas@example.org");
  CHECK(got[0].rcpt == std::vector<std::string>{"me@example.org", "you@example.org"});
  CHECK(got[0].auth_user == "atlas");
  CHECK(got[0].auth_password == "s3cret pass");
  CHECK(got[0].Header("Subject") == "[atlas-scrub] TEST: " + Host() + ": test message from atlas-scrub");
  CHECK(got[0].Header("From") == "atlas@example.org");
  CHECK(got[0].Header("To") == "me@example.org, you@example.org");
  CHECK(got[0].Header("Content-Type") == "text/plain; charset=utf-8");
  CHECK(got[0].Header("Message-ID").find("@example.org>") != std::string::npos);
  CHECK(got[0].Header("Date").find(" +0000") != std::string::npos);

  Populate(a);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  FlipByteKeepMtime(a.File(1, "Movies/Big Film (2010).mkv"), 1000);
  REQUIRE(a.Run({"scrub", "--plan", "full"}).exit_code == 1);
  got = smtp.messages();
  REQUIRE(got.size() == 2);
  CHECK(got[1].Header("Subject") == "[atlas-scrub] CRITICAL: " + Host() + ": 1 critical finding (scrub)");
  CHECK(got[1].Body().find("critical silent_corruption d1:Movies/Big Film (2010).mkv") == 0);

  REQUIRE(a.Run({"fix"}).exit_code == 0);
  got = smtp.messages();
  REQUIRE(got.size() == 3);
  CHECK(got[2].Header("Subject") == "[atlas-scrub] RESOLVED: " + Host() + ": 1 finding resolved (fix)");
  CHECK(got[2].Body().find("resolved: silent_corruption d1:Movies/Big Film (2010).mkv") == 0);
}

TEST_CASE("alert: email through a local sendmail gets the message on stdin with -t -oi", "[alert][e2e]") {
  // STRATEGY: a shell script stands in for sendmail and records its
  // arguments and stdin; alert test sends one message through it.
  TempArray a(2, 1, 64 * 1024, "");
  fs::path log = a.root() / "sendmail.log";
  fs::path script = a.root() / "sendmail";
  WriteFile(script, "#!/bin/sh\necho \"args: $*\" > '" + log.string() + "'\ncat >> '" + log.string() + "'\n");
  fs::permissions(script, fs::perms(0755));
  std::ofstream(a.config(), std::ios::app)
      << Alerts("[[alerts.email]]\nsendmail = \"" + script.string() +
                "\"\nfrom = \"atlas@example.org\"\nto = [\"me@example.org\"]\n");
  CliResult test = a.Run({"alert", "test"});
  INFO(test.out << test.err);
  CHECK(test.exit_code == 0);
  CHECK(test.json["channels"][0]["ok"] == true);
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.find("args: -t -oi\n") == 0);
  CHECK(text.find("\nSubject: [atlas-scrub] TEST: " + Host() + ": test message from atlas-scrub\n") !=
        std::string::npos);
  CHECK(text.find("\nTo: me@example.org\n") != std::string::npos);
  CHECK(text.find('\r') == std::string::npos);
}

TEST_CASE("alert test: says which channel took the message; exit 1 when one failed, 2 when none is configured",
          "[alert][e2e]") {
  // STRATEGY:
  // 1. No channel: exit 2 and a message saying how to configure one.
  // 2. A good webhook and one on a refused port, before any sync: exit 1,
  //    one "ok" and one "failed" line; --json lists both.
  // 3. Only the good one: exit 0; the receiver got event "test".
  {
    TempArray none(2, 1);
    CliResult r = none.Run({"alert", "test"}, false);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("no alert channel is configured") != std::string::npos);
    CHECK(r.err.find("[[alerts.webhook]]") != std::string::npos);
  }
  HttpReceiver rx;
  std::string refused = "http://127.0.0.1:" + std::to_string(UnusedPort()) + "/x";
  TempArray a(2, 1, 64 * 1024, Alerts(Hook(rx.Url("/ok"), "json") + Hook(refused, "ntfy")));
  CliResult text = a.Run({"alert", "test"}, false);
  INFO(text.out << text.err);
  CHECK(text.exit_code == 1);
  CHECK(text.out.find("ok      webhook json " + rx.Url("/ok") + "\n") != std::string::npos);
  CHECK(text.out.find("failed  webhook ntfy " + refused + ": ") != std::string::npos);
  REQUIRE(rx.requests().size() == 1);
  json doc = Body(rx.requests()[0]);
  CHECK(doc["event"] == "test");
  CHECK(doc["health"] == "ok");
  CHECK(doc["findings"].empty());

  CliResult j = a.Run({"alert", "test"});
  CHECK(j.exit_code == 1);
  CHECK(j.json["ok"] == false);
  REQUIRE(j.json["channels"].size() == 2);
  CHECK(j.json["channels"][0]["ok"] == true);
  CHECK(j.json["channels"][1]["ok"] == false);
  CHECK(j.json["channels"][1]["attempts"] == 2);

  TempArray one(2, 1, 64 * 1024, Alerts(Hook(rx.Url("/ok"), "json")));
  CHECK(one.Run({"alert", "test"}, false).exit_code == 0);
}

TEST_CASE("alert: a token file every user can read draws a warning naming it", "[alert][e2e]") {
  // STRATEGY: a json webhook whose token_file is mode 0644, then 0600;
  // alert test warns about the first only, and sends the token either way.
  HttpReceiver rx;
  TempArray a(2, 1, 64 * 1024, "");
  std::string token = Secret(a, "hook.token", "tok");
  fs::permissions(token, fs::perms(0644));
  std::ofstream(a.config(), std::ios::app) << Alerts(Hook(rx.Url("/h"), "json", token));
  CliResult open = a.Run({"alert", "test"}, false);
  CHECK(open.exit_code == 0);
  CHECK(open.err.find("warning: secret file " + token + " is readable by every user") != std::string::npos);
  fs::permissions(token, fs::perms(0600));
  CliResult closed = a.Run({"alert", "test"}, false);
  CHECK(closed.exit_code == 0);
  CHECK(closed.err.find("readable by every user") == std::string::npos);
  REQUIRE(rx.requests().size() == 2);
  CHECK(rx.requests()[1].Header("authorization") == "Bearer tok");
}

TEST_CASE("alert: a sync refused by the delete guard alerts (exit 3 kept); the forced sync resolves it",
          "[alert][e2e]") {
  // STRATEGY:
  // 1. max_deletes = 1; sync; delete 3 files.
  // 2. sync: exit 3 (refused) as without alerts, and one alert naming
  //    mass_delete.
  // 3. sync --force-delete completes without it: one resolved notice.
  HttpReceiver rx;
  TempArray a(3, 1, 64 * 1024, "[guards]\nmax_deletes = 1\nmax_deletes_pct = 100\n" +
                                   Alerts(Hook(rx.Url("/hook"), "json")));
  for (int i = 0; i < 4; ++i) a.Write(1, "Movies/m" + std::to_string(i) + ".mkv", 70000, 40 + i);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  for (int i = 0; i < 3; ++i) fs::remove(a.File(1, "Movies/m" + std::to_string(i) + ".mkv"));
  CliResult refused = a.Run({"sync"});
  INFO(refused.out << refused.err);
  CHECK(refused.exit_code == 3);
  std::vector<HttpRecord> got = rx.requests();
  REQUIRE(got.size() == 1);
  json doc = Body(got[0]);
  CHECK(doc["command"] == "sync");
  REQUIRE(doc["findings"].size() == 1);
  CHECK(doc["findings"][0]["kind"] == "mass_delete");

  CliResult forced = a.Run({"sync", "--force-delete"});
  INFO(forced.out << forced.err);
  CHECK(forced.exit_code == 0);
  got = rx.requests();
  REQUIRE(got.size() == 2);
  json resolved = Body(got[1]);
  CHECK(resolved["event"] == "resolved");
  CHECK(resolved["findings"][0]["kind"] == "mass_delete");
}

}  // namespace
}  // namespace atlas::testing
