// Reed-Solomon parity through ISA-L's erasure-code kernels.
//
// Approach. Parity level l at a position is P_l = sum over slots s of
// C[l][s] * D_s in GF(2^8) (polynomial 0x11d, the one ISA-L's tables use).
// C is a fixed 6 x 250 matrix, built once per process together with ISA-L's
// expanded multiplication tables (ec_init_tables, 32 bytes per coefficient,
// 48 000 bytes in all). Because ec_init_tables lays the tables out row-major,
// one coefficient after another, every piece we need is cut out of that one
// table instead of being rebuilt:
//   - Accumulate: the tables for the first `levels` rows are the first
//     levels * 250 * 32 bytes, so ec_encode_data_update(k = 250, rows =
//     levels, vec_i = slot) reads straight from the full table;
//   - Encode: the 32-byte entries of the wanted columns are copied into a
//     levels x n table (equal to ec_init_tables of that submatrix, at a
//     fraction of its cost) and fed to ec_encode_data.
//   - Reconstruct: with lost slots L, parity levels U (|U| = |L| = r) and the
//     present slots Q, the syndrome S = P_U + C[U][Q] * D_Q equals
//     M * D_L with M = C[U][L]. gf_invert_matrix gives M^-1, so
//     D_L = M^-1 * P_U + (M^-1 * C[U][Q]) * D_Q. That is one r x (|Q| + r)
//     matrix over the sources (present data, then the r parity blocks), run
//     through ec_init_tables + ec_encode_data in a single pass. Computing S
//     first into copies of the parity (ec_encode_data_update per present
//     slot) and then applying M^-1 gives the same bytes, but needs r scratch
//     blocks, a read-modify-write pass over them per present slot and a
//     second pass to apply M^-1.
//
// Why Cauchy. ISA-L's gf_gen_rs_matrix (Vandermonde-like) is not MDS at our
// parity counts: some patterns of lost disks cannot be solved at m = 5 from
// k = 6, m = 6 from k = 5 and m = 4 from k = 22 (found by trying every
// erasure pattern against ISA-L 2.30). Every square submatrix of a Cauchy
// matrix 1 / (x_l + y_s) with distinct x and y is nonsingular, which is
// exactly "any r lost disks can be rebuilt from any r parity levels".
//
// Why fixed 250 columns. gf_gen_cauchy1_matrix(a, k + m, k) makes the
// coefficients depend on k, so adding a data disk would change every parity
// block on every parity disk. Building the matrix once for the largest array
// (x_l = 250 + l, y_s = s, the same points gf_gen_cauchy1_matrix uses at
// k = 250) and giving each data disk a fixed column means a new disk only adds
// its own contribution, and an empty slot contributes nothing.
//
// Why the scaling. Multiplying column s by 1 / C0[0][s] keeps every square
// submatrix nonsingular (the determinant is multiplied by a nonzero factor)
// and turns level 0 into all ones: the first parity is plain XOR, as in
// RAID-5 and SnapRAID, so a one-parity array can be checked with any XOR tool.
//
// Rejected: raid.h's pq_gen runs about 2x faster for m = 2, but its Q row
// (powers of 2) is not a row of our matrix; using it would make the second
// level a different code from the rest. xor_gen computes exactly our level 0
// and is used for the commonest rebuild, one lost disk from level 0, when the
// buffers are 32-byte aligned (the stripe windows are page-aligned): 3-4x
// faster than the general path there (bench/parity_bench.cc), same bytes.
//
// Vector state: ISA-L's AVX-512 kernels return without vzeroupper. The codec
// does not clear it per call; callers run ClearUpperVectorState()
// (atlas/hash.h) after each batch, as for hashing.
//
// Measured with bench/parity_bench.cc (release preset, 256 KiB blocks, one
// thread, hot cache, GB/s of data bytes = 10^9 bytes/s, middle of three runs)
// on a shared 2 vCPU AMD EPYC VM with AVX2 but no AVX-512, where ISA-L 2.30
// runs its _avx2 kernels; runs varied by +-20 %:
//
//   Encode      m=1   m=2   m=3   m=6        Accumulate (one slot)  m=1  22
//   k=4          31    14    12     6                               m=2  16
//   k=8          24    12    12     5                               m=3  11
//   k=16         21    15    12     6                               m=6   5
//
//   Reconstruct, 1 lost: 22-28 (k=4..16); 2 lost: 14-16 (k=4..16, m=2 or 6).
//
// So parity costs roughly 30/m GB/s per core here, roughly linear in m and
// flat in k, and rebuilding is as fast as encoding the same rows. On an
// AVX-512 host the same ISA-L reaches about 26 (m=2) and 9.4 (m=6) GB/s.
// Per-call setup (table gather, 2x2 inversion) does not show at 256 KiB.
#include "parity/isal_codec.h"

