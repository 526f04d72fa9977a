// /proc/self/mountinfo parsing, path-to-mount lookup and ProbeFsIdentity
// (atlas/disk.h).
//
// Why mountinfo and not st_dev: btrfs reports a per-subvolume anonymous
// device in stat() that appears nowhere else, and bind mounts share st_dev
// across different mount points. The mount source names the device, and the
// mount tree says which mount a path really lands on.
//
// Lookup follows the mount tree rather than only taking the longest prefix:
// starting from the root mount, it repeatedly crosses into the child mount
// whose mount point is the *shortest* prefix of the remaining path, which is
// what the kernel's component-by-component path walk does. A mount stacked on
// the same mount point is a child of the one beneath it, so the topmost
// wins; a mount hidden by a later mount on an ancestor directory is a child
// of a mount the walk never enters. For a normal table this gives the same
// answer as "longest prefix, last one wins", which is the fallback when the
// list has no identifiable root (hand-written or filtered tables).
#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "atlas/disk.h"
#include "atlas/env.h"
#include "atlas/status.h"

#include "disk/blkid_probe.h"

namespace atlas {
namespace {

namespace stdfs = std::filesystem;

bool IsOctal(char c) {
  return c >= '0' && c <= '7';
}

// Decodes the kernel's "\ooo" escapes; any other backslash stays as it is.
std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && IsOctal(s[i + 1]) && IsOctal(s[i + 2]) &&
        IsOctal(s[i + 3])) {
      const int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
      out.push_back(static_cast<char>(static_cast<unsigned char>(v & 0xff)));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  if (s.empty())
    return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  while (pos <= line.size()) {
    const std::size_t sp = line.find(' ', pos);
    const std::size_t end = sp == std::string_view::npos ? line.size() : sp;
    if (end > pos)
      fields.push_back(line.substr(pos, end - pos));
    if (sp == std::string_view::npos)
      break;
    pos = sp + 1;
  }
  return fields;
}

Status BadLine(std::size_t line_no, std::string_view why, std::string_view line) {
  std::string msg = "mountinfo line " + std::to_string(line_no) + ": " + std::string(why) + ": \"" +
                    std::string(line) + "\"";
  return Status::Corruption(msg);
}

// "/a/./b/" -> "/a/b"; "" for a relative path.
std::string NormalizeAbsolute(const stdfs::path& path) {
  if (!path.is_absolute())
    return {};
  std::string s = path.lexically_normal().native();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// True when mount point `mp` contains `path` on a component boundary.
bool Contains(std::string_view mp, std::string_view path) {
  if (mp == "/")
    return true;
  if (path.size() < mp.size() || path.compare(0, mp.size(), mp) != 0)
    return false;
  return path.size() == mp.size() || path[mp.size()] == '/';
}

// Index of the mount the tree walk starts from: the first "/" mount whose
// parent is not in the table (or is itself). -1 when there is none, or when
// some other mount's parent is missing too: then the table is not the
// kernel's whole tree (hand-written, filtered) and parent links cannot be
// trusted.
long FindRootIndex(const std::vector<MountInfo>& mounts) {
  const auto parent_listed = [&](const MountInfo& m) {
    return std::any_of(mounts.begin(), mounts.end(),
                       [&](const MountInfo& p) { return &p != &m && p.mount_id == m.parent_id; });
  };
  long root = -1;
  for (std::size_t i = 0; i < mounts.size(); ++i) {
    if (parent_listed(mounts[i]))
      continue;
    if (mounts[i].mount_point != "/")
      return -1;
    if (root < 0)
      root = static_cast<long>(i);
  }
  return root;
}

long LongestPrefix(const std::vector<MountInfo>& mounts, const std::string& path) {
  long best = -1;
  for (std::size_t i = 0; i < mounts.size(); ++i) {
    const std::string& mp = mounts[i].mount_point;
    if (!Contains(mp, path))
      continue;
    // ">=": among equal mount points, the later (stacked on top) wins.
    if (best < 0 || mp.size() >= mounts[static_cast<std::size_t>(best)].mount_point.size()) {
      best = static_cast<long>(i);
    }
  }
  return best;
}

long TreeWalk(const std::vector<MountInfo>& mounts, long root, const std::string& path) {
  long cur = root;
  // Each step enters a different mount, so the table size bounds the walk
  // even for a malformed table with cycles.
  for (std::size_t steps = 0; steps < mounts.size(); ++steps) {
    const MountInfo& here = mounts[static_cast<std::size_t>(cur)];
    long next = -1;
    for (std::size_t i = 0; i < mounts.size(); ++i) {
      if (static_cast<long>(i) == cur || mounts[i].parent_id != here.mount_id)
        continue;
      const std::string& mp = mounts[i].mount_point;
      if (!Contains(mp, path))
        continue;
      // "<=": the shallowest child is crossed first; among equals, the last.
      if (next < 0 || mp.size() <= mounts[static_cast<std::size_t>(next)].mount_point.size()) {
        next = static_cast<long>(i);
      }
    }
    if (next < 0)
      return cur;
    cur = next;
  }
  return cur;
}

}  // namespace

Result<std::vector<MountInfo>> ParseMountInfo(std::string_view text) {
  std::vector<MountInfo> mounts;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.empty())
      continue;

