// [guards] exempt: its config keys and the pattern rules of GuardExemptions
// (engine/guards.h), without an array.
#include "engine/guards.h"

#include "atlas/config.h"

#include "support/test_util.h"

namespace atlas::testing {
namespace {

GuardsConfig Exempt(std::vector<std::string> patterns) {
  GuardsConfig g;
  g.exempt = std::move(patterns);
  return g;
}

TEST_CASE("guards: an anchored directory pattern exempts everything below that directory only",
          "[guards][unit][issue-14]") {
  GuardExemptions e(Exempt({"/Downloads/"}));
  CHECK(e.Exempt("Downloads/a.iso"));
  CHECK(e.Exempt("Downloads/sub/deeper/a.iso"));
  CHECK_FALSE(e.Exempt("Downloads"));  // a file named Downloads is no directory
  CHECK_FALSE(e.Exempt("Movies/Downloads/a.iso"));
  CHECK_FALSE(e.Exempt("Downloads2/a.iso"));
  CHECK_FALSE(e.Exempt("Movies/a.mkv"));
}

TEST_CASE("guards: a base-name pattern exempts matching files and directories anywhere",
          "[guards][unit][issue-14]") {
  GuardExemptions e(Exempt({"*.part", "tmp/", "/Media/*/cache/"}));
  CHECK(e.Exempt("a.part"));
  CHECK(e.Exempt("Movies/x/a.part"));
  CHECK_FALSE(e.Exempt("Movies/a.part.mkv"));
  CHECK(e.Exempt("Movies/tmp/a.mkv"));
  CHECK(e.Exempt("tmp/a.mkv"));
  CHECK_FALSE(e.Exempt("Movies/tmp"));  // a file, not a directory
  CHECK(e.Exempt("Media/TV/cache/x.bin"));
  CHECK_FALSE(e.Exempt("Media/TV/x/cache/x.bin"));  // FNM_PATHNAME: * is one component
  CHECK_FALSE(GuardExemptions(GuardsConfig()).Exempt("anything"));
}

TEST_CASE("config: [guards] max_modified, max_modified_pct and exempt are read and checked",
          "[guards][config][unit][issue-14]") {
  const std::string base =
      "manifest = \"/var/lib/m\"\n[[data]]\nname = \"d1\"\npath = \"/mnt/d1\"\n"
      "[[parity]]\npath = \"/mnt/p1/atlas.parity\"\n";
  Result<Config> defaults = ParseConfig(base, "/etc/x.toml");
  REQUIRE_OK(defaults.status());
  CHECK(defaults->guards.max_modified == 500);
  CHECK(defaults->guards.max_modified_pct == 50.0);
  CHECK(defaults->guards.exempt.empty());

  Result<Config> set = ParseConfig(base +
                                       "[guards]\nmax_modified = 20\nmax_modified_pct = "
                                       "2.5\nexempt = [\"/Downloads/\", \"*.part\"]\n",
                                   "/etc/x.toml");
  REQUIRE_OK(set.status());
  CHECK(set->guards.max_modified == 20);
  CHECK(set->guards.max_modified_pct == 2.5);
  CHECK(set->guards.exempt == std::vector<std::string>{"/Downloads/", "*.part"});

  Result<Config> all =
      ParseConfig(base + "[guards]\nexempt = [\"/Downloads/\", \"*\"]\n", "/etc/x.toml");
  REQUIRE_FALSE(all.ok());
  CHECK(all.status().ToString() ==
        "/etc/x.toml:8: guards.exempt: expected a pattern such as \"/Downloads/\" or \"*.part\", "
        "got \"*\"");
  Result<Config> pct = ParseConfig(base + "[guards]\nmax_modified_pct = 101\n", "/etc/x.toml");
  REQUIRE_FALSE(pct.ok());
  CHECK(pct.status().ToString().find("guards.max_modified_pct: expected a number from 0 to 100") !=
        std::string::npos);
}

}  // namespace
}  // namespace atlas::testing
