// Internal nodes: layout, search, edits and the byte ranges they report,
// Validate on damaged and arbitrary bytes, and SplitInternal.
#include "btree/internal_node.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "btree/slotted_page.h"
#include "testutil/seed.h"
#include "util/coding.h"
#include "util/metrics.h"

namespace sombra::btree {
namespace {

using namespace std::string_literals;

// Collects the ranges an edit reports.
class RecordingSink : public ChangeSink {
 public:
  void Changed(uint32_t offset, uint32_t length) override { ranges.emplace_back(offset, length); }
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
};

// Runs `edit(sink)` on `page`: every byte that differs afterwards must lie
// in a reported range, and every range inside the page.
template <typename Edit>
void ExpectRangesCover(std::vector<uint8_t>* page, Edit edit) {
  const std::vector<uint8_t> before = *page;
  RecordingSink sink;
  edit(&sink);
  std::vector<uint8_t> covered(page->size(), 0);
  for (auto [off, len] : sink.ranges) {
    ASSERT_LE(static_cast<uint64_t>(off) + len, page->size()) << "range " << off << "+" << len;
    std::memset(covered.data() + off, 1, len);
  }
  constexpr size_t kBlock = 64;
  for (size_t b = 0; b < page->size(); b += kBlock) {
    if (std::memcmp(before.data() + b, page->data() + b, kBlock) == 0) continue;
    for (size_t i = b; i < b + kBlock; ++i) {
      if (before[i] != (*page)[i]) {
        ASSERT_TRUE(covered[i]) << "byte " << i << " changed but was not reported";
      }
    }
  }
}

uint32_t RecordBytes(std::string_view key) {
  return static_cast<uint32_t>(VarintLength(key.size()) + key.size() + 4);
}

// The separators and children of a node, as a test model.
struct Model {
  uint32_t leftmost = 0;
  std::vector<std::pair<std::string, uint32_t>> seps;  // (key, right child)

  size_t ChildIndex(std::string_view key) const {
    size_t n = 0;
    while (n < seps.size() && seps[n].first <= key) ++n;
    return n;
  }
};

Model Read(const InternalNode& n) {
  Model m;
  m.leftmost = n.child(0);
  for (size_t i = 0; i < n.count(); ++i) m.seps.emplace_back(std::string(n.key(i)), n.child(i + 1));
  return m;
}

void ExpectMatches(const InternalNode& n, const Model& m) {
  ASSERT_EQ(n.count(), m.seps.size());
  ASSERT_EQ(n.child(0), m.leftmost);
  for (size_t i = 0; i < m.seps.size(); ++i) {
    ASSERT_EQ(n.key(i), m.seps[i].first) << "separator " << i;
    ASSERT_EQ(n.child(i + 1), m.seps[i].second) << "child " << i + 1;
  }
}

class InternalNodeTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  uint32_t ps() const { return GetParam(); }
  InternalNode Node(std::vector<uint8_t>* page, ChangeSink* sink = nullptr) {
    return InternalNode(page->data(), ps(), sink, c_);
  }
  // A node at `level` with leftmost child 100 and separators `keys`, the
  // child right of separator i being 101 + i.
  std::vector<uint8_t> Build(const std::vector<std::string>& keys, uint16_t level = 1) {
    std::vector<uint8_t> page(ps(), 0);
    InternalNode n = Node(&page);
    n.Init(level, 100);
    for (size_t i = 0; i < keys.size(); ++i) {
      EXPECT_TRUE(n.Insert(i, keys[i], static_cast<uint32_t>(101 + i))) << i;
    }
    return page;
  }
  uint64_t Count(const char* name) const {
    counters_.Flush();
    return metrics_.Value(name);
  }

