#include "support/engine_harness.h"

#include <algorithm>

#include "support/verify_array.h"

namespace atlas::testing {
namespace {

// One line for a finding: kind, disk:path, offset and message.
std::string Describe(const Finding& f) {
  std::string line(KindName(f.kind));
  if (!f.path.empty()) {
    line += " " + f.disk + ":" + DisplayPath(f.path);
  } else if (!f.disk.empty()) {
    line += " " + f.disk;
  }
  if (f.offset)
    line += " at byte " + std::to_string(*f.offset);
  if (!f.message.empty())
    line += ": " + f.message;
  return line;
}

}  // namespace

EngineHarness::EngineHarness(TempArray& array) : array_(array) {
  Result<Config> c = LoadConfig(FileSystem::Default(), array_.config());
  REQUIRE_OK(c.status());
  config_ = std::move(c).value();
}

RunContext EngineHarness::Ctx(FileSystem* fs, std::stop_token stop) {
  return RunContext{&config_, fs, &clock_, NullProgress(), stop};
}

SyncReport EngineHarness::Sync(FileSystem* fs, const SyncOptions& options) {
  SyncReport r;
  REQUIRE_OK(RunSync(Ctx(fs), options, &r));
  return r;
}

DiffReport EngineHarness::Diff(FileSystem* fs) {
  DiffReport r;
  REQUIRE_OK(RunDiff(Ctx(fs), DiffOptions(), &r));
  return r;
}

StatusReport EngineHarness::GetStatus(FileSystem* fs, const StatusOptions& options) {
  StatusReport r;
  REQUIRE_OK(BuildStatus(Ctx(fs), options, &r));
  return r;
}

VerifyReport EngineHarness::Scrub(FileSystem* fs) {
  return Scrub(fs, {.plan = ScrubPlan::kFull});
}

VerifyReport EngineHarness::Scrub(FileSystem* fs, const ScrubOptions& options) {
  VerifyReport r;
  REQUIRE_OK(RunScrub(Ctx(fs), options, &r));
  return r;
}

VerifyReport EngineHarness::Check(FileSystem* fs, const CheckOptions& options) {
  VerifyReport r;
  REQUIRE_OK(RunCheck(Ctx(fs), options, &r));
  return r;
}

FixReport EngineHarness::Fix(FileSystem* fs, const FixOptions& options) {
  FixReport r;
  REQUIRE_OK(RunFix(Ctx(fs), options, &r));
  return r;
}

Status EngineHarness::TrySync(FileSystem* fs, SyncReport* report, const SyncOptions& options,
                              std::stop_token stop) {
  return RunSync(Ctx(fs, stop), options, report);
}

Status EngineHarness::TryFix(FileSystem* fs, FixReport* report, const FixOptions& options) {
  return RunFix(Ctx(fs), options, report);
}

std::string ArrayProblems(EngineHarness& h) {
  std::string out;
  auto problem = [&](const std::string& line) { out += line + "\n"; };
  auto count = [&](std::uint64_t n, const std::string& what) {
    if (n != 0)
      problem("VerifyArray: " + std::to_string(n) + " " + what);
  };

  const ArrayCheck c = VerifyArray(h.array());
  count(c.bad_blocks, "block(s) whose data does not match the checksum");
  count(c.bad_parity_bytes, "parity byte(s) that differ from the recomputation");
  count(c.false_parity_hashes, "parity checksum record(s) that do not match the parity file");
  count(c.coverage_mismatches, "coverage summary mismatch(es)");
  count(c.dirty_positions, "dirty position(s)");
  if (!out.empty())
    problem("VerifyArray: first problem: " + c.first_problem);

  const VerifyReport check = h.Check();
  for (const Finding& f : check.findings) problem("check: " + Describe(f));
  if (check.positions_bad != 0)
    problem("check: " + std::to_string(check.positions_bad) + " bad position(s)");
  if (check.positions_skipped != 0) {
    problem("check: " + std::to_string(check.positions_skipped) + " position(s) skipped");
  }

  const DiffReport diff = h.Diff();
  for (const Finding& f : diff.findings) {
    if (f.kind != FindingKind::kSharedFilesystem)
      problem("diff: " + Describe(f));
  }
  if (diff.positions_unsynced != 0) {
    problem("diff: " + std::to_string(diff.positions_unsynced) + " unsynced position(s)");
  }

  const StatusReport st = h.GetStatus({.drift = DriftWalk::kFull});
  for (const Finding& f : st.findings) {
    if (f.severity != Severity::kInfo)
      problem("status: " + Describe(f));
  }
  if (st.health != 0)
    problem("status: health is " + std::string(HealthName(st.health)));
  return out;
}

std::size_t CountFindings(const std::vector<Finding>& findings, FindingKind kind) {
  return static_cast<std::size_t>(std::count_if(findings.begin(), findings.end(),
                                                [&](const Finding& f) { return f.kind == kind; }));
}

const Finding* FindFinding(const std::vector<Finding>& findings, FindingKind kind) {
  auto it = std::find_if(findings.begin(), findings.end(),
                         [&](const Finding& f) { return f.kind == kind; });
  return it == findings.end() ? nullptr : &*it;
}

}  // namespace atlas::testing
