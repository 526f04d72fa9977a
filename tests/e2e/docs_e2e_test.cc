// The man page documents what the binary accepts: every command and every
// long option, read from the binary's own --help.
#include <fstream>
#include <sstream>

#include "support/temp_array.h"

namespace atlas::testing {
namespace {

struct Help {
  std::vector<std::string> options;      // long options: "--force-empty"
  std::vector<std::string> subcommands;  // "init", "sync", ...
};

// Parses CLI11's help: "Options:" and "Subcommands:" sections whose entries
// start with two spaces, then the spec ("-q,--quiet", "--plan TEXT:...").
Help ParseHelp(const std::string& text) {
  Help h;
  std::istringstream in(text);
  std::string section;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != ' ') {
      section = line;
      continue;
    }
    if (line.size() < 3 || line[2] == ' ') continue;  // a continuation line
    std::string spec = line.substr(2, line.find(' ', 2) - 2);
    if (section == "Options:") {
      std::istringstream names(spec);
      for (std::string name; std::getline(names, name, ',');) {
        if (name.rfind("--", 0) == 0) h.options.push_back(name);
      }
    } else if (section == "Subcommands:") {
      h.subcommands.push_back(spec);
    }
  }
  return h;
}

std::string ManPage() {
  std::ifstream in(ATLAS_SOURCE_DIR "/man/atlas-scrub.1");
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  // groff's \- is a plain minus in the rendered page.
  for (std::size_t at; (at = text.find("\\-")) != std::string::npos;) text.replace(at, 2, "-");
  return text;
}

TEST_CASE("docs: atlas-scrub(1) documents every command and long option the binary accepts",
          "[docs][e2e]") {
  // STRATEGY:
  // 1. Read the commands and global options from `atlas-scrub --help`.
  // 2. For every command (and a nested one such as `alert test`), read its
  //    options from `atlas-scrub CMD --help`.
  // 3. The man page has each command in its SYNOPSIS (".B atlas-scrub CMD")
  //    and as a ".SS" section, and names every long option.
  const std::string man = ManPage();
  CliResult top = RunCli({"--help"});
  REQUIRE(top.exit_code == 0);
  Help global = ParseHelp(top.out);
  REQUIRE(global.subcommands.size() >= 8);
  REQUIRE(global.options.size() >= 6);
  for (const std::string& opt : global.options) {
    INFO("global option " << opt);
    CHECK(man.find(opt) != std::string::npos);
  }
  for (const std::string& cmd : global.subcommands) {
    INFO("command " << cmd);
    CHECK(man.find(".B atlas-scrub " + cmd) != std::string::npos);
    CHECK((man.find(".SS " + cmd) != std::string::npos || man.find(".SS \"" + cmd) != std::string::npos));
    CliResult sub = RunCli({cmd, "--help"});
    REQUIRE(sub.exit_code == 0);
    Help help = ParseHelp(sub.out);
    for (const std::string& opt : help.options) {
      INFO("option " << opt);
      CHECK(man.find(opt) != std::string::npos);
    }
    for (const std::string& nested : help.subcommands) {
      INFO("nested command " << cmd << " " << nested);
      CHECK(man.find(cmd + " " + nested) != std::string::npos);
      CliResult inner = RunCli({cmd, nested, "--help"});
      REQUIRE(inner.exit_code == 0);
      for (const std::string& opt : ParseHelp(inner.out).options) {
        INFO("option " << opt);
        CHECK(man.find(opt) != std::string::npos);
      }
    }
  }
}

}  // namespace
}  // namespace atlas::testing