    const std::vector<std::string_view> f = SplitFields(line);
    // (1)..(6), then optional fields up to a lone "-", then (9)(10)(11).
    std::size_t sep = 6;
    while (sep < f.size() && f[sep] != "-") ++sep;
    if (f.size() < 6 || sep >= f.size())
      return BadLine(line_no, "no \" - \" separator", line);
    if (sep + 2 >= f.size())
      return BadLine(line_no, "missing fields after \" - \"", line);

    MountInfo m;
    if (!ParseNumber(f[0], &m.mount_id) || !ParseNumber(f[1], &m.parent_id)) {
      return BadLine(line_no, "bad mount id", line);
    }
    const std::size_t colon = f[2].find(':');
    if (colon == std::string_view::npos || !ParseNumber(f[2].substr(0, colon), &m.major) ||
        !ParseNumber(f[2].substr(colon + 1), &m.minor)) {
      return BadLine(line_no, "bad major:minor", line);
    }
    m.root = Unescape(f[3]);
    m.mount_point = Unescape(f[4]);
    m.options = Unescape(f[5]);
    m.fs_type = Unescape(f[sep + 1]);
    m.source = Unescape(f[sep + 2]);
    if (sep + 3 < f.size())
      m.super_options = Unescape(f[sep + 3]);
    mounts.push_back(std::move(m));
  }
  return mounts;
}

Result<std::vector<MountInfo>> ReadMountInfo(FileSystem* fs) {
  ATLAS_ASSIGN_OR_RETURN(std::string text, fs->ReadFile("/proc/self/mountinfo"));
  return ParseMountInfo(text);
}

std::optional<MountInfo> FindMountFor(const std::vector<MountInfo>& mounts,
                                      const stdfs::path& absolute_path) {
  const std::string path = NormalizeAbsolute(absolute_path);
  if (path.empty())
    return std::nullopt;
  const long root = FindRootIndex(mounts);
  const long found = root >= 0 ? TreeWalk(mounts, root, path) : LongestPrefix(mounts, path);
  if (found < 0)
    return std::nullopt;
  return mounts[static_cast<std::size_t>(found)];
}

bool IsMountPoint(const std::vector<MountInfo>& mounts, const stdfs::path& absolute_path) {
  const std::optional<MountInfo> m = FindMountFor(mounts, absolute_path);
  return m.has_value() && m->mount_point == NormalizeAbsolute(absolute_path);
}

Result<FsIdentity> ProbeFsIdentity(FileSystem* fs, const stdfs::path& path) {
  std::error_code ec;
  const stdfs::path canonical = stdfs::canonical(path, ec);
  if (ec)
    return Status::FromErrno(ec.value(), "realpath " + path.native());
  ATLAS_ASSIGN_OR_RETURN(std::vector<MountInfo> mounts, ReadMountInfo(fs));
  const std::optional<MountInfo> mount = FindMountFor(mounts, canonical);
  if (!mount) {
    return Status::NotFound("no mount in /proc/self/mountinfo holds " + canonical.native());
  }
  FsIdentity id;
  id.fs_type = mount->fs_type;
  id.mount_point = mount->mount_point;
  id.is_mount_point = mount->mount_point == NormalizeAbsolute(canonical);
  if (id.fs_type == "tmpfs" || id.fs_type == "ramfs") id.rotational = false;
  if (mount->source.starts_with("/dev/")) {
    id.device = mount->source;
    // Only block devices are probed: /dev/fuse-style sources and stale names
    // such as /dev/root are not superblocks. A probe that fails leaves the
    // identity partial, by design (see disk.h).
    if (IsBlockDevice(id.device)) {
      Result<SuperblockInfo> sb = ProbeSuperblock(id.device);
      if (sb.ok()) {
        if (!sb->type.empty())
          id.fs_type = sb->type;
        id.uuid = sb->uuid;
        id.label = sb->label;
      }
      Result<BlockDevice> dev = DescribeBlockDeviceNode("/sys", id.device);
      if (dev.ok()) {
        id.model = dev->model;
        id.serial = dev->serial;
        id.rotational = dev->rotational;
      }
    }
  }
  return id;
}

}  // namespace atlas
