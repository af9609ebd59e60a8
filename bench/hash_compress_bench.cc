// bench/hash_compress_bench.cc: lz4 of a 4 KiB page image (util/compress.h)
// and the XXH3 page checksum (util/hash.h, pager/format.h).
//
// The pages are real leaves (bench_util.h), plus a page of random bytes as
// the incompressible worst case. Each benchmark checks its result once
// (round trip, checksum identity) and stops with SkipWithError otherwise.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "pager/format.h"
#include "util/compress.h"
#include "util/hash.h"

namespace sombra::bench {
namespace {

constexpr uint64_t kSalt = 0x0123456789ABCDEFULL;

enum class PageSource { kLeafSeq8x8, kLeafDb16x100, kRandom };

std::vector<uint8_t> MakePage(PageSource source) {
  BenchCounters bc;
  switch (source) {
    case PageSource::kLeafSeq8x8:
      return MakeLeaf(Shape::kSeq8x8, bc.c).page;
    case PageSource::kLeafDb16x100:
      return MakeLeaf(Shape::kDb16x100, bc.c).page;
    case PageSource::kRandom:
      break;
  }
  return RandomPage(Seed());
}

std::string_view View(const std::vector<uint8_t>& page) {
  return std::string_view(reinterpret_cast<const char*>(page.data()), page.size());
}

// Compresses into `out` and checks the round trip; false when it fails.
bool RoundTrips(const std::vector<uint8_t>& page, std::string* out) {
  LZ4Compress(View(page), out);
  if (out->empty()) return false;
  std::vector<uint8_t> back(kPageSize, 0);
  return LZ4Decompress(*out, reinterpret_cast<char*>(back.data()), back.size()).ok() &&
         back == page;
}

void BM_Lz4Compress(benchmark::State& state, PageSource source) {
  const std::vector<uint8_t> page = MakePage(source);
  std::string out;
  if (!RoundTrips(page, &out)) state.SkipWithError("lz4 does not round-trip the page");
  const size_t compressed = out.size();
  for (auto _ : state) {
    LZ4Compress(View(page), &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t{kPageSize});
  state.counters["lz4_B"] = static_cast<double>(compressed);
}

void BM_Lz4Decompress(benchmark::State& state, PageSource source) {
  const std::vector<uint8_t> page = MakePage(source);
  std::string compressed;
  if (!RoundTrips(page, &compressed)) state.SkipWithError("lz4 does not round-trip the page");
  std::vector<uint8_t> out(kPageSize, 0);
  for (auto _ : state) {
    Status s = LZ4Decompress(compressed, reinterpret_cast<char*>(out.data()), out.size());
    if (!s.ok()) {
      state.SkipWithError("lz4 decompression failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t{kPageSize});
  state.counters["lz4_B"] = static_cast<double>(compressed.size());
}

// One-shot XXH3-64 of the whole page.
void BM_Hash64(benchmark::State& state) {
  std::vector<uint8_t> page = MakePage(PageSource::kLeafSeq8x8);
  const uint64_t h = Hash64(page.data(), page.size(), kSalt);
  // The one-shot and the two-part hash agree, and one flipped bit changes it.
  const bool same = Hash64Pair(page.data(), 100, page.data() + 100, page.size() - 100, kSalt) == h;
  page[1000] ^= 1;
  const bool differs = Hash64(page.data(), page.size(), kSalt) != h;
  page[1000] ^= 1;
  if (!same || !differs) state.SkipWithError("Hash64 is not consistent");
  for (auto _ : state) {
    uint64_t v = Hash64(page.data(), page.size(), kSalt);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t{kPageSize});
}

// The page checksum: XXH3 of [0, 16) ++ [24, page_size) through the
// streaming API (Hash64Pair).
void BM_PageChecksum(benchmark::State& state) {
  const std::vector<uint8_t> page = MakePage(PageSource::kLeafSeq8x8);
  // Same value as a one-shot hash of the two parts copied together.
  std::vector<uint8_t> joined(page.begin(), page.begin() + pager::kHeaderChecksumOffset);
  joined.insert(joined.end(), page.begin() + pager::kPageHeaderSize, page.end());
  const uint64_t seed = kSalt ^ (uint64_t{kPageNo} * 0x9E3779B97F4A7C15ULL);
  if (pager::ComputePageChecksum(page.data(), kPageSize, kPageNo, kSalt) !=
      Hash64(joined.data(), joined.size(), seed)) {
    state.SkipWithError("ComputePageChecksum differs from XXH3 of the covered bytes");
  }
  for (auto _ : state) {
    uint64_t v = pager::ComputePageChecksum(page.data(), kPageSize, kPageNo, kSalt);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t{kPageSize});
}

// VerifyPage of a sealed page: what every page read from the file costs.
void BM_VerifyPage(benchmark::State& state) {
  std::vector<uint8_t> page = MakePage(PageSource::kLeafSeq8x8);
  pager::SealPage(page.data(), kPageSize, kSalt);
  const std::string file = "/bench/db";
  if (!pager::VerifyPage(page.data(), kPageSize, kPageNo, kSalt, file).ok()) {
    state.SkipWithError("a sealed page does not verify");
  }
  page[2000] ^= 1;
  if (pager::VerifyPage(page.data(), kPageSize, kPageNo, kSalt, file).ok()) {
    state.SkipWithError("a corrupted page verifies");
  }
  page[2000] ^= 1;
  for (auto _ : state) {
    Status s = pager::VerifyPage(page.data(), kPageSize, kPageNo, kSalt, file);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t{kPageSize});
}

BENCHMARK_CAPTURE(BM_Lz4Compress, leaf_seq8x8, PageSource::kLeafSeq8x8);
BENCHMARK_CAPTURE(BM_Lz4Compress, leaf_db16x100, PageSource::kLeafDb16x100);
BENCHMARK_CAPTURE(BM_Lz4Compress, random, PageSource::kRandom);
BENCHMARK_CAPTURE(BM_Lz4Decompress, leaf_seq8x8, PageSource::kLeafSeq8x8);
BENCHMARK_CAPTURE(BM_Lz4Decompress, leaf_db16x100, PageSource::kLeafDb16x100);
BENCHMARK_CAPTURE(BM_Lz4Decompress, random, PageSource::kRandom);
BENCHMARK(BM_Hash64);
BENCHMARK(BM_PageChecksum);
BENCHMARK(BM_VerifyPage);

}  // namespace
}  // namespace sombra::bench
