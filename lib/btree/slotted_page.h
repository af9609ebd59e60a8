// btree/slotted_page.h: the slot directory shared by leaf and internal
// pages (docs/format/page.md; layout in node_format.h).
//
// One place for what both node kinds store the same way:
//   - a slot is u16 record offset, u16 record length, u32 key head, at the
//     named field offsets below, little-endian like every integer on disk;
//   - slot i (key order) lives at free_end + kSlotSize * i;
//   - records live in [arena_start, free_start) in any address order; the
//     bytes there that no slot covers are the holes.
//
// Thread safety: plain functions over caller-owned bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "btree/node_format.h"
#include "util/coding.h"

namespace sombra::btree {

// Field offsets inside one slot entry (kSlotSize bytes).
constexpr size_t kSlotRecordOffsetField = 0;  // u16
constexpr size_t kSlotRecordLengthField = 2;  // u16
constexpr size_t kSlotHeadField = 4;          // u32

// A record's length is a slot's u16: no record (and no page) holds more
// slots or longer records than this.
constexpr uint32_t kMaxRecordLength = 0xFFFF;
constexpr size_t kMaxSlotCount = 0xFFFF;

struct SlotEntry {
  uint16_t offset;
  uint16_t length;  // 0 only inside LeafAllocator: a dead slot (an update's old record)
  uint32_t head;    // KeyHead(key)
};

// The page offset of slot i in a directory starting at free_end.
inline uint32_t SlotPos(uint32_t free_end, size_t i) {
  return free_end + static_cast<uint32_t>(kSlotSize * i);
}

inline SlotEntry DecodeSlot(const uint8_t* p) {
  return SlotEntry{DecodeFixed16(p + kSlotRecordOffsetField),
                   DecodeFixed16(p + kSlotRecordLengthField), DecodeFixed32(p + kSlotHeadField)};
}

inline uint32_t DecodeSlotHead(const uint8_t* p) { return DecodeFixed32(p + kSlotHeadField); }

inline void EncodeSlot(uint8_t* p, const SlotEntry& s) {
  EncodeFixed16(p + kSlotRecordOffsetField, s.offset);
  EncodeFixed16(p + kSlotRecordLengthField, s.length);
  EncodeFixed32(p + kSlotHeadField, s.head);
}

// `bytes`, or a copy of them in *copy when they point into [page, page +
// page_size): an edit may move those bytes.
std::string_view Unaliased(const uint8_t* page, uint32_t page_size, std::string_view bytes,
                           std::string* copy);

// [begin, end) byte ranges of a page.
using ByteRange = std::pair<uint32_t, uint32_t>;

// The holes, in address order, of an arena [arena_start, free_start)
// holding the records of `slots` (dead slots, length 0, hold nothing).
std::vector<ByteRange> ListHoles(const SlotEntry* slots, size_t count, uint32_t arena_start,
                                 uint32_t free_start);

// The first hole of at least `size` bytes (address order); 0 when none.
uint32_t FirstFitHole(const SlotEntry* slots, size_t count, uint32_t arena_start,
                      uint32_t free_start, uint32_t size);

}  // namespace sombra::btree