#include <algorithm>
#include <array>
#include <bitset>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <isa-l/erasure_code.h>
#include <isa-l/raid.h>

namespace atlas {
namespace {

constexpr int kColumns = kMaxDataDisks;
constexpr std::size_t kTableBytes = 32;  // ISA-L's expanded table per coefficient

// The coefficient matrix and its ISA-L tables, both row-major (level, slot).
struct CodingTables {
  std::array<unsigned char, kMaxParityLevels * kColumns> coef;
  std::vector<unsigned char> gftbls;  // kMaxParityLevels * kColumns * kTableBytes

  std::uint8_t at(int level, int slot) const { return coef[level * kColumns + slot]; }
  const unsigned char* table(int level, int slot) const {
    return gftbls.data() + (static_cast<std::size_t>(level) * kColumns + slot) * kTableBytes;
  }
};

CodingTables BuildTables() {
  CodingTables t;
  for (int s = 0; s < kColumns; ++s) {
    const auto y = static_cast<unsigned char>(s);
    // C0[0][s] = 1 / (x_0 + y_s); scaling by its inverse multiplies by x_0 + y_s.
    const auto scale = static_cast<unsigned char>(kColumns ^ y);
    for (int l = 0; l < kMaxParityLevels; ++l) {
      const auto x = static_cast<unsigned char>(kColumns + l);
      t.coef[l * kColumns + s] = gf_mul(gf_inv(static_cast<unsigned char>(x ^ y)), scale);
    }
  }
  t.gftbls.resize(static_cast<std::size_t>(kMaxParityLevels) * kColumns * kTableBytes);
  ec_init_tables(kColumns, kMaxParityLevels, t.coef.data(), t.gftbls.data());
  return t;
}

const CodingTables& Tables() {
  static const CodingTables tables = BuildTables();  // thread-safe init (C++11)
  return tables;
}

// Accumulate/Encode/Coefficient return void, so a broken precondition cannot
// be reported. Parity computed against a wrong column would be silently wrong
// forever, so it stops the process instead (a bug, like a failed assert).
void Require(bool ok) {
  if (!ok)
    std::abort();
}

bool SlotInRange(int slot) {
  return slot >= 0 && slot < kColumns;
}

unsigned char* U(std::byte* p) {
  return reinterpret_cast<unsigned char*>(p);
}
// ISA-L takes sources as non-const pointers but only reads them.
unsigned char* U(const std::byte* p) {
  return reinterpret_cast<unsigned char*>(const_cast<std::byte*>(p));
}

// xor_gen's limits: pointers aligned to 32 bytes (lengths are checked at the
// call), and a bounded pointer array here (250 data slots + parity + out).
constexpr std::size_t kMaxXorVects = static_cast<std::size_t>(kColumns) + 2;
bool XorAligned(const std::byte* const* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (reinterpret_cast<std::uintptr_t>(p[i]) % 32 != 0) return false;
  }
  return true;
}

class IsalCodec final : public ParityCodec {
 public:
  IsalCodec(int levels, std::size_t max_chunk)
      : levels_(levels), max_chunk_(max_chunk), tables_(Tables()) {}