  MetricsRegistry metrics_;
  BTreeCounters counters_{&metrics_};
  const BTreeCounters* c_ = &counters_;
};

INSTANTIATE_TEST_SUITE_P(PageSizes, InternalNodeTest, ::testing::Values(4096u, 65536u));

TEST_P(InternalNodeTest, InitWritesAnEmptyNode) {
  std::vector<uint8_t> page(ps(), 0xAB);
  ExpectRangesCover(&page, [&](ChangeSink* sink) { Node(&page, sink).Init(3, 77); });
  InternalNode n = Node(&page);
  EXPECT_EQ(page[pager::kHeaderKindOffset], static_cast<uint8_t>(pager::PageKind::kInternal));
  EXPECT_EQ(page[pager::kHeaderPageNoOffset], 0xAB) << "Init leaves the page number alone";
  EXPECT_EQ(n.level(), 3);
  EXPECT_EQ(n.count(), 0u);
  EXPECT_EQ(n.child(0), 77u);
  EXPECT_EQ(DecodeFixed32(page.data() + kLeftOffset), 0u);
  EXPECT_EQ(DecodeFixed16(page.data() + kLowFenceLenOffset), 0u);
  EXPECT_EQ(DecodeFixed16(page.data() + kHighFenceLenOffset), 0u);
  EXPECT_EQ(n.free_bytes(), ps() - kNodeHeaderEnd);
  EXPECT_EQ(n.used_bytes(), 0u);
  EXPECT_EQ(n.ChildIndex("anything"), 0u);
  Status s = n.Validate();  // one child: Validate wants >= 2
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("separator"), std::string::npos) << s.ToString();

  ASSERT_TRUE(n.Insert(0, "m", 78));
  EXPECT_TRUE(n.Validate().ok()) << n.Validate().ToString();
  EXPECT_EQ(n.key(0), "m");
  EXPECT_EQ(n.child(1), 78u);
  EXPECT_EQ(n.used_bytes(), RecordBytes("m") + kSlotSize);
  EXPECT_EQ(n.free_bytes() + n.used_bytes(), ps() - kNodeHeaderEnd);
}

TEST_P(InternalNodeTest, ChildIndexCountsSeparatorsAtOrBelowTheKey) {
  // Keys that share their 4-byte head, and short keys padded with zeros.
  const std::vector<std::string> keys = {"ab",    "ab\0"s,           "ab\0\0\0"s, "abc",
                                         "abcd",  "abcde",           "abcdf",     "b",
                                         "b\xff", "\xff\xff\xff\xff"};
  std::vector<uint8_t> page = Build(keys);
  InternalNode n = Node(&page);
  ASSERT_TRUE(n.Validate().ok()) << n.Validate().ToString();
  Model m = Read(n);
  std::vector<std::string> probes = {"",
                                     "a",
                                     "ab",
                                     "ab\0"s,
                                     "ab\0\0"s,
                                     "ab\0\0\0"s,
                                     "ab\0\0\0\0"s,
                                     "abb",
                                     "abc",
                                     "abc\0"s,
                                     "abcd",
                                     "abcdd",
                                     "abcde",
                                     "abcdez",
                                     "abcdf",
                                     "abcdg",
                                     "b",
                                     "b\0"s,
                                     "b\xff",
                                     "c",
                                     "\xff\xff\xff\xff",
                                     "\xff\xff\xff\xff\xff"};
  for (const std::string& k : keys) probes.push_back(k);
  for (const std::string& p : probes) {
    EXPECT_EQ(n.ChildIndex(p), m.ChildIndex(p)) << "probe of " << p.size() << " bytes";
  }
}

TEST_P(InternalNodeTest, ChildIndexComparesHeadsBeforeDecoding) {
  std::vector<std::string> keys;
  for (uint32_t i = 1; i <= 120; ++i) {
    std::string k(4, '\0');
    for (int b = 0; b < 4; ++b) k[b] = static_cast<char>((i * 1000) >> (24 - 8 * b));
    keys.push_back(k + "-suffix");
  }
  std::vector<uint8_t> page = Build(keys);
  InternalNode n = Node(&page);
  metrics_.ResetAll();
  // Heads differ from every separator's: no record is decoded.
  std::string probe(4, '\0');
  for (int b = 0; b < 4; ++b) probe[b] = static_cast<char>((77 * 1000 + 1) >> (24 - 8 * b));
  EXPECT_EQ(n.ChildIndex(probe), 77u);
  EXPECT_EQ(Count("key_decodes"), 0u);
  EXPECT_GE(Count("key_cmps"), 1u);
  EXPECT_LE(Count("key_cmps"), 7u);  // ceil(log2(121))
  // A tie on the head decodes that separator.
  metrics_.ResetAll();
  EXPECT_EQ(n.ChildIndex(keys[76]), 77u);
  EXPECT_GE(Count("key_decodes"), 1u);
  EXPECT_LE(Count("key_decodes"), Count("key_cmps"));
}

