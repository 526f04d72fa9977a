// Byte-level encodings for manifest keys and values (docs/FORMAT.md).
// Keys use big-endian fixed-width integers so that RocksDB's bytewise order is
// numeric order; values use little-endian varints behind a version byte.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "atlas/hash.h"

namespace atlas::coding {

void PutFixed16BE(std::string* out, std::uint16_t v);
void PutFixed64BE(std::string* out, std::uint64_t v);
std::uint16_t DecodeFixed16BE(const char* p);
std::uint64_t DecodeFixed64BE(const char* p);

void PutVarint(std::string* out, std::uint64_t v);
// Zig-zag signed varint.
void PutSignedVarint(std::string* out, std::int64_t v);
// Varint length followed by the bytes.
void PutLengthPrefixed(std::string* out, std::string_view s);
void PutHash(std::string* out, const Hash128& h);

// Reads a value written with the Put* functions above. Every Get* returns
// false (and leaves the reader failed) on truncated or malformed input.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool GetByte(std::uint8_t* v);
  bool GetVarint(std::uint64_t* v);
  bool GetSignedVarint(std::int64_t* v);
  bool GetLengthPrefixed(std::string* s);
  bool GetHash(Hash128* h);
  bool empty() const { return in_.empty(); }
  bool failed() const { return failed_; }

 private:
  bool Fail() {
    failed_ = true;
    return false;
  }
  std::string_view in_;
  bool failed_ = false;
};

}  // namespace atlas::coding
