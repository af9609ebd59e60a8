// btree/leaf_layout.cc: LeafLayout - parsing and validating a
// leaf page (docs/format/page.md, "A page is valid if and only if", rules
// L1-L13), and the read side: fences, records, LowerBound.
#include <algorithm>
#include <cassert>
#include <string>
#include <utility>
#include <vector>

#include "btree/leaf_allocator.h"
#include "btree/leaf_builder.h"
#include "btree/slotted_page.h"
#include "pager/format.h"
#include "util/coding.h"

namespace sombra::btree {
namespace {

// "leaf page 17, offset 4064: <what> (rule L7)". The page number is the one
// in the page's own header: the pager has already checked it.
Status Bad(const uint8_t* page, uint64_t offset, const char* rule, const std::string& what) {
  return Status::Corruption(
      "leaf page " + std::to_string(DecodeFixed32(page + pager::kHeaderPageNoOffset)) +
      ", offset " + std::to_string(offset) + ": " + what + " (rule " + rule + ")");
}

std::string Num(uint64_t v) { return std::to_string(v); }

}  // namespace

Result<LeafLayout> LeafLayout::Parse(const uint8_t* page, uint32_t page_size,
                                     const BTreeCounters* counters) {
  Count(counters, Tick::kAllocatorBuilds);
  Count(counters, Tick::kAllocatorPageParses);
  Result<LeafLayout> r = ParseLayout(page, page_size, /*check_fences=*/true);
  if (r.ok()) r->counters_ = counters;
  return r;
}

Result<LeafLayout> LeafLayout::ParseLayout(const uint8_t* page, uint32_t page_size,
                                           bool check_fences) {
  LeafLayout s;
  SOMBRA_RETURN_IF_ERROR(s.ParseHeader(page, page_size));
  uint64_t live = 0;
  SOMBRA_RETURN_IF_ERROR(s.ParseSlots(page, check_fences, &live));
  SOMBRA_RETURN_IF_ERROR(s.CheckArena(page, live));
  return s;
}

Status LeafLayout::ParseHeader(const uint8_t* page, uint32_t page_size) {
  if (page_size < kNodeHeaderEnd + kSlotSize || page_size > pager::kMaxPageSize) {
    return Status::InvalidArgument("leaf page size " + Num(page_size) + " out of range");
  }
  // L1: kind and level.
  const uint8_t kind = page[pager::kHeaderKindOffset];
  if (kind != static_cast<uint8_t>(pager::PageKind::kLeaf)) {
    return Bad(page, pager::kHeaderKindOffset, "L1", "kind " + Num(kind) + ", expected 3 (leaf)");
  }
  const uint16_t level = DecodeFixed16(page + kLevelOffset);
  if (level != 0) return Bad(page, kLevelOffset, "L1", "level " + Num(level) + ", expected 0");

  // L2: fence lengths.
  page_size_ = page_size;
  low_len_ = DecodeFixed16(page + kLowFenceLenOffset);
  high_len_ = DecodeFixed16(page + kHighFenceLenOffset);
  const uint32_t max_key = MaxKeySize(page_size);
  if (low_len_ > max_key) {
    return Bad(page, kLowFenceLenOffset, "L2",
               "low fence length " + Num(low_len_) + " > " + Num(max_key));
  }
  if (high_len_ > max_key) {
    return Bad(page, kHighFenceLenOffset, "L2",
               "high fence length " + Num(high_len_) + " > " + Num(max_key));
  }
  arena_start_ = static_cast<uint32_t>(kFencesOffset) + low_len_ + high_len_;
  return ParseSpace(page);
}

Status LeafLayout::ParseSpace(const uint8_t* page) {
  // L3: the slot directory fills the end of the page.
  const uint16_t count = DecodeFixed16(page + kSlotCountOffset);
  free_start_ = DecodeFixed32(page + kFreeStartOffset);
  free_end_ = DecodeFixed32(page + kFreeEndOffset);
  hole_bytes_ = DecodeFixed32(page + kHoleBytesOffset);
  const uint64_t slot_bytes = uint64_t{kSlotSize} * count;
  if (slot_bytes > page_size_ - arena_start_ || free_end_ != page_size_ - slot_bytes) {
    return Bad(
        page, kFreeEndOffset, "L3",
        "free_end " + Num(free_end_) + " with " + Num(count) +
            " slots, expected page size - 6 * slots = " +
            (slot_bytes > page_size_ ? std::string("(negative)") : Num(page_size_ - slot_bytes)));
  }
  // L4: arena_start <= free_start <= free_end.
  if (free_start_ < arena_start_ || free_start_ > free_end_) {
    return Bad(page, kFreeStartOffset, "L4",
               "free_start " + Num(free_start_) + " outside [arena_start " + Num(arena_start_) +
                   ", free_end " + Num(free_end_) + "]");
  }
  // L5: low < high when there is a high fence.
  if (has_high_fence() && !(low_fence(page) < high_fence(page))) {
    return Bad(page, kFencesOffset, "L5", "low fence is not below the high fence");
  }
  // L6: sibling links name data pages.
  for (size_t off : {kLeftOffset, kRightOffset}) {
    const uint32_t sib = DecodeFixed32(page + off);
    if (sib != 0 && sib < pager::kFirstDataPage) {
      return Bad(page, off, "L6", "sibling link " + Num(sib) + " names a meta page");
    }
  }
  slots_.resize(count);
  return Status::OK();
}

Status LeafLayout::ParseSlots(const uint8_t* page, bool check_fences, uint64_t* live) {
  // L7, L9-L12, L14: each slot and its record.
  const uint32_t max_record = MaxInlineRecord(page_size_);
  const uint32_t max_key = MaxKeySize(page_size_);
  const std::string_view low = low_fence(page);
  const std::string_view high = high_fence(page);
  std::string_view prev_key;
  uint64_t bytes = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const uint32_t at = SlotAt(page_size_, i);
    LeafSlot& slot = slots_[i];
    slot = ReadSlot(page, page_size_, i, free_start_, /*leaf=*/true);
    // Built only for a message: Parse runs on every page a writer touches.
    auto where = [&] {
      return "slot " + Num(i) + " (record at " + Num(slot.offset) + ", " + Num(slot.length) +
             " bytes)";
    };
    if (slot.length == 0 || slot.offset < arena_start_) {
      return Bad(page, at, "L7",
                 where() + " does not lie in the arena [" + Num(arena_start_) + ", " +
                     Num(free_start_) + ")");
    }
    if (slot.length > max_record) {
      return Bad(page, at, "L7", where() + " longer than " + Num(max_record));
    }
    LeafRecordRef rec;
    if (!DecodeLeafRecord(page + slot.offset, slot.length, &rec)) {
      return Bad(page, slot.offset, "L9", where() + " does not decode to its length");
    }
    if (rec.key.size() > max_key) {
      return Bad(page, slot.offset, "L9",
                 where() + ": key of " + Num(rec.key.size()) + " bytes > " + Num(max_key));
    }
    if (rec.overflow) {
      uint32_t first = 0;
      uint64_t len = 0;
      DecodeOverflowRef(rec.value, &first, &len);
      if (first < pager::kFirstDataPage) {
        return Bad(page, slot.offset, "L9", where() + ": overflow reference to page " + Num(first));
      }
      if ((page[pager::kHeaderFlagsOffset] & pager::kLeafFlagNoOverflow) != 0) {
        return Bad(page, slot.offset, "L14",
                   where() + " is an overflow record on a leaf flagged as holding none");
      }
    }
    if (slot.head != KeyHead(rec.key)) {
      return Bad(page, at + kSlotHeadField, "L10", where() + ": key head does not match the key");
    }
    if (i > 0 && !(prev_key < rec.key)) {
      return Bad(page, slot.offset, "L11", where() + ": key not above the previous key");
    }
    if (check_fences && (rec.key < low || (!high.empty() && !(rec.key < high)))) {
      return Bad(page, slot.offset, "L12", where() + ": key outside the fences");
    }
    prev_key = rec.key;
    bytes += slot.length;
  }
  *live = bytes;
  return Status::OK();
}

