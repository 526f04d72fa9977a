#include "core/finding_json.h"

namespace atlas {

nlohmann::json FindingJson(const Finding& f) {
  nlohmann::json j = {{"severity", SeverityName(f.severity)},
                      {"kind", KindName(f.kind)},
                      {"disk", f.disk},
                      {"path", DisplayPath(f.path)},
                      {"message", DisplayPath(f.message)}};
  if (!f.from.empty()) j["from"] = DisplayPath(f.from);
  if (f.offset) j["offset"] = *f.offset;
  return j;
}

}  // namespace atlas
