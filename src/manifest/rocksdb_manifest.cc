// The manifest on RocksDB.
//
// One database, default column family, one-byte key prefixes per table
// (manifest/records.h, docs/FORMAT.md). Everything is streamed: cursors are
// RocksDB iterators bounded to one table prefix, so no command holds the
// whole manifest in memory (SnapRAID loads its entire content file, ~1 GiB
// of RAM per 16 TB of data; we read what the current step needs).
//
// Durability: a ManifestBatch is one rocksdb::WriteBatch, applied
// atomically; Commit(durable=true) sets WriteOptions::sync so the WAL is
// fsync'ed before we return. The sync engine relies on that ordering (see the
// invariant in engine/sync.cc).
//
// Writes nothing unless asked: RocksDB's own info log goes to a null logger,
// so opening the manifest read-only leaves its directory byte-identical (a
// guard that trips must not change anything).
#include "manifest/rocksdb_manifest.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstdarg>
#include <ctime>
#include <map>
#include <mutex>
#include <system_error>

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/utilities/backup_engine.h>
#include <rocksdb/write_batch.h>

#include "core/coding.h"
#include "manifest/copy_dir.h"
#include "manifest/records.h"

namespace atlas {
namespace fs = std::filesystem;

Status FromRocksDb(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg = fmt::format("{}: {}", what, s.ToString());
  if (s.IsNoSpace()) return Status::NoSpace(msg);
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return Status::Busy(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(msg);
  return Status::IOError(msg);
}

namespace {

constexpr int kCopiesKept = 3;

// Discards RocksDB's informational log instead of writing LOG files into the
// manifest directory.
class NullLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
};


// 16 random hex digits (64 bits from getrandom(2)).
Result<std::string> RandomHexTag() {
  unsigned char raw[8];
  std::size_t got = 0;
  while (got < sizeof raw) {
    const ssize_t n = ::getrandom(raw + got, sizeof raw - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "getrandom");
    }
    got += static_cast<std::size_t>(n);
  }
  std::string tag;
  for (unsigned char c : raw) tag += fmt::format("{:02x}", c);
  return tag;
}

// What a schema adds, written into `b` for a manifest of schema `from`
// (0: a new manifest). The new `schema` value goes into the same batch,
// last, so an upgrade is all or nothing.
Status UpgradeSchema(Manifest* m, std::uint64_t from, ManifestBatch* b) {
  if (from < 2) {
    // Schema 2: fix's temporary-file tag (docs/FORMAT.md "Temporary files
    // of fix"), drawn once for the array.
    ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> tag, m->GetMeta("fix_temp_tag"));
    if (!tag) {
      ATLAS_ASSIGN_OR_RETURN(std::string fresh, RandomHexTag());
      b->PutMeta("fix_temp_tag", fresh);
    }
  }
  // Schema 3 adds the outside hosts table ('o'), empty until the first
  // `outside` run with [[outside.hosts]]: nothing to write for it.
  // Schema 4 adds the entries table ('e') and new trailing fields of file
  // and disk records; an older record reads as having none of them, and
  // the next sync fills them in (the entries as added, without reading a
  // file's data again): nothing to write for it either.
  b->PutMeta("schema", std::to_string(kManifestSchema));
  return Status::Ok();
}

std::string RestoreHint(const std::vector<fs::path>& copy_dirs) {
  Result<std::vector<ManifestCopyInfo>> copies = ListManifestCopies(copy_dirs);
  if (!copies.ok() || copies->empty()) {
    return "no copy was found in manifest_copies; run `atlas-scrub sync` to build a new manifest "
           "(parity is recomputed)";
  }
  const ManifestCopyInfo& best = copies->front();
  char when[32] = "?";
  std::time_t t = best.timestamp_s;
  std::tm tm{};
  if (gmtime_r(&t, &tm) != nullptr) std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return fmt::format(
      "restore the newest copy ({}, taken {}) with `atlas-scrub restore-manifest`", best.dir.string(),
      when);
}

template <typename T>
class PrefixCursor : public Cursor<T> {
 public:
  using DecodeFn = Status (*)(std::string_view key, std::string_view value, T* out);

  PrefixCursor(rocksdb::DB* db, std::string prefix, std::string start, DecodeFn decode)
      : upper_(prefix), decode_(decode) {
    // The upper bound is the prefix with its last byte incremented (prefixes
    // here never end in 0xff: they end in a big-endian slot or a tag).
    upper_.back() = static_cast<char>(static_cast<unsigned char>(upper_.back()) + 1);
    upper_slice_ = rocksdb::Slice(upper_);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_slice_;
    it_.reset(db->NewIterator(ro));
    it_->Seek(start.empty() ? prefix : start);
    Load();
  }
  bool Valid() const override { return valid_; }
  void Next() override {
    it_->Next();
    Load();
  }
  const T& value() const override { return value_; }
  Status status() const override { return status_; }

 private:
  void Load() {
    valid_ = false;
    if (!it_->Valid()) {
      status_ = FromRocksDb(it_->status(), "manifest read");
      return;
    }
    status_ = decode_(std::string_view(it_->key().data(), it_->key().size()),
                      std::string_view(it_->value().data(), it_->value().size()), &value_);
    valid_ = status_.ok();
  }

  std::string upper_;
  rocksdb::Slice upper_slice_;
  DecodeFn decode_;
  std::unique_ptr<rocksdb::Iterator> it_;
  T value_;
  bool valid_ = false;
  Status status_;
};

