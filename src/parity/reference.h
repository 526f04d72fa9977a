// A slow, scalar statement of the parity formula in atlas/parity.h, written
// without ISA-L: its own GF(2^8) arithmetic (polynomial 0x11d, the one ISA-L
// uses) and its own coefficient formula. Tests and the self-test's vectors use
// it to check ParityCodec independently; it is not for production paths
// (about 1 GB/s at best).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace atlas {

// Product in GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1 (0x11d), bit by bit.
std::uint8_t ReferenceGfMul(std::uint8_t a, std::uint8_t b);
// Multiplicative inverse (a^254); 0 for 0, as ISA-L's gf_inv.
std::uint8_t ReferenceGfInv(std::uint8_t a);

// C[level][slot] from the definition: 1 / (x_l + y_s) with x_l = 250 + level
// and y_s = slot, times (x_0 + y_s) so that level 0 is all ones.
// REQUIRES: 0 <= level < 6, 0 <= slot < 250.
std::uint8_t ReferenceCoefficient(int level, int slot);

// Parity level `level` of one position: the GF(2^8) sum over i of
// ReferenceCoefficient(level, slots[i]) * data[i][b] for each byte b < len.
// data[i] holds len bytes and belongs to slots[i].
std::vector<std::byte> ReferenceParity(int level, std::span<const int> slots,
                                       const std::byte* const* data, std::size_t len);

}  // namespace atlas
