#include "atlas/manifest.h"

namespace atlas {

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