Status DecodeDirty(std::string_view key, std::string_view, DirtyEntry* d) {
  if (key.size() != 11) return Status::Corruption("manifest dirty record is malformed");
  d->pos = coding::DecodeFixed64BE(key.data() + 1);
  d->slot = coding::DecodeFixed16BE(key.data() + 9);
  return Status::Ok();
}

class RocksBatch final : public ManifestBatch {
 public:
  void PutMeta(std::string_view key, std::string_view value) override {
    Put(records::MetaKey(key), value);
  }
  void PutDisk(const DiskRecord& d) override { Put(records::DiskKey(d.name), records::EncodeDisk(d)); }
  void DeleteDisk(std::string_view name) override { Delete(records::DiskKey(name)); }
  void PutFile(const FileRecord& f) override {
    Put(records::FileKey(f.slot, f.path), records::EncodeFile(f));
    Put(records::FileIdKey(f.file_id), records::EncodeFileId(f.slot, f.path));
    Put(records::InodeKey(f.slot, f.inode, f.path), "");
  }
  void DeleteFile(const FileRecord& f) override {
    Delete(records::FileKey(f.slot, f.path));
    Delete(records::FileIdKey(f.file_id));
    Delete(records::InodeKey(f.slot, f.inode, f.path));
  }
  void PutEntry(const EntryRecord& e) override {
    Put(records::EntryKey(e.slot, e.path), records::EncodeEntry(e));
  }
  void DeleteEntry(std::uint16_t slot, std::string_view path) override {
    Delete(records::EntryKey(slot, path));
  }
  void PutBlock(const BlockRecord& b) override {
    std::string key = records::BlockKey(b.slot, b.pos);
    Put(key, records::EncodeBlock(b));
    BlockChange c;
    c.key = std::move(key);
    if (b.state == BlockState::kSynced) c.bucket = records::CoverageBucketOf(b.verified_ns);
    blocks_.push_back(std::move(c));
  }
  void ReplaceBlock(const std::optional<BlockRecord>& old, const BlockRecord& updated) override {
    PutBlock(updated);
    blocks_.back().old_known = true;
    if (old && old->state == BlockState::kSynced) blocks_.back().old_bucket = records::CoverageBucketOf(old->verified_ns);
  }
  void DeleteBlock(std::uint16_t slot, std::uint64_t pos) override {
    std::string key = records::BlockKey(slot, pos);
    Delete(key);
    BlockChange c;
    c.key = std::move(key);
    blocks_.push_back(std::move(c));
  }
  void MarkDirty(std::uint64_t pos, std::uint16_t slot) override {
    Put(records::DirtyKey(pos, slot), "");
  }
  void ClearDirty(std::uint64_t pos, std::uint16_t slot) override {
    Delete(records::DirtyKey(pos, slot));
  }
  void PutParityHash(const ParityHashRecord& p) override {
    Put(records::ParityHashKey(p.pos), records::EncodeParityHash(p));
  }
  void DeleteParityHash(std::uint64_t pos) override { Delete(records::ParityHashKey(pos)); }
  void PutFreeExtent(std::uint16_t slot, const Extent& e) override {
    std::string v(1, records::kValueVersion);
    coding::PutVarint(&v, e.count);
    Put(records::FreeKey(slot, e.start), v);
  }
  void DeleteFreeExtent(std::uint16_t slot, std::uint64_t start) override {
    Delete(records::FreeKey(slot, start));
  }
  void PutDeletedContent(const Hash128& content, std::string_view where) override {
    Put(records::DeletedContentKey(content), where);
  }
  void DeleteDeletedContent(const Hash128& content) override {
    Delete(records::DeletedContentKey(content));
  }
  void PutRun(const RunRecord& run) override {
    Put(records::RunKey(run.start_ns, run.command), records::EncodeRun(run));
  }
  void PutFinding(const StoredFinding& f) override {
    Put(records::FindingKey(f.finding), records::EncodeFinding(f));
  }
  void DeleteFinding(const Finding& f) override { Delete(records::FindingKey(f)); }
  void PutAlertState(const AlertStateRecord& a) override {
    Put(records::AlertStateKey(a.fingerprint), records::EncodeAlertState(a));
  }
  void DeleteAlertState(std::string_view fingerprint) override {
    Delete(records::AlertStateKey(fingerprint));
  }
  void PutSmartRecord(const SmartRecord& r) override {
    Put(records::SmartKey(r.disk, r.time_ns), records::EncodeSmart(r));
  }
  void DeleteSmartRecord(std::string_view disk, std::int64_t time_ns) override {
    Delete(records::SmartKey(disk, time_ns));
  }
  void PutOutsideHost(const OutsideHostRecord& o) override {
    Put(records::OutsideHostKey(o.host), records::EncodeOutsideHost(o));
  }
  void DeleteOutsideHost(std::string_view host) override { Delete(records::OutsideHostKey(host)); }
  std::size_t Count() const override { return static_cast<std::size_t>(wb_.Count()); }
  std::size_t ByteSize() const override { return wb_.GetDataSize(); }

  rocksdb::WriteBatch* wb() { return &wb_; }

  // A block key this batch writes, and the coverage bucket of the synced
  // block it leaves there (nullopt: no synced block), in call order.
  struct BlockChange {
    std::string key;
    std::optional<std::int64_t> bucket;
    // ReplaceBlock: the bucket of the record there before (nullopt: none
    // synced), so the commit need not read it.
    bool old_known = false;
    std::optional<std::int64_t> old_bucket;
  };
  std::vector<BlockChange>& block_changes() { return blocks_; }
  void PutCoverage(std::int64_t bucket, std::uint64_t blocks) {
    std::string v(1, records::kValueVersion);
    coding::PutVarint(&v, blocks);
    Put(records::CoverageKey(bucket), v);
  }
  void DeleteCoverage(std::int64_t bucket) { Delete(records::CoverageKey(bucket)); }

