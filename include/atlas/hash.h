// Block checksums: XXH3-128 of each block's bytes, unseeded, so that
// `xxh128sum` of a one-block file gives the same value.
//
// Implementation note: the hash goes through libxxhash's _dispatch entry
// points (AVX-512/AVX2 chosen at run time, 55 GB/s here, against 19.6 GB/s for
// the plain SSE2 symbols).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "atlas/status.h"

namespace atlas {

struct Hash128 {
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;

  friend bool operator==(const Hash128&, const Hash128&) = default;
  bool IsZero() const { return lo == 0 && hi == 0; }
  // 32 lower-case hex digits, high half first: the same text `xxh128sum` prints.
  std::string Hex() const;
  // The 16-byte canonical (big-endian, high half first) encoding, and back.
  void ToBytes(std::byte out[16]) const;
  static Hash128 FromBytes(const std::byte in[16]);
};

// XXH3-128 of `data`. Thread-safe.
Hash128 HashBlock(std::span<const std::byte> data);

// Incremental XXH3-128 over several pieces, equal to HashBlock of their
// concatenation. Used for a file's content identity (the hash of its block
// hashes, see docs/FORMAT.md).
class Hasher128 {
 public:
  Hasher128();
  ~Hasher128();
  Hasher128(const Hasher128&) = delete;
  Hasher128& operator=(const Hasher128&) = delete;
  void Update(std::span<const std::byte> data);
  Hash128 Digest() const;

 private:
  void* state_;  // XXH3_state_t*
};

// Known-answer test of the hash; run before any command touches data.
// kInternal with the expected and actual values if it fails.
Status HashSelfTest();

// Clears the upper halves of the vector registers (vzeroupper) after
// AVX-512 code in ISA-L or libxxhash, which returns without it and would
// otherwise slow legacy-SSE code in this thread 3-4x. Cheap; call after each
// batch of hashing or parity math. No-op on CPUs without AVX.
void ClearUpperVectorState();

}  // namespace atlas
