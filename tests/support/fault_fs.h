// FaultFileSystem: the real POSIX file system (over temp dirs), with chosen
// operations made to fail, come back short, return flipped bits, stall, or
// lose what was never synced (leveldb's FaultInjectionTestEnv, RocksDB's
// FaultInjectionTestFS, zinject's vocabulary).
//
//   FaultFileSystem fs;  // wraps FileSystem::Default()
//   fs.Inject({.path_substr = "d1/a.mkv", .op = Op::kRead,
//              .offset_begin = 2 * kBlock, .offset_end = 3 * kBlock,
//              .fault = Fault::Errno(EIO)});
//   ... run the code under test with &fs ...
//   CHECK(fs.fired(Op::kRead) == 1);
//
// Rules are checked in the order they were injected. Every rule that matches
// an operation counts it; a rule that fires applies its fault: Delay sleeps,
// ShortRead and FlipBit shape the data, and Errno fails the operation without
// performing it (later rules are then not evaluated).
//
// Thread-safe: rules, counters and the power-loss bookkeeping sit under one
// mutex; delays sleep outside it. Files opened through this wrapper refer to
// it, so it must outlive them.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "atlas/env.h"
#include "atlas/status.h"

namespace atlas::testing {

// The operations a rule can target.
enum class Op : std::uint8_t {
  kOpen,      // OpenForRead, OpenForWrite, OpenUnder, CreateUnder (and ReadFile's open)
  kRead,      // RandomAccessFile::ReadAt (and the reads inside ReadFile)
  kWrite,     // WritableFile::WriteAt, SetAttributes and SetMode
  kSync,      // WritableFile::Sync, FileSystem::SyncDir and SyncDirUnder
  kRename,    // Rename, RenameNoReplace, RenameUnder
  kStat,      // Stat, StatUnder, RandomAccessFile::Stat
  kWalk,      // each directory a Walk visits, the root included
  kTruncate,  // WritableFile::Truncate
  kRemove,    // Remove, RemoveUnder
  kAny,       // a rule with kAny matches all of the above
};
inline constexpr std::size_t kOpCount = static_cast<std::size_t>(Op::kAny) + 1;
std::string_view OpName(Op op);

// What happens when a rule fires. Build one with the factories.
struct Fault {
  enum class Kind : std::uint8_t { kErrno, kShortRead, kFlipBit, kDelay };

  // The operation fails with this errno, as the real syscall would report
  // it ("pread <path> @ <offset>: Input/output error"; ENOSPC gives
  // kNoSpace). Nothing is read or written.
  static Fault Errno(int err);
  // A read returns at most `max_bytes` bytes although more were available
  // (the RandomAccessFile contract allows short reads only at EOF: this is
  // the misbehaving-device case). Only matches kRead.
  static Fault ShortRead(std::size_t max_bytes);
  // Reads return the byte at `byte_offset_in_file` with bit `bit` (0..7)
  // flipped: silent corruption. The file on disk is unchanged. Only matches
  // reads whose requested range covers that byte (the flip shows if the
  // byte is actually returned, i.e. not past end of file).
  static Fault FlipBit(std::uint64_t byte_offset_in_file, int bit);
  // The operation sleeps `ms` milliseconds, then proceeds.
  static Fault Delay(int ms);

