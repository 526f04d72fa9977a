#include "root/loop_disk.h"

#include <array>
#include <cstdio>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/test_util.h"

namespace atlas::testing {

ShellOutput Shell(const std::string& cmd) {
  ShellOutput r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr)
    return r;
  std::array<char, 512> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == ' ')) r.out.pop_back();
  return r;
}

LoopDisk::LoopDisk(const std::filesystem::path& image, std::uint64_t size,
                   const std::string& label, const std::string& fs_type) {
  std::filesystem::create_directories(image.parent_path());
  const int fd = ::open(image.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  const int rc = ::ftruncate(fd, static_cast<off_t>(size));  // sparse: costs no disk space
  ::close(fd);
  REQUIRE(rc == 0);
  const std::string label_arg = label.empty() ? "" : " -L " + ShellQuote(label);
  // ext4 forces with -F, xfs and btrfs with -f.
  const std::string force = fs_type == "ext4" ? " -F" : " -f";
  const std::string mkfs = "mkfs." + fs_type + " -q" + force + label_arg + " " + ShellQuote(image.native());
  INFO(mkfs);
  REQUIRE(Shell(mkfs + " >/dev/null 2>&1").exit_code == 0);
  const ShellOutput loop = Shell("losetup --find --show " + ShellQuote(image.native()));
  INFO("losetup printed: " << loop.out);
  REQUIRE(loop.exit_code == 0);
  REQUIRE(loop.out.starts_with("/dev/loop"));
  device_ = loop.out;
}

LoopDisk::~LoopDisk() {
  // A device still held by a lazily unmounted filesystem is detached by the
  // kernel once that lets go (losetup -d sets autoclear).
  Shell("losetup -d " + ShellQuote(device_) + " 2>/dev/null");
}

std::string LoopDisk::Uuid() const {
  // -c /dev/null: no blkid cache is read or written.
  const ShellOutput r = Shell("blkid -c /dev/null -s UUID -o value " + ShellQuote(device_));
  REQUIRE(r.exit_code == 0);
  return r.out;
}

Mount::Mount(const std::string& source, const std::filesystem::path& dir, const std::string& type,
             const std::string& options)
    : dir_(dir) {
  std::filesystem::create_directories(dir);
  std::string cmd = "mount -t " + ShellQuote(type);
  if (!options.empty())
    cmd += " -o " + ShellQuote(options);
  cmd += " " + ShellQuote(source) + " " + ShellQuote(dir.native());
  INFO(cmd);
  REQUIRE(Shell(cmd).exit_code == 0);
  mounted_ = true;
}

Mount::~Mount() {
  Unmount();
}

void Mount::Unmount() {
  if (!mounted_)
    return;
  mounted_ = false;
  const std::string q = ShellQuote(dir_.native());
  Shell("umount " + q + " 2>/dev/null || umount -l " + q);
}

}  // namespace atlas::testing
