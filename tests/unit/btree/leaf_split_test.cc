// SplitOffRight, SplitKeepLeft, ChooseSplit, SplitFits and RebuildFromRecords: where the
// pending record lands, fences and shortest separators, sibling links,
// exact layouts, fill factors of sequential loads, balance of middle
// splits, and cuts near the size limits. Random cases are seeded from
// sombra::test::TestSeed(); replay with SOMBRA_SEED.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "btree/leaf_allocator.h"
#include "btree/node_format.h"
#include "leaf_test_util.h"
#include "testutil/seed.h"
#include "util/coding.h"

namespace sombra::btree {
namespace {

using test::Model;
using Records = std::vector<std::pair<std::string, std::string>>;

constexpr uint32_t kLeftNo = 20;
constexpr uint32_t kRightNo = 21;
constexpr uint32_t kSrcLeft = 11;
constexpr uint32_t kSrcRight = 12;

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "k%04d", i);
  return buf;
}

struct Source {
  std::vector<uint8_t> page;
  LeafLayout snap;
};

Source MakeSource(uint32_t ps, std::string_view low, std::string_view high, const Model& m,
                  const BTreeCounters* c) {
  Source s;
  s.page = test::NewPage(ps);
  s.snap = test::BuildLeaf(&s.page, low, high, m, c);
  LeafAllocator a(s.page.data(), &s.snap, nullptr);
  a.SetSiblings(kSrcLeft, kSrcRight);
  return s;
}

PendingInsert MakePending(const Source& s, const std::string& key, const std::string& value) {
  PendingInsert p;
  bool exact = false;
  p.slot_index = s.snap.LowerBound(s.page.data(), key, &exact);
  p.replace = exact;
  p.record = EncodeLeafRecord(key, value);
  p.head = KeyHead(key);
  return p;
}

