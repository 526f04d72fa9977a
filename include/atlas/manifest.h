// The manifest: everything atlas-scrub knows about the array, in a RocksDB
// database (docs/FORMAT.md has the key schema and value encodings).
//
//   files    one record per file: size, mtime (ns), inode, owner, mode, and
//            the extents of block positions it occupies on its disk
//   blocks   one record per (disk slot, position): state, XXH3-128 of the
//            data, the file and block index it belongs to, last verification
//   dirty    the positions whose parity is stale (new, changed or deleted data)
//   free     per disk, runs of positions that hold nothing
//   disks    name, slot or parity level, recorded identity (UUID, device, ...)
//   meta     schema version, block size, parity levels, last sync, ...
//   runs     history of commands; findings: open findings
//   alerts   what was sent for each alerted finding (repeat_after, resolved)
//   smart    per disk, the judged SMART readings (history for trends)
//   outside  per [[outside.hosts]] host, the result of its last scan
//
// Callers read through the typed getters and cursors, and change the manifest
// only through a ManifestBatch committed atomically: a crash loses at most
// the batch in hand (RocksDB's write-ahead log), never half of one.
//
// Concurrency: one writer process at a time, enforced by ManifestLock; any
// number of readers. Within a process, a Manifest may be read from several
// threads at once (each cursor belongs to one thread); commits are serialized
// by the caller.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "atlas/config.h"
#include "atlas/finding.h"
#include "atlas/hash.h"
#include "atlas/smart.h"
#include "atlas/status.h"

namespace atlas {

// 2: meta fix_temp_tag; 3: the outside hosts table; 4: the entries table
// (hard links, symlinks, directories, special files), xattrs, holes and
// ctime of files, entry counts of disks (docs/FORMAT.md "Version rules"
// has the history).
inline constexpr std::uint32_t kManifestSchema = 4;

enum class DiskRole : std::uint8_t { kData = 0, kParity = 1 };

// What a disk was when last synced; a change means it may not be the same disk.
struct DiskIdentityRecord {
  std::string device;   // "/dev/sdb1", or the mount source
  std::string fs_type;  // "ext4"
  std::string uuid;     // filesystem UUID, empty if none (tmpfs)
  std::string serial;   // drive serial, empty if unknown
  bool is_mount_point = false;
};

struct DiskRecord {
  std::string name;
  DiskRole role = DiskRole::kData;
  std::uint16_t index = 0;      // data: parity column (slot); parity: level 0..5
  std::string path;             // data: mount path; parity: parity file
  DiskIdentityRecord identity;
  std::uint64_t next_pos = 0;   // data: one past the highest position ever used
  std::uint64_t files = 0;      // data: files recorded at the last sync
  std::uint64_t bytes = 0;      // data: their total size
  std::uint64_t parity_size = 0;  // parity: bytes the file held at the last sync
  // data: entries recorded at the last sync, by kind (the root not counted)
  std::uint64_t directories = 0;
  std::uint64_t symlinks = 0;
  std::uint64_t hard_links = 0;
  std::uint64_t special_files = 0;
};

struct Extent {
  std::uint64_t start = 0;
  std::uint64_t count = 0;
  friend bool operator==(const Extent&, const Extent&) = default;
};

struct FileRecord {
  std::uint16_t slot = 0;
  std::string path;  // relative to the disk root, raw bytes
  std::uint64_t file_id = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t inode = 0;
  std::uint32_t mode = 0;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::vector<Extent> extents;  // in file order; total count = ceil(size / block_size)
  // XXH3-128 over the concatenated canonical block hashes, valid once every
  // block of the file is synced (docs/FORMAT.md "Content identity").
  std::optional<Hash128> content;
  // Status change time at the last sync: while it stays the same, the
  // xattrs cannot have changed and are not read again. 0: unknown.
  std::int64_t ctime_ns = 0;
  std::vector<Xattr> xattrs;     // sorted by name
  std::vector<ByteRange> holes;  // a sparse file's holes, in offset order

