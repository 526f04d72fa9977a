// Drift and the scan guards (src/engine/drift.h), without the rest of the
// engine: ScanAllDisks classifies what a walk of each data disk finds
// against the manifest's file records (unchanged, modified, added, moved,
// deleted; SnapRAID's classification, engine/scan.h) and counts it; the
// scan guards refuse a sync when a disk that held files is empty
// (missing_disk) or more files were deleted than [guards] max_deletes or
// max_deletes_pct allow (mass_delete), where files that reappear on another
// disk with the same name, size and mtime count as moved (atlas-scrub(1),
// GUARDS).
#include "engine/drift.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>

#include "atlas/config.h"
#include "atlas/engine.h"
#include "atlas/env.h"
#include "atlas/manifest.h"

#include "engine/array.h"
#include "support/fake_clock.h"
#include "support/test_util.h"

namespace atlas {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::WriteFile;

// --- the scan guards, on drift built by hand --------------------------------

// A synced data disk that held `files` files at the last sync, and its walk:
// present, scanned, holding `now` files.
struct DiskState {
  std::string name{};
  std::uint64_t recorded = 0;
  std::uint64_t now = 0;
  std::vector<std::string> deleted{};  // paths recorded and gone
  std::vector<std::string> added{};    // paths new on this disk
};

// Every deleted file is 1000 bytes with mtime 7 unless a test says other.
FileRecord Gone(const std::string& path, std::uint64_t size = 1000, std::int64_t mtime_ns = 7) {
  FileRecord r;
  r.path = path;
  r.size = size;
  r.mtime_ns = mtime_ns;
  return r;
}

struct Scene {
  Config config;
  ArrayView array;
  std::vector<DiskDrift> drift;

