// btree/leaf_allocator.h: LeafAllocator, the only code that changes a leaf
// page, and LeafLayout, the decoded layout it works from
// (docs/architecture.md, "Pages and the LeafAllocator"; docs/format/page.md).
//
// Every leaf mutation - insert, update, delete, borrow, merge, split - goes
// through these functions; nothing decodes a whole leaf and rebuilds it.
// A LeafLayout holds the layout without the page bytes (its SlottedLayout:
// slots, free_start, free_end, hole bytes, arena start; and the fence
// lengths); the B+tree caches it per
// page for the whole write transaction so a run of inserts into one leaf
// never re-parses the page. Each mutation reports the byte ranges it changed
// to a ChangeSink.
//
// Invariants of a layout S of page P (checked by S.Matches(P)): those of
// SlottedLayout (slotted_page.h), and keys strictly ascending by slot.
//
// A layout keeps a pointer to the BTreeCounters it was given (null: it
// counts nothing); a LeafAllocator and SplitOffRight count into its layout's.
// REQUIRES: the counters outlive the layout.
//
// Thread safety: none; one writer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "btree/btree_counters.h"
#include "btree/node_format.h"
#include "btree/slotted_page.h"
#include "util/result.h"

namespace sombra::btree {

using LeafSlot = SlotEntry;

// A view of one record of a page.
struct LeafRecordRef {
  std::string_view key;
  std::string_view value;  // inline value, or the 12-byte overflow reference
  bool overflow = false;
  std::string_view encoded;  // the record's bytes as stored
};

// Encoded leaf records (docs/format/page.md, "Leaf record").
std::string EncodeLeafRecord(std::string_view key, std::string_view value);
// The same bytes into *out (replacing its contents; its capacity is reused).
void EncodeLeafRecordTo(std::string_view key, std::string_view value, std::string* out);
// The size of EncodeLeafRecord(key, value).
size_t LeafRecordSize(std::string_view key, std::string_view value);
std::string EncodeOverflowRecord(std::string_view key, uint32_t first_page, uint64_t value_len);
// Decodes an overflow reference (the value of an overflow record).
void DecodeOverflowRef(std::string_view ref, uint32_t* first_page, uint64_t* value_len);
// Bounds-checked decode of the record at [data, data+size); false when it
// is malformed (docs/format/page.md, rule L9). Inline for the common record
// whose key length and value code are one byte each (keys under 128 bytes,
// inline values under 64, every overflow reference with such a key): every
// cursor step and every key comparison that meets equal key heads decodes
// one. Such varints are in their shortest form by construction.
bool DecodeLeafRecordSlow(const uint8_t* data, size_t size, LeafRecordRef* out);
inline bool DecodeLeafRecord(const uint8_t* data, size_t size, LeafRecordRef* out) {
  if (size < 2 || ((data[0] | data[1]) & 0x80) != 0) return DecodeLeafRecordSlow(data, size, out);
  const uint32_t key_len = data[0];
  const uint32_t code = data[1];
  const uint32_t value_len = code >> 1;
  const bool overflow = (code & 1) != 0;
  if (overflow && value_len != kOverflowRefSize) return false;
  if (size_t{key_len} + value_len + 2 != size) return false;
  const char* k = reinterpret_cast<const char*>(data + 2);
  out->key = std::string_view(k, key_len);
  out->value = std::string_view(k + key_len, value_len);
  out->overflow = overflow;
  out->encoded = std::string_view(reinterpret_cast<const char*>(data), size);
  return true;
}

// True when the encoded leaf record `record` (whole and well formed) is an
// overflow record: the low bit of its value code, the varint after the key
// length.
inline bool IsOverflowRecord(std::string_view record) {
  size_t i = 0;
  while (i < record.size() && (static_cast<uint8_t>(record[i]) & 0x80) != 0) ++i;
  return i + 1 < record.size() && (static_cast<uint8_t>(record[i + 1]) & 1) != 0;
}

// Decodes the leaf record starting at `data`, its length read from its own
// header (the slot holds none); false unless it decodes and ends at or
// before `limit`. Inline: a lookup and a cursor step call it per record.
inline bool DecodeLeafRecordAt(const uint8_t* data, const uint8_t* limit, LeafRecordRef* out) {
  if (limit - data >= 2 && ((data[0] | data[1]) & 0x81) == 0) {
    // One-byte varints and an inline value: the common case.
    const size_t size = 2u + data[0] + (data[1] >> 1);
    if (size > static_cast<size_t>(limit - data)) return false;
    const char* k = reinterpret_cast<const char*>(data + 2);
    out->key = std::string_view(k, data[0]);
    out->value = std::string_view(k + data[0], data[1] >> 1);
    out->overflow = false;
    out->encoded = std::string_view(reinterpret_cast<const char*>(data), size);
    return true;
  }
  const uint32_t size = RecordLength(data, limit, /*leaf=*/true);
  return size != 0 && DecodeLeafRecord(data, size, out);
}

// The layout of a leaf page: its SlottedLayout plus the fences.
class LeafLayout : public SlottedLayout {
 public:
  LeafLayout() = default;

