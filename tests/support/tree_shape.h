// The whole tree of a data disk as a user sees it, for the tests of
// hard links, symlinks, directories, xattrs, holes and special files
// (issue 17): a "shape" of every name under a disk root (lstat, never
// following a link) to compare before and after a rebuild, the helpers that
// build such a tree, and JSON access for the drift counts that cannot abort
// on a missing key (it reads as -1, and the CHECK that uses it fails).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace atlas::testing {

inline constexpr std::uint64_t kMiB = 1024 * 1024;
// Allowed extra allocation of a rebuilt sparse file.
inline constexpr std::uint64_t kSlack = 64 * 1024;

// --- JSON ------------------------------------------------------------------
const nlohmann::json& At(const nlohmann::json& doc, std::initializer_list<const char*> path);
// A number at `path`, -1 when missing.
std::int64_t Num(const nlohmann::json& doc, std::initializer_list<const char*> path);
const nlohmann::json& Findings(const nlohmann::json& doc);
std::string Lower(std::string s);
// A finding of `kind` for disk:path whose message mentions `word` (any case).
bool HasFinding(const nlohmann::json& doc, const std::string& kind, const std::string& disk,
                const std::string& path, const std::string& word);
std::size_t CountKind(const nlohmann::json& doc, const std::string& kind);
const nlohmann::json& FindDisk(const nlohmann::json& status, const std::string& name);
// diff or sync --json: nothing at all has drifted, files or other entries.
void ExpectNoDrift(const nlohmann::json& doc);

// --- The shape of a disk -----------------------------------------------------
struct Entry {
  char type = '?';   // f file, d directory, l symlink, p FIFO, s socket, c/b device
  mode_t perms = 0;  // st_mode & 07777
  uid_t uid = 0;
  gid_t gid = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t size = 0;  // files and symlinks (a directory's size is the filesystem's business)
  std::uint64_t nlink = 0;
  dev_t rdev = 0;                                           // devices
  std::string target;                                       // symlinks
  std::string content;                                      // files: hash of the bytes
  std::vector<std::pair<std::string, std::string>> xattrs;  // sorted by name
  std::uint64_t allocated = 0;                              // files: st_blocks * 512
  ino_t ino = 0;                                            // not compared; gives the link classes
  std::string getfattr;  // filled by a ShapeExtra (tool output), compared as it is
  std::string getfacl;
};

struct Shape {
  std::map<std::string, Entry> entries;  // path relative to the disk root
  // Names sharing one inode (regular files with more than one name), each
  // sorted: the inode numbers change on a rebuild, the sharing must not.
  std::set<std::vector<std::string>> link_classes;
};

// What status --json reports per disk, counted from a shape.
struct Counts {
  std::int64_t directories = 0, symlinks = 0, hard_links = 0, special_files = 0, content_files = 0;
};

// Called for every entry TakeShape records: a test adds what it compares
// besides (tool output such as getfattr's and getfacl's).
using ShapeExtra = std::function<void(const std::filesystem::path& root, const std::string& rel, Entry& e)>;

char TypeOf(mode_t m);
std::string Hex(std::string_view bytes);
std::string HashOf(std::string_view bytes);
// Every xattr of `p` (not following a symlink), sorted by name.
std::vector<std::pair<std::string, std::string>> Xattrs(const std::filesystem::path& p);
// Every name under `root` but the manifest copy directory and lost+found.
Shape TakeShape(const std::filesystem::path& root, const ShapeExtra& extra = {});
// Everything compared about one entry, one line per fact, so a failed CHECK
// shows what differs. Directory mtimes are left out when `dir_mtimes` is
// false (a plain fix after a user's rm changed them legitimately).
std::string Describe(const Entry& e, bool dir_mtimes = true);
bool Sparse(const Entry& e);
std::string Names(const Shape& s);
std::string Classes(const Shape& s);
// Same names, entries, xattrs, tool output and hard-link classes; a sparse
// file's allocation within kSlack of the original.
void ExpectSameShape(const Shape& want, const Shape& got, bool dir_mtimes = true);
Counts CountShape(const Shape& s);

// --- Building a tree ---------------------------------------------------------
bool UserXattrsWork(const std::filesystem::path& dir);
void SetXattr(const std::filesystem::path& p, const std::string& name, const std::string& value);
// Sets the largest value of 64 KiB, 15000, 3800 or 900 bytes that the
// filesystem stores in one xattr (ext4 without ea_inode: one block); WARNs
// when it is not 64 KiB. Returns the size.
std::size_t SetBigXattr(const std::filesystem::path& p, const std::string& name, std::uint64_t seed);
void Link(const std::filesystem::path& root, const std::string& existing, const std::string& name);
void Symlink(const std::filesystem::path& root, const std::string& target, const std::string& name);
void MakeFifo(const std::filesystem::path& p, mode_t mode);
void SetMtime(const std::filesystem::path& p, std::int64_t ns);
// A distinct mtime (with nanoseconds) on every name under `root`: files,
// symlinks and FIFOs first, then directories from the deepest up, so no
// later creation moves a directory's mtime.
void SetAllMtimes(const std::filesystem::path& root, std::uint64_t seed);
void WriteSparse(const std::filesystem::path& p, std::uint64_t size, std::uint64_t seed);

// --- The tree of a media server's data disk ------------------------------------
struct TreeInfo {
  bool xattrs = false;
  std::size_t big_xattr = 0;  // bytes of user.big on Documents/big-xattr.bin
};
// Hard links (a pair across directories, a triple), symlinks (relative,
// absolute, dangling), nested empty directories, a setgid shared directory
// (another owner when run as root), files with xattrs (Samba's DOSATTRIB,
// a large value, 50 names; where user.* xattrs work), a sparse file of
// `sparse_size` and a FIFO, each with its own mtime. Byte order matters for
// hard links: "Movies/A/a.mkv" < "downloads/a.mkv" (upper case first), so
// the Movies name holds the content of the pair, and "Backup/x.flac" that of
// the triple.
TreeInfo BuildHomelabTree(const std::filesystem::path& root, std::uint64_t seed, std::uint64_t sparse_size);

}  // namespace atlas::testing