  void Add(const DiskState& d) {
    ArrayDataDisk disk;
    disk.name = d.name;
    disk.root = "/mnt/" + d.name;
    disk.slot = static_cast<std::uint16_t>(array.data.size());
    disk.present = true;
    DiskRecord rec;
    rec.name = d.name;
    rec.index = disk.slot;
    rec.files = d.recorded;
    disk.record = rec;
    array.data.push_back(disk);
    DiskDrift dd;
    dd.scanned = true;
    dd.totals.files = d.now;
    for (const std::string& p : d.deleted) dd.deleted.push_back(Gone(p));
    for (const std::string& p : d.added) dd.added_keys.push_back(MoveKey(p, 1000, 7));
    dd.drift.deleted = d.deleted.size();
    dd.drift.added = d.added.size();
    drift.push_back(dd);
  }
  std::vector<Finding> Guards(bool force_empty = false, bool force_delete = false) const {
    return CheckScanGuards(config, array, drift, force_empty, force_delete);
  }
};

// "DIR/STEM0", "DIR/STEM1", ...
std::vector<std::string> Paths(const std::string& dir, int n, const std::string& stem = "f") {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(dir + "/" + stem + std::to_string(i));
  return out;
}

std::vector<FindingKind> Kinds(const std::vector<Finding>& findings) {
  std::vector<FindingKind> out;
  for (const Finding& f : findings) out.push_back(f.kind);
  return out;
}

TEST_CASE(
    "drift: a data disk that held files and holds none is missing_disk, and nothing else is judged",
    "[drift][guards][engine][unit]") {
  Scene s;
  s.config.guards.max_deletes = 0;
  s.Add({.name = "d1", .recorded = 10, .now = 0, .deleted = Paths("a", 10)});
  s.Add({.name = "d2", .recorded = 5, .now = 4, .deleted = Paths("b", 1)});
  std::vector<Finding> f = s.Guards();
  REQUIRE(Kinds(f) == std::vector<FindingKind>{FindingKind::kMissingDisk});
  CHECK(f[0].disk == "d1");
  CHECK(f[0].severity == Severity::kCritical);
  CHECK(f[0].message.find(
            "data disk d1 is empty: /mnt/d1 held 10 files at the last sync and holds none now") !=
        std::string::npos);
  CHECK(f[0].message.find("atlas-scrub sync --force-empty") != std::string::npos);
  // --force-delete does not override it.
  CHECK(Kinds(s.Guards(false, true)) == std::vector<FindingKind>{FindingKind::kMissingDisk});
}

TEST_CASE(
    "drift: --force-empty accepts an emptied disk, and its deletions do not count as a mass delete",
    "[drift][guards][engine][unit]") {
  Scene s;
  s.config.guards.max_deletes = 2;
  s.config.guards.max_deletes_pct = 100;
  s.Add({.name = "d1", .recorded = 10, .now = 0, .deleted = Paths("a", 10)});
  s.Add({.name = "d2", .recorded = 5, .now = 3, .deleted = Paths("b", 2)});
  CHECK(s.Guards(true).empty());
  // The other disks' deletions still do.
  s.drift[1].deleted.push_back(Gone("b/one-more"));
  CHECK(Kinds(s.Guards(true)) == std::vector<FindingKind>{FindingKind::kMassDelete});
}

TEST_CASE(
    "drift: a disk that was not walked, was never synced or still holds a file is not called empty",
    "[drift][guards][engine][unit]") {
  Scene s;
  s.config.guards.max_deletes_pct = 100;
  s.Add({.name = "d1", .recorded = 10, .now = 0});
  s.drift[0].scanned = false;  // absent or unreadable: the disk guards of engine/array.h say so
  s.Add({.name = "d2", .recorded = 0, .now = 0});                            // held nothing
  s.Add({.name = "d3", .recorded = 3, .now = 1, .deleted = Paths("c", 3)});  // one new file
  s.Add({.name = "d4", .now = 0});
  s.array.data[3].record.reset();  // never synced
  CHECK(s.Guards().empty());
}

TEST_CASE("drift: more deletions than max_deletes is mass_delete, as many is not",
          "[drift][guards][engine][unit]") {
  Scene s;
  s.config.guards.max_deletes = 3;
  s.config.guards.max_deletes_pct = 100;
  s.Add({.name = "d1", .recorded = 6, .now = 3, .deleted = Paths("a", 3)});
  s.Add({.name = "d2", .recorded = 4, .now = 4});
  CHECK(s.Guards().empty());
  s.drift[1].deleted.push_back(Gone("b/x"));
  std::vector<Finding> f = s.Guards();
  REQUIRE(Kinds(f) == std::vector<FindingKind>{FindingKind::kMassDelete});
  CHECK(f[0].severity == Severity::kCritical);
  CHECK(f[0].disk.empty());
  // The share is of every file recorded at the last sync, on all disks.
  CHECK(f[0].message.find(
            "4 files were deleted since the last sync (40.0% of 10), above the limit of 3 files "
            "or 100% ([guards] max_deletes, max_deletes_pct)") != std::string::npos);
  CHECK(f[0].message.find("atlas-scrub sync --force-delete") != std::string::npos);
  CHECK(s.Guards(false, true).empty());
}

TEST_CASE("drift: a larger share of the array deleted than max_deletes_pct is mass_delete",
          "[drift][guards][engine][unit]") {
  Scene s;
  s.config.guards.max_deletes = 500;
  s.config.guards.max_deletes_pct = 10;
  s.Add({.name = "d1", .recorded = 60, .now = 50, .deleted = Paths("a", 10)});
  s.Add({.name = "d2", .recorded = 40, .now = 40});
  CHECK(s.Guards().empty());  // 10.0% is not above 10%
  s.drift[1].deleted.push_back(Gone("b/x"));
  std::vector<Finding> f = s.Guards();
  REQUIRE(Kinds(f) == std::vector<FindingKind>{FindingKind::kMassDelete});
  CHECK(f[0].message.find("11 files were deleted since the last sync (11.0% of 100)") !=
        std::string::npos);

  // One file is "1 file was".
  Scene one;
  one.config.guards.max_deletes = 0;
  one.Add({.name = "d1", .recorded = 1000, .now = 999, .deleted = {"x"}});
  REQUIRE(one.Guards().size() == 1);
  CHECK(one.Guards()[0].message.find("1 file was deleted since the last sync (0.1% of 1000)") !=
        std::string::npos);
}

TEST_CASE("drift: deletions of [guards] exempt files count towards neither limit",
          "[drift][guards][engine][unit]") {
  Scene s;
  s.config.guards.max_deletes = 1;
  s.config.guards.max_deletes_pct = 100;
  s.config.guards.exempt = {"/Downloads/", "*.part"};
  s.Add({.name = "d1", .recorded = 20, .now = 10, .deleted = Paths("Downloads", 5)});
  s.drift[0].deleted.push_back(Gone("Movies/a.part"));
  s.drift[0].deleted.push_back(Gone("Movies/a.mkv"));
  CHECK(s.Guards().empty());
  s.drift[0].deleted.push_back(Gone("Movies/b.mkv"));
  std::vector<Finding> f = s.Guards();
  REQUIRE(f.size() == 1);
  CHECK(f[0].message.find("2 files were deleted") != std::string::npos);
}

TEST_CASE(
    "drift: a deleted file that reappears on another disk with its name, size and mtime is a move",
    "[drift][guards][engine][unit]") {
  // atlas-scrub(1): "Files that reappear on another disk with the same
  // name, size and modification time count as moved, not deleted." The name
  // is the base name: the directory may differ.
  Scene s;
  s.config.guards.max_deletes = 0;
  s.Add({.name = "d1", .recorded = 10, .now = 8, .deleted = {"Movies/a.mkv", "Movies/b.mkv"}});
  s.Add({.name = "d2", .recorded = 10, .now = 12, .added = {"Elsewhere/a.mkv", "b.mkv"}});
  CHECK(CountLikelyCrossDiskMoves(s.array, s.drift) == 2);
  CHECK(s.Guards().empty());

  // Another size, another mtime or another name is no move.
  s.drift[1].added_keys = {MoveKey("Elsewhere/a.mkv", 1001, 7), MoveKey("b.mkv", 1000, 8)};
  CHECK(CountLikelyCrossDiskMoves(s.array, s.drift) == 0);
  s.drift[1].added_keys.push_back(MoveKey("a.mkv.bak", 1000, 7));
  CHECK(CountLikelyCrossDiskMoves(s.array, s.drift) == 0);
  CHECK(Kinds(s.Guards()) == std::vector<FindingKind>{FindingKind::kMassDelete});

  // Reappearing on the same disk is not a move across disks (a move within
  // a disk keeps its inode, and the scan calls it moved before this).
  Scene same;
  same.config.guards.max_deletes = 0;
  same.Add({.name = "d1",
            .recorded = 10,
            .now = 10,
            .deleted = {"Movies/a.mkv"},
            .added = {"New/a.mkv"}});
  CHECK(CountLikelyCrossDiskMoves(same.array, same.drift) == 0);
  CHECK(Kinds(same.Guards()) == std::vector<FindingKind>{FindingKind::kMassDelete});
}

TEST_CASE(
    "drift: one file that reappears is the move of one deleted file, not of every one like it",
    "[drift][guards][engine][unit]") {
  // STRATEGY: 20 files named cover.jpg, each in its own album folder, with
  // one size and mtime (a batch copy keeps them), are deleted from d1; one
  // cover.jpg is added on d2. At most one deletion is a move: 19 files are
  // gone, far above max_deletes = 5.
  // Regression: CountMoves (src/engine/drift.cc) counted every deleted file
  // whose (base name, size, mtime) key was among another disk's added keys,
  // so one added file excused all 20 deletions and sync ran. It pairs them
  // one to one now, as diff does (src/engine/diff.cc).
  Scene s;
  s.config.guards.max_deletes = 5;
  s.config.guards.max_deletes_pct = 100;
  std::vector<std::string> covers;
  for (int i = 0; i < 20; ++i) covers.push_back("Music/album" + std::to_string(i) + "/cover.jpg");
  s.Add({.name = "d1", .recorded = 100, .now = 80, .deleted = covers});
  s.Add({.name = "d2", .recorded = 100, .now = 101, .added = {"Music/album0/cover.jpg"}});
  CHECK(CountLikelyCrossDiskMoves(s.array, s.drift) == 1);
  CHECK(Kinds(s.Guards()) == std::vector<FindingKind>{FindingKind::kMassDelete});
}

TEST_CASE(
    "drift: moves off a disk emptied with --force-empty do not excuse deletions on another disk",
    "[drift][guards][engine][unit]") {
  // STRATEGY: every file of d1 moved to d2 (d1 empty: the user runs sync
  // --force-empty), and meanwhile 15 files vanished from d3, above
  // max_deletes = 10. d1's deletions are left out of the count, as
  // --force-empty says; d3's 15 are a mass delete.
  // Regression: CheckScanGuards (src/engine/drift.cc) left the emptied
  // disk's deletions out of `deleted` but not out of CountMoves, so d1's 10
  // moves were subtracted from d3's 15 deletions: 5 remained, and sync ran.
  Scene s;
  s.config.guards.max_deletes = 10;
  s.config.guards.max_deletes_pct = 100;
  s.Add({.name = "d1", .recorded = 10, .now = 0, .deleted = Paths("Movies", 10)});
  s.Add({.name = "d2", .recorded = 10, .now = 20, .added = Paths("Movies", 10)});
  s.Add({.name = "d3", .recorded = 100, .now = 85, .deleted = Paths("Music", 15, "song")});
  CHECK(Kinds(s.Guards(/*force_empty=*/true)) ==
        std::vector<FindingKind>{FindingKind::kMassDelete});
}

TEST_CASE("drift: the move key is the base name, size and mtime", "[drift][engine][unit]") {
  CHECK(MoveKey("a/b/name.mkv", 10, 20) == MoveKey("name.mkv", 10, 20));
  CHECK(MoveKey("a/b/name.mkv", 10, 20) == MoveKey("other/dir/name.mkv", 10, 20));
  CHECK(MoveKey("name.mkv", 10, 20) != MoveKey("name.mkv", 11, 20));
  CHECK(MoveKey("name.mkv", 10, 20) != MoveKey("name.mkv", 10, 21));
  CHECK(MoveKey("name.mkv", 10, 20) != MoveKey("Name.mkv", 10, 20));
  CHECK(MoveKey("dir/name.mkv", 10, 20) != MoveKey("dir.name.mkv", 10, 20));
}

// --- ScanAllDisks on real directories and a real manifest -------------------

// Two data disks under a temp dir, a manifest recording what the test puts
// in it, and a RunContext over them.
class ScanFixture {
 public:
  ScanFixture() {
    for (const char* name : {"d1", "d2"}) {
      fs::create_directories(dir_ / name);
      ArrayDataDisk d;
      d.name = name;
      d.root = dir_ / name;
      d.slot = static_cast<std::uint16_t>(array_.data.size());
      d.present = true;
      array_.data.push_back(d);
    }
    config_.manifest = dir_ / "manifest";
    config_.guards.exempt = {"/Downloads/"};
    ManifestOptions o;
    o.create_if_missing = true;
    Result<std::unique_ptr<Manifest>> m = OpenManifest(config_.manifest, o);
    REQUIRE_OK(m.status());
    manifest_ = std::move(m).value();
  }

