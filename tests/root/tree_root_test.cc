// Issue 17 on real filesystems: a data disk's whole tree (hard links,
// symlinks, directories, xattrs with security.* and trusted.*, POSIX ACLs,
// a sparse file, a FIFO and a character device) on ext4, xfs and btrfs loop
// disks, synced, lost and rebuilt with `fix --disk`. tests/e2e/tree_e2e_test.cc
// covers the same tree on TMPDIR's filesystem as any user; here, as root,
// owners, device nodes, trusted.* and ACLs are real, and each filesystem's
// own xattr, hole and link-count rules apply.
//
// STRATEGY (per filesystem type):
// 1. A loop disk of that type mounted as d1 (TempArray's disk1 path), d2 a
//    plain directory, the parity file on TMPDIR's filesystem.
// 2. On d1 the homelab tree of tree_e2e_test.cc plus: Family/ chowned to
//    1234:1234 with mode 2770 and a default ACL (u:1234:rx), a file ACL
//    (u:1234:rwx), a symlink owned by 1234:1234 (lchown), a binary
//    security.NTACL and a trusted.* xattr, a character device (c 1 3), a
//    FIFO; every entry with its own mtime.
// 3. Snapshot (of everything but the manifest copy directory and ext4's
//    lost+found, which atlas-scrub excludes by default): per entry what
//    lstat(2) gives (the fields of `stat -c '%F %a %u %g %Y %h %s'`, mtime
//    in ns), readlink, the content hash, the sorted llistxattr/lgetxattr
//    list, hard-link inode classes and the sparse file's allocation; plus,
//    when the tools are installed, `getfattr -d -m - -h -e hex` and
//    `getfacl -p -n` text per entry.
// 4. sync; wipe d1 (rm -rf of its contents, every type) or replace it by a
//    new filesystem with another UUID (ext4 only); `fix --disk d1`; the
//    snapshot is equal (sparse allocation within 64 KiB); check is clean and
//    diff shows no drift.
//
// Tools: setfacl/getfacl (package acl) and getfattr (package attr) are used
// when installed. Without setfacl the ACLs are written as the kernel's
// system.posix_acl_* xattr values directly (the same bytes setfacl writes),
// with a WARN; without getfattr/getfacl the llistxattr snapshot (which
// includes the ACL xattrs) is the whole comparison, with a WARN. xfs and
// btrfs are skipped with a WARN when their mkfs is missing; the btrfs test is
// tagged [btrfs] for CTest's separate btrfs entry.
#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "atlas/hash.h"

#include "root/loop_disk.h"
#include "support/run_cli.h"
#include "support/temp_array.h"
#include "support/test_util.h"

namespace atlas::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr std::uint64_t kSlack = 64 * 1024;  // allowed extra allocation of a rebuilt sparse file
constexpr std::uint64_t kSparseSize = 64 * kMiB;
// From 512 MiB mkfs.ext4 uses 4 KiB blocks, as on a real data disk (a smaller
// image gets 1 KiB blocks, and 50 xattrs of one file no longer fit in one).
// The image is sparse: it costs only what is written.
constexpr std::uint64_t kExt4Image = 1024 * kMiB;

// ---------------------------------------------------------------------------
// JSON access that cannot abort on a missing key (reads as -1 / empty).

const nlohmann::json& At(const nlohmann::json& doc, std::initializer_list<const char*> path) {
  static const nlohmann::json kNull;
  const nlohmann::json* j = &doc;
  for (const char* k : path) {
    if (!j->is_object() || !j->contains(k))
      return kNull;
    j = &(*j)[k];
  }
  return *j;
}

std::int64_t Num(const nlohmann::json& doc, std::initializer_list<const char*> path) {
  const nlohmann::json& j = At(doc, path);
  return j.is_number() ? j.get<std::int64_t>() : -1;
}

