// The B+tree's counters as exact identities, the fill of sequential loads,
// and what the WAL logs for one insert (a delta) and for one split (two
// images and a parent delta).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "btree/btree.h"
#include "btree_model_util.h"
#include "pager/pager.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"

namespace sombra::btree::model_test {
namespace {

class BTreeCountersTest : public ::testing::Test {
 protected:
  void Open(uint32_t page_size = 4096, const char* name = "db") {
    Options o;
    o.page_size = page_size;
    o.durability = Durability::kOff;
    o.wal_compression = false;
    auto p = pager::Pager::Open(Env::Default(), dir_.File(name), o, {}, &metrics_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pager_ = std::move(p).value();
  }
  uint64_t V(const char* name) const { return metrics_.Value(name); }

  TreeShape Shape(bool with_keys = false) {
    auto snap = pager_->BeginRead();
    TreeWalker walker(SnapshotReader(snap.get()), pager_->page_size());
    return walker.Walk(snap->state().root, with_keys);
  }
  void ExpectVerified() {
    auto snap = pager_->BeginRead();
    Status s = VerifyTree(*snap);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }

  sombra::test::TempDir dir_;
  MetricsRegistry metrics_;
  std::unique_ptr<pager::Pager> pager_;
};

// Verify reads every page with null counters: the database's counters
// stay exactly as the writes left them.
TEST_F(BTreeCountersTest, VerifyCountsNothing) {
  Open();
  {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    BTreeWriter w(txn->get(), &metrics_);
    for (uint64_t i = 0; i < 3000; ++i) ASSERT_TRUE(w.Put(BeKey(i * 7 % 3001), "v").ok()) << i;
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  const auto before = metrics_.CounterValues();
  ASSERT_GT(V("leaf_splits"), 0u);
  ExpectVerified();
  EXPECT_EQ(metrics_.CounterValues(), before);
}

// 10,000 sequential 8-byte big-endian keys (8-byte values) in one
// transaction on a fresh database.
//
// Exact identities (fresh database, inserts only, all in one transaction):
//  - leaves (counted by a page walk from the root) == leaf_splits + 1: the
//    first leaf plus one new page per split;
//  - allocator_builds == 1 + leaf_splits == pages created: InitEmpty builds
//    the first leaf's layout, and SplitOffRight counts one build per split,
//    the new right page (the split page keeps its layout, edited in place)
//    - leaf_allocator.h, "Counts allocator_builds (1)";
//  - allocator_page_parses == 0 (<= 1 as the design asks): every leaf the
//    transaction edits was built in it, so its layout is always cached;
//  - allocator_cache_reuse == 10,000: each Put looks its leaf up once, and
//    an append at the right edge of the rightmost leaf has no right sibling
//    whose left link would need fixing;
//  - allocator_split_triggers == leaf_splits, allocator_failures == 0.
// Every leaf but the last is >= 90% full: used bytes (records + slots) over
// page_size - 52 - fences, read through a Snapshot and parsed with a
// separate MetricsRegistry.
TEST_F(BTreeCountersTest, SequentialLoadCountsExactlyAndFillsLeaves) {
  Open();
  constexpr uint64_t kN = 10000;
  {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    BTreeWriter w(txn->get(), &metrics_);
    for (uint64_t i = 0; i < kN; ++i) ASSERT_TRUE(w.Put(BeKey(i), BeKey(i)).ok()) << i;
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  ExpectVerified();
  const TreeShape shape = Shape();
  ASSERT_EQ(shape.error, "");
  const uint64_t splits = V("leaf_splits");
  const uint64_t leaves = shape.leaves.size();
  EXPECT_EQ(leaves, splits + 1);
  EXPECT_EQ(V("allocator_builds"), 1 + splits);
  EXPECT_LE(V("allocator_page_parses"), 1u);
  EXPECT_EQ(V("allocator_page_parses"), 0u);
  EXPECT_EQ(V("allocator_cache_reuse"), kN);
  EXPECT_EQ(V("allocator_split_triggers"), splits);
  EXPECT_EQ(V("allocator_failures"), 0u);
  EXPECT_EQ(V("leaf_merges") + V("leaf_borrows"), 0u);
  uint64_t records = 0;
  for (size_t i = 0; i < shape.leaves.size(); ++i) {
    const LeafInfo& leaf = shape.leaves[i];
    records += leaf.records;
    if (i + 1 == shape.leaves.size()) continue;
    const double fill = static_cast<double>(leaf.used) / leaf.capacity;
    EXPECT_GE(fill, 0.90) << "leaf " << i << " (page " << leaf.page_no << "): " << leaf.used
                          << " of " << leaf.capacity << " bytes";
  }
  EXPECT_EQ(records, kN);
  std::printf(
      "[ counters ] 10k sequential: %llu leaves (= pages created), allocator_builds %llu, "
      "page parses %llu, cache reuse %llu, split triggers %llu, leaf splits %llu, failures "
      "%llu, average fill %.1f%% (min %.1f%% without the last leaf), key_decodes/insert %.3f\n",
      (unsigned long long)leaves, (unsigned long long)V("allocator_builds"),
      (unsigned long long)V("allocator_page_parses"),
      (unsigned long long)V("allocator_cache_reuse"),
      (unsigned long long)V("allocator_split_triggers"), (unsigned long long)splits,
      (unsigned long long)V("allocator_failures"), 100 * shape.AverageFill(true),
      100 * shape.MinFill(true), static_cast<double>(V("key_decodes")) / kN);
}

// The slot count of page `page_no` as the transaction sees it (0 for
// page 0, no page).
uint16_t SlotCount(sombra::pager::PagerTxn* txn, uint32_t page_no) {
  if (page_no == 0) return 0;
  auto page = txn->Read(page_no);
  EXPECT_TRUE(page.ok());
  return page.ok() ? DecodeFixed16(*page + kSlotCountOffset) : 0;
}

// What one transaction of random inserts did to the counters.
struct EditAccount {
  uint64_t puts = 0;
  uint64_t sibling_fixes = 0;  // splits of a leaf with a right sibling (FixLeftLink)
  uint64_t root_inits = 0;     // the first Put of an empty tree (InitEmpty)
  uint64_t splits = 0;
  uint64_t shares = 0;         // Puts that shared a full leaf with a sibling
  uint64_t first_touches = 0;  // leaves that existed at the start, edited for the first time
  uint64_t mismatches = 0;     // Puts whose counter deltas broke the identity
  std::string first_mismatch;
};

// 20,000 random inserts in one transaction: every leaf edit is accounted
// for. A leaf edit is the insert of a Put into its leaf, plus, when the
// Put splits a leaf that has a right sibling, the left-link fix of that
// sibling (FixLeftLink goes through the allocator too). Each edit looks the
// leaf's layout up exactly once (BTreeWriter::LeafLayoutOf): from the
// per-transaction cache (allocator_cache_reuse) or by parsing the page
// (allocator_page_parses); a split's new page is built by SplitOffRight (one
// allocator_build) and enters the cache without a lookup, and the split page
// keeps the layout it was looked up with.
// A Put that shares its full leaf with a neighbour instead (leaf_shares)
// looks up the layouts of both, the leaf's a second time, and builds none.
// Hence, per Put and in total:
//   reuse + parses       == puts + sibling_fixes + 2 * shares
//   builds               == parses + leaf_splits + root_inits
//   parses               == leaves that existed when the transaction began
//                           and were edited in it (each parsed once), the
//                           neighbours a share edited included
// The leaf of each Put and its right sibling are found beforehand by an
// independent descent (TreeWalker, private counters).
TEST_F(BTreeCountersTest, RandomInsertsAccountForEveryLeafEdit) {
  const uint64_t seed = sombra::test::TestSeed();
  std::mt19937_64 rng(seed);
  Open();
  for (int round = 0; round < 2; ++round) {  // fresh, then over the committed tree
    SCOPED_TRACE("round " + std::to_string(round) + ", seed " + std::to_string(seed));
    metrics_.ResetAll();
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    TreeWalker walker(TxnReader(txn->get()), pager_->page_size());
    std::set<uint32_t> start_leaves;
    for (const LeafInfo& l : walker.Walk((*txn)->root()).leaves) start_leaves.insert(l.page_no);
    std::set<uint32_t> touched;
    EditAccount a;
    BTreeWriter w(txn->get(), &metrics_);
    for (int i = 0; i < 20000; ++i) {
      const std::string key = BeKey(rng());
      const uint32_t root = (*txn)->root();
      uint32_t leaf = 0, right = 0, left = 0;
      if (root != 0) {
        leaf = walker.LeafFor(root, key);
        ASSERT_NE(leaf, 0u);
        auto page = (*txn)->Read(leaf);
        ASSERT_TRUE(page.ok());
        right = DecodeFixed32(*page + kRightOffset);
        left = DecodeFixed32(*page + kLeftOffset);
      }
      const uint16_t left_count0 = SlotCount(txn->get(), left);
      const uint64_t reuse0 = V("allocator_cache_reuse"), parse0 = V("allocator_page_parses"),
                     builds0 = V("allocator_builds"), splits0 = V("leaf_splits"),
                     shares0 = V("leaf_shares");
      ASSERT_TRUE(w.Put(key, BeKey(static_cast<uint64_t>(i))).ok());
      w.FlushCounters();
      const uint64_t d_reuse = V("allocator_cache_reuse") - reuse0;
      const uint64_t d_parse = V("allocator_page_parses") - parse0;
      const uint64_t d_builds = V("allocator_builds") - builds0;
      const uint64_t d_splits = V("leaf_splits") - splits0;
      const uint64_t d_shares = V("leaf_shares") - shares0;
      a.puts++;
      a.splits += d_splits;
      a.shares += d_shares;
      const uint64_t fix = d_splits != 0 && right != 0 ? 1 : 0;
      a.sibling_fixes += fix;
      const uint64_t init = root == 0 ? 1 : 0;
      a.root_inits += init;
      uint64_t first = 0;
      if (start_leaves.count(leaf) != 0 && touched.insert(leaf).second) ++first;
      if (fix != 0 && start_leaves.count(right) != 0 && touched.insert(right).second) ++first;
      // A share edits the leaf and one neighbour: the one whose count moved.
      const uint32_t partner = SlotCount(txn->get(), left) != left_count0 ? left : right;
      if (d_shares != 0 && start_leaves.count(partner) != 0 && touched.insert(partner).second) {
        ++first;
      }
      a.first_touches += first;
      // A share looks the pair's layouts up (the leaf's a second time).
      if (d_reuse + d_parse != 1 + fix + 2 * d_shares || d_builds != d_parse + d_splits + init ||
          d_parse != first || d_splits + d_shares > 1) {
        if (a.mismatches++ == 0) {
          a.first_mismatch = "put " + std::to_string(i) + ": reuse +" + std::to_string(d_reuse) +
                             ", parses +" + std::to_string(d_parse) + ", builds +" +
                             std::to_string(d_builds) + ", splits +" + std::to_string(d_splits) +
                             ", shares +" + std::to_string(d_shares) + ", sibling fix " +
                             std::to_string(fix) + ", first touches " + std::to_string(first);
        }
      }
    }
    ASSERT_TRUE((*txn)->Commit().ok());
    EXPECT_EQ(a.mismatches, 0u) << a.first_mismatch;
    EXPECT_EQ(V("allocator_cache_reuse") + V("allocator_page_parses"),
              a.puts + a.sibling_fixes + 2 * a.shares);
    EXPECT_EQ(V("allocator_builds"), V("allocator_page_parses") + a.splits + a.root_inits);
    EXPECT_EQ(V("allocator_page_parses"), a.first_touches);
    EXPECT_EQ(V("allocator_split_triggers"), V("leaf_splits") + V("leaf_shares"));
    EXPECT_EQ(V("leaf_shares"), a.shares);
    EXPECT_GT(a.shares, 0u);
    EXPECT_EQ(V("leaf_splits"), a.splits);
    EXPECT_EQ(V("allocator_failures"), 0u);
    if (round == 0) {
      EXPECT_EQ(V("allocator_page_parses"), 0u) << "a fresh tree's leaves are all cached";
    } else {
      EXPECT_GT(V("allocator_page_parses"), 0u);
      EXPECT_LE(V("allocator_page_parses"), start_leaves.size()) << "a leaf parsed twice";
    }
    EXPECT_GT(a.sibling_fixes, 0u);
    ExpectVerified();
    const TreeShape shape = Shape();
    ASSERT_EQ(shape.error, "");
    std::printf(
        "[ counters ] 20k random inserts (%s): cache reuse %llu + page parses %llu == puts %llu "
        "+ sibling fixes %llu; builds %llu == parses + %llu splits + %llu; %zu leaves, "
        "average fill %.1f%%, key_decodes/insert %.3f, key_cmps/insert %.2f\n",
        round == 0 ? "fresh tree" : "over 20k committed",
        (unsigned long long)V("allocator_cache_reuse"),
        (unsigned long long)V("allocator_page_parses"), (unsigned long long)a.puts,
        (unsigned long long)a.sibling_fixes, (unsigned long long)V("allocator_builds"),
        (unsigned long long)a.splits, (unsigned long long)a.root_inits, shape.leaves.size(),
        100 * shape.AverageFill(false), static_cast<double>(V("key_decodes")) / 20000,
        static_cast<double>(V("key_cmps")) / 20000);
  }
}

// ---------------------------------------------------------------------------
// Fill and counters of bulk loads, for the notes. 10,000 keys in the
// default run; 1,000,000 with SOMBRA_BIG=1.

struct LoadNumbers {
  uint64_t n = 0;
  bool sequential = false;
  size_t leaves = 0;
  double avg_fill = 0, min_fill = 0;
  uint64_t builds = 0, parses = 0, reuse = 0, triggers = 0, splits = 0, shares = 0, failures = 0;
  uint64_t key_decodes = 0, key_cmps = 0;
  uint32_t height = 0;
  double seconds = 0;
};

class BTreeLoadTest : public BTreeCountersTest {
 protected:
  LoadNumbers Load(uint64_t n, bool sequential, const char* name) {
    LoadNumbers r;
    r.n = n;
    r.sequential = sequential;
    Open(4096, name);
    if (pager_ == nullptr) return r;
    metrics_.ResetAll();
    const auto t0 = std::chrono::steady_clock::now();
    {
      auto txn = pager_->BeginWrite();
      EXPECT_TRUE(txn.ok());
      if (!txn.ok()) return r;
      BTreeWriter w(txn->get(), &metrics_);
      // Random keys from a fixed seed (reproducible numbers); among 10^6
      // 64-bit keys a repeat has a probability of about 3e-8.
      std::mt19937_64 rng(0x5eed + n);
      for (uint64_t i = 0; i < n; ++i) {
        const uint64_t k = sequential ? i : rng();
        Status s = w.Put(BeKey(k), BeKey(i));
        EXPECT_TRUE(s.ok()) << s.ToString();
        if (!s.ok()) return r;
      }
      EXPECT_TRUE((*txn)->Commit().ok());
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ExpectVerified();
    const TreeShape shape = Shape();
    EXPECT_EQ(shape.error, "");
    r.leaves = shape.leaves.size();
    r.avg_fill = shape.AverageFill(true);
    r.min_fill = shape.MinFill(true);
    r.height = shape.height;
    r.builds = V("allocator_builds");
    r.parses = V("allocator_page_parses");
    r.reuse = V("allocator_cache_reuse");
    r.triggers = V("allocator_split_triggers");
    r.splits = V("leaf_splits");
    r.shares = V("leaf_shares");
    r.failures = V("allocator_failures");
    r.key_decodes = V("key_decodes");
    r.key_cmps = V("key_cmps");
    std::printf(
        "[ load     ] %llu %s 8-byte keys, one transaction, 4 KiB pages: %zu leaves = pages "
        "created (height %u), average fill %.1f%% (min %.1f%%, last leaf excluded); "
        "allocator_builds %llu (%.2f per page created), page parses %llu, cache reuse %llu; "
        "split triggers %llu = leaf splits %llu + leaf shares %llu, real failures %llu; "
        "key_decodes/insert %.3f, key_cmps/insert %.2f; %.2f s\n",
        (unsigned long long)n, sequential ? "sequential" : "random", r.leaves, r.height,
        100 * r.avg_fill, 100 * r.min_fill, (unsigned long long)r.builds,
        static_cast<double>(r.builds) / static_cast<double>(r.leaves), (unsigned long long)r.parses,
        (unsigned long long)r.reuse, (unsigned long long)r.triggers, (unsigned long long)r.splits,
        (unsigned long long)r.shares, (unsigned long long)r.failures,
        static_cast<double>(r.key_decodes) / static_cast<double>(n),
        static_cast<double>(r.key_cmps) / static_cast<double>(n), r.seconds);
    pager_.reset();
    return r;
  }

  // `random_fill`: the least average fill of a random load (a tree of a
  // few dozen leaves has proportionally more half-full leaves just split).
  void CheckLoad(const LoadNumbers& r, double random_fill = 0.85) {
    EXPECT_EQ(r.leaves, r.splits + 1);
    // One build per leaf created; a share edits both leaves in place.
    EXPECT_EQ(r.builds, 1 + r.splits);
    EXPECT_EQ(r.parses, 0u);
    EXPECT_EQ(r.triggers, r.splits + r.shares);
    EXPECT_EQ(r.failures, 0u);
    if (r.sequential) {
      EXPECT_EQ(r.shares, 0u);  // appends at the right edge always split
      EXPECT_GE(r.min_fill, 0.90);
    } else {
      // Shared with a sibling before splitting: about 86% (ln 2 without).
      EXPECT_GT(r.shares, 0u);
      EXPECT_GE(r.avg_fill, random_fill);
    }
  }
};

TEST_F(BTreeLoadTest, TenThousandSequentialAndRandomKeys) {
  CheckLoad(Load(10000, true, "seq10k"));
  CheckLoad(Load(10000, false, "rnd10k"), 0.82);
}

// Issue 13's fill target (>= 85% after random loads) on a tree of
// thousands of leaves; the 1M-key run below shows the same.
TEST_F(BTreeLoadTest, RandomLoadFillsLeavesToAtLeast85Percent) {
  CheckLoad(Load(200000, false, "rnd200k"));
}

TEST_F(BTreeLoadTest, OneMillionSequentialAndRandomKeys) {
  const char* big = std::getenv("SOMBRA_BIG");
  if (big == nullptr || std::string(big) != "1") GTEST_SKIP() << "set SOMBRA_BIG=1";
  CheckLoad(Load(1000000, true, "seq1m"));
  CheckLoad(Load(1000000, false, "rnd1m"));
}

// ---------------------------------------------------------------------------
// What the WAL logs.

class BTreeWalTest : public BTreeCountersTest {
 protected:
  // Puts `key` in its own transaction; returns the WAL growth and the
  // record counts it logged (deltas: delta and page-op records; ops: the
  // page-op records among them).
  struct Logged {
    uint64_t bytes = 0, images = 0, deltas = 0, ops = 0, splits = 0, internal_splits = 0;
  };
  Logged PutOne(const std::string& key, const std::string& value) {
    Logged l;
    const uint64_t bytes0 = pager_->wal_bytes(), images0 = V("wal_image_records"),
                   deltas0 = V("wal_delta_records"), ops0 = V("wal_ops_records"),
                   splits0 = V("leaf_splits"), isplits0 = V("internal_splits");
    auto txn = pager_->BeginWrite();
    EXPECT_TRUE(txn.ok());
    if (!txn.ok()) return l;
    {
      BTreeWriter w(txn->get(), &metrics_);
      Status s = w.Put(key, value);
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    Status s = (*txn)->Commit();
    EXPECT_TRUE(s.ok()) << s.ToString();
    l.bytes = pager_->wal_bytes() - bytes0;
    l.images = V("wal_image_records") - images0;
    l.ops = V("wal_ops_records") - ops0;
    l.deltas = V("wal_delta_records") - deltas0 + l.ops;
    l.splits = V("leaf_splits") - splits0;
    l.internal_splits = V("internal_splits") - isplits0;
    return l;
  }

  // 2000 keys in random order: leaves with room, a root with children.
  void Populate() {
    std::mt19937_64 rng(7);
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    BTreeWriter w(txn->get(), &metrics_);
    for (int i = 0; i < 2000; ++i) ASSERT_TRUE(w.Put(BeKey(rng() >> 8), BeKey(i)).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
};

// After a checkpoint, a first insert into a leaf logs its edits as page
// ops on the page file's page (log format 8: the double-write file keeps
// that page whole), and so does a second insert in the next transaction:
// one record each, no image, fewer than 200 bytes of WAL.
TEST_F(BTreeWalTest, InsertIntoAnImagedLeafLogsASmallDelta) {
  Open();
  Populate();
  ASSERT_TRUE(pager_->Checkpoint().ok());
  const TreeShape shape = Shape(/*with_keys=*/true);
  ASSERT_EQ(shape.error, "");
  ASSERT_GE(shape.height, 2u);
  // A leaf in the middle with room for two more records.
  const LeafInfo* leaf = nullptr;
  for (size_t i = 1; i + 1 < shape.leaves.size() && leaf == nullptr; ++i) {
    if (shape.leaves[i].free >= 200 && shape.leaves[i].records >= 2) leaf = &shape.leaves[i];
  }
  ASSERT_NE(leaf, nullptr);
  // Both keys sort between the leaf's first and second keys: slot 1, then
  // slot 1 again (the second goes before the first).
  const std::string first = leaf->keys[0] + std::string("\x02", 1);
  const std::string second = leaf->keys[0] + std::string("\x01", 1);
  const Logged imaged = PutOne(first, "v1");
  EXPECT_EQ(imaged.images, 0u) << "the first change since the checkpoint is no image";
  EXPECT_EQ(imaged.ops, 1u);
  EXPECT_EQ(imaged.splits, 0u);
  EXPECT_LT(imaged.bytes, 200u);
  const Logged delta = PutOne(second, "v2");
  EXPECT_EQ(delta.splits, 0u);
  EXPECT_EQ(delta.deltas, 1u);
  EXPECT_EQ(delta.ops, 1u);
  EXPECT_EQ(delta.images, 0u);
  EXPECT_LT(delta.bytes, 200u);
  ExpectVerified();
  std::printf(
      "[ wal      ] first insert after a checkpoint: %llu bytes (page ops); next insert "
      "at slot 1: %llu bytes (page ops)\n",
      (unsigned long long)imaged.bytes, (unsigned long long)delta.bytes);
}

// The same, at the last slot of a leaf with many records, which shifts
// every slot before it: the shift is one move op, so the record is as
// small as at slot 1 (as a delta it carried the whole shifted directory,
// ~8 bytes per record).
TEST_F(BTreeWalTest, InsertAtTheEndOfALeafLogsTheShiftedSlots) {
  Open();
  Populate();
  ASSERT_TRUE(pager_->Checkpoint().ok());
  const TreeShape shape = Shape(/*with_keys=*/true);
  const LeafInfo* leaf = nullptr;
  for (size_t i = 1; i + 1 < shape.leaves.size() && leaf == nullptr; ++i) {
    if (shape.leaves[i].free >= 200 && shape.leaves[i].records >= 40) leaf = &shape.leaves[i];
  }
  ASSERT_NE(leaf, nullptr);
  const std::string& last = leaf->keys.back();
  const Logged imaged = PutOne(last + std::string("\x02", 1), "v1");
  EXPECT_EQ(imaged.images, 0u);
  EXPECT_EQ(imaged.ops, 1u);
  const Logged delta = PutOne(last + std::string("\x03", 1), "v2");
  EXPECT_EQ(delta.splits, 0u);
  EXPECT_EQ(delta.deltas, 1u);
  EXPECT_EQ(delta.ops, 1u);
  EXPECT_EQ(delta.images, 0u);
  EXPECT_LT(delta.bytes, 200u);
  ExpectVerified();
  std::printf("[ wal      ] insert at slot %zu of %zu: %llu bytes of WAL (page ops)\n",
              leaf->records + 1, leaf->records + 2, (unsigned long long)delta.bytes);
}

// A split whose parent already has an image since the checkpoint logs
// exactly one image (the new right page) and two small records: the split
// page's own edits, made in place (its high fence and right link; no
// record moves in this append split), and the parent's new separator.
//
// Setup: a sequential load whose rightmost leaf is then filled to the
// last record that fits; a checkpoint; a transaction that splits the first
// leaf (a large value into a full leaf), which images the root; then the
// measured transaction appends one key: the rightmost leaf splits (no right
// sibling, so no sibling link to fix) and the root gains a separator.
// A split in the middle of the tree (log format 12) logs no image: its
// new leaf is a copy of the split page's last commit that lets the left
// half go in place (PagerTxn::NoteCloned), a few dozen bytes of page ops;
// the split page and the parent get page ops too.
TEST_F(BTreeWalTest, SplitInTheMiddleLogsACopyAndNoImage) {
  Open();
  {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    BTreeWriter w(txn->get(), &metrics_);
    for (uint64_t i = 0; i < 1000; ++i) ASSERT_TRUE(w.Put(BeKey(2 * i), BeKey(i)).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  const TreeShape before = Shape();
  ASSERT_GE(before.leaves.size(), 4u);
  ASSERT_TRUE(pager_->Checkpoint().ok());
  // An odd key inside the second leaf: it and its neighbours are full
  // (a sequential load fills leaves), so it splits.
  const uint64_t in_second = before.leaves[0].records + before.leaves[1].records / 2;
  const Logged split = PutOne(BeKey(2 * in_second + 1), BeKey(1));
  EXPECT_EQ(split.splits, 1u);
  EXPECT_EQ(split.images, 0u) << "the new leaf is page ops";
  EXPECT_GE(split.ops, 3u) << "the new leaf, the split page and the parent";
  EXPECT_EQ(V("wal_copy_ops"), 1u) << "the new leaf, one copy of the split page";
  EXPECT_LT(split.bytes, 400u) << split.bytes;
  const TreeShape after = Shape();
  ASSERT_EQ(after.error, "");
  EXPECT_EQ(after.leaves.size(), before.leaves.size() + 1);
  ExpectVerified();
  std::printf(
      "[ wal      ] split in the middle of the tree: %llu images, %llu op records, %llu bytes\n",
      (unsigned long long)split.images, (unsigned long long)split.ops,
      (unsigned long long)split.bytes);
}

TEST_F(BTreeWalTest, SplitLogsOneImageAndTwoSmallRecords) {
  Open();
  constexpr uint32_t kRecord = 1 + 1 + 8 + 8 + kSlotSize;  // key 8, value 8, slot
  uint64_t next = 0;
  {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    BTreeWriter w(txn->get(), &metrics_);
    for (; next < 1000; ++next) ASSERT_TRUE(w.Put(BeKey(2 * next), BeKey(next)).ok());
    TreeWalker walker(TxnReader(txn->get()), pager_->page_size());
    for (;;) {  // fill the rightmost leaf to the last record that fits
      TreeShape s = walker.Walk((*txn)->root());
      ASSERT_EQ(s.error, "");
      if (s.leaves.back().free < kRecord) break;
      ASSERT_TRUE(w.Put(BeKey(2 * next), BeKey(next)).ok());
      ++next;
    }
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  const TreeShape before = Shape();
  ASSERT_EQ(before.height, 2u);
  ASSERT_GE(before.leaves.size(), 3u);
  ASSERT_TRUE(pager_->Checkpoint().ok());

  // Split the first leaf: the root gets its image since the checkpoint.
  const Logged first = PutOne(BeKey(1), std::string(1000, 'x'));
  ASSERT_EQ(first.splits, 1u);
  ASSERT_EQ(first.internal_splits, 0u);

  const uint32_t root = pager_->published().root;
  const Logged split = PutOne(BeKey(2 * next), BeKey(next));
  EXPECT_EQ(split.splits, 1u);
  EXPECT_EQ(split.internal_splits, 0u);
  EXPECT_EQ(pager_->published().root, root) << "the root did not split";
  EXPECT_EQ(split.images, 1u) << "the new right page";
  EXPECT_EQ(split.deltas, 2u) << "the split page and the parent";
  // One image (at most a page and its 28 bytes of headers) and two records
  // of a few dozen bytes; a rewritten split page would add a second image.
  EXPECT_LT(split.bytes, pager_->page_size() + 28 + 2 * 256) << split.bytes;
  const TreeShape after = Shape();
  ASSERT_EQ(after.error, "");
  EXPECT_EQ(after.leaves.size(), before.leaves.size() + 2);
  ExpectVerified();
  std::printf(
      "[ wal      ] leaf split with an imaged parent: %llu images, %llu deltas, %llu "
      "bytes\n",
      (unsigned long long)split.images, (unsigned long long)split.deltas,
      (unsigned long long)split.bytes);
}

}  // namespace
}  // namespace sombra::btree::model_test
