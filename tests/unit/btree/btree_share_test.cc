// A full leaf sharing its records with a sibling instead of splitting
// (BtreeOptions::share_fill): to the right neighbour and to the left one,
// with the new record or a grown update moving along or staying, in place
// through LeafAllocator (logged as page ops, never as images), and
// recovered from the log alone; a random workload with shares, deletes and
// overflow values against a std::map.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "btree/btree.h"
#include "btree_model_util.h"
#include "pager/pager.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"

namespace sombra::btree::model_test {
namespace {

using KV = std::map<std::string, std::string>;

class BTreeShareTest : public ::testing::Test {
 protected:
  void SetUp() override { pager_ = OpenAt(dir_.File("db")); }

  std::unique_ptr<pager::Pager> OpenAt(const std::string& path) {
    Options o;
    o.page_size = 4096;
    o.durability = Durability::kNormal;
    auto p = pager::Pager::Open(Env::Default(), path, o, {}, &metrics_);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(p).value() : nullptr;
  }
  uint64_t V(const char* name) const { return metrics_.Value(name); }

  // One committed transaction of `edit`, which mirrors itself in model_.
  void Write(const std::function<void(BTreeWriter*)>& edit) {
    CommitEdit(pager_.get(), &metrics_, edit);
  }
  void Put(BTreeWriter* w, const std::string& k, const std::string& v) {
    Status s = w->Put(k, v);
    ASSERT_TRUE(s.ok()) << s.ToString();
    model_[k] = v;
  }
  void Del(BTreeWriter* w, const std::string& k) {
    bool existed = false;
    ASSERT_TRUE(w->Delete(k, &existed).ok());
    ASSERT_TRUE(existed);
    model_.erase(k);
  }

  TreeShape Shape() {
    auto snap = pager_->BeginRead();
    TreeWalker walker(SnapshotReader(snap.get()), pager_->page_size());
    return walker.Walk(snap->state().root);
  }
  // The tree verifies and holds exactly the model.
  static void ExpectTree(pager::Pager* pager, const KV& model) { ExpectTreeHolds(pager, model); }
  // A copy of the files as they are now (the page file as the last
  // checkpoint left it, the log holding everything since: a crash) opens,
  // replays the log, and gives the same tree.
  void ExpectRecoveredCopy() {
    const std::string copy = dir_.File("copy");
    sombra::test::WriteFileOrDie(copy, sombra::test::ReadFileOrDie(dir_.File("db")));
    sombra::test::WriteFileOrDie(copy + "-wal",
                                 sombra::test::ReadFileOrDie(dir_.File("db") + "-wal"));
    std::unique_ptr<pager::Pager> p = OpenAt(copy);
    ASSERT_NE(p, nullptr);
    ExpectTree(p.get(), model_);
  }

  // Keys 0, 10, 20, ... in one transaction: three leaves, the first two
  // full (a sequential load fills them), the last about half full.
  void LoadThreeLeaves() {
    Write([&](BTreeWriter* w) {
      for (uint64_t i = 0; i < 430; ++i) Put(w, BeKey(i * 10), BeKey(i));
    });
    const TreeShape shape = Shape();
    ASSERT_EQ(shape.error, "");
    ASSERT_EQ(shape.leaves.size(), 3u);
    ASSERT_GT(shape.leaves[1].used, 0.97 * shape.leaves[1].capacity);
    ASSERT_LT(shape.leaves[2].used, 0.8 * shape.leaves[2].capacity);
  }

  // Fills leaf `i` (of three) to the last record that fits with keys
  // 10k + 1 inside its range, `first` its first key's k: the next insert
  // into it misses.
  void FillLeaf(size_t i, size_t first) {
    const LeafInfo leaf = Shape().leaves[i];
    Write([&](BTreeWriter* w) {
      for (size_t j = 0; j < leaf.free / (18 + kSlotSize); ++j)
        Put(w, BeKey((first + j) * 10 + 1), BeKey(j));
    });
    const TreeShape shape = Shape();
    ASSERT_EQ(shape.leaves.size(), 3u);
    ASSERT_LT(shape.leaves[i].free, 18u + 8u);
  }

