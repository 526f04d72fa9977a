// StripeScanner: see the header. The windows, threads and layouts are the
// StripePipeline's (engine/stripe_pipeline.h); this file says what is read
// for each stripe. Per disk, every data disk and parity file is read in
// position order by its own thread, all at once: scrub and rebuild run at
// the speed of the slowest disk, not the sum of all (SnapRAID's check and
// fix read one disk after another). Whole stripes, a worker reads, hashes
// and checks (after_read) all of a stripe's blocks while it is in cache.
#include "engine/stripe_scanner.h"

#include "atlas/disk_monitor.h"

#include <algorithm>
#include <cstring>
#include <queue>

#include <fmt/format.h>

#include "atlas/disk_monitor.h"
#include "atlas/hash.h"
#include "engine/guards.h"
#include "engine/parallel.h"
#include "engine/stripe_pipeline.h"

namespace atlas {

// One window's buffers; the pipeline says which window is which.
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
};

StripeScanner::StripeScanner(const RunContext& ctx, Manifest* m, const ArrayView& array,
                             const ScanOptions& options)
    : ctx_(ctx),
      m_(m),
      array_(array),
      options_(options),
      errors_(new std::atomic<std::uint64_t>[array.data.size()]()),
      bytes_(new std::atomic<std::uint64_t>[array.data.size() + array.parity.size()]()) {
  for (const ArrayDataDisk& d : array.data) watch_.push_back(ctx.monitor ? ctx.monitor->Index(d.name) : DiskMonitor::npos);
  for (const ArrayParity& p : array.parity) watch_.push_back(ctx.monitor ? ctx.monitor->Index(p.name) : DiskMonitor::npos);
}

bool StripeScanner::AwaitDisks() {
  DiskMonitor* monitor = ctx_.monitor;
  if (monitor == nullptr) return true;
  monitor->Poll();
  if (options_.held == ScanOptions::Held::kWait && monitor->AnyHeld()) monitor->WaitWhileHeld(watch_, ctx_.stop);
  return !ctx_.stop.stop_requested();
}

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

