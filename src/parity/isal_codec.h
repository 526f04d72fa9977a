// The ISA-L ParityCodec, exposed inside the library for tests that need to
// shrink its chunk size. Everyone else uses ParityCodec::Create().
#pragma once

#include <cstddef>
#include <memory>

#include "atlas/parity.h"

namespace atlas {

// ISA-L takes lengths as int, so every call is split into pieces of at most
// this many bytes (1 GiB, well below 2 GiB).
inline constexpr std::size_t kIsalMaxChunk = std::size_t{1} << 30;

// A codec for `levels` parity levels that hands ISA-L at most
// `max_chunk_bytes` per call. REQUIRES: 1 <= levels <= kMaxParityLevels,
// 0 < max_chunk_bytes <= kIsalMaxChunk.
std::unique_ptr<ParityCodec> NewIsalCodec(int levels, std::size_t max_chunk_bytes);

}  // namespace atlas