 private:
  void Put(const std::string& k, std::string_view v) {
    // WriteBatch::Put only fails past its size limit (none is set).
    wb_.Put(k, rocksdb::Slice(v.data(), v.size())).PermitUncheckedError();
  }
  void Delete(const std::string& k) { wb_.Delete(k).PermitUncheckedError(); }
  rocksdb::WriteBatch wb_;
  std::vector<BlockChange> blocks_;
};

Status DecodeCoverageValue(std::string_view v, std::uint64_t* blocks) {
  coding::Reader r(v.substr(std::min<std::size_t>(1, v.size())));
  if (v.empty() || v[0] != records::kValueVersion || !r.GetVarint(blocks)) {
    return Status::Corruption("manifest coverage record is malformed");
  }
  return Status::Ok();
}

class RocksManifest final : public Manifest {
 public:
  RocksManifest(std::unique_ptr<rocksdb::DB> db, bool read_only, fs::path path)
      : db_(std::move(db)), read_only_(read_only), path_(std::move(path)) {}
  ~RocksManifest() override {
    if (!read_only_) {
      // Flush so that the next read-only open (status, diff, a no-op sync)
      // need not replay this run's log. Best effort: the WAL has it all.
      db_->Flush(rocksdb::FlushOptions()).PermitUncheckedError();
      db_->Close().PermitUncheckedError();
      // RocksDB 7.8 creates its files 0644 (Env::SetAllowNonOwnerAccess is
      // not implemented by its POSIX Env); the 0700 directory keeps them
      // from others while it runs, and at rest they are 0600 too.
      TightenTree(path_).IgnoreError();
    }
  }

  Result<std::optional<std::string>> GetMeta(std::string_view key) override {
    return Get(records::MetaKey(key));
  }

  Result<std::vector<DiskRecord>> ListDisks() override {
    std::vector<DiskRecord> out;
    auto decode = [](std::string_view k, std::string_view v, DiskRecord* d) {
      return records::DecodeDisk(k.substr(1), v, d);
    };
    PrefixCursor<DiskRecord> c(db_.get(), std::string(1, records::kDisk), "", decode);
    for (; c.Valid(); c.Next()) out.push_back(c.value());
    ATLAS_RETURN_IF_ERROR(c.status());
    return out;
  }

