// A real SMTP server on 127.0.0.1 (an ephemeral port) that records every
// message, for alert tests: EHLO/HELO, optional AUTH PLAIN and AUTH LOGIN
// (any credentials accepted and recorded), MAIL FROM, RCPT TO, DATA (dot-
// unstuffed), RSET, NOOP, QUIT. It offers no STARTTLS, so an smtp:// client
// that tries it goes on in clear. One connection at a time.
#pragma once

#include <mutex>
#include <string>
#include <thread>
#include <vector>

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

  int port() const { return port_; }
  std::string Url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  std::vector<SmtpRecord> messages() const;

 private:
  void Serve();
  void Handle(int fd);

  bool offer_auth_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  mutable std::mutex mu_;
  std::vector<SmtpRecord> messages_;
  std::thread thread_;
};

std::string Base64Decode(const std::string& in);

}  // namespace atlas::testing
