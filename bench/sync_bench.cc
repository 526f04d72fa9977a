// The sync engine end to end, in process: RunSync over a generated array in
// a temp dir (under /dev/shm when it exists, so the data disks are RAM and
// the figures are the engine's CPU cost: walk, manifest, read, XXH3,
// Reed-Solomon, parity writes, fdatasync, RocksDB commits). Real disks are
// slower; these figures bound what the engine can feed them.
//
//   build/release/bench/sync_bench
//   build/release/bench/sync_bench --benchmark_filter=BM_SyncNoop
//
// BM_SyncFull/disks:D/parity:P: a first sync of ~256 MiB spread over D data
// disks, a media-like mix per disk (three large files, ~200 small ones from
// 1 KiB to 256 KiB). Between iterations, outside the timing, the manifest
// and the parity files are deleted, so every iteration is a first sync.
// Bytes/s counts data bytes.
// BM_SyncNoop/disks:D: a sync with nothing to do on a synced array (lock,
// read-only manifest open, one metadata walk per disk). items/s counts the
// files walked.
//
// Both are multi-threaded, so time and rates are wall-clock (UseRealTime).
//
// Measured with the release preset on the project VM (2 vCPU shared with
// other jobs, load average 2.2-3.1 throughout, so the spread is wide), five
// runs, /dev/shm; MiB/s as Google Benchmark prints it, min-max:
//
//   BM_SyncFull  disks:2 parity:1   490-990 MiB/s   (258-527 ms)
//                disks:4 parity:1   730-955 MiB/s   (268-350 ms)
//                disks:2 parity:2   535-770 MiB/s   (331-478 ms)
//                disks:4 parity:2   695-895 MiB/s   (286-368 ms)
//   BM_SyncNoop  copies:0           26-52 ms for ~415 files
//                copies:1           5.0-7.6 ms
//
// perf, full sync: most time is the kernel copying tmpfs pages (pread of
// the data, pwrite of fresh parity pages), then ISA-L (gf_2vect_dot_prod)
// and the RocksDB commits; hashing is a small share. No-op sync without
// manifest_copies: ~60% is DB::OpenForReadOnly replaying the WAL of the last
// sync into a memtable (nothing flushed it to an SST); with a copy
// configured, CopyTo flushed it and the open is cheap.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "atlas/config.h"
#include "atlas/engine.h"
#include "atlas/env.h"
#include "atlas/progress.h"

namespace atlas {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kArrayBytes = 256ull << 20;
constexpr int kLargeFilesPerDisk = 3;
constexpr double kLargeShare = 0.8;  // of each disk's bytes; the rest is small files
constexpr std::uint64_t kSmallMin = 1 << 10;
constexpr std::uint64_t kSmallMax = 256 << 10;

fs::path ScratchBase() {
  std::error_code ec;
  if (fs::is_directory("/dev/shm", ec))
    return "/dev/shm";
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? fs::path(tmp) : fs::path("/tmp");
}

// splitmix64: fast, deterministic, incompressible enough for checksums.
class Bytes {
 public:
  explicit Bytes(std::uint64_t seed) : x_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (x_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t x_;
};

// Writes `size` pseudo-random bytes to `path` in 1 MiB chunks. False on error.
bool WriteRandomFile(const fs::path& path, std::uint64_t size, Bytes* rng) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::vector<std::uint64_t> chunk((1 << 20) / 8);
  for (std::uint64_t done = 0; done < size;) {
    for (std::uint64_t& w : chunk) w = rng->Next();
    const std::uint64_t n = std::min<std::uint64_t>(size - done, chunk.size() * 8);
    out.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(n));
    done += n;
  }
  return out.good();
}

// A generated array in its own directory, removed on destruction.
class BenchArray {
 public:
  // `copies`: with a manifest_copies directory (off the data disks).
  BenchArray(int disks, int levels, bool copies) {
    std::string tmpl = (ScratchBase() / "atlas-sync-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      error_ = "mkdtemp " + tmpl + " failed";
      return;
    }
    root_ = tmpl;
    manifest_ = root_ / "manifest";
    std::string toml = "manifest = \"" + manifest_.string() + "\"\n";
    if (copies)
      toml += "manifest_copies = [\"" + (root_ / "copies").string() + "\"]\n";
    Bytes rng(42);
    const std::uint64_t per_disk = kArrayBytes / static_cast<std::uint64_t>(disks);
    for (int d = 1; d <= disks; ++d) {
      const fs::path dir = root_ / "disks" / ("d" + std::to_string(d));
      toml += "[[data]]\nname = \"d" + std::to_string(d) + "\"\npath = \"" + dir.string() + "\"\n";
      if (!Populate(dir, per_disk, &rng))
        return;
    }
    for (int l = 1; l <= levels; ++l) {
      parity_.push_back(root_ / "parity" / ("p" + std::to_string(l) + ".parity"));
      toml += "[[parity]]\npath = \"" + parity_.back().string() + "\"\n";
    }
    fs::create_directories(root_ / "parity");
    Result<Config> config = ParseConfig(toml, root_ / "atlas-scrub.toml");
    if (!config.ok()) {
      error_ = config.status().ToString();
      return;
    }
    config_ = std::move(config).value();
  }
  ~BenchArray() {
    std::error_code ec;
    if (!root_.empty())
      fs::remove_all(root_, ec);
  }
  BenchArray(const BenchArray&) = delete;
  BenchArray& operator=(const BenchArray&) = delete;