  Result<std::optional<FileRecord>> GetFile(std::uint16_t slot, std::string_view path) override {
    std::string key = records::FileKey(slot, path);
    ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> v, Get(key));
    if (!v) return std::optional<FileRecord>();
    FileRecord f;
    ATLAS_RETURN_IF_ERROR(records::DecodeFile(key, *v, &f));
    return std::optional<FileRecord>(std::move(f));
  }

  Result<std::optional<FileRecord>> GetFileById(std::uint64_t file_id) override {
    ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> v, Get(records::FileIdKey(file_id)));
    if (!v) return std::optional<FileRecord>();
    std::uint16_t slot = 0;
    std::string path;
    ATLAS_RETURN_IF_ERROR(records::DecodeFileId(*v, &slot, &path));
    return GetFile(slot, path);
  }

  Result<std::vector<std::string>> FindByInode(std::uint16_t slot, std::uint64_t inode) override {
    std::vector<std::string> out;
    std::string prefix = records::InodePrefix(slot, inode);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      out.emplace_back(it->key().data() + prefix.size(), it->key().size() - prefix.size());
    }
    ATLAS_RETURN_IF_ERROR(FromRocksDb(it->status(), "manifest read"));
    return out;
  }

  std::unique_ptr<Cursor<FileRecord>> Files(std::uint16_t slot, std::string_view start) override {
    std::string s = start.empty() ? std::string() : records::FileKey(slot, start);
    return std::make_unique<PrefixCursor<FileRecord>>(db_.get(), records::FilePrefix(slot), s,
                                                      &records::DecodeFile);
  }

  Result<std::optional<EntryRecord>> GetEntry(std::uint16_t slot, std::string_view path) override {
    std::string key = records::EntryKey(slot, path);
    ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> v, Get(key));
    if (!v) return std::optional<EntryRecord>();
    EntryRecord e;
    ATLAS_RETURN_IF_ERROR(records::DecodeEntry(key, *v, &e));
    return std::optional<EntryRecord>(std::move(e));
  }

  std::unique_ptr<Cursor<EntryRecord>> Entries(std::uint16_t slot) override {
    return std::make_unique<PrefixCursor<EntryRecord>>(db_.get(), records::EntryPrefix(slot), "",
                                                       &records::DecodeEntry);
  }

  Result<std::optional<BlockRecord>> GetBlock(std::uint16_t slot, std::uint64_t pos) override {
    std::string key = records::BlockKey(slot, pos);
    ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> v, Get(key));
    if (!v) return std::optional<BlockRecord>();
    BlockRecord b;
    ATLAS_RETURN_IF_ERROR(records::DecodeBlock(key, *v, &b));
    return std::optional<BlockRecord>(b);
  }

  std::unique_ptr<Cursor<BlockRecord>> Blocks(std::uint16_t slot, std::uint64_t pos) override {
    return std::make_unique<PrefixCursor<BlockRecord>>(db_.get(), records::BlockPrefix(slot),
                                                       records::BlockKey(slot, pos),
                                                       &records::DecodeBlock);
  }

  std::unique_ptr<Cursor<DirtyEntry>> Dirty(std::uint64_t pos) override {
    std::string start(1, records::kDirty);
    coding::PutFixed64BE(&start, pos);
    return std::make_unique<PrefixCursor<DirtyEntry>>(db_.get(), std::string(1, records::kDirty),
                                                      start, &DecodeDirty);
  }

  Result<std::optional<ParityHashRecord>> GetParityHash(std::uint64_t pos) override {
    std::string key = records::ParityHashKey(pos);
    ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> v, Get(key));
    if (!v) return std::optional<ParityHashRecord>();
    ParityHashRecord p;
    ATLAS_RETURN_IF_ERROR(records::DecodeParityHash(key, *v, &p));
    return std::optional<ParityHashRecord>(std::move(p));
  }

  std::unique_ptr<Cursor<ParityHashRecord>> ParityHashes(std::uint64_t pos) override {
    return std::make_unique<PrefixCursor<ParityHashRecord>>(
        db_.get(), std::string(1, records::kParityHash), records::ParityHashKey(pos), &records::DecodeParityHash);
  }

  Result<std::vector<Extent>> FreeExtents(std::uint16_t slot) override {
    std::vector<Extent> out;
    std::string prefix = records::FreePrefix(slot);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      std::string_view v(it->value().data(), it->value().size());
      Extent e;
      coding::Reader r(v.substr(std::min<std::size_t>(1, v.size())));
      if (it->key().size() != prefix.size() + 8 || v.empty() || v[0] != records::kValueVersion ||
          !r.GetVarint(&e.count)) {
        return Status::Corruption("manifest free-extent record is malformed");
      }
      e.start = coding::DecodeFixed64BE(it->key().data() + prefix.size());
      out.push_back(e);
    }
    ATLAS_RETURN_IF_ERROR(FromRocksDb(it->status(), "manifest read"));
    return out;
  }

  Result<std::optional<std::string>> GetDeletedContent(const Hash128& content) override {
    return Get(records::DeletedContentKey(content));
  }

  Result<std::vector<Hash128>> ListDeletedContent() override {
    std::vector<Hash128> out;
    std::string prefix(1, records::kDeletedContent);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (it->key().size() != 17) return Status::Corruption("manifest moved-content record is malformed");
      out.push_back(Hash128::FromBytes(reinterpret_cast<const std::byte*>(it->key().data() + 1)));
    }
    ATLAS_RETURN_IF_ERROR(FromRocksDb(it->status(), "manifest read"));
    return out;
  }

  Result<std::vector<RunRecord>> RecentRuns(std::size_t max) override {
    std::vector<RunRecord> out;
    std::string prefix(1, records::kRun);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    it->SeekForPrev(std::string(1, records::kRun + 1));
    for (; it->Valid() && it->key().starts_with(prefix) && out.size() < max; it->Prev()) {
      RunRecord r;
      ATLAS_RETURN_IF_ERROR(records::DecodeRun(std::string_view(it->value().data(), it->value().size()), &r));
      out.push_back(std::move(r));
    }
    ATLAS_RETURN_IF_ERROR(FromRocksDb(it->status(), "manifest read"));
    return out;
  }

  Result<std::vector<StoredFinding>> ListFindings() override {
    std::vector<StoredFinding> out;
    std::string prefix(1, records::kFinding);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      StoredFinding f;
      ATLAS_RETURN_IF_ERROR(records::DecodeFinding(std::string_view(it->value().data(), it->value().size()), &f));
      out.push_back(std::move(f));
    }
    ATLAS_RETURN_IF_ERROR(FromRocksDb(it->status(), "manifest read"));
    return out;
  }

  Result<std::vector<AlertStateRecord>> ListAlertStates() override {
    std::vector<AlertStateRecord> out;
    std::string prefix(1, records::kAlertState);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      AlertStateRecord a;
      ATLAS_RETURN_IF_ERROR(records::DecodeAlertState(std::string_view(it->key().data(), it->key().size()),
                                                      std::string_view(it->value().data(), it->value().size()),
                                                      &a));
      out.push_back(std::move(a));
    }
    ATLAS_RETURN_IF_ERROR(FromRocksDb(it->status(), "manifest read"));
    return out;
  }

  Result<std::vector<SmartRecord>> SmartRecords(std::string_view disk) override {
    std::vector<SmartRecord> out;
    std::string prefix = records::SmartPrefix(disk);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      SmartRecord r;
      ATLAS_RETURN_IF_ERROR(records::DecodeSmart(std::string_view(it->key().data(), it->key().size()),
                                                 std::string_view(it->value().data(), it->value().size()), &r));
      out.push_back(std::move(r));
    }
    ATLAS_RETURN_IF_ERROR(FromRocksDb(it->status(), "manifest read"));
    return out;
  }

  Result<std::optional<std::vector<CoverageBucket>>> Coverage() override {
    ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> marker, GetMeta(kCoverageMeta));
    if (!marker || *marker != "1") return std::optional<std::vector<CoverageBucket>>();
    std::vector<CoverageBucket> out;
    std::string prefix(1, records::kCoverage);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (it->key().size() != 9) return Status::Corruption("manifest coverage record is malformed");
      CoverageBucket b;
      b.start_ns = records::DecodeCoverageKey(std::string_view(it->key().data(), it->key().size())) *
                   kCoverageBucketNs;
      ATLAS_RETURN_IF_ERROR(
          DecodeCoverageValue(std::string_view(it->value().data(), it->value().size()), &b.blocks));
      out.push_back(b);
    }
    ATLAS_RETURN_IF_ERROR(FromRocksDb(it->status(), "manifest read"));
    return std::optional<std::vector<CoverageBucket>>(std::move(out));
  }

  Result<std::vector<OutsideHostRecord>> ListOutsideHosts() override {
    std::vector<OutsideHostRecord> out;
    const std::string prefix(1, records::kOutsideHost);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      OutsideHostRecord r;
      ATLAS_RETURN_IF_ERROR(records::DecodeOutsideHost(std::string_view(it->key().data(), it->key().size()),
                                                       std::string_view(it->value().data(), it->value().size()),
                                                       &r));
      out.push_back(std::move(r));
    }
    ATLAS_RETURN_IF_ERROR(FromRocksDb(it->status(), "manifest read"));
    return out;
  }

  Result<std::optional<SmartRecord>> LatestSmartRecord(std::string_view disk) override {
    std::string prefix = records::SmartPrefix(disk);
    std::string end = prefix;
    end.back() = '\x01';  // just past every key of this disk
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    it->SeekForPrev(end);
    if (it->Valid() && it->key().starts_with(prefix)) {
      SmartRecord r;
      ATLAS_RETURN_IF_ERROR(records::DecodeSmart(std::string_view(it->key().data(), it->key().size()),
                                                 std::string_view(it->value().data(), it->value().size()), &r));
      return std::optional<SmartRecord>(std::move(r));
    }
    ATLAS_RETURN_IF_ERROR(FromRocksDb(it->status(), "manifest read"));
    return std::optional<SmartRecord>();
  }

  std::unique_ptr<ManifestBatch> NewBatch() override { return std::make_unique<RocksBatch>(); }

  Status Commit(ManifestBatch& batch, bool durable) override {
    if (read_only_) return Status::FailedPrecondition("manifest is open read-only");
    RocksBatch& rb = static_cast<RocksBatch&>(batch);
    // One commit at a time: the summary update reads what the previous
    // commit left (the manifest has one writer process; see manifest.h).
    std::lock_guard<std::mutex> lock(commit_mu_);
    if (coverage_ready_ && !rb.block_changes().empty()) {
      ATLAS_RETURN_IF_ERROR(AddCoverageChanges(&rb));
    }
    rocksdb::WriteOptions wo;
    wo.sync = durable;
    return FromRocksDb(db_->Write(wo, rb.wb()), "manifest write");
  }

  // Builds the coverage summary from every block record when the manifest
  // has none (made before summaries existed), in one batch with its marker.
  // O(blocks), once per manifest.
  Status EnsureCoverage() {
    ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> marker, GetMeta(kCoverageMeta));
    if (marker && *marker == "1") {
      coverage_ready_ = true;
      return Status::Ok();
    }
    if (read_only_) return Status::Ok();
    std::map<std::int64_t, std::uint64_t> counts;
    std::string prefix(1, records::kBlock);
    std::string upper(1, records::kBlock + 1);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      BlockRecord b;
      ATLAS_RETURN_IF_ERROR(records::DecodeBlock(std::string_view(it->key().data(), it->key().size()),
                                                 std::string_view(it->value().data(), it->value().size()),
                                                 &b));
      if (b.state == BlockState::kSynced) counts[records::CoverageBucketOf(b.verified_ns)]++;
    }
    ATLAS_RETURN_IF_ERROR(FromRocksDb(it->status(), "manifest read"));
    RocksBatch batch;
    std::string cprefix(1, records::kCoverage);
    std::string cupper(1, records::kCoverage + 1);
    batch.wb()->DeleteRange(cprefix, cupper).PermitUncheckedError();
    for (const auto& [bucket, n] : counts) batch.PutCoverage(bucket, n);
    batch.PutMeta(kCoverageMeta, "1");
    rocksdb::WriteOptions wo;
    wo.sync = true;
    ATLAS_RETURN_IF_ERROR(FromRocksDb(db_->Write(wo, batch.wb()), "manifest write"));
    coverage_ready_ = true;
    return Status::Ok();
  }

  Status CopyTo(const std::vector<fs::path>& dirs, std::vector<Finding>* refused) override {
    Status first;
    for (const fs::path& dir : dirs) {
      Status s = CopyOne(dir, refused);
      if (!s.ok() && first.ok()) first = s;
    }
    return first;
  }

 private:
  Result<std::optional<std::string>> Get(const std::string& key) {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &v);
    if (s.IsNotFound()) return std::optional<std::string>();
    ATLAS_RETURN_IF_ERROR(FromRocksDb(s, "manifest read"));
    return std::optional<std::string>(std::move(v));
  }

  // Invariant: RocksDB writes only below the backup subdirectory's
  // descriptor (/proc/self/fd/N), opened O_NOFOLLOW and judged by CopyDir
  // before the first byte: a copy directory swapped for a symlink, or one a
  // user owns or may write, gets nothing, and that is a finding, not an
  // error, so the other copy directories still get their copy.
  Status CopyOne(const fs::path& dir, std::vector<Finding>* refused) {
    Result<CopyDir> cd = CopyDir::Open(dir, /*create=*/true, /*need_backup=*/true);
    if (!cd.ok()) {
      if (cd.status().code() == Code::kFailedPrecondition && refused != nullptr) {
        AddCopyDirFinding(refused, CopyDirFinding(dir, cd.status()));
        return Status::Ok();
      }
      return cd.status();
    }
    rocksdb::BackupEngine* raw = nullptr;
    rocksdb::BackupEngineOptions opts(cd->BackupPath());
    ATLAS_RETURN_IF_ERROR(FromRocksDb(rocksdb::BackupEngine::Open(opts, rocksdb::Env::Default(), &raw),
                                      "open manifest copy " + dir.string()));
    std::unique_ptr<rocksdb::BackupEngine> engine(raw);
    rocksdb::CreateBackupOptions cbo;
    cbo.flush_before_backup = !read_only_;
    ATLAS_RETURN_IF_ERROR(
        FromRocksDb(engine->CreateNewBackup(cbo, db_.get()), "copy manifest to " + dir.string()));
    // Pruning deletes only what the backup engine lists as its own files,
    // below a directory that only the euid can write (CopyDir::Open checked
    // every entry): it cannot reach a user's file.
    ATLAS_RETURN_IF_ERROR(FromRocksDb(engine->PurgeOldBackups(kCopiesKept),
                                      "prune manifest copies in " + dir.string()));
    return cd->TightenBackupFiles();
  }

  // Adds to `rb` the coverage summary updates that its block changes make:
  // for each block key (its last change in the batch wins), minus the
  // bucket of the synced block stored there now, plus the bucket of the one
  // the batch leaves. Same batch, so the summary and the blocks commit
  // together or not at all.
  Status AddCoverageChanges(RocksBatch* rb) {
    std::vector<RocksBatch::BlockChange>& changes = rb->block_changes();
    std::stable_sort(changes.begin(), changes.end(),
                     [](const RocksBatch::BlockChange& a, const RocksBatch::BlockChange& b) {
                       return a.key < b.key;
                     });
    std::map<std::int64_t, std::int64_t> delta;
    std::vector<rocksdb::Slice> keys;  // the keys whose stored record must be read
    std::vector<std::size_t> last;     // index of the last change of each of those keys
    for (std::size_t first = 0, i = 0; i < changes.size(); ++i) {
      if (i + 1 < changes.size() && changes[i + 1].key == changes[i].key) continue;
      // changes[first..i] are one key's, in call order: the first one's
      // old record is what the manifest holds, the last one's is what the
      // batch leaves.
      if (changes[first].old_known) {
        if (changes[first].old_bucket) delta[*changes[first].old_bucket]--;
        if (changes[i].bucket) delta[*changes[i].bucket]++;
      } else {
        keys.emplace_back(changes[i].key);
        last.push_back(i);
      }
      first = i + 1;
    }
    // In chunks: RocksDB's MultiGet keeps a few hundred bytes of context per
    // key (heaptrack: 15 MB for one 65536-update sync batch).
    constexpr std::size_t kChunk = 1024;
    std::vector<rocksdb::PinnableSlice> values(std::min(kChunk, keys.size()));
    std::vector<rocksdb::Status> statuses(values.size());
    for (std::size_t base = 0; base < keys.size(); base += kChunk) {
      const std::size_t n = std::min(kChunk, keys.size() - base);
      for (std::size_t k = 0; k < n; ++k) values[k].Reset();
      db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), n, keys.data() + base,
                    values.data(), statuses.data(), /*sorted_input=*/true);
      for (std::size_t k = 0; k < n; ++k) {
        if (statuses[k].ok()) {
          BlockRecord old;
          ATLAS_RETURN_IF_ERROR(
              records::DecodeBlock(std::string_view(keys[base + k].data(), keys[base + k].size()),
                                   std::string_view(values[k].data(), values[k].size()), &old));
          if (old.state == BlockState::kSynced) delta[records::CoverageBucketOf(old.verified_ns)]--;
        } else if (!statuses[k].IsNotFound()) {
          return FromRocksDb(statuses[k], "manifest read");
        }
        const std::optional<std::int64_t>& now = changes[last[base + k]].bucket;
        if (now) delta[*now]++;
      }
    }
    for (const auto& [bucket, d] : delta) {
      if (d == 0) continue;
      ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> v, Get(records::CoverageKey(bucket)));
      std::uint64_t count = 0;
      if (v) ATLAS_RETURN_IF_ERROR(DecodeCoverageValue(*v, &count));
      const std::int64_t next = static_cast<std::int64_t>(count) + d;
      if (next < 0) {
        return Status::Corruption(
            "manifest coverage summary disagrees with the block records; restore the manifest with "
            "`atlas-scrub restore-manifest`");
      }
      if (next == 0) {
        rb->DeleteCoverage(bucket);
      } else {
        rb->PutCoverage(bucket, static_cast<std::uint64_t>(next));
      }
    }
    changes.clear();
    return Status::Ok();
  }

  static constexpr std::string_view kCoverageMeta = "coverage_summary";

  std::unique_ptr<rocksdb::DB> db_;
  bool read_only_;
  fs::path path_;
  bool coverage_ready_ = false;
  std::mutex commit_mu_;
};