  // The logged cost of one transaction.
  struct Logged {
    uint64_t bytes, images, ops, copies;
  };
  Logged LogNow() const {
    return {pager_->wal_bytes(), V("wal_image_records"), V("wal_ops_records"), V("wal_copy_ops")};
  }

  sombra::test::TempDir dir_;
  MetricsRegistry metrics_;
  std::unique_ptr<pager::Pager> pager_;
  KV model_;
};

// Used bytes of two leaves that were shared evenly differ by at most two
// records of this test's size (18-byte records and 8-byte slots).
constexpr uint32_t kEven = 2 * (18 + kSlotSize);

TEST_F(BTreeShareTest, FullLeafSharesWithItsRightNeighbourInPlace) {
  LoadThreeLeaves();
  FillLeaf(1, Shape().leaves[0].records);
  const TreeShape before = Shape();
  const Logged log0 = LogNow();
  const uint64_t splits0 = V("leaf_splits"), shares0 = V("leaf_shares");
  // An odd key inside the second leaf: it is full, the first is full too,
  // the third has room.
  const size_t a = before.leaves[0].records, b = before.leaves[1].records;
  Write([&](BTreeWriter* w) { Put(w, BeKey((a + b / 2) * 10 + 5), BeKey(1)); });
  EXPECT_EQ(V("leaf_shares") - shares0, 1u);
  EXPECT_EQ(V("leaf_splits") - splits0, 0u);
  const TreeShape after = Shape();
  ASSERT_EQ(after.error, "");
  ASSERT_EQ(after.leaves.size(), 3u);
  EXPECT_EQ(after.leaves[0].records, before.leaves[0].records);
  EXPECT_LT(after.leaves[1].records, before.leaves[1].records);
  EXPECT_GT(after.leaves[2].records, before.leaves[2].records);
  EXPECT_EQ(after.leaves[1].records + after.leaves[2].records,
            before.leaves[1].records + before.leaves[2].records + 1);
  EXPECT_NEAR(double(after.leaves[1].used), double(after.leaves[2].used), kEven);
  EXPECT_EQ(after.leaves[1].high, after.leaves[2].low);
  EXPECT_NE(after.leaves[1].high, before.leaves[1].high);
  // Logged as page ops of the records that moved, copied from the leaf
  // that gave them (log format 12): no image, far less than the image a
  // split logs.
  const Logged log1 = LogNow();
  EXPECT_EQ(log1.images, log0.images);
  EXPECT_GE(log1.ops - log0.ops, 2u);
  EXPECT_GE(log1.copies - log0.copies, 1u);
  EXPECT_LT(log1.bytes - log0.bytes, pager_->page_size() / 4);
  std::printf(
      "[ share    ] %llu records moved right: %llu log bytes, %llu op records, %llu copies\n",
      static_cast<unsigned long long>(after.leaves[2].records - before.leaves[2].records),
      static_cast<unsigned long long>(log1.bytes - log0.bytes),
      static_cast<unsigned long long>(log1.ops - log0.ops),
      static_cast<unsigned long long>(log1.copies - log0.copies));
  ExpectTree(pager_.get(), model_);
  ExpectRecoveredCopy();
}

TEST_F(BTreeShareTest, FullLeafSharesWithItsLeftNeighbourInPlace) {
  LoadThreeLeaves();
  // Empty the first leaf to about 40% (above the merge threshold), so it
  // has more room than the third.
  const size_t first = Shape().leaves[0].records;
  Write([&](BTreeWriter* w) {
    for (size_t i = 1; i < first; i += 5) {
      for (size_t j = i; j < i + 3 && j < first; ++j) Del(w, BeKey(j * 10));
    }
  });
  FillLeaf(1, first);
  const TreeShape before = Shape();
  ASSERT_EQ(before.leaves.size(), 3u);
  ASSERT_LT(before.leaves[0].used, before.leaves[2].used);
  const uint64_t splits0 = V("leaf_splits"), shares0 = V("leaf_shares");
  Write([&](BTreeWriter* w) { Put(w, BeKey((first + 40) * 10 + 5), BeKey(1)); });
  EXPECT_EQ(V("leaf_shares") - shares0, 1u);
  EXPECT_EQ(V("leaf_splits") - splits0, 0u);
  const TreeShape after = Shape();
  ASSERT_EQ(after.error, "");
  ASSERT_EQ(after.leaves.size(), 3u);
  EXPECT_GT(after.leaves[0].records, before.leaves[0].records);
  EXPECT_EQ(after.leaves[2].records, before.leaves[2].records);
  EXPECT_NEAR(double(after.leaves[0].used), double(after.leaves[1].used), kEven);
  EXPECT_EQ(after.leaves[0].high, after.leaves[1].low);
  ExpectTree(pager_.get(), model_);
  ExpectRecoveredCopy();
}

// An update that grows in a full leaf shares too: the replaced record
// moves with the records the share hands over (the leaf's last key) or
// stays (its first key); either way one record per key is left.
TEST_F(BTreeShareTest, GrownUpdateOfTheLastKeyMovesWithTheShare) {
  LoadThreeLeaves();
  const TreeShape before = Shape();
  const size_t a = before.leaves[0].records, b = before.leaves[1].records;
  const std::string key = BeKey((a + b - 1) * 10);
  const uint64_t shares0 = V("leaf_shares");
  Write([&](BTreeWriter* w) { Put(w, key, std::string(300, 'x')); });
  EXPECT_EQ(V("leaf_shares") - shares0, 1u);
  const TreeShape after = Shape();
  ASSERT_EQ(after.leaves.size(), 3u);
  EXPECT_LE(after.leaves[2].low, key);  // now in the third leaf
  EXPECT_EQ(after.leaves[1].records + after.leaves[2].records,
            before.leaves[1].records + before.leaves[2].records);
  ExpectTree(pager_.get(), model_);
  ExpectRecoveredCopy();
}

TEST_F(BTreeShareTest, GrownUpdateOfTheFirstKeyStaysThroughTheShare) {
  LoadThreeLeaves();
  const TreeShape before = Shape();
  const std::string key = BeKey(before.leaves[0].records * 10);
  const uint64_t shares0 = V("leaf_shares");
  Write([&](BTreeWriter* w) { Put(w, key, std::string(300, 'y')); });
  EXPECT_EQ(V("leaf_shares") - shares0, 1u);
  const TreeShape after = Shape();
  ASSERT_EQ(after.leaves.size(), 3u);
  EXPECT_EQ(after.leaves[1].low, before.leaves[1].low);  // still the second leaf's
  EXPECT_GT(after.leaves[1].high, key);
  EXPECT_EQ(after.leaves[1].records + after.leaves[2].records,
            before.leaves[1].records + before.leaves[2].records);
  ExpectTree(pager_.get(), model_);
  ExpectRecoveredCopy();
}

// Random puts (values up to overflow size), updates and deletes in many
// transactions, the tree checked after each; shares happen, and a copy
// recovers from the log alone.
TEST_F(BTreeShareTest, RandomWorkloadWithSharesMatchesAModel) {
  const uint64_t seed = sombra::test::TestSeed();
  SCOPED_TRACE("SOMBRA_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int t = 0; t < 40; ++t) {
    Write([&](BTreeWriter* w) {
      for (int i = 0; i < 300; ++i) {
        const std::string key = BeKey(rng() % 20000);
        const uint64_t op = rng() % 10;
        if (op < 2 && model_.count(key) != 0) {
          Del(w, key);
        } else {
          const size_t len = rng() % 50 == 0 ? 5000 : rng() % 4 == 0 ? rng() % 300 : 8;
          Put(w, key, std::string(len, static_cast<char>('a' + rng() % 26)));
        }
      }
    });
    ExpectTree(pager_.get(), model_);
    if (HasFailure()) return;
  }
  EXPECT_GT(V("leaf_shares"), 0u);
  EXPECT_EQ(V("allocator_failures"), 0u);
  ExpectRecoveredCopy();
}

}  // namespace
}  // namespace sombra::btree::model_test
