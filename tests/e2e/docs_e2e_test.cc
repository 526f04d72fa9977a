// The man page documents what the binary accepts: every command and every
// long option, read from the binary's own --help.
#include <fstream>
#include <map>
#include <sstream>
#include <string_view>
#include <utility>

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

// Each command's one-line summary in the "Subcommands:" section of CLI11's
// help: the name, padded, then the summary; a name too long for its column
// has the summary on the next line.
std::map<std::string, std::string> HelpSummaries(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string section;
  std::string pending;  // a name whose summary is on the next line
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != ' ') {
      section = line;
      continue;
    }
    if (section != "Subcommands:")
      continue;
    const std::size_t begin = line.find_first_not_of(' ');
    if (begin == std::string::npos)
      continue;
    if (!pending.empty()) {
      out[pending] = line.substr(begin);
      pending.clear();
      continue;
    }
    const std::size_t name_end = line.find(' ', begin);
    const std::string name = line.substr(begin, name_end - begin);
    const std::size_t summary =
        name_end == std::string::npos ? name_end : line.find_first_not_of(' ', name_end);
    if (summary == std::string::npos) {
      pending = name;
    } else {
      out[name] = line.substr(summary);
    }
  }
  return out;
}

// The text a reader sees for one line of roff: the escapes this page uses
// in its summaries replaced by their characters. Any other escape is left
// as it is, so that the comparison fails and names it.
std::string RoffText(const std::string& line) {
  static const std::pair<std::string_view, std::string_view> kEscapes[] = {
      {"\\-", "-"}, {"\\(ga", "`"}, {"\\(aq", "'"}, {"\\&", ""},  {"\\e", "\\"},
      {"\\fB", ""}, {"\\fI", ""},   {"\\fR", ""},   {"\\fP", ""},
  };
  std::string out;
  for (std::size_t i = 0; i < line.size();) {
    bool replaced = false;
    for (const auto& [escape, text] : kEscapes) {
      if (line.compare(i, escape.size(), escape) == 0) {
        out += text;
        i += escape.size();
        replaced = true;
        break;
      }
    }
    if (!replaced)
      out += line[i++];
  }
  return out;
}

// The one-line summaries at the top of COMMANDS in atlas-scrub(1), before
// the first ".SS": ".TP", ".B NAME", then the summary up to the next
// request.
std::map<std::string, std::string> ManSummaries(const std::string& roff) {
  std::map<std::string, std::string> out;
  const std::size_t begin = roff.find("\n.SH COMMANDS\n");
  REQUIRE(begin != std::string::npos);
  const std::size_t end = roff.find("\n.SS ", begin);
  REQUIRE(end != std::string::npos);
  std::istringstream in(roff.substr(begin, end - begin));
  std::string name;
  bool after_tp = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(".TP", 0) == 0) {
      after_tp = true;
      name.clear();
    } else if (after_tp && line.rfind(".B ", 0) == 0) {
      name = RoffText(line.substr(3));
      if (name.size() >= 2 && name.front() == '"' && name.back() == '"')
        name = name.substr(1, name.size() - 2);
      after_tp = false;
      out[name];
    } else if (!line.empty() && line[0] == '.') {
      after_tp = false;
      name.clear();
    } else if (!name.empty()) {
      std::string& summary = out[name];
      summary += (summary.empty() ? "" : " ") + RoffText(line);
    }
  }
  return out;
}

std::string ManSource() {
  std::ifstream in(ATLAS_SOURCE_DIR "/man/atlas-scrub.1");
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
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

TEST_CASE(
    "docs: each command's one-line summary in --help is the one in COMMANDS of atlas-scrub(1)",
    "[docs][e2e]") {
  // STRATEGY:
  // 1. Read every command's one-line summary from `atlas-scrub --help`.
  // 2. Read the summaries listed at the top of COMMANDS in atlas-scrub(1)
  //    (".TP", ".B NAME", the summary), with the roff escapes turned into
  //    the characters a reader sees.
  // 3. The two lists name the same commands, and each summary is the same
  //    word for word: a change on either side alone fails here.
  CliResult top = RunCli({"--help"});
  REQUIRE(top.exit_code == 0);
  const std::map<std::string, std::string> help = HelpSummaries(top.out);
  REQUIRE(help.size() >= 8);
  const std::map<std::string, std::string> man = ManSummaries(ManSource());
  for (const auto& [name, summary] : help) {
    INFO("command " << name << " in --help: " << summary);
    REQUIRE(man.count(name) == 1);
    CHECK(man.at(name) == summary);
  }
  for (const auto& [name, summary] : man) {
    INFO("command " << name << " in atlas-scrub(1): " << summary);
    CHECK(help.count(name) == 1);
  }
}

}  // namespace
}  // namespace atlas::testing