// True when a manifest is there. A manifest this user may not even look
// into (it is root's, 0700) is one clear error, not "never synced".
Result<bool> HasDatabase(const fs::path& path) {
  std::error_code ec;
  const bool exists = fs::exists(path / "CURRENT", ec);
  if (ec == std::errc::permission_denied) {
    return Status::InvalidArgument(fmt::format(
        "permission denied reading the manifest {}: it is root's (mode 0700, as it lists every path "
        "of the array); run atlas-scrub as root",
        path.string()));
  }
  return exists;
}

}  // namespace

Result<std::unique_ptr<Manifest>> OpenManifestWithEnv(const fs::path& path,
                                                      const ManifestOptions& options,
                                                      rocksdb::Env* env) {
  ATLAS_ASSIGN_OR_RETURN(const bool exists, HasDatabase(path));
  if (!exists) {
    Result<std::vector<ManifestCopyInfo>> copies = ListManifestCopies(options.copy_dirs);
    if (copies.ok() && !copies->empty()) {
      return Status::FailedPrecondition(fmt::format("manifest {} is missing; {}", path.string(),
                                                    RestoreHint(options.copy_dirs)));
    }
    if (!options.create_if_missing || options.read_only) {
      return Status::NotFound(fmt::format(
          "no manifest at {}: the array has never been synced (run `atlas-scrub sync`)", path.string()));
    }
    // Invariant: a new manifest directory is 0700 from its creation (not
    // chmod'ed after), so no other user ever lists the paths it records.
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) return Status::FromErrno(ec.value(), "create manifest directory " + path.string());
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      return Status::FromErrno(errno, "create manifest directory " + path.string());
    }
  } else if (!options.read_only) {
    // A manifest made by an older version is 0755: tightened through its
    // descriptor. Read-only opens change nothing.
    ATLAS_RETURN_IF_ERROR(TightenDir(path).WithContext("manifest directory"));
  }

  rocksdb::Options opts;
  opts.env = env ? env : rocksdb::Env::Default();
  opts.create_if_missing = !exists;
  opts.info_log = std::make_shared<NullLogger>();
  opts.keep_log_file_num = 1;
  opts.max_open_files = 512;
  opts.paranoid_checks = true;
  opts.compression = rocksdb::kLZ4Compression;
  opts.bottommost_compression = rocksdb::kZSTD;
  // Memtables: at most two of 8 MiB (one filling, one being flushed), so a
  // run's memory does not grow with the records it writes: with 32 MiB ones,
  // a first sync or full scrub of a million small files held 64 MiB more
  // than one of 100 k files (docs/DESIGN.md "Scale").
  opts.write_buffer_size = 8 << 20;
  opts.max_write_buffer_number = 2;
  // No WAL preallocation: RocksDB would fallocate about 1.1 x the write
  // buffer at every read-write open and truncate it at close, which on tmpfs
  // zeroes and frees those pages each time (about 5 % of a scrub's CPU in
  // profiles with 32 MiB buffers). Commits stay as durable: fdatasync covers
  // the size.
  opts.allow_fallocate = false;

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = options.read_only
                          ? rocksdb::DB::OpenForReadOnly(opts, path.string(), &raw)
                          : rocksdb::DB::Open(opts, path.string(), &raw);
  if (!s.ok()) {
    // Only a manifest whose own files do not parse is corrupt (and worth a
    // restore); a full or failing disk under a healthy manifest is not.
    if (s.IsNoSpace()) {
      return Status::NoSpace(fmt::format("manifest {} cannot be opened for writing: {}", path.string(),
                                         s.ToString()));
    }
    if (s.IsIOError() && s.ToString().find("While lock file") != std::string::npos) {
      return Status::Busy(fmt::format("manifest {} is in use by another process", path.string()));
    }
    if (s.IsCorruption() || s.IsInvalidArgument() || s.IsNotSupported()) {
      return Status::Corruption(fmt::format("manifest {} cannot be opened ({}); {}", path.string(),
                                            s.ToString(), RestoreHint(options.copy_dirs)));
    }
    return Status::IOError(fmt::format("manifest {} cannot be opened: {}", path.string(), s.ToString()));
  }
  std::unique_ptr<rocksdb::DB> db(raw);

  auto m = std::make_unique<RocksManifest>(std::move(db), options.read_only, path);
  ATLAS_ASSIGN_OR_RETURN(std::optional<std::string> schema, m->GetMeta("schema"));
  std::uint64_t v = 0;
  if (schema) {
    auto [end, ec] = std::from_chars(schema->data(), schema->data() + schema->size(), v);
    if (ec != std::errc() || end != schema->data() + schema->size()) {
      return Status::Corruption(fmt::format("manifest {} has an unreadable schema record; {}",
                                            path.string(), RestoreHint(options.copy_dirs)));
    }
    if (v > kManifestSchema) {
      return Status::FailedPrecondition(fmt::format(
          "manifest {} has schema {}, newer than this atlas-scrub understands ({}); upgrade atlas-scrub",
          path.string(), v, kManifestSchema));
    }
  }
  // A new manifest gets the current schema; an older one is upgraded in
  // place by the first program that opens it for writing. Read-only opens
  // read every older schema as it is.
  if (!options.read_only && (!schema || v < kManifestSchema)) {
    RocksBatch b;
    ATLAS_RETURN_IF_ERROR(UpgradeSchema(m.get(), v, &b));
    ATLAS_RETURN_IF_ERROR(m->Commit(b, true));
  }
  ATLAS_RETURN_IF_ERROR(m->EnsureCoverage());
  return std::unique_ptr<Manifest>(std::move(m));
}

