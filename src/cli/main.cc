// atlas-scrub: entry point. Installs signal handling, then hands argv to the
// command table (cli/commands.cc).
//
// Interrupts: SIGINT and SIGTERM are blocked in every thread and taken by a
// watcher thread with sigtimedwait. The first one requests a stop: long runs
// finish the batch in hand, commit, and exit cleanly (the next run resumes).
// A second SIGINT (Ctrl-C) aborts at once (exit 130); the manifest is
// crash-consistent. Further SIGTERMs are ignored.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <stop_token>
#include <thread>

#include "atlas/env.h"
#include "cli/cli.h"

namespace {

void WatchSignals(std::stop_token self, std::stop_source* run_stop, sigset_t set) {
  const timespec tick{0, 200'000'000};
  while (!self.stop_requested()) {
    int sig = sigtimedwait(&set, nullptr, &tick);
    if (sig <= 0 || sig == SIGUSR1) continue;  // SIGUSR1: main is done, check the stop token
    // A second Ctrl-C aborts. A repeated SIGTERM does not: timeout(1) and
    // process-group kills deliver it twice, and a service manager escalates
    // to SIGKILL on its own.
    if (run_stop->stop_requested() && sig == SIGINT) {
      static const char kMsg[] = "\natlas-scrub: aborted\n";
      (void)!write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
      _exit(130);
    }
    static const char kMsg[] =
        "\natlas-scrub: stopping after the batch in hand (again to abort)\n";
    (void)!write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
    run_stop->request_stop();
  }
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);  // wakes the watcher at exit
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by every thread

  // Test hook: exit at a named crash point (a no-op unless built with
  // ATLAS_TEST_HOOKS; docs/DESIGN.md lists the points).
  if (const char* point = std::getenv("ATLAS_SCRUB_CRASH_AT"); point != nullptr && *point != '\0') {
    atlas::SetCrashPoint(point);
  }
  std::stop_source run_stop;
  std::jthread watcher(WatchSignals, &run_stop, set);
  int code = atlas::cli::RunCli(argc, argv, run_stop.get_token());
  watcher.request_stop();
  pthread_kill(watcher.native_handle(), SIGUSR1);
  return code;
}
