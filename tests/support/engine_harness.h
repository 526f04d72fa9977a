// The engine in process, for the fault tests: a TempArray's config loaded
// once, a FakeClock, and one call per command (sync, diff, status, scrub,
// check, fix), each through the FileSystem the test passes: a
// FaultFileSystem, or by default FileSystem::Default().
//
//   TempArray a(3, 2);
//   a.Write(1, "Movies/a.mkv", 5 * 65536, 1);
//   EngineHarness h(a);
//   h.Sync();                                   // REQUIREs success
//   FaultFileSystem faulty;
//   faulty.Inject({...});
//   VerifyReport r = h.Scrub(&faulty);          // a full scrub through the faults
//   FixReport failed;
//   Status s = h.TryFix(&faulty, &failed);      // a run that may fail
//   REQUIRE_ARRAY_CLEAN(h);
#pragma once

#include <cstddef>
#include <stop_token>
#include <string>
#include <vector>

#include "atlas/config.h"
#include "atlas/engine.h"
#include "atlas/env.h"
#include "atlas/finding.h"
#include "atlas/report.h"

#include "support/fake_clock.h"
#include "support/temp_array.h"
#include "support/test_util.h"

// REQUIRE that the array of `harness` (an EngineHarness) is clean, as a user
// would see it after a complete sync or fix; on failure the message lists
// every problem ArrayProblems found. A macro, so that Catch reports the
// caller's line.
#define REQUIRE_ARRAY_CLEAN(harness) REQUIRE(::atlas::testing::ArrayProblems(harness) == "")

namespace atlas::testing {

class EngineHarness {
 public:
  // Loads `array`'s config (REQUIREs that it parses). `array` must outlive
  // the harness. The clock starts at the real time and moves only when the
  // test advances it.
  explicit EngineHarness(TempArray& array);
  EngineHarness(const EngineHarness&) = delete;
  EngineHarness& operator=(const EngineHarness&) = delete;

  TempArray& array() const { return array_; }
  const Config& config() const { return config_; }
  FakeClock& clock() { return clock_; }

  // What every call below runs with: the config, `fs`, the clock, no
  // progress output, and `stop`.
  RunContext Ctx(FileSystem* fs = FileSystem::Default(), std::stop_token stop = {});

  // Each of these REQUIREs that the run succeeds (printing its Status if
  // not) and returns its report.
  SyncReport Sync(FileSystem* fs = FileSystem::Default(),
                  const SyncOptions& options = SyncOptions());
  DiffReport Diff(FileSystem* fs = FileSystem::Default());
  StatusReport GetStatus(FileSystem* fs = FileSystem::Default(),
                         const StatusOptions& options = StatusOptions());
  StatusReport GetStatus(const StatusOptions& options) {
    return GetStatus(FileSystem::Default(), options);
  }
  // A scrub with --plan full unless `options` say otherwise.
  VerifyReport Scrub(FileSystem* fs = FileSystem::Default());
  VerifyReport Scrub(FileSystem* fs, const ScrubOptions& options);
  VerifyReport Scrub(const ScrubOptions& options) { return Scrub(FileSystem::Default(), options); }
  VerifyReport Check(FileSystem* fs = FileSystem::Default(),
                     const CheckOptions& options = CheckOptions());
  FixReport Fix(FileSystem* fs = FileSystem::Default(), const FixOptions& options = FixOptions());
  FixReport Fix(const FixOptions& options) { return Fix(FileSystem::Default(), options); }

  // The same runs for a test that expects one to fail: the engine's Status,
  // with `report` filled as the engine leaves it.
  Status TrySync(FileSystem* fs, SyncReport* report, const SyncOptions& options = SyncOptions(),
                 std::stop_token stop = {});
  Status TryFix(FileSystem* fs, FixReport* report, const FixOptions& options = FixOptions());

 private:
  TempArray& array_;
  Config config_;
  FakeClock clock_;
};

// "" when the array of `h` is clean, else one line per problem:
//   - VerifyArray (support/verify_array.h) counts a block whose data no
//     longer matches its checksum, a parity byte that differs from an
//     independent recomputation, a parity checksum record that would hide a
//     bad parity block, a coverage summary that differs from a recount, or
//     a position left dirty;
//   - `check` (every position, read-only) reports a finding or a position
//     it could not verify;
//   - `diff` reports drift, a guard problem or an unsynced position (not
//     shared_filesystem: every disk of a TempArray is on one filesystem);
//   - `status` (with a full drift walk) is not ok, or shows a finding of
//     warning or above.
// Reads only; uses FileSystem::Default().
std::string ArrayProblems(EngineHarness& h);

// How many of `findings` are of `kind`; the first one of `kind`, or null.
std::size_t CountFindings(const std::vector<Finding>& findings, FindingKind kind);
const Finding* FindFinding(const std::vector<Finding>& findings, FindingKind kind);

}  // namespace atlas::testing