  // Decodes and validates the layout of a leaf page (Corruption naming what
  // is wrong; never trusts an offset). Counts allocator_builds and
  // allocator_page_parses.
  static Result<LeafLayout> Parse(const uint8_t* page, uint32_t page_size,
                                  const BTreeCounters* counters);
  // Writes the header of an empty leaf into `page` (the common header's
  // kind is set to leaf; page number and LSN are left alone) and returns its
  // snapshot; the fences may be views of `page`. Counts allocator_builds.
  // REQUIRES: each fence is at most MaxKeySize(page_size) bytes.
  static LeafLayout InitEmpty(uint8_t* page, uint32_t page_size, std::string_view low_fence,
                              std::string_view high_fence, uint32_t left, uint32_t right,
                              const BTreeCounters* counters);

  std::string_view low_fence(const uint8_t* page) const;
  std::string_view high_fence(const uint8_t* page) const;  // empty: +infinity
  bool has_high_fence() const { return high_len_ != 0; }

  // Record i of `page`. Counts key_decodes.
  LeafRecordRef Record(const uint8_t* page, size_t i) const;
  // The first slot whose key is >= key (size() when none); *exact when it
  // equals key. Compares key heads first. Counts key_cmps and key_decodes.
  size_t LowerBound(const uint8_t* page, std::string_view key, bool* exact) const;

  // True when a fresh Parse of `page` gives this snapshot (debug check).
  // It checks the layout rules only, not that the keys lie inside the
  // fences, so it also holds in the middle of a borrow (records moved,
  // fences not yet set). Counts nothing.
  bool Matches(const uint8_t* page) const;

  // True when `page` is a leaf whose header fields and slot directory are
  // exactly this layout's: the layout then describes it as a Parse would
  // (LayoutCache's check; it decodes no record). Counts nothing.
  bool Describes(const uint8_t* page) const;
  // The header half of Describes: kind, level and the header fields, not
  // the slot directory. O(1).
  bool DescribesHeader(const uint8_t* page) const;
  // The page LSN this layout was kept at (LayoutCache): the LSN its page
  // has once the transaction that kept it commits. 0: not kept.
  uint64_t kept_lsn() const { return kept_lsn_; }
  void set_kept_lsn(uint64_t lsn) { kept_lsn_ = lsn; }
  // Counts into `counters` from now on (LayoutCache hands a layout from
  // one writer to the next).
  void RebindCounters(const BTreeCounters* counters) { counters_ = counters; }

  // The counters this layout counts into (null: counts nothing). Parse,
  // InitEmpty and the builders set them; an allocator and a split of this
  // layout count into them too.
  const BTreeCounters* counters() const { return counters_; }

