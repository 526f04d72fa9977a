// STRATEGY:
// 1. Write real files into a temp dir with the plain POSIX file system.
// 2. Wrap FileSystem::Default() in a FaultFileSystem and inject one kind of
//    fault per test case.
// 3. Check the exact effect through the wrapper (error code, errno, message,
//    bytes returned), and that the file on disk is as the fault model says.
#include "support/fault_fs.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "atlas/env.h"
#include "atlas/status.h"

#include "support/test_util.h"

namespace atlas::testing {
namespace {

namespace stdfs = std::filesystem;

constexpr std::size_t kBlock = 4096;

std::span<const std::byte> Bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

Result<std::size_t> ReadAt(FileSystem& fs, const stdfs::path& p, std::uint64_t offset,
                           std::vector<std::byte>* buf) {
  ATLAS_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> f, fs.OpenForRead(p));
  return f->ReadAt(offset, *buf);
}

std::string Slurp(const stdfs::path& p) {
  const std::vector<std::byte> b = ReadFileBytes(p);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

TEST_CASE("fault_fs: EIO on a read overlapping an offset range, and only there",
          "[fault_fs][fault]") {
  TempDir dir;
  WriteFile(dir / "d1/a.mkv", RandomBytes(4 * kBlock, 1));
  FaultFileSystem fs;
  const int id = fs.Inject({.path_substr = "d1/a.mkv",
                            .op = Op::kRead,
                            .offset_begin = 2 * kBlock,
                            .offset_end = 3 * kBlock,
                            .fault = Fault::Errno(EIO)});
  Result<std::unique_ptr<RandomAccessFile>> f = fs.OpenForRead(dir / "d1/a.mkv");
  REQUIRE_OK(f);
  std::vector<std::byte> buf(kBlock);
  REQUIRE_OK((*f)->ReadAt(0, buf));
  REQUIRE_OK((*f)->ReadAt(kBlock, buf));
  REQUIRE_OK((*f)->ReadAt(3 * kBlock, buf));
  Result<std::size_t> bad = (*f)->ReadAt(2 * kBlock, buf);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::kIOError);
  CHECK(bad.status().sys_errno() == EIO);
  CHECK(bad.status().ToString() ==
        "pread " + (dir / "d1/a.mkv").native() + " @ 8192: " + std::strerror(EIO));
  // A read that straddles the range overlaps it too.
  CHECK_FALSE((*f)->ReadAt(2 * kBlock - 1, std::span<std::byte>(buf).first(2)).ok());
  CHECK(fs.rule_fired(id) == 2);
  CHECK(fs.fired(Op::kRead) == 2);
  CHECK(fs.fired() == 2);
  CHECK(fs.hits(Op::kRead) == 5);
  CHECK(fs.hits(Op::kOpen) == 1);

  // Other files are untouched.
  WriteFile(dir / "d1/b.mkv", RandomBytes(4 * kBlock, 2));
  std::vector<std::byte> other(kBlock);
  REQUIRE_OK(ReadAt(fs, dir / "d1/b.mkv", 2 * kBlock, &other));

  fs.ClearFaults();
  REQUIRE_OK((*f)->ReadAt(2 * kBlock, buf));
}

TEST_CASE("fault_fs: ShortRead returns fewer bytes than were available", "[fault_fs][fault]") {
  TempDir dir;
  const std::vector<std::byte> data = RandomBytes(3 * kBlock, 3);
  WriteFile(dir / "f", data);
  FaultFileSystem fs;
  fs.Inject({.op = Op::kRead, .count = 1, .fault = Fault::ShortRead(100)});
  std::vector<std::byte> buf(kBlock);
  Result<std::size_t> n = ReadAt(fs, dir / "f", kBlock, &buf);
  REQUIRE_OK(n);
  CHECK(*n == 100);
  CHECK(std::equal(buf.begin(), buf.begin() + 100, data.begin() + kBlock));
  n = ReadAt(fs, dir / "f", kBlock, &buf);  // count = 1: only once
  REQUIRE_OK(n);
  CHECK(*n == kBlock);

  // ReadFile survives short reads: it stops only at a zero-byte read.
  fs.Inject({.op = Op::kRead, .fault = Fault::ShortRead(1000)});
  Result<std::string> all = fs.ReadFile(dir / "f");
  REQUIRE_OK(all);
  REQUIRE(all->size() == data.size());
  CHECK(std::memcmp(all->data(), data.data(), data.size()) == 0);
}

TEST_CASE("fault_fs: FlipBit corrupts what is read while the file on disk is unchanged",
          "[fault_fs][fault]") {
  TempDir dir;
  const std::vector<std::byte> data = RandomBytes(4 * kBlock, 4);
  WriteFile(dir / "f", data);
  FaultFileSystem fs;
  const std::uint64_t where = kBlock + 17;
  fs.Inject({.path_substr = "f", .fault = Fault::FlipBit(where, 3)});

  std::vector<std::byte> buf(kBlock);
  REQUIRE_OK(ReadAt(fs, dir / "f", kBlock, &buf));
  CHECK(buf[17] == (data[where] ^ std::byte{0x08}));
  buf[17] = data[where];
  CHECK(std::equal(buf.begin(), buf.end(), data.begin() + kBlock));  // one bit only

  // Reads that do not cover the byte are clean and do not count.
  REQUIRE_OK(ReadAt(fs, dir / "f", 0, &buf));
  CHECK(std::equal(buf.begin(), buf.end(), data.begin()));
  CHECK(fs.fired(Op::kRead) == 1);

  // The flip is applied on every read (silent corruption is persistent)...
  REQUIRE_OK(ReadAt(fs, dir / "f", kBlock, &buf));
  CHECK(buf[17] == (data[where] ^ std::byte{0x08}));
  // ...yet the disk holds the original bytes.
  CHECK(ReadFileBytes(dir / "f") == data);
  std::vector<std::byte> clean(kBlock);
  REQUIRE_OK(ReadAt(*FileSystem::Default(), dir / "f", kBlock, &clean));
  CHECK(clean[17] == data[where]);
}

TEST_CASE("fault_fs: count and one_in decide which matching operations fail", "[fault_fs][fault]") {
  TempDir dir;
  WriteFile(dir / "f", RandomBytes(kBlock, 5));
  FaultFileSystem fs;
  std::vector<std::byte> buf(16);

  SECTION("one_in = 3 fails the 3rd, 6th and 9th read") {
    const int id = fs.Inject({.op = Op::kRead, .one_in = 3, .fault = Fault::Errno(EIO)});
    std::string pattern;
    for (int i = 0; i < 9; ++i) pattern += ReadAt(fs, dir / "f", 0, &buf).ok() ? '.' : 'X';
    CHECK(pattern == "..X..X..X");
    CHECK(fs.rule_fired(id) == 3);
  }
  SECTION("count = 2 fails the first two reads only") {
    fs.Inject({.op = Op::kRead, .count = 2, .fault = Fault::Errno(EIO)});
    std::string pattern;
    for (int i = 0; i < 5; ++i) pattern += ReadAt(fs, dir / "f", 0, &buf).ok() ? '.' : 'X';
    CHECK(pattern == "XX...");
  }
  SECTION("one_in and count combine: every 2nd read, twice") {
    fs.Inject({.op = Op::kRead, .count = 2, .one_in = 2, .fault = Fault::Errno(ENXIO)});
    std::string pattern;
    for (int i = 0; i < 8; ++i) pattern += ReadAt(fs, dir / "f", 0, &buf).ok() ? '.' : 'X';
    CHECK(pattern == ".X.X....");
  }
  SECTION("count = 0 never fires; ResetCounters zeroes hits and fired") {
    fs.Inject({.op = Op::kRead, .count = 0, .fault = Fault::Errno(EIO)});
    REQUIRE_OK(ReadAt(fs, dir / "f", 0, &buf));
    CHECK(fs.hits(Op::kRead) == 1);
    CHECK(fs.hits(Op::kAny) == 2);  // the open and the read
    fs.ResetCounters();
    CHECK(fs.hits(Op::kAny) == 0);
    CHECK(fs.fired() == 0);
  }
}

TEST_CASE("fault_fs: ENOSPC on write is kNoSpace and nothing is written", "[fault_fs][fault]") {
  TempDir dir;
  FaultFileSystem fs;
  fs.Inject({.path_substr = "parity",
             .op = Op::kWrite,
             .offset_begin = kBlock,
             .fault = Fault::Errno(ENOSPC)});
  Result<std::unique_ptr<WritableFile>> w =
      fs.OpenForWrite(dir / "atlas.parity", OpenMode::kCreate, 0644);
  REQUIRE_OK(w);
  REQUIRE_OK((*w)->WriteAt(0, RandomBytes(kBlock, 6)));
  Status s = (*w)->WriteAt(kBlock, RandomBytes(kBlock, 7));
  CHECK(s.code() == Code::kNoSpace);
  CHECK(s.sys_errno() == ENOSPC);
  CHECK(s.ToString().find("pwrite " + (dir / "atlas.parity").native() + " @ 4096: ") == 0);
  REQUIRE_OK((*w)->Close());
  CHECK(stdfs::file_size(dir / "atlas.parity") == kBlock);
}

TEST_CASE("fault_fs: EIO on Sync, on SyncDir and on rename", "[fault_fs][fault]") {
  TempDir dir;
  FaultFileSystem fs;
  fs.Inject({.path_substr = "data.bin", .op = Op::kSync, .fault = Fault::Errno(EIO)});
  Result<std::unique_ptr<WritableFile>> w =
      fs.OpenForWrite(dir / "data.bin", OpenMode::kCreate, 0644);
  REQUIRE_OK(w);
  REQUIRE_OK((*w)->WriteAt(0, Bytes("x")));
  Status s = (*w)->Sync();
  CHECK(s.code() == Code::kIOError);
  CHECK(s.sys_errno() == EIO);
  CHECK(s.ToString().find("fdatasync ") == 0);
  REQUIRE_OK((*w)->Close());

  fs.Inject({.op = Op::kRename, .fault = Fault::Errno(EROFS)});
  WriteFile(dir / "a", "a");
  Status r = fs.Rename(dir / "a", dir / "b");
  CHECK(r.sys_errno() == EROFS);
  CHECK(stdfs::exists(dir / "a"));

  // WriteFileAtomic through the wrapper: a failed rename leaves no temporary.
  Status atomic = WriteFileAtomic(&fs, dir / "cfg", "contents");
  CHECK(atomic.sys_errno() == EROFS);
  CHECK_FALSE(stdfs::exists(dir / "cfg"));
  for (const auto& e : stdfs::directory_iterator(dir.path())) {
    CHECK(e.path().filename().native().find(".tmp.") == std::string::npos);
  }
  fs.ClearFaults();
  fs.ResetCounters();
  fs.Inject({.op = Op::kSync, .count = 1, .fault = Fault::Errno(EIO)});
  Status sync_fail = WriteFileAtomic(&fs, dir / "cfg", "contents");
  CHECK(sync_fail.sys_errno() == EIO);
  CHECK_FALSE(stdfs::exists(dir / "cfg"));
  REQUIRE_OK(WriteFileAtomic(&fs, dir / "cfg", "contents"));
  CHECK(Slurp(dir / "cfg") == "contents");
  CHECK(fs.hits(Op::kSync) == 3);  // failed fdatasync, then fdatasync + dir fsync
}

TEST_CASE("fault_fs: open, stat and remove faults", "[fault_fs][fault]") {
  TempDir dir;
  WriteFile(dir / "f", "x");
  FaultFileSystem fs;
  fs.Inject({.path_substr = "/f", .op = Op::kOpen, .count = 1, .fault = Fault::Errno(EACCES)});
  fs.Inject({.op = Op::kStat, .count = 1, .fault = Fault::Errno(ENXIO)});
  fs.Inject({.op = Op::kRemove, .count = 1, .fault = Fault::Errno(EBUSY)});
  CHECK(fs.OpenForRead(dir / "f").status().sys_errno() == EACCES);
  REQUIRE_OK(fs.OpenForRead(dir / "f"));
  CHECK(fs.Stat(dir / "f").status().sys_errno() == ENXIO);
  REQUIRE_OK(fs.Stat(dir / "f"));
  CHECK(fs.Remove(dir / "f").sys_errno() == EBUSY);
  REQUIRE_OK(fs.Remove(dir / "f"));
  CHECK(fs.Stat(dir / "f").status().code() == Code::kNotFound);
}

TEST_CASE("fault_fs: a kWalk fault makes one directory unreadable for Walk", "[fault_fs][fault]") {
  TempDir dir;
  for (const char* f : {"a", "bad/x", "bad/y", "c/z", "d"}) WriteFile(dir / f, "1");
  FaultFileSystem fs;
  fs.Inject({.path_substr = "/bad", .op = Op::kWalk, .fault = Fault::Errno(EIO)});

  std::vector<std::string> seen;
  std::vector<std::string> errors;
  WalkOptions options;
  options.on_error = [&](std::string_view rel, const Status& e) {
    errors.push_back(std::string(rel) + ": " + std::to_string(e.sys_errno()));
    return Status::Ok();
  };
  const WalkFn collect = [&](const WalkEntry& e) {
    seen.push_back(e.rel_path);
    return Status::Ok();
  };
  REQUIRE_OK(fs.Walk(dir.path(), options, collect));
  CHECK(seen == std::vector<std::string>{"a", "c/z", "d"});
  CHECK(errors == std::vector<std::string>{"bad: " + std::to_string(EIO)});

  // Without on_error the walk stops there with the error.
  seen.clear();
  Status s = fs.Walk(dir.path(), {}, collect);
  CHECK(s.sys_errno() == EIO);
  CHECK(s.ToString().find("opendir " + (dir / "bad").native()) == 0);
  CHECK(seen == std::vector<std::string>{"a"});

  // A fault on the root fails the walk outright.
  fs.ClearFaults();
  fs.Inject({.op = Op::kWalk, .count = 1, .fault = Fault::Errno(ENXIO)});
  CHECK(fs.Walk(dir.path(), options, collect).sys_errno() == ENXIO);
}

TEST_CASE("fault_fs: Delay slows an operation and then lets it succeed", "[fault_fs][fault]") {
  TempDir dir;
  WriteFile(dir / "f", "x");
  FaultFileSystem fs;
  fs.Inject({.op = Op::kStat, .fault = Fault::Delay(30)});
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE_OK(fs.Stat(dir / "f"));
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(30));
  CHECK(fs.fired(Op::kStat) == 1);
}