// Random inserts, erases, key and child changes against a model; every edit
// reports what it changed, the page validates after each, and an insert
// fails exactly when the free bytes do not suffice.
TEST_P(InternalNodeTest, RandomEditsMatchAModel) {
  const uint64_t seed = test::TestSeed();
  std::mt19937_64 rng(seed);
  const uint32_t max_key = MaxKeySize(ps());
  auto random_key = [&]() {
    size_t len;
    switch (rng() % 8) {
      case 0:
        len = rng() % (max_key + 1);
        break;
      case 1:
        len = rng() % 400;
        break;
      default:
        len = rng() % 12;
    }
    std::string k(len, '\0');
    const char alphabet[] = {'\0', 'a', 'b', 'c', '\xff'};
    for (char& ch : k) ch = alphabet[rng() % 5];
    return k;
  };
  std::vector<uint8_t> page(ps(), 0);
  Node(&page).Init(2, 5);
  Model m;
  m.leftmost = 5;
  const int ops = ps() == 4096 ? 6000 : 2500;
  uint64_t failed_inserts = 0;
  for (int op = 0; op < ops; ++op) {
    SCOPED_TRACE("op " + std::to_string(op) + ", seed " + std::to_string(seed));
    InternalNode n = Node(&page);
    const bool filling = (op / 500) % 2 == 0;
    const uint64_t r = rng() % 100;
    if (m.seps.empty() || r < (filling ? 60u : 30u)) {
      std::string k = random_key();
      size_t i = m.ChildIndex(k);
      if (i > 0 && m.seps[i - 1].first == k) continue;
      const uint32_t child = 2 + static_cast<uint32_t>(rng() % 1000000);
      const bool fits = k.size() <= max_key && n.free_bytes() >= RecordBytes(k) + kSlotSize;
      const std::vector<uint8_t> before = page;
      bool ok = false;
      ExpectRangesCover(&page,
                        [&](ChangeSink* sink) { ok = Node(&page, sink).Insert(i, k, child); });
      ASSERT_EQ(ok, fits) << "free " << n.free_bytes() << ", record " << RecordBytes(k);
      if (ok) {
        m.seps.insert(m.seps.begin() + static_cast<ptrdiff_t>(i), {k, child});
      } else {
        ASSERT_TRUE(page == before) << "a failed insert changed the page";
        ++failed_inserts;
      }
    } else if (r < 70) {
      const size_t i = rng() % m.seps.size();
      ExpectRangesCover(&page, [&](ChangeSink* sink) { Node(&page, sink).Erase(i); });
      m.seps.erase(m.seps.begin() + static_cast<ptrdiff_t>(i));
    } else if (r < 90) {
      // A new key that keeps the order.
      const size_t i = rng() % m.seps.size();
      std::string k;
      bool found = false;
      for (int t = 0; t < 30 && !found; ++t) {
        k = t == 0 ? m.seps[i].first + "\x01" : random_key();
        found = (i == 0 || m.seps[i - 1].first < k) &&
                (i + 1 == m.seps.size() || k < m.seps[i + 1].first);
      }
      if (!found) continue;
      const uint32_t old = RecordBytes(m.seps[i].first);
      // k may be one byte over MaxKeySize (the "\x01" candidate): refused.
      const bool fits =
          k.size() <= max_key && (RecordBytes(k) <= old || n.free_bytes() + old >= RecordBytes(k));
      const std::vector<uint8_t> before = page;
      bool ok = false;
      ExpectRangesCover(&page, [&](ChangeSink* sink) { ok = Node(&page, sink).SetKey(i, k); });
      ASSERT_EQ(ok, fits);
      if (ok) {
        m.seps[i].first = k;
      } else {
        ASSERT_TRUE(page == before) << "a failed SetKey changed the page";
      }
    } else {
      const size_t i = rng() % (m.seps.size() + 1);
      const uint32_t child = 2 + static_cast<uint32_t>(rng() % 1000000);
      ExpectRangesCover(&page, [&](ChangeSink* sink) { Node(&page, sink).SetChild(i, child); });
      (i == 0 ? m.leftmost : m.seps[i - 1].second) = child;
    }
    ASSERT_NO_FATAL_FAILURE(ExpectMatches(n, m));
    if (!m.seps.empty()) {
      ASSERT_TRUE(n.Validate().ok()) << n.Validate().ToString();
    }
    ASSERT_EQ(n.free_bytes() + n.used_bytes(), ps() - kNodeHeaderEnd);
    for (int p = 0; p < 3; ++p) {
      std::string k = random_key();
      ASSERT_EQ(n.ChildIndex(k), m.ChildIndex(k));
    }
  }
  EXPECT_GT(failed_inserts, 0u) << "the page never filled";
  EXPECT_GT(Count("allocator_compactions"), 0u) << "no insert needed a compaction";
}

