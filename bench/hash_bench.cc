// XXH3-128 block checksums, hot cache, one thread.
//   build/release/bench/hash_bench --benchmark_min_time=0.2
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <benchmark/benchmark.h>

#include "atlas/hash.h"

namespace atlas {
namespace {

std::vector<std::byte> Filled(std::size_t n) {
  std::vector<std::byte> v(n);
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    v[i] = std::byte(x >> 56);
  }
  return v;
}

// One-shot HashBlock of a block of state.range(0) bytes.
void BM_HashBlock(benchmark::State& state) {
  const auto len = static_cast<std::size_t>(state.range(0));
  std::vector<std::byte> data = Filled(len);
  for (auto _ : state) {
    Hash128 h = HashBlock(data);
    benchmark::DoNotOptimize(h);
  }
  ClearUpperVectorState();
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(len));
}
BENCHMARK(BM_HashBlock)->RangeMultiplier(4)->Range(4 << 10, 1 << 20);

// Streaming Hasher128 over 1 MiB fed in pieces of state.range(0) bytes.
void BM_Hasher128(benchmark::State& state) {
  constexpr std::size_t kTotal = 1 << 20;
  const auto piece = static_cast<std::size_t>(state.range(0));
  std::vector<std::byte> data = Filled(kTotal);
  for (auto _ : state) {
    Hasher128 h;
    for (std::size_t off = 0; off < kTotal; off += piece) {
      h.Update(std::span(data).subspan(off, piece));
    }
    Hash128 d = h.Digest();
    benchmark::DoNotOptimize(d);
  }
  ClearUpperVectorState();
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(kTotal));
}
BENCHMARK(BM_Hasher128)->RangeMultiplier(16)->Range(4 << 10, 1 << 20);

}  // namespace
}  // namespace atlas