// The exact layout a fresh leaf with these records must have.
void CheckFresh(const std::vector<uint8_t>& page, const LeafLayout& snap,
                const test::TestCounters& tc) {
  ASSERT_TRUE(snap.Matches(page.data()));
  Result<LeafLayout> r = LeafLayout::Parse(page.data(), static_cast<uint32_t>(page.size()), tc.c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  uint32_t bytes = 0;
  for (size_t i = 0; i < snap.size(); ++i) bytes += snap.slot(i).length;
  EXPECT_EQ(snap.arena_start(), kFencesOffset + snap.low_fence(page.data()).size() +
                                    snap.high_fence(page.data()).size());
  EXPECT_EQ(snap.free_start(), snap.arena_start() + bytes);
  EXPECT_EQ(snap.free_end(), page.size() - kSlotSize * snap.size());
  EXPECT_EQ(snap.hole_bytes(), 0u);
  EXPECT_EQ(page[0], 3);
  // Records in key order from the arena start.
  uint32_t at = snap.arena_start();
  for (size_t i = 0; i < snap.size(); ++i) {
    EXPECT_EQ(snap.slot(i).offset, at);
    at += snap.slot(i).length;
  }
  // The gap is zeroed.
  for (uint32_t i = snap.free_start(); i < snap.free_end(); ++i) ASSERT_EQ(page[i], 0) << i;
}

// Splits at k as BTreeWriter::SplitLeaf does - SplitOffRight streams the
// records right of the cut into a fresh page, then SplitKeepLeft edits a
// copy of the source in place - and checks everything the two promise;
// returns the output (the left page and its layout through the pointers).
SplitOutput CheckSplit(const Source& s, const PendingInsert& pending, size_t k,
                       const Records& expected, test::TestCounters& tc,
                       std::vector<uint8_t>* left_out = nullptr,
                       std::vector<uint8_t>* right_out = nullptr,
                       LeafLayout* left_snap_out = nullptr) {
  const uint32_t ps = s.snap.page_size();
  std::vector<uint8_t> left = s.page;  // the split page, edited in place
  LeafLayout left_snap = s.snap;
  std::vector<uint8_t> right = test::NewPage(ps, 0x5A);
  const uint64_t builds = tc.Value("allocator_builds");
  const uint64_t decodes = tc.Value("key_decodes");
  const uint64_t copies = tc.Value("memcopy_bytes");
  EXPECT_TRUE(SplitFits(left.data(), left_snap, pending, k));
  const uint64_t decodes_fit = tc.Value("key_decodes");
  SplitOutput out = SplitOffRight(left.data(), left_snap, pending, k, right.data(), kLeftNo);
  EXPECT_EQ(tc.Value("allocator_builds"), builds + 1);  // the new right page
  EXPECT_EQ(tc.Value("key_decodes"), decodes_fit + 2) << "only the two keys around the cut";
  EXPECT_LE(decodes_fit - decodes, 2u);
  uint64_t right_bytes = 0;
  for (size_t j = k; j < expected.size(); ++j) {
    right_bytes += EncodeLeafRecord(expected[j].first, expected[j].second).size();  // inline
  }
  EXPECT_EQ(tc.Value("memcopy_bytes"), copies + right_bytes);
  EXPECT_EQ(left, s.page) << "SplitOffRight changed the split page";

  const bool kept =
      SplitKeepLeft(left.data(), &left_snap, pending, k, out.separator, kRightNo, nullptr);
  EXPECT_TRUE(kept);
  if (!kept) return out;
  CheckFresh(right, out.right, tc);
  // The left page kept its records where they were: it parses, its layout
  // describes it, and the slots that went right left holes.
  EXPECT_TRUE(left_snap.Matches(left.data()));
  Result<LeafLayout> reparsed = LeafLayout::Parse(left.data(), ps, tc.c);
  EXPECT_TRUE(reparsed.ok()) << reparsed.status().ToString();
  const Records l = test::PageRecords(left.data(), left_snap);
  const Records r = test::PageRecords(right.data(), out.right);
  EXPECT_EQ(l.size(), k);
  Records all = l;
  all.insert(all.end(), r.begin(), r.end());
  EXPECT_EQ(all, expected);
  if (l.empty() || r.empty()) {
    ADD_FAILURE() << "empty side";
    return out;
  }
  EXPECT_EQ(out.separator, ShortestSeparator(l.back().first, r.front().first));
  EXPECT_LT(l.back().first, out.separator);
  EXPECT_LE(out.separator, r.front().first);
  EXPECT_EQ(left_snap.low_fence(left.data()), s.snap.low_fence(s.page.data()));
  EXPECT_EQ(left_snap.high_fence(left.data()), out.separator);
  EXPECT_EQ(out.right.low_fence(right.data()), out.separator);
  EXPECT_EQ(out.right.high_fence(right.data()), s.snap.high_fence(s.page.data()));
  EXPECT_EQ(DecodeFixed32(left.data() + kLeftOffset), DecodeFixed32(s.page.data() + kLeftOffset));
  EXPECT_EQ(DecodeFixed32(left.data() + kRightOffset), kRightNo);
  EXPECT_EQ(DecodeFixed32(right.data() + kLeftOffset), kLeftNo);
  EXPECT_EQ(DecodeFixed32(right.data() + kRightOffset),
            DecodeFixed32(s.page.data() + kRightOffset));
  // Page number, LSN and checksum are the pager's.
  EXPECT_TRUE(std::equal(left.begin() + 4, left.begin() + 24, s.page.begin() + 4));
  EXPECT_EQ(right[15], 0x5A);
  if (left_out != nullptr) *left_out = left;
  if (right_out != nullptr) *right_out = right;
  if (left_snap_out != nullptr) *left_snap_out = left_snap;
  return out;
}

Records WithPending(const Model& m, const std::string& key, const std::string& value) {
  Model copy = m;
  copy[key] = value;
  return test::ModelRecords(copy);
}

Model OddKeys(int n, size_t value_len) {
  Model m;
  for (int i = 0; i < n; ++i) m[Key(2 * i + 1)] = std::string(value_len, 'a' + i % 26);
  return m;
}

TEST(LeafSplitTest, PendingLeftRightAndAtTheCut) {
  test::TestCounters tc;
  const Model m = OddKeys(30, 100);
  const Source s = MakeSource(4096, "k0000", "k9", m, tc.c);
  ASSERT_EQ(DecodeFixed32(s.page.data() + kLeftOffset), kSrcLeft);
  ASSERT_EQ(DecodeFixed32(s.page.data() + kRightOffset), kSrcRight);
  const std::string key = Key(30);  // between k0029 and k0031: index 15
  const std::string value(150, 'P');
  const PendingInsert p = MakePending(s, key, value);
  ASSERT_EQ(p.slot_index, 15u);
  ASSERT_FALSE(p.replace);
  const Records expected = WithPending(m, key, value);
  for (size_t k : {20u, 10u, 15u, 16u, 1u, 30u}) {
    SCOPED_TRACE("cut " + std::to_string(k));
    CheckSplit(s, p, k, expected, tc);
  }
  // Pending first and last in key order.
  for (const std::string& edge : {std::string("k0000a"), Key(100)}) {
    const PendingInsert e = MakePending(s, edge, value);
    const Records exp = WithPending(m, edge, value);
    for (size_t k : {1u, 15u, 30u}) CheckSplit(s, e, k, exp, tc);
  }
}

TEST(LeafSplitTest, ReplacePending) {
  test::TestCounters tc;
  const Model m = OddKeys(20, 150);
  const Source s = MakeSource(4096, "", "", m, tc.c);
  const std::string key = Key(15);  // index 7
  const PendingInsert p = MakePending(s, key, std::string(900, 'R'));
  ASSERT_TRUE(p.replace);
  ASSERT_EQ(p.slot_index, 7u);
  const Records expected = WithPending(m, key, std::string(900, 'R'));
  ASSERT_EQ(expected.size(), 20u);
  for (size_t k : {7u, 8u, 3u, 12u}) CheckSplit(s, p, k, expected, tc);
  const size_t k = ChooseSplit(s.page.data(), s.snap, p, false);
  EXPECT_TRUE(SplitFits(s.page.data(), s.snap, p, k));
  CheckSplit(s, p, k, expected, tc);
}

TEST(LeafSplitTest, WithoutPendingRecord) {
  test::TestCounters tc;
  const Model m = OddKeys(25, 120);
  const Source s = MakeSource(4096, "a", "z", m, tc.c);
  const PendingInsert none;
  const size_t k = ChooseSplit(s.page.data(), s.snap, none, true);
  EXPECT_GE(k, 11u);
  EXPECT_LE(k, 14u);
  CheckSplit(s, none, k, test::ModelRecords(m), tc);
}

TEST(LeafSplitTest, ShortestSeparatorsForKeysOfDifferentLengths) {
  test::TestCounters tc;
  const std::string long_prefix(500, 'p');
  struct Case {
    std::string a, b, sep;
  } cases[] = {
      {"abc", "abcdef", "abcd"},
      {"apple", "banana", "b"},
      {"abcz", "abd", "abd"},
      {"a", "a\x01", std::string("a\x01")},
      {long_prefix + "a", long_prefix + "b", long_prefix + "b"},
      {long_prefix, long_prefix + "q" + std::string(100, 'r'), long_prefix + "q"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sep.substr(0, 20));
    Model m{{"", "x"}, {c.a, "left"}, {c.b, "right"}, {c.b + "zz", "x"}};
    const Source s = MakeSource(4096, "", "", m, tc.c);
    const PendingInsert none;
    const SplitOutput out = CheckSplit(s, none, 2, test::ModelRecords(m), tc);
    EXPECT_EQ(out.separator, c.sep);
  }
}

TEST(LeafSplitTest, SequentialAppendsFillLeftPages) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  for (uint32_t ps : {4096u, 8192u, 16384u}) {
    SCOPED_TRACE("page size " + std::to_string(ps));
    test::TestCounters tc;
    std::vector<uint8_t> page = test::NewPage(ps);
    LeafLayout snap = LeafLayout::InitEmpty(page.data(), ps, "", "", 0, 0, tc.c);
    int splits = 0;
    double min_fill = 1.0;
    for (int i = 0; i < 4000; ++i) {
      char key[24];
      std::snprintf(key, sizeof key, "user%08d", i);
      const std::string rec = EncodeLeafRecord(key, test::RandomBytes(rng, 20 + rng() % 180));
      LeafAllocator a(page.data(), &snap, nullptr);
      PendingInsert p;
      if (a.Insert(snap.size(), rec, KeyHead(key), &p) == EditResult::kApplied) continue;
      const size_t k = ChooseSplit(page.data(), snap, p, /*rightmost=*/true);
      ASSERT_TRUE(SplitFits(page.data(), snap, p, k));
      EXPECT_GE(k, snap.size() - 1) << "at most one page record moves right";
      std::vector<uint8_t> right = test::NewPage(ps);
      SplitOutput out = SplitOffRight(page.data(), snap, p, k, right.data(), 2);
      ASSERT_TRUE(SplitKeepLeft(page.data(), &snap, p, k, out.separator, 3, nullptr));
      ASSERT_TRUE(snap.Matches(page.data()));
      ASSERT_TRUE(out.right.Matches(right.data()));
      const double fill = double(snap.used_bytes()) / (ps - snap.arena_start());
      min_fill = std::min(min_fill, fill);
      EXPECT_GE(fill, 0.90);
      ++splits;
      page = right;
      snap = out.right;
    }
    EXPECT_GT(splits, 10);
    std::printf("page %u: %d splits, lowest left fill %.3f\n", ps, splits, min_fill);
  }
}

