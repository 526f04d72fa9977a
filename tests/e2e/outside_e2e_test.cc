// End-to-end tests of `outside` and the index `sync` exports for it.
//
// STRATEGY:
// 1. Build a real array, sync it with the binary, and take the outside.idx it
//    wrote into a manifest copy directory, as a compute host would see it.
// 2. Lay out a compute-host tree beside it: a renamed copy of an Atlas file,
//    a same-size different-content file with an Atlas file's name, unique
//    files (one unreadable, with a size no Atlas file has), a non-media copy
//    of an Atlas file, and an unreadable directory.
// 3. Run `outside --json` as an unprivileged user (setpriv; root would
//    read through chmod 000), with --index and no config, and assert every
//    finding, error and count; then with --all; then from a config.
// 4. Fingerprint the tree and the whole array before and after: nothing
//    written, not one byte or mtime.
// 5. A truncated index, a foreign file, a missing file, no config and no
//    --index: the exit code and a message naming the file.
// 6. sync: a sync with nothing to do leaves the index alone (same inode and
//    mtime), a removed index is written back, a changing sync refreshes it.
#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

#include "atlas/outside.h"
#include "support/temp_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kNobody = 65534;

// The prefix that runs the binary as an unprivileged user, or nullopt when
// this cannot be arranged (root without setpriv).
std::optional<std::vector<std::string>> Unprivileged() {
  if (geteuid() != 0)
    return std::vector<std::string>{};
  if (access("/usr/bin/setpriv", X_OK) != 0)
    return std::nullopt;
  std::vector<std::string> prefix = {"/usr/bin/setpriv", "--reuid=" + std::to_string(kNobody),
                                     "--regid=" + std::to_string(kNobody), "--clear-groups"};
  // The build tree must be reachable by that user (not under a 0700 home).
  if (RunCliPrefixed(prefix, {"--version"}).exit_code != 0)
    return std::nullopt;
  return prefix;
}

// Lets another user traverse a temp dir (mkdtemp makes them 0700).
void OpenUp(const fs::path& dir) {
  REQUIRE(chmod(dir.c_str(), 0755) == 0);
}

std::vector<std::byte> Copy(const fs::path& from, const fs::path& to) {
  std::vector<std::byte> data = ReadFileBytes(from);
  WriteFile(to, data);
  return data;
}

// The array of every test here: two data disks, one parity level.
struct Atlas {
  TempArray a{2, 1, 64 * 1024};
  Atlas() {
    OpenUp(a.root());
    a.Write(1, "Movies/x.mkv", 300000, 1);
    a.Write(2, "Movies/y.mkv", 200000, 2);
    a.Write(1, "Music/song.flac", 50000, 3);
    a.Write(2, "Photos/pic.jpg", 70001, 4);
    CliResult s = a.Run({"sync"});
    INFO(s.err);
    REQUIRE(s.exit_code == 0);
  }
  fs::path Index(int copy = 1) const { return a.Copy(copy) / "outside.idx"; }
};

// The compute host's tree.
struct HostTree {
  TempDir dir;
  explicit HostTree(const Atlas& atlas) {
    OpenUp(dir.path());
    Copy(atlas.a.File(1, "Movies/x.mkv"), dir / "downloads/renamed x.MKV");
    WriteFile(dir / "library/y.mkv", RandomBytes(200000, 99));  // Atlas's y.mkv size, other bytes
    WriteFile(dir / "library/unique.mp4", RandomBytes(123457, 100));
    WriteFile(dir / "library/locked-unique.mkv", RandomBytes(77777, 101));
    Copy(atlas.a.File(1, "Music/song.flac"), dir / "notes.txt");
    WriteFile(dir / "private/secret.mkv", RandomBytes(1000, 102));
    for (const char* d : {"downloads", "library"}) OpenUp(dir / d);
    REQUIRE(chmod((dir / "library/locked-unique.mkv").c_str(), 0) == 0);
    REQUIRE(chmod((dir / "private").c_str(), 0) == 0);
  }
  std::string P(const std::string& rel) const { return (dir / rel).string(); }
};

nlohmann::json F(const std::string& kind, const std::string& severity, const std::string& path,
                 const std::string& message, const std::string& from = "") {
  nlohmann::json j = {
      {"severity", severity}, {"kind", kind}, {"disk", ""}, {"path", path}, {"message", message}};
  if (!from.empty())
    j["from"] = from;
  return j;
}

