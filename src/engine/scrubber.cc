// scrub and check: verify blocks against their checksums and parity.
//
// A position is verified as a whole stripe: every data disk's block is read
// and hashed (one reader per disk, all disks at once, via StripeScanner),
// and when every block matches its checksum the parity is recomputed and
// compared byte for byte with each stored level. What can go wrong, and what
// is reported:
//   - a block's hash differs while its file's size and mtime are as
//     recorded: silent_corruption (disk, path, byte offset);
//   - the disk returns an error: read_error (disk, path, offset), for data
//     and for parity; past a per-disk limit the disk is no longer read;
//   - data verifies but a parity level differs: parity_mismatch, one finding
//     per level naming the positions;
//   - a file changed since the last sync: drift, not verifiable, reported as
//     modified (info); positions not yet synced are skipped.
// Problems are stored in the manifest until a later scrub, sync or fix sees
// the block clean again, so `status` keeps showing them.
//
// Which positions (scrub): `full` all, `new` never scrubbed since hashed,
// `bad` the ones with open findings, and by default the oldest-verified
// share ([scrub] percent, only blocks not verified for [scrub] older_than),
// plus the bad ones (SnapRAID's plan: state_scrub() in its cmdline/scrub.c). Picking
// the oldest share walks the block records for a histogram of verification
// days; every plan then streams its positions into the scanner from a walk
// (after one that counts them), so memory does not grow with the array.
//
// check verifies the same way but opens the manifest read-only and records
// nothing.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include <fnmatch.h>

#include <fmt/format.h>

#include "atlas/disk_monitor.h"
#include "atlas/engine.h"
#include "atlas/parity.h"
#include "core/crash_point.h"
#include "engine/array.h"
#include "engine/disk_guards.h"
#include "engine/guards.h"
#include "engine/parity_file.h"
#include "engine/stripe_scanner.h"

namespace atlas {
namespace {

constexpr std::int64_t kNsPerDay = 86'400'000'000'000;
constexpr std::size_t kCommitPositions = 4096;

bool Verifiable(FindingKind k) {
  return k == FindingKind::kSilentCorruption || k == FindingKind::kReadError ||
         k == FindingKind::kParityMismatch;
}

// Parity mismatches are stored one per level; `from` keeps the range as
// "positions A-B" so that `--plan bad` can recheck it.
std::string RangeText(std::uint64_t a, std::uint64_t b) { return fmt::format("positions {}-{}", a, b); }
bool ParseRange(const std::string& text, std::uint64_t* a, std::uint64_t* b) {
  return std::sscanf(text.c_str(), "positions %lu-%lu", a, b) == 2;
}

// The positions that open findings point at.
Result<std::set<std::uint64_t>> BadPositions(Manifest* m, const ArrayView& array,
                                             const std::vector<StoredFinding>& stored, std::uint32_t bs) {
  std::set<std::uint64_t> out;
  for (const StoredFinding& sf : stored) {
    const Finding& f = sf.finding;
    if (!Verifiable(f.kind)) continue;
    std::uint64_t a = 0, b = 0;
    if (f.kind == FindingKind::kParityMismatch && ParseRange(f.from, &a, &b)) {
      for (std::uint64_t p = a; p <= b && p - a < (1u << 20); ++p) out.insert(p);
      continue;
    }
    if (!f.offset) continue;
    auto data = std::find_if(array.data.begin(), array.data.end(),
                             [&](const ArrayDataDisk& d) { return d.name == f.disk; });
    if (data == array.data.end()) {
      out.insert(*f.offset / bs);  // a parity level: the offset is in the parity file
      continue;
    }
    ATLAS_ASSIGN_OR_RETURN(std::optional<FileRecord> rec, m->GetFile(data->slot, f.path));
    if (rec && *f.offset / bs < rec->BlockCount()) out.insert(rec->PositionOf(*f.offset / bs));
  }
  return out;
}

class Verifier {
 public:
  Verifier(const RunContext& ctx, Manifest* m, const ArrayView& array, bool record, VerifyReport* report)
      : ctx_(ctx), m_(m), array_(array), record_(record), report_(report) {}

