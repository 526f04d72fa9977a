// Runs the real atlas-scrub binary and captures what a user would see.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace atlas::testing {

struct CliResult {
  int exit_code = -1;  // the process exit status, or 128+signal
  std::string out;
  std::string err;
  nlohmann::json json;  // stdout parsed when it is JSON, else null
};

// Runs ATLAS_SCRUB_BIN with `args`; `env` entries are added to (or, with an
// empty value, removed from) the environment. Fails the test if the binary
// cannot be started.
CliResult RunCli(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env = {});

// Like RunCli, with `prefix` (a program and its arguments, e.g. setpriv ...)
// run in front of the binary. An empty prefix is RunCli.
CliResult RunCliPrefixed(const std::vector<std::string>& prefix, const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env = {});

}  // namespace atlas::testing
