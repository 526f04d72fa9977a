// The outside index (outside.idx): what a compute host needs to know about
// Atlas to tell a duplicate from an only copy, without a manifest, a config
// or write access (docs/FORMAT.md "The outside index").
//
// Approach: sync already knows every file's content identity (the XXH3-128
// of its block hashes, stored in the file record once all blocks are
// synced), so the index is one pass over the manifest's file table: size,
// content, disk, path. Entries are sorted by (size, content) so a reader
// answers "is there an Atlas file of this size" and "which files have this
// size and content" by binary search, and a scanner decides most files from
// their size alone. A trailing XXH3-128 of every byte before it catches a
// truncated or damaged copy: NFS clients read a file that sync is replacing
// either before or after the rename, and a torn read would show here.
//
// Rejected:
//   - a copy of the manifest (RocksDB) on the compute host: it needs write
//     access to open and RocksDB on the reader side; the index is one file.
//   - hashing whole files on Atlas (xxh128sum-compatible): reads every byte
//     of the array at each sync, while the block hashes are already there.
//   - text (one line per file): paths are raw bytes and may hold newlines.
//
// Size: about 20 bytes plus the path per file; 1 million files with 60-byte
// paths make an 80 MB index, read and checked in well under a second.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <tuple>

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atlas/outside.h"

#include "core/coding.h"
#include "manifest/copy_dir.h"
#include "outside/sign.h"