 private:
  friend class LeafAllocator;
  friend struct LeafBuilder;
  // Parse without counting; `check_fences` adds the keys-inside-fences rule.
  static Result<LeafLayout> ParseLayout(const uint8_t* page, uint32_t page_size, bool check_fences);
  // Its steps: the node header and fences (L1, L2), then the space fields
  // and sibling links (L3-L6); each slot and its record (L7, L9-L12), adding
  // record bytes to *live; the arena as a whole (L8, L13).
  Status ParseHeader(const uint8_t* page, uint32_t page_size);
  Status ParseSpace(const uint8_t* page);
  Status ParseSlots(const uint8_t* page, bool check_fences, uint64_t* live);
  Status CheckArena(const uint8_t* page, uint64_t live) const;

  uint16_t low_len_ = 0;
  uint16_t high_len_ = 0;
  const BTreeCounters* counters_ = nullptr;
  uint64_t kept_lsn_ = 0;
};

// An insert (or an update that grew) that did not fit: the split takes it
// from here without another search or encode.
//
// A PendingInsert whose record is empty (and replace false) stands for "no
// record": ChooseSplit, SplitOffRight and SplitKeepLeft then split the page's own records.
struct PendingInsert {
  size_t slot_index = 0;  // its place in key order among the page's slots
  bool replace = false;   // it replaces the record at slot_index (an update)
  std::string record;     // encoded leaf record
  uint32_t head = 0;
};

enum class EditResult { kApplied, kNotApplied };

class LeafAllocator {
 public:
  // Edits `page` (page_size bytes) whose layout is *snap; both are updated
  // together; changed ranges go to `sink` (may be null).
  LeafAllocator(uint8_t* page, LeafLayout* snap, ChangeSink* sink);

  // Inserts `record` at slot_index: first-fit hole, else the gap, else
  // compaction through a scratch buffer when the free bytes suffice (the
  // new slot's 8 bytes counted). kNotApplied, page untouched and *pending
  // filled, when it cannot fit.
  EditResult Insert(size_t slot_index, std::string_view record, uint32_t head,
                    PendingInsert* pending);
  // Replaces record slot_index (same key): in place when the new record fits
  // in the old one's bytes, else delete + insert through the allocator (the
  // old bytes are freed first; the slot keeps its place); kNotApplied (page
  // untouched, *pending with replace = true) when it cannot fit.
  EditResult Update(size_t slot_index, std::string_view record, PendingInsert* pending);
  // Removes record slot_index: its bytes become a hole (or shrink the arena
  // when it was the last record in address order).
  void Erase(size_t slot_index);
  // Inserts `count` records (in key order, with their key heads) as slots
  // slot_index, slot_index + 1, ... in one edit (SlottedPageEditor::
  // InsertRun): a share taking a sibling's records. kNotApplied, page
  // untouched, when they do not all fit.
  EditResult InsertRun(size_t slot_index, const std::string_view* records, const uint32_t* heads,
                       size_t count);
  // Removes records [begin, end) (a share handing them to a sibling).
  void EraseRange(size_t begin, size_t end);
  void SetSiblings(uint32_t left, uint32_t right);
  // Replaces the fences (a share moved records between two siblings and
  // their separator changed); the arena start follows them, records below
  // a higher start move aside. REQUIRES: every key of the page lies in
  // [low, high), and kFencesOffset + low.size() + high.size() +
  // used_bytes() <= page size.
  void SetFences(std::string_view low, std::string_view high);

 private:
  // Clears the page's kLeafFlagNoOverflow (a logged change) when `record`,
  // about to be written, is an overflow record.
  void NoteRecord(std::string_view record);