TEST(LeafSplitTest, MiddleSplitsBalancedByBytes) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  for (int iter = 0; iter < 200; ++iter) {
    test::TestCounters tc;
    Model m;
    Source s;
    s.page = test::NewPage(4096);
    s.snap = LeafLayout::InitEmpty(s.page.data(), 4096, "", "", 0, 0, tc.c);
    // Fill with random records until an insert fails.
    PendingInsert p;
    std::string pkey, pvalue;
    for (;;) {
      const std::string key = test::RandomKey(rng, 1, 16, 8);
      const std::string value = test::RandomBytes(rng, rng() % 300);
      if (m.count(key)) continue;
      LeafAllocator a(s.page.data(), &s.snap, nullptr);
      const size_t idx = s.snap.LowerBound(s.page.data(), key, nullptr);
      if (a.Insert(idx, EncodeLeafRecord(key, value), KeyHead(key), &p) ==
          EditResult::kNotApplied) {
        pkey = key;
        pvalue = value;
        break;
      }
      m[key] = value;
    }
    const bool rightmost = rng() % 2 == 0;  // only matters at the right edge
    if (rightmost && p.slot_index == s.snap.size()) continue;
    const size_t k = ChooseSplit(s.page.data(), s.snap, p, rightmost);
    const Records expected = WithPending(m, pkey, pvalue);
    std::vector<uint64_t> item;
    for (const auto& [key, value] : expected)
      item.push_back(EncodeLeafRecord(key, value).size() + kSlotSize);
    auto imbalance = [&](size_t cut) {
      uint64_t l = 0, r = 0;
      for (size_t j = 0; j < item.size(); ++j) (j < cut ? l : r) += item[j];
      return l > r ? l - r : r - l;
    };
    uint64_t best = UINT64_MAX;
    for (size_t c = 1; c < item.size(); ++c) best = std::min(best, imbalance(c));
    EXPECT_EQ(imbalance(k), best);
    EXPECT_LE(imbalance(k), *std::max_element(item.begin(), item.end()));
    CheckSplit(s, p, k, expected, tc);
    if (HasFailure()) FAIL() << "iteration " << iter;
  }
}

