// The content guards of sync, and the permission rule of the verifying
// commands (see guards.h).
//
// Why refuse rather than record. Parity protects the content of the last
// sync; a sync that records a change makes the old content unrecoverable.
// For most changes that is the point, but three kinds are far more often an
// accident or an attack than an edit, and each is cheap to tell from the
// walk that sync's check pass does anyway:
//  - a file that held data and is now 0 bytes: ext4 (data=ordered, delayed
//    allocation) leaves such files after a crash, and so does a user's
//    `> file`. SnapRAID refuses these without -Z/--force-zero; so do we.
//  - many files modified in one sync: ransomware over SMB rewrites files in
//    place. A mass retag of a music library looks the same, so the limit is
//    a count or a share (like max_deletes), with --force-modified.
//  - a move across disks whose content differs: a file damaged on one disk
//    and moved to another keeps its name, size and mtime (mv across
//    filesystems copies them), so without a check the damaged copy is
//    protected as a new file and the original dropped. SnapRAID's copy
//    detection fails such a sync (--force-nocopy); ours is --force-move.
//
// The move check reads data, unlike the rest of the check pass: the
// candidates are only added files whose (base name, size, mtime) is that of
// a file deleted from another disk, and only the disks holding one are
// walked again to find their paths (from the dentry cache), so a sync
// without cross-disk moves reads nothing. Keeping the added paths from the
// first walk was rejected: a first sync of a million files would hold them
// all in memory for a check that cannot apply (nothing is deleted yet).
//
// Rejected: keeping the old positions' parity and recording the damaged
// copy anyway (the array then holds two versions until someone decides,
// and every later command would have to know which is which). A refusal
// writes nothing and leaves `fix` able to restore the original.
#include "engine/guards.h"

#include <algorithm>
#include <cerrno>
#include <map>
#include <unordered_map>

#include <fmt/format.h>
#include <fnmatch.h>
#include <unistd.h>

#include "engine/scan.h"
#include "engine/stripe_scanner.h"

