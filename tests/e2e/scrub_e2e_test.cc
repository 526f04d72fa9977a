// scrub and check through the real binary.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/temp_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

std::size_t CountKind(const nlohmann::json& doc, const std::string& kind) {
  std::size_t n = 0;
  for (const auto& f : doc["findings"]) n += f["kind"] == kind ? 1 : 0;
  return n;
}

void Populate(TempArray& a) {
  a.Write(1, "Movies/Big Film (2010).mkv", 10 * 65536 + 123, 1);
  a.Write(2, "Music/album/track.flac", 4 * 65536, 2);
  a.Write(3, "Photos/img.jpg", 70000, 3);
  a.Write(4, "TV/show.ts", 6 * 65536, 4);
}

TEST_CASE("scrub: one flipped byte mid-block is exactly one silent_corruption naming disk and path",
          "[scrub][e2e]") {
  TempArray a(4, 2);
  Populate(a);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  REQUIRE(a.Run({"scrub", "--plan", "full"}).exit_code == 0);
  FlipByteKeepMtime(a.File(1, "Movies/Big Film (2010).mkv"), 3 * 65536 + 4000);
  CliResult diff = a.Run({"diff"});
  CHECK(diff.json["drift"]["modified"] == 0);  // metadata cannot see it

  CliResult scrub = a.Run({"scrub", "--plan", "full"});
  INFO(scrub.out << scrub.err);
  CHECK(scrub.exit_code == 1);
  REQUIRE(scrub.json["findings"].size() == 1);
  const auto& f = scrub.json["findings"][0];
  CHECK(f["kind"] == "silent_corruption");
  CHECK(f["severity"] == "critical");
  CHECK(f["disk"] == "d1");
  CHECK(f["path"] == "Movies/Big Film (2010).mkv");
  CHECK(f["offset"] == 3 * 65536);

  CliResult status = a.Run({"status"});
  CHECK(status.exit_code == 1);
  CHECK(status.json["health"] == "critical");
  CHECK(CountKind(status.json, "silent_corruption") == 1);
}

TEST_CASE("scrub: a corrupted parity file is parity_mismatch, not data corruption", "[scrub][e2e]") {
  TempArray a(4, 2);
  Populate(a);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  {
    int fd = open(a.Parity(2).c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    std::vector<std::byte> junk = RandomBytes(512, 7);
    REQUIRE(pwrite(fd, junk.data(), junk.size(), 2 * 65536 + 100) == 512);
    close(fd);
  }
  CliResult scrub = a.Run({"scrub", "--plan", "full"});
  INFO(scrub.out << scrub.err);
  CHECK(scrub.exit_code == 1);
  CHECK(CountKind(scrub.json, "parity_mismatch") == 1);
  CHECK(CountKind(scrub.json, "silent_corruption") == 0);
  CHECK(scrub.json["findings"][0]["disk"] == "parity2");
  CHECK(scrub.json["findings"][0]["message"].get<std::string>().find("(2..2)") != std::string::npos);
}

TEST_CASE("check: verifies without recording anything, and --disk/--filter narrow it", "[check][e2e]") {
  TempArray a(4, 2);
  Populate(a);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  FlipByteKeepMtime(a.File(2, "Music/album/track.flac"), 3 * 65536 + 10);  // position 3
  std::string manifest = TreeFingerprint(a.Manifest());

  CliResult all = a.Run({"check"});
  CHECK(all.exit_code == 1);
  CHECK(CountKind(all.json, "silent_corruption") == 1);
  CHECK(TreeFingerprint(a.Manifest()) == manifest);

  CliResult other = a.Run({"check", "--disk", "d3"});
  CHECK(other.exit_code == 0);
  CHECK(other.json["positions_selected"] == 2);  // Photos/img.jpg: 2 blocks

  CliResult filtered = a.Run({"check", "--filter", "Music/*"});
  CHECK(filtered.exit_code == 1);
  CHECK(filtered.json["positions_selected"] == 4);

  CliResult unknown = a.Run({"check", "--disk", "d9"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("d9") != std::string::npos);
}

TEST_CASE("scrub: refuses to run before the first sync and with a missing disk", "[scrub][e2e]") {
  TempArray a(2, 1);
  a.Write(1, "a.mkv", 1000, 1);
  CliResult early = a.Run({"scrub"});
  CHECK(early.exit_code == 3);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  fs::rename(a.Disk(2), a.root() / "gone");
  CliResult missing = a.Run({"scrub"});
  CHECK(missing.exit_code == 3);
  CHECK(CountKind(missing.json, "missing_disk") == 1);
}

}  // namespace
}  // namespace atlas::testing
