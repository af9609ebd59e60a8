// btree/internal_node.cc: internal (kind 4) pages in the slotted layout of
// node_format.h.
//
// The slot directory, records and holes are those of every slotted page
// (btree/slotted_page.h), edited by the same SlottedPageEditor as leaves.
// An internal page has no fences, so its arena starts at kNodeHeaderEnd.
//
// An internal page is valid if and only if (Validate; rule numbers appear
// in its messages):
//   I1. its kind is internal (4) and its level >= 1;
//   I2. both fence lengths and the left link are 0;
//   I3. it holds >= 1 separator (>= 2 children);
//   I4. free_end == page_size - 6 * count;
//   I5. kNodeHeaderEnd <= free_start <= free_end;
//   I6. every child (the leftmost and each record's) is a data page (>= 2);
//   I7. each slot's record lies in [kNodeHeaderEnd, free_start) and is a
//       varint key length (shortest form), key (<= MaxKeySize), u32 child;
//   I8. each slot's head is KeyHead of its key;
//   I9. the separators are strictly ascending by slot;
//   I10. no two records overlap;
//   I11. hole_bytes == free_start - kNodeHeaderEnd - sum of record lengths.
#include "btree/internal_node.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "btree/slotted_page.h"
#include "pager/format.h"
#include "util/coding.h"

