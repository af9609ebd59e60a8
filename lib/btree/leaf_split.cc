// btree/leaf_split.cc: building fresh leaves - LeafBuilder, ChooseSplit,
// SplitOffRight and RebuildFromRecords (docs/architecture.md, "Pages and the LeafAllocator";
// docs/format/page.md, "Separators").
//
// A split never decodes a whole leaf: records are copied as the bytes the
// slots point at, and only the two keys around the cut are decoded, for the
// separator.
#include <cassert>
#include <cstring>
#include <limits>
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

// The records of a page with a pending insert applied, in key order,
// without copying: record j is a slot of the page or the pending record.
class MergedRecords {
 public:
  MergedRecords(const uint8_t* page, const LeafLayout& snap, const PendingInsert& pending)
      : page_(page), snap_(snap), pending_(pending) {
    has_pending_ = !pending.record.empty();
    size_ = snap.size() + (has_pending_ && !pending.replace ? 1 : 0);
    assert(!has_pending_ || pending.slot_index < snap.size() + (pending.replace ? 0 : 1));
  }

  size_t size() const { return size_; }

  std::string_view bytes(size_t j) const {
    const size_t slot = SlotOf(j);
    if (slot == kPending) return pending_.record;
    const LeafSlot& s = snap_.slot(slot);
    return std::string_view(reinterpret_cast<const char*>(page_) + s.offset, s.length);
  }
  uint32_t head(size_t j) const {
    const size_t slot = SlotOf(j);
    return slot == kPending ? pending_.head : snap_.slot(slot).head;
  }
  uint32_t length(size_t j) const { return static_cast<uint32_t>(bytes(j).size()); }

  // The key of record j (a decode). The page was validated when its
  // snapshot was parsed; the pending record was encoded by the caller.
  std::string_view key(size_t j) const {
    const std::string_view b = bytes(j);
    LeafRecordRef rec;
    const bool ok = DecodeLeafRecord(reinterpret_cast<const uint8_t*>(b.data()), b.size(), &rec);
    assert(ok && "malformed record in a split");
    (void)ok;
    return rec.key;
  }

 private:
  static constexpr size_t kPending = std::numeric_limits<size_t>::max();

  size_t SlotOf(size_t j) const {
    if (!has_pending_) return j;
    const size_t at = pending_.slot_index;
    if (j == at) return kPending;
    if (pending_.replace || j < at) return j;
    return j - 1;
  }

  const uint8_t* page_;
  const LeafLayout& snap_;
  const PendingInsert& pending_;
  bool has_pending_ = false;
  size_t size_ = 0;
};

// Bytes of a leaf with fences of these lengths and `count` records of
// `record_bytes` in all.
uint64_t LeafBytes(size_t low, size_t high, uint64_t record_bytes, size_t count) {
  return kFencesOffset + low + high + record_bytes + uint64_t{kSlotSize} * count;
}

// Record bytes of records [0, j) for every j.
// The running byte sums of the records, in a vector of this thread's that
// keeps its capacity: a split asks twice (ChooseSplit, SplitFits), and a
// fresh vector each time was a malloc from a heap that a large transaction
// keeps growing (2% of a 1M-key sequential load, most of it page faults).
// REQUIRES: the result is used before this thread's next call.
const std::vector<uint64_t>& Prefix(const MergedRecords& recs) {
  thread_local std::vector<uint64_t> prefix;
  prefix.assign(recs.size() + 1, 0);
  for (size_t j = 0; j < recs.size(); ++j) prefix[j + 1] = prefix[j] + recs.length(j);
  return prefix;
}

// Whether the cut at k fits, given the record byte prefix sums. Decodes
// the two keys around the cut only when the bytes alone do not decide.
bool CutFits(const MergedRecords& recs, const std::vector<uint64_t>& prefix, size_t k,
             size_t low_len, size_t high_len, uint32_t page_size, uint64_t* decodes) {
  const size_t n = recs.size();
  const uint64_t left = prefix[k];
  const uint64_t right = prefix[n] - prefix[k];
  if (LeafBytes(low_len, 0, left, k) > page_size ||
      LeafBytes(0, high_len, right, n - k) > page_size) {
    return false;
  }
  *decodes += 2;
  const size_t sep = ShortestSeparator(recs.key(k - 1), recs.key(k)).size();
  return LeafBytes(low_len, sep, left, k) <= page_size &&
         LeafBytes(sep, high_len, right, n - k) <= page_size;
}

}  // namespace

