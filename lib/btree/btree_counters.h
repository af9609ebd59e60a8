// btree/btree_counters.h: the B+tree's telemetry (docs/architecture.md, "Telemetry"),
// relaxed counters in the database's MetricsRegistry, and the sink for the
// byte ranges an edit changed.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

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
  kAllocatorCacheReuse,     // edits served by a cached or kept layout (no parse)
  kAllocatorSplitTriggers,  // capacity misses: each became a split or a share
  kAllocatorFailures,       // a leaf it cannot parse, or no split makes room
  kAllocatorCompactions,
  kAllocatorBytesMoved,  // bytes moved by compactions
  kLeafSplits,
  kInternalSplits,
  kLeafMerges,
  kLeafBorrows,
  kLeafShares,  // full leaves evened with a sibling instead of split
  kOverflowPages,
  kFreedLeavesDecoded,  // leaves freed whole whose records were read for overflow references
  kCount
};

// The registry's counter for every Tick, looked up once per database
// (GetCounter takes a lock and a name lookup) and then only read: shared by
// every thread's tallies.
class TickCounters {
 public:
  // Registers (or finds) the counter of every Tick in `registry`; a null
  // registry gives none (tallies into it are dropped).
  explicit TickCounters(MetricsRegistry* registry);
  Counter* of(size_t i) const { return counters_[i]; }

 private:
  std::array<Counter*, static_cast<size_t>(Tick::kCount)> counters_{};
};

// A tally of what one thread's B+tree work counted: plain adds (no atomic
// read-modify-write on the hot path: a LowerBound, a cursor step), added to
// the registry's relaxed counters by Flush and by the destructor. Each
// transaction, cursor and one-shot Get keeps its own, so counts show in the
// registry when that object finishes its work (docs/architecture.md,
// "Telemetry").
//
// Code below lib/db takes a `const BTreeCounters*` that may be null: Verify,
// sombra-inspect and the fuzzers read pages without counting (Count does
// nothing then). Const because counting is not a change of what the code
// reads; the tallies are mutable.
//
// Thread safety: one thread at a time (as the transaction or cursor that
// owns it).
class BTreeCounters {
 public:
  // Tallies into `targets` (null: drops them). REQUIRES: they outlive the
  // tally.
  explicit BTreeCounters(const TickCounters* targets) : targets_(targets) {}
  // Looks the counters of `registry` up itself (tests, tools; one per
  // transaction at most).
  explicit BTreeCounters(MetricsRegistry* registry)
      : own_(std::make_unique<TickCounters>(registry)), targets_(own_.get()) {}
  ~BTreeCounters() { Flush(); }
  BTreeCounters(const BTreeCounters&) = delete;
  BTreeCounters& operator=(const BTreeCounters&) = delete;

  void Add(Tick t, uint64_t n = 1) const {
    pending_[static_cast<size_t>(t)] += n;
    touched_ |= 1u << static_cast<unsigned>(t);
  }
  // Adds the tallies to the registry and starts them again from zero.
  // Visits only the ticks added to since the last Flush (a point lookup
  // adds to one or two of them, and flushes once per Get).
  void Flush() const {
    if (touched_ != 0) FlushTouched();
  }
  // Flushes on every kFlushEvery-th call: the write path's, whose edits
  // each add to a few ticks; one atomic add per tick per edit was 5.7% of
  // a sequential load. Its counts reach the registry within kFlushEvery
  // edits, and all of them when the writer goes (its transaction ends).
  void FlushSometimes() const {
    if (++calls_ >= kFlushEvery) {
      calls_ = 0;
      Flush();
    }
  }
  static constexpr uint32_t kFlushEvery = 64;

 private:
  static constexpr size_t kTicks = static_cast<size_t>(Tick::kCount);
  static_assert(kTicks <= 32, "touched_ has a bit per tick");
  void FlushTouched() const;

  std::unique_ptr<const TickCounters> own_;  // the second constructor's
  const TickCounters* targets_;
  mutable std::array<uint64_t, kTicks> pending_{};
  mutable uint32_t touched_ = 0;  // bit t: pending_[t] may be nonzero
  mutable uint32_t calls_ = 0;    // FlushSometimes calls since its last flush
};

// Calls `flush` on a tally when the scope it guards ends.
template <void (BTreeCounters::*flush)() const>
class FlushAtReturn {
 public:
  explicit FlushAtReturn(const BTreeCounters& c) : c_(c) {}
  ~FlushAtReturn() { (c_.*flush)(); }
  FlushAtReturn(const FlushAtReturn&) = delete;
  FlushAtReturn& operator=(const FlushAtReturn&) = delete;

 private:
  const BTreeCounters& c_;
};
// An operation's counts are in the registry when it returns.
using FlushOnReturn = FlushAtReturn<&BTreeCounters::Flush>;
// FlushSometimes when a Put, Delete or Append returns.
using FlushSometimesOnReturn = FlushAtReturn<&BTreeCounters::FlushSometimes>;

inline void Count(const BTreeCounters* sink, Tick t, uint64_t n = 1) {
  if (sink != nullptr) sink->Add(t, n);
}

// The registry name of a tick ("key_decodes"...).
const char* TickName(Tick t);

// Receives what an edit did to a page, right after each step, in order
// (they become the WAL record of the page: PagerTxn::NoteWrite, NoteMove).
class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  // Bytes [offset, offset + length) were written.
  virtual void Changed(uint32_t offset, uint32_t length) = 0;
  // Bytes [src, src + length) were moved to dst (memmove). A sink that
  // only tracks changed ranges sees the destination changed.
  virtual void Moved(uint32_t src, uint32_t dst, uint32_t length) {
    (void)src;
    Changed(dst, length);
  }
  // Bytes [offset, offset + from.size()) were written from `from`, bytes
  // outside this page (a record of another page, or of the caller). A sink
  // that does not ask where bytes come from sees them changed.
  virtual void Copied(uint32_t offset, std::string_view from) {
    Changed(offset, static_cast<uint32_t>(from.size()));
  }
};

}  // namespace sombra::btree
