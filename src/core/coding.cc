#include "core/coding.h"

#include <cstring>

namespace atlas::coding {

void PutFixed16BE(std::string* out, std::uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}

void PutFixed64BE(std::string* out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

std::uint16_t DecodeFixed16BE(const char* p) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(p[0]) << 8) |
                                    static_cast<unsigned char>(p[1]));
}

std::uint64_t DecodeFixed64BE(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void PutVarint(std::string* out, std::uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutSignedVarint(std::string* out, std::int64_t v) {
  PutVarint(out, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

void PutLengthPrefixed(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

void PutBytes(std::string* out, std::span<const std::byte> bytes) {
  out->append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

bool Reader::GetByte(std::uint8_t* v) {
  if (failed_ || in_.empty()) return Fail();
  *v = static_cast<std::uint8_t>(in_[0]);
  in_.remove_prefix(1);
  return true;
}

bool Reader::GetVarint(std::uint64_t* v) {
  std::uint64_t result = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (failed_ || in_.empty()) return Fail();
    auto byte = static_cast<unsigned char>(in_[0]);
    in_.remove_prefix(1);
    // The tenth byte holds bit 63 alone: anything more does not fit in 64
    // bits, and is corrupt rather than a value with its top bits dropped.
    if (shift == 63 && byte > 1) return Fail();
    result |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return Fail();
}

bool Reader::GetSignedVarint(std::int64_t* v) {
  std::uint64_t u = 0;
  if (!GetVarint(&u)) return false;
  *v = static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

bool Reader::GetLengthPrefixed(std::string* s) {
  std::uint64_t n = 0;
  if (!GetVarint(&n) || n > in_.size()) return Fail();
  s->assign(in_.substr(0, n));
  in_.remove_prefix(n);
  return true;
}

bool Reader::GetBytes(std::span<std::byte> out) {
  if (failed_ || in_.size() < out.size()) return Fail();
  std::memcpy(out.data(), in_.data(), out.size());
  in_.remove_prefix(out.size());
  return true;
}

}  // namespace atlas::coding
