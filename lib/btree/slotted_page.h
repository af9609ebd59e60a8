// btree/slotted_page.h: the slot directory shared by leaf and internal
// pages (docs/format/page.md; layout in node_format.h).
//
// One place for what both node kinds store the same way:
//   - a slot is u16 record offset, u32 key head, at the named field
//     offsets below, little-endian like every integer on disk; a record's
//     length is in its own header (RecordLength, node_format.h);
//   - slot i (key order) lives at page_size - kSlotSize * (i + 1): the
//     directory is in reverse key order, so the last slot is at free_end
//     and a new last key moves no slot;
//   - records live in [arena_start, free_start) in any address order; the
//     bytes there that no slot covers are the holes.
//
// Thread safety: none; plain functions and classes over caller-owned bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "btree/btree_counters.h"
#include "btree/node_format.h"
#include "util/coding.h"

namespace sombra::btree {

// Field offsets inside one slot entry (kSlotSize bytes).
constexpr size_t kSlotRecordOffsetField = 0;  // u16
constexpr size_t kSlotHeadField = 2;          // u32

// A record's length and offset are u16s in memory (and the offset on
// disk): no record (and no page) holds more slots or longer records than
// this.
constexpr uint32_t kMaxRecordLength = 0xFFFF;
constexpr size_t kMaxSlotCount = 0xFFFF;

// A slot as the editors and parsers keep it: the stored offset and head,
// and the record's length as its header states it.
struct SlotEntry {
  uint16_t offset;
  uint16_t length;  // 0 only inside the editors: a dead slot (an update's old record)
  uint32_t head;    // KeyHead(key)
};

// The page offset of slot i (key order) of a page of page_size bytes.
inline uint32_t SlotAt(uint32_t page_size, size_t i) {
  return page_size - static_cast<uint32_t>(kSlotSize * (i + 1));
}

inline uint16_t DecodeSlotOffset(const uint8_t* p) {
  return DecodeFixed16(p + kSlotRecordOffsetField);
}
inline uint32_t DecodeSlotHead(const uint8_t* p) { return DecodeFixed32(p + kSlotHeadField); }

// Slot i of a node page (leaf: level 0), its length read from the record
// header: 0 when the record does not start inside [kNodeHeaderEnd, limit)
// or its header states a record passing `limit`. REQUIRES: the slot lies
// in the page.
inline SlotEntry ReadSlot(const uint8_t* page, uint32_t page_size, size_t i, uint32_t limit,
                          bool leaf) {
  const uint8_t* p = page + SlotAt(page_size, i);
  SlotEntry s{DecodeSlotOffset(p), 0, DecodeSlotHead(p)};
  if (s.offset >= kNodeHeaderEnd && s.offset < limit) {
    const uint32_t len = RecordLength(page + s.offset, page + limit, leaf);
    if (len <= kMaxRecordLength) s.length = static_cast<uint16_t>(len);
  }
  return s;
}

// Writes slot s (offset and head) at page offset `pos`.
inline void EncodeSlot(uint8_t* p, const SlotEntry& s) {
  EncodeFixed16(p + kSlotRecordOffsetField, s.offset);
  EncodeFixed32(p + kSlotHeadField, s.head);
}

// `bytes`, or a copy of them in *copy when they point into [page, page +
// page_size): an edit may move those bytes. Inline: every insert and
// update asks, and the answer is almost always no.
inline std::string_view Unaliased(const uint8_t* page, uint32_t page_size, std::string_view bytes,
                                  std::string* copy) {
  // As integers, one unsigned comparison says "outside" for both sides.
  const uintptr_t at = reinterpret_cast<uintptr_t>(bytes.data());
  if (bytes.empty() || at - reinterpret_cast<uintptr_t>(page) >= page_size) return bytes;
  copy->assign(bytes);
  return *copy;
}

// [begin, end) byte ranges of a page.
using ByteRange = std::pair<uint32_t, uint32_t>;

// The holes, in address order, of an arena [arena_start, free_start)
// holding the records of `slots` (dead slots, length 0, hold nothing).
std::vector<ByteRange> ListHoles(const SlotEntry* slots, size_t count, uint32_t arena_start,
                                 uint32_t free_start);

// `length` bytes at `offset` changed: tells `sink` (may be null) so.
inline void ReportChange(ChangeSink* sink, uint32_t offset, uint32_t length) {
  if (sink != nullptr && length != 0) sink->Changed(offset, length);
}

// Writes the u32 field at `offset` when it differs from v and reports it.
inline void PutField32(uint8_t* page, ChangeSink* sink, uint32_t offset, uint32_t v) {
  if (DecodeFixed32(page + offset) == v) return;
  EncodeFixed32(page + offset, v);
  ReportChange(sink, offset, 4);
}

// The space bookkeeping of one slotted page, decoded: the arena bounds,
// the hole bytes and the slots (key order). Invariants (checked by the
// parsers, kept by SlottedPageEditor):
//  1. slot i's record lies in [arena_start, free_start); records do not
//     overlap;
//  2. free_start <= free_end == page_size - kSlotSize * size();
//  3. hole_bytes == (free_start - arena_start) - sum of record lengths.
class SlottedLayout {
 public:
  SlottedLayout() = default;

