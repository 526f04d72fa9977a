// STRATEGY:
// 1. Fork a child that arms a crash point and runs code that passes it.
// 2. In the parent, check the child's exit status (137) and its stderr line.
// 3. For WriteFileAtomic, check the on-disk state the crash leaves matches
//    the invariant stated beside the point (old file intact, stray temp).
#include "core/crash_point.h"

#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "atlas/env.h"

#include "support/test_util.h"

namespace atlas {
namespace {

using testing::TempDir;

struct ChildResult {
  int exit_status = -1;
  std::string stderr_text;
  pid_t pid = -1;
};

// Runs `body` in a forked child with stderr captured; the child exits 0 if
// the body returns.
template <typename F>
ChildResult RunInChild(F body) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    ::dup2(fds[1], STDERR_FILENO);
    body();
    ::_exit(0);
  }
  ::close(fds[1]);
  ChildResult r;
  r.pid = pid;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
    r.stderr_text.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  if (WIFEXITED(status))
    r.exit_status = WEXITSTATUS(status);
  return r;
}

TEST_CASE("crash_point: the armed point exits 137 and says so while others pass",
          "[crash_point][fault]") {
  if (!TestHooksEnabled()) {
    WARN("built without ATLAS_TEST_HOOKS: crash points are compiled out");
    return;
  }
  const ChildResult r = RunInChild([] {
    SetCrashPoint("test.second");
    ATLAS_CRASH_POINT("test.first");
    ATLAS_CRASH_POINT("test.second");
    ::_exit(0);  // not reached
  });
  CHECK(r.exit_status == 137);
  CHECK(r.stderr_text == "atlas-scrub: crash point test.second reached\n");

  const ChildResult unarmed = RunInChild([] {
    SetCrashPoint("");
    ATLAS_CRASH_POINT("test.first");
  });
  CHECK(unarmed.exit_status == 0);
  CHECK(unarmed.stderr_text.empty());
}

TEST_CASE("crash_point: points reached are recorded in order, once each", "[crash_point][fault]") {
  internal::ClearCrashPointsReached();
  ATLAS_CRASH_POINT("test.a");
  ATLAS_CRASH_POINT("test.b");
  ATLAS_CRASH_POINT("test.a");
  const std::vector<std::string> want = TestHooksEnabled()
                                            ? std::vector<std::string>{"test.a", "test.b"}
                                            : std::vector<std::string>{};
  CHECK(internal::CrashPointsReached() == want);
  internal::ClearCrashPointsReached();
  CHECK(internal::CrashPointsReached().empty());
}

TEST_CASE("crash_point: a crash before WriteFileAtomic's rename keeps the old file",
          "[crash_point][fault]") {
  if (!TestHooksEnabled()) {
    WARN("built without ATLAS_TEST_HOOKS: crash points are compiled out");
    return;
  }
  TempDir dir;
  const std::filesystem::path p = dir / "manifest.idx";
  REQUIRE_OK(WriteFileAtomic(FileSystem::Default(), p, "old"));

  internal::ClearCrashPointsReached();
  REQUIRE_OK(WriteFileAtomic(FileSystem::Default(), p, "newer"));
  CHECK(internal::CrashPointsReached() ==
        std::vector<std::string>{"io.atomic_write_before_rename", "io.atomic_write_after_rename"});

  const ChildResult r = RunInChild([&] {
    SetCrashPoint("io.atomic_write_before_rename");
    WriteFileAtomic(FileSystem::Default(), p, "newest").IgnoreError();
  });
  CHECK(r.exit_status == 137);
  // Invariant: the old contents are intact; the synced temp file is left.
  CHECK(*FileSystem::Default()->ReadFile(p) == "newer");
  const std::filesystem::path tmp = p.native() + ".tmp." + std::to_string(r.pid);
  CHECK(*FileSystem::Default()->ReadFile(tmp) == "newest");

  const ChildResult after = RunInChild([&] {
    SetCrashPoint("io.atomic_write_after_rename");
    WriteFileAtomic(FileSystem::Default(), p, "final").IgnoreError();
  });
  CHECK(after.exit_status == 137);
  CHECK(*FileSystem::Default()->ReadFile(p) == "final");
}

}  // namespace
}  // namespace atlas
