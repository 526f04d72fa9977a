// Runs one [[outside.hosts]] command: an argv without a shell, with bytes on
// its standard input, its output collected, under a deadline.
#pragma once

#include <cstdint>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace atlas {

struct HostCommandOptions {
  std::vector<std::string> argv;         // argv[0] looked up in PATH of `environment`
  std::vector<std::string> environment;  // "NAME=value", the whole environment of the command
  std::string_view input;                // written to its standard input, which is then closed
  std::int64_t timeout_ms = 0;           // from the start; then SIGTERM to its process group
  std::int64_t kill_grace_ms = 5000;     // after SIGTERM, SIGKILL
  std::size_t max_output = 256u << 20;   // more standard output than this: killed, refused
  std::size_t stderr_tail = 4096;        // the last bytes of standard error kept
};

struct HostCommandResult {
  bool started = false;
  std::string start_error;  // why it did not start (fork, pipe, exec)
  bool timed_out = false;
  bool output_too_large = false;
  bool cancelled = false;   // `stop` was requested
  int exit_status = -1;     // WEXITSTATUS, or -1 when killed by a signal
  int signal = 0;           // the signal that ended it, or 0
  std::string out;          // standard output (at most max_output bytes)
  std::string err_tail;     // the last stderr_tail bytes of standard error
  bool input_refused = false;  // it closed its standard input before reading all of it
};

// Runs the command in a process group of its own, with SIGPIPE and the signal
// mask reset, writing `input` and reading both outputs in one poll loop (no
// deadlock whatever the command reads or writes first). On the deadline, on
// too much output or on `stop`, the whole group gets SIGTERM, then SIGKILL
// after kill_grace_ms; the call returns once the command is reaped, and its
// group is sent SIGKILL then so that nothing it started keeps running. A
// command that exits before reading all its input is not an error here
// (EPIPE is handled without SIGPIPE, even when the caller has not ignored it).
// Thread-safe: each call is independent.
HostCommandResult RunHostCommand(const HostCommandOptions& options, std::stop_token stop);

}  // namespace atlas