  // Makes *out the layout a page's header and slot directory state, for a
  // page already validated (internal pages: InternalNodeView::Validate);
  // the arena starts at `arena_start`; record lengths are read from the
  // records' headers (leaf records when `leaf`). *out's vectors keep their
  // capacity, so a layout read again and again allocates once.
  static void ReadTrusted(const uint8_t* page, uint32_t page_size, uint32_t arena_start, bool leaf,
                          SlottedLayout* out);

  size_t size() const { return slots_.size(); }
  const SlotEntry& slot(size_t i) const { return slots_[i]; }
  uint32_t page_size() const { return page_size_; }
  uint32_t arena_start() const { return arena_start_; }
  uint32_t free_start() const { return free_start_; }
  uint32_t free_end() const { return free_end_; }
  uint32_t hole_bytes() const { return hole_bytes_; }
  // Bytes an insert may use: the gap plus the holes.
  uint32_t free_bytes() const { return free_end_ - free_start_ + hole_bytes_; }
  // Bytes of records and slots.
  uint32_t used_bytes() const { return page_size_ - arena_start_ - free_bytes(); }
  // The holes, [begin, end) in address order.
  std::vector<ByteRange> Holes() const;
  // False when the holes the editor keeps (when it keeps them) are not
  // those of the slots (a test check).
  bool KeptHolesMatch() const {
    return !holes_known_ ||
           holes_ == ListHoles(slots_.data(), slots_.size(), arena_start_, free_start_);
  }

 protected:
  friend class SlottedPageEditor;

  uint32_t page_size_ = 0;
  uint32_t arena_start_ = 0;
  uint32_t free_start_ = 0;
  uint32_t free_end_ = 0;
  uint32_t hole_bytes_ = 0;
  std::vector<SlotEntry> slots_;
  // The holes in address order, when holes_known_: SlottedPageEditor lists
  // them once and keeps them as inserts fill them (a first-fit search per
  // insert would sort the records each time); its other edits of the arena
  // forget them until the next search.
  std::vector<ByteRange> holes_;
  bool holes_known_ = false;
};

// Edits a slotted page and its SlottedLayout together: the one place that
// finds room for a record, compacts, and grows or shrinks the directory,
// for leaf pages (LeafAllocator) and internal pages (InternalNode) alike.
// Every changed byte range goes to the ChangeSink (may be null); header
// fields are written and reported only when their value changes.
//
// Room for a record comes from, in order: the first hole (address order)
// that holds it, the gap between the arena and the directory, or a
// compaction that turns every hole into gap. The directory grows and
// shrinks at free_end, where the last slot is: inserting slot i moves
// slots [i, size()) down by one slot, erasing slot i moves the slots after
// it back up; slots before i keep their place (so appends move none).
//
// The editor checks no capacity: its callers decide what fits (and what a
// split takes instead) and state it as the REQUIRES below.
class SlottedPageEditor {
 public:
  SlottedPageEditor(uint8_t* page, SlottedLayout* layout, ChangeSink* sink,
                    const BTreeCounters* counters)
      : page_(page), l_(*layout), sink_(sink), c_(counters) {}

