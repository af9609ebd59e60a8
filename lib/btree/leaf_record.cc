// btree/leaf_record.cc: leaf record encoding (docs/format/page.md, "Leaf
// record") and ShortestSeparator ("Separators").
#include <cassert>
#include <cstring>
#include <string>
#include <string_view>

#include "btree/leaf_allocator.h"
#include "util/coding.h"

namespace sombra::btree {

size_t LeafRecordSize(std::string_view key, std::string_view value) {
  return VarintLength(key.size()) + VarintLength(uint64_t{value.size()} << 1) + key.size() +
         value.size();
}

void EncodeLeafRecordTo(std::string_view key, std::string_view value, std::string* out) {
  assert(key.size() <= UINT32_MAX && value.size() < (1u << 31));
  // One resize and straight writes: every Put and Append encodes a record.
  uint8_t head[2 * kMaxVarint32Bytes];
  uint8_t* end = EncodeVarint32(head, static_cast<uint32_t>(key.size()));
  end = EncodeVarint32(end, static_cast<uint32_t>(value.size() << 1));
  const auto head_len = static_cast<size_t>(end - head);
  out->resize(head_len + key.size() + value.size());
  char* dst = out->data();
  std::memcpy(dst, head, head_len);
  if (!key.empty()) std::memcpy(dst + head_len, key.data(), key.size());
  if (!value.empty()) std::memcpy(dst + head_len + key.size(), value.data(), value.size());
}

std::string EncodeLeafRecord(std::string_view key, std::string_view value) {
  std::string out;
  EncodeLeafRecordTo(key, value, &out);
  return out;
}

std::string EncodeOverflowRecord(std::string_view key, uint32_t first_page, uint64_t value_len) {
  std::string out;
  out.reserve(VarintLength(key.size()) + 1 + key.size() + kOverflowRefSize);
  PutVarint32(&out, static_cast<uint32_t>(key.size()));
  PutVarint32(&out, static_cast<uint32_t>((kOverflowRefSize << 1) | 1));
  out.append(key);
  PutFixed32(&out, first_page);
  PutFixed64(&out, value_len);
  return out;
}

void DecodeOverflowRef(std::string_view ref, uint32_t* first_page, uint64_t* value_len) {
  assert(ref.size() == kOverflowRefSize);
  const auto* p = reinterpret_cast<const uint8_t*>(ref.data());
  *first_page = DecodeFixed32(p);
  *value_len = DecodeFixed64(p + 4);
}

bool DecodeLeafRecordSlow(const uint8_t* data, size_t size, LeafRecordRef* out) {
  const uint8_t* const limit = data + size;
  uint32_t key_len = 0;
  uint32_t code = 0;
  const uint8_t* p = DecodeVarint32(data, limit, &key_len);
  // Varints must be in their shortest form: one record, one encoding.
  if (p == nullptr || p - data != VarintLength(key_len)) return false;
  const uint8_t* q = DecodeVarint32(p, limit, &code);
  if (q == nullptr || q - p != VarintLength(code)) return false;
  const bool overflow = (code & 1) != 0;
  const uint64_t value_len = code >> 1;
  if (overflow && value_len != kOverflowRefSize) return false;
  const size_t rest = static_cast<size_t>(limit - q);
  if (key_len > rest || value_len != rest - key_len) return false;
  const char* k = reinterpret_cast<const char*>(q);
  out->key = std::string_view(k, key_len);
  out->value = std::string_view(k + key_len, static_cast<size_t>(value_len));
  out->overflow = overflow;
  out->encoded = std::string_view(reinterpret_cast<const char*>(data), size);
  return true;
}

std::string ShortestSeparator(std::string_view left_max, std::string_view right_min) {
  assert(left_max < right_min);
  // With i the length of the common prefix, right_min[0, i] is > left_max
  // (it is longer than left_max's prefix, or larger at byte i) and every
  // shorter prefix of right_min is a prefix of left_max, so <= left_max.
  size_t i = 0;
  while (i < left_max.size() && i < right_min.size() && left_max[i] == right_min[i]) ++i;
  return std::string(right_min.substr(0, i + 1));
}

}  // namespace sombra::btree
