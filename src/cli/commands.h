// Command handlers: each translates flags into a library call and renders
// the result as text or JSON (leveldb's leveldbutil).
#pragma once

#include <string>
#include <vector>

#include "cli/cli.h"

namespace atlas::cli {

struct InitArgs {
  std::vector<std::string> data;
  std::vector<std::string> parity;
  std::string manifest;
};
struct SyncArgs {
  bool force_empty = false;
  bool force_delete = false;
  bool force_zero = false;
  bool force_modified = false;
  bool force_move = false;
};
struct StatusArgs {
  bool full_drift = false;  // walk every disk to the end
  bool no_drift = false;    // no walk at all
};
struct ScrubArgs {
  std::string plan;             // "", "new", "bad", "full"
  double percent = -1;          // < 0: from the config
  double older_than_days = -1;  // < 0: from the config
};
struct CheckArgs {
  std::vector<std::string> disks;
  std::vector<std::string> filters;
};
struct FixArgs {
  std::vector<std::string> disks;
  std::vector<std::string> filters;
  bool dry_run = false;
  bool errors_only = false;
};
struct RestoreArgs {
  std::string from;
};
struct MetricsArgs {
  std::string textfile;  // empty: print on stdout
};

// "0.1.0": --version and atlas_scrub_info{version}.
inline constexpr const char* kVersionNumber = "0.1.0";
struct OutsideArgs {
  std::string index;               // --index FILE; empty: the manifest copies of the config
  bool all = false;                // --all: every file, not only media
  std::vector<std::string> paths;  // PATH...
  std::string key;                 // --key KEY: the trusted public key
  bool print_key = false;          // --print-key: print the array's key and stop
  std::vector<std::string> atlas_mounts;  // --atlas-mount PATH: where Atlas is mounted here
};

struct SmartArgs {
  std::vector<std::string> inputs;  // FILE or NAME=FILE
};

int CmdInit(const CommandEnv& env, const InitArgs& args);
int CmdSync(const CommandEnv& env, const SyncArgs& args);
int CmdDiff(const CommandEnv& env);
int CmdDisks(const CommandEnv& env);
int CmdStatus(const CommandEnv& env, const StatusArgs& args);
int CmdScrub(const CommandEnv& env, const ScrubArgs& args);
int CmdCheck(const CommandEnv& env, const CheckArgs& args);
int CmdFix(const CommandEnv& env, const FixArgs& args);
int CmdRestoreManifest(const CommandEnv& env, const RestoreArgs& args);
int CmdMetrics(const CommandEnv& env, const MetricsArgs& args);
int CmdAlertTest(const CommandEnv& env);
int CmdOutside(const CommandEnv& env, const OutsideArgs& args);
int CmdSmart(const CommandEnv& env, const SmartArgs& args);

}  // namespace atlas::cli
