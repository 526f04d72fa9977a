// The module layering, held by reading the source (docs/DESIGN.md "Module
// map" explains it; this file is where it is written down).
//
// Every folder of src/ is a module, and every public header in
// include/atlas/ belongs to one. A module may include its own headers and
// the headers of modules on lower layers, never those of a module above it
// or beside it on the same layer. Internal headers (src/<module>/*.h) are
// the module's own, except core's (the library's toolkit, open to all) and
// the few listed in kSharedInternal with the modules that may include them.
// No header may take part in an include cycle.
//
// tests/ and bench/ stand above every module and are not checked.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace {

namespace fs = std::filesystem;

// ------------------------------------------------------------ the table ---

// The module chain, lowest layer first. Modules on one layer are siblings:
// none includes another.
const std::vector<std::vector<std::string>> kLayers = {
    {"core"},
    {"io"},
    {"hash", "parity", "disk", "smart", "config"},
    {"manifest"},
    {"outside"},
    {"engine"},
    {"report", "alert"},
    {"cli"},
};

// The module each public header belongs to.
const std::map<std::string, std::string> kPublicHeaders = {
    {"status.h", "core"},     {"finding.h", "core"},      {"progress.h", "core"},
    {"advice.h", "core"},     {"env.h", "io"},            {"hash.h", "hash"},
    {"parity.h", "parity"},   {"disk.h", "disk"},         {"power.h", "disk"},         {"smart.h", "smart"},
    {"config.h", "config"},   {"run_context.h", "config"}, {"manifest.h", "manifest"},
    {"outside.h", "outside"}, {"engine.h", "engine"},     {"report.h", "report"},
    {"metrics.h", "report"},  {"smart_report.h", "report"}, {"alert.h", "alert"},
    {"disk_monitor.h", "engine"},
};

// Internal headers of a module other than core that modules above it may
// include, and which ones may.
const std::map<std::string, std::set<std::string>> kSharedInternal = {
    // The block reader's rate limit.
    {"io/throttle.h", {"engine"}},
    // Running helper programs: smartctl, hdparm and sdparm, outside hosts.
    {"io/process.h", {"smart", "disk", "outside"}},
    // The outside index is written into the manifest's copy directories,
    // judged by the same rules.
    {"manifest/copy_dir.h", {"outside"}},
    // status and disks show the array view, the live disk, scan and
    // content guards and a drift walk: the engine's, not a copy of them.
    {"engine/array.h", {"report"}},
    {"engine/disk_guards.h", {"report"}},
    {"engine/drift.h", {"report"}},
    {"engine/guards.h", {"report"}},
};

// ------------------------------------------------------------- checking ---

struct Include {
  std::string file;  // relative to the source root
  int line = 0;
  std::string header;  // as written between the quotes
};

std::string Rel(const fs::path& p) { return fs::relative(p, ATLAS_SOURCE_DIR).generic_string(); }