  std::uint64_t BlockCount() const;
  // Parity position of the file's block `index`. REQUIRES: index < BlockCount().
  std::uint64_t PositionOf(std::uint64_t index) const;
};

// A name on a data disk that is not a file's content: it has no blocks and
// no parity, only the metadata to put it back (the `entries` table).
enum class EntryKind : std::uint8_t {
  kDirectory = 1,
  kSymlink = 2,
  kHardLink = 3,  // another name of a file recorded under `target`
  kFifo = 4,
  kSocket = 5,  // recorded, never recreated (only a server can make a live one)
  kCharDevice = 6,
  kBlockDevice = 7,
};
// "directory", "symlink", "hard link", "FIFO", "socket", "character device",
// "block device".
std::string_view EntryKindName(EntryKind kind);

struct EntryRecord {
  std::uint16_t slot = 0;
  std::string path;  // relative to the disk root, raw bytes
  EntryKind kind = EntryKind::kDirectory;
  std::uint32_t mode = 0;  // st_mode: type and permission bits
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  std::uint64_t inode = 0;
  std::uint64_t rdev = 0;      // device nodes
  std::string target;          // symlink: its target bytes; hard link: the content's path
  std::vector<Xattr> xattrs;   // directories; sorted by name
};

enum class BlockState : std::uint8_t {
  kSynced = 1,   // hash is of the data; parity at this position includes it
  kDirty = 2,    // new or changed data; parity does not include it yet
  kDeleted = 3,  // the file is gone; parity still includes the old data (hash)
};

struct BlockRecord {
  std::uint16_t slot = 0;
  std::uint64_t pos = 0;
  BlockState state = BlockState::kDirty;
  std::optional<Hash128> hash;   // kSynced/kDeleted: the data's hash; kDirty: none
  std::uint64_t file_id = 0;     // 0 for kDeleted
  std::uint64_t file_block = 0;  // index of the block within its file
  std::int64_t verified_ns = 0;  // when the block last matched its hash
  // kDirty only: the parity at this position holds zeros for this slot (the
  // position was free), so the parity can be updated by adding the new
  // block alone instead of recomputing the stripe from every disk.
  bool past_zero = false;
  // kSynced only: verified by a scrub since it was last hashed by sync
  // (`scrub --plan new` takes the blocks without it).
  bool scrubbed = false;
};

// A finding kept in the manifest across runs (e.g. silent corruption found by
// scrub and not yet fixed).
struct StoredFinding {
  Finding finding;
  std::int64_t first_seen_ns = 0;
  std::int64_t last_seen_ns = 0;
};

// Alert state of one finding (the `alerts` table, docs/FORMAT.md): what was
// last sent for it and to which channels something is still owed, so that
// `repeat_after` and "resolved" hold across runs (man atlas-scrub(1) ALERTS).
struct AlertStateRecord {
  std::string fingerprint;  // kind, disk and path (or attribute), NUL-separated
  Finding finding;          // as last seen; severity = the highest sent
  std::string command;      // the command that last reported it
  std::int64_t first_seen_ns = 0;
  std::int64_t last_sent_ns = 0;  // 0: never sent
  bool open = true;       // false: cleared, a resolved notice is still owed
  bool recorded = false;  // seen in the manifest's findings table
  // Channel ids still owed this finding (open) or its resolved notice.
  std::vector<std::string> pending;
};

// The last scan of one compute host by `outside` on Atlas (the `outside`
// table, docs/FORMAT.md): what its last successful scan found, and whether
// the newest attempt failed. A failed attempt keeps the successful results.
struct OutsideHostRecord {
  std::string host;               // the [[outside.hosts]] name
  std::int64_t checked_ns = 0;    // end of the last successful scan; 0: never
  std::uint64_t scanned_files = 0;
  std::uint64_t only_copy = 0;    // only_copy_outside findings of that scan
  std::uint64_t duplicates = 0;   // duplicate_outside findings of that scan
  // Its findings, paths as "HOST:/path/on/host" (untrusted text: display
  // through DisplayPath, never open).
  std::vector<Finding> findings;
  std::int64_t attempted_ns = 0;  // end of the newest attempt, successful or not
  std::string error;              // why the newest attempt failed; empty: it did not
};

struct RunRecord {
  std::string command;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  int exit_code = 0;
  std::string summary;  // one line, e.g. "12 added, 1 deleted, 3.1 GB hashed"
};

// A forward cursor. Valid() is false at the end or after an error; check
// status() then. Not thread-safe; one per thread.
template <typename T>
class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual const T& value() const = 0;
  virtual Status status() const = 0;
};

