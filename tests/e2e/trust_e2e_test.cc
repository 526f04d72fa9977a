// End-to-end tests of what atlas-scrub trusts on disks that every household
// user can write (issue 14, "What atlas trusts"): the manifest copy
// directories, restore-manifest's choice of copy, and the outside index.
//
// STRATEGY:
// 1. Build a real array whose data disk roots are writable by everyone
//    (0777, as an SMB share is), sync it as root, then act as an
//    unprivileged user (uid 65534 through setpriv) to plant what the attack
//    needs: a symlink in place of ".atlas-scrub", a copy directory of the
//    user's own with symlinks inside, a forged newer copy, a forged index,
//    a FIFO or /dev/zero as outside.idx.
// 2. Run the real binary as root (sync, restore-manifest) or as the user
//    (outside), and assert the exact outcome: exit code, finding kind and
//    message, that the file a symlink points at is byte-identical, that
//    nothing was written where the attack aimed, and the modes atlas gives
//    the manifest and its copies (0700 directories, 0600 files).
// 3. The careless-admin case: manifest_copies at a data disk's root is a
//    config error, and a user's file named like a backup file survives.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

#include "support/temp_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

constexpr unsigned kNobody = 65534;

const std::vector<std::string> kAsNobody = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                            "--clear-groups"};

// Whether the attacks can be played: root (atlas runs as root) and setpriv.
bool CanPlay() {
  if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0) {
    WARN("SKIPPED: needs root and setpriv to act as an unprivileged user");
    return false;
  }
  return true;
}

// Runs a shell script as uid 65534.
void AsNobody(const std::string& script) {
  std::string quoted;
  for (char c : script) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  const std::string cmd =
      "/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups /bin/sh -ec '" + quoted + "'";
  INFO(cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
}

unsigned ModeOf(const fs::path& p) {
  struct stat st {};
  REQUIRE(lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::string Q(const fs::path& p) {
  return "\"" + p.string() + "\"";
}

// An array as on a NAS: disk roots every user may write, reachable by them.
struct Share {
  TempArray a{2, 1, 64 * 1024};
  Share() {
    REQUIRE(chmod(a.root().c_str(), 0755) == 0);
    REQUIRE(chmod((a.root() / "mnt").c_str(), 0755) == 0);
    for (int d : {1, 2}) REQUIRE(chmod(a.Disk(d).c_str(), 0777) == 0);
    a.Write(1, "Movies/x.mkv", 300000, 1);
    a.Write(2, "Music/song.flac", 50000, 2);
  }
  void Sync(int want = 0) const {
    CliResult s = a.Run({"sync"});
    INFO(s.out << s.err);
    REQUIRE(s.exit_code == want);
  }
};

// A root-only file outside the array, the target of planted symlinks.
struct RootSecret {
  TempDir dir;
  fs::path path;
  std::vector<std::byte> bytes;
  RootSecret() : path(dir / "secret") {
    REQUIRE(chmod(dir.path().c_str(), 0755) == 0);
    bytes = RandomBytes(4096, 77);
    WriteFile(path, bytes);
    REQUIRE(chmod(path.c_str(), 0600) == 0);
  }
};

nlohmann::json FindingsOfKind(const nlohmann::json& findings, const std::string& kind) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : findings) {
    if (f["kind"] == kind)
      out.push_back(f);
  }
  return out;
}

// Every regular file under `dir` has mode 0600, every directory 0700.
void RequireRootOnly(const fs::path& dir) {
  CHECK(ModeOf(dir) == 0700);
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    INFO(e.path());
    if (e.is_directory()) {
      CHECK(ModeOf(e.path()) == 0700);
    } else {
      CHECK(ModeOf(e.path()) == 0600);
    }
  }
}