namespace atlas {
namespace {

namespace stdfs = std::filesystem;

// "ATLASOIX": atlas-scrub outside index.
constexpr char kMagic[8] = {'A', 'T', 'L', 'A', 'S', 'O', 'I', 'X'};
// magic, version, block size, created, first sync, entry count.
constexpr std::size_t kFixedHeader = 8 + 2 + 8 + 8 + 8 + 8;
constexpr std::size_t kChecksumSize = 16;
// Version 2: the signer's public key after the fixed header, an Ed25519
// signature of every byte before it after the checksum.
constexpr std::size_t kSignerSize = 32;
constexpr std::size_t kSignatureSize = 64;
// The smallest entry: varint size, hash, varint disk, empty path.
constexpr std::size_t kMinEntry = 1 + 16 + 1 + 1;

bool EntryLess(const OutsideIndexEntry& a, const OutsideIndexEntry& b) {
  return std::tie(a.size, a.content.hi, a.content.lo, a.disk, a.path) <
         std::tie(b.size, b.content.hi, b.content.lo, b.disk, b.path);
}

Status Corrupt(const stdfs::path& source, std::string_view what) {
  return Status::Corruption(
      fmt::format("{}: outside index is corrupt or truncated ({}); run `atlas-scrub sync` on Atlas "
                  "to rewrite it",
                  source.string(), what));
}

std::uint64_t MetaOr(Manifest* m, std::string_view key, std::uint64_t fallback, Status* error) {
  Result<std::optional<std::string>> v = m->GetMeta(key);
  if (!v.ok()) {
    *error = v.status();
    return fallback;
  }
  if (!*v || (*v)->empty())
    return fallback;
  try {
    return std::stoull(**v);
  } catch (...) {
    *error = Status::Corruption(fmt::format("manifest meta {} is not a number: \"{}\"", key, **v));
    return fallback;
  }
}

// Writes `bytes` as outside.idx into the judged copy directory `dir` with
// WriteFileAtomic, through "/proc/self/fd/N" so that every step lands in
// the directory CopyDir checked, whatever is renamed around it: a temporary
// created O_EXCL, fdatasync, rename over the old index, fsync of the
// directory; mode 0644 whatever the umask, since the index is meant to be
// world-readable. A run that crashed between writing and renaming left
// "outside.idx.tmp.<its pid>" behind; it is removed here (only the euid can
// write this directory, so the name is ours).
Status WriteIndexAt(FileSystem* fs, const CopyDir& dir, std::string_view bytes) {
  const std::string prefix = std::string(kOutsideIndexName) + ".tmp.";
  if (int dup = ::fcntl(dir.fd(), F_DUPFD_CLOEXEC, 0); dup >= 0) {
    if (DIR* d = ::fdopendir(dup)) {
      std::vector<std::string> stale;
      while (dirent* e = ::readdir(d)) {
        if (std::string_view(e->d_name).starts_with(prefix))
          stale.emplace_back(e->d_name);
      }
      ::closedir(d);
      for (const std::string& name : stale) ::unlinkat(dir.fd(), name.c_str(), 0);
    } else {
      ::close(dup);
    }
  }
  // Invariant (crash points outside.export_before_rename and _after_rename):
  // outside.idx is replaced by rename after its bytes are fdatasync'ed, so a
  // reader (even over NFS) sees the old index or the new one, never a mix; a
  // torn read fails the checksum.
  AtomicWriteOptions options;
  options.mode = 0644;
  options.exact_mode = true;
  options.crash_points = "outside.export";
  return WriteFileAtomic(fs, stdfs::path(dir.FdPath()) / kOutsideIndexName, bytes, options)
      .WithContext(dir.dir().string());
}

}  // namespace

OutsideIndex::OutsideIndex(std::uint32_t block_size, std::int64_t created_ns,
                           std::int64_t first_sync_ns, std::vector<std::string> disks,
                           std::vector<OutsideIndexEntry> entries)
    : block_size_(block_size),
      created_ns_(created_ns),
      first_sync_ns_(first_sync_ns),
      disks_(std::move(disks)),
      entries_(std::move(entries)) {
  if (!std::is_sorted(entries_.begin(), entries_.end(), EntryLess))
    std::sort(entries_.begin(), entries_.end(), EntryLess);
}

bool OutsideIndex::HasSize(std::uint64_t size) const {
  auto it =
      std::lower_bound(entries_.begin(), entries_.end(), size,
                       [](const OutsideIndexEntry& e, std::uint64_t s) { return e.size < s; });
  return it != entries_.end() && it->size == size;
}

std::span<const OutsideIndexEntry> OutsideIndex::Find(std::uint64_t size,
                                                      const Hash128& content) const {
  const auto key = std::make_tuple(size, content.hi, content.lo);
  auto first = std::lower_bound(entries_.begin(), entries_.end(), key,
                                [](const OutsideIndexEntry& e, const auto& k) {
                                  return std::make_tuple(e.size, e.content.hi, e.content.lo) < k;
                                });
  auto last = first;
  while (last != entries_.end() && last->size == size && last->content == content) ++last;
  return std::span<const OutsideIndexEntry>(&*entries_.begin() + (first - entries_.begin()),
                                            static_cast<std::size_t>(last - first));
}

std::string OutsideIndex::Where(const OutsideIndexEntry& e) const {
  std::string out = e.disk < disks_.size() ? disks_[e.disk] : std::string("?");
  out += ':';
  out += e.path;
  return out;
}

std::string EncodeOutsideIndex(const OutsideIndex& index, const OutsideKeyPair& key) {
  std::string out;
  std::size_t approx = kFixedHeader + kSignerSize + kChecksumSize + kSignatureSize;
  for (const OutsideIndexEntry& e : index.entries()) approx += 24 + e.path.size();
  out.reserve(approx);
  out.append(kMagic, sizeof(kMagic));
  coding::PutFixed16BE(&out, kOutsideIndexVersion);
  coding::PutFixed64BE(&out, index.block_size());
  coding::PutFixed64BE(&out, static_cast<std::uint64_t>(index.created_ns()));
  coding::PutFixed64BE(&out, static_cast<std::uint64_t>(index.first_sync_ns()));
  coding::PutFixed64BE(&out, index.entries().size());
  out.append(key.public_key);
  coding::PutVarint(&out, index.disks().size());
  for (const std::string& d : index.disks()) coding::PutLengthPrefixed(&out, d);
  for (const OutsideIndexEntry& e : index.entries()) {
    coding::PutVarint(&out, e.size);
    coding::PutHash(&out, e.content);
    coding::PutVarint(&out, e.disk);
    coding::PutLengthPrefixed(&out, e.path);
  }
  const Hash128 sum = HashBlock(std::as_bytes(std::span<const char>(out.data(), out.size())));
  coding::PutHash(&out, sum);
  out.append(SignBytes(out, key.secret_key));
  return out;
}

Result<OutsideIndex> DecodeOutsideIndex(std::string_view bytes, const stdfs::path& source,
                                        const OutsideTrust& trust) {
  if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return Status::InvalidArgument(
        fmt::format("{}: not an atlas-scrub outside index (it does not start with \"ATLASOIX\"); "
                    "pass the outside.idx that sync writes into each manifest copy directory",
                    source.string()));
  }
  if (bytes.size() < kFixedHeader + kChecksumSize)
    return Corrupt(source, fmt::format("{} bytes, shorter than a header", bytes.size()));
  const std::uint16_t version = coding::DecodeFixed16BE(bytes.data() + 8);
  if (version > kOutsideIndexVersion) {
    return Status::FailedPrecondition(fmt::format(
        "{}: outside index version {} is newer than this atlas-scrub understands ({}); upgrade "
        "atlas-scrub on this host",
        source.string(), version, kOutsideIndexVersion));
  }
  if (version == 0)
    return Corrupt(source, "version 0");
  const bool signed_index = version >= 2;
  const std::size_t tail = kChecksumSize + (signed_index ? kSignatureSize : 0);
  const std::size_t header = kFixedHeader + (signed_index ? kSignerSize : 0);
  if (bytes.size() < header + tail)
    return Corrupt(source, fmt::format("{} bytes, shorter than a header", bytes.size()));
  const std::string_view body = bytes.substr(0, bytes.size() - tail);
  const Hash128 want =
      Hash128::FromBytes(reinterpret_cast<const std::byte*>(body.data() + body.size()));
  const Hash128 got = HashBlock(std::as_bytes(std::span<const char>(body.data(), body.size())));
  if (want != got)
    return Corrupt(source, "checksum mismatch");
  std::string signer;
  bool verified = false;
  if (!signed_index) {
    if (!trust.trusted_key.empty()) {
      return Status::FailedPrecondition(fmt::format(
          "{}: outside index version 1 is not signed, and a trusted key is given, so it cannot be "
          "told from one a user made; run `atlas-scrub sync` on Atlas with this version, which "
          "writes a signed one",
          source.string()));
    }
  } else {
    signer.assign(bytes.data() + kFixedHeader, kSignerSize);
    const std::string_view signed_part = bytes.substr(0, bytes.size() - kSignatureSize);
    if (!VerifyBytes(signed_part, bytes.substr(bytes.size() - kSignatureSize), signer))
      return Corrupt(source, "its signature does not match its bytes");
    if (!trust.trusted_key.empty()) {
      if (signer != trust.trusted_key) {
        return Status::FailedPrecondition(fmt::format(
            "{}: outside index is signed by key {}, not by the trusted key {}; it was not written "
            "by that Atlas (someone may have planted it), so it is not used",
            source.string(), FormatOutsideKey(signer), FormatOutsideKey(trust.trusted_key)));
      }
      verified = true;
    }
  }

