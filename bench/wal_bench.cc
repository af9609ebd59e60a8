// bench/wal_bench.cc: encoding one transaction's WAL records with
// BatchBuilder (lib/wal/wal_batch.h) - a delta for a small leaf change, and
// a whole page image with and without lz4.
//
// The deltas come from real edits: the ranges a LeafAllocator edit reports,
// merged the way the pager merges them before it logs (bench_util.h).
// Each benchmark decodes its batch once (checksum chain, payload rules) and
// checks it reproduces the page, else SkipWithError.
#include <benchmark/benchmark.h>

#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bench/bench_util.h"
#include "btree/leaf_allocator.h"
#include "wal/wal_batch.h"
#include "wal/wal_format.h"
#include "wal/wal_record.h"

namespace sombra::bench {
namespace {

constexpr uint64_t kChainSeed = 0x5EED5EED5EED5EEDULL;
constexpr uint64_t kNewLsn = kPageLsn + 1;

wal::CommitInfo Commit() {
  wal::CommitInfo info;
  info.txn_id = kNewLsn;
  info.lsn = kNewLsn;
  info.root = kPageNo;
  info.page_count = kPageNo + 1;
  info.durable_lsn = kPageLsn;
  return info;
}

// Decodes every record of `data` (chained from kChainSeed) and applies it
// to `page`; false with *why when a record is invalid.
bool ReplayBatch(std::string_view data, std::vector<uint8_t>* page, std::string* why) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  uint64_t prev = kChainSeed;
  size_t off = 0;
  wal::DecodeScratch scratch;
  bool committed = false;
  while (off < data.size()) {
    if (data.size() - off < wal::kRecordHeaderSize) {
      *why = "truncated record header";
      return false;
    }
    const wal::RecordHeader h = wal::DecodeRecordHeader(p + off);
    if (wal::CheckRecordHeader(h, kPageSize, wal::kWalNewestFormatVersion, why) !=
        wal::StopReason::kNone)
      return false;
    const uint8_t* payload = p + off + wal::kRecordHeaderSize;
    if (data.size() - off - wal::kRecordHeaderSize < h.length) {
      *why = "truncated payload";
      return false;
    }
    if (wal::RecordChecksum(p + off, payload, h.length, prev) != h.checksum) {
      *why = "checksum chain broken";
      return false;
    }
    prev = h.checksum;
    wal::Record rec;
    if (wal::DecodeRecordPayload(h, payload, kPageSize, wal::kWalNewestFormatVersion, &scratch,
                                 &rec, why) != wal::StopReason::kNone) {
      return false;
    }
    if (rec.type == wal::RecordType::kPageImage) {
      std::memcpy(page->data(), rec.page.data(), kPageSize);
    } else if (rec.type == wal::RecordType::kPageDelta) {
      for (const wal::DeltaRange& r : rec.ranges) {
        std::memcpy(page->data() + r.offset, r.bytes.data(), r.bytes.size());
      }
    } else {
      committed = rec.commit.lsn == kNewLsn;
    }
    off += rec.size();
  }
  if (!committed) *why = "no commit record with the transaction's LSN";
  return committed;
}

// A page before and after one edit, and the merged ranges the edit changed.
struct DeltaCase {
  std::vector<uint8_t> before;
  std::vector<uint8_t> after;
  std::vector<std::pair<uint32_t, uint32_t>> merged;  // [begin, end)
};

enum class Edit {
  kUpdateValue,   // same-size value of the middle record, in place
  kInsertMiddle,  // a new key in the middle of the leaf
  kAppend,        // a new key after the last one
};

DeltaCase MakeDeltaCase(Shape shape, Edit edit, const btree::BTreeCounters* counters) {
  Leaf leaf = MakeLeaf(shape, counters, /*spare=*/2);
  DeltaCase dc;
  dc.before = leaf.page;
  RecordingSink sink;
  btree::LeafAllocator alloc(leaf.page.data(), &leaf.snap, &sink);
  const size_t mid = leaf.entries.size() / 2;
  bool ok = false;
  if (edit == Edit::kUpdateValue) {
    std::string value = leaf.entries[mid].value;
    for (char& ch : value) ch = static_cast<char>(ch ^ 0x5A);
    ok = alloc.Update(mid, btree::EncodeLeafRecord(leaf.entries[mid].key, value), nullptr) ==
         btree::EditResult::kApplied;
  } else {
    const Entry& e = edit == Edit::kAppend ? leaf.after.front() : leaf.absent[mid];
    const size_t slot = leaf.snap.LowerBound(leaf.page.data(), e.key, nullptr);
    ok = alloc.Insert(slot, e.record, e.head, nullptr) == btree::EditResult::kApplied;
  }
  if (ok) {
    dc.after = leaf.page;
    dc.merged = MergeRangesLikePager(sink.ranges);
  }
  return dc;
}

// Reset + AddPageDelta + AddCommit: what a one-page commit encodes.
void BM_WalEncodeDelta(benchmark::State& state, Shape shape, Edit edit) {
  BenchCounters bc;
  const DeltaCase dc = MakeDeltaCase(shape, edit, bc.c);
  std::vector<wal::DeltaRange> ranges;
  uint64_t changed = 0;
  for (auto [b, e] : dc.merged) {
    ranges.push_back(wal::DeltaRange{
        b, std::string_view(reinterpret_cast<const char*>(dc.after.data()) + b, e - b)});
    changed += e - b;
  }
  const wal::CommitInfo info = Commit();
  wal::BatchBuilder batch(kPageSize, /*compress=*/true);
  std::string why = "the edit did not apply";
  bool good = !ranges.empty();
  if (good) {
    batch.Reset(kChainSeed);
    good =
        batch.AddPageDelta(kPageNo, kPageLsn, kNewLsn, ranges).ok() && batch.AddCommit(info).ok();
    why = "encoding failed";
  }
  std::vector<uint8_t> replayed = dc.before;
  if (good) {
    why.clear();
    if (!ReplayBatch(batch.data(), &replayed, &why) || replayed != dc.after) {
      good = false;
      if (why.empty()) why = "replaying the delta does not give the edited page";
    }
  }
  if (!good) state.SkipWithError(why.c_str());
  const size_t wal_bytes = batch.data().size();
  for (auto _ : state) {
    batch.Reset(kChainSeed);
    if (!batch.AddPageDelta(kPageNo, kPageLsn, kNewLsn, ranges).ok() ||
        !batch.AddCommit(info).ok()) {
      state.SkipWithError("encoding failed");
      break;
    }
    benchmark::DoNotOptimize(batch.data().data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(wal_bytes));
  state.counters["ranges"] = static_cast<double>(ranges.size());
  state.counters["changed_B"] = static_cast<double>(changed);
  state.counters["wal_B"] = static_cast<double>(wal_bytes);
}

// Reset + AddPageImage + AddCommit of a full leaf.
void BM_WalEncodeImage(benchmark::State& state, Shape shape, bool compress) {
  BenchCounters bc;
  const Leaf leaf = MakeLeaf(shape, bc.c);
  const wal::CommitInfo info = Commit();
  wal::BatchBuilder batch(kPageSize, compress);
  batch.Reset(kChainSeed);
  std::string why;
  std::vector<uint8_t> replayed(kPageSize, 0);
  if (!batch.AddPageImage(kPageNo, kNewLsn, leaf.page.data()).ok() || !batch.AddCommit(info).ok()) {
    state.SkipWithError("encoding failed");
  } else if (!ReplayBatch(batch.data(), &replayed, &why) || replayed != leaf.page) {
    if (why.empty()) why = "the logged image differs from the page";
    state.SkipWithError(why.c_str());
  }
  const size_t wal_bytes = batch.data().size();
  for (auto _ : state) {
    batch.Reset(kChainSeed);
    if (!batch.AddPageImage(kPageNo, kNewLsn, leaf.page.data()).ok() ||
        !batch.AddCommit(info).ok()) {
      state.SkipWithError("encoding failed");
      break;
    }
    benchmark::DoNotOptimize(batch.data().data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t{kPageSize});
  state.counters["wal_B"] = static_cast<double>(wal_bytes);
}

BENCHMARK_CAPTURE(BM_WalEncodeDelta, seq8x8_update_value, Shape::kSeq8x8, Edit::kUpdateValue);
BENCHMARK_CAPTURE(BM_WalEncodeDelta, seq8x8_insert_middle, Shape::kSeq8x8, Edit::kInsertMiddle);
BENCHMARK_CAPTURE(BM_WalEncodeDelta, seq8x8_append, Shape::kSeq8x8, Edit::kAppend);
BENCHMARK_CAPTURE(BM_WalEncodeDelta, db16x100_insert_middle, Shape::kDb16x100, Edit::kInsertMiddle);
BENCHMARK_CAPTURE(BM_WalEncodeDelta, db16x100_append, Shape::kDb16x100, Edit::kAppend);

BENCHMARK_CAPTURE(BM_WalEncodeImage, seq8x8_lz4, Shape::kSeq8x8, true);
BENCHMARK_CAPTURE(BM_WalEncodeImage, seq8x8_raw, Shape::kSeq8x8, false);
BENCHMARK_CAPTURE(BM_WalEncodeImage, db16x100_lz4, Shape::kDb16x100, true);
BENCHMARK_CAPTURE(BM_WalEncodeImage, db16x100_raw, Shape::kDb16x100, false);

}  // namespace
}  // namespace sombra::bench