TEST_CASE("fault_fs: power loss drops unsynced data and reverts unsynced overwrites",
          "[fault_fs][fault]") {
  TempDir dir;
  const stdfs::path p = dir / "parity";
  const std::vector<std::byte> original = RandomBytes(2 * kBlock, 8);
  WriteFile(p, original);  // existed before: durable as found
  FaultFileSystem fs;
  Result<std::unique_ptr<WritableFile>> w = fs.OpenForWrite(p, OpenMode::kExisting, 0644);
  REQUIRE_OK(w);
  const std::vector<std::byte> synced = RandomBytes(kBlock, 9);
  REQUIRE_OK((*w)->WriteAt(0, synced));
  REQUIRE_OK((*w)->Sync());
  // Unsynced: overwrite the second block, grow to four blocks.
  REQUIRE_OK((*w)->WriteAt(kBlock, RandomBytes(3 * kBlock, 10)));
  REQUIRE_OK((*w)->Close());
  REQUIRE(stdfs::file_size(p) == 4 * kBlock);

  SECTION("kRevert: the file is exactly as at the last Sync") {
    REQUIRE_OK(fs.SimulatePowerLoss());
    std::vector<std::byte> want = synced;
    want.insert(want.end(), original.begin() + kBlock, original.end());
    CHECK(ReadFileBytes(p) == want);
  }
  SECTION("kZero: unsynced overwrites read as zeros, the extension is gone") {
    REQUIRE_OK(fs.SimulatePowerLoss({.unsynced_data = UnsyncedData::kZero}));
    std::vector<std::byte> want = synced;
    want.resize(2 * kBlock);
    CHECK(ReadFileBytes(p) == want);
  }
}