TEST(LeafSplitTest, ChooseSplitMovesACutThatDoesNotFit) {
  // A rightmost leaf filled to the last byte: keeping all its records left
  // would need room for the new high fence, so one record moves right.
  test::TestCounters tc;
  std::vector<uint8_t> page = test::NewPage(4096);
  LeafLayout snap = LeafLayout::InitEmpty(page.data(), 4096, "", "", 0, 0, tc.c);
  LeafAllocator a(page.data(), &snap, nullptr);
  Model m;
  int i = 0;
  PendingInsert p;
  while (snap.free_bytes() > 208) {
    m[Key(i)] = std::string(200 - 8 - 8, 'v');
    ASSERT_EQ(a.Insert(snap.size(), EncodeLeafRecord(Key(i), m[Key(i)]), KeyHead(Key(i)), &p),
              EditResult::kApplied);
    ++i;
  }
  // The value that makes the last record and its slot take every free byte.
  std::string last_value(snap.free_bytes() - kSlotSize - 7, 'w');
  while (LeafRecordSize(Key(i), last_value) + kSlotSize > snap.free_bytes()) last_value.pop_back();
  m[Key(i)] = last_value;
  ASSERT_EQ(a.Insert(snap.size(), EncodeLeafRecord(Key(i), last_value), KeyHead(Key(i)), &p),
            EditResult::kApplied);
  ASSERT_EQ(snap.free_bytes(), 0u);
  ++i;
  const std::string key = Key(i);
  ASSERT_EQ(a.Insert(snap.size(), EncodeLeafRecord(key, "x"), KeyHead(key), &p),
            EditResult::kNotApplied);
  const Source s{page, snap};
  const size_t n = snap.size() + 1;
  EXPECT_FALSE(SplitFits(page.data(), snap, p, n - 1));
  const size_t k = ChooseSplit(page.data(), snap, p, true);
  EXPECT_EQ(k, n - 2);
  CheckSplit(s, p, k, WithPending(m, key, "x"), tc);
}

