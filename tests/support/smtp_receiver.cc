#include "support/smtp_receiver.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

namespace atlas::testing {
namespace {

class LineConn {
 public:
  explicit LineConn(int fd) : fd_(fd) {}
  bool ReadLine(std::string* line) {
    for (;;) {
      std::size_t e = buf_.find("\r\n");
      if (e != std::string::npos) {
        *line = buf_.substr(0, e);
        buf_.erase(0, e + 2);
        return true;
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 5000) <= 0) return false;
      char tmp[4096];
      ssize_t n = read(fd_, tmp, sizeof tmp);
      if (n <= 0) return false;
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }
  void Send(const std::string& s) {
    std::string out = s + "\r\n";
    std::size_t off = 0;
    while (off < out.size()) {
      ssize_t n = write(fd_, out.data() + off, out.size() - off);
      if (n <= 0) return;
      off += static_cast<std::size_t>(n);
    }
  }

 private:
  int fd_;
  std::string buf_;
};

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

std::string Inside(const std::string& s) {
  std::size_t a = s.find('<'), b = s.find('>');
  if (a == std::string::npos || b == std::string::npos || b < a) return s;
  return s.substr(a + 1, b - a - 1);
}

}  // namespace

std::string Base64Decode(const std::string& in) {
  static const std::string kTable = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    std::size_t v = kTable.find(c);
    if (v == std::string::npos) continue;  // '=' and whitespace
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::string SmtpRecord::Header(const std::string& name) const {
  std::string key = "\r\n" + name + ": ";
  std::string text = "\r\n" + data;
  std::size_t head_end = text.find("\r\n\r\n");
  std::size_t at = text.find(key);
  if (at == std::string::npos || at > head_end) return "";
  std::size_t start = at + key.size();
  return text.substr(start, text.find("\r\n", start) - start);
}

std::string SmtpRecord::Body() const {
  std::size_t e = data.find("\r\n\r\n");
  return e == std::string::npos ? "" : data.substr(e + 4);
}

SmtpReceiver::SmtpReceiver(bool offer_auth)
    : offer_auth_(offer_auth), server_(std::make_unique<LoopbackServer>(0, [this](int fd) { Handle(fd); })) {}

SmtpReceiver::~SmtpReceiver() = default;

std::vector<SmtpRecord> SmtpReceiver::messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

void SmtpReceiver::Handle(int fd) {
  LineConn c(fd);
  c.Send("220 127.0.0.1 test SMTP ready");
  SmtpRecord rec;
  std::string line;
  while (c.ReadLine(&line)) {
    std::string cmd = Upper(line.substr(0, line.find(' ')));
    std::string arg = line.find(' ') == std::string::npos ? "" : line.substr(line.find(' ') + 1);
    if (cmd == "EHLO") {
      rec.helo = arg;
      if (offer_auth_) {
        c.Send("250-127.0.0.1");
        c.Send("250-AUTH PLAIN LOGIN");
        c.Send("250 8BITMIME");
      } else {
        c.Send("250-127.0.0.1");
        c.Send("250 8BITMIME");
      }
    } else if (cmd == "HELO") {
      rec.helo = arg;
      c.Send("250 127.0.0.1");
    } else if (cmd == "AUTH" && offer_auth_) {
      std::string mech = Upper(arg.substr(0, arg.find(' ')));
      std::string initial = arg.find(' ') == std::string::npos ? "" : arg.substr(arg.find(' ') + 1);
      if (mech == "PLAIN") {
        if (initial.empty()) {
          c.Send("334 ");
          if (!c.ReadLine(&initial)) return;
        }
        std::string d = Base64Decode(initial);  // authzid \0 user \0 password
        std::size_t a = d.find('\0'), b = d.find('\0', a + 1);
        if (a != std::string::npos && b != std::string::npos) {
          rec.auth_user = d.substr(a + 1, b - a - 1);
          rec.auth_password = d.substr(b + 1);
        }
        c.Send("235 2.7.0 Authentication successful");
      } else if (mech == "LOGIN") {
        std::string u = initial, p;
        if (u.empty()) {
          c.Send("334 VXNlcm5hbWU6");
          if (!c.ReadLine(&u)) return;
        }
        c.Send("334 UGFzc3dvcmQ6");
        if (!c.ReadLine(&p)) return;
        rec.auth_user = Base64Decode(u);
        rec.auth_password = Base64Decode(p);
        c.Send("235 2.7.0 Authentication successful");
      } else {
        c.Send("504 5.5.4 Unrecognized authentication type");
      }
    } else if (cmd == "MAIL") {
      rec.mail_from = Inside(arg);
      rec.rcpt.clear();
      c.Send("250 2.1.0 Ok");
    } else if (cmd == "RCPT") {
      rec.rcpt.push_back(Inside(arg));
      c.Send("250 2.1.5 Ok");
    } else if (cmd == "DATA") {
      c.Send("354 End data with <CR><LF>.<CR><LF>");
      std::string data;
      while (c.ReadLine(&line)) {
        if (line == ".") break;
        if (!line.empty() && line[0] == '.') line.erase(0, 1);
        data += line + "\r\n";
      }
      rec.data = data;
      {
        std::lock_guard<std::mutex> lock(mu_);
        messages_.push_back(rec);
      }
      c.Send("250 2.0.0 Ok: queued");
    } else if (cmd == "RSET" || cmd == "NOOP") {
      c.Send("250 2.0.0 Ok");
    } else if (cmd == "QUIT") {
      c.Send("221 2.0.0 Bye");
      return;
    } else {
      c.Send("502 5.5.2 Command not recognized");
    }
  }
}

}  // namespace atlas::testing
