// btree/slotted_page.cc: hole listing and SlottedPageEditor, the space
// management shared by leaf and internal pages.
#include "btree/slotted_page.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace sombra::btree {

std::vector<ByteRange> ListHoles(const SlotEntry* slots, size_t count, uint32_t arena_start,
                                 uint32_t free_start) {
  std::vector<ByteRange> recs;
  recs.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if (slots[i].length != 0) {
      recs.emplace_back(slots[i].offset, uint32_t{slots[i].offset} + slots[i].length);
    }
  }
  std::sort(recs.begin(), recs.end());
  std::vector<ByteRange> holes;
  uint32_t cursor = arena_start;
  for (const auto& [begin, end] : recs) {
    if (begin > cursor) holes.emplace_back(cursor, begin);
    cursor = std::max(cursor, end);
  }
  if (cursor < free_start) holes.emplace_back(cursor, free_start);
  return holes;
}

uint32_t FirstFitHole(const SlotEntry* slots, size_t count, uint32_t arena_start,
                      uint32_t free_start, uint32_t size) {
  for (const auto& [begin, end] : ListHoles(slots, count, arena_start, free_start)) {
    if (end - begin >= size) return begin;
  }
  return 0;
}

SlottedLayout SlottedLayout::ReadTrusted(const uint8_t* page, uint32_t page_size,
                                         uint32_t arena_start) {
  SlottedLayout l;
  l.page_size_ = page_size;
  l.arena_start_ = arena_start;
  l.free_start_ = DecodeFixed32(page + kFreeStartOffset);
  l.free_end_ = DecodeFixed32(page + kFreeEndOffset);
  l.hole_bytes_ = DecodeFixed32(page + kHoleBytesOffset);
  l.slots_.resize(DecodeFixed16(page + kSlotCountOffset));
  for (size_t i = 0; i < l.slots_.size(); ++i) {
    l.slots_[i] = DecodeSlot(page + SlotPos(l.free_end_, i));
  }
  return l;
}

std::vector<ByteRange> SlottedLayout::Holes() const {
  if (hole_bytes_ == 0) return {};
  return ListHoles(slots_.data(), slots_.size(), arena_start_, free_start_);
}

void SlottedPageEditor::Put16(uint32_t offset, uint16_t v) {
  if (DecodeFixed16(page_ + offset) == v) return;
  EncodeFixed16(page_ + offset, v);
  Report(offset, 2);
}

void SlottedPageEditor::WriteRecord(uint32_t at, std::string_view record) {
  std::memcpy(page_ + at, record.data(), record.size());
  Report(at, static_cast<uint32_t>(record.size()));
  Count(c_, Tick::kMemcopyBytes, record.size());
}

void SlottedPageEditor::SyncHeader() {
  Put16(kSlotCountOffset, static_cast<uint16_t>(l_.slots_.size()));
  Put32(kFreeStartOffset, l_.free_start_);
  Put32(kFreeEndOffset, l_.free_end_);
  Put32(kHoleBytesOffset, l_.hole_bytes_);
}

void SlottedPageEditor::Compact() {
  // Copy the live records out in key order, then lay them back from
  // arena_start. A record whose place does not change is not rewritten
  // (no other record can land on its bytes).
  uint32_t total = 0;
  for (const SlotEntry& slot : l_.slots_) total += slot.length;
  std::vector<uint8_t> scratch(total);
  uint32_t pos = 0;
  for (const SlotEntry& slot : l_.slots_) {
    std::memcpy(scratch.data() + pos, page_ + slot.offset, slot.length);
    pos += slot.length;
  }
  uint64_t moved = 0;
  pos = 0;
  for (SlotEntry& slot : l_.slots_) {
    if (slot.length == 0) continue;
    const uint32_t to = l_.arena_start_ + pos;
    if (to != slot.offset) {
      std::memcpy(page_ + to, scratch.data() + pos, slot.length);
      moved += slot.length;
      slot.offset = static_cast<uint16_t>(to);
    }
    pos += slot.length;
  }
  for (size_t i = 0; i < l_.slots_.size(); ++i) {
    EncodeSlot(page_ + SlotPos(l_.free_end_, i), l_.slots_[i]);
  }
  Report(l_.arena_start_, total);
  Report(l_.free_end_, l_.page_size_ - l_.free_end_);
  l_.free_start_ = l_.arena_start_ + total;
  l_.hole_bytes_ = 0;
  Count(c_, Tick::kAllocatorCompactions);
  Count(c_, Tick::kAllocatorBytesMoved, moved);
  Count(c_, Tick::kMemcopyBytes, moved);
}

