// Runner for tests that need root and loop devices. Without them it returns
// 77, which CTest reports as Skipped (SKIP_RETURN_CODE), so a missing
// privilege is visible rather than a silent pass.
//
// `--require-tool=NAME` (any number, before Catch's own arguments) adds a
// tool that must be in /usr/sbin or /sbin, else the run is skipped the same
// way, naming it. CTest runs the btrfs tests as their own entry with
// `--require-tool=mkfs.btrfs "[btrfs]"` and the others with "~[btrfs]", so a
// machine without btrfs-progs shows that one entry Skipped and still runs
// the rest.
#define CATCH_CONFIG_RUNNER
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>
#include <unistd.h>

namespace {

bool Executable(const char* const* candidates) {
  for (const char* const* p = candidates; *p != nullptr; ++p) {
    if (::access(*p, X_OK) == 0)
      return true;
  }
  return false;
}

bool InSbin(const std::string& tool) {
  const std::string usr = "/usr/sbin/" + tool;
  const std::string sbin = "/sbin/" + tool;
  const char* const candidates[] = {usr.c_str(), sbin.c_str(), nullptr};
  return Executable(candidates);
}

}  // namespace

int main(int argc, char* argv[]) {
  constexpr std::string_view kRequire = "--require-tool=";
  std::vector<std::string> required;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i > 0 && a.starts_with(kRequire)) {
      required.emplace_back(a.substr(kRequire.size()));
    } else {
      args.push_back(argv[i]);
    }
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "atlas_root_tests: skipped: needs root\n");
    return 77;
  }
  static const char* const kLosetup[] = {"/usr/sbin/losetup", "/sbin/losetup", nullptr};
  static const char* const kMkfs[] = {"/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4", nullptr};
  static const char* const kBlkid[] = {"/usr/sbin/blkid", "/sbin/blkid", nullptr};
  if (!Executable(kLosetup) || !Executable(kMkfs) || !Executable(kBlkid) ||
      ::access("/dev/loop-control", F_OK) != 0) {
    std::fprintf(stderr,
                 "atlas_root_tests: skipped: needs losetup, mkfs.ext4, blkid and loop devices\n");
    return 77;
  }
  for (const std::string& tool : required) {
    if (!InSbin(tool)) {
      std::fprintf(stderr,
                   "atlas_root_tests: skipped: needs %s in /usr/sbin or /sbin "
                   "(scripts/install-deps.sh installs it)\n",
                   tool.c_str());
      return 77;
    }
  }
  return Catch::Session().run(static_cast<int>(args.size()), args.data());
}