  fs::path Path(int disk, const std::string& rel) const { return array_.data[disk].root / rel; }

  // Writes a file of `size` bytes; its mtime is `mtime_s` seconds after the
  // epoch, so that tests control which change is oldest.
  void Write(int disk, const std::string& rel, std::size_t size, std::int64_t mtime_s) {
    WriteFile(Path(disk, rel), std::string(size, 'x'));
    SetMtime(disk, rel, mtime_s);
  }
  void SetMtime(int disk, const std::string& rel, std::int64_t mtime_s) {
    struct timespec times[2] = {{.tv_sec = mtime_s, .tv_nsec = 0},
                                {.tv_sec = mtime_s, .tv_nsec = 0}};
    REQUIRE(utimensat(AT_FDCWD, Path(disk, rel).c_str(), times, 0) == 0);
  }

  // Records the file as it is on disk now, as a sync would.
  void Record(int disk, const std::string& rel) {
    Result<FileStat> st = FileSystem::Default()->Stat(Path(disk, rel));
    REQUIRE_OK(st.status());
    FileRecord f;
    f.slot = array_.data[disk].slot;
    f.path = rel;
    f.file_id = next_id_++;
    f.size = st->size;
    f.mtime_ns = st->mtime_ns;
    f.inode = st->inode;
    f.mode = st->mode;
    files_[disk]++;
    std::unique_ptr<ManifestBatch> b = manifest_->NewBatch();
    b->PutFile(f);
    REQUIRE_OK(manifest_->Commit(*b, false));
  }

