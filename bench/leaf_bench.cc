// bench/leaf_bench.cc: the leaf page layer - parse, point search, in-place
// insert and split of a 4 KiB leaf (lib/btree/leaf_allocator.h).
//
// Each benchmark checks its result once before timing and stops with
// SkipWithError when it is wrong, so the smoke test cannot pass a broken one.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "btree/leaf_allocator.h"

namespace sombra::bench {
namespace {

using btree::EditResult;
using btree::LeafAllocator;
using btree::LeafLayout;
using btree::PendingInsert;

// Keys looked up per round, in random order.
constexpr size_t kLookups = 4096;

// Parses a full leaf: what every page a writer touches without a cached
// snapshot costs (allocator_page_parses).
void BM_LeafParse(benchmark::State& state, Shape shape) {
  BenchCounters bc;
  const Leaf leaf = MakeLeaf(shape, bc.c);
  Result<LeafLayout> check = LeafLayout::Parse(leaf.page.data(), kPageSize, bc.c);
  if (!check.ok() || check->size() != leaf.entries.size()) {
    state.SkipWithError("Parse of the full leaf failed or lost records");
  }
  for (auto _ : state) {
    Result<LeafLayout> r = LeafLayout::Parse(leaf.page.data(), kPageSize, bc.c);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t{kPageSize});
  state.counters["records"] = static_cast<double>(leaf.entries.size());
}

// LowerBound of a key that is on the page, keys in random order.
void BM_LeafLowerBound(benchmark::State& state, Shape shape) {
  BenchCounters bc;
  const Leaf leaf = MakeLeaf(shape, bc.c);
  std::vector<std::string> keys;
  keys.reserve(kLookups);
  std::mt19937_64 rng(Seed());
  for (size_t i = 0; i < kLookups; ++i)
    keys.push_back(leaf.entries[rng() % leaf.entries.size()].key);
  for (size_t i = 0; i < leaf.entries.size(); ++i) {
    bool exact = false;
    const size_t slot = leaf.snap.LowerBound(leaf.page.data(), leaf.entries[i].key, &exact);
    if (!exact || slot != i ||
        leaf.snap.Record(leaf.page.data(), slot).key != leaf.entries[i].key) {
      state.SkipWithError("LowerBound did not find a key that is on the page");
      break;
    }
  }
  const uint64_t cmps_before = bc.Value("key_cmps");
  const uint64_t decodes_before = bc.Value("key_decodes");
  size_t next = 0;
  for (auto _ : state) {
    bool exact = false;
    const size_t slot = leaf.snap.LowerBound(leaf.page.data(), keys[next], &exact);
    benchmark::DoNotOptimize(slot);
    benchmark::DoNotOptimize(exact);
    if (++next == keys.size()) next = 0;
  }
  const auto n = static_cast<double>(std::max<int64_t>(state.iterations(), 1));
  state.SetItemsProcessed(state.iterations());
  state.counters["records"] = static_cast<double>(leaf.entries.size());
  state.counters["cmps/op"] = static_cast<double>(bc.Value("key_cmps") - cmps_before) / n;
  state.counters["decodes/op"] = static_cast<double>(bc.Value("key_decodes") - decodes_before) / n;
}

// Where the keys of an insert benchmark come from.
enum class InsertOrder {
  kAscending,  // appends, a sequential load
  kRandom,     // random order into an empty page
  kIntoHoles,  // random order into a full page with every other record erased
};

// Counts the bytes an edit reports (what becomes the WAL delta).
class CountingSink : public btree::ChangeSink {
 public:
  void Changed(uint32_t, uint32_t length) override { bytes += length; }
  uint64_t bytes = 0;
};

// One insert per iteration: LowerBound for the slot, then
// LeafAllocator::Insert. When the round's records are all in, the page is
// reset from a template (a 4 KiB copy, amortised over the round).
void BM_LeafInsert(benchmark::State& state, Shape shape, InsertOrder order) {
  BenchCounters bc;
  Leaf leaf = MakeLeaf(shape, bc.c);
  std::vector<uint8_t> base(kPageSize);
  LeafLayout base_snap;
  std::vector<const Entry*> round;
  if (order == InsertOrder::kIntoHoles) {
    base = leaf.page;
    base_snap = leaf.snap;
    LeafAllocator alloc(base.data(), &base_snap, nullptr);
    // Erase the odd records from the top down (never the last one, whose
    // bytes would go back to the gap instead of becoming a hole).
    for (auto i = static_cast<ptrdiff_t>(leaf.entries.size()) - 2; i >= 1; --i) {
      if (i % 2 == 0) continue;
      alloc.Erase(static_cast<size_t>(i));
      round.push_back(&leaf.entries[static_cast<size_t>(i)]);
    }
  } else {
    base_snap = MakeEmptyLeaf(base.data(), bc.c);
    for (const Entry& e : leaf.entries) round.push_back(&e);
  }
  if (order != InsertOrder::kAscending) {
    std::mt19937_64 rng(Seed());
    std::shuffle(round.begin(), round.end(), rng);
  } else {
    std::sort(round.begin(), round.end(),
              [](const Entry* a, const Entry* b) { return a->key < b->key; });
  }

  std::vector<uint8_t> page = base;
  LeafLayout snap = base_snap;
  CountingSink sink;
  // Check: one round gives the full leaf back, byte for byte in its records.
  for (const Entry* e : round) {
    bool exact = false;
    const size_t slot = snap.LowerBound(page.data(), e->key, &exact);
    LeafAllocator alloc(page.data(), &snap, &sink);
    if (exact || alloc.Insert(slot, e->record, e->head, nullptr) != EditResult::kApplied) {
      state.SkipWithError("an insert of the round did not apply");
      break;
    }
  }
  if (snap.size() != leaf.entries.size() || !snap.Matches(page.data())) {
    state.SkipWithError("after a round the page does not hold the full leaf");
  }
  for (size_t i = 0; i < snap.size() && !state.error_occurred(); ++i) {
    if (snap.Record(page.data(), i).key != leaf.entries[i].key) {
      state.SkipWithError("after a round the records are out of order");
    }
  }

  const uint64_t compactions_before = bc.Value("allocator_compactions");
  sink.bytes = 0;
  page = base;
  snap = base_snap;
  size_t next = 0;
  for (auto _ : state) {
    if (next == round.size()) {
      std::memcpy(page.data(), base.data(), kPageSize);
      snap = base_snap;
      next = 0;
    }
    const Entry& e = *round[next++];
    const size_t slot = snap.LowerBound(page.data(), e.key, nullptr);
    LeafAllocator alloc(page.data(), &snap, &sink);
    if (alloc.Insert(slot, e.record, e.head, nullptr) != EditResult::kApplied) {
      state.SkipWithError("insert did not apply");
      break;
    }
  }
  const auto n = static_cast<double>(std::max<int64_t>(state.iterations(), 1));
  state.SetItemsProcessed(state.iterations());
  state.counters["inserts/round"] = static_cast<double>(round.size());
  state.counters["reported_B/op"] = static_cast<double>(sink.bytes) / n;
  state.counters["compactions/op"] =
      static_cast<double>(bc.Value("allocator_compactions") - compactions_before) / n;
}

// A full leaf and an insert that does not fit: the split's input.
struct SplitCase {
  Leaf leaf;
  PendingInsert pending;
  size_t split_index = 0;
};

SplitCase MakeSplitCase(Shape shape, const btree::BTreeCounters* counters) {
  SplitCase sc{MakeLeaf(shape, counters), {}, 0};
  const Entry& e = sc.leaf.absent[sc.leaf.absent.size() / 2];
  bool exact = false;
  const size_t slot = sc.leaf.snap.LowerBound(sc.leaf.page.data(), e.key, &exact);
  std::vector<uint8_t> copy = sc.leaf.page;
  LeafLayout snap = sc.leaf.snap;
  LeafAllocator alloc(copy.data(), &snap, nullptr);
  // The insert must miss (the leaf is full): the allocator fills *pending.
  if (alloc.Insert(slot, e.record, e.head, &sc.pending) != EditResult::kNotApplied) {
    sc.pending = PendingInsert{};
  }
  sc.split_index = btree::ChooseSplit(sc.leaf.page.data(), sc.leaf.snap, sc.pending, false);
  return sc;
}

// ChooseSplit: where the cut goes (prefix sums over the records).
void BM_LeafChooseSplit(benchmark::State& state, Shape shape) {
  BenchCounters bc;
  const SplitCase sc = MakeSplitCase(shape, bc.c);
  if (sc.pending.record.empty() ||
      !btree::SplitFits(sc.leaf.page.data(), sc.leaf.snap, sc.pending, sc.split_index)) {
    state.SkipWithError("no pending insert, or ChooseSplit chose a cut that does not fit");
  }
  for (auto _ : state) {
    size_t k = btree::ChooseSplit(sc.leaf.page.data(), sc.leaf.snap, sc.pending, false);
    benchmark::DoNotOptimize(k);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["records"] = static_cast<double>(sc.leaf.entries.size() + 1);
}

// SplitOffRight: the records right of the cut (the pending insert among
// them or not) streamed into a fresh page image; the split page itself is
// edited in place afterwards (BTreeWriter::SplitLeaf), not measured here.
void BM_LeafSplitOffRight(benchmark::State& state, Shape shape) {
  BenchCounters bc;
  const SplitCase sc = MakeSplitCase(shape, bc.c);
  std::vector<uint8_t> right(kPageSize, 0);
  if (sc.pending.record.empty()) {
    state.SkipWithError("the insert into the full leaf did not miss");
  } else {
    const btree::SplitOutput out = btree::SplitOffRight(
        sc.leaf.page.data(), sc.leaf.snap, sc.pending, sc.split_index, right.data(), kPageNo);
    Result<LeafLayout> r = LeafLayout::Parse(right.data(), kPageSize, bc.c);
    if (!r.ok() || r->size() != sc.leaf.entries.size() + 1 - sc.split_index ||
        !out.right.Matches(right.data()) || out.separator.empty()) {
      state.SkipWithError("SplitOffRight gave a page that does not parse or lost a record");
    }
  }
  for (auto _ : state) {
    btree::SplitOutput out = btree::SplitOffRight(sc.leaf.page.data(), sc.leaf.snap, sc.pending,
                                                  sc.split_index, right.data(), kPageNo);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t{kPageSize});
  state.counters["records"] = static_cast<double>(sc.leaf.entries.size() + 1);
  state.counters["left"] = static_cast<double>(sc.split_index);
}

BENCHMARK_CAPTURE(BM_LeafParse, seq8x8, Shape::kSeq8x8);
BENCHMARK_CAPTURE(BM_LeafParse, rand8x8, Shape::kRand8x8);
BENCHMARK_CAPTURE(BM_LeafParse, db16x100, Shape::kDb16x100);

BENCHMARK_CAPTURE(BM_LeafLowerBound, seq8x8, Shape::kSeq8x8);
BENCHMARK_CAPTURE(BM_LeafLowerBound, rand8x8, Shape::kRand8x8);
BENCHMARK_CAPTURE(BM_LeafLowerBound, db16x100, Shape::kDb16x100);

BENCHMARK_CAPTURE(BM_LeafInsert, seq8x8_ascending, Shape::kSeq8x8, InsertOrder::kAscending);
BENCHMARK_CAPTURE(BM_LeafInsert, seq8x8_random, Shape::kSeq8x8, InsertOrder::kRandom);
BENCHMARK_CAPTURE(BM_LeafInsert, seq8x8_into_holes, Shape::kSeq8x8, InsertOrder::kIntoHoles);
BENCHMARK_CAPTURE(BM_LeafInsert, rand8x8_random, Shape::kRand8x8, InsertOrder::kRandom);
BENCHMARK_CAPTURE(BM_LeafInsert, db16x100_ascending, Shape::kDb16x100, InsertOrder::kAscending);
BENCHMARK_CAPTURE(BM_LeafInsert, db16x100_random, Shape::kDb16x100, InsertOrder::kRandom);
BENCHMARK_CAPTURE(BM_LeafInsert, db16x100_into_holes, Shape::kDb16x100, InsertOrder::kIntoHoles);

BENCHMARK_CAPTURE(BM_LeafChooseSplit, seq8x8, Shape::kSeq8x8);
BENCHMARK_CAPTURE(BM_LeafChooseSplit, db16x100, Shape::kDb16x100);

BENCHMARK_CAPTURE(BM_LeafSplitOffRight, seq8x8, Shape::kSeq8x8);
BENCHMARK_CAPTURE(BM_LeafSplitOffRight, rand8x8, Shape::kRand8x8);
BENCHMARK_CAPTURE(BM_LeafSplitOffRight, db16x100, Shape::kDb16x100);

}  // namespace
}  // namespace sombra::bench
