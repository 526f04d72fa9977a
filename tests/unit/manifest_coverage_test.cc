// The manifest's coverage summary (synced blocks per minute of last
// verification) stays equal to a recount of the block records through puts,
// overwrites within one batch, state changes and deletes, and is built on the
// first read-write open of a manifest that has none.
#include "atlas/hash.h"
#include "atlas/manifest.h"
#include "support/test_util.h"
#include "support/verify_array.h"

namespace atlas::testing {
namespace {

constexpr std::int64_t kMinute = 60'000'000'000;
constexpr std::int64_t kT0 = 1'780'000'020LL * 1'000'000'000;  // a whole minute

std::unique_ptr<Manifest> Open(const std::filesystem::path& dir, bool read_only = false) {
  ManifestOptions o;
  o.create_if_missing = !read_only;
  o.read_only = read_only;
  Result<std::unique_ptr<Manifest>> m = OpenManifest(dir, o);
  REQUIRE_OK(m.status());
  return std::move(m).value();
}

BlockRecord Synced(std::uint16_t slot, std::uint64_t pos, std::int64_t verified_ns) {
  BlockRecord b;
  b.slot = slot;
  b.pos = pos;
  b.state = BlockState::kSynced;
  b.hash = Hash128{pos, slot};
  b.file_id = pos + 1;
  b.verified_ns = verified_ns;
  return b;
}

void PutDataDisk(Manifest* m, std::uint16_t slot) {
  DiskRecord d;
  d.name = "d" + std::to_string(slot);
  d.index = slot;
  std::unique_ptr<ManifestBatch> b = m->NewBatch();
  b->PutDisk(d);
  REQUIRE_OK(m->Commit(*b, false));
}

std::vector<CoverageBucket> CoverageOf(Manifest* m) {
  Result<std::optional<std::vector<CoverageBucket>>> c = m->Coverage();
  REQUIRE_OK(c.status());
  REQUIRE(c->has_value());
  return **c;
}

TEST_CASE("manifest: the coverage summary counts synced blocks per minute of verification",
          "[manifest][coverage]") {
  TempDir dir;
  std::unique_ptr<Manifest> m = Open(dir / "manifest");
  PutDataDisk(m.get(), 0);
  PutDataDisk(m.get(), 1);
  CHECK(CoverageOf(m.get()).empty());

  std::unique_ptr<ManifestBatch> b = m->NewBatch();
  b->PutBlock(Synced(0, 0, kT0));
  b->PutBlock(Synced(0, 1, kT0 + 59'000'000'000));  // same minute
  b->PutBlock(Synced(1, 0, kT0 + kMinute));         // the next one
  b->PutBlock(Synced(1, 1, -1));                     // before 1970: minute -1
  BlockRecord dirty = Synced(1, 2, 0);
  dirty.state = BlockState::kDirty;
  dirty.hash.reset();
  b->PutBlock(dirty);  // not synced: not counted
  REQUIRE_OK(m->Commit(*b, false));
  CHECK(CoverageOf(m.get()) == std::vector<CoverageBucket>{
                                   {-kMinute, 1}, {kT0, 2}, {kT0 + kMinute, 1}});
  CHECK(CheckCoverage(m.get()) == "");

  // One batch: a block verified again (moves bucket), one put twice (the last
  // put wins), one deleted, one turned dirty, a dirty one synced.
  b = m->NewBatch();
  b->PutBlock(Synced(0, 0, kT0 + 2 * kMinute));
  b->PutBlock(Synced(0, 5, kT0));
  b->PutBlock(Synced(0, 5, kT0 + 2 * kMinute));
  b->DeleteBlock(1, 1);
  BlockRecord deleted = Synced(1, 0, kT0 + kMinute);
  deleted.state = BlockState::kDeleted;
  b->PutBlock(deleted);
  b->PutBlock(Synced(1, 2, kT0 + 2 * kMinute));
  REQUIRE_OK(m->Commit(*b, true));
  CHECK(CoverageOf(m.get()) == std::vector<CoverageBucket>{{kT0, 1}, {kT0 + 2 * kMinute, 3}});
  CHECK(CheckCoverage(m.get()) == "");

  // A batch that deletes and re-adds a block leaves the count as it was.
  b = m->NewBatch();
  b->DeleteBlock(0, 5);
  b->PutBlock(Synced(0, 5, kT0 + 2 * kMinute));
  REQUIRE_OK(m->Commit(*b, false));
  CHECK(CoverageOf(m.get()) == std::vector<CoverageBucket>{{kT0, 1}, {kT0 + 2 * kMinute, 3}});

  // ReplaceBlock names the record it replaces, so the commit reads none: a
  // block verified again moves bucket, a dirty one synced adds one, and one
  // replaced and then put again in the same batch counts once, where the
  // last put leaves it.
  b = m->NewBatch();
  b->ReplaceBlock(Synced(0, 0, kT0 + 2 * kMinute), Synced(0, 0, kT0 + 3 * kMinute));
  BlockRecord was_dirty = Synced(0, 7, 0);
  was_dirty.state = BlockState::kDirty;
  was_dirty.hash.reset();
  b->ReplaceBlock(was_dirty, Synced(0, 7, kT0 + 3 * kMinute));
  b->ReplaceBlock(Synced(0, 5, kT0 + 2 * kMinute), Synced(0, 5, kT0 + 3 * kMinute));
  b->PutBlock(Synced(0, 5, kT0));
  REQUIRE_OK(m->Commit(*b, false));
  CHECK(CoverageOf(m.get()) ==
        std::vector<CoverageBucket>{{kT0, 2}, {kT0 + 2 * kMinute, 1}, {kT0 + 3 * kMinute, 2}});
  CHECK(CheckCoverage(m.get()) == "");

  // It survives a reopen, read-only too.
  m.reset();
  std::unique_ptr<Manifest> ro = Open(dir / "manifest", true);
  CHECK(CoverageOf(ro.get()) ==
        std::vector<CoverageBucket>{{kT0, 2}, {kT0 + 2 * kMinute, 1}, {kT0 + 3 * kMinute, 2}});
}

TEST_CASE("manifest: a manifest without a coverage summary gets one at its first read-write open",
          "[manifest][coverage]") {
  // STRATEGY:
  // 1. Blocks are written, then the summary's marker is cleared, as in a
  //    manifest from before summaries existed.
  // 2. A read-only open reports no summary (status then counts the block
  //    records) and writes nothing.
  // 3. A read-write open rebuilds it from the block records.
  TempDir dir;
  {
    std::unique_ptr<Manifest> m = Open(dir / "manifest");
    PutDataDisk(m.get(), 0);
    std::unique_ptr<ManifestBatch> b = m->NewBatch();
    for (std::uint64_t p = 0; p < 100; ++p) b->PutBlock(Synced(0, p, kT0 + static_cast<std::int64_t>(p % 3) * kMinute));
    b->PutMeta("coverage_summary", "");
    REQUIRE_OK(m->Commit(*b, true));
  }
  {
    std::unique_ptr<Manifest> ro = Open(dir / "manifest", true);
    Result<std::optional<std::vector<CoverageBucket>>> c = ro->Coverage();
    REQUIRE_OK(c.status());
    CHECK(!c->has_value());
  }
  std::unique_ptr<Manifest> m = Open(dir / "manifest");
  CHECK(CoverageOf(m.get()) ==
        std::vector<CoverageBucket>{{kT0, 34}, {kT0 + kMinute, 33}, {kT0 + 2 * kMinute, 33}});
  CHECK(CheckCoverage(m.get()) == "");
}

}  // namespace
}  // namespace atlas::testing
