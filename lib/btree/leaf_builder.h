// btree/leaf_builder.h: writes a fresh leaf image record by record (internal
// to lib/btree: InitEmpty, SplitOffRight and RebuildFromRecords use it).
//
// The records go to the arena in the order they are added (which must be
// key order); the slot directory and the header counts are written by
// Finish, which also zeroes the gap so page images compress well.
//
// Thread safety: none.
#pragma once

#include <cstdint>
#include <string_view>

#include "btree/leaf_allocator.h"

namespace sombra::btree {

struct LeafBuilder {
  // Writes the common header's kind, flags (kLeafFlagNoOverflow, cleared
  // by Add when an overflow record comes) and reserved bytes (zero; page
  // number, LSN and checksum left alone), the node header and the fences.
  // REQUIRES: kNodeHeaderEnd + low.size() + high.size() <= page_size <=
  // pager::kMaxPageSize; low and high do not point into `page`.
  LeafBuilder(uint8_t* page, uint32_t page_size, std::string_view low, std::string_view high,
              uint32_t left, uint32_t right);

  // True when a record of `size` bytes (and its slot) still fits.
  bool Fits(size_t size) const;
  // Appends a record after the previous one. REQUIRES: Fits(record.size()),
  // record.size() >= 1, and the keys ascend.
  void Add(std::string_view record, uint32_t head);
  // Room for `slots` slots in the snapshot, so that Add, and the inserts
  // into the page after it, grow its slot list once.
  void ReserveSlots(size_t slots) { snap.slots_.reserve(slots); }
  // Writes the slots and the header counts, zeroes the gap, returns the
  // snapshot of the page (moved out: the builder is done).
  LeafLayout Finish(const BTreeCounters* counters);

  uint8_t* page;
  LeafLayout snap;
};

}  // namespace sombra::btree
