// Running a helper program (io/process.h).
//
// Approach: fork + execvpe with an argv built before the fork (nothing
// allocates in the child), three pipes, and one poll loop in the parent that
// writes the index to the command's stdin while it reads stdout and stderr.
// Writing everything first and reading after would deadlock as soon as the
// command answers before it has read all its input and fills the stdout pipe
// (ssh does: it forwards both directions at once).
//
// The command gets a process group of its own, so that a timeout reaches what
// it started too (ssh's children, a shell's pipeline): SIGTERM to the group,
// SIGKILL after a grace period. A command that exits while something it
// started still holds its stdout open is not waited for beyond
// kDrainAfterExitMs: the group is killed then.
//
// Rejected: posix_spawn, which cannot make the child a group leader on every
// libc we build with (POSIX_SPAWN_SETPGROUP is there, but resetting SIGPIPE
// and the mask needs POSIX_SPAWN_SETSIGDEF/SETSIGMASK as well, and the error
// of a failed exec is reported as exit 127 without the errno); a thread per
// pipe, which needs the same deadline logic three times.
#include "io/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

namespace atlas {
namespace {

using SteadyClock = std::chrono::steady_clock;

// After the command exits, how long its pipes are still read (something it
// started may hold them open).
constexpr std::int64_t kDrainAfterExitMs = 2000;
// The longest a poll sleeps, so that a stop request is seen in time.
constexpr int kPollSliceMs = 100;

std::int64_t MsSince(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t).count();
}

void CloseFd(int* fd) {
  if (*fd >= 0)
    ::close(*fd);
  *fd = -1;
}

struct Pipes {
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  int exec_error[2] = {-1, -1};  // the child writes errno here when exec fails
  ~Pipes() {
    for (int* p : {in, out, err, exec_error}) {
      CloseFd(&p[0]);
      CloseFd(&p[1]);
    }
  }
};

// The child's side, between fork and exec: only async-signal-safe calls.
[[noreturn]] void Child(Pipes& p, char* const* argv, char* const* envp) {
  ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::signal(sig, SIG_DFL);
  ::dup2(p.in[0], STDIN_FILENO);
  ::dup2(p.out[1], STDOUT_FILENO);
  ::dup2(p.err[1], STDERR_FILENO);
  ::execvpe(argv[0], argv, envp);
  const int err = errno;
  ssize_t ignored = ::write(p.exec_error[1], &err, sizeof err);
  (void)ignored;
  ::_exit(127);
}

// What the parent's loop tracks about the running command.
struct Running {
  pid_t pid = -1;
  bool reaped = false;
  int wait_status = 0;
  bool terminating = false;  // SIGTERM sent
  bool killed = false;       // SIGKILL sent
  SteadyClock::time_point start = SteadyClock::now();
  SteadyClock::time_point term_at;
  SteadyClock::time_point reaped_at;

