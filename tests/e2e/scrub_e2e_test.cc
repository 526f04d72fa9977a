// scrub and check through the real binary.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atlas/manifest.h"
#include "support/temp_array.h"
#include "support/verify_array.h"

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

// Rewrites the parity checksum record at `pos` in the array's manifest.
void ForgeParityHash(const TempArray& a, std::uint64_t pos, const std::function<void(ParityHashRecord&)>& edit) {
  Result<std::unique_ptr<Manifest>> m = OpenManifest(a.Manifest(), ManifestOptions());
  REQUIRE_OK(m.status());
  Result<std::optional<ParityHashRecord>> r = (*m)->GetParityHash(pos);
  REQUIRE_OK(r.status());
  REQUIRE(r->has_value());
  ParityHashRecord rec = **r;
  edit(rec);
  std::unique_ptr<ManifestBatch> b = (*m)->NewBatch();
  b->PutParityHash(rec);
  REQUIRE_OK((*m)->Commit(*b, /*durable=*/true));
}

TEST_CASE("scrub: sync stores parity checksums, a delta update drops them, a full scrub proves and restores them",
          "[scrub][e2e]") {
  // STRATEGY: a position's parity checksums let scrub skip recomputing the
  // parity; a delta update builds on stored parity that it did not verify,
  // so it must not leave them; a scrub that recomputes the parity and finds
  // every level right stores them again.
  TempArray a(4, 2);
  a.Write(1, "one.mkv", 1000, 1);
  for (int d = 2; d <= 4; ++d) a.Write(d, "f.mkv", 8 * 65536, 10 + d);  // positions 0..7
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  ArrayCheck first = VerifyArray(a);
  INFO(first.first_problem);
  CHECK(first.current_parity_hashes == 8);
  CHECK(first.false_parity_hashes == 0);
  CHECK(first.coverage_mismatches == 0);

  a.Write(1, "new.mkv", 5 * 65536, 2);  // d1 positions 1..5: one new block over zeros, a delta each
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  ArrayCheck delta = VerifyArray(a);
  INFO(delta.first_problem);
  CHECK(delta.bad_parity_bytes == 0);
  CHECK(delta.current_parity_hashes == 3);  // 0, 6 and 7
  CHECK(delta.false_parity_hashes == 0);
  CHECK(delta.coverage_mismatches == 0);

  std::string before = TreeFingerprint(a.Manifest());
  CliResult check = a.Run({"check"});
  CHECK(check.exit_code == 0);
  CHECK(check.json["positions_verified"] == 8);
  CHECK(TreeFingerprint(a.Manifest()) == before);  // check records nothing, checksums neither

  CliResult scrub = a.Run({"scrub", "--plan", "full"});
  INFO(scrub.out << scrub.err);
  CHECK(scrub.exit_code == 0);
  CHECK(scrub.json["positions_verified"] == 8);
  ArrayCheck after = VerifyArray(a);
  CHECK(after.current_parity_hashes == 8);
  CHECK(after.false_parity_hashes == 0);
  CHECK(after.coverage_mismatches == 0);
}

TEST_CASE("scrub: parity checksums stand for the parity only with the data they were computed from",
          "[scrub][e2e]") {
  // STRATEGY: corrupt a parity block, then make its checksum record agree
  // with the corrupt bytes. While the record's data digest matches the
  // blocks there, scrub trusts it (this is the quick path: the record says
  // sync computed exactly these bytes from exactly this data). Once the
  // digest names other data, as it does after any change of the blocks
  // there, scrub recomputes and finds the mismatch.
  TempArray a(4, 2);
  Populate(a);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  const std::uint64_t pos = 2;
  {
    int fd = open(a.Parity(2).c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    std::vector<std::byte> junk = RandomBytes(512, 7);
    REQUIRE(pwrite(fd, junk.data(), junk.size(), pos * 65536 + 100) == 512);
    close(fd);
  }
  std::vector<std::byte> parity = ReadFileBytes(a.Parity(2));
  const Hash128 corrupt = HashBlock(std::span<const std::byte>(parity.data() + pos * 65536, 65536));

  ForgeParityHash(a, pos, [&](ParityHashRecord& r) { r.levels[1] = corrupt; });
  CliResult trusted = a.Run({"check"});
  INFO(trusted.out << trusted.err);
  CHECK(trusted.exit_code == 0);

  ForgeParityHash(a, pos, [](ParityHashRecord& r) { r.data_digest.lo ^= 1; });
  CliResult scrub = a.Run({"scrub", "--plan", "full"});
  INFO(scrub.out << scrub.err);
  CHECK(scrub.exit_code == 1);
  CHECK(CountKind(scrub.json, "parity_mismatch") == 1);
  CHECK(CountKind(scrub.json, "silent_corruption") == 0);

  // fix rewrites the level; a scrub then stores checksums of the repaired
  // parity, and every record is true again.
  REQUIRE(a.Run({"fix"}).exit_code == 0);
  CHECK(a.Run({"scrub", "--plan", "full"}).exit_code == 0);
  ArrayCheck c = VerifyArray(a);
  INFO(c.first_problem);
  CHECK(c.bad_parity_bytes == 0);
  CHECK(c.false_parity_hashes == 0);
  CHECK(c.coverage_mismatches == 0);
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