  int levels() const override { return levels_; }

  std::uint8_t Coefficient(int level, int slot) const override {
    Require(level >= 0 && level < levels_ && SlotInRange(slot));
    return tables_.at(level, slot);
  }

  void Accumulate(int slot, const std::byte* data, std::byte* const* parity,
                  std::size_t len) const override {
    Require(SlotInRange(slot));
    if (len == 0)
      return;
    Require(data != nullptr && parity != nullptr);
    // The tables for rows [0, levels) are the prefix of the full table.
    unsigned char* gftbls = const_cast<unsigned char*>(tables_.gftbls.data());
    std::array<unsigned char*, kMaxParityLevels> dst;
    for (std::size_t off = 0; off < len; off += max_chunk_) {
      const int n = static_cast<int>(std::min(max_chunk_, len - off));
      for (int l = 0; l < levels_; ++l) dst[l] = U(parity[l]) + off;
      ec_encode_data_update(n, kColumns, levels_, slot, gftbls, U(data) + off, dst.data());
    }
  }

  void Encode(std::span<const int> slots, const std::byte* const* data, std::byte* const* parity,
              std::size_t len) const override {
    std::bitset<kColumns> seen;
    for (int s : slots) {
      Require(SlotInRange(s) && !seen.test(s));
      seen.set(s);
    }
    if (len == 0)
      return;
    Require(parity != nullptr && (slots.empty() || data != nullptr));
    if (slots.empty()) {
      for (int l = 0; l < levels_; ++l) std::memset(parity[l], 0, len);
      return;
    }
    const std::size_t k = slots.size();
    std::vector<unsigned char> gftbls(levels_ * k * kTableBytes);
    for (int l = 0; l < levels_; ++l) {
      for (std::size_t i = 0; i < k; ++i) {
        std::memcpy(&gftbls[(l * k + i) * kTableBytes], tables_.table(l, slots[i]), kTableBytes);
      }
    }
    std::vector<unsigned char*> src(k);
    std::array<unsigned char*, kMaxParityLevels> dst;
    for (std::size_t off = 0; off < len; off += max_chunk_) {
      const int n = static_cast<int>(std::min(max_chunk_, len - off));
      for (std::size_t i = 0; i < k; ++i) src[i] = U(data[i]) + off;
      for (int l = 0; l < levels_; ++l) dst[l] = U(parity[l]) + off;
      ec_encode_data(n, static_cast<int>(k), levels_, gftbls.data(), src.data(), dst.data());
    }
  }

