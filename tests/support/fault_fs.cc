// FaultFileSystem (see fault_fs.h).
//
// Faults are decided before an operation reaches the real file system, so an
// Errno fault never has side effects. Power loss is modeled with an undo log:
// before a write or truncate changes bytes that were durable (below the size
// at the last Sync), their old contents are saved once; SimulatePowerLoss
// truncates to the synced size and writes the saved bytes (or zeros) back.
// This is leveldb's FaultInjectionTestEnv generalized from append-only files
// to the random writes that parity files get.
#include "support/fault_fs.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <thread>
#include <utility>

namespace atlas::testing {

namespace stdfs = std::filesystem;

std::string_view OpName(Op op) {
  switch (op) {
    case Op::kOpen:
      return "open";
    case Op::kRead:
      return "read";
    case Op::kWrite:
      return "write";
    case Op::kSync:
      return "sync";
    case Op::kRename:
      return "rename";
    case Op::kStat:
      return "stat";
    case Op::kWalk:
      return "walk";
    case Op::kTruncate:
      return "truncate";
    case Op::kRemove:
      return "remove";
    case Op::kAny:
      return "any";
  }
  return "unknown";
}

Fault Fault::Errno(int err) {
  Fault f;
  f.kind = Kind::kErrno;
  f.err = err;
  return f;
}

Fault Fault::ShortRead(std::size_t max_bytes) {
  Fault f;
  f.kind = Kind::kShortRead;
  f.max_bytes = max_bytes;
  return f;
}

Fault Fault::FlipBit(std::uint64_t byte_offset_in_file, int bit) {
  Fault f;
  f.kind = Kind::kFlipBit;
  f.byte_offset = byte_offset_in_file;
  f.bit = bit & 7;
  return f;
}

Fault Fault::Delay(int ms) {
  Fault f;
  f.kind = Kind::kDelay;
  f.delay_ms = ms;
  return f;
}

namespace {

std::string At(std::string_view op, const stdfs::path& p, std::uint64_t offset) {
  return std::string(op) + " " + p.native() + " @ " + std::to_string(offset);
}

std::string On(std::string_view op, const stdfs::path& p) {
  return std::string(op) + " " + p.native();
}

std::string Join(const stdfs::path& root, std::string_view rel) {
  std::string s = root.native();
  if (!s.empty() && s.back() != '/')
    s += '/';
  s.append(rel);
  return s;
}

std::string ParentOf(const std::string& key) {
  const std::size_t slash = key.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return key.substr(0, slash);
}

}  // namespace

// ---------------------------------------------------------------------------
// File wrappers

class FaultRandomAccessFile final : public RandomAccessFile {
 public:
  FaultRandomAccessFile(FaultFileSystem* fs, std::unique_ptr<RandomAccessFile> base)
      : fs_(fs), base_(std::move(base)) {}

  Result<std::size_t> ReadAt(std::uint64_t offset, std::span<std::byte> buf) const override {
    const FaultFileSystem::Decision d =
        fs_->Evaluate(Op::kRead, path().native(), std::make_pair(offset, offset + buf.size()));
    FaultFileSystem::Sleep(d);
    if (d.err != 0)
      return Status::FromErrno(d.err, At("pread", path(), offset));
    std::span<std::byte> part = buf;
    if (d.max_bytes && *d.max_bytes < buf.size())
      part = buf.first(*d.max_bytes);
    ATLAS_ASSIGN_OR_RETURN(std::size_t n, base_->ReadAt(offset, part));
    for (const auto& [pos, bit] : d.flips) {
      if (pos >= offset && pos - offset < n) {
        buf[pos - offset] ^= static_cast<std::byte>(1u << bit);
      }
    }
    return n;
  }

  const stdfs::path& path() const override { return base_->path(); }

  Result<FileStat> Stat() const override {
    const FaultFileSystem::Decision d = fs_->Evaluate(Op::kStat, path().native(), {});
    FaultFileSystem::Sleep(d);
    if (d.err != 0)
      return Status::FromErrno(d.err, On("fstat", path()));
    return base_->Stat();
  }

