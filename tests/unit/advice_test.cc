// The advice table (atlas/advice.h): every finding kind has a row, the
// commands each kind gets, the one sentence of an alert or of the end of
// scrub and check, and shell quoting of what is pasted back.
#include <string>
#include <vector>

#include "atlas/advice.h"
#include "atlas/finding.h"
#include "support/test_util.h"

namespace atlas {
namespace {

TEST_CASE("advice: every finding kind has advice, and every kind needing attention a next step",
          "[advice][unit]") {
  // A new FindingKind without a row in src/core/advice.cc fails here.
  REQUIRE(AllFindingKinds().size() == 25);
  for (FindingKind kind : AllFindingKinds()) {
    INFO(KindName(kind));
    CHECK(HasAdvice(kind));
    Finding f = MakeFinding(kind, "d1", "Movies/x.mkv", "");
    f.from = "d2:Movies/x.mkv";
    const std::vector<std::string> steps = NextSteps(f, "atlas-scrub");
    if (DefaultSeverity(kind) >= Severity::kWarning) {
      CHECK_FALSE(steps.empty());
    } else {
      CHECK(steps.empty());  // info: drift, repairs done, shared filesystems
    }
    CHECK(NextStepSummary({f}, "atlas-scrub").find("`atlas-scrub ") != std::string::npos);
  }
}

TEST_CASE("advice: one sentence for many findings names the most urgent command", "[advice][unit]") {
  const std::string p = "atlas-scrub";
  const Finding corrupt = MakeFinding(FindingKind::kSilentCorruption, "d1", "a", "");
  const Finding missing = MakeFinding(FindingKind::kMissingDisk, "d2", "", "");
  const Finding smart = MakeFinding(FindingKind::kSmartWarning, "d3", "", "");
  const Finding overdue = MakeFinding(FindingKind::kScrubOverdue, "", "", "");
  CHECK(NextStepSummary({overdue, smart, missing, corrupt}, p) ==
        "`atlas-scrub fix --dry-run --errors-only` shows what fix would repair");
  CHECK(NextStepSummary({overdue, smart, missing}, p) ==
        "check that every disk is mounted; `atlas-scrub status` shows which one is missing");
  CHECK(NextStepSummary({overdue, smart}, p) == "`atlas-scrub smart` shows the disk's attributes");
  CHECK(NextStepSummary({overdue}, p) == "`atlas-scrub status` shows the array's health");
  CHECK(NextStepSummary({}, "atlas-scrub -c x.toml") == "`atlas-scrub -c x.toml status` shows the array's health");
  CHECK(DriftNextStep(p) == "atlas-scrub sync");
}

TEST_CASE("advice: shell quoting survives quotes, spaces and glob characters", "[advice][unit]") {
  CHECK(ShellQuote("Movies/a.mkv") == "Movies/a.mkv");
  CHECK(ShellQuote("a b") == "'a b'");
  CHECK(ShellQuote("It's") == "'It'\\''s'");
  CHECK(ShellQuote("") == "''");
  CHECK(ShellQuote("$(rm -rf /)") == "'$(rm -rf /)'");
  CHECK(ShellQuote("a\nb\xff'\\") == "$'a\\x0ab\\xff\\'\\\\'");
  CHECK(ShellQuote("caf\xc3\xa9 d") == "'caf\xc3\xa9 d'");  // printable UTF-8 stays readable
  CHECK(GlobEscape("a*b?[c]\\d") == "a\\*b\\?\\[c]\\\\d");
}

TEST_CASE("advice: each finding kind that needs attention has a next step", "[advice][unit]") {
  const std::string p = "atlas-scrub";
  CHECK(NextSteps(MakeFinding(FindingKind::kSilentCorruption, "d1", "Movies/x y.mkv", ""), p) ==
        std::vector<std::string>{"atlas-scrub fix --dry-run --errors-only --filter 'Movies/x y.mkv'",
                                 "atlas-scrub fix --errors-only --filter 'Movies/x y.mkv'"});
  CHECK(NextSteps(MakeFinding(FindingKind::kReadError, "d2", "", ""), p) ==
        std::vector<std::string>{"atlas-scrub fix --dry-run --errors-only --disk d2",
                                 "atlas-scrub fix --errors-only --disk d2"});
  CHECK(NextSteps(MakeFinding(FindingKind::kParityMismatch, "parity1", "", ""), p)[0] ==
        "atlas-scrub fix --dry-run --errors-only");
  CHECK(NextSteps(MakeFinding(FindingKind::kUnsynced, "", "", ""), p)[0] == "atlas-scrub sync");
  CHECK(NextSteps(MakeFinding(FindingKind::kScrubOverdue, "", "", ""), p)[0] == "atlas-scrub scrub");
  CHECK(NextSteps(MakeFinding(FindingKind::kMassDelete, "", "", ""), p)[0] == "atlas-scrub diff");
  CHECK(NextSteps(MakeFinding(FindingKind::kMassDelete, "", "", ""), p)[1].find("sync --force-delete") !=
        std::string::npos);
  CHECK(NextSteps(MakeFinding(FindingKind::kMassModify, "", "", ""), p) ==
        std::vector<std::string>{"atlas-scrub diff",
                                 "if the changes are intended: atlas-scrub sync --force-modified"});
  CHECK(NextSteps(MakeFinding(FindingKind::kZeroSize, "d1", "a b.mkv", ""), p) ==
        std::vector<std::string>{"atlas-scrub fix --dry-run --disk d1 --filter 'a b.mkv'",
                                 "atlas-scrub fix --disk d1 --filter 'a b.mkv'",
                                 "if it was emptied on purpose: atlas-scrub sync --force-zero"});
  Finding moved = MakeFinding(FindingKind::kMoveMismatch, "d2", "x.mkv", "");
  moved.from = "d1:Movies/x.mkv";
  CHECK(NextSteps(moved, p) ==
        std::vector<std::string>{"atlas-scrub fix --dry-run --disk d1 --filter Movies/x.mkv",
                                 "atlas-scrub fix --disk d1 --filter Movies/x.mkv",
                                 "if the moved copy is the one to keep: atlas-scrub sync --force-move"});
  CHECK(NextSteps(MakeFinding(FindingKind::kSmartWarning, "d1", "", ""), p)[0] == "atlas-scrub smart");
  CHECK(NextSteps(MakeFinding(FindingKind::kUnrecoverable, "d1", "x", ""), p)[0].find("backup") !=
        std::string::npos);
  CHECK(NextSteps(MakeFinding(FindingKind::kOnlyCopyOutside, "", "x", ""), p)[0].find("copy") != std::string::npos);
  CHECK(NextSteps(MakeFinding(FindingKind::kUnsafeCopyDir, "", "/mnt/disk1/atlas copy", ""), p) ==
        std::vector<std::string>{"make '/mnt/disk1/atlas copy' a directory of the user running atlas-scrub "
                                 "that group and others cannot write (the message says what is wrong), "
                                 "then: atlas-scrub sync"});
  CHECK(NextSteps(MakeFinding(FindingKind::kAdded, "d1", "x", ""), p).empty());
}

}  // namespace
}  // namespace atlas