TEST_CASE(
    "outside: a compute host's copies, same-name impostors and only copies are told apart by "
    "content",
    "[outside][e2e]") {
  Atlas atlas;
  std::optional<std::vector<std::string>> nobody = Unprivileged();
  if (!nobody) {
    WARN(
        "SKIPPED: root, and no way to run the binary as an unprivileged user (setpriv missing, "
        "or the build tree unreachable for uid 65534); unreadable paths are not tested");
    return;
  }
  HostTree host(atlas);
  const std::string tree_before = TreeFingerprint(host.dir.path());
  const std::string atlas_before = TreeFingerprint(atlas.a.root());

  CliResult r = RunCliPrefixed(
      *nobody, {"--json", "outside", "--index", atlas.Index().string(), host.dir.path().string()});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 1);
  REQUIRE(r.json.is_object());
  CHECK(r.json["schema"] == 1);
  CHECK(r.json["command"] == "outside");
  CHECK(r.json["index"] == atlas.Index().string());
  CHECK(r.json["index_files"] == 4);
  CHECK(r.json["scanned_files"] == 4);
  CHECK(r.json["scanned_bytes"] == 300000 + 200000 + 123457 + 77777);
  CHECK(r.json["hashed_files"] == 2);
  CHECK(r.json["hashed_bytes"] == 500000);
  nlohmann::json want = nlohmann::json::array();
  want.push_back(F("duplicate_outside", "warning", host.P("downloads/renamed x.MKV"),
                   "duplicates d1:Movies/x.mkv", "d1:Movies/x.mkv"));
  want.push_back(
      F("only_copy_outside", "critical", host.P("library/locked-unique.mkv"), "no copy on Atlas"));
  want.push_back(
      F("only_copy_outside", "critical", host.P("library/unique.mp4"), "no copy on Atlas"));
  want.push_back(
      F("only_copy_outside", "critical", host.P("library/y.mkv"),
        "no copy on Atlas; Atlas has d2:Movies/y.mkv with the same name but other content"));
  CHECK(r.json["findings"] == want);
  // The unreadable directory is reported, not fatal; the unreadable file of
  // a size no Atlas file has was never opened, so it is no error.
  REQUIRE(r.json["errors"].size() == 1);
  CHECK(r.json["errors"][0]["path"] == host.P("private"));
  CHECK(r.json["errors"][0]["message"].get<std::string>().find("Permission denied") !=
        std::string::npos);

  // --all: the non-media copy of an Atlas file is a duplicate too.
  CliResult all = RunCliPrefixed(*nobody, {"--json", "outside", "--all", "--index",
                                           atlas.Index().string(), host.dir.path().string()});
  REQUIRE(all.exit_code == 1);
  CHECK(all.json["scanned_files"] == 5);
  bool notes = false;
  for (const auto& f : all.json["findings"]) {
    notes = notes || (f == F("duplicate_outside", "warning", host.P("notes.txt"),
                             "duplicates d1:Music/song.flac", "d1:Music/song.flac"));
  }
  CHECK(notes);

  // Text output: the summary, every finding, the unreadable directory.
  CliResult text = RunCliPrefixed(
      *nobody, {"outside", "--index", atlas.Index().string(), host.dir.path().string()});
  CHECK(text.exit_code == 1);
  CHECK(text.out.find("4 media files") != std::string::npos);
  CHECK(text.out.find("3 only on this host, 1 duplicates of Atlas files, 1 unreadable") !=
        std::string::npos);
  CHECK(text.out.find("only_copy_outside") != std::string::npos);
  CHECK(text.err.find("not scanned: opendir " + host.P("private")) != std::string::npos);

  CHECK(TreeFingerprint(host.dir.path()) == tree_before);
  CHECK(TreeFingerprint(atlas.a.root()) == atlas_before);
}