  Status Reconstruct(std::span<const int> present_slots, const std::byte* const* present,
                     std::span<const int> levels_used, const std::byte* const* parity,
                     std::span<const int> lost_slots, std::byte* const* out,
                     std::size_t len) const override {
    ATLAS_RETURN_IF_ERROR(Validate(present_slots, present, levels_used, parity, lost_slots, out));
    const std::size_t r = lost_slots.size();
    if (r == 0 || len == 0)
      return Status::Ok();
    const std::size_t q = present_slots.size();

    // One lost slot solved from level 0: level 0 is all ones, so M^-1 = 1
    // and the decode row is all ones too: the lost block is the XOR of the
    // present blocks and the parity. xor_gen (raid.h) computes exactly that
    // bytes for bytes, at 3-4x the speed of the general dot product; it
    // needs 32-byte aligned buffers and lengths, else the general path runs.
    if (r == 1 && q > 0 && levels_used[0] == 0 && len % 32 == 0 && max_chunk_ % 32 == 0 &&
        q + 2 <= kMaxXorVects && XorAligned(present, q) && XorAligned(parity, 1) &&
        XorAligned(out, 1)) {
      std::array<void*, kMaxXorVects> v;
      bool done = true;
      for (std::size_t off = 0; off < len && done; off += max_chunk_) {
        const std::size_t n = std::min(max_chunk_, len - off);
        for (std::size_t p = 0; p < q; ++p) v[p] = U(present[p]) + off;
        v[q] = U(parity[0]) + off;
        v[q + 1] = U(out[0]) + off;
        done = xor_gen(static_cast<int>(q + 2), static_cast<int>(n), v.data()) == 0;
      }
      if (done) return Status::Ok();  // else the general path below recomputes it all
    }

    // M = C[U][L], r x r.
    std::array<unsigned char, kMaxParityLevels * kMaxParityLevels> m;
    std::array<unsigned char, kMaxParityLevels * kMaxParityLevels> m_inv;
    for (std::size_t i = 0; i < r; ++i) {
      for (std::size_t j = 0; j < r; ++j) m[i * r + j] = tables_.at(levels_used[i], lost_slots[j]);
    }
    if (gf_invert_matrix(m.data(), m_inv.data(), static_cast<int>(r)) != 0) {
      // Cannot happen for a Cauchy matrix: the tables are damaged.
      return Status::Internal("parity: singular recovery matrix for " + std::to_string(r) +
                              " lost slots");
    }

    // Decode matrix, r x (q + r): [M^-1 * C[U][Q] | M^-1].
    const std::size_t sources = q + r;
    std::vector<unsigned char> decode(r * sources);
    for (std::size_t i = 0; i < r; ++i) {
      for (std::size_t p = 0; p < q; ++p) {
        unsigned char acc = 0;
        for (std::size_t j = 0; j < r; ++j) {
          acc ^= gf_mul(m_inv[i * r + j], tables_.at(levels_used[j], present_slots[p]));
        }
        decode[i * sources + p] = acc;
      }
      for (std::size_t j = 0; j < r; ++j) decode[i * sources + q + j] = m_inv[i * r + j];
    }
    std::vector<unsigned char> gftbls(decode.size() * kTableBytes);
    ec_init_tables(static_cast<int>(sources), static_cast<int>(r), decode.data(), gftbls.data());

    std::vector<unsigned char*> src(sources);
    std::array<unsigned char*, kMaxParityLevels> dst;
    for (std::size_t off = 0; off < len; off += max_chunk_) {
      const int n = static_cast<int>(std::min(max_chunk_, len - off));
      for (std::size_t p = 0; p < q; ++p) src[p] = U(present[p]) + off;
      for (std::size_t j = 0; j < r; ++j) src[q + j] = U(parity[j]) + off;
      for (std::size_t j = 0; j < r; ++j) dst[j] = U(out[j]) + off;
      ec_encode_data(n, static_cast<int>(sources), static_cast<int>(r), gftbls.data(), src.data(),
                     dst.data());
    }
    return Status::Ok();
  }

 private:
  Status Validate(std::span<const int> present_slots, const std::byte* const* present,
                  std::span<const int> levels_used, const std::byte* const* parity,
                  std::span<const int> lost_slots, std::byte* const* out) const {
    const std::size_t r = lost_slots.size();
    if (levels_used.size() != r) {
      return Status::InvalidArgument("parity: " + std::to_string(r) + " lost slots need as many " +
                                     "parity levels, got " + std::to_string(levels_used.size()));
    }
    if (r > static_cast<std::size_t>(levels_)) {
      return Status::InvalidArgument("parity: " + std::to_string(r) + " lost slots exceed the " +
                                     std::to_string(levels_) + " parity levels");
    }
    std::bitset<kMaxParityLevels> level_seen;
    for (int l : levels_used) {
      if (l < 0 || l >= levels_) {
        return Status::InvalidArgument("parity: level " + std::to_string(l) + " out of range [0, " +
                                       std::to_string(levels_) + ")");
      }
      if (level_seen.test(l)) {
        return Status::InvalidArgument("parity: level " + std::to_string(l) + " used twice");
      }
      level_seen.set(l);
    }
    std::bitset<kColumns> slot_seen;
    for (std::span<const int> slots : {lost_slots, present_slots}) {
      for (int s : slots) {
        if (!SlotInRange(s)) {
          return Status::InvalidArgument("parity: slot " + std::to_string(s) +
                                         " out of range [0, " + std::to_string(kColumns) + ")");
        }
        if (slot_seen.test(s)) {
          return Status::InvalidArgument("parity: slot " + std::to_string(s) + " given twice");
        }
        slot_seen.set(s);
      }
    }
    auto all_set = [](auto* ptrs, std::size_t n) {
      if (n == 0)
        return true;
      if (ptrs == nullptr)
        return false;
      return std::all_of(ptrs, ptrs + n, [](auto* p) { return p != nullptr; });
    };
    if (!all_set(present, present_slots.size()) || !all_set(parity, r) || !all_set(out, r)) {
      return Status::InvalidArgument("parity: null buffer");
    }
    return Status::Ok();
  }

