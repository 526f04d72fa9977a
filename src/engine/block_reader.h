// Reading one data block back and judging it: the shared core of sync,
// scrub, check and fix.
//
// A block is read, the file re-checked, and the bytes hashed. The verdict
// follows SnapRAID's rule (scrub_data_reader() in its cmdline/scrub.c), made stricter: a
// checksum mismatch is silent corruption only while the open file is the
// recorded one (same inode, size and mtime in ns, before and after the
// read); otherwise it is drift, never corruption. The inode counts because users rename files over each other
// on a shared disk: a same-size, same-mtime file swapped in must never be
// judged against (or repaired to) another file's checksums. fix records the
// new inode of every file it writes, and sync rehashes a file whose inode
// changed (engine/scan.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "atlas/engine.h"
#include "atlas/hash.h"
#include "atlas/manifest.h"
#include "io/throttle.h"
#include "engine/array.h"

namespace atlas {

struct BlockCheck {
  enum class Outcome : std::uint8_t {
    kOk,         // read; for a synced block, the hash matches
    kMismatch,   // read; the hash differs and the file is unchanged: silent corruption
    kChanged,    // the file changed since it was recorded: drift
    kMissing,    // the file is gone (deleted since the sync, or its disk was replaced)
    kReadError,  // the disk returned an error (EIO...) for the file or block
    kNoFile,     // the block names no recorded file (manifest inconsistency)
  };
  Outcome outcome = Outcome::kNoFile;
  Hash128 hash;               // of the bytes read (kOk, kMismatch)
  std::uint64_t bytes = 0;    // bytes of file data in the block
  std::uint64_t offset = 0;   // byte offset of the block (or of the error) in the file
  Status error;               // kReadError: what the OS said
  // False after Read with defer_hash: the block read clean (kOk) but is not
  // hashed yet, so kOk only means "read"; SettleHash judges it.
  bool hashed = true;
};

// Hashes a block read with defer_hash and judges it as Read would have:
// kMismatch when a synced block's hash differs. No-op for any other check.
void SettleHash(const BlockRecord& rec, const std::byte* buf, BlockCheck* c);

// Reads blocks of one data disk, keeping the current file open. One per
// reader thread; not thread-safe.
class BlockReader {
 public:
  // `throttle` (not owned) paces the disk's reads; the readers of one disk
  // share it.
  BlockReader(const RunContext& ctx, Manifest* m, const ArrayDataDisk& disk, std::uint32_t bs, Throttle* throttle);

  // Reads `rec`'s block into buf (bs bytes; the tail past the file's end is
  // zeroed, as parity sees it) and judges it. A synced block's hash is
  // compared with the recorded one; a dirty block is only hashed. With
  // `defer_hash` the hash is left to SettleHash (BlockCheck::hashed).
  BlockCheck Read(const BlockRecord& rec, std::byte* buf, bool defer_hash = false);

  // The file the last Read() was about, if any.
  const FileRecord* file() const { return file_ ? &*file_ : nullptr; }
  const ArrayDataDisk& disk() const { return disk_; }

 private:
  // `st` (of the open descriptor) is the recorded file, unchanged.
  bool SameFile(const FileStat& st) const;

  const RunContext& ctx_;
  Manifest* m_;
  const ArrayDataDisk& disk_;
  std::uint32_t bs_;
  std::uint64_t file_id_ = 0;
  std::optional<FileRecord> file_;
  std::unique_ptr<RandomAccessFile> handle_;
  Status open_error_;
  Throttle* throttle_;
  std::size_t watch_;  // the disk's DiskMonitor index (RunContext::monitor)
};

// The BlockReaders of a run: `sets` of one reader per data disk (one set
// per worker when workers share the disks, as with whole-stripe reads), and
// one Throttle per disk that all of that disk's readers share, so
// bandwidth_limit holds per disk whatever the number of readers.
class DiskReaders {
 public:
  DiskReaders(const RunContext& ctx, Manifest* m, const ArrayView& array, std::size_t sets);
  BlockReader& at(std::size_t set, std::size_t disk) { return sets_[set][disk]; }

 private:
  std::vector<std::unique_ptr<Throttle>> throttles_;  // per data disk
  std::vector<std::vector<BlockReader>> sets_;
};

// The finding for a block that did not check out, worded for `activity`
// ("sync", "scrub", "check", "fix"). REQUIRES: c.outcome != kOk.
Finding BlockFinding(const BlockReader& reader, const BlockRecord& rec, const BlockCheck& c,
                     std::string_view activity);

}  // namespace atlas
