// StripeScanner: see the header. Windows of positions go round a ring of
// three: while the caller's callback works through window N (manifest
// updates, repairs), the readers fill windows N+1 and N+2, so a reader that
// is done with its share of N+1 goes on with N+2 instead of waiting for the
// others (with two windows, the last stripe of each window left a core idle).
//
// Per-disk layout: each data disk and each parity file has exactly one
// reader thread, so every disk is read sequentially in position order and
// all disks are read at once: the rebuild and scrub speed is that of the
// slowest disk, not the sum of all (SnapRAID's check and fix read one disk
// after another).
//
// Whole-stripe layout: a worker per core takes the window's stripes one at a
// time and reads, hashes and checks (after_read) all of a stripe's blocks.
// From RAM or SSDs a read is the kernel copying pages, so this is CPU work:
// the workers keep every core busy with no thread per disk competing for
// them, and the stripe's 1.5 MiB (4+2 at 256 KiB) is checked while it is
// still in cache (DESIGN.md, Performance).
#include "engine/stripe_scanner.h"

#include <algorithm>
#include <cstring>
#include <queue>

#include <fmt/format.h>

#include "atlas/hash.h"
#include "engine/disk_workers.h"
#include "engine/guards.h"
#include "engine/parallel.h"

namespace atlas {
namespace {

// All windows together: 16 MiB, 3 positions a window for 4+2 at 256 KiB
// (but at least one per whole-stripe worker); 32 MiB measured no faster and
// cost more RSS (DESIGN.md, Performance).
constexpr std::uint64_t kWindowBytes = 16ull << 20;
constexpr std::size_t kWindows = 3;

struct ScanWindow {
  ScanWindow(std::size_t positions, std::size_t ndata, std::size_t levels, std::uint32_t bs, std::size_t scratch_bytes)
      : data(positions * ndata * bs),
        parity(positions * levels * bs),
        scratch(positions * scratch_bytes),
        stripes(positions) {}
  AlignedBuffer data;     // [stripe][disk] blocks
  AlignedBuffer parity;   // [stripe][level] blocks
  AlignedBuffer scratch;  // [stripe] ScanOptions::scratch_bytes
  std::vector<ScannedStripe> stripes;
  std::size_t count = 0;
  std::atomic<std::size_t> next_stripe{0};  // whole-stripe layout: the next stripe to take
  WaitGroup done;
};

}  // namespace

StripeScanner::StripeScanner(const RunContext& ctx, Manifest* m, const ArrayView& array,
                             const ScanOptions& options)
    : ctx_(ctx),
      m_(m),
      array_(array),
      options_(options),
      whole_stripes_(ReadsWholeStripes(*ctx.config, array)),
      errors_(new std::atomic<std::uint64_t>[array.data.size()]()),
      bytes_(new std::atomic<std::uint64_t>[array.data.size() + array.parity.size()]()) {}

std::vector<std::string> StripeScanner::GivenUp() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < array_.data.size(); ++i) {
    if (errors_[i] >= options_.disk_error_limit) out.push_back(array_.data[i].name);
  }
  return out;
}

std::uint64_t StripeScanner::bytes_read() const {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < array_.data.size() + array_.parity.size(); ++i) n += bytes_[i];
  return n;
}