  Kind kind = Kind::kErrno;
  int err = EIO;
  std::size_t max_bytes = 0;
  std::uint64_t byte_offset = 0;
  int bit = 0;
  int delay_ms = 0;
};

// Every member has a default member initializer, so designated initializers
// may leave any of them out without -Wmissing-field-initializers (g++ 12).
struct FaultRule {
  // Matches paths containing this substring (raw bytes); empty matches all.
  std::string path_substr{};
  Op op = Op::kAny;
  // With either bound set, only operations with a byte range (reads and
  // writes) that overlaps [offset_begin, offset_end) match; a missing bound
  // is open (0 or unbounded).
  std::optional<std::uint64_t> offset_begin{};
  std::optional<std::uint64_t> offset_end{};
  // How many times the rule fires; -1 for ever.
  int count = -1;
  // Fire on every Nth matching operation (the Nth, 2Nth, ...): deterministic
  // intermittency. 0 or 1: every matching operation.
  int one_in = 0;
  Fault fault{};
};

// What SimulatePowerLoss does with data that was never made durable.
enum class UnsyncedData : std::uint8_t {
  kRevert,  // bytes overwritten since the last Sync get their old contents back
  kZero,    // bytes overwritten since the last Sync read as zeros (torn pages)
};
struct PowerLossOptions {
  UnsyncedData unsynced_data = UnsyncedData::kRevert;
  // Remove files created through this wrapper whose directory was not
  // SyncDir'ed after the creation (or after a rename into it).
  bool remove_unsynced_new_files = true;
};

class FaultRandomAccessFile;
class FaultWritableFile;

class FaultFileSystem final : public FileSystemWrapper {
 public:
  // `target` is not owned.
  explicit FaultFileSystem(FileSystem* target = FileSystem::Default());
  ~FaultFileSystem() override;

  // Adds a rule; returns its id for rule_fired().
  int Inject(FaultRule rule);
  // Removes every rule (counters are kept).
  void ClearFaults();

  // Calls `fn` on the calling thread at every operation, before any rule,
  // with its kind and path. Set it before the code under test runs; `fn`
  // must be thread-safe.
  void Observe(std::function<void(Op, std::string_view path)> fn) { observer_ = std::move(fn); }

  // Operations of kind `op` that went through this wrapper (kAny: all of
  // them), whether or not a fault fired.
  std::uint64_t hits(Op op) const;
  // Faults fired on operations of kind `op` (kAny: all).
  std::uint64_t fired(Op op = Op::kAny) const;
  // Times the rule with this id fired.
  std::uint64_t rule_fired(int rule_id) const;
  void ResetCounters();

  // Simulates a power cut followed by a reboot, for files written through
  // this wrapper. What is modeled:
  //  1. Data: each file is truncated to the size it had at its last
  //     successful Sync (its size at open for files that existed before),
  //     and within that size every byte written or truncated away since is
  //     restored to its synced contents (kRevert) or zeroed (kZero). Writes
  //     that never reached a Sync vanish; a Sync that failed made nothing
  //     durable.
  //  2. Names (with remove_unsynced_new_files): a file created through
  //     OpenForWrite is removed unless, since its creation, the directory
  //     holding its current name was SyncDir'ed, or it was renamed over an
  //     existing file (taken as durable: one of the two outcomes a crash may
  //     give). Renaming a durable file keeps it durable.
  // Not modeled: CreateDirs, Remove, Rename and SetAttributes are durable at
  // once; metadata other than size; torn writes inside one WriteAt; anything
  // written around this wrapper. Close (or drop) files first: handles opened
  // before the power loss are no longer tracked.
  Status SimulatePowerLoss(const PowerLossOptions& options = PowerLossOptions());

