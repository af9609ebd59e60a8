// Cursors: bytewise order, Seek, both directions, reversal at every
// position, large values, and write-transaction cursors that continue
// across the transaction's own Put and Delete (cursor.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "db_test_util.h"
#include "sombra/db.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"

namespace sombra::dbtest {
namespace {

class DbCursorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenOrDie(FastOptions(), path_);
    ASSERT_NE(db_, nullptr);
  }
  void TearDown() override { db_.reset(); }
  void PutAll(const KV& kv) {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db_->BeginWrite(&w).ok());
    for (const auto& [k, v] : kv) ASSERT_TRUE(w->Put(k, v).ok());
    ASSERT_TRUE(w->Commit().ok());
  }
  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
  std::unique_ptr<DB> db_;
};

std::string B(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

// Reads tally their B+tree counts and add them to the registry when the
// work ends: a Get when it returns, a cursor when it is destroyed (each
// record a cursor reaches is decoded once: key_decodes >= records).
TEST_F(DbCursorTest, ReadCountsReachStatsWhenTheReadEnds) {
  KV kv;
  for (int i = 0; i < 2000; ++i) kv[B({i >> 8, i & 255, 7})] = std::string(20, 'v');
  PutAll(kv);
  const auto decodes = [this] { return db_->GetStats().all.at("key_decodes"); };
  const auto cmps = [this] { return db_->GetStats().all.at("key_cmps"); };
  const uint64_t cmps0 = cmps();
  std::string v;
  ASSERT_TRUE(db_->Get(B({3, 0, 7}), &v).ok());
  const uint64_t cmps1 = cmps();
  EXPECT_GT(cmps1, cmps0);
  std::unique_ptr<ReadTxn> r;
  ASSERT_TRUE(db_->BeginRead(&r).ok());
  ASSERT_TRUE(r->Get(B({4, 1, 7}), &v).ok());
  EXPECT_GT(cmps(), cmps1);
  const uint64_t decodes0 = decodes();
  {
    auto c = r->NewCursor();
    size_t n = 0;
    for (c->SeekToFirst(); c->Valid(); c->Next()) ++n;
    EXPECT_EQ(n, kv.size());
    for (c->SeekToLast(); c->Valid(); c->Prev()) ++n;
    EXPECT_EQ(n, 2 * kv.size());
  }
  EXPECT_GE(decodes() - decodes0, 2 * kv.size());
}

TEST_F(DbCursorTest, NewCursorIsNotValidAndEmptyDatabase) {
  std::unique_ptr<ReadTxn> r;
  ASSERT_TRUE(db_->BeginRead(&r).ok());
  auto c = r->NewCursor();
  EXPECT_FALSE(c->Valid());
  c->SeekToFirst();
  EXPECT_FALSE(c->Valid());
  c->SeekToLast();
  EXPECT_FALSE(c->Valid());
  c->Seek("a");
  EXPECT_FALSE(c->Valid());
  EXPECT_TRUE(c->status().ok());
  ASSERT_TRUE(db_->Put("a", "1").ok());
  auto c2 = r->NewCursor();  // still the empty snapshot
  c2->SeekToFirst();
  EXPECT_FALSE(c2->Valid());
}

TEST_F(DbCursorTest, BytewiseOrderShorterFirstAndExtremeBytes) {
  const std::vector<std::string> sorted = {B({0x00}),
                                           B({0x00, 0x00}),
                                           B({0x00, 0x01}),
                                           B({0x01}),
                                           "A",
                                           "a",
                                           "ab",
                                           "abc",
                                           "abd",
                                           B({'a', 'b', 0xff}),
                                           "b",
                                           B({0x7f}),
                                           B({0x80}),
                                           B({0xfe, 0xff}),
                                           B({0xff}),
                                           B({0xff, 0x00}),
                                           B({0xff, 0xff}),
                                           B({0xff, 0xff, 0xff})};
  ASSERT_TRUE(std::is_sorted(sorted.begin(), sorted.end()));  // std::string is bytewise
  // Insert in a scrambled order.
  std::vector<std::string> order = sorted;
  std::reverse(order.begin(), order.end());
  std::rotate(order.begin(), order.begin() + 7, order.end());
  for (const auto& k : order) ASSERT_TRUE(db_->Put(k, "v" + k).ok());

  std::unique_ptr<ReadTxn> r;
  ASSERT_TRUE(db_->BeginRead(&r).ok());
  auto c = r->NewCursor();
  std::vector<std::string> got;
  for (c->SeekToFirst(); c->Valid(); c->Next()) {
    got.emplace_back(c->key());
    EXPECT_EQ(c->value(), "v" + got.back());
  }
  EXPECT_EQ(got, sorted);
  got.clear();
  for (c->SeekToLast(); c->Valid(); c->Prev()) got.emplace_back(c->key());
  std::reverse(got.begin(), got.end());
  EXPECT_EQ(got, sorted);
  // Seek to each key, and just past it (key + 0x00 sorts right after it).
  for (size_t i = 0; i < sorted.size(); ++i) {
    c->Seek(sorted[i]);
    ASSERT_TRUE(c->Valid());
    EXPECT_EQ(c->key(), sorted[i]);
    c->Seek(sorted[i] + std::string(1, '\0'));
    if (i + 1 < sorted.size()) {
      ASSERT_TRUE(c->Valid()) << i;
      EXPECT_EQ(c->key(), sorted[i + 1]);
    } else {
      EXPECT_FALSE(c->Valid());
    }
  }
}

// Many keys over many leaves, with some overflow values.
class DbCursorBigTest : public DbCursorTest {
 protected:
  void SetUp() override {
    DbCursorTest::SetUp();
    for (int i = 0; i < 3000; ++i) {
      // Even numbers only, so odd numbers fall between keys.
      std::string k = NumKey(2 * i, 10 + i % 23);
      std::string v = FillValue(i % 150 == 0 ? 9000 + i : i % 40, i);
      kv_[k] = v;
    }
    PutAll(kv_);
    keys_.clear();
    for (const auto& [k, v] : kv_) keys_.push_back(k);
  }
  KV kv_;
  std::vector<std::string> keys_;
};

TEST_F(DbCursorBigTest, SeekPastEndBeforeStartExactAndBetween) {
  std::unique_ptr<ReadTxn> r;
  ASSERT_TRUE(db_->BeginRead(&r).ok());
  auto c = r->NewCursor();
  c->Seek("\xff");  // past the end (keys start with digits)
  EXPECT_FALSE(c->Valid());
  EXPECT_TRUE(c->status().ok());
  c->Seek(B({0x00}));
  ASSERT_TRUE(c->Valid());
  EXPECT_EQ(c->key(), keys_.front());
  c->Seek("");
  ASSERT_TRUE(c->Valid());
  EXPECT_EQ(c->key(), keys_.front());
  c->Seek(keys_.back());
  ASSERT_TRUE(c->Valid());
  EXPECT_EQ(c->key(), keys_.back());
  c->Next();
  EXPECT_FALSE(c->Valid());
  for (int i = 0; i < 3000; i += 37) {
    std::string exact = NumKey(2 * i, 10 + i % 23);
    c->Seek(exact);
    ASSERT_TRUE(c->Valid());
    EXPECT_EQ(c->key(), exact);
    EXPECT_TRUE(c->value() == kv_[exact]);
    // Between: an odd number sorts between 2i and 2i+2.
    std::string between = NumKey(2 * i + 1, 8);
    c->Seek(between);
    auto want = kv_.lower_bound(between);
    if (want == kv_.end()) {
      EXPECT_FALSE(c->Valid());
    } else {
      ASSERT_TRUE(c->Valid());
      EXPECT_EQ(c->key(), want->first);
    }
  }
}

TEST_F(DbCursorBigTest, NextPrevReversalAtEveryPosition) {
  std::unique_ptr<ReadTxn> r;
  ASSERT_TRUE(db_->BeginRead(&r).ok());
  auto c = r->NewCursor();
  const size_t n = keys_.size();
  // Forward walk, reversing at each step.
  c->SeekToFirst();
  for (size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(c->Valid()) << i;
    ASSERT_EQ(c->key(), keys_[i]);
    if (i > 0) {
      c->Prev();
      ASSERT_TRUE(c->Valid());
      ASSERT_EQ(c->key(), keys_[i - 1]) << "Prev after Next at " << i;
      c->Next();
      ASSERT_TRUE(c->Valid());
      ASSERT_EQ(c->key(), keys_[i]) << "Next after Prev at " << i;
    }
    ASSERT_TRUE(c->value() == kv_[keys_[i]]);
    c->Next();
  }
  EXPECT_FALSE(c->Valid());
  // Backward walk, reversing at each step.
  c->SeekToLast();
  for (size_t j = n; j-- > 0;) {
    ASSERT_TRUE(c->Valid()) << j;
    ASSERT_EQ(c->key(), keys_[j]);
    if (j + 1 < n) {
      c->Next();
      ASSERT_TRUE(c->Valid());
      ASSERT_EQ(c->key(), keys_[j + 1]) << "Next after Prev at " << j;
      c->Prev();
      ASSERT_TRUE(c->Valid());
      ASSERT_EQ(c->key(), keys_[j]) << "Prev after Next at " << j;
    }
    c->Prev();
  }
  EXPECT_FALSE(c->Valid());
  EXPECT_TRUE(c->status().ok());
  // From the ends: a cursor that fell off can be re-positioned.
  c->SeekToFirst();
  c->Prev();
  EXPECT_FALSE(c->Valid());
  c->SeekToLast();
  ASSERT_TRUE(c->Valid());
  EXPECT_EQ(c->key(), keys_.back());
  c->Next();
  EXPECT_FALSE(c->Valid());
  c->Seek(keys_[n / 2]);
  ASSERT_TRUE(c->Valid());
  c->Prev();
  ASSERT_TRUE(c->Valid());
  EXPECT_EQ(c->key(), keys_[n / 2 - 1]);
}

TEST_F(DbCursorBigTest, LargeValuesThroughCursors) {
  std::unique_ptr<ReadTxn> r;
  ASSERT_TRUE(db_->BeginRead(&r).ok());
  auto c = r->NewCursor();
  size_t big = 0;
  for (c->SeekToFirst(); c->Valid(); c->Next()) {
    const std::string& want = kv_[std::string(c->key())];
    ASSERT_EQ(c->value().size(), want.size());
    ASSERT_TRUE(c->value() == want);
    if (want.size() > 4096) ++big;
  }
  EXPECT_EQ(big, 20u);
  // key() and value() stay valid while the cursor does not move, even
  // when other cursors and Gets run.
  c->Seek(NumKey(0, 10));
  ASSERT_TRUE(c->Valid());
  std::string_view k = c->key();
  std::string_view v = c->value();
  auto other = r->NewCursor();
  for (other->SeekToLast(); other->Valid(); other->Prev()) {
  }
  std::string tmp;
  ASSERT_TRUE(r->Get(keys_[100], &tmp).ok());
  EXPECT_EQ(k, NumKey(0, 10));
  EXPECT_TRUE(v == kv_[NumKey(0, 10)]);
}

TEST_F(DbCursorBigTest, RandomSeeksAgainstTheModel) {
  const uint64_t seed = sombra::test::TestSeed();
  std::mt19937_64 rng(seed);
  std::unique_ptr<ReadTxn> r;
  ASSERT_TRUE(db_->BeginRead(&r).ok());
  auto c = r->NewCursor();
  for (int iter = 0; iter < 2000; ++iter) {
    std::string target = NumKey(rng() % 6100, 1 + rng() % 30);
    target.resize(1 + rng() % target.size());
    c->Seek(target);
    auto it = kv_.lower_bound(target);
    int steps = static_cast<int>(rng() % 8);
    bool forward = rng() % 2;
    for (int s = 0; s < steps; ++s) {
      if (it == kv_.end()) {
        ASSERT_FALSE(c->Valid()) << "seed " << seed;
        break;
      }
      ASSERT_TRUE(c->Valid()) << "seed " << seed;
      ASSERT_EQ(c->key(), it->first) << "seed " << seed;
      if (forward) {
        c->Next();
        ++it;
      } else {
        c->Prev();
        if (it == kv_.begin()) {
          ASSERT_FALSE(c->Valid());
          break;
        }
        --it;
      }
    }
  }
}

TEST_F(DbCursorBigTest, WriteTxnCursorContinuesAfterPutAndDelete) {
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  KV model = kv_;
  auto c = w->NewCursor();
  c->Seek(NumKey(1000, 10));
  ASSERT_TRUE(c->Valid());
  std::string at(c->key());
  ASSERT_EQ(at, model.lower_bound(NumKey(1000, 10))->first);

  // A Put right after the current key: Next reaches it.
  std::string after = at + "+";
  ASSERT_TRUE(w->Put(after, "inserted").ok());
  model[after] = "inserted";
  c->Next();
  ASSERT_TRUE(c->Valid());
  EXPECT_EQ(c->key(), after);
  EXPECT_EQ(c->value(), "inserted");
  c->Prev();
  ASSERT_TRUE(c->Valid());
  EXPECT_EQ(c->key(), at);

  // Delete the current key: Next continues with its successor, Prev (from
  // a re-seek) with its predecessor.
  auto succ = std::next(model.find(at));
  auto pred = std::prev(model.find(at));
  ASSERT_TRUE(w->Delete(at).ok());
  model.erase(at);
  c->Next();
  ASSERT_TRUE(c->Valid());
  EXPECT_EQ(c->key(), succ->first);
  c->Prev();
  ASSERT_TRUE(c->Valid());
  EXPECT_EQ(c->key(), pred->first);

  // Delete the next key and the previous key: the cursor skips them.
  std::string cur(c->key());
  auto n1 = std::next(model.find(cur));
  auto n2 = std::next(n1);
  std::string n2key = n2->first;
  ASSERT_TRUE(w->Delete(n1->first).ok());
  model.erase(n1);
  c->Next();
  ASSERT_TRUE(c->Valid());
  EXPECT_EQ(c->key(), n2key);

  // Many inserts (splits) around the cursor while it walks forward: each
  // Next yields the model's successor of the key it was on.
  std::mt19937_64 rng(7);
  for (int step = 0; step < 400 && c->Valid(); ++step) {
    std::string was(c->key());
    for (int j = 0; j < 5; ++j) {
      std::string k = NumKey(rng() % 6000, 10 + rng() % 40);
      if (rng() % 4 == 0) {
        ASSERT_TRUE(w->Delete(k).ok());
        model.erase(k);
      } else {
        std::string v = FillValue(rng() % 3 == 0 ? 5000 : 30, rng());
        ASSERT_TRUE(w->Put(k, v).ok());
        model[k] = v;
      }
    }
    // Also overwrite the current key.
    ASSERT_TRUE(w->Put(was, "cur" + std::to_string(step)).ok());
    model[was] = "cur" + std::to_string(step);
    c->Next();
    auto want = model.upper_bound(was);
    if (want == model.end()) {
      EXPECT_FALSE(c->Valid());
      break;
    }
    ASSERT_TRUE(c->Valid()) << "step " << step;
    ASSERT_EQ(c->key(), want->first) << "step " << step << " after " << was;
    ASSERT_TRUE(c->value() == want->second) << "step " << step;
  }
  // The same walking backwards.
  c->SeekToLast();
  for (int step = 0; step < 300 && c->Valid(); ++step) {
    std::string was(c->key());
    for (int j = 0; j < 5; ++j) {
      std::string k = NumKey(rng() % 6000, 10 + rng() % 40);
      if (rng() % 3 == 0) {
        ASSERT_TRUE(w->Delete(k).ok());
        model.erase(k);
      } else {
        ASSERT_TRUE(w->Put(k, "b").ok());
        model[k] = "b";
      }
    }
    c->Prev();
    auto want = model.lower_bound(was);
    if (want == model.begin()) {
      EXPECT_FALSE(c->Valid());
      break;
    }
    --want;
    ASSERT_TRUE(c->Valid()) << "step " << step;
    ASSERT_EQ(c->key(), want->first) << "step " << step << " before " << was;
  }
  EXPECT_TRUE(c->status().ok());
  c.reset();
  EXPECT_EQ(DiffKV(Dump(w->NewCursor().get()), model), "");
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_EQ(DiffKV(DumpDb(db_.get()), model), "");
  EXPECT_TRUE(db_->Verify().ok());
}

TEST_F(DbCursorBigTest, WriteTxnCursorDeletingEverythingWhileWalking) {
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  auto c = w->NewCursor();
  size_t n = 0;
  for (c->SeekToFirst(); c->Valid(); c->Next()) {
    const std::string k(c->key());
    ASSERT_EQ(k, keys_[n]);
    ASSERT_TRUE(w->Delete(k).ok());
    ++n;
  }
  EXPECT_TRUE(c->status().ok());
  EXPECT_EQ(n, keys_.size());
  c->SeekToFirst();
  EXPECT_FALSE(c->Valid());
  c.reset();
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_TRUE(DumpDb(db_.get()).empty());
  EXPECT_TRUE(db_->Verify().ok());
}

}  // namespace
}  // namespace sombra::dbtest
