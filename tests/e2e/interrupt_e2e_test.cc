// Interrupting a sync or a scrub and pacing them: SIGTERM or SIGINT finishes
// the batch in hand and exits cleanly, the next run resumes; bandwidth_limit
// holds as a floor on the time a sync takes.
#include <chrono>
#include <cstdio>

#include "support/temp_array.h"
#include "support/verify_array.h"

namespace atlas::testing {
namespace {

struct Timed {
  int exit_code = -1;
  std::string out;
  double seconds = 0;
};

// Runs a shell command line, capturing stdout, and times it.
Timed Shell(const std::string& cmd) {
  Timed t;
  auto start = std::chrono::steady_clock::now();
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) t.out.append(buf, n);
  int status = pclose(p);
  t.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return t;
}

std::string Bin(const TempArray& a) {
  return std::string(ATLAS_SCRUB_BIN) + " -c '" + a.config().string() + "' --json";
}

// Replaces the config's `bandwidth_limit = ...` line.
void SetBandwidthLimit(const TempArray& a, const std::string& limit) {
  std::vector<std::byte> bytes = ReadFileBytes(a.config());
  std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const std::size_t begin = text.find("bandwidth_limit = ");
  REQUIRE(begin != std::string::npos);
  const std::size_t end = text.find('\n', begin);
  text.replace(begin, end - begin, "bandwidth_limit = \"" + limit + "\"");
  WriteFile(a.config(), text);
}

TEST_CASE("sync: SIGTERM finishes the batch in hand, exits 3, and the next sync resumes", "[sync][e2e]") {
  // STRATEGY:
  // 1. A sync paced to 4 MB/s per disk over 2 x 24 MB takes several seconds.
  // 2. SIGTERM after 1 s (timeout(1) sends it to the process and again to
  //    its group: a repeated SIGTERM must not abort): the run commits the
  //    window in hand and exits 3 with "interrupted" in its JSON, positions
  //    left > 0.
  // 3. A sync without the limit completes; every parity byte verifies.
  TempArray a(2, 1, 64 * 1024, "bandwidth_limit = \"4MB/s\"\n");
  a.Write(1, "a.mkv", 24 * 1024 * 1024, 1);
  a.Write(2, "b.mkv", 24 * 1024 * 1024, 2);
  Timed t = Shell("timeout --preserve-status -s TERM 1 " + Bin(a) + " sync");
  INFO(t.out);
  CHECK(t.exit_code == 3);
  nlohmann::json doc = nlohmann::json::parse(t.out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  CHECK(doc["interrupted"] == true);
  CHECK(doc["positions_left"].get<int>() > 0);
  CHECK(doc["positions_synced"].get<int>() > 0);

  WriteFile(a.config(), [&] {
    std::vector<std::byte> bytes = ReadFileBytes(a.config());
    std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    text.replace(text.find("bandwidth_limit = \"4MB/s\""), 25, "bandwidth_limit = \"\"     ");
    return text;
  }());
  CliResult resumed = a.Run({"sync"});
  INFO(resumed.out << resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK(resumed.json["drift"]["added"] == 0);  // recorded by the interrupted run
  ArrayCheck c = VerifyArray(a);
  CHECK(c.dirty_positions == 0);
  CHECK(c.bad_parity_bytes == 0);
  CHECK(c.false_parity_hashes == 0);
  CHECK(c.coverage_mismatches == 0);
}

TEST_CASE("sync: bandwidth_limit paces the reads of each disk", "[sync][e2e]") {
  // 16 MB on one disk at 8 MB/s: after the one-second burst allowance the
  // reads take at least another second. (Only a floor is asserted.)
  TempArray a(1, 1, 64 * 1024, "bandwidth_limit = \"8MB/s\"\n");
  a.Write(1, "a.mkv", 24 * 1000 * 1000, 1);
  Timed t = Shell(Bin(a) + " sync");
  INFO(t.out);
  CHECK(t.exit_code == 0);
  CHECK(t.seconds >= 1.8);
}

TEST_CASE("scrub: an interrupted scrub records what it verified and the next completes",
          "[scrub][e2e]") {
  // STRATEGY:
  // 1. Sync 32 MB on one data disk unpaced, then pace reads to 4 MB/s: a
  //    full scrub would take about 7 s. (One data disk: the stripe race
  //    tested in scrub_fault_test.cc cannot touch the counts here.)
  // 2. SIGINT after 1 s (timeout --foreground: one signal, to the process
  //    only, since a second SIGINT would abort): scrub finishes the window in
  //    hand and exits 3 with "interrupted" in its JSON, some but not all
  //    positions verified, nothing bad.
  // 3. Unpaced, `scrub --plan new` selects exactly the positions the
  //    interrupted scrub did not verify, verifies them all and exits 0; a
  //    third `scrub --plan new` has nothing left to select.
  TempArray a(1, 1, 64 * 1024, "bandwidth_limit = \"\"\n");
  a.Write(1, "a.mkv", 32 * 1024 * 1024, 1);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  const int total = 32 * 1024 * 1024 / (64 * 1024);  // positions

  SetBandwidthLimit(a, "4MB/s");
  Timed t =
      Shell("timeout --foreground --preserve-status -s INT 1 " + Bin(a) + " scrub --plan full");
  INFO(t.out);
  CHECK(t.exit_code == 3);
  nlohmann::json doc = nlohmann::json::parse(t.out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  CHECK(doc["interrupted"] == true);
  CHECK(doc["positions_selected"] == total);
  const int verified = doc["positions_verified"].get<int>();
  CHECK(verified > 0);
  CHECK(verified < total);
  CHECK(doc["positions_bad"] == 0);
  CHECK(doc["findings"].empty());

  SetBandwidthLimit(a, "");
  CliResult rest = a.Run({"scrub", "--plan", "new"});
  INFO(rest.out << rest.err);
  REQUIRE(rest.exit_code == 0);
  CHECK(rest.json["interrupted"] == false);
  CHECK(rest.json["positions_selected"] == total - verified);
  CHECK(rest.json["positions_verified"] == total - verified);
  CHECK(a.Run({"scrub", "--plan", "new"}).json["positions_selected"] == 0);
}

}  // namespace
}  // namespace atlas::testing
