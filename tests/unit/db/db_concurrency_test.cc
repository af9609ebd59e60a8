// Snapshot isolation under load (docs/testing.md, "Concurrency"): reader threads
// check a bank's constant total in their snapshots, by Get and by a full
// cursor scan, while writers commit random transfers (with filler inserts
// and deletes that split and merge leaves) and another thread checkpoints.
// One snapshot is held for the whole run and must still show its
// original balances at the end. Iteration-bounded; nothing is timed.
#include <gtest/gtest.h>

#include <atomic>
#include <cinttypes>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "db_test_util.h"
#include "sombra/db.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"

namespace sombra::dbtest {
namespace {

constexpr int kAccounts = 100;
constexpr int64_t kInitial = 1000;

std::string Account(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "acct%03d", i);
  return buf;
}

// Balances are stored as decimal text padded with a filler of varying
// length, so that values change size and records move.
std::string Encode(int64_t balance, size_t pad) {
  return std::to_string(balance) + "|" + std::string(pad, '#');
}
int64_t Decode(std::string_view v) { return std::stoll(std::string(v.substr(0, v.find('|')))); }

class DbConcurrencyTest : public ::testing::TestWithParam<Durability> {
 protected:
  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
};

TEST_P(DbConcurrencyTest, BankTotalStaysConstantInEverySnapshot) {
  const uint64_t seed = sombra::test::TestSeed();
  Options o;
  o.durability = GetParam();
  o.wal_checkpoint_bytes = 1 << 20;  // automatic checkpoints as well
  auto db = OpenOrDie(o, path_);
  ASSERT_NE(db, nullptr);
  {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    for (int i = 0; i < kAccounts; ++i) ASSERT_TRUE(w->Put(Account(i), Encode(kInitial, i)).ok());
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(w->Put("fill" + NumKey(i), FillValue(200, i)).ok());
    ASSERT_TRUE(w->Commit().ok());
  }
  const int64_t total = kInitial * kAccounts;

  // The snapshot held for the whole run.
  std::unique_ptr<ReadTxn> held;
  ASSERT_TRUE(db->BeginRead(&held).ok());
  const uint64_t held_seq = held->Sequence();
  auto held_cursor = held->NewCursor();
  held_cursor->Seek("acct050");
  ASSERT_TRUE(held_cursor->Valid());

  constexpr int kWriters = 2;
  const int kTransfersPerWriter = GetParam() == Durability::kFull ? 150 : 700;
  std::atomic<int> writers_done{0};
  std::atomic<int> failures{0};
  std::atomic<uint64_t> reader_checks{0};
  std::atomic<uint64_t> commits{0};
  auto fail = [&](const std::string& what) {
    if (failures.fetch_add(1) < 10) ADD_FAILURE() << what << " (seed " << seed << ")";
  };

  std::vector<std::thread> threads;
  for (int wi = 0; wi < kWriters; ++wi) {
    threads.emplace_back([&, wi] {
      std::mt19937_64 rng(seed + 1000 * wi);
      for (int t = 0; t < kTransfersPerWriter && failures.load() == 0; ++t) {
        std::unique_ptr<WriteTxn> w;
        Status s = db->BeginWrite(&w);
        if (!s.ok()) return fail("BeginWrite: " + s.ToString());
        const int moves = 1 + static_cast<int>(rng() % 3);
        for (int m = 0; m < moves; ++m) {
          int a = static_cast<int>(rng() % kAccounts), b = static_cast<int>(rng() % kAccounts);
          std::string va, vb;
          if (!w->Get(Account(a), &va).ok() || !w->Get(Account(b), &vb).ok()) {
            return fail("Get in writer");
          }
          int64_t amount = static_cast<int64_t>(rng() % 50);
          int64_t ba = Decode(va) - amount;
          int64_t bb = (a == b ? ba : Decode(vb)) + amount;
          if (!w->Put(Account(a), Encode(ba, rng() % 64)).ok()) return fail("Put a");
          if (!w->Put(Account(b), Encode(bb, rng() % 64)).ok()) return fail("Put b");
        }
        // Filler churn: splits, merges, overflow pages.
        for (int f = 0; f < 4; ++f) {
          std::string k = "fill" + NumKey(rng() % 3000);
          if (rng() % 3 == 0) {
            if (!w->Delete(k).ok()) return fail("Delete filler");
          } else {
            size_t len = rng() % 20 == 0 ? 6000 : rng() % 400;
            if (!w->Put(k, FillValue(len, rng())).ok()) return fail("Put filler");
          }
        }
        if (rng() % 10 == 0) {
          w->Abort();  // an aborted transfer changes nothing
          continue;
        }
        s = w->Commit();
        if (!s.ok()) return fail("Commit: " + s.ToString());
        commits.fetch_add(1);
      }
      writers_done.fetch_add(1);
    });
  }
  threads.emplace_back([&] {  // checkpointer
    int n = 0;
    while (writers_done.load() < kWriters && failures.load() == 0) {
      Status s = db->Checkpoint();
      if (!s.ok()) return fail("Checkpoint: " + s.ToString());
      ++n;
      for (int i = 0; i < 2000; ++i) std::this_thread::yield();
    }
  });
  for (int ri = 0; ri < 4; ++ri) {
    threads.emplace_back([&, ri] {
      std::mt19937_64 rng(seed + 77 + ri);
      int rounds = 0;
      // At least a few rounds even if the writers finish first.
      while ((writers_done.load() < kWriters || rounds < 5) && failures.load() == 0) {
        ++rounds;
        std::unique_ptr<ReadTxn> r;
        Status s = db->BeginRead(&r);
        if (!s.ok()) return fail("BeginRead: " + s.ToString());
        // By Get, in a random order.
        int64_t sum = 0;
        std::vector<int64_t> by_get(kAccounts);
        const int start = static_cast<int>(rng() % kAccounts);
        for (int j = 0; j < kAccounts; ++j) {
          int i = (start + j) % kAccounts;
          std::string v;
          s = r->Get(Account(i), &v);
          if (!s.ok()) return fail("reader Get: " + s.ToString());
          by_get[i] = Decode(v);
          sum += by_get[i];
        }
        if (sum != total) {
          return fail("Get sum " + std::to_string(sum) + " at sequence " +
                      std::to_string(r->Sequence()));
        }
        // By a cursor scan of the whole database (forward or backward).
        auto c = r->NewCursor();
        int64_t csum = 0;
        int count = 0;
        const bool backward = rng() % 2;
        if (backward) {
          c->SeekToLast();
        } else {
          c->SeekToFirst();
        }
        std::string prev;
        for (; c->Valid(); backward ? c->Prev() : c->Next()) {
          std::string_view k = c->key();
          if (!prev.empty() && (backward ? !(std::string(k) < prev) : !(prev < std::string(k)))) {
            return fail("scan order");
          }
          prev = std::string(k);
          if (k.substr(0, 4) != "acct") continue;
          int i = std::stoi(std::string(k.substr(4)));
          int64_t b = Decode(c->value());
          if (b != by_get[i]) return fail("cursor and Get disagree on " + std::string(k));
          csum += b;
          ++count;
        }
        if (!c->status().ok()) return fail("scan: " + c->status().ToString());
        if (count != kAccounts || csum != total) {
          return fail("scan saw " + std::to_string(count) + " accounts, sum " +
                      std::to_string(csum));
        }
        reader_checks.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  EXPECT_GT(reader_checks.load(), 0u);
  std::printf("[ info     ] %" PRIu64 " commits, %" PRIu64 " reader checks\n", commits.load(),
              reader_checks.load());

  // The held snapshot: original balances, every account, by Get and by
  // its cursor opened at the start.
  EXPECT_EQ(held->Sequence(), held_seq);
  for (int i = 0; i < kAccounts; ++i) {
    std::string v;
    ASSERT_TRUE(held->Get(Account(i), &v).ok());
    EXPECT_EQ(Decode(v), kInitial) << Account(i);
    EXPECT_EQ(v, Encode(kInitial, i));
  }
  int seen = 50;
  for (; held_cursor->Valid() && held_cursor->key().substr(0, 4) == "acct"; held_cursor->Next()) {
    EXPECT_EQ(held_cursor->key(), Account(seen));
    EXPECT_EQ(held_cursor->value(), Encode(kInitial, seen));
    ++seen;
  }
  EXPECT_EQ(seen, kAccounts);
  KV held_all = Dump(held->NewCursor().get());
  size_t fillers = 0;
  for (const auto& [k, v] : held_all) fillers += k.substr(0, 4) == "fill";
  EXPECT_EQ(fillers, 500u);
  held_cursor.reset();
  held.reset();

  // The final state adds up, survives a checkpoint, Verify and reopen.
  ASSERT_TRUE(db->Checkpoint().ok());
  Status v = db->Verify();
  EXPECT_TRUE(v.ok()) << v.ToString();
  KV final_state = DumpDb(db.get());
  db.reset();
  db = OpenOrDie(o, path_);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(DiffKV(DumpDb(db.get()), final_state), "");
  int64_t sum = 0;
  for (int i = 0; i < kAccounts; ++i) sum += Decode(final_state[Account(i)]);
  EXPECT_EQ(sum, total);
}

INSTANTIATE_TEST_SUITE_P(Durability, DbConcurrencyTest,
                         ::testing::Values(Durability::kOff, Durability::kNormal,
                                           Durability::kFull),
                         [](const auto& param_info) { return DurabilityName(param_info.param); });

// Many short-lived snapshots and cursors while one writer keeps replacing
// every value: each snapshot sees all keys with one generation's values.
TEST(DbConcurrencySimpleTest, SnapshotsSeeOneGeneration) {
  sombra::test::TempDir dir;
  auto db = OpenOrDie(FastOptions(), dir.File("db"));
  ASSERT_NE(db, nullptr);
  constexpr int kKeys = 300;
  constexpr int kGenerations = 150;
  auto write_gen = [&](int g) {
    std::unique_ptr<WriteTxn> w;
    if (!db->BeginWrite(&w).ok()) return false;
    for (int i = 0; i < kKeys; ++i) {
      // Varying sizes: the tree reshapes between generations.
      size_t len = static_cast<size_t>((g * 31 + i * 17) % (g % 7 == 0 ? 3000 : 120));
      if (!w->Put(NumKey(i), std::to_string(g) + ":" + std::string(len, 'x')).ok()) return false;
    }
    return w->Commit().ok();
  };
  ASSERT_TRUE(write_gen(0));
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      int rounds = 0;
      while (!done.load() || rounds < 3) {
        ++rounds;
        std::unique_ptr<ReadTxn> txn;
        if (!db->BeginRead(&txn).ok()) {
          bad++;
          return;
        }
        auto c = txn->NewCursor();
        int n = 0;
        std::string gen;
        for (c->SeekToFirst(); c->Valid(); c->Next(), ++n) {
          std::string_view v = c->value();
          std::string g(v.substr(0, v.find(':')));
          if (n == 0) gen = g;
          if (g != gen || c->key() != NumKey(n)) {
            bad++;
            return;
          }
        }
        if (n != kKeys || !c->status().ok()) bad++;
      }
    });
  }
  bool ok = true;
  for (int g = 1; g <= kGenerations && ok; ++g) {
    ok = write_gen(g);
    if (g % 40 == 0) ok = ok && db->Checkpoint().ok();
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_TRUE(ok);
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace sombra::dbtest