namespace atlas {

GuardExemptions::GuardExemptions(const GuardsConfig& guards) {
  for (const std::string& raw : guards.exempt) {
    if (std::optional<PathPattern> p = PathPattern::Parse(raw))
      patterns_.push_back(std::move(*p));
  }
}

bool GuardExemptions::Exempt(std::string_view rel_path) const {
  if (patterns_.empty())
    return false;
  const std::string path(rel_path);
  // Every directory that holds the file, outermost first, then the file.
  for (std::size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    for (const PathPattern& p : patterns_) {
      if (p.Matches(dir, /*is_dir=*/true))
        return true;
    }
  }
  for (const PathPattern& p : patterns_) {
    if (p.Matches(path, /*is_dir=*/false))
      return true;
  }
  return false;
}

std::vector<Finding> CheckContentGuards(const Config& config, const ArrayView& array,
                                        const std::vector<DiskDrift>& drift, bool force_zero,
                                        bool force_modified) {
  std::vector<Finding> out;
  if (!force_zero) {
    for (std::size_t i = 0; i < array.data.size() && i < drift.size(); ++i) {
      const DiskDrift& d = drift[i];
      for (std::size_t k = 0; k < d.zeroed.size(); ++k) {
        const auto& [path, size] = d.zeroed[k];
        std::string more;
        if (k + 1 == d.zeroed.size() && d.zeroed_count > d.zeroed.size()) {
          more = fmt::format(" ({} more files on {} are 0 bytes now)",
                             d.zeroed_count - d.zeroed.size(), array.data[i].name);
        }
        out.push_back(MakeFinding(
            FindingKind::kZeroSize, array.data[i].name, path,
            fmt::format(
                "held {} bytes at the last sync and is 0 bytes now (a crash, or emptied by "
                "someone){}; sync refuses, as recording it would lose the old content from "
                "parity. Restore it with `atlas-scrub fix --disk {} --filter PATH`, or if it was "
                "emptied on purpose run `atlas-scrub sync --force-zero`",
                size, more, array.data[i].name)));
      }
    }
  }
  if (!force_modified) {
    std::uint64_t recorded = 0, modified = 0;
    std::vector<std::string> examples;
    for (std::size_t i = 0; i < array.data.size() && i < drift.size(); ++i) {
      if (array.data[i].record)
        recorded += array.data[i].record->files;
      modified += drift[i].guarded_modified;
      for (const std::string& p : drift[i].modified_examples) {
        if (examples.size() < 5)
          examples.push_back(array.data[i].name + ":" + DisplayPath(p));
      }
    }
    const double pct =
        recorded > 0 ? 100.0 * static_cast<double>(modified) / static_cast<double>(recorded) : 0;
    const GuardsConfig& g = config.guards;
    if (modified > 0 && (modified > g.max_modified || pct > g.max_modified_pct)) {
      out.push_back(MakeFinding(
          FindingKind::kMassModify, "", "",
          fmt::format(
              "{} {} modified since the last sync ({:.1f}% of {}), above the limit of {} files "
              "or {}% ([guards] max_modified, max_modified_pct), e.g. {}; ransomware or a tool "
              "rewriting files? sync refuses, so the old content stays recoverable with "
              "`atlas-scrub fix --filter`; check with `atlas-scrub diff`, then run "
              "`atlas-scrub sync --force-modified` if intended",
              modified, modified == 1 ? "file was" : "files were", pct, recorded, g.max_modified,
              g.max_modified_pct, fmt::join(examples, ", "))));
    }
  }
  return out;
}

Result<Hash128> ContentOnDisk(FileSystem* fs, const std::filesystem::path& root,
                              const std::string& rel, std::uint64_t size, std::uint32_t bs) {
  // Beneath the disk root, a regular file only (atlas/env.h).
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> f, fs->OpenUnder(root, rel));
  const std::filesystem::path path = f->path();
  std::vector<std::byte> buf(bs);
  Hasher128 content;
  for (std::uint64_t off = 0; off < size; off += bs) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(bs, size - off));
    ATLAS_ASSIGN_OR_RETURN(std::size_t n, f->ReadAt(off, std::span(buf.data(), want)));
    if (n != want)
      return Status::IOError("file changed while read: " + path.string());
    std::byte raw[16];
    HashBlock(std::span<const std::byte>(buf.data(), want)).ToBytes(raw);
    content.Update(std::span<const std::byte>(raw, 16));
  }
  ClearUpperVectorState();
  return content.Digest();
}

