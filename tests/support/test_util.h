// Helpers shared by every test executable.
#pragma once

#include <catch2/catch.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "atlas/status.h"

// REQUIRE that a Status or Result is OK, printing its message if not.
#define REQUIRE_OK(expr)                                             \
  do {                                                               \
    ::atlas::Status atlas_req_ = ::atlas::internal::AsStatus(expr);  \
    INFO(atlas_req_.ToString());                                     \
    REQUIRE(atlas_req_.ok());                                        \
  } while (0)

namespace atlas::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when
// the object goes out of scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  std::filesystem::path path_;
};

// Deterministic pseudo-random bytes (splitmix64 stream from `seed`).
std::vector<std::byte> RandomBytes(std::size_t n, std::uint64_t seed);

// Writes `data` to `path`, creating parent directories.
void WriteFile(const std::filesystem::path& path, const std::vector<std::byte>& data);
void WriteFile(const std::filesystem::path& path, const std::string& data);
// Flips one byte of a file in place (XOR with `mask`) and puts its atime
// and mtime (ns) back: silent corruption as a bad sector or cable leaves it.
void FlipByteKeepMtime(const std::filesystem::path& path, std::uint64_t offset, unsigned char mask = 0x5a);

// Reads a whole file; fails the test if it cannot.
std::vector<std::byte> ReadFileBytes(const std::filesystem::path& path);
std::string ReadFileText(const std::filesystem::path& path);

}  // namespace atlas::testing
