// status as the admin reads it: the headline, the exact next commands (run
// here through a shell, as the admin would paste them), colour only on a
// terminal and never with NO_COLOR.
#include <sys/wait.h>

#include <cstdio>

#include "support/temp_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

struct ShellResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

ShellResult Shell(const std::string& cmd) {
  ShellResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int rc = pclose(p);
  r.exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return r;
}

// The lines of `text` that start (after spaces) with `prefix`, without it.
std::vector<std::string> LinesAfter(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    std::size_t first = line.find_first_not_of(' ');
    if (first != std::string::npos && line.compare(first, prefix.size(), prefix) == 0) {
      out.push_back(line.substr(first + prefix.size()));
    }
    pos = end + 1;
  }
  return out;
}

bool ShellSafe(const std::string& s) {
  for (char c : s) {
    if (!(isalnum(static_cast<unsigned char>(c)) || std::string("_@%+=:,./-").find(c) != std::string::npos)) {
      return false;
    }
  }
  return true;
}

TEST_CASE("status: a corrupted file is named with the exact fix commands, and they work when pasted",
          "[status][e2e]") {
  // STRATEGY:
  // 1. Sync; corrupt one byte of "Movies/It's [a] film.mkv" (a quote and
  //    glob characters) and scrub: one silent_corruption.
  // 2. status text (a pipe, so no colour) begins "atlas: CRITICAL - 1
  //    finding needs attention", lists the finding under "Needs attention:",
  //    and its next step is exactly
  //    atlas-scrub -c CONFIG fix --dry-run --errors-only --filter 'Movies/It'\''s \[a] film.mkv'
  //    then the same without --dry-run; no ANSI escape anywhere.
  // 3. The next command, run by sh, is a dry run naming that file and no
  //    other (the filter matched it exactly) and changes nothing; the
  //    "then" command repairs it; status is then "atlas: OK" with nothing
  //    under "Needs attention". status --json carries the same next_steps.
  TempArray a(3, 1);
  const std::string name = "Movies/It's [a] film.mkv";
  a.Write(1, name, 5 * 65536 + 7, 1);
  a.Write(1, "Movies/It's a film.mkv", 3 * 65536, 2);  // the glob [a] would match this one
  a.Write(2, "Music/track.flac", 2 * 65536, 3);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  FlipByteKeepMtime(a.File(1, name), 65536 + 9);
  REQUIRE(a.Run({"scrub", "--plan", "full"}).exit_code == 1);

  REQUIRE(ShellSafe(a.config().string()));
  const std::string program = "atlas-scrub -c " + a.config().string();
  const std::string filter = "'Movies/It'\\''s \\[a] film.mkv'";
  CliResult st = a.Run({"status"}, /*json=*/false);
  INFO(st.out << st.err);
  CHECK(st.exit_code == 1);
  CHECK(st.out.rfind("atlas: CRITICAL - 1 finding needs attention\n", 0) == 0);
  CHECK(st.out.find("Needs attention:\n") != std::string::npos);
  CHECK(st.out.find("silent_corruption") != std::string::npos);
  CHECK(st.out.find('\033') == std::string::npos);
  std::vector<std::string> next = LinesAfter(st.out, "next: ");
  std::vector<std::string> then = LinesAfter(st.out, "then: ");
  REQUIRE(next.size() == 1);
  REQUIRE(then.size() == 1);
  CHECK(next[0] == program + " fix --dry-run --errors-only --filter " + filter);
  CHECK(then[0] == program + " fix --errors-only --filter " + filter);
  CHECK(st.out.find("last sync:  ") != std::string::npos);
  CHECK(st.out.find("(just now)") != std::string::npos);
  CHECK(st.out.find("coverage:   ") != std::string::npos);
  CHECK(LinesAfter(st.out, "NAME ").size() == 1);

  CliResult js = a.Run({"status"});
  REQUIRE(js.json["findings"].size() >= 1);
  CHECK(js.json["findings"][0]["next_steps"][0] == program + " fix --dry-run --errors-only --filter " + filter);

  const std::string bin_dir = fs::path(ATLAS_SCRUB_BIN).parent_path().string();
  const std::string path_env = "PATH='" + bin_dir + "':\"$PATH\" ";
  std::string before = TreeFingerprint(a.Disk(1));
  ShellResult dry = Shell(path_env + next[0]);
  INFO(dry.out);
  CHECK(dry.exit_code == 0);
  CHECK(dry.out.find("It's [a] film.mkv") != std::string::npos);
  CHECK(dry.out.find("It's a film.mkv") == std::string::npos);
  CHECK(TreeFingerprint(a.Disk(1)) == before);

  ShellResult fix = Shell(path_env + then[0]);
  INFO(fix.out);
  CHECK(fix.exit_code == 0);
  CliResult after = a.Run({"status"}, /*json=*/false);
  INFO(after.out);
  CHECK(after.exit_code == 0);
  CHECK(after.out.rfind("atlas: OK\n", 0) == 0);
  CHECK(after.out.find("Needs attention") == std::string::npos);
}

