// Free block positions of one data disk, as merged extents, with the
// bookkeeping to persist only what changed.
#pragma once

#include <cstdint>
#include <iterator>
#include <map>
#include <vector>

#include "atlas/manifest.h"

namespace atlas {

class ExtentMap {
 public:
  ExtentMap() = default;
  // Loads the stored extents (possibly adjacent ones; they are merged) and
  // the disk's high-water mark.
  void Load(const std::vector<Extent>& stored, std::uint64_t next_pos);

  // Takes `count` positions, first fit in position order, then from the
  // high-water mark. A file may end up in several extents.
  std::vector<Extent> Allocate(std::uint64_t count);
  // Returns one position to the free set.
  void Free(std::uint64_t pos);

  std::uint64_t next_pos() const { return next_pos_; }
  // The first position of the free run that ends at the high-water mark;
  // next_pos() when the position below it is in use.
  std::uint64_t TailStart() const {
    if (free_.empty()) return next_pos_;
    auto last = std::prev(free_.end());
    return last->first + last->second == next_pos_ ? last->first : next_pos_;
  }
  std::uint64_t free_positions() const;

  // Queues into `batch` the changes since the last Flush (or Load) and
  // makes the current state the new baseline.
  void Flush(std::uint16_t slot, ManifestBatch* batch);

 private:
  void AddRange(std::uint64_t start, std::uint64_t count);
  std::map<std::uint64_t, std::uint64_t> free_;    // start -> count
  std::map<std::uint64_t, std::uint64_t> stored_;  // what the manifest holds
  std::uint64_t next_pos_ = 0;
};

}  // namespace atlas
