// The configured channels and healthcheck, with bounded retries.
//
// Each delivery gets `attempts` tries; between them the notifier waits
// retry_delay, doubling each time (2 s, 4 s with the defaults), so one
// channel costs at most attempts x timeout plus the waits. Secrets are read
// from their files at each send, so a rotated token needs no restart; a
// missing or empty secret file fails that channel (and only that one)
// without an attempt.
#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "alert/url.h"
#include "atlas/alert.h"
#include "atlas/hash.h"

namespace atlas {
namespace {

std::string IdOf(std::string_view text) {
  Hash128 h = HashBlock(std::as_bytes(std::span<const char>(text.data(), text.size())));
  return fmt::format("{:016x}", h.lo);
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url.substr(0, url.find('?')));
  std::string out(url.substr(0, scheme + 3));
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("?#"));
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  out += authority;
  if (slash == std::string_view::npos) return out;
  std::string_view path = rest.substr(slash + 1);
  while (true) {
    std::size_t next = path.find('/');
    std::string_view seg = path.substr(0, next);
    out += "/";
    out += seg.size() >= 16 ? std::string_view("\xE2\x80\xA6") : seg;
    if (next == std::string_view::npos) break;
    path.remove_prefix(next + 1);
  }
  return out;
}

Result<std::string> ReadSecretFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int e = errno;
    return Status::FromErrno(e == 0 ? ENOENT : e, fmt::format("cannot read secret file {}", path.string()));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  if (s.empty()) return Status::InvalidArgument(fmt::format("secret file {} is empty", path.string()));
  return s;
}

DeliveryOptions DeliveryOptionsFrom(const AlertsConfig& config) {
  DeliveryOptions o;
  o.timeout_ms = config.timeout_s * 1000;
  o.connect_timeout_ms = std::min<std::int64_t>(o.timeout_ms, 10'000);
  o.attempts = config.attempts;
  o.retry_delay_ms = config.retry_delay_s * 1000;
  return o;
}

Notifier::Notifier(const AlertsConfig& config, AlertTransport* transport, const DeliveryOptions& options)
    : transport_(transport), options_(options), healthcheck_url_(config.healthcheck_url) {
  while (!healthcheck_url_.empty() && healthcheck_url_.back() == '/') healthcheck_url_.pop_back();
  for (const WebhookConfig& w : config.webhooks) {
    Channel c;
    c.name = fmt::format("webhook {} {}", w.format, RedactUrl(w.url));
    c.id = IdOf("webhook\n" + w.format + "\n" + w.url);
    c.webhook = &w;
    channels_.push_back(std::move(c));
  }
  for (const EmailConfig& e : config.emails) {
    std::string to;
    for (const std::string& t : e.to) to += (to.empty() ? "" : ",") + t;
    Channel c;
    c.name = e.sendmail.empty() ? fmt::format("email {} to {}", RedactUrl(e.smtp_url), to)
                                : fmt::format("email sendmail {} to {}", e.sendmail.string(), to);
    c.id = IdOf("email\n" + (e.sendmail.empty() ? e.smtp_url : e.sendmail.string()) + "\n" + to);
    c.email = &e;
    channels_.push_back(std::move(c));
  }
}

template <typename Fn>
Status Notifier::WithRetries(Fn&& once, int* attempts) {
  Status s;
  std::int64_t delay_ms = options_.retry_delay_ms;
  int n = std::max(1, options_.attempts);
  for (int i = 0; i < n; ++i) {
    if (i > 0 && delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      delay_ms *= 2;
    }
    *attempts = i + 1;
    s = once();
    if (s.ok()) return s;
    // A bad secret or config does not get better by waiting.
    if (s.code() == Code::kInvalidArgument || s.code() == Code::kNotFound) return s;
  }
  return s;
}

Status Notifier::Once(const Channel& c, const AlertMessage& m) {
  if (c.webhook != nullptr) {
    std::string token;
    if (!c.webhook->token_file.empty()) {
      ATLAS_ASSIGN_OR_RETURN(token, ReadSecretFile(c.webhook->token_file));
    }
    return transport_->Post(BuildWebhookRequest(*c.webhook, token, m));
  }
  const EmailConfig& e = *c.email;
  MailRequest mail;
  mail.smtp_url = e.smtp_url;
  mail.sendmail = e.sendmail;
  mail.from = e.from;
  mail.to = e.to;
  mail.username = e.username;
  if (!e.password_file.empty()) {
    ATLAS_ASSIGN_OR_RETURN(mail.password, ReadSecretFile(e.password_file));
  }
  std::string domain = e.from.substr(e.from.find('@') == std::string::npos ? e.from.size() : e.from.find('@') + 1);
  if (domain.empty()) domain = m.host.empty() ? "localhost" : m.host;
  std::string id = fmt::format("{}.{}.{}@{}", m.time_ns, AlertEventName(m.event), c.id, domain);
  mail.message = BuildEmailMessage(e, m, id);
  return transport_->SendMail(mail);
}

ChannelOutcome Notifier::Send(std::size_t i, const AlertMessage& m) {
  ChannelOutcome out;
  out.channel = channels_[i].name;
  Status s = WithRetries([&] { return Once(channels_[i], m); }, &out.attempts);
  out.ok = s.ok();
  if (!s.ok()) out.error = s.message().empty() ? s.ToString() : std::string(s.message());
  return out;
}

Status Notifier::Ping(std::string_view suffix, std::string_view body) {
  if (healthcheck_url_.empty()) return Status::Ok();
  HttpRequest r;
  std::string base = healthcheck_url_;
  std::string query;
  if (std::size_t q = base.find('?'); q != std::string::npos) {
    query = base.substr(q);
    base.resize(q);
  }
  r.url = fmt::format("{}/{}{}", base, suffix, query);
  r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  r.body = std::string(body);
  int attempts = 0;
  return WithRetries([&] { return transport_->Post(r); }, &attempts);
}

}  // namespace atlas
