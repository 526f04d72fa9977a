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
#include <optional>
#include <tuple>

#include <fmt/format.h>

#include "atlas/outside.h"

#include "manifest/coding.h"

namespace atlas {
namespace {

namespace stdfs = std::filesystem;

// "ATLASOIX": atlas-scrub outside index.
constexpr char kMagic[8] = {'A', 'T', 'L', 'A', 'S', 'O', 'I', 'X'};
// magic, version, block size, created, first sync, entry count.
constexpr std::size_t kFixedHeader = 8 + 2 + 8 + 8 + 8 + 8;
constexpr std::size_t kChecksumSize = 16;
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

// A run that crashed between writing and renaming left
// "outside.idx.tmp.<its pid>" behind (WriteFileAtomic); the next export
// removes it. Best effort: a leftover costs only its space.
void RemoveStaleTemporaries(FileSystem* fs, const stdfs::path& dir) {
  const std::string prefix = std::string(kOutsideIndexName) + ".tmp.";
  std::vector<std::string> stale;
  WalkOptions wo;
  wo.exclude = [](std::string_view, bool is_dir) { return is_dir; };  // not into manifest/
  wo.on_error = [](std::string_view, const Status&) { return Status::Ok(); };
  fs->Walk(dir, wo, [&](const WalkEntry& e) {
      if (e.rel_path.rfind(prefix, 0) == 0)
        stale.push_back(e.rel_path);
      return Status::Ok();
    }).IgnoreError();
  for (const std::string& name : stale) fs->Remove(dir / name).IgnoreError();
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

std::string EncodeOutsideIndex(const OutsideIndex& index) {
  std::string out;
  std::size_t approx = kFixedHeader + kChecksumSize;
  for (const OutsideIndexEntry& e : index.entries()) approx += 24 + e.path.size();
  out.reserve(approx);
  out.append(kMagic, sizeof(kMagic));
  coding::PutFixed16BE(&out, kOutsideIndexVersion);
  coding::PutFixed64BE(&out, index.block_size());
  coding::PutFixed64BE(&out, static_cast<std::uint64_t>(index.created_ns()));
  coding::PutFixed64BE(&out, static_cast<std::uint64_t>(index.first_sync_ns()));
  coding::PutFixed64BE(&out, index.entries().size());
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
  return out;
}

Result<OutsideIndex> DecodeOutsideIndex(std::string_view bytes, const stdfs::path& source) {
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
  const std::string_view body = bytes.substr(0, bytes.size() - kChecksumSize);
  const Hash128 want = Hash128::FromBytes(
      reinterpret_cast<const std::byte*>(bytes.data() + bytes.size() - kChecksumSize));
  const Hash128 got = HashBlock(std::as_bytes(std::span<const char>(body.data(), body.size())));
  if (want != got)
    return Corrupt(source, "checksum mismatch");

  const char* p = bytes.data() + 10;
  const std::uint64_t block_size = coding::DecodeFixed64BE(p);
  const auto created_ns = static_cast<std::int64_t>(coding::DecodeFixed64BE(p + 8));
  const auto first_sync_ns = static_cast<std::int64_t>(coding::DecodeFixed64BE(p + 16));
  const std::uint64_t count = coding::DecodeFixed64BE(p + 24);
  if (block_size == 0 || block_size > (1u << 30) || (block_size & (block_size - 1)) != 0)
    return Corrupt(source, fmt::format("block size {}", block_size));
  coding::Reader in(body.substr(kFixedHeader));
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
  return OutsideIndex(static_cast<std::uint32_t>(block_size), created_ns, first_sync_ns,
                      std::move(disks), std::move(entries));
}

Result<OutsideIndex> ReadOutsideIndex(FileSystem* fs, const stdfs::path& path) {
  Result<std::string> bytes = fs->ReadFile(path);
  if (!bytes.ok()) {
    if (bytes.status().code() == Code::kNotFound) {
      return Status::InvalidArgument(fmt::format(
          "{}: no such outside index; sync writes one as .atlas-scrub/outside.idx (each manifest "
          "copy directory) on Atlas",
          path.string()));
    }
    if (Result<FileStat> st = fs->Stat(path); st.ok() && st->type == FileType::kDirectory) {
      return Status::InvalidArgument(fmt::format(
          "{} is a directory; pass the outside.idx file in it (sync writes one into each manifest "
          "copy directory)",
          path.string()));
    }
    return bytes.status().WithContext("outside index");
  }
  return DecodeOutsideIndex(*bytes, path);
}

Result<OutsideIndex> FindOutsideIndex(FileSystem* fs, const std::vector<stdfs::path>& copy_dirs,
                                      stdfs::path* path) {
  std::optional<OutsideIndex> best;
  std::optional<Status> first_error;
  std::vector<std::string> tried;
  for (const stdfs::path& dir : copy_dirs) {
    const stdfs::path file = dir / kOutsideIndexName;
    tried.push_back(file.string());
    Result<std::string> bytes = fs->ReadFile(file);
    if (!bytes.ok() && bytes.status().code() == Code::kNotFound)
      continue;
    Result<OutsideIndex> index =
        bytes.ok() ? DecodeOutsideIndex(*bytes, file) : Result<OutsideIndex>(bytes.status());
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

Result<OutsideIndex> BuildOutsideIndex(Manifest* manifest, std::int64_t now_ns) {
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
    std::unique_ptr<Cursor<FileRecord>> c = manifest->Files(d.index);
    for (; c->Valid(); c->Next()) {
      const FileRecord& f = c->value();
      // Only a fully synced file has a content identity; one still dirty is
      // not protected yet, and a compute host's copy of it is not a duplicate.
      if (!f.content)
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
                          const std::vector<stdfs::path>& copy_dirs, std::int64_t now_ns) {
  if (copy_dirs.empty())
    return Status::Ok();
  ATLAS_ASSIGN_OR_RETURN(OutsideIndex index, BuildOutsideIndex(manifest, now_ns));
  const std::string bytes = EncodeOutsideIndex(index);
  Status first;
  for (const stdfs::path& dir : copy_dirs) {
    Status s = fs->CreateDirs(dir);
    if (s.ok())
      RemoveStaleTemporaries(fs, dir);
    // Invariant: outside.idx is replaced by rename after its bytes are
    // fdatasync'ed, so a reader (even over NFS) sees the old index or the
    // new one, never a mix; a torn read fails the checksum.
    if (s.ok())
      s = WriteFileAtomic(fs, dir / kOutsideIndexName, bytes, 0644);
    if (!s.ok() && first.ok())
      first = s.WithContext("outside index");
  }
  return first;
}

Status ExportOutsideIndexIfMissing(FileSystem* fs, const Config& config, std::int64_t now_ns) {
  std::vector<stdfs::path> missing;
  for (const stdfs::path& dir : config.manifest_copies) {
    Result<FileStat> st = fs->Stat(dir / kOutsideIndexName);
    if (!st.ok() && st.status().code() == Code::kNotFound)
      missing.push_back(dir);
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
  return ExportOutsideIndex(fs, m->get(), missing, now_ns);
}

}  // namespace atlas