std::size_t CountKind(const nlohmann::json& doc, const std::string& kind) {
  const nlohmann::json& findings = At(doc, {"findings"});
  std::size_t n = 0;
  if (findings.is_array()) {
    for (const auto& f : findings) n += f.value("kind", "") == kind ? 1 : 0;
  }
  return n;
}

const nlohmann::json& FindDisk(const nlohmann::json& status, const std::string& name) {
  static const nlohmann::json kNull;
  const nlohmann::json& disks = At(status, {"disks"});
  if (disks.is_array()) {
    for (const auto& d : disks) {
      if (d.value("name", "") == name)
        return d;
    }
  }
  return kNull;
}

void ExpectNoDrift(const nlohmann::json& doc) {
  INFO(doc.dump(1));
  for (const char* k : {"added", "modified", "deleted", "moved", "metadata_changed"}) {
    INFO(k);
    CHECK(Num(doc, {"drift", k}) == 0);
  }
  for (const char* group : {"directories", "symlinks", "hard_links", "special_files"}) {
    for (const char* k : {"added", "removed", "changed"}) {
      INFO(group << "." << k);
      CHECK(Num(doc, {"drift", group, k}) == 0);
    }
  }
  for (const char* kind : {"added", "deleted", "modified", "moved"})
    CHECK(CountKind(doc, kind) == 0);
}

// ---------------------------------------------------------------------------
// The shape of a disk (as in tests/e2e/tree_e2e_test.cc), plus tool output.

bool HaveTool(const std::string& name) {
  return Shell("command -v " + ShellQuote(name) + " >/dev/null 2>&1").exit_code == 0;
}

struct Entry {
  char type = '?';
  mode_t perms = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t size = 0;
  std::uint64_t nlink = 0;
  dev_t rdev = 0;
  std::string target;
  std::string content;
  std::vector<std::pair<std::string, std::string>> xattrs;
  std::uint64_t allocated = 0;
  ino_t ino = 0;
  std::string getfattr;  // sorted lines of getfattr's output, when installed
  std::string getfacl;   // getfacl's output for files and directories, when installed
};

struct Shape {
  std::map<std::string, Entry> entries;
  std::set<std::vector<std::string>> link_classes;
};

char TypeOf(mode_t m) {
  if (S_ISREG(m))
    return 'f';
  if (S_ISDIR(m))
    return 'd';
  if (S_ISLNK(m))
    return 'l';
  if (S_ISFIFO(m))
    return 'p';
  if (S_ISSOCK(m))
    return 's';
  if (S_ISCHR(m))
    return 'c';
  if (S_ISBLK(m))
    return 'b';
  return '?';
}

