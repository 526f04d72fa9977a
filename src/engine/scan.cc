#include "engine/scan.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <sys/stat.h>

#include <fmt/format.h>

#include "engine/exclude.h"

namespace atlas {

EntryKind EntryKindOf(const FileStat& st) {
  switch (st.mode & S_IFMT) {
    case S_IFDIR:
      return EntryKind::kDirectory;
    case S_IFLNK:
      return EntryKind::kSymlink;
    case S_IFIFO:
      return EntryKind::kFifo;
    case S_IFSOCK:
      return EntryKind::kSocket;
    case S_IFCHR:
      return EntryKind::kCharDevice;
    case S_IFBLK:
      return EntryKind::kBlockDevice;
    default:
      return EntryKind::kHardLink;  // a regular file: only ever a link name here
  }
}

std::string DescribeEntryChange(const EntryRecord& was, const EntryRecord& now) {
  std::vector<std::string> parts;
  if (was.kind != now.kind) {
    parts.push_back(fmt::format("was a {}", EntryKindName(was.kind)));
  } else if (now.kind == EntryKind::kSymlink && was.target != now.target) {
    parts.push_back(fmt::format("-> {} became -> {}", DisplayPath(was.target), DisplayPath(now.target)));
  } else if (now.kind == EntryKind::kHardLink && was.target != now.target) {
    parts.push_back(fmt::format("now a name of {} (was of {})", DisplayPath(now.target), DisplayPath(was.target)));
  }
  if (was.kind == now.kind && now.kind != EntryKind::kHardLink) {
    if ((was.mode & 07777) != (now.mode & 07777) && now.kind != EntryKind::kSymlink) {
      parts.push_back(fmt::format("mode {:04o} -> {:04o}", was.mode & 07777, now.mode & 07777));
    }
    if (was.uid != now.uid || was.gid != now.gid) {
      parts.push_back(fmt::format("owner {}:{} -> {}:{}", was.uid, was.gid, now.uid, now.gid));
    }
    if (was.xattrs != now.xattrs) parts.push_back("extended attributes changed");
    if (was.rdev != now.rdev) parts.push_back("device number changed");
    if (now.kind == EntryKind::kSymlink && was.mtime_ns != now.mtime_ns) parts.push_back("mtime changed");
  }
  std::string out = fmt::format("{} changed", EntryKindName(now.kind));
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? ": " : ", ") + parts[i];
  return out;
}

std::string DescribeMetadataChange(const FileRecord& rec, const FileStat& now, const FileExtras* extras) {
  std::vector<std::string> parts;
  if ((rec.mode & 07777) != (now.mode & 07777)) {
    parts.push_back(fmt::format("mode {:04o} -> {:04o}", rec.mode & 07777, now.mode & 07777));
  }
  if (rec.uid != now.uid || rec.gid != now.gid) {
    parts.push_back(fmt::format("owner {}:{} -> {}:{}", rec.uid, rec.gid, now.uid, now.gid));
  }
  if (extras != nullptr && extras->xattrs != rec.xattrs) parts.push_back("extended attributes changed");
  std::string out = "metadata changed";
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? ": " : ", ") + parts[i];
  return out;
}

bool CountEntryDrift(const ScanEvent& ev, DriftCounts* c) {
  switch (ev.change) {
    case ScanChange::kUnchanged:
      if (ev.metadata_changed) {
        c->metadata_changed++;
        return true;
      }
      if (ev.refresh) c->refreshed++;
      return false;
    case ScanChange::kDeleted:
      // The name stays, as a link: its entry is the drift.
      if (ev.became_link) c->refreshed++;
      return false;
    case ScanChange::kEntryAdded:
    case ScanChange::kEntryChanged:
    case ScanChange::kEntryRemoved: {
      if (ev.quiet) {
        c->refreshed++;
        return false;
      }
      const bool removed = ev.change == ScanChange::kEntryRemoved;
      DriftCounts::Entries& e = c->ForKind(removed ? ev.recorded->kind : ev.now->kind);
      (ev.change == ScanChange::kEntryAdded ? e.added : removed ? e.removed : e.changed)++;
      return true;
    }
    default:
      return false;
  }
}

