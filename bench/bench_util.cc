// bench/bench_util.cc: the shared fixtures of the micro-benchmarks.
#include "bench/bench_util.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <string>

#include "pager/format.h"
#include "util/coding.h"

namespace sombra::bench {
namespace {

constexpr uint64_t kDefaultSeed = 20240601;
// Candidate entries generated per leaf: far more than a 4 KiB leaf holds.
constexpr size_t kPoolSize = 1024;
// The pager's merge gap (pager_commit.cc, kMergeGap).
constexpr uint32_t kMergeGap = 8;

std::string BigEndian64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i) {
    s[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return s;
}

std::string LittleEndian64(uint64_t v) {
  std::string s(8, '\0');
  EncodeFixed64(reinterpret_cast<uint8_t*>(s.data()), v);
  return s;
}

// 100 bytes: 50 random lowercase letters, then the same 50 again (lz4
// stores about half, like db_bench's compression ratio 0.5).
std::string DbBenchValue(std::mt19937_64* rng) {
  std::string half(50, 'a');
  for (char& ch : half) ch = static_cast<char>('a' + (*rng)() % 26);
  return half + half;
}

// kPoolSize entries of the shape, keys strictly ascending.
std::vector<Entry> MakePool(Shape shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> keys;
  keys.reserve(kPoolSize);
  switch (shape) {
    case Shape::kSeq8x8:
      for (uint64_t j = 0; j < kPoolSize; ++j) keys.push_back(BigEndian64(j));
      break;
    case Shape::kRand8x8: {
      std::set<uint64_t> seen;
      while (seen.size() < kPoolSize) seen.insert(rng());
      for (uint64_t k : seen) keys.push_back(BigEndian64(k));
      break;
    }
    case Shape::kDb16x100:
      for (uint64_t j = 0; j < kPoolSize; ++j) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%016llu", static_cast<unsigned long long>(j));
        keys.emplace_back(buf, 16);
      }
      break;
  }
  std::vector<Entry> pool;
  pool.reserve(kPoolSize);
  for (size_t j = 0; j < keys.size(); ++j) {
    Entry e;
    e.key = keys[j];
    e.value = shape == Shape::kDb16x100 ? DbBenchValue(&rng)
              : shape == Shape::kSeq8x8 ? LittleEndian64(j)
                                        : LittleEndian64(rng());
    e.record = btree::EncodeLeafRecord(e.key, e.value);
    e.head = btree::KeyHead(e.key);
    pool.push_back(std::move(e));
  }
  return pool;
}

// Prints the seed with the benchmark context.
struct SeedContext {
  SeedContext() { benchmark::AddCustomContext("sombra_seed", std::to_string(Seed())); }
} const seed_context;

}  // namespace

uint64_t Seed() {
  static const uint64_t seed = [] {
    const char* env = std::getenv("SOMBRA_SEED");
    return env != nullptr && *env != '\0' ? std::strtoull(env, nullptr, 10) : kDefaultSeed;
  }();
  return seed;
}

btree::LeafLayout MakeEmptyLeaf(uint8_t* page, const btree::BTreeCounters* counters) {
  std::memset(page, 0, kPageSize);
  pager::InitPageHeader(page, pager::PageKind::kLeaf, kPageNo, kPageLsn);
  return btree::LeafLayout::InitEmpty(page, kPageSize, "", "", 0, 0, counters);
}

Leaf MakeLeaf(Shape shape, const btree::BTreeCounters* counters, size_t spare) {
  std::vector<Entry> pool = MakePool(shape, Seed() ^ static_cast<uint64_t>(shape));
  Leaf leaf;
  leaf.page.resize(kPageSize);
  leaf.snap = MakeEmptyLeaf(leaf.page.data(), counters);
  btree::LeafAllocator alloc(leaf.page.data(), &leaf.snap, nullptr);
  // Even pool entries go to the page while they fit; odd ones stay absent.
  size_t j = 0;
  for (; j < pool.size(); j += 2) {
    const Entry& e = pool[j];
    if (alloc.Insert(leaf.snap.size(), e.record, e.head, nullptr) != btree::EditResult::kApplied) {
      break;
    }
    leaf.entries.push_back(e);
  }
  for (size_t i = 0; i < spare && !leaf.entries.empty(); ++i) {
    alloc.Erase(leaf.snap.size() - 1);
    leaf.entries.pop_back();
  }
  const size_t n = leaf.entries.size();
  for (size_t i = 0; i + 1 < n; ++i) leaf.absent.push_back(pool[2 * i + 1]);
  for (size_t k = 2 * n; k < pool.size(); k += 2) leaf.after.push_back(pool[k]);
  return leaf;
}

std::vector<std::pair<uint32_t, uint32_t>> MergeRangesLikePager(
    const std::vector<std::pair<uint32_t, uint32_t>>& ranges) {
  std::vector<std::pair<uint32_t, uint32_t>> clipped;
  for (auto [offset, length] : ranges) {
    const uint32_t b = offset;
    const uint32_t e = offset + length;
    if (b < pager::kHeaderLsnOffset) {
      clipped.emplace_back(b, std::min<uint32_t>(e, pager::kHeaderLsnOffset));
    }
    if (e > pager::kPageHeaderSize) {
      clipped.emplace_back(std::max<uint32_t>(b, pager::kPageHeaderSize), e);
    }
  }
  std::sort(clipped.begin(), clipped.end());
  std::vector<std::pair<uint32_t, uint32_t>> merged;
  for (auto r : clipped) {
    if (r.first >= r.second) continue;
    if (!merged.empty() && r.first <= merged.back().second + kMergeGap) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

std::vector<uint8_t> RandomPage(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> page(kPageSize);
  for (size_t i = 0; i < page.size(); i += 8) EncodeFixed64(page.data() + i, rng());
  return page;
}

}  // namespace sombra::bench
