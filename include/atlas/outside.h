// `outside`: find media on a compute host whose only copy is not on Atlas, or
// that duplicates an Atlas file, by content and never by path.
//
// Two halves meet in one file, the outside index (`outside.idx`,
// docs/FORMAT.md "The outside index"):
//
//   - On Atlas, `sync` exports the size and content identity of every file
//     whose blocks are all synced, with its disk and path, into every
//     manifest copy directory (ExportOutsideIndex). It reads only the
//     manifest: the content identity is the hash of the stored block hashes,
//     so no data is read.
//   - On the compute host, which mounts Atlas read-only and has no config,
//     ReadOutsideIndex loads that file and RunOutside walks the given paths.
//     A media file whose size is in no index entry is decided
//     (only_copy_outside) without reading it; the others are hashed, in
//     parallel, in the index's block size, exactly as sync computes content
//     identities, and looked up by (size, content).
//
// Trust: the index sits on a disk every household user can write, and is
// read by a host that mounts it over NFS. Since version 2 it is signed
// (Ed25519) with the array's key, kept in the manifest (root-only); the
// compute host is given the public key (`outside --print-key` on Atlas,
// then `--key` or [outside] trusted_key) and refuses an index it did not
// sign. Without a key, only an index named with --index is read, and it is
// reported as unverified (docs/FORMAT.md "The outside index").
//
// What it reveals: it is world-readable (0644) for NFS, so it lists only
// files whose names every user could list on Atlas: a file is left out
// when a directory on its way from the disk root is not both readable and
// searchable by others (o+rx), e.g. anything inside a 0700 folder.
//
// RunOutside only reads: it opens nothing for writing, under the scanned
// paths or anywhere else.
//
// Thread-safety: an OutsideIndex is immutable once read and may be shared by
// threads. RunOutside uses its own threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "atlas/config.h"
#include "atlas/env.h"
#include "atlas/finding.h"
#include "atlas/hash.h"
#include "atlas/manifest.h"
#include "atlas/run_context.h"
#include "atlas/status.h"

namespace atlas {

// The file name of the index inside a manifest copy directory.
inline constexpr std::string_view kOutsideIndexName = "outside.idx";
// The format version this program writes and the newest it reads. Version
// 1 (unsigned) is still read, only when no trusted key is given.
inline constexpr std::uint16_t kOutsideIndexVersion = 2;
// The largest index file read into memory: 2 GiB, about 20 million files
// at 100 bytes per entry (size, content, disk, a 75-byte path). A larger,
// non-regular (FIFO, device) or, in a manifest copy directory, symlinked
// file is refused before a byte is read.
inline constexpr std::uint64_t kOutsideIndexMaxBytes = std::uint64_t{2} << 30;

// Ed25519 keys (libsodium), raw bytes.
inline constexpr std::size_t kOutsidePublicKeySize = 32;
inline constexpr std::size_t kOutsideSecretKeySize = 64;
struct OutsideKeyPair {
  std::string public_key;  // kOutsidePublicKeySize bytes
  std::string secret_key;  // kOutsideSecretKeySize bytes (seed and public key)
};

// A new random key pair.
OutsideKeyPair GenerateOutsideKeyPair();
// The text form of a public key: "ed25519:" and its standard base64
// (44 characters), as `outside --print-key` prints it and --key and
// [outside] trusted_key take it.
std::string FormatOutsideKey(std::string_view public_key);
// The raw public key of that text form. kInvalidArgument, saying what is
// expected, for anything else.
Result<std::string> ParseOutsideKey(std::string_view text);

// The array's signing key, kept in the manifest's meta table (so manifest
// copies and restore-manifest carry it; they are root-only). With `create`,
// a missing key is generated and committed durably, with copies_pending so
// the next run copies the manifest with it. nullopt when missing and
// !create. kCorruption for a malformed record.
Result<std::optional<OutsideKeyPair>> OutsideSigningKey(Manifest* manifest, bool create);

// How a reader trusts an index.
struct OutsideTrust {
  // Raw public key every index must be signed with; empty: no key given,
  // so an index is read unverified (only version 2's self-consistency and
  // the checksum are checked).
  std::string trusted_key;
};

// One Atlas file: its size, content identity (docs/FORMAT.md "Content
// identity"), and where it lives.
struct OutsideIndexEntry {
  std::uint64_t size = 0;
  Hash128 content{};
  std::uint32_t disk = 0;  // index into OutsideIndex::disks()
  std::string path;        // relative to the disk root, raw bytes