uint32_t SlottedPageEditor::Place(uint32_t size, uint32_t slot_bytes) {
  assert(l_.free_bytes() >= size + slot_bytes);
  const uint32_t gap = l_.free_end_ - l_.free_start_;
  if (l_.hole_bytes_ >= size && gap >= slot_bytes) {
    const uint32_t hole =
        FirstFitHole(l_.slots_.data(), l_.slots_.size(), l_.arena_start_, l_.free_start_, size);
    if (hole != 0) {
      l_.hole_bytes_ -= size;
      return hole;
    }
  }
  if (gap < size + slot_bytes) Compact();
  const uint32_t at = l_.free_start_;
  l_.free_start_ += size;
  return at;
}

void SlottedPageEditor::Release(size_t i) {
  SlotEntry& slot = l_.slots_[i];
  const uint32_t end = uint32_t{slot.offset} + slot.length;
  const uint32_t len = slot.length;
  slot.length = 0;
  if (end != l_.free_start_) {
    l_.hole_bytes_ += len;
    return;
  }
  // The last record in address order: the arena ends after the one before
  // it, and any hole in between joins the gap.
  uint32_t new_start = l_.arena_start_;
  for (const SlotEntry& other : l_.slots_) {
    if (other.length != 0) new_start = std::max<uint32_t>(new_start, other.offset + other.length);
  }
  l_.hole_bytes_ = l_.hole_bytes_ + len - (l_.free_start_ - new_start);
  l_.free_start_ = new_start;
}

void SlottedPageEditor::Insert(size_t i, std::string_view record, uint32_t head) {
  assert(i <= l_.slots_.size() && !record.empty() && record.size() <= kMaxRecordLength);
  assert(l_.slots_.size() < kMaxSlotCount && l_.free_bytes() >= record.size() + kSlotSize);
  const auto size = static_cast<uint32_t>(record.size());
  const uint32_t at = Place(size, kSlotSize);
  WriteRecord(at, record);
  const uint32_t old_end = l_.free_end_;
  const uint32_t new_end = old_end - static_cast<uint32_t>(kSlotSize);
  const SlotEntry slot{static_cast<uint16_t>(at), static_cast<uint16_t>(size), head};
  // The slots before i move down by one slot (reported as a move: the log
  // records it in a few bytes), then slot i is written.
  std::memmove(page_ + new_end, page_ + old_end, kSlotSize * i);
  ReportMove(old_end, new_end, static_cast<uint32_t>(kSlotSize * i));
  EncodeSlot(page_ + SlotPos(new_end, i), slot);
  Report(SlotPos(new_end, i), static_cast<uint32_t>(kSlotSize));
  l_.slots_.insert(l_.slots_.begin() + static_cast<ptrdiff_t>(i), slot);
  l_.free_end_ = new_end;
  SyncHeader();
}

void SlottedPageEditor::Replace(size_t i, std::string_view record, uint32_t head) {
  assert(i < l_.slots_.size() && !record.empty() && record.size() <= kMaxRecordLength);
  const SlotEntry old = l_.slots_[i];
  assert(uint64_t{l_.free_bytes()} + old.length >= record.size());
  const auto size = static_cast<uint32_t>(record.size());
  uint32_t at = old.offset;
  if (size <= old.length) {
    // In place; the tail of the old bytes becomes a hole, or gap when the
    // record ended the arena.
    WriteRecord(at, record);
    if (uint32_t{old.offset} + old.length == l_.free_start_) {
      l_.free_start_ = old.offset + size;
    } else {
      l_.hole_bytes_ += old.length - size;
    }
  } else {
    // Elsewhere: free the old bytes first (they may join a hole large
    // enough), then place the record as an insert would, minus the slot.
    Release(i);
    at = Place(size, 0);
    WriteRecord(at, record);
  }
  SlotEntry& slot = l_.slots_[i];
  slot = SlotEntry{static_cast<uint16_t>(at), static_cast<uint16_t>(size), head};
  const uint32_t pos = SlotPos(l_.free_end_, i);
  Put16(pos + kSlotRecordOffsetField, slot.offset);
  Put16(pos + kSlotRecordLengthField, slot.length);
  Put32(pos + kSlotHeadField, slot.head);
  SyncHeader();
}

void SlottedPageEditor::Erase(size_t i) {
  assert(i < l_.slots_.size());
  Release(i);
  const uint32_t old_end = l_.free_end_;
  const uint32_t new_end = old_end + static_cast<uint32_t>(kSlotSize);
  std::memmove(page_ + new_end, page_ + old_end, kSlotSize * i);
  ReportMove(old_end, new_end, static_cast<uint32_t>(kSlotSize * i));
  l_.slots_.erase(l_.slots_.begin() + static_cast<ptrdiff_t>(i));
  l_.free_end_ = new_end;
  SyncHeader();
}

}  // namespace sombra::btree
