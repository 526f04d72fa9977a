// sync, pass 4: finish (sync.cc says how sync works as a whole).
//
// Content identities of completed files, moves across disks (a deleted
// file's content reappearing elsewhere), the findings only a sync can close
// and the problems this one found, disk records, the run record; then a copy
// of the manifest, and the outside index, into every manifest_copies dir.
#include <algorithm>

#include <fmt/format.h>

#include "atlas/hash.h"
#include "atlas/outside.h"
#include "core/crash_point.h"
#include "engine/guards.h"
#include "engine/sync_internal.h"

namespace atlas::sync {
namespace {

// A deleted file whose content reappeared on another disk was moved. The
// candidates are the files this run added (ids from first_new_file_id on)
// whose content is known now; there are none to look at without deletions.
Status DetectMoves(SyncState& st, ManifestBatch* batch) {
  ATLAS_ASSIGN_OR_RETURN(std::vector<Hash128> deleted_contents, st.m->ListDeletedContent());
  const std::uint64_t end_id = deleted_contents.empty() ? st.first_new_file_id : st.next_file_id.load();
  DriftCounts& counts = st.report->drift;
  for (std::uint64_t id = st.first_new_file_id; id < end_id; ++id) {
    ATLAS_ASSIGN_OR_RETURN(std::optional<FileRecord> rec, st.m->GetFileById(id));
    if (!rec || !rec->content || rec->size == 0) continue;
    auto disk = std::find_if(st.array.data.begin(), st.array.data.end(),
                             [&](const ArrayDataDisk& d) { return d.slot == rec->slot; });
    if (disk == st.array.data.end()) continue;
    const Hash128 content = *rec->content;
    ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> from, st.m->GetDeletedContent(content));
    if (!from) continue;
    const std::size_t colon = from->find(':');
    const std::string from_disk = from->substr(0, colon);
    const std::string from_path = colon == std::string::npos ? "" : from->substr(colon + 1);
    st.findings.drift.Remove(FindingKind::kAdded, disk->name, rec->path);
    st.findings.drift.Remove(FindingKind::kDeleted, from_disk, from_path);
    Finding f = MakeFinding(FindingKind::kMoved, disk->name, rec->path,
                            fmt::format("moved from {}:{}", from_disk, DisplayPath(from_path)));
    f.from = *from;
    st.findings.drift.Add(std::move(f));
    batch->DeleteDeletedContent(content);
    counts.added--;
    counts.deleted--;
    counts.moved++;
  }
  ATLAS_ASSIGN_OR_RETURN(std::vector<Hash128> leftovers, st.m->ListDeletedContent());
  for (const Hash128& h : leftovers) batch->DeleteDeletedContent(h);
  return Status::Ok();
}

// Stored findings that this sync closes: those only a sync can clear, those
// about files no longer in the array, and read errors and corruption whose
// block now reads back clean and that this run did not report again.
Status CloseFindings(SyncState& st, const std::vector<StoredFinding>& stored, ManifestBatch* batch) {
  for (const StoredFinding& sf : stored) {
    const Finding& f = sf.finding;
    if (f.kind == FindingKind::kMissingDisk || f.kind == FindingKind::kMassDelete) batch->DeleteFinding(f);
    // What the last sync could not protect (UnprotectedFinding, RecordFailure):
    // this one says it again if it still holds.
    if (f.kind == FindingKind::kUnsynced && f.disk.empty() && f.path.empty()) batch->DeleteFinding(f);
    const bool block_kind = f.kind == FindingKind::kReadError || f.kind == FindingKind::kSilentCorruption;
    if ((block_kind || f.kind == FindingKind::kUnrecoverable) && !f.path.empty()) {
      // A finding about a file that no longer exists has nothing to point at.
      auto disk = std::find_if(st.array.data.begin(), st.array.data.end(),
                               [&](const ArrayDataDisk& d) { return d.name == f.disk; });
      if (disk != st.array.data.end()) {
        ATLAS_ASSIGN_OR_RETURN(std::optional<FileRecord> still, st.m->GetFile(disk->slot, f.path));
        if (!still) batch->DeleteFinding(f);
      }
    }
    if (block_kind && st.findings.Healed(f)) batch->DeleteFinding(f);
  }
  return Status::Ok();
}

// The files that the stripes this sync could not compute leave without
// protection: every block of another disk at such a position is only
// recoverable once the position syncs. Null when every stripe synced.
Result<std::optional<Finding>> UnprotectedFinding(SyncState& st) {
  if (st.failed.count == 0) return std::optional<Finding>();
  std::vector<std::string> files;
  std::set<std::pair<std::uint16_t, std::uint64_t>> seen;  // (slot, file id)
  std::uint64_t more = 0;
  for (const FailedStripes::Stripe& stripe : st.failed.first) {
    for (const ArrayDataDisk& d : st.array.data) {
      const std::vector<std::uint16_t>& bad = stripe.failed_slots;
      if (std::find(bad.begin(), bad.end(), d.slot) != bad.end()) continue;
      ATLAS_ASSIGN_OR_RETURN(std::optional<BlockRecord> b, st.m->GetBlock(d.slot, stripe.pos));
      if (!b || b->state == BlockState::kDeleted || !seen.insert({d.slot, b->file_id}).second) continue;
      ATLAS_ASSIGN_OR_RETURN(std::optional<FileRecord> f, st.m->GetFileById(b->file_id));
      if (!f) continue;
      if (files.size() < kGuardExamples) {
        files.push_back(d.name + ":" + DisplayPath(f->path));
      } else {
        more++;
      }
    }
  }
  const std::uint64_t first = st.failed.first.front().pos;
  const std::uint64_t n = st.failed.count;
  std::string what = files.empty() ? std::string("no file of another disk is there")
                                   : fmt::format("these files of other disks are not protected by parity until "
                                                 "they are: {}{}",
                                                 fmt::join(files, ", "),
                                                 more > 0 ? fmt::format(" (and {} more)", more) : std::string());
  Finding f = MakeFinding(FindingKind::kUnsynced, "", "",
                          fmt::format("{} position{} could not be synced (from position {}; see the read_error and "
                                      "silent_corruption findings); {}",
                                      n, n == 1 ? "" : "s", first, what));
  f.offset = first * st.config.block_size;
  return std::optional<Finding>(std::move(f));
}

// The problems of this run that are warnings or worse, stored (keeping when
// each was first seen).
void StoreProblems(SyncState& st, const std::vector<StoredFinding>& stored, ManifestBatch* batch) {
  for (const Finding& f : st.findings.Problems()) {
    if (f.severity < Severity::kWarning) continue;
    StoredFinding sf;
    sf.finding = f;
    sf.first_seen_ns = st.start_ns;
    sf.last_seen_ns = st.start_ns;
    for (const StoredFinding& old : stored) {
      if (old.finding.kind == f.kind && old.finding.disk == f.disk && old.finding.path == f.path) {
        sf.first_seen_ns = old.first_seen_ns;
      }
    }
    batch->PutFinding(sf);
  }
}

// Parity records with their sizes now, the sync marks and the run record.
Status PutRunRecords(SyncState& st, ManifestBatch* batch) {
  for (const ArrayParity& p : st.array.parity) {
    DiskRecord r = ParityRecord(p);
    Result<FileStat> stat = st.ctx.fs->Stat(p.path);
    if (stat.ok()) r.parity_size = stat->size;
    batch->PutDisk(r);
  }
  // What is still dirty (interrupted, or stripes with errors).
  ATLAS_ASSIGN_OR_RETURN(std::uint64_t left, CountDirtyPositions(st.m.get()));
  st.report->positions_left = left;
  const std::int64_t end_ns = st.ctx.clock->NowUnixNanos();
  if (left == 0) {
    batch->PutMeta("last_sync_ns", std::to_string(end_ns));
    // Every written position is committed: no parity is in doubt any more.
    if (st.written_from) batch->PutMeta("parity_written_from", "");
  }
  const DriftCounts& d = st.report->drift;
  RunRecord run;
  run.command = "sync";
  run.start_ns = st.start_ns;
  run.end_ns = end_ns;
  run.exit_code = left == 0 ? 0 : 1;
  run.summary = fmt::format("{} added, {} modified, {} deleted, {} moved, {} bytes hashed, {} positions left",
                            d.added, d.modified, d.deleted, d.moved, st.report->bytes_hashed, left);
  batch->PutRun(run);
  batch->PutMeta("copies_pending", "1");
  return Status::Ok();
}

}  // namespace

