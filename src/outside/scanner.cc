// RunOutside: walk a compute host's media and compare it with Atlas's index.
//
// Approach, in three steps:
//
//  1. Walk. Every PATH (a directory or a file) is walked with lstat, never
//     following symlinks and never entering another file system (an NFS
//     mount of Atlas under the scanned tree must not be compared with
//     itself; name each file system to scan it). Media files (by extension,
//     case-insensitively, or every regular file with --all) that are not
//     empty are collected with their size and inode. A directory that cannot
//     be read is an error entry and the walk goes on.
//  2. Decide by size. A file whose size no Atlas file has cannot be a copy
//     of one: it is only_copy_outside without being opened. Media sizes are
//     nearly unique, so on a typical host only the duplicates themselves and
//     a few coincidences are left as candidates.
//  3. Hash the candidates, in parallel (one reader per CPU, each taking the
//     next file), in the index's block size: XXH3-128 of each block at its
//     real length, then XXH3-128 of the concatenated canonical block hashes,
//     which is the content identity sync stores (docs/FORMAT.md "Content
//     identity"). Hard links of one inode are read once. A candidate whose
//     (size, content) is in the index is duplicate_outside, naming the Atlas
//     copy; otherwise only_copy_outside, naming an Atlas file with the same
//     base name if there is one ("same name, other content").
//
// Only reads: files are opened O_RDONLY (with O_NOATIME where allowed) through
// the FileSystem seam and nothing is created anywhere.
//
// Rejected: whole-file XXH3-128 (what xxh128sum prints) in the index. It
// would let a compute host compare without knowing the block size, but sync
// would have to read every byte of Atlas to produce it, while the block
// hashes are already in the manifest. Hashing per block costs the same here.
//
// Measured with bench/outside_bench.sh (release preset, SCALE=1.0: 1,240
// files, 1.87 GiB in /dev/shm, half of them also on Atlas; a shared 2 vCPU
// AMD EPYC VM under a load average of 14-20 from other builds, so wall times
// vary): `outside --all` 0.80-1.20 s wall and 0.26-0.29 s CPU, against
// 1.26-2.13 s wall and 0.46-0.61 s CPU for `find | xargs -P2 xxh128sum`,
// i.e. 1.2-2.2x the rate and 1.6-2.4x less CPU. Hashing every file (all
// candidates, 800 MB) it is on par with xxh128sum (1.34 s against 1.48 s).
#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "atlas/outside.h"

namespace atlas {
namespace {

namespace stdfs = std::filesystem;

// Bytes read per call (at most; a block smaller than this is read whole). A
// block is hashed incrementally over such pieces. Small reads keep the buffer
// in the L1/L2 cache between the kernel's copy and the hash: on tmpfs a
// 64 KiB pread took 13 us and a 256 KiB one 239 us (strace -c, 2 vCPU EPYC),
// so block-sized reads ran at a fifth of xxh128sum's speed.
constexpr std::size_t kReadBytes = 64u << 10;

struct Item {
  std::string path;  // as walked: PATH or PATH/rel
  std::uint64_t size = 0;
  std::uint64_t dev = 0;
  std::uint64_t inode = 0;
  std::size_t job = SIZE_MAX;  // index into the hash jobs, when a candidate
};

struct Job {
  std::string path;  // the first name of the inode
  std::uint64_t size = 0;
  bool ok = false;
  Hash128 content{};
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view BaseName(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool IsMedia(std::string_view path, const std::vector<std::string>& extensions) {
  const std::string_view base = BaseName(path);
  const std::size_t dot = base.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == base.size())
    return false;
  const std::string ext = Lower(base.substr(dot + 1));
  return std::find(extensions.begin(), extensions.end(), ext) != extensions.end();
}

std::string Join(const stdfs::path& root, std::string_view rel) {
  std::string s = root.native();
  if (!s.empty() && s.back() != '/')
    s += '/';
  s.append(rel);
  return s;
}

class Scanner {
 public:
  Scanner(const RunContext& ctx, const OutsideIndex& index, const OutsideOptions& options,
          OutsideReport* report)
      : ctx_(ctx), index_(index), options_(options), report_(report) {}

