#include "atlas/manifest.h"

#include <algorithm>

#include "core/coding.h"

namespace atlas {

Hash128 ParityDataDigest(std::vector<std::pair<std::uint16_t, Hash128>> blocks) {
  std::sort(blocks.begin(), blocks.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string bytes;
  bytes.reserve(blocks.size() * 18);
  for (const auto& [slot, hash] : blocks) {
    coding::PutFixed16BE(&bytes, slot);
    coding::PutHash(&bytes, hash);
  }
  return HashBlock(std::as_bytes(std::span(bytes.data(), bytes.size())));
}

std::uint64_t FileRecord::BlockCount() const {
  std::uint64_t n = 0;
  for (const Extent& e : extents) n += e.count;
  return n;
}

std::uint64_t FileRecord::PositionOf(std::uint64_t index) const {
  for (const Extent& e : extents) {
    if (index < e.count) return e.start + index;
    index -= e.count;
  }
  return ~std::uint64_t{0};  // out of range: REQUIRES violated
}

}  // namespace atlas
