// The leaf flag "no overflow references" (page format 5, docs/format/page.md
// "Leaf page", rule L14): set on every new leaf, cleared in the same
// reported change as the first overflow record written to the leaf, kept
// exact by splits; refused by Parse when a flagged leaf holds an overflow
// record; and trusted by FreeTree and DeleteRange, which free a flagged
// leaf from its header alone while an unflagged one (every leaf of a
// format-3 or format-4 file) still has its overflow chains freed.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "btree/btree.h"
#include "btree/catalog.h"
#include "btree/db_verify.h"
#include "btree_model_util.h"
#include "leaf_test_util.h"
#include "pager/format.h"
#include "pager/pager.h"
#include "testutil/temp_dir.h"

namespace sombra::btree::model_test {
namespace {

using test::NewPage;
using test::RecordingSink;
using test::SinkCovers;

constexpr uint32_t kPageSize = 4096;

bool Flagged(const uint8_t* page) {
  return (page[pager::kHeaderFlagsOffset] & pager::kLeafFlagNoOverflow) != 0;
}

// Each way a record enters an existing leaf (Insert, Update, InsertRun):
// inline records keep the flag; an overflow record clears it, and the
// cleared byte is among the ranges the sink saw (so the log carries it).
TEST(LeafFlagTest, AnOverflowRecordClearsTheFlagInAReportedChange) {
  const std::string overflow = EncodeOverflowRecord("m", 77, 100000);
  for (const char* way : {"insert", "update", "run"}) {
    SCOPED_TRACE(way);
    std::vector<uint8_t> page = NewPage(kPageSize);
    LeafLayout snap = LeafLayout::InitEmpty(page.data(), kPageSize, {}, {}, 0, 0, nullptr);
    EXPECT_TRUE(Flagged(page.data()));
    RecordingSink sink;
    LeafAllocator alloc(page.data(), &snap, &sink);
    PendingInsert pending;
    for (const char* k : {"a", "m", "z"}) {
      ASSERT_EQ(alloc.Insert(snap.size(), EncodeLeafRecord(k, "inline"), KeyHead(k), &pending),
                EditResult::kApplied);
    }
    EXPECT_TRUE(Flagged(page.data()));
    const std::vector<uint8_t> before = page;
    sink.ranges.clear();
    // "b" inline, then "c" in overflow pages, as slots 1 and 2.
    const std::string run_first = EncodeLeafRecord("b", "x");
    const std::string run_second = EncodeOverflowRecord("c", 78, 5000);
    const std::string_view run_records[] = {run_first, run_second};
    const uint32_t heads[] = {KeyHead("b"), KeyHead("c")};
    EditResult r;
    if (std::string(way) == "insert") {
      r = alloc.Insert(1, EncodeOverflowRecord("c", 77, 100000), KeyHead("c"), &pending);
    } else if (std::string(way) == "update") {
      r = alloc.Update(1, overflow, &pending);  // "m" becomes an overflow value
    } else {
      r = alloc.InsertRun(1, run_records, heads, 2);
    }
    ASSERT_EQ(r, EditResult::kApplied);
    EXPECT_FALSE(Flagged(page.data()));
    EXPECT_TRUE(SinkCovers(before, page, sink));
    bool flag_reported = false;
    for (const auto& [off, len] : sink.ranges) {
      flag_reported |= off <= pager::kHeaderFlagsOffset && pager::kHeaderFlagsOffset < off + len;
    }
    EXPECT_TRUE(flag_reported);
    auto parsed = LeafLayout::Parse(page.data(), kPageSize, nullptr);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    // Erasing the overflow record leaves the flag clear ("not known").
    alloc.Erase(1);
    EXPECT_FALSE(Flagged(page.data()));
  }
}

// L14: a flagged leaf holding an overflow record is a damaged page.
TEST(LeafFlagTest, ParseRefusesAFlaggedLeafWithAnOverflowRecord) {
  std::vector<uint8_t> page = NewPage(kPageSize);
  LeafLayout snap = LeafLayout::InitEmpty(page.data(), kPageSize, {}, {}, 0, 0, nullptr);
  LeafAllocator alloc(page.data(), &snap, nullptr);
  PendingInsert pending;
  ASSERT_EQ(alloc.Insert(0, EncodeOverflowRecord("k", 9, 70000), KeyHead("k"), &pending),
            EditResult::kApplied);
  ASSERT_TRUE(LeafLayout::Parse(page.data(), kPageSize, nullptr).ok());
  page[pager::kHeaderFlagsOffset] |= pager::kLeafFlagNoOverflow;
  auto parsed = LeafLayout::Parse(page.data(), kPageSize, nullptr);
  ASSERT_FALSE(parsed.ok());
  EXPECT_TRUE(parsed.status().IsCorruption());
  EXPECT_NE(parsed.status().message().find("L14"), std::string::npos) << parsed.status().ToString();
}

class LeafFlagTreeTest : public FastPagerTreeTest {
 protected:
  // n keys 0, 1, ...; every `big_every`-th value (0: none) in overflow pages.
  void Load(uint64_t n, uint64_t big_every) {
    Write([&](BTreeWriter* w) {
      for (uint64_t i = 0; i < n; ++i) {
        const std::string v =
            big_every != 0 && i % big_every == 0 ? std::string(7000, 'o') : BeKey(i);
        ASSERT_TRUE(w->Put(BeKey(i), v).ok());
        model_[BeKey(i)] = v;
      }
    });
  }
  // Every rule of the database: no page leaked, none both free and used.
  void VerifyAll() {
    auto file = Env::Default()->OpenFile(dir_.File("db"), OpenMode::kReadOnly);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    auto metas = pager::ReadNewestMeta(file->get());
    ASSERT_TRUE(metas.ok()) << metas.status().ToString();
    auto snap = pager_->BeginRead();
    auto report = VerifyDatabase(*snap, *metas, dir_.File("db"));
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    for (const VerifyProblem& p : report->problems) {
      ADD_FAILURE() << DescribeProblem(p, dir_.File("db"));
    }
  }
  // For each leaf of the tree: (flagged, holds an overflow record).
  std::vector<std::pair<bool, bool>> LeafFlags() {
    auto snap = pager_->BeginRead();
    std::vector<std::pair<bool, bool>> out;
    for (const LeafInfo& leaf : Shape().leaves) {
      auto page = snap->Read(leaf.page_no);
      EXPECT_TRUE(page.ok());
      if (!page.ok()) continue;
      auto layout = LeafLayout::Parse(*page, kPageSize, nullptr);
      EXPECT_TRUE(layout.ok()) << layout.status().ToString();
      if (!layout.ok()) continue;
      bool overflow = false;
      for (size_t i = 0; i < layout->size(); ++i) overflow |= layout->Record(*page, i).overflow;
      out.emplace_back(Flagged(*page), overflow);
    }
    return out;
  }
  // Clears the flag of every leaf, as a format-4 file's leaves have it.
  void ClearAllFlags() {
    const TreeShape shape = Shape();
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    for (const LeafInfo& leaf : shape.leaves) {
      auto page = (*txn)->Write(leaf.page_no);
      ASSERT_TRUE(page.ok());
      (*page)[pager::kHeaderFlagsOffset] = 0;
      (*txn)->NoteWholePage(leaf.page_no);
    }
    ASSERT_TRUE((*txn)->Commit().ok());
  }
};

// After a load with splits, a leaf is unflagged exactly when it holds an
// overflow record (every leaf was built by this format's code).
TEST_F(LeafFlagTreeTest, SplitsKeepTheFlagExact) {
  Load(20000, 997);
  const auto flags = LeafFlags();
  ASSERT_GT(flags.size(), 50u);
  size_t with_overflow = 0;
  for (const auto& [flagged, overflow] : flags) {
    EXPECT_EQ(flagged, !overflow);
    with_overflow += overflow;
  }
  EXPECT_GT(with_overflow, 10u);
  ExpectTree();
}

// FreeTree reads the records of the unflagged leaves only, and frees every
// page either way: of flagged and unflagged leaves alike (a format-4 file's),
// the whole file ends on the freelist.
TEST_F(LeafFlagTreeTest, FreeTreeDecodesOnlyUnflaggedLeaves) {
  for (bool old_format : {false, true}) {
    SCOPED_TRACE(old_format ? "every leaf unflagged (format 4)" : "format 5");
    model_.clear();
    Load(20000, 997);
    if (old_format) ClearAllFlags();
    size_t unflagged = 0;
    size_t leaves = 0;
    for (const auto& [flagged, overflow] : LeafFlags()) {
      unflagged += !flagged;
      ++leaves;
    }
    EXPECT_EQ(unflagged == leaves, old_format);
    const pager::TreeState before = pager_->BeginRead()->state();
    FreedTree freed;
    std::vector<uint32_t> freed_leaves;
    freed.leaves = &freed_leaves;
    {
      auto txn = pager_->BeginWrite();
      ASSERT_TRUE(txn.ok());
      ASSERT_TRUE(FreeTree(txn->get(), before.root, &freed).ok());
      (*txn)->SetRoot(0);
      ASSERT_TRUE((*txn)->Commit().ok());
    }
    EXPECT_EQ(freed.records, 20000u);
    EXPECT_EQ(freed.leaves_decoded, unflagged);
    EXPECT_EQ(freed_leaves.size(), leaves);
    const pager::TreeState after = pager_->BeginRead()->state();
    EXPECT_EQ(after.page_count, before.page_count);
    EXPECT_EQ(after.freelist_count, before.freelist_count + freed.pages);
    // Nothing else lives in the file: every data page is free again.
    EXPECT_EQ(after.freelist_count, after.page_count - pager::kFirstDataPage);
    VerifyAll();
  }
}

// DeleteRange's whole-subtree step reads no record of a flagged leaf; with
// every leaf unflagged it decodes them, and frees their overflow chains.
TEST_F(LeafFlagTreeTest, DeleteRangeDecodesOnlyUnflaggedLeaves) {
  for (bool old_format : {false, true}) {
    SCOPED_TRACE(old_format ? "every leaf unflagged (format 4)" : "format 5");
    model_.clear();
    Write([&](BTreeWriter* w) {
      ASSERT_TRUE(w->DeleteRange("", std::string(9, '\xff'), nullptr).ok());
    });
    Load(50000, 1000);
    if (old_format) ClearAllFlags();
    const uint64_t decoded_before = metrics_.Value("freed_leaves_decoded");
    Write([&](BTreeWriter* w) {
      uint64_t deleted = 0;
      ASSERT_TRUE(w->DeleteRange(BeKey(1000), BeKey(49000), &deleted).ok());
      EXPECT_EQ(deleted, 48000u);
    });
    for (auto it = model_.lower_bound(BeKey(1000));
         it != model_.end() && it->first < BeKey(49000);) {
      it = model_.erase(it);
    }
    const uint64_t decoded = metrics_.Value("freed_leaves_decoded") - decoded_before;
    if (old_format) {
      EXPECT_GT(decoded, 200u);
    } else {
      // Only the leaves holding one of the 48 overflow values in the range.
      EXPECT_LE(decoded, 48u);
    }
    ExpectTree();
    VerifyAll();
  }
}

}  // namespace
}  // namespace sombra::btree::model_test
