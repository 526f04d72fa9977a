// scale_fill: makes a large sparse array and its manifest without reading
// terabytes, for bench/scale_sparse.sh.
//
//   scale_fill CONFIG FILES_PER_DISK FILE_BYTES [SPREAD_DAYS]
//
// For each data disk of CONFIG it creates FILES_PER_DISK sparse files
// (big/fNNNNNN.bin, ftruncate'd to FILE_BYTES: holes, all zeros) and writes,
// through the library's manifest API, exactly the records a first sync
// would: file records with contiguous extents, synced block records whose
// hash is XXH3-128 of the zeros they hold, content identities, free-extent
// high-water marks, disk records and the meta keys. Verification times are
// spread over SPREAD_DAYS (default 60) before now, so the coverage summary
// has many buckets. The parity of all-zero data is zeros, so each parity
// file is a sparse file of the right size. The result is a correct, synced
// array: a sync afterwards finds nothing to hash (it only refreshes the disk
// identities), and scrub would verify every block clean.
//
// Everything goes through ManifestBatch, so the coverage summary is
// maintained the same way sync maintains it.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "atlas/config.h"
#include "atlas/env.h"
#include "atlas/hash.h"
#include "atlas/manifest.h"

namespace {

namespace fs = std::filesystem;
using namespace atlas;

int Fail(const std::string& what) {
  fmt::print(stderr, "scale_fill: {}\n", what);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    fmt::print(stderr, "usage: scale_fill CONFIG FILES_PER_DISK FILE_BYTES [SPREAD_DAYS]\n");
    return 2;
  }
  Result<Config> loaded = LoadConfig(FileSystem::Default(), argv[1]);
  if (!loaded.ok()) return Fail(loaded.status().ToString());
  const Config& config = *loaded;
  const std::uint64_t files_per_disk = std::strtoull(argv[2], nullptr, 10);
  const std::uint64_t file_bytes = std::strtoull(argv[3], nullptr, 10);
  const double spread_days = argc > 4 ? std::strtod(argv[4], nullptr) : 60.0;
  const std::uint32_t bs = config.block_size;
  const std::uint64_t blocks_per_file = (file_bytes + bs - 1) / bs;
  const std::int64_t now = Clock::Default()->NowUnixNanos();
  const std::int64_t mtime_ns = 1717200000LL * 1'000'000'000 + 123456789;

  // The hashes of a whole zero block and of the short last one.
  std::vector<std::byte> zeros(bs);
  const Hash128 full_hash = HashBlock(zeros);
  const std::uint64_t tail = file_bytes % bs;
  const Hash128 tail_hash = HashBlock(std::span<const std::byte>(zeros.data(), tail == 0 ? bs : tail));
  Hasher128 content_h;
  for (std::uint64_t i = 0; i < blocks_per_file; ++i) {
    std::byte raw[16];
    (i + 1 == blocks_per_file ? tail_hash : full_hash).ToBytes(raw);
    content_h.Update(std::span<const std::byte>(raw, 16));
  }
  const Hash128 content = content_h.Digest();

  ManifestOptions mo;
  mo.create_if_missing = true;
  Result<std::unique_ptr<Manifest>> opened = OpenManifest(config.manifest, mo);
  if (!opened.ok()) return Fail(opened.status().ToString());
  Manifest& m = **opened;

  std::uint64_t next_id = 1;
  std::uint64_t max_pos = 0;
  const std::uint64_t total_blocks = files_per_disk * blocks_per_file * config.data.size();
  std::uint64_t block_no = 0;
  for (std::size_t di = 0; di < config.data.size(); ++di) {
    const auto& d = config.data[di];
    fs::create_directories(d.path / "big");
    std::unique_ptr<ManifestBatch> batch = m.NewBatch();
    std::uint64_t pos = 0, bytes = 0;
    for (std::uint64_t f = 0; f < files_per_disk; ++f) {
      std::string rel = fmt::format("big/f{:06d}.bin", f);
      fs::path p = d.path / rel;
      int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(file_bytes)) != 0) return Fail("create " + p.string());
      struct timespec ts[2] = {{mtime_ns / 1'000'000'000, mtime_ns % 1'000'000'000},
                               {mtime_ns / 1'000'000'000, mtime_ns % 1'000'000'000}};
      ::futimens(fd, ts);
      struct stat st {};
      ::fstat(fd, &st);
      ::close(fd);
      FileRecord rec;
      rec.slot = static_cast<std::uint16_t>(di);
      rec.path = rel;
      rec.file_id = next_id++;
      rec.size = file_bytes;
      rec.mtime_ns = mtime_ns;
      rec.inode = st.st_ino;
      rec.mode = st.st_mode;
      rec.uid = st.st_uid;
      rec.gid = st.st_gid;
      if (blocks_per_file > 0) rec.extents.push_back({pos, blocks_per_file});
      rec.content = content;
      batch->PutFile(rec);
      for (std::uint64_t i = 0; i < blocks_per_file; ++i, ++block_no) {
        BlockRecord b;
        b.slot = rec.slot;
        b.pos = pos + i;
        b.state = BlockState::kSynced;
        b.hash = i + 1 == blocks_per_file ? tail_hash : full_hash;
        b.file_id = rec.file_id;
        b.file_block = i;
        // Spread over the last SPREAD_DAYS, oldest first.
        b.verified_ns = now - static_cast<std::int64_t>(spread_days * 86400e9 *
                                                         (1.0 - static_cast<double>(block_no) /
                                                                    static_cast<double>(total_blocks)));
        batch->PutBlock(b);
        if (batch->Count() >= 100000) {
          if (Status s = m.Commit(*batch, false); !s.ok()) return Fail(s.ToString());
          batch = m.NewBatch();
        }
      }
      pos += blocks_per_file;
      bytes += file_bytes;
    }
    max_pos = std::max(max_pos, pos);
    DiskRecord r;
    r.name = d.name;
    r.role = DiskRole::kData;
    r.index = static_cast<std::uint16_t>(di);
    r.path = d.path.string();
    r.next_pos = pos;
    r.files = files_per_disk;
    r.bytes = bytes;
    batch->PutDisk(r);
    if (Status s = m.Commit(*batch, false); !s.ok()) return Fail(s.ToString());
  }
  std::unique_ptr<ManifestBatch> batch = m.NewBatch();
  for (std::size_t l = 0; l < config.parity.size(); ++l) {
    const auto& p = config.parity[l];
    fs::create_directories(p.path.parent_path());
    int fd = ::open(p.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(max_pos * bs)) != 0) return Fail("create " + p.path.string());
    ::close(fd);
    DiskRecord r;
    r.name = p.name;
    r.role = DiskRole::kParity;
    r.index = static_cast<std::uint16_t>(l);
    r.path = p.path.string();
    r.parity_size = max_pos * bs;
    batch->PutDisk(r);
  }
  batch->PutMeta("block_size", std::to_string(bs));
  batch->PutMeta("parity_levels", std::to_string(config.parity.size()));
  batch->PutMeta("first_sync_ns", std::to_string(now));
  batch->PutMeta("last_sync_start_ns", std::to_string(now));
  batch->PutMeta("last_sync_ns", std::to_string(now));
  batch->PutMeta("next_file_id", std::to_string(next_id));
  if (Status s = m.Commit(*batch, true); !s.ok()) return Fail(s.ToString());
  fmt::print("{} files, {} blocks, {} bytes, {} positions per disk\n", next_id - 1, total_blocks,
             file_bytes * files_per_disk * config.data.size(), max_pos);
  return 0;
}