  Status Run() {
    if (options_.paths.empty())
      return Status::InvalidArgument("outside: name at least one PATH to scan");
    std::vector<std::pair<stdfs::path, FileStat>> roots;
    for (const stdfs::path& p : options_.paths) {
      Result<FileStat> st = ctx_.fs->Stat(p);
      if (st.ok() && st->type == FileType::kSymlink) {
        // A PATH given on the command line is followed (like find -H): the
        // user named it; links met inside the walk are not.
        std::error_code ec;
        const stdfs::path target = stdfs::canonical(p, ec);
        st = ec ? Result<FileStat>(Status::FromErrno(ec.value(), "resolve " + p.string()))
                : ctx_.fs->Stat(target);
      }
      if (!st.ok()) {
        if (st.status().code() == Code::kNotFound)
          return Status::InvalidArgument(fmt::format("{}: no such file or directory", p.string()));
        AddError(p.string(), st.status());
        continue;
      }
      roots.emplace_back(p, *st);
    }

    ctx_.progress->BeginPhase("scan", 0);
    std::size_t failed_roots = options_.paths.size() - roots.size();
    for (const auto& [root, st] : roots) {
      if (ctx_.stop.stop_requested())
        break;
      if (st.type == FileType::kDirectory) {
        if (!WalkRoot(root))
          ++failed_roots;
      } else if (st.type == FileType::kRegular) {
        Consider(root.native(), st);
      }
    }
    ctx_.progress->EndPhase();
    if (ctx_.stop.stop_requested())
      return Status::Cancelled("outside: interrupted");
    if (failed_roots == options_.paths.size()) {
      return Status::IOError(
          fmt::format("outside: none of the paths could be read ({})",
                      report_->errors.empty() ? "" : report_->errors.front().message));
    }

    Status hashed = HashCandidates();
    Decide();
    return hashed;
  }

 private:
  void AddError(std::string path, const Status& s) {
    report_->errors.push_back(OutsideError{.path = std::move(path), .message = s.ToString()});
  }

  // Returns false when the root itself could not be read.
  bool WalkRoot(const stdfs::path& root) {
    WalkOptions wo;
    wo.same_device = true;
    wo.on_error = [&](std::string_view rel, const Status& error) {
      AddError(Join(root, rel), error);
      return Status::Ok();
    };
    Status s = ctx_.fs->Walk(root, wo, [&](const WalkEntry& e) {
      if (ctx_.stop.stop_requested())
        return Status::Cancelled("outside: interrupted");
      if (e.stat.type == FileType::kRegular)
        Consider(Join(root, e.rel_path), e.stat);
      return Status::Ok();
    });
    if (!s.ok() && s.code() != Code::kCancelled) {
      AddError(root.native(), s);
      return false;
    }
    return true;
  }

  void Consider(std::string path, const FileStat& st) {
    if (st.size == 0)
      return;  // nothing to lose and nothing to compare
    if (!options_.all && !IsMedia(path, options_.media_extensions))
      return;
    report_->scanned_files++;
    report_->scanned_bytes += st.size;
    ctx_.progress->Advance(st.size);
    Item item{.path = std::move(path), .size = st.size, .dev = st.dev, .inode = st.inode};
    if (index_.HasSize(st.size)) {
      auto [it, fresh] = job_of_inode_.try_emplace({st.dev, st.inode}, jobs_.size());
      if (fresh)
        jobs_.push_back(Job{.path = item.path, .size = st.size});
      item.job = it->second;
    }
    items_.push_back(std::move(item));
  }

  Status HashCandidates() {
    if (jobs_.empty())
      return Status::Ok();
    std::uint64_t total = 0;
    for (const Job& j : jobs_) total += j.size;
    ctx_.progress->BeginPhase("hash", total);
    unsigned n = options_.threads != 0 ? options_.threads : std::thread::hardware_concurrency();
    n = std::max(1u, std::min<unsigned>(n, static_cast<unsigned>(jobs_.size())));
    std::atomic<std::size_t> next{0};
    std::atomic<std::uint64_t> bytes{0};
    std::mutex errors_mu;
    std::vector<OutsideError> errors;
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < n; ++t) {
      threads.emplace_back([&] {
        const std::size_t bs = index_.block_size();
        const std::size_t chunk = std::min(bs, kReadBytes);  // divides bs: powers of two
        std::unique_ptr<std::byte[]> buf(new std::byte[chunk]);
        for (std::size_t i = next++; i < jobs_.size(); i = next++) {
          if (ctx_.stop.stop_requested())
            break;
          Status s = HashOne(&jobs_[i], std::span<std::byte>(buf.get(), chunk), &bytes);
          ClearUpperVectorState();
          if (!s.ok() && s.code() != Code::kCancelled) {
            std::lock_guard<std::mutex> lock(errors_mu);
            errors.push_back(OutsideError{.path = jobs_[i].path, .message = s.ToString()});
          }
        }
      });
    }
    for (std::thread& th : threads) th.join();
    ctx_.progress->EndPhase();
    for (OutsideError& e : errors) report_->errors.push_back(std::move(e));
    report_->hashed_bytes = bytes.load();
    if (ctx_.stop.stop_requested())
      return Status::Cancelled("outside: interrupted");
    return Status::Ok();
  }