  const int levels_;
  const std::size_t max_chunk_;
  const CodingTables& tables_;
};

// The self-test stripe: four data disks at scattered slots (first and last
// column included), 72 bytes each, so the AVX-512 kernels run one full
// 64-byte vector and a masked tail.
constexpr std::array<int, 4> kSelfTestSlots = {0, 7, 128, 249};
constexpr std::size_t kSelfTestLen = 72;

std::byte SelfTestByte(std::size_t disk, std::size_t b) {
  return std::byte(((b * 29 + disk * 83 + 17) ^ (b >> 2)) & 0xff);
}

// Parity levels 0..5 of the self-test stripe, computed once with the scalar
// reference (parity/reference.cc, no ISA-L code involved).
constexpr std::array<const char*, kMaxParityLevels> kSelfTestParity = {
    "c85c60bc088470a4d8cc404cd8e4b00488fca05c48c4d0a4788c008c78a4d0c4485ca0fc"
    "8804b0e4d84c40ccd8a4708408bc605cc8c45064b80c800cb8e4d04448dce0bc0884f0a4",
    "eff2485c887df87eab6f973efbb3ca4ebed5edde34c81896403e42c62abf4fc4e97e167e"
    "29968a287f691b962fb241703ca04a529c1c1e1d1ebce32d58e99bc2b201e3a8157f0b8a",
    "a9ce11ec92fea58ec309630cbaabaeb1b9d232a924163a4b5d19f0fc3068ad1af4088272"
    "374b2e383554a5f74c4ed0e9671f546fdfe06735cec75549bbde5b47e928c74c59c8432e",
    "db84166bb2a4eaf60efadb30fd37e648661c07c12cdead940747c21deeb6843d27f01d63"
    "f20c06caa906af945a277e733e3878b58879510c0c1f82b5028a23c1a8afee88a1ccc115",
    "acc7abd2779ec2577b54fc13f40dd7bef35544008b9e99042e0b634b4ee5a88bd228b373"
    "5fc69b35162a13c7993a71584da1a3ef5ff3e7a236b54b131787c5f538f917410225fcc4",
    "524974cf9aac28ec881e29d1b1dfbcd3a52d0e06598f9fc2e8e9d53067b38fe2dad0342c"
    "1e79477e4f96b0b5763b49b326b8d49f3d481737a86a51e50821486a12e586999a4884ba",
};

std::byte HexByte(const char* two) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  return std::byte((nibble(two[0]) << 4) | nibble(two[1]));
}

// Which of `got` first differs from the stored level `level`, or -1.
long FirstMismatch(int level, const std::vector<std::byte>& got) {
  for (std::size_t b = 0; b < kSelfTestLen; ++b) {
    if (got[b] != HexByte(kSelfTestParity[level] + 2 * b))
      return static_cast<long>(b);
  }
  return -1;
}

}  // namespace

std::unique_ptr<ParityCodec> NewIsalCodec(int levels, std::size_t max_chunk_bytes) {
  Require(levels >= 1 && levels <= kMaxParityLevels && max_chunk_bytes > 0 &&
          max_chunk_bytes <= kIsalMaxChunk);
  return std::make_unique<IsalCodec>(levels, max_chunk_bytes);
}

