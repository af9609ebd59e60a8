// LeafAllocator against a std::map model: random inserts, updates and
// erases on one page, checked after every step (layout, records, the bytes
// reported to the ChangeSink); holes, compaction, capacity edges, fences,
// siblings, LowerBound and counters. Random cases are seeded from
// sombra::test::TestSeed(); replay with SOMBRA_SEED.
#include "btree/leaf_allocator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "btree/node_format.h"
#include "btree/slotted_page.h"
#include "leaf_test_util.h"
#include "testutil/seed.h"
#include "util/coding.h"

namespace sombra::btree {
namespace {

using test::Model;

// Everything that must hold after an edit.
void CheckPage(const std::vector<uint8_t>& page, const LeafLayout& snap, const Model& model,
               const test::TestCounters& tc) {
  ASSERT_TRUE(snap.Matches(page.data()));
  ASSERT_TRUE(snap.KeptHolesMatch());
  Result<LeafLayout> r = LeafLayout::Parse(page.data(), static_cast<uint32_t>(page.size()), tc.c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(test::PageRecords(page.data(), snap), test::ModelRecords(model));
  uint32_t holes = 0;
  uint32_t prev_end = snap.arena_start();
  for (const auto& [b, e] : snap.Holes()) {
    ASSERT_LT(b, e);
    ASSERT_LE(prev_end, b);
    holes += e - b;
    prev_end = e;
  }
  ASSERT_EQ(holes, snap.hole_bytes());
  ASSERT_EQ(snap.free_end(), page.size() - kSlotSize * snap.size());
  uint32_t live = 0;
  for (size_t i = 0; i < snap.size(); ++i) live += snap.slot(i).length;
  ASSERT_EQ(snap.used_bytes(), live + kSlotSize * snap.size());
}

class LeafModelTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(LeafModelTest, RandomOpsMatchModel) {
  const uint32_t ps = GetParam();
  std::mt19937_64 rng(sombra::test::TestSeed());
  test::TestCounters tc;
  std::vector<uint8_t> page = test::NewPage(ps);
  LeafLayout snap = LeafLayout::InitEmpty(page.data(), ps, "", "", 0, 0, tc.c);
  test::RecordingSink sink;
  LeafAllocator alloc(page.data(), &snap, &sink);
  Model model;
  const size_t max_value = std::min<size_t>(ps / 8, 600);
  int inserts = 0, updates = 0, erases = 0, misses = 0;
  const int steps = ps <= 8192 ? 6000 : ps <= 16384 ? 3000 : 1500;
  for (int step = 0; step < steps; ++step) {
    const std::vector<uint8_t> before = page;
    sink.Clear();
    const int op = static_cast<int>(rng() % 10);
    // Fill up to a high level, then hover around it.
    const bool grow = snap.free_bytes() > ps / 3 || op < 5;
    if ((model.empty() || (grow && op < 6))) {
      const std::string key = test::RandomKey(rng, 0, 24);
      if (model.count(key) != 0) continue;
      std::string rec;
      std::string value;
      if (rng() % 16 == 0) {
        rec = EncodeOverflowRecord(key, 2 + static_cast<uint32_t>(rng() % 1000), rng() % 100000);
        value = rec.substr(rec.size() - kOverflowRefSize);
      } else {
        value = test::RandomBytes(rng, rng() % max_value);
        rec = EncodeLeafRecord(key, value);
      }
      bool exact = true;
      const size_t idx = snap.LowerBound(page.data(), key, &exact);
      ASSERT_FALSE(exact);
      PendingInsert pending;
      const bool room = snap.free_bytes() >= rec.size() + kSlotSize;
      const EditResult res = alloc.Insert(idx, rec, KeyHead(key), &pending);
      ASSERT_EQ(res == EditResult::kApplied, room) << "step " << step;
      if (res == EditResult::kApplied) {
        model[key] = value;
        ++inserts;
      } else {
        ++misses;
        ASSERT_EQ(page, before) << "a refused insert changed the page";
        ASSERT_TRUE(sink.ranges.empty());
        ASSERT_EQ(pending.slot_index, idx);
        ASSERT_FALSE(pending.replace);
        ASSERT_EQ(pending.record, rec);
        ASSERT_EQ(pending.head, KeyHead(key));
      }
    } else if (op < 8) {
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng() % model.size()));
      const std::string value = test::RandomBytes(rng, rng() % max_value);
      const std::string rec = EncodeLeafRecord(it->first, value);
      bool exact = false;
      const size_t idx = snap.LowerBound(page.data(), it->first, &exact);
      ASSERT_TRUE(exact);
      const bool room = snap.free_bytes() + snap.slot(idx).length >= rec.size();
      PendingInsert pending;
      const EditResult res = alloc.Update(idx, rec, &pending);
      ASSERT_EQ(res == EditResult::kApplied, room) << "step " << step;
      if (res == EditResult::kApplied) {
        it->second = value;
        ++updates;
      } else {
        ++misses;
        ASSERT_EQ(page, before) << "a refused update changed the page";
        ASSERT_EQ(pending.slot_index, idx);
        ASSERT_TRUE(pending.replace);
        ASSERT_EQ(pending.record, rec);
        ASSERT_EQ(pending.head, KeyHead(it->first));
      }
    } else {
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng() % model.size()));
      bool exact = false;
      const size_t idx = snap.LowerBound(page.data(), it->first, &exact);
      ASSERT_TRUE(exact);
      alloc.Erase(idx);
      model.erase(it);
      ++erases;
    }
    ASSERT_TRUE(test::SinkCovers(before, page, sink)) << "step " << step;
    CheckPage(page, snap, model, tc);
    if (HasFatalFailure()) FAIL() << "step " << step;
  }
  EXPECT_GT(inserts, 100);
  EXPECT_GT(updates, 100);
  EXPECT_GT(erases, 100);
  EXPECT_GT(misses, 0);
  EXPECT_GT(tc.Value("allocator_compactions"), 0u);
  std::printf("page %u: %d inserts, %d updates, %d erases, %d misses, %llu compactions\n", ps,
              inserts, updates, erases, misses,
              static_cast<unsigned long long>(tc.Value("allocator_compactions")));
}

