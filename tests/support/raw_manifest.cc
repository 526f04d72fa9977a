#include "support/raw_manifest.h"

#include <catch2/catch.hpp>

namespace atlas::testing {

std::unique_ptr<rocksdb::DB> OpenRaw(const std::filesystem::path& dir) {
  rocksdb::Options o;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, dir.string(), &raw);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return std::unique_ptr<rocksdb::DB>(raw);
}

std::string Meta(const std::filesystem::path& dir, const std::string& name) {
  std::unique_ptr<rocksdb::DB> db = OpenRaw(dir);
  std::string v;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), "m" + name, &v);
  return s.ok() ? v : "<none>";
}

void SetMeta(const std::filesystem::path& dir, const std::string& name, const std::string* value) {
  std::unique_ptr<rocksdb::DB> db = OpenRaw(dir);
  rocksdb::WriteOptions w;
  w.sync = true;
  REQUIRE((value ? db->Put(w, "m" + name, *value) : db->Delete(w, "m" + name)).ok());
}

}  // namespace atlas::testing
