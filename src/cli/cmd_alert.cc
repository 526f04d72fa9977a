// alert test: one test message through every configured channel, one line
// per channel. Needs no manifest (it works before the first sync) and
// records nothing. Exit 0 when every channel took it, 1 when one failed, 2
// when none is configured.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/run_notifier.h"

namespace atlas::cli {

int CmdAlertTest(const CommandEnv& env) {
  Result<Config> config = LoadConfigFor(env.global);
  if (!config.ok()) return ReportError(env.global, "alert test", config.status());
  const AlertsConfig& a = config->alerts;
  if (a.webhooks.empty() && a.emails.empty()) {
    return ReportError(env.global, "alert test",
                       Status::InvalidArgument(fmt::format(
                           "no alert channel is configured in {}; add an [[alerts.webhook]] (url, format) or "
                           "[[alerts.email]] (smtp_url or sendmail, from, to) table, see man 5 atlas-scrub.toml",
                           config->source.string())));
  }
  WarnReadableSecretFiles(*config);
  DeliveryOptions options = DeliveryOptionsFrom(a);
  std::unique_ptr<AlertTransport> transport = NewCurlTransport(options);
  Notifier notifier(a, transport.get(), options);
  AlertMessage m;
  m.event = AlertEvent::kTest;
  m.host = HostName();
  m.time_ns = Clock::Default()->NowUnixNanos();

  nlohmann::json channels = nlohmann::json::array();
  bool all_ok = true;
  for (std::size_t i = 0; i < notifier.channel_count(); ++i) {
    ChannelOutcome out = notifier.Send(i, m);
    all_ok = all_ok && out.ok;
    channels.push_back({{"channel", out.channel}, {"ok", out.ok}, {"attempts", out.attempts}, {"error", out.error}});
    if (!env.global.json && (!env.global.quiet || !out.ok)) {
      if (out.ok) {
        fmt::print("ok      {}\n", out.channel);
      } else {
        fmt::print("failed  {}: {}\n", out.channel, out.error);
      }
    }
  }
  int code = all_ok ? kExitOk : kExitAttention;
  if (env.global.json) {
    PrintJson({{"schema", 1},
               {"command", "alert test"},
               {"ok", all_ok},
               {"exit_code", code},
               {"channels", channels},
               {"findings", nlohmann::json::array()}});
  } else if (!env.global.quiet) {
    std::size_t ok = 0;
    for (const auto& c : channels) ok += c["ok"].get<bool>() ? 1 : 0;
    fmt::print("alert test: {} of {} channels took the test message\n", ok, channels.size());
  }
  return code;
}

}  // namespace atlas::cli
