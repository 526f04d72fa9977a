// A real HTTP/1.1 server on 127.0.0.1 (an ephemeral port) that records every
// request, for alert tests: webhooks and healthcheck pings are sent to it by
// the real binary. One connection at a time, one request per connection
// (it answers "Connection: close"). Bodies by Content-Length; answers
// "100 Continue" to "Expect: 100-continue".
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "support/loopback_server.h"

namespace atlas::testing {

struct HttpRecord {
  std::string method;
  std::string path;  // with the query
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpReceiver {
 public:
  // Answers every request with `status` (change it with set_status).
  // Listens on `port`, or on an ephemeral one when 0.
  explicit HttpReceiver(int status = 200, int port = 0);
  ~HttpReceiver();
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  int port() const { return server_->port(); }
  // "http://127.0.0.1:PORT" + path.
  std::string Url(const std::string& path) const;
  void set_status(int status);
  std::vector<HttpRecord> requests() const;
  // Requests whose path starts with `prefix`.
  std::vector<HttpRecord> RequestsTo(const std::string& prefix) const;
  void Clear();

 private:
  void Handle(int fd);

  mutable std::mutex mu_;
  int status_;
  std::vector<HttpRecord> requests_;
  std::unique_ptr<LoopbackServer> server_;  // last: its thread stops before the rest goes
};

}  // namespace atlas::testing
