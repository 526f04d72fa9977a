// Shared pieces of the command-line front end. The library never prints,
// exits or reads the environment; this layer does all three.
#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "atlas/config.h"
#include "atlas/engine.h"
#include "atlas/env.h"
#include "atlas/finding.h"
#include "atlas/progress.h"
#include "atlas/status.h"
#include "core/finding_json.h"

namespace atlas::cli {

struct GlobalOptions {
  std::string config;  // -c; empty: $ATLAS_SCRUB_CONFIG, then the default path
  bool json = false;
  bool quiet = false;
  bool verbose = false;
  bool no_progress = false;
};

// What every command handler gets.
struct CommandEnv {
  GlobalOptions global;
  std::stop_token stop;
};

// Parses argv and runs the command. Returns the process exit code.
int RunCli(int argc, char** argv, std::stop_token stop);

// Exit codes of SPEC "Exit codes".
inline constexpr int kExitOk = 0;
inline constexpr int kExitAttention = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitFailed = 3;

// The only mapping from a Status to an exit code.
int ExitCodeFor(const Status& s);
// 1 if any finding is warning or worse, else 0.
int ExitCodeForFindings(const std::vector<Finding>& findings);

// The config path from -c, $ATLAS_SCRUB_CONFIG, or the default.
std::filesystem::path ConfigPath(const GlobalOptions& g);
// Loads the config, or prints the error and returns nullopt (exit 2 or 3).
Result<Config> LoadConfigFor(const GlobalOptions& g);

// A progress printer for this run: rate and ETA on a terminal, silent
// otherwise (cron), with --no-progress or --quiet.
std::unique_ptr<ProgressSink> MakeProgress(const GlobalOptions& g);

// JSON of findings (each FindingJson), SPEC "Machine output".
nlohmann::json FindingsJson(const std::vector<Finding>& findings);
nlohmann::json DriftJson(const DriftCounts& d);
// ", 2 hard links added, 1 symlink changed, 1 file's metadata changed":
// the entry and metadata drift of `d`, only what is not zero ("" if none).
std::string EntryDriftText(const DriftCounts& d);
// Prints a JSON document on stdout (invalid UTF-8 cannot occur: paths pass
// through DisplayPath).
void PrintJson(const nlohmann::json& doc);
// One line per finding: "critical  silent_corruption  d1  Movies/x.mkv  message".
void PrintFindingsText(std::FILE* out, const std::vector<Finding>& findings);
// "error: <message>" on stderr (or a JSON error document with --json on
// stdout), returning the exit code for `s`.
int ReportError(const GlobalOptions& g, std::string_view command, const Status& s,
                const std::vector<Finding>& findings = {});

// Human sizes: decimal units for data volumes and rates (as disk
// vendors and SnapRAID count), binary units for block sizes ("256 KiB").
std::string HumanBytes(std::uint64_t bytes);
std::string HumanBinary(std::uint64_t bytes);

}  // namespace atlas::cli
