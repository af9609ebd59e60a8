// The DB against std::map (docs/testing.md, "Model tests"): random multi-operation
// transactions (some aborted) of Put, Delete, Get, scans, seeks and
// reverse walks, keys of 1..200 bytes over a small alphabet (long shared
// prefixes, 0x00 and 0xff bytes), values from empty to overflow size, at
// 4096-byte pages. The database is compared with the model after every
// transaction, verified every few transactions and across close/reopen.
#include <gtest/gtest.h>

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

struct ModelParams {
  const char* name;
  uint32_t page_size;
  Durability durability;
  uint64_t wal_checkpoint_bytes;
  int transactions;
  int max_ops;
  int verify_every;
  int reopen_every;
};

class DbModelTest : public ::testing::TestWithParam<ModelParams> {
 protected:
  std::string RandomKey() {
    static const char kAlphabet[] = {'\x00', 'a', 'b', 'c', 'z', '\xff'};
    // Mostly short keys with shared prefixes; sometimes long ones.
    size_t len;
    switch (rng_() % 4) {
      case 0:
        len = 1 + rng_() % 3;
        break;
      case 1:
        len = 1 + rng_() % 12;
        break;
      case 2:
        len = 20 + rng_() % 40;
        break;
      default:
        len = 1 + rng_() % 200;
        break;
    }
    std::string k;
    // A long common prefix for some keys, so fences and separators are long.
    if (rng_() % 5 == 0) k.assign(std::min<size_t>(len, 150), 'p');
    while (k.size() < len) k.push_back(kAlphabet[rng_() % sizeof(kAlphabet)]);
    return k;
  }
  // An existing key (when there is one) or a fresh random one.
  std::string PickKey(const KV& m) {
    return dbtest::PickKey(rng_, m, [this] { return RandomKey(); });
  }
  std::string RandomValue() {
    size_t len;
    int r = static_cast<int>(rng_() % 100);
    if (r < 5) {
      len = 0;
    } else if (r < 80) {
      len = rng_() % 64;
    } else if (r < 95) {
      len = 64 + rng_() % 1100;  // around the inline limit
    } else {
      len = 1000 + rng_() % 20000;  // overflow chains
    }
    return FillValue(len, rng_());
  }

  // Checks a cursor against the model: random seeks with walks in both
  // directions and direction changes.
  void CheckSeeks(Cursor* c, const KV& m, int n) {
    for (int i = 0; i < n; ++i) {
      std::string target = RandomKey();
      c->Seek(target);
      auto it = m.lower_bound(target);
      int steps = static_cast<int>(rng_() % 10);
      for (int s = 0; s <= steps; ++s) {
        if (it == m.end()) {
          ASSERT_FALSE(c->Valid()) << "seed " << seed_;
          break;
        }
        ASSERT_TRUE(c->Valid()) << "seed " << seed_ << " status " << c->status().ToString();
        ASSERT_EQ(c->key(), it->first) << "seed " << seed_;
        ASSERT_TRUE(c->value() == it->second) << "seed " << seed_;
        if (rng_() % 3 == 0) {
          c->Prev();
          if (it == m.begin()) {
            ASSERT_FALSE(c->Valid()) << "seed " << seed_;
            break;
          }
          --it;
        } else {
          c->Next();
          ++it;
        }
      }
    }
    ASSERT_TRUE(c->status().ok()) << c->status().ToString();
  }

  void CheckAll(DB* db, const KV& m, const std::string& when) {
    std::unique_ptr<ReadTxn> r;
    ASSERT_TRUE(db->BeginRead(&r).ok());
    auto c = r->NewCursor();
    ASSERT_EQ(DiffKV(Dump(c.get()), m), "") << when << ", seed " << seed_;
    if (rng_() % 4 == 0) {
      ASSERT_EQ(DiffKV(DumpReverse(c.get()), m), "") << when;
    }
    CheckSeeks(c.get(), m, 5);
    for (int i = 0; i < 5; ++i) {
      std::string k = PickKey(m);
      std::string v = "untouched";
      Status s = r->Get(k, &v);
      auto it = m.find(k);
      if (it == m.end()) {
        ASSERT_TRUE(s.IsNotFound()) << s.ToString() << " " << when;
        ASSERT_EQ(v, "untouched");
      } else {
        ASSERT_TRUE(s.ok()) << s.ToString() << " " << when;
        ASSERT_TRUE(v == it->second) << when;
      }
    }
  }

  std::mt19937_64 rng_;
  uint64_t seed_ = 0;
  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
};

