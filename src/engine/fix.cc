// fix: restore the array to the state of the last sync, from parity and the
// other disks.
//
// The approach. Every position that holds a block in scope is read as a
// whole stripe (StripeScanner: every data disk and every parity level at
// once, one reader per disk), and each block is sorted into
//   known    a synced block that reads back and matches its checksum, an
//            empty slot, or a fresh dirty block the parity still sees as zero;
//   unknown  everything else the parity may contain: blocks that are missing,
//            unreadable, corrupt or changed, and deleted blocks (the parity
//            still holds their old data, whose checksum we kept).
// The unknowns of a stripe are solved together with as many parity levels
// as there are unknowns (ISA-L, any combination of levels), and a solution
// is accepted only if every unknown that has a checksum matches it, so a
// stale or corrupt parity level can never write garbage into a file; other
// combinations of levels are tried before giving up. Only the blocks of
// files in scope are written, and only their bad blocks are rebuilt:
// SnapRAID rewrites every file of a bad stripe whole.
//
// Writing a file. Rebuilt blocks go to a temporary file beside the original
// (".atlas-fix-<tag>-<id>", below), at their offsets, as the stripes come
// in. Once the scan has passed the file's last position, the blocks that
// were good are copied in from the original (which must still be the
// recorded inode), every block is verified against the manifest, the file
// is given the recorded mode, owner and mtime on its descriptor,
// fdatasync'ed, renamed over the original (a restore never over a file that
// appeared since), and the directory is fsync'ed. A file with any
// block that could not be rebuilt is left exactly as it was (its temporary
// file is removed) and named in an `unrecoverable` finding with the blocks.
// Temporary files left by a crash are removed when fix starts.
//
// Parity that disagrees with verified data is rewritten in place (parity
// files are not data). A file modified since the last sync is drift and is
// left alone unless a --filter names it.
//
// --errors-only leaves out every file that is gone (deleted since the sync,
// or on a replaced disk): it repairs only what reads back wrong. That is the
// repair scrub and status advise, because a plain fix also undeletes what
// the user deleted on purpose. Undelete stays the default of a plain fix
// (the replaced disk, the accidental rm) rather than becoming opt-in: an
// opt-in flag would have turned every existing `fix --disk` rebuild into a
// no-op for the files it exists to restore.
//
// A data disk of the manifest missing from the config stops fix before it
// reads (CheckOrphans): the parity "repaired" without it would no longer
// hold its files. A block or parity file this user may not read (EACCES,
// EPERM) ends the run with one error (PermissionProblem).
#include <algorithm>
#include <limits>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include <fnmatch.h>
#include <unistd.h>

#include <fmt/format.h>

#include "atlas/disk_monitor.h"
#include "atlas/engine.h"
#include "atlas/hash.h"
#include "atlas/parity.h"
#include "core/crash_point.h"
#include "engine/array.h"
#include "engine/disk_guards.h"
#include "engine/exclude.h"
#include "engine/guards.h"
#include "engine/parallel.h"
#include "engine/parity_file.h"
#include "engine/position_ranges.h"
#include "engine/stripe_scanner.h"