Status StripeScanner::Run(const PositionSource& next_position,
                          const std::function<Status(const ScannedStripe&)>& fn) {
  const std::uint32_t bs = ctx_.config->block_size;
  const std::size_t ndata = array_.data.size();
  const std::size_t levels = options_.read_parity ? array_.parity.size() : 0;
  const std::size_t stripe_bytes = (ndata + levels) * static_cast<std::uint64_t>(bs) + options_.scratch_bytes;
  // Whole stripes: every worker needs a stripe of each window at least.
  const std::size_t workers_wanted = whole_stripes_ ? WholeStripeWorkers(*ctx_.config) : 0;
  // A busy callback's thread must get a core whenever it has work: the
  // workers run at a lower CPU priority than it (ScanOptions::busy_callback).
  const std::optional<int> worker_nice =
      whole_stripes_ && options_.busy_callback ? std::optional<int>(LowerPriorityThan(CurrentThreadNice()))
                                               : std::nullopt;
  const std::size_t per_window = std::max<std::size_t>(
      std::max<std::size_t>(1, workers_wanted), kWindowBytes / kWindows / std::max<std::size_t>(1, stripe_bytes));
  std::vector<std::unique_ptr<ScanWindow>> windows;
  for (std::size_t i = 0; i < kWindows; ++i) {
    windows.push_back(std::make_unique<ScanWindow>(per_window, ndata, levels, bs, options_.scratch_bytes));
  }

  std::vector<std::unique_ptr<RandomAccessFile>> parity_files;
  std::vector<Status> parity_open;  // why a level could not be opened (errno kept: EACCES is no disk error)
  for (std::size_t l = 0; l < levels; ++l) {
    Result<std::unique_ptr<RandomAccessFile>> f = ctx_.fs->OpenForRead(array_.parity[l].path);
    parity_open.push_back(f.ok() ? Status::Ok() : f.status());
    parity_files.push_back(f.ok() ? std::move(f).value() : nullptr);
  }
  // Per-disk: a thread per data disk (or io_threads of them, each serving
  // disks in turn) and one per parity level. Whole stripes: the workers.
  const std::size_t disk_threads =
      ctx_.config->io_threads > 0 ? std::min<std::size_t>(ctx_.config->io_threads, ndata) : ndata;
  const std::size_t workers_count = whole_stripes_ ? workers_wanted : disk_threads + levels;
  DiskWorkers workers(workers_count);
  DiskReaders readers(ctx_, m_, array_, whole_stripes_ ? workers_count : 1);

  auto read_data = [&](ScannedStripe& s, std::size_t di, BlockReader& reader) {
    const std::optional<BlockRecord>& rec = s.recs[di];
    if (!rec || rec->state != BlockState::kSynced || errors_[di] >= options_.disk_error_limit) {
      std::memset(s.data[di], 0, bs);
      return;
    }
    s.checks[di] = reader.Read(*rec, s.data[di], options_.defer_hash);
    if (s.checks[di].outcome == BlockCheck::Outcome::kReadError && ++errors_[di] > options_.disk_error_limit) {
      // Another worker reached the limit while this read was under way: the
      // block counts as not read, so exactly disk_error_limit errors are
      // reported.
      s.checks[di] = BlockCheck();
      std::memset(s.data[di], 0, bs);
      return;
    }
    s.read[di] = 1;
    if (const FileRecord* f = reader.file()) s.paths[di] = f->path;
    bytes_[di] += s.checks[di].bytes;
    ctx_.progress->Advance(bs);
  };
  auto parity_wanted = [&](std::size_t l) {
    const std::vector<bool>& wanted = options_.parity_levels;
    return wanted.empty() || (l < wanted.size() && wanted[l]);
  };
  auto read_parity = [&](ScannedStripe& s, std::size_t l) {
    s.parity_read[l] = 1;
    if (!parity_files[l]) {
      s.parity_status[l] = IsPermissionDenied(parity_open[l])
                               ? parity_open[l]
                               : Status::NotFound("parity file " + array_.parity[l].path.string() + " cannot be opened");
      return;
    }
    Result<std::size_t> n = parity_files[l]->ReadAt(s.pos * bs, std::span(s.parity[l], bs));
    if (!n.ok()) {
      s.parity_status[l] = n.status();
      return;
    }
    if (*n < bs) std::memset(s.parity[l] + *n, 0, bs - *n);
    bytes_[ndata + l] += *n;
  };

  // The dirty index, merged as positions go by (both are sorted).
  std::unique_ptr<Cursor<DirtyEntry>> dirty = m_->Dirty(0);
  bool more = true;  // next_position has not said "end" yet
  PositionInfo info;

  // Fills `w` with the next positions and queues their reads; w.count stays
  // 0 at the end.
  auto start = [&](ScanWindow& w) -> Status {
    w.count = 0;
    while (more && w.count < per_window) {
      ATLAS_ASSIGN_OR_RETURN(more, next_position(&info));
      if (!more) break;
      ScannedStripe& s = w.stripes[w.count++];
      s.pos = info.pos;
      // Each disk's block record here: as the source's walk read it, or
      // looked up.
      s.recs.resize(ndata);
      for (std::size_t di = 0; di < ndata; ++di) {
        if (di < info.recs_known.size() && info.recs_known[di]) {
          s.recs[di] = std::move(info.recs[di]);
        } else {
          ATLAS_ASSIGN_OR_RETURN(s.recs[di], m_->GetBlock(array_.data[di].slot, s.pos));
        }
      }
      s.parity_hash.reset();
      s.parity_hash_new.reset();
      if (options_.parity_hashes && info.parity_hash_known) {
        s.parity_hash = std::move(info.parity_hash);
      } else if (options_.parity_hashes) {
        ATLAS_ASSIGN_OR_RETURN(s.parity_hash, m_->GetParityHash(s.pos));
      }
    }
    if (w.count == 0) return Status::Ok();
    for (std::size_t i = 0; i < w.count; ++i) {
      ScannedStripe& s = w.stripes[i];
      s.checks.assign(ndata, BlockCheck());
      s.read.assign(ndata, 0);
      s.paths.assign(ndata, std::string());
      s.data.resize(ndata);
      s.parity.resize(levels);
      s.parity_status.assign(levels, Status());
      s.parity_read.assign(levels, 0);
      s.parity_verified.assign(levels, 0);
      s.presolved = 0;
      s.scratch = w.scratch.data + i * options_.scratch_bytes;
      while (dirty->Valid() && dirty->value().pos < s.pos) dirty->Next();
      s.dirty = dirty->Valid() && dirty->value().pos == s.pos;
      for (std::size_t di = 0; di < ndata; ++di) {
        s.data[di] = w.data.data + (i * ndata + di) * bs;
        if (s.recs[di] && s.recs[di]->state != BlockState::kSynced) s.dirty = true;
      }
      for (std::size_t l = 0; l < levels; ++l) s.parity[l] = w.parity.data + (i * levels + l) * bs;
    }
    ATLAS_RETURN_IF_ERROR(dirty->status());
    if (whole_stripes_) {
      w.next_stripe = 0;
      w.done.Add(static_cast<int>(workers_count));
      for (std::size_t t = 0; t < workers_count; ++t) {
        workers.Submit(t, [&, t, wp = &w] {
          if (worker_nice) SetCurrentThreadNice(*worker_nice);
          for (std::size_t i = wp->next_stripe++; i < wp->count; i = wp->next_stripe++) {
            ScannedStripe& s = wp->stripes[i];
            for (std::size_t di = 0; di < ndata; ++di) read_data(s, di, readers.at(t, di));
            for (std::size_t l = 0; l < levels; ++l) {
              if (parity_wanted(l)) read_parity(s, l);
            }
            if (options_.after_read) options_.after_read(s);
          }
          ClearUpperVectorState();
          wp->done.Done();
        });
      }
      return Status::Ok();
    }
    w.done.Add(static_cast<int>(ndata + levels));
    for (std::size_t di = 0; di < ndata; ++di) {
      workers.Submit(di % disk_threads, [&, di, wp = &w] {
        for (std::size_t i = 0; i < wp->count; ++i) read_data(wp->stripes[i], di, readers.at(0, di));
        ClearUpperVectorState();
        wp->done.Done();
      });
    }
    for (std::size_t l = 0; l < levels; ++l) {
      if (!parity_wanted(l)) {
        w.done.Done();
        continue;
      }
      workers.Submit(disk_threads + l, [&, l, wp = &w] {
        for (std::size_t i = 0; i < wp->count; ++i) read_parity(wp->stripes[i], l);
        wp->done.Done();
      });
    }
    return Status::Ok();
  };

  // All windows but the one in the caller's hands are being read.
  Status status;
  for (std::size_t i = 0; status.ok() && i + 1 < kWindows && more; ++i) status = start(*windows[i]);
  std::size_t cur = 0;
  while (status.ok() && windows[cur]->count > 0) {
    ScanWindow& w = *windows[cur];
    w.done.Wait();
    const bool stop = ctx_.stop.stop_requested();
    ScanWindow& free = *windows[(cur + kWindows - 1) % kWindows];
    if (!stop && more) status = start(free);
    for (std::size_t i = 0; status.ok() && i < w.count; ++i) {
      ScannedStripe& s = w.stripes[i];
      if (!whole_stripes_ && options_.after_read) options_.after_read(s);
      status = fn(s);
    }
    ClearUpperVectorState();
    if (status.ok() && stop) status = Status::Cancelled("interrupted");
    w.count = 0;
    cur = (cur + 1) % kWindows;
  }
  workers.Wait();  // no reader may still write into a window
  return status;
}