// Regression (SOMBRA_SEED=14294973097830661843, 4 KiB): SetKey of a
// MaxKeySize separator + "\x01" wrote a 1025-byte separator, which
// Validate rejects (rule I7). Separators above MaxKeySize are refused.
TEST_P(InternalNodeTest, SeparatorsAboveMaxKeySizeAreRefused) {
  const uint32_t max_key = MaxKeySize(ps());
  const std::string longest(max_key, 'b');
  std::vector<uint8_t> page(ps(), 0);
  InternalNode n = Node(&page);
  n.Init(2, 5);
  ASSERT_TRUE(n.Insert(0, "a", 6));
  ASSERT_TRUE(n.Insert(1, longest, 7));
  ASSERT_TRUE(n.Validate().ok()) << n.Validate().ToString();

  const std::vector<uint8_t> before = page;
  EXPECT_FALSE(n.SetKey(1, longest + "\x01"));
  EXPECT_TRUE(page == before) << "a refused SetKey changed the page";
  EXPECT_FALSE(n.Insert(2, std::string(max_key + 1, 'c'), 8));
  EXPECT_TRUE(page == before) << "a refused Insert changed the page";
  EXPECT_TRUE(n.Validate().ok()) << n.Validate().ToString();

  // At the limit itself both still work.
  EXPECT_TRUE(n.SetKey(0, std::string(max_key, 'a')));
  EXPECT_TRUE(n.Insert(2, std::string(max_key, 'c'), 8));
  EXPECT_TRUE(n.Validate().ok()) << n.Validate().ToString();
  EXPECT_EQ(n.key(1), longest);
  EXPECT_EQ(n.child(3), 8u);
}

TEST_P(InternalNodeTest, FullPageRefusesAndErasedBytesAreReused) {
  const uint32_t max_key = MaxKeySize(ps());
  std::vector<std::string> keys;
  for (char ch = 'a'; ch < 'z'; ++ch) keys.push_back(std::string(max_key, ch));
  std::vector<uint8_t> page(ps(), 0);
  InternalNode n = Node(&page);
  n.Init(1, 2);
  size_t fitted = 0;
  while (n.Insert(fitted, keys[fitted], 3)) ++fitted;
  ASSERT_GE(fitted, 3u) << "a page holds at least three separators of the maximum size";
  EXPECT_LT(n.free_bytes(), RecordBytes(keys[0]) + kSlotSize);
  ASSERT_TRUE(n.Validate().ok()) << n.Validate().ToString();

  // Erasing a middle separator leaves a hole that the next insert takes.
  n.Erase(1);
  EXPECT_TRUE(n.Validate().ok()) << n.Validate().ToString();
  EXPECT_GE(DecodeFixed32(page.data() + kHoleBytesOffset), RecordBytes(keys[1]));
  const uint64_t compactions = Count("allocator_compactions");
  ASSERT_TRUE(n.Insert(1, keys[1], 4));
  EXPECT_EQ(Count("allocator_compactions"), compactions) << "the hole fits: no compaction";
  EXPECT_TRUE(n.Validate().ok()) << n.Validate().ToString();
  EXPECT_EQ(n.key(1), keys[1]);
  EXPECT_EQ(n.child(2), 4u);

  // Erasing the last record in address order shrinks the arena.
  const uint32_t free_start = DecodeFixed32(page.data() + kFreeStartOffset);
  n.Erase(fitted - 1);
  EXPECT_LT(DecodeFixed32(page.data() + kFreeStartOffset), free_start);
  EXPECT_TRUE(n.Validate().ok()) << n.Validate().ToString();
}