  Status Run(const PickedPositions& positions, const std::vector<StoredFinding>& stored);

 private:
  // after_read: recomputes the parity from data that verified and compares
  // it with each stored level (on a reader thread with whole-stripe reads).
  void CheckParity(ScannedStripe& s) const;
  Status OnStripe(const ScannedStripe& s);
  // The finding for data disk `di`'s block at `s` that did not check out.
  Finding BlockProblem(const ScannedStripe& s, std::size_t di) const;
  // scrub: closes the findings about blocks that checked out, and marks a
  // clean stripe's blocks verified now.
  Status RecordStripe(const ScannedStripe& s, bool clean);
  // A held disk (RunContext::monitor) was not read at this position.
  static bool Held(const ScannedStripe& s);
  Status Skip(const ScannedStripe& s, std::vector<Finding> found);
  Status Flush(bool durable);

  const RunContext& ctx_;
  Manifest* m_;
  const ArrayView& array_;
  bool record_;
  VerifyReport* report_;
  std::unique_ptr<ParityCodec> codec_;
  std::unique_ptr<ManifestBatch> batch_;
  std::size_t pending_ = 0;
  std::int64_t now_ = 0;
  // Stored findings by (disk, path) with their offsets, to close the ones
  // whose block verifies clean now.
  std::map<std::pair<std::string, std::string>, std::vector<StoredFinding>> open_;
  std::vector<StoredFinding> parity_open_;
  // Per parity level: mismatching positions seen (count, first, last).
  struct Range {
    std::uint64_t count = 0, first = 0, last = 0;
  };
  std::vector<Range> mismatch_;
  std::vector<bool> level_clean_seen_;  // a position where the level verified
  std::vector<std::uint64_t> verified_clean_;  // positions verified clean, ascending
};

Status Verifier::Run(const PickedPositions& positions, const std::vector<StoredFinding>& stored) {
  const std::uint32_t bs = ctx_.config->block_size;
  ATLAS_ASSIGN_OR_RETURN(codec_, ParityCodec::Create(static_cast<int>(array_.parity.size())));
  mismatch_.assign(array_.parity.size(), Range());
  level_clean_seen_.assign(array_.parity.size(), false);
  now_ = ctx_.clock->NowUnixNanos();
  if (record_) batch_ = m_->NewBatch();
  for (const StoredFinding& sf : stored) {
    if (!Verifiable(sf.finding.kind)) continue;
    if (sf.finding.kind == FindingKind::kParityMismatch) {
      parity_open_.push_back(sf);
    } else {
      open_[{sf.finding.disk, sf.finding.path}].push_back(sf);
    }
  }
  report_->positions_selected = positions.count;
  ctx_.progress->BeginPhase(record_ ? "scrub" : "check",
                            positions.count * bs * std::max<std::size_t>(1, array_.data.size()));
  ScanOptions scan_options;
  scan_options.after_read = [this](ScannedStripe& stripe) { CheckParity(stripe); };
  scan_options.scratch_bytes = array_.parity.size() * bs;
  scan_options.parity_hashes = true;
  // A disk too hot to read, or failing: scrub leaves it for later and
  // verifies the others; check, which the user runs to see everything,
  // waits for it.
  scan_options.held = record_ ? ScanOptions::Held::kSkip : ScanOptions::Held::kWait;
  StripeScanner scanner(ctx_, m_, array_, scan_options);
  Status s = scanner.Run(positions.source, [this](const ScannedStripe& stripe) { return OnStripe(stripe); });
  ctx_.progress->EndPhase();
  report_->bytes_read = scanner.bytes_read();
  report_->disks_given_up = scanner.GivenUp();
  for (const std::string& disk : report_->disks_given_up) {
    report_->findings.push_back(
        MakeFinding(FindingKind::kReadError, disk, "",
                    fmt::format("stopped reading this disk after {} read errors; the rest of its "
                                "blocks were not verified; check the disk (`smartctl -a`) before "
                                "anything else",
                                scan_options.disk_error_limit)));
  }
  // One parity_mismatch finding per level, naming the positions.
  for (std::size_t l = 0; l < mismatch_.size(); ++l) {
    const Range& r = mismatch_[l];
    if (r.count > 0) {
      Finding f = MakeFinding(
          FindingKind::kParityMismatch, array_.parity[l].name, "",
          fmt::format("parity level {} ({}) disagrees with data that matches its checksums at {} "
                      "position{} ({}..{}); repair with `atlas-scrub fix --errors-only`",
                      l + 1, array_.parity[l].path.string(), r.count, r.count == 1 ? "" : "s", r.first,
                      r.last));
      f.offset = r.first * bs;
      f.from = RangeText(r.first, r.last);
      report_->findings.push_back(f);
      if (record_) batch_->PutFinding({f, now_, now_});
    } else if (record_ && level_clean_seen_[l]) {
      // Closed only when every position of the stored range was verified
      // clean in this run (a `--plan new` scrub may not have looked there).
      for (const StoredFinding& sf : parity_open_) {
        std::uint64_t a = 0, b = 0;
        if (sf.finding.disk != array_.parity[l].name || !ParseRange(sf.finding.from, &a, &b)) continue;
        auto lo = std::lower_bound(verified_clean_.begin(), verified_clean_.end(), a);
        auto hi = std::upper_bound(verified_clean_.begin(), verified_clean_.end(), b);
        if (static_cast<std::uint64_t>(hi - lo) == b - a + 1) batch_->DeleteFinding(sf.finding);
      }
    }
  }
  if (record_ && (s.ok() || s.code() == Code::kCancelled)) {
    Status f = Flush(/*durable=*/true);
    if (s.ok()) s = f;
  }
  return s;
}

void Verifier::CheckParity(ScannedStripe& s) const {
  if (s.dirty || Held(s)) return;
  const std::uint32_t bs = ctx_.config->block_size;
  const std::size_t levels = array_.parity.size();
  std::vector<int> slots;
  std::vector<const std::byte*> ptrs;
  std::vector<std::pair<std::uint16_t, Hash128>> hashes;
  for (std::size_t di = 0; di < array_.data.size(); ++di) {
    if (!s.recs[di]) continue;
    if (!s.read[di] || s.checks[di].outcome != BlockCheck::Outcome::kOk) return;  // data unverified
    if (!s.recs[di]->hash) return;  // not a synced block (the stripe would be dirty)
    slots.push_back(array_.data[di].slot);
    ptrs.push_back(s.data[di]);
    hashes.emplace_back(array_.data[di].slot, *s.recs[di]->hash);
  }
  const Hash128 digest = ParityDataDigest(std::move(hashes));
  // Every data block matches its checksum. If sync stored the parity's
  // checksums when it computed the parity from exactly these blocks, and
  // every level still hashes to them, the parity is the parity of this data:
  // no need to recompute it (a fifth of a scrub's CPU). Anything else (no
  // record, a stale one, a level that differs or could not be read) is
  // settled by recomputing.
  std::vector<Hash128> stored(levels);
  bool all_match = s.parity_hash && s.parity_hash->levels.size() == levels && s.parity_hash->data_digest == digest;
  for (std::size_t l = 0; all_match && l < levels; ++l) {
    all_match = s.parity_status[l].ok();
    if (all_match) stored[l] = HashBlock(std::span<const std::byte>(s.parity[l], bs));
    all_match = all_match && stored[l] == s.parity_hash->levels[l];
  }
  if (all_match) {
    std::fill(s.parity_verified.begin(), s.parity_verified.end(), 1);
    return;
  }
  std::vector<std::byte*> out(levels);
  for (std::size_t l = 0; l < levels; ++l) out[l] = s.scratch + l * bs;
  codec_->Encode(slots, ptrs.data(), out.data(), bs);  // all zeros without slots
  bool verified = true;
  for (std::size_t l = 0; l < levels; ++l) {
    s.parity_verified[l] = s.parity_status[l].ok() && std::memcmp(out[l], s.parity[l], bs) == 0;
    verified = verified && s.parity_verified[l];
  }
  if (verified && record_) {
    // Proven now: store the checksums, so the next scrub here is the quick one.
    ParityHashRecord fresh;
    fresh.pos = s.pos;
    fresh.levels.resize(levels);
    for (std::size_t l = 0; l < levels; ++l) fresh.levels[l] = HashBlock(std::span<const std::byte>(out[l], bs));
    fresh.data_digest = digest;
    s.parity_hash_new = std::move(fresh);
  }
}

Finding Verifier::BlockProblem(const ScannedStripe& s, std::size_t di) const {
  const BlockCheck& c = s.checks[di];
  const std::string& disk = array_.data[di].name;
  Finding f;
  switch (c.outcome) {
    case BlockCheck::Outcome::kMismatch:
      f = MakeFinding(FindingKind::kSilentCorruption, disk, s.paths[di],
                      fmt::format("block {} (bytes {}..{}) no longer matches its checksum while the "
                                  "file's size and mtime are unchanged; repair with `atlas-scrub fix --errors-only`",
                                  s.recs[di]->file_block, c.offset, c.offset + c.bytes));
      f.offset = c.offset;
      break;
    case BlockCheck::Outcome::kReadError:
      f = MakeFinding(FindingKind::kReadError, disk, s.paths[di],
                      fmt::format("read error at byte {}: {}", c.offset, c.error.ToString()));
      f.offset = c.offset;
      break;
    default:
      f = MakeFinding(FindingKind::kModified, disk, s.paths[di],
                      "changed since the last sync; not verified (run `atlas-scrub sync`)");
      break;
  }
  return f;
}

Status Verifier::OnStripe(const ScannedStripe& s) {
  const std::uint32_t bs = ctx_.config->block_size;
  // A file or parity file this user may not read is one error that ends
  // the run, not a read_error per block: nothing is wrong with the disk.
  ATLAS_RETURN_IF_ERROR(PermissionProblem(record_ ? "scrub" : "check", array_, s));
  if (s.dirty) {
    report_->positions_skipped++;  // parity is not expected to match yet
    return Status::Ok();
  }
  bool data_ok = true;
  std::vector<Finding> found;
  for (std::size_t di = 0; di < array_.data.size(); ++di) {
    if (!s.recs[di]) continue;
    if (!s.read[di]) {
      data_ok = false;  // the disk was given up: unverified, already reported
    } else if (s.checks[di].outcome != BlockCheck::Outcome::kOk) {
      data_ok = false;
      found.push_back(BlockProblem(s, di));
    }
  }
  if (Held(s)) return Skip(s, std::move(found));
  bool parity_ok = true;
  for (std::size_t l = 0; l < array_.parity.size(); ++l) {
    if (!s.parity_status[l].ok()) {
      parity_ok = false;
      found.push_back(ParityFile::ReadErrorFinding(array_.parity[l], bs, s.pos, s.parity_status[l]));
    } else if (data_ok && !s.parity_verified[l]) {
      parity_ok = false;
      Range& r = mismatch_[l];
      if (r.count++ == 0) r.first = s.pos;
      r.last = s.pos;
    } else if (data_ok) {
      level_clean_seen_[l] = true;
    }
  }
  const bool clean = data_ok && parity_ok;
  if (clean) {
    report_->positions_verified++;
    if (!parity_open_.empty()) verified_clean_.push_back(s.pos);
  } else {
    report_->positions_bad++;
  }
  for (Finding& f : found) {
    if (record_ && f.severity >= Severity::kWarning) batch_->PutFinding({f, now_, now_});
    report_->findings.push_back(std::move(f));
  }
  return record_ ? RecordStripe(s, clean) : Status::Ok();
}

bool Verifier::Held(const ScannedStripe& s) {
  return std::find(s.held.begin(), s.held.end(), 1) != s.held.end();
}

// A position where a held disk was not read: the blocks that were read and
// did not check out are reported (and stored) as at any position, but
// nothing is recorded as verified, so the next scrub takes the position
// again.
Status Verifier::Skip(const ScannedStripe& s, std::vector<Finding> found) {
  report_->positions_skipped++;
  if (ctx_.monitor != nullptr) {
    const std::size_t ndata = array_.data.size();
    for (std::size_t i = 0; i < s.held.size(); ++i) {
      if (!s.held[i]) continue;
      const std::string& name = i < ndata ? array_.data[i].name : array_.parity[i - ndata].name;
      ctx_.monitor->CountSkipped(ctx_.monitor->Index(name), 1);
    }
  }
  for (Finding& f : found) {
    if (record_ && f.severity >= Severity::kWarning) batch_->PutFinding({f, now_, now_});
    report_->findings.push_back(std::move(f));
  }
  return Status::Ok();
}

Status Verifier::RecordStripe(const ScannedStripe& s, bool clean) {
  const std::uint32_t bs = ctx_.config->block_size;
  if (clean) {
    // A read error on a parity level at this position is gone now.
    for (const auto& [key, list] : open_) {
      for (const StoredFinding& sf : list) {
        const Finding& f = sf.finding;
        if (f.kind == FindingKind::kReadError && f.path.empty() && f.offset && *f.offset / bs == s.pos) {
          batch_->DeleteFinding(f);
        }
      }
    }
  }
  for (std::size_t di = 0; di < array_.data.size(); ++di) {
    const std::optional<BlockRecord>& rec = s.recs[di];
    if (!rec || !s.read[di] || s.checks[di].outcome != BlockCheck::Outcome::kOk) continue;
    // A block that checks out closes the findings about it.
    auto it = open_.find({array_.data[di].name, s.paths[di]});
    if (it != open_.end()) {
      const std::uint64_t begin = rec->file_block * bs;
      for (const StoredFinding& sf : it->second) {
        if (sf.finding.offset && *sf.finding.offset >= begin && *sf.finding.offset < begin + bs) {
          batch_->DeleteFinding(sf.finding);
        }
      }
    }
    if (!clean) continue;
    BlockRecord b = *rec;
    b.verified_ns = now_;
    b.scrubbed = true;
    batch_->ReplaceBlock(*rec, b);  // *rec is as stored: the walk read it, and only this run writes
  }
  if (clean && s.parity_hash_new) batch_->PutParityHash(*s.parity_hash_new);
  if (++pending_ >= kCommitPositions) ATLAS_RETURN_IF_ERROR(Flush(false));
  return Status::Ok();
}

Status Verifier::Flush(bool durable) {
  ATLAS_RETURN_IF_ERROR(m_->Commit(*batch_, durable));
  ATLAS_CRASH_POINT("scrub.after_commit");
  batch_ = m_->NewBatch();
  pending_ = 0;
  return Status::Ok();
}

// The positions of a scrub plan, streamed in order.
Result<PickedPositions> SelectPositions(const RunContext& ctx, Manifest* m, const ArrayView& array,
                                        const ScrubOptions& options, const std::set<std::uint64_t>& bad) {
  const std::int64_t now = ctx.clock->NowUnixNanos();
  if (options.plan == ScrubPlan::kBad) return PickedPositions{bad.size(), PositionsOf(bad)};
  if (options.plan == ScrubPlan::kFull || options.plan == ScrubPlan::kNew) {
    const bool full = options.plan == ScrubPlan::kFull;
    return PickPositions(m, array, {}, [full]() -> PositionPick {
      return [full](const PositionInfo& p) { return !p.dirty && p.blocks > 0 && (full || !p.all_scrubbed); };
    });
  }
  // Default: the oldest-verified share, only positions older than the cut-off.
  const double percent = options.percent.value_or(ctx.config->scrub.percent);
  const std::int64_t older = options.older_than_s.value_or(ctx.config->scrub.older_than_s);
  const std::int64_t cutoff = now - older * 1'000'000'000;
  std::map<std::int64_t, std::uint64_t> by_day;  // verification day -> positions
  std::uint64_t total = 0;
  ATLAS_RETURN_IF_ERROR(ForEachPosition(m, array, [&](const PositionInfo& p) {
    if (p.dirty || p.blocks == 0) return Status::Ok();
    total++;
    if (p.min_verified_ns <= cutoff) by_day[p.min_verified_ns / kNsPerDay]++;
    return Status::Ok();
  }));
  auto target = static_cast<std::uint64_t>(std::ceil(static_cast<double>(total) * percent / 100.0));
  // Whole days up to `last_day`, and `last_day_take` positions of last_day.
  std::int64_t last_day = INT64_MIN;
  std::uint64_t last_day_take = 0, taken = 0;
  for (const auto& [day, count] : by_day) {
    if (taken >= target) break;
    last_day = day;
    last_day_take = std::min(count, target - taken);
    taken += last_day_take;
  }
  return PickPositions(m, array, {}, [&bad, cutoff, last_day, last_day_take]() -> PositionPick {
    return [&bad, cutoff, last_day, last_day_take, taken_last = std::uint64_t{0}](const PositionInfo& p) mutable {
      if (p.dirty || p.blocks == 0) return false;
      if (bad.count(p.pos) != 0) return true;
      if (p.min_verified_ns > cutoff) return false;
      const std::int64_t day = p.min_verified_ns / kNsPerDay;
      if (day < last_day) return true;
      if (day == last_day && taken_last < last_day_take) {
        taken_last++;
        return true;
      }
      return false;
    };
  });
}

Status Prepare(const RunContext& ctx, Manifest* m, ArrayView* array, VerifyReport* report) {
  ATLAS_RETURN_IF_ERROR(EngineSelfTest());
  ATLAS_ASSIGN_OR_RETURN(*array, LoadArray(ctx, m));
  // Before any parity is judged: without a disk of the manifest every
  // position it holds would look like a parity_mismatch, and the fix that
  // advises would drop the disk's files from parity.
  ATLAS_RETURN_IF_ERROR(CheckOrphans(*ctx.config, *array));
  std::vector<Finding> guards = CheckDiskGuards(*array);
  if (!guards.empty()) {
    std::string first = guards.front().message;
    for (Finding& f : guards) report->findings.push_back(std::move(f));
    return Status::FailedPrecondition("refused: " + first);
  }
  return Status::Ok();
}

}  // namespace

Status RunScrub(const RunContext& ctx, const ScrubOptions& options, VerifyReport* report) {
  *report = VerifyReport();
  const std::int64_t t0 = ctx.clock->MonotonicNanos();
  const std::int64_t start_ns = ctx.clock->NowUnixNanos();
  Status s = [&]() -> Status {
    ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<ManifestLock> lock, ManifestLock::Acquire(ctx.config->manifest));
    ManifestOptions rw;
    rw.copy_dirs = ctx.config->manifest_copies;
    ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<Manifest> m, OpenManifest(ctx.config->manifest, rw));
    ArrayView array;
    ATLAS_RETURN_IF_ERROR(Prepare(ctx, m.get(), &array, report));
    if (!array.synced_ever) return Status::FailedPrecondition("the array has never been synced: run `atlas-scrub sync` first");
    ATLAS_ASSIGN_OR_RETURN(std::vector<StoredFinding> stored, m->ListFindings());
    ATLAS_ASSIGN_OR_RETURN(std::set<std::uint64_t> bad, BadPositions(m.get(), array, stored, ctx.config->block_size));
    ATLAS_ASSIGN_OR_RETURN(PickedPositions positions, SelectPositions(ctx, m.get(), array, options, bad));
    Verifier verifier(ctx, m.get(), array, /*record=*/true, report);
    Status v = verifier.Run(positions, stored);
    if (!v.ok() && v.code() != Code::kCancelled) return v;
    std::unique_ptr<ManifestBatch> batch = m->NewBatch();
    const std::int64_t end_ns = ctx.clock->NowUnixNanos();
    batch->PutMeta("last_scrub_ns", std::to_string(end_ns));
    batch->PutMeta("copies_pending", "1");
    RunRecord run;
    run.command = "scrub";
    run.start_ns = start_ns;
    run.end_ns = end_ns;
    run.exit_code = HealthOf(report->findings) > 0 ? 1 : 0;
    run.summary = fmt::format("{} positions verified, {} bad, {} skipped, {} bytes read",
                              report->positions_verified, report->positions_bad, report->positions_skipped,
                              report->bytes_read);
    batch->PutRun(run);
    ATLAS_RETURN_IF_ERROR(m->Commit(*batch, /*durable=*/true));
    if (!ctx.config->manifest_copies.empty()) {
      std::vector<Finding> refused;  // unsafe copy directories: findings, not errors
      ATLAS_RETURN_IF_ERROR(
          m->CopyTo(ctx.config->manifest_copies, &refused).WithContext("manifest copy"));
      for (Finding& f : refused) report->findings.push_back(std::move(f));
      std::unique_ptr<ManifestBatch> done = m->NewBatch();
      done->PutMeta("copies_pending", "0");
      ATLAS_RETURN_IF_ERROR(m->Commit(*done, /*durable=*/true));
    }
    return v;
  }();
  report->seconds = static_cast<double>(ctx.clock->MonotonicNanos() - t0) / 1e9;
  return s.WithContext("scrub");
}

