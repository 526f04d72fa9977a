// Runner for tests that need root and loop devices. Without them it returns
// 77, which CTest reports as Skipped (SKIP_RETURN_CODE), so a missing
// privilege is visible rather than a silent pass.
#define CATCH_CONFIG_RUNNER
#include <cstdio>

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

}  // namespace

int main(int argc, char* argv[]) {
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
  return Catch::Session().run(argc, argv);
}
