// Leaf layouts kept between write transactions (btree/layout_cache.h): a
// kept layout serves the next transaction without a parse, one that no
// longer describes its page is dropped and the leaf parsed, and the budget
// holds.
#include "btree/layout_cache.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <unordered_map>

#include "btree/btree.h"
#include "pager/pager.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"

namespace sombra::btree {
namespace {

class LayoutCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options o;
    o.durability = Durability::kOff;
    auto p = pager::Pager::Open(Env::Default(), dir_.File("db"), o);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pager_ = std::move(p).value();
  }
  uint64_t Parses() { return pager_->metrics()->Value("allocator_page_parses"); }
  // One committed transaction of `n` random puts through a writer sharing
  // `cache` (null: none); its layouts are kept when `keep`.
  void PutRandom(LayoutCache* cache, int n, bool keep) {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    BTreeWriter w(txn->get(), pager_->metrics());
    w.ShareLayouts(cache);
    for (int i = 0; i < n; ++i) {
      const std::string key = "k" + std::to_string(rng_() % 1000000);
      const std::string value = std::to_string(rng_());
      ASSERT_TRUE(w.Put(key, value).ok());
      model_[key] = value;
    }
    auto layouts = w.ReleaseLayouts();
    ASSERT_TRUE((*txn)->Commit().ok());
    if (keep) cache->Keep(std::move(layouts));
  }
  // The tree verifies and holds exactly the model.
  void ExpectModel() {
    auto snap = pager_->BeginRead();
    Status s = VerifyTree(*snap);
    ASSERT_TRUE(s.ok()) << s.ToString();
    TreeCursor cur(SnapshotReader(snap.get()), pager_->page_size(), snap->state().root, nullptr);
    auto it = model_.begin();
    for (cur.SeekToFirst(); cur.Valid(); cur.Next(), ++it) {
      ASSERT_NE(it, model_.end());
      ASSERT_EQ(cur.key(), it->first);
      ASSERT_EQ(cur.value(), it->second);
    }
    EXPECT_TRUE(cur.status().ok());
    EXPECT_EQ(it, model_.end());
  }

  sombra::test::TempDir dir_;
  std::unique_ptr<pager::Pager> pager_;
  std::mt19937_64 rng_{sombra::test::TestSeed()};
  std::map<std::string, std::string> model_;
};

TEST_F(LayoutCacheTest, KeptLayoutsServeTheNextTransactionsWithoutParsing) {
  LayoutCache cache;
  PutRandom(&cache, 3000, /*keep=*/true);
  ASSERT_GT(cache.layouts(), 10u);
  const uint64_t parses = Parses();
  for (int t = 0; t < 5; ++t) PutRandom(&cache, 1000, /*keep=*/true);
  EXPECT_EQ(Parses(), parses);  // every leaf came from the cache or a split
  ExpectModel();
  // Without the cache, the same work parses every leaf it touches.
  PutRandom(nullptr, 1000, /*keep=*/false);
  EXPECT_GT(Parses(), parses + 10);
  ExpectModel();
}

TEST_F(LayoutCacheTest, ALayoutThatNoLongerDescribesItsPageIsDroppedAndTheLeafParsed) {
  LayoutCache cache;
  PutRandom(&cache, 3000, /*keep=*/true);
  const size_t kept = cache.layouts();
  // A transaction that does not share the cache changes leaves under it.
  PutRandom(nullptr, 300, /*keep=*/false);
  const uint64_t parses = Parses();
  PutRandom(&cache, 300, /*keep=*/false);
  // The leaves the second transaction changed had stale layouts: parsed.
  EXPECT_GT(Parses(), parses);
  EXPECT_LT(cache.layouts(), kept);
  ExpectModel();
}

// A kept layout is served only while its page is still at the LSN it was
// kept at (the commit that kept it): a later commit that changed the leaf
// without the cache - here a same-size value written in place, which
// leaves the header and the slot directory as they were - makes the next
// transaction parse the leaf again.
TEST_F(LayoutCacheTest, ALayoutIsServedOnlyAtThePageLsnItWasKeptAt) {
  LayoutCache cache;
  PutRandom(&cache, 3000, /*keep=*/true);
  ASSERT_GT(cache.layouts(), 10u);
  const std::string key = model_.begin()->first;
  const std::string same_size(model_.begin()->second.size(), 'x');
  {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    BTreeWriter w(txn->get(), pager_->metrics());  // no cache: nothing kept
    ASSERT_TRUE(w.Put(key, same_size).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
    model_[key] = same_size;
  }
  const uint64_t parses = Parses();
  {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    BTreeWriter w(txn->get(), pager_->metrics());
    w.ShareLayouts(&cache);
    ASSERT_TRUE(w.Put(key, same_size).ok());
    w.FlushCounters();
    EXPECT_EQ(Parses(), parses + 1) << "the leaf's kept layout is at an older LSN";
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  ExpectModel();
}

TEST_F(LayoutCacheTest, TheBudgetDropsOlderLayouts) {
  // The layouts of one committed transaction, and their slot count.
  std::unordered_map<uint32_t, LeafLayout> layouts;
  {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    BTreeWriter w(txn->get(), pager_->metrics());
    for (int i = 0; i < 3000; ++i) ASSERT_TRUE(w.Put("k" + std::to_string(i), "v").ok());
    layouts = w.ReleaseLayouts();
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  ASSERT_GT(layouts.size(), 2u);
  size_t total = 0;
  for (const auto& [page_no, layout] : layouts) total += layout.size();
  const auto one = [&] {  // a copy of one layout
    std::unordered_map<uint32_t, LeafLayout> m;
    m.insert(*layouts.begin());
    return m;
  };
  const size_t one_slots = layouts.begin()->second.size();
  ASSERT_GT(one_slots, 0u);

  // More than the budget at once: nothing is kept.
  LayoutCache small(total - 1);
  small.Keep(std::unordered_map<uint32_t, LeafLayout>(layouts));
  EXPECT_EQ(small.slots(), 0u);
  EXPECT_EQ(small.layouts(), 0u);

  // Exactly the budget: all kept. One more layout does not fit beside
  // them: the older ones are dropped and it is kept alone.
  LayoutCache exact(total);
  exact.Keep(std::unordered_map<uint32_t, LeafLayout>(layouts));
  EXPECT_EQ(exact.slots(), total);
  EXPECT_EQ(exact.layouts(), layouts.size());
  std::unordered_map<uint32_t, LeafLayout> other;
  other.emplace(layouts.begin()->first + 100000, layouts.begin()->second);  // another page
  exact.Keep(std::move(other));
  EXPECT_EQ(exact.layouts(), 1u);
  EXPECT_EQ(exact.slots(), one_slots);

  // Keeping a page's layout again replaces it, counted once.
  LayoutCache roomy(2 * total);
  roomy.Keep(std::unordered_map<uint32_t, LeafLayout>(layouts));
  roomy.Keep(one());
  EXPECT_EQ(roomy.slots(), total);
  EXPECT_EQ(roomy.layouts(), layouts.size());
}

}  // namespace
}  // namespace sombra::btree
