// Reading whole stripes fast: for a sorted stream of positions, every data
// disk's block and every parity level's block, hashing on the reader
// threads, with the windows after the caller's in flight so reading
// overlaps the caller's work.
// It runs on the StripePipeline (engine/stripe_pipeline.h), as sync's parity
// pass does: one reader thread per disk, all disks at once (hard disks), or
// one worker per core, each reading, hashing and checking whole stripes
// (SSDs, RAM). Used by scrub, check and fix.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <queue>
#include <set>
#include <functional>
#include <string>
#include <vector>

#include "atlas/engine.h"
#include "atlas/manifest.h"
#include "engine/array.h"
#include "engine/block_reader.h"
#include "engine/parity_file.h"

namespace atlas {

// One stripe as read. Data and parity buffers are valid only during the
// callback.
struct ScannedStripe {
  std::uint64_t pos = 0;
  // Per data disk (ArrayView::data index):
  std::vector<std::optional<BlockRecord>> recs;
  std::vector<BlockCheck> checks;      // meaningful where recs[i] is a synced block that was read
  // Per data disk, then per parity level: 1 where the disk is held
  // (RunContext::monitor, ScanOptions::held kSkip) and was not read.
  std::vector<std::uint8_t> held;
  // The block was read (synced, disk not given up). Bytes, not
  // std::vector<bool>: each reader thread sets its own disk's flag, and
  // packed bits would race.
  std::vector<std::uint8_t> read;
  std::vector<std::string> paths;      // the file of each block read
  std::vector<std::byte*> data;        // block_size bytes each (zeros where no block)
  // Per parity level:
  std::vector<std::byte*> parity;
  std::vector<Status> parity_status;   // OK, or why that level could not be read
  // The level was read by the scanner (ScanOptions::parity_levels); a level
  // not read has an OK status and an unspecified buffer, for the caller to
  // fill if it needs it.
  std::vector<std::uint8_t> parity_read;
  // True when some block is dirty or deleted, or parity is pending: the
  // stored parity is not expected to match the data.
  bool dirty = false;
  // ScanOptions::scratch_bytes of the stripe's own, for after_read.
  std::byte* scratch = nullptr;
  // Per parity level, for after_read to fill: 1 when the parity computed
  // from the data equals the stored level.
  std::vector<std::uint8_t> parity_verified;
  // For after_read to fill: 1 when the stripe's unknown blocks were solved
  // (into scratch) and verified.
  std::uint8_t presolved = 0;
  // The position's parity checksums in the manifest, if any (only with
  // ScanOptions::parity_hashes).
  std::optional<ParityHashRecord> parity_hash;
  // For after_read to fill: checksums to store for this position, when it
  // recomputed the parity, every level matched, and `parity_hash` was
  // missing or stale.
  std::optional<ParityHashRecord> parity_hash_new;
};

struct ScanOptions {
  bool read_parity = true;
  // Which parity levels to read (by level); empty reads every level. fix
  // rebuilding one disk needs one level, and reads the others only for a
  // stripe that cannot be solved from it (a fifth of a 4+2 rebuild's reads).
  std::vector<bool> parity_levels;
  // After this many read errors on one data disk, it is no longer read (its
  // blocks count as unverified) and the disk is named in GivenUp().
  std::uint64_t disk_error_limit = 100;
  // Called once per stripe when all its blocks are read, before `fn` sees
  // it: on a reader thread with whole-stripe reads (so the work runs on
  // every core while the stripe is in cache), else on the caller's thread.
  // Calls for different stripes may run at once.
  std::function<void(ScannedStripe&)> after_read;
  std::size_t scratch_bytes = 0;  // ScannedStripe::scratch per stripe
  // Fill ScannedStripe::parity_hash.
  bool parity_hashes = false;
  // Read data blocks without hashing them (BlockCheck::hashed false); the
  // after_read hook must SettleHash every block it does not prove otherwise
  // before the callback relies on it. fix uses it: a rebuilt block that
  // matches its checksum shows that the blocks it was solved from were
  // right, so they are hashed only when it does not.
  bool defer_hash = false;
  // The caller's callback does real work per stripe (fix writes the rebuilt
  // files): with whole stripes, the workers run at a lower CPU priority
  // (LowerPriorityThan the caller's thread), so the callback gets a core
  // whenever it has work and the workers take the rest. A 4+2 rebuild on 2
  // cores, alternating runs: 0.63-0.71 s, against 0.70-0.84 s with one
  // worker fewer (what this did before) and 1.08-1.30 s with two workers
  // at the caller's priority, which starved the callback.
  bool busy_callback = false;
  // What a disk the run's DiskMonitor holds (too hot, or failing) means:
  // kWait: every window waits until no disk is held (sync, check, fix);
  // kSkip: the held disk is not read, and ScannedStripe::held says where
  // (scrub, which leaves those positions for its next run).
  enum class Held : std::uint8_t { kWait, kSkip };
  Held held = Held::kWait;
};

// Per-position facts gathered by merging every data disk's block records
// with the dirty index, in position order, streaming.
struct PositionInfo {
  std::uint64_t pos = 0;
  bool dirty = false;             // parity not current at this position
  std::int64_t min_verified_ns = 0;
  bool all_scrubbed = true;       // every synced block was scrubbed since it was hashed
  std::uint32_t blocks = 0;       // synced blocks
  // Per data disk (ArrayView::data index), where recs_known is 1: the block
  // record at this position as the walk read it (nullopt: none). A disk the
  // walk did not cover has 0, and the scanner looks its record up. Handing
  // the records on saves a lookup per block (4 per stripe in a 4+2 scrub).
  std::vector<std::optional<BlockRecord>> recs;
  std::vector<std::uint8_t> recs_known;
  // The parity checksums at this position, where parity_hash_known is true
  // (a walk merges their table in; else the scanner looks them up).
  std::optional<ParityHashRecord> parity_hash;
  bool parity_hash_known = false;
};

// The positions to read, in ascending order, one at a time: true and *info
// set (at least its pos), or false at the end. Streaming them keeps a scrub
// of any size from holding a list of every position it will read.
using PositionSource = std::function<Result<bool>(PositionInfo* info)>;

struct ScanWindow;

class StripeScanner {
 public:
  StripeScanner(const RunContext& ctx, Manifest* m, const ArrayView& array, const ScanOptions& options);

