// BTreeWriter::DeleteRange against a model: empty ranges, one key, ranges
// inside a leaf, across leaves and whole subtrees, the whole tree, with
// overflow values, over several transactions; the pages it frees.
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

class BTreeRangeTest : public FastPagerTreeTest {
 protected:
  // Deletes [b, e) in the tree and the model; checks the count.
  void Range(BTreeWriter* w, const std::string& b, const std::string& e) {
    uint64_t deleted = 0;
    Status s = w->DeleteRange(b, e, &deleted);
    ASSERT_TRUE(s.ok()) << s.ToString();
    uint64_t want = 0;
    if (b < e) {
      for (auto it = model_.lower_bound(b); it != model_.end() && it->first < e;) {
        it = model_.erase(it);
        ++want;
      }
    }
    EXPECT_EQ(deleted, want) << "[" << b.size() << " bytes, " << e.size() << " bytes)";
  }
  void Load(uint64_t n, uint64_t step, size_t big_every) {
    Write([&](BTreeWriter* w) {
      for (uint64_t i = 0; i < n; ++i) {
        const std::string v =
            big_every != 0 && i % big_every == 0 ? std::string(7000, 'o') : BeKey(i);
        ASSERT_TRUE(w->Put(BeKey(i * step), v).ok());
        model_[BeKey(i * step)] = v;
      }
    });
  }
  pager::TreeState State() { return pager_->BeginRead()->state(); }
};

TEST_F(BTreeRangeTest, EdgeCasesMatchTheModel) {
  Load(20000, 10, 500);
  Write([&](BTreeWriter* w) {
    Range(w, BeKey(500), BeKey(500));                 // empty: begin == end
    Range(w, BeKey(501), BeKey(509));                 // empty: no key inside
    Range(w, BeKey(700), BeKey(701));                 // one key
    Range(w, BeKey(1000), BeKey(1200));               // inside one leaf
    Range(w, BeKey(5005), BeKey(60005));              // across many leaves and subtrees
    Range(w, "", BeKey(30));                          // from before the first key
    Range(w, BeKey(190000), std::string(9, '\xff'));  // past the last key
    EXPECT_TRUE(w->DeleteRange(BeKey(9), BeKey(8), nullptr).IsInvalidArgument());
  });
  ExpectTree();
  Write([&](BTreeWriter* w) { Range(w, "", std::string(9, '\xff')); });  // everything
  ExpectTree();
  EXPECT_TRUE(model_.empty());
  // The tree takes keys again.
  Write([&](BTreeWriter* w) {
    ASSERT_TRUE(w->Put(BeKey(5), "again").ok());
    model_[BeKey(5)] = "again";
  });
  ExpectTree();
}

// Emptied leaves and overflow chains go to the freelist: the file does not
// grow, and the free count rises by what the deleted part held.
TEST_F(BTreeRangeTest, FreesTheLeavesAndOverflowPagesOfTheRange) {
  Load(50000, 1, 1000);  // 50 overflow values of 2 pages
  const pager::TreeState before = State();
  const uint64_t log_before = metrics_.Value("wal_bytes");
  const uint64_t merges_before = metrics_.Value("leaf_merges");
  Write([&](BTreeWriter* w) { Range(w, BeKey(1000), BeKey(49000)); });
  const pager::TreeState after = State();
  const uint64_t log_bytes = metrics_.Value("wal_bytes") - log_before;
  EXPECT_EQ(after.page_count, before.page_count);
  // 48,000 of 50,000 keys: ~96% of ~300 leaves, 48 overflow chains of 2.
  std::printf("[ range    ] 48,000 of 50,000 keys: free pages %llu -> %llu of %llu\n",
              static_cast<unsigned long long>(before.freelist_count),
              static_cast<unsigned long long>(after.freelist_count),
              static_cast<unsigned long long>(after.page_count));
  EXPECT_GE(after.freelist_count, before.freelist_count + 96 + 250) << after.freelist_count;
  // Whole leaves are freed, not emptied and merged away one by one: a
  // handful of merges where a leaf at a time made one per leaf (~290).
  const uint64_t freed = after.freelist_count - before.freelist_count;
  const uint64_t merges = metrics_.Value("leaf_merges") - merges_before;
  std::printf("[ range    ] log: %llu bytes, %llu leaf merges for %llu pages freed\n",
              static_cast<unsigned long long>(log_bytes), static_cast<unsigned long long>(merges),
              static_cast<unsigned long long>(freed));
  EXPECT_LT(merges, 20u);
  ExpectTree();
}

TEST_F(BTreeRangeTest, RandomRangesWithPutsMatchTheModel) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  Load(30000, 7, 300);
  for (int t = 0; t < 30; ++t) {
    Write([&](BTreeWriter* w) {
      for (int op = 0; op < 20; ++op) {
        const uint64_t a = rng() % 220000, len = rng() % (rng() % 4 == 0 ? 60000 : 300);
        if (rng() % 3 == 0) {
          Range(w, BeKey(a), BeKey(a + len));
        } else {
          for (uint64_t k = 0; k < 50; ++k) {
            const std::string key = BeKey(a + k * 3);
            const std::string v = rng() % 40 == 0 ? std::string(5000, 'x') : "p";
            ASSERT_TRUE(w->Put(key, v).ok());
            model_[key] = v;
          }
        }
      }
    });
    ExpectTree();
    if (HasFailure()) FAIL() << "transaction " << t;
  }
}

// 300-byte keys make a tree of four levels from 12,000 keys, so ranges
// cover whole subtrees above level 1 (freed in one step, their records
// counted, not erased) as well as whole leaves and parts of leaves.
TEST_F(BTreeRangeTest, RangesOverATallTreeMatchTheModel) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  auto key = [](uint64_t i) { return std::string(292, 'k') + BeKey(i); };
  Write([&](BTreeWriter* w) {
    for (uint64_t i = 0; i < 12000; ++i) {
      const std::string v = i % 700 == 0 ? std::string(6000, 'o') : "v";
      ASSERT_TRUE(w->Put(key(i * 2), v).ok());
      model_[key(i * 2)] = v;
    }
  });
  const uint64_t merges_before = metrics_.Value("leaf_merges");
  Write([&](BTreeWriter* w) { Range(w, key(2001), key(21001)); });  // ~80% of the tree
  EXPECT_LT(metrics_.Value("leaf_merges") - merges_before, 20u);
  ExpectTree();
  for (int t = 0; t < 20 && !HasFailure(); ++t) {
    Write([&](BTreeWriter* w) {
      for (int op = 0; op < 6; ++op) {
        const uint64_t a = rng() % 26000, len = rng() % (rng() % 2 == 0 ? 12000 : 100);
        if (rng() % 2 == 0) {
          Range(w, key(a), key(a + len));
        } else {
          for (uint64_t k = 0; k < 400; ++k) {
            const std::string kk = key(a + k);
            ASSERT_TRUE(w->Put(kk, "p").ok());
            model_[kk] = "p";
          }
        }
      }
    });
    ExpectTree();
    if (HasFailure()) FAIL() << "transaction " << t;
  }
}

}  // namespace
}  // namespace sombra::btree::model_test