// ---------------------------------------------------------------------------
// LeafBuilder

LeafBuilder::LeafBuilder(uint8_t* page_in, uint32_t page_size, std::string_view low,
                         std::string_view high, uint32_t left, uint32_t right)
    : page(page_in) {
  assert(page_size <= pager::kMaxPageSize);
  assert(kNodeHeaderEnd + low.size() + high.size() <= page_size);
  page[pager::kHeaderKindOffset] = static_cast<uint8_t>(pager::PageKind::kLeaf);
  page[pager::kHeaderFlagsOffset] = pager::kLeafFlagNoOverflow;  // until an overflow record comes
  EncodeFixed16(page + pager::kHeaderReservedOffset, 0);
  EncodeFixed16(page + kLevelOffset, 0);
  EncodeFixed32(page + kLeftOffset, left);
  EncodeFixed32(page + kRightOffset, right);
  EncodeFixed16(page + kLowFenceLenOffset, static_cast<uint16_t>(low.size()));
  EncodeFixed16(page + kHighFenceLenOffset, static_cast<uint16_t>(high.size()));
  if (!low.empty()) std::memcpy(page + kFencesOffset, low.data(), low.size());
  if (!high.empty()) std::memcpy(page + kFencesOffset + low.size(), high.data(), high.size());
  snap.page_size_ = page_size;
  snap.low_len_ = static_cast<uint16_t>(low.size());
  snap.high_len_ = static_cast<uint16_t>(high.size());
  snap.arena_start_ = static_cast<uint32_t>(kFencesOffset + low.size() + high.size());
  snap.free_start_ = snap.arena_start_;
  snap.hole_bytes_ = 0;
}

bool LeafBuilder::Fits(size_t size) const {
  return size <= kMaxRecordLength && snap.slots_.size() < kMaxSlotCount &&
         uint64_t{snap.free_start_} + size + kSlotSize * (snap.slots_.size() + 1) <=
             snap.page_size_;
}

void LeafBuilder::Add(std::string_view record, uint32_t head) {
  assert(!record.empty() && Fits(record.size()));
  std::memcpy(page + snap.free_start_, record.data(), record.size());
  if (IsOverflowRecord(record)) page[pager::kHeaderFlagsOffset] &= ~pager::kLeafFlagNoOverflow;
  snap.slots_.push_back(LeafSlot{static_cast<uint16_t>(snap.free_start_),
                                 static_cast<uint16_t>(record.size()), head});
  snap.free_start_ += static_cast<uint32_t>(record.size());
}

LeafLayout LeafBuilder::Finish(const BTreeCounters* counters) {
  const size_t n = snap.slots_.size();
  snap.free_end_ = snap.page_size_ - static_cast<uint32_t>(kSlotSize * n);
  for (size_t i = 0; i < n; ++i) EncodeSlot(page + SlotAt(snap.page_size_, i), snap.slots_[i]);
  EncodeFixed16(page + kSlotCountOffset, static_cast<uint16_t>(n));
  EncodeFixed32(page + kFreeStartOffset, snap.free_start_);
  EncodeFixed32(page + kFreeEndOffset, snap.free_end_);
  EncodeFixed32(page + kHoleBytesOffset, 0);
  std::memset(page + snap.free_start_, 0, snap.free_end_ - snap.free_start_);
  snap.counters_ = counters;
  return std::move(snap);
}

// ---------------------------------------------------------------------------
// Splits

bool SplitFits(const uint8_t* page, const LeafLayout& snap, const PendingInsert& pending,
               size_t split_index) {
  const MergedRecords recs(page, snap, pending);
  if (split_index == 0 || split_index >= recs.size()) return false;
  uint64_t decodes = 0;
  const bool fits = CutFits(recs, Prefix(recs), split_index, snap.low_fence(page).size(),
                            snap.high_fence(page).size(), snap.page_size(), &decodes);
  Count(snap.counters(), Tick::kKeyDecodes, decodes);
  return fits;
}

