// Next steps for findings: the one table that knows which command answers
// which finding kind, so `status` (text and JSON), alert messages and the
// end of scrub and check give the same advice. It sits in core, beside the
// findings, because report and alert, which both use it, are siblings.
#include "atlas/advice.h"

#include <iterator>
#include <string>

#include <fmt/format.h>

namespace atlas {

std::string ShellQuote(std::string_view s) {
  auto plain = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
  };
  bool all_plain = !s.empty();
  for (char c : s) all_plain = all_plain && plain(c);
  if (all_plain) return std::string(s);
  // DisplayPath leaves printable UTF-8 alone and doubles each backslash; any
  // other change means a control byte or invalid UTF-8, which single quotes
  // would carry into a terminal as is: use $'...' with \xNN escapes then.
  std::string doubled;
  for (char c : s) doubled += c == '\\' ? std::string("\\\\") : std::string(1, c);
  if (DisplayPath(s) != doubled) {
    std::string out = "$'";
    for (char c : s) {
      const auto b = static_cast<unsigned char>(c);
      if (c == '\'' || c == '\\') {
        out += '\\';
        out += c;
      } else if (b >= 0x20 && b < 0x7f) {
        out += c;
      } else {
        out += fmt::format("\\x{:02x}", b);
      }
    }
    return out + "'";
  }
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

std::string GlobEscape(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

namespace {

// One row of the advice table: what answers a finding of `kind`.
struct KindAdvice {
  FindingKind kind;
  // The next steps for one finding of this kind, with `p` the program to
  // run ("atlas-scrub -c ..."). Returns nothing for kinds that need nothing
  // done (info).
  std::vector<std::string> (*steps)(const Finding& f, const std::string& p);
  // For a message about several findings (an alert, the end of scrub and
  // check): the sentence of the most urgent kind among them is given, the
  // lowest `urgency` first; 0 means the kind has no sentence of its own, and
  // the fallback (kStatusSummary) points at `status`. "{p}" is the program.
  int urgency;
  std::string_view summary;
};

using Steps = std::vector<std::string>;

std::string DiskFlag(const Finding& f) { return f.disk.empty() ? "" : " --disk " + ShellQuote(f.disk); }

// Repairs advised for errors are --errors-only: a plain fix would also
// recreate every file deleted since the last sync, on purpose or not.
Steps FixErrors(const Finding& f, const std::string& p) {
  std::string what = f.path.empty() ? DiskFlag(f) : " --filter " + ShellQuote(GlobEscape(f.path));
  return {p + " fix --dry-run --errors-only" + what, p + " fix --errors-only" + what};
}

constexpr std::string_view kFixSummary = "`{p} fix --dry-run --errors-only` shows what fix would repair";
constexpr std::string_view kDiskSummary = "check that every disk is mounted; `{p} status` shows which one is missing";
constexpr std::string_view kSmartSummary = "`{p} smart` shows the disk's attributes";
constexpr std::string_view kStatusSummary = "`{p} status` shows the array's health";

// Every kind, in enum order (AdviceFor checks that the row it finds is the
// kind's, and tests/unit/advice_test.cc that every kind has one).
const KindAdvice kAdvice[] = {
    {FindingKind::kSilentCorruption, FixErrors, 1, kFixSummary},
    {FindingKind::kReadError, FixErrors, 1, kFixSummary},
    {FindingKind::kParityMismatch,
     [](const Finding&, const std::string& p) -> Steps {
       return {p + " fix --dry-run --errors-only", p + " fix --errors-only"};
     },
     1, kFixSummary},
    {FindingKind::kUnrecoverable,
     [](const Finding&, const std::string& p) -> Steps {
       return {"restore the file from a backup, then run " + p + " sync"};
     },
     0, {}},
    {FindingKind::kMissingDisk,
     [](const Finding& f, const std::string& p) -> Steps {
       return {fmt::format("check that {} is mounted (findmnt, dmesg), then: {} sync",
                           f.disk.empty() ? "the disk" : f.disk, p),
               fmt::format("if the disk was replaced by an empty one: {} fix --dry-run{}", p, DiskFlag(f))};
     },
     2, kDiskSummary},
    {FindingKind::kSmartFailing, [](const Finding&, const std::string& p) -> Steps { return {p + " smart"}; }, 3,
     kSmartSummary},
    {FindingKind::kSmartWarning, [](const Finding&, const std::string& p) -> Steps { return {p + " smart"}; }, 3,
     kSmartSummary},
    {FindingKind::kOnlyCopyOutside,
     [](const Finding&, const std::string& p) -> Steps { return {"copy the file to Atlas, then run " + p + " sync"}; },
     0, {}},
    {FindingKind::kDuplicateOutside,
     [](const Finding&, const std::string&) -> Steps { return {"remove the copy outside Atlas if it is not needed"}; },
     0, {}},
    {FindingKind::kUnsynced, [](const Finding&, const std::string& p) -> Steps { return {p + " sync"}; }, 0, {}},
    {FindingKind::kScrubOverdue, [](const Finding&, const std::string& p) -> Steps { return {p + " scrub"}; }, 0, {}},
    {FindingKind::kMassDelete,
     [](const Finding&, const std::string& p) -> Steps {
       return {p + " diff", fmt::format("if the deletions are intended: {} sync --force-delete", p)};
     },
     0, {}},
    // Drift and the record of a done repair: nothing to do.
    {FindingKind::kAdded, [](const Finding&, const std::string&) -> Steps { return {}; }, 0, {}},
    {FindingKind::kModified, [](const Finding&, const std::string&) -> Steps { return {}; }, 0, {}},
    {FindingKind::kDeleted, [](const Finding&, const std::string&) -> Steps { return {}; }, 0, {}},
    {FindingKind::kMoved, [](const Finding&, const std::string&) -> Steps { return {}; }, 0, {}},
    {FindingKind::kSharedFilesystem, [](const Finding&, const std::string&) -> Steps { return {}; }, 0, {}},
    {FindingKind::kRepaired, [](const Finding&, const std::string&) -> Steps { return {}; }, 0, {}},
    {FindingKind::kUnsafeCopyDir,
     [](const Finding& f, const std::string& p) -> Steps {
       return {fmt::format("make {} a directory of the user running atlas-scrub that group and others "
                           "cannot write (the message says what is wrong), then: {} sync",
                           f.path.empty() ? "the copy directory" : ShellQuote(f.path), p)};
     },
     0, {}},
    {FindingKind::kZeroSize,
     [](const Finding& f, const std::string& p) -> Steps {
       std::string what = DiskFlag(f) + " --filter " + ShellQuote(GlobEscape(f.path));
       return {p + " fix --dry-run" + what, p + " fix" + what,
               fmt::format("if it was emptied on purpose: {} sync --force-zero", p)};
     },
     0, {}},
    {FindingKind::kMassModify,
     [](const Finding&, const std::string& p) -> Steps {
       return {p + " diff", fmt::format("if the changes are intended: {} sync --force-modified", p)};
     },
     0, {}},
    {FindingKind::kMoveMismatch,
     [](const Finding& f, const std::string& p) -> Steps {
       // f.from is where the file was recorded ("d1:Movies/x.mkv"): fix
       // restores that original from parity.
       const std::size_t colon = f.from.find(':');
       if (colon == std::string::npos) return {p + " diff"};
       std::string what = " --disk " + ShellQuote(f.from.substr(0, colon)) + " --filter " +
                          ShellQuote(GlobEscape(f.from.substr(colon + 1)));
       return {p + " fix --dry-run" + what, p + " fix" + what,
               fmt::format("if the moved copy is the one to keep: {} sync --force-move", p)};
     },
     0, {}},
    {FindingKind::kOutsideUnreachable,
     [](const Finding& f, const std::string& p) -> Steps {
       // f.path is the host's [[outside.hosts]] name.
       return {fmt::format("check that {} is up and its command runs (the message has its error), then: "
                           "{} outside",
                           f.path.empty() ? "the host" : ShellQuote(f.path), p)};
     },
     0, {}},
    {FindingKind::kWritableAtlasMount,
     [](const Finding& f, const std::string&) -> Steps {
       return {fmt::format("remount {} read-only on this host (add \"ro\" to its fstab entry)",
                           f.path.empty() ? "the Atlas mount" : ShellQuote(f.path))};
     },
     0, {}},
    // A reading now; it wakes nothing ([smart] skip_standby): a disk asleep
    // at every reading stays stale until something wakes it.
    {FindingKind::kSmartStale, [](const Finding&, const std::string& p) -> Steps { return {p + " smart"}; }, 0, {}},
};

const KindAdvice* AdviceFor(FindingKind kind) {
  const auto i = static_cast<std::size_t>(kind);
  if (i < std::size(kAdvice) && kAdvice[i].kind == kind) return &kAdvice[i];
  return nullptr;
}

std::string WithProgram(std::string_view text, std::string_view program) {
  std::string out(text);
  for (std::size_t at = out.find("{p}"); at != std::string::npos; at = out.find("{p}", at + program.size())) {
    out.replace(at, 3, program);
  }
  return out;
}

}  // namespace

bool HasAdvice(FindingKind kind) { return AdviceFor(kind) != nullptr; }

std::vector<std::string> NextSteps(const Finding& f, std::string_view program) {
  const KindAdvice* a = AdviceFor(f.kind);
  return a == nullptr ? std::vector<std::string>() : a->steps(f, std::string(program));
}

std::string NextStepSummary(const std::vector<Finding>& findings, std::string_view program) {
  const KindAdvice* best = nullptr;
  for (const Finding& f : findings) {
    const KindAdvice* a = AdviceFor(f.kind);
    if (a != nullptr && a->urgency > 0 && (best == nullptr || a->urgency < best->urgency)) best = a;
  }
  return WithProgram(best != nullptr ? best->summary : kStatusSummary, program);
}

std::string DriftNextStep(std::string_view program) {
  return NextSteps(MakeFinding(FindingKind::kUnsynced, "", "", ""), program).front();
}

}  // namespace atlas