TEST_P(InternalNodeTest, SetKeyGrowsThroughCompactionOrFailsUntouched) {
  // Records of 100-byte keys with every other one erased: the holes are
  // too small alone, together they fit a bigger key.
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i)
    keys.push_back(std::string(1, static_cast<char>('a' + i)) + std::string(99, 'x'));
  std::vector<uint8_t> page = Build(keys);
  InternalNode n = Node(&page);
  // Fill the gap so growth cannot use it.
  size_t filler = 0;
  while (n.Insert(n.count(), "z" + std::to_string(100000 + filler) + std::string(60, 'f'), 9))
    ++filler;
  for (int i = 18; i >= 2; i -= 2) n.Erase(static_cast<size_t>(i));
  ASSERT_TRUE(n.Validate().ok()) << n.Validate().ToString();
  Model m = Read(n);
  const uint32_t gap =
      DecodeFixed32(page.data() + kFreeEndOffset) - DecodeFixed32(page.data() + kFreeStartOffset);
  const std::string bigger = "a" + std::string(150, 'y');  // still below "b..."
  ASSERT_LT(gap, RecordBytes(bigger));
  const uint64_t compactions = Count("allocator_compactions");
  ExpectRangesCover(&page,
                    [&](ChangeSink* sink) { ASSERT_TRUE(Node(&page, sink).SetKey(0, bigger)); });
  EXPECT_EQ(Count("allocator_compactions"), compactions + 1);
  EXPECT_GT(Count("allocator_bytes_moved"), 0u);
  ASSERT_TRUE(n.Validate().ok()) << n.Validate().ToString();
  m.seps[0].first = bigger;
  ExpectMatches(n, m);
  EXPECT_EQ(DecodeFixed32(page.data() + kHoleBytesOffset), 0u);

  // Too big even after compaction: false, nothing changed.
  const std::string huge = "a" + std::string(n.free_bytes() + RecordBytes(bigger), 'y');
  const std::vector<uint8_t> before = page;
  EXPECT_FALSE(n.SetKey(0, huge));
  EXPECT_TRUE(page == before);
  // Shrinking is always in place.
  ASSERT_TRUE(n.SetKey(0, "a"));
  m.seps[0].first = "a";
  ExpectMatches(n, m);
  EXPECT_TRUE(n.Validate().ok()) << n.Validate().ToString();
}

TEST_P(InternalNodeTest, KeysThatPointIntoThePageAreCopiedFirst) {
  std::vector<uint8_t> page = Build({"abcdef", "b", "c"});
  InternalNode n = Node(&page);
  ASSERT_TRUE(n.SetKey(0, n.key(0).substr(0, 3)));  // "abc", from its own bytes
  EXPECT_EQ(n.key(0), "abc");
  ASSERT_TRUE(n.Insert(0, n.key(0).substr(0, 2), 8));  // "ab" < "abc"
  EXPECT_TRUE(n.Validate().ok()) << n.Validate().ToString();
  EXPECT_EQ(n.key(0), "ab");
  EXPECT_EQ(n.key(1), "abc");
  EXPECT_EQ(n.child(1), 8u);
  EXPECT_EQ(n.child(2), 101u);
}