size_t ChooseSplit(const uint8_t* page, const LeafLayout& snap, const PendingInsert& pending,
                   bool rightmost) {
  const MergedRecords recs(page, snap, pending);
  const size_t n = recs.size();
  assert(n >= 2);
  if (n < 2) return n;
  const std::vector<uint64_t>& prefix = Prefix(recs);

  size_t preferred;
  if (rightmost && !pending.record.empty() && !pending.replace &&
      pending.slot_index == snap.size()) {
    // An append at the right edge of the tree: a sequential load. Keep the
    // left page full; the right one receives the next appends.
    preferred = n - 1;
  } else {
    // The cut that best balances the bytes (records and slots) of the sides.
    const uint64_t total = prefix[n] + kSlotSize * n;
    preferred = 1;
    uint64_t best = std::numeric_limits<uint64_t>::max();
    for (size_t k = 1; k < n; ++k) {
      const uint64_t left = prefix[k] + kSlotSize * k;
      const uint64_t diff = 2 * left > total ? 2 * left - total : total - 2 * left;
      if (diff < best) {
        best = diff;
        preferred = k;
      }
    }
  }

  // The nearest cut where both pages fit.
  const size_t low_len = snap.low_fence(page).size();
  const size_t high_len = snap.high_fence(page).size();
  uint64_t decodes = 0;
  size_t chosen = preferred;
  for (size_t d = 0; d < n; ++d) {
    if (d < preferred &&
        CutFits(recs, prefix, preferred - d, low_len, high_len, snap.page_size(), &decodes)) {
      chosen = preferred - d;
      break;
    }
    if (d != 0 && preferred + d < n &&
        CutFits(recs, prefix, preferred + d, low_len, high_len, snap.page_size(), &decodes)) {
      chosen = preferred + d;
      break;
    }
  }
  Count(snap.counters(), Tick::kKeyDecodes, decodes);
  return chosen;
}

SplitOutput SplitOffRight(const uint8_t* src, const LeafLayout& snap, const PendingInsert& pending,
                          size_t split_index, uint8_t* right, uint32_t left_no) {
  const BTreeCounters* counters = snap.counters();
  const MergedRecords recs(src, snap, pending);
  const size_t n = recs.size();
  assert(split_index >= 1 && split_index < n);
  if (split_index == 0 || split_index >= n) return SplitOutput{};

  Count(counters, Tick::kKeyDecodes, 2);
  std::string separator = ShortestSeparator(recs.key(split_index - 1), recs.key(split_index));
  const std::string_view low = snap.low_fence(src);
  const std::string_view high = snap.high_fence(src);
  uint64_t left_bytes = 0;
  uint64_t total = 0;
  for (size_t j = 0; j < n; ++j) {
    total += recs.length(j);
    if (j < split_index) left_bytes += recs.length(j);
  }
  const uint32_t page_size = snap.page_size();
  if (LeafBytes(low.size(), separator.size(), left_bytes, split_index) > page_size ||
      LeafBytes(separator.size(), high.size(), total - left_bytes, n - split_index) > page_size) {
    assert(false && "SplitOffRight: the cut does not fit (check SplitFits)");
    return SplitOutput{};
  }

  SplitOutput out;
  // The new page may fill up to about the split page's count again.
  LeafBuilder rb(right, page_size, separator, high, left_no, DecodeFixed32(src + kRightOffset));
  rb.ReserveSlots(n);
  for (size_t j = split_index; j < n; ++j) rb.Add(recs.bytes(j), recs.head(j));
  out.right = rb.Finish(counters);
  out.separator = std::move(separator);
  // One build: the new right page (builds ~ new pages; docs/architecture.md, "Telemetry").
  Count(counters, Tick::kAllocatorBuilds, 1);
  Count(counters, Tick::kMemcopyBytes, total - left_bytes);
  return out;
}

std::string SplitSeparator(const uint8_t* src, const LeafLayout& snap, const PendingInsert& pending,
                           size_t split_index) {
  const MergedRecords recs(src, snap, pending);
  assert(split_index >= 1 && split_index < recs.size());
  Count(snap.counters(), Tick::kKeyDecodes, 2);
  return ShortestSeparator(recs.key(split_index - 1), recs.key(split_index));
}