  // Empty when the array was built; otherwise what went wrong.
  const std::string& error() const { return error_; }
  const Config& config() const { return config_; }
  std::uint64_t data_bytes() const { return data_bytes_; }
  std::uint64_t files() const { return files_; }

  // Back to "never synced": no manifest, no lock file, no parity.
  void Forget() {
    std::error_code ec;
    fs::remove_all(manifest_, ec);
    fs::remove(fs::path(manifest_.string() + ".lock"), ec);
    for (const fs::path& p : parity_) fs::remove(p, ec);
  }

  Status Sync(SyncReport* report) const {
    RunContext ctx{&config_, FileSystem::Default(), Clock::Default(), NullProgress(), {}};
    return RunSync(ctx, SyncOptions(), report);
  }

 private:
  // A media-like disk: a few large files holding most bytes (not block
  // aligned), then small files of 1 KiB .. 256 KiB in a few directories.
  bool Populate(const fs::path& dir, std::uint64_t bytes, Bytes* rng) {
    fs::create_directories(dir / "Movies");
    const std::uint64_t large =
        static_cast<std::uint64_t>(static_cast<double>(bytes) * kLargeShare);
    for (int i = 0; i < kLargeFilesPerDisk; ++i) {
      const std::uint64_t size = large / kLargeFilesPerDisk + rng->Next() % 4096;
      if (!Add(dir / "Movies" / ("film " + std::to_string(i) + ".mkv"), size, rng))
        return false;
    }
    std::uint64_t small_left = bytes - large;
    for (int i = 0; small_left >= kSmallMin; ++i) {
      const fs::path sub = dir / "Photos" / ("album " + std::to_string(i / 50));
      fs::create_directories(sub);
      std::uint64_t size = kSmallMin + rng->Next() % (kSmallMax - kSmallMin);
      size = std::min(size, small_left);
      if (!Add(sub / ("IMG_" + std::to_string(i) + ".jpg"), size, rng))
        return false;
      small_left -= size;
    }
    return true;
  }
  bool Add(const fs::path& path, std::uint64_t size, Bytes* rng) {
    if (!WriteRandomFile(path, size, rng)) {
      error_ = "cannot write " + path.string();
      return false;
    }
    data_bytes_ += size;
    files_++;
    return true;
  }

  fs::path root_;
  fs::path manifest_;
  std::vector<fs::path> parity_;
  Config config_;
  std::uint64_t data_bytes_ = 0;
  std::uint64_t files_ = 0;
  std::string error_;
};

// First full sync. Args: data disks, parity levels.
void BM_SyncFull(benchmark::State& state) {
  BenchArray array(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)),
                   /*copies=*/false);
  if (!array.error().empty()) {
    state.SkipWithError(array.error().c_str());
    return;
  }
  if (Status s = EngineSelfTest(); !s.ok()) {  // once per process; not timed
    state.SkipWithError(s.ToString().c_str());
    return;
  }
  std::string error;
  for (auto _ : state) {
    state.PauseTiming();
    array.Forget();
    state.ResumeTiming();
    SyncReport report;
    Status s = array.Sync(&report);
    if (!s.ok() || report.positions_left != 0 || report.bytes_hashed != array.data_bytes()) {
      error = s.ok() ? "sync left work undone" : s.ToString();
      break;
    }
  }
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(array.data_bytes()));
  state.counters["files"] = static_cast<double>(array.files());
}
BENCHMARK(BM_SyncFull)
    ->ArgNames({"disks", "parity"})
    ->ArgsProduct({{2, 4}, {1, 2}})
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// A sync with nothing to do on a synced array. Args: data disks, whether
// manifest_copies is configured (CopyTo flushes the memtable into an SST, so
// the WAL a read-only open replays is then short; see the file comment).
void BM_SyncNoop(benchmark::State& state) {
  BenchArray array(static_cast<int>(state.range(0)), 1, state.range(1) != 0);
  if (!array.error().empty()) {
    state.SkipWithError(array.error().c_str());
    return;
  }
  SyncReport first;
  if (Status s = array.Sync(&first); !s.ok()) {
    state.SkipWithError(s.ToString().c_str());
    return;
  }
  std::string error;
  for (auto _ : state) {
    SyncReport report;
    Status s = array.Sync(&report);
    if (!s.ok() || !report.nothing_to_do) {
      error = s.ok() ? "a sync of a synced array found work" : s.ToString();
      break;
    }
  }
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(array.files()));
  state.counters["files"] = static_cast<double>(array.files());
}
BENCHMARK(BM_SyncNoop)
    ->ArgNames({"disks", "copies"})
    ->ArgsProduct({{2, 4}, {0, 1}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace atlas