TEST(LeafSplitTest, CutsNearTheLimits) {
  // Long fences, long keys sharing long prefixes and records near
  // MaxInlineRecord: ChooseSplit finds a cut that fits whenever one exists,
  // and a page can always be split without its pending record.
  std::mt19937_64 rng(sombra::test::TestSeed());
  int no_fit = 0;
  for (int iter = 0; iter < 400; ++iter) {
    test::TestCounters tc;
    const uint32_t ps = 4096;
    const uint32_t max_key = MaxKeySize(ps);
    const std::string prefix(rng() % (max_key - 20), 'p');
    auto key_of = [&](int i) {
      std::string k = prefix + Key(i);
      return k.substr(0, std::min<size_t>(k.size(), max_key));
    };
    const std::string low = rng() % 2 ? prefix.substr(0, rng() % (prefix.size() + 1)) : "";
    const std::string high = rng() % 2 ? prefix + "z" + std::string(rng() % 64, 'z') : "";
    std::string high_fence = high.substr(0, std::min<size_t>(high.size(), max_key));
    Source s;
    s.page = test::NewPage(ps);
    s.snap = LeafLayout::InitEmpty(s.page.data(), ps, low, high_fence, 0, 0, tc.c);
    Model m;
    PendingInsert p;
    std::string pkey, pvalue;
    for (int tries = 0; tries < 200; ++tries) {
      const std::string key = key_of(static_cast<int>(rng() % 5000));
      if (m.count(key)) continue;
      const size_t room = MaxInlineRecord(ps) - key.size() - 5;
      const std::string value(rng() % 2 ? room : rng() % (room + 1), 'v');
      LeafAllocator a(s.page.data(), &s.snap, nullptr);
      const size_t idx = s.snap.LowerBound(s.page.data(), key, nullptr);
      if (a.Insert(idx, EncodeLeafRecord(key, value), KeyHead(key), &p) ==
          EditResult::kNotApplied) {
        pkey = key;
        pvalue = value;
        break;
      }
      m[key] = value;
    }
    if (pkey.empty() || m.empty()) continue;
    ASSERT_TRUE(LeafLayout::Parse(s.page.data(), ps, tc.c).ok());
    const bool rightmost = high_fence.empty() && rng() % 2;
    const size_t k = ChooseSplit(s.page.data(), s.snap, p, rightmost);
    const Records expected = WithPending(m, pkey, pvalue);
    if (SplitFits(s.page.data(), s.snap, p, k)) {
      CheckSplit(s, p, k, expected, tc);
    } else {
      ++no_fit;
      for (size_t c = 1; c < expected.size(); ++c) {
        EXPECT_FALSE(SplitFits(s.page.data(), s.snap, p, c)) << "cut " << c << " fits";
      }
      if (s.snap.size() >= 2) {
        const PendingInsert none;
        const size_t k0 = ChooseSplit(s.page.data(), s.snap, none, false);
        EXPECT_TRUE(SplitFits(s.page.data(), s.snap, none, k0));
        CheckSplit(s, none, k0, test::ModelRecords(m), tc);
      }
    }
    if (HasFailure()) FAIL() << "iteration " << iter;
  }
  std::printf("pages with no fitting cut for the pending record: %d\n", no_fit);
}