  uint8_t* page_;
  LeafLayout* snap_;
  SlottedPageEditor editor_;
};

// The shortest key s with left_max < s <= right_min (docs/format/page.md,
// "Separators"). REQUIRES: left_max < right_min.
std::string ShortestSeparator(std::string_view left_max, std::string_view right_min);

// Where a split puts its cut: the number of records (of the page's records
// plus the pending one, in key order) that go to the left page. An insert at
// the right edge of the rightmost leaf (`rightmost` and pending at the end)
// leaves the left page nearly full; otherwise the cut is near the middle by
// bytes. Both sides get at least one record.
//
// The preferred cut is moved to the nearest cut where both pages fit (their
// fences included; the separator at a cut is as long as the keys around it
// make it) when it does not. When no cut fits - possible only with fences,
// separators and records all near their limits - it returns the preferred
// cut and SplitFits is false for it: split without the pending record
// (empty PendingInsert) and insert it afterwards.
// REQUIRES: the page's records plus the pending one are at least 2.
size_t ChooseSplit(const uint8_t* page, const LeafLayout& snap, const PendingInsert& pending,
                   bool rightmost);

// True when cutting at split_index gives two pages that hold their records,
// slots and fences. Decodes the two keys around the cut.
bool SplitFits(const uint8_t* page, const LeafLayout& snap, const PendingInsert& pending,
               size_t split_index);

struct SplitOutput {
  LeafLayout right;
  std::string separator;  // the left page's new high fence, the right's low
};

// The streaming half of a split: writes records [split_index, n) of (src,
// snap) with `pending` applied into `right`, a fresh page image (page_size
// bytes, distinct from src), with fences [separator, src high) and sibling
// links (left_no, src right), its common header kind set (page number and
// LSN left to the pager), and returns its snapshot and the separator. The
// page `src` itself is not changed: the caller lets its records
// [split_index, n) go in place (BTreeWriter::SplitLeaf). No record is
// decoded except the two around the cut. Counts allocator_builds (1: the
// new right page) and memcopy_bytes.
// REQUIRES: 1 <= split_index < records, SplitFits(...). When the cut does not
// fit, a debug build asserts; otherwise nothing is written and the snapshot
// is empty (page_size() 0).
SplitOutput SplitOffRight(const uint8_t* src, const LeafLayout& snap, const PendingInsert& pending,
                          size_t split_index, uint8_t* right, uint32_t left_no);

// The in-place half of a split, after SplitOffRight: the page keeps
// records [0, split_index) of (page, snap) with `pending` applied where
// they are. The slots of the records that went right are erased (they are
// the page's last ones; their bytes become holes), the pending record is
// applied if it stays left, the high fence becomes `separator` and the
// right link `right_no`; every edit goes through a LeafAllocator to `sink`
// (page ops in the log, a few bytes where a rewritten page was an image).
// *snap stays the page's layout. False when the pending record does not
// fit, which SplitFits rules out.
bool SplitKeepLeft(uint8_t* page, LeafLayout* snap, const PendingInsert& pending,
                   size_t split_index, std::string_view separator, uint32_t right_no,
                   ChangeSink* sink);

// The separator SplitOffRight chooses for the same cut (two decodes).
std::string SplitSeparator(const uint8_t* src, const LeafLayout& snap, const PendingInsert& pending,
                           size_t split_index);

// The other in-place half of a split, instead of SplitOffRight when the
// log takes the new page as a copy of the split page (log format 12,
// BTreeWriter::SplitLeaf): `right` holds a copy of the split page and
// *snap a copy of its layout; it keeps records [split_index, n) with
// `pending` applied. The slots of the records left of the cut are erased
// (their bytes become holes), the fences become [separator, the split
// page's high fence), the pending record is applied if it goes right and
// the left link becomes `left_no`; every edit goes through a LeafAllocator
// to `sink`. Counts allocator_builds (1: the new page). False when the
// pending record does not fit, which SplitFits rules out.
bool SplitKeepRight(uint8_t* right, LeafLayout* snap, const PendingInsert& pending,
                    size_t split_index, std::string_view separator, uint32_t left_no,
                    ChangeSink* sink);

// Yields encoded records in key order.
class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // The next record, false at the end. The view stays valid until the next call.
  virtual bool Next(std::string_view* record, uint32_t* head) = 0;
};

// Writes a leaf holding exactly the records of `source` (which must fit)
// into `page` and returns its snapshot: used by merge and borrow. The fences
// and the records may point into `page` itself (it is built aside and copied
// in). InvalidArgument, page untouched, when they do not fit. Counts
// allocator_builds and memcopy_bytes.
Result<LeafLayout> RebuildFromRecords(uint8_t* page, uint32_t page_size, std::string_view low_fence,
                                      std::string_view high_fence, uint32_t left, uint32_t right,
                                      RecordSource* source, const BTreeCounters* counters);

}  // namespace sombra::btree
