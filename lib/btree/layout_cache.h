// btree/layout_cache.h: leaf layouts kept from one write transaction to the
// next.
//
// A BTreeWriter parses a leaf (LeafLayout::Parse: every slot, every record,
// the overlap check) the first time a transaction touches it; in a random
// load nearly every insert is such a first touch. The layouts a committed
// transaction leaves behind describe the pages as committed, so the next
// transaction takes them from here instead of parsing again, after checking
// that the page is still at the LSN the layout was kept at
// (LeafLayout::kept_lsn, set by BTreeWriter::ReleaseLayouts) and has the
// same header fields (LeafLayout::DescribesHeader; debug builds compare the
// slot directory too). The records were validated by the parse that built
// the layout and by nothing since changed outside it: only the writer
// writes leaves, every commit stamps the pages it changes with its LSN,
// and pages read from the file are checksummed.
//
// A transaction keeps its layouts before its commit is appended, while it
// holds the writer slot (the group commit passes the slot on before the
// sync, and the next transaction must find them). A layout kept by a
// commit that then fails describes pages the database does not have: the
// committing transaction drops the whole cache (Clear) before it releases
// the writer slot (db::WriteTxnImpl::Commit). Take's LSN check is a
// second guard: such a page never reaches that LSN with that content.
//
// Thread safety: every call locks (the writer slot orders them already).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "btree/leaf_allocator.h"

namespace sombra::btree {

class LayoutCache {
 public:
  // Slot entries kept at most (8 bytes each in a layout): 2M entries is
  // 16 MiB, the layouts of ~13,000 full 4 KiB leaves of 8-byte keys.
  static constexpr size_t kDefaultMaxSlots = size_t{2} << 20;

  explicit LayoutCache(size_t max_slots = kDefaultMaxSlots) : max_slots_(max_slots) {}

  // The layout kept for `page_no` when it still describes `page`, moved
  // into *out (counting into nothing: the caller rebinds it). False when
  // none is kept or it does not describe the page (it is dropped then).
  bool Take(uint32_t page_no, const uint8_t* page, LeafLayout* out);
  // Keeps the layouts a transaction leaves (replacing older ones of the
  // same pages). Over the budget, everything kept before is dropped
  // first (a load larger than the budget parses again, as without cache).
  void Keep(std::unordered_map<uint32_t, LeafLayout>&& layouts);
  void Clear();

  size_t layouts() const;
  size_t slots() const;

 private:
  void ClearLocked();

  const size_t max_slots_;
  mutable std::mutex mu_;
  size_t slots_ = 0;                              // guarded by mu_
  std::unordered_map<uint32_t, LeafLayout> map_;  // guarded by mu_
};

}  // namespace sombra::btree