  const char* p = bytes.data() + 10;
  const std::uint64_t block_size = coding::DecodeFixed64BE(p);
  const auto created_ns = static_cast<std::int64_t>(coding::DecodeFixed64BE(p + 8));
  const auto first_sync_ns = static_cast<std::int64_t>(coding::DecodeFixed64BE(p + 16));
  const std::uint64_t count = coding::DecodeFixed64BE(p + 24);
  if (block_size == 0 || block_size > (1u << 30) || (block_size & (block_size - 1)) != 0)
    return Corrupt(source, fmt::format("block size {}", block_size));
  coding::Reader in(body.substr(header));
  if (count > body.size() / kMinEntry)
    return Corrupt(source, fmt::format("{} entries", count));
  std::uint64_t disk_count = 0;
  if (!in.GetVarint(&disk_count) || disk_count > 65536)
    return Corrupt(source, "disk table");
  std::vector<std::string> disks(disk_count);
  for (std::string& d : disks) {
    if (!in.GetLengthPrefixed(&d))
      return Corrupt(source, "disk table");
  }
  std::vector<OutsideIndexEntry> entries(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    OutsideIndexEntry& e = entries[i];
    std::uint64_t disk = 0;
    if (!in.GetVarint(&e.size) || !in.GetHash(&e.content) || !in.GetVarint(&disk) ||
        !in.GetLengthPrefixed(&e.path)) {
      return Corrupt(source, fmt::format("entry {} of {}", i, count));
    }
    if (disk >= disk_count)
      return Corrupt(source, fmt::format("entry {}: disk {} of {}", i, disk, disk_count));
    e.disk = static_cast<std::uint32_t>(disk);
  }
  if (!in.empty())
    return Corrupt(source, "bytes after the last entry");
  OutsideIndex index(static_cast<std::uint32_t>(block_size), created_ns, first_sync_ns,
                     std::move(disks), std::move(entries));
  index.SetDecoded(version, std::move(signer), verified);
  return index;
}