Result<std::unique_ptr<Manifest>> OpenManifest(const fs::path& path, const ManifestOptions& options) {
  return OpenManifestWithEnv(path, options, nullptr);
}

Result<std::unique_ptr<ManifestLock>> ManifestLock::Acquire(const fs::path& manifest) {
  fs::path lock_path = manifest;
  lock_path += ".lock";
  std::error_code ec;
  fs::create_directories(lock_path.parent_path(), ec);
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(errno, "open lock file " + lock_path.string());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::Busy(fmt::format(
          "manifest locked: {} is held by another atlas-scrub run; wait for it to finish",
          lock_path.string()));
    }
    return Status::FromErrno(err, "lock " + lock_path.string());
  }
  return std::unique_ptr<ManifestLock>(new ManifestLock(fd));
}

ManifestLock::~ManifestLock() { ::close(fd_); }

namespace {

// Opens the copy in `dir` for reading, judged as CopyDir::Open judges it
// for writing. nullopt (and nothing in *skipped) when there is no copy.
Result<std::optional<CopyDir>> OpenCopyForRead(const fs::path& dir, std::vector<Finding>* skipped) {
  Result<CopyDir> cd = CopyDir::Open(dir, /*create=*/false, /*need_backup=*/true);
  if (!cd.ok()) {
    if (cd.status().code() == Code::kFailedPrecondition) {
      if (skipped != nullptr) {
        AddCopyDirFinding(
            skipped, MakeFinding(FindingKind::kUnsafeCopyDir, "", dir.string(),
                                 std::string(cd.status().message()) + "; its copy was not used"));
      }
      return std::optional<CopyDir>();
    }
    if (cd.status().code() == Code::kNotFound)
      return std::optional<CopyDir>();
    return cd.status();
  }
  return std::optional<CopyDir>(std::move(*cd));
}

}  // namespace

