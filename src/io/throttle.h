// Polite I/O: limits one reader to `bandwidth_limit` bytes per second
// (SPEC `bandwidth_limit`, per disk), so a scrub or sync does not starve the
// media services reading the same disks. A simple pacing bucket: each read
// books its bytes on a timeline that advances at the limit, and the reader
// sleeps while it is ahead. Bursts of up to one second are allowed after an
// idle period, so short reads are not delayed needlessly.
//
// Thread-safe: the readers of one disk share its Throttle (several workers
// read a disk with whole-stripe reads), and each sleeps for its own bytes.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "atlas/env.h"

namespace atlas {

class Throttle {
 public:
  // rate = 0 means unlimited.
  Throttle(std::uint64_t bytes_per_second, Clock* clock) : rate_(bytes_per_second), clock_(clock) {}

  // Accounts `bytes` just transferred; sleeps while over the limit.
  void Acquire(std::uint64_t bytes) {
    if (rate_ == 0) return;
    const std::int64_t now = clock_->MonotonicNanos();
    const auto cost = static_cast<std::int64_t>(static_cast<double>(bytes) * 1e9 / static_cast<double>(rate_));
    std::int64_t until = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Credit for idle time is capped at one second of transfer.
      next_ns_ = std::max(next_ns_, now - 1'000'000'000) + cost;
      until = next_ns_;
    }
    if (until > now) clock_->SleepFor(std::chrono::nanoseconds(until - now));
  }

 private:
  std::uint64_t rate_;
  Clock* clock_;
  std::mutex mu_;
  std::int64_t next_ns_ = 0;  // REQUIRES: mu_ held
};

}  // namespace atlas
