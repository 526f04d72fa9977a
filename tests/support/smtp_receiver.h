// A real SMTP server on 127.0.0.1 (an ephemeral port) that records every
// message, for alert tests: EHLO/HELO, optional AUTH PLAIN and AUTH LOGIN
// (any credentials accepted and recorded), MAIL FROM, RCPT TO, DATA (dot-
// unstuffed), RSET, NOOP, QUIT. It offers no STARTTLS, so an smtp:// client
// that tries it goes on in clear. One connection at a time.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "support/loopback_server.h"

namespace atlas::testing {

struct SmtpRecord {
  std::string helo;
  std::string mail_from;          // inside <>
  std::vector<std::string> rcpt;  // inside <>
  std::string auth_user, auth_password;  // empty without AUTH
  std::string data;               // the message, CRLF line ends, without the final "."
  // The value of header `name` (case-sensitive name, first occurrence).
  std::string Header(const std::string& name) const;
  // The text after the blank line.
  std::string Body() const;
};

class SmtpReceiver {
 public:
  explicit SmtpReceiver(bool offer_auth = true);
  ~SmtpReceiver();
  SmtpReceiver(const SmtpReceiver&) = delete;
  SmtpReceiver& operator=(const SmtpReceiver&) = delete;

  int port() const { return server_->port(); }
  std::string Url() const { return "smtp://127.0.0.1:" + std::to_string(port()); }
  std::vector<SmtpRecord> messages() const;

 private:
  void Handle(int fd);

  bool offer_auth_;
  mutable std::mutex mu_;
  std::vector<SmtpRecord> messages_;
  std::unique_ptr<LoopbackServer> server_;  // last: its thread stops before the rest goes
};

std::string Base64Decode(const std::string& in);

}  // namespace atlas::testing