INSTANTIATE_TEST_SUITE_P(PageSizes, LeafModelTest, ::testing::Values(4096u, 8192u, 16384u, 65536u));

class LeafAllocatorTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kPage = 4096;
  void Init(std::string_view low = "", std::string_view high = "") {
    page_ = test::NewPage(kPage);
    snap_ = LeafLayout::InitEmpty(page_.data(), kPage, low, high, 0, 0, tc_.c);
  }
  EditResult Insert(LeafAllocator& a, const std::string& key, const std::string& value,
                    PendingInsert* p = nullptr) {
    PendingInsert local;
    const size_t idx = snap_.LowerBound(page_.data(), key, nullptr);
    EditResult r = a.Insert(idx, EncodeLeafRecord(key, value), KeyHead(key), p ? p : &local);
    if (r == EditResult::kApplied) model_[key] = value;
    return r;
  }
  void Erase(LeafAllocator& a, const std::string& key) {
    bool exact = false;
    const size_t idx = snap_.LowerBound(page_.data(), key, &exact);
    ASSERT_TRUE(exact) << key;
    a.Erase(idx);
    model_.erase(key);
  }
  size_t Index(const std::string& key) { return snap_.LowerBound(page_.data(), key, nullptr); }
  void Check() { CheckPage(page_, snap_, model_, tc_); }

  test::TestCounters tc_;
  std::vector<uint8_t> page_;
  LeafLayout snap_;
  Model model_;
  test::RecordingSink sink_;
};

TEST_F(LeafAllocatorTest, InitEmpty) {
  const uint64_t builds = tc_.Value("allocator_builds");
  Init("abc", "xyz");
  EXPECT_EQ(tc_.Value("allocator_builds"), builds + 1);
  EXPECT_EQ(page_[0], 3);
  EXPECT_EQ(snap_.size(), 0u);
  EXPECT_EQ(snap_.arena_start(), 58u);
  EXPECT_EQ(snap_.free_start(), 58u);
  EXPECT_EQ(snap_.free_end(), kPage);
  EXPECT_EQ(snap_.free_bytes(), kPage - 58);
  EXPECT_EQ(snap_.used_bytes(), 0u);
  EXPECT_EQ(snap_.low_fence(page_.data()), "abc");
  EXPECT_EQ(snap_.high_fence(page_.data()), "xyz");
  // The page number and LSN are left alone.
  EXPECT_EQ(page_[4], 0xA5);
  EXPECT_EQ(page_[8], 0xA5);
  Check();
  // Fences that are views of the page itself.
  snap_ =
      LeafLayout::InitEmpty(page_.data(), kPage, snap_.high_fence(page_.data()), "", 0, 0, tc_.c);
  EXPECT_EQ(snap_.low_fence(page_.data()), "xyz");
  EXPECT_FALSE(snap_.has_high_fence());
}

