#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

// The library's plain (SSE2, non-dispatch) symbols, to cross-check the
// dispatched path that atlas uses.
#include <xxhash.h>

#include "atlas/hash.h"

#include "support/test_util.h"

namespace atlas {
namespace {

std::span<const std::byte> AsBytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// ((i * 131 + 7) ^ (i >> 8)) mod 256, the same pattern the vectors below were
// made from with Python and hashed with `xxh128sum` 0.8.1.
std::vector<std::byte> Pattern(std::size_t n) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(((i * 131 + 7) ^ (i >> 8)) & 0xff);
  return v;
}

TEST_CASE("hash: block checksums print the same text as xxh128sum", "[hash][unit]") {
  CHECK(HashBlock({}).Hex() == "99aa06d3014798d86001c324468d497f");
  CHECK(HashBlock(AsBytes("abc")).Hex() == "06b05ab6733a618578af5f94892f3950");
  CHECK(HashBlock(AsBytes("The quick brown fox jumps over the lazy dog")).Hex() ==
        "ddd650205ca3e7fa24a1cc2e3a8a7651");
  CHECK(HashBlock(Pattern(200)).Hex() == "26d28d07860728f6a4773493fbbe3543");
  CHECK(HashBlock(Pattern(10000)).Hex() == "0c56ac07979442488cf4235729d63a12");
  CHECK(HashBlock(Pattern(1 << 20)).Hex() == "3d2f9bceca57b912bfea9c64aa28b5b4");
  ClearUpperVectorState();
}

TEST_CASE("hash: the vectorised path gives the same value as the portable one", "[hash][unit]") {
  // Every length up to 2 KiB crosses each size class and stripe boundary.
  std::vector<std::byte> data = testing::RandomBytes(1 << 16, 7);
  for (std::size_t n = 0; n <= 2048; ++n) {
    XXH128_hash_t plain = XXH3_128bits(data.data(), n);
    Hash128 h = HashBlock({data.data(), n});
    INFO("length " << n);
    REQUIRE(h.lo == plain.low64);
    REQUIRE(h.hi == plain.high64);
  }
  XXH128_hash_t plain = XXH3_128bits(data.data(), data.size());
  CHECK(HashBlock(data) == Hash128{.lo = plain.low64, .hi = plain.high64});
  ClearUpperVectorState();
}

TEST_CASE("hash: hashing in pieces equals hashing the concatenation", "[hash][unit]") {
  std::vector<std::byte> data = testing::RandomBytes(300000, 11);
  const Hash128 whole = HashBlock(data);
  for (std::size_t piece : {1u, 7u, 64u, 1000u, 4096u, 65536u, 299999u, 300000u}) {
    Hasher128 h;
    for (std::size_t off = 0; off < data.size(); off += piece) {
      h.Update(std::span(data).subspan(off, std::min(piece, data.size() - off)));
    }
    INFO("piece " << piece);
    CHECK(h.Digest() == whole);
  }
  // Digest does not end the stream, and empty updates change nothing.
  Hasher128 h;
  CHECK(h.Digest() == HashBlock({}));
  h.Update({});
  h.Update(std::span(data).first(100));
  CHECK(h.Digest() == HashBlock(std::span(data).first(100)));
  h.Update(std::span(data).subspan(100));
  CHECK(h.Digest() == whole);
  ClearUpperVectorState();
}

TEST_CASE("hash: canonical bytes are big-endian, high half first, and round-trip", "[hash][unit]") {
  const Hash128 h{.lo = 0x0011223344556677ULL, .hi = 0x8899aabbccddeeffULL};
  CHECK(h.Hex() == "8899aabbccddeeff0011223344556677");
  std::byte b[16];
  h.ToBytes(b);
  for (int i = 0; i < 8; ++i) {
    CHECK(b[i] == std::byte((h.hi >> (56 - 8 * i)) & 0xff));
    CHECK(b[8 + i] == std::byte((h.lo >> (56 - 8 * i)) & 0xff));
  }
  CHECK(Hash128::FromBytes(b) == h);

  // The same layout as libxxhash's canonical form, and the same text as Hex().
  const Hash128 r = HashBlock(AsBytes("abc"));
  r.ToBytes(b);
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH128_hash_t{.low64 = r.lo, .high64 = r.hi});
  std::string hex;
  for (int i = 0; i < 16; ++i) {
    CHECK(static_cast<unsigned char>(b[i]) == c.digest[i]);
    char two[3];
    std::snprintf(two, sizeof(two), "%02x", static_cast<unsigned>(b[i]));
    hex += two;
  }
  CHECK(hex == r.Hex());
  CHECK(Hash128::FromBytes(b) == r);
  CHECK_FALSE(r.IsZero());
  CHECK(Hash128{}.IsZero());
  ClearUpperVectorState();
}

TEST_CASE("hash: the startup self-test passes", "[hash][unit]") {
  REQUIRE_OK(HashSelfTest());
  ClearUpperVectorState();  // safe to call any number of times
  ClearUpperVectorState();
}

}  // namespace
}  // namespace atlas
