// StripeScanner: see the header. Windows of positions are double-buffered:
// while the caller's callback works through window N (parity math,
// comparisons, manifest updates), the readers fill window N+1. Each data
// disk and each parity file has exactly one reader thread, so every disk is
// read sequentially in position order and all disks are read at once: the
// rebuild and scrub speed is that of the slowest disk, not the sum of all
// (SnapRAID's check and fix read one disk after another).
#include "scrub/stripe_scanner.h"

#include <algorithm>
#include <cstring>
#include <queue>

#include <fmt/format.h>

#include "atlas/hash.h"
#include "scrub/disk_workers.h"
#include "scrub/parallel.h"

namespace atlas {
namespace {

// Both windows together. 16 MiB: 5 positions a window for 4+2 at 256 KiB;
// 32 MiB measured no faster and cost 24 MiB more RSS (DESIGN.md, Performance).
constexpr std::uint64_t kWindowBytes = 16ull << 20;

struct ScanWindow {
  ScanWindow(std::size_t positions, std::size_t ndata, std::size_t levels, std::uint32_t bs)
      : data(positions * ndata * bs), parity(positions * levels * bs), stripes(positions) {}
  AlignedBuffer data;    // [stripe][disk] blocks
  AlignedBuffer parity;  // [stripe][level] blocks
  std::vector<ScannedStripe> stripes;
  std::size_t count = 0;
  WaitGroup done;
};

}  // namespace

StripeScanner::StripeScanner(const RunContext& ctx, Manifest* m, const ArrayView& array,
                             const ScanOptions& options)
    : ctx_(ctx),
      m_(m),
      array_(array),
      options_(options),
      errors_(array.data.size()),
      bytes_(array.data.size() + array.parity.size()) {}

std::vector<std::string> StripeScanner::GivenUp() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < errors_.size(); ++i) {
    if (errors_[i] >= options_.disk_error_limit) out.push_back(array_.data[i].name);
  }
  return out;
}

std::uint64_t StripeScanner::bytes_read() const {
  std::uint64_t n = 0;
  for (std::uint64_t b : bytes_) n += b;
  return n;
}

