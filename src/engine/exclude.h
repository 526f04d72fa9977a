// What is not data: `exclude` patterns from the config, plus the manifest, its
// copies and the parity files when they sit on a data disk.
//
// Pattern rules (as SnapRAID's, documented in atlas-scrub.toml(5)):
//   "*.tmp"         glob on the base name, anywhere on the disk
//   "/lost+found/"  a leading '/' anchors the glob at the disk root and it
//                   is matched against the whole relative path
//   "Movies/*.tmp"  so does a '/' inside the pattern
//   trailing '/'    matches directories only
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "atlas/config.h"

namespace atlas {

// The name fix gives a temporary file (".atlas-fix-<tag>-<file id>", see
// engine/fix.cc), and whether `name` (a base name) is one under `tag`. An
// empty tag (no fix ever ran) matches nothing.
std::string FixTempName(std::string_view tag, std::uint64_t file_id);
bool IsFixTempName(std::string_view name, std::string_view tag);

// One pattern of `exclude` or `[guards] exempt`, with the rules above.
struct PathPattern {
  std::string glob;
  bool anchored = false;
  bool dir_only = false;
  // Parses `raw`; nullopt for a pattern that is empty once its slashes go.
  static std::optional<PathPattern> Parse(std::string_view raw);
  // True if it matches `rel_path` (a directory when is_dir).
  bool Matches(std::string_view rel_path, bool is_dir) const;
};

class ExcludeMatcher {
 public:
  // Builds the matcher for the data disk rooted at `root`. `fix_temp_tag`
  // is the manifest's meta fix_temp_tag: fix's own temporary files (a crash
  // may leave one, and the next fix removes it) are never data. A user's
  // file merely named like one is.
  ExcludeMatcher(const Config& config, const std::filesystem::path& root,
                 std::string fix_temp_tag = {});
  // True if `rel_path` (relative to the disk root) is not part of the array.
  bool Excluded(std::string_view rel_path, bool is_dir) const;

 private:
  std::vector<PathPattern> patterns_;
  std::vector<std::string> exact_;  // relative paths excluded outright
  std::string fix_temp_tag_;
};

}  // namespace atlas
