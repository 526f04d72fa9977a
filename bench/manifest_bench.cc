// Manifest operations on the real RocksDB manifest (src/manifest/), in a temp
// dir under /dev/shm when it exists, so the figures are the CPU cost of
// RocksDB and our codecs, not of a disk.
//
//   build/release/bench/manifest_bench
//   build/release/bench/manifest_bench --benchmark_filter=BM_GetBlock
//
// BM_PutBlocks/batch:N      N block records (synced, with hash) put in one
//                           batch and committed without fsync: what sync's
//                           parity pass and scrub write per block.
// BM_CommitDurable          a small batch committed durably (WAL fdatasync).
// BM_GetBlock               point lookups of block records by (slot, pos), in
//                           position order: what the stripe readers do.
// BM_ScanBlocks             a cursor over one disk's block records: what
//                           ForEachPosition (scrub selection, check) does.
// BM_PutFiles/batch:N       file records with 4 extents each, in one batch.
// BM_GetFileById            file lookups by id (the readers' file switch).
//
// The fixture holds 64 Ki blocks (16 GiB of data at 256 KiB) and 4 Ki files
// on one slot.
//
// Measured with the release preset on the shared 2-vCPU VM (load average
// 13-15, so the wall times are about 3x the CPU times), CPU time per item:
//
//   BM_PutBlocks  batch:1 6.5 us, batch:64 3.5 us, batch:4096 4.3 us
//   BM_CommitDurable      13.6 us (tmpfs: the fdatasync is nearly free)
//   BM_GetBlock            2.2 us
//   BM_ScanBlocks          0.26 us per record (3.9 M records/s)
//   BM_PutFiles   batch:1 13.7 us, batch:4096 13.2 us
//   BM_GetFileById         5.5 us
//
// So a full scrub of 3 GB (11.7 k positions x 4 disks) spends about 0.1 s
// of CPU on point lookups of block records and 0.05 s on recording them.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

#include <benchmark/benchmark.h>

#include "atlas/manifest.h"

namespace atlas {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kBlocks = 64 * 1024;
constexpr std::uint64_t kFiles = 4 * 1024;

fs::path ScratchBase() {
  std::error_code ec;
  if (fs::is_directory("/dev/shm", ec)) return "/dev/shm";
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? fs::path(tmp) : fs::path("/tmp");
}

BlockRecord MakeBlock(std::uint64_t pos) {
  BlockRecord b;
  b.slot = 1;
  b.pos = pos;
  b.state = BlockState::kSynced;
  b.hash = Hash128{pos * 0x9e3779b97f4a7c15ULL, ~pos};
  b.file_id = 1 + pos / 16;
  b.file_block = pos % 16;
  b.verified_ns = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(pos);
  return b;
}

FileRecord MakeFile(std::uint64_t id) {
  FileRecord f;
  f.slot = 1;
  f.path = "Movies/Some Title (2011)/part " + std::to_string(id) + ".mkv";
  f.file_id = id;
  f.size = 16ull * 256 * 1024;
  f.mtime_ns = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(id);
  f.inode = 1000 + id;
  f.mode = 0100644;
  for (std::uint64_t e = 0; e < 4; ++e) f.extents.push_back({id * 16 + e * 4, 4});
  return f;
}

// A fresh manifest with kBlocks block records and kFiles file records.
class Fixture {
 public:
  Fixture() {
    dir_ = ScratchBase() / ("atlas-manifest-bench-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    ManifestOptions o;
    o.create_if_missing = true;
    Result<std::unique_ptr<Manifest>> m = OpenManifest(dir_ / "manifest", o);
    if (!m.ok()) std::abort();
    m_ = std::move(m).value();
    std::unique_ptr<ManifestBatch> batch = m_->NewBatch();
    for (std::uint64_t p = 0; p < kBlocks; ++p) {
      batch->PutBlock(MakeBlock(p));
      if (batch->Count() >= 4096) Commit(batch);
    }
    for (std::uint64_t id = 1; id <= kFiles; ++id) batch->PutFile(MakeFile(id));
    Commit(batch);
  }
  ~Fixture() {
    m_.reset();
    fs::remove_all(dir_);
  }
  Manifest* m() { return m_.get(); }

 private:
  void Commit(std::unique_ptr<ManifestBatch>& batch) {
    if (!m_->Commit(*batch, false).ok()) std::abort();
    batch = m_->NewBatch();
  }
  fs::path dir_;
  std::unique_ptr<Manifest> m_;
};

void BM_PutBlocks(benchmark::State& state) {
  Fixture f;
  const auto n = static_cast<std::uint64_t>(state.range(0));
  std::uint64_t pos = 0;
  for (auto _ : state) {
    std::unique_ptr<ManifestBatch> batch = f.m()->NewBatch();
    for (std::uint64_t i = 0; i < n; ++i) batch->PutBlock(MakeBlock(pos++ % kBlocks));
    if (!f.m()->Commit(*batch, false).ok()) state.SkipWithError("commit failed");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_PutBlocks)->ArgName("batch")->Arg(1)->Arg(64)->Arg(4096);

void BM_CommitDurable(benchmark::State& state) {
  Fixture f;
  std::uint64_t pos = 0;
  for (auto _ : state) {
    std::unique_ptr<ManifestBatch> batch = f.m()->NewBatch();
    batch->PutBlock(MakeBlock(pos++ % kBlocks));
    batch->PutMeta("bench", std::to_string(pos));
    if (!f.m()->Commit(*batch, true).ok()) state.SkipWithError("commit failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CommitDurable);

void BM_GetBlock(benchmark::State& state) {
  Fixture f;
  std::uint64_t pos = 0;
  for (auto _ : state) {
    Result<std::optional<BlockRecord>> b = f.m()->GetBlock(1, pos++ % kBlocks);
    if (!b.ok() || !*b) state.SkipWithError("lookup failed");
    benchmark::DoNotOptimize(b);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetBlock);

void BM_ScanBlocks(benchmark::State& state) {
  Fixture f;
  for (auto _ : state) {
    std::uint64_t n = 0;
    std::unique_ptr<Cursor<BlockRecord>> c = f.m()->Blocks(1, 0);
    for (; c->Valid(); c->Next()) n += c->value().pos;
    benchmark::DoNotOptimize(n);
    if (!c->status().ok()) state.SkipWithError("scan failed");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBlocks));
}
BENCHMARK(BM_ScanBlocks)->Unit(benchmark::kMillisecond);

void BM_PutFiles(benchmark::State& state) {
  Fixture f;
  const auto n = static_cast<std::uint64_t>(state.range(0));
  std::uint64_t id = 1;
  for (auto _ : state) {
    std::unique_ptr<ManifestBatch> batch = f.m()->NewBatch();
    for (std::uint64_t i = 0; i < n; ++i) batch->PutFile(MakeFile(1 + id++ % kFiles));
    if (!f.m()->Commit(*batch, false).ok()) state.SkipWithError("commit failed");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_PutFiles)->ArgName("batch")->Arg(1)->Arg(4096);

void BM_GetFileById(benchmark::State& state) {
  Fixture f;
  std::uint64_t id = 0;
  for (auto _ : state) {
    Result<std::optional<FileRecord>> r = f.m()->GetFileById(1 + id++ % kFiles);
    if (!r.ok() || !*r) state.SkipWithError("lookup failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetFileById);

}  // namespace
}  // namespace atlas
