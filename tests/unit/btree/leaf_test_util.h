// Helpers for the leaf page tests: counters, a recording ChangeSink, page
// buffers, random keys and a reader of a page's records.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "btree/btree_counters.h"
#include "btree/leaf_allocator.h"
#include "util/coding.h"
#include "util/metrics.h"

namespace sombra::btree::test {

struct TestCounters {
  MetricsRegistry registry;
  BTreeCounters counters{&registry};
  const BTreeCounters* c = &counters;
  // Flushes the tallies first: what the registry holds after the work.
  uint64_t Value(const char* name) const {
    counters.Flush();
    return registry.Value(name);
  }
};

// Remembers every range an edit reports.
class RecordingSink : public ChangeSink {
 public:
  void Changed(uint32_t offset, uint32_t length) override { ranges.emplace_back(offset, length); }
  void Clear() { ranges.clear(); }
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
};

// A page buffer of exactly page_size bytes on the heap (so ASan catches a
// read or write past its end), filled with a non-zero pattern.
inline std::vector<uint8_t> NewPage(uint32_t page_size, uint8_t fill = 0xA5) {
  return std::vector<uint8_t>(page_size, fill);
}

// Every byte that differs between `before` and `after` lies inside a range
// the sink reported, and every range lies inside the page.
inline ::testing::AssertionResult SinkCovers(const std::vector<uint8_t>& before,
                                             const std::vector<uint8_t>& after,
                                             const RecordingSink& sink) {
  const size_t n = after.size();
  std::vector<uint8_t> covered(n, 0);
  for (const auto& [off, len] : sink.ranges) {
    if (uint64_t{off} + len > n) {
      return ::testing::AssertionFailure()
             << "range [" << off << ", +" << len << ") passes the page end";
    }
    std::memset(covered.data() + off, 1, len);
  }
  const uint8_t* b = before.data();
  const uint8_t* a = after.data();
  const uint8_t* c = covered.data();
  for (size_t i = 0; i < n; ++i) {
    if (b[i] != a[i] && c[i] == 0) {
      return ::testing::AssertionFailure() << "byte " << i << " changed but was not reported";
    }
  }
  return ::testing::AssertionSuccess();
}

using Model = std::map<std::string, std::string>;

// (key, value) of every record in slot order; overflow values are returned
// as their 12 reference bytes.
inline std::vector<std::pair<std::string, std::string>> PageRecords(const uint8_t* page,
                                                                    const LeafLayout& snap) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < snap.size(); ++i) {
    LeafRecordRef r = snap.Record(page, i);
    out.emplace_back(std::string(r.key), std::string(r.value));
  }
  return out;
}

inline std::vector<std::pair<std::string, std::string>> ModelRecords(const Model& m) {
  return std::vector<std::pair<std::string, std::string>>(m.begin(), m.end());
}

// A key of length [min_len, max_len] over a small alphabet (so keys share
// prefixes and key heads often tie).
inline std::string RandomKey(std::mt19937_64& rng, size_t min_len, size_t max_len,
                             int alphabet = 4) {
  const size_t len = min_len + rng() % (max_len - min_len + 1);
  std::string k(len, 'a');
  for (char& c : k) c = static_cast<char>('a' + rng() % alphabet);
  return k;
}

inline std::string RandomBytes(std::mt19937_64& rng, size_t len) {
  std::string s(len, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// A RecordSource over encoded records.
class VectorSource : public RecordSource {
 public:
  explicit VectorSource(std::vector<std::string_view> records) : records_(std::move(records)) {}
  bool Next(std::string_view* record, uint32_t* head) override {
    if (i_ == records_.size()) return false;
    *record = records_[i_++];
    LeafRecordRef r;
    EXPECT_TRUE(
        DecodeLeafRecord(reinterpret_cast<const uint8_t*>(record->data()), record->size(), &r));
    *head = KeyHead(r.key);
    return true;
  }

 private:
  std::vector<std::string_view> records_;
  size_t i_ = 0;
};

// A (key, value) whose leaf record is exactly `size` bytes. The key is
// `key`, padded with 'x' when the varint lengths make `size` unreachable.
inline std::pair<std::string, std::string> KeyValueOfSize(std::string key, size_t size) {
  for (int pad = 0; pad < 3; ++pad, key += 'x') {
    for (size_t v = 0; v + key.size() + 2 <= size; ++v) {
      const size_t n = VarintLength(key.size()) + VarintLength(v << 1) + key.size() + v;
      if (n == size) return {key, std::string(v, 'v')};
      if (n > size) break;
    }
  }
  ADD_FAILURE() << "no record of " << size << " bytes";
  return {key, ""};
}

// A leaf page holding `records` (inserted in key order through the
// allocator), with the given fences and siblings 0 / 0.
inline LeafLayout BuildLeaf(std::vector<uint8_t>* page, std::string_view low, std::string_view high,
                            const Model& records, const BTreeCounters* c) {
  LeafLayout snap =
      LeafLayout::InitEmpty(page->data(), static_cast<uint32_t>(page->size()), low, high, 0, 0, c);
  LeafAllocator alloc(page->data(), &snap, nullptr);
  for (const auto& [k, v] : records) {
    PendingInsert pending;
    EXPECT_EQ(alloc.Insert(snap.size(), EncodeLeafRecord(k, v), KeyHead(k), &pending),
              EditResult::kApplied)
        << k;
  }
  return snap;
}

}  // namespace sombra::btree::test