TEST_CASE("fault_fs: power loss after a failed Sync keeps the old data", "[fault_fs][fault]") {
  TempDir dir;
  const stdfs::path p = dir / "f";
  WriteFile(p, "old contents");
  FaultFileSystem fs;
  fs.Inject({.op = Op::kSync, .count = 1, .fault = Fault::Errno(EIO)});
  Result<std::unique_ptr<WritableFile>> w = fs.OpenForWrite(p, OpenMode::kExisting, 0644);
  REQUIRE_OK(w);
  REQUIRE_OK((*w)->WriteAt(0, Bytes("NEW")));
  REQUIRE_OK((*w)->Truncate(5));
  CHECK_FALSE((*w)->Sync().ok());
  REQUIRE_OK((*w)->Close());
  CHECK(Slurp(p) == "NEW c");
  REQUIRE_OK(fs.SimulatePowerLoss());
  CHECK(Slurp(p) == "old contents");
}

TEST_CASE("fault_fs: power loss removes new files whose directory was never synced",
          "[fault_fs][fault]") {
  TempDir dir;
  FaultFileSystem fs;
  const auto create = [&](const char* name) {
    Result<std::unique_ptr<WritableFile>> w =
        fs.OpenForWrite(dir / name, OpenMode::kCreateExclusive, 0644);
    REQUIRE_OK(w);
    REQUIRE_OK((*w)->WriteAt(0, Bytes(name)));
    REQUIRE_OK((*w)->Sync());
    REQUIRE_OK((*w)->Close());
  };
  create("durable");
  REQUIRE_OK(fs.SyncDir(dir.path()));
  // WriteFileAtomic syncs the directory after its rename: it survives.
  REQUIRE_OK(WriteFileAtomic(&fs, dir / "atomic", "atomic"));
  create("lost");

  SECTION("default: the unsynced name is gone") {
    REQUIRE_OK(fs.SimulatePowerLoss());
    CHECK(Slurp(dir / "durable") == "durable");
    CHECK(Slurp(dir / "atomic") == "atomic");
    CHECK_FALSE(stdfs::exists(dir / "lost"));
  }
  SECTION("remove_unsynced_new_files = false keeps it") {
    REQUIRE_OK(fs.SimulatePowerLoss({.remove_unsynced_new_files = false}));
    CHECK(Slurp(dir / "lost") == "lost");
  }
}

