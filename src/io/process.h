// Running a helper program (smartctl, hdparm, sdparm, an outside host's
// command): fork/exec with an argv, never a shell, with a deadline.
//
// The child gets its own process group, so a deadline kills everything it
// started (an ssh and its children), first with SIGTERM, then, after a
// second, SIGKILL. Its standard input is `input` (or /dev/null), its
// standard output is collected up to `max_output` bytes, and its standard
// error is kept to the last `keep_stderr` bytes (or discarded). A child
// that exits before reading all its input is no error: EPIPE ends the
// input, and the SIGPIPE it raises is blocked and taken back, so it never
// reaches this process. A child still running at the deadline after closing
// its output is killed too.
//
// Thread-safety: each call is independent; calls may run at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace atlas {

struct ProcessOptions {
  std::string input;                          // written to its stdin, then closed
  std::chrono::milliseconds timeout{60'000};  // 0: none
  std::size_t max_output = 64u << 20;         // stdout beyond this: killed, `overflow`
  std::size_t keep_stderr = 0;                // 0: stderr to /dev/null
};

struct ProcessResult {
  bool started = false;    // false: fork or pipe failed (`error` says why)
  int exit_status = -1;    // the exit code; -1 when killed by a signal
  int signal = 0;          // the signal that ended it, if any
  bool timed_out = false;  // killed at the deadline
  bool overflow = false;   // killed for printing more than max_output
  std::string out;
  std::string err;         // the tail of its stderr (keep_stderr)
  std::string error;       // why it did not start
  // "exit status 3", "killed by signal 9", "timed out after 10 s", ...
  std::string Describe() const;
};

// Runs argv[0], looked up on PATH when it has no '/'. An argv[0] that
// cannot be executed exits with status 127 (as a shell would say).
ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});

}  // namespace atlas