 private:
  FaultFileSystem* fs_;
  std::unique_ptr<RandomAccessFile> base_;
};

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultFileSystem* fs, std::unique_ptr<WritableFile> base,
                    std::shared_ptr<FaultFileSystem::FileState> state)
      : fs_(fs), base_(std::move(base)), state_(std::move(state)) {}

  Status WriteAt(std::uint64_t offset, std::span<const std::byte> data) override {
    const FaultFileSystem::Decision d =
        fs_->Evaluate(Op::kWrite, path().native(), std::make_pair(offset, offset + data.size()));
    FaultFileSystem::Sleep(d);
    if (d.err != 0)
      return Status::FromErrno(d.err, At("pwrite", path(), offset));
    std::lock_guard<std::mutex> lock(fs_->mu_);
    ATLAS_RETURN_IF_ERROR(fs_->SaveUndo(state_.get(), offset, offset + data.size()));
    return base_->WriteAt(offset, data);
  }

  Status Truncate(std::uint64_t size) override {
    const FaultFileSystem::Decision d = fs_->Evaluate(Op::kTruncate, path().native(), {});
    FaultFileSystem::Sleep(d);
    if (d.err != 0)
      return Status::FromErrno(d.err, At("ftruncate", path(), size));
    std::lock_guard<std::mutex> lock(fs_->mu_);
    ATLAS_RETURN_IF_ERROR(
        fs_->SaveUndo(state_.get(), size, std::numeric_limits<std::uint64_t>::max()));
    return base_->Truncate(size);
  }

  Status Sync() override {
    const FaultFileSystem::Decision d = fs_->Evaluate(Op::kSync, path().native(), {});
    FaultFileSystem::Sleep(d);
    // Invariant: a failed Sync makes nothing durable, so the undo log stays.
    if (d.err != 0)
      return Status::FromErrno(d.err, On("fdatasync", path()));
    std::lock_guard<std::mutex> lock(fs_->mu_);
    ATLAS_RETURN_IF_ERROR(base_->Sync());
    fs_->MarkSynced(state_.get());
    return Status::Ok();
  }

  Status Close() override { return base_->Close(); }

  Status SetAttributes(const FileStat& attrs) override {
    const FaultFileSystem::Decision d = fs_->Evaluate(Op::kWrite, path().native(), {});
    FaultFileSystem::Sleep(d);
    if (d.err != 0)
      return Status::FromErrno(d.err, On("fchown", path()));
    return base_->SetAttributes(attrs);
  }

  Status SetMode(std::uint32_t mode) override {
    const FaultFileSystem::Decision d = fs_->Evaluate(Op::kWrite, path().native(), {});
    FaultFileSystem::Sleep(d);
    if (d.err != 0)
      return Status::FromErrno(d.err, On("fchmod", path()));
    return base_->SetMode(mode);
  }

  Status SetXattrs(const std::vector<Xattr>& xattrs) override {
    const FaultFileSystem::Decision d = fs_->Evaluate(Op::kWrite, path().native(), {});
    FaultFileSystem::Sleep(d);
    if (d.err != 0)
      return Status::FromErrno(d.err, On("fsetxattr", path()));
    return base_->SetXattrs(xattrs);
  }

  const stdfs::path& path() const override { return base_->path(); }

 private:
  FaultFileSystem* fs_;
  std::unique_ptr<WritableFile> base_;
  std::shared_ptr<FaultFileSystem::FileState> state_;
};

// ---------------------------------------------------------------------------
// Rules and counters

FaultFileSystem::FaultFileSystem(FileSystem* target) : FileSystemWrapper(target) {}
FaultFileSystem::~FaultFileSystem() = default;

int FaultFileSystem::Inject(FaultRule rule) {
  std::lock_guard<std::mutex> lock(mu_);
  RuleState r;
  r.id = next_rule_id_++;
  r.rule = std::move(rule);
  rules_.push_back(std::move(r));
  return rules_.back().id;
}

