// The outside index codec and the scanner, in process.
#include "atlas/outside.h"

#include <string>
#include <vector>

#include <sys/stat.h>

#include "support/fault_fs.h"
#include "support/test_util.h"

namespace atlas {
namespace {

namespace fs = std::filesystem;
using testing::FaultFileSystem;
using testing::Op;

// One key pair for the whole run: signing is deterministic for a key, so
// an index encodes to the same bytes every time.
const OutsideKeyPair& Key() {
  static const OutsideKeyPair key = GenerateOutsideKeyPair();
  return key;
}

Hash128 H(std::uint64_t hi, std::uint64_t lo) {
  return Hash128{.lo = lo, .hi = hi};
}

OutsideIndex Sample() {
  std::vector<OutsideIndexEntry> entries = {
      {.size = 500, .content = H(9, 9), .disk = 1, .path = "Movies/b.mkv"},
      {.size = 100, .content = H(1, 2), .disk = 0, .path = "Music/a.flac"},
      {.size = 500, .content = H(3, 4), .disk = 0, .path = "Movies/x.mkv"},
      {.size = 500, .content = H(3, 4), .disk = 1, .path = "Backup/x copy.mkv"},
      {.size = 7, .content = H(0, 1), .disk = 1, .path = std::string("odd\nname\xff", 10)},
  };
  return OutsideIndex(4096, 1'795'596'427'820'497'012, 1'700'000'000'000'000'000, {"d1", "d2"},
                      std::move(entries));
}

// The content identity sync stores: XXH3-128 over the canonical block hashes.
Hash128 ContentOf(const std::vector<std::byte>& data, std::size_t block_size) {
  Hasher128 h;
  for (std::size_t at = 0; at < data.size(); at += block_size) {
    std::byte raw[16];
    HashBlock(std::span<const std::byte>(data).subspan(at, std::min(block_size, data.size() - at)))
        .ToBytes(raw);
    h.Update(std::span<const std::byte>(raw, 16));
  }
  return h.Digest();
}

TEST_CASE(
    "outside: an index decodes to the entries it was encoded from, sorted by size and content",
    "[outside][unit]") {
  const OutsideIndex a = Sample();
  const std::string bytes = EncodeOutsideIndex(a, Key());
  CHECK(bytes.substr(0, 8) == "ATLASOIX");
  Result<OutsideIndex> b = DecodeOutsideIndex(bytes, "/x/outside.idx", {});
  REQUIRE_OK(b);
  CHECK(b->block_size() == 4096);
  CHECK(b->created_ns() == 1'795'596'427'820'497'012);
  CHECK(b->first_sync_ns() == 1'700'000'000'000'000'000);
  CHECK(b->disks() == std::vector<std::string>{"d1", "d2"});
  REQUIRE(b->entries() == a.entries());
  std::vector<std::uint64_t> sizes;
  for (const OutsideIndexEntry& e : b->entries()) sizes.push_back(e.size);
  CHECK(sizes == std::vector<std::uint64_t>{7, 100, 500, 500, 500});
  CHECK(b->HasSize(500));
  CHECK_FALSE(b->HasSize(501));
  std::span<const OutsideIndexEntry> x = b->Find(500, H(3, 4));
  REQUIRE(x.size() == 2);
  CHECK(b->Where(x[0]) == "d1:Movies/x.mkv");
  CHECK(b->Where(x[1]) == "d2:Backup/x copy.mkv");
  CHECK(b->Find(500, H(3, 5)).empty());
  CHECK(b->Find(100, H(3, 4)).empty());
  // Re-encoding gives the same bytes: the format has one spelling.
  CHECK(EncodeOutsideIndex(*b, Key()) == bytes);
}

TEST_CASE("outside: an empty index is valid and matches nothing", "[outside][unit]") {
  const std::string bytes = EncodeOutsideIndex(OutsideIndex(65536, 5, 0, {}, {}), Key());
  Result<OutsideIndex> b = DecodeOutsideIndex(bytes, "i", {});
  REQUIRE_OK(b);
  CHECK(b->entries().empty());
  CHECK_FALSE(b->HasSize(0));
  CHECK(b->block_size() == 65536);
}

TEST_CASE("outside: every truncation of an index is refused as corrupt, naming the file",
          "[outside][unit]") {
  const std::string bytes = EncodeOutsideIndex(Sample(), Key());
  for (std::size_t n = 8; n < bytes.size(); ++n) {
    Result<OutsideIndex> r =
        DecodeOutsideIndex(std::string_view(bytes).substr(0, n), "/mnt/a/outside.idx", {});
    INFO("length " << n);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kCorruption);
    CHECK(r.status().ToString().find("/mnt/a/outside.idx: outside index is corrupt or truncated") ==
          0);
    CHECK(r.status().ToString().find("run `atlas-scrub sync` on Atlas") != std::string::npos);
  }
}

TEST_CASE("outside: a changed byte anywhere in an index is refused", "[outside][unit]") {
  const std::string bytes = EncodeOutsideIndex(Sample(), Key());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    Result<OutsideIndex> r = DecodeOutsideIndex(bad, "i", {});
    INFO("byte " << i);
    REQUIRE_FALSE(r.ok());
    // The magic (foreign), then the version (0x0102 or 3: newer), then the
    // checksum, and after it the signature, guard every other byte.
    if (i < 8) {
      CHECK(r.status().code() == Code::kInvalidArgument);
    } else if (i == 8 || i == 9) {
      CHECK(r.status().code() == Code::kFailedPrecondition);
    } else {
      CHECK(r.status().code() == Code::kCorruption);
    }
  }
}

