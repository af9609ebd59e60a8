// util/coding.h: little-endian fixed-width and varint encoding.
//
// Every integer Sombra writes to disk goes through these helpers; no struct
// is ever memcpy'd to disk. Encoders write into a caller-provided buffer or
// append to a std::string. Decoders are bounds-checked: they never read past
// the end of their input and report failure instead.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sombra {

constexpr int kMaxVarint32Bytes = 5;
constexpr int kMaxVarint64Bytes = 10;

inline void EncodeFixed16(uint8_t* dst, uint16_t v) {
  dst[0] = static_cast<uint8_t>(v);
  dst[1] = static_cast<uint8_t>(v >> 8);
}
inline void EncodeFixed32(uint8_t* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void EncodeFixed64(uint8_t* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint16_t DecodeFixed16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
inline uint32_t DecodeFixed32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline uint64_t DecodeFixed64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// True when the n bytes at p are all zero (n may be 0).
inline bool IsAllZero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

void PutFixed16(std::string* dst, uint16_t v);
void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);

// Writes v as a varint at dst (room for kMaxVarint*Bytes); returns the byte
// after the last one written.
uint8_t* EncodeVarint32(uint8_t* dst, uint32_t v);
uint8_t* EncodeVarint64(uint8_t* dst, uint64_t v);
void PutVarint32(std::string* dst, uint32_t v);
void PutVarint64(std::string* dst, uint64_t v);
int VarintLength(uint64_t v);

// A bounds-checked reader over a byte range. Each Get* returns false, and
// leaves the reader unchanged, when the input is too short or malformed (a
// varint longer than its type allows).
class Decoder {
 public:
  Decoder(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  explicit Decoder(std::string_view s)
      : Decoder(reinterpret_cast<const uint8_t*>(s.data()), s.size()) {}

  bool GetFixed16(uint16_t* v);
  bool GetFixed32(uint32_t* v);
  bool GetFixed64(uint64_t* v);
  bool GetVarint32(uint32_t* v);
  bool GetVarint64(uint64_t* v);
  // A view of the next n bytes.
  bool GetBytes(size_t n, std::string_view* out);
  bool Skip(size_t n);

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const uint8_t* position() const { return p_; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// Decodes a varint from [p, limit); returns the byte after it, or nullptr
// when the input ends early or the varint is too long.
const uint8_t* DecodeVarint32(const uint8_t* p, const uint8_t* limit, uint32_t* v);
const uint8_t* DecodeVarint64(const uint8_t* p, const uint8_t* limit, uint64_t* v);

}  // namespace sombra