TEST(LeafSplitTest, NoCutFitsThenSplitWithoutThePendingRecord) {
  // 975-byte keys sharing 970 bytes, fences of 970 and 971 bytes: two
  // records of 1040 bytes fill the page, and with a third of 1088 no cut
  // fits (each separator is a whole key). Splitting the page's own records
  // always works; the pending record then needs one more split, of two
  // records, which always fits (a leaf holds its fences and one record).
  test::TestCounters tc;
  const std::string prefix(970, 'p');
  const auto [k0, v0] = test::KeyValueOfSize(prefix + "b0000", 1040);
  const auto [k2, v2] = test::KeyValueOfSize(prefix + "b0002", 1040);
  const auto [k1, v1] = test::KeyValueOfSize(prefix + "b0001", 1088);
  ASSERT_EQ(k1.size(), 975u);
  const Model m{{k0, v0}, {k2, v2}};
  const Source s = MakeSource(4096, prefix, prefix + "c", m, tc.c);
  ASSERT_EQ(s.snap.size(), 2u);
  LeafLayout snap = s.snap;
  std::vector<uint8_t> page = s.page;
  LeafAllocator a(page.data(), &snap, nullptr);
  PendingInsert p;
  ASSERT_EQ(a.Insert(1, EncodeLeafRecord(k1, v1), KeyHead(k1), &p), EditResult::kNotApplied);
  const size_t k = ChooseSplit(s.page.data(), s.snap, p, false);
  EXPECT_FALSE(SplitFits(s.page.data(), s.snap, p, 1));
  EXPECT_FALSE(SplitFits(s.page.data(), s.snap, p, 2));
  EXPECT_FALSE(SplitFits(s.page.data(), s.snap, p, k));

  // Split without the pending record.
  const PendingInsert none;
  const size_t cut = ChooseSplit(s.page.data(), s.snap, none, false);
  ASSERT_EQ(cut, 1u);
  std::vector<uint8_t> left, right;
  LeafLayout left_snap;
  SplitOutput out = CheckSplit(s, none, cut, test::ModelRecords(m), tc, &left, &right, &left_snap);
  // The pending key sorts left of the separator and does not fit there...
  ASSERT_LT(k1, out.separator);
  Source half{left, left_snap};
  LeafAllocator la(half.page.data(), &half.snap, nullptr);
  PendingInsert p2;
  ASSERT_EQ(la.Insert(1, EncodeLeafRecord(k1, v1), KeyHead(k1), &p2), EditResult::kNotApplied);
  // ...so the left half splits once more, with it: two records always fit.
  const size_t cut2 = ChooseSplit(half.page.data(), half.snap, p2, false);
  ASSERT_EQ(cut2, 1u);
  ASSERT_TRUE(SplitFits(half.page.data(), half.snap, p2, cut2));
  CheckSplit(half, p2, cut2, test::ModelRecords(Model{{k0, v0}, {k1, v1}}), tc);
}

