// btree/node_format.h: the layout of B+tree pages (docs/format/page.md).
//
// Every number here is defined in docs/format/page.md; change both
// together, and bump pager::kFormatVersion when bytes on disk change.
//
// A node page (leaf, kind 3, or internal, kind 4):
//
//   0        24         52             arena_start     free_start   free_end     page_size
//   | common | node hdr | low | high    | records ->     |   gap      | <- slots   |
//
// Records grow up from arena_start; the slot directory (6 bytes a slot, in
// reverse key order: slot 0 is the last 6 bytes of the page) sits at the
// end of the page and grows down, so a new last key adds a slot without
// moving any. Deleted records leave holes inside [arena_start,
// free_start), counted in hole_bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pager/format.h"
#include "sombra/limits.h"
#include "util/coding.h"

namespace sombra::btree {

// Node header, after the 24-byte common page header.
constexpr size_t kSlotCountOffset = 24;     // u16: records on the page
constexpr size_t kLevelOffset = 26;         // u16: 0 for a leaf, height above the leaves otherwise
constexpr size_t kFreeStartOffset = 28;     // u32: end of the record arena
constexpr size_t kFreeEndOffset = 32;       // u32: start of the slot directory
constexpr size_t kHoleBytesOffset = 36;     // u32: dead record bytes inside the arena
constexpr size_t kLeftOffset = 40;          // u32: leaf: left sibling (0: none)
constexpr size_t kRightOffset = 44;         // u32: leaf: right sibling; internal: leftmost child
constexpr size_t kLowFenceLenOffset = 48;   // u16: leaf: low fence length (0: -infinity)
constexpr size_t kHighFenceLenOffset = 50;  // u16: leaf: high fence length (0: +infinity)
constexpr size_t kFencesOffset = 52;        // low fence bytes, then high fence bytes
constexpr size_t kNodeHeaderEnd = 52;

// Slot entry: u16 record offset, u32 key head (KeyHead below) so a search
// compares integers before it decodes a record. A record's length is not
// stored: its own header gives it (RecordLength below).
constexpr size_t kSlotSize = 6;

// Leaf record: varint key length, varint value code, key, then the value.
// value code = (value length << 1) | 0 for an inline value,
//              (12 << 1) | 1 for an overflow reference:
//              u32 first overflow page, u64 value length.
constexpr size_t kOverflowRefSize = 12;

// Internal record: varint key length, key (a separator), u32 child. The
// child holds the keys >= separator (and < the next separator); the
// leftmost child (kRightOffset) holds the keys < the first separator.

// Overflow page (kind 5): u32 next page (0: last), u32 bytes used here,
// then the bytes.
constexpr size_t kOverflowNextOffset = 24;
constexpr size_t kOverflowUsedOffset = 28;
constexpr size_t kOverflowDataOffset = 32;

// Limits (docs/format/page.md, "Limits").
// The public limit (sombra/limits.h) is the format's: one definition.
inline uint32_t MaxKeySize(uint32_t page_size) {
  return static_cast<uint32_t>(sombra::MaxKeySize(page_size));
}
// A leaf record larger than this stores its value in overflow pages.
inline uint32_t MaxInlineRecord(uint32_t page_size) { return page_size / 4 + 64; }

// The key head of a slot (docs/format/page.md, "Key head"): an integer
// whose order agrees with the keys' (a < b implies head(a) <= head(b)), so
// a search decides on it alone whenever two heads differ. Leading zero
// bytes are counted rather than copied, so that big-endian integer keys,
// whose first bytes are all zero, still get distinct heads:
//   - a key of zero bytes only: 0;
//   - else, with z = its leading zero bytes (at most 254):
//     (255 - z) << 24 | the 3 key bytes from position z (zero-padded).
// A key with more leading zeros is smaller, hence the smaller top byte.
inline uint32_t KeyHead(std::string_view key) {
  size_t z = 0;
  while (z < key.size() && key[z] == 0) ++z;
  if (z == key.size()) return 0;
  if (z > 254) z = 254;
  uint32_t h = 255u - static_cast<uint32_t>(z);
  for (size_t i = z; i < z + 3; ++i) {
    h = (h << 8) | (i < key.size() ? static_cast<uint8_t>(key[i]) : 0);
  }
  return h;
}

// The length of the node record at `rec` as its own header states it
// (leaf: varint key length, varint value code, key, value or overflow
// reference; internal: varint key length, key, u32 child), or 0 when the
// header does not decode or the record would pass `limit`. Varints in
// other than their shortest form are the record decoders' to refuse.
inline uint32_t RecordLength(const uint8_t* rec, const uint8_t* limit, bool leaf) {
  // The common case first: one-byte varints.
  if (limit - rec >= 2 && ((rec[0] | (leaf ? rec[1] : 0)) & 0x80) == 0) {
    const uint64_t n = leaf ? 2u + rec[0] + ((rec[1] & 1) != 0 ? kOverflowRefSize : rec[1] >> 1)
                            : 1u + rec[0] + 4u;
    return n <= static_cast<uint64_t>(limit - rec) ? static_cast<uint32_t>(n) : 0;
  }
  uint32_t key_len = 0;
  const uint8_t* p = DecodeVarint32(rec, limit, &key_len);
  if (p == nullptr) return 0;
  uint64_t rest = key_len;
  if (leaf) {
    uint32_t code = 0;
    p = DecodeVarint32(p, limit, &code);
    if (p == nullptr) return 0;
    rest += (code & 1) != 0 ? kOverflowRefSize : code >> 1;
  } else {
    rest += 4;  // the child
  }
  if (rest > static_cast<uint64_t>(limit - p)) return 0;
  return static_cast<uint32_t>(static_cast<uint64_t>(p - rec) + rest);
}

}  // namespace sombra::btree
