// btree/btree_counters.h: the B+tree's telemetry (docs/architecture.md, "Telemetry"),
// relaxed counters in the database's MetricsRegistry, and the sink for the
// byte ranges an edit changed.
#pragma once

#include <array>
#include <cstdint>

#include "util/metrics.h"

namespace sombra::btree {

// What the B+tree counts; each is a counter of the same name (lower case,
// without the k) in the MetricsRegistry.
enum class Tick : uint8_t {
  kKeyDecodes,              // records decoded to read their key
  kKeyCmps,                 // key comparisons (integer head or bytes)
  kMemcopyBytes,            // record bytes copied by the allocator
  kAllocatorBuilds,         // layouts built without a cached snapshot
  kAllocatorPageParses,     // of those, parses of an existing page
  kAllocatorCacheReuse,     // edits served by a cached snapshot
  kAllocatorSplitTriggers,  // capacity misses that became splits
  kAllocatorFailures,       // a leaf it cannot parse, or no split makes room
  kAllocatorCompactions,
  kAllocatorBytesMoved,  // bytes moved by compactions
  kLeafSplits,
  kInternalSplits,
  kLeafMerges,
  kLeafBorrows,
  kOverflowPages,
  kCount
};

// The counters of one database. Code below lib/db takes a
// `const BTreeCounters*` that may be null: Verify, sombra-inspect and the
// fuzzers read pages without counting (Count does nothing then).
class BTreeCounters {
 public:
  // Registers (or finds) every counter of Tick in `registry`.
  static BTreeCounters From(MetricsRegistry* registry);

  void Add(Tick t, uint64_t n = 1) const { counters_[static_cast<size_t>(t)]->Add(n); }

 private:
  std::array<Counter*, static_cast<size_t>(Tick::kCount)> counters_{};
};

inline void Count(const BTreeCounters* sink, Tick t, uint64_t n = 1) {
  if (sink != nullptr) sink->Add(t, n);
}

// The registry name of a tick ("key_decodes"...).
const char* TickName(Tick t);

// Receives the byte ranges of a page that an edit changed (they become the
// WAL delta: PagerTxn::NoteWrite).
class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  virtual void Changed(uint32_t offset, uint32_t length) = 0;
};

}  // namespace sombra::btree