TEST_P(InternalNodeTest, ValidateNamesTheBrokenRule) {
  std::vector<uint8_t> good = Build({"apple", "banana", "cherry", "damson"});
  ASSERT_TRUE(Node(&good).Validate().ok()) << Node(&good).Validate().ToString();
  const uint32_t free_end = DecodeFixed32(good.data() + kFreeEndOffset);
  auto slot = [&](size_t i) { return SlotAt(ps(), i); };

  struct Damage {
    const char* expect;
    std::function<void(uint8_t*)> apply;
    const char* rule = "";
  };
  const std::vector<Damage> damages = {
      {"page kind is leaf", [](uint8_t* p) { p[0] = static_cast<uint8_t>(pager::PageKind::kLeaf); },
       "(rule I1)"},
      {"level is 0", [](uint8_t* p) { EncodeFixed16(p + kLevelOffset, 0); }, "(rule I1)"},
      {"fence length is 3", [](uint8_t* p) { EncodeFixed16(p + kHighFenceLenOffset, 3); },
       "(rule I2)"},
      {"left link is 9", [](uint8_t* p) { EncodeFixed32(p + kLeftOffset, 9); }, "(rule I2)"},
      {"no separator", [](uint8_t* p) { EncodeFixed16(p + kSlotCountOffset, 0); }, "(rule I3)"},
      {"free_end", [](uint8_t* p) { EncodeFixed16(p + kSlotCountOffset, 5); }, "(rule I4)"},
      {"free_end", [](uint8_t* p) { EncodeFixed16(p + kSlotCountOffset, 0xFFFF); }, "(rule I4)"},
      {"free_start", [&](uint8_t* p) { EncodeFixed32(p + kFreeStartOffset, free_end + 1); },
       "(rule I5)"},
      {"free_start", [](uint8_t* p) { EncodeFixed32(p + kFreeStartOffset, 10); }, "(rule I5)"},
      {"leftmost child", [](uint8_t* p) { EncodeFixed32(p + kRightOffset, 1); }, "(rule I6)"},
      {"does not lie in the arena", [&](uint8_t* p) { EncodeFixed16(p + slot(1), 40); },
       "(rule I7)"},
      // "damson", the last record, states a 127-byte key: past free_start.
      {"does not lie in the arena", [&](uint8_t* p) { p[DecodeSlotOffset(p + slot(3))] = 0x7f; },
       "(rule I7)"},
      // "cherry"'s key length in two bytes (0x86 0x00): not the shortest form.
      {"not a key length",
       [&](uint8_t* p) {
         const uint32_t off = DecodeSlotOffset(p + slot(2));
         p[off] = 0x86;
         p[off + 1] = 0x00;
       },
       "(rule I7)"},
      {"key head", [&](uint8_t* p) { EncodeFixed32(p + slot(0) + kSlotHeadField, 12345); },
       "(rule I8)"},
      {"child is page",
       [&](uint8_t* p) {
         const uint32_t off = DecodeSlotOffset(p + slot(1));
         EncodeFixed32(p + off + RecordBytes("banana") - 4, 0);
       },
       "(rule I6)"},
      {"not above",
       [&](uint8_t* p) {
         uint8_t tmp[kSlotSize];
         std::memcpy(tmp, p + slot(1), kSlotSize);
         std::memcpy(p + slot(1), p + slot(2), kSlotSize);
         std::memcpy(p + slot(2), tmp, kSlotSize);
       },
       "(rule I9)"},
      {"hole_bytes", [](uint8_t* p) { EncodeFixed32(p + kHoleBytesOffset, 1); }, "(rule I11)"},
  };
  for (const Damage& d : damages) {
    std::vector<uint8_t> page = good;
    d.apply(page.data());
    Status s = Node(&page).Validate();
    EXPECT_TRUE(s.IsCorruption()) << d.expect << ": " << s.ToString();
    EXPECT_NE(s.message().find(d.expect), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find(d.rule), std::string::npos) << s.ToString();
  }

  // Overlapping records that each decode: record 0's key holds the bytes of
  // a record for "b" (varint 1, 'b', child 5).
  std::vector<uint8_t> page =
      Build({"\x01"
             "b\x05\x00\x00\x00"s,
             "b"});
  ASSERT_TRUE(Node(&page).Validate().ok()) << Node(&page).Validate().ToString();
  EncodeFixed16(page.data() + SlotAt(ps(), 1), static_cast<uint16_t>(kNodeHeaderEnd + 1));
  Status s = Node(&page).Validate();
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("overlap (rule I10)"), std::string::npos) << s.ToString();

  // A separator longer than MaxKeySize (written by hand: Insert refuses it).
  {
    const std::string big(MaxKeySize(ps()) + 1, 'k');
    page = Build({"k"});
    const uint32_t len = RecordBytes(big);
    uint8_t* p = EncodeVarint32(page.data() + kNodeHeaderEnd, static_cast<uint32_t>(big.size()));
    std::memcpy(p, big.data(), big.size());
    EncodeFixed32(p + big.size(), 101);
    EncodeFixed32(page.data() + SlotAt(ps(), 0) + kSlotHeadField, KeyHead(big));
    EncodeFixed32(page.data() + kFreeStartOffset, kNodeHeaderEnd + len);
  }
  s = Node(&page).Validate();
  EXPECT_NE(s.message().find("above the limit"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("(rule I7)"), std::string::npos) << s.ToString();

  // The page number is named.
  page = good;
  EncodeFixed32(page.data() + pager::kHeaderPageNoOffset, 4242);
  EncodeFixed16(page.data() + kLevelOffset, 0);
  EXPECT_NE(Node(&page).Validate().message().find("4242"), std::string::npos);
}