  friend bool operator==(const OutsideIndexEntry&, const OutsideIndexEntry&) = default;
};

// The decoded index. Entries are sorted by (size, content, disk, path).
class OutsideIndex {
 public:
  OutsideIndex() = default;
  // Sorts `entries`. REQUIRES: every entry's disk < disks.size().
  OutsideIndex(std::uint32_t block_size, std::int64_t created_ns, std::int64_t first_sync_ns,
               std::vector<std::string> disks, std::vector<OutsideIndexEntry> entries);

  // Block size of the array, in bytes: the unit a candidate is hashed in.
  std::uint32_t block_size() const { return block_size_; }
  // When sync wrote the index (ns since the epoch).
  std::int64_t created_ns() const { return created_ns_; }
  // The array's first sync (ns since the epoch): the same for every index of
  // one array, so it tells two arrays apart. 0 if unknown.
  std::int64_t first_sync_ns() const { return first_sync_ns_; }
  // Format version it was decoded from (kOutsideIndexVersion when built).
  std::uint16_t version() const { return version_; }
  // The public key it is signed with (raw), empty for version 1.
  const std::string& signer() const { return signer_; }
  // Whether its signature was checked against a trusted key (OutsideTrust).
  bool verified() const { return verified_; }
  void SetDecoded(std::uint16_t version, std::string signer, bool verified) {
    version_ = version;
    signer_ = std::move(signer);
    verified_ = verified;
  }
  // Data disk names, as entries refer to them.
  const std::vector<std::string>& disks() const { return disks_; }
  const std::vector<OutsideIndexEntry>& entries() const { return entries_; }

  // Whether some Atlas file has exactly this size.
  bool HasSize(std::uint64_t size) const;
  // The Atlas files with this size and content (empty if none), in order.
  std::span<const OutsideIndexEntry> Find(std::uint64_t size, const Hash128& content) const;
  // "d1:Movies/x.mkv" (raw bytes; pass through DisplayPath to print).
  std::string Where(const OutsideIndexEntry& e) const;

