// LeafLayout::Parse: every rule of docs/format/page.md ("A leaf
// page is valid if and only if") rejects its damage with a Corruption that
// names the offset and the rule; arbitrary bytes never crash it (run under
// ASan too); the worked example of page.md byte for byte. Random cases are
// seeded from sombra::test::TestSeed(); replay with SOMBRA_SEED.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "btree/leaf_allocator.h"
#include "btree/node_format.h"
#include "btree/slotted_page.h"
#include "leaf_test_util.h"
#include "pager/format.h"
#include "testutil/seed.h"
#include "util/coding.h"

namespace sombra::btree {
namespace {

constexpr uint32_t kPage = 4096;

class LeafParseTest : public ::testing::Test {
 protected:
  // A leaf [b, m) with five records, one of them an overflow reference, and
  // a hole where "dog" was.
  void SetUp() override {
    page_ = test::NewPage(kPage);
    test::Model m{{"ba", "1"}, {"cat", "meow"}, {"dog", "woof"}, {"eel", std::string(30, 'e')}};
    snap_ = test::BuildLeaf(&page_, "b", "m", m, tc_.c);
    LeafAllocator a(page_.data(), &snap_, nullptr);
    PendingInsert p;
    ASSERT_EQ(a.Insert(4, EncodeOverflowRecord("fox", 77, 100000), KeyHead("fox"), &p),
              EditResult::kApplied);
    a.Erase(2);
    ASSERT_EQ(snap_.size(), 4u);
    ASSERT_GT(snap_.hole_bytes(), 0u);
    ASSERT_TRUE(LeafLayout::Parse(page_.data(), kPage, tc_.c).ok());
  }

  uint32_t SlotAt(size_t i) const { return btree::SlotAt(kPage, i); }

  // Applies `damage` to a copy of the page; expects Corruption naming `rule`.
  void ExpectRule(const char* rule, const std::function<void(uint8_t*)>& damage) {
    std::vector<uint8_t> p = page_;
    damage(p.data());
    Result<LeafLayout> r = LeafLayout::Parse(p.data(), kPage, tc_.c);
    ASSERT_FALSE(r.ok()) << "rule " << rule << " not enforced";
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    EXPECT_NE(r.status().message().find(std::string("(rule ") + rule + ")"), std::string::npos)
        << "expected rule " << rule << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find("offset "), std::string::npos);
    EXPECT_NE(r.status().message().find("leaf page "), std::string::npos);
  }

