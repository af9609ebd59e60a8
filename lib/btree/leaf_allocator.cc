// btree/leaf_allocator.cc: LeafAllocator, in-place edits of one leaf page
// (docs/architecture.md, "Pages and the LeafAllocator"; docs/format/page.md).
//
// Space for a record comes from, in order: the first hole (in address
// order) that holds it, the gap between the arena and the slot directory,
// or a compaction that turns every hole into gap. The slot directory always
// grows and shrinks at free_end: inserting slot i moves slots [0, i) down by
// 8 bytes, erasing slot i moves them back up; slots after i keep their
// addresses.
#include "btree/leaf_allocator.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <string>
#include <vector>

#include "btree/slotted_page.h"
#include "util/coding.h"

namespace sombra::btree {
namespace {

// Hands an edit that did not fit to the split (pending may be null).
void Stash(PendingInsert* pending, size_t slot_index, bool replace, std::string_view record,
           uint32_t head) {
  if (pending == nullptr) return;
  pending->slot_index = slot_index;
  pending->replace = replace;
  pending->record.assign(record);
  pending->head = head;
}

}  // namespace

LeafAllocator::LeafAllocator(uint8_t* page, LeafLayout* snap, ChangeSink* sink,
                             const BTreeCounters& counters)
    : page_(page), snap_(snap), sink_(sink), c_(counters) {}

void LeafAllocator::Report(uint32_t offset, uint32_t length) {
  if (sink_ != nullptr && length != 0) sink_->Changed(offset, length);
}

void LeafAllocator::Put16(uint32_t offset, uint16_t v) {
  if (DecodeFixed16(page_ + offset) == v) return;
  EncodeFixed16(page_ + offset, v);
  Report(offset, 2);
}

void LeafAllocator::Put32(uint32_t offset, uint32_t v) {
  if (DecodeFixed32(page_ + offset) == v) return;
  EncodeFixed32(page_ + offset, v);
  Report(offset, 4);
}

void LeafAllocator::SyncHeader() {
  const LeafLayout& s = *snap_;
  Put16(kSlotCountOffset, static_cast<uint16_t>(s.slots_.size()));
  Put32(kFreeStartOffset, s.free_start_);
  Put32(kFreeEndOffset, s.free_end_);
  Put32(kHoleBytesOffset, s.hole_bytes_);
}

void LeafAllocator::CompactTo(uint32_t arena_start) {
  LeafLayout& s = *snap_;
  // Copy the live records out in key order, then lay them back from
  // arena_start. A record whose place does not change is not rewritten
  // (no other record can land on its bytes).
  uint32_t total = 0;
  for (const LeafSlot& slot : s.slots_) total += slot.length;
  std::vector<uint8_t> scratch(total);
  uint32_t pos = 0;
  for (size_t i = 0; i < s.slots_.size(); ++i) {
    if (s.slots_[i].length == 0) continue;
    std::memcpy(scratch.data() + pos, page_ + s.slots_[i].offset, s.slots_[i].length);
    pos += s.slots_[i].length;
  }
  uint64_t moved = 0;
  pos = 0;
  for (size_t i = 0; i < s.slots_.size(); ++i) {
    LeafSlot& slot = s.slots_[i];
    if (slot.length == 0) continue;
    const uint32_t to = arena_start + pos;
    if (to != slot.offset) {
      std::memcpy(page_ + to, scratch.data() + pos, slot.length);
      moved += slot.length;
      slot.offset = static_cast<uint16_t>(to);
    }
    pos += slot.length;
  }
  for (size_t i = 0; i < s.slots_.size(); ++i) {
    EncodeSlot(page_ + SlotPos(s.free_end_, i), s.slots_[i]);
  }
  Report(arena_start, total);
  Report(s.free_end_, s.page_size_ - s.free_end_);
  s.free_start_ = arena_start + total;
  s.hole_bytes_ = 0;
  c_.allocator_compactions->Add();
  c_.allocator_bytes_moved->Add(moved);
  c_.memcopy_bytes->Add(moved);
}

bool LeafAllocator::Compact(uint32_t need) {
  if (snap_->free_bytes() < need) return false;
  CompactTo(snap_->arena_start_);
  return true;
}

uint32_t LeafAllocator::Place(uint32_t size, uint32_t slot_bytes) {
  LeafLayout& s = *snap_;
  assert(s.free_bytes() >= size + slot_bytes);
  const uint32_t gap = s.free_end_ - s.free_start_;
  if (s.hole_bytes_ >= size && gap >= slot_bytes) {
    const uint32_t hole =
        FirstFitHole(s.slots_.data(), s.slots_.size(), s.arena_start_, s.free_start_, size);
    if (hole != 0) {
      s.hole_bytes_ -= size;
      return hole;
    }
  }
  if (gap < size + slot_bytes) {
    // Dead slots (length 0: an update's old record) are skipped.
    const bool ok = Compact(size + slot_bytes);
    assert(ok);
    (void)ok;
  }
  const uint32_t at = s.free_start_;
  s.free_start_ += size;
  return at;
}

void LeafAllocator::Release(size_t i) {
  LeafLayout& s = *snap_;
  LeafSlot& slot = s.slots_[i];
  const uint32_t end = uint32_t{slot.offset} + slot.length;
  const uint32_t len = slot.length;
  slot.length = 0;
  if (end != s.free_start_) {
    s.hole_bytes_ += len;
    return;
  }
  // The last record in address order: the arena ends after the one before
  // it, and any hole in between joins the gap.
  uint32_t new_start = s.arena_start_;
  for (const LeafSlot& other : s.slots_) {
    if (other.length != 0) new_start = std::max<uint32_t>(new_start, other.offset + other.length);
  }
  s.hole_bytes_ = s.hole_bytes_ + len - (s.free_start_ - new_start);
  s.free_start_ = new_start;
}

EditResult LeafAllocator::Insert(size_t slot_index, std::string_view record, uint32_t head,
                                 PendingInsert* pending) {
  LeafLayout& s = *snap_;
  assert(slot_index <= s.slots_.size());
  assert(!record.empty());
  const uint64_t need = record.size();
  if (need > kMaxRecordLength || s.slots_.size() >= kMaxSlotCount ||
      s.free_bytes() < need + kSlotSize) {
    Stash(pending, slot_index, /*replace=*/false, record, head);
    return EditResult::kNotApplied;
  }
  std::string copy;
  record = Unaliased(page_, s.page_size_, record, &copy);
  const auto size = static_cast<uint32_t>(need);
  const uint32_t at = Place(size, kSlotSize);
  std::memcpy(page_ + at, record.data(), size);
  Report(at, size);
  c_.memcopy_bytes->Add(size);

  const uint32_t old_end = s.free_end_;
  const uint32_t new_end = old_end - static_cast<uint32_t>(kSlotSize);
  const LeafSlot slot{static_cast<uint16_t>(at), static_cast<uint16_t>(size), head};
  std::memmove(page_ + new_end, page_ + old_end, kSlotSize * slot_index);
  EncodeSlot(page_ + SlotPos(new_end, slot_index), slot);
  Report(new_end, static_cast<uint32_t>(kSlotSize * (slot_index + 1)));
  s.slots_.insert(s.slots_.begin() + static_cast<ptrdiff_t>(slot_index), slot);
  s.free_end_ = new_end;
  SyncHeader();
  return EditResult::kApplied;
}

EditResult LeafAllocator::Update(size_t slot_index, std::string_view record,
                                 PendingInsert* pending) {
  LeafLayout& s = *snap_;
  assert(slot_index < s.slots_.size());
  assert(!record.empty());
  const LeafSlot old = s.slots_[slot_index];
  const uint64_t need = record.size();
  if (need > kMaxRecordLength || s.free_bytes() + uint64_t{old.length} < need) {
    Stash(pending, slot_index, /*replace=*/true, record, old.head);
    return EditResult::kNotApplied;
  }
  std::string copy;
  record = Unaliased(page_, s.page_size_, record, &copy);
  const auto size = static_cast<uint32_t>(need);
  const uint32_t slot_at = SlotPos(s.free_end_, slot_index);
  if (size <= old.length) {
    // In place; the tail of the old bytes becomes a hole, or gap when the
    // record ended the arena.
    std::memmove(page_ + old.offset, record.data(), size);
    Report(old.offset, size);
    c_.memcopy_bytes->Add(size);
    if (uint32_t{old.offset} + old.length == s.free_start_) {
      s.free_start_ = old.offset + size;
    } else {
      s.hole_bytes_ += old.length - size;
    }
    s.slots_[slot_index].length = static_cast<uint16_t>(size);
    Put16(slot_at + kSlotRecordLengthField, static_cast<uint16_t>(size));
    SyncHeader();
    return EditResult::kApplied;
  }
  // Elsewhere: free the old bytes first (they may join a hole large
  // enough), then place the record as an insert would, minus the slot.
  Release(slot_index);
  const uint32_t at = Place(size, 0);
  std::memcpy(page_ + at, record.data(), size);
  Report(at, size);
  c_.memcopy_bytes->Add(size);
  LeafSlot& slot = s.slots_[slot_index];
  slot.offset = static_cast<uint16_t>(at);
  slot.length = static_cast<uint16_t>(size);
  Put16(slot_at + kSlotRecordOffsetField, slot.offset);
  Put16(slot_at + kSlotRecordLengthField, slot.length);
  SyncHeader();
  return EditResult::kApplied;
}

void LeafAllocator::Erase(size_t slot_index) {
  LeafLayout& s = *snap_;
  assert(slot_index < s.slots_.size());
  Release(slot_index);
  const uint32_t old_end = s.free_end_;
  const uint32_t new_end = old_end + static_cast<uint32_t>(kSlotSize);
  std::memmove(page_ + new_end, page_ + old_end, kSlotSize * slot_index);
  Report(new_end, static_cast<uint32_t>(kSlotSize * slot_index));
  s.slots_.erase(s.slots_.begin() + static_cast<ptrdiff_t>(slot_index));
  s.free_end_ = new_end;
  SyncHeader();
}

void LeafAllocator::SetSiblings(uint32_t left, uint32_t right) {
  Put32(kLeftOffset, left);
  Put32(kRightOffset, right);
}

}  // namespace sombra::btree