void StripeScanner::ReadData(ScannedStripe& s, std::size_t di, BlockReader& reader) {
  const std::uint32_t bs = ctx_.config->block_size;
  const std::optional<BlockRecord>& rec = s.recs[di];
  if (!rec || rec->state != BlockState::kSynced || errors_[di] >= options_.disk_error_limit) {
    std::memset(s.data[di], 0, bs);
    return;
  }
  if (options_.held == ScanOptions::Held::kSkip && ctx_.monitor && ctx_.monitor->Held(watch_[di])) {
    std::memset(s.data[di], 0, bs);
    s.held[di] = 1;
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
}

bool StripeScanner::ParityWanted(std::size_t l) const {
  const std::vector<bool>& wanted = options_.parity_levels;
  return wanted.empty() || (l < wanted.size() && wanted[l]);
}

void StripeScanner::ReadParity(ScannedStripe& s, std::size_t l) {
  ParityFile& p = *parity_[l];
  s.parity_read[l] = 1;
  const std::size_t ndata = array_.data.size();
  if (options_.held == ScanOptions::Held::kSkip && ctx_.monitor && ctx_.monitor->Held(watch_[ndata + l])) {
    s.held[ndata + l] = 1;
    return;
  }
  if (!p.readable()) {
    // errno kept: EACCES is no disk error (PermissionProblem).
    const Status& open = parity_open_[l];
    s.parity_status[l] =
        IsPermissionDenied(open) ? open : Status::NotFound("parity file " + p.path().string() + " cannot be opened");
    return;
  }
  Result<std::size_t> n = p.ReadBlock(s.pos, s.parity[l]);
  if (!n.ok()) {
    s.parity_status[l] = n.status();
    return;
  }
  bytes_[array_.data.size() + l] += *n;
}

// Takes the next positions into `stripes` (at most `max`), with every
// disk's block record there: as the source's walk read it, or looked up.
Result<std::size_t> StripeScanner::NextPositions(const PositionSource& next_position, std::vector<ScannedStripe>& stripes,
                                                 std::size_t max) {
  const std::size_t ndata = array_.data.size();
  std::size_t count = 0;
  while (more_ && count < max) {
    ATLAS_ASSIGN_OR_RETURN(more_, next_position(&info_));
    if (!more_) break;
    ScannedStripe& s = stripes[count++];
    s.pos = info_.pos;
    s.recs.resize(ndata);
    for (std::size_t di = 0; di < ndata; ++di) {
      if (di < info_.recs_known.size() && info_.recs_known[di]) {
        s.recs[di] = std::move(info_.recs[di]);
      } else {
        ATLAS_ASSIGN_OR_RETURN(s.recs[di], m_->GetBlock(array_.data[di].slot, s.pos));
      }
    }
    s.parity_hash.reset();
    s.parity_hash_new.reset();
    if (options_.parity_hashes && info_.parity_hash_known) {
      s.parity_hash = std::move(info_.parity_hash);
    } else if (options_.parity_hashes) {
      ATLAS_ASSIGN_OR_RETURN(s.parity_hash, m_->GetParityHash(s.pos));
    }
  }
  return count;
}

// Points stripe `i` of a window at its buffers and resets what the readers
// fill; `dirty` is the dirty index, merged as positions go by.
void StripeScanner::Prepare(ScanWindow& w, std::size_t i, std::size_t levels, Cursor<DirtyEntry>& dirty) {
  const std::uint32_t bs = ctx_.config->block_size;
  const std::size_t ndata = array_.data.size();
  ScannedStripe& s = w.stripes[i];
  s.checks.assign(ndata, BlockCheck());
  s.read.assign(ndata, 0);
  s.held.assign(ndata + levels, 0);
  s.paths.assign(ndata, std::string());
  s.data.resize(ndata);
  s.parity.resize(levels);
  s.parity_status.assign(levels, Status());
  s.parity_read.assign(levels, 0);
  s.parity_verified.assign(levels, 0);
  s.presolved = 0;
  s.scratch = w.scratch.data + i * options_.scratch_bytes;
  while (dirty.Valid() && dirty.value().pos < s.pos) dirty.Next();
  s.dirty = dirty.Valid() && dirty.value().pos == s.pos;
  for (std::size_t di = 0; di < ndata; ++di) {
    s.data[di] = w.data.data + (i * ndata + di) * bs;
    if (s.recs[di] && s.recs[di]->state != BlockState::kSynced) s.dirty = true;
  }
  for (std::size_t l = 0; l < levels; ++l) s.parity[l] = w.parity.data + (i * levels + l) * bs;
}

Status StripeScanner::Run(const PositionSource& next_position,
                          const std::function<Status(const ScannedStripe&)>& fn) {
  const std::uint32_t bs = ctx_.config->block_size;
  const std::size_t ndata = array_.data.size();
  const std::size_t levels = options_.read_parity ? array_.parity.size() : 0;
  const std::uint64_t stripe_bytes = (ndata + levels) * static_cast<std::uint64_t>(bs) + options_.scratch_bytes;
  StripePipeline pipeline(ctx_, m_, array_, levels, stripe_bytes, options_.busy_callback);
  std::vector<std::unique_ptr<ScanWindow>> windows;
  for (std::size_t i = 0; i < StripePipeline::kWindows; ++i) {
    windows.push_back(
        std::make_unique<ScanWindow>(pipeline.per_window(), ndata, levels, bs, options_.scratch_bytes));
  }
  // Opened here, once: the readers only read (ReadParity reports a level
  // that could not be opened, per stripe).
  parity_.clear();
  parity_open_.clear();
  for (std::size_t l = 0; l < levels; ++l) {
    parity_.push_back(std::make_unique<ParityFile>(ctx_.fs, array_.parity[l], bs));
    parity_.back()->Watch(ctx_.monitor);
    parity_open_.push_back(parity_.back()->OpenForRead());
  }
  std::unique_ptr<Cursor<DirtyEntry>> dirty = m_->Dirty(0);
  more_ = true;
  std::vector<std::size_t> counts(StripePipeline::kWindows, 0);

  StripePipeline::Stages stages;
  stages.fill = [&](std::size_t wi) -> Result<std::size_t> {
    ScanWindow& w = *windows[wi];
    if (!AwaitDisks()) return std::size_t{0};  // stopped while a disk cooled: the pipeline ends as interrupted
    ATLAS_ASSIGN_OR_RETURN(counts[wi], NextPositions(next_position, w.stripes, pipeline.per_window()));
    for (std::size_t i = 0; i < counts[wi]; ++i) Prepare(w, i, levels, *dirty);
    ATLAS_RETURN_IF_ERROR(dirty->status());
    return counts[wi];
  };
  stages.stripe = [&](std::size_t wi, std::size_t i, std::size_t worker) {
    ScannedStripe& s = windows[wi]->stripes[i];
    for (std::size_t di = 0; di < ndata; ++di) ReadData(s, di, pipeline.reader(worker, di));
    for (std::size_t l = 0; l < levels; ++l) {
      if (ParityWanted(l)) ReadParity(s, l);
    }
    if (options_.after_read) options_.after_read(s);
  };
  stages.disk = [&](std::size_t wi, std::size_t di) {
    for (std::size_t i = 0; i < counts[wi]; ++i) ReadData(windows[wi]->stripes[i], di, pipeline.reader(0, di));
  };
  stages.level = [&](std::size_t wi, std::size_t l) {
    for (std::size_t i = 0; i < counts[wi]; ++i) ReadParity(windows[wi]->stripes[i], l);
  };
  stages.level_wanted = [&](std::size_t, std::size_t l) { return ParityWanted(l); };
  stages.consume = [&](std::size_t wi, std::size_t count, bool) -> Status {
    for (std::size_t i = 0; i < count; ++i) {
      ScannedStripe& s = windows[wi]->stripes[i];
      if (!pipeline.whole_stripes() && options_.after_read) options_.after_read(s);
      ATLAS_RETURN_IF_ERROR(fn(s));
    }
    return Status::Ok();
  };
  Status status = pipeline.Run(stages);
  // A stop while waiting for a disk to cool can end the fill before any
  // window was read: still an interrupted run.
  if (status.ok() && ctx_.stop.stop_requested()) status = Status::Cancelled("interrupted");
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
