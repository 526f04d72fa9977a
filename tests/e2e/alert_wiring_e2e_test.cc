// Alerts from `smart` and `outside`: the two commands that report findings
// no other command sees (SMART verdicts, copies on a compute host) alert the
// configured channels like sync and scrub do, and a saved dump judged alone
// alerts nobody.
//
// STRATEGY:
// 1. A TempArray with a json webhook on a local HttpReceiver; sync.
// 2. smart --input FILE (judged alone): exit 1, nothing sent.
// 3. smart --input d1=FILE with a warning dump: exit 1, one POST from
//    command smart naming d1 and smart_warning; the same again sends nothing.
// 4. outside over a compute-host tree holding one unique media file, with
//    the config (index from the manifest copies): exit 1, one POST from
//    command outside with only_copy_outside.
#include <filesystem>

#include "support/http_receiver.h"
#include "support/temp_array.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kSmartData = fs::path(ATLAS_SOURCE_DIR) / "tests" / "data" / "smart";

std::string JsonHook(const std::string& url) {
  return "[alerts]\ntimeout = \"5s\"\nattempts = 2\nretry_delay = \"0s\"\n"
         "[[alerts.webhook]]\nurl = \"" + url + "\"\nformat = \"json\"\n";
}

TEST_CASE("alert: smart and outside findings reach the webhook; a dump judged alone does not",
          "[alert][smart][outside][e2e]") {
  HttpReceiver rx;
  TempArray a(2, 1, 64 * 1024, JsonHook(rx.Url("/hook")));
  a.Write(1, "Movies/film.mkv", 3 * 65536 + 10, 1);
  a.Write(2, "Music/track.flac", 2 * 65536, 2);
  REQUIRE(a.Run({"sync"}).exit_code == 0);
  REQUIRE(rx.requests().empty());

  const std::string dump = (kSmartData / "ST3500418AS_12.json").string();  // attribute 5 raw 304: warning
  CliResult alone = a.Run({"smart", "--input", dump});
  INFO(alone.out << alone.err);
  CHECK(alone.exit_code == 1);
  CHECK(rx.requests().empty());

  CliResult smart = a.Run({"smart", "--input", "d1=" + dump});
  INFO(smart.out << smart.err);
  CHECK(smart.exit_code == 1);
  std::vector<HttpRecord> got = rx.requests();
  REQUIRE(got.size() == 1);
  json doc = json::parse(got[0].body);
  CHECK(doc["event"] == "alert");
  CHECK(doc["command"] == "smart");
  CHECK(doc["health"] == "warning");
  REQUIRE_FALSE(doc["findings"].empty());
  CHECK(doc["findings"][0]["kind"] == "smart_warning");
  CHECK(doc["findings"][0]["disk"] == "d1");
  CHECK(a.Run({"smart", "--input", "d1=" + dump}).exit_code == 1);
  CHECK(rx.requests().size() == 1);  // the same open finding is not repeated

  const fs::path host = a.root() / "compute-host";
  WriteFile(host / "library" / "only-here.mkv", RandomBytes(100000, 77));
  CliResult outside = a.Run({"outside", host.string()});
  INFO(outside.out << outside.err);
  CHECK(outside.exit_code == 1);
  got = rx.requests();
  REQUIRE(got.size() == 2);
  doc = json::parse(got[1].body);
  CHECK(doc["command"] == "outside");
  CHECK(doc["health"] == "critical");
  REQUIRE(doc["findings"].size() == 1);
  CHECK(doc["findings"][0]["kind"] == "only_copy_outside");
  CHECK(doc["findings"][0]["path"] == (host / "library" / "only-here.mkv").string());
}

}  // namespace
}  // namespace atlas::testing