  Result<std::unique_ptr<RandomAccessFile>> OpenForRead(const std::filesystem::path& p) override;
  Result<std::unique_ptr<WritableFile>> OpenForWrite(const std::filesystem::path& p, OpenMode om,
                                                     std::uint32_t mode) override;
  Result<FileStat> Stat(const std::filesystem::path& p) override;
  Status Walk(const std::filesystem::path& root, const WalkOptions& o, const WalkFn& fn) override;
  Result<std::string> ReadFile(const std::filesystem::path& p,
                               std::uint64_t max_bytes = kDefaultReadFileMax) override;
  Status Rename(const std::filesystem::path& a, const std::filesystem::path& b) override;
  Status RenameNoReplace(const std::filesystem::path& a, const std::filesystem::path& b) override;
  Status Remove(const std::filesystem::path& p) override;
  Status SyncDir(const std::filesystem::path& p) override;
  // The *Under calls: rules match the joined path root/rel; the real
  // resolution beneath the root is the target's.
  Result<std::unique_ptr<RandomAccessFile>> OpenUnder(const std::filesystem::path& root,
                                                      std::string_view rel) override;
  Result<FileStat> StatUnder(const std::filesystem::path& root, std::string_view rel) override;
  Result<std::unique_ptr<WritableFile>> CreateUnder(const std::filesystem::path& root,
                                                    std::string_view rel,
                                                    std::uint32_t mode) override;
  Status RenameUnder(const std::filesystem::path& root, std::string_view from,
                     std::string_view to, bool replace) override;
  Status RemoveUnder(const std::filesystem::path& root, std::string_view rel) override;
  Status SyncDirUnder(const std::filesystem::path& root, std::string_view rel_dir) override;

 private:
  friend class FaultRandomAccessFile;
  friend class FaultWritableFile;

  struct RuleState {
    int id = 0;
    FaultRule rule;
    std::uint64_t matched = 0;
    std::uint64_t fired = 0;
  };
  // What the rules decided for one operation.
  struct Decision {
    int err = 0;  // non-zero: fail with this errno
    std::optional<std::size_t> max_bytes;
    std::vector<std::pair<std::uint64_t, int>> flips;  // (byte offset, bit)
    int delay_ms = 0;
  };
  // Per-file durability bookkeeping, shared by the map and open handles.
  struct FileState {
    std::string path;            // current name (follows renames)
    bool unsynced_name = false;  // created, no SyncDir of its directory since
    std::uint64_t synced_size = 0;
    // Original bytes of ranges below synced_size modified since the last
    // Sync, keyed by offset; non-overlapping.
    std::map<std::uint64_t, std::vector<std::byte>> undo;
  };

  using Range = std::optional<std::pair<std::uint64_t, std::uint64_t>>;

  // Counts the operation and evaluates the rules. `range` is the byte range
  // [first, second) of a read or write; `path2` is the second path of a
  // rename (a rule matches either).
  Decision Evaluate(Op op, std::string_view path, Range range, std::string_view path2 = {});
  static void Sleep(const Decision& d);
  // Evaluate and Sleep for an operation without a byte range: its injected
  // error as a Status, or OK to go on. GateRename matches either path.
  Status Gate(Op op, std::string_view path, std::string_view syscall);
  Status GateRename(std::string_view from, std::string_view to);

  // Saves the synced contents of [begin, end) ∩ [0, synced_size) that are
  // not saved yet, before a write or truncate changes them.
  Status SaveUndo(FileState* st, std::uint64_t begin, std::uint64_t end);  // REQUIRES: mu_ held
  // After a successful Sync: the current size and contents are durable.
  void MarkSynced(FileState* st);  // REQUIRES: mu_ held

  static std::string Key(const std::filesystem::path& p);

  // Power-loss bookkeeping shared by the path and the beneath-root calls.
  std::unique_ptr<WritableFile> Track(const std::string& full, bool existed, std::uint64_t size,
                                      std::unique_ptr<WritableFile> base);
  void NoteRename(const std::string& from, const std::string& to, bool replaces);
  void NoteRemove(const std::string& full);
  void NoteSyncDir(const std::string& dir);

  std::function<void(Op, std::string_view)> observer_;
  mutable std::mutex mu_;
  std::vector<RuleState> rules_;                             // REQUIRES: mu_ held
  int next_rule_id_ = 1;                                     // REQUIRES: mu_ held
  std::uint64_t hits_[kOpCount] = {};                        // REQUIRES: mu_ held
  std::uint64_t fired_[kOpCount] = {};                       // REQUIRES: mu_ held
  std::map<std::string, std::shared_ptr<FileState>> files_;  // REQUIRES: mu_ held
};

}  // namespace atlas::testing
