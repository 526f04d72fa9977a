// SMART health of the array's disks: read, judge, remember.
//
// A SmartReading comes from one of three places:
//   - a saved `smartctl --json` document (ParseSmartctlJson), from a file or
//     from running smartctl on an NVMe or SAS/SCSI device;
//   - a libatasmart blob (ParseAtasmartBlob): what `skdump --save` writes, and
//     what libatasmart reads from a live ATA disk;
//   - a live device through a SmartSource (MakeDeviceSmartSource), which never
//     wakes a sleeping disk when asked not to (state kStandby instead).
//
// JudgeSmart turns a reading (and the previous stored one, for growth) into a
// state and the findings of SPEC "Findings" (smart_failing, smart_warning).
// The rules, and how vendor-packed raw values are decoded, are listed at
// JudgeSmart and in man/atlas-scrub.1 (smart).
//
// The judged attributes of each reading are stored in the manifest
// (SmartRecord, docs/FORMAT.md table 's'), so `smart` shows trends and
// `status` shows each disk's state from its last reading.
//
// Thread-safety: the functions are pure, except the SmartSource, which runs
// one read at a time per object.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "atlas/finding.h"
#include "atlas/status.h"

namespace atlas {

enum class SmartProtocol : std::uint8_t { kAta = 0, kNvme = 1, kScsi = 2 };
// ok: nothing to report; warning/failing: findings of that kind; unknown: no
// SMART could be read (no finding); standby: the disk sleeps and was not woken.
enum class SmartState : std::uint8_t { kUnknown = 0, kOk = 1, kWarning = 2, kFailing = 3, kStandby = 4 };

std::string_view SmartProtocolName(SmartProtocol p);  // "ata", "nvme", "scsi"
std::string_view SmartStateName(SmartState s);        // "ok", "warning", ...
std::optional<SmartState> ParseSmartState(std::string_view name);

// One value a verdict looks at. ATA attributes have key = decimal id ("5",
// "188"); the others are named: "critical_warning", "available_spare",
// "percentage_used", "media_errors" (NVMe), "grown_defects",
// "uncorrected_errors" (SCSI). `[smart] ignore = ["d2:188"]` names the key.
struct SmartAttribute {
  std::string key;
  std::string name;                  // "Reallocated_Sector_Ct", "media_errors", ...
  int id = 0;                        // ATA attribute id, 0 for the others
  std::optional<int> value{};        // ATA normalized value (1..253)
  std::optional<int> worst{};
  std::optional<int> threshold{};    // ATA: 0 or absent means "no threshold"
  bool prefail = false;              // ATA pre-failure attribute
  std::uint64_t raw = 0;             // as reported (48 bits for ATA)
  std::uint64_t count = 0;           // decoded raw (DecodeAtaCount), or the named value
};

struct SmartReading {
  std::string source;  // device node or input file
  SmartProtocol protocol = SmartProtocol::kAta;
  std::string model;
  std::string serial;
  std::string firmware;
  std::optional<bool> overall_passed{};  // the drive's self-assessment
  std::optional<std::int64_t> temperature_c{};
  std::optional<std::uint64_t> power_on_hours{};
  // ATA: every attribute of the table. NVMe/SCSI: the named values above.
  std::vector<SmartAttribute> attributes;
  // NVMe: critical_warning, available_spare(_threshold), percentage_used and
  // media_errors are also in `attributes` under those keys.
  std::optional<std::uint64_t> nvme_spare_threshold{};
  // Not readable (unknown) or asleep (standby); otherwise kOk until judged.
  SmartState state = SmartState::kOk;
  std::string note;  // why unknown, e.g. "smartctl: Unable to detect device type"
};

// The count carried by an ATA raw value: 187 (Reported_Uncorrect), 188
// (Command_Timeout) and 5 (Reallocated_Sector_Ct) keep it in the low 16 bits
// (Seagate packs three 16-bit counters in 188, Hitachi repeats 5's count in
// the second word); 194/190 (temperature) in the low byte; 9 (power-on hours)
// in the low 32 bits; every other attribute: the low 32 bits of the 48.
std::uint64_t DecodeAtaCount(int id, std::uint64_t raw48);

// Parses `smartctl --json` output (smartctl 7.x, pretty or compact). `source`
// names the file in errors. kInvalidArgument "<source>: ..." for text that is
// not such a document (empty, truncated, not JSON, no json_format_version,
// major version != 1). A valid document that carries no SMART data (the
// device could not be opened, exit bits 0-2) gives state kUnknown, or
// kStandby when smartctl says it left the device asleep (-n standby).
Result<SmartReading> ParseSmartctlJson(std::string_view text, const std::string& source);

// Parses a libatasmart blob (`skdump --save`: IDFY, SMST, SMDT, SMTH records).
// kInvalidArgument "<source>: ..." for a blob libatasmart refuses.
Result<SmartReading> ParseAtasmartBlob(std::string_view bytes, const std::string& source);

// Reads FILE (smartctl JSON or libatasmart blob, told apart by content, not
// name) with either parser. kInvalidArgument naming the file for anything else.
Result<SmartReading> ReadSmartFile(const std::filesystem::path& file);

// A stored reading: what `smart` judged, as kept in the manifest.
struct SmartRecord {
  std::string disk;
  std::int64_t time_ns = 0;
  SmartReading reading;    // attributes: only the judged ones
  SmartState state = SmartState::kUnknown;
  std::vector<Finding> findings;
};

// One judged value with its trend against the previous stored reading.
struct JudgedAttribute {
  SmartAttribute attr;
  std::optional<std::uint64_t> previous{};  // count at the previous reading
  std::int64_t previous_time_ns = 0;
  bool ignored = false;  // silenced by [smart] ignore
  bool flagged = false;  // raised a finding (or would have, if not ignored)
};

struct SmartVerdict {
  SmartState state = SmartState::kUnknown;
  std::vector<JudgedAttribute> judged;
  std::vector<Finding> findings;
};

// Judges `reading` for disk `disk`. `ignore` holds "disk:key" entries (the
// [smart] ignore list); entries for other disks are skipped.
//
// smart_failing: overall self-assessment failed; NVMe critical_warning bits
//   (named); available_spare < its threshold; percentage_used >= 100; an ATA
//   pre-failure attribute whose normalized value is at or below its non-zero
//   threshold.
// smart_warning: a non-zero decoded count of ATA 5, 187, 188, 197 or 198;
//   NVMe media_errors > 0; percentage_used >= 90; and the message says when
//   one of these grew since `previous`.
// unknown/standby readings give that state and no finding.
SmartVerdict JudgeSmart(const std::string& disk, const SmartReading& reading,
                        const std::optional<SmartRecord>& previous,
                        const std::vector<std::string>& ignore);

// The record to store for a judged reading (attributes trimmed to the judged).
SmartRecord MakeSmartRecord(const std::string& disk, std::int64_t time_ns,
                            const SmartReading& reading, const SmartVerdict& verdict);

// Reads SMART from a live device.
struct SmartReadOptions {
  bool skip_standby = true;   // never wake a sleeping disk
  std::string smartctl = "smartctl";  // program run for NVMe and SCSI devices
};

class SmartSource {
 public:
  virtual ~SmartSource() = default;
  // `protocol_hint`: "ata" reads through libatasmart; "nvme", "scsi", "usb"
  // (or empty: unknown transport) through smartctl; "loop", "virtio" and
  // the like give kUnknown without trying. Never fails: what cannot be read
  // is a reading with state kUnknown and a note.
  virtual SmartReading Read(const std::string& device, const std::string& transport) = 0;
};

// Whether a device of `transport` has SMART to read: "ata", "nvme", "scsi",
// "usb" and "" (unknown: smartctl is tried); not "loop", "virtio", ...
bool TransportHasSmart(std::string_view transport);

// The real source: libatasmart and smartctl (fork/exec, no shell).
std::unique_ptr<SmartSource> MakeDeviceSmartSource(const SmartReadOptions& options);

// How many stored readings each disk keeps; older ones are deleted.
inline constexpr std::size_t kSmartHistoryKept = 400;

}  // namespace atlas