namespace sombra::btree {
namespace {

constexpr uint32_t kArenaStart = kNodeHeaderEnd;
constexpr uint32_t kChildSize = 4;

struct Header {
  uint32_t count;
  uint32_t free_start;
  uint32_t free_end;
  uint32_t hole_bytes;
};

Header ReadHeader(const uint8_t* page) {
  return Header{DecodeFixed16(page + kSlotCountOffset), DecodeFixed32(page + kFreeStartOffset),
                DecodeFixed32(page + kFreeEndOffset), DecodeFixed32(page + kHoleBytesOffset)};
}

// The slot of a record at `at` of `length` bytes (<= kMaxRecordLength).
SlotEntry MakeSlot(uint32_t at, uint32_t length, uint32_t head) {
  return SlotEntry{static_cast<uint16_t>(at), static_cast<uint16_t>(length), head};
}

uint32_t EndOf(const SlotEntry& s) { return uint32_t{s.offset} + s.length; }

size_t RecordSize(std::string_view key) {
  return static_cast<size_t>(VarintLength(key.size())) + key.size() + kChildSize;
}

void EncodeRecordTo(uint8_t* dst, std::string_view key, uint32_t child) {
  uint8_t* p = EncodeVarint32(dst, static_cast<uint32_t>(key.size()));
  if (!key.empty()) std::memcpy(p, key.data(), key.size());
  EncodeFixed32(p + key.size(), child);
}

std::string EncodeRecord(std::string_view key, uint32_t child) {
  std::string rec(RecordSize(key), '\0');
  EncodeRecordTo(reinterpret_cast<uint8_t*>(rec.data()), key, child);
  return rec;
}

// Decodes the record [rec, rec + len): false unless it is exactly a varint
// key length, the key and a u32 child.
bool DecodeRecord(const uint8_t* rec, size_t len, std::string_view* key, uint32_t* child) {
  uint32_t key_len;
  const uint8_t* p = DecodeVarint32(rec, rec + len, &key_len);
  // The shortest form only: one record, one encoding.
  if (p == nullptr || p - rec != VarintLength(key_len)) return false;
  size_t rest = len - static_cast<size_t>(p - rec);
  if (rest < kChildSize || rest - kChildSize != key_len) return false;
  *key = std::string_view(reinterpret_cast<const char*>(p), key_len);
  *child = DecodeFixed32(p + key_len);
  return true;
}

// A separator on its way into a split image.
struct SplitEntry {
  std::string_view key;
  uint32_t child;
  uint32_t size;  // record bytes
};

// Writes a fresh node at `level` with child `leftmost` and the n entries.
// REQUIRES: they fit.
void BuildNode(uint8_t* page, uint32_t page_size, uint16_t level, uint32_t leftmost,
               const SplitEntry* entries, size_t n, const BTreeCounters* c) {
  InternalNode(page, page_size, nullptr, c).Init(level, leftmost);
  const uint32_t free_end = page_size - static_cast<uint32_t>(kSlotSize * n);
  uint32_t at = kArenaStart;
  uint64_t copied = 0;
  for (size_t i = 0; i < n; ++i) {
    EncodeRecordTo(page + at, entries[i].key, entries[i].child);
    EncodeSlot(page + SlotAt(page_size, i), MakeSlot(at, entries[i].size, KeyHead(entries[i].key)));
    at += entries[i].size;
    copied += entries[i].size;
  }
  EncodeFixed16(page + kSlotCountOffset, static_cast<uint16_t>(n));
  EncodeFixed32(page + kFreeStartOffset, at);
  EncodeFixed32(page + kFreeEndOffset, free_end);
  EncodeFixed32(page + kHoleBytesOffset, 0);
  Count(c, Tick::kMemcopyBytes, copied);
}

}  // namespace

void InternalNode::Init(uint16_t level, uint32_t leftmost_child) {
  page_[pager::kHeaderKindOffset] = static_cast<uint8_t>(pager::PageKind::kInternal);
  ReportChange(sink_, pager::kHeaderKindOffset, 1);
  EncodeFixed16(page_ + kSlotCountOffset, 0);
  EncodeFixed16(page_ + kLevelOffset, level);
  EncodeFixed32(page_ + kFreeStartOffset, kArenaStart);
  EncodeFixed32(page_ + kFreeEndOffset, page_size_);
  EncodeFixed32(page_ + kHoleBytesOffset, 0);
  EncodeFixed32(page_ + kLeftOffset, 0);
  EncodeFixed32(page_ + kRightOffset, leftmost_child);
  EncodeFixed16(page_ + kLowFenceLenOffset, 0);
  EncodeFixed16(page_ + kHighFenceLenOffset, 0);
  ReportChange(sink_, kSlotCountOffset, kNodeHeaderEnd - kSlotCountOffset);
}

namespace {

std::string Num(uint64_t v) { return std::to_string(v); }

// "internal page 17, offset 4064: <what> (rule I7)"; the page number is the
// one in the page's own header (the pager has checked it).
Status Bad(const uint8_t* page, uint64_t offset, const char* rule, const std::string& what) {
  return Status::Corruption(
      "internal page " + std::to_string(DecodeFixed32(page + pager::kHeaderPageNoOffset)) +
      ", offset " + std::to_string(offset) + ": " + what + " (rule " + rule + ")");
}

// I1 (kind) and I2.
Status CheckKindAndUnused(const uint8_t* page) {
  const uint8_t kind = page[pager::kHeaderKindOffset];
  if (kind != static_cast<uint8_t>(pager::PageKind::kInternal)) {
    return Bad(page, pager::kHeaderKindOffset, "I1",
               std::string("page kind is ") + pager::PageKindName(kind) + " (" + Num(kind) +
                   "), expected internal (4)");
  }
  if (DecodeFixed16(page + kLevelOffset) == 0) {
    return Bad(page, kLevelOffset, "I1", "level is 0, expected >= 1");
  }
  for (size_t off : {kLowFenceLenOffset, kHighFenceLenOffset}) {
    if (DecodeFixed16(page + off) != 0) {
      return Bad(page, off, "I2",
                 "fence length is " + Num(DecodeFixed16(page + off)) + ", expected 0");
    }
  }
  if (DecodeFixed32(page + kLeftOffset) != 0) {
    return Bad(page, kLeftOffset, "I2",
               "unused left link is " + Num(DecodeFixed32(page + kLeftOffset)) + ", expected 0");
  }
  return Status::OK();
}

// I3, I4, I5 and I6 for the leftmost child.
Status CheckSpace(const uint8_t* page, uint32_t page_size, const Header& h) {
  if (h.count == 0) {
    return Bad(page, kSlotCountOffset, "I3", "no separator: an internal node needs >= 2 children");
  }
  const uint64_t dir = uint64_t{kSlotSize} * h.count;
  if (dir > page_size - kArenaStart || h.free_end != page_size - dir) {
    return Bad(page, kFreeEndOffset, "I4",
               "free_end is " + Num(h.free_end) + " with " + Num(h.count) +
                   " slots, expected page size - 6 * slots = " +
                   (dir > page_size ? std::string("(negative)") : Num(page_size - dir)));
  }
  if (h.free_start < kArenaStart || h.free_start > h.free_end) {
    return Bad(page, kFreeStartOffset, "I5",
               "free_start " + Num(h.free_start) + " is outside [" + Num(kArenaStart) +
                   ", free_end " + Num(h.free_end) + "]");
  }
  const uint32_t leftmost = DecodeFixed32(page + kRightOffset);
  if (leftmost < pager::kFirstDataPage) {
    return Bad(page, kRightOffset, "I6",
               "leftmost child is page " + Num(leftmost) + ", not a data page");
  }
  return Status::OK();
}

// I6-I9 for slot i (at page offset pos); *prev is the previous separator
// and becomes this one.
Status CheckSlot(const uint8_t* page, uint32_t page_size, const Header& h, size_t i, uint32_t pos,
                 const SlotEntry& s, std::string_view* prev) {
  auto slot_bad = [&](uint64_t offset, const char* rule, const std::string& what) {
    return Bad(page, offset, rule,
               "slot " + Num(i) + " (record at " + Num(s.offset) + ", " + Num(s.length) +
                   " bytes): " + what);
  };
  if (s.length == 0 || s.offset < kArenaStart) {
    return slot_bad(
        pos, "I7",
        "record does not lie in the arena [" + Num(kArenaStart) + ", " + Num(h.free_start) + ")");
  }
  std::string_view key;
  uint32_t child;
  if (!DecodeRecord(page + s.offset, s.length, &key, &child)) {
    return slot_bad(s.offset, "I7", "record is not a key length, key and child");
  }
  if (key.size() > MaxKeySize(page_size)) {
    return slot_bad(s.offset, "I7",
                    "separator of " + Num(key.size()) + " bytes is above the limit " +
                        Num(MaxKeySize(page_size)));
  }
  if (child < pager::kFirstDataPage) {
    return slot_bad(EndOf(s) - kChildSize, "I6",
                    "child is page " + Num(child) + ", not a data page");
  }
  if (s.head != KeyHead(key)) {
    return slot_bad(pos + kSlotHeadField, "I8",
                    "key head " + Num(s.head) + ", expected " + Num(KeyHead(key)));
  }
  if (i > 0 && !(*prev < key)) {
    return slot_bad(s.offset, "I9", "separator is not above the previous one");
  }
  *prev = key;
  return Status::OK();
}

// I10, I11: the records do not overlap; the rest of the arena is holes.
Status CheckArena(const uint8_t* page, const Header& h, std::vector<ByteRange> recs,
                  uint64_t live) {
  std::sort(recs.begin(), recs.end());
  for (size_t i = 1; i < recs.size(); ++i) {
    if (recs[i].first < recs[i - 1].second) {
      return Bad(
          page, recs[i].first, "I10",
          "records at " + Num(recs[i - 1].first) + " and " + Num(recs[i].first) + " overlap");
    }
  }
  const uint64_t holes = h.free_start - kArenaStart - live;
  if (h.hole_bytes != holes) {
    return Bad(page, kHoleBytesOffset, "I11",
               "hole_bytes is " + Num(h.hole_bytes) + ", the arena holds " + Num(holes));
  }
  return Status::OK();
}

}  // namespace

Status InternalNodeView::Validate() const {
  if (page_size_ < kNodeHeaderEnd + kSlotSize || page_size_ > pager::kMaxPageSize) {
    return Status::InvalidArgument("internal page size " + Num(page_size_) + " out of range");
  }
  SOMBRA_RETURN_IF_ERROR(CheckKindAndUnused(view_));
  const Header h = ReadHeader(view_);
  SOMBRA_RETURN_IF_ERROR(CheckSpace(view_, page_size_, h));
  std::vector<ByteRange> recs;
  recs.reserve(h.count);
  uint64_t live = 0;
  std::string_view prev;
  for (size_t i = 0; i < h.count; ++i) {
    const uint32_t pos = SlotAt(page_size_, i);
    const SlotEntry s = ReadSlot(view_, page_size_, i, h.free_start, /*leaf=*/false);
    SOMBRA_RETURN_IF_ERROR(CheckSlot(view_, page_size_, h, i, pos, s, &prev));
    recs.emplace_back(s.offset, EndOf(s));
    live += s.length;
  }
  return CheckArena(view_, h, std::move(recs), live);
}

uint16_t InternalNodeView::level() const { return DecodeFixed16(view_ + kLevelOffset); }

// The accessors trust a validated page but still never leave it: a bad slot
// gives an empty key or child 0.
std::string_view InternalNodeView::key(size_t i) const {
  if (!SlotInPage(i)) return {};
  const SlotEntry s = ReadSlot(view_, page_size_, i, page_size_, /*leaf=*/false);
  std::string_view k;
  uint32_t child;
  if (s.length == 0 || !DecodeRecord(view_ + s.offset, s.length, &k, &child)) return {};
  return k;
}

uint32_t InternalNodeView::child(size_t i) const {
  if (i == 0) return DecodeFixed32(view_ + kRightOffset);
  if (!SlotInPage(i - 1)) return 0;
  // The child ends the record: after the key length varint and the key.
  const uint32_t off = DecodeSlotOffset(view_ + SlotAt(page_size_, i - 1));
  if (off < kArenaStart || off >= page_size_) return 0;
  // A one-byte key length (keys under 128 bytes) needs no varint decoder.
  const uint32_t len = view_[off] < 0x80
                           ? 1u + view_[off] + kChildSize
                           : RecordLength(view_ + off, view_ + page_size_, /*leaf=*/false);
  if (len < kChildSize + 1 || off + len > page_size_) return 0;
  return DecodeFixed32(view_ + off + len - kChildSize);
}

size_t InternalNodeView::ChildIndex(std::string_view key) const {
  const uint32_t head = KeyHead(key);
  size_t lo = 0;
  // A count whose directory would pass the header is damage: search none.
  size_t hi = count();
  if (kSlotSize * hi > page_size_ - kArenaStart) hi = 0;
  uint64_t cmps = 0;
  uint64_t decodes = 0;
  while (lo < hi) {  // the first separator > key
    const size_t mid = lo + (hi - lo) / 2;
    ++cmps;
    const uint32_t mid_head = DecodeSlotHead(view_ + SlotAt(page_size_, mid));
    bool le;  // separator mid <= key
    if (mid_head != head) {
      le = mid_head < head;
    } else {
      ++decodes;
      le = this->key(mid) <= key;
    }
    if (le) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  Count(c_, Tick::kKeyCmps, cmps);
  Count(c_, Tick::kKeyDecodes, decodes);
  return lo;
}

uint32_t InternalNodeView::free_bytes() const {
  const Header h = ReadHeader(view_);
  return h.free_end - h.free_start + h.hole_bytes;
}

uint32_t InternalNodeView::used_bytes() const { return page_size_ - kArenaStart - free_bytes(); }

SlottedLayout& InternalNode::Layout() const {
  thread_local SlottedLayout layout;
  SlottedLayout::ReadTrusted(page_, page_size_, kArenaStart, /*leaf=*/false, &layout);
  return layout;
}

bool InternalNode::Insert(size_t i, std::string_view key, uint32_t child) {
  SlottedLayout& l = Layout();
  const size_t size = RecordSize(key);
  // A separator above MaxKeySize would make the page fail Validate (I7).
  if (i > l.size() || key.size() > MaxKeySize(page_size_) || size > kMaxRecordLength ||
      l.size() >= kMaxSlotCount || l.free_bytes() < size + kSlotSize) {
    return false;
  }
  SlottedPageEditor(page_, &l, sink_, c_).Insert(i, EncodeRecord(key, child), KeyHead(key));
  return true;
}

void InternalNode::Erase(size_t i) {
  SlottedLayout& l = Layout();
  if (i >= l.size()) return;
  SlottedPageEditor(page_, &l, sink_, c_).Erase(i);
}

bool InternalNode::SetKey(size_t i, std::string_view key) {
  SlottedLayout& l = Layout();
  const size_t size = RecordSize(key);
  // A separator above MaxKeySize would make the page fail Validate (I7).
  if (i >= l.size() || key.size() > MaxKeySize(page_size_) || size > kMaxRecordLength ||
      uint64_t{l.free_bytes()} + l.slot(i).length < size) {
    return false;
  }
  // EncodeRecord copies the key: it may be a view of this page.
  SlottedPageEditor(page_, &l, sink_, c_).Replace(i, EncodeRecord(key, child(i + 1)), KeyHead(key));
  return true;
}

void InternalNode::SetChild(size_t i, uint32_t child) {
  if (i == 0) {
    PutField32(page_, sink_, kRightOffset, child);
    return;
  }
  const Header h = ReadHeader(page_);
  if (i > h.count) return;
  const SlotEntry s = ReadSlot(page_, page_size_, i - 1, h.free_start, /*leaf=*/false);
  if (s.length < kChildSize) return;
  PutField32(page_, sink_, EndOf(s) - kChildSize, child);
}

// The separator that goes up is chosen so the larger side is as small as
// possible (the middle by bytes), with at least one separator on each side
// when there are >= 3 in all. With 2 in all (a node holding one separator
// that the insert did not fit beside) left gets one separator and right
// none: right is then a single child under a separator, which Validate
// rejects (children >= 2) until a merge or borrow fills it. It cannot
// happen with keys within MaxKeySize: any page holds >= 3 separators, so a
// split always sees >= 4. With 1 in all, both sides are single children.
// Only the bytes SplitInternal writes change in the images: kind, node
// header, records, slots (the page number is the caller's). The caller
// counts internal_splits; this counts memcopy_bytes.
std::string SplitInternal(const uint8_t* src, uint32_t page_size, size_t insert_at,
                          std::string_view key, uint32_t child, uint8_t* left, uint8_t* right,
                          const BTreeCounters* c) {
  const InternalNodeView s(src, page_size, c);
  const size_t count = s.count();
  insert_at = std::min(insert_at, count);
  std::vector<SplitEntry> all;
  all.reserve(count + 1);
  for (size_t j = 0; j <= count; ++j) {
    if (j == insert_at) {
      all.push_back(SplitEntry{key, child, static_cast<uint32_t>(RecordSize(key))});
    }
    if (j < count) {
      std::string_view k = s.key(j);
      all.push_back(SplitEntry{k, s.child(j + 1), static_cast<uint32_t>(RecordSize(k))});
    }
  }
  const size_t n = all.size();

  size_t mid = n == 2 ? 1 : 0;
  if (n >= 3) {
    uint64_t total = 0;
    for (const SplitEntry& e : all) total += e.size + kSlotSize;
    uint64_t before = all[0].size + kSlotSize;  // bytes of entries [0, m)
    uint64_t best = UINT64_MAX;
    for (size_t m = 1; m + 1 < n; ++m) {
      const uint64_t after = total - before - (all[m].size + kSlotSize);
      const uint64_t larger = std::max(before, after);
      if (larger < best) {
        best = larger;
        mid = m;
      }
      before += all[m].size + kSlotSize;
    }
  }

  const uint16_t level = s.level();
  BuildNode(left, page_size, level, s.child(0), all.data(), mid, c);
  BuildNode(right, page_size, level, all[mid].child, all.data() + mid + 1, n - mid - 1, c);
  return std::string(all[mid].key);
}

}  // namespace sombra::btree
