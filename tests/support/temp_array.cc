#include "support/temp_array.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "atlas/hash.h"

namespace atlas::testing {
namespace fs = std::filesystem;

TempArray::TempArray(int data_disks, int parity_levels, std::uint32_t block_size, const std::string& extra)
    : data_disks_(data_disks), parity_levels_(parity_levels), block_size_(block_size) {
  std::string toml;
  toml += "manifest = \"" + Manifest().string() + "\"\n";
  toml += "manifest_copies = [\"" + Copy(1).string() + "\", \"" + Copy(2).string() + "\"]\n";
  toml += "block_size = " + std::to_string(block_size) + "\n";
  // ATLAS_TEST_READ_LAYOUT runs a suite under another read_layout (see
  // tests/CMakeLists.txt); a test that sets its own keeps it.
  if (const char* layout = std::getenv("ATLAS_TEST_READ_LAYOUT");
      layout != nullptr && extra.find("read_layout") == std::string::npos) {
    toml += std::string("read_layout = \"") + layout + "\"\n";
  }
  toml += extra + "\n";
  for (int i = 1; i <= data_disks; ++i) {
    fs::create_directories(Disk(i));
    toml += "[[data]]\nname = \"d" + std::to_string(i) + "\"\npath = \"" + Disk(i).string() + "\"\n";
  }
  for (int l = 1; l <= parity_levels; ++l) {
    fs::create_directories(Parity(l).parent_path());
    toml += "[[parity]]\npath = \"" + Parity(l).string() + "\"\n";
  }
  config_ = root() / "atlas-scrub.toml";
  WriteFile(config_, toml);
}

fs::path TempArray::Disk(int i) const { return root() / "mnt" / ("disk" + std::to_string(i)); }
fs::path TempArray::Parity(int level) const {
  return root() / "mnt" / ("parity" + std::to_string(level)) / "atlas.parity";
}
fs::path TempArray::Copy(int i) const { return Disk(i) / ".atlas-scrub"; }

std::vector<std::byte> TempArray::Write(int disk, const std::string& rel, std::size_t size,
                                        std::uint64_t seed) {
  std::vector<std::byte> data = RandomBytes(size, seed);
  WriteFile(File(disk, rel), data);
  return data;
}

CliResult TempArray::Run(std::vector<std::string> args, bool json,
                         const std::map<std::string, std::string>& env) const {
  std::vector<std::string> full = {"-c", config_.string()};
  if (json) full.push_back("--json");
  full.insert(full.end(), args.begin(), args.end());
  return RunCli(full, env);
}

std::string TreeFingerprint(const fs::path& root) {
  std::vector<std::string> lines;
  auto add = [&](const fs::path& p) {
    struct stat st {};
    if (lstat(p.c_str(), &st) != 0) return;
    std::string line = p.lexically_relative(root).string() + " " + std::to_string(st.st_size) + " " +
                       std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    if (S_ISREG(st.st_mode)) {
      std::vector<std::byte> bytes = ReadFileBytes(p);
      line += " " + HashBlock(bytes).Hex();
    }
    lines.push_back(line);
  };
  std::error_code ec;
  if (fs::is_regular_file(root, ec)) {
    add(root);
  } else {
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      add(it->path());
    }
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

}  // namespace atlas::testing
