// contrib/: the systemd units verify, the bash completion parses and
// completes, and the example config names and parses every key.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "atlas/config.h"
#include "support/test_util.h"

namespace atlas {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const fs::path kContrib = fs::path(ATLAS_SOURCE_DIR) / "contrib";

struct Shell {
  int exit_code = -1;
  std::string out;
};

Shell Run(const std::string& cmd) {
  Shell r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int rc = pclose(p);
  r.exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return r;
}

bool Have(const std::string& tool) { return Run("command -v " + tool).exit_code == 0; }

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_CASE("contrib: the systemd units pass systemd-analyze verify and keep a scrub polite",
          "[contrib][unit]") {
  // The units name /usr/sbin/atlas-scrub, which verify requires to exist:
  // check copies that point at the binary under test instead.
  for (const char* unit : {"atlas-scrub-sync.service", "atlas-scrub-scrub.service", "atlas-scrub-outside.service"}) {
    std::string text = Slurp(kContrib / "systemd" / unit);
    INFO(unit);
    CHECK(text.find("\nType=oneshot\n") != std::string::npos);
    CHECK(text.find("\nNice=19\n") != std::string::npos);
    CHECK(text.find("\nIOSchedulingClass=idle\n") != std::string::npos);
  }
  CHECK(Slurp(kContrib / "systemd" / "atlas-scrub-sync.timer").find("Persistent=true") != std::string::npos);
  CHECK(Slurp(kContrib / "systemd" / "atlas-scrub-scrub.timer").find("OnCalendar=Sun") != std::string::npos);
  CHECK(Slurp(kContrib / "systemd" / "atlas-scrub-outside.timer").find("Persistent=true") != std::string::npos);
  CHECK(Slurp(kContrib / "systemd" / "atlas-scrub-outside.service").find("ExecStart=/usr/sbin/atlas-scrub --no-progress outside\n") != std::string::npos);
  CHECK(Slurp(kContrib / "cron" / "atlas-scrub").find("atlas-scrub -q outside\n") != std::string::npos);
  if (!Have("systemd-analyze")) {
    WARN("systemd-analyze not found: systemd unit verification skipped");
    return;
  }
  TempDir dir;
  for (const auto& entry : fs::directory_iterator(kContrib / "systemd")) {
    std::string text = Slurp(entry.path());
    for (std::size_t at; (at = text.find("/usr/sbin/atlas-scrub")) != std::string::npos;) {
      text.replace(at, std::string("/usr/sbin/atlas-scrub").size(), ATLAS_SCRUB_BIN);
    }
    std::ofstream(dir / entry.path().filename().string()) << text;
  }
  Shell r = Run("cd '" + dir.path().string() +
                "' && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "
                "./atlas-scrub-sync.service ./atlas-scrub-sync.timer "
                "./atlas-scrub-scrub.service ./atlas-scrub-scrub.timer "
                "./atlas-scrub-outside.service ./atlas-scrub-outside.timer");
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("atlas-scrub-") == std::string::npos);  // no complaint names our units
}

// Completion candidates for `line` (the words typed, the last being
// completed) from the bash completion script.
std::vector<std::string> Complete(const std::vector<std::string>& words, const std::string& env = "") {
  std::string arr;
  for (const std::string& w : words) arr += " '" + w + "'";
  std::string script = "source '" + (kContrib / "bash-completion" / "atlas-scrub").string() + "'; " + env +
                       " COMP_WORDS=(" + arr + "); COMP_CWORD=" + std::to_string(words.size() - 1) +
                       "; _atlas_scrub; printf '%s\\n' \"${COMPREPLY[@]}\"";
  TempDir dir;
  std::ofstream(dir / "t.sh") << script;
  Shell r = Run("bash '" + (dir / "t.sh").string() + "'");
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("contrib: bash completion parses and completes commands, flags and disk names",
          "[contrib][unit]") {
  if (!Have("bash")) {
    WARN("bash not found: completion test skipped");
    return;
  }
  Shell syntax = Run("bash -n '" + (kContrib / "bash-completion" / "atlas-scrub").string() + "'");
  INFO(syntax.out);
  REQUIRE(syntax.exit_code == 0);

  CHECK(Complete({"atlas-scrub", "s"}) == std::vector<std::string>{"scrub", "smart", "status", "sync"});
  CHECK(Complete({"atlas-scrub", "me"}) == std::vector<std::string>{"metrics"});
  CHECK(Complete({"atlas-scrub", "--js"}) == std::vector<std::string>{"--json"});
  CHECK(Complete({"atlas-scrub", "metrics", "--t"}) == std::vector<std::string>{"--textfile"});
  CHECK(Complete({"atlas-scrub", "--json", "fix", "--d"}) == std::vector<std::string>{"--disk", "--dry-run"});
  CHECK(Complete({"atlas-scrub", "scrub", "--plan", ""}) == std::vector<std::string>{"bad", "full", "new"});
  CHECK(Complete({"atlas-scrub", "alert", ""}) == std::vector<std::string>{"test"});

  TempDir dir;
  std::ofstream(dir / "a.toml") << "manifest = \"/m\"\n[[data]]\nname = \"d1\"\npath = \"/a\"\n"
                                   "[[data]]\nname = \"media2\"\npath = \"/b\"\n"
                                   "[[parity]]\nname = \"parity1\"\npath = \"/p/x\"\n";
  CHECK(Complete({"atlas-scrub", "-c", (dir / "a.toml").string(), "check", "--disk", ""}) ==
        std::vector<std::string>{"d1", "media2", "parity1"});
  CHECK(Complete({"atlas-scrub", "fix", "--disk", "m"}, "ATLAS_SCRUB_CONFIG='" + (dir / "a.toml").string() + "'") ==
        std::vector<std::string>{"media2"});
}

TEST_CASE("contrib: the example config parses and shows every key", "[contrib][config][unit]") {
  const fs::path example = kContrib / "atlas-scrub.toml.example";
  std::string text = Slurp(example);
  Result<Config> c = ParseConfig(text, example.string());
  REQUIRE_OK(c.status());
  for (const std::string& key : KnownConfigKeys()) {
    INFO(key);
    std::string leaf = key.substr(key.rfind('.') + 1);
    // Every key appears as an assignment (sendmail only commented out: it
    // excludes smtp_url).
    CHECK((text.find("\n" + leaf + " = ") != std::string::npos ||
           text.find("\n# " + leaf + " = ") != std::string::npos));
    std::string table = key.find('.') == std::string::npos ? "" : key.substr(0, key.rfind('.'));
    if (!table.empty() && table != "data" && table != "parity") {
      CHECK((text.find("\n[" + table + "]\n") != std::string::npos ||
             text.find("\n[[" + table + "]]\n") != std::string::npos));
    }
  }
}

}  // namespace
}  // namespace atlas
