// The one window-and-worker dispatch of the engine: sync's parity pass and
// the StripeScanner (scrub, check, fix) both run on it.
//
// Positions go through a ring of kWindows windows. The caller fills a
// window with stripes (its own buffers, indexed by window number), the
// workers read it, and the caller consumes it on its own thread in order;
// while it consumes window N, the workers read N+1 and N+2, so a worker done
// with its share of one window goes on with the next instead of waiting for
// the others (with two windows, the last stripe of each window left a core
// idle).
//
// Two layouts (ReadsWholeStripes):
//  - per disk (hard disks): one thread per data disk (or io_threads of them,
//    each serving disks in turn) and one per parity level, so every disk is
//    read in position order and all disks at once: the speed is that of the
//    slowest disk, not the sum of all;
//  - whole stripes (SSDs, RAM): a worker per core takes a window's stripes
//    one at a time and does all of a stripe's work while it is in cache.
//    There a read is the kernel copying pages, CPU work, so no thread per
//    disk competes with the workers for the cores (DESIGN.md, Performance).
//
// The caller says what each layout's tasks do (Stages); the pipeline owns
// the threads, the ring, the per-window latches and the block readers.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "atlas/engine.h"
#include "atlas/manifest.h"
#include "engine/array.h"
#include "engine/block_reader.h"
#include "engine/disk_workers.h"
#include "engine/parallel.h"

namespace atlas {

class StripePipeline {
 public:
  static constexpr std::size_t kWindows = 3;
  // All windows together: 16 MiB, 3 positions a window for 4+2 at 256 KiB
  // (but at least one per whole-stripe worker); 32 MiB measured no faster
  // and cost more RSS (DESIGN.md, Performance).
  static constexpr std::uint64_t kWindowBytes = 16ull << 20;

  // `levels`: parity levels that get a thread of their own in the per-disk
  // layout. `stripe_bytes`: buffer bytes one stripe needs (sizes the
  // windows). `lower_priority`: whole-stripe workers run at a lower CPU
  // priority than the caller's thread, whose consume step does real work
  // (ScanOptions::busy_callback).
  StripePipeline(const RunContext& ctx, Manifest* m, const ArrayView& array, std::size_t levels,
                 std::uint64_t stripe_bytes, bool lower_priority = false);

  bool whole_stripes() const { return whole_stripes_; }
  // Stripes per window.
  std::size_t per_window() const { return per_window_; }
  // The block reader of data disk `di` for worker `worker` (whole stripes)
  // or for the disk's thread (per disk: pass 0).
  BlockReader& reader(std::size_t worker, std::size_t di) { return readers_.at(worker, di); }

  struct Stages {
    // Caller's thread: fills window `w` with at most per_window() stripes
    // and returns how many (0: no position is left). Called only when
    // everything queued for the window before has finished.
    std::function<Result<std::size_t>(std::size_t w)> fill;
    // Whole stripes: all the work of stripe `i` of window `w`, on `worker`.
    std::function<void(std::size_t w, std::size_t i, std::size_t worker)> stripe;
    // Per disk: data disk `di`'s work on every stripe of window `w`.
    std::function<void(std::size_t w, std::size_t di)> disk;
    // Per disk, optional: parity level `l`'s work on window `w`, where
    // `level_wanted` (optional) says so.
    std::function<void(std::size_t w, std::size_t l)> level;
    std::function<bool(std::size_t w, std::size_t l)> level_wanted;
    // Caller's thread, windows in position order, once the window's tasks
    // are done. `stop`: a stop was requested; no further window is started,
    // and Run ends with kCancelled after this one unless consume returns
    // another error.
    std::function<Status(std::size_t w, std::size_t count, bool stop)> consume;
  };

  // Runs until `fill` returns 0, a stage returns an error or a stop request;
  // every task has finished when it returns.
  Status Run(const Stages& stages);

  // Per disk: queues `task(l)` on each parity level's thread for window `w`
  // (sync writes the parity there after consuming the window). The window
  // is refilled only after these tasks have finished.
  void SubmitToLevels(std::size_t w, std::function<void(std::size_t l)> task);
  // Blocks until every task of SubmitToLevels has finished.
  void WaitLevels();

 private:
  struct Slot {
    std::size_t count = 0;
    std::atomic<std::size_t> next_stripe{0};  // whole stripes: the next stripe to take
    WaitGroup done;                           // the window's tasks
    WaitGroup after;                          // its SubmitToLevels tasks
  };
  Status Start(const Stages& stages, std::size_t w, bool* more);
  void Dispatch(const Stages& stages, std::size_t w);

  const RunContext& ctx_;
  const std::size_t ndata_;
  const std::size_t levels_;
  const bool whole_stripes_;
  const std::size_t stripe_workers_;  // whole stripes
  const std::size_t disk_threads_;    // per disk
  const std::optional<int> worker_nice_;
  const std::size_t per_window_;
  DiskWorkers workers_;
  DiskReaders readers_;
  std::array<Slot, kWindows> slots_;
};

}  // namespace atlas