Status RunCheck(const RunContext& ctx, const CheckOptions& options, VerifyReport* report) {
  *report = VerifyReport();
  const std::int64_t t0 = ctx.clock->MonotonicNanos();
  Status s = [&]() -> Status {
    ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<Manifest> m, OpenManifestIfExists(*ctx.config));
    if (!m) return Status::FailedPrecondition("the array has never been synced: run `atlas-scrub sync` first");
    ArrayView array;
    ATLAS_RETURN_IF_ERROR(Prepare(ctx, m.get(), &array, report));
    for (const std::string& name : options.disks) {
      bool known = std::any_of(array.data.begin(), array.data.end(),
                               [&](const ArrayDataDisk& d) { return d.name == name; });
      if (!known) {
        return Status::InvalidArgument(fmt::format("--disk {}: no data disk of that name in {}", name,
                                                   ctx.config->source.string()));
      }
    }
    // Every synced position, streamed; with --disk or a filter, the
    // positions of the matching files (a set: as large as the selection).
    PickedPositions positions;
    std::set<std::uint64_t> picked;
    if (options.disks.empty() && options.filters.empty()) {
      ATLAS_ASSIGN_OR_RETURN(positions, PickPositions(m.get(), array, {}, []() -> PositionPick {
                               return [](const PositionInfo& p) { return !p.dirty && p.blocks > 0; };
                             }));
    } else {
      for (const ArrayDataDisk& d : array.data) {
        if (!d.record) continue;
        bool disk_in = options.disks.empty() ||
                       std::find(options.disks.begin(), options.disks.end(), d.name) != options.disks.end();
        if (!disk_in) continue;
        std::unique_ptr<Cursor<FileRecord>> files = m->Files(d.slot);
        for (; files->Valid(); files->Next()) {
          const FileRecord& f = files->value();
          bool match = options.filters.empty();
          for (const std::string& glob : options.filters) {
            match = match || fnmatch(glob.c_str(), f.path.c_str(), 0) == 0;
          }
          if (!match) continue;
          for (std::uint64_t i = 0; i < f.BlockCount(); ++i) picked.insert(f.PositionOf(i));
        }
        ATLAS_RETURN_IF_ERROR(files->status());
      }
      positions = PickedPositions{picked.size(), PositionsOf(picked)};
    }
    ATLAS_ASSIGN_OR_RETURN(std::vector<StoredFinding> stored, m->ListFindings());
    Verifier verifier(ctx, m.get(), array, /*record=*/false, report);
    return verifier.Run(positions, stored);
  }();
  report->seconds = static_cast<double>(ctx.clock->MonotonicNanos() - t0) / 1e9;
  return s.WithContext("check");
}

}  // namespace atlas
