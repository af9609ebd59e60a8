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

void SlottedLayout::ReadTrusted(const uint8_t* page, uint32_t page_size, uint32_t arena_start,
                                bool leaf, SlottedLayout* out) {
  SlottedLayout& l = *out;
  l.holes_.clear();
  l.holes_known_ = false;
  l.page_size_ = page_size;
  l.arena_start_ = arena_start;
  l.free_start_ = DecodeFixed32(page + kFreeStartOffset);
  l.free_end_ = DecodeFixed32(page + kFreeEndOffset);
  l.hole_bytes_ = DecodeFixed32(page + kHoleBytesOffset);
  // One slot of room: the edit this layout is read for is often an insert.
  const size_t count = DecodeFixed16(page + kSlotCountOffset);
  l.slots_.reserve(count + 1);
  l.slots_.resize(count);
  for (size_t i = 0; i < l.slots_.size(); ++i) {
    l.slots_[i] = ReadSlot(page, page_size, i, l.free_start_, leaf);
  }
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
  if (sink_ != nullptr) sink_->Copied(at, record);
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
    EncodeSlot(page_ + SlotAt(l_.page_size_, i), l_.slots_[i]);
  }
  Report(l_.arena_start_, total);
  Report(l_.free_end_, l_.page_size_ - l_.free_end_);
  l_.free_start_ = l_.arena_start_ + total;
  l_.hole_bytes_ = 0;
  l_.holes_.clear();
  l_.holes_known_ = true;
  Count(c_, Tick::kAllocatorCompactions);
  Count(c_, Tick::kAllocatorBytesMoved, moved);
  Count(c_, Tick::kMemcopyBytes, moved);
}