TEST_CASE(
    "sync: a manifest copy directory a user replaced by a symlink gets nothing, the others do",
    "[sync][e2e][issue-14]") {
  if (!CanPlay())
    return;
  Share s;
  s.Sync();
  // The user moves .atlas-scrub aside and points the name at a root-owned
  // directory elsewhere.
  TempDir victim;
  REQUIRE(chmod(victim.path().c_str(), 0755) == 0);
  WriteFile(victim / "keep.txt", std::string("root's"));
  const std::string before = TreeFingerprint(victim.path());
  AsNobody("mv " + Q(s.a.Copy(1)) + " " + Q(s.a.Disk(1) / "old") + "; ln -s " + Q(victim.path()) +
           " " + Q(s.a.Copy(1)));
  s.a.Write(2, "Music/new.flac", 1000, 3);

  CliResult r = s.a.Run({"sync"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 1);
  nlohmann::json refused = FindingsOfKind(r.json["findings"], "unsafe_copy_dir");
  REQUIRE(refused.size() == 1);
  CHECK(refused[0]["severity"] == "warning");
  CHECK(refused[0]["path"] == s.a.Copy(1).string());
  CHECK(refused[0]["message"] ==
        "manifest copy directory " + s.a.Copy(1).string() +
            " is a symbolic link; make it a directory owned by uid 0 and writable only by it "
            "(chown root:root and chmod 0755 " +
            s.a.Copy(1).string() +
            "), or remove it and let sync create it; nothing was written there");
  CHECK(TreeFingerprint(victim.path()) == before);
  CHECK_FALSE(fs::exists(victim / "manifest"));
  CHECK_FALSE(fs::exists(victim / "outside.idx"));
  // scrub and fix copy the manifest too, and refuse the same way.
  for (const char* command : {"scrub", "fix"}) {
    CliResult c = s.a.Run({command});
    INFO(command << c.out << c.err);
    CHECK(c.exit_code == 1);
    nlohmann::json again = FindingsOfKind(c.json["findings"], "unsafe_copy_dir");
    REQUIRE(again.size() == 1);
    CHECK(again[0]["path"] == s.a.Copy(1).string());
  }
  CHECK(TreeFingerprint(victim.path()) == before);
  // The other copy directory has this sync's copy and index.
  CliResult copies = s.a.Run({"outside", "--print-key"});
  REQUIRE(copies.exit_code == 0);
  CliResult o = RunCli({"--json", "outside", "--key", copies.json["key"], "--index",
                        (s.a.Copy(2) / "outside.idx").string(), s.a.Disk(2).string()});
  INFO(o.out << o.err);
  // Three files, and the user's moved-aside copy directory's old index.
  CHECK(o.json["index_files"] == 4);
  CHECK(o.json["index_verified"] == true);
}

TEST_CASE(
    "sync: a user's own copy directory with a planted meta/.N.tmp symlink truncates no root file",
    "[sync][e2e][issue-14]") {
  if (!CanPlay())
    return;
  Share s;
  RootSecret secret;
  // Before the first sync the user makes .atlas-scrub, with RocksDB's
  // temporary backup metadata names pointing at a root file.
  std::string plant = "mkdir -p " + Q(s.a.Copy(1) / "manifest/meta");
  for (int n = 1; n <= 3; ++n) {
    plant += "; ln -s " + Q(secret.path) + " " +
             Q(s.a.Copy(1) / ("manifest/meta/." + std::to_string(n) + ".tmp"));
  }
  AsNobody(plant);
  CliResult r = s.a.Run({"sync"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 1);
  nlohmann::json refused = FindingsOfKind(r.json["findings"], "unsafe_copy_dir");
  REQUIRE(refused.size() == 1);
  CHECK(refused[0]["path"] == s.a.Copy(1).string());
  CHECK(refused[0]["message"].get<std::string>().find("manifest copy directory " +
                                                      s.a.Copy(1).string() +
                                                      " is owned by uid 65534, not by uid 0") == 0);
  CHECK(ReadFileBytes(secret.path) == secret.bytes);
  CHECK_FALSE(fs::exists(s.a.Copy(1) / "outside.idx"));
  CHECK(fs::is_symlink(s.a.Copy(1) / "manifest/meta/.1.tmp"));
  // The trusted copy directory is root-only; the index in it is readable.
  RequireRootOnly(s.a.Copy(2) / "manifest");
  CHECK(ModeOf(s.a.Copy(2)) == 0755);
  CHECK(ModeOf(s.a.Copy(2) / "outside.idx") == 0644);
  RequireRootOnly(s.a.Manifest());
}

TEST_CASE("sync: a root-owned copy directory that still holds a planted symlink is refused",
          "[sync][e2e][issue-14]") {
  if (!CanPlay())
    return;
  Share s;
  RootSecret secret;
  s.Sync();
  // As after `chown -R root:root` of a directory a user had filled: the
  // symlink is root's now, but atlas did not create it.
  for (int n = 2; n <= 4; ++n) {
    fs::create_symlink(secret.path, s.a.Copy(1) / ("manifest/meta/." + std::to_string(n) + ".tmp"));
  }
  s.a.Write(1, "Movies/y.mkv", 1000, 9);
  CliResult r = s.a.Run({"sync"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 1);
  nlohmann::json refused = FindingsOfKind(r.json["findings"], "unsafe_copy_dir");
  REQUIRE(refused.size() == 1);
  CHECK(refused[0]["message"].get<std::string>().find((s.a.Copy(1) / "manifest").string() +
                                                      " holds a symbolic link meta/.") == 0);
  CHECK(ReadFileBytes(secret.path) == secret.bytes);
}

TEST_CASE("sync: a manifest made 0755 by an older version is made 0700, and copies 0700/0600",
          "[sync][e2e][issue-14]") {
  Share s;
  s.Sync();
  REQUIRE(chmod(s.a.Manifest().c_str(), 0755) == 0);
  REQUIRE(chmod((s.a.Copy(1) / "manifest").c_str(), 0755) == 0);
  s.a.Write(1, "Movies/z.mkv", 1000, 5);
  s.Sync();
  CHECK(ModeOf(s.a.Manifest()) == 0700);
  RequireRootOnly(s.a.Copy(1) / "manifest");
  RequireRootOnly(s.a.Copy(2) / "manifest");
}

TEST_CASE("config: manifest_copies at a data disk's root is a config error, and no user file goes",
          "[config][e2e][issue-14]") {
  TempDir dir;
  fs::create_directories(dir / "mnt/disk1");
  fs::create_directories(dir / "mnt/disk2");
  fs::create_directories(dir / "mnt/parity1");
  WriteFile(dir / "mnt/disk1/manifest/shared/doc.txt", std::string("a user's document"));
  WriteFile(dir / "mnt/disk1/a.mkv", RandomBytes(5000, 1));
  const fs::path config = dir / "atlas-scrub.toml";
  WriteFile(config, "manifest = \"" + (dir / "var/manifest").string() + "\"\n" +
                        "manifest_copies = [\"" + (dir / "mnt/disk1").string() + "\"]\n" +
                        "[[data]]\nname = \"d1\"\npath = \"" + (dir / "mnt/disk1").string() +
                        "\"\n" + "[[data]]\nname = \"d2\"\npath = \"" +
                        (dir / "mnt/disk2").string() + "\"\n" + "[[parity]]\npath = \"" +
                        (dir / "mnt/parity1/atlas.parity").string() + "\"\n");
  CliResult r = RunCli({"-c", config.string(), "sync"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(config.string() + ":2: manifest_copies: \"" + (dir / "mnt/disk1").string() +
                   "\" is the root of data disk d1") != std::string::npos);
  CHECK(r.err.find("manifest_copies must be a directory of its own such as \"" +
                   (dir / "mnt/disk1/.atlas-scrub").string() + "\", not the data disk root") !=
        std::string::npos);
  CHECK(ReadFileBytes(dir / "mnt/disk1/manifest/shared/doc.txt").size() == 17);
}

TEST_CASE("sync: a user's copy directory holding a file named like a backup file keeps it",
          "[sync][e2e][issue-14]") {
  if (!CanPlay())
    return;
  Share s;
  AsNobody("mkdir -p " + Q(s.a.Copy(1) / "manifest/shared") + " " +
           Q(s.a.Copy(1) / "manifest/shared_checksum") + "; echo mine > " +
           Q(s.a.Copy(1) / "manifest/shared/doc.txt") + "; echo mine > " +
           Q(s.a.Copy(1) / "manifest/shared_checksum/000001_1_1.sst"));
  CliResult r = s.a.Run({"sync"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 1);
  CHECK(FindingsOfKind(r.json["findings"], "unsafe_copy_dir").size() == 1);
  CHECK(fs::exists(s.a.Copy(1) / "manifest/shared/doc.txt"));
  CHECK(fs::exists(s.a.Copy(1) / "manifest/shared_checksum/000001_1_1.sst"));
}

// Sets the timestamp of every backup in a RocksDB backup directory (the
// first line of each meta/N file) to `when`.
void ForgeTimestamp(const fs::path& backup_dir, long long when) {
  for (const auto& e : fs::directory_iterator(backup_dir / "meta")) {
    std::ifstream in(e.path());
    std::string first, rest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t nl = rest.find('\n');
    REQUIRE(nl != std::string::npos);
    std::ofstream out(e.path(), std::ios::trunc);
    out << when << rest.substr(nl);
  }
}

TEST_CASE(
    "restore-manifest: a user's copy with a forged newer time is skipped, saying why and which "
    "copy was used",
    "[restore][e2e][issue-14]") {
  if (!CanPlay())
    return;
  Share s;
  s.Sync();
  // The user's copy: the array as it was at the first sync (a rollback),
  // claiming to be from the future.
  TempDir stash;
  fs::copy(s.a.Copy(1), stash / "old", fs::copy_options::recursive);
  s.a.Write(1, "Movies/later.mkv", 2000, 6);
  s.Sync();
  ForgeTimestamp(stash / "old/manifest", 4102444800);  // 2100-01-01
  REQUIRE(std::system(("chown -R 65534:65534 " + Q(stash / "old")).c_str()) == 0);
  fs::rename(s.a.Copy(1), stash / "real");
  fs::rename(stash / "old", s.a.Copy(1));
  fs::remove_all(s.a.Manifest());

  CliResult r = s.a.Run({"restore-manifest"}, /*json=*/false);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 1);
  CHECK(r.out.find("skipped the copy in " + s.a.Copy(1).string() + ": manifest copy directory " +
                   s.a.Copy(1).string() + " is owned by uid 65534") != std::string::npos);
  CHECK(r.out.find("its copy was not used") != std::string::npos);
  CHECK(r.out.find("from the copy in " + s.a.Copy(2).string()) != std::string::npos);
  // The manifest is the newest trusted one: it knows the later file.
  CliResult d = s.a.Run({"diff"});
  INFO(d.out);
  CHECK(d.exit_code == 0);
  CHECK(d.json["drift"]["added"] == 0);
  CHECK(d.json["drift"]["unchanged"] == 3);
  RequireRootOnly(s.a.Manifest());
}

TEST_CASE(
    "restore-manifest: a copy holding a symlinked backup file is not used, and no root file leaks",
    "[restore][e2e][issue-14]") {
  if (!CanPlay())
    return;
  Share s;
  RootSecret secret;
  s.Sync();
  // Each copy's CURRENT replaced by a symlink to a root-only file.
  for (int c : {1, 2}) {
    for (const auto& e : fs::recursive_directory_iterator(s.a.Copy(c) / "manifest/private")) {
      if (e.path().filename() == "CURRENT") {
        const fs::path p = e.path();
        fs::remove(p);
        fs::create_symlink(secret.path, p);
        break;
      }
    }
  }
  fs::remove_all(s.a.Manifest());
  CliResult r = s.a.Run({"restore-manifest"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.json["error"].get<std::string>().find(
            "no usable manifest copy found in manifest_copies") != std::string::npos);
  CHECK(r.json["error"].get<std::string>().find("holds a symbolic link private/") !=
        std::string::npos);
  // Nothing of the secret anywhere beside the manifest.
  for (const auto& e : fs::recursive_directory_iterator(s.a.Manifest().parent_path())) {
    if (e.is_regular_file())
      CHECK(ReadFileBytes(e.path()) != secret.bytes);
  }
}

TEST_CASE("outside: an index signed by another key is refused; auto-discovery needs a key",
          "[outside][e2e][issue-14]") {
  if (!CanPlay())
    return;
  Share s;
  s.Sync();
  CliResult k = s.a.Run({"outside", "--print-key"}, /*json=*/false);
  REQUIRE(k.exit_code == 0);
  const std::string key = k.out.substr(0, k.out.find('\n'));
  CHECK(key.rfind("ed25519:", 0) == 0);
  CHECK(s.a.Run({"status"}).json["outside_key"] == key);
  // A user's own array, and its index planted where Atlas's was.
  Share mine;
  mine.a.Write(1, "fake.mkv", 1000, 42);
  mine.Sync();
  TempDir host;
  REQUIRE(chmod(host.path().c_str(), 0755) == 0);
  WriteFile(host / "fake.mkv", RandomBytes(1000, 42));
  REQUIRE(chmod((host / "fake.mkv").c_str(), 0644) == 0);
  const fs::path forged = s.a.Disk(1) / "forged.idx";
  fs::copy_file(mine.a.Copy(1) / "outside.idx", forged);
  REQUIRE(chown(forged.c_str(), kNobody, kNobody) == 0);

  // With the key: refused, exit 3.
  CliResult r = RunCliPrefixed(
      kAsNobody, {"outside", "--key", key, "--index", forged.string(), host.path().string()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.err.find(forged.string() + ": outside index is signed by key ed25519:") !=
        std::string::npos);
  CHECK(r.err.find("not by the trusted key " + key) != std::string::npos);
  // Without a key, a named index is used, said to be unverified.
  CliResult u = RunCliPrefixed(
      kAsNobody, {"--json", "outside", "--index", forged.string(), host.path().string()});
  CHECK(u.exit_code == 1);
  CHECK(u.json["index_verified"] == false);
  CHECK(u.err.find("atlas-scrub: warning: index " + forged.string() + " is not verified") !=
        std::string::npos);
  // From a config: an index in a copy directory needs a key.
  WriteFile(host / "compute.toml",
            "manifest = \"/nonexistent/manifest\"\nmanifest_copies = [\"" + s.a.Copy(1).string() +
                "\", \"" + s.a.Copy(2).string() + "\"]\n[[data]]\nname = \"d1\"\npath = \"" +
                s.a.Disk(1).string() + "\"\n[[parity]]\npath = \"/nonexistent/p\"\n");
  REQUIRE(chmod((host / "compute.toml").c_str(), 0644) == 0);
  CliResult n = RunCliPrefixed(
      kAsNobody, {"-c", (host / "compute.toml").string(), "outside", host.path().string()});
  CHECK(n.exit_code == 2);
  CHECK(n.err.find("no trusted key to check the outside index in the manifest copies with") !=
        std::string::npos);
  // The forged index in place of copy 1's: skipped, copy 2's is used.
  fs::copy_file(forged, s.a.Copy(1) / "outside.idx", fs::copy_options::overwrite_existing);
  CliResult c = RunCliPrefixed(kAsNobody, {"-c", (host / "compute.toml").string(), "--json",
                                           "outside", "--key", key, host.path().string()});
  INFO(c.out << c.err);
  CHECK(c.exit_code == 1);
  CHECK(c.json["index"] == (s.a.Copy(2) / "outside.idx").string());
  CHECK(c.json["index_verified"] == true);
  CHECK(c.json["findings"][0]["kind"] == "only_copy_outside");
}

TEST_CASE("outside: an outside.idx planted as a FIFO or as a symlink to /dev/zero fails at once",
          "[outside][e2e][issue-14]") {
  if (!CanPlay())
    return;
  Share s;
  s.Sync();
  CliResult k = s.a.Run({"outside", "--print-key"}, /*json=*/false);
  const std::string key = k.out.substr(0, k.out.find('\n'));
  TempDir host;
  WriteFile(host / "a.mkv", RandomBytes(10, 1));
  fs::remove(s.a.Copy(1) / "outside.idx");
  fs::remove(s.a.Copy(2) / "outside.idx");
  REQUIRE(mkfifo((s.a.Copy(1) / "outside.idx").c_str(), 0644) == 0);
  fs::create_symlink("/dev/zero", s.a.Copy(2) / "outside.idx");
  // timeout(1) ends a hang with 124; the test must not wait for ever.
  const std::vector<std::string> limit = {"/usr/bin/timeout", "-s", "KILL", "20"};
  for (const fs::path& idx : {s.a.Copy(1) / "outside.idx", s.a.Copy(2) / "outside.idx"}) {
    CliResult r = RunCliPrefixed(limit, {"outside", "--index", idx.string(), host.path().string()});
    INFO(idx << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(" is not a regular file (it is a ") != std::string::npos);
  }
  CliResult c = RunCliPrefixed(
      limit, {"-c", s.a.config().string(), "outside", "--key", key, host.path().string()});
  INFO(c.err);
  CHECK(c.exit_code == 2);
  CHECK(c.err.find("is not a regular file (it is a FIFO)") != std::string::npos);
}

TEST_CASE("outside: the index leaves out names only their owner could list",
          "[outside][e2e][issue-14]") {
  Share s;
  s.a.Write(1, "Private/diary.mkv", 3000, 11);
  s.a.Write(1, "Shared/Private2/b.mkv", 3001, 12);
  REQUIRE(chmod(s.a.File(1, "Private").c_str(), 0700) == 0);
  REQUIRE(chmod(s.a.File(1, "Shared").c_str(), 0711) == 0);  // searchable, not listable
  s.Sync();
  CliResult k = s.a.Run({"outside", "--print-key"}, /*json=*/false);
  const std::string key = k.out.substr(0, k.out.find('\n'));
  CliResult r = RunCli({"--json", "outside", "--key", key, "--index",
                        (s.a.Copy(1) / "outside.idx").string(), s.a.Disk(2).string()});
  INFO(r.out << r.err);
  CHECK(r.json["index_files"] == 2);
  const std::vector<std::byte> raw = ReadFileBytes(s.a.Copy(1) / "outside.idx");
  const std::string bytes(reinterpret_cast<const char*>(raw.data()), raw.size());
  CHECK(bytes.find("diary") == std::string::npos);
  CHECK(bytes.find("Private2") == std::string::npos);
  CHECK(bytes.find("Movies/x.mkv") != std::string::npos);
}

}  // namespace
}  // namespace atlas::testing