void FaultFileSystem::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.clear();
}

std::uint64_t FaultFileSystem::hits(Op op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_[static_cast<std::size_t>(op)];
}

std::uint64_t FaultFileSystem::fired(Op op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return fired_[static_cast<std::size_t>(op)];
}

std::uint64_t FaultFileSystem::rule_fired(int rule_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const RuleState& r : rules_) {
    if (r.id == rule_id)
      return r.fired;
  }
  return 0;
}

void FaultFileSystem::ResetCounters() {
  std::lock_guard<std::mutex> lock(mu_);
  std::fill(std::begin(hits_), std::end(hits_), 0);
  std::fill(std::begin(fired_), std::end(fired_), 0);
  for (RuleState& r : rules_) {
    r.matched = 0;
    r.fired = 0;
  }
}

FaultFileSystem::Decision FaultFileSystem::Evaluate(Op op, std::string_view path, Range range,
                                                    std::string_view path2) {
  if (observer_) observer_(op, path);
  std::lock_guard<std::mutex> lock(mu_);
  const auto slot = static_cast<std::size_t>(op);
  const auto any = static_cast<std::size_t>(Op::kAny);
  ++hits_[slot];
  ++hits_[any];
  Decision d;
  for (RuleState& r : rules_) {
    const FaultRule& rule = r.rule;
    if (rule.op != Op::kAny && rule.op != op)
      continue;
    if (!rule.path_substr.empty() && path.find(rule.path_substr) == std::string_view::npos &&
        (path2.empty() || path2.find(rule.path_substr) == std::string_view::npos)) {
      continue;
    }
    if (rule.offset_begin || rule.offset_end) {
      if (!range)
        continue;
      const std::uint64_t b = rule.offset_begin.value_or(0);
      const std::uint64_t e = rule.offset_end.value_or(std::numeric_limits<std::uint64_t>::max());
      if (!(range->first < e && b < range->second))
        continue;
    }
    const Fault& f = rule.fault;
    if (f.kind == Fault::Kind::kShortRead && op != Op::kRead)
      continue;
    if (f.kind == Fault::Kind::kFlipBit &&
        (op != Op::kRead || !range || f.byte_offset < range->first ||
         f.byte_offset >= range->second)) {
      continue;
    }
    ++r.matched;
    if (rule.one_in > 1 && r.matched % static_cast<std::uint64_t>(rule.one_in) != 0)
      continue;
    if (rule.count >= 0 && r.fired >= static_cast<std::uint64_t>(rule.count))
      continue;
    ++r.fired;
    ++fired_[slot];
    ++fired_[any];
    switch (f.kind) {
      case Fault::Kind::kErrno:
        d.err = f.err;
        return d;
      case Fault::Kind::kShortRead:
        d.max_bytes = std::min(d.max_bytes.value_or(f.max_bytes), f.max_bytes);
        break;
      case Fault::Kind::kFlipBit:
        d.flips.emplace_back(f.byte_offset, f.bit);
        break;
      case Fault::Kind::kDelay:
        d.delay_ms += f.delay_ms;
        break;
    }
  }
  return d;
}

void FaultFileSystem::Sleep(const Decision& d) {
  if (d.delay_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(d.delay_ms));
}

std::string FaultFileSystem::Key(const stdfs::path& p) {
  std::string s = p.lexically_normal().native();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// ---------------------------------------------------------------------------
// Power-loss bookkeeping

Status FaultFileSystem::SaveUndo(FileState* st, std::uint64_t begin, std::uint64_t end) {
  end = std::min(end, st->synced_size);
  if (begin >= end)
    return Status::Ok();
  // Gaps of [begin, end) not yet covered by the undo log.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> gaps;
  auto it = st->undo.upper_bound(begin);
  if (it != st->undo.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second.size() > begin)
      it = prev;
  }
  std::uint64_t cur = begin;
  while (cur < end) {
    if (it == st->undo.end() || it->first >= end) {
      gaps.emplace_back(cur, end);
      break;
    }
    if (it->first > cur)
      gaps.emplace_back(cur, it->first);
    cur = std::max(cur, it->first + it->second.size());
    ++it;
  }
  if (gaps.empty())
    return Status::Ok();
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, target()->OpenForRead(st->path));
  for (const auto& [b, e] : gaps) {
    std::vector<std::byte> old(static_cast<std::size_t>(e - b));
    // A file shortened behind our back reads short: the rest stays zero.
    ATLAS_ASSIGN_OR_RETURN(std::size_t n, file->ReadAt(b, old));
    static_cast<void>(n);
    st->undo.emplace(b, std::move(old));
  }
  return Status::Ok();
}