// A position whose parity is stale, and the data slot that made it so.
struct DirtyEntry {
  std::uint64_t pos = 0;
  std::uint16_t slot = 0;
};

// The checksums of the parity at one position, as the sync that computed it
// from the whole stripe wrote it (docs/FORMAT.md, "Parity checksums"). Scrub
// and check hash the stored parity and compare instead of recomputing it, but
// only while `data_digest` still equals ParityDataDigest of the position's
// synced blocks: a record left behind by any later change of the data (or
// of the parity) no longer matches, and the parity is recomputed.
struct ParityHashRecord {
  std::uint64_t pos = 0;
  std::vector<Hash128> levels;    // XXH3-128 of each level's block, level order
  Hash128 data_digest;            // ParityDataDigest of the blocks the parity was computed from
};

// XXH3-128 over (fixed16 slot, hash128) of each synced block at a position,
// in slot order: what the parity there was computed from. `blocks` is sorted
// here.
Hash128 ParityDataDigest(std::vector<std::pair<std::uint16_t, Hash128>> blocks);

// Synced blocks whose verified_ns falls in one minute [start_ns, start_ns +
// 60 s): one entry of the coverage summary (docs/FORMAT.md), which every
// commit keeps equal to what the block records say, so `status` reads a few
// hundred of these instead of every block record.
struct CoverageBucket {
  std::int64_t start_ns = 0;
  std::uint64_t blocks = 0;
  friend bool operator==(const CoverageBucket&, const CoverageBucket&) = default;
};
inline constexpr std::int64_t kCoverageBucketNs = 60'000'000'000;

class ManifestBatch {
 public:
  virtual ~ManifestBatch() = default;
  virtual void PutMeta(std::string_view key, std::string_view value) = 0;
  virtual void PutDisk(const DiskRecord& disk) = 0;
  virtual void DeleteDisk(std::string_view name) = 0;
  // Writes the file record and its id -> path and inode -> path index entries.
  virtual void PutFile(const FileRecord& file) = 0;
  // Removes the file record and its index entries (`file` as last stored).
  virtual void DeleteFile(const FileRecord& file) = 0;
  virtual void PutBlock(const BlockRecord& block) = 0;
  // PutBlock of `updated` over `old`, the record the manifest holds there
  // now (nullopt: none), read in this run, under the lock, and not changed
  // since by another batch: the commit then needs no lookup of it to keep
  // the coverage summary. REQUIRES: same slot and position.
  virtual void ReplaceBlock(const std::optional<BlockRecord>& old, const BlockRecord& updated) = 0;
  virtual void DeleteBlock(std::uint16_t slot, std::uint64_t pos) = 0;
  virtual void MarkDirty(std::uint64_t pos, std::uint16_t slot) = 0;
  virtual void ClearDirty(std::uint64_t pos, std::uint16_t slot) = 0;
  virtual void PutParityHash(const ParityHashRecord& record) = 0;
  virtual void DeleteParityHash(std::uint64_t pos) = 0;
  virtual void PutEntry(const EntryRecord& entry) = 0;
  virtual void DeleteEntry(std::uint16_t slot, std::string_view path) = 0;
  virtual void PutFreeExtent(std::uint16_t slot, const Extent& extent) = 0;
  virtual void DeleteFreeExtent(std::uint16_t slot, std::uint64_t start) = 0;
  // Remembers a deleted file's content identity until the sync ends, so a
  // copy that appears on another disk is reported as moved.
  virtual void PutDeletedContent(const Hash128& content, std::string_view disk_and_path) = 0;
  virtual void DeleteDeletedContent(const Hash128& content) = 0;
  virtual void PutRun(const RunRecord& run) = 0;
  virtual void PutFinding(const StoredFinding& finding) = 0;
  virtual void DeleteFinding(const Finding& finding) = 0;
  virtual void PutAlertState(const AlertStateRecord& state) = 0;
  virtual void DeleteAlertState(std::string_view fingerprint) = 0;
  // SMART readings, keyed by (disk, time_ns).
  virtual void PutSmartRecord(const SmartRecord& record) = 0;
  virtual void DeleteSmartRecord(std::string_view disk, std::int64_t time_ns) = 0;
  // The outside table, keyed by host name.
  virtual void PutOutsideHost(const OutsideHostRecord& record) = 0;
  virtual void DeleteOutsideHost(std::string_view host) = 0;
  // Number of updates queued.
  virtual std::size_t Count() const = 0;
  // Approximate bytes queued.
  virtual std::size_t ByteSize() const = 0;
};

