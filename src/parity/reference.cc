#include "parity/reference.h"

#include <array>

namespace atlas {

std::uint8_t ReferenceGfMul(std::uint8_t a, std::uint8_t b) {
  unsigned product = 0;
  unsigned x = a;
  for (unsigned y = b; y != 0; y >>= 1) {
    if (y & 1)
      product ^= x;
    x <<= 1;
    if (x & 0x100)
      x ^= 0x11d;
  }
  return static_cast<std::uint8_t>(product);
}

std::uint8_t ReferenceGfInv(std::uint8_t a) {
  // The multiplicative group has order 255, so a^254 = a^-1 (and 0^254 = 0).
  std::uint8_t result = 1;
  std::uint8_t base = a;
  for (unsigned e = 254; e != 0; e >>= 1) {
    if (e & 1)
      result = ReferenceGfMul(result, base);
    base = ReferenceGfMul(base, base);
  }
  return a == 0 ? 0 : result;
}

std::uint8_t ReferenceCoefficient(int level, int slot) {
  constexpr int kColumns = 250;  // kMaxDataDisks, restated on purpose
  const auto x_l = static_cast<std::uint8_t>(kColumns + level);
  const auto x_0 = static_cast<std::uint8_t>(kColumns);
  const auto y_s = static_cast<std::uint8_t>(slot);
  // In GF(2^8) addition is XOR.
  return ReferenceGfMul(ReferenceGfInv(x_l ^ y_s), x_0 ^ y_s);
}

std::vector<std::byte> ReferenceParity(int level, std::span<const int> slots,
                                       const std::byte* const* data, std::size_t len) {
  std::vector<std::byte> out(len);
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const std::uint8_t c = ReferenceCoefficient(level, slots[i]);
    std::array<std::uint8_t, 256> times_c;
    for (unsigned v = 0; v < 256; ++v) {
      times_c[v] = ReferenceGfMul(c, static_cast<std::uint8_t>(v));
    }
    for (std::size_t b = 0; b < len; ++b) {
      out[b] ^= std::byte{times_c[static_cast<std::uint8_t>(data[i][b])]};
    }
  }
  return out;
}

}  // namespace atlas