Finding DriftFinding(const std::string& disk, const ScanEvent& ev) {
  switch (ev.change) {
    case ScanChange::kUnchanged:
      return MakeFinding(FindingKind::kModified, disk, ev.entry->rel_path,
                         DescribeMetadataChange(*ev.record, ev.entry->stat, ev.extras));
    case ScanChange::kEntryAdded: {
      const EntryRecord& n = *ev.now;
      std::string what(EntryKindName(n.kind));
      if (n.kind == EntryKind::kSymlink) what += fmt::format(" added (-> {})", DisplayPath(n.target));
      else if (n.kind == EntryKind::kHardLink) what += fmt::format(" added (to {})", DisplayPath(n.target));
      else what += " added";
      return MakeFinding(FindingKind::kAdded, disk, n.path, what);
    }
    case ScanChange::kEntryRemoved:
      return MakeFinding(FindingKind::kDeleted, disk, ev.recorded->path,
                         fmt::format("{} removed since the last sync", EntryKindName(ev.recorded->kind)));
    default:
      return MakeFinding(FindingKind::kModified, disk, ev.now->path, DescribeEntryChange(*ev.recorded, *ev.now));
  }
}

namespace {

// Whether an entry change is one a user would call a change (false: only
// what moves by itself, a directory's mtime when a file is added in it, a
// FIFO's when it is written, an inode or a ctime).
bool Reported(const EntryRecord& was, const EntryRecord& now) {
  if (was.kind != now.kind) return true;
  switch (now.kind) {
    case EntryKind::kHardLink:
      return was.target != now.target;
    case EntryKind::kSymlink:
      return was.target != now.target || was.uid != now.uid || was.gid != now.gid || was.mtime_ns != now.mtime_ns;
    case EntryKind::kDirectory:
      return was.mode != now.mode || was.uid != now.uid || was.gid != now.gid || was.xattrs != now.xattrs;
    default:
      return was.mode != now.mode || was.uid != now.uid || was.gid != now.gid || was.rdev != now.rdev;
  }
}

bool Same(const EntryRecord& a, const EntryRecord& b) {
  return a.kind == b.kind && a.mode == b.mode && a.uid == b.uid && a.gid == b.gid && a.mtime_ns == b.mtime_ns &&
         a.ctime_ns == b.ctime_ns && a.inode == b.inode && a.rdev == b.rdev && a.target == b.target &&
         a.xattrs == b.xattrs;
}

// A regular file with more than one link, held back until the walk ends.
struct MultiLink {
  WalkEntry entry;
  std::optional<FileRecord> record;  // recorded as content under this name
};

class DiskScanner {
 public:
  DiskScanner(const Config& config, FileSystem* fs, Manifest* manifest, const ArrayDataDisk& disk,
              std::stop_token stop, const ScanVisitor& visit, ScanTotals* totals, bool extras_of_new)
      : config_(config),
        fs_(fs),
        m_(manifest),
        disk_(disk),
        stop_(stop),
        visit_(visit),
        totals_(totals),
        extras_of_new_(extras_of_new) {}

  Status Run();

 private:
  bool Recorded() const { return m_ != nullptr && disk_.record.has_value(); }
  Status OnWalkEntry(const WalkEntry& e);
  // One file's content name, with its record under that name if any.
  Status File(const WalkEntry& e, const std::optional<FileRecord>& rec);
  Result<std::optional<FileRecord>> FindMove(const WalkEntry& e);
  Status ResolveLinks();
  Status CompareEntries();
  // Target bytes and xattrs of `now`, read from the disk.
  void ReadDetails(EntryRecord* now);
  std::vector<Xattr> XattrsOf(const std::string& rel, const std::vector<Xattr>& fallback);
  std::vector<ByteRange> HolesOf(const WalkEntry& e);

  const Config& config_;
  FileSystem* fs_;
  Manifest* m_;
  const ArrayDataDisk& disk_;
  std::stop_token stop_;
  const ScanVisitor& visit_;
  ScanTotals* totals_;
  const bool extras_of_new_;

