#include "io/process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace atlas {
namespace {

std::int64_t NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// Writes to a pipe whose reader may be gone without this process getting
// SIGPIPE: the signal is blocked in this thread for the write, and one it
// raised is taken off the pending set.
ssize_t WriteNoSigpipe(int fd, const char* data, std::size_t n) {
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigset_t pending;
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  ssize_t w = write(fd, data, n);
  const int saved = errno;
  if (w < 0 && errno == EPIPE && !was_pending) {
    timespec zero{};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = saved;
  return w;
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// The child's side, between fork and exec: only async-signal-safe calls.
[[noreturn]] void Child(char* const* args, int in_fd, int out_fd, int err_fd) {
  setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  int devnull = open("/dev/null", O_RDWR);
  dup2(in_fd >= 0 ? in_fd : devnull, STDIN_FILENO);
  dup2(out_fd, STDOUT_FILENO);
  dup2(err_fd >= 0 ? err_fd : devnull, STDERR_FILENO);
  execvp(args[0], args);
  _exit(127);
}

struct Pipes {
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  void CloseAll() {
    for (int* fd : {&in[0], &in[1], &out[0], &out[1], &err[0], &err[1]}) CloseFd(fd);
  }
};

bool MakePipes(const ProcessOptions& options, Pipes* p, std::string* error) {
  auto make = [&](int fds[2]) {
    if (pipe2(fds, O_CLOEXEC) == 0) return true;
    *error = fmt::format("pipe: {}", std::strerror(errno));
    return false;
  };
  if (!make(p->out)) return false;
  if (!options.input.empty() && !make(p->in)) return false;
  if (options.keep_stderr > 0 && !make(p->err)) return false;
  return true;
}

void Kill(pid_t pid, int sig) {
  if (kill(-pid, sig) != 0) kill(pid, sig);
}

// The parent's side: feeds stdin, drains stdout and stderr, and enforces
// the deadline and the output limit. Returns with every descriptor closed.
void Talk(std::int64_t deadline, const ProcessOptions& options, Pipes& p, ProcessResult* r) {
  int in = p.in[1], out = p.out[0], err = p.err[0];
  for (int fd : {in, out, err}) {
    if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  std::size_t written = 0;
  char buf[65536];
  while (out >= 0 || err >= 0) {
    pollfd fds[3];
    nfds_t n = 0;
    if (in >= 0) fds[n++] = {in, POLLOUT, 0};
    if (out >= 0) fds[n++] = {out, POLLIN, 0};
    if (err >= 0) fds[n++] = {err, POLLIN, 0};
    int wait_ms = -1;
    if (deadline >= 0) wait_ms = static_cast<int>(std::max<std::int64_t>(0, deadline - NowMs()));
    int ready = poll(fds, n, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0 || (deadline >= 0 && NowMs() >= deadline)) {
      r->timed_out = true;
      break;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in) {
        ssize_t w = WriteNoSigpipe(in, options.input.data() + written, options.input.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == options.input.size()) CloseFd(&in);
        continue;
      }
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (got <= 0) {
        if (fds[i].fd == out) CloseFd(&out);
        else CloseFd(&err);
        continue;
      }
      if (fds[i].fd == out) {
        r->out.append(buf, static_cast<std::size_t>(got));
      } else {
        r->err.append(buf, static_cast<std::size_t>(got));
        if (r->err.size() > 2 * options.keep_stderr) r->err.erase(0, r->err.size() - options.keep_stderr);
      }
    }
    if (r->out.size() > options.max_output) {
      r->overflow = true;
      break;
    }
  }
  CloseFd(&in);
  CloseFd(&out);
  CloseFd(&err);
  if (r->err.size() > options.keep_stderr) r->err.erase(0, r->err.size() - options.keep_stderr);
}

// Waits for the child. After a timeout or overflow, or when it is still
// running at the deadline (it closed its output but did not exit), kills its
// group: SIGTERM, then SIGKILL a second later.
int Reap(pid_t pid, std::int64_t deadline, ProcessResult* r) {
  int status = 0;
  bool kill_it = r->timed_out || r->overflow;
  while (!kill_it) {
    pid_t w = waitpid(pid, &status, deadline >= 0 ? WNOHANG : 0);
    if (w == pid) return status;
    if (w < 0 && errno != EINTR) return status;
    if (deadline >= 0 && NowMs() >= deadline) {
      r->timed_out = true;
      kill_it = true;
    } else if (deadline >= 0) {
      usleep(10'000);
    }
  }
  Kill(pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      Kill(pid, SIGKILL);  // what it left behind in its group
      return status;
    }
    usleep(10'000);
  }
  Kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace

std::string ProcessResult::Describe() const {
  if (!started) return error;
  if (timed_out) return "timed out";
  if (overflow) return "printed too much";
  if (signal != 0) return fmt::format("killed by signal {}", signal);
  if (exit_status == 127) return "exit status 127 (not found or not executable)";
  return fmt::format("exit status {}", exit_status);
}

ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options) {
  ProcessResult r;
  if (argv.empty()) {
    r.error = "no program to run";
    return r;
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  Pipes p;
  if (!MakePipes(options, &p, &r.error)) {
    p.CloseAll();
    return r;
  }
  pid_t pid = fork();
  if (pid < 0) {
    r.error = fmt::format("fork: {}", std::strerror(errno));
    p.CloseAll();
    return r;
  }
  if (pid == 0) Child(args.data(), p.in[0], p.out[1], p.err[1]);
  setpgid(pid, pid);  // also in the child: whichever runs first
  CloseFd(&p.in[0]);
  CloseFd(&p.out[1]);
  CloseFd(&p.err[1]);
  r.started = true;
  const std::int64_t deadline = options.timeout.count() > 0 ? NowMs() + options.timeout.count() : -1;
  Talk(deadline, options, p, &r);
  const int status = Reap(pid, deadline, &r);
  if (WIFEXITED(status)) {
    r.exit_status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  return r;
}

}  // namespace atlas