std::vector<Include> IncludesOf(const fs::path& file) {
  static const std::regex include(R"re(^\s*#\s*include\s*"([^"]+)")re");
  std::vector<Include> out;
  std::ifstream in(file);
  std::string text;
  int n = 0;
  while (std::getline(in, text)) {
    ++n;
    std::smatch m;
    if (std::regex_search(text, m, include)) out.push_back({Rel(file), n, m[1].str()});
  }
  return out;
}

std::vector<fs::path> SourceFiles(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".cc" || ext == ".h")) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::map<std::string, std::size_t> LayerOf() {
  std::map<std::string, std::size_t> out;
  for (std::size_t i = 0; i < kLayers.size(); ++i) {
    for (const std::string& m : kLayers[i]) out[m] = i;
  }
  return out;
}

// The module `header` (as included) belongs to, or "" when it is not ours.
std::string ModuleOfHeader(const std::string& header, const std::map<std::string, std::size_t>& layers) {
  const std::size_t slash = header.find('/');
  if (slash == std::string::npos) return "";
  const std::string dir = header.substr(0, slash);
  if (dir == "atlas") {
    auto it = kPublicHeaders.find(header.substr(slash + 1));
    return it == kPublicHeaders.end() ? "?" : it->second;
  }
  return layers.count(dir) != 0 ? dir : "";
}

// What is wrong with `inc`, made by a file of module `from`; "" if nothing.
std::string Violation(const Include& inc, const std::string& from, bool public_header,
                      const std::map<std::string, std::size_t>& layers) {
  const std::string to = ModuleOfHeader(inc.header, layers);
  const std::string where = inc.file + ":" + std::to_string(inc.line) + ": includes \"" + inc.header + "\": ";
  if (to == "?") return where + "a public header missing from kPublicHeaders";
  if (public_header && inc.header.rfind("atlas/", 0) != 0) {
    return where + "a public header includes only <std> and atlas/ headers";
  }
  if (to.empty() || to == from) return "";
  if (layers.at(to) > layers.at(from)) return where + from + " may not include " + to + ", a module above it";
  if (layers.at(to) == layers.at(from)) return where + from + " and " + to + " are siblings on one layer";
  if (inc.header.rfind("atlas/", 0) == 0 || to == "core") return "";
  auto shared = kSharedInternal.find(inc.header);
  if (shared == kSharedInternal.end() || shared->second.count(from) == 0) {
    return where + "an internal header of " + to + " (use its public header, or list it in kSharedInternal)";
  }
  return "";
}

// Every include of a header by a header, as "atlas/x.h" or "module/x.h".
std::map<std::string, std::vector<std::string>> HeaderGraph() {
  std::map<std::string, std::vector<std::string>> graph;
  const fs::path root(ATLAS_SOURCE_DIR);
  for (const fs::path& h : SourceFiles(root / "include" / "atlas")) {
    for (const Include& inc : IncludesOf(h)) graph["atlas/" + h.filename().string()].push_back(inc.header);
  }
  for (const fs::path& h : SourceFiles(root / "src")) {
    if (h.extension() != ".h") continue;
    for (const Include& inc : IncludesOf(h)) {
      graph[fs::relative(h, root / "src").generic_string()].push_back(inc.header);
    }
  }
  return graph;
}

// The first include cycle found, as "a.h -> b.h -> a.h"; empty if none.
std::string FindCycle(const std::map<std::string, std::vector<std::string>>& graph) {
  std::map<std::string, int> state;  // 0 new, 1 on the stack, 2 done
  std::vector<std::string> stack;
  std::string cycle;
  std::function<void(const std::string&)> visit = [&](const std::string& node) {
    state[node] = 1;
    stack.push_back(node);
    auto it = graph.find(node);
    if (it != graph.end()) {
      for (const std::string& next : it->second) {
        if (!cycle.empty()) break;
        if (state[next] == 1) {
          auto from = std::find(stack.begin(), stack.end(), next);
          for (; from != stack.end(); ++from) cycle += *from + " -> ";
          cycle += next;
        } else if (state[next] == 0) {
          visit(next);
        }
      }
    }
    stack.pop_back();
    state[node] = 2;
  };
  for (const auto& [node, edges] : graph) {
    if (cycle.empty() && state[node] == 0) visit(node);
  }
  return cycle;
}

}  // namespace

TEST_CASE("layering: the table names every module and public header there is", "[layering][unit]") {
  const std::map<std::string, std::size_t> layers = LayerOf();
  const fs::path root(ATLAS_SOURCE_DIR);
  for (const fs::directory_entry& e : fs::directory_iterator(root / "src")) {
    INFO("src/" << e.path().filename().string() << " is no module of kLayers");
    if (e.is_directory()) CHECK(layers.count(e.path().filename().string()) == 1);
  }
  std::set<std::string> headers;
  for (const fs::path& h : SourceFiles(root / "include" / "atlas")) headers.insert(h.filename().string());
  for (const std::string& h : headers) {
    INFO("include/atlas/" << h << " belongs to no module in kPublicHeaders");
    CHECK(kPublicHeaders.count(h) == 1);
  }
  for (const auto& [h, module] : kPublicHeaders) {
    INFO("kPublicHeaders names include/atlas/" << h << ", which does not exist, or an unknown module " << module);
    CHECK(headers.count(h) == 1);
    CHECK(layers.count(module) == 1);
  }
  for (const auto& [h, modules] : kSharedInternal) {
    INFO("kSharedInternal names src/" << h << ", which does not exist");
    CHECK(fs::is_regular_file(root / "src" / h));
  }
}

TEST_CASE("layering: no module includes a header of a module above or beside it", "[layering][unit]") {
  const std::map<std::string, std::size_t> layers = LayerOf();
  const fs::path root(ATLAS_SOURCE_DIR);
  std::vector<std::string> bad;
  std::size_t checked = 0;
  for (const fs::path& h : SourceFiles(root / "include" / "atlas")) {
    auto owner = kPublicHeaders.find(h.filename().string());
    if (owner == kPublicHeaders.end()) continue;  // the test above fails for it
    for (const Include& inc : IncludesOf(h)) {
      ++checked;
      if (std::string v = Violation(inc, owner->second, /*public_header=*/true, layers); !v.empty()) bad.push_back(v);
    }
  }
  for (const fs::path& f : SourceFiles(root / "src")) {
    const std::string module = fs::relative(f, root / "src").begin()->string();
    if (layers.count(module) == 0) continue;  // the test above fails for it
    for (const Include& inc : IncludesOf(f)) {
      ++checked;
      if (std::string v = Violation(inc, module, /*public_header=*/false, layers); !v.empty()) bad.push_back(v);
    }
  }
  for (const std::string& b : bad) FAIL_CHECK(b);
  CHECK(checked > 200);  // the scan still finds the includes: it is not stale
}

TEST_CASE("layering: no header takes part in an include cycle", "[layering][unit]") {
  const std::string cycle = FindCycle(HeaderGraph());
  INFO("include cycle: " << cycle);
  CHECK(cycle.empty());
}