uint32_t SlottedPageEditor::Place(uint32_t size, uint32_t slot_bytes) {
  assert(l_.free_bytes() >= size + slot_bytes);
  const uint32_t gap = l_.free_end_ - l_.free_start_;
  if (l_.hole_bytes_ >= size && gap >= slot_bytes) {
    if (!l_.holes_known_) {
      l_.holes_ = ListHoles(l_.slots_.data(), l_.slots_.size(), l_.arena_start_, l_.free_start_);
      l_.holes_known_ = true;
    }
    for (auto it = l_.holes_.begin(); it != l_.holes_.end(); ++it) {
      if (it->second - it->first < size) continue;
      const uint32_t hole = it->first;
      it->first += size;
      if (it->first == it->second) l_.holes_.erase(it);
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
  const uint32_t begin = slot.offset;
  slot.length = 0;
  if (end != l_.free_start_) {
    l_.hole_bytes_ += len;
    AddHole(begin, end);
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
  // Holes lie between records: those past the new end of the arena are
  // whole, and joined the gap.
  while (!l_.holes_.empty() && l_.holes_.back().first >= new_start) l_.holes_.pop_back();
}

void SlottedPageEditor::AddHole(uint32_t begin, uint32_t end) {
  if (!l_.holes_known_ || begin == end) return;
  std::vector<ByteRange>& h = l_.holes_;
  auto it = std::lower_bound(h.begin(), h.end(), ByteRange{begin, end});
  const bool joins_prev = it != h.begin() && std::prev(it)->second == begin;
  const bool joins_next = it != h.end() && it->first == end;
  if (joins_prev && joins_next) {
    std::prev(it)->second = it->second;
    h.erase(it);
  } else if (joins_prev) {
    std::prev(it)->second = end;
  } else if (joins_next) {
    it->first = begin;
  } else {
    h.insert(it, ByteRange{begin, end});
  }
}

void SlottedPageEditor::Insert(size_t i, std::string_view record, uint32_t head) {
  assert(i <= l_.slots_.size() && !record.empty() && record.size() <= kMaxRecordLength);
  assert(l_.slots_.size() < kMaxSlotCount && l_.free_bytes() >= record.size() + kSlotSize);
  const auto size = static_cast<uint32_t>(record.size());
  const uint32_t at = Place(size, kSlotSize);
  WriteRecord(at, record);
  const SlotEntry slot{static_cast<uint16_t>(at), static_cast<uint16_t>(size), head};
  // The slots from i on move down by one slot (none for a new last key; a
  // move the log records in a few bytes), then slot i is written.
  MoveSlots(i, l_.slots_.size(), 1);
  EncodeSlot(page_ + SlotAt(l_.page_size_, i), slot);
  Report(SlotAt(l_.page_size_, i), static_cast<uint32_t>(kSlotSize));
  l_.slots_.insert(l_.slots_.begin() + static_cast<ptrdiff_t>(i), slot);
  l_.free_end_ -= static_cast<uint32_t>(kSlotSize);
  SyncHeader();
}

void SlottedPageEditor::InsertRun(size_t i, const std::string_view* records, const uint32_t* heads,
                                  size_t count) {
  assert(i <= l_.slots_.size() && l_.slots_.size() + count <= kMaxSlotCount);
  if (count == 0) return;
  const auto slot_bytes = static_cast<uint32_t>(kSlotSize * count);
  if (l_.free_end_ - l_.free_start_ < slot_bytes) Compact();
  // The directory first: the slots from i on move once, and the new slots
  // stand dead (length 0, holding nothing) until their records are placed,
  // so a compaction on the way keeps every record placed so far.
  const uint32_t new_end = l_.free_end_ - slot_bytes;
  MoveSlots(i, l_.slots_.size(), static_cast<int>(count));
  l_.slots_.insert(l_.slots_.begin() + static_cast<ptrdiff_t>(i), count, SlotEntry{0, 0, 0});
  l_.free_end_ = new_end;
  for (size_t k = 0; k < count; ++k) {
    const std::string_view r = records[k];
    assert(!r.empty() && r.size() <= kMaxRecordLength && l_.free_bytes() >= r.size());
    const uint32_t at = Place(static_cast<uint32_t>(r.size()), 0);
    WriteRecord(at, r);
    l_.slots_[i + k] =
        SlotEntry{static_cast<uint16_t>(at), static_cast<uint16_t>(r.size()), heads[k]};
  }
  for (size_t k = 0; k < count; ++k) {
    EncodeSlot(page_ + SlotAt(l_.page_size_, i + k), l_.slots_[i + k]);
  }
  Report(SlotAt(l_.page_size_, i + count - 1), slot_bytes);
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
      AddHole(old.offset + size, uint32_t{old.offset} + old.length);
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
  const uint32_t pos = SlotAt(l_.page_size_, i);
  Put16(pos + kSlotRecordOffsetField, slot.offset);
  Put32(pos + kSlotHeadField, slot.head);
  SyncHeader();
}

void SlottedPageEditor::Erase(size_t i) {
  assert(i < l_.slots_.size());
  Release(i);
  MoveSlots(i + 1, l_.slots_.size(), -1);
  l_.slots_.erase(l_.slots_.begin() + static_cast<ptrdiff_t>(i));
  l_.free_end_ += static_cast<uint32_t>(kSlotSize);
  SyncHeader();
}

void SlottedPageEditor::EraseRange(size_t begin, size_t end) {
  assert(begin <= end && end <= l_.slots_.size());
  if (begin == end) return;
  for (size_t i = begin; i < end; ++i) Release(i);
  MoveSlots(end, l_.slots_.size(), -static_cast<int>(end - begin));
  l_.slots_.erase(l_.slots_.begin() + static_cast<ptrdiff_t>(begin),
                  l_.slots_.begin() + static_cast<ptrdiff_t>(end));
  l_.free_end_ += static_cast<uint32_t>(kSlotSize * (end - begin));
  SyncHeader();
}

void SlottedPageEditor::MoveArenaStart(uint32_t start) {
  uint32_t live = 0, below = 0;
  for (const SlotEntry& slot : l_.slots_) {
    live += slot.length;
    if (slot.length != 0 && slot.offset < start) below += slot.length;
  }
  assert(start + live <= l_.free_end_);
  const uint32_t dst0 = std::max(l_.free_start_, start);
  if (below != 0 && dst0 + below > l_.free_end_) {
    l_.arena_start_ = start;  // no room to move them aside: lay all out again
    Compact();
    SyncHeader();
    return;
  }
  uint32_t dst = dst0;
  for (size_t i = 0; below != 0 && i < l_.slots_.size(); ++i) {
    SlotEntry& slot = l_.slots_[i];
    if (slot.length == 0 || slot.offset >= start) continue;
    std::memmove(page_ + dst, page_ + slot.offset, slot.length);
    ReportMove(slot.offset, dst, slot.length);
    slot.offset = static_cast<uint16_t>(dst);
    Put16(SlotAt(l_.page_size_, i) + kSlotRecordOffsetField, slot.offset);
    dst += slot.length;
  }
  l_.arena_start_ = start;
  l_.holes_known_ = false;
  l_.free_start_ = live == 0 ? start : std::max(dst, l_.free_start_);
  l_.hole_bytes_ = l_.free_start_ - start - live;
  SyncHeader();
}

void SlottedPageEditor::MoveSlots(size_t begin, size_t end, int by) {
  if (begin == end || by == 0) return;
  // Slots [begin, end) lie at [SlotAt(end - 1), SlotAt(begin) + kSlotSize).
  const uint32_t src = SlotAt(l_.page_size_, end - 1);
  // A higher index is a lower address.
  const auto dst = static_cast<uint32_t>(int64_t{src} - int64_t{by} * int64_t{kSlotSize});
  const auto len = static_cast<uint32_t>(kSlotSize * (end - begin));
  std::memmove(page_ + dst, page_ + src, len);
  ReportMove(src, dst, len);
}

void SlottedPageEditor::PutBytes(uint32_t offset, std::string_view bytes) {
  if (bytes.empty() || std::memcmp(page_ + offset, bytes.data(), bytes.size()) == 0) return;
  std::memcpy(page_ + offset, bytes.data(), bytes.size());
  Report(offset, static_cast<uint32_t>(bytes.size()));
}

}  // namespace sombra::btree