Status StoreContents(SyncState& st, const std::set<std::uint64_t>& ids) {
  // In their own batches, without fsync: Finish's durable commit comes
  // later, and a lost identity only costs move detection for that file.
  std::unique_ptr<ManifestBatch> batch = st.m->NewBatch();
  for (std::uint64_t id : ids) {
    ATLAS_ASSIGN_OR_RETURN(std::optional<FileRecord> rec, st.m->GetFileById(id));
    if (!rec || rec->content) continue;
    Hasher128 h;
    bool complete = true;
    for (std::uint64_t i = 0; i < rec->BlockCount() && complete; ++i) {
      ATLAS_ASSIGN_OR_RETURN(std::optional<BlockRecord> b, st.m->GetBlock(rec->slot, rec->PositionOf(i)));
      if (!b || b->state != BlockState::kSynced || !b->hash || b->file_id != id) {
        complete = false;
        break;
      }
      std::byte raw[16];
      b->hash->ToBytes(raw);
      h.Update(std::span<const std::byte>(raw, 16));
    }
    if (!complete) continue;
    rec->content = h.Digest();
    batch->PutFile(*rec);
    if (batch->Count() >= 3 * kApplyBatchFiles) {
      ATLAS_RETURN_IF_ERROR(st.m->Commit(*batch, false));
      batch = st.m->NewBatch();
    }
  }
  return st.m->Commit(*batch, false);
}

