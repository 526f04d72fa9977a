// What each channel receives, built from one AlertMessage (SPEC "Alerts",
// the shapes of each service's own API):
//
//   json     {"schema":1,"source":"atlas-scrub","host","event","command","time",
//             "health","title","message","findings":[SPEC finding + fingerprint]}
//   ntfy     POST text body; Title, Priority (5 critical, 4 warning, 3 else),
//            Tags headers; the token as "Authorization: Bearer"
//   gotify   POST <url>/message {"title","message","priority"}; X-Gotify-Key
//   discord  {"username","content","embeds":[{"title","description","color"}]}
//            within Discord's limits: content 2000, title 256, description
//            4096, 6000 in all; findings that do not fit become "… and N more
//            findings; run `atlas-scrub status`" instead of a rejected post
//   slack    {"text":"*title*\nbody"} (incoming webhook, as ZED sends it)
//   email    RFC 5322 text/plain UTF-8, Subject "[atlas-scrub] CRITICAL: ..."
//
// Lengths are counted in bytes, which is never less than Discord's count of
// characters, and cut only at UTF-8 character boundaries.
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "atlas/advice.h"
#include "atlas/alert.h"
#include "atlas/env.h"
#include "core/finding_json.h"

namespace atlas {
namespace {

constexpr std::size_t kDiscordContent = 2000;
constexpr std::size_t kDiscordTitle = 256;
constexpr std::size_t kDiscordDescription = 4096;
constexpr std::size_t kDiscordTotal = 6000;
constexpr std::size_t kMaxLine = 900;  // RFC 5322 allows 998 per line

// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
std::string Cut(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}
// As Cut, ending in "…" when something was cut.
std::string Ellipsize(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  return Cut(s, max - 3) + "\xE2\x80\xA6";
}

std::string Rfc5322Date(std::int64_t ns) {
  std::time_t t = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} +0000", kDays[tm.tm_wday], tm.tm_mday,
                     kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string Base64(std::string_view in) {
  static constexpr char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                      static_cast<unsigned char>(in[i + 2]);
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], kTable[(v >> 6) & 63], kTable[v & 63]};
  }
  if (i + 1 == in.size()) {
    std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], kTable[(v >> 6) & 63], '='};
  }
  return out;
}

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80 || c == '\r' || c == '\n') return false;
  }
  return true;
}
// A header value: as is when plain ASCII, else an RFC 2047 encoded word.
std::string HeaderText(std::string_view s) {
  if (IsAscii(s)) return std::string(s);
  return "=?UTF-8?B?" + Base64(s) + "?=";
}

int Health(const AlertMessage& m) { return m.event == AlertEvent::kAlert ? HealthOf(m.findings) : 0; }

// "d1:Movies/x.mkv", "d1", "" .
std::string Where(const Finding& f) {
  std::string where = f.disk;
  bool smart = f.kind == FindingKind::kSmartFailing || f.kind == FindingKind::kSmartWarning;
  std::string_view rest = f.path.empty() && smart ? std::string_view(f.from) : std::string_view(f.path);
  if (!rest.empty()) where += (where.empty() ? "" : ":") + DisplayPath(rest);
  return where;
}

std::string FindingLine(const AlertMessage& m, const Finding& f) {
  std::string where = Where(f);
  std::string line = m.event == AlertEvent::kResolved
                         ? fmt::format("resolved: {} {}", KindName(f.kind), where)
                         : fmt::format("{} {} {}", SeverityName(f.severity), KindName(f.kind), where);
  if (!f.message.empty()) line += (where.empty() ? ": " : " \xE2\x80\x94 ") + DisplayPath(f.message);
  return Ellipsize(line, kMaxLine);
}

std::string MoreLine(std::size_t n) {
  return fmt::format("\xE2\x80\xA6 and {} more finding{}; run `atlas-scrub status`", n, n == 1 ? "" : "s");
}

// What to do next, for an alert (the advice table, atlas/advice.h).
std::string NextStep(const AlertMessage& m) {
  if (m.event != AlertEvent::kAlert) return "";
  return "Next: " + NextStepSummary(m.findings, "atlas-scrub") + ".";
}