TEST_CASE("outside: a foreign file is not an index, and the error names it", "[outside][unit]") {
  for (std::string foreign :
       {std::string(), std::string("ATLAS"), std::string("hello world, not an index")}) {
    Result<OutsideIndex> r = DecodeOutsideIndex(foreign, "/tmp/movie.mkv", {});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(r.status().ToString().find("/tmp/movie.mkv: not an atlas-scrub outside index") == 0);
  }
}

TEST_CASE("outside: an index from a newer atlas-scrub is refused with 'upgrade'",
          "[outside][unit]") {
  std::string bytes = EncodeOutsideIndex(Sample(), Key());
  bytes[9] = 3;  // version 3, big-endian fixed16 at offset 8
  Result<OutsideIndex> r = DecodeOutsideIndex(bytes, "/i", {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kFailedPrecondition);
  CHECK(r.status().ToString().find("upgrade atlas-scrub") != std::string::npos);
}

TEST_CASE("outside: a missing --index file is a usage error naming it", "[outside][unit]") {
  testing::TempDir dir;
  Result<OutsideIndex> r = ReadOutsideIndex(dir / "nope.idx", {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidArgument);
  CHECK(r.status().ToString().find((dir / "nope.idx").string() + ": no such outside index") == 0);
}

TEST_CASE("outside: a directory given as --index is a usage error pointing at the file in it",
          "[outside][unit]") {
  testing::TempDir dir;
  Result<OutsideIndex> r = ReadOutsideIndex(dir.path(), {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidArgument);
  CHECK(r.status().ToString().find(dir.path().string() + " is a directory; pass the outside.idx file") ==
        0);
}

TEST_CASE("outside: the newest valid index of the manifest copies is used", "[outside][unit]") {
  testing::TempDir dir;
  fs::create_directories(dir / "c1");
  fs::create_directories(dir / "c2");
  fs::create_directories(dir / "c3");
  testing::WriteFile(dir / "c1/outside.idx",
                     EncodeOutsideIndex(OutsideIndex(4096, 100, 0, {"d1"}, {}), Key()));
  testing::WriteFile(dir / "c2/outside.idx",
                     EncodeOutsideIndex(OutsideIndex(4096, 200, 0, {"d1"}, {}), Key()));
  testing::WriteFile(dir / "c3/outside.idx", std::string("ATLASOIX truncated"));
  fs::path used;
  Result<OutsideIndex> r =
      FindOutsideIndex({dir / "c1", dir / "c3", dir / "c2", dir / "c4"}, {}, &used);
  REQUIRE_OK(r);
  CHECK(r->created_ns() == 200);
  CHECK(used == dir / "c2/outside.idx");

  Result<OutsideIndex> none = FindOutsideIndex({dir / "c4", dir / "c5"}, {}, &used);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == Code::kNotFound);
  CHECK(none.status().ToString().find((dir / "c4/outside.idx").string()) != std::string::npos);
  Result<OutsideIndex> bad = FindOutsideIndex({dir / "c3"}, {}, &used);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::kCorruption);
}

// The bytes of `index` in version 1, the unsigned format before issue 14:
// the version 2 header without the signer, the same body, the checksum.
std::string EncodeVersion1(const OutsideIndex& index) {
  const std::string v2 = EncodeOutsideIndex(index, Key());
  constexpr std::size_t kHeader = 8 + 2 + 8 + 8 + 8 + 8;
  std::string v1 = v2.substr(0, kHeader);
  v1[9] = 1;
  v1 += v2.substr(kHeader + 32, v2.size() - kHeader - 32 - 16 - 64);
  const Hash128 sum = HashBlock(std::as_bytes(std::span<const char>(v1.data(), v1.size())));
  std::byte raw[16];
  sum.ToBytes(raw);
  v1.append(reinterpret_cast<const char*>(raw), 16);
  return v1;
}

TEST_CASE("outside: an index is verified only against the trusted key it was signed with",
          "[outside][unit][issue-14]") {
  const std::string bytes = EncodeOutsideIndex(Sample(), Key());
  // No key: read, its signer known, not verified.
  Result<OutsideIndex> open = DecodeOutsideIndex(bytes, "/i", {});
  REQUIRE_OK(open);
  CHECK(open->version() == 2);
  CHECK(open->signer() == Key().public_key);
  CHECK_FALSE(open->verified());
  // Its own key: verified.
  Result<OutsideIndex> good = DecodeOutsideIndex(bytes, "/i", {.trusted_key = Key().public_key});
  REQUIRE_OK(good);
  CHECK(good->verified());
  CHECK(good->entries() == open->entries());
  // Another key (a user's own pair): refused, naming both keys.
  const OutsideKeyPair other = GenerateOutsideKeyPair();
  Result<OutsideIndex> forged = DecodeOutsideIndex(EncodeOutsideIndex(Sample(), other), "/i",
                                                   {.trusted_key = Key().public_key});
  REQUIRE_FALSE(forged.ok());
  CHECK(forged.status().code() == Code::kFailedPrecondition);
  CHECK(forged.status().ToString() ==
        "/i: outside index is signed by key " + FormatOutsideKey(other.public_key) +
            ", not by the trusted key " + FormatOutsideKey(Key().public_key) +
            "; it was not written by that Atlas (someone may have planted it), so it is not used");
}

TEST_CASE("outside: an index changed after signing fails its signature even with a fixed checksum",
          "[outside][unit][issue-14]") {
  std::string bytes = EncodeOutsideIndex(Sample(), Key());
  // Change a path and recompute the checksum, as anyone can.
  const std::size_t at = bytes.find("Movies/x.mkv");
  REQUIRE(at != std::string::npos);
  bytes[at] = 'N';
  const std::size_t body = bytes.size() - 16 - 64;
  const Hash128 sum = HashBlock(std::as_bytes(std::span<const char>(bytes.data(), body)));
  std::byte raw[16];
  sum.ToBytes(raw);
  bytes.replace(body, 16, reinterpret_cast<const char*>(raw), 16);
  for (const OutsideTrust& trust :
       {OutsideTrust{}, OutsideTrust{.trusted_key = Key().public_key}}) {
    Result<OutsideIndex> r = DecodeOutsideIndex(bytes, "/i", trust);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kCorruption);
    CHECK(r.status().ToString().find("its signature does not match its bytes") !=
          std::string::npos);
  }
}

