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
};
struct RestoreArgs {
  std::string from;
};

int CmdInit(const CommandEnv& env, const InitArgs& args);
int CmdSync(const CommandEnv& env, const SyncArgs& args);
int CmdDiff(const CommandEnv& env);
int CmdStatus(const CommandEnv& env);
int CmdRestoreManifest(const CommandEnv& env, const RestoreArgs& args);

}  // namespace atlas::cli
