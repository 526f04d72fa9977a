// Next steps for findings: one place that knows which command answers which
// finding, so `status` and alert messages give the same advice.
#include "atlas/advice.h"

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

std::vector<std::string> NextSteps(const Finding& f, std::string_view program) {
  const std::string p(program);
  std::string disk = f.disk.empty() ? "" : " --disk " + ShellQuote(f.disk);
  switch (f.kind) {
    // Repairs advised for errors are --errors-only: a plain fix would also
    // recreate every file deleted since the last sync, on purpose or not.
    case FindingKind::kSilentCorruption:
    case FindingKind::kReadError: {
      std::string what = f.path.empty() ? disk : " --filter " + ShellQuote(GlobEscape(f.path));
      return {p + " fix --dry-run --errors-only" + what, p + " fix --errors-only" + what};
    }
    case FindingKind::kParityMismatch:
      return {p + " fix --dry-run --errors-only", p + " fix --errors-only"};
    case FindingKind::kMissingDisk:
      return {fmt::format("check that {} is mounted (findmnt, dmesg), then: {} sync",
                          f.disk.empty() ? "the disk" : f.disk, p),
              fmt::format("if the disk was replaced by an empty one: {} fix --dry-run{}", p, disk)};
    case FindingKind::kUnsynced:
      return {p + " sync"};
    case FindingKind::kScrubOverdue:
      return {p + " scrub"};
    case FindingKind::kMassDelete:
      return {p + " diff", fmt::format("if the deletions are intended: {} sync --force-delete", p)};
    case FindingKind::kMassModify:
      return {p + " diff", fmt::format("if the changes are intended: {} sync --force-modified", p)};
    case FindingKind::kZeroSize: {
      std::string what = disk + " --filter " + ShellQuote(GlobEscape(f.path));
      return {p + " fix --dry-run" + what, p + " fix" + what,
              fmt::format("if it was emptied on purpose: {} sync --force-zero", p)};
    }
    case FindingKind::kMoveMismatch: {
      // f.from is where the file was recorded ("d1:Movies/x.mkv"): fix
      // restores that original from parity.
      const std::size_t colon = f.from.find(':');
      if (colon == std::string::npos) return {p + " diff"};
      std::string what = " --disk " + ShellQuote(f.from.substr(0, colon)) + " --filter " +
                         ShellQuote(GlobEscape(f.from.substr(colon + 1)));
      return {p + " fix --dry-run" + what, p + " fix" + what,
              fmt::format("if the moved copy is the one to keep: {} sync --force-move", p)};
    }
    case FindingKind::kSmartFailing:
    case FindingKind::kSmartWarning:
      return {p + " smart"};
    case FindingKind::kOnlyCopyOutside:
      return {"copy the file to Atlas, then run " + p + " sync"};
    case FindingKind::kDuplicateOutside:
      return {"remove the copy outside Atlas if it is not needed"};
    case FindingKind::kUnrecoverable:
      return {"restore the file from a backup, then run " + p + " sync"};
    default:
      return {};
  }
}

}  // namespace atlas