Result<std::vector<ManifestCopyInfo>> ListManifestCopies(const std::vector<fs::path>& dirs,
                                                         std::vector<Finding>* skipped) {
  std::vector<ManifestCopyInfo> out;
  for (const fs::path& dir : dirs) {
    Result<std::optional<CopyDir>> cd = OpenCopyForRead(dir, skipped);
    if (!cd.ok() || !*cd)
      continue;
    rocksdb::BackupEngineReadOnly* raw = nullptr;
    rocksdb::BackupEngineOptions opts((*cd)->BackupPath());
    if (!rocksdb::BackupEngineReadOnly::Open(opts, rocksdb::Env::Default(), &raw).ok()) continue;
    std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw);
    std::vector<rocksdb::BackupInfo> infos;
    engine->GetBackupInfo(&infos);
    if (infos.empty()) continue;
    ManifestCopyInfo info;
    info.dir = dir;
    info.backups = infos.size();
    for (const rocksdb::BackupInfo& b : infos) info.timestamp_s = std::max(info.timestamp_s, b.timestamp);
    out.push_back(info);
  }
  std::stable_sort(out.begin(), out.end(), [](const ManifestCopyInfo& a, const ManifestCopyInfo& b) {
    return a.timestamp_s > b.timestamp_s;
  });
  return out;
}