TEST_CASE("outside: a version 1 index is read unverified without a key and refused with one",
          "[outside][unit][issue-14]") {
  const std::string v1 = EncodeVersion1(Sample());
  Result<OutsideIndex> r = DecodeOutsideIndex(v1, "/old.idx", {});
  REQUIRE_OK(r);
  CHECK(r->version() == 1);
  CHECK(r->signer().empty());
  CHECK_FALSE(r->verified());
  CHECK(r->entries() == Sample().entries());
  Result<OutsideIndex> keyed =
      DecodeOutsideIndex(v1, "/old.idx", {.trusted_key = Key().public_key});
  REQUIRE_FALSE(keyed.ok());
  CHECK(keyed.status().code() == Code::kFailedPrecondition);
  CHECK(keyed.status().ToString().find("/old.idx: outside index version 1 is not signed") == 0);
}

TEST_CASE("outside: a key prints as ed25519:BASE64 and parses back; anything else is refused",
          "[outside][unit][issue-14]") {
  const std::string text = FormatOutsideKey(Key().public_key);
  CHECK(text.rfind("ed25519:", 0) == 0);
  CHECK(text.size() == 8 + 44);
  Result<std::string> back = ParseOutsideKey(text);
  REQUIRE_OK(back);
  CHECK(*back == Key().public_key);
  for (const std::string& bad : {std::string(), text.substr(8), "ed25519:" + text.substr(9),
                                text + "A", "rsa:" + text.substr(8)}) {
    INFO(bad);
    Result<std::string> r = ParseOutsideKey(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("outside: a FIFO, a device or a too large file is refused as an index before any read",
          "[outside][unit][issue-14]") {
  testing::TempDir dir;
  const fs::path fifo = dir / "fifo.idx";
  REQUIRE(mkfifo(fifo.c_str(), 0644) == 0);
  Result<OutsideIndex> f = ReadOutsideIndex(fifo, {});  // would block for ever on a plain open
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().code() == Code::kInvalidArgument);
  CHECK(f.status().ToString() == fifo.string() +
                                     " is not a regular file (it is a FIFO); an outside index is "
                                     "the regular file sync writes");
  fs::create_symlink("/dev/zero", dir / "zero.idx");
  Result<OutsideIndex> z = ReadOutsideIndex(dir / "zero.idx", {});
  REQUIRE_FALSE(z.ok());
  CHECK(z.status().ToString().find("it is a character device") != std::string::npos);
  // Sparse: no bytes written, one past the cap.
  const fs::path big = dir / "big.idx";
  testing::WriteFile(big, std::string("ATLASOIX"));
  fs::resize_file(big, kOutsideIndexMaxBytes + 1);
  Result<OutsideIndex> b = ReadOutsideIndex(big, {});
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().code() == Code::kInvalidArgument);
  CHECK(b.status().ToString().find(
            "more than the largest outside index atlas-scrub reads (2147483648 bytes)") !=
        std::string::npos);
  // In a manifest copy directory, a symlink is not followed at all.
  fs::create_directories(dir / "copy");
  fs::create_symlink("/dev/zero", dir / "copy/outside.idx");
  fs::path used;
  Result<OutsideIndex> c = FindOutsideIndex({dir / "copy"}, {}, &used);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().ToString().find("is a symbolic link, and sync never writes one there") !=
        std::string::npos);
}