bool SplitKeepRight(uint8_t* right, LeafLayout* snap, const PendingInsert& pending,
                    size_t split_index, std::string_view separator, uint32_t left_no,
                    ChangeSink* sink) {
  const bool has_pending = !pending.record.empty();
  const bool pending_left = has_pending && pending.slot_index < split_index;
  // As in SplitKeepLeft: the first slot of the right half.
  const size_t first_kept = pending_left && !pending.replace ? split_index - 1 : split_index;
  assert(first_kept <= snap->size());
  const std::string high(snap->high_fence(right));
  LeafAllocator r(right, snap, sink);
  r.EraseRange(0, first_kept);
  r.SetFences(separator, high);
  if (has_pending && !pending_left) {
    const size_t at = pending.slot_index - first_kept;
    const EditResult e = pending.replace ? r.Update(at, pending.record, nullptr)
                                         : r.Insert(at, pending.record, pending.head, nullptr);
    if (e != EditResult::kApplied) return false;
  }
  r.SetSiblings(left_no, DecodeFixed32(right + kRightOffset));
  // One build: the new right page (builds ~ new pages; docs/architecture.md, "Telemetry").
  Count(snap->counters(), Tick::kAllocatorBuilds, 1);
  return true;
}

bool SplitKeepLeft(uint8_t* page, LeafLayout* snap, const PendingInsert& pending,
                   size_t split_index, std::string_view separator, uint32_t right_no,
                   ChangeSink* sink) {
  const size_t size = snap->size();
  const bool has_pending = !pending.record.empty();
  const bool pending_left = has_pending && pending.slot_index < split_index;
  // Merged record split_index is slot split_index - 1 when an inserted
  // pending record lies before it.
  const size_t first_gone = pending_left && !pending.replace ? split_index - 1 : split_index;
  assert(first_gone <= size);
  LeafAllocator left(page, snap, sink);
  left.EraseRange(first_gone, size);
  left.SetFences(snap->low_fence(page), separator);
  if (pending_left) {
    const EditResult r =
        pending.replace ? left.Update(pending.slot_index, pending.record, nullptr)
                        : left.Insert(pending.slot_index, pending.record, pending.head, nullptr);
    if (r != EditResult::kApplied) return false;
  }
  left.SetSiblings(DecodeFixed32(page + kLeftOffset), right_no);
  return true;
}

Result<LeafLayout> RebuildFromRecords(uint8_t* page, uint32_t page_size, std::string_view low_fence,
                                      std::string_view high_fence, uint32_t left, uint32_t right,
                                      RecordSource* source, const BTreeCounters* counters) {
  if (page_size < kNodeHeaderEnd + kSlotSize || page_size > pager::kMaxPageSize) {
    return Status::InvalidArgument("RebuildFromRecords: page size " + std::to_string(page_size) +
                                   " out of range");
  }
  const uint32_t max_key = MaxKeySize(page_size);
  if (low_fence.size() > max_key || high_fence.size() > max_key) {
    return Status::InvalidArgument("RebuildFromRecords: fence longer than the key limit");
  }
  // Built aside: the fences and records may be views of `page`, and the
  // page stays untouched when the records do not fit.
  std::vector<uint8_t> scratch(page, page + page_size);
  LeafBuilder b(scratch.data(), page_size, low_fence, high_fence, left, right);
  std::string_view record;
  uint32_t head = 0;
  uint64_t copied = 0;
  while (source->Next(&record, &head)) {
    if (record.empty() || !b.Fits(record.size())) {
      return Status::InvalidArgument("RebuildFromRecords: record " + std::to_string(b.snap.size()) +
                                     " (" + std::to_string(record.size()) + " bytes) does not fit");
    }
    b.Add(record, head);
    copied += record.size();
  }
  LeafLayout snap = b.Finish(counters);
  std::memcpy(page, scratch.data(), page_size);
  Count(counters, Tick::kAllocatorBuilds);
  Count(counters, Tick::kMemcopyBytes, copied);
  return snap;
}

}  // namespace sombra::btree