  test::TestCounters tc_;
  std::vector<uint8_t> page_;
  LeafLayout snap_;
};

TEST_F(LeafParseTest, ValidPageParsesAndCounts) {
  const uint64_t builds = tc_.Value("allocator_builds");
  const uint64_t parses = tc_.Value("allocator_page_parses");
  Result<LeafLayout> r = LeafLayout::Parse(page_.data(), kPage, tc_.c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(tc_.Value("allocator_builds"), builds + 1);
  EXPECT_EQ(tc_.Value("allocator_page_parses"), parses + 1);
  EXPECT_TRUE(r->Matches(page_.data()));
  EXPECT_EQ(r->low_fence(page_.data()), "b");
  EXPECT_EQ(r->high_fence(page_.data()), "m");
  EXPECT_TRUE(r->has_high_fence());
  EXPECT_EQ(r->hole_bytes(), snap_.hole_bytes());
  auto recs = test::PageRecords(page_.data(), *r);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[2].first, "eel");
  LeafRecordRef fox = r->Record(page_.data(), 3);
  EXPECT_TRUE(fox.overflow);
  uint32_t first;
  uint64_t len;
  DecodeOverflowRef(fox.value, &first, &len);
  EXPECT_EQ(first, 77u);
  EXPECT_EQ(len, 100000u);
  // Matches does not count.
  EXPECT_EQ(tc_.Value("allocator_page_parses"), parses + 1);
}

TEST_F(LeafParseTest, EachRuleRejectsItsDamage) {
  const uint16_t count = static_cast<uint16_t>(snap_.size());
  ExpectRule("L1", [](uint8_t* p) { p[0] = 4; });
  ExpectRule("L1", [](uint8_t* p) { p[0] = 0; });
  ExpectRule("L1", [](uint8_t* p) { EncodeFixed16(p + kLevelOffset, 1); });
  ExpectRule("L2", [](uint8_t* p) { EncodeFixed16(p + kLowFenceLenOffset, 1025); });
  ExpectRule("L2", [](uint8_t* p) { EncodeFixed16(p + kHighFenceLenOffset, 0xffff); });
  ExpectRule("L3", [&](uint8_t* p) { EncodeFixed16(p + kSlotCountOffset, count + 1); });
  ExpectRule("L3", [&](uint8_t* p) { EncodeFixed16(p + kSlotCountOffset, 0xffff); });
  ExpectRule("L3", [&](uint8_t* p) { EncodeFixed32(p + kFreeEndOffset, snap_.free_end() + 6); });
  ExpectRule("L4",
             [&](uint8_t* p) { EncodeFixed32(p + kFreeStartOffset, snap_.arena_start() - 1); });
  ExpectRule("L4", [&](uint8_t* p) { EncodeFixed32(p + kFreeStartOffset, snap_.free_end() + 1); });
  ExpectRule("L4", [&](uint8_t* p) { EncodeFixed32(p + kFreeStartOffset, 0xffffffffu); });
  ExpectRule("L5", [](uint8_t* p) { p[kFencesOffset] = 'z'; });  // low "z" >= high "m"
  ExpectRule("L6", [](uint8_t* p) { EncodeFixed32(p + kLeftOffset, 1); });
  ExpectRule("L6", [](uint8_t* p) { EncodeFixed32(p + kRightOffset, 1); });
  ExpectRule("L7", [&](uint8_t* p) {
    EncodeFixed16(p + SlotAt(0), static_cast<uint16_t>(snap_.arena_start() - 1));
  });
  ExpectRule("L7", [&](uint8_t* p) { EncodeFixed16(p + SlotAt(1), snap_.free_start()); });
  ExpectRule("L7", [&](uint8_t* p) {
    // The record at the highest address grows past free_start: its key
    // length, one more (its record states its own length).
    size_t last = 0;
    for (size_t i = 1; i < snap_.size(); ++i) {
      if (snap_.slot(i).offset > snap_.slot(last).offset) last = i;
    }
    ASSERT_EQ(snap_.slot(last).offset + snap_.slot(last).length, snap_.free_start());
    p[snap_.slot(last).offset] += 1;
  });
  // Key length 127: the record would pass the arena.
  ExpectRule("L7", [&](uint8_t* p) { p[snap_.slot(1).offset] = 0x7f; });
  ExpectRule("L9", [&](uint8_t* p) { p[snap_.slot(1).offset + 1] = 0x03; });  // odd code
  ExpectRule("L9", [&](uint8_t* p) {
    // Overflow reference to page 1 (a meta page): bytes 3..6 of "fox"'s ref.
    const LeafSlot& s = snap_.slot(3);
    EncodeFixed32(p + s.offset + s.length - 12, 1);
  });
  ExpectRule("L10", [&](uint8_t* p) { p[SlotAt(2) + kSlotHeadField] ^= 1; });
  ExpectRule("L11", [&](uint8_t* p) {
    uint8_t tmp[kSlotSize];
    std::memcpy(tmp, p + SlotAt(0), kSlotSize);
    std::memcpy(p + SlotAt(0), p + SlotAt(1), kSlotSize);
    std::memcpy(p + SlotAt(1), tmp, kSlotSize);
  });
  ExpectRule("L11", [&](uint8_t* p) { std::memcpy(p + SlotAt(2), p + SlotAt(1), kSlotSize); });
  ExpectRule("L12", [](uint8_t* p) { p[kFencesOffset] = 'c'; });      // "ba" < low "c"
  ExpectRule("L12", [](uint8_t* p) { p[kFencesOffset + 1] = 'd'; });  // "eel" >= high "d"
  ExpectRule("L13",
             [&](uint8_t* p) { EncodeFixed32(p + kHoleBytesOffset, snap_.hole_bytes() + 1); });
  ExpectRule("L13", [&](uint8_t* p) { EncodeFixed32(p + kHoleBytesOffset, 0); });
}

TEST_F(LeafParseTest, MatchesIgnoresFenceContainment) {
  // Mid-borrow: the keys already left the fences; the layout still matches.
  std::vector<uint8_t> p = page_;
  p[kFencesOffset] = 'c';
  EXPECT_FALSE(LeafLayout::Parse(p.data(), kPage, tc_.c).ok());
  EXPECT_TRUE(snap_.Matches(p.data()));
  p[kSlotCountOffset] ^= 1;
  EXPECT_FALSE(snap_.Matches(p.data()));
}

TEST(LeafParseRulesTest, OverlappingRecords) {
  // Record "a" carries, as its value, the encoding of record "b"; a second
  // slot pointing at those inner bytes decodes, ascends, and overlaps.
  test::TestCounters tc;
  std::vector<uint8_t> page = test::NewPage(kPage);
  const std::string inner = EncodeLeafRecord("b", "x");
  LeafLayout snap = test::BuildLeaf(&page, "", "", {{"a", inner}, {"c", "y"}}, tc.c);
  const uint32_t slot1 = SlotAt(kPage, 1);
  EncodeSlot(page.data() + slot1,
             SlotEntry{static_cast<uint16_t>(snap.slot(0).offset + 3), 0, KeyHead("b")});
  Result<LeafLayout> r = LeafLayout::Parse(page.data(), kPage, tc.c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("(rule L8)"), std::string::npos) << r.status().ToString();
}

// Slots out of address order (a key inserted after a larger one lands
// higher in the arena): such a page is valid, and an overlap in it is still
// found (CheckArena sorts only pages that are not in address order).
TEST(LeafParseRulesTest, OverlapFoundWhenSlotsAreOutOfAddressOrder) {
  test::TestCounters tc;
  std::vector<uint8_t> page = test::NewPage(kPage);
  LeafLayout snap = LeafLayout::InitEmpty(page.data(), kPage, "", "", 0, 0, tc.c);
  LeafAllocator alloc(page.data(), &snap, nullptr);
  PendingInsert pending;
  const std::string inner = EncodeLeafRecord("d", "z");
  ASSERT_EQ(alloc.Insert(0, EncodeLeafRecord("c", inner), KeyHead("c"), &pending),
            EditResult::kApplied);
  ASSERT_EQ(alloc.Insert(0, EncodeLeafRecord("a", "x"), KeyHead("a"), &pending),
            EditResult::kApplied);
  ASSERT_GT(snap.slot(0).offset, snap.slot(1).offset);  // "a" above "c" in the arena
  ASSERT_TRUE(LeafLayout::Parse(page.data(), kPage, tc.c).ok());
  // A third slot, "d", pointing inside the value of "c": keys ascend, the
  // record decodes, and it overlaps "c".
  const uint32_t free_end = snap.free_end();
  const uint32_t c_record = snap.slot(1).offset;
  const size_t inner_at = EncodeLeafRecord("c", inner).size() - inner.size();
  EncodeSlot(page.data() + SlotAt(kPage, 2),
             SlotEntry{static_cast<uint16_t>(c_record + inner_at), 0, KeyHead("d")});
  EncodeFixed16(page.data() + kSlotCountOffset, 3);
  EncodeFixed32(page.data() + kFreeEndOffset, free_end - static_cast<uint32_t>(kSlotSize));
  Result<LeafLayout> r = LeafLayout::Parse(page.data(), kPage, tc.c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("(rule L8)"), std::string::npos) << r.status().ToString();
}

TEST(LeafParseRulesTest, KeyAndRecordLimits) {
  test::TestCounters tc;
  std::vector<uint8_t> page = test::NewPage(kPage);
  // A 1025-byte key (MaxKeySize is 1024 at 4 KiB); the allocator itself
  // does not check limits, Parse does.
  test::BuildLeaf(&page, "", "", {{std::string(1025, 'k'), ""}}, tc.c);
  Result<LeafLayout> r = LeafLayout::Parse(page.data(), kPage, tc.c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("(rule L9)"), std::string::npos) << r.status().ToString();
  // A 1024-byte key is fine, and so is a record of exactly MaxInlineRecord.
  test::BuildLeaf(&page, "", "", {{std::string(1024, 'k'), std::string(1088 - 1027, 'v')}}, tc.c);
  EXPECT_TRUE(LeafLayout::Parse(page.data(), kPage, tc.c).ok());
  // One byte more is not.
  test::BuildLeaf(&page, "", "", {{std::string(1024, 'k'), std::string(1089 - 1027, 'v')}}, tc.c);
  r = LeafLayout::Parse(page.data(), kPage, tc.c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("(rule L7)"), std::string::npos) << r.status().ToString();
  // A page size Parse cannot handle.
  EXPECT_TRUE(LeafLayout::Parse(page.data(), 16, tc.c).status().IsInvalidArgument());
}

// Checks what a successful Parse of untrusted bytes promises.
void CheckParsed(const std::vector<uint8_t>& page, const LeafLayout& s) {
  ASSERT_TRUE(s.Matches(page.data()));
  ASSERT_LE(s.arena_start(), s.free_start());
  ASSERT_LE(s.free_start(), s.free_end());
  ASSERT_EQ(s.free_end(), page.size() - kSlotSize * s.size());
  std::string prev;
  for (size_t i = 0; i < s.size(); ++i) {
    LeafRecordRef r = s.Record(page.data(), i);
    if (i > 0) {
      ASSERT_LT(prev, std::string(r.key));
    }
    prev = std::string(r.key);
    bool exact = false;
    ASSERT_EQ(s.LowerBound(page.data(), r.key, &exact), i);
    ASSERT_TRUE(exact);
  }
  uint32_t holes = 0;
  for (const auto& [b, e] : s.Holes()) holes += e - b;
  ASSERT_EQ(holes, s.hole_bytes());
}

TEST(LeafParseFuzzTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  test::TestCounters tc;
  int parsed = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    const uint32_t ps = (iter % 8 == 0) ? 8192 : kPage;
    std::vector<uint8_t> page(ps);
    for (auto& b : page) b = static_cast<uint8_t>(rng());
    if (rng() % 4 != 0) {
      // A plausible header, so the checks past L1-L4 run too.
      page[0] = 3;
      EncodeFixed16(page.data() + kLevelOffset, 0);
      const bool well_formed = rng() % 2 == 0;
      const uint16_t low = well_formed && rng() % 2 ? 0 : static_cast<uint16_t>(rng() % 8);
      const uint16_t high = well_formed && rng() % 2 ? 0 : static_cast<uint16_t>(rng() % 8);
      EncodeFixed16(page.data() + kLowFenceLenOffset, low);
      EncodeFixed16(page.data() + kHighFenceLenOffset, high);
      const uint16_t count = static_cast<uint16_t>(rng() % 6);
      EncodeFixed16(page.data() + kSlotCountOffset, count);
      const auto fe = static_cast<uint32_t>(ps - kSlotSize * count);
      EncodeFixed32(page.data() + kFreeEndOffset, fe);
      const uint32_t arena = 52 + low + high;
      const uint32_t fs = arena + static_cast<uint32_t>(rng() % 64);
      EncodeFixed32(page.data() + kFreeStartOffset, fs);
      if (rng() % 2) EncodeFixed32(page.data() + kLeftOffset, 0);
      if (rng() % 2) EncodeFixed32(page.data() + kRightOffset, 0);
      uint32_t at = arena;
      for (uint16_t i = 0; i < count; ++i) {
        uint8_t* slot = page.data() + SlotAt(ps, i);
        if (well_formed) {
          // Keys "a", "b", ... (inside most random fences only by luck),
          // each record after the previous one, heads right.
          const std::string key(1 + i % 2, static_cast<char>('a' + i));
          const std::string rec = EncodeLeafRecord(key, std::string(rng() % 8, 'v'));
          std::memcpy(page.data() + at, rec.data(), rec.size());
          EncodeSlot(slot, SlotEntry{static_cast<uint16_t>(at), 0, KeyHead(key)});
          at += static_cast<uint32_t>(rec.size());
          continue;
        }
        const uint16_t off = static_cast<uint16_t>(arena + rng() % 64);
        EncodeSlot(slot, SlotEntry{off, 0, static_cast<uint32_t>(rng())});
        if (off + 2u < ps) {
          page[off] = static_cast<uint8_t>(rng() % 6);            // short key
          page[off + 1] = static_cast<uint8_t>(2 * (rng() % 6));  // short inline value
        }
      }
      if (well_formed) {
        EncodeFixed32(page.data() + kFreeStartOffset, at);
        EncodeFixed32(page.data() + kHoleBytesOffset, 0);
        EncodeFixed32(page.data() + kLeftOffset, 0);
        EncodeFixed32(page.data() + kRightOffset, 0);
        // Then one random byte anywhere in what matters.
        if (rng() % 2) page[rng() % (at + 1)] = static_cast<uint8_t>(rng());
      }
    }
    Result<LeafLayout> r = LeafLayout::Parse(page.data(), ps, tc.c);
    if (r.ok()) {
      ++parsed;
      CheckParsed(page, *r);
    } else {
      EXPECT_TRUE(r.status().IsCorruption());
    }
  }
  std::printf("random pages that parsed: %d\n", parsed);
}