namespace atlas {
namespace {

// Temporary files: ".atlas-fix-<tag>-<file id>" beside the file they
// replace, created O_EXCL | O_NOFOLLOW. The tag is 16 random hex digits
// drawn once per array and kept in the manifest (meta fix_temp_tag), which
// only root can read, so a user cannot name a file that fix would take for
// its own; a leftover is removed only when it also is a regular file with
// one link owned by the user fix runs as (see RemoveStaleTemps).
std::string ParentOf(const std::string& rel) {
  const std::size_t slash = rel.rfind('/');
  return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

std::string BaseOf(const std::string& rel) {
  const std::size_t slash = rel.rfind('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

std::string TempRelFor(const std::string& rel, std::string_view tag, std::uint64_t file_id) {
  const std::string dir = ParentOf(rel);
  const std::string name = FixTempName(tag, file_id);
  return dir.empty() ? name : dir + "/" + name;
}

// A path from the manifest must stay inside its disk: relative, no "..".
// (The resolution beneath the disk root refuses such a path too; this
// keeps a forged record from even being tried.)
bool SafeRelative(const std::string& rel) {
  if (rel.empty() || rel.front() == '/') return false;
  std::size_t start = 0;
  while (start <= rel.size()) {
    std::size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    std::string_view part(rel.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// A failure to reach a file's place on a data disk that belongs to that
// file alone: a symlink or a file where a directory was, a name taken by
// something else. The file is reported unrecoverable and fix goes on.
bool PathProblem(const Status& s) {
  return s.code() == Code::kFailedPrecondition || s.sys_errno() == EEXIST || s.sys_errno() == ENOTDIR ||
         s.sys_errno() == ELOOP;
}

// One file being rebuilt.
struct Target {
  FileRecord rec;
  std::size_t disk = 0;  // ArrayView::data index
  bool missing = false;  // no file on disk: every block is rebuilt
  std::set<std::uint64_t> lost;      // block indices to rebuild
  std::set<std::uint64_t> written;   // rebuilt into the temporary file
  std::set<std::uint64_t> failed;    // could not be rebuilt
  std::string why;                   // the first reason a block could not be rebuilt
  std::unique_ptr<WritableFile> temp;
  std::string temp_rel;              // the temporary file, relative to the disk root
  bool ctime_as_recorded = false;    // the original's ctime was the recorded one
  bool refused = false;              // path would leave the disk
  std::string blocked;               // why its place on the disk cannot be written
  std::string xattr_problem;         // why its xattrs could not all be set
};

class Fixer {
 public:
  Fixer(const RunContext& ctx, const FixOptions& options, FixReport* report)
      : ctx_(ctx), config_(*ctx.config), options_(options), report_(report) {}
  Status Run();

 private:
  bool InScope(std::size_t di, const std::string& path, bool changed) const;
  // Whether --disk names this data disk or parity level.
  bool Fixing(const std::string& name) const {
    return std::find(options_.disks.begin(), options_.disks.end(), name) != options_.disks.end();
  }
  // A stripe's blocks split into the known (synced and read clean) and the
  // unknown (synced but lost, corrupt or unreadable; deleted; dirty in
  // place), by data disk order. A new block over zeros is neither: parity
  // sees zeros there.
  struct StripeBlocks {
    std::vector<int> known_slots, unknown_slots;
    std::vector<const std::byte*> known_ptrs;
    std::vector<std::size_t> unknown_disks;
  };
  StripeBlocks Classify(const ScannedStripe& s) const;
  // after_read: solves the unknowns with the first parity levels read and
  // keeps the solution in the stripe's scratch when it verifies against
  // the checksums (on a reader thread with whole-stripe reads), so that
  // OnStripeBlocks, on this thread, only writes it.
  void Presolve(ScannedStripe& s) const;
  // Rebuilds `u`'s unknowns at `s` into `out` with the parity levels `used`;
  // true when every synced unknown matches its checksum.
  bool SolveWith(const ScannedStripe& s, const StripeBlocks& u, const std::vector<int>& used,
                 std::byte* const* out, Status* error) const;
  Status OnStripe(const ScannedStripe& s);
  Status OnStripeBlocks(const ScannedStripe& s);
  // The lost blocks of files in scope at `s`: (disk index, target).
  std::vector<std::pair<std::size_t, Target*>> CollectLost(const ScannedStripe& s, const StripeBlocks& u);
  // The parity levels of a stripe as this thread has them: those the
  // scanner read, and the others once LoadLevel read them.
  struct StripeParity {
    std::vector<Status> status;
    std::vector<std::uint8_t> have;
  };
  void LoadLevel(const ScannedStripe& s, StripeParity& p, std::size_t l);
  // Compares each level in scope with `computed` and rewrites those that
  // differ (or could not be read).
  Status RepairParity(const ScannedStripe& s, StripeParity& p, const std::vector<std::byte*>& computed);
  // Solves the unknowns into `out`, trying the levels read with the stripe
  // first, then every other level; false with *why when nothing verifies.
  Result<bool> Solve(const ScannedStripe& s, const StripeBlocks& u, StripeParity& p,
                     const std::vector<std::byte*>& out, std::string* why);
  Target* TargetFor(std::size_t di, const BlockRecord& rec, const std::string& path, bool missing);
  Status WriteBlock(Target& t, std::uint64_t index, const std::byte* data);
  Status Finalize(Target& t);
  // Why `t` cannot be rebuilt, if it cannot (checked before anything is
  // copied).
  std::optional<std::string> CannotRebuild(const Target& t) const;
  // Copies the blocks that were good from the original into the temporary
  // file, each verified; a reason to give up, if any.
  Result<std::optional<std::string>> CopyGoodBlocks(Target& t);
  // Attributes, fdatasync, rename over the original, directory syncs; a
  // reason to give up, if any.
  Result<std::optional<std::string>> PutInPlace(Target& t);
  void RecordRepaired(const Target& t);
  Status GiveUp(Target& t, std::string why);
  Status SelectScope();
  Status CheckGuards();
  Status OpenParityForRepair();
  Status Scan();
  Status Conclude(std::int64_t start_ns);
  Status RestoreEmptyFiles();
  Status RestoreEmptyFile(std::size_t di, const FileRecord& f);
  Status RemoveStaleTemps();
  Status LoadTempTag();
  Status RecordDisks();
  void Unrecoverable(const Target& t, std::string why) { Unrecoverable(t.disk, t.rec.path, std::move(why)); }
  // An `unrecoverable` finding about `path` on data disk `di`, kept in the
  // manifest.
  void Unrecoverable(std::size_t di, const std::string& path, std::string why);

  // --- Entries: hard links, symlinks, directories, special files ---------
  // mkdir -p of `rel_dir` on disk `di`, remembering each directory it
  // creates (their recorded metadata is given back at the end).
  Status MakeDirs(std::size_t di, const std::string& rel_dir);
  // Before fix adds or renames anything in the existing directory
  // `rel_dir`: its metadata as it was, to put its mtime back at the end.
  void Touch(std::size_t di, const std::string& rel_dir);
  // A missing content name of a hard-linked file whose other name still
  // holds it: linked back to it, instead of rebuilt from parity.
  Status RelinkMissingContent();
  // Every entry recorded on the disks in scope that is missing: recreated.
  Status RestoreEntries();
  Status RestoreEntry(std::size_t di, const EntryRecord& e);
  // The directories fix created get their recorded mode, owner, mtime and
  // xattrs, deepest first; those it only wrote into get their mtime back.
  Status RestoreDirectoryMetadata();
  void EntryRestored(std::size_t di, const std::string& path, std::string what);
  // The data of [offset, offset + data.size()) of `t`, less its holes.
  Status WriteData(Target& t, std::uint64_t offset, std::span<const std::byte> data);
  // The inode of a file this run wrote, by (disk index, path).
  std::map<std::pair<std::size_t, std::string>, std::uint64_t> written_inodes_;
  // What this run made or changed the inode (or ctime) of, by (disk index,
  // path): files and entries whose records take the new inode and ctime at
  // the end, so that the next sync finds nothing to do.
  std::set<std::pair<std::size_t, std::string>> restat_files_, restat_entries_;
  bool links_made_ = false;
  // When a fix that did not finish started (meta fix_started_ns), 0 if
  // the last one finished: a directory changed since then and left as
  // mkdir makes it is that run's, not the user's.
  std::int64_t killed_since_ = 0;
  Status MarkStarted(std::int64_t start_ns);
  // The records of everything in restat_*, and of the other names of files
  // that got a link, follow the disk: inode and ctime as they are now.
  Status RestatRecords();
  // A file at its recorded path with the recorded size and mtime but another
  // inode (put there by a fix that was killed before its commit) whose
  // every block matches its checksum is the synced file: its record takes
  // the new inode, committed before the scan.
  Status AdoptVerifiedFiles();
  Result<bool> MatchesChecksums(const std::filesystem::path& root, const FileRecord& f);
  struct DirState {
    std::uint64_t inode = 0;
    FileStat before;      // touched: as it was
    bool created = false;  // made by this run
  };
  std::vector<std::map<std::string, DirState>> dirs_;  // by data disk index

  const RunContext& ctx_;
  const Config& config_;
  const FixOptions& options_;
  FixReport* report_;
  std::unique_ptr<Manifest> m_;
  std::unique_ptr<ManifestLock> lock_;
  ArrayView array_;
  std::vector<bool> disk_selected_;    // data disks in scope
  std::vector<bool> parity_selected_;  // parity levels in scope
  std::unique_ptr<ParityCodec> codec_;
  std::map<std::uint64_t, Target> targets_;  // by file id, until finalized
  std::string temp_tag_;                     // see the file top and FixTempName
  // Targets by the last position they occupy: once the scan is past it, the
  // file has all the blocks it will get and is finalized at once, so a whole
  // disk's rebuild holds only the files in flight (memory, descriptors).
  std::multimap<std::uint64_t, std::uint64_t> by_last_pos_;
  Status FinalizeUpTo(std::uint64_t pos);
  // Every level: written where fix repairs parity (not in a dry run), and
  // read where the scanner skipped a level that a stripe needs.
  std::vector<std::unique_ptr<ParityFile>> parity_;
  std::vector<PositionRanges> parity_repaired_;  // per level
  std::vector<StoredFinding> stored_;
  std::unique_ptr<ManifestBatch> batch_;
  std::vector<std::byte> parity_work_;  // per-stripe scratch, reused
  // Rebuilt blocks of a stripe, reused; page-aligned so that ISA-L's fast
  // paths (xor_gen for one lost disk) apply.
  std::unique_ptr<AlignedBuffer> solved_;
  std::size_t solved_blocks_ = 0;
};

bool Fixer::InScope(std::size_t di, const std::string& path, bool changed) const {
  if (!disk_selected_[di]) return false;
  bool matched = false;
  for (const std::string& glob : options_.filters) {
    matched = matched || fnmatch(glob.c_str(), path.c_str(), 0) == 0;
  }
  if (!options_.filters.empty() && !matched) return false;
  // A file changed since the last sync is the user's newer version: only an
  // explicit filter asks for it to be reverted.
  return !changed || matched;
}

Target* Fixer::TargetFor(std::size_t di, const BlockRecord& rec, const std::string& path, bool missing) {
  auto it = targets_.find(rec.file_id);
  if (it != targets_.end()) return &it->second;
  Result<std::optional<FileRecord>> f = m_->GetFileById(rec.file_id);
  if (!f.ok() || !*f) return nullptr;
  Target t;
  t.rec = std::move(**f);
  t.disk = di;
  t.missing = missing;
  t.refused = !SafeRelative(t.rec.path) || t.rec.path != path;
  std::uint64_t last = 0;
  for (const Extent& e : t.rec.extents) last = std::max(last, e.start + e.count - 1);
  by_last_pos_.emplace(last, rec.file_id);
  return &targets_.emplace(rec.file_id, std::move(t)).first->second;
}

Status Fixer::WriteBlock(Target& t, std::uint64_t index, const std::byte* data) {
  const std::uint32_t bs = config_.block_size;
  const std::uint64_t offset = index * bs;
  const std::uint64_t len = std::min<std::uint64_t>(bs, t.rec.size - offset);
  report_->blocks_recovered++;
  report_->bytes_recovered += len;
  t.written.insert(index);
  if (options_.dry_run || t.refused || !t.blocked.empty()) return Status::Ok();
  const std::filesystem::path& root = array_.data[t.disk].root;
  if (!t.temp) {
    // The directories are resolved beneath the disk root, and the file is
    // created in them exclusively: a directory a user replaced by a symlink
    // (or by a file) stops this file, never leads a write elsewhere.
    MarkDiskUsed(ctx_.monitor, array_.data[t.disk].name);  // written: awake
    Status s = t.missing ? MakeDirs(t.disk, ParentOf(t.rec.path)) : Status::Ok();
    if (s.ok()) Touch(t.disk, ParentOf(t.rec.path));
    t.temp_rel = TempRelFor(t.rec.path, temp_tag_, t.rec.file_id);
    Result<std::unique_ptr<WritableFile>> f =
        s.ok() ? ctx_.fs->CreateUnder(root, t.temp_rel, 0600) : Result<std::unique_ptr<WritableFile>>(s);
    if (!f.ok()) {
      if (!PathProblem(f.status())) return f.status();
      t.blocked = f.status().ToString();
      return Status::Ok();
    }
    t.temp = std::move(f).value();
    ATLAS_RETURN_IF_ERROR(t.temp->Truncate(t.rec.size));
  }
  ATLAS_RETURN_IF_ERROR(WriteData(t, offset, std::span<const std::byte>(data, len)));
  ATLAS_CRASH_POINT("fix.after_block_write");
  return Status::Ok();
}

// A sparse file's holes stay holes: the temporary file has its full size
// from the start, and only the data around the holes is written (the
// checksums have verified that the hole's bytes are zeros).
Status Fixer::WriteData(Target& t, std::uint64_t offset, std::span<const std::byte> data) {
  std::uint64_t at = offset;
  const std::uint64_t end = offset + data.size();
  for (const ByteRange& h : t.rec.holes) {
    if (at >= end) break;
    const std::uint64_t h_end = h.offset + h.length;
    if (h_end <= at) continue;
    if (h.offset >= end) break;
    if (h.offset > at) ATLAS_RETURN_IF_ERROR(t.temp->WriteAt(at, data.subspan(at - offset, h.offset - at)));
    const std::uint64_t from = std::max(at, h.offset), to = std::min(end, h_end);
    // Zeros, as the checksums say; written all the same if they are not
    // (the file is byte-exact whatever the recorded holes).
    const std::span<const std::byte> hole = data.subspan(from - offset, to - from);
    if (std::any_of(hole.begin(), hole.end(), [](std::byte b) { return b != std::byte{0}; })) {
      ATLAS_RETURN_IF_ERROR(t.temp->WriteAt(from, hole));
    }
    at = std::max(at, h_end);
  }
  if (at < end) ATLAS_RETURN_IF_ERROR(t.temp->WriteAt(at, data.subspan(at - offset, end - at)));
  return Status::Ok();
}

void Fixer::Unrecoverable(std::size_t di, const std::string& path, std::string why) {
  Finding f = MakeFinding(FindingKind::kUnrecoverable, array_.data[di].name, path, std::move(why));
  report_->findings.push_back(f);
  report_->files_unrecoverable++;
  if (batch_ && !options_.dry_run) batch_->PutFinding({f, ctx_.clock->NowUnixNanos(), ctx_.clock->NowUnixNanos()});
}

Status Fixer::FinalizeUpTo(std::uint64_t pos) {
  while (!by_last_pos_.empty() && by_last_pos_.begin()->first <= pos) {
    const std::uint64_t id = by_last_pos_.begin()->second;
    by_last_pos_.erase(by_last_pos_.begin());
    auto it = targets_.find(id);
    if (it == targets_.end()) continue;
    ATLAS_RETURN_IF_ERROR(Finalize(it->second).WithContext("fix " + it->second.rec.path));
    targets_.erase(it);
  }
  return Status::Ok();
}

Status Fixer::OnStripe(const ScannedStripe& s) {
  // A file this user may not read would otherwise be rebuilt over itself.
  ATLAS_RETURN_IF_ERROR(PermissionProblem("fix", array_, s));
  ATLAS_RETURN_IF_ERROR(OnStripeBlocks(s));
  // Files whose last position is behind us have all their blocks: finish them.
  return FinalizeUpTo(s.pos);
}

Fixer::StripeBlocks Fixer::Classify(const ScannedStripe& s) const {
  StripeBlocks u;
  for (std::size_t di = 0; di < array_.data.size(); ++di) {
    const std::optional<BlockRecord>& rec = s.recs[di];
    if (!rec) continue;
    const int slot = array_.data[di].slot;
    if (rec->state == BlockState::kDirty && rec->past_zero) continue;  // parity sees zeros
    if (rec->state == BlockState::kSynced && s.read[di] && s.checks[di].outcome == BlockCheck::Outcome::kOk) {
      u.known_slots.push_back(slot);
      u.known_ptrs.push_back(s.data[di]);
      continue;
    }
    u.unknown_slots.push_back(slot);
    u.unknown_disks.push_back(di);
  }
  return u;
}

bool Fixer::SolveWith(const ScannedStripe& s, const StripeBlocks& u, const std::vector<int>& used,
                      std::byte* const* out, Status* error) const {
  std::vector<const std::byte*> parity_ptrs;
  for (int l : used) parity_ptrs.push_back(s.parity[static_cast<std::size_t>(l)]);
  *error = codec_->Reconstruct(u.known_slots, u.known_ptrs.data(), used, parity_ptrs.data(), u.unknown_slots, out,
                               config_.block_size);
  if (!error->ok()) return false;
  bool verified = true, any_hash = false;
  for (std::size_t k = 0; k < u.unknown_disks.size() && verified; ++k) {
    const BlockRecord& rec = *s.recs[u.unknown_disks[k]];
    if (!rec.hash) continue;
    any_hash = true;
    // A synced block's checksum covers the file bytes it holds (a tail
    // block is short). Deleted blocks are solved for but not checked:
    // their length is gone, and a wrong solution cannot pass the
    // 128-bit checksums of the synced blocks solved with it.
    if (rec.state != BlockState::kSynced) continue;
    const std::uint64_t len = s.checks[u.unknown_disks[k]].bytes;
    verified = HashBlock(std::span<const std::byte>(out[k], len)) == *rec.hash;
  }
  return verified && any_hash;
}

void Fixer::Presolve(ScannedStripe& s) const {
  // With deferred hashes (no parity level in scope, see Run), the blocks
  // read clean count as known until a solution fails to verify; only then,
  // or when there is nothing to solve, are they hashed and judged.
  auto settle = [&] {
    for (std::size_t di = 0; di < array_.data.size(); ++di) {
      if (s.recs[di] && s.read[di]) SettleHash(*s.recs[di], s.data[di], &s.checks[di]);
    }
  };
  const StripeBlocks u = Classify(s);
  const std::size_t r = u.unknown_slots.size();
  std::vector<int> used;
  for (std::size_t l = 0; l < array_.parity.size() && used.size() < r; ++l) {
    if (s.parity_read[l] && s.parity_status[l].ok()) used.push_back(static_cast<int>(l));
  }
  if (r > 0 && used.size() == r) {
    std::vector<std::byte*> out(r);
    for (std::size_t k = 0; k < r; ++k) out[k] = s.scratch + k * config_.block_size;
    Status error;
    // Every lost block rebuilt from them matches its 128-bit checksum: the
    // known blocks were right (a wrong one would have made it differ).
    s.presolved = SolveWith(s, u, used, out.data(), &error) ? 1 : 0;
    ClearUpperVectorState();
  }
  if (!s.presolved) settle();
}

std::vector<std::pair<std::size_t, Target*>> Fixer::CollectLost(const ScannedStripe& s, const StripeBlocks& u) {
  std::vector<std::pair<std::size_t, Target*>> lost;
  for (std::size_t di : u.unknown_disks) {
    const std::optional<BlockRecord>& rec = s.recs[di];
    if (rec->state != BlockState::kSynced) continue;  // deleted, or dirty in place: not ours to write
    const BlockCheck::Outcome o = s.checks[di].outcome;
    const bool missing = o == BlockCheck::Outcome::kMissing;
    const bool changed = o == BlockCheck::Outcome::kChanged;
    // --errors-only: a file that is gone was most likely deleted on purpose.
    if (missing && options_.errors_only) continue;
    if (!InScope(di, s.paths[di], changed)) continue;
    Target* t = TargetFor(di, *rec, s.paths[di], missing);
    if (t == nullptr) continue;
    t->lost.insert(rec->file_block);
    lost.emplace_back(di, t);
  }
  return lost;
}

// The scanner reads only the levels a rebuild is expected to need (see
// Run); the others are read here, on demand, for a stripe that needs them.
void Fixer::LoadLevel(const ScannedStripe& s, StripeParity& p, std::size_t l) {
  if (p.have[l]) return;
  p.have[l] = 1;
  ParityFile& file = *parity_[l];
  if (Status open = file.OpenForRead(); !open.ok()) {
    p.status[l] = open;
    return;
  }
  Result<std::size_t> n = file.ReadBlock(s.pos, s.parity[l]);
  if (!n.ok()) {
    p.status[l] = n.status();
    return;
  }
  report_->bytes_read += *n;
}

Status Fixer::RepairParity(const ScannedStripe& s, StripeParity& p, const std::vector<std::byte*>& computed) {
  if (s.dirty) return Status::Ok();  // parity is not current here: sync owns it
  const std::uint32_t bs = config_.block_size;
  for (std::size_t l = 0; l < array_.parity.size(); ++l) {
    if (!parity_selected_[l]) continue;
    LoadLevel(s, p, l);
    const bool bad = !p.status[l].ok() || std::memcmp(computed[l], s.parity[l], bs) != 0;
    if (!bad) continue;
    report_->parity_blocks_repaired++;
    parity_repaired_[l].Add(s.pos);
    if (options_.dry_run) continue;
    ATLAS_RETURN_IF_ERROR(parity_[l]->WriteBlock(s.pos, computed[l]).WithContext("rewrite parity"));
    for (const StoredFinding& sf : stored_) {
      const Finding& f = sf.finding;
      if (f.kind == FindingKind::kReadError && f.disk == array_.parity[l].name && f.offset &&
          *f.offset / bs == s.pos) {
        batch_->DeleteFinding(f);
      }
    }
  }
  return Status::Ok();
}

Result<bool> Fixer::Solve(const ScannedStripe& s, const StripeBlocks& u, StripeParity& p,
                          const std::vector<std::byte*>& out, std::string* why) {
  const std::size_t r = u.unknown_slots.size();
  const std::size_t levels = array_.parity.size();
  // Round 0 uses the levels read with the stripe; if they are too few or no
  // combination verifies, round 1 reads every other level and tries again.
  for (int round = 0; round < 2; ++round) {
    if (round == 1) {
      if (std::all_of(p.have.begin(), p.have.end(), [](std::uint8_t h) { return h != 0; })) break;
      for (std::size_t l = 0; l < levels; ++l) LoadLevel(s, p, l);
    }
    std::vector<int> usable;
    for (std::size_t l = 0; l < levels; ++l) {
      if (p.have[l] && p.status[l].ok()) usable.push_back(static_cast<int>(l));
    }
    *why = fmt::format("{} blocks unknown at position {} and {} parity levels readable", r, s.pos, usable.size());
    if (r > usable.size()) continue;
    // Every combination of r usable levels, until one verifies.
    std::vector<bool> pick(usable.size(), false);
    std::fill(pick.begin(), pick.begin() + static_cast<std::ptrdiff_t>(r), true);
    do {
      std::vector<int> used;
      for (std::size_t i = 0; i < usable.size(); ++i) {
        if (pick[i]) used.push_back(usable[i]);
      }
      Status rs;
      if (SolveWith(s, u, used, out.data(), &rs)) return true;
      if (!rs.ok()) return rs;
      *why = fmt::format("the blocks rebuilt at position {} do not match their checksums with any "
                         "combination of parity levels (parity out of date or damaged)", s.pos);
    } while (std::prev_permutation(pick.begin(), pick.end()));
  }
  return false;
}

Status Fixer::OnStripeBlocks(const ScannedStripe& s) {
  const std::uint32_t bs = config_.block_size;
  const std::size_t levels = array_.parity.size();
  const StripeBlocks u = Classify(s);
  const std::vector<std::pair<std::size_t, Target*>> lost = CollectLost(s, u);
  StripeParity p{s.parity_status, s.parity_read};
  std::vector<std::byte>& work = parity_work_;
  work.resize(levels * bs);
  std::vector<std::byte*> computed(levels);
  for (std::size_t l = 0; l < levels; ++l) computed[l] = work.data() + l * bs;
  const bool any_parity = std::any_of(parity_selected_.begin(), parity_selected_.end(), [](bool b) { return b; });

  // Nothing unknown: the data verifies; compare (and repair) parity.
  if (u.unknown_slots.empty()) {
    if (!any_parity || s.dirty) return Status::Ok();  // no parity to compare
    if (u.known_slots.empty()) {
      std::fill(work.begin(), work.end(), std::byte{0});
    } else {
      codec_->Encode(u.known_slots, u.known_ptrs.data(), computed.data(), bs);
    }
    return RepairParity(s, p, computed);
  }
  if (lost.empty()) return Status::Ok();  // nothing of ours to rebuild here

  // Solve the unknowns with r parity levels; a solution counts only if
  // every unknown with a checksum matches it.
  const std::size_t r = u.unknown_slots.size();
  std::vector<std::byte*> solved(r);
  bool ok = s.presolved != 0;
  std::string why;
  if (ok) {
    // Solved on the reader thread, with the first combination Solve tries.
    for (std::size_t k = 0; k < r; ++k) solved[k] = s.scratch + k * bs;
  } else {
    if (solved_blocks_ < r) {
      solved_ = std::make_unique<AlignedBuffer>(r * bs);
      solved_blocks_ = r;
    }
    for (std::size_t k = 0; k < r; ++k) solved[k] = solved_->data + k * bs;
    ATLAS_ASSIGN_OR_RETURN(ok, Solve(s, u, p, solved, &why));
  }
  ClearUpperVectorState();
  for (const auto& [di, t] : lost) {
    const std::uint64_t index = s.recs[di]->file_block;
    if (!ok) {
      t->failed.insert(index);
      if (t->why.empty()) t->why = why;
      continue;
    }
    const std::size_t k = static_cast<std::size_t>(
        std::find(u.unknown_disks.begin(), u.unknown_disks.end(), di) - u.unknown_disks.begin());
    ATLAS_RETURN_IF_ERROR(WriteBlock(*t, index, solved[k]).WithContext("fix " + t->rec.path));
  }
  if (!ok || s.dirty || !any_parity) return Status::Ok();
  // With the stripe now fully known, the parity can be checked too.
  std::vector<int> all_slots = u.known_slots;
  std::vector<const std::byte*> all_ptrs = u.known_ptrs;
  for (std::size_t k = 0; k < r; ++k) {
    if (s.recs[u.unknown_disks[k]]->state == BlockState::kSynced) {
      all_slots.push_back(u.unknown_slots[k]);
      all_ptrs.push_back(solved[k]);
    }
  }
  if (all_slots.size() != u.known_slots.size() + r) return Status::Ok();
  codec_->Encode(all_slots, all_ptrs.data(), computed.data(), bs);
  return RepairParity(s, p, computed);
}

Status Fixer::GiveUp(Target& t, std::string why) {
  if (t.temp) {
    t.temp->Close().IgnoreError();
    t.temp.reset();
    ctx_.fs->RemoveUnder(array_.data[t.disk].root, t.temp_rel).IgnoreError();
  }
  Unrecoverable(t, std::move(why));
  return Status::Ok();
}

std::optional<std::string> Fixer::CannotRebuild(const Target& t) const {
  if (t.refused) {
    return fmt::format("refused: the recorded path would leave the disk root {}", array_.data[t.disk].root.string());
  }
  if (!t.blocked.empty()) {
    return fmt::format("its place on the disk cannot be written safely: {}; nothing was written there", t.blocked);
  }
  if (!t.failed.empty()) {
    std::vector<std::uint64_t> blocks(t.failed.begin(), t.failed.end());
    if (blocks.size() > 20) blocks.resize(20);
    return fmt::format("{} of {} blocks could not be rebuilt (blocks {}{}): {}; the file was left as it was",
                       t.failed.size(), t.rec.BlockCount(), fmt::join(blocks, ", "),
                       t.failed.size() > blocks.size() ? ", ..." : "", t.why);
  }
  if (t.missing && t.written.size() < t.rec.BlockCount()) {
    return fmt::format("only {} of {} blocks could be rebuilt", t.written.size(), t.rec.BlockCount());
  }
  return std::nullopt;
}

// Every block of the new file is checked against the manifest's checksum
// right before it is written: the rebuilt ones when they were solved
// (OnStripe), the good ones copied from the original here. Nothing
// unverified reaches the file that replaces the original. Blocks are copied
// only from the recorded file (inode, size, mtime): when another file stands
// at the name by now, the repair is given up. (A file that an explicit
// --filter reverts had every block rebuilt: nothing is copied.)
Result<std::optional<std::string>> Fixer::CopyGoodBlocks(Target& t) {
  using Reason = std::optional<std::string>;
  if (t.missing || t.written.size() >= t.rec.BlockCount()) return Reason();
  const std::uint32_t bs = config_.block_size;
  Result<std::unique_ptr<RandomAccessFile>> opened = ctx_.fs->OpenUnder(array_.data[t.disk].root, t.rec.path);
  if (!opened.ok()) {
    if (!PathProblem(opened.status()) && opened.status().code() != Code::kNotFound) return opened.status();
    return Reason(fmt::format("the original could no longer be opened: {}", opened.status().ToString()));
  }
  std::unique_ptr<RandomAccessFile> orig = std::move(opened).value();
  ATLAS_ASSIGN_OR_RETURN(FileStat ost, orig->Stat());
  t.ctime_as_recorded = ost.ctime_ns == t.rec.ctime_ns;
  if (ost.inode != t.rec.inode || ost.size != t.rec.size || ost.mtime_ns != t.rec.mtime_ns) {
    return Reason("the file changed while it was being repaired; it was left as it is now");
  }
  std::vector<std::byte> buf(bs);
  for (std::uint64_t i = 0; i < t.rec.BlockCount(); ++i) {
    if (t.written.count(i) != 0) continue;
    const std::uint64_t off = i * bs;
    const std::size_t len = static_cast<std::size_t>(std::min<std::uint64_t>(bs, t.rec.size - off));
    Result<std::size_t> n = orig->ReadAt(off, std::span(buf.data(), len));
    ATLAS_ASSIGN_OR_RETURN(std::optional<BlockRecord> b, m_->GetBlock(t.rec.slot, t.rec.PositionOf(i)));
    if (!n.ok() || *n != len || !b || !b->hash || HashBlock(std::span<const std::byte>(buf.data(), len)) != *b->hash) {
      return Reason(fmt::format("block {} of the original no longer reads back as synced", i));
    }
    ATLAS_RETURN_IF_ERROR(WriteData(t, off, std::span<const std::byte>(buf.data(), len)));
  }
  ClearUpperVectorState();
  return Reason();
}

Result<std::optional<std::string>> Fixer::PutInPlace(Target& t) {
  using Reason = std::optional<std::string>;
  const std::filesystem::path& root = array_.data[t.disk].root;
  // Owner, mode and mtime on the descriptor, after the last write (a write
  // would move the mtime again), before the data is made durable.
  // Xattrs first: an ACL moves the group bits the mode then sets exactly.
  // A file repaired in place keeps the xattrs it has (metadata is not what
  // parity protects, and a record from before schema 4 has none); a
  // restored one gets those recorded.
  std::vector<Xattr> xattrs = t.rec.xattrs;
  if (!t.missing) {
    Result<std::vector<Xattr>> now = ctx_.fs->ListXattrsUnder(root, t.rec.path);
    if (now.ok()) xattrs = std::move(now).value();
  }
  if (Status x = t.temp->SetXattrs(xattrs); !x.ok()) {
    // EPERM (a security.* name without the capability), ENOTSUP (a file
    // system without them): the data still goes in place, with a note.
    if (!PathProblem(x) && x.code() != Code::kIOError) return x;
    t.xattr_problem = x.ToString();
  }
  FileStat attrs;
  attrs.mode = t.rec.mode;
  attrs.uid = t.rec.uid;
  attrs.gid = t.rec.gid;
  attrs.mtime_ns = t.rec.mtime_ns;
  ATLAS_RETURN_IF_ERROR(t.temp->SetAttributes(attrs));
  ATLAS_RETURN_IF_ERROR(t.temp->Sync());
  ATLAS_RETURN_IF_ERROR(t.temp->Close());
  t.temp.reset();
  ATLAS_CRASH_POINT("fix.after_fsync_before_rename");
  // Invariant: the new file is complete, verified and durable before it
  // replaces the original; a crash before this rename leaves the original
  // untouched and only a temporary file, which the next fix removes. A
  // restored file never replaces one a user has put at its name since the
  // scan: that file is theirs, and newer.
  if (Status s = ctx_.fs->RenameUnder(root, t.temp_rel, t.rec.path, /*replace=*/!t.missing); !s.ok()) {
    if (!PathProblem(s)) return s;
    ctx_.fs->RemoveUnder(root, t.temp_rel).IgnoreError();
    return Reason(s.sys_errno() == EEXIST
                      ? std::string("a file was put at its name since it was found missing; that file was left "
                                    "as it is")
                      : fmt::format("the rebuilt file could not be put in place: {}", s.ToString()));
  }
  // The rename, and for a restored file every directory fix may have created
  // on the way to it, made durable.
  for (std::string dir = ParentOf(t.rec.path);; dir = ParentOf(dir)) {
    ATLAS_RETURN_IF_ERROR(ctx_.fs->SyncDirUnder(root, dir));
    if (!t.missing || dir.empty()) break;
  }
  ATLAS_CRASH_POINT("fix.after_rename");
  return Reason();
}

// The manifest follows the new file (its inode), and the findings about it
// are closed.
void Fixer::RecordRepaired(const Target& t) {
  const ArrayDataDisk& disk = array_.data[t.disk];
  report_->files_repaired++;
  Result<FileStat> now = ctx_.fs->StatUnder(disk.root, t.rec.path);
  FileRecord updated = t.rec;
  if (now.ok()) {
    updated.inode = now->inode;
    written_inodes_[{t.disk, t.rec.path}] = now->inode;
  }
  // A file whose xattrs may have changed since the sync keeps its old ctime
  // in the record, so the next sync reads them.
  if (t.missing || t.ctime_as_recorded || t.written.size() == t.rec.BlockCount()) {
    restat_files_.insert({t.disk, t.rec.path});
  }
  batch_->DeleteFile(t.rec);
  batch_->PutFile(updated);
  for (const StoredFinding& sf : stored_) {
    const Finding& f = sf.finding;
    if ((f.kind == FindingKind::kSilentCorruption || f.kind == FindingKind::kReadError ||
         f.kind == FindingKind::kUnrecoverable) &&
        f.disk == disk.name && f.path == t.rec.path) {
      batch_->DeleteFinding(f);
    }
  }
  report_->findings.push_back(MakeFinding(
      FindingKind::kRepaired, disk.name, t.rec.path,
      fmt::format("{} from parity ({} block{} rebuilt), verified against its checksums{}",
                  t.missing ? "restored" : "repaired", t.written.size(), t.written.size() == 1 ? "" : "s",
                  t.xattr_problem.empty() ? "" : "; its extended attributes could not all be set: " + t.xattr_problem)));
}

Status Fixer::Finalize(Target& t) {
  if (std::optional<std::string> why = CannotRebuild(t)) return GiveUp(t, std::move(*why));
  report_->actions.push_back(fmt::format("{} {}:{} ({} block{} rebuilt)", t.missing ? "restore" : "repair",
                                         array_.data[t.disk].name, DisplayPath(t.rec.path), t.written.size(),
                                         t.written.size() == 1 ? "" : "s"));
  if (options_.dry_run) {
    report_->files_repaired++;
    return Status::Ok();
  }
  ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> why, CopyGoodBlocks(t));
  if (why) return GiveUp(t, std::move(*why));
  ATLAS_CRASH_POINT("fix.after_temp_write");
  ATLAS_ASSIGN_OR_RETURN(why, PutInPlace(t));
  if (why) return GiveUp(t, std::move(*why));
  RecordRepaired(t);
  return Status::Ok();
}

Status Fixer::RestoreEmptyFiles() {
  // Empty files have no blocks, so no stripe names them: recreate the
  // missing ones from their records.
  for (std::size_t di = 0; di < array_.data.size(); ++di) {
    if (!disk_selected_[di] || !array_.data[di].record) continue;
    std::unique_ptr<Cursor<FileRecord>> files = m_->Files(array_.data[di].slot);
    for (; files->Valid(); files->Next()) {
      const FileRecord& f = files->value();
      if (f.size != 0 || !InScope(di, f.path, false) || !SafeRelative(f.path)) continue;
      // Missing, or cut off by a directory on the way that is no longer a
      // directory (then the restore reports why it cannot).
      Result<FileStat> st = ctx_.fs->StatUnder(array_.data[di].root, f.path);
      if (st.ok() || (st.status().code() != Code::kNotFound && st.status().code() != Code::kFailedPrecondition)) {
        continue;
      }
      ATLAS_RETURN_IF_ERROR(RestoreEmptyFile(di, f));
    }
    ATLAS_RETURN_IF_ERROR(files->status());
  }
  return Status::Ok();
}

Status Fixer::RestoreEmptyFile(std::size_t di, const FileRecord& f) {
  const std::filesystem::path& root = array_.data[di].root;
  report_->actions.push_back(fmt::format("restore {}:{} (empty file)", array_.data[di].name, DisplayPath(f.path)));
  if (options_.dry_run) {
    report_->files_repaired++;
    return Status::Ok();
  }
  MarkDiskUsed(ctx_.monitor, array_.data[di].name);
  // Created where it was, exclusively and beneath the disk root: a
  // directory on the way that a user replaced by a symlink stops this file
  // alone; owner, mode and mtime are set on the descriptor.
  Status made = MakeDirs(di, ParentOf(f.path));
  if (made.ok()) Touch(di, ParentOf(f.path));
  Result<std::unique_ptr<WritableFile>> out = made.ok()
                                                  ? ctx_.fs->CreateUnder(root, f.path, 0600)
                                                  : Result<std::unique_ptr<WritableFile>>(made);
  if (!out.ok()) {
    if (!PathProblem(out.status()))
      return out.status();
    Unrecoverable(
        di, f.path,
        fmt::format("its place on the disk cannot be written safely: {}; nothing was written there",
                    out.status().ToString()));
    return Status::Ok();
  }
  std::string xattr_problem;
  if (Status x = (*out)->SetXattrs(f.xattrs); !x.ok())
    xattr_problem = x.ToString();
  FileStat attrs;
  attrs.mode = f.mode;
  attrs.uid = f.uid;
  attrs.gid = f.gid;
  attrs.mtime_ns = f.mtime_ns;
  ATLAS_RETURN_IF_ERROR((*out)->SetAttributes(attrs));
  ATLAS_RETURN_IF_ERROR((*out)->Close());
  ATLAS_RETURN_IF_ERROR(ctx_.fs->SyncDirUnder(root, ParentOf(f.path)));
  // The new file's inode, or the next scan would take it for another file.
  if (Result<FileStat> now = ctx_.fs->StatUnder(root, f.path); now.ok() && batch_) {
    written_inodes_[{di, f.path}] = now->inode;
    restat_files_.insert({di, f.path});
    FileRecord updated = f;
    updated.inode = now->inode;
    batch_->DeleteFile(f);
    batch_->PutFile(updated);
  }
  report_->files_repaired++;
  report_->findings.push_back(MakeFinding(
      FindingKind::kRepaired, array_.data[di].name, f.path,
      xattr_problem.empty() ? std::string("restored (empty file)")
                            : "restored (empty file); its extended attributes could not all be set: " + xattr_problem));
  return Status::Ok();
}

// The disks named with --disk are the replacements now: record their
// identity, or every later command would refuse them as different disks.
// A rebuilt parity level does not hold the parity of positions a sync left
// dirty (fix skips them): mark them so the next sync recomputes them in full
// rather than apply a delta to them.
Status Fixer::RecordDisks() {
  for (const ArrayDataDisk& d : array_.data) {
    if (!Fixing(d.name) || !d.record || !d.identity) continue;
    DiskRecord r = *d.record;
    r.identity = ToRecord(*d.identity);
    r.path = d.root.string();
    batch_->PutDisk(r);
  }
  bool parity_rebuilt = false;
  for (std::size_t l = 0; l < array_.parity.size(); ++l) {
    const ArrayParity& p = array_.parity[l];
    if (!Fixing(p.name) || !p.record) continue;
    parity_rebuilt = true;
    DiskRecord r = *p.record;
    if (p.identity) r.identity = ToRecord(*p.identity);
    Result<FileStat> st = ctx_.fs->Stat(p.path);
    if (st.ok()) r.parity_size = st->size;
    batch_->PutDisk(r);
  }
  if (parity_rebuilt) {
    std::unique_ptr<Cursor<DirtyEntry>> dirty = m_->Dirty(0);
    if (dirty->Valid()) {
      ATLAS_ASSIGN_OR_RETURN(std::optional<std::int64_t> from, GetMetaInt(m_.get(), "parity_written_from"));
      std::uint64_t first = dirty->value().pos;
      if (from) first = std::min<std::uint64_t>(first, static_cast<std::uint64_t>(*from));
      batch_->PutMeta("parity_written_from", std::to_string(first));
    }
    ATLAS_RETURN_IF_ERROR(dirty->status());
  }
  return Status::Ok();
}



Result<bool> Fixer::MatchesChecksums(const std::filesystem::path& root, const FileRecord& f) {
  Result<std::unique_ptr<RandomAccessFile>> opened = ctx_.fs->OpenUnder(root, f.path);
  if (!opened.ok()) return false;
  const std::uint32_t bs = config_.block_size;
  std::vector<std::byte> buf(bs);
  for (std::uint64_t i = 0; i < f.BlockCount(); ++i) {
    ATLAS_ASSIGN_OR_RETURN(std::optional<BlockRecord> b, m_->GetBlock(f.slot, f.PositionOf(i)));
    if (!b || b->state != BlockState::kSynced || !b->hash || b->file_id != f.file_id) return false;
    const std::uint64_t off = i * bs;
    const std::size_t len = static_cast<std::size_t>(std::min<std::uint64_t>(bs, f.size - off));
    Result<std::size_t> n = (*opened)->ReadAt(off, std::span(buf.data(), len));
    if (!n.ok() || *n != len || HashBlock(std::span<const std::byte>(buf.data(), len)) != *b->hash) return false;
  }
  Result<FileStat> after = (*opened)->Stat();
  return after.ok() && after->size == f.size && after->mtime_ns == f.mtime_ns;
}

Status Fixer::MarkStarted(std::int64_t start_ns) {
  ATLAS_ASSIGN_OR_RETURN(std::optional<std::int64_t> unfinished, GetMetaInt(m_.get(), "fix_started_ns"));
  killed_since_ = unfinished.value_or(0);
  std::unique_ptr<ManifestBatch> b = m_->NewBatch();
  // The earliest start of the fixes not finished yet.
  b->PutMeta("fix_started_ns", std::to_string(killed_since_ > 0 ? killed_since_ : start_ns));
  return m_->Commit(*b, /*durable=*/true);
}

Status Fixer::AdoptVerifiedFiles() {
  std::unique_ptr<ManifestBatch> adopt = m_->NewBatch();
  for (std::size_t di = 0; di < array_.data.size(); ++di) {
    if (!disk_selected_[di] || !array_.data[di].present || !array_.data[di].record) continue;
    const std::filesystem::path& root = array_.data[di].root;
    std::unique_ptr<Cursor<FileRecord>> files = m_->Files(array_.data[di].slot);
    for (; files->Valid(); files->Next()) {
      const FileRecord& f = files->value();
      if (f.size == 0 || !f.content || !SafeRelative(f.path)) continue;
      Result<FileStat> st = ctx_.fs->StatUnder(root, f.path);
      if (!st.ok() || st->type != FileType::kRegular || st->inode == f.inode || st->size != f.size ||
          st->mtime_ns != f.mtime_ns) {
        continue;
      }
      ATLAS_ASSIGN_OR_RETURN(bool same, MatchesChecksums(root, f));
      if (!same) continue;
      MarkDiskUsed(ctx_.monitor, array_.data[di].name);
      FileRecord updated = f;
      updated.inode = st->inode;
      adopt->DeleteFile(f);
      adopt->PutFile(updated);
      report_->actions.push_back(fmt::format("adopt {}:{} (another inode, every block as synced: left by an "
                                             "interrupted fix)",
                                             array_.data[di].name, DisplayPath(f.path)));
    }
    ATLAS_RETURN_IF_ERROR(files->status());
  }
  ClearUpperVectorState();
  if (adopt->Count() == 0) return Status::Ok();
  return m_->Commit(*adopt, /*durable=*/true);
}

// ---------------------------------------------------------------------------
// Entries: hard links, symlinks, directories, special files (issue 17).

Status Fixer::MakeDirs(std::size_t di, const std::string& rel_dir) {
  const std::filesystem::path& root = array_.data[di].root;
  // The missing ancestors, outermost first: each is created by this run.
  std::vector<std::string> missing;
  for (std::string dir = rel_dir; !dir.empty(); dir = ParentOf(dir)) {
    Result<FileStat> st = ctx_.fs->StatUnder(root, dir);
    if (st.ok()) break;
    if (st.status().code() != Code::kNotFound) break;  // CreateDirsUnder says what is wrong
    missing.push_back(dir);
  }
  if (!missing.empty()) Touch(di, ParentOf(missing.back()));
  ATLAS_RETURN_IF_ERROR(ctx_.fs->CreateDirsUnder(root, rel_dir));
  for (const std::string& dir : missing) {
    Result<FileStat> st = ctx_.fs->StatUnder(root, dir);
    if (!st.ok() || st->type != FileType::kDirectory) continue;
    DirState& d = dirs_[di][dir];
    d.created = true;
    d.inode = st->inode;
  }
  return Status::Ok();
}

void Fixer::Touch(std::size_t di, const std::string& rel_dir) {
  if (options_.dry_run || dirs_[di].count(rel_dir) != 0) return;
  Result<FileStat> st = ctx_.fs->StatUnder(array_.data[di].root, rel_dir);
  if (!st.ok() || st->type != FileType::kDirectory) return;
  DirState& d = dirs_[di][rel_dir];
  d.inode = st->inode;
  d.before = *st;
}

void Fixer::EntryRestored(std::size_t di, const std::string& path, std::string what) {
  report_->entries_restored++;
  report_->actions.push_back(fmt::format("restore {}:{} ({})", array_.data[di].name, DisplayPath(path), what));
  if (!options_.dry_run) {
    report_->findings.push_back(
        MakeFinding(FindingKind::kRepaired, array_.data[di].name, path, fmt::format("restored ({})", what)));
  }
}

Status Fixer::RelinkMissingContent() {
  for (std::size_t di = 0; di < array_.data.size(); ++di) {
    if (!disk_selected_[di] || !array_.data[di].record) continue;
    const std::filesystem::path& root = array_.data[di].root;
    const std::uint16_t slot = array_.data[di].slot;
    std::set<std::string> done;  // content names linked back
    std::unique_ptr<Cursor<EntryRecord>> entries = m_->Entries(slot);
    for (; entries->Valid(); entries->Next()) {
      const EntryRecord& e = entries->value();
      if (e.kind != EntryKind::kHardLink || done.count(e.target) != 0 || !InScope(di, e.target, false) ||
          !SafeRelative(e.target) || !SafeRelative(e.path)) {
        continue;
      }
      Result<FileStat> content = ctx_.fs->StatUnder(root, e.target);
      if (content.ok() || content.status().code() != Code::kNotFound) continue;
      ATLAS_ASSIGN_OR_RETURN(std::optional<FileRecord> rec, m_->GetFile(slot, e.target));
      if (!rec) continue;
      // This other name still holds the recorded file: same inode, size and mtime.
      Result<FileStat> other = ctx_.fs->StatUnder(root, e.path);
      if (!other.ok() || other->type != FileType::kRegular || other->inode != rec->inode ||
          other->size != rec->size || other->mtime_ns != rec->mtime_ns) {
        continue;
      }
      done.insert(e.target);
      report_->files_repaired++;
      report_->actions.push_back(fmt::format("restore {}:{} (hard link to {}, which still holds it)",
                                             array_.data[di].name, DisplayPath(e.target), DisplayPath(e.path)));
      if (options_.dry_run) continue;
      MarkDiskUsed(ctx_.monitor, array_.data[di].name);
      Status made = MakeDirs(di, ParentOf(e.target));
      if (made.ok())
        Touch(di, ParentOf(e.target));
      Status linked = made.ok() ? ctx_.fs->LinkUnder(root, e.path, e.target, rec->inode) : made;
      if (!linked.ok()) {
        if (!PathProblem(linked) && linked.code() != Code::kIOError)
          return linked;
        report_->files_repaired--;
        Unrecoverable(di, rec->path,
                      fmt::format("could not be linked back to {}: {}", DisplayPath(e.path),
                                  linked.ToString()));
        continue;
      }
      ATLAS_RETURN_IF_ERROR(ctx_.fs->SyncDirUnder(root, ParentOf(e.target)));
      written_inodes_[{di, e.target}] = rec->inode;
      restat_files_.insert({di, e.target});
      links_made_ = true;
      report_->findings.push_back(MakeFinding(FindingKind::kRepaired, array_.data[di].name, e.target,
                                              fmt::format("restored as a hard link to {}, which still holds the "
                                                          "file; nothing rebuilt",
                                                          DisplayPath(e.path))));
    }
    ATLAS_RETURN_IF_ERROR(entries->status());
  }
  return Status::Ok();
}

Status Fixer::RestoreEntries() {
  for (std::size_t di = 0; di < array_.data.size(); ++di) {
    if (!disk_selected_[di] || !array_.data[di].record) continue;
    std::unique_ptr<Cursor<EntryRecord>> entries = m_->Entries(array_.data[di].slot);
    // Path order: a directory comes before everything in it.
    for (; entries->Valid(); entries->Next()) {
      const EntryRecord& e = entries->value();
      if (!InScope(di, e.path, false)) continue;
      if (!SafeRelative(e.path) || (e.kind == EntryKind::kHardLink && !SafeRelative(e.target))) {
        Unrecoverable(di, e.path, "its recorded path would leave the disk; not restored");
        continue;
      }
      ATLAS_RETURN_IF_ERROR(RestoreEntry(di, e).WithContext("fix " + e.path));
    }
    ATLAS_RETURN_IF_ERROR(entries->status());
  }
  return Status::Ok();
}

Status Fixer::RestoreEntry(std::size_t di, const EntryRecord& e) {
  const std::filesystem::path& root = array_.data[di].root;
  const std::string& name = array_.data[di].name;
  Result<FileStat> st = ctx_.fs->StatUnder(root, e.path);
  if (st.ok()) {
    // A directory exactly as fix's mkdir leaves it (this user's, 0755),
    // changed since a fix that did not finish started, that the record
    // says is otherwise: made by that fix, cut short before it set the
    // metadata. It gets it now.
    // As this run found it: before its own writes into it, if any.
    auto touched = dirs_[di].find(e.path);
    if (touched != dirs_[di].end() && touched->second.created) return Status::Ok();
    const FileStat& seen = touched != dirs_[di].end() ? touched->second.before : *st;
    if (e.kind == EntryKind::kDirectory && seen.type == FileType::kDirectory && killed_since_ > 0 &&
        seen.ctime_ns >= killed_since_ && seen.uid == static_cast<std::uint32_t>(::geteuid()) &&
        (seen.mode & 07777) == 0755 &&
        ((e.mode & 07777) != 0755 || e.uid != seen.uid || e.gid != seen.gid || e.mtime_ns != seen.mtime_ns)) {
      DirState& d = dirs_[di][e.path];
      d.created = true;
      d.inode = st->inode;
    }
    return Status::Ok();  // there: whatever else it is now is drift, the user's
  }
  // Cut off by something that is no longer a directory: reported by the
  // restore below.
  if (st.status().code() != Code::kNotFound && st.status().code() != Code::kFailedPrecondition) {
    return st.status();
  }
  std::string what(EntryKindName(e.kind));
  std::uint64_t link_inode = 0;
  if (e.kind == EntryKind::kSymlink) {
    what += " -> " + DisplayPath(e.target);
  } else if (e.kind == EntryKind::kHardLink) {
    what += " to " + DisplayPath(e.target);
    // The content name must hold the file this run restored, or the
    // recorded one, untouched.
    ATLAS_ASSIGN_OR_RETURN(std::optional<FileRecord> rec, m_->GetFile(array_.data[di].slot, e.target));
    auto w = written_inodes_.find({di, e.target});
    link_inode = w != written_inodes_.end() ? w->second : rec ? rec->inode : 0;
    Result<FileStat> content = ctx_.fs->StatUnder(root, e.target);
    if (!rec || !content.ok() || content->inode != link_inode || content->size != rec->size ||
        content->mtime_ns != rec->mtime_ns) {
      if (options_.dry_run) {  // the content may be restored by this very run
        EntryRestored(di, e.path, what);
        return Status::Ok();
      }
      Unrecoverable(di, e.path, fmt::format("a hard link to {}, which no longer holds the file it was a name of; not "
                                   "restored",
                                   DisplayPath(e.target)));
      return Status::Ok();
    }
  } else if (e.kind == EntryKind::kSocket) {
    // A socket is made by the program that listens on it.
    report_->actions.push_back(fmt::format("skip {}:{} (a socket: its server makes it again)", name,
                                           DisplayPath(e.path)));
    return Status::Ok();
  }
  if (options_.dry_run) {
    EntryRestored(di, e.path, what);
    return Status::Ok();
  }
  MarkDiskUsed(ctx_.monitor, name);
  Status s = MakeDirs(di, e.kind == EntryKind::kDirectory ? e.path : ParentOf(e.path));
  if (s.ok() && e.kind != EntryKind::kDirectory) {
    Touch(di, ParentOf(e.path));
    switch (e.kind) {
      case EntryKind::kSymlink:
        s = ctx_.fs->CreateSymlinkUnder(root, e.path, e.target);
        break;
      case EntryKind::kHardLink:
        s = ctx_.fs->LinkUnder(root, e.target, e.path, link_inode);
        break;
      default:  // FIFO, device node
        s = ctx_.fs->CreateNodeUnder(root, e.path, e.mode, e.rdev);
        break;
    }
    if (s.ok() && e.kind != EntryKind::kHardLink) {
      EntryMetadata meta;
      meta.mode = e.mode;
      meta.uid = e.uid;
      meta.gid = e.gid;
      meta.mtime_ns = e.mtime_ns;
      meta.xattrs = &e.xattrs;
      s = ctx_.fs->SetMetadataUnder(root, e.path,
                                    e.kind == EntryKind::kSymlink ? FileType::kSymlink : FileType::kOther, 0, meta);
    }
    if (s.ok()) s = ctx_.fs->SyncDirUnder(root, ParentOf(e.path));
  }
  if (!s.ok()) {
    if (!PathProblem(s) && s.code() != Code::kIOError) return s;
    Unrecoverable(di, e.path, fmt::format("the {} could not be restored: {}", what, s.ToString()));
    return Status::Ok();
  }
  // A directory is reported once its metadata is set (RestoreDirectoryMetadata).
  if (e.kind != EntryKind::kDirectory) {
    EntryRestored(di, e.path, what);
    restat_entries_.insert({di, e.path});
  }
  ATLAS_CRASH_POINT("fix.after_entry_restore");
  if (e.kind == EntryKind::kHardLink) {
    restat_files_.insert({di, e.target});
    links_made_ = true;
  }
  return Status::Ok();
}

Status Fixer::RestoreDirectoryMetadata() {
  for (std::size_t di = 0; di < dirs_.size(); ++di) {
    const std::filesystem::path& root = array_.data[di].root;
    // Deepest first: a directory's metadata is set after everything in it,
    // and setting it does not move its parent's mtime.
    for (auto it = dirs_[di].rbegin(); it != dirs_[di].rend(); ++it) {
      const std::string& dir = it->first;
      const DirState& d = it->second;
      EntryMetadata meta;
      std::optional<EntryRecord> rec;
      if (d.created) {
        ATLAS_ASSIGN_OR_RETURN(rec, m_->GetEntry(array_.data[di].slot, dir));
        if (!rec || rec->kind != EntryKind::kDirectory) {
          // Made on the way to a file with no record of its own (a
          // directory excluded, or recorded before schema 4): as mkdir left it.
          continue;
        }
        meta.mode = rec->mode;
        meta.uid = rec->uid;
        meta.gid = rec->gid;
        meta.mtime_ns = rec->mtime_ns;
        meta.xattrs = &rec->xattrs;
      } else if (dir.empty()) {
        continue;  // the disk root is the admin's mount point, not recorded
      } else {
        meta.mode = d.before.mode;
        meta.uid = d.before.uid;
        meta.gid = d.before.gid;
        meta.mtime_ns = d.before.mtime_ns;
      }
      Status s = ctx_.fs->SetMetadataUnder(root, dir, FileType::kDirectory, d.inode, meta);
      if (!s.ok()) {
        if (!PathProblem(s) && s.code() != Code::kIOError) return s;
        report_->findings.push_back(MakeFinding(FindingKind::kRepaired, array_.data[di].name, dir,
                                                "its mode, owner or mtime could not be set back: " + s.ToString()));
        continue;
      }
      if (d.created) {
        EntryRestored(di, dir, "directory");
        restat_entries_.insert({di, dir});
      } else {
        // Its record follows only if it was the recorded directory before
        // this run touched it (else what changed meanwhile stays drift).
        ATLAS_ASSIGN_OR_RETURN(rec, m_->GetEntry(array_.data[di].slot, dir));
        if (rec && rec->inode == d.before.inode && rec->ctime_ns == d.before.ctime_ns) {
          restat_entries_.insert({di, dir});
        }
      }
    }
  }
  return Status::Ok();
}

Status Fixer::RestatRecords() {
  if (links_made_) {
    // A new name moves the ctime of the inode: every other name too.
    for (std::size_t di = 0; di < array_.data.size(); ++di) {
      if (!disk_selected_[di] || !array_.data[di].record) continue;
      std::unique_ptr<Cursor<EntryRecord>> entries = m_->Entries(array_.data[di].slot);
      for (; entries->Valid(); entries->Next()) {
        const EntryRecord& e = entries->value();
        if (e.kind == EntryKind::kHardLink && restat_files_.count({di, e.target}) != 0) {
          restat_entries_.insert({di, e.path});
        }
      }
      ATLAS_RETURN_IF_ERROR(entries->status());
    }
  }
  for (const auto& [di, path] : restat_files_) {
    const std::uint16_t slot = array_.data[di].slot;
    ATLAS_ASSIGN_OR_RETURN(std::optional<FileRecord> rec, m_->GetFile(slot, path));
    Result<FileStat> now = ctx_.fs->StatUnder(array_.data[di].root, path);
    if (!rec || !now.ok() || now->type != FileType::kRegular) continue;
    FileRecord updated = *rec;
    updated.inode = now->inode;
    updated.ctime_ns = now->ctime_ns;
    batch_->DeleteFile(*rec);
    batch_->PutFile(updated);
  }
  for (const auto& [di, path] : restat_entries_) {
    ATLAS_ASSIGN_OR_RETURN(std::optional<EntryRecord> rec, m_->GetEntry(array_.data[di].slot, path));
    Result<FileStat> now = ctx_.fs->StatUnder(array_.data[di].root, path);
    if (!rec || !now.ok()) continue;
    rec->inode = now->inode;
    rec->ctime_ns = now->ctime_ns;
    batch_->PutEntry(*rec);
  }
  return Status::Ok();
}

// Leftovers of an interrupted fix. A name is taken for fix's own only with
// this array's tag in it, and the file only when it is what fix creates: a
// regular file with one link, owned by the user fix runs as. Users cannot
// learn the tag (the manifest is root's), create a file owned by root, or
// add a link to one without it showing in the link count, so nothing of
// theirs is removed; an old ".NAME.atlas-fix-tmp" of an earlier version is
// left alone for the same reason.
Status Fixer::RemoveStaleTemps() {
  if (temp_tag_.empty()) return Status::Ok();
  const std::uint32_t euid = static_cast<std::uint32_t>(::geteuid());
  for (std::size_t di = 0; di < array_.data.size(); ++di) {
    if (!disk_selected_[di]) continue;
    WalkOptions o;
    o.on_error = [](std::string_view, const Status&) { return Status::Ok(); };
    std::vector<std::string> stale;
    Status s = ctx_.fs->Walk(array_.data[di].root, o, [&](const WalkEntry& e) {
      if (IsFixTempName(BaseOf(e.rel_path), temp_tag_) && e.stat.type == FileType::kRegular && e.stat.nlink == 1 &&
          e.stat.uid == euid) {
        stale.push_back(e.rel_path);
      }
      return Status::Ok();
    });
    ATLAS_RETURN_IF_ERROR(s);
    for (const std::string& rel : stale) {
      report_->actions.push_back(fmt::format("remove the temporary file {}:{} left by an interrupted fix",
                                             array_.data[di].name, DisplayPath(rel)));
      if (options_.dry_run) continue;
      Status r = ctx_.fs->RemoveUnder(array_.data[di].root, rel);
      if (!r.ok() && r.code() != Code::kNotFound && !PathProblem(r)) return r;
    }
  }
  return Status::Ok();
}

// The array's temporary-file tag, drawn when the manifest was created or
// upgraded to schema 2 (a dry run of an older manifest has none: it then
// has no temporary files of this version to find either).
Status Fixer::LoadTempTag() {
  ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> tag, m_->GetMeta("fix_temp_tag"));
  if (!tag && !options_.dry_run) return Status::Internal("the manifest has no fix_temp_tag (schema 2)");
  temp_tag_ = tag.value_or("");
  return Status::Ok();
}

// Scope: --disk names data disks or parity levels.
Status Fixer::SelectScope() {
  disk_selected_.assign(array_.data.size(), options_.disks.empty());
  parity_selected_.assign(array_.parity.size(), options_.disks.empty());
  for (const std::string& name : options_.disks) {
    bool found = false;
    for (std::size_t i = 0; i < array_.data.size(); ++i) {
      if (array_.data[i].name == name) disk_selected_[i] = found = true;
    }
    for (std::size_t l = 0; l < array_.parity.size(); ++l) {
      if (array_.parity[l].name == name) parity_selected_[l] = found = true;
    }
    if (!found) {
      return Status::InvalidArgument(fmt::format("--disk {}: no data disk or parity level of that name in {}",
                                                 name, config_.source.string()));
    }
  }
  if (options_.disks.size() > array_.parity.size()) {
    return Status::InvalidArgument(fmt::format("--disk names {} disks, but {} parity level{} can rebuild at most "
                                               "that many at once",
                                               options_.disks.size(), array_.parity.size(),
                                               array_.parity.size() == 1 ? "" : "s"));
  }
  return Status::Ok();
}

// Disks being fixed may be empty, unmounted or replaced; the others may not.
Status Fixer::CheckGuards() {
  std::vector<Finding> blocking;
  for (Finding& f : CheckDiskGuards(array_)) {
    if (!Fixing(f.disk)) blocking.push_back(std::move(f));
  }
  for (const ArrayDataDisk& d : array_.data) {
    if (Fixing(d.name) && !d.present) {
      return Status::FailedPrecondition(fmt::format(
          "disk {}: {} does not exist; mount the replacement disk there first", d.name, d.root.string()));
    }
  }
  if (blocking.empty()) return Status::Ok();
  std::string first = blocking.front().message;
  for (Finding& f : blocking) report_->findings.push_back(std::move(f));
  return Status::FailedPrecondition("refused: " + first + " (to rebuild it, run `atlas-scrub fix --disk NAME`)");
}

Status Fixer::OpenParityForRepair() {
  for (const ArrayParity& p : array_.parity) {
    parity_.push_back(std::make_unique<ParityFile>(ctx_.fs, p, config_.block_size));
    parity_.back()->Watch(ctx_.monitor);
  }
  parity_repaired_.assign(array_.parity.size(), PositionRanges());
  if (options_.dry_run) return Status::Ok();
  std::uint64_t used = 0;
  for (const ArrayDataDisk& d : array_.data) {
    if (d.record) used = std::max(used, d.record->next_pos * config_.block_size);
  }
  for (std::size_t l = 0; l < array_.parity.size(); ++l) {
    const ArrayParity& p = array_.parity[l];
    ATLAS_RETURN_IF_ERROR(parity_[l]->OpenForWrite());
    // A parity file being rebuilt gets its full length back at once, so a
    // stop half way never leaves it shorter than recorded.
    const std::uint64_t want = std::max(used, p.record ? p.record->parity_size : 0);
    if (parity_selected_[l] && p.file_size.value_or(0) < want) {
      ATLAS_RETURN_IF_ERROR(parity_[l]->SetLengthBytes(want, "grow"));
    }
  }
  return Status::Ok();
}

// Reads every position that holds a block of a disk in scope (all positions
// when parity is in scope), streamed, and repairs as the stripes come in.
Status Fixer::Scan() {
  const bool all = std::any_of(parity_selected_.begin(), parity_selected_.end(), [](bool b) { return b; });
  std::vector<std::size_t> scope;  // data disks whose positions are walked; empty: all
  if (!all) {
    for (std::size_t di = 0; di < array_.data.size(); ++di) {
      if (disk_selected_[di] && array_.data[di].record) scope.push_back(di);
    }
  }
  PickedPositions positions{0, [](PositionInfo*) -> Result<bool> { return false; }};
  if (all || !scope.empty()) {
    ATLAS_ASSIGN_OR_RETURN(positions, PickPositions(m_.get(), array_, scope, []() -> PositionPick {
                             return [](const PositionInfo&) { return true; };
                           }));
  }
  ctx_.progress->BeginPhase("fix", positions.count * config_.block_size * std::max<std::size_t>(1, array_.data.size()));
  ScanOptions o;
  o.after_read = [this](ScannedStripe& stripe) { Presolve(stripe); };
  o.scratch_bytes = array_.parity.size() * config_.block_size;
  o.busy_callback = true;  // it writes the rebuilt files
  // Hashing the blocks a rebuild is solved from only when the rebuilt block
  // does not verify saves three of four hashes of a 4+2 rebuild. Not when
  // parity is in scope: a stripe rebuilt from blocks that were not hashed
  // must not be the source of rewritten parity.
  o.defer_hash = !all;
  // A disk is never given up here: every block it cannot read is one to
  // rebuild (a block not read would have no length to verify against, and
  // its file would be unrecoverable).
  o.disk_error_limit = std::numeric_limits<std::uint64_t>::max();
  // Rebuilding data disks alone (no parity level in scope) needs as many
  // parity levels as disks named; more are read per stripe only where those
  // do not suffice (another block lost or corrupt there, a stale level).
  if (!all && !options_.disks.empty()) {
    o.parity_levels.assign(array_.parity.size(), false);
    for (std::size_t l = 0; l < options_.disks.size() && l < array_.parity.size(); ++l) o.parity_levels[l] = true;
  }
  StripeScanner scanner(ctx_, m_.get(), array_, o);
  Status s = scanner.Run(positions.source, [this](const ScannedStripe& stripe) { return OnStripe(stripe); });
  ctx_.progress->EndPhase();
  report_->bytes_read += scanner.bytes_read();
  if (!s.ok()) {
    for (auto& [id, t] : targets_) {
      if (t.temp) t.temp->Close().IgnoreError();  // the next fix removes the temporary files
    }
  }
  return s;
}

// After the scan: the parity made durable, the files still in hand, empty
// files, the summary of parity repairs, the manifest records and copies.
Status Fixer::Conclude(std::int64_t start_ns) {
  if (!options_.dry_run) {
    for (std::unique_ptr<ParityFile>& p : parity_) ATLAS_RETURN_IF_ERROR(p->Sync());
  }
  // Targets not finalized yet: their last position was not scanned (parity
  // repairs aside, every position of a target is in the scan; this is a
  // safety net).
  ATLAS_RETURN_IF_ERROR(FinalizeUpTo(~0ull));
  // --errors-only: an empty file or an entry that is gone is no error to
  // repair.
  if (!options_.errors_only) {
    ATLAS_RETURN_IF_ERROR(RestoreEmptyFiles());
    ATLAS_RETURN_IF_ERROR(RestoreEntries());
  }
  if (!options_.dry_run) {
    ATLAS_RETURN_IF_ERROR(RestoreDirectoryMetadata());
    ATLAS_CRASH_POINT("fix.after_directory_metadata");
    ATLAS_RETURN_IF_ERROR(RestatRecords());
  }
  // One line per parity level, with the positions as ranges: a replaced
  // parity disk is millions of positions.
  for (std::size_t l = 0; l < parity_repaired_.size(); ++l) {
    const PositionRanges& r = parity_repaired_[l];
    if (r.count() == 0) continue;
    report_->actions.push_back(fmt::format("rewrite parity {} at {}", array_.parity[l].name, r.Text()));
    report_->findings.push_back(MakeFinding(
        FindingKind::kRepaired, array_.parity[l].name, "",
        fmt::format("{} {} parity block{} of {} from verified data ({})", options_.dry_run ? "would rewrite" : "rewrote",
                    r.count(), r.count() == 1 ? "" : "s", array_.parity[l].name, r.Text())));
  }
  if (options_.dry_run) return Status::Ok();
  if (report_->parity_blocks_repaired > 0) {
    for (const StoredFinding& sf : stored_) {
      if (sf.finding.kind == FindingKind::kParityMismatch) batch_->DeleteFinding(sf.finding);
    }
  }
  ATLAS_RETURN_IF_ERROR(RecordDisks());
  RunRecord run;
  run.command = "fix";
  run.start_ns = start_ns;
  run.end_ns = ctx_.clock->NowUnixNanos();
  run.exit_code = report_->files_unrecoverable > 0 ? 1 : 0;
  run.summary = fmt::format("{} files repaired, {} unrecoverable, {} parity blocks rewritten",
                            report_->files_repaired, report_->files_unrecoverable, report_->parity_blocks_repaired);
  batch_->PutRun(run);
  batch_->PutMeta("copies_pending", "1");
  batch_->PutMeta("fix_started_ns", "0");  // finished
  ATLAS_RETURN_IF_ERROR(m_->Commit(*batch_, /*durable=*/true));
  ATLAS_CRASH_POINT("fix.after_commit");
  if (config_.manifest_copies.empty()) return Status::Ok();
  std::vector<Finding> refused;  // unsafe copy directories: findings, not errors
  ATLAS_RETURN_IF_ERROR(m_->CopyTo(config_.manifest_copies, &refused).WithContext("manifest copy"));
  for (Finding& f : refused) report_->findings.push_back(std::move(f));
  std::unique_ptr<ManifestBatch> done = m_->NewBatch();
  done->PutMeta("copies_pending", "0");
  return m_->Commit(*done, /*durable=*/true);
}

Status Fixer::Run() {
  ATLAS_RETURN_IF_ERROR(EngineSelfTest());
  const std::int64_t start_ns = ctx_.clock->NowUnixNanos();
  if (!options_.dry_run) {
    ATLAS_ASSIGN_OR_RETURN(lock_, ManifestLock::Acquire(config_.manifest));
  }
  ManifestOptions mo;
  mo.read_only = options_.dry_run;
  mo.copy_dirs = config_.manifest_copies;
  ATLAS_ASSIGN_OR_RETURN(m_, OpenManifest(config_.manifest, mo));
  ATLAS_ASSIGN_OR_RETURN(array_, LoadArray(ctx_, m_.get()));
  if (!array_.synced_ever) return Status::FailedPrecondition("the array has never been synced: nothing to fix from");
  // Parity "repaired" without a disk of the manifest would no longer hold
  // that disk's files.
  ATLAS_RETURN_IF_ERROR(CheckOrphans(config_, array_));
  ATLAS_RETURN_IF_ERROR(SelectScope());
  ATLAS_RETURN_IF_ERROR(CheckGuards());
  ATLAS_ASSIGN_OR_RETURN(codec_, ParityCodec::Create(static_cast<int>(array_.parity.size())));
  ATLAS_ASSIGN_OR_RETURN(stored_, m_->ListFindings());
  if (!options_.dry_run) batch_ = m_->NewBatch();
  ATLAS_RETURN_IF_ERROR(OpenParityForRepair());
  ATLAS_RETURN_IF_ERROR(LoadTempTag());
  ATLAS_RETURN_IF_ERROR(RemoveStaleTemps());
  dirs_.assign(array_.data.size(), {});
  if (!options_.dry_run) {
    ATLAS_RETURN_IF_ERROR(MarkStarted(start_ns));
    ATLAS_RETURN_IF_ERROR(AdoptVerifiedFiles());
  }
  if (!options_.errors_only) ATLAS_RETURN_IF_ERROR(RelinkMissingContent());
  ATLAS_RETURN_IF_ERROR(Scan());
  return Conclude(start_ns);
}

}  // namespace

Status RunFix(const RunContext& ctx, const FixOptions& options, FixReport* report) {
  *report = FixReport();
  const std::int64_t t0 = ctx.clock->MonotonicNanos();
  Fixer fixer(ctx, options, report);
  Status s = fixer.Run();
  report->seconds = static_cast<double>(ctx.clock->MonotonicNanos() - t0) / 1e9;
  return s.WithContext("fix");
}

}  // namespace atlas