Result<std::unique_ptr<ParityCodec>> ParityCodec::Create(int levels) {
  if (levels < 1 || levels > kMaxParityLevels) {
    return Status::InvalidArgument("parity: levels must be 1.." + std::to_string(kMaxParityLevels) +
                                   ", got " + std::to_string(levels));
  }
  return NewIsalCodec(levels, kIsalMaxChunk);
}

Status ParitySelfTest() {
  constexpr std::size_t kDisks = kSelfTestSlots.size();
  std::vector<std::vector<std::byte>> data(kDisks, std::vector<std::byte>(kSelfTestLen));
  std::array<const std::byte*, kDisks> data_ptrs;
  for (std::size_t d = 0; d < kDisks; ++d) {
    for (std::size_t b = 0; b < kSelfTestLen; ++b) data[d][b] = SelfTestByte(d, b);
    data_ptrs[d] = data[d].data();
  }
  std::vector<std::vector<std::byte>> parity(kMaxParityLevels,
                                             std::vector<std::byte>(kSelfTestLen));
  std::array<std::byte*, kMaxParityLevels> parity_ptrs;
  for (int l = 0; l < kMaxParityLevels; ++l) parity_ptrs[l] = parity[l].data();

  auto check = [&](int levels, const char* path) -> Status {
    for (int l = 0; l < levels; ++l) {
      long bad = FirstMismatch(l, parity[l]);
      if (bad >= 0) {
        return Status::Internal("parity self-test: " + std::string(path) + " with " +
                                std::to_string(levels) + " levels: level " + std::to_string(l) +
                                " differs from the stored vector at byte " + std::to_string(bad));
      }
    }
    return Status::Ok();
  };

  for (int levels = 1; levels <= kMaxParityLevels; ++levels) {
    ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<ParityCodec> codec, ParityCodec::Create(levels));
    codec->Encode(kSelfTestSlots, data_ptrs.data(), parity_ptrs.data(), kSelfTestLen);
    ATLAS_RETURN_IF_ERROR(check(levels, "encode"));
    for (auto& p : parity) std::fill(p.begin(), p.end(), std::byte{0});
    for (std::size_t d = 0; d < kDisks; ++d) {
      codec->Accumulate(kSelfTestSlots[d], data_ptrs[d], parity_ptrs.data(), kSelfTestLen);
    }
    ATLAS_RETURN_IF_ERROR(check(levels, "accumulate"));
  }

  // Lose the two middle disks; rebuild them once from the highest two levels
  // and once from XOR plus the last level.
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<ParityCodec> codec, ParityCodec::Create(kMaxParityLevels));
  const std::array<int, 2> present_slots = {kSelfTestSlots[0], kSelfTestSlots[3]};
  const std::array<const std::byte*, 2> present = {data_ptrs[0], data_ptrs[3]};
  const std::array<int, 2> lost_slots = {kSelfTestSlots[1], kSelfTestSlots[2]};
  for (std::array<int, 2> levels_used : {std::array<int, 2>{5, 4}, std::array<int, 2>{0, 5}}) {
    std::vector<std::byte> out0(kSelfTestLen), out1(kSelfTestLen);
    std::array<std::byte*, 2> out = {out0.data(), out1.data()};
    const std::array<const std::byte*, 2> used = {parity[levels_used[0]].data(),
                                                  parity[levels_used[1]].data()};
    ATLAS_RETURN_IF_ERROR(codec->Reconstruct(present_slots, present.data(), levels_used,
                                             used.data(), lost_slots, out.data(), kSelfTestLen));
    if (out0 != data[1] || out1 != data[2]) {
      return Status::Internal("parity self-test: slots 7 and 128 rebuilt from levels " +
                              std::to_string(levels_used[0]) + " and " +
                              std::to_string(levels_used[1]) + " differ from the originals");
    }
  }
  return Status::Ok();
}

}  // namespace atlas