  // Calls `fn` for each position from `next` (ascending, unique) in order.
  // Stops at the first non-OK status from `fn` or at a stop request
  // (kCancelled), after the stripe in hand.
  Status Run(const PositionSource& next, const std::function<Status(const ScannedStripe&)>& fn);

  // Data disks that hit the error limit, by name.
  std::vector<std::string> GivenUp() const;
  std::uint64_t bytes_read() const;

 private:
  void ReadData(ScannedStripe& s, std::size_t di, BlockReader& reader);
  bool ParityWanted(std::size_t l) const;
  void ReadParity(ScannedStripe& s, std::size_t l);
  // Checks temperatures and, with Held::kWait, waits for held disks. False:
  // the run was stopped meanwhile.
  bool AwaitDisks();
  Result<std::size_t> NextPositions(const PositionSource& next_position, std::vector<ScannedStripe>& stripes,
                                    std::size_t max);
  void Prepare(ScanWindow& w, std::size_t i, std::size_t levels, Cursor<DirtyEntry>& dirty);

  const RunContext& ctx_;
  Manifest* m_;
  const ArrayView& array_;
  ScanOptions options_;
  std::vector<std::unique_ptr<ParityFile>> parity_;  // the levels read (Run)
  std::vector<Status> parity_open_;                  // why a level could not be opened
  bool more_ = true;   // the position source has not said "end" yet
  PositionInfo info_;  // reused across positions (its vectors keep their capacity)
  std::unique_ptr<std::atomic<std::uint64_t>[]> errors_;  // per data disk
  std::unique_ptr<std::atomic<std::uint64_t>[]> bytes_;   // per data disk and parity level
  std::vector<std::size_t> watch_;  // DiskMonitor index per data disk, then per parity level
};

class PositionCursor {
 public:
  // Over the block records of the data disks `disks` (ArrayView::data
  // indexes; all disks when empty), merged with the dirty index.
  PositionCursor(Manifest* m, const ArrayView& array, const std::vector<std::size_t>& disks = {});
  // The next position: true and *info set, false at the end or on an error
  // (status()).
  bool Next(PositionInfo* info);
  const Status& status() const { return status_; }

 private:
  struct Head {
    std::uint64_t pos;
    std::size_t index;
    bool operator>(const Head& o) const { return pos > o.pos; }
  };
  std::size_t ndata_;
  std::vector<std::unique_ptr<Cursor<BlockRecord>>> cursors_;
  std::vector<std::size_t> cursor_disk_;  // ArrayView::data index of each cursor
  std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heap_;
  std::unique_ptr<Cursor<DirtyEntry>> dirty_;
  std::unique_ptr<Cursor<ParityHashRecord>> parity_hashes_;
  Status status_;
};
Status ForEachPosition(Manifest* m, const ArrayView& array,
                       const std::function<Status(const PositionInfo&)>& fn);

// Which positions of a PositionCursor walk to read. A pick may keep state
// (a quota), so each walk gets a fresh one from its factory.
using PositionPick = std::function<bool(const PositionInfo&)>;

// The positions a fresh pick accepts, from a fresh walk over `disks` (see
// PositionCursor): how many (for progress and reports), then the stream.
struct PickedPositions {
  std::uint64_t count = 0;
  PositionSource source;
};
Result<PickedPositions> PickPositions(Manifest* m, const ArrayView& array, const std::vector<std::size_t>& disks,
                                      const std::function<PositionPick()>& make_pick);

// A stream over a sorted set.
PositionSource PositionsOf(const std::set<std::uint64_t>& positions);

}  // namespace atlas