namespace {

// Reads an index file into memory, refusing what would hang or exhaust the
// reader: opened O_NONBLOCK (a FIFO does not block the open, and fstat
// refuses it before a read), only a regular file, at most
// kOutsideIndexMaxBytes. `no_follow` refuses a symlink (for the files in
// manifest copy directories, where only sync writes). Not through
// FileSystem: the seam has no way to say "regular files only, this large
// at most" yet.
// With `prefix`, reads at most that many bytes (no size cap applies).
Result<std::string> ReadIndexBytes(const stdfs::path& path, bool no_follow,
                                   std::size_t prefix = 0) {
  const int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (no_follow ? O_NOFOLLOW : 0);
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return Status::NotFound(fmt::format(
          "{}: no such outside index; sync writes one as .atlas-scrub/outside.idx (each manifest "
          "copy directory) on Atlas",
          path.string()));
    }
    if (err == ELOOP && no_follow) {
      return Status::InvalidArgument(fmt::format(
          "{} is a symbolic link, and sync never writes one there; refusing to follow it",
          path.string()));
    }
    return Status::FromErrno(err, "open " + path.string());
  }
  struct stat st {};
  Status s;
  std::string bytes;
  if (::fstat(fd, &st) != 0) {
    s = Status::FromErrno(errno, "fstat " + path.string());
  } else if (S_ISDIR(st.st_mode)) {
    s = Status::InvalidArgument(fmt::format(
        "{} is a directory; pass the outside.idx file in it (sync writes one into each manifest "
        "copy directory)",
        path.string()));
  } else if (!S_ISREG(st.st_mode)) {
    s = Status::InvalidArgument(fmt::format(
        "{} is not a regular file (it is a {}); an outside index is the regular file sync writes",
        path.string(),
        S_ISFIFO(st.st_mode)   ? "FIFO"
        : S_ISCHR(st.st_mode)  ? "character device"
        : S_ISBLK(st.st_mode)  ? "block device"
        : S_ISSOCK(st.st_mode) ? "socket"
                               : "special file"));
  } else if (prefix == 0 && static_cast<std::uint64_t>(st.st_size) > kOutsideIndexMaxBytes) {
    s = Status::InvalidArgument(fmt::format(
        "{} is {} bytes, more than the largest outside index atlas-scrub reads ({} bytes)",
        path.string(), st.st_size, kOutsideIndexMaxBytes));
  } else {
    bytes.resize(prefix == 0 ? static_cast<std::size_t>(st.st_size)
                             : std::min(prefix, static_cast<std::size_t>(st.st_size)));
    std::size_t done = 0;
    while (s.ok() && done < bytes.size()) {
      ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        s = Status::FromErrno(errno, "read " + path.string());
      } else if (n == 0) {
        bytes.resize(done);  // shrank while read: the checksum will say so
        break;
      } else {
        done += static_cast<std::size_t>(n);
      }
    }
  }
  ::close(fd);
  if (!s.ok())
    return s;
  return bytes;
}

}  // namespace

Result<OutsideIndex> ReadOutsideIndex(const stdfs::path& path, const OutsideTrust& trust) {
  Result<std::string> bytes = ReadIndexBytes(path, /*no_follow=*/false);
  if (!bytes.ok()) {
    if (bytes.status().code() == Code::kNotFound)
      return Status::InvalidArgument(bytes.status().message());
    if (bytes.status().code() == Code::kInvalidArgument)
      return bytes.status();  // names the file and what it is already
    return bytes.status().WithContext("outside index");
  }
  return DecodeOutsideIndex(*bytes, path, trust);
}

Result<OutsideIndex> ReadOutsideIndexFd(int fd, const stdfs::path& source, const OutsideTrust& trust) {
  // A pipe has no size to judge first: read in chunks, and stop one byte
  // past the cap. Not through FileSystem: a descriptor, not a path.
  std::string bytes;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return Status::FromErrno(errno, "read " + source.string()).WithContext("outside index");
    if (n == 0)
      break;
    bytes.append(buf, static_cast<std::size_t>(n));
    if (bytes.size() > kOutsideIndexMaxBytes) {
      return Status::InvalidArgument(
          fmt::format("{} holds more than the largest outside index atlas-scrub reads ({} bytes)",
                      source.string(), kOutsideIndexMaxBytes));
    }
  }
  if (bytes.empty()) {
    return Status::InvalidArgument(fmt::format(
        "{} is empty; `outside --index -` reads the outside index from standard input, e.g. "
        "`atlas-scrub outside --index - /srv/media < outside.idx`",
        source.string()));
  }
  return DecodeOutsideIndex(bytes, source, trust);
}