TEST_F(LeafAllocatorTest, FirstFitHoleReuseThenCompaction) {
  Init();
  LeafAllocator a(page_.data(), &snap_, &sink_);
  // 40 records of 50 bytes (key 4 + value 44 + 2 varint bytes).
  for (int i = 0; i < 40; ++i) {
    char key[8];
    std::snprintf(key, sizeof key, "k%03d", i);
    ASSERT_EQ(Insert(a, key, std::string(44, 'v')), EditResult::kApplied);
  }
  Check();
  const uint32_t end = snap_.free_start();
  // Erase every other record: 20 holes of 50 bytes.
  for (int i = 0; i < 40; i += 2) {
    char key[8];
    std::snprintf(key, sizeof key, "k%03d", i);
    Erase(a, key);
  }
  Check();
  EXPECT_EQ(snap_.hole_bytes(), 20u * 50);
  EXPECT_EQ(snap_.Holes().size(), 20u);
  const uint32_t first_hole = snap_.Holes()[0].first;
  // A 30-byte record goes into the first hole; the rest of it stays a hole.
  ASSERT_EQ(Insert(a, "k000a", std::string(23, 'x')), EditResult::kApplied);
  EXPECT_EQ(snap_.slot(Index("k000a")).offset, first_hole);
  EXPECT_EQ(snap_.free_start(), end);
  EXPECT_EQ(snap_.hole_bytes(), 20u * 50 - 30);
  Check();
  // 50-byte records reuse the untouched holes first-fit, in address order.
  for (int i = 2; i < 40; i += 2) {
    char key[8];
    std::snprintf(key, sizeof key, "k%03d", i);
    const uint32_t hole = snap_.Holes()[1].first;  // [0] is the 20-byte remainder
    ASSERT_EQ(Insert(a, key, std::string(44, 'w')), EditResult::kApplied);
    EXPECT_EQ(snap_.slot(Index(key)).offset, hole);
  }
  EXPECT_EQ(snap_.free_start(), end);
  EXPECT_EQ(snap_.hole_bytes(), 20u);
  EXPECT_EQ(tc_.Value("allocator_compactions"), 0u);
  Check();
  // Fill the gap (without a compaction: while the gap holds a record and
  // its slot), then erase records so that the free bytes suffice for a big
  // record but no hole and not the gap do.
  for (;;) {
    const std::string key = "z" + std::to_string(snap_.size());
    if (snap_.free_end() - snap_.free_start() <
        LeafRecordSize(key, std::string(44, 'g')) + kSlotSize) {
      break;
    }
    ASSERT_EQ(Insert(a, key, std::string(44, 'g')), EditResult::kApplied);
  }
  ASSERT_EQ(tc_.Value("allocator_compactions"), 0u);
  Erase(a, "k005");
  Erase(a, "k011");
  Erase(a, "k017");
  ASSERT_LT(snap_.free_end() - snap_.free_start(), 150u);
  const std::string big(120, 'B');
  const uint32_t need = static_cast<uint32_t>(EncodeLeafRecord("k100", big).size() + kSlotSize);
  ASSERT_GE(snap_.free_bytes(), need);
  const std::vector<uint8_t> before = page_;
  sink_.Clear();
  ASSERT_EQ(Insert(a, "k100", big), EditResult::kApplied);
  EXPECT_EQ(tc_.Value("allocator_compactions"), 1u);
  EXPECT_GT(tc_.Value("allocator_bytes_moved"), 0u);
  EXPECT_EQ(snap_.hole_bytes(), 0u);
  EXPECT_TRUE(test::SinkCovers(before, page_, sink_));
  Check();
}

