#include <cstdlib>
#include <ctime>
#include <iostream>

#include <fmt/format.h>

#include "cli/cli.h"

namespace atlas::cli {

std::filesystem::path ConfigPath(const GlobalOptions& g) {
  if (!g.config.empty()) return g.config;
  if (const char* env = std::getenv("ATLAS_SCRUB_CONFIG"); env != nullptr && *env != '\0') return env;
  return std::string(kDefaultConfigPath);
}

Result<Config> LoadConfigFor(const GlobalOptions& g) {
  std::filesystem::path path = ConfigPath(g);
  Result<Config> config = LoadConfig(FileSystem::Default(), path);
  if (config.ok()) {
    // SPEC: a config that holds a secret and is readable by others draws a
    // warning (the secret may instead live in password_file/token_file).
    std::vector<std::string> secrets = KeysHoldingSecrets(*config);
    Result<FileStat> st = FileSystem::Default()->Stat(path);
    if (!secrets.empty() && st.ok() && (st->mode & 0004) != 0) {
      fmt::print(stderr,
                 "atlas-scrub: warning: {} is readable by every user and holds a secret in {}; "
                 "run `chmod 600 {}` or move the secret to a token_file/password_file\n",
                 path.string(), fmt::join(secrets, ", "), path.string());
    }
  }
  if (!config.ok() && config.status().code() != Code::kInvalidArgument) {
    // A missing or unreadable config is a usage problem (exit 2), not a
    // failed run.
    return Status::InvalidArgument(config.status().message());
  }
  return config;
}

nlohmann::json FindingsJson(const std::vector<Finding>& findings) {
  nlohmann::json arr = nlohmann::json::array();
  for (const Finding& f : findings) arr.push_back(FindingJson(f));
  return arr;
}

nlohmann::json DriftJson(const DriftCounts& d) {
  auto entries = [](const DriftCounts::Entries& e) {
    return nlohmann::json{{"added", e.added}, {"removed", e.removed}, {"changed", e.changed}};
  };
  return {{"unchanged", d.unchanged},
          {"added", d.added},
          {"modified", d.modified},
          {"deleted", d.deleted},
          {"moved", d.moved},
          {"added_bytes", d.added_bytes},
          {"deleted_bytes", d.deleted_bytes},
          {"directories", entries(d.directories)},
          {"symlinks", entries(d.symlinks)},
          {"hard_links", entries(d.hard_links)},
          {"special_files", entries(d.special_files)},
          {"metadata_changed", d.metadata_changed}};
}

std::string EntryDriftText(const DriftCounts& d) {
  std::string out;
  auto kind = [&](const DriftCounts::Entries& e, std::string_view one, std::string_view many) {
    for (auto [n, verb] : {std::pair{e.added, "added"}, std::pair{e.removed, "removed"},
                           std::pair{e.changed, "changed"}}) {
      if (n > 0) out += fmt::format(", {} {} {}", n, n == 1 ? one : many, verb);
    }
  };
  kind(d.directories, "directory", "directories");
  kind(d.symlinks, "symlink", "symlinks");
  kind(d.hard_links, "hard link", "hard links");
  kind(d.special_files, "special file", "special files");
  if (d.metadata_changed > 0) {
    out += fmt::format(", {} {} metadata changed", d.metadata_changed, d.metadata_changed == 1 ? "file's" : "files'");
  }
  return out;
}

void PrintJson(const nlohmann::json& doc) {
  std::cout << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  std::cout.flush();
}

void PrintFindingsText(std::FILE* out, const std::vector<Finding>& findings) {
  for (const Finding& f : findings) {
    std::string where = f.disk;
    if (!f.path.empty()) where += (where.empty() ? "" : ":") + DisplayPath(f.path);
    fmt::print(out, "  {:<8} {:<18} {}{}{}\n", SeverityName(f.severity), KindName(f.kind), where,
               where.empty() ? "" : "  ", DisplayPath(f.message));
  }
}

int ReportError(const GlobalOptions& g, std::string_view command, const Status& s,
                const std::vector<Finding>& findings) {
  int code = ExitCodeFor(s);
  if (g.json) {
    nlohmann::json doc = {{"schema", 1},
                          {"command", command},
                          {"ok", false},
                          {"exit_code", code},
                          {"error", DisplayPath(s.ToString())},
                          {"findings", FindingsJson(findings)}};
    PrintJson(doc);
  }
  if (!findings.empty() && !g.json) PrintFindingsText(stderr, findings);
  fmt::print(stderr, "atlas-scrub: error: {}\n", DisplayPath(s.ToString()));
  return code;
}

std::string HumanBytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 5) {
    v /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string HumanBinary(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (bytes >= 1024 && bytes % 1024 == 0 && u < 5) {
    bytes /= 1024;
    ++u;
  }
  return fmt::format("{} {}", bytes, units[u]);
}

}  // namespace atlas::cli