Status StripeScanner::Run(const std::vector<std::uint64_t>& positions,
                          const std::function<Status(const ScannedStripe&)>& fn) {
  const std::uint32_t bs = ctx_.config->block_size;
  const std::size_t ndata = array_.data.size();
  const std::size_t levels = options_.read_parity ? array_.parity.size() : 0;
  const std::size_t per_window =
      std::max<std::uint64_t>(1, kWindowBytes / 2 / (static_cast<std::uint64_t>(ndata + levels) * bs));
  ScanWindow windows[2] = {ScanWindow(per_window, ndata, levels, bs), ScanWindow(per_window, ndata, levels, bs)};

  std::vector<std::unique_ptr<RandomAccessFile>> parity_files;
  for (std::size_t l = 0; l < levels; ++l) {
    Result<std::unique_ptr<RandomAccessFile>> f = ctx_.fs->OpenForRead(array_.parity[l].path);
    parity_files.push_back(f.ok() ? std::move(f).value() : nullptr);
  }
  std::size_t threads = ctx_.config->io_threads > 0 ? std::min<std::size_t>(ctx_.config->io_threads, ndata) : ndata;
  DiskWorkers workers(threads + levels);
  std::vector<BlockReader> readers;
  readers.reserve(ndata);
  for (const ArrayDataDisk& d : array_.data) readers.emplace_back(ctx_, m_, d, bs);

  // The dirty index, merged as positions go by (both are sorted).
  std::unique_ptr<Cursor<DirtyEntry>> dirty = m_->Dirty(0);
  std::size_t next = 0;

  auto start = [&](ScanWindow& w) -> Status {
    w.count = std::min(per_window, positions.size() - next);
    for (std::size_t i = 0; i < w.count; ++i) {
      ScannedStripe& s = w.stripes[i];
      s.pos = positions[next + i];
      s.recs.assign(ndata, std::nullopt);
      s.checks.assign(ndata, BlockCheck());
      s.read.assign(ndata, 0);
      s.paths.assign(ndata, std::string());
      s.data.resize(ndata);
      s.parity.resize(levels);
      s.parity_status.assign(levels, Status());
      s.parity_read.assign(levels, 0);
      while (dirty->Valid() && dirty->value().pos < s.pos) dirty->Next();
      s.dirty = dirty->Valid() && dirty->value().pos == s.pos;
      for (std::size_t di = 0; di < ndata; ++di) {
        s.data[di] = w.data.data + (i * ndata + di) * bs;
        ATLAS_ASSIGN_OR_RETURN(s.recs[di], m_->GetBlock(array_.data[di].slot, s.pos));
        if (s.recs[di] && s.recs[di]->state != BlockState::kSynced) s.dirty = true;
      }
      for (std::size_t l = 0; l < levels; ++l) s.parity[l] = w.parity.data + (i * levels + l) * bs;
    }
    ATLAS_RETURN_IF_ERROR(dirty->status());
    next += w.count;
    w.done.Add(static_cast<int>(ndata + levels));
    for (std::size_t di = 0; di < ndata; ++di) {
      workers.Submit(di % threads, [&, di, wp = &w] {
        for (std::size_t i = 0; i < wp->count; ++i) {
          ScannedStripe& s = wp->stripes[i];
          const std::optional<BlockRecord>& rec = s.recs[di];
          if (!rec || rec->state != BlockState::kSynced || errors_[di] >= options_.disk_error_limit) {
            std::memset(s.data[di], 0, bs);
            continue;
          }
          s.checks[di] = readers[di].Read(*rec, s.data[di]);
          s.read[di] = 1;
          if (const FileRecord* f = readers[di].file()) s.paths[di] = f->path;
          if (s.checks[di].outcome == BlockCheck::Outcome::kReadError) errors_[di]++;
          bytes_[di] += s.checks[di].bytes;
          ctx_.progress->Advance(bs);
        }
        ClearUpperVectorState();
        wp->done.Done();
      });
    }
    for (std::size_t l = 0; l < levels; ++l) {
      const std::vector<bool>& wanted = options_.parity_levels;
      if (!wanted.empty() && (l >= wanted.size() || !wanted[l])) {
        w.done.Done();
        continue;
      }
      workers.Submit(threads + l, [&, l, wp = &w] {
        for (std::size_t i = 0; i < wp->count; ++i) {
          ScannedStripe& s = wp->stripes[i];
          s.parity_read[l] = 1;
          if (!parity_files[l]) {
            s.parity_status[l] = Status::NotFound("parity file " + array_.parity[l].path.string() + " cannot be opened");
            continue;
          }
          Result<std::size_t> n = parity_files[l]->ReadAt(s.pos * bs, std::span(s.parity[l], bs));
          if (!n.ok()) {
            s.parity_status[l] = n.status();
            continue;
          }
          if (*n < bs) std::memset(s.parity[l] + *n, 0, bs - *n);
          bytes_[ndata + l] += *n;
        }
        wp->done.Done();
      });
    }
    return Status::Ok();
  };

  Status status;
  int cur = 0;
  if (!positions.empty()) status = start(windows[cur]);
  while (status.ok() && windows[cur].count > 0) {
    windows[cur].done.Wait();
    const bool stop = ctx_.stop.stop_requested();
    ScanWindow& other = windows[1 - cur];
    other.count = 0;
    if (!stop && next < positions.size()) status = start(other);
    for (std::size_t i = 0; status.ok() && i < windows[cur].count; ++i) status = fn(windows[cur].stripes[i]);
    ClearUpperVectorState();
    if (status.ok() && stop) status = Status::Cancelled("interrupted");
    windows[cur].count = 0;
    cur = 1 - cur;
  }
  workers.Wait();  // no reader may still write into a window
  return status;
}

Status ForEachPosition(Manifest* m, const ArrayView& array,
                       const std::function<Status(const PositionInfo&)>& fn) {
  struct Head {
    std::uint64_t pos;
    std::size_t index;
    bool operator>(const Head& o) const { return pos > o.pos; }
  };
  std::vector<std::unique_ptr<Cursor<BlockRecord>>> cursors;
  std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heap;
  for (const ArrayDataDisk& d : array.data) {
    if (!d.record) continue;
    cursors.push_back(m->Blocks(d.slot, 0));
    if (cursors.back()->Valid()) heap.push({cursors.back()->value().pos, cursors.size() - 1});
    ATLAS_RETURN_IF_ERROR(cursors.back()->status());
  }
  std::unique_ptr<Cursor<DirtyEntry>> dirty = m->Dirty(0);
  while (!heap.empty()) {
    PositionInfo info;
    info.pos = heap.top().pos;
    info.min_verified_ns = INT64_MAX;
    while (!heap.empty() && heap.top().pos == info.pos) {
      std::size_t i = heap.top().index;
      heap.pop();
      const BlockRecord& b = cursors[i]->value();
      if (b.state == BlockState::kSynced) {
        info.blocks++;
        info.min_verified_ns = std::min(info.min_verified_ns, b.verified_ns);
        info.all_scrubbed = info.all_scrubbed && b.scrubbed;
      } else {
        info.dirty = true;
      }
      cursors[i]->Next();
      if (cursors[i]->Valid()) heap.push({cursors[i]->value().pos, i});
      ATLAS_RETURN_IF_ERROR(cursors[i]->status());
    }
    while (dirty->Valid() && dirty->value().pos < info.pos) dirty->Next();
    if (dirty->Valid() && dirty->value().pos == info.pos) info.dirty = true;
    if (info.blocks == 0) info.min_verified_ns = 0;
    ATLAS_RETURN_IF_ERROR(fn(info));
  }
  return dirty->status();
}

}  // namespace atlas
