// The manifest's basic operations on a real RocksDB in a temp dir (under
// /dev/shm when it exists): putting and getting file and block records,
// scanning them with cursors, committing batches, and reading the coverage
// summary that `status` uses instead of every block record.
//
//   build/release/bench/manifest_bench
//   build/release/bench/manifest_bench --benchmark_filter=BM_Block
//
// BM_PutBlocks/batch:N      commit N block records per batch (no fsync);
//                           items/s counts records. Includes the coverage
//                           summary upkeep (a MultiGet of the old records).
// BM_PutBlocksDurable/N     the same with the WAL fsync'ed per commit
// BM_PutFiles/batch:N       file records (3 keys each: f, i, n)
// BM_GetBlock               random point reads of a 1 M-block manifest
// BM_GetFile                random point reads of 100 k file records
// BM_ScanBlocks             a cursor over 1 M block records
// BM_ScanFiles              a cursor over 100 k file records
// BM_Coverage               the coverage summary of the 1 M-block manifest
// BM_RescrubBlocks/batch:N  rewriting existing synced blocks with a new
//                           verified_ns (what scrub commits): the summary
//                           upkeep finds every old record
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "atlas/hash.h"
#include "atlas/manifest.h"

namespace atlas {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kBlocks = 1'000'000;
constexpr std::uint64_t kFiles = 100'000;

fs::path TempDir(const std::string& tag) {
  fs::path root = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  fs::path dir = root / fmt::format("atlas-manifest-bench-{}-{}", tag, ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::unique_ptr<Manifest> Open(const fs::path& dir) {
  ManifestOptions o;
  o.create_if_missing = true;
  Result<std::unique_ptr<Manifest>> m = OpenManifest(dir / "manifest", o);
  if (!m.ok()) {
    fmt::print(stderr, "open: {}\n", m.status().ToString());
    std::abort();
  }
  return std::move(m).value();
}

void Check(const Status& s) {
  if (!s.ok()) {
    fmt::print(stderr, "{}\n", s.ToString());
    std::abort();
  }
}

BlockRecord Block(std::uint64_t pos, std::int64_t verified_ns) {
  BlockRecord b;
  b.slot = static_cast<std::uint16_t>(pos % 4);
  b.pos = pos / 4;
  b.state = BlockState::kSynced;
  b.hash = Hash128{pos * 0x9e3779b97f4a7c15ull, pos};
  b.file_id = pos + 1;
  b.file_block = 0;
  b.verified_ns = verified_ns;
  return b;
}

FileRecord File(std::uint64_t i) {
  FileRecord f;
  f.slot = static_cast<std::uint16_t>(i % 4);
  f.path = fmt::format("d{:04d}/f{:07d}.bin", i / 4000, i);
  f.file_id = i + 1;
  f.size = 2048;
  f.mtime_ns = 1717200000LL * 1'000'000'000;
  f.inode = 1000 + i;
  f.mode = 0100644;
  f.extents.push_back({i / 4, 1});
  f.content = Hash128{i, i};
  return f;
}

// A manifest of kBlocks synced blocks and kFiles files, verified over 60
// days, built once per process.
struct Filled {
  fs::path dir = TempDir("filled");
  std::unique_ptr<Manifest> m = Open(dir);
  Filled() {
    std::unique_ptr<ManifestBatch> b = m->NewBatch();
    const std::int64_t day = 86'400'000'000'000;
    for (std::uint64_t i = 0; i < kBlocks; ++i) {
      b->PutBlock(Block(i, 1'700'000'000'000'000'000 + static_cast<std::int64_t>(i % 60) * day));
      if (i < kFiles) b->PutFile(File(i));
      if (b->Count() >= 50'000) {
        Check(m->Commit(*b, false));
        b = m->NewBatch();
      }
    }
    Check(m->Commit(*b, true));
  }
  ~Filled() {
    m.reset();
    fs::remove_all(dir);
  }
};

Filled& Shared() {
  static Filled* f = new Filled();
  return *f;
}

void BM_PutBlocks(benchmark::State& state, bool durable) {
  fs::path dir = TempDir("put");
  std::unique_ptr<Manifest> m = Open(dir);
  const std::uint64_t n = static_cast<std::uint64_t>(state.range(0));
  std::uint64_t next = 0;
  for (auto _ : state) {
    std::unique_ptr<ManifestBatch> b = m->NewBatch();
    for (std::uint64_t i = 0; i < n; ++i) b->PutBlock(Block(next++, 1'700'000'000'000'000'000));
    Check(m->Commit(*b, durable));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  m.reset();
  fs::remove_all(dir);
}
void BM_PutBlocksNoSync(benchmark::State& state) { BM_PutBlocks(state, false); }
void BM_PutBlocksDurable(benchmark::State& state) { BM_PutBlocks(state, true); }
BENCHMARK(BM_PutBlocksNoSync)->ArgName("batch")->Arg(1)->Arg(64)->Arg(4096)->Arg(65536);
BENCHMARK(BM_PutBlocksDurable)->ArgName("batch")->Arg(1)->Arg(4096);

void BM_RescrubBlocks(benchmark::State& state) {
  Filled& f = Shared();
  const std::uint64_t n = static_cast<std::uint64_t>(state.range(0));
  std::uint64_t next = 0;
  std::int64_t t = 1'760'000'000'000'000'000;
  for (auto _ : state) {
    std::unique_ptr<ManifestBatch> b = f.m->NewBatch();
    for (std::uint64_t i = 0; i < n; ++i) b->PutBlock(Block((next++) % kBlocks, t));
    Check(f.m->Commit(*b, false));
    t += 1'000'000'000;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_RescrubBlocks)->ArgName("batch")->Arg(64)->Arg(4096);

void BM_PutFiles(benchmark::State& state) {
  fs::path dir = TempDir("files");
  std::unique_ptr<Manifest> m = Open(dir);
  const std::uint64_t n = static_cast<std::uint64_t>(state.range(0));
  std::uint64_t next = 0;
  for (auto _ : state) {
    std::unique_ptr<ManifestBatch> b = m->NewBatch();
    for (std::uint64_t i = 0; i < n; ++i) b->PutFile(File(next++));
    Check(m->Commit(*b, false));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  m.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_PutFiles)->ArgName("batch")->Arg(1)->Arg(4096);

void BM_GetBlock(benchmark::State& state) {
  Filled& f = Shared();
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    std::uint64_t i = rng() % kBlocks;
    Result<std::optional<BlockRecord>> b = f.m->GetBlock(static_cast<std::uint16_t>(i % 4), i / 4);
    benchmark::DoNotOptimize(b);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetBlock);

void BM_GetFile(benchmark::State& state) {
  Filled& f = Shared();
  std::mt19937_64 rng(2);
  for (auto _ : state) {
    FileRecord want = File(rng() % kFiles);
    Result<std::optional<FileRecord>> r = f.m->GetFile(want.slot, want.path);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetFile);

void BM_ScanBlocks(benchmark::State& state) {
  Filled& f = Shared();
  std::uint64_t n = 0;
  for (auto _ : state) {
    for (std::uint16_t slot = 0; slot < 4; ++slot) {
      for (std::unique_ptr<Cursor<BlockRecord>> c = f.m->Blocks(slot); c->Valid(); c->Next()) ++n;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
}
BENCHMARK(BM_ScanBlocks)->Unit(benchmark::kMillisecond);

void BM_ScanFiles(benchmark::State& state) {
  Filled& f = Shared();
  std::uint64_t n = 0;
  for (auto _ : state) {
    for (std::uint16_t slot = 0; slot < 4; ++slot) {
      for (std::unique_ptr<Cursor<FileRecord>> c = f.m->Files(slot); c->Valid(); c->Next()) ++n;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
}
BENCHMARK(BM_ScanFiles)->Unit(benchmark::kMillisecond);

void BM_Coverage(benchmark::State& state) {
  Filled& f = Shared();
  for (auto _ : state) {
    Result<std::optional<std::vector<CoverageBucket>>> c = f.m->Coverage();
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_Coverage)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace atlas
