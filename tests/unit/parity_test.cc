#include "atlas/parity.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <isa-l/erasure_code.h>

#include "parity/isal_codec.h"
#include "parity/reference.h"
#include "support/test_util.h"

namespace atlas {
namespace {

// 80 bytes: one full 64-byte AVX-512 vector plus a masked tail, and small
// enough to try tens of thousands of erasure patterns quickly.
constexpr std::size_t kLen = 80;

std::unique_ptr<ParityCodec> MakeCodec(int levels) {
  Result<std::unique_ptr<ParityCodec>> codec = ParityCodec::Create(levels);
  REQUIRE_OK(codec);
  return std::move(codec).value();
}

// Slots spread over the whole column range (97 is coprime to 250, so the
// first 250 are all distinct); slot 13 first, 249 among the early ones.
int SpreadSlot(int i) {
  return (i * 97 + 13) % kMaxDataDisks;
}

// The data blocks of one position and their parity.
struct Stripe {
  std::vector<int> slots;
  std::vector<std::vector<std::byte>> data;
  std::vector<std::vector<std::byte>> parity;

  Stripe(std::vector<int> s, int levels, std::size_t len, std::uint64_t seed)
      : slots(std::move(s)), parity(levels, std::vector<std::byte>(len)) {
    for (std::size_t i = 0; i < slots.size(); ++i) {
      data.push_back(testing::RandomBytes(len, seed * 1000 + i));
    }
  }
  std::vector<const std::byte*> DataPtrs() const {
    std::vector<const std::byte*> p;
    for (const auto& d : data) p.push_back(d.data());
    return p;
  }
  std::vector<std::byte*> ParityPtrs() {
    std::vector<std::byte*> p;
    for (auto& d : parity) p.push_back(d.data());
    return p;
  }
  void Encode(const ParityCodec& codec) {
    codec.Encode(slots, DataPtrs().data(), ParityPtrs().data(), parity[0].size());
  }
};

std::vector<int> FirstSlots(int k) {
  std::vector<int> s(k);
  for (int i = 0; i < k; ++i) s[i] = SpreadSlot(i);
  return s;
}

// Steps `idx` (ascending, values < n) to the next r-combination; false after the last.
bool NextCombination(std::vector<int>& idx, int n) {
  const int r = static_cast<int>(idx.size());
  for (int i = r - 1; i >= 0; --i) {
    if (idx[i] < n - r + i) {
      ++idx[i];
      for (int j = i + 1; j < r; ++j) idx[j] = idx[j - 1] + 1;
      return true;
    }
  }
  return false;
}

std::vector<std::vector<int>> Combinations(int n, int r) {
  std::vector<std::vector<int>> all;
  std::vector<int> idx(r);
  std::iota(idx.begin(), idx.end(), 0);
  do {
    all.push_back(idx);
  } while (NextCombination(idx, n));
  return all;
}

// Loses the stripe members at `lost` (indices into stripe.slots), rebuilds them
// from parity levels `levels_used` and the rest, and returns whether every
// rebuilt byte matches. Fails the test on a non-OK Status.
bool Rebuilds(const ParityCodec& codec, const Stripe& stripe, const std::vector<int>& lost,
              const std::vector<int>& levels_used) {
  std::vector<int> present_slots, lost_slots;
  std::vector<const std::byte*> present;
  for (int i : lost) lost_slots.push_back(stripe.slots[i]);
  for (std::size_t i = 0; i < stripe.slots.size(); ++i) {
    if (std::find(lost.begin(), lost.end(), static_cast<int>(i)) == lost.end()) {
      present_slots.push_back(stripe.slots[i]);
      present.push_back(stripe.data[i].data());
    }
  }
  std::vector<const std::byte*> parity;
  for (int l : levels_used) parity.push_back(stripe.parity[l].data());
  const std::size_t len = stripe.data[0].size();
  std::vector<std::vector<std::byte>> out(lost.size(),
                                          std::vector<std::byte>(len, std::byte{0xee}));
  std::vector<std::byte*> out_ptrs;
  for (auto& o : out) out_ptrs.push_back(o.data());
  REQUIRE_OK(codec.Reconstruct(present_slots, present.data(), levels_used, parity.data(),
                               lost_slots, out_ptrs.data(), len));
  for (std::size_t j = 0; j < lost.size(); ++j) {
    if (out[j] != stripe.data[lost[j]])
      return false;
  }
  return true;
}

// Every pattern of up to m lost disks among k = 1..max_k, solved with every
// choice of levels when k <= all_levels_max_k, else with the first r and the
// last r levels. Returns the number of patterns tried.
int CheckEveryErasurePattern(int m, int max_k, int all_levels_max_k) {
  std::unique_ptr<ParityCodec> codec = MakeCodec(m);
  int tried = 0;
  for (int k = 1; k <= max_k; ++k) {
    Stripe stripe(FirstSlots(k), m, kLen, static_cast<std::uint64_t>(m * 100 + k));
    stripe.Encode(*codec);
    for (int r = 1; r <= std::min(m, k); ++r) {
      std::vector<std::vector<int>> level_sets;
      if (k <= all_levels_max_k) {
        level_sets = Combinations(m, r);
      } else {
        std::vector<int> first(r), last(r);
        std::iota(first.begin(), first.end(), 0);
        std::iota(last.begin(), last.end(), m - r);
        level_sets = {first, last};
      }
      for (const std::vector<int>& lost : Combinations(k, r)) {
        for (const std::vector<int>& levels_used : level_sets) {
          ++tried;
          if (!Rebuilds(*codec, stripe, lost, levels_used)) {
            std::string what = "m=" + std::to_string(m) + " k=" + std::to_string(k) + " lost";
            for (int i : lost) what += " " + std::to_string(stripe.slots[i]);
            what += " levels";
            for (int l : levels_used) what += " " + std::to_string(l);
            FAIL("not rebuilt: " << what);
          }
        }
      }
    }
  }
  return tried;
}

// GF(2^8) multiplication table from the scalar reference.
struct GfTables {
  std::array<std::array<std::uint8_t, 256>, 256> mul;
  std::array<std::uint8_t, 256> inv;
  GfTables() {
    for (unsigned a = 0; a < 256; ++a) {
      inv[a] = ReferenceGfInv(static_cast<std::uint8_t>(a));
      for (unsigned b = 0; b < 256; ++b) {
        mul[a][b] = ReferenceGfMul(static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b));
      }
    }
  }
};

// Gaussian elimination over GF(2^8); true if the r x r matrix is invertible.
bool Nonsingular(std::vector<std::uint8_t> a, int r, const GfTables& gf) {
  for (int col = 0; col < r; ++col) {
    int pivot = col;
    while (pivot < r && a[pivot * r + col] == 0) ++pivot;
    if (pivot == r)
      return false;
    for (int j = 0; j < r; ++j) std::swap(a[col * r + j], a[pivot * r + j]);
    const std::uint8_t inv = gf.inv[a[col * r + col]];
    for (int i = col + 1; i < r; ++i) {
      const std::uint8_t f = gf.mul[a[i * r + col]][inv];
      for (int j = col; j < r; ++j) a[i * r + j] ^= gf.mul[f][a[col * r + j]];
    }
  }
  return true;
}

TEST_CASE("parity: the first parity level is plain XOR of the data disks", "[parity][unit]") {
  for (int m : {1, 6}) {
    std::unique_ptr<ParityCodec> codec = MakeCodec(m);
    for (int s = 0; s < kMaxDataDisks; ++s) REQUIRE(codec->Coefficient(0, s) == 1);
    for (int k : {1, 2, 5, 250}) {
      Stripe stripe(FirstSlots(k), m, 4099, static_cast<std::uint64_t>(k));
      stripe.Encode(*codec);
      std::vector<std::byte> x(4099);
      for (const auto& d : stripe.data) {
        for (std::size_t b = 0; b < x.size(); ++b) x[b] ^= d[b];
      }
      INFO("m=" << m << " k=" << k);
      CHECK(stripe.parity[0] == x);
    }
  }
}

TEST_CASE("parity: coefficients are the fixed scaled Cauchy matrix for every parity count",
          "[parity][unit]") {
  std::unique_ptr<ParityCodec> six = MakeCodec(6);
  for (int l = 0; l < kMaxParityLevels; ++l) {
    for (int s = 0; s < kMaxDataDisks; ++s) {
      // The definition, with ISA-L's own GF arithmetic and with the scalar one.
      const auto x = static_cast<unsigned char>(250 + l);
      const auto y = static_cast<unsigned char>(s);
      const unsigned char c0 = gf_inv(x ^ y);
      const unsigned char scale = gf_inv(gf_inv(static_cast<unsigned char>(250 ^ y)));
      INFO("level " << l << " slot " << s);
      REQUIRE(six->Coefficient(l, s) == gf_mul(c0, scale));
      REQUIRE(six->Coefficient(l, s) == ReferenceCoefficient(l, s));
    }
  }
  // Pinned values: parity on disk depends on them, so they never change.
  CHECK(six->Coefficient(1, 0) == 116);
  CHECK(six->Coefficient(1, 1) == 233);
  CHECK(six->Coefficient(2, 2) == 24);
  CHECK(six->Coefficient(3, 249) == 201);
  CHECK(six->Coefficient(5, 0) == 47);
  CHECK(six->Coefficient(5, 249) == 142);
  // A codec with fewer levels has the same rows.
  for (int m = 1; m < kMaxParityLevels; ++m) {
    std::unique_ptr<ParityCodec> codec = MakeCodec(m);
    CHECK(codec->levels() == m);
    for (int l = 0; l < m; ++l) {
      for (int s = 0; s < kMaxDataDisks; ++s)
        REQUIRE(codec->Coefficient(l, s) == six->Coefficient(l, s));
    }
  }
}

TEST_CASE("parity: the scalar reference GF(2^8) arithmetic agrees with ISA-L", "[parity][unit]") {
  for (unsigned a = 0; a < 256; ++a) {
    const auto ua = static_cast<unsigned char>(a);
    REQUIRE(ReferenceGfInv(ua) == gf_inv(ua));
    if (a != 0)
      REQUIRE(ReferenceGfMul(ua, ReferenceGfInv(ua)) == 1);
    for (unsigned b = 0; b < 256; ++b) {
      const auto ub = static_cast<unsigned char>(b);
      REQUIRE(ReferenceGfMul(ua, ub) == gf_mul(ua, ub));
    }
  }
}

TEST_CASE("parity: adding a data disk leaves the existing disks' parity contribution unchanged",
          "[parity][unit]") {
  std::unique_ptr<ParityCodec> codec = MakeCodec(6);
  Stripe before(FirstSlots(5), 6, 1000, 1);
  before.Encode(*codec);

  // A new disk that holds zeros at this position changes no parity byte.
  Stripe with_empty = before;
  with_empty.slots.push_back(SpreadSlot(5));
  with_empty.data.push_back(std::vector<std::byte>(1000));
  with_empty.Encode(*codec);
  CHECK(with_empty.parity == before.parity);

  // A new disk with data: the old parity plus its own contribution.
  Stripe with_data = before;
  with_data.slots.push_back(SpreadSlot(5));
  with_data.data.push_back(testing::RandomBytes(1000, 99));
  with_data.Encode(*codec);
  Stripe updated = before;
  codec->Accumulate(SpreadSlot(5), with_data.data.back().data(), updated.ParityPtrs().data(), 1000);
  CHECK(updated.parity == with_data.parity);
}

TEST_CASE("parity: accumulating disks in any order equals encoding and the scalar reference",
          "[parity][unit]") {
  // Slots 0 and 249 (the first and last column) plus spread ones; an odd length
  // exercises the vector tails.
  std::vector<int> slots = {0, 249, 1, 248, 100, 13, 110, 207, 57};
  constexpr std::size_t kOddLen = 4099;
  std::mt19937_64 rng(2024);
  for (int m = 1; m <= kMaxParityLevels; ++m) {
    std::unique_ptr<ParityCodec> codec = MakeCodec(m);
    Stripe encoded(slots, m, kOddLen, static_cast<std::uint64_t>(m));
    encoded.Encode(*codec);
    for (int l = 0; l < m; ++l) {
      INFO("m=" << m << " level " << l);
      CHECK(encoded.parity[l] ==
            ReferenceParity(l, encoded.slots, encoded.DataPtrs().data(), kOddLen));
    }
    std::vector<std::size_t> order(slots.size());
    std::iota(order.begin(), order.end(), 0);
    for (int round = 0; round < 4; ++round) {
      if (round == 1)
        std::reverse(order.begin(), order.end());
      if (round >= 2)
        std::shuffle(order.begin(), order.end(), rng);
      Stripe accumulated = encoded;
      for (auto& p : accumulated.parity) std::fill(p.begin(), p.end(), std::byte{0});
      for (std::size_t i : order) {
        codec->Accumulate(slots[i], encoded.data[i].data(), accumulated.ParityPtrs().data(),
                          kOddLen);
      }
      INFO("m=" << m << " round " << round);
      CHECK(accumulated.parity == encoded.parity);
    }
  }
}

TEST_CASE("parity: all 250 data disks at once encode like the scalar reference", "[parity][unit]") {
  std::unique_ptr<ParityCodec> codec = MakeCodec(6);
  Stripe stripe(FirstSlots(kMaxDataDisks), 6, 200, 5);
  stripe.Encode(*codec);
  for (int l = 0; l < 6; ++l) {
    INFO("level " << l);
    CHECK(stripe.parity[l] == ReferenceParity(l, stripe.slots, stripe.DataPtrs().data(), 200));
  }
}

TEST_CASE("parity: blocks larger than one ISA-L call are processed in pieces", "[parity][unit]") {
  // A tiny chunk stands in for the 1 GiB one that keeps each ISA-L call under
  // its int length limit; the results must not depend on where the cuts fall.
  constexpr std::size_t kBig = 10007;
  for (std::size_t chunk : {std::size_t{1}, std::size_t{63}, std::size_t{1000}}) {
    std::unique_ptr<ParityCodec> whole = MakeCodec(3);
    std::unique_ptr<ParityCodec> pieces = NewIsalCodec(3, chunk);
    Stripe a(FirstSlots(4), 3, kBig, 8);
    Stripe b = a;
    a.Encode(*whole);
    b.Encode(*pieces);
    INFO("chunk " << chunk);
    CHECK(a.parity == b.parity);

    for (auto& p : b.parity) std::fill(p.begin(), p.end(), std::byte{0});
    for (std::size_t i = 0; i < b.slots.size(); ++i) {
      pieces->Accumulate(b.slots[i], b.data[i].data(), b.ParityPtrs().data(), kBig);
    }
    CHECK(a.parity == b.parity);
    CHECK(Rebuilds(*pieces, a, {0, 3}, {1, 2}));
    CHECK(Rebuilds(*pieces, a, {0, 1, 2}, {0, 1, 2}));
  }
}

TEST_CASE("parity: with 1 parity level any one lost data disk of up to 12 is rebuilt",
          "[parity][unit]") {
  CHECK(CheckEveryErasurePattern(1, 12, 12) == 78);
}

TEST_CASE("parity: with 2 parity levels any 1 or 2 of up to 12 lost data disks are rebuilt",
          "[parity][unit]") {
  // 78 single losses x 2 levels + every pair of every k: sum of C(k, 2) = C(13, 3).
  CHECK(CheckEveryErasurePattern(2, 12, 12) == 78 * 2 + 286);
}

TEST_CASE("parity: with 3 parity levels any 1 to 3 of up to 12 lost data disks are rebuilt",
          "[parity][unit]") {
  CHECK(CheckEveryErasurePattern(3, 12, 12) > 0);
}

TEST_CASE("parity: with 4 parity levels any 1 to 4 of up to 12 lost data disks are rebuilt",
          "[parity][unit]") {
  CHECK(CheckEveryErasurePattern(4, 12, 12) > 0);
}

TEST_CASE("parity: with 5 parity levels any 1 to 5 of up to 12 lost data disks are rebuilt",
          "[parity][unit]") {
  CHECK(CheckEveryErasurePattern(5, 12, 12) > 0);
}

TEST_CASE("parity: with 6 parity levels any 1 to 6 of up to 12 lost data disks are rebuilt",
          "[parity][unit]") {
  CHECK(CheckEveryErasurePattern(6, 12, 12) > 0);
}

TEST_CASE("parity: random erasures across all 250 data disks are rebuilt", "[parity][unit]") {
  std::unique_ptr<ParityCodec> codec = MakeCodec(6);
  Stripe stripe(FirstSlots(kMaxDataDisks), 6, kLen, 250);
  stripe.Encode(*codec);
  std::mt19937_64 rng(250);
  std::vector<int> all(kMaxDataDisks);
  std::iota(all.begin(), all.end(), 0);
  std::vector<int> levels = {0, 1, 2, 3, 4, 5};
  for (int trial = 0; trial < 300; ++trial) {
    const int r = 1 + trial % 6;
    std::shuffle(all.begin(), all.end(), rng);
    std::shuffle(levels.begin(), levels.end(), rng);
    std::vector<int> lost(all.begin(), all.begin() + r);
    std::vector<int> levels_used(levels.begin(), levels.begin() + r);
    INFO("trial " << trial);
    REQUIRE(Rebuilds(*codec, stripe, lost, levels_used));
  }
}

TEST_CASE("parity: every square part of the coefficient matrix is invertible (MDS)",
          "[parity][unit]") {
  const GfTables gf;
  auto c = [](int l, int s) { return ReferenceCoefficient(l, s); };
  std::vector<std::vector<std::uint8_t>> coef(kMaxParityLevels,
                                              std::vector<std::uint8_t>(kMaxDataDisks));
  for (int l = 0; l < kMaxParityLevels; ++l) {
    for (int s = 0; s < kMaxDataDisks; ++s) coef[l][s] = c(l, s);
  }
  std::unique_ptr<ParityCodec> codec = MakeCodec(6);
  for (int l = 0; l < kMaxParityLevels; ++l) {
    for (int s = 0; s < kMaxDataDisks; ++s) REQUIRE(codec->Coefficient(l, s) == coef[l][s]);
  }

  // Exhaustive: every 1x1 is nonzero, every 2x2 over all 250 columns and all
  // 15 level pairs has a nonzero determinant (466 875 of them).
  for (int l = 0; l < kMaxParityLevels; ++l) {
    for (int s = 0; s < kMaxDataDisks; ++s) REQUIRE(coef[l][s] != 0);
  }
  long singular = 0;
  for (int l0 = 0; l0 < kMaxParityLevels; ++l0) {
    for (int l1 = l0 + 1; l1 < kMaxParityLevels; ++l1) {
      for (int s0 = 0; s0 < kMaxDataDisks; ++s0) {
        for (int s1 = s0 + 1; s1 < kMaxDataDisks; ++s1) {
          const std::uint8_t det =
              gf.mul[coef[l0][s0]][coef[l1][s1]] ^ gf.mul[coef[l0][s1]][coef[l1][s0]];
          singular += det == 0;
        }
      }
    }
  }
  CHECK(singular == 0);

  // Sampled: 3x3 to 6x6 with a fixed seed.
  std::mt19937_64 rng(6);
  std::vector<int> cols(kMaxDataDisks);
  std::iota(cols.begin(), cols.end(), 0);
  std::vector<int> rows = {0, 1, 2, 3, 4, 5};
  for (int r = 3; r <= kMaxParityLevels; ++r) {
    for (int trial = 0; trial < 20000; ++trial) {
      std::shuffle(cols.begin(), cols.end(), rng);
      std::shuffle(rows.begin(), rows.end(), rng);
      std::vector<std::uint8_t> a(r * r);
      for (int i = 0; i < r; ++i) {
        for (int j = 0; j < r; ++j) a[i * r + j] = coef[rows[i]][cols[j]];
      }
      if (!Nonsingular(a, r, gf))
        ++singular;
    }
  }
  CHECK(singular == 0);
}

TEST_CASE("parity: slots with no data at a position may be left out of a rebuild",
          "[parity][unit]") {
  std::unique_ptr<ParityCodec> codec = MakeCodec(2);
  Stripe stripe({3, 4, 5, 6, 7}, 2, kLen, 77);
  std::fill(stripe.data[2].begin(), stripe.data[2].end(), std::byte{0});  // slot 5 is empty
  stripe.Encode(*codec);
  // Lose slots 3 and 7; pass only 4 and 6 as present.
  const std::vector<int> present_slots = {4, 6};
  const std::vector<const std::byte*> present = {stripe.data[1].data(), stripe.data[3].data()};
  const std::vector<int> levels_used = {0, 1};
  const std::vector<const std::byte*> parity = {stripe.parity[0].data(), stripe.parity[1].data()};
  const std::vector<int> lost_slots = {7, 3};  // any order
  std::vector<std::byte> o0(kLen), o1(kLen);
  std::vector<std::byte*> out = {o0.data(), o1.data()};
  REQUIRE_OK(codec->Reconstruct(present_slots, present.data(), levels_used, parity.data(),
                                lost_slots, out.data(), kLen));
  CHECK(o0 == stripe.data[4]);
  CHECK(o1 == stripe.data[0]);
}

TEST_CASE("parity: nothing to rebuild and empty blocks are accepted", "[parity][unit]") {
  std::unique_ptr<ParityCodec> codec = MakeCodec(3);
  REQUIRE_OK(codec->Reconstruct({}, nullptr, {}, nullptr, {}, nullptr, kLen));
  Stripe stripe(FirstSlots(3), 3, kLen, 3);
  stripe.Encode(*codec);
  // A zero-length block: valid, nothing to do.
  const std::vector<int> lost = {stripe.slots[0]};
  const std::vector<int> level = {2};
  const std::byte* parity = stripe.parity[2].data();
  std::byte unused{};
  std::byte* out = &unused;
  const std::vector<int> present_slots = {stripe.slots[1], stripe.slots[2]};
  std::vector<const std::byte*> present = {stripe.data[1].data(), stripe.data[2].data()};
  REQUIRE_OK(codec->Reconstruct(present_slots, present.data(), level, &parity, lost, &out, 0));

  // Encoding no disks gives zero parity.
  Stripe none({}, 3, kLen, 4);
  std::fill(none.parity[1].begin(), none.parity[1].end(), std::byte{0x55});
  none.Encode(*codec);
  CHECK(none.parity[1] == std::vector<std::byte>(kLen));
}

TEST_CASE("parity: bad level counts, slots and sizes are refused as invalid arguments",
          "[parity][unit]") {
  for (int levels : {-1, 0, 7, 100}) {
    INFO("levels " << levels);
    CHECK(ParityCodec::Create(levels).status().code() == Code::kInvalidArgument);
  }
  std::unique_ptr<ParityCodec> codec = MakeCodec(3);
  Stripe stripe(FirstSlots(4), 3, kLen, 9);
  stripe.Encode(*codec);
  std::vector<std::byte> o0(kLen), o1(kLen), o2(kLen), o3(kLen);
  std::vector<std::byte*> out = {o0.data(), o1.data(), o2.data(), o3.data()};
  const std::vector<const std::byte*> parity = {stripe.parity[0].data(), stripe.parity[1].data(),
                                                stripe.parity[2].data(), stripe.parity[2].data()};

  struct Case {
    const char* what;
    std::vector<int> present_slots, levels_used, lost_slots;
  };
  const int s0 = stripe.slots[0], s1 = stripe.slots[1], s2 = stripe.slots[2], s3 = stripe.slots[3];
  const std::vector<Case> cases = {
      {"fewer levels than lost slots", {s2, s3}, {0}, {s0, s1}},
      {"more levels than lost slots", {s1, s2, s3}, {0, 1}, {s0}},
      {"more lost slots than the codec's levels", {}, {0, 1, 2, 2}, {s0, s1, s2, s3}},
      {"level out of range", {s1, s2, s3}, {3}, {s0}},
      {"negative level", {s1, s2, s3}, {-1}, {s0}},
      {"level used twice", {s2, s3}, {1, 1}, {s0, s1}},
      {"lost slot out of range", {s1, s2, s3}, {0}, {kMaxDataDisks}},
      {"negative lost slot", {s1, s2, s3}, {0}, {-1}},
      {"present slot out of range", {s1, 250}, {0}, {s0}},
      {"lost slot given twice", {s2, s3}, {0, 1}, {s0, s0}},
      {"slot both present and lost", {s0, s1, s2, s3}, {0}, {s0}},
  };
  for (const Case& c : cases) {
    std::vector<const std::byte*> present(c.present_slots.size(), stripe.data[0].data());
    Status s = codec->Reconstruct(c.present_slots, present.data(), c.levels_used, parity.data(),
                                  c.lost_slots, out.data(), kLen);
    INFO(c.what << ": " << s.ToString());
    CHECK(s.code() == Code::kInvalidArgument);
  }
  std::vector<const std::byte*> present = {stripe.data[1].data(), stripe.data[2].data(),
                                           stripe.data[3].data()};
  const std::vector<int> present_slots = {s1, s2, s3};
  const std::vector<int> lost = {s0};
  const std::vector<int> level = {0};
  std::byte* null_out = nullptr;
  CHECK(
      codec->Reconstruct(present_slots, present.data(), level, parity.data(), lost, &null_out, kLen)
          .code() == Code::kInvalidArgument);
  CHECK(codec->Reconstruct(present_slots, nullptr, level, parity.data(), lost, out.data(), kLen)
            .code() == Code::kInvalidArgument);
}

TEST_CASE("parity: one lost disk rebuilt from level 0 on aligned blocks equals the data (XOR path)",
          "[parity][unit]") {
  // Page-aligned 256 KiB blocks, as the stripe windows hold them, take the
  // xor_gen path; a 32-byte-misaligned output and an odd length take the
  // general one. Both must give the lost data back exactly.
  constexpr std::size_t kBlock = 256 * 1024;
  for (int levels : {1, 2, 6}) {
    std::unique_ptr<ParityCodec> codec = MakeCodec(levels);
    for (int k : {1, 4, 13}) {
      const std::vector<int> slots = FirstSlots(k);
      std::vector<std::byte*> data(k), parity(levels);
      auto alloc = [](std::size_t n) {
        return static_cast<std::byte*>(std::aligned_alloc(4096, n + 4096));
      };
      for (int i = 0; i < k; ++i) {
        data[i] = alloc(kBlock);
        std::vector<std::byte> r = testing::RandomBytes(kBlock, 7000 + k * 10 + i);
        std::copy(r.begin(), r.end(), data[i]);
      }
      for (int l = 0; l < levels; ++l) parity[l] = alloc(kBlock);
      std::vector<const std::byte*> cdata(data.begin(), data.end());
      codec->Encode(slots, cdata.data(), parity.data(), kBlock);
      std::byte* out = alloc(kBlock);
      for (int lost = 0; lost < k; ++lost) {
        std::vector<int> present_slots;
        std::vector<const std::byte*> present;
        for (int i = 0; i < k; ++i) {
          if (i == lost) continue;
          present_slots.push_back(slots[i]);
          present.push_back(data[i]);
        }
        const std::vector<int> lost_slots = {slots[lost]};
        const std::vector<int> level0 = {0};
        const std::byte* p0 = parity[0];
        for (std::size_t shift : {std::size_t{0}, std::size_t{16}}) {
          for (std::size_t len : {kBlock, kBlock - 40}) {
            std::byte* o = out + shift;
            std::fill(o, o + len, std::byte{0xee});
            REQUIRE_OK(codec->Reconstruct(present_slots, present.data(), level0, &p0, lost_slots,
                                          &o, len));
            INFO("levels " << levels << " k " << k << " lost " << lost << " shift " << shift
                           << " len " << len);
            CHECK(std::equal(o, o + len, data[lost]));
          }
        }
      }
      std::free(out);
      for (std::byte* p : data) std::free(p);
      for (std::byte* p : parity) std::free(p);
    }
  }
}

TEST_CASE("parity: the startup self-test passes", "[parity][unit]") {
  REQUIRE_OK(ParitySelfTest());
}

}  // namespace
}  // namespace atlas
