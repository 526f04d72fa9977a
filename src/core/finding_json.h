// A finding as JSON, the one shape every --json report and the json webhook
// payload share (SPEC "JSON").
#pragma once

#include <nlohmann/json.hpp>

#include "atlas/finding.h"

namespace atlas {

// severity, kind, disk, path and message, plus from and offset when set;
// path, message and from through DisplayPath (names need not be UTF-8).
nlohmann::json FindingJson(const Finding& f);

}  // namespace atlas
