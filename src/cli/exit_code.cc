#include "cli/cli.h"

namespace atlas::cli {

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case Code::kOk:
      return kExitOk;
    case Code::kInvalidArgument:
      return kExitUsage;
    case Code::kNotFound:
    case Code::kCorruption:
    case Code::kIOError:
    case Code::kNoSpace:
    case Code::kFailedPrecondition:
    case Code::kBusy:
    case Code::kCancelled:
    case Code::kInternal:
      return kExitFailed;
  }
  return kExitFailed;
}

int ExitCodeForFindings(const std::vector<Finding>& findings) {
  for (const Finding& f : findings) {
    if (f.severity >= Severity::kWarning) return kExitAttention;
  }
  return kExitOk;
}

}  // namespace atlas::cli