PositionCursor::PositionCursor(Manifest* m, const ArrayView& array, const std::vector<std::size_t>& disks)
    : ndata_(array.data.size()) {
  for (std::size_t di = 0; di < array.data.size(); ++di) {
    const ArrayDataDisk& d = array.data[di];
    if (!d.record) continue;
    if (!disks.empty() && std::find(disks.begin(), disks.end(), di) == disks.end()) continue;
    cursors_.push_back(m->Blocks(d.slot, 0));
    cursor_disk_.push_back(di);
    if (cursors_.back()->Valid()) heap_.push({cursors_.back()->value().pos, cursors_.size() - 1});
    if (status_.ok()) status_ = cursors_.back()->status();
  }
  dirty_ = m->Dirty(0);
  parity_hashes_ = m->ParityHashes(0);
}

bool PositionCursor::Next(PositionInfo* out) {
  if (!status_.ok() || heap_.empty()) return false;
  // Filled in place, so that the record vectors keep their capacity.
  PositionInfo& info = *out;
  info.pos = heap_.top().pos;
  info.dirty = false;
  info.min_verified_ns = INT64_MAX;
  info.all_scrubbed = true;
  info.blocks = 0;
  info.recs.assign(ndata_, std::nullopt);
  info.recs_known.assign(ndata_, 0);
  for (std::size_t di : cursor_disk_) info.recs_known[di] = 1;  // every walked disk, with a block here or not
  while (!heap_.empty() && heap_.top().pos == info.pos) {
    std::size_t i = heap_.top().index;
    heap_.pop();
    const BlockRecord& b = cursors_[i]->value();
    info.recs[cursor_disk_[i]] = b;
    if (b.state == BlockState::kSynced) {
      info.blocks++;
      info.min_verified_ns = std::min(info.min_verified_ns, b.verified_ns);
      info.all_scrubbed = info.all_scrubbed && b.scrubbed;
    } else {
      info.dirty = true;
    }
    cursors_[i]->Next();
    if (cursors_[i]->Valid()) heap_.push({cursors_[i]->value().pos, i});
    status_ = cursors_[i]->status();
    if (!status_.ok()) return false;
  }
  while (dirty_->Valid() && dirty_->value().pos < info.pos) dirty_->Next();
  status_ = dirty_->status();
  if (!status_.ok()) return false;
  if (dirty_->Valid() && dirty_->value().pos == info.pos) info.dirty = true;
  while (parity_hashes_->Valid() && parity_hashes_->value().pos < info.pos) parity_hashes_->Next();
  status_ = parity_hashes_->status();
  if (!status_.ok()) return false;
  info.parity_hash_known = true;
  info.parity_hash.reset();
  if (parity_hashes_->Valid() && parity_hashes_->value().pos == info.pos) info.parity_hash = parity_hashes_->value();
  if (info.blocks == 0) info.min_verified_ns = 0;
  return true;
}