// A compute-host tree scanned against a hand-made index, in process.
struct Host {
  testing::TempDir dir;
  std::vector<OutsideIndexEntry> atlas;
  static constexpr std::size_t kBlock = 4096;

  std::vector<std::byte> Put(const std::string& rel, std::size_t size, std::uint64_t seed) {
    std::vector<std::byte> data = testing::RandomBytes(size, seed);
    testing::WriteFile(dir / rel, data);
    return data;
  }
  void OnAtlas(const std::string& disk_path, const std::vector<std::byte>& data) {
    atlas.push_back(
        {.size = data.size(), .content = ContentOf(data, kBlock), .disk = 0, .path = disk_path});
  }
  OutsideIndex Index() { return OutsideIndex(kBlock, 1, 0, {"d1"}, atlas); }
};

OutsideReport Scan(FileSystem* fs, const OutsideIndex& index, std::vector<fs::path> paths,
                   bool all = false) {
  OutsideOptions o;
  o.paths = std::move(paths);
  o.media_extensions = OutsideConfig().media_extensions;
  o.all = all;
  o.threads = 3;
  RunContext ctx{nullptr, fs, Clock::Default(), NullProgress(), {}};
  OutsideReport r;
  REQUIRE_OK(RunOutside(ctx, index, o, &r));
  return r;
}

TEST_CASE("outside: content is matched across every block boundary, exactly as sync hashes it",
          "[outside][unit]") {
  Host h;
  const std::size_t bs = Host::kBlock;
  std::vector<std::size_t> sizes = {1, bs - 1, bs, bs + 1, 3 * bs, 1000 * bs + 7, (4u << 20) + 1};
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    h.OnAtlas("Movies/" + std::to_string(i) + ".mkv",
              h.Put("m/" + std::to_string(i) + ".MKV", sizes[i], i + 1));
  }
  OutsideReport r = Scan(FileSystem::Default(), h.Index(), {h.dir.path()});
  CHECK(r.scanned_files == sizes.size());
  CHECK(r.hashed_files == sizes.size());
  CHECK(r.duplicates == sizes.size());
  CHECK(r.only_copy == 0);
  REQUIRE(r.findings.size() == sizes.size());
  CHECK(r.findings[0].kind == FindingKind::kDuplicateOutside);
  CHECK(r.findings[0].path == (h.dir.path() / "m/0.MKV").string());
  CHECK(r.findings[0].message == "duplicates d1:Movies/0.mkv");
  CHECK(r.findings[0].from == "d1:Movies/0.mkv");
}