  std::unique_ptr<Cursor<FileRecord>> cursor_;
  std::vector<FileRecord> deleted_;    // recorded files not found, resolved after the walk
  std::set<std::string> moved_away_;   // old paths of files reported as moved
  std::set<std::string> became_link_;  // recorded files whose name is now another's hard link
  std::vector<MultiLink> multi_;
  std::vector<EntryRecord> entries_;   // entries as found, sorted after the walk
  std::uint64_t seen_ = 0;
};

std::vector<Xattr> DiskScanner::XattrsOf(const std::string& rel, const std::vector<Xattr>& fallback) {
  // A name that vanished or was swapped since the walk keeps what was
  // recorded: the next scan sees it as it is then.
  Result<std::vector<Xattr>> x = fs_->ListXattrsUnder(disk_.root, rel);
  return x.ok() ? std::move(x).value() : fallback;
}

std::vector<ByteRange> DiskScanner::HolesOf(const WalkEntry& e) {
  // Fewer 512-byte units allocated than the size needs: it may have holes.
  if (e.stat.size == 0 || e.stat.blocks * 512 >= e.stat.size) return {};
  Result<std::vector<ByteRange>> h = fs_->HolesUnder(disk_.root, e.rel_path);
  return h.ok() ? std::move(h).value() : std::vector<ByteRange>();
}

Result<std::optional<FileRecord>> DiskScanner::FindMove(const WalkEntry& entry) {
  if (!Recorded()) return std::optional<FileRecord>();
  ATLAS_ASSIGN_OR_RETURN(std::vector<std::string> paths, m_->FindByInode(disk_.slot, entry.stat.inode));
  for (const std::string& old_path : paths) {
    if (old_path == entry.rel_path || moved_away_.count(old_path) != 0) continue;
    ATLAS_ASSIGN_OR_RETURN(std::optional<FileRecord> rec, m_->GetFile(disk_.slot, old_path));
    if (!rec || rec->size != entry.stat.size || rec->mtime_ns != entry.stat.mtime_ns) continue;
    // The old path must be gone (or now hold another file).
    Result<FileStat> now = fs_->StatUnder(disk_.root, old_path);
    if (now.ok() && now->inode == entry.stat.inode) continue;  // another name of it, still there
    // A path that no longer resolves beneath the root (a directory on it
    // replaced by a symlink) is as gone as a missing one.
    if (!now.ok() && now.status().code() != Code::kNotFound &&
        now.status().code() != Code::kFailedPrecondition) {
      return now.status();
    }
    return rec;
  }
  return std::optional<FileRecord>();
}

Status DiskScanner::File(const WalkEntry& entry, const std::optional<FileRecord>& rec) {
  totals_->files++;
  totals_->bytes += entry.stat.size;
  FileExtras extras;
  ScanEvent ev;
  ev.entry = &entry;
  if (rec) {
    ev.record = &*rec;
    // Another inode under the same name is another file, even with the
    // same size and mtime: something renamed over it (a user, an editor's
    // save, a restore from backup). Its bytes are not the recorded ones
    // until they are hashed again.
    const bool same = rec->size == entry.stat.size && rec->mtime_ns == entry.stat.mtime_ns &&
                      rec->inode == entry.stat.inode;
    if (same) {
      ev.change = ScanChange::kUnchanged;
      const bool ctime_moved = rec->ctime_ns != entry.stat.ctime_ns;
      if (ctime_moved) {
        extras.xattrs = XattrsOf(entry.rel_path, rec->xattrs);
        extras.holes = rec->holes;
        ev.extras = &extras;
      }
      ev.metadata_changed = rec->mode != entry.stat.mode || rec->uid != entry.stat.uid ||
                            rec->gid != entry.stat.gid || (ctime_moved && extras.xattrs != rec->xattrs);
      ev.refresh = ev.metadata_changed || ctime_moved;
      return visit_(ev);
    }
    ev.change = ScanChange::kModified;
    if (extras_of_new_) {
      extras.xattrs = XattrsOf(entry.rel_path, {});
      extras.holes = HolesOf(entry);
      ev.extras = &extras;
    }
    return visit_(ev);
  }
  ATLAS_ASSIGN_OR_RETURN(std::optional<FileRecord> moved, FindMove(entry));
  if (moved) {
    moved_away_.insert(moved->path);
    ev.change = ScanChange::kMoved;
    ev.record = &*moved;
  } else {
    ev.change = ScanChange::kAdded;
  }
  if (extras_of_new_) {
    extras.xattrs = XattrsOf(entry.rel_path, moved ? moved->xattrs : std::vector<Xattr>());
    extras.holes = moved ? moved->holes : HolesOf(entry);
    ev.extras = &extras;
  }
  return visit_(ev);
}

Status DiskScanner::OnWalkEntry(const WalkEntry& e) {
  if ((++seen_ & 1023) == 0 && stop_.stop_requested()) return Status::Cancelled("scan interrupted");
  while (cursor_ && cursor_->Valid() && cursor_->value().path < e.rel_path) {
    deleted_.push_back(cursor_->value());
    cursor_->Next();
  }
  if (cursor_) ATLAS_RETURN_IF_ERROR(cursor_->status());
  std::optional<FileRecord> rec;
  if (cursor_ && cursor_->Valid() && cursor_->value().path == e.rel_path) {
    rec = cursor_->value();
    cursor_->Next();
  }
  if (e.stat.type == FileType::kRegular) {
    if (e.stat.nlink > 1) {
      multi_.push_back(MultiLink{e, std::move(rec)});
      return Status::Ok();
    }
    return File(e, rec);
  }
  // Not a file's content (any more): a recorded file under this name is gone.
  if (rec) deleted_.push_back(std::move(*rec));
  EntryRecord now;
  now.slot = disk_.slot;
  now.path = e.rel_path;
  now.kind = EntryKindOf(e.stat);
  now.mode = e.stat.mode;
  now.uid = e.stat.uid;
  now.gid = e.stat.gid;
  now.mtime_ns = e.stat.mtime_ns;
  now.ctime_ns = e.stat.ctime_ns;
  now.inode = e.stat.inode;
  if (now.kind == EntryKind::kCharDevice || now.kind == EntryKind::kBlockDevice) now.rdev = e.stat.rdev;
  switch (now.kind) {
    case EntryKind::kDirectory:
      totals_->directories++;
      break;
    case EntryKind::kSymlink:
      totals_->symlinks++;
      break;
    default:
      totals_->special_files++;
      break;
  }
  entries_.push_back(std::move(now));
  return Status::Ok();
}

// Each inode's names: one carries the content, the others are links to it.
Status DiskScanner::ResolveLinks() {
  std::sort(multi_.begin(), multi_.end(), [](const MultiLink& a, const MultiLink& b) {
    return a.entry.stat.inode != b.entry.stat.inode ? a.entry.stat.inode < b.entry.stat.inode
                                                    : a.entry.rel_path < b.entry.rel_path;
  });
  for (std::size_t begin = 0; begin < multi_.size();) {
    std::size_t end = begin + 1;
    while (end < multi_.size() && multi_[end].entry.stat.inode == multi_[begin].entry.stat.inode) ++end;
    // The content name: the one recorded as this inode's content, else one
    // recorded as content at all (rehashed as modified), else the first
    // (File() then finds a move by inode, or an added file).
    std::size_t primary = begin;
    bool found = false;
    for (std::size_t i = begin; i < end && !found; ++i) {
      const MultiLink& l = multi_[i];
      if (l.record && l.record->inode == l.entry.stat.inode && l.record->size == l.entry.stat.size &&
          l.record->mtime_ns == l.entry.stat.mtime_ns) {
        primary = i;
        found = true;
      }
    }
    for (std::size_t i = begin; i < end && !found; ++i) {
      if (multi_[i].record) {
        primary = i;
        found = true;
      }
    }
    ATLAS_RETURN_IF_ERROR(File(multi_[primary].entry, multi_[primary].record));
    for (std::size_t i = begin; i < end; ++i) {
      if (i == primary) continue;
      MultiLink& l = multi_[i];
      // A name that was its own file's content is a link now: that
      // content is gone from this name.
      if (l.record) {
        became_link_.insert(l.record->path);
        deleted_.push_back(std::move(*l.record));
      }
      EntryRecord now;
      now.slot = disk_.slot;
      now.path = l.entry.rel_path;
      now.kind = EntryKind::kHardLink;
      now.mode = l.entry.stat.mode;
      now.uid = l.entry.stat.uid;
      now.gid = l.entry.stat.gid;
      now.mtime_ns = l.entry.stat.mtime_ns;
      now.ctime_ns = l.entry.stat.ctime_ns;
      now.inode = l.entry.stat.inode;
      now.target = multi_[primary].entry.rel_path;
      totals_->hard_links++;
      entries_.push_back(std::move(now));
    }
    begin = end;
  }
  multi_.clear();
  return Status::Ok();
}

void DiskScanner::ReadDetails(EntryRecord* now) {
  if (now->kind == EntryKind::kSymlink) {
    Result<std::string> t = fs_->ReadLinkUnder(disk_.root, now->path);
    if (t.ok()) now->target = std::move(t).value();
  } else if (now->kind == EntryKind::kDirectory) {
    now->xattrs = XattrsOf(now->path, {});
  }
}

Status DiskScanner::CompareEntries() {
  std::sort(entries_.begin(), entries_.end(),
            [](const EntryRecord& a, const EntryRecord& b) { return a.path < b.path; });
  std::unique_ptr<Cursor<EntryRecord>> rec;
  if (Recorded()) rec = m_->Entries(disk_.slot);
  auto removed = [&](const EntryRecord& was) -> Status {
    ScanEvent ev;
    ev.change = ScanChange::kEntryRemoved;
    ev.recorded = &was;
    // A link name that now carries the content (its other name was
    // removed): the file's events say what happened.
    if (was.kind == EntryKind::kHardLink) {
      Result<FileStat> st = fs_->StatUnder(disk_.root, was.path);
      ev.quiet = st.ok() && st->type == FileType::kRegular;
    }
    return visit_(ev);
  };
  for (EntryRecord& now : entries_) {
    if ((++seen_ & 1023) == 0 && stop_.stop_requested()) return Status::Cancelled("scan interrupted");
    while (rec && rec->Valid() && rec->value().path < now.path) {
      ATLAS_RETURN_IF_ERROR(removed(rec->value()));
      rec->Next();
    }
    if (rec) ATLAS_RETURN_IF_ERROR(rec->status());
    ScanEvent ev;
    ev.now = &now;
    if (rec && rec->Valid() && rec->value().path == now.path) {
      const EntryRecord& was = rec->value();
      ev.recorded = &was;
      if (was.kind == now.kind && was.ctime_ns == now.ctime_ns && was.inode == now.inode) {
        // Nothing about it can have changed but what the stat shows.
        if (now.kind != EntryKind::kHardLink) now.target = was.target;
        now.xattrs = was.xattrs;
      } else {
        ReadDetails(&now);
      }
      if (Same(was, now)) {
        ev.change = ScanChange::kEntryUnchanged;
      } else {
        ev.change = ScanChange::kEntryChanged;
        ev.quiet = !Reported(was, now);
      }
      ATLAS_RETURN_IF_ERROR(visit_(ev));
      rec->Next();
      continue;
    }
    ReadDetails(&now);
    ev.change = ScanChange::kEntryAdded;
    ATLAS_RETURN_IF_ERROR(visit_(ev));
  }
  while (rec && rec->Valid()) {
    ATLAS_RETURN_IF_ERROR(removed(rec->value()));
    rec->Next();
  }
  if (rec) ATLAS_RETURN_IF_ERROR(rec->status());
  return Status::Ok();
}

Status DiskScanner::Run() {
  std::string fix_temp_tag;
  if (m_ != nullptr) {
    ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> tag, m_->GetMeta("fix_temp_tag"));
    fix_temp_tag = tag.value_or("");
  }
  ExcludeMatcher exclude(config_, disk_.root, std::move(fix_temp_tag));
  if (Recorded()) cursor_ = m_->Files(disk_.slot);

