// The SMART verdict: which values are judged, and what they mean.
//
// The rules follow what the public failure data agrees on (Backblaze's five
// raw counters 5, 187, 188, 197, 198; the drive's own threshold verdict on
// pre-failure attributes; the NVMe health log's critical warning, spare and
// wear fields). Each rule names the value it looks at by its key, so one
// value of one disk can be silenced with [smart] ignore = ["d2:188"].
//
// Growth: every judged count is compared with the previous stored reading of
// the same disk; a count that grew says so in its finding ("grew from 8 on
// <date>"). Counts that went down (a pending sector remapped) are shown as a
// trend only. A previous reading of a drive with another serial number (the
// disk was replaced) is not compared with. SCSI grown defects and uncorrected errors raise a warning only
// when they grew: old SAS drives carry factory-era counts for life.
#include <algorithm>
#include <ctime>
#include <map>

#include <fmt/format.h>

#include "atlas/smart.h"

namespace atlas {
namespace {

constexpr int kCountIds[] = {5, 187, 188, 197, 198};

std::string Date(std::int64_t ns) {
  std::time_t t = ns / 1'000'000'000;
  std::tm tm{};
  char buf[32] = "?";
  if (gmtime_r(&t, &tm) != nullptr) std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool IsCountId(int id) { return std::find(std::begin(kCountIds), std::end(kCountIds), id) != std::end(kCountIds); }

bool Ignored(const std::vector<std::string>& ignore, const std::string& disk, const std::string& key) {
  const std::string want = disk + ":" + key;
  return std::find(ignore.begin(), ignore.end(), want) != ignore.end();
}

std::string Label(const SmartAttribute& a) {
  if (a.id != 0) return a.name.empty() ? fmt::format("attribute {}", a.id) : fmt::format("{} {}", a.id, a.name);
  return a.name;
}

constexpr const char* kCriticalWarningBits[] = {
    "spare_below_threshold",   "temperature_above_or_below_threshold", "reliability_degraded",
    "media_read_only",         "volatile_memory_backup_failed",        "persistent_memory_region_unreliable",
};

}  // namespace

SmartVerdict JudgeSmart(const std::string& disk, const SmartReading& reading,
                        const std::optional<SmartRecord>& previous, const std::vector<std::string>& ignore) {
  SmartVerdict v;
  if (reading.state == SmartState::kUnknown || reading.state == SmartState::kStandby) {
    v.state = reading.state;
    return v;
  }
  std::map<std::string, const SmartAttribute*> prev;
  // A reading of another drive (the disk was replaced) is no baseline.
  const bool same_drive = previous && (previous->reading.serial.empty() || reading.serial.empty() ||
                                       previous->reading.serial == reading.serial);
  if (same_drive) {
    for (const SmartAttribute& a : previous->reading.attributes) prev[a.key] = &a;
  }
  const std::string who = reading.model.empty() ? "" : fmt::format(" ({} {})", reading.model, reading.serial);

  if (reading.overall_passed == false) {
    v.findings.push_back(MakeFinding(FindingKind::kSmartFailing, disk, "",
                                     "the drive's SMART overall self-assessment failed" + who +
                                         ": replace the disk"));
  }

  for (const SmartAttribute& a : reading.attributes) {
    JudgedAttribute j;
    j.attr = a;
    j.ignored = Ignored(ignore, disk, a.key);
    if (auto it = prev.find(a.key); it != prev.end()) {
      j.previous = it->second->count;
      j.previous_time_ns = previous->time_ns;
    }
    const bool grew = j.previous && a.count > *j.previous;
    const std::string growth =
        grew ? fmt::format(", grew from {} on {}", *j.previous, Date(j.previous_time_ns)) : std::string();
    std::vector<Finding> found;
    bool judged = false;

    if (reading.protocol == SmartProtocol::kAta && a.id != 0) {
      if (a.prefail && a.threshold && *a.threshold > 0 && a.value && *a.value <= *a.threshold) {
        judged = true;
        found.push_back(MakeFinding(
            FindingKind::kSmartFailing, disk, "",
            fmt::format("pre-failure attribute {} is at {}, at or below its threshold {}{}", Label(a), *a.value,
                        *a.threshold, who)));
      }
      if (IsCountId(a.id)) {
        judged = true;
        if (a.count > 0) {
          found.push_back(MakeFinding(FindingKind::kSmartWarning, disk, "",
                                      fmt::format("{} raw count {}{}", Label(a), a.count, growth)));
        }
      }
    } else if (a.key == "critical_warning") {
      judged = true;
      if (a.count != 0) {
        std::string bits;
        for (int b = 0; b < 8; ++b) {
          if ((a.count >> b & 1) == 0) continue;
          if (!bits.empty()) bits += ", ";
          bits += b < 6 ? kCriticalWarningBits[b] : fmt::format("bit {}", b);
        }
        found.push_back(MakeFinding(FindingKind::kSmartFailing, disk, "",
                                    fmt::format("NVMe critical warning {:#04x}: {}{}", a.count, bits, who)));
      }
    } else if (a.key == "available_spare") {
      judged = true;
      if (reading.nvme_spare_threshold && a.count < *reading.nvme_spare_threshold) {
        found.push_back(MakeFinding(FindingKind::kSmartFailing, disk, "",
                                    fmt::format("available spare {}% is below its threshold {}%{}", a.count,
                                                *reading.nvme_spare_threshold, who)));
      }
    } else if (a.key == "percentage_used") {
      judged = true;
      if (a.count >= 100) {
        found.push_back(MakeFinding(
            FindingKind::kSmartFailing, disk, "",
            fmt::format("percentage used {}%: the drive's rated endurance is used up{}", a.count, who)));
      } else if (a.count >= 90) {
        found.push_back(MakeFinding(
            FindingKind::kSmartWarning, disk, "",
            fmt::format("percentage used {}%: the drive nears its rated endurance{}", a.count, growth)));
      }
    } else if (a.key == "media_errors") {
      judged = true;
      if (a.count > 0) {
        found.push_back(MakeFinding(FindingKind::kSmartWarning, disk, "",
                                    fmt::format("media_errors {}{}", a.count, growth)));
      }
    } else if (a.key == "grown_defects" || a.key == "uncorrected_errors") {
      judged = true;
      if (grew) found.push_back(MakeFinding(FindingKind::kSmartWarning, disk, "", fmt::format("{} {}{}", a.key, a.count, growth)));
    }
    if (!judged) continue;
    j.flagged = !found.empty();
    if (!j.ignored) {
      for (Finding& f : found) v.findings.push_back(std::move(f));
    }
    v.judged.push_back(std::move(j));
  }

  v.state = SmartState::kOk;
  for (const Finding& f : v.findings) {
    if (f.kind == FindingKind::kSmartFailing) v.state = SmartState::kFailing;
    if (f.kind == FindingKind::kSmartWarning && v.state == SmartState::kOk) v.state = SmartState::kWarning;
  }
  std::stable_sort(v.findings.begin(), v.findings.end(),
                   [](const Finding& a, const Finding& b) { return a.severity > b.severity; });
  return v;
}

SmartRecord MakeSmartRecord(const std::string& disk, std::int64_t time_ns, const SmartReading& reading,
                            const SmartVerdict& verdict) {
  SmartRecord rec;
  rec.disk = disk;
  rec.time_ns = time_ns;
  rec.reading = reading;
  rec.reading.attributes.clear();
  for (const JudgedAttribute& j : verdict.judged) rec.reading.attributes.push_back(j.attr);
  rec.state = verdict.state;
  rec.findings = verdict.findings;
  return rec;
}

}  // namespace atlas