// Body lines that fit in `budget` bytes (joined with '\n'), the rest counted
// in a "… and N more" line.
std::string FitLines(const AlertMessage& m, std::size_t budget, std::size_t max_findings) {
  std::string out;
  std::size_t n = m.findings.size();
  for (std::size_t i = 0; i < n; ++i) {
    std::string line = FindingLine(m, m.findings[i]);
    std::size_t left = n - i - 1;
    // Room for this line, and for a "more" line if any follow.
    std::size_t reserve = left > 0 ? MoreLine(n).size() + 1 : 0;
    if (i >= max_findings || out.size() + line.size() + 1 + reserve > budget) {
      out += MoreLine(n - i);
      return out;
    }
    out += line;
    if (left > 0) out += "\n";
  }
  return out;
}

std::string_view Upper(std::string_view health, AlertEvent e) {
  if (e == AlertEvent::kResolved) return "RESOLVED";
  if (e == AlertEvent::kTest) return "TEST";
  if (health == "critical") return "CRITICAL";
  if (health == "warning") return "WARNING";
  return "INFO";
}

}  // namespace

std::string_view AlertEventName(AlertEvent event) {
  switch (event) {
    case AlertEvent::kAlert: return "alert";
    case AlertEvent::kResolved: return "resolved";
    case AlertEvent::kTest: return "test";
  }
  return "alert";
}

std::string_view AlertHealthName(const AlertMessage& m) { return HealthName(Health(m)); }

std::string AlertTitle(const AlertMessage& m) {
  std::string suffix = m.command.empty() ? "" : fmt::format(" ({})", m.command);
  std::size_t n = m.findings.size();
  if (m.event == AlertEvent::kTest) return fmt::format("{}: test message from atlas-scrub", m.host);
  if (m.event == AlertEvent::kResolved) {
    return fmt::format("{}: {} finding{} resolved{}", m.host, n, n == 1 ? "" : "s", suffix);
  }
  std::size_t crit = 0, warn = 0;
  for (const Finding& f : m.findings) {
    crit += f.severity == Severity::kCritical ? 1 : 0;
    warn += f.severity == Severity::kWarning ? 1 : 0;
  }
  std::string what;
  if (crit > 0 && warn > 0) {
    what = fmt::format("{} critical and {} warning findings", crit, warn);
  } else if (crit > 0) {
    what = fmt::format("{} critical finding{}", crit, crit == 1 ? "" : "s");
  } else if (warn > 0) {
    what = fmt::format("{} warning finding{}", warn, warn == 1 ? "" : "s");
  } else {
    what = fmt::format("{} finding{}", n, n == 1 ? "" : "s");
  }
  return fmt::format("{}: {}{}", m.host, what, suffix);
}

std::string AlertText(const AlertMessage& m, std::size_t max_findings) {
  if (m.event == AlertEvent::kTest) {
    return fmt::format("This is a test message from atlas-scrub on {}: this channel works.", m.host);
  }
  std::string text = FitLines(m, SIZE_MAX, max_findings);
  std::string next = NextStep(m);
  if (!next.empty()) text += "\n\n" + next;
  return text;
}

