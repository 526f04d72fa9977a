// Reed-Solomon parity through ParityCodec, 256 KiB blocks, hot cache, one
// thread. Rates count data bytes (k blocks per stripe).
//   build/release/bench/parity_bench --benchmark_min_time=0.2
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <vector>

#include <benchmark/benchmark.h>

#include "atlas/hash.h"
#include "atlas/parity.h"

namespace atlas {
namespace {

constexpr std::size_t kBlock = 256 << 10;

std::vector<std::byte> Filled(std::size_t n, std::uint64_t seed) {
  std::vector<std::byte> v(n);
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    v[i] = std::byte(x >> 56);
  }
  return v;
}

// k data blocks in slots 0..k-1 and m parity blocks.
struct Stripe {
  std::unique_ptr<ParityCodec> codec;
  std::vector<int> slots;
  std::vector<std::vector<std::byte>> data, parity;
  std::vector<const std::byte*> data_ptrs;
  std::vector<std::byte*> parity_ptrs;

  Stripe(int k, int m) : slots(k), parity(m, std::vector<std::byte>(kBlock)) {
    codec = std::move(ParityCodec::Create(m)).value();
    std::iota(slots.begin(), slots.end(), 0);
    for (int i = 0; i < k; ++i) data.push_back(Filled(kBlock, i));
    for (const auto& d : data) data_ptrs.push_back(d.data());
    for (auto& p : parity) parity_ptrs.push_back(p.data());
  }
};

void SetDataBytes(benchmark::State& state, int k) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * k *
                          static_cast<std::int64_t>(kBlock));
}

// Full-stripe encode of k data blocks into m parity blocks. Args: k, m.
void BM_Encode(benchmark::State& state) {
  const auto k = static_cast<int>(state.range(0));
  Stripe s(k, static_cast<int>(state.range(1)));
  for (auto _ : state) {
    s.codec->Encode(s.slots, s.data_ptrs.data(), s.parity_ptrs.data(), kBlock);
    benchmark::ClobberMemory();
  }
  ClearUpperVectorState();
  SetDataBytes(state, k);
}
BENCHMARK(BM_Encode)->ArgNames({"k", "m"})->ArgsProduct({{4, 8, 16}, {1, 2, 3, 6}});

// One slot's contribution added into m parity blocks; rate per data byte
// added. Args: m.
void BM_Accumulate(benchmark::State& state) {
  Stripe s(1, static_cast<int>(state.range(0)));
  for (auto _ : state) {
    s.codec->Accumulate(0, s.data_ptrs[0], s.parity_ptrs.data(), kBlock);
    benchmark::ClobberMemory();
  }
  ClearUpperVectorState();
  SetDataBytes(state, 1);
}
BENCHMARK(BM_Accumulate)->ArgNames({"m"})->DenseRange(1, 6);

// Rebuilds `lost` data blocks (the first ones) of a k-disk stripe from the
// others and the highest `lost` parity levels. Rate counts the k data blocks
// of the stripe. Args: k, m, lost.
void BM_Reconstruct(benchmark::State& state) {
  const auto k = static_cast<int>(state.range(0));
  const auto m = static_cast<int>(state.range(1));
  const auto lost = static_cast<int>(state.range(2));
  Stripe s(k, m);
  s.codec->Encode(s.slots, s.data_ptrs.data(), s.parity_ptrs.data(), kBlock);
  std::vector<int> lost_slots(s.slots.begin(), s.slots.begin() + lost);
  std::vector<int> present_slots(s.slots.begin() + lost, s.slots.end());
  std::vector<const std::byte*> present(s.data_ptrs.begin() + lost, s.data_ptrs.end());
  std::vector<int> levels_used(lost);
  std::iota(levels_used.begin(), levels_used.end(), m - lost);
  std::vector<const std::byte*> parity;
  for (int l : levels_used) parity.push_back(s.parity_ptrs[l]);
  std::vector<std::vector<std::byte>> out(lost, std::vector<std::byte>(kBlock));
  std::vector<std::byte*> out_ptrs;
  for (auto& o : out) out_ptrs.push_back(o.data());
  for (auto _ : state) {
    Status st = s.codec->Reconstruct(present_slots, present.data(), levels_used, parity.data(),
                                     lost_slots, out_ptrs.data(), kBlock);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
    benchmark::ClobberMemory();
  }
  ClearUpperVectorState();
  for (int i = 0; i < lost; ++i) {
    if (out[i] != s.data[i])
      state.SkipWithError("rebuilt block differs");
  }
  SetDataBytes(state, k);
}
BENCHMARK(BM_Reconstruct)
    ->ArgNames({"k", "m", "lost"})
    ->Args({4, 1, 1})
    ->Args({4, 2, 2})
    ->Args({8, 1, 1})
    ->Args({8, 2, 1})
    ->Args({8, 2, 2})
    ->Args({8, 6, 2})
    ->Args({16, 2, 2})
    ->Args({16, 6, 1})
    ->Args({16, 6, 2});

}  // namespace
}  // namespace atlas