  // The disks' records as LoadArray would hold them after that "sync".
  void Synced() {
    for (std::size_t i = 0; i < array_.data.size(); ++i) {
      DiskRecord r;
      r.name = array_.data[i].name;
      r.index = array_.data[i].slot;
      r.path = array_.data[i].root.string();
      r.files = files_[i];
      array_.data[i].record = r;
    }
  }

  std::vector<DiskDrift> Scan(bool collect, Manifest* manifest) {
    RunContext ctx{&config_, FileSystem::Default(), &clock_, NullProgress(), {}};
    std::vector<DiskDrift> out;
    REQUIRE_OK(ScanAllDisks(ctx, manifest, array_, collect, &out));
    return out;
  }
  std::vector<DiskDrift> Scan(bool collect) { return Scan(collect, manifest_.get()); }

  ArrayView& array() { return array_; }
  Config& config() { return config_; }

 private:
  TempDir dir_;
  Config config_;
  ArrayView array_;
  std::unique_ptr<Manifest> manifest_;
  testing::FakeClock clock_;
  std::uint64_t next_id_ = 1;
  std::uint64_t files_[2] = {0, 0};
};

std::vector<std::string> AddedPaths(const DiskDrift& d) {
  std::vector<std::string> out;
  for (const WalkEntry& e : d.added) out.push_back(e.rel_path);
  return out;
}

template <typename Pairs>
std::vector<std::string> PairPaths(const Pairs& pairs) {
  std::vector<std::string> out;
  for (const auto& [rec, entry] : pairs) out.push_back(rec.path + " -> " + entry.rel_path);
  return out;
}

TEST_CASE(
    "drift: each file of a disk is unchanged, modified, added, moved or deleted, and counted once",
    "[drift][engine][unit]") {
  // STRATEGY:
  // 1. d1 holds seven files, recorded as they are: keep, modify, zero,
  //    Downloads/x.part (exempt from the guards), rename (to be moved),
  //    retouch (mtime only) and gone. It also holds new.mkv (never
  //    recorded) and cache.tmp (excluded by the default `exclude`).
  // 2. Then: modify grows, zero is cut to 0 bytes, Downloads/x.part grows,
  //    rename moves to New/renamed (same inode, size, mtime), retouch gets
  //    a new mtime, gone is deleted.
  // 3. ScanAllDisks counts 1 unchanged, 4 modified, 1 added, 1 moved, 1
  //    deleted, with the bytes, examples and oldest change of each; d2
  //    (recorded empty) has nothing.
  ScanFixture t;
  t.Write(0, "keep.mkv", 100, 1000);
  t.Write(0, "modify.mkv", 200, 1000);
  t.Write(0, "zero.mkv", 300, 1000);
  t.Write(0, "Downloads/x.part", 400, 1000);
  t.Write(0, "rename.mkv", 500, 1000);
  t.Write(0, "retouch.mkv", 600, 1000);
  t.Write(0, "gone.mkv", 700, 1000);
  for (const char* rel : {"keep.mkv", "modify.mkv", "zero.mkv", "Downloads/x.part", "rename.mkv",
                          "retouch.mkv", "gone.mkv"}) {
    t.Record(0, rel);
  }
  t.Synced();

  t.Write(0, "modify.mkv", 250, 3000);
  t.Write(0, "zero.mkv", 0, 2500);
  t.Write(0, "Downloads/x.part", 450, 2000);
  fs::create_directories(t.Path(0, "New"));
  fs::rename(t.Path(0, "rename.mkv"), t.Path(0, "New/renamed.mkv"));
  t.SetMtime(0, "retouch.mkv", 4000);
  fs::remove(t.Path(0, "gone.mkv"));
  t.Write(0, "new.mkv", 800, 1500);
  t.Write(0, "cache.tmp", 900, 500);

  std::vector<DiskDrift> drift = t.Scan(/*collect=*/true);
  REQUIRE(drift.size() == 2);
  const DiskDrift& d = drift[0];
  CHECK(d.scanned);
  CHECK(d.drift.unchanged == 1);
  CHECK(d.drift.modified == 4);
  CHECK(d.drift.added == 1);
  CHECK(d.drift.moved == 1);
  CHECK(d.drift.deleted == 1);
  // Added and modified bytes are their sizes now; deleted, the recorded size.
  CHECK(d.drift.added_bytes == 800 + 250 + 0 + 450 + 600);
  CHECK(d.drift.deleted_bytes == 700);
  // Every regular file walked but the excluded one.
  CHECK(d.totals.files == 7);
  CHECK(d.totals.bytes == 100 + 250 + 0 + 450 + 500 + 600 + 800);
  CHECK(d.oldest_change_mtime_ns == 1500LL * 1'000'000'000);

  CHECK(AddedPaths(d) == std::vector<std::string>{"new.mkv"});
  std::vector<std::string> modified = PairPaths(d.modified);
  std::sort(modified.begin(), modified.end());
  CHECK(modified == std::vector<std::string>{"Downloads/x.part -> Downloads/x.part",
                                             "modify.mkv -> modify.mkv",
                                             "retouch.mkv -> retouch.mkv", "zero.mkv -> zero.mkv"});
  CHECK(PairPaths(d.moved) == std::vector<std::string>{"rename.mkv -> New/renamed.mkv"});
  REQUIRE(d.deleted.size() == 1);
  CHECK(d.deleted[0].path == "gone.mkv");
  CHECK(d.deleted[0].size == 700);

  // The content guards' view leaves the exempt file out.
  CHECK(d.guarded_modified == 3);
  std::vector<std::string> examples = d.modified_examples;
  std::sort(examples.begin(), examples.end());
  CHECK(examples == std::vector<std::string>{"modify.mkv", "retouch.mkv", "zero.mkv"});
  CHECK(d.zeroed_count == 1);
  CHECK(d.zeroed == std::vector<std::pair<std::string, std::uint64_t>>{{"zero.mkv", 300}});
  // The cross-disk move check knows the added file by name, size and mtime.
  CHECK(d.added_keys ==
        std::vector<std::uint64_t>{MoveKey("new.mkv", 800, 1500LL * 1'000'000'000)});

  const DiskDrift& empty = drift[1];
  CHECK(empty.scanned);
  CHECK(empty.drift.Changes() == 0);
  CHECK(empty.totals.files == 0);
  CHECK(empty.oldest_change_mtime_ns == INT64_MAX);

  // Without collecting, the counts are the same and no entry is kept.
  std::vector<DiskDrift> counted = t.Scan(/*collect=*/false);
  CHECK(counted[0].drift.unchanged == 1);
  CHECK(counted[0].drift.modified == 4);
  CHECK(counted[0].drift.added == 1);
  CHECK(counted[0].drift.moved == 1);
  CHECK(counted[0].drift.deleted == 1);
  CHECK(counted[0].added.empty());
  CHECK(counted[0].modified.empty());
  CHECK(counted[0].moved.empty());
  CHECK(counted[0].deleted.size() == 1);  // the guards need them either way
  CHECK(counted[0].added_keys.size() == 1);
}

TEST_CASE(
    "drift: another file renamed over a recorded one is modified even with the same size and mtime",
    "[drift][engine][unit]") {
  // engine/scan.h: a new inode under a recorded name is another file, whose
  // bytes are not the recorded ones until hashed again.
  ScanFixture t;
  t.Write(0, "a.mkv", 100, 1000);
  t.Record(0, "a.mkv");
  t.Synced();
  t.Write(0, "replacement", 100, 1000);
  fs::rename(t.Path(0, "replacement"), t.Path(0, "a.mkv"));
  std::vector<DiskDrift> drift = t.Scan(true);
  CHECK(drift[0].drift.modified == 1);
  CHECK(drift[0].drift.unchanged == 0);
  CHECK(drift[0].drift.moved == 0);
}

TEST_CASE("drift: a disk that is not present is not walked; without a manifest every file is added",
          "[drift][engine][unit]") {
  ScanFixture t;
  t.Write(0, "a.mkv", 10, 1000);
  t.Write(0, "b/c.mkv", 20, 1000);
  t.Write(1, "d.mkv", 30, 1000);
  t.array().data[1].present = false;
  std::vector<DiskDrift> drift = t.Scan(true, nullptr);
  REQUIRE(drift.size() == 2);
  CHECK(drift[0].scanned);
  CHECK(drift[0].drift.added == 2);
  CHECK(drift[0].drift.added_bytes == 30);
  CHECK(AddedPaths(drift[0]) == std::vector<std::string>{"a.mkv", "b/c.mkv"});
  CHECK_FALSE(drift[1].scanned);
  CHECK(drift[1].drift.Changes() == 0);
  CHECK(drift[1].totals.files == 0);
}

TEST_CASE("drift: a recorded disk emptied on disk trips the guard through a real scan",
          "[drift][guards][engine][unit]") {
  // The whole path a sync takes: walk, then the scan guards.
  ScanFixture t;
  t.Write(0, "a.mkv", 10, 1000);
  t.Write(0, "b.mkv", 10, 1000);
  t.Write(1, "c.mkv", 10, 1000);
  t.Record(0, "a.mkv");
  t.Record(0, "b.mkv");
  t.Record(1, "c.mkv");
  t.Synced();
  fs::remove(t.Path(0, "a.mkv"));
  fs::remove(t.Path(0, "b.mkv"));
  t.Write(0, "only.tmp", 10, 1000);  // excluded: the disk holds no file of the array
  std::vector<DiskDrift> drift = t.Scan(false);
  std::vector<Finding> f = CheckScanGuards(t.config(), t.array(), drift, false, false);
  REQUIRE(Kinds(f) == std::vector<FindingKind>{FindingKind::kMissingDisk});
  CHECK(f[0].disk == "d1");
  CHECK(f[0].message.find("held 2 files") != std::string::npos);
}

}  // namespace
}  // namespace atlas
