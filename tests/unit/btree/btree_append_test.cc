// BTreeWriter::Append: sorted bulk load into the rightmost leaf, with no
// descent per key and leaves filled completely; keys out of order are
// refused before anything is written.
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

class BTreeAppendTest : public FastPagerTreeTest {
 protected:
  uint64_t V(const char* name) const { return metrics_.Value(name); }

  void Append(BTreeWriter* w, const std::string& k, const std::string& v) {
    Status s = w->Append(k, v);
    ASSERT_TRUE(s.ok()) << s.ToString();
    model_[k] = v;
  }
};

// 1,000,000 keys appended in one transaction: every leaf but the last is
// filled completely (as a sequential Put load fills them), and the keys
// cost no descent each: one descent per leaf filled (after its split), no
// key comparisons on the way (Put compares ~16 times per key).
TEST_F(BTreeAppendTest, FillsLeavesCompletelyWithoutADescentPerKey) {
  const uint64_t cmps0 = V("key_cmps");
  uint64_t descents = 0;
  Write([&](BTreeWriter* w) {
    for (uint64_t i = 0; i < 1000000; ++i) Append(w, BeKey(i * 3), BeKey(i));
    descents = w->append_descents();
  });
  const uint64_t cmps = V("key_cmps") - cmps0;
  const TreeShape shape = Shape();
  ASSERT_EQ(shape.error, "");
  const double fill = shape.AverageFill(/*skip_last=*/true);
  std::printf("[ append   ] 1000000 keys: %zu leaves, fill %.1f%%, %llu descents\n",
              shape.leaves.size(), 100 * fill, static_cast<unsigned long long>(descents));
  EXPECT_GE(fill, 0.99);
  for (size_t i = 0; i + 1 < shape.leaves.size(); ++i) {
    ASSERT_GE(shape.leaves[i].used, 0.99 * shape.leaves[i].capacity) << "leaf " << i;
  }
  EXPECT_LT(cmps, 1000000u / 4);
  EXPECT_LE(descents, shape.leaves.size() + 1);
  EXPECT_EQ(V("leaf_shares"), 0u);
  ExpectTree();
}

// A key equal to or below the tree's last key is InvalidArgument and
// changes nothing - not even an overflow chain for a large value - and the
// writer goes on appending; this holds for the last key of an earlier
// transaction, of this one, and after Put and Delete moved the end.
TEST_F(BTreeAppendTest, OutOfOrderKeyIsRefusedWithNothingWritten) {
  Write([&](BTreeWriter* w) {
    for (uint64_t i = 1; i <= 500; ++i) Append(w, BeKey(i * 10), "v");
  });
  Write([&](BTreeWriter* w) {
    for (uint64_t k : {uint64_t{5000}, uint64_t{4990}, uint64_t{10}, uint64_t{0}}) {
      Status s = w->Append(BeKey(k), std::string(20000, 'x'));
      EXPECT_TRUE(s.IsInvalidArgument()) << k << ": " << s.ToString();
    }
    EXPECT_EQ(V("overflow_pages"), 0u);
    Append(w, BeKey(5001), "a");
    EXPECT_TRUE(w->Append(BeKey(5001), "b").IsInvalidArgument());
    // Put beyond the end moves it; Append follows.
    ASSERT_TRUE(w->Put(BeKey(9000), "p").ok());
    model_[BeKey(9000)] = "p";
    EXPECT_TRUE(w->Append(BeKey(8000), "c").IsInvalidArgument());
    Append(w, BeKey(9001), std::string(9000, 'o'));  // an overflow value
    // Deleting the last keys moves the end back.
    bool existed = false;
    ASSERT_TRUE(w->Delete(BeKey(9001), &existed).ok());
    ASSERT_TRUE(existed);
    model_.erase(BeKey(9001));
    ASSERT_TRUE(w->Delete(BeKey(9000), &existed).ok());
    model_.erase(BeKey(9000));
    Append(w, BeKey(8000), "d");
  });
  ExpectTree();
}

// Append and Put mixed at random in each transaction, Deletes too, over
// several transactions: the tree always equals the model.
TEST_F(BTreeAppendTest, MixedWithPutAndDeleteMatchesAModel) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  uint64_t next = 1000;
  for (int t = 0; t < 20; ++t) {
    Write([&](BTreeWriter* w) {
      for (int op = 0; op < 2000; ++op) {
        const int kind = static_cast<int>(rng() % 10);
        if (kind < 6) {
          next += 1 + rng() % 5;
          const size_t len = rng() % 20 == 0 ? 3000 + rng() % 6000 : rng() % 40;
          Append(w, BeKey(next), std::string(len, static_cast<char>('a' + op % 26)));
        } else if (kind < 9) {
          const std::string k = BeKey(rng() % (next + 100));
          ASSERT_TRUE(w->Put(k, "put").ok());
          model_[k] = "put";
          if (k > BeKey(next)) next = next + 100;  // stay past every key
        } else if (!model_.empty()) {
          auto it = model_.lower_bound(BeKey(rng() % (next + 1)));
          if (it == model_.end()) --it;
          bool existed = false;
          ASSERT_TRUE(w->Delete(it->first, &existed).ok());
          ASSERT_TRUE(existed);
          model_.erase(it);
        }
      }
    });
    ExpectTree();
    if (HasFailure()) FAIL() << "transaction " << t;
  }
}

}  // namespace
}  // namespace sombra::btree::model_test