TEST(LeafParseFuzzTest, MutatedValidPagesNeverCrash) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  test::TestCounters tc;
  for (int iter = 0; iter < 300; ++iter) {
    // A random valid page with holes.
    std::vector<uint8_t> page = test::NewPage(kPage);
    test::Model m;
    const int n = 1 + static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      m[test::RandomKey(rng, 1, 12)] = test::RandomBytes(rng, rng() % 40);
    }
    LeafLayout snap = test::BuildLeaf(&page, "", "zz", m, tc.c);
    LeafAllocator a(page.data(), &snap, nullptr);
    for (size_t i = 0; i < snap.size() / 3; ++i) a.Erase(rng() % snap.size());
    ASSERT_TRUE(LeafLayout::Parse(page.data(), kPage, tc.c).ok());
    for (int k = 0; k < 40; ++k) {
      std::vector<uint8_t> bad = page;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        // Half the flips hit the header and the slot directory.
        size_t at;
        if (rng() % 2) {
          at = rng() % kPage;
        } else if (rng() % 2) {
          at = rng() % 60;
        } else {
          at = snap.free_end() + rng() % (kPage - snap.free_end() + 1);
          if (at >= kPage) at = kPage - 1;
        }
        bad[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
      }
      Result<LeafLayout> r = LeafLayout::Parse(bad.data(), kPage, tc.c);
      if (r.ok()) CheckParsed(bad, *r);
    }
  }
}