// The edits a share makes (BTreeWriter::SharePair): a run of records
// inserted at once, a range erased at once, fences replaced by longer and
// shorter ones; every changed byte reported, the page parses as the layout.
TEST_F(LeafAllocatorTest, InsertRunEraseRangeAndNewFences) {
  Init("b", "y");
  LeafAllocator a(page_.data(), &snap_, &sink_);
  for (int i = 0; i < 60; ++i) {
    char key[8];
    std::snprintf(key, sizeof key, "m%03d", i);
    ASSERT_EQ(Insert(a, key, std::string(20, 'v')), EditResult::kApplied);
  }
  // Holes in the arena, then a run into the middle: records go to the
  // holes and the gap, the slots after the run keep their place.
  for (int i = 10; i < 20; ++i) Erase(a, "m0" + std::to_string(i));
  Check();
  std::vector<std::string> keys, recs;
  for (int i = 0; i < 12; ++i) {
    keys.push_back("m009x" + std::to_string(i % 10) + std::to_string(i));
    recs.push_back(EncodeLeafRecord(keys.back(), std::string(15 + i, 'r')));
  }
  std::sort(keys.begin(), keys.end());
  recs.clear();
  std::vector<std::string_view> views;
  std::vector<uint32_t> heads;
  for (const std::string& k : keys) recs.push_back(EncodeLeafRecord(k, "run-" + k));
  for (size_t i = 0; i < keys.size(); ++i) {
    views.push_back(recs[i]);
    heads.push_back(KeyHead(keys[i]));
    model_[keys[i]] = "run-" + keys[i];
  }
  std::vector<uint8_t> before = page_;
  sink_.Clear();
  const size_t at = Index(keys[0]);
  ASSERT_EQ(a.InsertRun(at, views.data(), heads.data(), views.size()), EditResult::kApplied);
  EXPECT_TRUE(test::SinkCovers(before, page_, sink_));
  EXPECT_EQ(tc_.Value("allocator_compactions"), 0u);
  Check();
  // A range erased at once equals erasing it record by record.
  std::vector<uint8_t> page2 = page_;
  LeafLayout snap2 = snap_;
  LeafAllocator a2(page2.data(), &snap2, nullptr);
  const size_t b = Index("m030"), e = Index("m045");
  for (size_t i = e; i > b; --i) a2.Erase(i - 1);
  before = page_;
  sink_.Clear();
  a.EraseRange(b, e);
  for (int i = 30; i < 45; ++i) model_.erase("m0" + std::to_string(i));
  EXPECT_TRUE(test::SinkCovers(before, page_, sink_));
  Check();
  ASSERT_EQ(snap_.size(), snap2.size());
  for (size_t i = 0; i < snap_.size(); ++i) {
    EXPECT_EQ(snap_.slot(i).offset, snap2.slot(i).offset);
    EXPECT_EQ(snap_.Record(page_.data(), i).encoded, snap2.Record(page2.data(), i).encoded);
  }
  EXPECT_EQ(snap_.hole_bytes(), snap2.hole_bytes());
  // Longer fences: the records in the way move aside (the gap has room).
  before = page_;
  sink_.Clear();
  a.SetFences("a-much-longer-low-fence", "zz-and-a-longer-high-fence");
  EXPECT_EQ(snap_.low_fence(page_.data()), "a-much-longer-low-fence");
  EXPECT_EQ(snap_.high_fence(page_.data()), "zz-and-a-longer-high-fence");
  EXPECT_TRUE(test::SinkCovers(before, page_, sink_));
  EXPECT_EQ(tc_.Value("allocator_compactions"), 0u);
  Check();
  // Shorter ones: their bytes become a hole that the next insert can use.
  const uint32_t holes = snap_.hole_bytes();
  before = page_;
  sink_.Clear();
  a.SetFences("", "z");
  EXPECT_EQ(snap_.arena_start(), kFencesOffset + 1);
  EXPECT_EQ(snap_.hole_bytes(), holes + 49 - 1);
  EXPECT_TRUE(test::SinkCovers(before, page_, sink_));
  Check();
  // Fences that are views of the page itself.
  a.SetFences(snap_.high_fence(page_.data()), "zzz");
  EXPECT_EQ(snap_.low_fence(page_.data()), "z");
  model_.clear();  // the keys now lie below the low fence: check the layout only
  ASSERT_TRUE(snap_.Matches(page_.data()));
}

// A longer fence pair on a page whose gap cannot take the records in the
// way: the records are laid out again from the new arena start.
TEST_F(LeafAllocatorTest, LongerFencesCompactWhenTheGapIsTooSmall) {
  Init();
  LeafAllocator a(page_.data(), &snap_, &sink_);
  for (int i = 0;
       Insert(a, "k" + std::to_string(1000 + i), std::string(30, 'v')) == EditResult::kApplied;
       ++i) {
  }
  // Free 185 bytes in holes away from the arena start (and their 40 slot
  // bytes in the gap): the gap is far smaller than the records a 150-byte
  // fence pushes away.
  for (int i = 20; i < 25; ++i) Erase(a, "k" + std::to_string(1000 + i));
  ASSERT_LT(snap_.free_end() - snap_.free_start(), 100u);
  const uint64_t compactions = tc_.Value("allocator_compactions");
  const std::vector<uint8_t> before = page_;
  sink_.Clear();
  a.SetFences("a" + std::string(149, 'a'), "");
  EXPECT_EQ(tc_.Value("allocator_compactions"), compactions + 1);
  EXPECT_EQ(snap_.hole_bytes(), 0u);
  EXPECT_EQ(snap_.arena_start(), kFencesOffset + 150);
  EXPECT_TRUE(test::SinkCovers(before, page_, sink_));
  Check();
}