TEST_CASE(
    "outside: with a config, the index comes from the manifest copies and nothing is found twice",
    "[outside][e2e]") {
  Atlas atlas;
  TempDir host;
  Copy(atlas.a.File(2, "Photos/pic.jpg"), host / "DCIM/IMG_0001.JPG");
  const std::string before = TreeFingerprint(atlas.a.root());
  CliResult r = atlas.a.Run({"outside", host.path().string()});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 1);
  CHECK(r.json["index"] == atlas.Index(1).string());
  REQUIRE(r.json["findings"].size() == 1);
  CHECK(r.json["findings"][0] == F("duplicate_outside", "warning",
                                   (host / "DCIM/IMG_0001.JPG").string(),
                                   "duplicates d2:Photos/pic.jpg", "d2:Photos/pic.jpg"));
  CHECK(r.json["errors"].empty());
  CHECK(TreeFingerprint(atlas.a.root()) == before);

  // Nothing media-like left: exit 0.
  fs::remove(host / "DCIM/IMG_0001.JPG");
  WriteFile(host / "readme.txt", std::string("hello"));
  CliResult clean = atlas.a.Run({"outside", host.path().string()});
  CHECK(clean.exit_code == 0);
  CHECK(clean.json["scanned_files"] == 0);
  CHECK(clean.json["findings"].empty());
}

TEST_CASE(
    "outside: a truncated, foreign or missing index stops the run with a message naming the file",
    "[outside][e2e]") {
  Atlas atlas;
  TempDir host;
  WriteFile(host / "a.mkv", RandomBytes(10, 1));
  const fs::path truncated = host / "truncated.idx";
  {
    std::vector<std::byte> bytes = ReadFileBytes(atlas.Index());
    bytes.resize(bytes.size() - 5);
    WriteFile(truncated, bytes);
  }
  CliResult t = RunCli({"outside", "--index", truncated.string(), host.path().string()});
  CHECK(t.exit_code == 3);
  CHECK(t.err.find(truncated.string() + ": outside index is corrupt or truncated") !=
        std::string::npos);

  CliResult f = RunCli({"outside", "--index", (host / "a.mkv").string(), host.path().string()});
  CHECK(f.exit_code == 2);
  CHECK(f.err.find((host / "a.mkv").string() + ": not an atlas-scrub outside index") !=
        std::string::npos);

  CliResult m =
      RunCli({"--json", "outside", "--index", (host / "none.idx").string(), host.path().string()});
  CHECK(m.exit_code == 2);
  CHECK(m.json["error"].get<std::string>().find((host / "none.idx").string() +
                                                ": no such outside index") != std::string::npos);

  if (!fs::exists("/etc/atlas-scrub/atlas-scrub.toml")) {
    CliResult n = RunCli({"outside", host.path().string()});
    CHECK(n.exit_code == 2);
    CHECK(n.err.find("outside needs --index FILE when there is no config") != std::string::npos);
  }

  CliResult p =
      RunCli({"outside", "--index", atlas.Index().string(), (host / "no-such-dir").string()});
  CHECK(p.exit_code == 2);
  CHECK(p.err.find((host / "no-such-dir").string() + ": no such file or directory") !=
        std::string::npos);

  // Every manifest copy without an index: exit 3, naming where it looked.
  fs::remove(atlas.Index(1));
  fs::remove(atlas.Index(2));
  CliResult none = atlas.a.Run({"outside", host.path().string()}, /*json=*/false);
  CHECK(none.exit_code == 3);
  CHECK(none.err.find(atlas.Index(2).string()) != std::string::npos);
}