TEST(LeafRebuildTest, RoundTripFromViewsOfTheSamePage) {
  test::TestCounters tc;
  const Model m = OddKeys(30, 60);
  Source s = MakeSource(4096, "k0000", "k9", m, tc.c);
  LeafAllocator a(s.page.data(), &s.snap, nullptr);
  for (size_t i = 0; i < 10; ++i) a.Erase(i);  // holes
  ASSERT_GT(s.snap.hole_bytes(), 0u);
  Records expected = test::PageRecords(s.page.data(), s.snap);
  // Views into the page being rebuilt: its records and its high fence.
  std::vector<std::string_view> views;
  for (size_t i = 0; i < s.snap.size(); ++i)
    views.push_back(s.snap.Record(s.page.data(), i).encoded);
  test::VectorSource source(views);
  const uint64_t builds = tc.Value("allocator_builds");
  const std::vector<uint8_t> header(s.page.begin(), s.page.begin() + 24);
  Result<LeafLayout> r = RebuildFromRecords(s.page.data(), 4096, "k",
                                            s.snap.high_fence(s.page.data()), 4, 5, &source, tc.c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(tc.Value("allocator_builds"), builds + 1);
  CheckFresh(s.page, *r, tc);
  EXPECT_EQ(test::PageRecords(s.page.data(), *r), expected);
  EXPECT_EQ(r->low_fence(s.page.data()), "k");
  EXPECT_EQ(r->high_fence(s.page.data()), "k9");
  EXPECT_EQ(DecodeFixed32(s.page.data() + kLeftOffset), 4u);
  EXPECT_EQ(DecodeFixed32(s.page.data() + kRightOffset), 5u);
  EXPECT_EQ(std::vector<uint8_t>(s.page.begin() + 4, s.page.begin() + 24),
            std::vector<uint8_t>(header.begin() + 4, header.end()));

  // Empty source: an empty leaf.
  test::VectorSource empty({});
  r = RebuildFromRecords(s.page.data(), 4096, "", "", 0, 0, &empty, tc.c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 0u);
  CheckFresh(s.page, *r, tc);
}

TEST(LeafRebuildTest, RecordsThatDoNotFitLeaveThePageAlone) {
  test::TestCounters tc;
  std::vector<std::string> recs;
  // 988-byte records: four take 3984 bytes with their slots, five do not fit.
  for (int i = 0; i < 5; ++i) recs.push_back(EncodeLeafRecord(Key(i), std::string(980, 'v')));
  std::vector<std::string_view> views(recs.begin(), recs.end());
  test::VectorSource source(views);
  std::vector<uint8_t> page = test::NewPage(4096);
  const std::vector<uint8_t> before = page;
  Result<LeafLayout> r = RebuildFromRecords(page.data(), 4096, "", "", 0, 0, &source, tc.c);
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_EQ(page, before);
  // Four fit.
  views.pop_back();
  test::VectorSource four(views);
  r = RebuildFromRecords(page.data(), 4096, "", "", 0, 0, &four, tc.c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 4u);
}

}  // namespace
}  // namespace sombra::btree
