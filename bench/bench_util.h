// bench/bench_util.h: fixtures shared by the micro-benchmarks - key/value
// shapes, full 4 KiB leaf pages built through LeafAllocator, and the range
// merging the pager applies before it logs a delta.
//
// Every page here is built the way the B+tree builds one (InitEmpty, then
// LeafAllocator::Insert), so a benchmark measures the bytes the engine
// really writes. Random choices come from Seed(): SOMBRA_SEED when set,
// otherwise a fixed default, printed in the benchmark context.
//
// Thread safety: none; each benchmark builds its own fixtures.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "btree/btree_counters.h"
#include "btree/leaf_allocator.h"
#include "util/metrics.h"

namespace sombra::bench {

constexpr uint32_t kPageSize = 4096;
// The page number and LSN written into every page header.
constexpr uint32_t kPageNo = 7;
constexpr uint64_t kPageLsn = 1;

// Key and value shapes (docs/benchmarks.md):
//  kSeq8x8   8-byte big-endian integers 0, 1, 2, ... and 8-byte values, as
//            compare-bench writes them; every key head (first 4 bytes) is 0.
//  kRand8x8  8-byte big-endian random integers, 8-byte values; distinct heads.
//  kDb16x100 db_bench's shape: 16-byte zero-padded decimal keys, 100-byte
//            values that lz4 halves.
enum class Shape { kSeq8x8, kRand8x8, kDb16x100 };

// SOMBRA_SEED, or a fixed default.
uint64_t Seed();

// One key/value pair and its encoded leaf record.
struct Entry {
  std::string key;
  std::string value;
  std::string record;  // EncodeLeafRecord(key, value)
  uint32_t head = 0;   // KeyHead(key)
};

// Holds the metrics registry the B+tree counters point into.
struct BenchCounters {
  MetricsRegistry registry;
  btree::BTreeCounters counters{&registry};
  const btree::BTreeCounters* c = &counters;
  // What the registry holds once the tallies are flushed.
  uint64_t Value(const char* name) const {
    counters.Flush();
    return registry.Value(name);
  }
};

// A leaf page filled in ascending key order.
struct Leaf {
  std::vector<uint8_t> page;  // kPageSize bytes
  btree::LeafLayout snap;
  std::vector<Entry> entries;  // on the page, ascending
  // absent[i] is not on the page and lies between entries[i] and entries[i + 1].
  std::vector<Entry> absent;
  // Entries past the last one on the page, ascending (appends).
  std::vector<Entry> after;
};

// A leaf filled until the next record does not fit, then `spare` records
// taken off the end again (so that many appends fit). Fences empty (the
// only leaf of a tree); header page kPageNo, LSN kPageLsn.
Leaf MakeLeaf(Shape shape, const btree::BTreeCounters* counters, size_t spare = 0);

// The snapshot of an empty leaf written into `page` (kPageSize bytes).
btree::LeafLayout MakeEmptyLeaf(uint8_t* page, const btree::BTreeCounters* counters);

// Records every range an edit reports.
class RecordingSink : public btree::ChangeSink {
 public:
  void Changed(uint32_t offset, uint32_t length) override { ranges.emplace_back(offset, length); }
  std::vector<std::pair<uint32_t, uint32_t>> ranges;  // (offset, length)
};

// Sorts and merges (offset, length) ranges as the pager does before it logs
// a delta (pager_commit.cc, MergeRanges: gaps under 8 bytes are merged and
// the header's LSN and checksum bytes [8, 24) left out). Returns [begin, end)
// pairs.
std::vector<std::pair<uint32_t, uint32_t>> MergeRangesLikePager(
    const std::vector<std::pair<uint32_t, uint32_t>>& ranges);

// A page of kPageSize random bytes (incompressible).
std::vector<uint8_t> RandomPage(uint64_t seed);

}  // namespace sombra::bench
