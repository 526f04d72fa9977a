// The discipline for paths on data disks, held by reading the source.
//
// Users can rename, replace or link anything on a data disk while atlas
// runs as root, so the engine (src/engine/) reaches a data disk only through
// the FileSystem's *Under calls, which resolve a path beneath the disk root
// with no symlink at any component (atlas/env.h). A path-based call there
// would follow whatever a user put in its way. These tests fail when one
// comes back: a line that passes a joined "root / rel" path, or any
// argument but a parity file or a configured root, to a path-based call.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace {

namespace fs = std::filesystem;

struct Line {
  std::string file;
  int number = 0;
  std::string text;
};

std::vector<Line> SourceLines(const fs::path& dir) {
  std::vector<Line> out;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    if (!e.is_regular_file() || (ext != ".cc" && ext != ".h")) continue;
    std::ifstream in(e.path());
    std::string text;
    int n = 0;
    while (std::getline(in, text)) {
      ++n;
      const std::size_t first = text.find_first_not_of(' ');
      if (first != std::string::npos && text.compare(first, 2, "//") == 0) continue;  // a comment
      out.push_back({fs::relative(e.path(), ATLAS_SOURCE_DIR).string(), n, text});
    }
  }
  return out;
}

std::string Where(const Line& l) { return l.file + ":" + std::to_string(l.number) + ": " + l.text; }

}  // namespace

TEST_CASE("seam: the engine passes no data-disk path to a path-based FileSystem call",
          "[seam][unit][issue-14]") {
  // The first argument of every path-based call in the engine: parity
  // files (ParityFile keeps its level as level_) and configured roots are
  // the admin's; nothing else is allowed.
  const std::regex call(
      R"((fs_?->|fs\.)(OpenForRead|OpenForWrite|Stat|Remove|Rename|RenameNoReplace|CreateDirs|SyncDir|ReadFile|SetAttributes)\(([^,)]*))");
  const std::regex allowed(R"(^(p\.path|array_\.parity\[l\]\.path|level_\.path|dc\.path)$)");
  std::vector<std::string> bad;
  int calls = 0;
  for (const Line& l : SourceLines(fs::path(ATLAS_SOURCE_DIR) / "src" / "engine")) {
    for (std::sregex_iterator it(l.text.begin(), l.text.end(), call), end; it != end; ++it) {
      ++calls;
      if (!std::regex_match((*it)[3].str(), allowed)) bad.push_back(Where(l));
    }
  }
  INFO("path-based calls on data disks (use the *Under calls of atlas/env.h):");
  for (const std::string& b : bad) INFO(b);
  CHECK(bad.empty());
  CHECK(calls > 0);  // the pattern still finds the parity calls: it is not stale
}

TEST_CASE("seam: no code changes owner, mode or times through a name", "[seam][unit][issue-14]") {
  // fchown/fchmod/futimens on a descriptor only: a name can be swapped for
  // a symlink between a check and the call. The *at forms count as a
  // descriptor only with AT_EMPTY_PATH on a checked O_PATH descriptor, and
  // a path only as that descriptor's "/proc/self/fd/N" link (`proc` in
  // posix_fs.cc), which reaches the inode the descriptor holds.
  const std::regex by_name(R"((^|[^fA-Za-z_])(chmod|chown|lchown|utimes|lutimes|utimensat|fchmodat|fchownat|truncate)\s*\()");
  const std::regex on_descriptor(R"((AT_EMPTY_PATH|\(proc\.c_str\(\)|AT_FDCWD, proc\.c_str\(\)))");
  std::vector<std::string> bad;
  for (const Line& l : SourceLines(fs::path(ATLAS_SOURCE_DIR) / "src")) {
    if (std::regex_search(l.text, by_name) && !std::regex_search(l.text, on_descriptor)) bad.push_back(Where(l));
  }
  for (const std::string& b : bad) INFO(b);
  CHECK(bad.empty());
}

TEST_CASE("seam: the engine makes no syscall by path", "[seam][unit][issue-14]") {
  // open/unlink/rename/mkdir by path live in src/io/posix_fs.cc, for the
  // admin's paths (config, parity, manifest); the engine has none.
  const std::regex syscall(R"(::(open|openat|unlink|unlinkat|rename|renameat|mkdir|rmdir|stat|lstat)\s*\()");
  const std::regex stdfs(R"((std::filesystem|stdfs|fs)::(remove|remove_all|rename|create_directories|create_directory|copy_file|permissions|weakly_canonical|canonical)\s*\()");
  std::vector<std::string> bad;
  for (const Line& l : SourceLines(fs::path(ATLAS_SOURCE_DIR) / "src" / "engine")) {
    if (std::regex_search(l.text, syscall) || std::regex_search(l.text, stdfs)) bad.push_back(Where(l));
  }
  for (const std::string& b : bad) INFO(b);
  CHECK(bad.empty());
}
