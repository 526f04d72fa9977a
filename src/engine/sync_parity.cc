// sync, pass 3: parity (sync.cc says how sync works as a whole).
//
// The dirty positions are taken in order, a window at a time, through the
// StripePipeline (engine/stripe_pipeline.h). For each position every data
// disk's block record is looked up, then the blocks are read and hashed on
// the pipeline's threads: a synced block is checked against its hash (a
// mismatch is silent_corruption), a dirty one is hashed, and a file that
// changed while read is drift (`modified`), never corruption. All parity
// levels are computed with ISA-L and written. Every few hundred MiB, or 10
// s, or 65536 manifest updates, the parity is fdatasync'ed and then the
// manifest committed durably (the invariant is written at that line). A
// position whose stripe had a read error, a corrupt block or a file that
// changed stays dirty, with a finding; the next sync retries it.
//
// A stripe is recomputed in full (every data disk's block read) or updated
// by delta: when every change at it is a new block over zeros (past_zero)
// and it reads fewer blocks, the stored parity plus the new blocks are read
// and parity += C * new block (ec_encode_data_update). A modified or deleted
// block needs its old data for a delta, which is gone, so those stripes are
// recomputed in full. The parity_written_from mark keeps a crashed run's
// uncommitted parity from ever getting a delta twice.
//
// Per-disk layout: the data disks' threads read, the parity levels' threads
// read the stored parity of delta stripes and later write, and this thread
// computes the parity while it records the window. Whole stripes: a worker
// reads, hashes, computes and writes each stripe while it is in cache.
#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "atlas/disk_monitor.h"
#include "atlas/hash.h"
#include "atlas/parity.h"
#include "core/crash_point.h"
#include "engine/block_reader.h"
#include "engine/parallel.h"
#include "engine/parity_file.h"
#include "engine/stripe_pipeline.h"
#include "engine/sync_internal.h"

namespace atlas::sync {
namespace {

// Files whose content identity waits for the next commit.
constexpr std::size_t kContentFlushFiles = 65536;
// Commit (fdatasync + manifest) after this much parity written ...
constexpr std::uint64_t kCommitParityBytes = 512ull << 20;
// ... or this long since the last commit ...
constexpr std::int64_t kCommitIntervalNs = 10'000'000'000;
// ... or after this many manifest updates: with small blocks, 512 MiB of
// parity is 131072 positions at 4 KiB, whose updates (a block record and a
// dirty entry per block) would otherwise sit in memory, about 100 MB at 4
// data disks (docs/DESIGN.md "Scale").
constexpr std::size_t kCommitUpdates = 65536;

// What one reader found for one block.
struct BlockRead {
  enum class Outcome : std::uint8_t { kNone, kOk, kFailed } outcome = Outcome::kNone;
  bool skip = false;               // not needed: a delta stripe's unchanged block
  std::optional<BlockRecord> rec;  // the block at this (slot, position), if any
  Hash128 hash;
  std::uint64_t bytes = 0;
};

// One window of dirty positions: its stripes, every disk's block record and
// read outcome there, and the buffers the reads land in.
struct Window {
  struct Stripe {
    std::uint64_t pos = 0;
    std::vector<std::uint16_t> dirty_slots;
    bool delta = false;   // update the stored parity with the new blocks alone
    bool failed = false;  // a block or stored parity level could not be read: stays dirty
    bool write = false;   // parity computed: write it
    // At or past the end of the live data (LiveEnd): every block here is
    // deleted, the parity is zeros, and FitParity left a hole there already,
    // so nothing is computed or written.
    bool tail = false;
  };
  Window(std::size_t positions, std::size_t ndata, std::size_t levels, std::uint32_t bs)
      : data(positions * ndata * bs),
        parity(positions * levels * bs),
        parity_failed(positions * levels),
        parity_hash(positions * levels),
        reads(positions * ndata) {}
  std::vector<Stripe> stripes;
  AlignedBuffer data;                       // [stripe * ndata + disk]
  AlignedBuffer parity;                     // [stripe * levels + level]
  std::vector<std::uint8_t> parity_failed;  // [stripe * levels + level], one writer each
  std::vector<Hash128> parity_hash;         // [stripe * levels + level]: of a full (not delta) compute
  std::vector<BlockRead> reads;             // [stripe * ndata + disk]
  bool any_delta = false;
};

class ParityPass {
 public:
  explicit ParityPass(SyncState& st)
      : st_(st), bs_(st.config.block_size), levels_(st.config.parity.size()), ndata_(st.array.data.size()) {}
  Status Run();

