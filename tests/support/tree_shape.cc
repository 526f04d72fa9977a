#include "support/tree_shape.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <span>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "atlas/hash.h"
#include "support/test_util.h"

namespace atlas::testing {

namespace fs = std::filesystem;

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

const nlohmann::json& Findings(const nlohmann::json& doc) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  const nlohmann::json& f = At(doc, {"findings"});
  return f.is_array() ? f : kEmpty;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// A finding of `kind` for disk:path whose message mentions `word` (any case).
bool HasFinding(const nlohmann::json& doc, const std::string& kind, const std::string& disk,
                const std::string& path, const std::string& word) {
  for (const auto& f : Findings(doc)) {
    if (f.value("kind", "") == kind && f.value("disk", "") == disk && f.value("path", "") == path &&
        Lower(f.value("message", "")).find(Lower(word)) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::size_t CountKind(const nlohmann::json& doc, const std::string& kind) {
  std::size_t n = 0;
  for (const auto& f : Findings(doc)) n += f.value("kind", "") == kind ? 1 : 0;
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

// diff or sync --json: nothing at all has drifted, files or other entries.
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
// The shape of a disk.



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

// Every xattr of `p` (not following a symlink), sorted by name.
std::vector<std::pair<std::string, std::string>> Xattrs(const fs::path& p) {
  std::vector<std::pair<std::string, std::string>> out;
  ssize_t n = ::llistxattr(p.c_str(), nullptr, 0);
  if (n < 0 && (errno == ENOTSUP || errno == EPERM))
    return out;
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

// Every name under `root` except the root itself and the manifest copy
// directory atlas-scrub keeps there.
Shape TakeShape(const fs::path& root, const ShapeExtra& extra) {
  Shape s;
  std::map<ino_t, std::vector<std::string>> by_inode;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string rel = it->path().lexically_relative(root).string();
    // atlas-scrub's manifest copy directory, and ext4's lost+found
    // (excluded by default; mkfs and e2fsck make it): not the user's tree.
    if (it.depth() == 0 && (rel == ".atlas-scrub" || rel == "lost+found")) {
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
      const std::vector<std::byte> bytes = ReadFileBytes(it->path());
      e.content = HashBlock(bytes).Hex();
      e.allocated = static_cast<std::uint64_t>(st.st_blocks) * 512;
      by_inode[st.st_ino].push_back(rel);
    }
    e.xattrs = Xattrs(it->path());
    if (extra) extra(root, rel, e);
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

// Everything compared about one entry, one line per fact, so a failed CHECK
// shows what differs. Directory mtimes are left out when `dir_mtimes` is
// false (a plain fix after a user's rm changed them legitimately).
std::string Describe(const Entry& e, bool dir_mtimes) {
  std::ostringstream o;
  o << "type " << e.type << "\nperms " << std::oct << e.perms << std::dec << "\nowner " << e.uid
    << ":" << e.gid << "\nnlink " << e.nlink << "\n";
  if (e.type != 'd' || dir_mtimes)
    o << "mtime_ns " << e.mtime_ns << "\n";
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

void ExpectSameShape(const Shape& want, const Shape& got, bool dir_mtimes) {
  CHECK(Names(got) == Names(want));
  for (const auto& [rel, w] : want.entries) {
    INFO(rel);
    auto it = got.entries.find(rel);
    if (it == got.entries.end())
      continue;  // reported by the names CHECK above
    const Entry& g = it->second;
    CHECK(Describe(g, dir_mtimes) == Describe(w, dir_mtimes));
    CHECK(g.getfattr == w.getfattr);
    CHECK(g.getfacl == w.getfacl);
    if (Sparse(w)) {
      // The holes are kept: no more allocated than the original plus slack,
      // and nowhere near the apparent size.
      INFO("allocated: original " << w.allocated << ", rebuilt " << g.allocated << ", size "
                                  << w.size);
      CHECK(g.allocated <= w.allocated + kSlack);
      CHECK(g.allocated < w.size / 4);
    }
  }
  CHECK(Classes(got) == Classes(want));
}


Counts CountShape(const Shape& s) {
  Counts c;
  std::set<ino_t> inodes;
  for (const auto& [rel, e] : s.entries) {
    if (e.type == 'd')
      c.directories++;
    if (e.type == 'l')
      c.symlinks++;
    if (e.type == 'p' || e.type == 's' || e.type == 'c' || e.type == 'b')
      c.special_files++;
    if (e.type == 'f')
      inodes.insert(e.ino);
  }
  c.content_files = static_cast<std::int64_t>(inodes.size());
  for (const auto& names : s.link_classes)
    c.hard_links += static_cast<std::int64_t>(names.size()) - 1;
  return c;
}

// ---------------------------------------------------------------------------
// The homelab tree.

// Whether `dir`'s filesystem takes user.* xattrs; WARNs when it does not.
bool UserXattrsWork(const fs::path& dir) {
  const fs::path probe = dir / ".xattr-probe";
  WriteFile(probe, std::string("x"));
  const int rc = ::lsetxattr(probe.c_str(), "user.probe", "1", 1, 0);
  const int err = errno;
  fs::remove(probe);
  if (rc != 0 && (err == ENOTSUP || err == EOPNOTSUPP)) {
    WARN("SKIPPED: the xattr parts of this test: " << dir.string()
                                                   << " does not support user.* xattrs (ENOTSUP)");
    return false;
  }
  INFO(std::strerror(err));
  REQUIRE(rc == 0);
  return true;
}

void SetXattr(const fs::path& p, const std::string& name, const std::string& value) {
  INFO(p.string() << " " << name << ": " << std::strerror(errno));
  REQUIRE(::lsetxattr(p.c_str(), name.c_str(), value.data(), value.size(), 0) == 0);
}

// Sets the largest value of 64 KiB, 15000, 3800 or 900 bytes that the
// filesystem stores in one xattr (ext4 without ea_inode: one block); WARNs
// when it is not 64 KiB. Returns the size.
std::size_t SetBigXattr(const fs::path& p, const std::string& name, std::uint64_t seed) {
  for (std::size_t size :
       {std::size_t{65536}, std::size_t{15000}, std::size_t{3800}, std::size_t{900}}) {
    const std::vector<std::byte> bytes = RandomBytes(size, seed);
    const std::string value(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (::lsetxattr(p.c_str(), name.c_str(), value.data(), value.size(), 0) == 0) {
      if (size != 65536)
        WARN("the filesystem under " << p.string() << " stores at most " << size
                                     << " bytes in one xattr here, not 64 KiB");
      return size;
    }
    INFO(std::strerror(errno));
    REQUIRE((errno == E2BIG || errno == ENOSPC || errno == ERANGE));
  }
  FAIL("no xattr value of 900 bytes fits");
  return 0;
}

void Link(const fs::path& root, const std::string& existing, const std::string& name) {
  fs::create_directories((root / name).parent_path());
  fs::create_hard_link(root / existing, root / name);
}

void Symlink(const fs::path& root, const std::string& target, const std::string& name) {
  fs::create_directories((root / name).parent_path());
  fs::create_symlink(target, root / name);
}

void MakeFifo(const fs::path& p, mode_t mode) {
  fs::create_directories(p.parent_path());
  REQUIRE(::mkfifo(p.c_str(), mode) == 0);
  REQUIRE(::chmod(p.c_str(), mode) == 0);  // past the umask
}

void SetMtime(const fs::path& p, std::int64_t ns) {
  timespec times[2] = {{0, UTIME_OMIT}, {ns / 1'000'000'000, ns % 1'000'000'000}};
  INFO(p.string());
  REQUIRE(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

// A distinct mtime (with nanoseconds) on every name under `root`: files,
// symlinks and FIFOs first, then directories from the deepest up, so no
// later creation moves a directory's mtime.
void SetAllMtimes(const fs::path& root, std::uint64_t seed) {
  std::vector<fs::path> all;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    if (it.depth() == 0 && it->path().filename() == ".atlas-scrub") {
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

// A sparse file of `size`: 16 KiB of data at 0 and at size/2, holes between.
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



TreeInfo BuildHomelabTree(const fs::path& root, std::uint64_t seed, std::uint64_t sparse_size) {
  TreeInfo info;
  auto file = [&](const std::string& rel, std::size_t size, std::uint64_t n) {
    WriteFile(root / rel, RandomBytes(size, seed * 1000 + n));
  };
  // Hard links: a pair across directories, and a triple.
  file("Movies/A/a.mkv", 3 * 65536 + 1000 + seed, 1);
  Link(root, "Movies/A/a.mkv", "downloads/a.mkv");
  file("Music/x.flac", 100000 + seed, 2);
  Link(root, "Music/x.flac", "Backup/x.flac");
  Link(root, "Music/x.flac", "downloads/x.flac");
  file("Music/empty.cue", 0, 3);
  // Symlinks: relative, absolute (outside the disk, never followed), dangling.
  Symlink(root, "Movies/A/a.mkv", "latest.mkv");
  Symlink(root, "/etc/hostname", "Links/absolute");
  Symlink(root, "../Nowhere/missing.mkv", "Links/dangling");
  // Nested empty directories.
  fs::create_directories(root / "Music/Empty/Deeper");
  // A shared family directory: setgid, group-writable, another owner.
  file("Family/budget.ods", 5000 + seed, 4);
  // Files with xattrs.
  file("Documents/report.docx", 20000 + seed, 5);
  file("Documents/big-xattr.bin", 1000, 6);
  file("Documents/tagged.txt", 300, 7);
  // A sparse VM image and a FIFO.
  WriteSparse(root / "VMs/disk.img", sparse_size, seed * 1000 + 8);
  MakeFifo(root / "Misc/pipe.fifo", 0640);

  fs::permissions(root / "Movies/A/a.mkv", fs::perms(0640));
  fs::permissions(root / "Music/Empty", fs::perms(0750));
  if (::geteuid() == 0) {
    REQUIRE(::chown((root / "Family").c_str(), 1234, 1234) == 0);
    REQUIRE(::chown((root / "Family/budget.ods").c_str(), 1234, 1234) == 0);
    REQUIRE(::lchown((root / "Links/absolute").c_str(), 1234, 1234) == 0);  // the link's own owner
  } else {
    WARN("not root: Family/ and Links/absolute keep their owner (no chown to 1234:1234)");
  }
  REQUIRE(::chmod((root / "Family").c_str(), 02770) == 0);

  info.xattrs = UserXattrsWork(root);
  if (info.xattrs) {
    // Samba's DOS attributes: binary, with NUL bytes.
    const std::string dos(
        "\x00\x00\x04\x00\x04\x00\x00\x00\x51\x00\x00\x00\x20\x00\x00\x00"
        "\x01\x02\x00\xff\x7f\x00\xd5\x01",
        24);
    SetXattr(root / "Documents/report.docx", "user.DOSATTRIB", dos);
    info.big_xattr = SetBigXattr(root / "Documents/big-xattr.bin", "user.big", seed * 1000 + 9);
    for (int i = 0; i < 50; ++i) {
      const std::string n = (i < 10 ? "0" : "") + std::to_string(i);
      SetXattr(root / "Documents/tagged.txt", "user.tag." + n,
               "value " + n + " of seed " + std::to_string(seed));
    }
    SetXattr(root / "Movies", "user.comment",
             "films, seed " + std::to_string(seed));  // a directory's
  }
  SetAllMtimes(root, seed);
  return info;
}

}  // namespace atlas::testing