TEST_P(DbModelTest, RandomTransactionsMatchStdMap) {
  const ModelParams& p = GetParam();
  seed_ = sombra::test::TestSeed();
  rng_.seed(seed_);
  Options o;
  o.page_size = p.page_size;
  o.durability = p.durability;
  o.wal_checkpoint_bytes = p.wal_checkpoint_bytes;
  auto db = OpenOrDie(o, path_);
  ASSERT_NE(db, nullptr);
  KV model;
  int committed = 0, aborted = 0;
  for (int t = 1; t <= p.transactions; ++t) {
    const std::string when = "transaction " + std::to_string(t);
    KV local = model;
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    std::unique_ptr<Cursor> wc;  // a write cursor kept across operations
    std::string wc_at;
    bool wc_valid = false;
    const int ops = 1 + static_cast<int>(rng_() % p.max_ops);
    for (int i = 0; i < ops; ++i) {
      int r = static_cast<int>(rng_() % 100);
      if (r < 50) {
        std::string k = rng_() % 10 < 3 ? PickKey(local) : RandomKey();
        std::string v = RandomValue();
        ASSERT_TRUE(w->Put(k, v).ok()) << when;
        local[k] = v;
      } else if (r < 60) {
        std::string k = PickKey(local);
        ASSERT_TRUE(w->Delete(k).ok()) << when;
        local.erase(k);
      } else if (r < 62 && !local.empty()) {
        // Delete a range of up to 8 keys through a write cursor.
        auto c = w->NewCursor();
        std::string from = RandomKey();
        c->Seek(from);
        auto it = local.lower_bound(from);
        for (int n = 0; n < 8 && c->Valid(); ++n) {
          ASSERT_NE(it, local.end()) << when;
          std::string k(c->key());
          ASSERT_EQ(k, it->first) << when << " seed " << seed_;
          ASSERT_TRUE(w->Delete(k).ok());
          it = local.erase(it);
          c->Next();
        }
      } else if (r < 80) {
        std::string k = PickKey(local);
        std::string v = "untouched";
        Status s = w->Get(k, &v);
        auto it = local.find(k);
        if (it == local.end()) {
          ASSERT_TRUE(s.IsNotFound()) << when << ": " << s.ToString();
          ASSERT_EQ(v, "untouched");
        } else {
          ASSERT_TRUE(s.ok()) << when << ": " << s.ToString();
          ASSERT_TRUE(v == it->second) << when;
        }
      } else if (r < 90) {
        // A write cursor that lives on: seek, then Next from where it
        // was (the txn may have changed the tree since).
        // wc_at is the key it was last positioned on (read right after
        // the move: key() is only promised until the txn changes).
        if (wc == nullptr || !wc_valid || rng_() % 3 == 0) {
          wc = w->NewCursor();
          std::string target = RandomKey();
          wc->Seek(target);
          auto it = local.lower_bound(target);
          wc_valid = it != local.end();
          ASSERT_EQ(wc->Valid(), wc_valid) << when << " seed " << seed_;
          if (wc_valid) {
            ASSERT_EQ(wc->key(), it->first) << when << " seed " << seed_;
            wc_at = it->first;
          }
        } else {
          wc->Next();
          auto it = local.upper_bound(wc_at);
          wc_valid = it != local.end();
          if (!wc_valid) {
            ASSERT_FALSE(wc->Valid()) << when << " seed " << seed_;
          } else {
            ASSERT_TRUE(wc->Valid()) << when << " seed " << seed_;
            ASSERT_EQ(wc->key(), it->first) << when << " after a change, seed " << seed_;
            wc_at = it->first;
          }
        }
      } else {
        auto c = w->NewCursor();
        CheckSeeks(c.get(), local, 2);
      }
    }
    wc.reset();
    if (rng_() % 100 < 15) {
      if (rng_() % 2) w->Abort();
      w.reset();
      ++aborted;
    } else {
      if (rng_() % 10 == 0) {
        auto c = w->NewCursor();
        ASSERT_EQ(DiffKV(Dump(c.get()), local), "") << when << " (inside), seed " << seed_;
      }
      Status s = w->Commit();
      ASSERT_TRUE(s.ok()) << when << ": " << s.ToString();
      w.reset();
      model = std::move(local);
      ++committed;
    }
    CheckAll(db.get(), model, when);
    if (HasFatalFailure()) return;
    if (t % p.verify_every == 0) {
      Status v = db->Verify();
      ASSERT_TRUE(v.ok()) << when << ", seed " << seed_ << ": " << v.ToString();
    }
    if (t % 97 == 0) {
      ASSERT_TRUE(db->Checkpoint().ok());
    }
    if (t % p.reopen_every == 0) {
      db.reset();
      db = OpenOrDie(o, path_);
      ASSERT_NE(db, nullptr);
      Status v = db->Verify();
      ASSERT_TRUE(v.ok()) << "after reopen, " << when << ": " << v.ToString();
      CheckAll(db.get(), model, "after reopen, " + when);
    }
  }
  db.reset();
  db = OpenOrDie(o, path_);
  ASSERT_NE(db, nullptr);
  Status v = db->Verify();
  EXPECT_TRUE(v.ok()) << v.ToString();
  CheckAll(db.get(), model, "final reopen");
  std::printf("[ info     ] %d committed, %d aborted, %zu keys\n", committed, aborted,
              model.size());
  EXPECT_GT(committed, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Params, DbModelTest,
    ::testing::Values(
        // name, page, durability, wal checkpoint bytes, txns, ops, verify, reopen
        ModelParams{"Page4096", 4096, Durability::kOff, 64 << 20, 1000, 40, 10, 150},
        ModelParams{"Page4096SmallLog", 4096, Durability::kOff, 256 << 10, 600, 60, 20, 133},
        ModelParams{"Page8192Normal", 8192, Durability::kNormal, 1 << 20, 400, 80, 25, 100}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace sombra::dbtest
