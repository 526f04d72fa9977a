// Loop devices and mounts for the root-only tests: sparse ext4 images
// attached to loop devices, and mounts on temp directories. Each object
// undoes its step in its destructor, so a test that fails half-way (a failed
// REQUIRE throws) still leaves no mount and no loop device behind. Declare
// them in set-up order: C++ destroys in reverse, which unmounts before it
// detaches, and both before the TempDir holding the images is removed.
//
// The helpers shell out to mount(8), umount(8), losetup(8), mkfs.ext4(8) and
// blkid(8); tests/root/main.cc skips the executable (exit 77) without root
// or without those tools.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "atlas/advice.h"  // ShellQuote, for the commands below

namespace atlas::testing {

struct ShellOutput {
  int exit_code = -1;  // -1 when the shell could not run or died by a signal
  std::string out;     // stdout, trailing newlines and spaces trimmed
};

// Runs `cmd` with /bin/sh; stderr goes to the test's stderr.
ShellOutput Shell(const std::string& cmd);

// A sparse image of `size` bytes at `image`, formatted `fs_type` ("ext4", "xfs"
// from 300 MB, "btrfs" from 114 MB; labelled `label` when not empty)
// and attached to a free loop device. Fails the test
// (REQUIRE) if any step fails; nothing is left attached then. The destructor
// detaches the device; the image file stays for its TempDir to remove.
class LoopDisk {
 public:
  LoopDisk(const std::filesystem::path& image, std::uint64_t size, const std::string& label = "",
           const std::string& fs_type = "ext4");
  ~LoopDisk();
  LoopDisk(const LoopDisk&) = delete;
  LoopDisk& operator=(const LoopDisk&) = delete;

  // "/dev/loopN".
  const std::string& device() const { return device_; }
  // The filesystem UUID as blkid(8) reads it from the device (no cache).
  std::string Uuid() const;

 private:
  std::string device_;
};

// `source` mounted on `dir` (created if missing) with `type` and `options`
// (mount -o; empty for none). Fails the test if mount(8) fails. Unmounted by
// Unmount() or the destructor, with `umount -l` as the fallback for a busy
// mount, so the directory is free again either way.
class Mount {
 public:
  Mount(const std::string& source, const std::filesystem::path& dir,
        const std::string& type = "ext4", const std::string& options = "");
  ~Mount();
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;

  // Unmounts now; does nothing the second time.
  void Unmount();
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  bool mounted_ = false;
};

}  // namespace atlas::testing