 private:
  Status OpenParity();
  Result<std::uint64_t> LiveEnd();
  Status FitParity(std::uint64_t max_next);
  Result<std::size_t> Fill(Window& w);
  Status Plan(Window& w, std::size_t i);
  Status MarkWrittenFrom(std::uint64_t first);
  void ReadParity(Window& w, std::size_t i, std::size_t l);
  void ReadBlock(Window& w, std::size_t i, std::size_t di, BlockReader& reader);
  void Compute(Window& w, std::size_t i);
  bool Write(Window& w, std::size_t i, std::size_t l);
  void StripeWork(Window& w, std::size_t i, std::size_t worker);
  Status Consume(std::size_t wi, bool stop);
  void Record(Window& w, std::size_t i);
  void RecordFailed(const Window& w, std::size_t i);
  Status Commit();
  Status WriteStatus();

  std::byte* DataAt(Window& w, std::size_t i, std::size_t di) { return w.data.data + (i * ndata_ + di) * bs_; }
  std::byte* ParityAt(Window& w, std::size_t i, std::size_t l) { return w.parity.data + (i * levels_ + l) * bs_; }

  SyncState& st_;
  const std::uint32_t bs_;
  const std::size_t levels_;
  const std::size_t ndata_;
  std::unique_ptr<ParityCodec> codec_;
  std::vector<std::unique_ptr<ParityFile>> parity_;
  std::uint64_t live_end_ = 0;
  std::uint64_t distrust_from_ = ~0ull;  // no delta from here on (parity_written_from)
  std::unique_ptr<StripePipeline> pipeline_;
  std::vector<std::unique_ptr<Window>> windows_;
  std::unique_ptr<Cursor<DirtyEntry>> cursor_;
  std::unique_ptr<ManifestBatch> batch_;
  std::uint64_t pending_bytes_ = 0;
  std::int64_t last_commit_ = 0;
  std::int64_t now_ns_ = 0;
  // The first parity write error; it ends the run after the window in hand,
  // and nothing is committed after it.
  std::mutex write_mu_;
  Status write_error_;  // REQUIRES: write_mu_ held
};

// The end of the live data: one past the last position that holds a block
// which is not deleted, on any data disk. Positions from here on hold only
// deleted blocks (or none), so their parity is zeros. Walks down from each
// disk's free tail over deleted blocks: one lookup per disk unless the last
// files were deleted, then one per deleted block there.
Result<std::uint64_t> ParityPass::LiveEnd() {
  std::uint64_t end = 0;
  for (std::size_t i = 0; i < ndata_; ++i) {
    std::uint64_t pos = st_.free_maps[i].TailStart();
    while (pos > end) {
      ATLAS_ASSIGN_OR_RETURN(std::optional<BlockRecord> b, st_.m->GetBlock(st_.array.data[i].slot, pos - 1));
      if (b && b->state != BlockState::kDeleted) break;
      --pos;
    }
    end = std::max(end, pos);
  }
  return end;
}

// Makes every parity file as long as the positions in use (a sparse
// ftruncate), and zeros the parity past the live data without a write when
// positions there wait to be recomputed. Those positions hold only deleted
// blocks, so their parity is zeros; a write of them fills holes, and after
// the file that filled the parity disk is deleted (a huge sparse file) it
// fails with ENOSPC at every sync, for ever. Cutting the file at live_end
// and growing it back leaves a hole there instead, and gives the space back.
Status ParityPass::FitParity(std::uint64_t max_next) {
  std::unique_ptr<Cursor<DirtyEntry>> past = st_.m->Dirty(live_end_);
  const bool zero_tail = past->Valid();
  ATLAS_RETURN_IF_ERROR(past->status());
  for (std::size_t l = 0; l < levels_; ++l) {
    ArrayParity& p = st_.array.parity[l];
    ParityFile& file = *parity_[l];
    Result<FileStat> st = st_.ctx.fs->Stat(p.path);
    if (!st.ok()) continue;
    std::uint64_t size = st->size;
    if (zero_tail && size > file.Offset(live_end_)) {
      // Invariant: the manifest durably records the shorter length before
      // the file is cut, so a crash before it grows back never looks like a
      // parity file shorter than recorded (a missing_disk); no block lives at
      // or past live_end, so zeros there are that parity.
      DiskRecord r = ParityRecord(p);
      if (r.parity_size > file.Offset(live_end_)) {
        r.parity_size = file.Offset(live_end_);
        std::unique_ptr<ManifestBatch> mark = st_.m->NewBatch();
        mark->PutDisk(r);
        ATLAS_RETURN_IF_ERROR(st_.m->Commit(*mark, /*durable=*/true));
        if (p.record) p.record->parity_size = r.parity_size;
      }
      ATLAS_RETURN_IF_ERROR(file.SetLength(live_end_, "cut"));
      size = file.Offset(live_end_);
    }
    if (size < file.Offset(max_next)) ATLAS_RETURN_IF_ERROR(file.SetLength(max_next, "grow"));
    if (size != st->size) ATLAS_RETURN_IF_ERROR(file.Sync());
  }
  return Status::Ok();
}

Status ParityPass::OpenParity() {
  std::uint64_t max_next = 0;
  for (const ExtentMap& fm : st_.free_maps) max_next = std::max(max_next, fm.next_pos());
  ATLAS_ASSIGN_OR_RETURN(live_end_, LiveEnd());
  for (const ArrayParity& p : st_.array.parity) {
    parity_.push_back(std::make_unique<ParityFile>(st_.ctx.fs, p, bs_));
    parity_.back()->Watch(st_.ctx.monitor);
    ATLAS_RETURN_IF_ERROR(parity_.back()->OpenForWrite());
  }
  ATLAS_RETURN_IF_ERROR(FitParity(max_next));
  for (const std::unique_ptr<ParityFile>& p : parity_) ATLAS_RETURN_IF_ERROR(p->OpenForRead());
  // Positions at or after `parity_written_from` may hold parity that an
  // earlier run wrote but never committed (it crashed): a delta update on
  // top of that would add the new blocks twice, so they are recomputed in
  // full instead.
  ATLAS_ASSIGN_OR_RETURN(std::optional<std::int64_t> written_from, GetMetaInt(st_.m.get(), "parity_written_from"));
  if (written_from) st_.written_from = static_cast<std::uint64_t>(*written_from);
  distrust_from_ = st_.written_from.value_or(~0ull);
  return Status::Ok();
}

// Invariant: before parity at P is written, the manifest durably says that
// positions from parity_written_from <= P on may hold uncommitted parity; a
// later run then recomputes them in full rather than apply a delta twice.
// It is cleared only once no position is left dirty (Finish). Called before
// a window's work is queued.
Status ParityPass::MarkWrittenFrom(std::uint64_t first) {
  if (st_.written_from && first >= *st_.written_from) return Status::Ok();
  st_.written_from = first;
  std::unique_ptr<ManifestBatch> mark = st_.m->NewBatch();
  mark->PutMeta("parity_written_from", std::to_string(first));
  return st_.m->Commit(*mark, /*durable=*/true);
}

// Delta or full? A stripe qualifies for a delta update when every change at
// it is a new block over zeros (past_zero) and nothing was deleted there:
// then parity += C * new block is exact, and the other disks need not be
// read. It is chosen when it reads fewer blocks: the parity levels plus the
// new blocks, against every block of the stripe.
Status ParityPass::Plan(Window& w, std::size_t i) {
  Window::Stripe& stripe = w.stripes[i];
  bool eligible = stripe.pos < distrust_from_;
  stripe.tail = stripe.pos >= live_end_;
  std::size_t full_reads = 0;
  for (std::size_t di = 0; di < ndata_; ++di) {
    BlockRead& r = w.reads[i * ndata_ + di];
    r = BlockRead();
    ATLAS_ASSIGN_OR_RETURN(r.rec, st_.m->GetBlock(st_.array.data[di].slot, stripe.pos));
    if (!r.rec) continue;
    if (r.rec->state == BlockState::kDeleted) eligible = false;
    if (r.rec->state == BlockState::kDirty && !r.rec->past_zero) eligible = false;
    if (r.rec->state != BlockState::kDeleted) full_reads++;
  }
  for (std::uint16_t slot : stripe.dirty_slots) {
    if (slot == kParityOnlySlot) eligible = false;
  }
  const std::size_t new_blocks = stripe.dirty_slots.size();
  stripe.delta = !stripe.tail && eligible && levels_ + new_blocks < full_reads;
  for (std::size_t l = 0; l < levels_; ++l) w.parity_failed[i * levels_ + l] = 0;
  if (!stripe.delta) return Status::Ok();
  w.any_delta = true;
  for (std::size_t di = 0; di < ndata_; ++di) {
    BlockRead& r = w.reads[i * ndata_ + di];
    if (r.rec && r.rec->state == BlockState::kSynced) r.skip = true;
  }
  return Status::Ok();
}

// Gathers the next dirty positions into `w` and plans each; 0 when no dirty
// position is left.
Result<std::size_t> ParityPass::Fill(Window& w) {
  w.stripes.clear();
  w.any_delta = false;
  if (DiskMonitor* monitor = st_.ctx.monitor) {
    // A disk over [smart] temp_limit: parity needs every disk, so the pass
    // waits for it to cool (or ends as interrupted when it does not).
    monitor->Poll();
    if (monitor->AnyHeld()) {
      std::vector<std::size_t> all;
      for (std::size_t i = 0; i < monitor->size(); ++i) all.push_back(i);
      monitor->WaitWhileHeld(all, st_.ctx.stop);
    }
    if (st_.ctx.stop.stop_requested()) return std::size_t{0};
  }
  const std::size_t max = pipeline_->per_window();
  while (cursor_->Valid()) {
    const DirtyEntry& e = cursor_->value();
    if (w.stripes.empty() || w.stripes.back().pos != e.pos) {
      if (w.stripes.size() == max) break;
      w.stripes.push_back({e.pos, {}});
    }
    w.stripes.back().dirty_slots.push_back(e.slot);
    cursor_->Next();
  }
  ATLAS_RETURN_IF_ERROR(cursor_->status());
  if (w.stripes.empty()) return 0;
  for (std::size_t i = 0; i < w.stripes.size(); ++i) ATLAS_RETURN_IF_ERROR(Plan(w, i));
  ATLAS_RETURN_IF_ERROR(MarkWrittenFrom(w.stripes.front().pos));
  return w.stripes.size();
}

void ParityPass::ReadParity(Window& w, std::size_t i, std::size_t l) {
  const std::uint64_t pos = w.stripes[i].pos;
  Result<std::size_t> n = parity_[l]->ReadBlock(pos, ParityAt(w, i, l));
  if (!n.ok()) {
    st_.findings.Problem(parity_[l]->ReadErrorFinding(pos, n.status()));
    w.parity_failed[i * levels_ + l] = 1;
  }
}

void ParityPass::ReadBlock(Window& w, std::size_t i, std::size_t di, BlockReader& reader) {
  BlockRead& r = w.reads[i * ndata_ + di];
  if (!r.rec || r.rec->state == BlockState::kDeleted || r.skip) return;
  BlockCheck c = reader.Read(*r.rec, DataAt(w, i, di));
  if (c.outcome == BlockCheck::Outcome::kOk) {
    r.outcome = BlockRead::Outcome::kOk;
    r.hash = c.hash;
    r.bytes = c.bytes;
    if (st_.findings.watching()) {
      st_.findings.NoteCleanRead(st_.array.data[di].name, reader.file()->path, r.rec->file_block * bs_, bs_);
    }
  } else {
    r.outcome = BlockRead::Outcome::kFailed;
    st_.findings.Problem(BlockFinding(reader, *r.rec, c, "sync"));
  }
  st_.ctx.progress->Advance(bs_);
}

// Computes the parity of a stripe whose blocks all read clean.
void ParityPass::Compute(Window& w, std::size_t i) {
  Window::Stripe& stripe = w.stripes[i];
  if (stripe.tail) return;  // zeros: FitParity left a hole there
  std::vector<int> slots;
  std::vector<const std::byte*> ptrs;
  std::array<std::byte*, kMaxParityLevels> out{};
  for (std::size_t l = 0; l < levels_; ++l) {
    out[l] = ParityAt(w, i, l);
    stripe.failed = stripe.failed || w.parity_failed[i * levels_ + l] != 0;
  }
  for (std::size_t di = 0; di < ndata_; ++di) {
    const BlockRead& r = w.reads[i * ndata_ + di];
    if (r.outcome == BlockRead::Outcome::kFailed) stripe.failed = true;
    if (r.outcome == BlockRead::Outcome::kOk) {
      slots.push_back(st_.array.data[di].slot);
      ptrs.push_back(DataAt(w, i, di));
    }
  }
  if (stripe.failed) return;
  if (stripe.delta) {
    // The stored parity is in `out`; add each new block (ec_encode_data_update).
    for (std::size_t k = 0; k < slots.size(); ++k) codec_->Accumulate(slots[k], ptrs[k], out.data(), bs_);
  } else {
    codec_->Encode(slots, ptrs.data(), out.data(), bs_);  // zeros without slots
    // Computed from the whole stripe, so its checksums can stand for it (a
    // delta builds on stored parity that nothing here verified).
    for (std::size_t l = 0; l < levels_; ++l) {
      w.parity_hash[i * levels_ + l] = HashBlock(std::span<const std::byte>(out[l], bs_));
    }
  }
  stripe.write = true;
}

// Writes one level of a computed stripe; false after a write error (kept
// in write_error_).
bool ParityPass::Write(Window& w, std::size_t i, std::size_t l) {
  const Window::Stripe& stripe = w.stripes[i];
  if (!stripe.write) return true;
  Status ws = parity_[l]->WriteBlock(stripe.pos, ParityAt(w, i, l));
  if (!ws.ok()) {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (write_error_.ok()) write_error_ = ws;
    return false;
  }
  ATLAS_CRASH_POINT("sync.parity.after_write");
  return true;
}

Status ParityPass::WriteStatus() {
  std::lock_guard<std::mutex> lock(write_mu_);
  return write_error_;
}

// Whole stripes: all of one stripe's work on one worker.
void ParityPass::StripeWork(Window& w, std::size_t i, std::size_t worker) {
  if (w.stripes[i].delta) {
    for (std::size_t l = 0; l < levels_; ++l) ReadParity(w, i, l);
  }
  for (std::size_t di = 0; di < ndata_; ++di) ReadBlock(w, i, di, pipeline_->reader(worker, di));
  Compute(w, i);
  for (std::size_t l = 0; l < levels_; ++l) {
    if (!Write(w, i, l)) break;
  }
}

void ParityPass::RecordFailed(const Window& w, std::size_t i) {
  st_.report->positions_left++;
  st_.failed.count++;
  if (st_.failed.first.size() >= FailedStripes::kMax) return;
  FailedStripes::Stripe failed{w.stripes[i].pos, {}};
  for (std::size_t di = 0; di < ndata_; ++di) {
    if (w.reads[i * ndata_ + di].outcome == BlockRead::Outcome::kFailed) {
      failed.failed_slots.push_back(st_.array.data[di].slot);
    }
  }
  st_.failed.first.push_back(std::move(failed));
}

// Records a stripe whose parity was computed: its blocks synced (deleted
// ones freed), its dirty entries cleared, the parity checksums.
void ParityPass::Record(Window& w, std::size_t i) {
  const Window::Stripe& stripe = w.stripes[i];
  std::vector<std::pair<std::uint16_t, Hash128>> included;  // what the parity was computed from
  for (std::size_t di = 0; di < ndata_; ++di) {
    const BlockRead& r = w.reads[i * ndata_ + di];
    if (r.outcome == BlockRead::Outcome::kOk) included.emplace_back(st_.array.data[di].slot, r.hash);
    if (!r.rec) continue;
    BlockRecord b = *r.rec;
    if (b.state == BlockState::kDeleted) {
      batch_->DeleteBlock(b.slot, b.pos);
      st_.free_maps[di].Free(b.pos);
    } else if (b.state == BlockState::kDirty) {
      b.state = BlockState::kSynced;
      b.hash = r.hash;
      b.verified_ns = now_ns_;
      // r.rec is as stored: read when the window started, and no other
      // window holds this position.
      batch_->ReplaceBlock(*r.rec, b);
      st_.touched_ids.insert(b.file_id);
      st_.report->bytes_hashed += r.bytes;
    }
  }
  for (std::uint16_t slot : stripe.dirty_slots) batch_->ClearDirty(stripe.pos, slot);
  if (stripe.delta || stripe.tail) {
    batch_->DeleteParityHash(stripe.pos);
  } else {
    ParityHashRecord ph;
    ph.pos = stripe.pos;
    ph.levels.assign(w.parity_hash.begin() + static_cast<std::ptrdiff_t>(i * levels_),
                     w.parity_hash.begin() + static_cast<std::ptrdiff_t>((i + 1) * levels_));
    ph.data_digest = ParityDataDigest(std::move(included));
    batch_->PutParityHash(ph);
  }
  st_.report->positions_synced++;
  pending_bytes_ += static_cast<std::uint64_t>(levels_) * bs_;
}

Status ParityPass::Commit() {
  for (const std::unique_ptr<ParityFile>& p : parity_) ATLAS_RETURN_IF_ERROR(p->Sync());
  ATLAS_CRASH_POINT("sync.parity.after_fsync");
  // Invariant: parity at P is fdatasync'ed (above) before the manifest marks
  // any block at P synced (this commit, with its WAL fsync'ed). A crash
  // between the two leaves P dirty, and the next sync recomputes it.
  for (std::size_t i = 0; i < st_.free_maps.size(); ++i) {
    st_.free_maps[i].Flush(st_.array.data[i].slot, batch_.get());
  }
  ATLAS_RETURN_IF_ERROR(st_.m->Commit(*batch_, /*durable=*/true));
  ATLAS_CRASH_POINT("sync.parity.after_commit");
  batch_ = st_.m->NewBatch();
  pending_bytes_ = 0;
  return Status::Ok();
}

// This thread's share of a window whose reads are done: (per disk) compute
// and queue the writes, record every stripe, and commit when enough waits.
Status ParityPass::Consume(std::size_t wi, bool stop) {
  Window& w = *windows_[wi];
  now_ns_ = st_.ctx.clock->NowUnixNanos();
  const bool per_disk = !pipeline_->whole_stripes();
  for (std::size_t i = 0; i < w.stripes.size(); ++i) {
    if (per_disk) Compute(w, i);
    if (w.stripes[i].failed) {
      RecordFailed(w, i);
    } else {
      Record(w, i);
    }
  }
  ClearUpperVectorState();
  if (per_disk) {
    // One task per level, stripes in position order.
    pipeline_->SubmitToLevels(wi, [this, &w](std::size_t l) {
      for (std::size_t i = 0; i < w.stripes.size(); ++i) {
        if (!Write(w, i, l)) break;
      }
    });
  }
  ATLAS_RETURN_IF_ERROR(WriteStatus());
  const std::int64_t mono = st_.ctx.clock->MonotonicNanos();
  if (pending_bytes_ >= kCommitParityBytes || mono - last_commit_ >= kCommitIntervalNs ||
      batch_->Count() >= kCommitUpdates || stop) {
    // Invariant: every parity write queued so far has completed before
    // Commit fdatasyncs the files and commits the manifest.
    pipeline_->WaitLevels();
    ATLAS_RETURN_IF_ERROR(WriteStatus());
    ATLAS_RETURN_IF_ERROR(Commit());
    last_commit_ = mono;
    // Every block of touched_ids is committed now, so a file complete now is
    // complete in the manifest; one still incomplete is touched again when
    // its remaining blocks sync. Storing contents here keeps the set bounded
    // however many files one sync adds.
    if (st_.touched_ids.size() >= kContentFlushFiles) {
      ATLAS_RETURN_IF_ERROR(StoreContents(st_, st_.touched_ids));
      st_.touched_ids.clear();
    }
  }
  if (stop) return Status::Cancelled("sync interrupted; the next sync resumes where this one stopped");
  return Status::Ok();
}

Status ParityPass::Run() {
  ATLAS_ASSIGN_OR_RETURN(codec_, ParityCodec::Create(static_cast<int>(levels_)));
  ATLAS_RETURN_IF_ERROR(OpenParity());
  ATLAS_ASSIGN_OR_RETURN(std::uint64_t dirty_positions, CountDirtyPositions(st_.m.get()));
  st_.ctx.progress->BeginPhase("hash+parity", dirty_positions * bs_ * std::max<std::size_t>(1, ndata_));

  pipeline_ = std::make_unique<StripePipeline>(st_.ctx, st_.m.get(), st_.array, levels_,
                                               static_cast<std::uint64_t>(ndata_ + levels_) * bs_);
  for (std::size_t i = 0; i < StripePipeline::kWindows; ++i) {
    windows_.push_back(std::make_unique<Window>(pipeline_->per_window(), ndata_, levels_, bs_));
  }
  cursor_ = st_.m->Dirty(0);
  batch_ = st_.m->NewBatch();
  last_commit_ = st_.ctx.clock->MonotonicNanos();

  StripePipeline::Stages stages;
  stages.fill = [this](std::size_t wi) { return Fill(*windows_[wi]); };
  stages.stripe = [this](std::size_t wi, std::size_t i, std::size_t worker) { StripeWork(*windows_[wi], i, worker); };
  stages.disk = [this](std::size_t wi, std::size_t di) {
    Window& w = *windows_[wi];
    for (std::size_t i = 0; i < w.stripes.size(); ++i) ReadBlock(w, i, di, pipeline_->reader(0, di));
  };
  stages.level = [this](std::size_t wi, std::size_t l) {
    Window& w = *windows_[wi];
    for (std::size_t i = 0; i < w.stripes.size(); ++i) {
      if (w.stripes[i].delta) ReadParity(w, i, l);
    }
  };
  stages.level_wanted = [this](std::size_t wi, std::size_t) { return windows_[wi]->any_delta; };
  stages.consume = [this](std::size_t wi, std::size_t, bool stop) { return Consume(wi, stop); };
  Status status = pipeline_->Run(stages);  // every write has finished when it returns
  if (status.ok()) status = WriteStatus();
  if (status.ok()) status = Commit();
  // A stop while waiting for a disk to cool can end the fill before any
  // window was read: what was done is committed, and the run is interrupted.
  if (status.ok() && st_.ctx.stop.stop_requested()) status = Status::Cancelled("interrupted");
  st_.ctx.progress->EndPhase();
  return status;
}

}  // namespace

Status WriteParity(SyncState& st) { return ParityPass(st).Run(); }

}  // namespace atlas::sync