class Manifest {
 public:
  virtual ~Manifest() = default;

  // --- meta ---
  virtual Result<std::optional<std::string>> GetMeta(std::string_view key) = 0;

  // --- disks ---
  virtual Result<std::vector<DiskRecord>> ListDisks() = 0;

  // --- files ---
  virtual Result<std::optional<FileRecord>> GetFile(std::uint16_t slot, std::string_view path) = 0;
  virtual Result<std::optional<FileRecord>> GetFileById(std::uint64_t file_id) = 0;
  // Paths of files on `slot` with this inode (hard links share one).
  virtual Result<std::vector<std::string>> FindByInode(std::uint16_t slot, std::uint64_t inode) = 0;
  // The files of `slot` in byte order of path, from `start` on.
  virtual std::unique_ptr<Cursor<FileRecord>> Files(std::uint16_t slot,
                                                    std::string_view start = {}) = 0;

  // --- entries (hard links, symlinks, directories, special files) ---
  virtual Result<std::optional<EntryRecord>> GetEntry(std::uint16_t slot, std::string_view path) = 0;
  // The entries of `slot` in byte order of path.
  virtual std::unique_ptr<Cursor<EntryRecord>> Entries(std::uint16_t slot) = 0;

  // --- blocks ---
  virtual Result<std::optional<BlockRecord>> GetBlock(std::uint16_t slot, std::uint64_t pos) = 0;
  // Blocks of `slot` in position order from `pos`.
  virtual std::unique_ptr<Cursor<BlockRecord>> Blocks(std::uint16_t slot, std::uint64_t pos = 0) = 0;
  // Dirty positions in (pos, slot) order from `pos`.
  virtual std::unique_ptr<Cursor<DirtyEntry>> Dirty(std::uint64_t pos = 0) = 0;
  // Parity checksums, by position and in position order from `pos`.
  virtual Result<std::optional<ParityHashRecord>> GetParityHash(std::uint64_t pos) = 0;
  virtual std::unique_ptr<Cursor<ParityHashRecord>> ParityHashes(std::uint64_t pos = 0) = 0;
  virtual Result<std::vector<Extent>> FreeExtents(std::uint16_t slot) = 0;
  // The old location ("disk:path") of a file deleted by the sync in
  // progress with this content identity.
  virtual Result<std::optional<std::string>> GetDeletedContent(const Hash128& content) = 0;
  virtual Result<std::vector<Hash128>> ListDeletedContent() = 0;

  // --- history and findings ---
  virtual Result<std::vector<RunRecord>> RecentRuns(std::size_t max) = 0;
  virtual Result<std::vector<StoredFinding>> ListFindings() = 0;
  virtual Result<std::vector<AlertStateRecord>> ListAlertStates() = 0;

  // --- summaries ---
  // The coverage summary in time order, or nullopt when this manifest has
  // none yet (made before summaries existed, and not opened for writing
  // since: a read-write open builds it). Cost: O(buckets), not O(blocks).
  virtual Result<std::optional<std::vector<CoverageBucket>>> Coverage() {
    return std::optional<std::vector<CoverageBucket>>();
  }

  // --- SMART readings ---
  // The stored readings of `disk`, oldest first.
  virtual Result<std::vector<SmartRecord>> SmartRecords(std::string_view disk) = 0;
  // The newest stored reading of `disk`, if any.
  virtual Result<std::optional<SmartRecord>> LatestSmartRecord(std::string_view disk) = 0;

  // --- outside hosts ---
  // Every stored host record, in byte order of host name.
  virtual Result<std::vector<OutsideHostRecord>> ListOutsideHosts() = 0;

  // --- writing ---
  virtual std::unique_ptr<ManifestBatch> NewBatch() = 0;
  // Applies `batch` atomically. With `durable`, the write-ahead log is
  // fsync'ed before this returns (use it wherever an invariant depends on
  // the record surviving a crash). kFailedPrecondition if opened read-only.
  virtual Status Commit(ManifestBatch& batch, bool durable) = 0;

