// ExtentMap (src/engine/extent_map.h): the free block positions of one data
// disk. Allocation takes the lowest free positions first and only then
// grows the disk past its high-water mark; freed positions merge with their
// neighbours; Flush writes the free table entries that changed, and only
// those.
#include "engine/extent_map.h"

#include <cstdint>
#include <string>
#include <vector>

#include "atlas/manifest.h"

#include "support/test_util.h"

namespace atlas {
namespace {

using Extents = std::vector<Extent>;

// A ManifestBatch that records the free table updates queued into it, as
// "put SLOT:START+COUNT" and "delete SLOT:START" lines.
class FreeTableBatch final : public ManifestBatch {
 public:
  std::vector<std::string> lines;

  void PutFreeExtent(std::uint16_t slot, const Extent& e) override {
    lines.push_back("put " + std::to_string(slot) + ":" + std::to_string(e.start) + "+" +
                    std::to_string(e.count));
  }
  void DeleteFreeExtent(std::uint16_t slot, std::uint64_t start) override {
    lines.push_back("delete " + std::to_string(slot) + ":" + std::to_string(start));
  }
  std::size_t Count() const override { return lines.size(); }
  std::size_t ByteSize() const override { return 0; }

  // Nothing else may be written by ExtentMap.
  void PutMeta(std::string_view, std::string_view) override { Unexpected(); }
  void PutDisk(const DiskRecord&) override { Unexpected(); }
  void DeleteDisk(std::string_view) override { Unexpected(); }
  void PutFile(const FileRecord&) override { Unexpected(); }
  void DeleteFile(const FileRecord&) override { Unexpected(); }
  void PutEntry(const EntryRecord&) override { Unexpected(); }
  void DeleteEntry(std::uint16_t, std::string_view) override { Unexpected(); }
  void PutBlock(const BlockRecord&) override { Unexpected(); }
  void ReplaceBlock(const std::optional<BlockRecord>&, const BlockRecord&) override {
    Unexpected();
  }
  void DeleteBlock(std::uint16_t, std::uint64_t) override { Unexpected(); }
  void MarkDirty(std::uint64_t, std::uint16_t) override { Unexpected(); }
  void ClearDirty(std::uint64_t, std::uint16_t) override { Unexpected(); }
  void PutParityHash(const ParityHashRecord&) override { Unexpected(); }
  void DeleteParityHash(std::uint64_t) override { Unexpected(); }
  void PutDeletedContent(const Hash128&, std::string_view) override { Unexpected(); }
  void DeleteDeletedContent(const Hash128&) override { Unexpected(); }
  void PutRun(const RunRecord&) override { Unexpected(); }
  void PutFinding(const StoredFinding&) override { Unexpected(); }
  void DeleteFinding(const Finding&) override { Unexpected(); }
  void PutAlertState(const AlertStateRecord&) override { Unexpected(); }
  void DeleteAlertState(std::string_view) override { Unexpected(); }
  void PutSmartRecord(const SmartRecord&) override { Unexpected(); }
  void PutOutsideHost(const OutsideHostRecord&) override { Unexpected(); }
  void DeleteOutsideHost(std::string_view) override { Unexpected(); }
  void DeleteSmartRecord(std::string_view, std::int64_t) override { Unexpected(); }

