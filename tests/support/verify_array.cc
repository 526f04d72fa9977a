#include "support/verify_array.h"

#include <fstream>
#include <map>

#include "atlas/config.h"
#include "atlas/hash.h"
#include "atlas/manifest.h"
#include "atlas/parity.h"
#include "parity/reference.h"

namespace atlas::testing {

std::string CheckCoverage(Manifest* m) {
  Result<std::vector<DiskRecord>> disks = m->ListDisks();
  REQUIRE_OK(disks.status());
  std::map<std::int64_t, std::uint64_t> expect;  // bucket start -> synced blocks
  for (const DiskRecord& d : *disks) {
    if (d.role != DiskRole::kData) continue;
    std::unique_ptr<Cursor<BlockRecord>> b = m->Blocks(d.index);
    for (; b->Valid(); b->Next()) {
      if (b->value().state != BlockState::kSynced) continue;
      std::int64_t v = b->value().verified_ns;
      std::int64_t bucket = v / kCoverageBucketNs - (v % kCoverageBucketNs < 0 ? 1 : 0);
      expect[bucket * kCoverageBucketNs]++;
    }
    REQUIRE_OK(b->status());
  }
  Result<std::optional<std::vector<CoverageBucket>>> got = m->Coverage();
  REQUIRE_OK(got.status());
  if (!got->has_value()) return "the manifest has no coverage summary";
  std::map<std::int64_t, std::uint64_t> have;
  for (const CoverageBucket& c : **got) {
    if (c.blocks == 0) return "a coverage bucket holds 0 blocks";
    have[c.start_ns] = c.blocks;
  }
  for (const auto& [start, n] : expect) {
    if (have[start] != n) {
      return "coverage bucket " + std::to_string(start) + ": summary " + std::to_string(have[start]) +
             ", block records " + std::to_string(n);
    }
  }
  for (const auto& [start, n] : have) {
    if (expect.count(start) == 0) return "coverage bucket " + std::to_string(start) + " has no synced block";
  }
  return "";
}

std::string CheckCoverage(const TempArray& array) {
  ManifestOptions ro;
  ro.read_only = true;
  Result<std::unique_ptr<Manifest>> m = OpenManifest(array.Manifest(), ro);
  REQUIRE_OK(m.status());
  return CheckCoverage(m->get());
}

ArrayCheck VerifyArray(const TempArray& array) {
  ArrayCheck check;
  ManifestOptions ro;
  ro.read_only = true;
  Result<std::unique_ptr<Manifest>> m = OpenManifest(array.Manifest(), ro);
  REQUIRE_OK(m.status());
  Result<std::vector<DiskRecord>> disks = (*m)->ListDisks();
  REQUIRE_OK(disks.status());
  const std::uint32_t bs = array.block_size();

  // position -> slot -> block bytes (zero-padded), for the data disks.
  std::map<std::uint64_t, std::map<int, std::vector<std::byte>>> stripes;
  std::uint64_t max_pos = 0;
  int levels = 0;
  std::map<int, std::filesystem::path> parity_paths;
  for (const DiskRecord& d : *disks) {
    if (d.role == DiskRole::kParity) {
      levels = std::max(levels, d.index + 1);
      parity_paths[d.index] = d.path;
      continue;
    }
    max_pos = std::max(max_pos, d.next_pos);
    std::unique_ptr<Cursor<FileRecord>> files = (*m)->Files(d.index);
    for (; files->Valid(); files->Next()) {
      const FileRecord& f = files->value();
      check.files++;
      std::vector<std::byte> data = ReadFileBytes(std::filesystem::path(d.path) / f.path);
      for (std::uint64_t i = 0; i < f.BlockCount(); ++i) {
        std::uint64_t pos = f.PositionOf(i);
        Result<std::optional<BlockRecord>> b = (*m)->GetBlock(d.index, pos);
        REQUIRE_OK(b.status());
        REQUIRE(b->has_value());
        check.blocks++;
        std::vector<std::byte> block(bs);
        std::size_t off = static_cast<std::size_t>(i * bs);
        std::size_t n = std::min<std::size_t>(bs, data.size() - off);
        std::copy(data.begin() + static_cast<std::ptrdiff_t>(off),
                  data.begin() + static_cast<std::ptrdiff_t>(off + n), block.begin());
        if (!(*b)->hash || *(*b)->hash != HashBlock(std::span<const std::byte>(block.data(), n))) {
          check.bad_blocks++;
          if (check.first_problem.empty()) check.first_problem = "block hash of " + f.path;
        }
        stripes[pos][d.index] = std::move(block);
      }
    }
    REQUIRE_OK(files->status());
  }
  if (std::string problem = CheckCoverage(m->get()); !problem.empty()) {
    check.coverage_mismatches++;
    if (check.first_problem.empty()) check.first_problem = problem;
  }
  std::unique_ptr<Cursor<DirtyEntry>> dirty = (*m)->Dirty(0);
  std::uint64_t last = ~0ull;
  for (; dirty->Valid(); dirty->Next()) {
    if (dirty->value().pos != last) check.dirty_positions++;
    last = dirty->value().pos;
  }

  // What each position's parity is computed from: the synced blocks there.
  std::map<std::uint64_t, std::vector<std::pair<std::uint16_t, Hash128>>> synced;
  for (const DiskRecord& d : *disks) {
    if (d.role != DiskRole::kData) continue;
    std::unique_ptr<Cursor<BlockRecord>> blocks = (*m)->Blocks(static_cast<std::uint16_t>(d.index), 0);
    for (; blocks->Valid(); blocks->Next()) {
      const BlockRecord& b = blocks->value();
      if (b.state == BlockState::kSynced && b.hash) synced[b.pos].emplace_back(b.slot, *b.hash);
    }
    REQUIRE_OK(blocks->status());
  }
  std::vector<std::vector<std::byte>> parity_bytes;
  for (int level = 0; level < levels; ++level) parity_bytes.push_back(ReadFileBytes(parity_paths[level]));
  std::unique_ptr<Cursor<ParityHashRecord>> sums = (*m)->ParityHashes(0);
  for (; sums->Valid(); sums->Next()) {
    const ParityHashRecord& r = sums->value();
    check.parity_hash_records++;
    if (r.levels.size() != static_cast<std::size_t>(levels) || r.data_digest != ParityDataDigest(synced[r.pos])) {
      continue;
    }
    check.current_parity_hashes++;
    for (int level = 0; level < levels; ++level) {
      const std::vector<std::byte>& p = parity_bytes[static_cast<std::size_t>(level)];
      std::vector<std::byte> block(bs);
      if (p.size() > r.pos * bs) {
        std::copy(p.begin() + static_cast<std::ptrdiff_t>(r.pos * bs),
                  p.begin() + static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(p.size(), (r.pos + 1) * bs)),
                  block.begin());
      }
      if (HashBlock(std::span<const std::byte>(block)) != r.levels[static_cast<std::size_t>(level)]) {
        check.false_parity_hashes++;
        if (check.first_problem.empty()) {
          check.first_problem = "parity checksum record of level " + std::to_string(level + 1) + " at position " +
                                std::to_string(r.pos) + " does not match the parity file";
        }
        break;
      }
    }
  }
  REQUIRE_OK(sums->status());

  for (int level = 0; level < levels; ++level) {
    const std::vector<std::byte>& parity = parity_bytes[static_cast<std::size_t>(level)];
    REQUIRE(parity.size() >= max_pos * bs);
    for (std::uint64_t pos = 0; pos < max_pos; ++pos) {
      std::vector<int> slots;
      std::vector<const std::byte*> ptrs;
      for (const auto& [slot, bytes] : stripes[pos]) {
        slots.push_back(slot);
        ptrs.push_back(bytes.data());
      }
      std::vector<std::byte> expect = ReferenceParity(level, slots, ptrs.data(), bs);
      for (std::size_t k = 0; k < bs; ++k) {
        if (parity[pos * bs + k] != expect[k]) {
          check.bad_parity_bytes++;
          if (check.first_problem.empty()) {
            check.first_problem = "parity level " + std::to_string(level + 1) + " position " + std::to_string(pos);
          }
        }
      }
    }
  }
  return check;
}

}  // namespace atlas::testing