TEST_CASE("outside: a file whose size is on no Atlas file is decided without opening it",
          "[outside][unit]") {
  Host h;
  h.OnAtlas("Movies/a.mkv", h.Put("a.mkv", 10'000, 1));
  h.Put("unique.mkv", 10'001, 2);
  FaultFileSystem faulty;
  const int never = faulty.Inject(
      {.path_substr = "unique.mkv", .op = Op::kOpen, .fault = testing::Fault::Errno(EACCES)});
  OutsideReport r = Scan(&faulty, h.Index(), {h.dir.path()});
  CHECK(faulty.rule_fired(never) == 0);
  CHECK(r.errors.empty());
  CHECK(r.hashed_files == 1);
  CHECK(r.hashed_bytes == 10'000);
  REQUIRE(r.findings.size() == 2);
  CHECK(r.findings[0].kind == FindingKind::kDuplicateOutside);
  CHECK(r.findings[1].kind == FindingKind::kOnlyCopyOutside);
  CHECK(r.findings[1].severity == Severity::kCritical);
  CHECK(r.findings[1].message == "no copy on Atlas");
  // Nothing but opens for reading, reads, stats and walks went through.
  CHECK(faulty.hits(Op::kWrite) == 0);
  CHECK(faulty.hits(Op::kRename) == 0);
  CHECK(faulty.hits(Op::kRemove) == 0);
  CHECK(faulty.hits(Op::kTruncate) == 0);
  CHECK(faulty.hits(Op::kSync) == 0);
}

TEST_CASE("outside: a read error on a candidate is an error entry, not a finding",
          "[outside][unit]") {
  Host h;
  h.OnAtlas("Movies/a.mkv", h.Put("a.mkv", 10'000, 1));
  h.Put("b.mkv", 10'000, 2);
  FaultFileSystem faulty;
  faulty.Inject({.path_substr = "b.mkv", .op = Op::kRead, .fault = testing::Fault::Errno(EIO)});
  OutsideReport r = Scan(&faulty, h.Index(), {h.dir.path()});
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].path == (h.dir.path() / "b.mkv").string());
  CHECK(r.errors[0].message.find("Input/output error") != std::string::npos);
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].kind == FindingKind::kDuplicateOutside);
}

TEST_CASE(
    "outside: extensions match case-insensitively; --all takes every file; empty files are skipped",
    "[outside][unit]") {
  Host h;
  h.Put("a.Mkv", 5, 1);
  h.Put("b.FLAC", 6, 2);
  h.Put("c.txt", 7, 3);
  h.Put("mkv", 8, 4);
  h.Put("d.", 9, 5);
  h.Put("e.jpg", 0, 6);
  OutsideReport media = Scan(FileSystem::Default(), h.Index(), {h.dir.path()});
  CHECK(media.scanned_files == 2);
  CHECK(media.scanned_bytes == 11);
  CHECK(media.only_copy == 2);
  OutsideReport all = Scan(FileSystem::Default(), h.Index(), {h.dir.path()}, /*all=*/true);
  CHECK(all.scanned_files == 5);
  CHECK(all.scanned_bytes == 35);
}

TEST_CASE("outside: hard links are read once, and each name is reported", "[outside][unit]") {
  Host h;
  h.OnAtlas("x.mkv", h.Put("one.mkv", 9000, 1));
  fs::create_hard_link(h.dir / "one.mkv", h.dir / "two.mkv");
  OutsideReport r = Scan(FileSystem::Default(), h.Index(), {h.dir.path()});
  CHECK(r.hashed_files == 1);
  CHECK(r.hashed_bytes == 9000);
  CHECK(r.duplicates == 2);
}

TEST_CASE("outside: symlinks inside the tree are not followed; a PATH that is a symlink is",
          "[outside][unit]") {
  Host h;
  testing::TempDir elsewhere;
  testing::WriteFile(elsewhere / "far.mkv", testing::RandomBytes(100, 1));
  fs::create_directories(h.dir / "tree");
  fs::create_symlink(elsewhere.path(), h.dir / "tree/link-dir");
  fs::create_symlink(elsewhere / "far.mkv", h.dir / "tree/link.mkv");
  CHECK(Scan(FileSystem::Default(), h.Index(), {h.dir / "tree"}).scanned_files == 0);
  OutsideReport r = Scan(FileSystem::Default(), h.Index(), {h.dir / "tree/link-dir"});
  CHECK(r.scanned_files == 1);
}

TEST_CASE("outside: a PATH that does not exist is a usage error", "[outside][unit]") {
  Host h;
  OutsideOptions o;
  o.paths = {h.dir / "nope"};
  o.media_extensions = {"mkv"};
  RunContext ctx{nullptr, FileSystem::Default(), Clock::Default(), NullProgress(), {}};
  OutsideReport r;
  Status s = RunOutside(ctx, h.Index(), o, &r);
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.ToString().find((h.dir / "nope").string() + ": no such file or directory") !=
        std::string::npos);
}

}  // namespace
}  // namespace atlas
