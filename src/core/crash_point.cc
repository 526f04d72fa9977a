// Crash points: see crash_point.h. A mutex guards the armed name and the list
// of points reached; crash points sit at coarse steps (per transaction, per
// file), so the lock costs nothing measurable and exists only in test builds.
#include "core/crash_point.h"

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>

#include <unistd.h>

namespace atlas {
namespace internal {
namespace {

struct CrashState {
  std::mutex mu;
  std::string armed;                 // REQUIRES: mu held; empty = none
  std::vector<std::string> reached;  // REQUIRES: mu held
};

CrashState& State() {
  // Never destroyed: a crash point may be reached from a static destructor.
  static CrashState* const state = new CrashState();
  return *state;
}

#if defined(ATLAS_TEST_HOOKS)
void WriteAll(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n <= 0)
      return;  // nothing sensible to do: we are about to exit anyway
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}
#endif

}  // namespace

void CrashPoint(std::string_view name) {
#if defined(ATLAS_TEST_HOOKS)
  CrashState& st = State();
  std::lock_guard<std::mutex> lock(st.mu);
  if (std::find(st.reached.begin(), st.reached.end(), name) == st.reached.end()) {
    st.reached.emplace_back(name);
  }
  if (!st.armed.empty() && name == st.armed) {
    std::string msg = "atlas-scrub: crash point ";
    msg.append(name);
    msg += " reached\n";
    WriteAll(STDERR_FILENO, msg);
    ::_exit(137);
  }
#else
  static_cast<void>(name);
#endif
}

std::vector<std::string> CrashPointsReached() {
  CrashState& st = State();
  std::lock_guard<std::mutex> lock(st.mu);
  return st.reached;
}

void ClearCrashPointsReached() {
  CrashState& st = State();
  std::lock_guard<std::mutex> lock(st.mu);
  st.reached.clear();
}

void ArmCrashPoint(std::string name) {
#if defined(ATLAS_TEST_HOOKS)
  CrashState& st = State();
  std::lock_guard<std::mutex> lock(st.mu);
  st.armed = std::move(name);
#else
  static_cast<void>(name);
#endif
}

}  // namespace internal
}  // namespace atlas
