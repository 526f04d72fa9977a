// STRATEGY: real programs (sh, cat, sleep) through RunProcess: what a helper
// program prints and says comes back, its input arrives whole, and neither
// a hang nor an early exit hangs or kills the caller.
#include <csignal>
#include <string>

#include "io/process.h"
#include "support/test_util.h"

namespace atlas {
namespace {

TEST_CASE("process: output, stderr tail and exit status come back", "[process][unit][issue-16]") {
  ProcessOptions o;
  o.keep_stderr = 5;
  ProcessResult r = RunProcess({"sh", "-c", "echo out; echo 0123456789 >&2; exit 3"}, o);
  CHECK(r.started);
  CHECK(r.out == "out\n");
  CHECK(r.err == "6789\n");
  CHECK(r.exit_status == 3);
  CHECK(r.Describe() == "exit status 3");
  ProcessResult missing = RunProcess({"/no/such/program"});
  CHECK_FALSE(missing.started);
  CHECK(missing.error == "cannot run /no/such/program: No such file or directory");
  CHECK(missing.Describe() == missing.error);
}

TEST_CASE("process: the input arrives whole, and a program that reads none of it is no error",
          "[process][unit][issue-16]") {
  const std::string input(3 << 20, 'x');  // larger than a pipe's buffer
  ProcessOptions o;
  o.input = input;
  ProcessResult r = RunProcess({"cat"}, o);
  CHECK(r.out == input);
  CHECK(r.exit_status == 0);
  // `true` exits at once: the writes fail with EPIPE, and no SIGPIPE ends
  // this process (the test would die here).
  ProcessResult early = RunProcess({"true"}, o);
  CHECK(early.exit_status == 0);
}

TEST_CASE("process: a program that hangs is killed at the deadline, with what it started",
          "[process][unit][issue-16]") {
  ProcessOptions o;
  o.timeout = std::chrono::milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  ProcessResult r = RunProcess({"sh", "-c", "sleep 30 & sleep 30"}, o);
  CHECK(r.timed_out);
  CHECK(r.Describe() == "timed out");
  // One that closes its output and goes on: killed at the deadline too.
  ProcessResult quiet = RunProcess({"sh", "-c", "exec >&- 2>&-; sleep 30"}, o);
  CHECK(quiet.timed_out);
  // A stop request ends it at once, as the run's stop does.
  std::stop_source stop;
  ProcessOptions stoppable;
  stoppable.stop = stop.get_token();
  stop.request_stop();
  ProcessResult stopped = RunProcess({"sleep", "30"}, stoppable);
  CHECK(stopped.cancelled);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
  // Too much output: killed.
  ProcessOptions small;
  small.max_output = 1000;
  ProcessResult loud = RunProcess({"sh", "-c", "yes"}, small);
  CHECK(loud.overflow);
}

}  // namespace
}  // namespace atlas