std::string Hex(std::string_view bytes) {
  static const char* const kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string HashOf(std::string_view bytes) {
  return HashBlock(std::span(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size())).Hex();
}

std::vector<std::pair<std::string, std::string>> Xattrs(const fs::path& p) {
  std::vector<std::pair<std::string, std::string>> out;
  ssize_t n = ::llistxattr(p.c_str(), nullptr, 0);
  INFO(p.string() << ": " << std::strerror(errno));
  REQUIRE(n >= 0);
  std::string names(static_cast<std::size_t>(n), '\0');
  n = ::llistxattr(p.c_str(), names.data(), names.size());
  REQUIRE(n >= 0);
  names.resize(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < names.size();) {
    std::string name = names.c_str() + i;
    i += name.size() + 1;
    ssize_t v = ::lgetxattr(p.c_str(), name.c_str(), nullptr, 0);
    REQUIRE(v >= 0);
    std::string value(static_cast<std::size_t>(v), '\0');
    v = ::lgetxattr(p.c_str(), name.c_str(), value.data(), value.size());
    REQUIRE(v >= 0);
    value.resize(static_cast<std::size_t>(v));
    out.emplace_back(name, value);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The lines of `text`, sorted (getfattr prints names in the filesystem's
// listing order, which a rebuild may change).
std::string SortedLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// What a disk root holds that is not the user's tree: atlas-scrub's manifest
// copy directory, and ext4's lost+found (excluded by default: "/lost+found/"
// in config.h; mkfs and e2fsck make it, atlas-scrub neither records nor
// restores it).
bool NotOfTheTree(const fs::recursive_directory_iterator& it) {
  const fs::path name = it->path().filename();
  return it.depth() == 0 && (name == ".atlas-scrub" || name == "lost+found");
}

Shape TakeShape(const fs::path& root) {
  const bool getfattr = HaveTool("getfattr");
  const bool getfacl = HaveTool("getfacl");
  Shape s;
  std::map<ino_t, std::vector<std::string>> by_inode;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string rel = it->path().lexically_relative(root).string();
    if (NotOfTheTree(it)) {
      it.disable_recursion_pending();
      continue;
    }
    struct stat st {};
    REQUIRE(::lstat(it->path().c_str(), &st) == 0);
    Entry e;
    e.type = TypeOf(st.st_mode);
    e.perms = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.mtime_ns = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
    e.nlink = st.st_nlink;
    e.ino = st.st_ino;
    if (e.type == 'f' || e.type == 'l')
      e.size = static_cast<std::uint64_t>(st.st_size);
    if (e.type == 'c' || e.type == 'b')
      e.rdev = st.st_rdev;
    if (e.type == 'l')
      e.target = fs::read_symlink(it->path()).string();
    if (e.type == 'f') {
      e.content = HashBlock(ReadFileBytes(it->path())).Hex();
      e.allocated = static_cast<std::uint64_t>(st.st_blocks) * 512;
      by_inode[st.st_ino].push_back(rel);
    }
    e.xattrs = Xattrs(it->path());
    // Relative names from the disk root, so both snapshots print the same.
    const std::string cd = "cd " + ShellQuote(root.native()) + " && ";
    if (getfattr) {
      ShellOutput r = Shell(cd + "getfattr -d -m - -h -e hex -- " + ShellQuote(rel) + " 2>&1");
      e.getfattr = SortedLines(r.out);
    }
    if (getfacl && (e.type == 'f' || e.type == 'd')) {
      ShellOutput r = Shell(cd + "getfacl -p -n -- " + ShellQuote(rel) + " 2>&1");
      INFO(rel << ": " << r.out);
      REQUIRE(r.exit_code == 0);
      e.getfacl = r.out;
    }
    s.entries[rel] = std::move(e);
  }
  for (auto& [ino, names] : by_inode) {
    if (names.size() < 2)
      continue;
    std::sort(names.begin(), names.end());
    s.link_classes.insert(names);
  }
  return s;
}

std::string Describe(const Entry& e) {
  std::ostringstream o;
  o << "type " << e.type << "\nperms " << std::oct << e.perms << std::dec << "\nowner " << e.uid
    << ":" << e.gid << "\nnlink " << e.nlink << "\nmtime_ns " << e.mtime_ns << "\n";
  if (e.type == 'f' || e.type == 'l')
    o << "size " << e.size << "\n";
  if (e.type == 'c' || e.type == 'b')
    o << "rdev " << major(e.rdev) << ":" << minor(e.rdev) << "\n";
  if (e.type == 'l')
    o << "target " << e.target << "\n";
  if (e.type == 'f')
    o << "content " << e.content << "\n";
  for (const auto& [name, value] : e.xattrs) {
    o << "xattr " << name << " = "
      << (value.size() <= 64 ? "0x" + Hex(value)
                             : std::to_string(value.size()) + " bytes " + HashOf(value))
      << "\n";
  }
  return o.str();
}

bool Sparse(const Entry& e) {
  return e.type == 'f' && e.size >= kMiB && e.allocated * 2 < e.size;
}

std::string Names(const Shape& s) {
  std::string out;
  for (const auto& [rel, e] : s.entries) out += rel + " (" + e.type + ")\n";
  return out;
}

std::string Classes(const Shape& s) {
  std::string out;
  for (const auto& names : s.link_classes) {
    for (const std::string& n : names) out += n + " ";
    out += "\n";
  }
  return out;
}

void ExpectSameShape(const Shape& want, const Shape& got) {
  CHECK(Names(got) == Names(want));
  for (const auto& [rel, w] : want.entries) {
    INFO(rel);
    auto it = got.entries.find(rel);
    if (it == got.entries.end())
      continue;  // reported by the names CHECK above
    const Entry& g = it->second;
    CHECK(Describe(g) == Describe(w));
    CHECK(g.getfattr == w.getfattr);
    CHECK(g.getfacl == w.getfacl);
    if (Sparse(w)) {
      INFO("allocated: original " << w.allocated << ", rebuilt " << g.allocated << ", size "
                                  << w.size);
      CHECK(g.allocated <= w.allocated + kSlack);
      CHECK(g.allocated < w.size / 4);
    }
  }
  CHECK(Classes(got) == Classes(want));
}

// ---------------------------------------------------------------------------
// The tree.

void SetXattr(const fs::path& p, const std::string& name, const std::string& value) {
  const int rc = ::lsetxattr(p.c_str(), name.c_str(), value.data(), value.size(), 0);
  INFO(p.string() << " " << name << ": " << std::strerror(errno));
  REQUIRE(rc == 0);
}

// The largest of 64 KiB, 15000, 3800 and 900 bytes the filesystem stores in
// one value (xfs: 64 KiB; btrfs: about a node; ext4 without ea_inode: one
// block, and mkfs.ext4 gives a small image 1 KiB blocks).
std::size_t SetBigXattr(const fs::path& p, const std::string& name, std::uint64_t seed) {
  for (std::size_t size :
       {std::size_t{65536}, std::size_t{15000}, std::size_t{3800}, std::size_t{900}}) {
    const std::vector<std::byte> bytes = RandomBytes(size, seed);
    if (::lsetxattr(p.c_str(), name.c_str(), bytes.data(), bytes.size(), 0) == 0) {
      if (size != 65536)
        WARN("this filesystem stores at most " << size << " bytes in one xattr, not 64 KiB");
      return size;
    }
    INFO(std::strerror(errno));
    REQUIRE((errno == E2BIG || errno == ENOSPC || errno == ERANGE));
  }
  FAIL("no xattr value of 900 bytes fits");
  return 0;
}

void SetMtime(const fs::path& p, std::int64_t ns) {
  timespec times[2] = {{0, UTIME_OMIT}, {ns / 1'000'000'000, ns % 1'000'000'000}};
  INFO(p.string());
  REQUIRE(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

// A distinct mtime on every name; directories last, deepest first.
void SetAllMtimes(const fs::path& root, std::uint64_t seed) {
  std::vector<fs::path> all;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    if (NotOfTheTree(it)) {
      it.disable_recursion_pending();
      continue;
    }
    all.push_back(it->path());
  }
  std::sort(all.begin(), all.end());
  const std::int64_t base = 1'300'000'000LL + static_cast<std::int64_t>(seed) * 10'000'000LL;
  auto when = [&](std::size_t i) {
    return (base + static_cast<std::int64_t>(i) * 86'411) * 1'000'000'000LL +
           static_cast<std::int64_t>(i) * 1'000 + 123;
  };
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (!fs::is_directory(fs::symlink_status(all[i])))
      SetMtime(all[i], when(i));
  }
  for (std::size_t i = all.size(); i-- > 0;) {
    if (fs::is_directory(fs::symlink_status(all[i])))
      SetMtime(all[i], when(i));
  }
}

void Link(const fs::path& root, const std::string& existing, const std::string& name) {
  fs::create_directories((root / name).parent_path());
  fs::create_hard_link(root / existing, root / name);
}

void Symlink(const fs::path& root, const std::string& target, const std::string& name) {
  fs::create_directories((root / name).parent_path());
  fs::create_symlink(target, root / name);
}

void WriteSparse(const fs::path& p, std::uint64_t size, std::uint64_t seed) {
  fs::create_directories(p.parent_path());
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, static_cast<off_t>(size)) == 0);
  const std::vector<std::byte> a = RandomBytes(16384, seed);
  const std::vector<std::byte> b = RandomBytes(16384, seed + 1);
  REQUIRE(::pwrite(fd, a.data(), a.size(), 0) == 16384);
  REQUIRE(::pwrite(fd, b.data(), b.size(), static_cast<off_t>(size / 2)) == 16384);
  REQUIRE(::fsync(fd) == 0);
  ::close(fd);
}

// The kernel's system.posix_acl_* value (version 2, then per entry le16 tag,
// le16 perm, le32 id), which is what setfacl(1) writes.
struct AclEntry {
  std::uint16_t tag, perm;
  std::uint32_t id;
};
constexpr std::uint16_t kUserObj = 0x01, kUser = 0x02, kGroupObj = 0x04, kMask = 0x10,
                        kOther = 0x20;
constexpr std::uint32_t kNoId = 0xffffffff;

std::string AclValue(std::initializer_list<AclEntry> entries) {
  std::string v;
  auto put = [&](std::uint32_t x, int bytes) {
    for (int i = 0; i < bytes; ++i) v += static_cast<char>((x >> (8 * i)) & 0xff);
  };
  put(2, 4);
  for (const AclEntry& e : entries) {
    put(e.tag, 2);
    put(e.perm, 2);
    put(e.id, 4);
  }
  return v;
}

// `setfacl -m u:1234:rwx FILE` on a 0640 file and `setfacl -d -m u:1234:rx DIR`
// on a 2770 directory, by setfacl when installed, else as raw xattrs.
void SetAcls(const fs::path& file, const fs::path& dir) {
  if (HaveTool("setfacl")) {
    REQUIRE(Shell("setfacl -m u:1234:rwx " + ShellQuote(file.native())).exit_code == 0);
    REQUIRE(Shell("setfacl -d -m u:1234:rx " + ShellQuote(dir.native())).exit_code == 0);
    return;
  }
  WARN("setfacl is missing (package acl): the ACLs are written as raw system.posix_acl_* xattrs");
  SetXattr(file, "system.posix_acl_access",
           AclValue({{kUserObj, 6, kNoId},
                     {kUser, 7, 1234},
                     {kGroupObj, 4, kNoId},
                     {kMask, 7, kNoId},
                     {kOther, 0, kNoId}}));
  SetXattr(dir, "system.posix_acl_default",
           AclValue({{kUserObj, 7, kNoId},
                     {kUser, 5, 1234},
                     {kGroupObj, 7, kNoId},
                     {kMask, 7, kNoId},
                     {kOther, 0, kNoId}}));
}

// The homelab tree of tests/e2e/tree_e2e_test.cc plus what needs root.
// Returns the size of the big xattr value.
std::size_t BuildRootTree(const fs::path& root, std::uint64_t seed) {
  auto file = [&](const std::string& rel, std::size_t size, std::uint64_t n) {
    WriteFile(root / rel, RandomBytes(size, seed * 1000 + n));
  };
  file("Movies/A/a.mkv", 3 * 65536 + 1000 + seed, 1);
  Link(root, "Movies/A/a.mkv", "downloads/a.mkv");
  file("Music/x.flac", 100000 + seed, 2);
  Link(root, "Music/x.flac", "Backup/x.flac");
  Link(root, "Music/x.flac", "downloads/x.flac");
  file("Music/empty.cue", 0, 3);
  Symlink(root, "Movies/A/a.mkv", "latest.mkv");
  Symlink(root, "/etc/hostname", "Links/absolute");
  Symlink(root, "../Nowhere/missing.mkv", "Links/dangling");
  fs::create_directories(root / "Music/Empty/Deeper");
  file("Family/budget.ods", 5000 + seed, 4);
  file("Documents/report.docx", 20000 + seed, 5);
  file("Documents/big-xattr.bin", 1000, 6);
  file("Documents/tagged.txt", 300, 7);
  file("Documents/shared.txt", 700, 8);
  WriteSparse(root / "VMs/disk.img", kSparseSize, seed * 1000 + 9);
  fs::create_directories(root / "Misc");
  REQUIRE(::mkfifo((root / "Misc/pipe.fifo").c_str(), 0640) == 0);
  fs::create_directories(root / "Devices");
  REQUIRE(::mknod((root / "Devices/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);

  REQUIRE(::chmod((root / "Misc/pipe.fifo").c_str(), 0640) == 0);
  REQUIRE(::chmod((root / "Devices/null").c_str(), 0666) == 0);
  fs::permissions(root / "Movies/A/a.mkv", fs::perms(0640));
  fs::permissions(root / "Music/Empty", fs::perms(0750));
  fs::permissions(root / "Documents/shared.txt", fs::perms(0640));
  REQUIRE(::chown((root / "Family").c_str(), 1234, 1234) == 0);
  REQUIRE(::chown((root / "Family/budget.ods").c_str(), 1234, 1234) == 0);
  REQUIRE(::lchown((root / "Links/absolute").c_str(), 1234, 1234) == 0);  // the link's own owner
  REQUIRE(::chmod((root / "Family").c_str(), 02770) == 0);
  SetAcls(root / "Documents/shared.txt", root / "Family");

  const std::string dos(
      "\x00\x00\x04\x00\x04\x00\x00\x00\x51\x00\x00\x00\x20\x00\x00\x00"
      "\x01\x02\x00\xff\x7f\x00\xd5\x01",
      24);
  SetXattr(root / "Documents/report.docx", "user.DOSATTRIB", dos);
  // Samba's NT ACL blob: binary, NUL bytes included.
  std::string ntacl;
  for (int i = 0; i < 180; ++i) ntacl += static_cast<char>((i * 37 + 1) % 256);
  ntacl[5] = '\0';
  SetXattr(root / "Documents/report.docx", "security.NTACL", ntacl);
  SetXattr(root / "Documents/report.docx", "trusted.atlas.origin",
           std::string("import\0batch 7", 14));
  const std::size_t big =
      SetBigXattr(root / "Documents/big-xattr.bin", "user.big", seed * 1000 + 10);
  for (int i = 0; i < 50; ++i) {
    const std::string n = (i < 10 ? "0" : "") + std::to_string(i);
    SetXattr(root / "Documents/tagged.txt", "user.tag." + n, "value " + n);
  }
  SetXattr(root / "Movies", "user.comment", "films");
  SetXattr(root / "Family", "trusted.share", "family");
  SetAllMtimes(root, seed);
  return big;
}

bool HaveMkfs(const std::string& type) {
  return ::access(("/usr/sbin/mkfs." + type).c_str(), X_OK) == 0 ||
         ::access(("/sbin/mkfs." + type).c_str(), X_OK) == 0;
}

// Sync the tree on a `fs_type` loop disk mounted as d1, lose d1 (its
// contents removed, or with `new_filesystem` a fresh filesystem of another
// UUID mounted in its place), `fix --disk d1`, and compare.
void TreeRoundTrip(const std::string& fs_type, std::uint64_t image_size, bool new_filesystem) {
  if (!HaveMkfs(fs_type)) {
    WARN("SKIPPED: mkfs." << fs_type << " is missing (scripts/install-deps.sh installs it)");
    return;
  }
  if (!HaveTool("getfattr"))
    WARN("getfattr is missing (package attr): comparing llistxattr output only");
  if (!HaveTool("getfacl"))
    WARN("getfacl is missing (package acl): comparing the raw ACL xattrs only");
  // Declared in set-up order: destroyed in reverse, unmount before detach
  // before the directories go.
  TempDir images;
  TempArray a(2, 1);
  LoopDisk disk(images / "d1.img", image_size, "atlas-d1", fs_type);
  std::optional<LoopDisk> replacement;
  std::optional<Mount> mount(std::in_place, disk.device(), a.Disk(1), fs_type);

  BuildRootTree(a.Disk(1), 1);
  a.Write(2, "Photos/IMG_2.jpg", 150000, 2);
  const Shape before = TakeShape(a.Disk(1));
  REQUIRE(Sparse(before.entries.at("VMs/disk.img")));
  REQUIRE(before.link_classes.size() == 2);
  REQUIRE(before.entries.at("Documents/shared.txt").perms ==
          0670);  // the ACL's mask in the group bits

  CliResult sync = a.Run({"sync"});
  INFO(sync.out << sync.err);
  REQUIRE(sync.exit_code == 0);
  CHECK(Num(sync.json, {"drift", "symlinks", "added"}) == 3);
  CHECK(Num(sync.json, {"drift", "hard_links", "added"}) == 3);
  CHECK(Num(sync.json, {"drift", "special_files", "added"}) == 2);  // the FIFO and the device
  CliResult status = a.Run({"status"});
  INFO(status.out << status.err);
  CHECK(status.exit_code == 0);
  CHECK(Num(FindDisk(status.json, "d1"), {"special_files"}) == 2);
  CHECK(Num(FindDisk(status.json, "d1"), {"hard_links"}) == 3);

  if (new_filesystem) {
    replacement.emplace(images / "d1-new.img", image_size, "atlas-d1", fs_type);
    REQUIRE(replacement->Uuid() != disk.Uuid());
    mount.reset();
    mount.emplace(replacement->device(), a.Disk(1), fs_type);
  } else {
    for (const auto& e : fs::directory_iterator(a.Disk(1))) fs::remove_all(e.path());
  }
  REQUIRE(!fs::exists(a.File(1, "Movies")));

  CliResult fix = a.Run({"fix", "--disk", "d1"});
  INFO(fix.out << fix.err);
  REQUIRE(fix.exit_code == 0);
  CHECK(Num(fix.json, {"files_unrecoverable"}) == 0);
  ExpectSameShape(before, TakeShape(a.Disk(1)));
  if (fs_type == "ext4" && new_filesystem)
    CHECK(fs::is_directory(a.File(1, "lost+found")));

  CliResult check = a.Run({"check"});
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
  CliResult diff = a.Run({"diff"});
  INFO(diff.out << diff.err);
  CHECK(diff.exit_code == 0);
  ExpectNoDrift(diff.json);
}

TEST_CASE(
    "tree: on ext4, a wiped disk's tree with owners, ACLs, security/trusted xattrs, a device and a "
    "FIFO "
    "is rebuilt exactly",
    "[root][issue-17]") {
  TreeRoundTrip("ext4", kExt4Image, /*new_filesystem=*/false);
}

TEST_CASE("tree: on ext4, the tree is rebuilt onto a new filesystem (another UUID) with fix --disk",
          "[root][issue-17]") {
  // The new filesystem's own lost+found (not recorded: the default exclude
  // "/lost+found/") stays as mkfs made it.
  TreeRoundTrip("ext4", kExt4Image, /*new_filesystem=*/true);
}

TEST_CASE(
    "tree: on xfs, a wiped disk's tree with owners, ACLs, security/trusted xattrs, a device and a "
    "FIFO "
    "is rebuilt exactly",
    "[root][issue-17]") {
  TreeRoundTrip("xfs", 320 * kMiB, /*new_filesystem=*/false);
}

TEST_CASE(
    "tree: on btrfs, a wiped disk's tree with owners, ACLs, security/trusted xattrs, a device and "
    "a FIFO "
    "is rebuilt exactly",
    "[root][btrfs][issue-17]") {
  TreeRoundTrip("btrfs", 256 * kMiB, /*new_filesystem=*/false);
}

}  // namespace
}  // namespace atlas::testing
