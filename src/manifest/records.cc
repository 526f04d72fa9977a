#include "manifest/records.h"

#include <fmt/format.h>

#include "atlas/parity.h"
#include "core/coding.h"

namespace atlas::records {
namespace {

using coding::PutFixed16BE;
using coding::PutFixed64BE;
using coding::PutHash;
using coding::PutLengthPrefixed;
using coding::PutSignedVarint;
using coding::PutVarint;

std::string Prefixed(char prefix) { return std::string(1, prefix); }

Status Bad(std::string_view what) {
  return Status::Corruption(fmt::format("manifest record {} is malformed", what));
}

// Checks the leading version byte and strips it.
bool StripVersion(std::string_view* value) {
  if (value->empty() || (*value)[0] != kValueVersion) return false;
  value->remove_prefix(1);
  return true;
}

// File and disk values: version 1 as written before schema 4, or version 2
// with the schema 4 fields at the end (docs/FORMAT.md). *v2 says which.
bool StripVersion12(std::string_view* value, bool* v2) {
  if (value->empty() || ((*value)[0] != kValueVersion && (*value)[0] != kValueVersion2)) return false;
  *v2 = (*value)[0] == kValueVersion2;
  value->remove_prefix(1);
  return true;
}

}  // namespace

std::string MetaKey(std::string_view key) { return Prefixed(kMeta).append(key); }
std::string DiskKey(std::string_view name) { return Prefixed(kDisk).append(name); }

std::string FilePrefix(std::uint16_t slot) {
  std::string k = Prefixed(kFile);
  PutFixed16BE(&k, slot);
  return k;
}
std::string FileKey(std::uint16_t slot, std::string_view path) {
  return FilePrefix(slot).append(path);
}
std::string FileIdKey(std::uint64_t file_id) {
  std::string k = Prefixed(kFileId);
  PutFixed64BE(&k, file_id);
  return k;
}
std::string InodePrefix(std::uint16_t slot, std::uint64_t inode) {
  std::string k = Prefixed(kInode);
  PutFixed16BE(&k, slot);
  PutFixed64BE(&k, inode);
  return k;
}
std::string InodeKey(std::uint16_t slot, std::uint64_t inode, std::string_view path) {
  return InodePrefix(slot, inode).append(path);
}
std::string BlockPrefix(std::uint16_t slot) {
  std::string k = Prefixed(kBlock);
  PutFixed16BE(&k, slot);
  return k;
}
std::string BlockKey(std::uint16_t slot, std::uint64_t pos) {
  std::string k = BlockPrefix(slot);
  PutFixed64BE(&k, pos);
  return k;
}
std::string DirtyKey(std::uint64_t pos, std::uint16_t slot) {
  std::string k = Prefixed(kDirty);
  PutFixed64BE(&k, pos);
  PutFixed16BE(&k, slot);
  return k;
}
std::string ParityHashKey(std::uint64_t pos) {
  std::string k = Prefixed(kParityHash);
  PutFixed64BE(&k, pos);
  return k;
}
std::string FreePrefix(std::uint16_t slot) {
  std::string k = Prefixed(kFree);
  PutFixed16BE(&k, slot);
  return k;
}
std::string FreeKey(std::uint16_t slot, std::uint64_t start) {
  std::string k = FreePrefix(slot);
  PutFixed64BE(&k, start);
  return k;
}
std::string DeletedContentKey(const Hash128& content) {
  std::string k = Prefixed(kDeletedContent);
  PutHash(&k, content);
  return k;
}
std::string RunKey(std::int64_t start_ns, std::string_view command) {
  std::string k = Prefixed(kRun);
  PutFixed64BE(&k, static_cast<std::uint64_t>(start_ns));
  return k.append(command);
}
std::string FindingKey(const Finding& f) {
  std::string k = Prefixed(kFinding);
  k.append(KindName(f.kind));
  k.push_back('\0');
  k.append(f.disk);
  k.push_back('\0');
  k.append(f.path);
  return k;
}
std::string SmartPrefix(std::string_view disk) {
  std::string k = Prefixed(kSmart);
  k.append(disk);
  k.push_back('\0');
  return k;
}
std::string SmartKey(std::string_view disk, std::int64_t time_ns) {
  std::string k = SmartPrefix(disk);
  PutFixed64BE(&k, static_cast<std::uint64_t>(time_ns));
  return k;
}

std::string AlertStateKey(std::string_view fingerprint) {
  return Prefixed(kAlertState).append(fingerprint);
}
std::int64_t CoverageBucketOf(std::int64_t verified_ns) {
  std::int64_t q = verified_ns / kCoverageBucketNs;
  if (verified_ns % kCoverageBucketNs < 0) --q;
  return q;
}
std::string CoverageKey(std::int64_t bucket) {
  std::string k = Prefixed(kCoverage);
  PutFixed64BE(&k, static_cast<std::uint64_t>(bucket) ^ (1ull << 63));
  return k;
}
std::int64_t DecodeCoverageKey(std::string_view key) {
  return static_cast<std::int64_t>(coding::DecodeFixed64BE(key.data() + 1) ^ (1ull << 63));
}

namespace {
void PutXattrs(std::string* v, const std::vector<Xattr>& xattrs) {
  PutVarint(v, xattrs.size());
  for (const Xattr& x : xattrs) {
    PutLengthPrefixed(v, x.name);
    PutLengthPrefixed(v, x.value);
  }
}
bool GetXattrs(coding::Reader* r, std::size_t max, std::vector<Xattr>* out) {
  std::uint64_t n = 0;
  if (!r->GetVarint(&n) || n > max) return false;
  out->resize(n);
  for (Xattr& x : *out) {
    if (!r->GetLengthPrefixed(&x.name) || !r->GetLengthPrefixed(&x.value)) return false;
  }
  return true;
}
}  // namespace

std::string EncodeDisk(const DiskRecord& d) {
  std::string v(1, kValueVersion2);
  v.push_back(static_cast<char>(d.role));
  PutVarint(&v, d.index);
  PutLengthPrefixed(&v, d.path);
  PutLengthPrefixed(&v, d.identity.device);
  PutLengthPrefixed(&v, d.identity.fs_type);
  PutLengthPrefixed(&v, d.identity.uuid);
  PutLengthPrefixed(&v, d.identity.serial);
  v.push_back(d.identity.is_mount_point ? 1 : 0);
  PutVarint(&v, d.next_pos);
  PutVarint(&v, d.files);
  PutVarint(&v, d.bytes);
  PutVarint(&v, d.parity_size);
  // Schema 4.
  PutVarint(&v, d.directories);
  PutVarint(&v, d.symlinks);
  PutVarint(&v, d.hard_links);
  PutVarint(&v, d.special_files);
  return v;
}

Status DecodeDisk(std::string_view name, std::string_view value, DiskRecord* d) {
  bool v2 = false;
  if (!StripVersion12(&value, &v2)) return Bad("disk");
  coding::Reader r(value);
  std::uint8_t role = 0, mp = 0;
  std::uint64_t index = 0;
  d->name = std::string(name);
  if (!r.GetByte(&role) || role > 1 || !r.GetVarint(&index) || index > 0xffff ||
      !r.GetLengthPrefixed(&d->path) || !r.GetLengthPrefixed(&d->identity.device) ||
      !r.GetLengthPrefixed(&d->identity.fs_type) || !r.GetLengthPrefixed(&d->identity.uuid) ||
      !r.GetLengthPrefixed(&d->identity.serial) || !r.GetByte(&mp) || !r.GetVarint(&d->next_pos) ||
      !r.GetVarint(&d->files) || !r.GetVarint(&d->bytes) || !r.GetVarint(&d->parity_size)) {
    return Bad("disk " + std::string(name));
  }
  // Schema 4 counts; a record written before has none (zeros until the
  // next sync).
  d->directories = d->symlinks = d->hard_links = d->special_files = 0;
  if (v2 && (!r.GetVarint(&d->directories) || !r.GetVarint(&d->symlinks) ||
                     !r.GetVarint(&d->hard_links) || !r.GetVarint(&d->special_files))) {
    return Bad("disk " + std::string(name));
  }
  d->role = static_cast<DiskRole>(role);
  d->index = static_cast<std::uint16_t>(index);
  d->identity.is_mount_point = mp != 0;
  return Status::Ok();
}

std::string EncodeFile(const FileRecord& f) {
  std::string v(1, kValueVersion2);
  PutVarint(&v, f.file_id);
  PutVarint(&v, f.size);
  PutSignedVarint(&v, f.mtime_ns);
  PutVarint(&v, f.inode);
  PutVarint(&v, f.mode);
  PutVarint(&v, f.uid);
  PutVarint(&v, f.gid);
  PutVarint(&v, f.extents.size());
  for (const Extent& e : f.extents) {
    PutVarint(&v, e.start);
    PutVarint(&v, e.count);
  }
  v.push_back(f.content ? 1 : 0);
  if (f.content) PutHash(&v, *f.content);
  // Schema 4: ctime, xattrs, holes.
  PutSignedVarint(&v, f.ctime_ns);
  PutXattrs(&v, f.xattrs);
  PutVarint(&v, f.holes.size());
  for (const ByteRange& h : f.holes) {
    PutVarint(&v, h.offset);
    PutVarint(&v, h.length);
  }
  return v;
}

Status DecodeFile(std::string_view key, std::string_view value, FileRecord* f) {
  bool v2 = false;
  if (key.size() < 3 || key[0] != kFile || !StripVersion12(&value, &v2)) return Bad("file");
  f->slot = coding::DecodeFixed16BE(key.data() + 1);
  f->path = std::string(key.substr(3));
  coding::Reader r(value);
  std::uint64_t mode = 0, uid = 0, gid = 0, n = 0;
  std::uint8_t has_content = 0;
  if (!r.GetVarint(&f->file_id) || !r.GetVarint(&f->size) || !r.GetSignedVarint(&f->mtime_ns) ||
      !r.GetVarint(&f->inode) || !r.GetVarint(&mode) || !r.GetVarint(&uid) || !r.GetVarint(&gid) ||
      !r.GetVarint(&n) || n > value.size()) {
    return Bad("file " + f->path);
  }
  f->mode = static_cast<std::uint32_t>(mode);
  f->uid = static_cast<std::uint32_t>(uid);
  f->gid = static_cast<std::uint32_t>(gid);
  f->extents.resize(n);
  for (Extent& e : f->extents) {
    if (!r.GetVarint(&e.start) || !r.GetVarint(&e.count)) return Bad("file " + f->path);
  }
  if (!r.GetByte(&has_content)) return Bad("file " + f->path);
  f->content.reset();
  if (has_content) {
    Hash128 h;
    if (!r.GetHash(&h)) return Bad("file " + f->path);
    f->content = h;
  }
  f->ctime_ns = 0;
  f->xattrs.clear();
  f->holes.clear();
  if (!v2) return Status::Ok();  // written before schema 4
  std::uint64_t holes = 0;
  if (!r.GetSignedVarint(&f->ctime_ns) || !GetXattrs(&r, value.size(), &f->xattrs) || !r.GetVarint(&holes) ||
      holes > value.size()) {
    return Bad("file " + f->path);
  }
  f->holes.resize(holes);
  for (ByteRange& h : f->holes) {
    if (!r.GetVarint(&h.offset) || !r.GetVarint(&h.length)) return Bad("file " + f->path);
  }
  return Status::Ok();
}

std::string EntryPrefix(std::uint16_t slot) {
  std::string k = Prefixed(kEntry);
  PutFixed16BE(&k, slot);
  return k;
}
std::string EntryKey(std::uint16_t slot, std::string_view path) { return EntryPrefix(slot).append(path); }

std::string EncodeEntry(const EntryRecord& e) {
  std::string v(1, kValueVersion);
  v.push_back(static_cast<char>(e.kind));
  PutVarint(&v, e.mode);
  PutVarint(&v, e.uid);
  PutVarint(&v, e.gid);
  PutSignedVarint(&v, e.mtime_ns);
  PutSignedVarint(&v, e.ctime_ns);
  PutVarint(&v, e.inode);
  PutVarint(&v, e.rdev);
  PutLengthPrefixed(&v, e.target);
  PutXattrs(&v, e.xattrs);
  return v;
}

Status DecodeEntry(std::string_view key, std::string_view value, EntryRecord* e) {
  if (key.size() < 3 || key[0] != kEntry || !StripVersion(&value)) return Bad("entry");
  e->slot = coding::DecodeFixed16BE(key.data() + 1);
  e->path = std::string(key.substr(3));
  coding::Reader r(value);
  std::uint8_t kind = 0;
  std::uint64_t mode = 0, uid = 0, gid = 0;
  e->xattrs.clear();
  if (!r.GetByte(&kind) || kind < 1 || kind > 7 || !r.GetVarint(&mode) || !r.GetVarint(&uid) ||
      !r.GetVarint(&gid) || !r.GetSignedVarint(&e->mtime_ns) || !r.GetSignedVarint(&e->ctime_ns) ||
      !r.GetVarint(&e->inode) || !r.GetVarint(&e->rdev) || !r.GetLengthPrefixed(&e->target) ||
      !GetXattrs(&r, value.size(), &e->xattrs)) {
    return Bad("entry " + e->path);
  }
  e->kind = static_cast<EntryKind>(kind);
  e->mode = static_cast<std::uint32_t>(mode);
  e->uid = static_cast<std::uint32_t>(uid);
  e->gid = static_cast<std::uint32_t>(gid);
  return Status::Ok();
}

std::string EncodeFileId(std::uint16_t slot, std::string_view path) {
  std::string v(1, kValueVersion);
  PutFixed16BE(&v, slot);
  v.append(path);
  return v;
}

Status DecodeFileId(std::string_view value, std::uint16_t* slot, std::string* path) {
  if (!StripVersion(&value) || value.size() < 2) return Bad("file id");
  *slot = coding::DecodeFixed16BE(value.data());
  *path = std::string(value.substr(2));
  return Status::Ok();
}

std::string EncodeBlock(const BlockRecord& b) {
  std::string v(1, kValueVersion);
  v.push_back(static_cast<char>(b.state));
  v.push_back(b.hash ? 1 : 0);
  if (b.hash) PutHash(&v, *b.hash);
  PutVarint(&v, b.file_id);
  PutVarint(&v, b.file_block);
  PutSignedVarint(&v, b.verified_ns);
  v.push_back(static_cast<char>((b.past_zero ? 1 : 0) | (b.scrubbed ? 2 : 0)));  // flags
  return v;
}

Status DecodeBlock(std::string_view key, std::string_view value, BlockRecord* b) {
  if (key.size() != 11 || key[0] != kBlock || !StripVersion(&value)) return Bad("block");
  b->slot = coding::DecodeFixed16BE(key.data() + 1);
  b->pos = coding::DecodeFixed64BE(key.data() + 3);
  coding::Reader r(value);
  std::uint8_t state = 0, has_hash = 0;
  if (!r.GetByte(&state) || state < 1 || state > 3 || !r.GetByte(&has_hash)) return Bad("block");
  b->state = static_cast<BlockState>(state);
  b->hash.reset();
  if (has_hash) {
    Hash128 h;
    if (!r.GetHash(&h)) return Bad("block");
    b->hash = h;
  }
  if (!r.GetVarint(&b->file_id) || !r.GetVarint(&b->file_block) ||
      !r.GetSignedVarint(&b->verified_ns)) {
    return Bad("block");
  }
  std::uint8_t flags = 0;
  if (!r.GetByte(&flags) || flags > 3) return Bad("block");
  b->past_zero = (flags & 1) != 0;
  b->scrubbed = (flags & 2) != 0;
  return Status::Ok();
}

std::string EncodeParityHash(const ParityHashRecord& p) {
  std::string v(1, kValueVersion);
  PutVarint(&v, p.levels.size());
  for (const Hash128& h : p.levels) PutHash(&v, h);
  PutHash(&v, p.data_digest);
  return v;
}

Status DecodeParityHash(std::string_view key, std::string_view value, ParityHashRecord* p) {
  if (key.size() != 9 || key[0] != kParityHash || !StripVersion(&value)) return Bad("parity checksum");
  p->pos = coding::DecodeFixed64BE(key.data() + 1);
  coding::Reader r(value);
  std::uint64_t levels = 0;
  if (!r.GetVarint(&levels) || levels > kMaxParityLevels) return Bad("parity checksum");
  p->levels.resize(levels);
  for (Hash128& h : p->levels) {
    if (!r.GetHash(&h)) return Bad("parity checksum");
  }
  if (!r.GetHash(&p->data_digest)) return Bad("parity checksum");
  return Status::Ok();
}

namespace {

// The head that finding and alert state values share: byte(severity)
// string(kind) string(disk) string(path) string(message).
void PutFindingHead(std::string* v, const Finding& f) {
  v->push_back(static_cast<char>(f.severity));
  PutLengthPrefixed(v, KindName(f.kind));
  PutLengthPrefixed(v, f.disk);
  PutLengthPrefixed(v, f.path);
  PutLengthPrefixed(v, f.message);
}

// Reads what PutFindingHead wrote; `what` names the record in errors.
Status GetFindingHead(coding::Reader* r, std::string_view what, Finding* f) {
  std::uint8_t sev = 0;
  std::string kind;
  if (!r->GetByte(&sev) || sev > 2 || !r->GetLengthPrefixed(&kind) || !r->GetLengthPrefixed(&f->disk) ||
      !r->GetLengthPrefixed(&f->path) || !r->GetLengthPrefixed(&f->message)) {
    return Bad(what);
  }
  std::optional<FindingKind> k = ParseKind(kind);
  if (!k) return Bad(std::string(what) + " kind " + kind);
  f->kind = *k;
  f->severity = static_cast<Severity>(sev);
  return Status::Ok();
}

}  // namespace

std::string EncodeFinding(const StoredFinding& s) {
  const Finding& f = s.finding;
  std::string v(1, kValueVersion);
  PutFindingHead(&v, f);
  PutLengthPrefixed(&v, f.from);
  v.push_back(f.offset ? 1 : 0);
  if (f.offset) PutVarint(&v, *f.offset);
  PutSignedVarint(&v, s.first_seen_ns);
  PutSignedVarint(&v, s.last_seen_ns);
  return v;
}

Status DecodeFinding(std::string_view value, StoredFinding* s) {
  if (!StripVersion(&value)) return Bad("finding");
  coding::Reader r(value);
  Finding& f = s->finding;
  std::uint8_t has_offset = 0;
  ATLAS_RETURN_IF_ERROR(GetFindingHead(&r, "finding", &f));
  if (!r.GetLengthPrefixed(&f.from) || !r.GetByte(&has_offset)) return Bad("finding");
  f.offset.reset();
  if (has_offset) {
    std::uint64_t off = 0;
    if (!r.GetVarint(&off)) return Bad("finding");
    f.offset = off;
  }
  if (!r.GetSignedVarint(&s->first_seen_ns) || !r.GetSignedVarint(&s->last_seen_ns)) {
    return Bad("finding");
  }
  return Status::Ok();
}

std::string EncodeAlertState(const AlertStateRecord& a) {
  std::string v(1, kValueVersion);
  PutFindingHead(&v, a.finding);
  PutLengthPrefixed(&v, a.command);
  PutSignedVarint(&v, a.first_seen_ns);
  PutSignedVarint(&v, a.last_sent_ns);
  v.push_back(static_cast<char>((a.open ? 1 : 0) | (a.recorded ? 2 : 0)));
  PutVarint(&v, a.pending.size());
  for (const std::string& c : a.pending) PutLengthPrefixed(&v, c);
  return v;
}

Status DecodeAlertState(std::string_view key, std::string_view value, AlertStateRecord* a) {
  if (key.empty() || key[0] != kAlertState || !StripVersion(&value)) return Bad("alert state");
  a->fingerprint.assign(key.substr(1));
  coding::Reader r(value);
  std::uint8_t flags = 0;
  std::uint64_t n = 0;
  ATLAS_RETURN_IF_ERROR(GetFindingHead(&r, "alert state", &a->finding));
  if (!r.GetLengthPrefixed(&a->command) || !r.GetSignedVarint(&a->first_seen_ns) ||
      !r.GetSignedVarint(&a->last_sent_ns) || !r.GetByte(&flags) || flags > 3 || !r.GetVarint(&n) ||
      n > value.size()) {
    return Bad("alert state");
  }
  a->open = (flags & 1) != 0;
  a->recorded = (flags & 2) != 0;
  a->pending.assign(n, "");
  for (std::string& c : a->pending) {
    if (!r.GetLengthPrefixed(&c)) return Bad("alert state");
  }
  return Status::Ok();
}

std::string EncodeRun(const RunRecord& run) {
  std::string v(1, kValueVersion);
  PutLengthPrefixed(&v, run.command);
  PutSignedVarint(&v, run.start_ns);
  PutSignedVarint(&v, run.end_ns);
  PutSignedVarint(&v, run.exit_code);
  PutLengthPrefixed(&v, run.summary);
  return v;
}

Status DecodeRun(std::string_view value, RunRecord* run) {
  if (!StripVersion(&value)) return Bad("run");
  coding::Reader r(value);
  std::int64_t exit_code = 0;
  if (!r.GetLengthPrefixed(&run->command) || !r.GetSignedVarint(&run->start_ns) ||
      !r.GetSignedVarint(&run->end_ns) || !r.GetSignedVarint(&exit_code) ||
      !r.GetLengthPrefixed(&run->summary)) {
    return Bad("run");
  }
  run->exit_code = static_cast<int>(exit_code);
  return Status::Ok();
}

namespace {

void PutOptionalInt(std::string* v, const std::optional<int>& x) {
  v->push_back(x ? 1 : 0);
  if (x) PutSignedVarint(v, *x);
}

bool GetOptionalInt(coding::Reader* r, std::optional<int>* x) {
  std::uint8_t has = 0;
  if (!r->GetByte(&has) || has > 1) return false;
  x->reset();
  if (has) {
    std::int64_t i = 0;
    if (!r->GetSignedVarint(&i)) return false;
    *x = static_cast<int>(i);
  }
  return true;
}

}  // namespace

std::string EncodeSmart(const SmartRecord& s) {
  const SmartReading& rd = s.reading;
  std::string v(1, kValueVersion);
  v.push_back(static_cast<char>(s.state));
  v.push_back(static_cast<char>(rd.protocol));
  PutLengthPrefixed(&v, rd.source);
  PutLengthPrefixed(&v, rd.model);
  PutLengthPrefixed(&v, rd.serial);
  PutLengthPrefixed(&v, rd.firmware);
  v.push_back(static_cast<char>(!rd.overall_passed ? 2 : (*rd.overall_passed ? 1 : 0)));
  v.push_back(rd.temperature_c ? 1 : 0);
  if (rd.temperature_c) PutSignedVarint(&v, *rd.temperature_c);
  v.push_back(rd.power_on_hours ? 1 : 0);
  if (rd.power_on_hours) PutVarint(&v, *rd.power_on_hours);
  v.push_back(rd.nvme_spare_threshold ? 1 : 0);
  if (rd.nvme_spare_threshold) PutVarint(&v, *rd.nvme_spare_threshold);
  PutVarint(&v, rd.attributes.size());
  for (const SmartAttribute& a : rd.attributes) {
    PutLengthPrefixed(&v, a.key);
    PutLengthPrefixed(&v, a.name);
    PutVarint(&v, static_cast<std::uint64_t>(a.id));
    PutOptionalInt(&v, a.value);
    PutOptionalInt(&v, a.worst);
    PutOptionalInt(&v, a.threshold);
    v.push_back(a.prefail ? 1 : 0);
    PutVarint(&v, a.raw);
    PutVarint(&v, a.count);
  }
  PutVarint(&v, s.findings.size());
  for (const Finding& f : s.findings) {
    v.push_back(static_cast<char>(f.severity));
    PutLengthPrefixed(&v, KindName(f.kind));
    PutLengthPrefixed(&v, f.message);
  }
  return v;
}

Status DecodeSmart(std::string_view key, std::string_view value, SmartRecord* s) {
  if (key.size() < 10 || key[0] != kSmart || key[key.size() - 9] != '\0' || !StripVersion(&value)) {
    return Bad("smart reading");
  }
  *s = SmartRecord();
  s->disk = std::string(key.substr(1, key.size() - 10));
  s->time_ns = static_cast<std::int64_t>(coding::DecodeFixed64BE(key.data() + key.size() - 8));
  SmartReading& rd = s->reading;
  coding::Reader r(value);
  std::uint8_t state = 0, protocol = 0, passed = 0, has = 0;
  if (!r.GetByte(&state) || state > 4 || !r.GetByte(&protocol) || protocol > 2 ||
      !r.GetLengthPrefixed(&rd.source) || !r.GetLengthPrefixed(&rd.model) || !r.GetLengthPrefixed(&rd.serial) ||
      !r.GetLengthPrefixed(&rd.firmware) || !r.GetByte(&passed) || passed > 2) {
    return Bad("smart reading");
  }
  s->state = static_cast<SmartState>(state);
  rd.state = s->state;
  rd.protocol = static_cast<SmartProtocol>(protocol);
  if (passed != 2) rd.overall_passed = passed == 1;
  if (!r.GetByte(&has)) return Bad("smart reading");
  if (has) {
    std::int64_t t = 0;
    if (!r.GetSignedVarint(&t)) return Bad("smart reading");
    rd.temperature_c = t;
  }
  if (!r.GetByte(&has)) return Bad("smart reading");
  if (has) {
    std::uint64_t h = 0;
    if (!r.GetVarint(&h)) return Bad("smart reading");
    rd.power_on_hours = h;
  }
  if (!r.GetByte(&has)) return Bad("smart reading");
  if (has) {
    std::uint64_t t = 0;
    if (!r.GetVarint(&t)) return Bad("smart reading");
    rd.nvme_spare_threshold = t;
  }
  std::uint64_t n = 0;
  if (!r.GetVarint(&n) || n > 4096) return Bad("smart reading");
  for (std::uint64_t i = 0; i < n; ++i) {
    SmartAttribute a;
    std::uint64_t id = 0;
    std::uint8_t prefail = 0;
    if (!r.GetLengthPrefixed(&a.key) || !r.GetLengthPrefixed(&a.name) || !r.GetVarint(&id) || id > 255 ||
        !GetOptionalInt(&r, &a.value) || !GetOptionalInt(&r, &a.worst) || !GetOptionalInt(&r, &a.threshold) ||
        !r.GetByte(&prefail) || !r.GetVarint(&a.raw) || !r.GetVarint(&a.count)) {
      return Bad("smart reading");
    }
    a.id = static_cast<int>(id);
    a.prefail = prefail != 0;
    rd.attributes.push_back(std::move(a));
  }
  if (!r.GetVarint(&n) || n > 4096) return Bad("smart reading");
  for (std::uint64_t i = 0; i < n; ++i) {
    std::uint8_t sev = 0;
    std::string kind;
    Finding f;
    if (!r.GetByte(&sev) || sev > 2 || !r.GetLengthPrefixed(&kind) || !r.GetLengthPrefixed(&f.message)) {
      return Bad("smart reading");
    }
    std::optional<FindingKind> k = ParseKind(kind);
    if (!k) return Bad("smart reading finding kind " + kind);
    f.kind = *k;
    f.severity = static_cast<Severity>(sev);
    f.disk = s->disk;
    s->findings.push_back(std::move(f));
  }
  return Status::Ok();
}

std::string OutsideHostKey(std::string_view host) {
  std::string k = Prefixed(kOutsideHost);
  k.append(host);
  return k;
}

std::string EncodeOutsideHost(const OutsideHostRecord& o) {
  std::string v(1, kValueVersion);
  PutSignedVarint(&v, o.checked_ns);
  PutVarint(&v, o.scanned_files);
  PutVarint(&v, o.only_copy);
  PutVarint(&v, o.duplicates);
  PutSignedVarint(&v, o.attempted_ns);
  PutLengthPrefixed(&v, o.error);
  PutVarint(&v, o.findings.size());
  for (const Finding& f : o.findings) {
    PutFindingHead(&v, f);
    PutLengthPrefixed(&v, f.from);
  }
  return v;
}

Status DecodeOutsideHost(std::string_view key, std::string_view value, OutsideHostRecord* o) {
  if (key.size() < 2 || key[0] != kOutsideHost || !StripVersion(&value)) return Bad("outside host");
  *o = OutsideHostRecord();
  o->host = std::string(key.substr(1));
  coding::Reader r(value);
  std::uint64_t n = 0;
  if (!r.GetSignedVarint(&o->checked_ns) || !r.GetVarint(&o->scanned_files) || !r.GetVarint(&o->only_copy) ||
      !r.GetVarint(&o->duplicates) || !r.GetSignedVarint(&o->attempted_ns) || !r.GetLengthPrefixed(&o->error) ||
      !r.GetVarint(&n) || n > value.size()) {
    return Bad("outside host");
  }
  for (std::uint64_t i = 0; i < n; ++i) {
    Finding f;
    ATLAS_RETURN_IF_ERROR(GetFindingHead(&r, "outside host finding", &f));
    if (!r.GetLengthPrefixed(&f.from)) return Bad("outside host finding");
    o->findings.push_back(std::move(f));
  }
  return Status::Ok();
}

}  // namespace atlas::records
