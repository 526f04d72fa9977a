// One parity level's file: where each position's block lives in it
// (position * block size), and its reads, writes, length and syncs. sync,
// scrub, check and fix all reach parity through this type, so the offset
// arithmetic and the error texts exist once.
//
// A parity file grows sparse: a position past its end, or in a hole, reads
// as zeros, which is the parity of a position whose blocks are all zeros or
// absent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "atlas/env.h"
#include "atlas/finding.h"
#include "atlas/status.h"

namespace atlas {

struct ArrayParity;

class DiskMonitor;

class ParityFile {
 public:
  // `level` must outlive this object.
  ParityFile(FileSystem* fs, const ArrayParity& level, std::uint32_t block_size);

  const std::string& name() const;
  // Tells `monitor` (may be null) of every read and write of this level.
  void Watch(DiskMonitor* monitor);
  const std::filesystem::path& path() const;
  std::uint32_t block_size() const { return bs_; }
  // Byte offset of position `pos`.
  std::uint64_t Offset(std::uint64_t pos) const { return pos * bs_; }

  // Opens the file for reading. Tried once: later calls return the first
  // outcome (an EACCES stays an EACCES, so callers can tell a permission
  // problem from a missing disk). Not thread-safe: open before readers start.
  Status OpenForRead();
  bool readable() const { return reader_ != nullptr; }
  // Opens (creating, mode 0600) for writing, keeping what it holds.
  Status OpenForWrite();

  // Reads the block at `pos` into `buf` (block_size bytes): the bytes read
  // from the file (fewer at its end; the rest of `buf` is zeroed).
  // REQUIRES: OpenForRead succeeded. Safe to call from several threads.
  Result<std::size_t> ReadBlock(std::uint64_t pos, std::byte* buf) const;
  // Writes one block at `pos`; errors name the level and the position.
  // REQUIRES: OpenForWrite succeeded.
  Status WriteBlock(std::uint64_t pos, const std::byte* block);
  // Sets the length to `positions` blocks (growing leaves a hole).
  Status SetLength(std::uint64_t positions, std::string_view why);
  // Sets the length in bytes (a recorded parity_size).
  Status SetLengthBytes(std::uint64_t bytes, std::string_view why);
  // fdatasync: every block written so far is durable when this returns OK.
  Status Sync();

  // The read_error finding for a failed read of position `pos`.
  Finding ReadErrorFinding(std::uint64_t pos, const Status& error) const;
  static Finding ReadErrorFinding(const ArrayParity& level, std::uint32_t block_size, std::uint64_t pos,
                                  const Status& error);

 private:
  FileSystem* fs_;
  const ArrayParity& level_;
  std::uint32_t bs_;
  bool open_tried_ = false;
  Status open_status_;
  std::unique_ptr<RandomAccessFile> reader_;
  std::unique_ptr<WritableFile> writer_;
  DiskMonitor* monitor_ = nullptr;
  std::size_t watch_ = 0;
};

}  // namespace atlas
