#include "engine/exclude.h"

#include <fnmatch.h>

namespace atlas {
namespace {

// The path of `p` relative to `root`, if `p` lies strictly inside it.
std::optional<std::string> RelativeInside(const std::filesystem::path& root,
                                          const std::filesystem::path& p) {
  std::filesystem::path r = root.lexically_normal();
  std::filesystem::path q = p.lexically_normal();
  std::string rs = r.string();
  std::string qs = q.string();
  while (rs.size() > 1 && rs.back() == '/') rs.pop_back();
  if (qs.size() <= rs.size() + 1 || qs.compare(0, rs.size(), rs) != 0 || qs[rs.size()] != '/') {
    return std::nullopt;
  }
  std::string rel = qs.substr(rs.size() + 1);
  while (!rel.empty() && rel.back() == '/') rel.pop_back();
  return rel;
}

constexpr std::string_view kFixTempPrefix = ".atlas-fix-";

}  // namespace

std::string FixTempName(std::string_view tag, std::uint64_t file_id) {
  return std::string(kFixTempPrefix) + std::string(tag) + "-" + std::to_string(file_id);
}

bool IsFixTempName(std::string_view name, std::string_view tag) {
  const std::size_t head = kFixTempPrefix.size() + tag.size() + 1;
  if (tag.empty() || name.size() <= head || name.substr(0, kFixTempPrefix.size()) != kFixTempPrefix ||
      name.substr(kFixTempPrefix.size(), tag.size()) != tag || name[head - 1] != '-') {
    return false;
  }
  for (char c : name.substr(head)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<PathPattern> PathPattern::Parse(std::string_view raw) {
  PathPattern p;
  p.glob = std::string(raw);
  if (!p.glob.empty() && p.glob.back() == '/') {
    p.dir_only = true;
    p.glob.pop_back();
  }
  if (!p.glob.empty() && p.glob.front() == '/') {
    p.anchored = true;
    p.glob.erase(0, 1);
  }
  if (p.glob.empty()) return std::nullopt;
  // A slash inside ("Movies/*.tmp") names a path, not a base name: it is
  // anchored at the disk root, as in gitignore (a base name never holds
  // one, so the pattern would otherwise match nothing).
  if (p.glob.find('/') != std::string::npos) p.anchored = true;
  return p;
}

bool PathPattern::Matches(std::string_view rel_path, bool is_dir) const {
  if (dir_only && !is_dir) return false;
  if (anchored) return fnmatch(glob.c_str(), std::string(rel_path).c_str(), FNM_PATHNAME) == 0;
  const std::size_t slash = rel_path.rfind('/');
  const std::string base(slash == std::string_view::npos ? rel_path : rel_path.substr(slash + 1));
  return fnmatch(glob.c_str(), base.c_str(), 0) == 0;
}

ExcludeMatcher::ExcludeMatcher(const Config& config, const std::filesystem::path& root,
                               std::string fix_temp_tag)
    : fix_temp_tag_(std::move(fix_temp_tag)) {
  for (const std::string& raw : config.exclude) {
    if (std::optional<PathPattern> p = PathPattern::Parse(raw)) patterns_.push_back(std::move(*p));
  }
  auto add_exact = [&](const std::filesystem::path& p) {
    if (std::optional<std::string> rel = RelativeInside(root, p)) exact_.push_back(*rel);
  };
  add_exact(config.manifest);
  std::filesystem::path lock = config.manifest;
  lock += ".lock";
  add_exact(lock);
  for (const auto& copy : config.manifest_copies) add_exact(copy);
  for (const ParityConfig& parity : config.parity) add_exact(parity.path);
}

bool ExcludeMatcher::Excluded(std::string_view rel_path, bool is_dir) const {
  if (!is_dir && !fix_temp_tag_.empty()) {
    const std::size_t slash = rel_path.rfind('/');
    if (IsFixTempName(slash == std::string_view::npos ? rel_path : rel_path.substr(slash + 1), fix_temp_tag_)) {
      return true;
    }
  }
  for (const std::string& e : exact_) {
    if (rel_path == e) return true;
  }
  for (const PathPattern& p : patterns_) {
    if (p.Matches(rel_path, is_dir)) return true;
  }
  return false;
}

}  // namespace atlas