Status ForEachPosition(Manifest* m, const ArrayView& array,
                       const std::function<Status(const PositionInfo&)>& fn) {
  PositionCursor cursor(m, array);
  PositionInfo info;
  while (cursor.Next(&info)) ATLAS_RETURN_IF_ERROR(fn(info));
  return cursor.status();
}

Result<PickedPositions> PickPositions(Manifest* m, const ArrayView& array, const std::vector<std::size_t>& disks,
                                      const std::function<PositionPick()>& make_pick) {
  PickedPositions out;
  {
    PositionCursor cursor(m, array, disks);
    PositionPick pick = make_pick();
    PositionInfo info;
    while (cursor.Next(&info)) out.count += pick(info) ? 1 : 0;
    ATLAS_RETURN_IF_ERROR(cursor.status());
  }
  auto cursor = std::make_shared<PositionCursor>(m, array, disks);
  out.source = [cursor, pick = make_pick()](PositionInfo* info) -> Result<bool> {
    while (cursor->Next(info)) {
      if (pick(*info)) return true;
    }
    ATLAS_RETURN_IF_ERROR(cursor->status());
    return false;
  };
  return out;
}

PositionSource PositionsOf(const std::set<std::uint64_t>& positions) {
  return [it = positions.begin(), end = positions.end()](PositionInfo* info) mutable -> Result<bool> {
    if (it == end) return false;
    info->pos = *it++;
    info->recs_known.clear();
    info->parity_hash_known = false;
    return true;
  };
}

}  // namespace atlas