Result<OutsideIndex> FindOutsideIndex(const std::vector<stdfs::path>& copy_dirs,
                                      const OutsideTrust& trust, stdfs::path* path) {
  std::optional<OutsideIndex> best;
  std::optional<Status> first_error;
  std::vector<std::string> tried;
  for (const stdfs::path& dir : copy_dirs) {
    const stdfs::path file = dir / kOutsideIndexName;
    tried.push_back(file.string());
    Result<std::string> bytes = ReadIndexBytes(file, /*no_follow=*/true);
    if (!bytes.ok() && bytes.status().code() == Code::kNotFound)
      continue;
    Result<OutsideIndex> index =
        bytes.ok() ? DecodeOutsideIndex(*bytes, file, trust) : Result<OutsideIndex>(bytes.status());
    if (!index.ok()) {
      if (!first_error)
        first_error = index.status();
      continue;
    }
    if (!best || index->created_ns() > best->created_ns()) {
      best = std::move(*index);
      *path = file;
    }
  }
  if (best)
    return std::move(*best);
  if (first_error)
    return *first_error;
  if (tried.empty()) {
    return Status::InvalidArgument(
        "no manifest_copies in the config, so there is no outside index to read; pass --index "
        "FILE");
  }
  return Status::NotFound(fmt::format(
      "no outside index found (tried {}); run `atlas-scrub sync` on Atlas, which writes one, or "
      "pass --index FILE",
      fmt::join(tried, ", ")));
}

namespace {

// Whether every user could list the names in a directory of one disk: it
// and every directory above it up to the disk root are real directories
// (lstat) with o+r and o+x. Cached per directory, so a disk costs one lstat
// per directory that holds a synced file, whatever its file count.
class Listable {
 public:
  Listable(FileSystem* fs, stdfs::path root) : fs_(fs), root_(std::move(root)) {}
  // `rel_dir`: relative to the root, '/'-separated, empty for the root.
  bool Dir(const std::string& rel_dir) {
    auto it = cache_.find(rel_dir);
    if (it != cache_.end())
      return it->second;
    bool ok = true;
    if (!rel_dir.empty()) {
      const std::size_t slash = rel_dir.rfind('/');
      ok = Dir(slash == std::string::npos ? std::string() : rel_dir.substr(0, slash));
    }
    if (ok) {
      Result<FileStat> st = fs_->Stat(rel_dir.empty() ? root_ : root_ / rel_dir);
      constexpr std::uint32_t kOthersList = S_IROTH | S_IXOTH;
      ok = st.ok() && st->type == FileType::kDirectory && (st->mode & kOthersList) == kOthersList;
    }
    cache_.emplace(rel_dir, ok);
    return ok;
  }
  bool File(const std::string& rel_path) {
    const std::size_t slash = rel_path.rfind('/');
    return Dir(slash == std::string::npos ? std::string() : rel_path.substr(0, slash));
  }

 private:
  FileSystem* fs_;
  stdfs::path root_;
  std::map<std::string, bool> cache_;
};

}  // namespace

Result<OutsideIndex> BuildOutsideIndex(FileSystem* fs, Manifest* manifest, std::int64_t now_ns) {
  Status meta_error;
  const std::uint64_t block_size = MetaOr(manifest, "block_size", kDefaultBlockSize, &meta_error);
  const std::uint64_t first_sync = MetaOr(manifest, "first_sync_ns", 0, &meta_error);
  ATLAS_RETURN_IF_ERROR(meta_error);
  ATLAS_ASSIGN_OR_RETURN(std::vector<DiskRecord> records, manifest->ListDisks());
  std::vector<std::string> disks;
  std::vector<OutsideIndexEntry> entries;
  for (const DiskRecord& d : records) {
    if (d.role != DiskRole::kData)
      continue;
    const auto disk = static_cast<std::uint32_t>(disks.size());
    disks.push_back(d.name);
    Listable listable(fs, d.path);
    std::unique_ptr<Cursor<FileRecord>> c = manifest->Files(d.index);
    for (; c->Valid(); c->Next()) {
      const FileRecord& f = c->value();
      // Only a fully synced file has a content identity; one still dirty is
      // not protected yet, and a compute host's copy of it is not a duplicate.
      if (!f.content)
        continue;
      // The index is world-readable: a name only its owner could list (in a
      // 0700 folder) stays off it.
      if (!listable.File(f.path))
        continue;
      entries.push_back(
          OutsideIndexEntry{.size = f.size, .content = *f.content, .disk = disk, .path = f.path});
    }
    ATLAS_RETURN_IF_ERROR(c->status());
  }
  return OutsideIndex(static_cast<std::uint32_t>(block_size), now_ns,
                      static_cast<std::int64_t>(first_sync), std::move(disks), std::move(entries));
}

