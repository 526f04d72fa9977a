// A throwaway array in a temp dir: data disks d1..dN, parity files, a
// manifest, manifest copies and a config, driven through the real binary.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/run_cli.h"
#include "support/test_util.h"

namespace atlas::testing {

class TempArray {
 public:
  // `extra` is appended to the generated config (TOML).
  explicit TempArray(int data_disks = 4, int parity_levels = 2, std::uint32_t block_size = 64 * 1024,
                     const std::string& extra = "");

  const std::filesystem::path& root() const { return dir_.path(); }
  const std::filesystem::path& config() const { return config_; }
  std::filesystem::path Disk(int i) const;  // 1-based: d1 ..
  std::filesystem::path File(int disk, const std::string& rel) const { return Disk(disk) / rel; }
  std::filesystem::path Parity(int level) const;  // 1-based
  std::filesystem::path Manifest() const { return root() / "var" / "manifest"; }
  std::filesystem::path Copy(int i) const;  // manifest copy dirs, 1-based
  std::uint32_t block_size() const { return block_size_; }

  // Writes deterministic content; returns it.
  std::vector<std::byte> Write(int disk, const std::string& rel, std::size_t size, std::uint64_t seed);

  // Runs atlas-scrub -c CONFIG ARGS... (with --json when json is true).
  CliResult Run(std::vector<std::string> args, bool json = true,
                const std::map<std::string, std::string>& env = {}) const;

 private:
  TempDir dir_;
  std::filesystem::path config_;
  int data_disks_;
  int parity_levels_;
  std::uint32_t block_size_;
};

// SHA-free fingerprint of a file or a whole tree (paths, sizes, bytes,
// mtimes), to assert "byte-identical before and after".
std::string TreeFingerprint(const std::filesystem::path& root);

}  // namespace atlas::testing