  // Writes a consistent copy of the manifest into each directory (RocksDB's
  // backup engine: incremental, checksummed; the last 3 kept). Creates the
  // directories (0755) and their "manifest" subdirectory (0700); the copy's
  // files are 0600. Returns the first error but tries every directory.
  //
  // A directory atlas cannot trust (a symlink, not owned by the euid,
  // writable by group or others, or holding a symlink or another user's
  // file under "manifest") gets nothing: with `refused`, an unsafe_copy_dir
  // warning naming it and what would be right is appended there (one per
  // directory) and the call goes on; with null, that is the returned error
  // (kFailedPrecondition).
  virtual Status CopyTo(const std::vector<std::filesystem::path>& dirs,
                        std::vector<Finding>* refused) = 0;
};

struct ManifestOptions {
  bool read_only = false;
  // Create an empty manifest if none exists (the first sync).
  bool create_if_missing = false;
  // Where copies live; named in the error if the primary is missing or
  // unreadable, with the command that restores from them.
  std::vector<std::filesystem::path> copy_dirs;
};

// Opens the manifest at `path` (a directory).
//   kNotFound: no manifest there and !create_if_missing, and no copy exists
//   kCorruption: the manifest (or a required part) is unreadable; the message
//     says how to restore from a copy
//   kFailedPrecondition: primary missing while copies exist (the message says
//     how to restore), or the schema version is newer than this program
//   kIOError: anything else
Result<std::unique_ptr<Manifest>> OpenManifest(const std::filesystem::path& path,
                                               const ManifestOptions& options);

// Opens the manifest of `config` read-only (its copies named in errors); a
// null pointer when the array was never synced (no manifest and no copy).
// Other errors as OpenManifest.
Result<std::unique_ptr<Manifest>> OpenManifestIfExists(const Config& config);

// The number of distinct dirty positions (positions whose parity is not up
// to date), counted by walking the dirty table.
Result<std::uint64_t> CountDirtyPositions(Manifest* m);

// A meta value as a decimal integer; nullopt when absent or empty.
// kCorruption when it is not a number.
Result<std::optional<std::int64_t>> GetMetaInt(Manifest* m, std::string_view key);

// An exclusive advisory lock (flock) on "<manifest>.lock", beside the
// manifest directory, held for the life of the object. A second run that
// tries to take it fails at once with kBusy "manifest ... is locked by another
// atlas-scrub run".
class ManifestLock {
 public:
  static Result<std::unique_ptr<ManifestLock>> Acquire(const std::filesystem::path& manifest);
  ~ManifestLock();
  ManifestLock(const ManifestLock&) = delete;
  ManifestLock& operator=(const ManifestLock&) = delete;

 private:
  explicit ManifestLock(int fd) : fd_(fd) {}
  int fd_;
};

// Where a restore would come from: the copy with the newest backup.
struct ManifestCopyInfo {
  std::filesystem::path dir;
  std::int64_t timestamp_s = 0;  // when the newest backup there was taken
  std::uint64_t backups = 0;
};
// Lists the usable copies in `dirs`, newest first (unreadable ones skipped).
// Only copies in directories that pass CopyTo's test count; each one that
// does not is appended to `skipped` (when not null) as an unsafe_copy_dir
// finding saying why, and its timestamp is never read.
Result<std::vector<ManifestCopyInfo>> ListManifestCopies(
    const std::vector<std::filesystem::path>& dirs, std::vector<Finding>* skipped = nullptr);

// Restores the manifest at `path` from the newest copy in `dirs` (or from
// `from` if not empty). A manifest already at `path` is kept aside as
// "<path>.broken-<unix time>". Verifies that the restored manifest opens.
// Returns the copy used. Copies that fail CopyTo's test are never read;
// they are appended to `skipped` (may be null) as ListManifestCopies does.
// The restore is written into "<path>.restore-tmp", made 0700, its files
// set to 0600 before it is renamed into place.
//   kNotFound: no usable copy (the message says why each was skipped)
// REQUIRES: the caller holds ManifestLock.
Result<ManifestCopyInfo> RestoreManifest(const std::filesystem::path& path,
                                         const std::vector<std::filesystem::path>& dirs,
                                         const std::filesystem::path& from,
                                         std::vector<Finding>* skipped = nullptr);

}  // namespace atlas