 private:
  std::uint32_t block_size_ = kDefaultBlockSize;
  std::int64_t created_ns_ = 0;
  std::int64_t first_sync_ns_ = 0;
  std::uint16_t version_ = kOutsideIndexVersion;
  std::string signer_;
  bool verified_ = false;
  std::vector<std::string> disks_;
  std::vector<OutsideIndexEntry> entries_;
};

// The bytes of `index` in the outside.idx format, version 2: signed with
// `key`, trailing checksum and signature included.
std::string EncodeOutsideIndex(const OutsideIndex& index, const OutsideKeyPair& key);

// Decodes outside.idx bytes; `source` names the file in errors.
//   kInvalidArgument: not an outside index at all (wrong magic: a foreign
//     file, e.g. the wrong path given to --index)
//   kCorruption: truncated, checksum mismatch, a signature that does not
//     match the bytes, or a malformed field; the message says to run sync
//     on Atlas to rewrite it
//   kFailedPrecondition: written by a newer atlas-scrub (a newer version);
//     or, with trust.trusted_key, signed by another key or unsigned
//     (version 1): the message names both keys
Result<OutsideIndex> DecodeOutsideIndex(std::string_view bytes, const std::filesystem::path& source,
                                        const OutsideTrust& trust);

// Reads and decodes `path` (a symlink given here is followed: the caller
// named it). As DecodeOutsideIndex, plus kInvalidArgument when the file
// does not exist ("no such file"), is a directory, a FIFO or device, or is
// larger than kOutsideIndexMaxBytes, and kIOError when it cannot be read.
// Opened O_NONBLOCK and judged by fstat before a byte is read.
Result<OutsideIndex> ReadOutsideIndex(const std::filesystem::path& path, const OutsideTrust& trust);

// Reads and decodes an index from the descriptor `fd` to its end
// (`outside --index -`, standard input): the same trust rules as a file, at
// most kOutsideIndexMaxBytes (more is kInvalidArgument before it is decoded).
// `source` names it in errors ("standard input"). kIOError when it cannot be
// read. Does not close `fd`.
Result<OutsideIndex> ReadOutsideIndexFd(int fd, const std::filesystem::path& source,
                                        const OutsideTrust& trust);

// The newest valid index among "<dir>/outside.idx" of `copy_dirs` (by
// created_ns), read as ReadOutsideIndex reads but refusing a symlink
// (O_NOFOLLOW). *path receives the file used. kNotFound when no directory
// holds one, naming every file tried; when some exist but none is valid,
// the first one's error.
Result<OutsideIndex> FindOutsideIndex(const std::vector<std::filesystem::path>& copy_dirs,
                                      const OutsideTrust& trust, std::filesystem::path* path);

// Builds the index from the manifest: every file of every data disk whose
// content identity is known (all its blocks synced) and whose name others
// could list: every directory from the disk root (DiskRecord::path) down to
// the file's own is lstat'ed through `fs` and must be a directory with
// o+r and o+x; one that is not, or cannot be stat'ed, leaves out all below
// it. Reads no data; the block size and first sync time come from the meta
// table.
Result<OutsideIndex> BuildOutsideIndex(FileSystem* fs, Manifest* manifest, std::int64_t now_ns);

// Builds the index and writes it atomically as "<dir>/outside.idx" (a
// temporary file beside it, fdatasync, rename, directory fsync; mode 0644 so
// that an unprivileged user on a compute host can read it) into each of
// `copy_dirs`, creating them. Each directory is opened and judged as
// Manifest::CopyTo judges it, and written through its descriptor; one that
// fails the test gets nothing and an unsafe_copy_dir finding in `refused`
// (or, when it is null, is the returned kFailedPrecondition). Tries every
// directory; returns the first error.
Status ExportOutsideIndex(FileSystem* fs, Manifest* manifest,
                          const std::vector<std::filesystem::path>& copy_dirs, std::int64_t now_ns,
                          std::vector<Finding>* refused);

// For a sync with nothing to do: writes the index only into the copy
// directories of `config` that have none, or one older than version 2 (an
// array synced before indexes existed or were signed, or a copy directory
// that was emptied). When every directory has a current one, it touches
// nothing, not even the manifest. Otherwise it opens the manifest
// read-only, or read-write when the array has no signing key yet.
// OK and nothing written when there is no manifest.
// REQUIRES: the caller holds ManifestLock.
// Refusals as ExportOutsideIndex.
Status ExportOutsideIndexIfMissing(FileSystem* fs, const Config& config, std::int64_t now_ns,
                                   std::vector<Finding>* refused);

struct OutsideOptions {
  // Files or directories on the compute host. Directories are walked without
  // following symlinks and without descending into other file systems.
  std::vector<std::filesystem::path> paths;
  // Lower-case extensions without dot; a file is media when its name ends in
  // "." plus one of them, compared case-insensitively.
  std::vector<std::string> media_extensions;
  bool all = false;      // every regular file counts, whatever its name
  unsigned threads = 0;  // hashing threads; 0 = one per CPU
};

// A file or directory that could not be read. Not fatal: the scan goes on.
struct OutsideError {
  std::string path;     // raw bytes, as walked
  std::string message;  // "opendir ...: Permission denied"
};

struct OutsideReport {
  std::uint64_t scanned_files = 0;  // media files considered (non-empty)
  std::uint64_t scanned_bytes = 0;  // their total size
  std::uint64_t hashed_files = 0;   // candidates read: their size is on Atlas
  std::uint64_t hashed_bytes = 0;
  std::uint64_t only_copy = 0;   // only_copy_outside findings
  std::uint64_t duplicates = 0;  // duplicate_outside findings
  double seconds = 0;
  // only_copy_outside (critical) and duplicate_outside (warning), in path
  // order. Their disk is empty and their path is the compute host path as
  // walked ("PATH/rel"). A duplicate's `from` is its first Atlas copy
  // ("d1:Movies/x.mkv").
  std::vector<Finding> findings;
  std::vector<OutsideError> errors;
};

// Scans `options.paths` against `index`. ctx.config is not used (may be null);
// ctx.fs, ctx.clock and ctx.progress must be set.
//   OK: the scan completed, even with entries in report->errors
//   kInvalidArgument: no paths, or a path that does not exist
//   kIOError: not one path could be read (report->errors says why)
//   kCancelled: stopped by ctx.stop; the report holds what was decided
Status RunOutside(const RunContext& ctx, const OutsideIndex& index, const OutsideOptions& options,
                  OutsideReport* report);

// On a compute host: a writable_atlas_mount warning for each mount holding
// one of `atlas_paths` (absolute; [outside] atlas_mounts and --atlas-mount)
// that is writable there, i.e. neither its mount options nor its superblock
// options (/proc/self/mountinfo, read through `fs`) say "ro". One finding
// per mount, its path the mount point. A path that does not exist gives
// nothing (Atlas is not mounted: nothing to write to). Errors reading
// mountinfo are returned.
Result<std::vector<Finding>> WritableAtlasMounts(FileSystem* fs,
                                                 const std::vector<std::filesystem::path>& atlas_paths);

// --- On Atlas: scanning the [[outside.hosts]] ---

struct OutsideHostsOptions {
  // The whole environment of every command ("NAME=value"); the caller
  // chooses what it may see (the CLI passes PATH, HOME, USER, LOGNAME, LANG,
  // TZ and SSH_AUTH_SOCK).
  std::vector<std::string> environment;
  // After SIGTERM at a host's timeout, how long before SIGKILL.
  std::int64_t kill_grace_ms = 5000;
  // Standard output a host may print, at most; more is outside_unreachable.
  std::size_t max_output = 256u << 20;
};

struct OutsideHostResult {
  std::string host;
  bool reachable = false;  // this run's scan succeeded
  // The record as stored after this run: on failure, the last successful
  // scan's counts and findings, with this run's error.
  OutsideHostRecord record;
};

struct OutsideHostsReport {
  std::vector<OutsideHostResult> hosts;  // in config order
  // The findings of the run: every host's findings (this run's, or for an
  // unreachable host the ones of its last successful scan, which stay
  // open), then one outside_unreachable per host that failed. Paths are
  // "HOST:/path/on/host".
  std::vector<Finding> findings;
};

// Runs every host of ctx.config->outside.hosts at once: its command, with
// the array's current signed index (built from the manifest, as sync
// exports it) on its standard input, must print the document of `outside
// --json` and exit 0 or 1 within its timeout. Anything else (it cannot be
// started, times out, exits with another status, prints too much or no
// such document) makes it outside_unreachable, naming the host, the command
// and why, with the end of its standard error. Its output is untrusted:
// only only_copy_outside, duplicate_outside and writable_atlas_mount
// findings are taken, with their severity from SPEC, not from the host.
// Then stores each host's record in the manifest (one durable batch, under
// ManifestLock, waited for while another run holds it, until ctx.stop).
//   kInvalidArgument: no hosts configured
//   kFailedPrecondition: the array was never synced (no manifest or no key)
//   kCancelled: stopped by ctx.stop; nothing stored
// REQUIRES: ctx.config set; the caller does not hold ManifestLock.
Status RunOutsideHosts(const RunContext& ctx, const OutsideHostsOptions& options,
                       OutsideHostsReport* report);

// The findings the stored host records stand for, as `status` shows them:
// for each record whose host is still configured, its findings, and
// outside_unreachable when its newest attempt failed.
std::vector<Finding> OutsideHostFindings(const std::vector<OutsideHostRecord>& records,
                                         const Config& config);

}  // namespace atlas
