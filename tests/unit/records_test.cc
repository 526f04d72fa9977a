// The manifest's record codec (src/manifest/records.h): every key and value
// has the bytes docs/FORMAT.md gives it, so a silent format change fails
// here; every value decodes back to what was encoded, at the edges of each
// field; and bytes that do not decode (truncated, a wrong version byte, a
// field out of range) are a kCorruption error naming the record, never a
// crash or a wrong record.
#include "manifest/records.h"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "atlas/hash.h"
#include "atlas/manifest.h"
#include "atlas/smart.h"

#include "support/test_util.h"

namespace atlas::records {
namespace {

constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();
constexpr std::int64_t kMinI64 = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMaxI64 = std::numeric_limits<std::int64_t>::max();

// Bytes from hex digits; spaces separate fields for the reader.
std::string Hex(std::string_view digits) {
  std::string out;
  int half = -1;
  for (char c : digits) {
    if (c == ' ')
      continue;
    const int v = c >= 'a' ? c - 'a' + 10 : c - '0';
    REQUIRE(((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')));
    if (half < 0) {
      half = v;
    } else {
      out.push_back(static_cast<char>(half * 16 + v));
      half = -1;
    }
  }
  REQUIRE(half < 0);
  return out;
}

// Lower-case hex of `bytes`, for comparisons that print readably.
std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kDigits[static_cast<unsigned char>(c) >> 4]);
    out.push_back(kDigits[static_cast<unsigned char>(c) & 15]);
  }
  return out;
}

// A hash whose canonical bytes are easy to read: hi then lo, big-endian.
constexpr Hash128 kHashA{.lo = 0x1122334455667788, .hi = 0x99aabbccddeeff00};
constexpr std::string_view kHashAHex = "99aabbccddeeff00 1122334455667788";
constexpr Hash128 kHashB{.lo = 0x0f0e0d0c0b0a0908, .hi = 0x0706050403020100};
constexpr std::string_view kHashBHex = "0706050403020100 0f0e0d0c0b0a0908";

// Strings at the edges: empty, long (a length varint of three bytes), UTF-8
// outside ASCII, and bytes that are not UTF-8 at all (paths are raw bytes).
const std::vector<std::string>& EdgeStrings() {
  static const std::vector<std::string> strings = {
      "",
      std::string(70'000, 'x'),
      "M\xc3\xbasica/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x8e\xb5.flac",
      "bad\xff\xfe/\x01\x7f name",
  };
  return strings;
}

// What every decode error is: kCorruption, "manifest record RECORD ... is
// malformed", RECORD naming the kind of record and, where the code knows
// it, which one ("disk d1", "file Movies/a.mkv") or what is wrong with it
// ("finding kind read_erro!").
void CheckMalformed(const Status& s, const std::string& record) {
  INFO(s.ToString());
  CHECK(s.code() == Code::kCorruption);
  CHECK(s.ToString().find("manifest record " + record) != std::string::npos);
  CHECK(s.ToString().find(" is malformed") != std::string::npos);
}

// --- sample records, one of each kind -------------------------------------

DiskRecord SampleDisk() {
  DiskRecord d;
  d.name = "d1";
  d.role = DiskRole::kData;
  d.index = 3;
  d.path = "/mnt/d1";
  d.identity = {
      .device = "/dev/sdb1", .fs_type = "ext4", .uuid = "", .serial = "S1", .is_mount_point = true};
  d.next_pos = 300;
  d.files = 2;
  d.bytes = 1;
  d.parity_size = 0;
  return d;
}

FileRecord SampleFile() {
  FileRecord f;
  f.slot = 1;
  f.path = "Movies/a.mkv";
  f.file_id = 7;
  f.size = 300;
  f.mtime_ns = -2;
  f.inode = 16384;
  f.mode = 0100644;
  f.uid = 1000;
  f.gid = 0;
  f.extents = {{.start = 5, .count = 2}, {.start = 300, .count = 1}};
  f.content = kHashA;
  return f;
}

BlockRecord SampleBlock() {
  // The block record of docs/FORMAT.md "Example".
  BlockRecord b;
  b.slot = 0;
  b.pos = 0;
  b.state = BlockState::kSynced;
  b.hash = Hash128{.lo = 0xffa20efa1c0051f5, .hi = 0xb13e1f2cfa0a74f4};
  b.file_id = 2;
  b.file_block = 0;
  b.verified_ns = 1795596427820497012;
  return b;
}

ParityHashRecord SampleParityHash() {
  return ParityHashRecord{.pos = 9, .levels = {kHashA, kHashB}, .data_digest = kHashA};
}

StoredFinding SampleFinding() {
  StoredFinding s;
  s.finding.severity = Severity::kCritical;
  s.finding.kind = FindingKind::kReadError;
  s.finding.disk = "d1";
  s.finding.path = "a.mkv";
  s.finding.message = "m";
  s.finding.offset = 131072;
  s.first_seen_ns = 1;
  s.last_seen_ns = 2;
  return s;
}

AlertStateRecord SampleAlertState() {
  AlertStateRecord a;
  a.fingerprint = std::string("unsynced\0d1\0", 12);
  a.finding.severity = Severity::kWarning;
  a.finding.kind = FindingKind::kUnsynced;
  a.finding.disk = "d1";
  a.finding.message = "m";
  a.command = "sync";
  a.first_seen_ns = 1;
  a.last_sent_ns = 0;
  a.open = true;
  a.recorded = true;
  a.pending = {"abc", ""};
  return a;
}

RunRecord SampleRun() {
  return RunRecord{.command = "sync", .start_ns = -1, .end_ns = 2, .exit_code = 1, .summary = "ok"};
}

SmartRecord SampleSmart() {
  SmartRecord s;
  s.disk = "d1";
  s.time_ns = 5;
  s.state = SmartState::kWarning;
  s.reading.state = SmartState::kWarning;
  s.reading.protocol = SmartProtocol::kNvme;
  s.reading.source = "/dev/nvme0";
  s.reading.model = "M";
  s.reading.serial = "S";
  s.reading.firmware = "F";
  s.reading.temperature_c = -3;
  s.reading.nvme_spare_threshold = 10;
  SmartAttribute attr;
  attr.key = "media_errors";
  attr.name = "media_errors";
  attr.worst = 5;
  attr.threshold = -1;
  attr.prefail = true;
  attr.raw = 300;
  attr.count = 7;
  s.reading.attributes = {attr};
  Finding f = MakeFinding(FindingKind::kSmartWarning, "d1", "", "x");
  s.findings = {f};
  return s;
}

// --- field-by-field equality, so a failure names the field ----------------

void CheckSame(const DiskRecord& got, const DiskRecord& want) {
  CHECK(got.name == want.name);
  CHECK(got.role == want.role);
  CHECK(got.index == want.index);
  CHECK(got.path == want.path);
  CHECK(got.identity.device == want.identity.device);
  CHECK(got.identity.fs_type == want.identity.fs_type);
  CHECK(got.identity.uuid == want.identity.uuid);
  CHECK(got.identity.serial == want.identity.serial);
  CHECK(got.identity.is_mount_point == want.identity.is_mount_point);
  CHECK(got.next_pos == want.next_pos);
  CHECK(got.files == want.files);
  CHECK(got.bytes == want.bytes);
  CHECK(got.parity_size == want.parity_size);
}

void CheckSame(const FileRecord& got, const FileRecord& want) {
  CHECK(got.slot == want.slot);
  CHECK(got.path == want.path);
  CHECK(got.file_id == want.file_id);
  CHECK(got.size == want.size);
  CHECK(got.mtime_ns == want.mtime_ns);
  CHECK(got.inode == want.inode);
  CHECK(got.mode == want.mode);
  CHECK(got.uid == want.uid);
  CHECK(got.gid == want.gid);
  CHECK(got.extents == want.extents);
  CHECK(got.content == want.content);
}

void CheckSame(const BlockRecord& got, const BlockRecord& want) {
  CHECK(got.slot == want.slot);
  CHECK(got.pos == want.pos);
  CHECK(got.state == want.state);
  CHECK(got.hash == want.hash);
  CHECK(got.file_id == want.file_id);
  CHECK(got.file_block == want.file_block);
  CHECK(got.verified_ns == want.verified_ns);
  CHECK(got.past_zero == want.past_zero);
  CHECK(got.scrubbed == want.scrubbed);
}

void CheckSame(const Finding& got, const Finding& want) {
  CHECK(got.severity == want.severity);
  CHECK(got.kind == want.kind);
  CHECK(got.disk == want.disk);
  CHECK(got.path == want.path);
  CHECK(got.message == want.message);
  CHECK(got.from == want.from);
  CHECK(got.offset == want.offset);
}

void CheckSame(const AlertStateRecord& got, const AlertStateRecord& want) {
  CHECK(got.fingerprint == want.fingerprint);
  // The alert value keeps the finding's head only: no `from`, no offset.
  CHECK(got.finding.severity == want.finding.severity);
  CHECK(got.finding.kind == want.finding.kind);
  CHECK(got.finding.disk == want.finding.disk);
  CHECK(got.finding.path == want.finding.path);
  CHECK(got.finding.message == want.finding.message);
  CHECK(got.command == want.command);
  CHECK(got.first_seen_ns == want.first_seen_ns);
  CHECK(got.last_sent_ns == want.last_sent_ns);
  CHECK(got.open == want.open);
  CHECK(got.recorded == want.recorded);
  CHECK(got.pending == want.pending);
}

void CheckSame(const SmartRecord& got, const SmartRecord& want) {
  CHECK(got.disk == want.disk);
  CHECK(got.time_ns == want.time_ns);
  CHECK(got.state == want.state);
  CHECK(got.reading.state == want.state);
  CHECK(got.reading.protocol == want.reading.protocol);
  CHECK(got.reading.source == want.reading.source);
  CHECK(got.reading.model == want.reading.model);
  CHECK(got.reading.serial == want.reading.serial);
  CHECK(got.reading.firmware == want.reading.firmware);
  CHECK(got.reading.overall_passed == want.reading.overall_passed);
  CHECK(got.reading.temperature_c == want.reading.temperature_c);
  CHECK(got.reading.power_on_hours == want.reading.power_on_hours);
  CHECK(got.reading.nvme_spare_threshold == want.reading.nvme_spare_threshold);
  REQUIRE(got.reading.attributes.size() == want.reading.attributes.size());
  for (std::size_t i = 0; i < got.reading.attributes.size(); ++i) {
    const SmartAttribute& g = got.reading.attributes[i];
    const SmartAttribute& w = want.reading.attributes[i];
    CHECK(g.key == w.key);
    CHECK(g.name == w.name);
    CHECK(g.id == w.id);
    CHECK(g.value == w.value);
    CHECK(g.worst == w.worst);
    CHECK(g.threshold == w.threshold);
    CHECK(g.prefail == w.prefail);
    CHECK(g.raw == w.raw);
    CHECK(g.count == w.count);
  }
  // A SMART finding keeps severity, kind and message; its disk is the key's.
  REQUIRE(got.findings.size() == want.findings.size());
  for (std::size_t i = 0; i < got.findings.size(); ++i) {
    CHECK(got.findings[i].severity == want.findings[i].severity);
    CHECK(got.findings[i].kind == want.findings[i].kind);
    CHECK(got.findings[i].message == want.findings[i].message);
    CHECK(got.findings[i].disk == want.disk);
  }
}

// --- keys -----------------------------------------------------------------

TEST_CASE("records: every key has the bytes of docs/FORMAT.md", "[manifest][records][unit]") {
  CHECK(ToHex(MetaKey("schema")) == ToHex("m" + std::string("schema")));
  CHECK(ToHex(DiskKey("parity1")) == ToHex("dparity1"));
  CHECK(ToHex(FileKey(0x0102, "Movies/a.mkv")) == ToHex(Hex("66 0102") + "Movies/a.mkv"));
  CHECK(ToHex(FilePrefix(0x0102)) == "660102");
  CHECK(ToHex(FileIdKey(0x0102030405060708)) == "690102030405060708");
  CHECK(ToHex(InodeKey(1, 0x1234, "a/b")) == ToHex(Hex("6e 0001 0000000000001234") + "a/b"));
  CHECK(ToHex(InodePrefix(1, 0x1234)) == "6e00010000000000001234");
  // The block key of the example in docs/FORMAT.md.
  CHECK(ToHex(BlockKey(0, 0)) == "6200000000000000000000");
  CHECK(ToHex(BlockKey(0xfffe, kMaxU64)) == "62fffeffffffffffffffff");
  CHECK(ToHex(BlockPrefix(7)) == "620007");
  // dirty: position first, then the slot.
  CHECK(ToHex(DirtyKey(0x0a0b, 0xffff)) == "780000000000000a0bffff");
  CHECK(ToHex(ParityHashKey(9)) == "700000000000000009");
  CHECK(ToHex(FreeKey(2, 300)) == "7a0002000000000000012c");
  CHECK(ToHex(FreePrefix(2)) == "7a0002");
  CHECK(ToHex(DeletedContentKey(kHashA)) == ToHex(Hex("79") + Hex(kHashAHex)));
  CHECK(ToHex(RunKey(0x0102030405060708, "sync")) == ToHex(Hex("72 0102030405060708") + "sync"));
  CHECK(ToHex(RunKey(-1, "fix")) == ToHex(Hex("72 ffffffffffffffff") + "fix"));
  Finding f = MakeFinding(FindingKind::kReadError, "d1", "a.mkv", "ignored");
  CHECK(ToHex(FindingKey(f)) ==
        ToHex("gread_error" + std::string(1, '\0') + "d1" + std::string(1, '\0') + "a.mkv"));
  Finding parity = MakeFinding(FindingKind::kParityMismatch, "parity2", "", "ignored");
  CHECK(ToHex(FindingKey(parity)) ==
        ToHex("gparity_mismatch" + std::string(1, '\0') + "parity2" + std::string(1, '\0')));
  CHECK(ToHex(AlertStateKey("fp")) == ToHex("afp"));
  CHECK(ToHex(SmartKey("d1", 5)) == ToHex("sd1" + Hex("00 0000000000000005")));
  CHECK(ToHex(SmartPrefix("d1")) == ToHex("sd1" + Hex("00")));
}

TEST_CASE("records: coverage keys are minutes with the sign bit flipped, as in docs/FORMAT.md",
          "[manifest][records][unit]") {
  // The example of docs/FORMAT.md "Coverage summary".
  CHECK(CoverageBucketOf(1795596427820497012) == 29926607);
  CHECK(ToHex(CoverageKey(29926607)) == "638000000001c8a4cf");
  // Floor division: a negative time falls in a negative minute.
  CHECK(CoverageBucketOf(0) == 0);
  CHECK(CoverageBucketOf(kCoverageBucketNs - 1) == 0);
  CHECK(CoverageBucketOf(kCoverageBucketNs) == 1);
  CHECK(CoverageBucketOf(-1) == -1);
  CHECK(CoverageBucketOf(-kCoverageBucketNs) == -1);
  CHECK(CoverageBucketOf(-kCoverageBucketNs - 1) == -2);
  CHECK(CoverageBucketOf(kMinI64) == kMinI64 / kCoverageBucketNs - 1);
  CHECK(CoverageBucketOf(kMaxI64) == kMaxI64 / kCoverageBucketNs);
  CHECK(ToHex(CoverageKey(-1)) == "637fffffffffffffff");
  CHECK(ToHex(CoverageKey(0)) == "638000000000000000");
  // Key order is numeric order, negative buckets included, and each key
  // decodes to its bucket.
  const std::vector<std::int64_t> buckets = {kMinI64, -29926607, -1, 0, 1, 29926607, kMaxI64};
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    INFO("bucket " << buckets[i]);
    CHECK(DecodeCoverageKey(CoverageKey(buckets[i])) == buckets[i]);
    if (i > 0)
      CHECK(CoverageKey(buckets[i - 1]) < CoverageKey(buckets[i]));
  }
}

TEST_CASE("records: integer keys sort in numeric order, bytewise", "[manifest][records][unit]") {
  // RocksDB compares keys bytewise; the big-endian integers make that the
  // order of slot, then position.
  CHECK(BlockKey(0, 255) < BlockKey(0, 256));
  CHECK(BlockKey(0, kMaxU64) < BlockKey(1, 0));
  CHECK(DirtyKey(1, 0xffff) < DirtyKey(2, 0));
  CHECK(FreeKey(3, 0xff) < FreeKey(3, 0x100));
  CHECK(FileIdKey(255) < FileIdKey(256));
  CHECK(RunKey(255, "sync") < RunKey(256, "fix"));
  CHECK(SmartKey("d1", 255) < SmartKey("d1", 256));
  // A file key of slot 1 sorts after every path of slot 0.
  CHECK(FileKey(0, "\xff\xff") < FileKey(1, ""));
}

// --- golden values ----------------------------------------------------------

TEST_CASE("records: the block value of the docs/FORMAT.md example, byte for byte",
          "[manifest][records][unit]") {
  const std::string value =
      Hex("01 01 01 b13e1f2cfa0a74f4ffa20efa1c0051f5 02 00 e8e19b8381dc9eeb31 00");
  CHECK(ToHex(EncodeBlock(SampleBlock())) == ToHex(value));
  BlockRecord b;
  REQUIRE_OK(DecodeBlock(BlockKey(0, 0), value, &b));
  CheckSame(b, SampleBlock());

  // The flags byte: bit 0 past_zero, bit 1 scrubbed; a dirty block has no hash.
  BlockRecord dirty;
  dirty.slot = 4;
  dirty.pos = 6;
  dirty.state = BlockState::kDirty;
  dirty.file_id = 300;
  dirty.file_block = 1;
  dirty.verified_ns = 0;
  dirty.past_zero = true;
  CHECK(ToHex(EncodeBlock(dirty)) == "010200ac02010001");
  BlockRecord scrubbed = SampleBlock();
  scrubbed.scrubbed = true;
  CHECK(ToHex(EncodeBlock(scrubbed)).ends_with("02"));
}

TEST_CASE("records: disk, file and file id values have the layout of docs/FORMAT.md",
          "[manifest][records][unit]") {
  // ver 2, role 0 (data), index 3, path, device, fs_type, uuid (empty),
  // serial, is_mount_point, next_pos 300, files 2, bytes 1, parity_size 0,
  // then (schema 4) directories, symlinks, hard links, special files.
  const std::string disk_v1 = Hex("01 00 03 07") + "/mnt/d1" + Hex("09") + "/dev/sdb1" + Hex("04") +
                              "ext4" + Hex("00 02") + "S1" + Hex("01 ac02 02 01 00");
  const std::string disk = Hex("02") + disk_v1.substr(1) + Hex("00 00 00 00");
  CHECK(ToHex(EncodeDisk(SampleDisk())) == ToHex(disk));
  DiskRecord d;
  REQUIRE_OK(DecodeDisk("d1", disk, &d));
  CheckSame(d, SampleDisk());
  // A value written before schema 4 is still read, with no entry counts.
  DiskRecord old_disk;
  REQUIRE_OK(DecodeDisk("d1", disk_v1, &old_disk));
  CheckSame(old_disk, SampleDisk());

  // ver 2, file_id 7, size 300, mtime -2 (zig-zag 3), inode 16384, mode
  // 0100644, uid 1000, gid 0, 2 extents (5+2, 300+1), content, then
  // (schema 4) ctime 0, no xattrs, no holes.
  const std::string head = Hex("07 ac02 03 808001 a48302 e807 00 02 05 02 ac02 01");
  const std::string file = Hex("02") + head + Hex("01") + Hex(kHashAHex) + Hex("00 00 00");
  CHECK(ToHex(EncodeFile(SampleFile())) == ToHex(file));
  FileRecord f;
  REQUIRE_OK(DecodeFile(FileKey(1, "Movies/a.mkv"), file, &f));
  CheckSame(f, SampleFile());
  // Without content identity: the bool is 0 and no hash follows.
  FileRecord partial = SampleFile();
  partial.content.reset();
  CHECK(ToHex(EncodeFile(partial)) == ToHex(Hex("02") + head + Hex("00") + Hex("00 00 00")));
  // Version 1 (before schema 4) is read: no ctime, xattrs or holes.
  FileRecord old_file;
  REQUIRE_OK(DecodeFile(FileKey(1, "Movies/a.mkv"), Hex("01") + head + Hex("01") + Hex(kHashAHex), &old_file));
  CheckSame(old_file, SampleFile());
  // Schema 4 fields: ctime 5 (zig-zag 0a), one xattr, one hole.
  FileRecord rich = SampleFile();
  rich.ctime_ns = 5;
  rich.xattrs = {Xattr{"user.a", std::string("v\0w", 3)}};
  rich.holes = {ByteRange{4096, 8192}};
  const std::string rich_value = EncodeFile(rich);
  CHECK(ToHex(rich_value).ends_with(ToHex(Hex("0a 01 06") + "user.a" + Hex("03") + std::string("v\0w", 3) +
                                          Hex("01 8020 8040"))));
  FileRecord rich_back;
  REQUIRE_OK(DecodeFile(FileKey(1, "Movies/a.mkv"), rich_value, &rich_back));
  CHECK(rich_back.ctime_ns == 5);
  CHECK(rich_back.xattrs == rich.xattrs);
  CHECK(rich_back.holes == rich.holes);

  // An entry: ver, kind 2 (symlink), mode 0120777, uid 1000, gid 0, mtime
  // -2, ctime 1 (zig-zag 02), inode 9, rdev 0, target, no xattrs.
  EntryRecord e;
  e.slot = 1;
  e.path = "latest.mkv";
  e.kind = EntryKind::kSymlink;
  e.mode = 0120777;
  e.uid = 1000;
  e.mtime_ns = -2;
  e.ctime_ns = 1;
  e.inode = 9;
  e.target = "Movies/a.mkv";
  const std::string entry = Hex("01 02 ffc302 e807 00 03 02 09 00 0c") + "Movies/a.mkv" + Hex("00");
  CHECK(ToHex(EncodeEntry(e)) == ToHex(entry));
  EntryRecord e_back;
  REQUIRE_OK(DecodeEntry(EntryKey(1, "latest.mkv"), entry, &e_back));
  CHECK(e_back.path == "latest.mkv");
  CHECK(e_back.kind == EntryKind::kSymlink);
  CHECK(e_back.mode == 0120777);
  CHECK(e_back.target == "Movies/a.mkv");
  CHECK(e_back.mtime_ns == -2);
  CHECK(e_back.inode == 9);
  // Cut anywhere, or an unknown kind: corruption.
  for (std::size_t n = 1; n < entry.size(); ++n) {
    EntryRecord cut;
    CHECK(DecodeEntry(EntryKey(1, "latest.mkv"), entry.substr(0, n), &cut).code() == Code::kCorruption);
  }
  std::string bad_kind = entry;
  bad_kind[1] = 9;
  CHECK(DecodeEntry(EntryKey(1, "latest.mkv"), bad_kind, &e_back).code() == Code::kCorruption);

  // ver, fixed16 slot, path.
  CHECK(ToHex(EncodeFileId(0x0102, "Movies/a.mkv")) == ToHex(Hex("01 0102") + "Movies/a.mkv"));
  std::uint16_t slot = 0;
  std::string path;
  REQUIRE_OK(DecodeFileId(Hex("01 0102") + "Movies/a.mkv", &slot, &path));
  CHECK(slot == 0x0102);
  CHECK(path == "Movies/a.mkv");
}

TEST_CASE(
    "records: parity checksum, run, finding and alert values have the layout of docs/FORMAT.md",
    "[manifest][records][unit]") {
  // ver, 2 levels, each level's hash, the data digest.
  const std::string sums = Hex("01 02") + Hex(kHashAHex) + Hex(kHashBHex) + Hex(kHashAHex);
  CHECK(ToHex(EncodeParityHash(SampleParityHash())) == ToHex(sums));
  ParityHashRecord p;
  REQUIRE_OK(DecodeParityHash(ParityHashKey(9), sums, &p));
  CHECK(p.pos == 9);
  CHECK(p.levels == SampleParityHash().levels);
  CHECK(p.data_digest == kHashA);

  // ver, command, start -1, end 2, exit code 1, summary.
  const std::string run = Hex("01 04") + "sync" + Hex("01 04 02 02") + "ok";
  CHECK(ToHex(EncodeRun(SampleRun())) == ToHex(run));
  RunRecord r;
  REQUIRE_OK(DecodeRun(run, &r));
  CHECK(r.command == "sync");
  CHECK(r.start_ns == -1);
  CHECK(r.end_ns == 2);
  CHECK(r.exit_code == 1);
  CHECK(r.summary == "ok");

  // ver, severity 2, kind, disk, path, message, from (empty), has_offset,
  // offset 131072, first_seen 1, last_seen 2.
  const std::string finding = Hex("01 02 0a") + "read_error" + Hex("02") + "d1" + Hex("05") +
                              "a.mkv" + Hex("01") + "m" + Hex("00 01 808008 02 04");
  CHECK(ToHex(EncodeFinding(SampleFinding())) == ToHex(finding));
  StoredFinding s;
  REQUIRE_OK(DecodeFinding(finding, &s));
  CheckSame(s.finding, SampleFinding().finding);
  CHECK(s.first_seen_ns == 1);
  CHECK(s.last_seen_ns == 2);

  // ver, severity 1, kind, disk, path (empty), message, command,
  // first_seen 1, last_sent 0, flags open|recorded, 2 channels owed.
  const std::string alert = Hex("01 01 08") + "unsynced" + Hex("02") + "d1" + Hex("00 01") + "m" +
                            Hex("04") + "sync" + Hex("02 00 03 02 03") + "abc" + Hex("00");
  CHECK(ToHex(EncodeAlertState(SampleAlertState())) == ToHex(alert));
  AlertStateRecord a;
  REQUIRE_OK(DecodeAlertState(AlertStateKey(SampleAlertState().fingerprint), alert, &a));
  CheckSame(a, SampleAlertState());
}

TEST_CASE("records: the SMART value has the layout of docs/FORMAT.md",
          "[manifest][records][unit]") {
  // ver, state 2 (warning), protocol 1 (nvme), source, model, serial,
  // firmware, overall 2 (not reported), temperature -3, no power-on hours,
  // spare threshold 10; one attribute: key, name, id 0, no value, worst 5,
  // threshold -1, prefail, raw 300, count 7; one finding: severity 1, kind,
  // message.
  const std::string smart =
      Hex("01 02 01 0a") + "/dev/nvme0" + Hex("01") + "M" + Hex("01") + "S" + Hex("01") + "F" +
      Hex("02 01 05 00 01 0a") + Hex("01 0c") + "media_errors" + Hex("0c") + "media_errors" +
      Hex("00 00 01 0a 01 01 01 ac02 07") + Hex("01 01 0d") + "smart_warning" + Hex("01") + "x";
  CHECK(ToHex(EncodeSmart(SampleSmart())) == ToHex(smart));
  SmartRecord s;
  REQUIRE_OK(DecodeSmart(SmartKey("d1", 5), smart, &s));
  CheckSame(s, SampleSmart());
}

// --- round trips at the edges ----------------------------------------------

TEST_CASE("records: disk and file values round-trip at the edges of every field",
          "[manifest][records][unit]") {
  for (const std::string& text : EdgeStrings()) {
    INFO("string of " << text.size() << " bytes");
    DiskRecord d;
    d.name = text;
    d.role = DiskRole::kParity;
    d.index = 0xffff;
    d.path = text;
    d.identity = {
        .device = text, .fs_type = text, .uuid = text, .serial = text, .is_mount_point = false};
    d.next_pos = kMaxU64;
    d.files = kMaxU64;
    d.bytes = kMaxU64;
    d.parity_size = kMaxU64;
    DiskRecord got;
    REQUIRE_OK(DecodeDisk(d.name, EncodeDisk(d), &got));
    CheckSame(got, d);

    FileRecord f;
    f.slot = 0xffff;
    f.path = text;
    f.file_id = kMaxU64;
    f.size = kMaxU64;
    f.inode = kMaxU64;
    f.mode = std::numeric_limits<std::uint32_t>::max();
    f.uid = std::numeric_limits<std::uint32_t>::max();
    f.gid = std::numeric_limits<std::uint32_t>::max();
    f.extents = {{.start = 0, .count = 0}, {.start = kMaxU64, .count = kMaxU64}};
    for (std::int64_t mtime : {std::int64_t{0}, std::int64_t{-1}, kMinI64, kMaxI64}) {
      f.mtime_ns = mtime;
      FileRecord back;
      REQUIRE_OK(DecodeFile(FileKey(f.slot, f.path), EncodeFile(f), &back));
      CheckSame(back, f);
    }
    // Zero everywhere, no extents (an empty file), no content.
    FileRecord empty;
    empty.path = text;
    FileRecord back;
    REQUIRE_OK(DecodeFile(FileKey(0, text), EncodeFile(empty), &back));
    CheckSame(back, empty);

    std::uint16_t slot = 1;
    std::string path = "not this";
    REQUIRE_OK(DecodeFileId(EncodeFileId(0, text), &slot, &path));
    CHECK(slot == 0);
    CHECK(path == text);
  }
}

TEST_CASE("records: block and parity checksum values round-trip at the edges",
          "[manifest][records][unit]") {
  for (BlockState state : {BlockState::kSynced, BlockState::kDirty, BlockState::kDeleted}) {
    for (int flags = 0; flags < 4; ++flags) {
      BlockRecord b;
      b.slot = 0xffff;
      b.pos = kMaxU64;
      b.state = state;
      if (state != BlockState::kDirty)
        b.hash = Hash128{.lo = kMaxU64, .hi = 0};
      b.file_id = state == BlockState::kDeleted ? 0 : kMaxU64;
      b.file_block = kMaxU64;
      b.verified_ns = flags % 2 == 0 ? kMinI64 : kMaxI64;
      b.past_zero = (flags & 1) != 0;
      b.scrubbed = (flags & 2) != 0;
      INFO("state " << static_cast<int>(state) << " flags " << flags);
      BlockRecord got;
      REQUIRE_OK(DecodeBlock(BlockKey(b.slot, b.pos), EncodeBlock(b), &got));
      CheckSame(got, b);
    }
  }
  // No level (a manifest with no parity yet) up to the most the format allows.
  for (std::size_t levels = 0; levels <= 6; ++levels) {
    ParityHashRecord p{.pos = kMaxU64, .levels = {}, .data_digest = Hash128{}};
    for (std::size_t l = 0; l < levels; ++l)
      p.levels.push_back(Hash128{.lo = l, .hi = kMaxU64 - l});
    ParityHashRecord got;
    REQUIRE_OK(DecodeParityHash(ParityHashKey(p.pos), EncodeParityHash(p), &got));
    CHECK(got.pos == kMaxU64);
    CHECK(got.levels == p.levels);
    CHECK(got.data_digest == Hash128{});
  }
}

TEST_CASE("records: finding, alert, run and SMART values round-trip at the edges",
          "[manifest][records][unit]") {
  for (const std::string& text : EdgeStrings()) {
    INFO("string of " << text.size() << " bytes");
    StoredFinding s;
    s.finding = MakeFinding(FindingKind::kMoveMismatch, text, text, text);
    s.finding.from = text;
    s.first_seen_ns = kMinI64;
    s.last_seen_ns = kMaxI64;
    for (std::optional<std::uint64_t> offset :
         {std::optional<std::uint64_t>(), std::optional<std::uint64_t>(0),
          std::optional<std::uint64_t>(kMaxU64)}) {
      s.finding.offset = offset;
      StoredFinding got;
      REQUIRE_OK(DecodeFinding(EncodeFinding(s), &got));
      CheckSame(got.finding, s.finding);
      CHECK(got.first_seen_ns == kMinI64);
      CHECK(got.last_seen_ns == kMaxI64);
    }

    AlertStateRecord a;
    a.fingerprint = text;
    a.finding = MakeFinding(FindingKind::kSilentCorruption, text, text, text);
    a.command = text;
    a.first_seen_ns = kMaxI64;
    a.last_sent_ns = kMinI64;
    a.pending = {text, "", text};
    for (int flags = 0; flags < 4; ++flags) {
      a.open = (flags & 1) != 0;
      a.recorded = (flags & 2) != 0;
      AlertStateRecord got;
      REQUIRE_OK(DecodeAlertState(AlertStateKey(text), EncodeAlertState(a), &got));
      CheckSame(got, a);
    }

    for (int exit_code :
         {0, 1, -1, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()}) {
      RunRecord r{.command = text,
                  .start_ns = kMinI64,
                  .end_ns = kMaxI64,
                  .exit_code = exit_code,
                  .summary = text};
      RunRecord got;
      REQUIRE_OK(DecodeRun(EncodeRun(r), &got));
      CHECK(got.command == text);
      CHECK(got.start_ns == kMinI64);
      CHECK(got.end_ns == kMaxI64);
      CHECK(got.exit_code == exit_code);
      CHECK(got.summary == text);
    }

    // The disk name is in the key: any byte but NUL.
    SmartRecord sm = SampleSmart();
    sm.disk = text;
    sm.time_ns = kMinI64;
    sm.reading.source = sm.reading.model = sm.reading.serial = sm.reading.firmware = text;
    sm.reading.overall_passed = true;
    sm.reading.temperature_c = kMinI64;
    sm.reading.power_on_hours = kMaxU64;
    sm.reading.nvme_spare_threshold = kMaxU64;
    SmartAttribute attr;
    attr.key = attr.name = text;
    attr.id = 255;
    attr.value = std::numeric_limits<int>::max();
    attr.worst = std::numeric_limits<int>::min();
    attr.threshold = 0;
    attr.raw = kMaxU64;
    attr.count = kMaxU64;
    sm.reading.attributes = {attr, SmartAttribute()};
    sm.findings = {MakeFinding(FindingKind::kSmartFailing, sm.disk, "", text)};
    for (SmartState state : {SmartState::kOk, SmartState::kWarning, SmartState::kFailing}) {
      sm.state = sm.reading.state = state;
      sm.reading.overall_passed = state == SmartState::kOk;
      SmartRecord got;
      REQUIRE_OK(DecodeSmart(SmartKey(sm.disk, sm.time_ns), EncodeSmart(sm), &got));
      CheckSame(got, sm);
    }
  }
}

// --- what does not decode ---------------------------------------------------

// Every strict prefix of `value` is a decode error naming `record`.
template <typename Decode>
void CheckEveryTruncation(const std::string& value, const std::string& record, Decode decode) {
  for (std::size_t n = 0; n < value.size(); ++n) {
    INFO(record << " cut to " << n << " of " << value.size() << " bytes");
    CheckMalformed(decode(value.substr(0, n)), record);
  }
}

TEST_CASE("records: a truncated value of any kind is a corruption error naming the record",
          "[manifest][records][unit]") {
  CheckEveryTruncation(EncodeDisk(SampleDisk()), "disk", [](const std::string& v) {
    DiskRecord d;
    Status s = DecodeDisk("d1", v, &d);
    // Past the version byte, the message names the disk too.
    if (!v.empty())
      CHECK(s.ToString().find("manifest record disk d1 is malformed") != std::string::npos);
    return s;
  });
  CheckEveryTruncation(EncodeFile(SampleFile()), "file", [](const std::string& v) {
    FileRecord f;
    Status s = DecodeFile(FileKey(1, "Movies/a.mkv"), v, &f);
    // Past the version byte, the message names the file too.
    if (!v.empty())
      CHECK(s.ToString().find("manifest record file Movies/a.mkv is malformed") !=
            std::string::npos);
    return s;
  });
  // A file id value ends with the path, which runs to the end of the value:
  // only a cut into the version byte or the slot can be told.
  CheckEveryTruncation(EncodeFileId(1, ""), "file id", [](const std::string& v) {
    std::uint16_t slot = 0;
    std::string path;
    return DecodeFileId(v, &slot, &path);
  });
  CheckEveryTruncation(EncodeBlock(SampleBlock()), "block", [](const std::string& v) {
    BlockRecord b;
    return DecodeBlock(BlockKey(0, 0), v, &b);
  });
  CheckEveryTruncation(EncodeParityHash(SampleParityHash()), "parity checksum",
                       [](const std::string& v) {
                         ParityHashRecord p;
                         return DecodeParityHash(ParityHashKey(9), v, &p);
                       });
  CheckEveryTruncation(EncodeFinding(SampleFinding()), "finding", [](const std::string& v) {
    StoredFinding s;
    return DecodeFinding(v, &s);
  });
  CheckEveryTruncation(EncodeAlertState(SampleAlertState()), "alert state",
                       [](const std::string& v) {
                         AlertStateRecord a;
                         return DecodeAlertState(AlertStateKey("fp"), v, &a);
                       });
  CheckEveryTruncation(EncodeRun(SampleRun()), "run", [](const std::string& v) {
    RunRecord r;
    return DecodeRun(v, &r);
  });
  CheckEveryTruncation(EncodeSmart(SampleSmart()), "smart reading", [](const std::string& v) {
    SmartRecord s;
    return DecodeSmart(SmartKey("d1", 5), v, &s);
  });
}

TEST_CASE("records: a value with another version byte is refused, whatever follows",
          "[manifest][records][unit]") {
  for (char version : {'\x00', '\x02', '\x03', '\xff'}) {
    INFO("version byte " << static_cast<int>(static_cast<unsigned char>(version)));
    auto rewrite = [&](std::string v) {
      v[0] = version;
      return v;
    };
    // Disk and file values have two versions (1 before schema 4, 2 since):
    // a 2 is theirs.
    if (version != '\x02') {
      DiskRecord d;
      CheckMalformed(DecodeDisk("d1", rewrite(EncodeDisk(SampleDisk())), &d), "disk");
      FileRecord f;
      CheckMalformed(DecodeFile(FileKey(1, "a"), rewrite(EncodeFile(SampleFile())), &f), "file");
    }
    EntryRecord e;
    CheckMalformed(DecodeEntry(EntryKey(1, "a"), rewrite(EncodeEntry(EntryRecord())), &e), "entry");
    std::uint16_t slot = 0;
    std::string path;
    CheckMalformed(DecodeFileId(rewrite(EncodeFileId(1, "a")), &slot, &path), "file id");
    BlockRecord b;
    CheckMalformed(DecodeBlock(BlockKey(0, 0), rewrite(EncodeBlock(SampleBlock())), &b), "block");
    ParityHashRecord p;
    CheckMalformed(
        DecodeParityHash(ParityHashKey(9), rewrite(EncodeParityHash(SampleParityHash())), &p),
        "parity checksum");
    StoredFinding s;
    CheckMalformed(DecodeFinding(rewrite(EncodeFinding(SampleFinding())), &s), "finding");
    AlertStateRecord a;
    CheckMalformed(
        DecodeAlertState(AlertStateKey("fp"), rewrite(EncodeAlertState(SampleAlertState())), &a),
        "alert state");
    RunRecord r;
    CheckMalformed(DecodeRun(rewrite(EncodeRun(SampleRun())), &r), "run");
    SmartRecord sm;
    CheckMalformed(DecodeSmart(SmartKey("d1", 5), rewrite(EncodeSmart(SampleSmart())), &sm),
                   "smart reading");
  }
}

TEST_CASE("records: a state, role, severity, flag or kind out of range is a corruption error",
          "[manifest][records][unit]") {
  // Each case rewrites one byte of a valid value (or swaps the kind name).
  auto with_byte = [](std::string v, std::size_t at, int byte) {
    v[at] = static_cast<char>(byte);
    return v;
  };

  const std::string disk = EncodeDisk(SampleDisk());
  DiskRecord d;
  CheckMalformed(DecodeDisk("d1", with_byte(disk, 1, 2), &d), "disk d1");  // role 2

  const std::string block = EncodeBlock(SampleBlock());
  BlockRecord b;
  CheckMalformed(DecodeBlock(BlockKey(0, 0), with_byte(block, 1, 0), &b), "block");  // state 0
  CheckMalformed(DecodeBlock(BlockKey(0, 0), with_byte(block, 1, 4), &b), "block");  // state 4
  CheckMalformed(DecodeBlock(BlockKey(0, 0), with_byte(block, block.size() - 1, 4), &b),
                 "block");  // flags

  // More parity levels than an array can have.
  ParityHashRecord p;
  std::string seven = Hex("01 07");
  for (int l = 0; l < 8; ++l) seven += Hex(kHashAHex);
  CheckMalformed(DecodeParityHash(ParityHashKey(9), seven, &p), "parity checksum");

  const std::string finding = EncodeFinding(SampleFinding());
  StoredFinding s;
  CheckMalformed(DecodeFinding(with_byte(finding, 1, 3), &s), "finding");  // severity 3
  StoredFinding unknown = SampleFinding();
  std::string renamed = finding;
  renamed.replace(renamed.find("read_error"), 10, "read_erro!");
  CheckMalformed(DecodeFinding(renamed, &unknown), "finding kind read_erro!");

  const std::string alert = EncodeAlertState(SampleAlertState());
  AlertStateRecord a;
  CheckMalformed(DecodeAlertState(AlertStateKey("fp"), with_byte(alert, 1, 3), &a), "alert state");
  // The flags byte sits after the command, first_seen and last_sent.
  const std::size_t flags_at = alert.find(Hex("04") + "sync") + 5 + 2;
  REQUIRE(alert[flags_at] == 3);
  CheckMalformed(DecodeAlertState(AlertStateKey("fp"), with_byte(alert, flags_at, 4), &a),
                 "alert state");

  const std::string smart = EncodeSmart(SampleSmart());
  SmartRecord sm;
  CheckMalformed(DecodeSmart(SmartKey("d1", 5), with_byte(smart, 1, 5), &sm),
                 "smart reading");  // state
  CheckMalformed(DecodeSmart(SmartKey("d1", 5), with_byte(smart, 2, 3), &sm),
                 "smart reading");  // protocol
  const std::size_t overall_at = smart.find("F") + 1;
  REQUIRE(smart[overall_at] == 2);
  CheckMalformed(DecodeSmart(SmartKey("d1", 5), with_byte(smart, overall_at, 3), &sm),
                 "smart reading");
  std::string smart_kind = smart;
  smart_kind.replace(smart_kind.find("smart_warning"), 13, "smart_warnin!");
  CheckMalformed(DecodeSmart(SmartKey("d1", 5), smart_kind, &sm),
                 "smart reading finding kind smart_warnin!");
}

TEST_CASE(
    "records: counts and lengths larger than the value are refused before anything is allocated",
    "[manifest][records][unit]") {
  // A count or a length that claims more than the value holds (bit rot in a
  // length byte) is an error, not a huge allocation or a read past the end.
  FileRecord f;
  CheckMalformed(
      DecodeFile(FileKey(1, "a"), Hex("01 07 00 00 00 00 00 00 ffffffffffffffffff01"), &f),
      "file a");
  DiskRecord d;
  CheckMalformed(DecodeDisk("d1", Hex("01 00 00 ffffffffffffffffff01"), &d), "disk d1");
  StoredFinding s;
  CheckMalformed(DecodeFinding(Hex("01 02 ffffffff0f"), &s), "finding");
  AlertStateRecord a;
  std::string alert = EncodeAlertState(SampleAlertState());
  const std::size_t n_at = alert.find(Hex("04") + "sync") + 5 + 3;  // after the flags byte
  REQUIRE(alert[n_at] == 2);
  alert = alert.substr(0, n_at) + Hex("ffffffffffffffffff01");
  CheckMalformed(DecodeAlertState(AlertStateKey("fp"), alert, &a), "alert state");
  SmartRecord sm;
  // 4097 attributes: more than any drive reports.
  CheckMalformed(DecodeSmart(SmartKey("d1", 5), Hex("01 01 00 00 00 00 00 02 00 00 00 81 20"), &sm),
                 "smart reading");
  // A varint of more than ten bytes.
  RunRecord r;
  CheckMalformed(DecodeRun(Hex("01 00 ffffffffffffffffffff01"), &r), "run");
}

TEST_CASE("records: keys of the wrong length or prefix are refused", "[manifest][records][unit]") {
  const std::string block = EncodeBlock(SampleBlock());
  BlockRecord b;
  CheckMalformed(DecodeBlock(BlockKey(0, 0).substr(0, 10), block, &b), "block");
  CheckMalformed(DecodeBlock(BlockKey(0, 0) + "x", block, &b), "block");
  CheckMalformed(DecodeBlock("x" + BlockKey(0, 0).substr(1), block, &b), "block");
  FileRecord f;
  CheckMalformed(DecodeFile(std::string("f\0", 2), EncodeFile(SampleFile()), &f), "file");
  CheckMalformed(DecodeFile(BlockKey(0, 0), EncodeFile(SampleFile()), &f), "file");
  ParityHashRecord p;
  CheckMalformed(
      DecodeParityHash(ParityHashKey(9).substr(0, 8), EncodeParityHash(SampleParityHash()), &p),
      "parity checksum");
  AlertStateRecord a;
  CheckMalformed(DecodeAlertState("", EncodeAlertState(SampleAlertState()), &a), "alert state");
  CheckMalformed(DecodeAlertState("gfp", EncodeAlertState(SampleAlertState()), &a), "alert state");
  SmartRecord sm;
  const std::string smart = EncodeSmart(SampleSmart());
  CheckMalformed(DecodeSmart("sd1", smart, &sm), "smart reading");  // no time
  CheckMalformed(DecodeSmart("sd1x12345678", smart, &sm),
                 "smart reading");  // no NUL before the time
}

TEST_CASE("records: bytes after the last field are ignored, as docs/FORMAT.md says",
          "[manifest][records][unit]") {
  // "Bytes after the last field are currently ignored" (Version rules): a
  // value a newer program extended still decodes to what it holds.
  BlockRecord b;
  REQUIRE_OK(DecodeBlock(BlockKey(0, 0), EncodeBlock(SampleBlock()) + "more", &b));
  CheckSame(b, SampleBlock());
  FileRecord f;
  REQUIRE_OK(DecodeFile(FileKey(1, "Movies/a.mkv"), EncodeFile(SampleFile()) + "more", &f));
  CheckSame(f, SampleFile());
  DiskRecord d;
  REQUIRE_OK(DecodeDisk("d1", EncodeDisk(SampleDisk()) + "more", &d));
  CheckSame(d, SampleDisk());
  StoredFinding s;
  REQUIRE_OK(DecodeFinding(EncodeFinding(SampleFinding()) + "more", &s));
  CheckSame(s.finding, SampleFinding().finding);
}

TEST_CASE("records: a varint that overflows 64 bits is a corruption error",
          "[manifest][records][unit]") {
  // docs/FORMAT.md: a varint takes "at most 10 bytes for 64 bits", so the
  // tenth byte can only be 0 or 1. A larger one is corrupt. Regression:
  // coding::Reader::GetVarint (src/core/coding.cc) shifted its bits out of
  // the 64-bit value and returned what was left: here a block's file id
  // 2^64 + 2^63 + 5 decoded as 2^63 + 5, with no error.
  const std::string value = Hex("01 01 01") + Hex(kHashAHex) + Hex("85808080808080808003 00 00 00");
  BlockRecord b;
  CheckMalformed(DecodeBlock(BlockKey(0, 0), value, &b), "block");
}

TEST_CASE("records: the outside host value has the layout of docs/FORMAT.md, and round-trips",
          "[manifest][records][unit][issue-16]") {
  OutsideHostRecord o;
  o.host = "prometheus";
  o.checked_ns = 1;
  o.scanned_files = 300;
  o.only_copy = 1;
  o.duplicates = 0;
  o.attempted_ns = -1;
  o.error = "e";
  Finding f = MakeFinding(FindingKind::kOnlyCopyOutside, "", "prometheus:/a", "m");
  f.from = "d1:x";
  o.findings = {f};
  CHECK(ToHex(OutsideHostKey("prometheus")) == ToHex("oprometheus"));
  // ver, checked 1 (zigzag 02), scanned 300 (ac 02), only copy 1, duplicates
  // 0, attempted -1 (zigzag 01), error "e", one finding: severity 2, kind,
  // disk "", path, message, from.
  const std::string value = Hex("01 02 ac02 01 00 01 01") + "e" + Hex("01 02 11") + "only_copy_outside" +
                            Hex("00 0d") + "prometheus:/a" + Hex("01") + "m" + Hex("04") + "d1:x";
  CHECK(ToHex(EncodeOutsideHost(o)) == ToHex(value));
  OutsideHostRecord got;
  REQUIRE_OK(DecodeOutsideHost(OutsideHostKey("prometheus"), value, &got));
  CHECK(got.host == "prometheus");
  CHECK(got.checked_ns == 1);
  CHECK(got.scanned_files == 300);
  CHECK(got.only_copy == 1);
  CHECK(got.attempted_ns == -1);
  CHECK(got.error == "e");
  REQUIRE(got.findings.size() == 1);
  CHECK(got.findings[0].kind == FindingKind::kOnlyCopyOutside);
  CHECK(got.findings[0].severity == Severity::kCritical);
  CHECK(got.findings[0].path == "prometheus:/a");
  CHECK(got.findings[0].from == "d1:x");

  o.checked_ns = kMinI64;
  o.attempted_ns = kMaxI64;
  o.scanned_files = kMaxU64;
  o.findings.assign(3, f);
  REQUIRE_OK(DecodeOutsideHost(OutsideHostKey("h"), EncodeOutsideHost(o), &got));
  CHECK(got.checked_ns == kMinI64);
  CHECK(got.attempted_ns == kMaxI64);
  CHECK(got.scanned_files == kMaxU64);
  CHECK(got.findings.size() == 3);

  CheckEveryTruncation(EncodeOutsideHost(o), "outside host", [](const std::string& v) {
    OutsideHostRecord r;
    return DecodeOutsideHost(OutsideHostKey("h"), v, &r);
  });
  CheckMalformed(DecodeOutsideHost("o", value, &got), "outside host");
  CheckMalformed(DecodeOutsideHost("xprometheus", value, &got), "outside host");
}

}  // namespace
}  // namespace atlas::records