TEST_F(LeafAllocatorTest, ExactlyFullAndOneByteShort) {
  for (int short_by : {0, 1}) {
    SCOPED_TRACE(short_by ? "one byte short" : "exactly full");
    Init("a", "b");
    model_.clear();
    LeafAllocator a(page_.data(), &snap_, &sink_);
    for (int i = 0; snap_.free_bytes() > 1090; ++i) {
      ASSERT_EQ(Insert(a, "aa" + std::to_string(i), std::string(1000, 'v')), EditResult::kApplied);
    }
    // A last record that needs every free byte, its slot included (or one
    // byte more).
    const auto [key, value] = test::KeyValueOfSize("az", snap_.free_bytes() - kSlotSize + short_by);
    const std::string rec = EncodeLeafRecord(key, value);
    const std::vector<uint8_t> before = page_;
    sink_.Clear();
    PendingInsert p;
    const EditResult r = a.Insert(snap_.size(), rec, KeyHead(key), &p);
    if (short_by == 0) {
      ASSERT_EQ(r, EditResult::kApplied);
      model_[key] = value;
      EXPECT_EQ(snap_.free_bytes(), 0u);
      EXPECT_EQ(snap_.free_start(), snap_.free_end());
      EXPECT_TRUE(test::SinkCovers(before, page_, sink_));
      Check();
      // Now nothing fits, not even the smallest record.
      const std::vector<uint8_t> full = page_;
      ASSERT_EQ(a.Insert(0, EncodeLeafRecord("a", ""), KeyHead("a"), &p), EditResult::kNotApplied);
      EXPECT_EQ(page_, full);
    } else {
      ASSERT_EQ(r, EditResult::kNotApplied);
      EXPECT_EQ(page_, before);
      EXPECT_TRUE(sink_.ranges.empty());
      EXPECT_EQ(p.record, rec);
      EXPECT_EQ(p.slot_index, snap_.size());
      EXPECT_EQ(p.head, KeyHead(key));
      EXPECT_FALSE(p.replace);
    }
  }
}

TEST_F(LeafAllocatorTest, SlotBytesCounted) {
  Init();
  LeafAllocator a(page_.data(), &snap_, &sink_);
  for (const char* k : {"a", "b", "c"}) {
    ASSERT_EQ(Insert(a, k, std::string(1000, 'x')), EditResult::kApplied);
  }
  // Leave 6 + 10 free bytes.
  const auto [dk, dv] = test::KeyValueOfSize("d", snap_.free_bytes() - kSlotSize - 16);
  ASSERT_EQ(Insert(a, dk, dv), EditResult::kApplied);
  ASSERT_EQ(snap_.free_bytes(), 16u);
  // A 10-byte record fits with its 6-byte slot; an 11-byte one does not,
  // nor does a 16-byte one (the free bytes, but no room for its slot).
  PendingInsert p;
  const std::vector<uint8_t> before = page_;
  for (size_t size : {11u, 16u}) {
    const auto [k, v] = test::KeyValueOfSize("e", size);
    EXPECT_EQ(a.Insert(snap_.size(), EncodeLeafRecord(k, v), KeyHead(k), &p),
              EditResult::kNotApplied)
        << size;
    EXPECT_EQ(page_, before);
  }
  const auto [k, v] = test::KeyValueOfSize("e", 10);
  EXPECT_EQ(Insert(a, k, v), EditResult::kApplied);
  EXPECT_EQ(snap_.free_bytes(), 0u);
  Check();
}

TEST_F(LeafAllocatorTest, ExactlyFullThroughCompaction) {
  Init();
  LeafAllocator a(page_.data(), &snap_, &sink_);
  for (int i = 0; i < 10; ++i) {
    const auto [k, v] = test::KeyValueOfSize("k" + std::to_string(i), 300);
    ASSERT_EQ(Insert(a, k, v), EditResult::kApplied);
  }
  // Fill the gap with one record, then free two records in the middle.
  const auto [zk, zv] = test::KeyValueOfSize("z", snap_.free_bytes() - kSlotSize);
  ASSERT_EQ(Insert(a, zk, zv), EditResult::kApplied);
  ASSERT_EQ(snap_.free_end(), snap_.free_start());
  Erase(a, "k3");
  Erase(a, "k6");
  // Free: 2 * 300 record bytes + 2 slots, in two holes and the gap; a
  // record of 2 * 300 + 6 bytes fits only by compaction, and leaves
  // nothing free.
  ASSERT_EQ(snap_.free_bytes(), 2u * 300 + 2 * kSlotSize);
  const auto [k, v] = test::KeyValueOfSize("k9a", 2 * 300 + kSlotSize);
  const std::vector<uint8_t> before = page_;
  sink_.Clear();
  ASSERT_EQ(Insert(a, k, v), EditResult::kApplied);
  EXPECT_EQ(tc_.Value("allocator_compactions"), 1u);
  EXPECT_GT(tc_.Value("allocator_bytes_moved"), 0u);
  EXPECT_EQ(snap_.free_bytes(), 0u);
  EXPECT_TRUE(test::SinkCovers(before, page_, sink_));
  Check();
  // Refused when the free bytes do not suffice: no compaction is tried.
  Erase(a, "k0");
  const std::vector<uint8_t> full = page_;
  PendingInsert p;
  EXPECT_EQ(a.Insert(0, EncodeLeafRecord("a", std::string(400, 'q')), KeyHead("a"), &p),
            EditResult::kNotApplied);
  EXPECT_EQ(page_, full);
  EXPECT_EQ(tc_.Value("allocator_compactions"), 1u);
}