void FaultFileSystem::MarkSynced(FileState* st) {
  Result<FileStat> now = target()->Stat(st->path);
  if (now.ok())
    st->synced_size = now->size;
  st->undo.clear();
}

Status FaultFileSystem::SimulatePowerLoss(const PowerLossOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  Status first;
  const auto note = [&first](const Status& s) {
    if (!s.ok() && s.code() != Code::kNotFound && first.ok())
      first = s;
  };
  for (const auto& [key, st] : files_) {
    if (options.remove_unsynced_new_files && st->unsynced_name) {
      note(target()->Remove(st->path));
      continue;
    }
    Result<FileStat> now = target()->Stat(st->path);
    if (!now.ok()) {
      note(now.status());
      continue;
    }
    if (now->size == st->synced_size && st->undo.empty())
      continue;
    Result<std::unique_ptr<WritableFile>> file =
        target()->OpenForWrite(st->path, OpenMode::kExisting, 0644);
    if (!file.ok()) {
      note(file.status());
      continue;
    }
    WritableFile& w = **file;
    note(w.Truncate(st->synced_size));
    for (const auto& [offset, bytes] : st->undo) {
      if (options.unsynced_data == UnsyncedData::kRevert) {
        note(w.WriteAt(offset, bytes));
      } else {
        note(w.WriteAt(offset, std::vector<std::byte>(bytes.size())));
      }
    }
    note(w.Sync());
    note(w.Close());
  }
  // After the "reboot" everything on disk is durable; start afresh.
  files_.clear();
  return first;
}

// ---------------------------------------------------------------------------
// File system operations

// Counts the operation, applies its delay, and returns the injected error
// as the syscall would report it ("<syscall> <path>: <strerror>").
Status FaultFileSystem::Gate(Op op, std::string_view path, std::string_view syscall) {
  const Decision d = Evaluate(op, path, {});
  Sleep(d);
  if (d.err != 0)
    return Status::FromErrno(d.err, std::string(syscall) + " " + std::string(path));
  return Status::Ok();
}

Status FaultFileSystem::GateRename(std::string_view from, std::string_view to) {
  const Decision d = Evaluate(Op::kRename, from, {}, to);
  Sleep(d);
  if (d.err != 0)
    return Status::FromErrno(d.err, "rename " + std::string(from) + " -> " + std::string(to));
  return Status::Ok();
}

Result<std::unique_ptr<RandomAccessFile>> FaultFileSystem::OpenForRead(const stdfs::path& p) {
  ATLAS_RETURN_IF_ERROR(Gate(Op::kOpen, p.native(), "open"));
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> base, target()->OpenForRead(p));
  return std::unique_ptr<RandomAccessFile>(
      std::make_unique<FaultRandomAccessFile>(this, std::move(base)));
}

Result<std::unique_ptr<WritableFile>> FaultFileSystem::OpenForWrite(const stdfs::path& p,
                                                                    OpenMode om,
                                                                    std::uint32_t mode) {
  ATLAS_RETURN_IF_ERROR(Gate(Op::kOpen, p.native(), "open"));
  const Result<FileStat> before = target()->Stat(p);
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> base, target()->OpenForWrite(p, om, mode));
  return Track(Key(p), before.ok(), before.ok() ? before->size : 0, std::move(base));
}