TEST_CASE(
    "outside: sync writes the index into every manifest copy, and only when something changed",
    "[outside][e2e][sync]") {
  Atlas atlas;
  struct stat st1 {
  }, st2{};
  REQUIRE(stat(atlas.Index(1).c_str(), &st1) == 0);
  REQUIRE(stat(atlas.Index(2).c_str(), &st2) == 0);
  CHECK((st1.st_mode & 0777) == 0644);
  CHECK(ReadFileBytes(atlas.Index(1)) == ReadFileBytes(atlas.Index(2)));
  for (const auto& e : fs::directory_iterator(atlas.a.Copy(1))) {
    CHECK(e.path().filename().string().find("outside.idx.tmp") == std::string::npos);
  }

  // Nothing to do: the index is left alone, not rewritten.
  const std::string copies_before = TreeFingerprint(atlas.a.Copy(1));
  REQUIRE(atlas.a.Run({"sync"}).exit_code == 0);
  struct stat again {};
  REQUIRE(stat(atlas.Index(1).c_str(), &again) == 0);
  CHECK(again.st_ino == st1.st_ino);
  CHECK(again.st_mtim.tv_nsec == st1.st_mtim.tv_nsec);
  CHECK(TreeFingerprint(atlas.a.Copy(1)) == copies_before);

  // A copy directory that lost its index gets it back from a no-op sync.
  fs::remove(atlas.Index(2));
  REQUIRE(atlas.a.Run({"sync"}).exit_code == 0);
  CHECK(ReadFileBytes(atlas.Index(2)).size() == ReadFileBytes(atlas.Index(1)).size());

  // A changing sync refreshes it: the new file is found on Atlas.
  TempDir host;
  std::vector<std::byte> added = atlas.a.Write(2, "TV/new.mkv", 99999, 7);
  WriteFile(host / "new.mkv", added);
  CliResult before =
      RunCli({"--json", "outside", "--index", atlas.Index(1).string(), host.path().string()});
  CHECK(before.json["findings"][0]["kind"] == "only_copy_outside");
  REQUIRE(atlas.a.Run({"sync"}).exit_code == 0);
  for (int copy : {1, 2}) {
    CliResult after =
        RunCli({"--json", "outside", "--index", atlas.Index(copy).string(), host.path().string()});
    INFO(after.out);
    CHECK(after.json["index_files"] == 5);
    CHECK(after.json["findings"][0]["message"] == "duplicates d2:TV/new.mkv");
  }
}

TEST_CASE(
    "outside: a sync killed while writing the index leaves the old one, and the next sync finishes "
    "it",
    "[outside][e2e][sync]") {
  Atlas atlas;
  const std::vector<std::byte> old_index = ReadFileBytes(atlas.Index(1));
  atlas.a.Write(1, "Movies/later.mkv", 4321, 8);
  for (const char* point : {"outside.export_before_rename", "outside.export_after_rename"}) {
    INFO(point);
    CliResult crashed = atlas.a.Run({"sync"}, /*json=*/false, {{"ATLAS_SCRUB_CRASH_AT", point}});
    REQUIRE(crashed.exit_code == 137);
    // A reader meanwhile sees a whole index: the old one or the new one.
    CliResult during =
        RunCli({"--json", "outside", "--index", atlas.Index(1).string(), atlas.a.Disk(1).string()});
    CHECK((during.exit_code == 1 || during.exit_code == 0));
    CHECK(during.json["ok"] == true);
  }
  CliResult again = atlas.a.Run({"sync"});
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(ReadFileBytes(atlas.Index(1)) != old_index);
  for (int copy : {1, 2}) {
    for (const auto& e : fs::directory_iterator(atlas.a.Copy(copy))) {
      CHECK(e.path().filename().string().find("outside.idx.tmp") == std::string::npos);
    }
    CliResult r = RunCli(
        {"--json", "outside", "--index", atlas.Index(copy).string(), atlas.a.Disk(1).string()});
    CHECK(r.json["index_files"] == 5);
  }
}

TEST_CASE("outside: a hard-linked Atlas file is one piece of content in the index, under its content name",
          "[outside][e2e][issue-17]") {
  Atlas atlas;
  REQUIRE(::link(atlas.a.File(1, "Movies/x.mkv").c_str(), atlas.a.File(1, "Movies/x (copy).mkv").c_str()) == 0);
  CliResult s = atlas.a.Run({"sync"});
  INFO(s.out << s.err);
  REQUIRE(s.exit_code == 0);
  Result<OutsideIndex> index = ReadOutsideIndex(atlas.Index(1), {});
  REQUIRE(index.ok());
  std::vector<std::string> x;
  for (const OutsideIndexEntry& e : index->entries()) {
    if (e.size == 300000) x.push_back(e.path);
  }
  // One entry for the inode, not one per name: the name recorded before
  // keeps the content (though the new name sorts first); the new one is a
  // hard link entry of the manifest.
  CHECK(x == std::vector<std::string>{"Movies/x.mkv"});
  CHECK(index->entries().size() == 4);

  // A copy on a host is one duplicate of that content.
  TempDir host;
  Copy(atlas.a.File(1, "Movies/x.mkv"), host / "x.mkv");
  CliResult r = atlas.a.Run({"outside", host.path().string()});
  INFO(r.out << r.err);
  REQUIRE(r.json["findings"].size() == 1);
  CHECK(r.json["findings"][0]["from"] == "d1:Movies/x.mkv");
}

}  // namespace
}  // namespace atlas::testing
