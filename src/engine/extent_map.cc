#include "engine/extent_map.h"

#include <algorithm>
#include <iterator>

namespace atlas {

void ExtentMap::Load(const std::vector<Extent>& stored, std::uint64_t next_pos) {
  free_.clear();
  stored_.clear();
  next_pos_ = next_pos;
  for (const Extent& e : stored) {
    stored_[e.start] = e.count;
    if (e.count > 0) AddRange(e.start, e.count);
  }
}

std::vector<Extent> ExtentMap::Allocate(std::uint64_t count) {
  std::vector<Extent> out;
  while (count > 0 && !free_.empty()) {
    auto it = free_.begin();
    std::uint64_t take = std::min(count, it->second);
    out.push_back({it->first, take});
    std::uint64_t start = it->first + take;
    std::uint64_t left = it->second - take;
    free_.erase(it);
    if (left > 0) free_[start] = left;
    count -= take;
  }
  if (count > 0) {
    if (!out.empty() && out.back().start + out.back().count == next_pos_) {
      out.back().count += count;
    } else {
      out.push_back({next_pos_, count});
    }
    next_pos_ += count;
  }
  return out;
}

void ExtentMap::Free(std::uint64_t pos) { AddRange(pos, 1); }

void ExtentMap::AddRange(std::uint64_t start, std::uint64_t count) {
  std::uint64_t end = start + count;
  // Absorb every extent that overlaps or touches [start, end).
  auto it = free_.upper_bound(start);
  if (it != free_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second >= start) it = prev;
  }
  while (it != free_.end() && it->first <= end) {
    start = std::min(start, it->first);
    end = std::max(end, it->first + it->second);
    it = free_.erase(it);
  }
  free_[start] = end - start;
}

std::uint64_t ExtentMap::free_positions() const {
  std::uint64_t n = 0;
  for (const auto& [start, count] : free_) n += count;
  return n;
}

void ExtentMap::Flush(std::uint16_t slot, ManifestBatch* batch) {
  for (const auto& [start, count] : stored_) {
    auto it = free_.find(start);
    if (it == free_.end()) batch->DeleteFreeExtent(slot, start);
  }
  for (const auto& [start, count] : free_) {
    auto it = stored_.find(start);
    if (it == stored_.end() || it->second != count) batch->PutFreeExtent(slot, {start, count});
  }
  stored_ = free_;
}

}  // namespace atlas