TEST_F(LeafAllocatorTest, UpdateInPlaceElsewhereAndRefused) {
  Init();
  LeafAllocator a(page_.data(), &snap_, &sink_);
  auto size_of = [](const std::string& k, size_t v) {
    return static_cast<uint32_t>(EncodeLeafRecord(k, std::string(v, 'v')).size());
  };
  for (const char* k : {"a", "b", "c", "d"}) {
    ASSERT_EQ(Insert(a, k, std::string(100, *k)), EditResult::kApplied);
  }
  PendingInsert p;
  auto update = [&](const std::string& key, const std::string& value) {
    const std::vector<uint8_t> before = page_;
    sink_.Clear();
    const EditResult r = a.Update(Index(key), EncodeLeafRecord(key, value), &p);
    EXPECT_TRUE(test::SinkCovers(before, page_, sink_));
    if (r == EditResult::kApplied) model_[key] = value;
    return r;
  };
  // Shrink in place: the tail becomes a hole.
  const uint16_t b_off = snap_.slot(1).offset;
  ASSERT_EQ(update("b", std::string(60, 'B')), EditResult::kApplied);
  EXPECT_EQ(snap_.slot(1).offset, b_off);
  const uint32_t hole = size_of("b", 100) - size_of("b", 60);
  EXPECT_EQ(snap_.hole_bytes(), hole);
  Check();
  // Shrink the last record in the arena: free_start comes down, no hole.
  const uint32_t fs = snap_.free_start();
  ASSERT_EQ(update("d", std::string(50, 'D')), EditResult::kApplied);
  EXPECT_EQ(snap_.free_start(), fs - (size_of("d", 100) - size_of("d", 50)));
  EXPECT_EQ(snap_.hole_bytes(), hole);
  Check();
  // Same size in place.
  ASSERT_EQ(update("c", std::string(100, 'C')), EditResult::kApplied);
  Check();
  // Grow "b" into its own bytes plus the hole after it (released first).
  ASSERT_EQ(update("b", std::string(100, 'b')), EditResult::kApplied);
  EXPECT_EQ(snap_.slot(1).offset, b_off);
  EXPECT_EQ(snap_.hole_bytes(), 0u);
  Check();
  // Grow "a" beyond any hole: it moves to the gap and leaves a hole.
  const uint32_t gap_start = snap_.free_start();
  ASSERT_EQ(update("a", std::string(500, 'A')), EditResult::kApplied);
  EXPECT_EQ(snap_.slot(0).offset, gap_start);
  EXPECT_EQ(snap_.hole_bytes(), size_of("a", 100));
  Check();
  // Fill the gap with records too big for the hole.
  for (int i = 0; snap_.free_bytes() > 700; ++i) {
    ASSERT_EQ(Insert(a, "e" + std::to_string(i), std::string(500, 'e')), EditResult::kApplied);
  }
  EXPECT_EQ(snap_.hole_bytes(), size_of("a", 100));
  // Grow "c" until it fits only by compaction (its own bytes, the hole and
  // the gap), then "b" by one byte more than is free.
  const uint64_t compactions = tc_.Value("allocator_compactions");
  const uint32_t room = snap_.free_bytes() + snap_.slot(2).length;
  const auto [ck, cv] = test::KeyValueOfSize("c", room);
  ASSERT_EQ(update(ck, cv), EditResult::kApplied);
  EXPECT_EQ(snap_.free_bytes(), 0u);
  EXPECT_EQ(tc_.Value("allocator_compactions"), compactions + 1);
  Check();
  const std::vector<uint8_t> full = page_;
  const std::string b_rec = EncodeLeafRecord("b", std::string(101, 'b'));
  ASSERT_EQ(update("b", std::string(101, 'b')), EditResult::kNotApplied);
  EXPECT_EQ(page_, full);
  EXPECT_TRUE(p.replace);
  EXPECT_EQ(p.slot_index, 1u);
  EXPECT_EQ(p.head, KeyHead("b"));
  EXPECT_EQ(p.record, b_rec);
}

TEST_F(LeafAllocatorTest, EraseLowersFreeStartAndAbsorbsTrailingHoles) {
  Init();
  LeafAllocator a(page_.data(), &snap_, &sink_);
  for (const char* k : {"a", "b", "c", "d"}) {
    ASSERT_EQ(Insert(a, k, std::string(20, *k)), EditResult::kApplied);
  }
  const uint32_t arena = snap_.arena_start();
  Erase(a, "b");
  Erase(a, "c");
  EXPECT_EQ(snap_.hole_bytes(), 46u);
  Check();
  // "d" was last in the arena: free_start drops to the end of "a", and the
  // holes of "b" and "c" join the gap.
  Erase(a, "d");
  EXPECT_EQ(snap_.free_start(), arena + 23);
  EXPECT_EQ(snap_.hole_bytes(), 0u);
  Check();
  Erase(a, "a");
  EXPECT_EQ(snap_.free_start(), arena);
  EXPECT_EQ(snap_.free_bytes(), kPage - arena);
  Check();
}