std::unique_ptr<WritableFile> FaultFileSystem::Track(const std::string& full, bool existed,
                                                     std::uint64_t size,
                                                     std::unique_ptr<WritableFile> base) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<FileState>& state = files_[full];
  if (!state) {
    state = std::make_shared<FileState>();
    state->path = full;
    // A file that existed before is taken as durable as it was found.
    state->unsynced_name = !existed;
    state->synced_size = size;
  }
  return std::unique_ptr<WritableFile>(
      std::make_unique<FaultWritableFile>(this, std::move(base), state));
}

Result<FileStat> FaultFileSystem::Stat(const stdfs::path& p) {
  ATLAS_RETURN_IF_ERROR(Gate(Op::kStat, p.native(), "lstat"));
  return target()->Stat(p);
}

// Walk faults act per directory: a firing kWalk rule makes that directory
// unreadable, which goes to options.on_error exactly as a real EACCES would
// (skip and go on, or stop with its Status). Implemented by wrapping the
// exclude callback, so the real walk, its order and its stats are untouched.
Status FaultFileSystem::Walk(const stdfs::path& root, const WalkOptions& o, const WalkFn& fn) {
  ATLAS_RETURN_IF_ERROR(Gate(Op::kWalk, root.native(), "opendir"));
  Status pending;  // set once the walk must stop
  WalkOptions wrapped = o;
  wrapped.exclude = [&](std::string_view rel, bool is_dir) -> bool {
    if (!pending.ok())
      return true;
    if (o.exclude && o.exclude(rel, is_dir))
      return true;
    if (!is_dir)
      return false;
    const std::string full = Join(root, rel);
    const Decision dd = Evaluate(Op::kWalk, full, {});
    Sleep(dd);
    if (dd.err == 0)
      return false;
    const Status err = Status::FromErrno(dd.err, On("opendir", full));
    if (!o.on_error) {
      pending = err;
    } else if (Status s = o.on_error(rel, err); !s.ok()) {
      pending = s;
    }
    return true;  // skipped either way
  };
  const WalkFn wrapped_fn = [&](const WalkEntry& e) -> Status {
    if (!pending.ok())
      return pending;
    return fn(e);
  };
  Status s = target()->Walk(root, wrapped, wrapped_fn);
  if (!pending.ok())
    return pending;
  return s;
}

Result<std::string> FaultFileSystem::ReadFile(const stdfs::path& p, std::uint64_t max_bytes) {
  // Through our own wrappers, so open and read faults apply.
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, OpenForRead(p));
  ATLAS_ASSIGN_OR_RETURN(FileStat st, file->Stat());
  if (st.size > max_bytes)
    return Status::InvalidArgument(p.native() + ": larger than the cap; not read");
  std::string out;
  std::vector<std::byte> buf(64 * 1024);
  for (;;) {
    ATLAS_ASSIGN_OR_RETURN(std::size_t n, file->ReadAt(out.size(), buf));
    if (n == 0)
      break;  // only 0 means EOF: a ShortRead fault is not one
    out.append(reinterpret_cast<const char*>(buf.data()), n);
  }
  return out;
}

Status FaultFileSystem::Rename(const stdfs::path& a, const stdfs::path& b) {
  ATLAS_RETURN_IF_ERROR(GateRename(a.native(), b.native()));
  const bool replaces = target()->Stat(b).ok();
  ATLAS_RETURN_IF_ERROR(target()->Rename(a, b));
  NoteRename(Key(a), Key(b), replaces);
  return Status::Ok();
}

void FaultFileSystem::NoteRename(const std::string& from, const std::string& to, bool replaces) {
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(to);
  auto it = files_.find(from);
  if (it != files_.end()) {
    std::shared_ptr<FileState> st = std::move(it->second);
    files_.erase(it);
    st->path = to;
    // A rename over an existing file is taken as durable (one of the two
    // outcomes a crash may give); a new name needs a SyncDir of its directory.
    if (replaces)
      st->unsynced_name = false;
    files_[to] = std::move(st);
  }
}