  // Writes `record` and its slot as slot i. REQUIRES: i <= size(),
  // 1 <= record.size() <= kMaxRecordLength, size() < kMaxSlotCount,
  // free_bytes() >= record.size() + kSlotSize, record not inside the page.
  void Insert(size_t i, std::string_view record, uint32_t head);
  // Writes `count` records (key order) and their slots as slots i, i+1,
  // ...: the records side by side in the gap (after a compaction when the
  // gap is too small; holes are left for later inserts), the slots from i
  // on moved once, the new slots written together - a few ranges in all, as a
  // share logs them. REQUIRES: i <= size(), each record as Insert's,
  // free_bytes() >= their bytes + kSlotSize * count, size() + count <=
  // kMaxSlotCount.
  void InsertRun(size_t i, const std::string_view* records, const uint32_t* heads, size_t count);
  // Replaces slot i's record (its slot keeps its place and gets `head`): in
  // place when it fits the old bytes, else the old bytes are freed first
  // and it is placed as an insert would. REQUIRES: i < size(),
  // 1 <= record.size() <= kMaxRecordLength, free_bytes() + slot(i).length
  // >= record.size(), record not inside the page.
  void Replace(size_t i, std::string_view record, uint32_t head);
  // Removes slot i; its record's bytes become a hole (or gap when it ended
  // the arena). REQUIRES: i < size().
  void Erase(size_t i);
  // Removes slots [begin, end) as Erase would, moving the slots from `end`
  // on once. REQUIRES: begin <= end <= size().
  void EraseRange(size_t begin, size_t end);
  // Moves the start of the arena to `start` (a leaf's fences changed
  // length). Bytes given up by a lower start become a hole; records below a
  // higher start move to the gap (reported as moves), or, when the gap is
  // too small, every record is laid out again from `start`.
  // REQUIRES: start + the record bytes <= free_end.
  void MoveArenaStart(uint32_t start);
  // Writes `bytes` at `offset` (outside the arena and the directory: a
  // leaf's fences) and reports them.
  void PutBytes(uint32_t offset, std::string_view bytes);

  // A header or record field, written and reported only when it changes.
  void Put16(uint32_t offset, uint16_t v);
  void Put32(uint32_t offset, uint32_t v) { PutField32(page_, sink_, offset, v); }

 private:
  void Report(uint32_t offset, uint32_t length) { ReportChange(sink_, offset, length); }
  void ReportMove(uint32_t src, uint32_t dst, uint32_t length) {
    if (sink_ != nullptr && length != 0) sink_->Moved(src, dst, length);
  }
  // Moves the slots [begin, end) (their bytes) to be slots [begin + by,
  // end + by) and reports the move; the header and l_ are the caller's.
  void MoveSlots(size_t begin, size_t end, int by);
  // Copies `record` to `at` and reports it.
  void WriteRecord(uint32_t at, std::string_view record);
  // Room for `size` record bytes leaving `slot_bytes` of gap for a new
  // slot: first-fit hole, gap, or compaction. REQUIRES: free_bytes() >=
  // size + slot_bytes.
  uint32_t Place(uint32_t size, uint32_t slot_bytes);
  // Lays the live records out in key order from arena_start, skipping dead
  // slots (length 0: a replaced record).
  void Compact();
  // Frees slot i's record bytes (a hole, or a lower free_start) and marks
  // the slot dead (length 0); the slot itself stays.
  void Release(size_t i);
  // Adds [begin, end) to the known holes (joining its neighbours), when
  // they are known.
  void AddHole(uint32_t begin, uint32_t end);
  // Writes the header counts that changed.
  void SyncHeader();

  uint8_t* page_;
  SlottedLayout& l_;
  ChangeSink* sink_;
  const BTreeCounters* c_;
};

}  // namespace sombra::btree