TEST_F(LeafAllocatorTest, SetSiblingsReportsOnlyChanges) {
  Init();
  LeafAllocator a(page_.data(), &snap_, &sink_);
  a.SetSiblings(7, 9);
  EXPECT_EQ(DecodeFixed32(page_.data() + kLeftOffset), 7u);
  EXPECT_EQ(DecodeFixed32(page_.data() + kRightOffset), 9u);
  EXPECT_EQ(sink_.ranges.size(), 2u);
  sink_.Clear();
  a.SetSiblings(7, 10);
  ASSERT_EQ(sink_.ranges.size(), 1u);
  EXPECT_EQ(sink_.ranges[0], (std::pair<uint32_t, uint32_t>{kRightOffset, 4}));
  Check();
}

TEST_F(LeafAllocatorTest, InsertReportsSmallRanges) {
  Init();
  LeafAllocator a(page_.data(), &snap_, &sink_);
  ASSERT_EQ(Insert(a, "m", "1"), EditResult::kApplied);
  ASSERT_EQ(Insert(a, "n", "1"), EditResult::kApplied);
  // Insert a new last key: no slot moves (the directory is in reverse key
  // order), so the slot range is the new slot, at free_end.
  sink_.Clear();
  ASSERT_EQ(Insert(a, "z", "1"), EditResult::kApplied);
  EXPECT_EQ(snap_.slot(2).offset, DecodeSlotOffset(page_.data() + snap_.free_end()));
  const std::pair<uint32_t, uint32_t> new_slot{snap_.free_end(), kSlotSize};
  EXPECT_NE(std::find(sink_.ranges.begin(), sink_.ranges.end(), new_slot), sink_.ranges.end());
  uint32_t total = 0;
  for (const auto& r : sink_.ranges) total += r.second;
  // Record (4) + slot (6) + count (2) + free_start (4) + free_end (4).
  EXPECT_EQ(total, 20u);
}

TEST_F(LeafAllocatorTest, LowerBoundWithTiedHeads) {
  Init();
  LeafAllocator a(page_.data(), &snap_, nullptr);
  const std::vector<std::string> keys = {"",
                                         std::string("ab"),
                                         std::string("ab\0", 3),
                                         std::string("ab\0\0", 4),
                                         "abcd",
                                         "abcd1",
                                         "abcd2",
                                         "abce",
                                         "b"};
  for (const auto& k : keys) ASSERT_EQ(Insert(a, k, "v"), EditResult::kApplied);
  Check();
  for (size_t i = 0; i < keys.size(); ++i) {
    bool exact = false;
    EXPECT_EQ(snap_.LowerBound(page_.data(), keys[i], &exact), i);
    EXPECT_TRUE(exact);
  }
  bool exact = true;
  EXPECT_EQ(snap_.LowerBound(page_.data(), "abcd0", &exact), 5u);
  EXPECT_FALSE(exact);
  EXPECT_EQ(snap_.LowerBound(page_.data(), "c", &exact), keys.size());
  EXPECT_FALSE(exact);
  EXPECT_EQ(snap_.LowerBound(page_.data(), "a", &exact), 1u);
  EXPECT_FALSE(exact);
  // Counters: a search for "b" never ties a head except at "b" itself.
  const uint64_t cmps = tc_.Value("key_cmps");
  const uint64_t decodes = tc_.Value("key_decodes");
  EXPECT_EQ(snap_.LowerBound(page_.data(), "zz", &exact), keys.size());
  EXPECT_EQ(tc_.Value("key_decodes"), decodes);  // heads decide
  // A head above the last slot's is past every key: one comparison, the
  // ascending load's case, with no search.
  EXPECT_EQ(tc_.Value("key_cmps"), cmps + 1);
  // A key past the last one whose head ties the last's ("b" and "b\0\0\0"
  // have one head) is found by the search, which decodes the last record.
  EXPECT_EQ(snap_.LowerBound(page_.data(), std::string("b\0\0\0", 4), &exact), keys.size());
  EXPECT_FALSE(exact);
  EXPECT_GT(tc_.Value("key_cmps"), cmps + 2);
  EXPECT_EQ(tc_.Value("key_decodes"), decodes + 1);
  EXPECT_EQ(snap_.LowerBound(page_.data(), "b", &exact), keys.size() - 1);
  EXPECT_TRUE(exact);
  EXPECT_EQ(tc_.Value("key_decodes"), decodes + 2);
  snap_.Record(page_.data(), 0);
  EXPECT_EQ(tc_.Value("key_decodes"), decodes + 3);
}