Status FaultFileSystem::RenameNoReplace(const stdfs::path& a, const stdfs::path& b) {
  ATLAS_RETURN_IF_ERROR(GateRename(a.native(), b.native()));
  ATLAS_RETURN_IF_ERROR(target()->RenameNoReplace(a, b));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(Key(a));
  if (it != files_.end()) {
    std::shared_ptr<FileState> st = std::move(it->second);
    files_.erase(it);
    st->path = Key(b);
    files_[st->path] = std::move(st);
  }
  return Status::Ok();
}

Status FaultFileSystem::Remove(const stdfs::path& p) {
  ATLAS_RETURN_IF_ERROR(Gate(Op::kRemove, p.native(), "unlink"));
  ATLAS_RETURN_IF_ERROR(target()->Remove(p));
  NoteRemove(Key(p));
  return Status::Ok();
}

void FaultFileSystem::NoteRemove(const std::string& full) {
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(full);
}

Status FaultFileSystem::SyncDir(const stdfs::path& p) {
  ATLAS_RETURN_IF_ERROR(Gate(Op::kSync, p.native(), "fsync"));
  ATLAS_RETURN_IF_ERROR(target()->SyncDir(p));
  NoteSyncDir(Key(p));
  return Status::Ok();
}

void FaultFileSystem::NoteSyncDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [key, st] : files_) {
    if (ParentOf(key) == dir)
      st->unsynced_name = false;
  }
}

// ---------------------------------------------------------------------------
// Beneath a data disk's root: the rules see root/rel

Result<std::unique_ptr<RandomAccessFile>> FaultFileSystem::OpenUnder(const stdfs::path& root,
                                                                     std::string_view rel) {
  const std::string full = Join(root, rel);
  ATLAS_RETURN_IF_ERROR(Gate(Op::kOpen, full, "open"));
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> base, target()->OpenUnder(root, rel));
  return std::unique_ptr<RandomAccessFile>(
      std::make_unique<FaultRandomAccessFile>(this, std::move(base)));
}

Result<FileStat> FaultFileSystem::StatUnder(const stdfs::path& root, std::string_view rel) {
  const std::string full = Join(root, rel);
  ATLAS_RETURN_IF_ERROR(Gate(Op::kStat, full, "lstat"));
  return target()->StatUnder(root, rel);
}

Result<std::unique_ptr<WritableFile>> FaultFileSystem::CreateUnder(const stdfs::path& root,
                                                                   std::string_view rel,
                                                                   std::uint32_t mode) {
  const std::string full = Join(root, rel);
  ATLAS_RETURN_IF_ERROR(Gate(Op::kOpen, full, "open"));
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> base, target()->CreateUnder(root, rel, mode));
  return Track(Key(full), false, 0, std::move(base));
}

Status FaultFileSystem::RenameUnder(const stdfs::path& root, std::string_view from,
                                    std::string_view to, bool replace) {
  const std::string a = Join(root, from), b = Join(root, to);
  ATLAS_RETURN_IF_ERROR(GateRename(a, b));
  const bool replaces = target()->StatUnder(root, to).ok();
  ATLAS_RETURN_IF_ERROR(target()->RenameUnder(root, from, to, replace));
  NoteRename(Key(a), Key(b), replaces);
  return Status::Ok();
}

Status FaultFileSystem::RemoveUnder(const stdfs::path& root, std::string_view rel) {
  const std::string full = Join(root, rel);
  ATLAS_RETURN_IF_ERROR(Gate(Op::kRemove, full, "unlink"));
  ATLAS_RETURN_IF_ERROR(target()->RemoveUnder(root, rel));
  NoteRemove(Key(full));
  return Status::Ok();
}

Status FaultFileSystem::SyncDirUnder(const stdfs::path& root, std::string_view rel_dir) {
  const std::string full = Join(root, rel_dir);
  ATLAS_RETURN_IF_ERROR(Gate(Op::kSync, full, "fsync"));
  ATLAS_RETURN_IF_ERROR(target()->SyncDirUnder(root, rel_dir));
  NoteSyncDir(Key(full));
  return Status::Ok();
}

}  // namespace atlas::testing