// Validate on arbitrary and on damaged pages: it never reads outside the
// page (run under ASan), and what it accepts is safe to search.
TEST_P(InternalNodeTest, ValidateSurvivesArbitraryBytes) {
  const uint64_t seed = test::TestSeed();
  std::mt19937_64 rng(seed);
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i)
    keys.push_back("key" + std::to_string(1000 + i * 7) + std::string(i % 5, 'x'));
  const std::vector<uint8_t> good = Build(keys);
  const uint32_t free_end = DecodeFixed32(good.data() + kFreeEndOffset);
  int accepted = 0;
  const int iterations = ps() == 4096 ? 8000 : 1000;
  for (int it = 0; it < iterations; ++it) {
    std::vector<uint8_t> page;
    if (it % 4 == 0) {
      page.resize(ps());
      for (auto& b : page) b = static_cast<uint8_t>(rng());
      page[0] = static_cast<uint8_t>(pager::PageKind::kInternal);
      if (rng() % 2) EncodeFixed16(page.data() + kLevelOffset, 1);
      if (rng() % 2) {
        EncodeFixed32(page.data() + kLowFenceLenOffset, 0);
        EncodeFixed32(page.data() + kLeftOffset, 0);
      }
      if (rng() % 2) {
        const uint32_t count = static_cast<uint32_t>(rng() % 8);
        EncodeFixed16(page.data() + kSlotCountOffset, static_cast<uint16_t>(count));
        EncodeFixed32(page.data() + kFreeEndOffset, ps() - kSlotSize * count);
      }
    } else {
      page = good;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        uint32_t at;
        switch (rng() % 3) {
          case 0:
            at = static_cast<uint32_t>(rng() % kNodeHeaderEnd);
            break;
          case 1:
            at = free_end + static_cast<uint32_t>(rng() % (ps() - free_end));
            break;
          default:
            at = static_cast<uint32_t>(rng() % ps());
        }
        page[at] = static_cast<uint8_t>(rng());
      }
    }
    InternalNode n = Node(&page);
    Status s = n.Validate();
    if (!s.ok()) {
      ASSERT_TRUE(s.IsCorruption()) << s.ToString();
      ASSERT_FALSE(s.message().empty());
      continue;
    }
    ++accepted;
    for (size_t i = 1; i < n.count(); ++i) ASSERT_LT(n.key(i - 1), n.key(i));
    for (size_t i = 0; i <= n.count(); ++i) ASSERT_GE(n.child(i), pager::kFirstDataPage);
    (void)n.ChildIndex(keys[rng() % keys.size()]);
  }
  EXPECT_GT(accepted, 0) << "seed " << seed;
}

// Splits of full nodes at every insert position: order, children, levels,
// the separator that goes up, and balance by bytes.
TEST_P(InternalNodeTest, SplitKeepsEverySeparatorAndChild) {
  const uint64_t seed = test::TestSeed();
  std::mt19937_64 rng(seed);
  const bool small = ps() == 4096;
  for (int trial = 0; trial < (small ? 30 : 6); ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial) + ", seed " + std::to_string(seed));
    const uint32_t max_len =
        trial % 3 == 0 ? MaxKeySize(ps()) : (small ? 1 + trial * 7 : 40 + trial * 60);
    std::vector<uint8_t> src(ps(), 0);
    InternalNode n = Node(&src);
    n.Init(3, 50);
    Model m;
    m.leftmost = 50;
    std::string key;
    uint32_t child = 0;
    for (;;) {  // fill until an insert fails
      std::string k(1 + rng() % max_len, '\0');
      for (char& ch : k) ch = static_cast<char>('a' + rng() % 26);
      size_t i = m.ChildIndex(k);
      if (i > 0 && m.seps[i - 1].first == k) continue;
      child = 1000 + static_cast<uint32_t>(rng() % 100000);
      if (!n.Insert(i, k, child)) {
        key = k;
        break;
      }
      m.seps.insert(m.seps.begin() + static_cast<ptrdiff_t>(i), {k, child});
    }
    ASSERT_TRUE(n.Validate().ok()) << n.Validate().ToString();
    const size_t at = m.ChildIndex(key);
    Model all = m;
    all.seps.insert(all.seps.begin() + static_cast<ptrdiff_t>(at), {key, child});

    std::vector<uint8_t> left(ps(), 0), right(ps(), 0);
    EncodeFixed32(left.data() + pager::kHeaderPageNoOffset, 7);
    const std::string up =
        SplitInternal(src.data(), ps(), at, key, child, left.data(), right.data(), c_);
    InternalNode l = Node(&left), r = Node(&right);
    ASSERT_TRUE(l.Validate().ok()) << l.Validate().ToString();
    ASSERT_TRUE(r.Validate().ok()) << r.Validate().ToString();
    EXPECT_EQ(DecodeFixed32(left.data() + pager::kHeaderPageNoOffset), 7u);
    EXPECT_EQ(l.level(), 3);
    EXPECT_EQ(r.level(), 3);
    EXPECT_EQ(l.child(0), 50u);
    // left ++ [up] ++ right is everything, in order, with the children.
    const size_t mid = l.count();
    ASSERT_EQ(l.count() + 1 + r.count(), all.seps.size());
    EXPECT_EQ(up, all.seps[mid].first);
    EXPECT_EQ(r.child(0), all.seps[mid].second);
    Model lm = Read(l), rm = Read(r);
    for (size_t i = 0; i < lm.seps.size(); ++i) EXPECT_EQ(lm.seps[i], all.seps[i]);
    for (size_t i = 0; i < rm.seps.size(); ++i) EXPECT_EQ(rm.seps[i], all.seps[mid + 1 + i]);
    // The middle by bytes: moving the cut one step either way would not
    // make the larger side smaller.
    auto cost = [&](size_t i) { return RecordBytes(all.seps[i].first) + kSlotSize; };
    uint64_t lb = l.used_bytes(), rb = r.used_bytes();
    const uint64_t larger = std::max(lb, rb);
    if (mid >= 2) {
      EXPECT_GE(std::max<uint64_t>(lb - cost(mid - 1), rb + cost(mid)), larger);
    }
    if (mid + 2 < all.seps.size()) {
      EXPECT_GE(std::max<uint64_t>(lb + cost(mid), rb - cost(mid + 1)), larger);
    }
  }

  // The inserted separator lands first, last, and goes up itself.
  std::vector<std::string> keys;
  for (int i = 0; i < 9; ++i) keys.push_back(std::string(1, static_cast<char>('b' + 2 * i)));
  const std::vector<uint8_t> src = Build(keys, 2);
  for (const std::string& k : {"a"s, "k"s, "i"s, "z"s}) {
    const size_t at =
        static_cast<size_t>(std::upper_bound(keys.begin(), keys.end(), k) - keys.begin());
    std::vector<uint8_t> left(ps(), 0), right(ps(), 0);
    const std::string up =
        SplitInternal(src.data(), ps(), at, k, 999, left.data(), right.data(), c_);
    InternalNode l = Node(&left), r = Node(&right);
    ASSERT_TRUE(l.Validate().ok()) << k << ": " << l.Validate().ToString();
    ASSERT_TRUE(r.Validate().ok()) << k << ": " << r.Validate().ToString();
    std::vector<std::string> seen;
    for (size_t i = 0; i < l.count(); ++i) seen.emplace_back(l.key(i));
    seen.push_back(up);
    for (size_t i = 0; i < r.count(); ++i) seen.emplace_back(r.key(i));
    std::vector<std::string> want = keys;
    want.insert(want.begin() + static_cast<ptrdiff_t>(at), k);
    EXPECT_EQ(seen, want) << k;
    EXPECT_EQ(l.level(), 2);
    EXPECT_EQ(r.level(), 2);
  }
}

