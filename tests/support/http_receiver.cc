#include "support/http_receiver.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace atlas::testing {
namespace {

// Reads until `buf` holds `want` or the peer stops (5 s without data).
bool ReadMore(int fd, std::string* buf) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 5000) <= 0) return false;
  char tmp[4096];
  ssize_t n = read(fd, tmp, sizeof tmp);
  if (n <= 0) return false;
  buf->append(tmp, static_cast<std::size_t>(n));
  return true;
}

void WriteAll(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

HttpReceiver::HttpReceiver(int status, int port)
    : status_(status), server_(std::make_unique<LoopbackServer>(port, [this](int fd) { Handle(fd); })) {}

HttpReceiver::~HttpReceiver() = default;

std::string HttpReceiver::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port()) + path;
}

void HttpReceiver::set_status(int status) {
  std::lock_guard<std::mutex> lock(mu_);
  status_ = status;
}

std::vector<HttpRecord> HttpReceiver::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::vector<HttpRecord> HttpReceiver::RequestsTo(const std::string& prefix) const {
  std::vector<HttpRecord> out;
  for (HttpRecord& r : requests()) {
    if (r.path.rfind(prefix, 0) == 0) out.push_back(std::move(r));
  }
  return out;
}

void HttpReceiver::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.clear();
}

void HttpReceiver::Handle(int fd) {
  std::string buf;
  std::size_t head_end;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (!ReadMore(fd, &buf)) return;
  }
  HttpRecord r;
  std::string head = buf.substr(0, head_end);
  std::size_t line_end = head.find("\r\n");
  std::string request_line = head.substr(0, line_end);
  std::size_t sp1 = request_line.find(' ');
  std::size_t sp2 = request_line.find(' ', sp1 + 1);
  r.method = request_line.substr(0, sp1);
  r.path = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    std::size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string line = head.substr(pos, e - pos);
    std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[Lower(line.substr(0, colon))] = value;
    }
    pos = e + 2;
  }
  if (Lower(r.Header("expect")) == "100-continue") WriteAll(fd, "HTTP/1.1 100 Continue\r\n\r\n");
  std::size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
  std::string body = buf.substr(head_end + 4);
  while (body.size() < length) {
    if (!ReadMore(fd, &body)) break;
  }
  r.body = body.substr(0, length);
  int status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    status = status_;
    requests_.push_back(r);
  }
  std::string reply = "HTTP/1.1 " + std::to_string(status) + (status < 300 ? " OK" : " Error") +
                      "\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  WriteAll(fd, reply);
}

}  // namespace atlas::testing
