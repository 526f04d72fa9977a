// Byte-level encodings shared by everything atlas stores: manifest keys and
// values and the outside index (docs/FORMAT.md). Keys use big-endian
// fixed-width integers so that RocksDB's bytewise order is numeric order;
// values use little-endian varints behind a version byte.
//
// It lives in core, not in the manifest, because the outside index uses the
// same encodings and sits beside the manifest, not under it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

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
// The bytes as they are, without a length.
void PutBytes(std::string* out, std::span<const std::byte> bytes);
// A 128-bit hash as its canonical 16 bytes. A template over the hash type
// (Hash128, atlas/hash.h: ToBytes and FromBytes) so that core needs nothing
// from the hash module above it.
template <typename Hash>
void PutHash(std::string* out, const Hash& h) {
  std::byte b[16];
  h.ToBytes(b);
  PutBytes(out, b);
}

// Reads a value written with the Put* functions above. Every Get* returns
// false (and leaves the reader failed) on truncated or malformed input.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool GetByte(std::uint8_t* v);
  bool GetVarint(std::uint64_t* v);
  bool GetSignedVarint(std::int64_t* v);
  bool GetLengthPrefixed(std::string* s);
  // Exactly out.size() bytes.
  bool GetBytes(std::span<std::byte> out);
  // A hash written by PutHash.
  template <typename Hash>
  bool GetHash(Hash* h) {
    std::byte b[16];
    if (!GetBytes(b)) return false;
    *h = Hash::FromBytes(b);
    return true;
  }
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
