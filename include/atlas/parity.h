// Reed-Solomon parity over GF(2^8) through ISA-L, in SnapRAID's layout: each
// data disk has a fixed column ("slot", 0..kMaxDataDisks-1) and parity level
// l at position p is sum over slots s of C[l][s] * D_s[p].
//
// The coefficient matrix C is fixed forever (docs/FORMAT.md "Parity"): a
// Cauchy matrix C0[l][s] = 1 / (x_l + y_s) with x_l = kMaxDataDisks + l and
// y_s = s, with every column scaled so that row 0 is all ones (level 1 is plain
// XOR). Every square submatrix of a Cauchy matrix is invertible and column
// scaling keeps that, so any set of up to `levels` lost disks is recoverable
// (MDS) for every number of data disks up to kMaxDataDisks, and adding a data
// disk changes no existing coefficient.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "atlas/status.h"

namespace atlas {

inline constexpr int kMaxParityLevels = 6;
inline constexpr int kMaxDataDisks = 250;

class ParityCodec {
 public:
  // kInvalidArgument unless 1 <= levels <= kMaxParityLevels.
  static Result<std::unique_ptr<ParityCodec>> Create(int levels);
  virtual ~ParityCodec() = default;

  virtual int levels() const = 0;
  // C[level][slot]; level in [0, levels), slot in [0, kMaxDataDisks).
  virtual std::uint8_t Coefficient(int level, int slot) const = 0;

  // Adds slot's contribution `data` (len bytes) into every parity buffer
  // parity[0..levels) (ec_encode_data_update). Zero the parity buffers first;
  // after one call per slot that holds data at this position, they hold the
  // parity. A slot with no data at a position contributes zeros: skip it.
  // Thread-safe (the codec is immutable).
  virtual void Accumulate(int slot, const std::byte* data, std::byte* const* parity,
                          std::size_t len) const = 0;

  // Computes all parity levels for one position from the blocks of `slots`
  // (data[i] belongs to slots[i]); overwrites parity[0..levels).
  // REQUIRES (Coefficient, Accumulate, Encode): every slot in range, slots
  // distinct, level < levels(). These return nothing, so a violation is a bug
  // and aborts: parity against a wrong column would be silently wrong forever.
  virtual void Encode(std::span<const int> slots, const std::byte* const* data,
                      std::byte* const* parity, std::size_t len) const = 0;

  // Rebuilds the blocks of `lost_slots` at one position.
  //   present_slots/present: every other slot that holds data at the position
  //     (slots with no data there are zeros and may be left out);
  //   levels_used/parity: the parity levels to solve with, one per lost slot
  //     (levels_used.size() must equal lost_slots.size());
  //   out[i]: receives the block of lost_slots[i].
  // kInvalidArgument on size mismatches or a slot out of range; never singular
  // for a valid input (MDS).
  virtual Status Reconstruct(std::span<const int> present_slots, const std::byte* const* present,
                             std::span<const int> levels_used, const std::byte* const* parity,
                             std::span<const int> lost_slots, std::byte* const* out,
                             std::size_t len) const = 0;
};

// Known-answer test: encodes and reconstructs a fixed stripe for every level
// and compares with stored vectors. Run before any command touches data.
Status ParitySelfTest();

}  // namespace atlas