TEST_CASE("status: each kind of trouble names the command that answers it", "[status][e2e]") {
  // STRATEGY:
  // 1. Never synced: WARNING, next step `... sync`.
  // 2. Synced, then d2's directory removed: CRITICAL missing_disk whose
  //    steps name d2, the sync to run once it is mounted, and
  //    fix --dry-run --disk d2 for a replaced disk.
  TempArray a(2, 1);
  a.Write(1, "a.mkv", 1000, 1);
  a.Write(2, "b.mkv", 1000, 2);
  const std::string program = "atlas-scrub -c " + a.config().string();
  CliResult fresh = a.Run({"status"}, /*json=*/false);
  INFO(fresh.out);
  CHECK(fresh.exit_code == 1);
  CHECK(fresh.out.rfind("atlas: WARNING - 1 finding needs attention\n", 0) == 0);
  CHECK(LinesAfter(fresh.out, "next: ") == std::vector<std::string>{program + " sync"});

  REQUIRE(a.Run({"sync"}).exit_code == 0);
  fs::remove_all(a.Disk(2));
  CliResult missing = a.Run({"status"}, /*json=*/false);
  INFO(missing.out);
  CHECK(missing.exit_code == 1);
  CHECK(missing.out.rfind("atlas: CRITICAL", 0) == 0);
  std::vector<std::string> next = LinesAfter(missing.out, "next: ");
  REQUIRE_FALSE(next.empty());
  CHECK(next[0] == "check that d2 is mounted (findmnt, dmesg), then: " + program + " sync");
  std::vector<std::string> then = LinesAfter(missing.out, "then: ");
  REQUIRE_FALSE(then.empty());
  CHECK(then[0] == "if the disk was replaced by an empty one: " + program + " fix --dry-run --disk d2");
  CHECK(missing.out.find("MISSING") != std::string::npos);
}

TEST_CASE("status: the headline is coloured on a terminal, never with NO_COLOR or in a pipe",
          "[status][e2e]") {
  // STRATEGY: under script(1) (a pseudo-terminal on stdout) a healthy
  // array's headline is green "\033[32m" and reset after; with NO_COLOR=1
  // on the same terminal, and through a pipe, there is no escape at all.
  TempArray a(2, 1);
  a.Write(1, "a.mkv", 1000, 1);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  std::string cmd = std::string(ATLAS_SCRUB_BIN) + " -c '" + a.config().string() + "' status";
  ShellResult tty = Shell("script -qec \"" + cmd + "\" /dev/null");
  INFO(tty.out);
  CHECK(tty.out.find("atlas: \033[32mOK\033[0m") != std::string::npos);

  ShellResult no_colour = Shell("NO_COLOR=1 script -qec \"" + cmd + "\" /dev/null");
  INFO(no_colour.out);
  CHECK(no_colour.out.find("atlas: OK") != std::string::npos);
  CHECK(no_colour.out.find('\033') == std::string::npos);

  CliResult pipe = a.Run({"status"}, /*json=*/false);
  CHECK(pipe.out.rfind("atlas: OK\n", 0) == 0);
  CHECK(pipe.out.find('\033') == std::string::npos);
}

}  // namespace
}  // namespace atlas::testing
