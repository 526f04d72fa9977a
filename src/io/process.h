// Running a helper program: smartctl, hdparm and sdparm for the disks, an
// [[outside.hosts]] command for `outside`. An argv, never a shell; bytes on
// its standard input; its output collected; a deadline.
//
// The program gets a process group of its own, so that a deadline, too much
// output or a stop reaches what it started too (ssh's children, a shell's
// pipeline): SIGTERM to the group, SIGKILL after a grace period. A program
// that exits before reading all its input is not an error here: EPIPE ends
// the input, and the SIGPIPE it raises never reaches this process.
//
// Thread-safe: each call is independent; calls may run at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace atlas {

struct ProcessOptions {
  std::string_view input;                     // written to its stdin, then closed; must outlive the call
  std::chrono::milliseconds timeout{60'000};  // from the start; then SIGTERM to its group
  std::chrono::milliseconds kill_grace{1'000};  // after SIGTERM, SIGKILL
  std::size_t max_output = 64u << 20;         // more standard output than this: killed, `overflow`
  std::size_t keep_stderr = 4096;             // the last bytes of standard error kept
  // "NAME=value", the whole environment of the program; nullopt: this
  // process's environment.
  std::optional<std::vector<std::string>> environment;
  std::stop_token stop;                       // a stop request ends it as a timeout would
};

struct ProcessResult {
  bool started = false;     // false: `error` says why (pipe, fork, exec)
  std::string error;
  bool timed_out = false;
  bool overflow = false;    // killed for printing more than max_output
  bool cancelled = false;   // ProcessOptions::stop was requested
  bool input_refused = false;  // it closed its standard input before reading all of it
  int exit_status = -1;     // WEXITSTATUS, or -1 when killed by a signal
  int signal = 0;           // the signal that ended it, or 0
  std::string out;          // standard output (at most max_output bytes)
  std::string err;          // the last keep_stderr bytes of standard error
  // "exit status 3", "killed by signal 9", "timed out", or why it did not start.
  std::string Describe() const;
};

// Runs argv[0], looked up on PATH (of `environment` when given) when it has
// no '/'. Returns once the program is reaped; then its group is sent
// SIGKILL, so that nothing it started keeps running.
ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});

}  // namespace atlas
