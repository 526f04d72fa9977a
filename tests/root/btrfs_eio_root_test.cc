// A real read error from a real filesystem. btrfs checksums every 4 KiB data
// sector and fails a read of one that no longer matches with EIO, for that
// sector only (reference: deps-and-limits §5). Flipping one byte of a file's
// data inside an unmounted btrfs image therefore gives atlas-scrub the error
// a failing disk gives it, through the kernel, with no test seam: what
// scrub must call a read_error (not silent_corruption) and fix must rebuild.
// The rewrite lands on new extents (btrfs is copy-on-write), so the repaired
// file reads whole again.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "root/loop_disk.h"
#include "support/run_cli.h"
#include "support/temp_array.h"
#include "support/test_util.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kImageSize = 128ull << 20;  // mkfs.btrfs needs at least 114294784 bytes
constexpr std::uint32_t kBlock = 64 * 1024;         // the array's block size
constexpr std::uint64_t kFileSize = 6 * kBlock + 1000;
constexpr std::uint64_t kBadBlock = 2;
// A 4 KiB-aligned file offset inside block 2: btrfs places file data in 4 KiB
// sectors, so the bytes there start a sector of the image too.
constexpr std::uint64_t kNeedleOffset = kBadBlock * kBlock + 8192;
constexpr std::size_t kNeedleSize = 64;

// "" when `got` equals `want`, else where they first differ. (Catch would
// print every byte of both vectors.)
std::string Difference(const std::vector<std::byte>& got, const std::vector<std::byte>& want) {
  const std::size_t n = std::min(got.size(), want.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (got[i] != want[i])
      return "first difference at byte " + std::to_string(i);
  }
  if (got.size() != want.size()) {
    return "sizes differ: " + std::to_string(got.size()) + " and " + std::to_string(want.size());
  }
  return "";
}

// 4 KiB-aligned offsets in `image` where `needle` starts.
std::vector<std::uint64_t> FindSectors(const fs::path& image,
                                       const std::vector<std::byte>& needle) {
  const int fd = ::open(image.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  std::vector<std::uint64_t> hits;
  std::vector<std::byte> buf(1 << 20);
  for (std::uint64_t base = 0;; base += buf.size()) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(base));
    REQUIRE(n >= 0);
    if (n == 0)
      break;
    for (std::size_t off = 0; off + needle.size() <= static_cast<std::size_t>(n); off += 4096) {
      if (std::memcmp(buf.data() + off, needle.data(), needle.size()) == 0)
        hits.push_back(base + off);
    }
  }
  ::close(fd);
  return hits;
}

// Flips one byte of `path` at `offset` and makes it durable.
void FlipByte(const fs::path& path, std::uint64_t offset) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(fd >= 0);
  unsigned char b = 0;
  REQUIRE(::pread(fd, &b, 1, static_cast<off_t>(offset)) == 1);
  b ^= 0x81;
  REQUIRE(::pwrite(fd, &b, 1, static_cast<off_t>(offset)) == 1);
  REQUIRE(::fsync(fd) == 0);
  ::close(fd);
}

// The errno of reading `len` bytes of `path` at `offset`, 0 when it reads.
int ReadErrno(const fs::path& path, std::uint64_t offset, std::size_t len) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  std::vector<std::byte> buf(len);
  const ssize_t n = ::pread(fd, buf.data(), len, static_cast<off_t>(offset));
  const int err = n < 0 ? errno : 0;
  ::close(fd);
  return err;
}

std::size_t CountKind(const nlohmann::json& doc, const std::string& kind) {
  std::size_t n = 0;
  for (const auto& f : doc["findings"]) n += f["kind"] == kind ? 1 : 0;
  return n;
}

const nlohmann::json* FindKind(const nlohmann::json& doc, const std::string& kind) {
  for (const auto& f : doc["findings"]) {
    if (f["kind"] == kind)
      return &f;
  }
  return nullptr;
}

