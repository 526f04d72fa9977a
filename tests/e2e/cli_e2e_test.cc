// Bad input through the real binary: every mistake gets a clear message and
// the right exit code, and nothing is written.
#include "support/temp_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

TEST_CASE("cli: a missing config is exit 2 and says how to create one", "[cli][e2e]") {
  TempDir dir;
  CliResult r = RunCli({"-c", (dir / "nope.toml").string(), "status"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("nope.toml") != std::string::npos);
  CHECK(r.err.find("atlas-scrub init") != std::string::npos);
}

TEST_CASE("cli: ATLAS_SCRUB_CONFIG names the config when -c is absent", "[cli][e2e]") {
  TempDir dir;
  CliResult r = RunCli({"status"}, {{"ATLAS_SCRUB_CONFIG", (dir / "env.toml").string()}});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("env.toml") != std::string::npos);
}

TEST_CASE("cli: an unreadable config (a directory) is exit 2 naming it", "[cli][e2e]") {
  TempDir dir;
  fs::create_directories(dir / "cfg.toml");
  CliResult r = RunCli({"-c", (dir / "cfg.toml").string(), "sync"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("cfg.toml") != std::string::npos);
}

TEST_CASE("cli: an invalid config is exit 2 naming file, line and key", "[cli][e2e]") {
  TempDir dir;
  WriteFile(dir / "bad.toml", std::string("manifest = \"/var/lib/x\"\n[[data]]\nname = \"d1\"\npath = \"/mnt/d1\"\n"
                                          "[[parity]]\npath = \"/mnt/p1/atlas.parity\"\n[guards]\nmax_deletez = 5\n"));
  CliResult r = RunCli({"-c", (dir / "bad.toml").string(), "--json", "sync"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("bad.toml:8") != std::string::npos);
  CHECK(r.err.find("max_deletez") != std::string::npos);
  REQUIRE_FALSE(r.json.is_null());
  CHECK(r.json["ok"] == false);
}

TEST_CASE("cli: an unknown command is exit 2 and lists the commands", "[cli][e2e]") {
  CliResult r = RunCli({"frobnicate"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown command 'frobnicate'") != std::string::npos);
  CHECK(r.err.find("sync") != std::string::npos);
}

TEST_CASE("cli: an unknown flag is exit 2 naming it", "[cli][e2e]") {
  CliResult r = RunCli({"sync", "--force-everything"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--force-everything") != std::string::npos);
}

TEST_CASE("cli: --help and --version exit 0", "[cli][e2e]") {
  CHECK(RunCli({"--help"}).exit_code == 0);
  CliResult v = RunCli({"--version"});
  CHECK(v.exit_code == 0);
  CHECK(v.out.find("atlas-scrub") != std::string::npos);
}

TEST_CASE("init: writes a starter config that syncs, and never overwrites", "[init][e2e]") {
  // STRATEGY:
  // 1. init with two data disks and a parity directory writes a config.
  // 2. That config syncs a file.
  // 3. A second init to the same path is refused with exit 2, file unchanged.
  TempDir dir;
  fs::create_directories(dir / "d1");
  fs::create_directories(dir / "d2");
  fs::create_directories(dir / "p1");
  WriteFile(dir / "d1" / "x.mkv", RandomBytes(10000, 1));
  std::string cfg = (dir / "etc" / "atlas-scrub.toml").string();
  CliResult init = RunCli({"-c", cfg, "init", "--data", (dir / "d1").string(), (dir / "d2").string(),
                           "--parity", (dir / "p1").string(), "--manifest", (dir / "manifest").string()});
  INFO(init.out << init.err);
  REQUIRE(init.exit_code == 0);
  REQUIRE(fs::exists(cfg));
  std::string before = TreeFingerprint(cfg);

  CliResult sync = RunCli({"-c", cfg, "--json", "sync"});
  INFO(sync.out << sync.err);
  CHECK(sync.exit_code == 0);
  CHECK(sync.json["drift"]["added"] == 1);
  CHECK(fs::exists(dir / "p1" / "atlas.parity"));

  CliResult again = RunCli({"-c", cfg, "init", "--data", (dir / "d1").string(), "--parity", (dir / "p1").string()});
  CHECK(again.exit_code == 2);
  CHECK(again.err.find("already exists") != std::string::npos);
  CHECK(TreeFingerprint(cfg) == before);
}

TEST_CASE("init: a config named by a bare file name is written in the working directory", "[init][e2e]") {
  TempDir dir;
  fs::create_directories(dir / "d1");
  fs::create_directories(dir / "p1");
  // sh -c 'cd DIR && exec BIN ARGS...': the binary runs in DIR.
  CliResult init = RunCliPrefixed({"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", dir.path().string()},
                                  {"-c", "atlas-scrub.toml", "init", "--data", (dir / "d1").string(), "--parity",
                                   (dir / "p1").string(), "--manifest", (dir / "manifest").string()});
  INFO(init.out << init.err);
  CHECK(init.exit_code == 0);
  CHECK(fs::is_regular_file(dir / "atlas-scrub.toml"));
}

TEST_CASE("init: a relative path is refused with exit 2", "[init][e2e]") {
  TempDir dir;
  CliResult r = RunCli({"-c", (dir / "c.toml").string(), "init", "--data", "relative/d1", "--parity", "/p1/x"});
  CHECK(r.exit_code == 2);
  CHECK_FALSE(fs::exists(dir / "c.toml"));
}

}  // namespace
}  // namespace atlas::testing

namespace atlas::testing {
namespace {

TEST_CASE("cli: a usage error with --json still prints a JSON error document", "[cli][e2e]") {
  CliResult r = RunCli({"--json", "sync", "--no-such-flag"});
  CHECK(r.exit_code == 2);
  REQUIRE_FALSE(r.json.is_null());
  CHECK(r.json["ok"] == false);
  CHECK(r.json["exit_code"] == 2);
}

TEST_CASE("cli: a config holding a secret and readable by others draws a warning", "[cli][e2e]") {
  // STRATEGY:
  // 1. A config with a Discord webhook URL (the URL is the credential), mode 0644.
  // 2. Any command warns on stderr, naming the key and chmod 600.
  // 3. At mode 0600 the warning is gone.
  TempArray a(2, 1, 64 * 1024,
              "[[alerts.webhook]]\nurl = \"https://discord.com/api/webhooks/1/secret-token\"\nformat = \"discord\"\n");
  std::filesystem::permissions(a.config(), std::filesystem::perms(0644));
  CliResult open = a.Run({"status"});
  CHECK(open.err.find("warning") != std::string::npos);
  CHECK(open.err.find("alerts.webhook") != std::string::npos);
  CHECK(open.err.find("chmod 600") != std::string::npos);
  std::filesystem::permissions(a.config(), std::filesystem::perms(0600));
  CliResult closed = a.Run({"status"});
  CHECK(closed.err.find("warning") == std::string::npos);
}

}  // namespace
}  // namespace atlas::testing

namespace atlas::testing {
namespace {

TEST_CASE("cli: sync shows progress with rate and ETA on a terminal and stays silent in cron",
          "[cli][e2e]") {
  // STRATEGY:
  // 1. Without a terminal (as from cron), a successful sync prints nothing on stderr.
  // 2. Under script(1), which gives it a pseudo-terminal, the progress line
  //    shows the phase, a rate and an ETA.
  TempArray a(2, 1);
  a.Write(1, "a.mkv", 3 * 1024 * 1024, 1);
  a.Write(2, "b.mkv", 2 * 1024 * 1024, 2);
  CliResult cron = a.Run({"sync"}, /*json=*/false);
  CHECK(cron.exit_code == 0);
  CHECK(cron.err.empty());

  a.Write(1, "c.mkv", 3 * 1024 * 1024, 3);
  std::string cmd = std::string(ATLAS_SCRUB_BIN) + " -c '" + a.config().string() + "' sync";
  std::string out;
  {
    std::string full = "script -qec \"" + cmd + "\" /dev/null";
    FILE* p = popen(full.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    std::size_t n = 0;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    CHECK(pclose(p) == 0);
  }
  CHECK(out.find("hash+parity:") != std::string::npos);
  CHECK(out.find("ETA") != std::string::npos);
  CHECK(out.find("/s") != std::string::npos);
}

}  // namespace
}  // namespace atlas::testing
