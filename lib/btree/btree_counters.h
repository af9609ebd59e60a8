// btree/btree_counters.h: the B+tree's telemetry (docs/architecture.md, "Telemetry"),
// relaxed counters in the database's MetricsRegistry.
#pragma once

#include "util/metrics.h"

namespace sombra::btree {

struct BTreeCounters {
  Counter* key_decodes;               // records decoded to read their key
  Counter* key_cmps;                  // key comparisons (integer head or bytes)
  Counter* memcopy_bytes;             // record bytes copied by the allocator
  Counter* allocator_builds;          // layouts built without a cached snapshot
  Counter* allocator_page_parses;     // of those, parses of an existing page
  Counter* allocator_cache_reuse;     // edits served by a cached snapshot
  Counter* allocator_split_triggers;  // capacity misses that became splits
  Counter* allocator_failures;        // a leaf it cannot parse, or no split makes room
  Counter* allocator_compactions;
  Counter* allocator_bytes_moved;  // bytes moved by compactions
  Counter* leaf_splits;
  Counter* internal_splits;
  Counter* leaf_merges;
  Counter* leaf_borrows;
  Counter* overflow_pages;

  static BTreeCounters From(MetricsRegistry* m) {
    return BTreeCounters{m->GetCounter("key_decodes"),
                         m->GetCounter("key_cmps"),
                         m->GetCounter("memcopy_bytes"),
                         m->GetCounter("allocator_builds"),
                         m->GetCounter("allocator_page_parses"),
                         m->GetCounter("allocator_cache_reuse"),
                         m->GetCounter("allocator_split_triggers"),
                         m->GetCounter("allocator_failures"),
                         m->GetCounter("allocator_compactions"),
                         m->GetCounter("allocator_bytes_moved"),
                         m->GetCounter("leaf_splits"),
                         m->GetCounter("internal_splits"),
                         m->GetCounter("leaf_merges"),
                         m->GetCounter("leaf_borrows"),
                         m->GetCounter("overflow_pages")};
  }
};

// Receives the byte ranges of a page that an edit changed (they become the
// WAL delta: PagerTxn::NoteWrite).
class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  virtual void Changed(uint32_t offset, uint32_t length) = 0;
};

}  // namespace sombra::btree
