// btree/leaf_allocator.cc: LeafAllocator, in-place edits of one leaf page
// (docs/architecture.md, "Pages and the LeafAllocator"; docs/format/page.md).
//
// What fits is decided here (and a miss handed to the split as a
// PendingInsert); where the bytes go is SlottedPageEditor's
// (slotted_page.h), shared with internal pages.
#include "btree/leaf_allocator.h"

#include <cassert>
#include <string>

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

LeafAllocator::LeafAllocator(uint8_t* page, LeafLayout* snap, ChangeSink* sink)
    : page_(page), snap_(snap), editor_(page, snap, sink, snap->counters()) {}

EditResult LeafAllocator::Insert(size_t slot_index, std::string_view record, uint32_t head,
                                 PendingInsert* pending) {
  const LeafLayout& s = *snap_;
  assert(slot_index <= s.size());
  assert(!record.empty());
  const uint64_t need = record.size();
  if (need > kMaxRecordLength || s.size() >= kMaxSlotCount || s.free_bytes() < need + kSlotSize) {
    Stash(pending, slot_index, /*replace=*/false, record, head);
    return EditResult::kNotApplied;
  }
  std::string copy;
  NoteRecord(record);
  editor_.Insert(slot_index, Unaliased(page_, s.page_size(), record, &copy), head);
  return EditResult::kApplied;
}

EditResult LeafAllocator::Update(size_t slot_index, std::string_view record,
                                 PendingInsert* pending) {
  const LeafLayout& s = *snap_;
  assert(slot_index < s.size());
  assert(!record.empty());
  const LeafSlot old = s.slot(slot_index);
  const uint64_t need = record.size();
  if (need > kMaxRecordLength || s.free_bytes() + uint64_t{old.length} < need) {
    Stash(pending, slot_index, /*replace=*/true, record, old.head);
    return EditResult::kNotApplied;
  }
  std::string copy;
  NoteRecord(record);
  editor_.Replace(slot_index, Unaliased(page_, s.page_size(), record, &copy), old.head);
  return EditResult::kApplied;
}

void LeafAllocator::Erase(size_t slot_index) { editor_.Erase(slot_index); }

void LeafAllocator::NoteRecord(std::string_view record) {
  if ((page_[pager::kHeaderFlagsOffset] & pager::kLeafFlagNoOverflow) == 0) return;
  if (!IsOverflowRecord(record)) return;
  const char cleared =
      static_cast<char>(page_[pager::kHeaderFlagsOffset] & ~pager::kLeafFlagNoOverflow);
  editor_.PutBytes(pager::kHeaderFlagsOffset, std::string_view(&cleared, 1));
}

EditResult LeafAllocator::InsertRun(size_t slot_index, const std::string_view* records,
                                    const uint32_t* heads, size_t count) {
  const LeafLayout& s = *snap_;
  assert(slot_index <= s.size());
  uint64_t need = kSlotSize * count;
  for (size_t k = 0; k < count; ++k) {
    // A record of another page or of the caller, never of this one.
    assert(records[k].empty() ||
           reinterpret_cast<uintptr_t>(records[k].data()) - reinterpret_cast<uintptr_t>(page_) >=
               s.page_size());
    if (records[k].empty() || records[k].size() > kMaxRecordLength) return EditResult::kNotApplied;
    need += records[k].size();
  }
  if (s.size() + count > kMaxSlotCount || s.free_bytes() < need) return EditResult::kNotApplied;
  for (size_t k = 0; k < count; ++k) NoteRecord(records[k]);
  editor_.InsertRun(slot_index, records, heads, count);
  return EditResult::kApplied;
}

void LeafAllocator::EraseRange(size_t begin, size_t end) { editor_.EraseRange(begin, end); }

void LeafAllocator::SetFences(std::string_view low, std::string_view high) {
  const uint32_t page_size = snap_->page_size();
  std::string low_copy, high_copy;  // the fences may be views of this page
  low = Unaliased(page_, page_size, low, &low_copy);
  high = Unaliased(page_, page_size, high, &high_copy);
  const auto start = static_cast<uint32_t>(kFencesOffset + low.size() + high.size());
  assert(start + snap_->used_bytes() <= page_size);
  // A longer pair first moves the records out of the way, a shorter one
  // gives its bytes back after the fences are written.
  if (start > snap_->arena_start()) editor_.MoveArenaStart(start);
  editor_.PutBytes(kFencesOffset, low);
  editor_.PutBytes(static_cast<uint32_t>(kFencesOffset + low.size()), high);
  editor_.Put16(kLowFenceLenOffset, static_cast<uint16_t>(low.size()));
  editor_.Put16(kHighFenceLenOffset, static_cast<uint16_t>(high.size()));
  snap_->low_len_ = static_cast<uint16_t>(low.size());
  snap_->high_len_ = static_cast<uint16_t>(high.size());
  if (start < snap_->arena_start()) editor_.MoveArenaStart(start);
}

void LeafAllocator::SetSiblings(uint32_t left, uint32_t right) {
  editor_.Put32(kLeftOffset, left);
  editor_.Put32(kRightOffset, right);
}

}  // namespace sombra::btree