Status ExportOutsideIndex(FileSystem* fs, Manifest* manifest,
                          const std::vector<stdfs::path>& copy_dirs, std::int64_t now_ns,
                          std::vector<Finding>* refused) {
  if (copy_dirs.empty())
    return Status::Ok();
  ATLAS_ASSIGN_OR_RETURN(std::optional<OutsideKeyPair> key,
                         OutsideSigningKey(manifest, /*create=*/true));
  ATLAS_ASSIGN_OR_RETURN(OutsideIndex index, BuildOutsideIndex(fs, manifest, now_ns));
  if (index.entries().size() > kOutsideIndexMaxBytes / kMinEntry) {
    return Status::FailedPrecondition(fmt::format(
        "outside index: {} files are more than an index can hold", index.entries().size()));
  }
  const std::string bytes = EncodeOutsideIndex(index, *key);
  if (bytes.size() > kOutsideIndexMaxBytes) {
    return Status::FailedPrecondition(fmt::format(
        "outside index: {} bytes for {} files, more than a compute host reads ({} bytes); it was "
        "not written",
        bytes.size(), index.entries().size(), kOutsideIndexMaxBytes));
  }
  Status first;
  for (const stdfs::path& dir : copy_dirs) {
    Result<CopyDir> cd = CopyDir::Open(dir, /*create=*/true, /*need_backup=*/false);
    Status s = cd.status();
    if (!s.ok() && s.code() == Code::kFailedPrecondition && refused != nullptr) {
      AddCopyDirFinding(refused, CopyDirFinding(dir, s));
      continue;
    }
    if (s.ok())
      s = WriteIndexAt(fs, *cd, bytes);
    if (!s.ok() && first.ok())
      first = s.WithContext("outside index");
  }
  return first;
}

Status ExportOutsideIndexIfMissing(FileSystem* fs, const Config& config, std::int64_t now_ns,
                                   std::vector<Finding>* refused) {
  std::vector<stdfs::path> missing;
  for (const stdfs::path& dir : config.manifest_copies) {
    // A directory atlas cannot trust is reported at every sync until fixed.
    Result<CopyDir> cd = CopyDir::Open(dir, /*create=*/false, /*need_backup=*/false);
    if (!cd.ok() && cd.status().code() == Code::kFailedPrecondition && refused != nullptr) {
      AddCopyDirFinding(refused, CopyDirFinding(dir, cd.status()));
      continue;
    }
    // The version field of what is there; a missing, unreadable or older
    // (unsigned) index is written anew.
    Result<std::string> bytes =
        ReadIndexBytes(dir / kOutsideIndexName, /*no_follow=*/true, /*prefix=*/kFixedHeader);
    if (!bytes.ok() || bytes->size() < kFixedHeader ||
        coding::DecodeFixed16BE(bytes->data() + 8) < kOutsideIndexVersion) {
      missing.push_back(dir);
    }
  }
  if (missing.empty())
    return Status::Ok();
  ManifestOptions ro;
  ro.read_only = true;
  ro.copy_dirs = config.manifest_copies;
  Result<std::unique_ptr<Manifest>> m = OpenManifest(config.manifest, ro);
  if (!m.ok() && m.status().code() == Code::kNotFound)
    return Status::Ok();
  if (!m.ok())
    return m.status();
  ATLAS_ASSIGN_OR_RETURN(std::optional<OutsideKeyPair> key,
                         OutsideSigningKey(m->get(), /*create=*/false));
  if (!key) {
    // An array synced before indexes were signed: the key is made once, in
    // the manifest, under the caller's lock.
    m->reset();
    ManifestOptions rw;
    rw.copy_dirs = config.manifest_copies;
    m = OpenManifest(config.manifest, rw);
    if (!m.ok())
      return m.status();
  }
  return ExportOutsideIndex(fs, m->get(), missing, now_ns, refused);
}

}  // namespace atlas