TEST_P(InternalNodeTest, SplitOfTwoAndThreeSeparators) {
  // Three in all: one each side, the middle goes up.
  std::vector<uint8_t> src = Build({"b", "d"});
  std::vector<uint8_t> left(ps(), 0), right(ps(), 0);
  std::string up = SplitInternal(src.data(), ps(), 1, "c", 500, left.data(), right.data(), c_);
  InternalNode l = Node(&left), r = Node(&right);
  EXPECT_EQ(up, "c");
  ASSERT_EQ(l.count(), 1u);
  ASSERT_EQ(r.count(), 1u);
  EXPECT_EQ(l.key(0), "b");
  EXPECT_EQ(l.child(0), 100u);
  EXPECT_EQ(l.child(1), 101u);
  EXPECT_EQ(r.child(0), 500u);
  EXPECT_EQ(r.key(0), "d");
  EXPECT_EQ(r.child(1), 102u);
  EXPECT_TRUE(l.Validate().ok());
  EXPECT_TRUE(r.Validate().ok());

  // Two in all: left keeps one separator, the second goes up, and right is
  // a single child (the documented degenerate case).
  src = Build({"m"});
  std::fill(left.begin(), left.end(), 0);
  std::fill(right.begin(), right.end(), 0);
  up = SplitInternal(src.data(), ps(), 1, "q", 600, left.data(), right.data(), c_);
  EXPECT_EQ(up, "q");
  ASSERT_EQ(l.count(), 1u);
  EXPECT_EQ(l.key(0), "m");
  EXPECT_EQ(l.child(0), 100u);
  EXPECT_EQ(l.child(1), 101u);
  EXPECT_EQ(r.count(), 0u);
  EXPECT_EQ(r.child(0), 600u);
  EXPECT_EQ(right[pager::kHeaderKindOffset], static_cast<uint8_t>(pager::PageKind::kInternal));
  EXPECT_EQ(r.level(), 1);
}

}  // namespace
}  // namespace sombra::btree
