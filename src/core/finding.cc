#include "atlas/finding.h"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

namespace atlas {
namespace {

struct KindInfo {
  FindingKind kind;
  std::string_view name;
  Severity severity;
};

constexpr std::array<KindInfo, 25> kKinds = {{
    {FindingKind::kSilentCorruption, "silent_corruption", Severity::kCritical},
    {FindingKind::kReadError, "read_error", Severity::kCritical},
    {FindingKind::kParityMismatch, "parity_mismatch", Severity::kCritical},
    {FindingKind::kUnrecoverable, "unrecoverable", Severity::kCritical},
    {FindingKind::kMissingDisk, "missing_disk", Severity::kCritical},
    {FindingKind::kSmartFailing, "smart_failing", Severity::kCritical},
    {FindingKind::kSmartWarning, "smart_warning", Severity::kWarning},
    {FindingKind::kOnlyCopyOutside, "only_copy_outside", Severity::kCritical},
    {FindingKind::kDuplicateOutside, "duplicate_outside", Severity::kWarning},
    {FindingKind::kUnsynced, "unsynced", Severity::kWarning},
    {FindingKind::kScrubOverdue, "scrub_overdue", Severity::kWarning},
    {FindingKind::kMassDelete, "mass_delete", Severity::kCritical},
    {FindingKind::kAdded, "added", Severity::kInfo},
    {FindingKind::kModified, "modified", Severity::kInfo},
    {FindingKind::kDeleted, "deleted", Severity::kInfo},
    {FindingKind::kMoved, "moved", Severity::kInfo},
    {FindingKind::kSharedFilesystem, "shared_filesystem", Severity::kInfo},
    {FindingKind::kRepaired, "repaired", Severity::kInfo},
    {FindingKind::kUnsafeCopyDir, "unsafe_copy_dir", Severity::kWarning},
    {FindingKind::kZeroSize, "zero_size", Severity::kCritical},
    {FindingKind::kMassModify, "mass_modify", Severity::kCritical},
    {FindingKind::kMoveMismatch, "move_mismatch", Severity::kCritical},
    {FindingKind::kOutsideUnreachable, "outside_unreachable", Severity::kWarning},
    {FindingKind::kWritableAtlasMount, "writable_atlas_mount", Severity::kWarning},
    {FindingKind::kSmartStale, "smart_stale", Severity::kWarning},
}};

constexpr std::array<FindingKind, kKinds.size()> kAllKinds = [] {
  std::array<FindingKind, kKinds.size()> out{};
  for (std::size_t i = 0; i < kKinds.size(); ++i) out[i] = kKinds[i].kind;
  return out;
}();

const KindInfo& Info(FindingKind kind) {
  for (const KindInfo& k : kKinds) {
    if (k.kind == kind) return k;
  }
  return kKinds[0];  // unreachable: every enumerator is in the table
}

}  // namespace

std::span<const FindingKind> AllFindingKinds() { return kAllKinds; }

std::string_view KindName(FindingKind kind) { return Info(kind).name; }

std::optional<FindingKind> ParseKind(std::string_view name) {
  for (const KindInfo& k : kKinds) {
    if (k.name == name) return k.kind;
  }
  return std::nullopt;
}

Severity DefaultSeverity(FindingKind kind) { return Info(kind).severity; }

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kCritical: return "critical";
  }
  return "info";
}

Finding MakeFinding(FindingKind kind, std::string disk, std::string path, std::string message) {
  Finding f;
  f.kind = kind;
  f.severity = DefaultSeverity(kind);
  f.disk = std::move(disk);
  f.path = std::move(path);
  f.message = std::move(message);
  return f;
}

void FindingSink::Add(Finding f) {
  std::lock_guard<std::mutex> lock(mu_);
  findings_.push_back(std::move(f));
}

std::vector<Finding> FindingSink::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(findings_, {});
}

std::optional<Severity> FindingSink::MaxSeverity() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<Severity> max;
  for (const Finding& f : findings_) {
    if (!max || f.severity > *max) max = f.severity;
  }
  return max;
}

std::size_t FindingSink::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return findings_.size();
}

int HealthOf(const std::vector<Finding>& findings) {
  int health = 0;
  for (const Finding& f : findings) health = std::max(health, static_cast<int>(f.severity));
  return health;
}

std::string_view HealthName(int health) {
  switch (health) {
    case 0: return "ok";
    case 1: return "warning";
    default: return "critical";
  }
}

std::string DisplayPath(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  std::size_t i = 0;
  auto hex = [&](unsigned char c) { out += fmt::format("\\x{:02X}", c); };
  while (i < raw.size()) {
    auto c = static_cast<unsigned char>(raw[i]);
    if (c == '\n') {
      out += "\\n";
      ++i;
      continue;
    }
    if (c == '\t') {
      out += "\\t";
      ++i;
      continue;
    }
    if (c == '\\') {
      out += "\\\\";
      ++i;
      continue;
    }
    if (c < 0x20 || c == 0x7f) {
      hex(c);
      ++i;
      continue;
    }
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    // Validate one UTF-8 sequence (no overlongs, no surrogates, <= U+10FFFF).
    int len = (c >= 0xc2 && c <= 0xdf) ? 2 : (c >= 0xe0 && c <= 0xef) ? 3 : (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
    bool valid = len > 0 && i + static_cast<std::size_t>(len) <= raw.size();
    for (int k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(raw[i + k]) & 0xc0) == 0x80;
    }
    if (valid && len >= 3) {
      auto c1 = static_cast<unsigned char>(raw[i + 1]);
      if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) || (c == 0xf0 && c1 < 0x90) ||
          (c == 0xf4 && c1 >= 0x90)) {
        valid = false;
      }
    }
    if (!valid) {
      hex(c);
      ++i;
      continue;
    }
    out.append(raw.substr(i, static_cast<std::size_t>(len)));
    i += static_cast<std::size_t>(len);
  }
  return out;
}

}  // namespace atlas
