#include "engine/block_reader.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "atlas/disk_monitor.h"

namespace atlas {

BlockReader::BlockReader(const RunContext& ctx, Manifest* m, const ArrayDataDisk& disk, std::uint32_t bs,
                         Throttle* throttle)
    : ctx_(ctx),
      m_(m),
      disk_(disk),
      bs_(bs),
      throttle_(throttle),
      watch_(ctx.monitor ? ctx.monitor->Index(disk.name) : DiskMonitor::npos) {}

DiskReaders::DiskReaders(const RunContext& ctx, Manifest* m, const ArrayView& array, std::size_t sets) {
  for (std::size_t di = 0; di < array.data.size(); ++di) {
    throttles_.push_back(std::make_unique<Throttle>(ctx.config->bandwidth_limit, ctx.clock));
  }
  sets_.resize(sets);
  for (std::vector<BlockReader>& set : sets_) {
    set.reserve(array.data.size());
    for (std::size_t di = 0; di < array.data.size(); ++di) {
      set.emplace_back(ctx, m, array.data[di], ctx.config->block_size, throttles_[di].get());
    }
  }
}

void SettleHash(const BlockRecord& rec, const std::byte* buf, BlockCheck* c) {
  if (c->hashed || c->outcome != BlockCheck::Outcome::kOk) return;
  c->hashed = true;
  c->hash = HashBlock(std::span<const std::byte>(buf, c->bytes));
  if (rec.state == BlockState::kSynced && rec.hash && *rec.hash != c->hash) c->outcome = BlockCheck::Outcome::kMismatch;
}

bool BlockReader::SameFile(const FileStat& st) const {
  return st.type == FileType::kRegular && st.size == file_->size && st.mtime_ns == file_->mtime_ns &&
         st.inode == file_->inode;
}

BlockCheck BlockReader::Read(const BlockRecord& rec, std::byte* buf, bool defer_hash) {
  if (ctx_.monitor != nullptr) ctx_.monitor->MarkUsed(watch_);
  BlockCheck c;
  c.offset = rec.file_block * bs_;
  if (rec.file_id != file_id_) {
    file_.reset();
    handle_.reset();
    file_id_ = rec.file_id;
    Result<std::optional<FileRecord>> f = m_->GetFileById(rec.file_id);
    if (!f.ok() || !*f) return c;  // kNoFile
    file_ = std::move(**f);
    // Beneath the disk root with no symlink on the way, a regular file
    // only (a FIFO planted in its place never blocks the run), and the very
    // inode that was recorded with this size and mtime: anything else at
    // that name is another file, drift, and not one byte of it is read.
    Result<std::unique_ptr<RandomAccessFile>> h = ctx_.fs->OpenUnder(disk_.root, file_->path);
    if (h.ok()) {
      Result<FileStat> st = (*h)->Stat();
      if (!st.ok()) {
        open_error_ = st.status();
      } else if (!SameFile(*st)) {
        open_error_ = Status::FailedPrecondition("another file than the one recorded");
      } else {
        handle_ = std::move(h).value();
        open_error_ = Status::Ok();
      }
    } else {
      open_error_ = h.status();
      // Refused on the way to the file (a directory replaced by a symlink or
      // a file) rather than at the file itself: the file is gone from the
      // disk as far as anything beneath the root can tell, so it is missing
      // (fix restores it, or reports why it cannot), not changed.
      if (open_error_.code() == Code::kFailedPrecondition &&
          ctx_.fs->StatUnder(disk_.root, file_->path).status().code() == Code::kFailedPrecondition) {
        open_error_ = Status::NotFound(open_error_.ToString());
      }
    }
  }
  if (!file_) return c;
  const std::uint64_t want = c.offset < file_->size ? std::min<std::uint64_t>(bs_, file_->size - c.offset) : 0;
  c.bytes = want;  // what the block holds when intact, whatever happens below
  if (!handle_) {
    switch (open_error_.code()) {
      case Code::kNotFound:
        c.outcome = BlockCheck::Outcome::kMissing;
        break;
      case Code::kFailedPrecondition:  // another file, a FIFO, a symlinked directory
        c.outcome = BlockCheck::Outcome::kChanged;
        break;
      default:
        c.outcome = BlockCheck::Outcome::kReadError;
        c.error = open_error_;
        break;
    }
    return c;
  }
  std::uint64_t got = 0;
  // A block that lies in a hole of a sparse file is zeros: the descriptor
  // says so (SEEK_DATA, asked now, not taken from the record), and nothing
  // is read. Only for files recorded with holes: one syscall per block.
  if (!file_->holes.empty() && want > 0) {
    Result<std::uint64_t> data = handle_->NextDataOffset(c.offset);
    if (data.ok() && *data >= c.offset + want) {
      std::memset(buf, 0, want);
      got = want;
    }
  }
  while (got < want) {
    Result<std::size_t> n = handle_->ReadAt(c.offset + got, std::span(buf + got, want - got));
    if (!n.ok()) {
      c.outcome = BlockCheck::Outcome::kReadError;
      c.error = n.status();
      c.offset += got;
      return c;
    }
    if (*n == 0) break;
    got += *n;
  }
  throttle_->Acquire(got);
  // Re-check after reading: the descriptor's file must still have the
  // recorded size and mtime. A file written to while it was read is drift,
  // never corruption. The bytes came from the recorded inode (checked at
  // open), whatever the name leads to by now: a file renamed over it since
  // is another inode, which the next scan rehashes as modified.
  Result<FileStat> now = handle_->Stat();
  if (!now.ok() || !SameFile(*now) || got < want) {
    c.outcome = BlockCheck::Outcome::kChanged;
    return c;
  }
  // Parity treats a short last block as zero-padded to the block size.
  std::memset(buf + want, 0, bs_ - want);
  c.outcome = BlockCheck::Outcome::kOk;  // read clean; the hash judges it
  c.hashed = false;
  if (!defer_hash) SettleHash(rec, buf, &c);
  return c;
}

Finding BlockFinding(const BlockReader& reader, const BlockRecord& rec, const BlockCheck& c,
                     std::string_view activity) {
  const std::string& disk = reader.disk().name;
  const FileRecord* file = reader.file();
  const std::string path = file ? file->path : std::string();
  Finding f;
  switch (c.outcome) {
    case BlockCheck::Outcome::kMismatch:
      f = MakeFinding(FindingKind::kSilentCorruption, disk, path,
                      fmt::format("block {} (bytes {}..{}) no longer matches its checksum while the "
                                  "file's size and mtime are unchanged; repair with `atlas-scrub fix --errors-only`",
                                  rec.file_block, c.offset, c.offset + c.bytes));
      f.offset = c.offset;
      return f;
    case BlockCheck::Outcome::kReadError:
      f = MakeFinding(FindingKind::kReadError, disk, path,
                      fmt::format("read error at byte {}: {}", c.offset, c.error.ToString()));
      f.offset = c.offset;
      return f;
    case BlockCheck::Outcome::kMissing:
    case BlockCheck::Outcome::kChanged:
      return MakeFinding(FindingKind::kModified, disk, path,
                         activity == "sync"
                             ? std::string("changed while being synced; the next sync picks it up")
                             : fmt::format("changed since the last sync; not verified by {}", activity));
    case BlockCheck::Outcome::kNoFile:
    case BlockCheck::Outcome::kOk:
      break;
  }
  return MakeFinding(FindingKind::kModified, disk, path,
                     fmt::format("position {} belongs to no recorded file; the next sync rechecks it", rec.pos));
}

}  // namespace atlas