Result<std::vector<Finding>> CheckCrossDiskMoves(const RunContext& ctx, Manifest* manifest,
                                                 const ArrayView& array,
                                                 const std::vector<DiskDrift>& drift,
                                                 bool force_move) {
  std::vector<Finding> out;
  if (force_move || manifest == nullptr)
    return out;
  const GuardExemptions exempt(ctx.config->guards);
  // Deleted files that can be judged, by move key.
  struct Deleted {
    std::size_t disk;
    const FileRecord* rec;
    bool matched = false;
  };
  std::unordered_multimap<std::uint64_t, Deleted> deleted;
  for (std::size_t i = 0; i < drift.size(); ++i) {
    for (const FileRecord& rec : drift[i].deleted) {
      if (!rec.content || rec.size == 0 || exempt.Exempt(rec.path))
        continue;
      deleted.emplace(MoveKey(rec.path, rec.size, rec.mtime_ns), Deleted{i, &rec});
    }
  }
  if (deleted.empty())
    return out;
  for (std::size_t j = 0; j < drift.size(); ++j) {
    bool candidate = false;
    for (std::uint64_t key : drift[j].added_keys) {
      auto [lo, hi] = deleted.equal_range(key);
      for (auto it = lo; it != hi && !candidate; ++it) candidate = it->second.disk != j;
      if (candidate)
        break;
    }
    if (!candidate)
      continue;
    const ArrayDataDisk& disk = array.data[j];
    ScanTotals totals;
    Status s = ScanDisk(
        *ctx.config, ctx.fs, manifest, disk, ctx.stop,
        [&](const ScanEvent& ev) -> Status {
          if (ev.change != ScanChange::kAdded)
            return Status::Ok();
          const WalkEntry& e = *ev.entry;
          auto [lo, hi] = deleted.equal_range(MoveKey(e.rel_path, e.stat.size, e.stat.mtime_ns));
          std::vector<Deleted*> from;
          for (auto it = lo; it != hi; ++it) {
            if (it->second.disk != j && !it->second.matched)
              from.push_back(&it->second);
          }
          if (from.empty())
            return Status::Ok();
          Result<Hash128> content =
              ContentOnDisk(ctx.fs, disk.root, e.rel_path, e.stat.size, ctx.config->block_size);
          if (!content.ok())
            return Status::Ok();  // unreadable: sync reports it when it reads the file
          for (Deleted* d : from) {
            if (*d->rec->content == *content) {
              d->matched = true;  // a move with the recorded content
              return Status::Ok();
            }
          }
          Deleted* d = from.front();
          d->matched = true;
          const std::string from_disk = array.data[d->disk].name;
          Finding f = MakeFinding(
              FindingKind::kMoveMismatch, disk.name, e.rel_path,
              fmt::format(
                  "moved from {}:{} (same name, size and mtime), but its content differs from the "
                  "checksums recorded for {}: damaged before or while it was moved? sync refuses, "
                  "so "
                  "the original stays recoverable: `atlas-scrub fix --disk {} --filter {}` "
                  "restores it "
                  "from parity; if the change is intended, run `atlas-scrub sync --force-move`",
                  from_disk, DisplayPath(d->rec->path), DisplayPath(d->rec->path), from_disk,
                  DisplayPath(d->rec->path)));
          f.from = from_disk + ":" + d->rec->path;
          out.push_back(std::move(f));
          return Status::Ok();
        },
        &totals, /*extras_of_new=*/false);
    ATLAS_RETURN_IF_ERROR(s);
  }
  return out;
}

bool IsPermissionDenied(const Status& s) {
  return !s.ok() && (s.sys_errno() == EACCES || s.sys_errno() == EPERM);
}

Status PermissionProblem(std::string_view command, const ArrayView& array, const ScannedStripe& s) {
  for (std::size_t di = 0; di < s.checks.size() && di < array.data.size(); ++di) {
    const BlockCheck& c = s.checks[di];
    if (c.outcome == BlockCheck::Outcome::kReadError && IsPermissionDenied(c.error)) {
      const std::string path =
          s.paths[di].empty() ? std::string("a file") : DisplayPath(s.paths[di]);
      return PermissionError(command, fmt::format("{}:{}", array.data[di].name, path), c.error);
    }
  }
  for (std::size_t l = 0; l < s.parity_status.size() && l < array.parity.size(); ++l) {
    if (IsPermissionDenied(s.parity_status[l])) {
      return PermissionError(command, "parity file " + array.parity[l].path.string(),
                             s.parity_status[l]);
    }
  }
  return Status::Ok();
}

Status PermissionError(std::string_view command, const std::string& what, const Status& s) {
  const bool root = geteuid() == 0;
  return Status::InvalidArgument(fmt::format(
      "permission denied reading {} ({}); {} reads every file of the array and its parity, which "
      "this "
      "user may not: {}; nothing was judged or recorded",
      what, s.ToString(), command,
      root ? "even root was refused (SELinux, AppArmor, or an NFS/SMB mount squashing root?)"
           : "run it as root (e.g. `sudo atlas-scrub " + std::string(command) + "`)"));
}

}  // namespace atlas