  void Terminate() {
    if (terminating)
      return;
    terminating = true;
    term_at = SteadyClock::now();
    ::kill(-pid, SIGTERM);
  }
  void Kill() {
    if (killed)
      return;
    killed = true;
    ::kill(-pid, SIGKILL);
  }
  void Reap(bool block) {
    if (reaped)
      return;
    int status = 0;
    pid_t w;
    do {
      w = ::waitpid(pid, &status, block ? 0 : WNOHANG);
    } while (w < 0 && errno == EINTR);
    if (w == pid) {
      reaped = true;
      wait_status = status;
      reaped_at = SteadyClock::now();
    }
  }
};

// Reads what is there from `*fd` into `to`; closes it at end of file or on an
// error. Returns the bytes read.
std::size_t Drain(int* fd, std::string* to) {
  char buf[65536];
  ssize_t n = ::read(*fd, buf, sizeof buf);
  if (n > 0) {
    to->append(buf, static_cast<std::size_t>(n));
    return static_cast<std::size_t>(n);
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 0;
  CloseFd(fd);
  return 0;
}

// One round of the loop: deadlines, then a poll of the open pipes.
void PollOnce(const ProcessOptions& o, const std::stop_token& stop, Running& run, int* in, std::size_t* written,
              int* out, int* err, ProcessResult* r) {
  if (!run.terminating && MsSince(run.start) >= o.timeout.count()) {
    r->timed_out = true;
    run.Terminate();
  }
  if (!run.terminating && stop.stop_requested()) {
    r->cancelled = true;
    run.Terminate();
  }
  if (run.terminating && MsSince(run.term_at) >= o.kill_grace.count())
    run.Kill();
  if (run.reaped && MsSince(run.reaped_at) >= kDrainAfterExitMs) {
    run.Kill();
    CloseFd(in);
    CloseFd(out);
    CloseFd(err);
  }
  pollfd fds[3];
  nfds_t n = 0;
  if (*in >= 0)
    fds[n++] = {*in, POLLOUT, 0};
  if (*out >= 0)
    fds[n++] = {*out, POLLIN, 0};
  if (*err >= 0)
    fds[n++] = {*err, POLLIN, 0};
  if (::poll(fds, n, kPollSliceMs) <= 0)
    return;
  for (nfds_t i = 0; i < n; ++i) {
    if (fds[i].revents == 0)
      continue;
    if (fds[i].fd == *in) {
      const std::string_view rest = o.input.substr(*written);
      ssize_t w = ::write(*in, rest.data(), std::min<std::size_t>(rest.size(), 65536));
      if (w > 0) {
        *written += static_cast<std::size_t>(w);
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        r->input_refused = true;  // EPIPE: it closed its stdin
        CloseFd(in);
      }
      if (*in >= 0 && *written == o.input.size())
        CloseFd(in);
    } else if (fds[i].fd == *out) {
      Drain(out, &r->out);
      if (r->out.size() > o.max_output) {
        r->overflow = true;
        r->out.resize(o.max_output);
        run.Terminate();
        CloseFd(out);
      }
    } else {
      Drain(err, &r->err);
      if (r->err.size() > o.keep_stderr)
        r->err.erase(0, r->err.size() - o.keep_stderr);
    }
  }
}

}  // namespace

std::string ProcessResult::Describe() const {
  if (!started) return error;
  if (timed_out) return "timed out";
  if (overflow) return "printed too much";
  if (cancelled) return "stopped";
  if (signal != 0) return fmt::format("killed by signal {}", signal);
  return fmt::format("exit status {}", exit_status);
}

ProcessResult RunProcess(const std::vector<std::string>& args, const ProcessOptions& o) {
  ProcessResult r;
  if (args.empty()) {
    r.error = "no program to run";
    return r;
  }
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (o.environment) {
    for (const std::string& e : *o.environment) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }
  const std::stop_token stop = o.stop;

  Pipes p;
  for (int* fds : {p.in, p.out, p.err, p.exec_error}) {
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      r.error = fmt::format("pipe: {}", std::strerror(errno));
      return r;
    }
  }
  Running run;
  run.pid = ::fork();
  if (run.pid < 0) {
    r.error = fmt::format("fork: {}", std::strerror(errno));
    return r;
  }
  if (run.pid == 0)
    Child(p, argv.data(), o.environment ? envp.data() : environ);
  ::setpgid(run.pid, run.pid);  // also here: no window where a kill(-pid) misses it
  CloseFd(&p.in[0]);
  CloseFd(&p.out[1]);
  CloseFd(&p.err[1]);
  CloseFd(&p.exec_error[1]);
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(p.exec_error[0], &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    run.Reap(/*block=*/true);
    r.error = fmt::format("cannot run {}: {}", args[0], std::strerror(exec_errno));
    return r;
  }
  r.started = true;
  for (int fd : {p.in[1], p.out[0], p.err[0]}) ::fcntl(fd, F_SETFL, O_NONBLOCK);

  // A write to a command that closed its stdin raises SIGPIPE on this
  // thread: blocked here, and any pending one taken before it is unblocked,
  // so EPIPE is all the loop sees whatever the process does with SIGPIPE.
  sigset_t pipe_set, old_mask;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
  std::size_t written = 0;
  if (o.input.empty())
    CloseFd(&p.in[1]);
  while (!run.reaped || p.in[1] >= 0 || p.out[0] >= 0 || p.err[0] >= 0) {
    PollOnce(o, stop, run, &p.in[1], &written, &p.out[0], &p.err[0], &r);
    run.Reap(/*block=*/false);
  }
  if (!sigismember(&old_mask, SIGPIPE)) {
    const timespec zero{};
    while (::sigtimedwait(&pipe_set, nullptr, &zero) == SIGPIPE) {
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  // Whatever it started dies with it.
  ::kill(-run.pid, SIGKILL);
  if (WIFEXITED(run.wait_status)) {
    r.exit_status = WEXITSTATUS(run.wait_status);
  } else if (WIFSIGNALED(run.wait_status)) {
    r.signal = WTERMSIG(run.wait_status);
  }
  return r;
}

}  // namespace atlas