 private:
  void Unexpected() { lines.push_back("something other than the free table"); }
};

std::vector<std::string> Flushed(ExtentMap& m, std::uint16_t slot = 3) {
  FreeTableBatch batch;
  m.Flush(slot, &batch);
  return batch.lines;
}

TEST_CASE("extent_map: a new disk hands out positions from 0 up, one extent per request",
          "[extent_map][engine][unit]") {
  ExtentMap m;
  m.Load({}, 0);
  CHECK(m.next_pos() == 0);
  CHECK(m.free_positions() == 0);
  CHECK(m.Allocate(3) == Extents{{0, 3}});
  CHECK(m.Allocate(1) == Extents{{3, 1}});
  CHECK(m.Allocate(2) == Extents{{4, 2}});
  CHECK(m.next_pos() == 6);
  CHECK(m.TailStart() == 6);
  CHECK(m.free_positions() == 0);
  // Asking for nothing takes nothing.
  CHECK(m.Allocate(0).empty());
  CHECK(m.next_pos() == 6);
}

TEST_CASE("extent_map: freed positions are taken first, lowest first, before the disk grows",
          "[extent_map][engine][unit]") {
  // STRATEGY: positions 0..9 in use; 2, 7 and 8 freed. A file of 2 blocks
  // gets 2 and 7 (first fit in position order: it may end up in several
  // extents); the next of 3 blocks gets 8, then 10 and 11 past the
  // high-water mark.
  ExtentMap m;
  m.Load({}, 10);
  m.Free(2);
  m.Free(7);
  m.Free(8);
  CHECK(m.free_positions() == 3);
  CHECK(m.Allocate(2) == Extents{{2, 1}, {7, 1}});
  CHECK(m.free_positions() == 1);
  CHECK(m.next_pos() == 10);
  CHECK(m.Allocate(3) == Extents{{8, 1}, {10, 2}});
  CHECK(m.next_pos() == 12);
  CHECK(m.free_positions() == 0);
}

TEST_CASE("extent_map: a request smaller than a free run takes its start and leaves the rest",
          "[extent_map][engine][unit]") {
  ExtentMap m;
  m.Load({{4, 5}}, 20);
  CHECK(m.Allocate(2) == Extents{{4, 2}});
  CHECK(m.free_positions() == 3);
  CHECK(m.Allocate(3) == Extents{{6, 3}});
  CHECK(m.free_positions() == 0);
  CHECK(m.Allocate(1) == Extents{{20, 1}});
}

TEST_CASE("extent_map: a free run that ends at the high-water mark continues past it as one extent",
          "[extent_map][engine][unit]") {
  ExtentMap m;
  m.Load({{8, 2}}, 10);
  CHECK(m.TailStart() == 8);
  CHECK(m.Allocate(5) == Extents{{8, 5}});
  CHECK(m.next_pos() == 13);
  CHECK(m.TailStart() == 13);
  // A run that stops short of the mark does not.
  ExtentMap gap;
  gap.Load({{5, 2}}, 10);
  CHECK(gap.TailStart() == 10);
  CHECK(gap.Allocate(4) == Extents{{5, 2}, {10, 2}});
}

TEST_CASE("extent_map: freed positions merge with free neighbours on either side",
          "[extent_map][engine][unit]") {
  ExtentMap m;
  m.Load({}, 10);
  m.Free(3);
  m.Free(5);
  CHECK(m.free_positions() == 2);
  m.Free(4);  // joins 3 and 5
  CHECK(m.free_positions() == 3);
  // Freeing a position that is already free changes nothing.
  m.Free(4);
  m.Free(3);
  CHECK(m.free_positions() == 3);
  // One run now: a request for 3 takes it whole.
  CHECK(m.Allocate(3) == Extents{{3, 3}});
  // Freeing never lowers the high-water mark; the run ending there is its tail.
  m.Free(9);
  m.Free(8);
  CHECK(m.next_pos() == 10);
  CHECK(m.TailStart() == 8);
  m.Free(0);
  CHECK(m.TailStart() == 8);
  CHECK(m.free_positions() == 3);
}

TEST_CASE("extent_map: stored extents that touch or overlap are merged on load",
          "[extent_map][engine][unit]") {
  // An older manifest may hold adjacent runs; an empty one means nothing.
  ExtentMap m;
  m.Load({{0, 2}, {2, 3}, {4, 2}, {10, 1}, {11, 0}, {12, 1}}, 20);
  CHECK(m.next_pos() == 20);
  CHECK(m.free_positions() == 8);
  CHECK(m.Allocate(7) == Extents{{0, 6}, {10, 1}});
  CHECK(m.Allocate(2) == Extents{{12, 1}, {20, 1}});
  // Load replaces everything that was there.
  m.Load({{1, 1}}, 4);
  CHECK(m.next_pos() == 4);
  CHECK(m.free_positions() == 1);
  CHECK(m.TailStart() == 4);
}

TEST_CASE("extent_map: Flush writes only the free runs that changed since the last Flush or Load",
          "[extent_map][engine][unit]") {
  // STRATEGY: each step changes the free set one way and checks the exact
  // updates Flush queues (slot 3): none when nothing changed, a put for a
  // new or resized run, a delete for a run that is gone or was merged into
  // the one before it.
  ExtentMap m;
  m.Load({{0, 2}, {2, 3}, {10, 1}, {11, 0}}, 20);
  // The merged run 0+5 replaces 0+2 and 2+3; the empty 11+0 goes.
  CHECK(Flushed(m) == std::vector<std::string>{"delete 3:2", "delete 3:11", "put 3:0+5"});
  CHECK(Flushed(m).empty());

  m.Allocate(1);  // takes 0: the run now starts at 1
  CHECK(Flushed(m) == std::vector<std::string>{"delete 3:0", "put 3:1+4"});

  m.Allocate(2);  // takes 1 and 2: the run starts at 3 now
  m.Free(1);      // and 1 comes back: the run at 1 is one position long
  CHECK(Flushed(m) == std::vector<std::string>{"put 3:1+1", "put 3:3+2"});

  m.Free(11);  // grows 10+1 to 10+2, same key
  CHECK(Flushed(m, 7) == std::vector<std::string>{"put 7:10+2"});

  m.Allocate(5);  // 1, 3, 4, 10, 11: every run is gone
  CHECK(m.free_positions() == 0);
  CHECK(Flushed(m) == std::vector<std::string>{"delete 3:1", "delete 3:3", "delete 3:10"});
  CHECK(Flushed(m).empty());

  // Growing the disk from the high-water mark writes nothing.
  CHECK(m.Allocate(4) == Extents{{20, 4}});
  CHECK(Flushed(m).empty());
}

}  // namespace
}  // namespace atlas
