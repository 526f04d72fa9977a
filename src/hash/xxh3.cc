// XXH3-128 block checksums through libxxhash's run-time dispatcher.
//
// Approach: every hash goes through the `_dispatch` entry points of Debian's
// libxxhash (xxh_x86dispatch.h renames XXH3_128bits and XXH3_128bits_update to
// them). The dispatcher picks AVX-512, AVX2 or SSE2 once per process, so one
// binary built for baseline x86-64 runs at full speed on a Zen 4 server and
// still runs on an Atom NAS box without AVX.
//
// Rejected:
//   - the library's plain symbols: SSE2 only, 19.6 GB/s against 55 GB/s;
//   - XXH_INLINE_ALL: fixes the vector width at compile time (28 GB/s for
//     baseline x86-64; -march=native would not run on older NAS CPUs and
//     trips -Wmaybe-uninitialized in GCC 12's avx512fintrin.h).
//
// The AVX-512 path returns with the upper vector state dirty, which slows any
// legacy-SSE code that runs next in this thread 3-4x. HashBlock() does not
// clear it itself: a vzeroupper per 4 KiB block would be cheap but not free,
// and callers hash many blocks in a row. They call ClearUpperVectorState()
// once after each batch instead (see atlas/hash.h).
//
// Measured with bench/hash_bench.cc (release preset, one thread, hot cache,
// GB/s = 10^9 bytes/s, middle of three runs of 5 repetitions) on a shared
// 2 vCPU AMD EPYC VM with AVX2 but no AVX-512, so the dispatcher picks AVX2:
// HashBlock 4 KiB 33, 16 KiB 39, 64 KiB 38, 256 KiB 37, 1 MiB 38 GB/s;
// Hasher128 over 1 MiB in 64 KiB pieces 43. Runs varied by +-20 % (other
// guests). The plain SSE2 symbol gave 12-14 GB/s on the same VM, and on an
// AVX-512 host the dispatched path reaches about 55 GB/s.
#include <cinttypes>
#include <cstdio>
#include <new>
#include <string>

// Renames XXH3_128bits and XXH3_128bits_update to their _dispatch versions.
#include <xxh_x86dispatch.h>

#include "atlas/hash.h"

namespace atlas {
namespace {

Hash128 FromXxh(XXH128_hash_t h) {
  return Hash128{.lo = h.low64, .hi = h.high64};
}

XXH3_state_t* State(void* p) {
  return static_cast<XXH3_state_t*>(p);
}

// Known answers: `xxh128sum` (xxHash 0.8.1) of each input.
struct HashVector {
  const char* name;
  std::string (*make)();
  const char* hex;
};

// ((i * 131 + 7) ^ (i >> 8)) mod 256 for i in [0, n): covers the short (<= 16),
// mid (129..240) and long (> 240, several 1 KiB stripes plus a tail) code paths.
std::string Pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(((i * 131 + 7) ^ (i >> 8)) & 0xff);
  return s;
}

constexpr HashVector kHashVectors[] = {
    {"empty", [] { return std::string(); }, "99aa06d3014798d86001c324468d497f"},
    {"abc", [] { return std::string("abc"); }, "06b05ab6733a618578af5f94892f3950"},
    {"pattern 200", [] { return Pattern(200); }, "26d28d07860728f6a4773493fbbe3543"},
    {"pattern 10000", [] { return Pattern(10000); }, "0c56ac07979442488cf4235729d63a12"},
};

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx"))) void VZeroUpper() {
  __builtin_ia32_vzeroupper();
}
bool CpuHasAvx() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx");
}
#endif

}  // namespace

std::string Hash128::Hex() const {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64 "%016" PRIx64, hi, lo);
  return std::string(buf, 32);
}

void Hash128::ToBytes(std::byte out[16]) const {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH128_hash_t{.low64 = lo, .high64 = hi});
  for (int i = 0; i < 16; ++i) out[i] = std::byte{c.digest[i]};
}

Hash128 Hash128::FromBytes(const std::byte in[16]) {
  XXH128_canonical_t c;
  for (int i = 0; i < 16; ++i) c.digest[i] = static_cast<unsigned char>(in[i]);
  return FromXxh(XXH128_hashFromCanonical(&c));
}

Hash128 HashBlock(std::span<const std::byte> data) {
  // XXH3_128bits is XXH3_128bits_dispatch here (xxh_x86dispatch.h).
  return FromXxh(XXH3_128bits(data.data(), data.size()));
}

Hasher128::Hasher128() : state_(XXH3_createState()) {
  if (state_ == nullptr)
    throw std::bad_alloc();  // terminates: nothing catches bad_alloc
  // Only fails for a null state.
  XXH3_128bits_reset(State(state_));
}

Hasher128::~Hasher128() {
  XXH3_freeState(State(state_));
}

void Hasher128::Update(std::span<const std::byte> data) {
  // XXH3_128bits_update_dispatch; fails only for a null input with len > 0,
  // which a span cannot produce.
  XXH3_128bits_update(State(state_), data.data(), data.size());
}

Hash128 Hasher128::Digest() const {
  return FromXxh(XXH3_128bits_digest(State(state_)));
}

Status HashSelfTest() {
  for (const HashVector& v : kHashVectors) {
    std::string input = v.make();
    const auto* p = reinterpret_cast<const std::byte*>(input.data());
    std::string one_shot = HashBlock({p, input.size()}).Hex();
    // The streaming path in two uneven pieces must agree.
    Hasher128 h;
    std::size_t cut = input.size() / 3;
    h.Update({p, cut});
    h.Update({p + cut, input.size() - cut});
    std::string streamed = h.Digest().Hex();
    if (one_shot != v.hex || streamed != v.hex) {
      return Status::Internal("hash self-test: XXH3-128 of " + std::string(v.name) + ": expected " +
                              v.hex + ", got " + one_shot + " (one-shot), " + streamed +
                              " (streaming)");
    }
  }
  ClearUpperVectorState();
  return Status::Ok();
}

void ClearUpperVectorState() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has_avx = CpuHasAvx();
  if (has_avx)
    VZeroUpper();
#endif
}

}  // namespace atlas
