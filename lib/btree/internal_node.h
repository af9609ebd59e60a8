// btree/internal_node.h: internal (kind 4) B+tree pages (docs/format/page.md).
//
// Same slotted layout as a leaf (node_format.h) with fence lengths 0:
// records are (separator, child); the leftmost child lives in the header.
// Child i (0 = leftmost) holds the keys k with separator(i-1) <= k <
// separator(i). Free space is managed by the SlottedPageEditor leaves use
// too (holes, gap, compaction); every change reports its byte ranges to a
// ChangeSink.
//
// Thread safety: none.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "btree/btree_counters.h"
#include "btree/node_format.h"
#include "btree/slotted_page.h"
#include "util/result.h"

namespace sombra::btree {

// Read-only access to an internal page: what readers, Verify and
// sombra-inspect use (no const_cast needed).
class InternalNodeView {
 public:
  InternalNodeView(const uint8_t* page, uint32_t page_size, const BTreeCounters* c)
      : view_(page), page_size_(page_size), c_(c) {}

  // Checks the layout (slots inside the arena, no overlap, keys ascending,
  // children >= 2). Corruption naming what is wrong.
  Status Validate() const;

  uint16_t level() const;
  // Separators; children = count() + 1.
  size_t count() const { return DecodeFixed16(view_ + kSlotCountOffset); }
  std::string_view key(size_t i) const;  // separator i, i < count()
  uint32_t child(size_t i) const;        // i <= count(); 0 is the leftmost
  // The child index for `key`: the number of separators <= key. Counts
  // key_cmps (and key_decodes when heads tie).
  size_t ChildIndex(std::string_view key) const;
  uint32_t free_bytes() const;  // gap + holes
  uint32_t used_bytes() const;  // records + slots

 protected:
  // Slot i exists and its 6 bytes lie after the header.
  bool SlotInPage(size_t i) const {
    return i < count() && kSlotSize * (i + 1) <= page_size_ - kNodeHeaderEnd;
  }

  const uint8_t* view_;
  uint32_t page_size_;
  const BTreeCounters* c_;
};

// An internal page being edited.
class InternalNode : public InternalNodeView {
 public:
  // Wraps `page` (page_size bytes); changes go to `sink` (may be null).
  InternalNode(uint8_t* page, uint32_t page_size, ChangeSink* sink, const BTreeCounters* c)
      : InternalNodeView(page, page_size, c), page_(page), sink_(sink) {}

  // Writes an empty internal node at `level` (>= 1) with one child.
  void Init(uint16_t level, uint32_t leftmost_child);

  // Inserts separator `key` with its right child `child` as separator i
  // (child i + 1). False, page untouched, when it does not fit even after
  // compaction or is longer than MaxKeySize.
  bool Insert(size_t i, std::string_view key, uint32_t child);
  // Removes separator i and child i + 1.
  void Erase(size_t i);
  // Replaces separator i's key (false when it does not fit or is longer
  // than MaxKeySize).
  bool SetKey(size_t i, std::string_view key);
  void SetChild(size_t i, uint32_t child);

 private:
  // The page's space bookkeeping, for the editor: one layout per thread,
  // read again for each edit (an edit never reads a second node's), so
  // that an edit allocates nothing once the thread's first one did.
  SlottedLayout& Layout() const;

  uint8_t* page_;
  ChangeSink* sink_;
};

// Splits the separators of `src` plus (key, child) inserted as separator
// `insert_at` into two fresh images: `left` keeps the first half, the
// middle separator is returned to go up to the parent (its child becomes
// right's leftmost child), `right` the rest. Both images get level and kind.
std::string SplitInternal(const uint8_t* src, uint32_t page_size, size_t insert_at,
                          std::string_view key, uint32_t child, uint8_t* left, uint8_t* right,
                          const BTreeCounters* c);

}  // namespace sombra::btree
