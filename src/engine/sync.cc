// sync: bring the manifest and the parity up to date with the data disks.
//
// The approach, in four passes, each in its own file (sync_internal.h):
//
//  1. Check (read-only). Take the manifest lock, open the manifest read-only,
//     probe every disk, and walk all data disks in parallel, merge-joining
//     each walk with the manifest (engine/scan.h). The disk and delete guards
//     are decided here, so a sync that a guard refuses has written nothing:
//     the manifest is opened read-only and RocksDB's info log is discarded,
//     which leaves its directory byte-identical. A sync with nothing to do
//     stops here too, in the time of one metadata walk.
//  2. Apply. Walk again (the metadata is in the dentry cache) and record each
//     change: added and modified files get block positions marked dirty,
//     deleted files' positions are marked deleted-and-dirty, moves just
//     rename the record. Batches commit every few thousand files; a lost
//     batch is redone by the next scan, so they need no fsync.
//  3. Parity. Take the dirty positions in order, a window at a time. For each
//     position read the block of every data disk there (one reader thread
//     per disk, all disks at once, hashing on the reader thread, so hashing
//     uses every core), verify synced blocks against their checksums, hash
//     new ones, re-stat the file after reading (a file that changed while
//     read is drift, never corruption), compute all parity levels with ISA-L
//     and write them. Every few hundred MiB: fdatasync the parity, then
//     commit the manifest durably (the invariant is written at that line).
//     A position whose stripe had a read error, a corrupt block or a file
//     that changed stays dirty, with a finding; the next sync retries it.
//  4. Finish. Content identities of completed files, moves across disks
//     (a deleted file's content reappearing elsewhere), disk identities, run
//     history, then a copy of the manifest into every manifest_copies dir.
//
// Parity is written only at dirty positions, in one of two ways per stripe.
// A full recompute reads every data disk's block there (and verifies the
// synced ones). A delta update is used when every change at the position is
// a new block over zeros (a fresh position: past_zero) and it reads fewer
// blocks: the stored parity plus the new blocks, parity += C * new block
// with ec_encode_data_update, and the other disks are not read at all. A
// modified or deleted block needs its old data for a delta, which is gone,
// so those stripes are recomputed in full. The parity_written_from mark
// keeps a crashed run's uncommitted parity from ever getting a delta twice.
//
// Rejected: SnapRAID's content-file rewrite at every autosave (O(array) per
// save), its 2 s settle sleep, and hashing on one thread.
#include <algorithm>

#include "atlas/hash.h"
#include "atlas/outside.h"
#include "atlas/parity.h"
#include "engine/sync_internal.h"

namespace atlas {
namespace sync {

DiskRecord ParityRecord(const ArrayParity& p) {
  DiskRecord r = p.record.value_or(DiskRecord());
  r.name = p.name;
  r.role = DiskRole::kParity;
  r.index = static_cast<std::uint16_t>(p.level);
  r.path = p.path.string();
  if (p.identity) r.identity = ToRecord(*p.identity);
  return r;
}

void DriftList::Add(Finding f) {
  std::lock_guard<std::mutex> lock(mu_);
  if (items_.size() < max_) {
    items_.push_back(std::move(f));
  } else {
    truncated_ = true;
  }
}

void DriftList::Remove(FindingKind kind, const std::string& disk, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find_if(items_.begin(), items_.end(), [&](const Finding& f) {
    return f.kind == kind && f.disk == disk && f.path == path;
  });
  if (it != items_.end()) items_.erase(it);
}

void SyncFindings::Problem(Finding f) {
  std::lock_guard<std::mutex> lock(mu_);
  problems_.push_back(std::move(f));
}

void SyncFindings::Watch(const std::vector<StoredFinding>& stored) {
  for (const StoredFinding& sf : stored) {
    const Finding& f = sf.finding;
    if ((f.kind == FindingKind::kReadError || f.kind == FindingKind::kSilentCorruption) && f.offset) {
      watched_[{f.disk, f.path}].push_back(*f.offset);
    }
  }
}

void SyncFindings::NoteCleanRead(const std::string& disk, const std::string& path, std::uint64_t begin,
                                 std::uint64_t len) {
  auto it = watched_.find({disk, path});
  if (it == watched_.end()) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (std::uint64_t off : it->second) {
    if (off >= begin && off < begin + len) {
      Finding f;
      f.disk = disk;
      f.path = path;
      f.offset = off;
      healed_.push_back(std::move(f));
    }
  }
}

bool SyncFindings::Healed(const Finding& f) const {
  std::lock_guard<std::mutex> lock(mu_);
  bool healed = std::any_of(healed_.begin(), healed_.end(), [&](const Finding& h) {
    return h.disk == f.disk && h.path == f.path && h.offset == f.offset;
  });
  bool again = std::any_of(problems_.begin(), problems_.end(), [&](const Finding& p) {
    return p.kind == f.kind && p.disk == f.disk && p.path == f.path;
  });
  return healed && !again;
}

std::vector<Finding> SyncFindings::Problems() const {
  std::lock_guard<std::mutex> lock(mu_);
  return problems_;
}

std::vector<Finding> SyncFindings::TakeAll() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Finding> all = std::move(problems_);
  for (Finding& f : drift.Take()) all.push_back(std::move(f));
  return all;
}

namespace {

// The passes in order. A sync with nothing to do writes nothing, except a
// manifest copy that the last sync died before taking, or an outside index
// that is missing from a copy directory.
Status RunPasses(SyncState& st) {
  bool nothing_to_do = false;
  ATLAS_RETURN_IF_ERROR(Check(st, &nothing_to_do));
  st.report->nothing_to_do = nothing_to_do;
  if (nothing_to_do && st.copies_pending) return CopyManifest(st);
  if (nothing_to_do) {
    std::vector<Finding> refused;  // unsafe copy directories: findings, not errors
    Status s = ExportOutsideIndexIfMissing(st.ctx.fs, st.config, st.ctx.clock->NowUnixNanos(), &refused);
    for (Finding& f : refused) st.findings.Problem(std::move(f));
    return s;
  }
  Status s = Apply(st);
  if (s.ok()) s = WriteParity(st);
  if (s.ok() || s.code() == Code::kCancelled) {
    // An interrupted sync still records what it did.
    Status f = Finish(st);
    return s.ok() ? f : s;
  }
  RecordFailure(st, s);
  return s;
}

}  // namespace
}  // namespace sync

Status EngineSelfTest() {
  static const Status result = [] {
    Status s = HashSelfTest();
    if (s.ok()) s = ParitySelfTest();
    ClearUpperVectorState();
    return s.WithContext("self-test");
  }();
  return result;
}

Status RunSync(const RunContext& ctx, const SyncOptions& options, SyncReport* report) {
  *report = SyncReport();
  const std::int64_t t0 = ctx.clock->MonotonicNanos();
  sync::SyncState st(ctx, options, report);
  st.start_ns = ctx.clock->NowUnixNanos();
  if (Status s = EngineSelfTest(); !s.ok()) return s.WithContext("sync");
  Result<std::unique_ptr<ManifestLock>> lock = ManifestLock::Acquire(ctx.config->manifest);
  if (!lock.ok()) return lock.status().WithContext("sync");
  Status s = sync::RunPasses(st);
  report->findings = st.findings.TakeAll();
  report->drift_truncated = st.findings.drift.truncated();
  report->seconds = static_cast<double>(ctx.clock->MonotonicNanos() - t0) / 1e9;
  return s.WithContext("sync");
}

}  // namespace atlas
