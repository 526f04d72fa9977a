// `smartctl --json` output -> SmartReading.
//
// Fields read (smartctl 7.0-7.4 agree on them): json_format_version,
// smartctl.{exit_status,messages}, device.{name,protocol}, model_name (or
// scsi_model_name), serial_number, firmware_version, smart_status.passed,
// temperature.current, power_on_time.hours, ata_smart_attributes.table[],
// nvme_smart_health_information_log, scsi_grown_defect_list and
// scsi_error_counter_log.*.total_uncorrected_errors.
//
// A document that is valid but has no SMART data (smartctl could not open the
// device, did not know its type, or left it asleep with -n standby; exit bits
// 0-2) is a reading in state unknown or standby, never ok. Text that is not
// such a document at all is an error naming the source.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "atlas/smart.h"

namespace atlas {
namespace {

using nlohmann::json;

const json* Find(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::optional<std::uint64_t> GetU64(const json& j, const char* key) {
  const json* v = Find(j, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_unsigned()) return v->get<std::uint64_t>();
  if (v->is_number_integer()) {
    std::int64_t i = v->get<std::int64_t>();
    if (i < 0) return std::nullopt;
    return static_cast<std::uint64_t>(i);
  }
  return std::nullopt;
}

std::optional<std::int64_t> GetI64(const json& j, const char* key) {
  const json* v = Find(j, key);
  if (v == nullptr || !v->is_number_integer()) return std::nullopt;
  return v->get<std::int64_t>();
}

std::string GetString(const json& j, const char* key) {
  const json* v = Find(j, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

SmartAttribute Named(std::string key, std::uint64_t v) {
  SmartAttribute a;
  a.name = key;
  a.key = std::move(key);
  a.raw = v;
  a.count = v;
  return a;
}

// The document, once it is known to be `smartctl --json` output of a
// format version this code reads.
Result<json> ParseDocument(std::string_view text, const std::string& source) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Status::InvalidArgument(fmt::format("{}: empty; expected `smartctl --json` output", source));
  }
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Status::InvalidArgument(
        fmt::format("{}: not valid JSON (truncated?); expected `smartctl --json` output", source));
  }
  const json* version = Find(doc, "json_format_version");
  if (version == nullptr || !version->is_array() || version->empty() || !(*version)[0].is_number_integer()) {
    return Status::InvalidArgument(
        fmt::format("{}: JSON without json_format_version; expected `smartctl --json` output", source));
  }
  if ((*version)[0].get<std::int64_t>() != 1) {
    return Status::InvalidArgument(fmt::format(
        "{}: smartctl json_format_version {} is not supported; expected version 1 (smartctl 7.x)", source,
        (*version)[0].get<std::int64_t>()));
  }
  return doc;
}

// What smartctl said about its own run: smartctl.{exit_status,messages}.
struct SmartctlRun {
  std::uint64_t exit_status = 0;
  std::string first_message;
  bool says_asleep = false;  // a message mentions standby, sleep or an idle mode
};

SmartctlRun ReadSmartctlRun(const json& doc) {
  SmartctlRun run;
  const json* sc = Find(doc, "smartctl");
  if (sc == nullptr) return run;
  run.exit_status = GetU64(*sc, "exit_status").value_or(0);
  if (const json* msgs = Find(*sc, "messages"); msgs != nullptr && msgs->is_array()) {
    for (const json& m : *msgs) {
      std::string s = GetString(m, "string");
      if (run.first_message.empty()) run.first_message = s;
      std::string l = Lower(s);
      if (l.find("standby") != std::string::npos || l.find("sleep") != std::string::npos ||
          (l.find("idle") != std::string::npos && l.find("mode") != std::string::npos)) {
        run.says_asleep = true;
      }
    }
  }
  return run;
}

// device.protocol, or, when smartctl did not say, the log the document has.
SmartProtocol ProtocolOf(const json& doc) {
  const json* device = Find(doc, "device");
  std::string protocol = Lower(device != nullptr ? GetString(*device, "protocol") : "");
  if (protocol == "nvme" || (protocol.empty() && Find(doc, "nvme_smart_health_information_log") != nullptr)) {
    return SmartProtocol::kNvme;
  }
  if (protocol == "scsi" || (protocol.empty() && Find(doc, "scsi_grown_defect_list") != nullptr)) {
    return SmartProtocol::kScsi;
  }
  return SmartProtocol::kAta;
}

// Model, serial and firmware (ATA/NVMe names, or SCSI's), the overall
// verdict, temperature and power-on hours.
void ReadIdentity(const json& doc, SmartReading* r) {
  r->model = GetString(doc, "model_name");
  if (r->model.empty()) r->model = GetString(doc, "scsi_model_name");
  if (r->model.empty()) {
    std::string vendor = GetString(doc, "scsi_vendor"), product = GetString(doc, "scsi_product");
    r->model = vendor.empty() ? product : vendor + " " + product;
  }
  r->serial = GetString(doc, "serial_number");
  r->firmware = GetString(doc, "firmware_version");
  if (r->firmware.empty()) r->firmware = GetString(doc, "scsi_revision");
  if (const json* smart_status = Find(doc, "smart_status"); smart_status != nullptr) {
    const json* passed = Find(*smart_status, "passed");
    if (passed != nullptr && passed->is_boolean()) r->overall_passed = passed->get<bool>();
  }
  if (const json* t = Find(doc, "temperature"); t != nullptr) r->temperature_c = GetI64(*t, "current");
  if (const json* p = Find(doc, "power_on_time"); p != nullptr) r->power_on_hours = GetU64(*p, "hours");
}

// One row of ata_smart_attributes.table, or nullopt for a row without a
// valid id (1 to 255).
std::optional<SmartAttribute> AtaAttribute(const json& e) {
  std::optional<std::uint64_t> id = GetU64(e, "id");
  if (!id || *id == 0 || *id > 255) return std::nullopt;
  SmartAttribute a;
  a.id = static_cast<int>(*id);
  a.key = std::to_string(a.id);
  a.name = GetString(e, "name");
  if (auto v = GetI64(e, "value")) a.value = static_cast<int>(*v);
  if (auto v = GetI64(e, "worst")) a.worst = static_cast<int>(*v);
  if (auto v = GetI64(e, "thresh")) a.threshold = static_cast<int>(*v);
  if (const json* flags = Find(e, "flags"); flags != nullptr) {
    const json* pf = Find(*flags, "prefailure");
    if (pf != nullptr && pf->is_boolean()) {
      a.prefail = pf->get<bool>();
    } else if (auto fv = GetU64(*flags, "value")) {
      a.prefail = (*fv & 1) != 0;
    }
  }
  if (const json* raw = Find(e, "raw"); raw != nullptr) a.raw = GetU64(*raw, "value").value_or(0);
  a.raw &= 0xFFFF'FFFF'FFFFull;
  a.count = DecodeAtaCount(a.id, a.raw);
  return a;
}

void ReadAtaAttributes(const json& ata_attrs, SmartReading* r) {
  const json* table = Find(ata_attrs, "table");
  if (table != nullptr && table->is_array()) {
    for (const json& e : *table) {
      if (std::optional<SmartAttribute> a = AtaAttribute(e)) r->attributes.push_back(std::move(*a));
    }
  }
  // Older smartctl without temperature/power_on_time objects.
  for (const SmartAttribute& a : r->attributes) {
    if (!r->temperature_c && (a.id == 194 || a.id == 190)) r->temperature_c = static_cast<std::int64_t>(a.count);
    if (!r->power_on_hours && a.id == 9) r->power_on_hours = a.count;
  }
}

void ReadNvmeLog(const json& n, SmartReading* r) {
  if (auto v = GetU64(n, "critical_warning")) r->attributes.push_back(Named("critical_warning", *v));
  if (auto v = GetU64(n, "available_spare")) r->attributes.push_back(Named("available_spare", *v));
  r->nvme_spare_threshold = GetU64(n, "available_spare_threshold");
  if (auto v = GetU64(n, "percentage_used")) r->attributes.push_back(Named("percentage_used", *v));
  if (auto v = GetU64(n, "media_errors")) r->attributes.push_back(Named("media_errors", *v));
  if (!r->temperature_c) r->temperature_c = GetI64(n, "temperature");
  if (!r->power_on_hours) r->power_on_hours = GetU64(n, "power_on_hours");
}

// The grown defect list, and the uncorrected errors of reads, writes and
// verifies together.
void ReadScsiCounters(const json& doc, SmartReading* r) {
  if (const json* g = Find(doc, "scsi_grown_defect_list"); g != nullptr && g->is_number_integer()) {
    r->attributes.push_back(Named("grown_defects", g->get<std::uint64_t>()));
  }
  const json* log = Find(doc, "scsi_error_counter_log");
  if (log == nullptr) return;
  std::uint64_t total = 0;
  bool any = false;
  for (const char* dir : {"read", "write", "verify"}) {
    if (const json* d = Find(*log, dir); d != nullptr) {
      if (auto v = GetU64(*d, "total_uncorrected_errors")) {
        total += *v;
        any = true;
      }
    }
  }
  if (any) r->attributes.push_back(Named("uncorrected_errors", total));
}

// Exit bits 0-2 (smartctl(8) EXIT STATUS): command line / device open /
// SMART command trouble. With -n standby, bit 1 is also "left asleep".
// Without SMART data the reading is standby or unknown, never ok.
void JudgeRun(const SmartctlRun& run, SmartReading* r) {
  const bool has_data = r->overall_passed.has_value() || !r->attributes.empty();
  if ((run.exit_status & 0x2) != 0 && run.says_asleep) {
    r->state = SmartState::kStandby;
    r->note = run.first_message.empty() ? "the device is in a low-power mode" : run.first_message;
  } else if ((run.exit_status & 0x3) != 0 || ((run.exit_status & 0x4) != 0 && !has_data) || !has_data) {
    r->state = SmartState::kUnknown;
    r->note = run.first_message.empty()
                  ? fmt::format("smartctl exit status {} and no SMART data", run.exit_status)
                  : "smartctl: " + run.first_message;
  }
}

}  // namespace

Result<SmartReading> ParseSmartctlJson(std::string_view text, const std::string& source) {
  ATLAS_ASSIGN_OR_RETURN(json doc, ParseDocument(text, source));
  SmartReading r;
  r.source = source;
  const SmartctlRun run = ReadSmartctlRun(doc);
  r.protocol = ProtocolOf(doc);
  ReadIdentity(doc, &r);
  if (const json* ata = Find(doc, "ata_smart_attributes"); ata != nullptr) ReadAtaAttributes(*ata, &r);
  if (const json* nvme = Find(doc, "nvme_smart_health_information_log"); nvme != nullptr) ReadNvmeLog(*nvme, &r);
  if (r.protocol == SmartProtocol::kScsi) ReadScsiCounters(doc, &r);
  JudgeRun(run, &r);
  return r;
}

}  // namespace atlas
