#include <cerrno>

#include "atlas/finding.h"
#include "atlas/status.h"
#include "support/test_util.h"

namespace atlas {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd");
  return x / 2;
}

Status Quarter(int x, int* out) {
  ATLAS_ASSIGN_OR_RETURN(int h, Half(x));
  ATLAS_ASSIGN_OR_RETURN(*out, Half(h));
  return Status::Ok();
}

TEST_CASE("status: errno maps to codes and keeps the errno and context", "[status][unit]") {
  Status s = Status::FromErrno(ENOSPC, "write /p/atlas.parity @ 4096");
  CHECK(s.code() == Code::kNoSpace);
  CHECK(s.sys_errno() == ENOSPC);
  CHECK(s.WithContext("sync").ToString() ==
        "sync: write /p/atlas.parity @ 4096: No space left on device");
  CHECK(Status::FromErrno(ENOENT, "open x").code() == Code::kNotFound);
  CHECK(Status::FromErrno(EIO, "read x").code() == Code::kIOError);
  CHECK(Status().ok());
  CHECK(Status().WithContext("outer").ok());
}

TEST_CASE("status: ASSIGN_OR_RETURN propagates the first error", "[status][unit]") {
  int out = 0;
  REQUIRE_OK(Quarter(8, &out));
  CHECK(out == 2);
  Status s = Quarter(6, &out);
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(Result<int>(Status()).status().code() == Code::kInternal);
}

TEST_CASE("finding: kinds round-trip and carry SPEC severities", "[finding][unit]") {
  CHECK(KindName(FindingKind::kSilentCorruption) == "silent_corruption");
  CHECK(ParseKind("mass_delete") == FindingKind::kMassDelete);
  CHECK_FALSE(ParseKind("nope").has_value());
  CHECK(DefaultSeverity(FindingKind::kSharedFilesystem) == Severity::kInfo);
  CHECK(DefaultSeverity(FindingKind::kUnsynced) == Severity::kWarning);
  std::vector<Finding> fs = {MakeFinding(FindingKind::kAdded, "d1", "a", "")};
  CHECK(HealthOf(fs) == 0);
  fs.push_back(MakeFinding(FindingKind::kMissingDisk, "d2", "", ""));
  CHECK(HealthName(HealthOf(fs)) == "critical");
}

}  // namespace
}  // namespace atlas
