// The test hooks of atlas/env.h. Crash points belong to core
// (core/crash_point.h), which every module may use and which depends on
// nothing; the seam's public header only offers the switch, so the arrow
// points from io to core and never back.
#include <string>
#include <utility>

#include "atlas/env.h"
#include "core/crash_point.h"

namespace atlas {

void SetCrashPoint(std::string name) { internal::ArmCrashPoint(std::move(name)); }

bool TestHooksEnabled() {
#if defined(ATLAS_TEST_HOOKS)
  return true;
#else
  return false;
#endif
}

}  // namespace atlas
