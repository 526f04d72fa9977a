// Manifest schema upgrades, through the real binary.
//
// STRATEGY:
// 1. Sync an array, then make its manifest what a schema 1 program left:
//    drop the keys schema 2 added (fix_temp_tag, outside_signing_key) and set
//    schema to 1, with RocksDB directly (docs/FORMAT.md: meta := 'm' name).
// 2. Read-only commands (diff, fix --dry-run, status) work on it and leave it
//    at schema 1.
// 3. The first read-write run (scrub) upgrades it in place: schema 4 and a
//    16-hex-digit tag, every record kept (check is clean; a corrupt block is
//    still found and repaired byte for byte, through a tagged temporary file
//    that is gone afterwards).
// 4. A manifest of a newer schema is refused with exit 3, naming both.
// 5. A schema 2 manifest (no outside hosts table) is read by status as it
//    is, and the first `outside` run with [[outside.hosts]] stores its host
//    and upgrades it to the current schema (4).
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <rocksdb/db.h>

#include "support/raw_manifest.h"
#include "support/temp_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

bool IsHex16(const std::string& s) {
  return s.size() == 16 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST_CASE("manifest: a schema 1 manifest is read as it is and upgraded in place by the first run that writes",
          "[manifest][e2e][issue-14]") {
  TempArray a(2, 1);
  const std::vector<std::byte> film = a.Write(1, "Movies/film.mkv", 300000, 1);
  a.Write(2, "Music/a.flac", 100000, 2);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  REQUIRE(Meta(a.Manifest(), "schema") == "4");
  REQUIRE(IsHex16(Meta(a.Manifest(), "fix_temp_tag")));

  // What a schema 1 program wrote.
  const std::string one = "1";
  SetMeta(a.Manifest(), "fix_temp_tag", nullptr);
  SetMeta(a.Manifest(), "outside_signing_key", nullptr);
  SetMeta(a.Manifest(), "schema", &one);

  for (const std::vector<std::string>& cmd :
       std::vector<std::vector<std::string>>{{"diff"}, {"fix", "--dry-run"}, {"status"}}) {
    CliResult r = a.Run(cmd);
    INFO(cmd[0] << ": " << r.out << r.err);
    CHECK(r.exit_code == 0);
  }
  CHECK(Meta(a.Manifest(), "schema") == "1");
  CHECK(Meta(a.Manifest(), "fix_temp_tag") == "<none>");

  CliResult scrub = a.Run({"scrub", "--plan", "full"});
  INFO(scrub.out << scrub.err);
  CHECK(scrub.exit_code == 0);
  CHECK(Meta(a.Manifest(), "schema") == "4");
  const std::string tag = Meta(a.Manifest(), "fix_temp_tag");
  CHECK(IsHex16(tag));

  CliResult check = a.Run({"check"});
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
  FlipByteKeepMtime(a.File(1, "Movies/film.mkv"), 100000);
  CliResult fix = a.Run({"fix"});
  INFO(fix.out << fix.err);
  CHECK(fix.exit_code == 0);
  CHECK(ReadFileBytes(a.File(1, "Movies/film.mkv")) == film);
  for (const auto& e : fs::directory_iterator(a.File(1, "Movies"))) {
    CHECK(e.path().filename().string().rfind(".atlas-fix-", 0) != 0);
  }
  CHECK(Meta(a.Manifest(), "fix_temp_tag") == tag);  // drawn once, kept
}

TEST_CASE("manifest: a schema 2 manifest is upgraded to the current schema by the first outside run that stores a host",
          "[manifest][e2e][issue-16]") {
  TempArray a(2, 1);
  a.Write(1, "a.mkv", 100000, 1);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  const std::string two = "2";
  SetMeta(a.Manifest(), "schema", &two);
  {
    std::ofstream config(a.config(), std::ios::app);
    config << "\n[[outside.hosts]]\nname = \"h1\"\ncommand = [\"" << ATLAS_SCRUB_BIN
           << "\", \"outside\", \"--json\", \"--index\", \"-\", \"" << a.Disk(1).string() << "\"]\n";
  }
  CliResult before = a.Run({"status"});
  INFO(before.out << before.err);
  CHECK(before.exit_code == 0);
  CHECK(before.json["outside"][0]["checked"].is_null());
  CHECK(Meta(a.Manifest(), "schema") == "2");

  CliResult out = a.Run({"outside"});
  INFO(out.out << out.err);
  CHECK(out.exit_code == 1);  // a.mkv itself, scanned as the host: a duplicate
  CHECK(Meta(a.Manifest(), "schema") == "4");
  CliResult after = a.Run({"status"});
  CHECK(after.json["outside"][0]["host"] == "h1");
  CHECK(after.json["outside"][0]["checked"].is_string());
  CHECK(after.json["outside"][0]["duplicates"] == 1);
}

TEST_CASE("manifest: a manifest of a newer schema is refused, naming both versions", "[manifest][e2e][issue-14]") {
  TempArray a(2, 1);
  a.Write(1, "a.mkv", 100000, 1);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  const std::string five = "5";
  SetMeta(a.Manifest(), "schema", &five);
  CliResult status = a.Run({"status"}, /*json=*/false);
  INFO(status.out << status.err);
  CHECK(status.exit_code == 3);
  CHECK(status.err.find("has schema 5, newer than this atlas-scrub understands (4)") != std::string::npos);
  CHECK(Meta(a.Manifest(), "schema") == "5");
}

}  // namespace
}  // namespace atlas::testing