std::string AlertJson(const AlertMessage& m) {
  nlohmann::json findings = nlohmann::json::array();
  for (const Finding& f : m.findings) {
    nlohmann::json j = FindingJson(f);
    j["fingerprint"] = DisplayPath(AlertFingerprint(f));
    findings.push_back(std::move(j));
  }
  nlohmann::json doc = {{"schema", 1},
                        {"source", "atlas-scrub"},
                        {"host", m.host},
                        {"event", AlertEventName(m.event)},
                        {"command", m.command},
                        {"time", Rfc3339(m.time_ns)},
                        {"health", AlertHealthName(m)},
                        {"title", AlertTitle(m)},
                        {"message", AlertText(m)},
                        {"findings", std::move(findings)}};
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpRequest BuildWebhookRequest(const WebhookConfig& hook, std::string_view token, const AlertMessage& m) {
  HttpRequest r;
  r.url = hook.url;
  std::string_view health = AlertHealthName(m);
  if (hook.format == "ntfy") {
    r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    r.headers.emplace_back("Title", HeaderText(AlertTitle(m)));
    int priority = 3;
    std::string tags = m.event == AlertEvent::kResolved ? "white_check_mark" : "information_source";
    if (m.event == AlertEvent::kAlert && health == "critical") {
      priority = 5;
      tags = "rotating_light,floppy_disk";
    } else if (m.event == AlertEvent::kAlert && health == "warning") {
      priority = 4;
      tags = "warning,floppy_disk";
    }
    r.headers.emplace_back("Priority", std::to_string(priority));
    r.headers.emplace_back("Tags", tags);
    if (!token.empty()) r.headers.emplace_back("Authorization", fmt::format("Bearer {}", token));
    r.body = AlertText(m);
    return r;
  }
  r.headers.emplace_back("Content-Type", "application/json");
  if (hook.format == "gotify") {
    // The application endpoint is <server>/message.
    std::string base = r.url;
    std::string query;
    if (std::size_t q = base.find('?'); q != std::string::npos) {
      query = base.substr(q);
      base.resize(q);
    }
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (!base.ends_with("/message")) base += "/message";
    r.url = base + query;
    int priority = 2;
    if (m.event == AlertEvent::kAlert && health == "critical") priority = 8;
    if (m.event == AlertEvent::kAlert && health == "warning") priority = 5;
    if (!token.empty()) r.headers.emplace_back("X-Gotify-Key", std::string(token));
    r.body = nlohmann::json({{"title", AlertTitle(m)}, {"message", AlertText(m)}, {"priority", priority}})
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
  }
  if (hook.format == "discord") {
    int color = 0x2ECC71;  // green: resolved, ok
    if (m.event == AlertEvent::kTest) color = 0x3498DB;
    if (m.event == AlertEvent::kAlert && health == "critical") color = 0xE74C3C;
    if (m.event == AlertEvent::kAlert && health == "warning") color = 0xF1C40F;
    std::string title = Ellipsize(AlertTitle(m), kDiscordTitle);
    std::string content = Ellipsize(
        fmt::format("**{}** {}", Upper(health, m.event), AlertTitle(m)), kDiscordContent);
    std::string description;
    if (m.event == AlertEvent::kTest) {
      description = AlertText(m);
    } else {
      std::string next = NextStep(m);
      std::size_t tail = next.empty() ? 0 : next.size() + 2;
      // The embed's title and description count toward 6000, content does not.
      std::size_t budget = std::min(kDiscordDescription, kDiscordTotal - title.size()) - tail;
      description = FitLines(m, budget, SIZE_MAX);
      if (!next.empty()) description += "\n\n" + next;
    }
    description = Ellipsize(description, kDiscordDescription);
    nlohmann::json embed = {{"title", title}, {"description", description}, {"color", color}};
    r.body = nlohmann::json({{"username", "atlas-scrub"}, {"content", content}, {"embeds", {embed}}})
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
  }
  if (hook.format == "slack") {
    r.body = nlohmann::json({{"text", fmt::format("*{}*\n{}", AlertTitle(m), AlertText(m))}})
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
  }
  // json
  if (!token.empty()) r.headers.emplace_back("Authorization", fmt::format("Bearer {}", token));
  r.body = AlertJson(m);
  return r;
}

std::string BuildEmailMessage(const EmailConfig& email, const AlertMessage& m, std::string_view message_id) {
  std::string to;
  for (const std::string& t : email.to) to += (to.empty() ? "" : ", ") + t;
  std::string subject =
      fmt::format("[atlas-scrub] {}: {}", Upper(AlertHealthName(m), m.event), AlertTitle(m));
  std::string msg;
  msg += "Date: " + Rfc5322Date(m.time_ns) + "\r\n";
  msg += fmt::format("Message-ID: <{}>\r\n", message_id);
  msg += "From: " + email.from + "\r\n";
  msg += "To: " + to + "\r\n";
  msg += "Subject: " + HeaderText(subject) + "\r\n";
  msg += "MIME-Version: 1.0\r\n";
  msg += "Content-Type: text/plain; charset=utf-8\r\n";
  msg += "Content-Transfer-Encoding: 8bit\r\n";
  msg += "Auto-Submitted: auto-generated\r\n";
  msg += "X-Atlas-Scrub-Event: " + std::string(AlertEventName(m.event)) + "\r\n";
  msg += "\r\n";
  std::string body = AlertText(m);
  std::size_t start = 0;
  while (start <= body.size()) {
    std::size_t end = body.find('\n', start);
    if (end == std::string::npos) end = body.size();
    msg += Cut(std::string_view(body).substr(start, end - start), kMaxLine) + "\r\n";
    start = end + 1;
  }
  return msg;
}

}  // namespace atlas