TEST_CASE("fault_fs: a new file renamed away from its synced directory is still at risk",
          "[fault_fs][fault]") {
  TempDir dir;
  stdfs::create_directories(dir / "other");
  FaultFileSystem fs;
  Result<std::unique_ptr<WritableFile>> w =
      fs.OpenForWrite(dir / "tmp", OpenMode::kCreateExclusive, 0644);
  REQUIRE_OK(w);
  REQUIRE_OK((*w)->WriteAt(0, Bytes("data")));
  REQUIRE_OK((*w)->Sync());
  REQUIRE_OK((*w)->Close());
  REQUIRE_OK(fs.Rename(dir / "tmp", dir / "other/final"));
  REQUIRE_OK(fs.SyncDir(dir.path()));  // the wrong directory
  REQUIRE_OK(fs.SimulatePowerLoss());
  CHECK_FALSE(stdfs::exists(dir / "other/final"));
}

TEST_CASE("fault_fs: rules are thread-safe under concurrent readers", "[fault_fs][fault]") {
  TempDir dir;
  WriteFile(dir / "f", RandomBytes(kBlock, 11));
  FaultFileSystem fs;
  fs.Inject({.op = Op::kRead, .one_in = 4, .fault = Fault::Errno(EIO)});
  Result<std::unique_ptr<RandomAccessFile>> f = fs.OpenForRead(dir / "f");
  REQUIRE_OK(f);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<std::byte> buf(64);
      for (int i = 0; i < 250; ++i) {
        if (!(*f)->ReadAt(0, buf).ok())
          failures.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(failures.load() == 250);
  CHECK(fs.hits(Op::kRead) == 1000);
}

}  // namespace
}  // namespace atlas::testing