Status Finish(SyncState& st) {
  if (!st.m) return Status::Ok();
  // Content identity of every file whose last blocks were synced now.
  ATLAS_RETURN_IF_ERROR(StoreContents(st, st.touched_ids));
  st.touched_ids.clear();
  std::unique_ptr<ManifestBatch> batch = st.m->NewBatch();
  ATLAS_RETURN_IF_ERROR(DetectMoves(st, batch.get()));
  ATLAS_ASSIGN_OR_RETURN(std::vector<StoredFinding> stored, st.m->ListFindings());
  ATLAS_RETURN_IF_ERROR(CloseFindings(st, stored, batch.get()));
  ATLAS_ASSIGN_OR_RETURN(std::optional<Finding> unprotected, UnprotectedFinding(st));
  if (unprotected) st.findings.Problem(std::move(*unprotected));
  StoreProblems(st, stored, batch.get());
  ATLAS_RETURN_IF_ERROR(PutRunRecords(st, batch.get()));
  ATLAS_RETURN_IF_ERROR(st.m->Commit(*batch, /*durable=*/true));
  ATLAS_CRASH_POINT("sync.finish.before_copies");
  return CopyManifest(st);
}

void RecordFailure(SyncState& st, const Status& failure) {
  if (!st.m) return;
  Result<std::uint64_t> left = CountDirtyPositions(st.m.get());
  StoredFinding sf;
  sf.finding = MakeFinding(
      FindingKind::kUnsynced, "", "",
      fmt::format("the last sync failed: {}; {} positions are not protected by parity until a sync "
                  "completes",
                  failure.ToString(), left.ok() ? std::to_string(*left) : std::string("some")));
  sf.first_seen_ns = st.start_ns;
  sf.last_seen_ns = st.start_ns;
  Result<std::vector<StoredFinding>> stored = st.m->ListFindings();
  if (stored.ok()) {
    for (const StoredFinding& old : *stored) {
      if (old.finding.kind == FindingKind::kUnsynced && old.finding.disk.empty() && old.finding.path.empty()) {
        sf.first_seen_ns = old.first_seen_ns;
      }
    }
  }
  std::unique_ptr<ManifestBatch> batch = st.m->NewBatch();
  batch->PutFinding(sf);
  RunRecord run;
  run.command = "sync";
  run.start_ns = st.start_ns;
  run.end_ns = st.ctx.clock->NowUnixNanos();
  run.exit_code = 3;
  run.summary = "failed: " + failure.ToString();
  batch->PutRun(run);
  st.m->Commit(*batch, /*durable=*/true).IgnoreError();  // the failure itself is what the run returns
}

Status CopyManifest(SyncState& st) {
  if (!st.m) {
    ManifestOptions rw;
    rw.copy_dirs = st.config.manifest_copies;
    ATLAS_ASSIGN_OR_RETURN(st.m, OpenManifest(st.config.manifest, rw));
  }
  // A copy taken now holds copies_pending=1; restoring it only makes the
  // next sync copy again.
  const std::vector<std::filesystem::path>& dirs = st.config.manifest_copies;
  if (!dirs.empty()) {
    st.ctx.progress->Note("copying the manifest to " + std::to_string(dirs.size()) + " manifest_copies directories");
    // A copy directory atlas cannot trust gets nothing and is a finding;
    // the others still get their copy (manifest/copy_dir.h).
    std::vector<Finding> refused;
    // The outside index signing key goes into the manifest before its
    // first copy, so every copy can restore it.
    ATLAS_RETURN_IF_ERROR(OutsideSigningKey(st.m.get(), /*create=*/true).status());
    ATLAS_RETURN_IF_ERROR(st.m->CopyTo(dirs, &refused).WithContext("manifest copy"));
    // The compute hosts' view of Atlas, refreshed with every copy (outside.h).
    ATLAS_RETURN_IF_ERROR(ExportOutsideIndex(st.ctx.fs, st.m.get(), dirs, st.ctx.clock->NowUnixNanos(), &refused));
    for (Finding& f : refused) st.findings.Problem(std::move(f));
  }
  std::unique_ptr<ManifestBatch> done = st.m->NewBatch();
  done->PutMeta("copies_pending", "0");
  return st.m->Commit(*done, /*durable=*/true);
}

}  // namespace atlas::sync