Result<ManifestCopyInfo> RestoreManifest(const fs::path& path, const std::vector<fs::path>& dirs,
                                         const fs::path& from, std::vector<Finding>* skipped) {
  std::vector<fs::path> candidates = from.empty() ? dirs : std::vector<fs::path>{from};
  std::vector<Finding> refused;
  ATLAS_ASSIGN_OR_RETURN(std::vector<ManifestCopyInfo> copies,
                         ListManifestCopies(candidates, &refused));
  if (skipped != nullptr)
    skipped->insert(skipped->end(), refused.begin(), refused.end());
  if (copies.empty()) {
    std::string why;
    for (const Finding& f : refused) why += "; " + f.message;
    return Status::NotFound(fmt::format("no usable manifest copy found in {}{}",
                                        from.empty() ? "manifest_copies" : from.string(), why));
  }
  const ManifestCopyInfo& best = copies.front();
  fs::path tmp = path;
  tmp += ".restore-tmp";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  // Invariant: the restored files land in a directory only the euid can
  // enter (0700, made here), and are set to 0600 before it is renamed into
  // place: the manifest lists every path of the array, including names in
  // users' private folders.
  fs::create_directories(tmp.parent_path(), ec);
  if (::mkdir(tmp.c_str(), 0700) != 0)
    return Status::FromErrno(errno, "create " + tmp.string());
  {
    // Judged again (the listing closed its descriptors): what is read is
    // what passed.
    Result<std::optional<CopyDir>> cd = OpenCopyForRead(best.dir, nullptr);
    if (!cd.ok())
      return cd.status();
    if (!*cd) {
      return Status::FailedPrecondition(fmt::format(
          "manifest copy {} changed while it was being restored; run it again", best.dir.string()));
    }
    rocksdb::BackupEngineReadOnly* raw = nullptr;
    rocksdb::BackupEngineOptions opts((*cd)->BackupPath());
    ATLAS_RETURN_IF_ERROR(FromRocksDb(rocksdb::BackupEngineReadOnly::Open(opts, rocksdb::Env::Default(), &raw),
                                      "open manifest copy " + best.dir.string()));
    std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw);
    ATLAS_RETURN_IF_ERROR(FromRocksDb(
        engine->RestoreDBFromLatestBackup(rocksdb::RestoreOptions(), tmp.string(), tmp.string()),
        "restore manifest from " + best.dir.string()));
  }
  ATLAS_RETURN_IF_ERROR(TightenTree(tmp));
  {
    // Verify before anything is replaced.
    ManifestOptions ro;
    ro.read_only = true;
    ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<Manifest> check, OpenManifest(tmp, ro));
    ATLAS_RETURN_IF_ERROR(check->ListDisks().status());
  }
  if (fs::exists(path, ec)) {
    fs::path aside = path;
    aside += fmt::format(".broken-{}", static_cast<long long>(std::time(nullptr)));
    fs::rename(path, aside, ec);
    if (ec) return Status::FromErrno(ec.value(), "move aside " + path.string());
  }
  fs::rename(tmp, path, ec);
  if (ec) return Status::FromErrno(ec.value(), "install restored manifest at " + path.string());
  return best;
}

}  // namespace atlas