Status LeafLayout::CheckArena(const uint8_t* page, uint64_t live) const {
  // L8: no two records overlap.
  std::vector<std::pair<uint16_t, uint16_t>> by_addr;
  by_addr.reserve(slots_.size());
  for (const LeafSlot& slot : slots_) by_addr.emplace_back(slot.offset, slot.length);
  // A page LeafBuilder wrote (every split, merge and borrow) is already in
  // address order: checking that is cheaper than sorting it.
  if (!std::is_sorted(by_addr.begin(), by_addr.end())) std::sort(by_addr.begin(), by_addr.end());
  for (size_t i = 1; i < by_addr.size(); ++i) {
    if (uint32_t{by_addr[i - 1].first} + by_addr[i - 1].second > by_addr[i].first) {
      return Bad(page, by_addr[i].first, "L8",
                 "record at " + Num(by_addr[i].first) + " overlaps the record at " +
                     Num(by_addr[i - 1].first));
    }
  }
  // L13: hole accounting.
  const uint64_t holes = free_start_ - arena_start_ - live;
  if (hole_bytes_ != holes) {
    return Bad(page, kHoleBytesOffset, "L13",
               "hole_bytes " + Num(hole_bytes_) + ", expected " + Num(holes));
  }
  return Status::OK();
}