TEST_F(LeafParseTest, EveryBitOfHeaderAndSlotsNeverCrashes) {
  std::vector<size_t> offsets;
  for (size_t i = 0; i < snap_.arena_start(); ++i) offsets.push_back(i);
  for (size_t i = snap_.free_end(); i < kPage; ++i) offsets.push_back(i);
  for (size_t at : offsets) {
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<uint8_t> bad = page_;
      bad[at] ^= static_cast<uint8_t>(1u << bit);
      Result<LeafLayout> r = LeafLayout::Parse(bad.data(), kPage, tc_.c);
      if (r.ok()) CheckParsed(bad, *r);
    }
  }
}

// docs/format/page.md, "Worked example".
TEST(LeafPageExampleTest, MatchesDoc) {
  test::TestCounters tc;
  std::vector<uint8_t> page(kPage, 0);
  pager::InitPageHeader(page.data(), pager::PageKind::kLeaf, 5, 8);
  LeafLayout snap = LeafLayout::InitEmpty(page.data(), kPage, "", "dog", 0, 6, tc.c);
  LeafAllocator a(page.data(), &snap, nullptr);
  PendingInsert p;
  ASSERT_EQ(a.Insert(0, EncodeLeafRecord("ant", "A1"), KeyHead("ant"), &p), EditResult::kApplied);
  ASSERT_EQ(a.Insert(1, EncodeLeafRecord("cat", "meow"), KeyHead("cat"), &p), EditResult::kApplied);
  a.Erase(0);

  auto bytes = [&](size_t off, size_t n) {
    return std::vector<uint8_t>(page.begin() + off, page.begin() + off + n);
  };
  using V = std::vector<uint8_t>;
  // Kind 3, flags 0x01 (no overflow references), page 5.
  EXPECT_EQ(bytes(0, 8), (V{0x03, 0x01, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00}));
  EXPECT_EQ(bytes(24, 28), (V{0x01, 0x00, 0x00, 0x00,     // 1 slot, level 0
                              0x47, 0x00, 0x00, 0x00,     // free_start 71
                              0xfa, 0x0f, 0x00, 0x00,     // free_end 4090
                              0x07, 0x00, 0x00, 0x00,     // hole_bytes 7
                              0x00, 0x00, 0x00, 0x00,     // left sibling: none
                              0x06, 0x00, 0x00, 0x00,     // right sibling 6
                              0x00, 0x00, 0x03, 0x00}));  // fences: 0 and 3 bytes
  EXPECT_EQ(bytes(52, 3), (V{'d', 'o', 'g'}));
  EXPECT_EQ(bytes(55, 7), (V{0x03, 0x04, 'a', 'n', 't', 'A', '1'}));  // the hole
  EXPECT_EQ(bytes(62, 9), (V{0x03, 0x08, 'c', 'a', 't', 'm', 'e', 'o', 'w'}));
  EXPECT_EQ(bytes(4090, 6), (V{0x3e, 0x00, 0x74, 0x61, 0x63, 0xff}));
  // The gap: zeros from InitEmpty, then the stale 6 bytes where "cat"'s
  // slot was before the erase moved it up (gap bytes are meaningless).
  EXPECT_EQ(bytes(71, 4084 - 71), V(4084 - 71, 0));
  EXPECT_EQ(bytes(4084, 6), (V{0x3e, 0x00, 0x74, 0x61, 0x63, 0xff}));

  Result<LeafLayout> r = LeafLayout::Parse(page.data(), kPage, tc.c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->Holes(), (std::vector<std::pair<uint32_t, uint32_t>>{{55, 62}}));
  // An insert of "bee" -> "hi" (7 bytes) takes the hole.
  ASSERT_EQ(a.Insert(0, EncodeLeafRecord("bee", "hi"), KeyHead("bee"), &p), EditResult::kApplied);
  EXPECT_EQ(snap.slot(0).offset, 55);
  EXPECT_EQ(snap.hole_bytes(), 0u);
}

}  // namespace
}  // namespace sombra::btree
