// Named crash points for crash-consistency tests (RocksDB kill points,
// SnapRAID --test-kill-*).
//
//   ATLAS_CRASH_POINT("fix.after_fsync_before_rename");
//
// With ATLAS_TEST_HOOKS defined (every test preset), reaching the point whose
// name was armed with ArmCrashPoint (public as SetCrashPoint in atlas/env.h,
// which forwards here from src/io/test_hooks.cc) writes
// "atlas-scrub: crash point <name> reached" to stderr and _exit(137)s, as if
// SIGKILLed: no destructors, no flushing, no atexit handlers. Without test
// hooks the macro compiles to nothing.
//
// Names are "<module>.<step>" and every point is listed in docs/DESIGN.md.
// Place a point where a crash would leave a distinct on-disk state, and state
// the invariant that makes the state recoverable in a comment beside it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace atlas::internal {

// Records `name` as reached and exits the process with status 137 if it is
// the armed crash point. Thread-safe. Use the macro, not this function.
void CrashPoint(std::string_view name);

// Arms the crash point called `name` ("" disarms). Thread-safe. Does
// nothing without test hooks.
void ArmCrashPoint(std::string name);

// The distinct crash points reached since the process started or since the
// last ClearCrashPointsReached(), in the order first reached. Lets a test
// check that an operation passes through the points it means to kill at.
// Always empty without test hooks.
std::vector<std::string> CrashPointsReached();
void ClearCrashPointsReached();

}  // namespace atlas::internal

#if defined(ATLAS_TEST_HOOKS)
#define ATLAS_CRASH_POINT(name) ::atlas::internal::CrashPoint(name)
#else
#define ATLAS_CRASH_POINT(name) static_cast<void>(0)
#endif