  WalkOptions options;
  options.exclude = [&](std::string_view rel, bool is_dir) { return exclude.Excluded(rel, is_dir); };
  options.report_dirs = true;
  Status walk = fs_->Walk(disk_.root, options, [this](const WalkEntry& e) { return OnWalkEntry(e); });
  if (walk.ok()) walk = ResolveLinks();
  if (!walk.ok()) {
    if (walk.code() == Code::kCancelled) return walk;
    return walk.WithContext(fmt::format("scan {} ({})", disk_.name, disk_.root.string()));
  }
  while (cursor_ && cursor_->Valid()) {
    deleted_.push_back(cursor_->value());
    cursor_->Next();
  }
  if (cursor_) ATLAS_RETURN_IF_ERROR(cursor_->status().WithContext("scan " + disk_.name));
  for (const FileRecord& rec : deleted_) {
    if (moved_away_.count(rec.path) != 0) continue;
    ScanEvent ev;
    ev.change = ScanChange::kDeleted;
    ev.record = &rec;
    ev.became_link = became_link_.count(rec.path) != 0;
    ATLAS_RETURN_IF_ERROR(visit_(ev));
  }
  return CompareEntries().WithContext("scan " + disk_.name);
}

}  // namespace

Status ScanDisk(const Config& config, FileSystem* fs, Manifest* manifest, const ArrayDataDisk& disk,
                std::stop_token stop, const ScanVisitor& visit, ScanTotals* totals, bool extras_of_new) {
  return DiskScanner(config, fs, manifest, disk, stop, visit, totals, extras_of_new).Run();
}

}  // namespace atlas
