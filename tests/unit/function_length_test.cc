// Functions a reader can hold in their head, held by reading the source: no
// function defined at namespace scope in src/*.cc is longer than kMaxLines
// unless the comment just above it (or the first one inside it) says why it
// is long ("long because ...", "long: ..."). The code is clang-formatted, so a
// definition starts at column 0 and its body ends with a "}" alone on a line.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace {

namespace fs = std::filesystem;

constexpr int kMaxLines = 120;

struct Function {
  std::string where;  // file:line
  std::string signature;
  int lines = 0;
  bool reasoned = false;  // a comment says why it is long
};

bool StartsWith(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

// Whether a column-0 line can start a function definition.
bool CanStart(const std::string& l) {
  if (l.empty() || !(std::isalpha(static_cast<unsigned char>(l[0])) || l[0] == '_')) return false;
  for (std::string_view skip : {"namespace", "struct ", "class ", "enum ", "union ", "using ", "extern ",
                                "template", "static_assert", "typedef "}) {
    if (StartsWith(l, skip)) return false;
  }
  return true;
}

bool IsComment(const std::string& l) {
  const std::size_t first = l.find_first_not_of(" \t");
  return first != std::string::npos && l.compare(first, 2, "//") == 0;
}

std::vector<Function> Functions(const fs::path& file) {
  std::vector<std::string> lines;
  {
    std::ifstream in(file);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  const std::regex reason(R"(\blong\b)", std::regex::icase);
  std::vector<Function> out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!CanStart(lines[i])) continue;
    // The signature runs until a line ending in "{" (a definition) or ";"
    // (a declaration or a variable).
    std::size_t open = i;
    while (open < lines.size() && lines[open].find(';') == std::string::npos &&
           (lines[open].empty() || lines[open].back() != '{')) {
      ++open;
    }
    if (open >= lines.size() || lines[open].back() != '{' || lines[open].find(';') != std::string::npos) continue;
    if (lines[i].find('(') == std::string::npos && lines[open].find('(') == std::string::npos) continue;
    std::size_t close = open + 1;
    while (close < lines.size() && lines[close] != "}") ++close;
    if (close >= lines.size()) continue;
    Function f;
    f.where = fs::relative(file, ATLAS_SOURCE_DIR).string() + ":" + std::to_string(i + 1);
    f.signature = lines[i];
    f.lines = static_cast<int>(close - i + 1);
    for (std::size_t c = i; c > 0 && IsComment(lines[c - 1]); --c) {
      f.reasoned = f.reasoned || std::regex_search(lines[c - 1], reason);
    }
    for (std::size_t c = open + 1; c < close && IsComment(lines[c]); ++c) {
      f.reasoned = f.reasoned || std::regex_search(lines[c], reason);
    }
    out.push_back(std::move(f));
    i = close;
  }
  return out;
}

std::vector<Function> AllFunctions() {
  std::vector<Function> all;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(fs::path(ATLAS_SOURCE_DIR) / "src")) {
    if (!e.is_regular_file() || e.path().extension() != ".cc") continue;
    for (Function& f : Functions(e.path())) all.push_back(std::move(f));
  }
  return all;
}

TEST_CASE("source: no function in src/ is over 120 lines without a comment saying why it is long",
          "[source][unit]") {
  std::vector<Function> all = AllFunctions();
  // The scan still finds the engine's functions: it is not stale.
  REQUIRE(all.size() > 500);
  REQUIRE(std::any_of(all.begin(), all.end(), [](const Function& f) {
    return f.signature.find("RunSync(") != std::string::npos && f.lines > 5;
  }));
  std::vector<std::string> bad;
  for (const Function& f : all) {
    if (f.lines > kMaxLines && !f.reasoned) {
      bad.push_back(f.where + " (" + std::to_string(f.lines) + " lines): " + f.signature);
    }
  }
  for (const std::string& b : bad) UNSCOPED_INFO(b);
  CHECK(bad.empty());
}

}  // namespace