  // Content identity of one candidate, exactly as sync computes it.
  Status HashOne(Job* job, std::span<std::byte> buf, std::atomic<std::uint64_t>* bytes) {
    ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, ctx_.fs->OpenForRead(job->path));
    const std::size_t bs = index_.block_size();
    Hasher128 content;
    std::optional<Hasher128> block;  // the block being read
    std::uint64_t in_block = 0;
    std::uint64_t offset = 0;
    for (bool eof = false; !eof;) {
      if (ctx_.stop.stop_requested())
        return Status::Cancelled("outside: interrupted");
      // Fill the whole piece unless the file ends, so blocks are cut where
      // sync cuts them: every bs bytes, the last one at its real length.
      std::size_t got = 0;
      while (got < buf.size()) {
        ATLAS_ASSIGN_OR_RETURN(std::size_t more, file->ReadAt(offset + got, buf.subspan(got)));
        if (more == 0) {
          eof = true;
          break;
        }
        got += more;
      }
      if (got > 0) {
        if (!block)
          block.emplace();
        block->Update(buf.first(got));
        in_block += got;
      }
      if (in_block == bs || (eof && in_block > 0)) {
        std::byte raw[16];
        block->Digest().ToBytes(raw);
        content.Update(std::span<const std::byte>(raw, 16));
        block.reset();
        in_block = 0;
      }
      offset += got;
      bytes->fetch_add(got, std::memory_order_relaxed);
      ctx_.progress->Advance(got);
    }
    if (offset != job->size) {
      return Status::IOError(
          fmt::format("{}: changed while scanned ({} bytes listed, {} read); scan again", job->path,
                      job->size, offset));
    }
    job->content = content.Digest();
    job->ok = true;
    return Status::Ok();
  }

  // Atlas files by base name, for "same name, other content". Built on the
  // first only_copy_outside finding.
  const OutsideIndexEntry* SameName(std::string_view path) {
    if (!by_name_built_) {
      // The first in index order wins, so the name given is stable.
      for (const OutsideIndexEntry& e : index_.entries())
        by_name_.try_emplace(BaseName(e.path), &e);
      by_name_built_ = true;
    }
    auto it = by_name_.find(BaseName(path));
    return it == by_name_.end() ? nullptr : it->second;
  }

  void Decide() {
    std::sort(items_.begin(), items_.end(),
              [](const Item& a, const Item& b) { return a.path < b.path; });
    for (const Item& item : items_) {
      if (item.job != SIZE_MAX) {
        const Job& job = jobs_[item.job];
        if (!job.ok)
          continue;  // unreadable (an error) or interrupted: undecided
        std::span<const OutsideIndexEntry> same = index_.Find(item.size, job.content);
        if (!same.empty()) {
          const std::string where = index_.Where(same.front());
          std::string message = "duplicates " + where;
          if (same.size() > 1)
            message += fmt::format(" (and {} more Atlas copies)", same.size() - 1);
          Finding f =
              MakeFinding(FindingKind::kDuplicateOutside, "", item.path, std::move(message));
          f.from = where;
          report_->findings.push_back(std::move(f));
          report_->duplicates++;
          continue;
        }
      }
      std::string message = "no copy on Atlas";
      if (const OutsideIndexEntry* named = SameName(item.path)) {
        message += "; Atlas has " + index_.Where(*named) + " with the same name but other content";
      }
      report_->findings.push_back(
          MakeFinding(FindingKind::kOnlyCopyOutside, "", item.path, std::move(message)));
      report_->only_copy++;
    }
    // hashed_files counts inodes read, not names.
    report_->hashed_files = 0;
    for (const Job& j : jobs_) report_->hashed_files += j.ok ? 1 : 0;
  }

  struct PairHash {
    std::size_t operator()(const std::pair<std::uint64_t, std::uint64_t>& p) const {
      return std::hash<std::uint64_t>()(p.first * 0x9e3779b97f4a7c15ull ^ p.second);
    }
  };

  const RunContext& ctx_;
  const OutsideIndex& index_;
  const OutsideOptions& options_;
  OutsideReport* report_;
  std::vector<Item> items_;
  std::vector<Job> jobs_;
  std::unordered_map<std::pair<std::uint64_t, std::uint64_t>, std::size_t, PairHash> job_of_inode_;
  std::unordered_map<std::string_view, const OutsideIndexEntry*> by_name_;
  bool by_name_built_ = false;
};

}  // namespace

Status RunOutside(const RunContext& ctx, const OutsideIndex& index, const OutsideOptions& options,
                  OutsideReport* report) {
  *report = OutsideReport();
  const std::int64_t t0 = ctx.clock->MonotonicNanos();
  ATLAS_RETURN_IF_ERROR(HashSelfTest().WithContext("self-test"));
  Scanner scanner(ctx, index, options, report);
  Status s = scanner.Run();
  report->seconds = static_cast<double>(ctx.clock->MonotonicNanos() - t0) / 1e9;
  return s;
}

}  // namespace atlas
