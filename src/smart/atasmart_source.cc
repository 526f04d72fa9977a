// ATA SMART through libatasmart: saved blobs and live disks.
//
// A blob (`skdump --save`, 1572 bytes: IDFY, SMST, SMDT and SMTH records,
// each a 4-byte tag, a big-endian 32-bit length and the payload) loads into a
// device-less SkDisk (sk_disk_open(NULL) + sk_disk_set_blob); after that the
// identify, status and attribute calls work as on a live disk. A live disk
// is read with sk_disk_smart_read_data and then goes through the same
// extraction, so blobs and disks are judged by one code path.
//
// Sleeping disks: with skip_standby, sk_disk_check_sleep_mode (ATA CHECK
// POWER MODE, which does not spin the disk up) runs first, and a disk that
// is not awake is left alone (state standby).
#include <stddef.h>  // atasmart.h uses size_t without including it
#include <atasmart.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "atlas/smart.h"

namespace atlas {
namespace {

struct SkDiskFree {
  void operator()(SkDisk* d) const { sk_disk_free(d); }
};
using SkDiskPtr = std::unique_ptr<SkDisk, SkDiskFree>;

std::string Trimmed(const char* s, std::size_t max) {
  std::string out(s, strnlen(s, max));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  while (!out.empty() && out.front() == ' ') out.erase(out.begin());
  return out;
}

void OnAttribute(SkDisk* /*d*/, const SkSmartAttributeParsedData* p, void* userdata) {
  auto* r = static_cast<SmartReading*>(userdata);
  SmartAttribute a;
  a.id = p->id;
  a.key = std::to_string(p->id);
  a.name = p->name != nullptr ? p->name : "";
  if (p->current_value_valid) a.value = p->current_value;
  if (p->worst_value_valid) a.worst = p->worst_value;
  if (p->threshold_valid) a.threshold = p->threshold;
  a.prefail = p->prefailure != 0;
  std::uint64_t raw = 0;
  for (int i = 5; i >= 0; --i) raw = (raw << 8) | p->raw[i];
  a.raw = raw;
  a.count = DecodeAtaCount(a.id, raw);
  r->attributes.push_back(std::move(a));
}

// Fills `r` from a disk whose SMART data is loaded (blob or read).
Status Extract(SkDisk* d, SmartReading* r) {
  r->protocol = SmartProtocol::kAta;
  const SkIdentifyParsedData* id = nullptr;
  if (sk_disk_identify_parse(d, &id) == 0 && id != nullptr) {
    r->model = Trimmed(id->model, sizeof id->model);
    r->serial = Trimmed(id->serial, sizeof id->serial);
    r->firmware = Trimmed(id->firmware, sizeof id->firmware);
  }
  SkBool good = 0;
  // An old blob without the SMST record has no status (ENXIO): unknown.
  if (sk_disk_smart_status(d, &good) == 0) r->overall_passed = good != 0;
  std::uint64_t mkelvin = 0;
  if (sk_disk_smart_get_temperature(d, &mkelvin) == 0 && mkelvin >= 273150) {
    r->temperature_c = static_cast<std::int64_t>((mkelvin - 273150 + 500) / 1000);
  }
  std::uint64_t ms = 0;
  if (sk_disk_smart_get_power_on(d, &ms) == 0) r->power_on_hours = ms / 3'600'000;
  if (sk_disk_smart_parse_attributes(d, OnAttribute, r) != 0) {
    return Status::FromErrno(errno, "libatasmart could not parse the SMART attributes");
  }
  // Temperature from 194 (or 190), low byte, over libatasmart's guess:
  // libatasmart also reads 231 as a temperature, which on many SSDs (Kingston
  // SA400: 93) is the life left.
  for (int temp_id : {194, 190}) {
    auto it = std::find_if(r->attributes.begin(), r->attributes.end(),
                           [temp_id](const SmartAttribute& a) { return a.id == temp_id; });
    if (it != r->attributes.end() && it->count > 0) {
      r->temperature_c = static_cast<std::int64_t>(it->count);
      break;
    }
  }
  if (r->attributes.empty() && !r->overall_passed) {
    return Status::InvalidArgument("no SMART attributes and no SMART status");
  }
  return Status::Ok();
}

}  // namespace

Result<SmartReading> ParseAtasmartBlob(std::string_view bytes, const std::string& source) {
  SkDisk* raw_disk = nullptr;
  if (sk_disk_open(nullptr, &raw_disk) != 0 || raw_disk == nullptr) {
    return Status::Internal(fmt::format("{}: libatasmart could not create a blob disk", source));
  }
  SkDiskPtr d(raw_disk);
  // set_blob copies the buffer.
  if (sk_disk_set_blob(d.get(), bytes.data(), bytes.size()) != 0) {
    return Status::InvalidArgument(fmt::format(
        "{}: not a valid libatasmart blob ({} bytes; truncated or damaged?); expected what "
        "`skdump --save` writes (IDFY, SMST, SMDT, SMTH records, 1572 bytes)",
        source, bytes.size()));
  }
  SmartReading r;
  r.source = source;
  Status s = Extract(d.get(), &r);
  if (!s.ok()) return Status::InvalidArgument(fmt::format("{}: {}", source, s.message()));
  return r;
}

// Reads a live ATA disk. Never fails: trouble is state unknown with a note.
SmartReading ReadAtaDevice(const std::string& device, bool skip_standby) {
  SmartReading r;
  r.source = device;
  r.protocol = SmartProtocol::kAta;
  SkDisk* raw_disk = nullptr;
  if (sk_disk_open(device.c_str(), &raw_disk) != 0 || raw_disk == nullptr) {
    r.state = SmartState::kUnknown;
    r.note = fmt::format("libatasmart cannot open {}: {}", device, std::strerror(errno));
    return r;
  }
  SkDiskPtr d(raw_disk);
  SkBool available = 0;
  if (sk_disk_smart_is_available(d.get(), &available) != 0 || !available) {
    r.state = SmartState::kUnknown;
    r.note = fmt::format("{} has no ATA SMART (no pass-through, or not an ATA disk)", device);
    return r;
  }
  if (skip_standby) {
    SkBool awake = 1;
    if (sk_disk_check_sleep_mode(d.get(), &awake) == 0 && !awake) {
      r.state = SmartState::kStandby;
      r.note = "the disk is in standby; not woken ([smart] skip_standby)";
      return r;
    }
  }
  if (sk_disk_smart_read_data(d.get()) != 0) {
    r.state = SmartState::kUnknown;
    r.note = fmt::format("reading SMART data of {} failed: {}", device, std::strerror(errno));
    return r;
  }
  Status s = Extract(d.get(), &r);
  if (!s.ok()) {
    r = SmartReading();
    r.source = device;
    r.state = SmartState::kUnknown;
    r.note = std::string(s.message());
  }
  return r;
}

}  // namespace atlas