TEST_F(LeafAllocatorTest, CopiesAreCounted) {
  Init();
  LeafAllocator a(page_.data(), &snap_, nullptr);
  const uint64_t before = tc_.Value("memcopy_bytes");
  ASSERT_EQ(Insert(a, "k", std::string(100, 'v')), EditResult::kApplied);
  EXPECT_EQ(tc_.Value("memcopy_bytes"), before + 104);  // 1 + 2 + 1 + 100
  PendingInsert p;
  ASSERT_EQ(a.Update(0, EncodeLeafRecord("k", std::string(10, 'v')), &p), EditResult::kApplied);
  EXPECT_EQ(tc_.Value("memcopy_bytes"), before + 104 + 13);
  // Split triggers are the B+tree's to count.
  EXPECT_EQ(tc_.Value("allocator_split_triggers"), 0u);
}

// A layout without counters (what Verify, sombra-inspect and the fuzzers
// use) edits and splits to the same bytes as a counted one and counts
// nothing; the counted one's edits and split count into its registry.
TEST(LeafCountersTest, NullCountersEditAndSplitToTheSameBytes) {
  test::TestCounters tc;
  std::vector<uint8_t> counted = test::NewPage(4096);
  std::vector<uint8_t> quiet = test::NewPage(4096);
  LeafLayout cs = LeafLayout::InitEmpty(counted.data(), 4096, "a", "z", 3, 4, tc.c);
  LeafLayout qs = LeafLayout::InitEmpty(quiet.data(), 4096, "a", "z", 3, 4, nullptr);
  EXPECT_EQ(qs.counters(), nullptr);
  EXPECT_EQ(cs.counters(), tc.c);
  LeafAllocator ca(counted.data(), &cs, nullptr);
  LeafAllocator qa(quiet.data(), &qs, nullptr);
  PendingInsert cp, qp;
  for (int i = 0;; ++i) {
    const std::string key = "k" + std::to_string((i * 7919) % 1000);
    const std::string rec = EncodeLeafRecord(key, std::string(40 + i % 23, 'v'));
    bool exact = false;
    const size_t at = cs.LowerBound(counted.data(), key, &exact);
    ASSERT_EQ(qs.LowerBound(quiet.data(), key, nullptr), at);
    if (exact) continue;
    const EditResult cr = ca.Insert(at, rec, KeyHead(key), &cp);
    ASSERT_EQ(qa.Insert(at, rec, KeyHead(key), &qp), cr);
    ASSERT_EQ(counted, quiet) << "after insert " << i;
    if (cr == EditResult::kNotApplied) break;
    if (i % 5 == 4) {
      ca.Erase(at / 2);
      qa.Erase(at / 2);
      ASSERT_EQ(counted, quiet) << "after erase " << i;
    }
  }
  const size_t cut = ChooseSplit(counted.data(), cs, cp, /*rightmost=*/false);
  ASSERT_EQ(ChooseSplit(quiet.data(), qs, qp, false), cut);
  std::vector<uint8_t> cr = test::NewPage(4096), qr = test::NewPage(4096);
  const SplitOutput co = SplitOffRight(counted.data(), cs, cp, cut, cr.data(), 8);
  const SplitOutput qo = SplitOffRight(quiet.data(), qs, qp, cut, qr.data(), 8);
  ASSERT_TRUE(SplitKeepLeft(counted.data(), &cs, cp, cut, co.separator, 9, nullptr));
  ASSERT_TRUE(SplitKeepLeft(quiet.data(), &qs, qp, cut, qo.separator, 9, nullptr));
  EXPECT_EQ(counted, quiet);
  EXPECT_EQ(cr, qr);
  EXPECT_EQ(co.separator, qo.separator);
  EXPECT_EQ(qs.counters(), nullptr);
  EXPECT_EQ(qo.right.counters(), nullptr);
  EXPECT_EQ(co.right.counters(), tc.c);
  EXPECT_GT(tc.Value("memcopy_bytes"), 0u);
  EXPECT_GT(tc.Value("key_cmps"), 0u);
  EXPECT_GE(tc.Value("allocator_builds"), 2u);  // InitEmpty and the split's right page
}

// Every tick has its own registry counter, named as docs/architecture.md
// lists them.
TEST(LeafCountersTest, EveryTickCountsIntoItsOwnNamedCounter) {
  test::TestCounters tc;
  std::set<std::string> names;
  for (size_t i = 0; i < static_cast<size_t>(Tick::kCount); ++i) {
    const Tick t = static_cast<Tick>(i);
    names.insert(TickName(t));
    tc.c->Add(t, i + 1);
    Count(nullptr, t, 1000);  // a null sink counts nothing (and does not crash)
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(Tick::kCount));
  for (size_t i = 0; i < static_cast<size_t>(Tick::kCount); ++i) {
    EXPECT_EQ(tc.Value(TickName(static_cast<Tick>(i))), i + 1) << TickName(static_cast<Tick>(i));
  }
  EXPECT_EQ(tc.Value("leaf_splits"), static_cast<uint64_t>(Tick::kLeafSplits) + 1);
}

}  // namespace
}  // namespace sombra::btree