LeafLayout LeafLayout::InitEmpty(uint8_t* page, uint32_t page_size, std::string_view low_fence,
                                 std::string_view high_fence, uint32_t left, uint32_t right,
                                 const BTreeCounters* counters) {
  Count(counters, Tick::kAllocatorBuilds);
  // The fences may be views of this very page.
  const std::string low(low_fence);
  const std::string high(high_fence);
  LeafBuilder b(page, page_size, low, high, left, right);
  return b.Finish(counters);
}

std::string_view LeafLayout::low_fence(const uint8_t* page) const {
  return std::string_view(reinterpret_cast<const char*>(page) + kFencesOffset, low_len_);
}

std::string_view LeafLayout::high_fence(const uint8_t* page) const {
  return std::string_view(reinterpret_cast<const char*>(page) + kFencesOffset + low_len_,
                          high_len_);
}

LeafRecordRef LeafLayout::Record(const uint8_t* page, size_t i) const {
  assert(i < slots_.size());
  Count(counters_, Tick::kKeyDecodes);
  LeafRecordRef rec;
  const bool ok = DecodeLeafRecord(page + slots_[i].offset, slots_[i].length, &rec);
  assert(ok && "the page no longer matches its snapshot");
  (void)ok;
  return rec;
}

size_t LeafLayout::LowerBound(const uint8_t* page, std::string_view key, bool* exact) const {
  const uint32_t head = KeyHead(key);
  size_t lo = 0;
  size_t hi = slots_.size();
  // A key whose head is above the last slot's sorts after every record:
  // the common case of an ascending load, answered by one comparison of
  // heads instead of a search (a random insert pays that one comparison).
  if (hi != 0 && slots_[hi - 1].head < head) {
    Count(counters_, Tick::kKeyCmps, 1);
    if (exact != nullptr) *exact = false;
    return hi;
  }
  uint64_t cmps = 0;
  uint64_t decodes = 0;
  bool found = false;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const LeafSlot& s = slots_[mid];
    int cmp;
    ++cmps;
    if (s.head != head) {
      // KeyHead preserves order: a smaller head means a smaller key.
      cmp = s.head < head ? -1 : 1;
    } else {
      ++cmps;
      ++decodes;
      LeafRecordRef rec;
      const bool ok = DecodeLeafRecord(page + s.offset, s.length, &rec);
      assert(ok && "the page no longer matches its snapshot");
      (void)ok;
      cmp = rec.key.compare(key);
    }
    if (cmp < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
      if (cmp == 0) found = true;  // keys are unique: lower bound ends here
    }
  }
  Count(counters_, Tick::kKeyCmps, cmps);
  Count(counters_, Tick::kKeyDecodes, decodes);
  if (exact != nullptr) *exact = found;
  return lo;
}

bool LeafLayout::Describes(const uint8_t* page) const {
  if (!DescribesHeader(page)) return false;
  // The directory: offsets and heads. Record lengths are not read again
  // (that reads every record's header, 15% of a random load's instructions):
  // a layout only ever describes a page this writer committed, since the
  // layouts a failed commit kept are dropped with the whole cache
  // (db::WriteTxnImpl::Commit), and an aborted transaction keeps none.
  for (size_t i = 0; i < slots_.size(); ++i) {
    const uint8_t* at = page + SlotAt(page_size_, i);
    if (DecodeSlotOffset(at) != slots_[i].offset || DecodeSlotHead(at) != slots_[i].head) {
      return false;
    }
  }
  return true;
}

bool LeafLayout::DescribesHeader(const uint8_t* page) const {
  if (page[pager::kHeaderKindOffset] != static_cast<uint8_t>(pager::PageKind::kLeaf) ||
      DecodeFixed16(page + kLevelOffset) != 0 ||
      DecodeFixed16(page + kSlotCountOffset) != slots_.size() ||
      DecodeFixed32(page + kFreeStartOffset) != free_start_ ||
      DecodeFixed32(page + kFreeEndOffset) != free_end_ ||
      DecodeFixed32(page + kHoleBytesOffset) != hole_bytes_ ||
      DecodeFixed16(page + kLowFenceLenOffset) != low_len_ ||
      DecodeFixed16(page + kHighFenceLenOffset) != high_len_) {
    return false;
  }
  return true;
}

bool LeafLayout::Matches(const uint8_t* page) const {
  Result<LeafLayout> r = ParseLayout(page, page_size_, /*check_fences=*/false);
  if (!r.ok()) return false;
  const LeafLayout& p = *r;
  if (p.arena_start_ != arena_start_ || p.free_start_ != free_start_ || p.free_end_ != free_end_ ||
      p.hole_bytes_ != hole_bytes_ || p.low_len_ != low_len_ || p.high_len_ != high_len_ ||
      p.slots_.size() != slots_.size() || !KeptHolesMatch()) {
    return false;
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    const LeafSlot& a = slots_[i];
    const LeafSlot& b = p.slots_[i];
    if (a.offset != b.offset || a.length != b.length || a.head != b.head) return false;
  }
  return true;
}

}  // namespace sombra::btree