TEST_CASE(
    "scrub: a sector btrfs refuses to read (EIO) is a read_error, and fix rewrites the file from "
    "parity",
    "[scrub][fix][btrfs][root]") {
  // STRATEGY:
  // 1. A 128 MiB btrfs image mounted (-o loop) as d1, holding a film of 6
  //    blocks and 1000 bytes of random data; d2 and the parity on plain
  //    directories; 64 KiB blocks; sync.
  // 2. Unmount. In the image, find the one 4 KiB-aligned sector that starts
  //    with the film's 64 bytes at a 4 KiB-aligned offset inside block 2,
  //    and flip one byte of it. Drop caches and mount again: reading that
  //    sector fails with EIO, the block before it still reads.
  // 3. scrub --plan full --json exits 1 with one read_error naming d1, the
  //    film and an offset inside block 2, and no silent_corruption; check
  //    reports the same.
  // 4. fix --json exits 0, one file and one block repaired. The film reads
  //    whole again with its original bytes; scrub --plan full exits 0 and
  //    status shows no read_error.
  {
    INFO(
        "mkfs.btrfs is missing: install btrfs-progs (scripts/install-deps.sh); "
        "ctest skips this test then");
    REQUIRE(
        (::access("/usr/sbin/mkfs.btrfs", X_OK) == 0 || ::access("/sbin/mkfs.btrfs", X_OK) == 0));
  }
  TempDir dir;
  const fs::path image = dir / "img/d1.img";
  const fs::path d1 = dir / "mnt/d1";
  const fs::path d2 = dir / "d2";
  const fs::path parity = dir / "parity/atlas.parity";
  fs::create_directories(image.parent_path());
  WriteFile(image, std::string());
  fs::resize_file(image, kImageSize);  // sparse
  {
    const std::string mkfs = "mkfs.btrfs -q -f " + ShellQuote(image.native()) + " >/dev/null 2>&1";
    INFO(mkfs);
    REQUIRE(Shell(mkfs).exit_code == 0);
  }
  std::optional<Mount> mount;
  mount.emplace(image.native(), d1, "btrfs", "loop");

  const std::vector<std::byte> film = RandomBytes(kFileSize, 0xb7f5);
  WriteFile(d1 / "Movies/film.mkv", film);
  WriteFile(d2 / "b.bin", RandomBytes(5 * kBlock + 77, 2));
  fs::create_directories(parity.parent_path());
  std::string toml;
  toml += "manifest = \"" + (dir / "var/manifest").string() + "\"\n";
  toml += "manifest_copies = [\"" + (dir / "copies").string() + "\"]\n";
  toml += "block_size = " + std::to_string(kBlock) + "\n";
  // As in guards_root_test.cc: nothing here deletes files, and the deletion
  // limit must not be what refuses a run.
  toml += "[guards]\nmax_deletes_pct = 100\n";
  toml += "[[data]]\nname = \"d1\"\npath = \"" + d1.string() + "\"\n";
  toml += "[[data]]\nname = \"d2\"\npath = \"" + d2.string() + "\"\n";
  toml += "[[parity]]\npath = \"" + parity.string() + "\"\n";
  const fs::path config = dir / "atlas-scrub.toml";
  WriteFile(config, toml);
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"-c", config.string(), "--json"});
    return RunCli(args);
  };
  {
    CliResult sync = run({"sync"});
    INFO(sync.out << sync.err);
    REQUIRE(sync.exit_code == 0);
  }

  // 2. One flipped byte in the image, under the filesystem's feet.
  mount->Unmount();
  mount.reset();
  const std::vector<std::byte> needle(film.begin() + kNeedleOffset,
                                      film.begin() + kNeedleOffset + kNeedleSize);
  const std::vector<std::uint64_t> sectors = FindSectors(image, needle);
  REQUIRE(sectors.size() == 1);
  FlipByte(image, sectors.front() + 1000);
  REQUIRE(Shell("sync && echo 3 > /proc/sys/vm/drop_caches").exit_code == 0);
  mount.emplace(image.native(), d1, "btrfs", "loop");
  const fs::path path = d1 / "Movies/film.mkv";
  REQUIRE(ReadErrno(path, kNeedleOffset, 4096) == EIO);
  REQUIRE(ReadErrno(path, kBlock, kBlock) == 0);

  // 3. scrub and check call it a read error, where it is.
  CliResult scrub = run({"scrub", "--plan", "full"});
  INFO("scrub: " << scrub.out << scrub.err);
  CHECK(scrub.exit_code == 1);
  CHECK(CountKind(scrub.json, "silent_corruption") == 0);
  REQUIRE(CountKind(scrub.json, "read_error") == 1);
  const nlohmann::json& f = *FindKind(scrub.json, "read_error");
  CHECK(f["disk"] == "d1");
  CHECK(f["path"] == "Movies/film.mkv");
  REQUIRE(f.contains("offset"));
  CHECK(f["offset"].get<std::uint64_t>() >= kBadBlock * kBlock);
  CHECK(f["offset"].get<std::uint64_t>() <= kNeedleOffset);
  CliResult check = run({"check"});
  INFO("check: " << check.out << check.err);
  CHECK(check.exit_code == 1);
  CHECK(CountKind(check.json, "read_error") == 1);
  CHECK(CountKind(check.json, "silent_corruption") == 0);

  // 4. fix rewrites the film onto new extents, from parity.
  CliResult fix = run({"fix"});
  INFO("fix: " << fix.out << fix.err);
  REQUIRE(fix.exit_code == 0);
  CHECK(fix.json["files_repaired"] == 1);
  CHECK(fix.json["blocks_recovered"] == 1);
  CHECK(ReadErrno(path, kNeedleOffset, 4096) == 0);
  CHECK(Difference(ReadFileBytes(path), film) == "");
  CliResult clean = run({"scrub", "--plan", "full"});
  INFO("scrub after fix: " << clean.out << clean.err);
  CHECK(clean.exit_code == 0);
  CliResult status = run({"status"});
  INFO("status: " << status.out << status.err);
  CHECK(CountKind(status.json, "read_error") == 0);
}

}  // namespace
}  // namespace atlas::testing
