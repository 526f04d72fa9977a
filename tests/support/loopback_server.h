// A TCP server on 127.0.0.1 for the alert tests' receivers: listens, and
// on its own thread accepts one connection at a time and hands it to
// `handle`, until destroyed.
#pragma once

#include <functional>
#include <thread>

namespace atlas::testing {

class LoopbackServer {
 public:
  // Listens on `port`, or on an ephemeral one when 0. `handle` runs on the
  // server's thread with each accepted connection, which is closed after.
  LoopbackServer(int port, std::function<void(int fd)> handle);
  // Stops accepting and joins the thread (after the connection in hand).
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  int port() const { return port_; }

 private:
  void Serve();

  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::function<void(int fd)> handle_;
  std::thread thread_;
};

// A TCP port on 127.0.0.1 where nothing listens (bound, then closed).
int UnusedPort();

}  // namespace atlas::testing
