#include "util/coding.h"

namespace sombra {

void PutFixed16(std::string* dst, uint16_t v) {
  uint8_t buf[2];
  EncodeFixed16(buf, v);
  dst->append(reinterpret_cast<const char*>(buf), sizeof(buf));
}
void PutFixed32(std::string* dst, uint32_t v) {
  uint8_t buf[4];
  EncodeFixed32(buf, v);
  dst->append(reinterpret_cast<const char*>(buf), sizeof(buf));
}
void PutFixed64(std::string* dst, uint64_t v) {
  uint8_t buf[8];
  EncodeFixed64(buf, v);
  dst->append(reinterpret_cast<const char*>(buf), sizeof(buf));
}

uint8_t* EncodeVarint64(uint8_t* dst, uint64_t v) {
  while (v >= 0x80) {
    *dst++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *dst++ = static_cast<uint8_t>(v);
  return dst;
}
uint8_t* EncodeVarint32(uint8_t* dst, uint32_t v) { return EncodeVarint64(dst, v); }

void PutVarint32(std::string* dst, uint32_t v) { PutVarint64(dst, v); }
void PutVarint64(std::string* dst, uint64_t v) {
  uint8_t buf[kMaxVarint64Bytes];
  uint8_t* end = EncodeVarint64(buf, v);
  dst->append(reinterpret_cast<const char*>(buf), static_cast<size_t>(end - buf));
}

int VarintLength(uint64_t v) {
  int len = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++len;
  }
  return len;
}

const uint8_t* DecodeVarint64(const uint8_t* p, const uint8_t* limit, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && p < limit; shift += 7) {
    uint64_t byte = *p++;
    if (shift == 63 && byte > 1) return nullptr;  // would overflow 64 bits
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return p;
    }
  }
  return nullptr;
}

const uint8_t* DecodeVarint32(const uint8_t* p, const uint8_t* limit, uint32_t* v) {
  uint64_t wide = 0;
  const uint8_t* next = DecodeVarint64(p, limit, &wide);
  if (next == nullptr || next - p > kMaxVarint32Bytes || wide > UINT32_MAX) return nullptr;
  *v = static_cast<uint32_t>(wide);
  return next;
}

bool Decoder::GetFixed16(uint16_t* v) {
  if (remaining() < 2) return false;
  *v = DecodeFixed16(p_);
  p_ += 2;
  return true;
}
bool Decoder::GetFixed32(uint32_t* v) {
  if (remaining() < 4) return false;
  *v = DecodeFixed32(p_);
  p_ += 4;
  return true;
}
bool Decoder::GetFixed64(uint64_t* v) {
  if (remaining() < 8) return false;
  *v = DecodeFixed64(p_);
  p_ += 8;
  return true;
}
bool Decoder::GetVarint32(uint32_t* v) {
  const uint8_t* next = DecodeVarint32(p_, end_, v);
  if (next == nullptr) return false;
  p_ = next;
  return true;
}
bool Decoder::GetVarint64(uint64_t* v) {
  const uint8_t* next = DecodeVarint64(p_, end_, v);
  if (next == nullptr) return false;
  p_ = next;
  return true;
}
bool Decoder::GetBytes(size_t n, std::string_view* out) {
  if (remaining() < n) return false;
  *out = std::string_view(reinterpret_cast<const char*>(p_), n);
  p_ += n;
  return true;
}
bool Decoder::Skip(size_t n) {
  if (remaining() < n) return false;
  p_ += n;
  return true;
}

}  // namespace sombra
