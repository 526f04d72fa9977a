#include "engine/scan.h"

#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/exclude.h"

namespace atlas {

Status ScanDisk(const Config& config, FileSystem* fs, Manifest* manifest,
                const ArrayDataDisk& disk, std::stop_token stop, const ScanVisitor& visit,
                ScanTotals* totals) {
  std::string fix_temp_tag;
  if (manifest != nullptr) {
    ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> tag, manifest->GetMeta("fix_temp_tag"));
    fix_temp_tag = tag.value_or("");
  }
  ExcludeMatcher exclude(config, disk.root, std::move(fix_temp_tag));
  std::unique_ptr<Cursor<FileRecord>> cursor;
  if (manifest != nullptr && disk.record) cursor = manifest->Files(disk.slot);

  std::vector<FileRecord> deleted;    // recorded files not found, resolved after the walk
  std::set<std::string> moved_away;  // old paths of files reported as moved

  // A recorded path the walk has passed without finding it.
  auto passed = [&](const FileRecord& rec) { deleted.push_back(rec); };

  // Is `entry` (not in the manifest under its path) a recorded file that moved?
  auto find_move = [&](const WalkEntry& entry) -> Result<std::optional<FileRecord>> {
    if (manifest == nullptr || !disk.record) return std::optional<FileRecord>();
    ATLAS_ASSIGN_OR_RETURN(std::vector<std::string> paths,
                           manifest->FindByInode(disk.slot, entry.stat.inode));
    for (const std::string& old_path : paths) {
      if (old_path == entry.rel_path || moved_away.count(old_path) != 0) continue;
      ATLAS_ASSIGN_OR_RETURN(std::optional<FileRecord> rec, manifest->GetFile(disk.slot, old_path));
      if (!rec || rec->size != entry.stat.size || rec->mtime_ns != entry.stat.mtime_ns) continue;
      // The old path must be gone (or now hold another file).
      Result<FileStat> now = fs->StatUnder(disk.root, old_path);
      if (now.ok() && now->inode == entry.stat.inode) continue;  // a hard link, both present
      // A path that no longer resolves beneath the root (a directory on it
      // replaced by a symlink) is as gone as a missing one.
      if (!now.ok() && now.status().code() != Code::kNotFound &&
          now.status().code() != Code::kFailedPrecondition) {
        return now.status();
      }
      return rec;
    }
    return std::optional<FileRecord>();
  };

  WalkOptions options;
  options.exclude = [&](std::string_view rel, bool is_dir) { return exclude.Excluded(rel, is_dir); };
  std::uint64_t seen = 0;
  Status walk = fs->Walk(disk.root, options, [&](const WalkEntry& entry) -> Status {
    if (entry.stat.type != FileType::kRegular) return Status::Ok();  // TODO(#4): links
    if ((++seen & 1023) == 0 && stop.stop_requested()) {
      return Status::Cancelled("scan interrupted");
    }
    totals->files++;
    totals->bytes += entry.stat.size;
    while (cursor && cursor->Valid() && cursor->value().path < entry.rel_path) {
      passed(cursor->value());
      cursor->Next();
    }
    if (cursor) ATLAS_RETURN_IF_ERROR(cursor->status());
    if (cursor && cursor->Valid() && cursor->value().path == entry.rel_path) {
      const FileRecord& rec = cursor->value();
      ScanEvent ev;
      ev.entry = &entry;
      ev.record = &rec;
      // Another inode under the same name is another file, even with the
      // same size and mtime: something renamed over it (a user, an editor's
      // save, a restore from backup). Its bytes are not the recorded ones
      // until they are hashed again.
      ev.change = (rec.size == entry.stat.size && rec.mtime_ns == entry.stat.mtime_ns &&
                   rec.inode == entry.stat.inode)
                      ? ScanChange::kUnchanged
                      : ScanChange::kModified;
      ATLAS_RETURN_IF_ERROR(visit(ev));
      cursor->Next();
      return Status::Ok();
    }
    ATLAS_ASSIGN_OR_RETURN(std::optional<FileRecord> moved, find_move(entry));
    ScanEvent ev;
    ev.entry = &entry;
    if (moved) {
      moved_away.insert(moved->path);
      ev.change = ScanChange::kMoved;
      ev.record = &*moved;
    } else {
      ev.change = ScanChange::kAdded;
    }
    return visit(ev);
  });
  if (!walk.ok()) {
    if (walk.code() == Code::kCancelled) return walk;
    return walk.WithContext(fmt::format("scan {} ({})", disk.name, disk.root.string()));
  }
  while (cursor && cursor->Valid()) {
    passed(cursor->value());
    cursor->Next();
  }
  if (cursor) ATLAS_RETURN_IF_ERROR(cursor->status().WithContext("scan " + disk.name));
  for (const FileRecord& rec : deleted) {
    if (moved_away.count(rec.path) != 0) continue;
    ScanEvent ev;
    ev.change = ScanChange::kDeleted;
    ev.record = &rec;
    ATLAS_RETURN_IF_ERROR(visit(ev));
  }
  return Status::Ok();
}

}  // namespace atlas
