// The model workload (smaller) on a FaultInjectionEnv with durability full:
// the file system dies after a random number of mutating calls, power
// fails (torn sectors or unsynced writes dropped), the database reopens:
// the tree equals the model after the last acknowledged commit, or after
// the commit in flight (entirely), and VerifyTree passes. Twice per
// database, so the second crash hits a recovered one.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "btree/btree.h"
#include "btree_model_util.h"
#include "env/fault_injection_env.h"
#include "model_workload.h"
#include "pager/pager.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"

namespace sombra::btree::model_test {
namespace {

using CrashMode = FaultInjectionEnv::CrashMode;
using KV = std::map<std::string, std::string>;

enum class Outcome { kCommitted, kAborted, kFailed, kStopped };

struct CrashStats {
  int crashes = 0;
  int interrupted = 0;          // the file system died before the workload ended
  int recovered_in_flight = 0;  // the reopened tree held the commit in flight
  int lost_in_flight = 0;       // ... or the state before it
  int torn = 0;
  uint64_t commits = 0, ops = 0, checkpoints = 0;
  size_t max_keys = 0;
  uint32_t max_height = 0;
};

class BTreeCrashTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<pager::Pager>> Open(Env* env, const std::string& path, const Options& o) {
    return pager::Pager::Open(env, path, o);
  }

  // One random transaction over `acked`, mirrored into *next. kStopped: a
  // call failed before Commit (nothing was logged); kFailed: Commit failed
  // (the transaction is in flight).
  Outcome RunTxn(pager::Pager* pager, std::mt19937_64& rng, Workload& gen, const KV& acked,
                 KV* next, Status* error, CrashStats* st) {
    auto txn = pager->BeginWrite();
    if (!txn.ok()) {
      *error = txn.status();
      return Outcome::kStopped;
    }
    *next = acked;
    BTreeWriter w(txn->get(), pager->metrics());
    const int ops = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < ops; ++i) {
      st->ops++;
      const int r = static_cast<int>(rng() % 100);
      const bool grow = next->size() < 400;
      if (next->empty() || r < (grow ? 50 : 30)) {
        std::string key = gen.Key(), value = gen.Value();
        Status s = w.Put(key, value);
        if (!s.ok()) {
          EXPECT_TRUE(s.IsIOError()) << s.ToString();
          *error = s;
          return Outcome::kStopped;
        }
        (*next)[key] = value;
      } else if (r < 70) {
        auto it = next->begin();
        std::advance(it, rng() % next->size());
        std::string value = gen.ValueOtherThan(it->second.size());
        Status s = w.Put(it->first, value);
        if (!s.ok()) {
          EXPECT_TRUE(s.IsIOError()) << s.ToString();
          *error = s;
          return Outcome::kStopped;
        }
        it->second = value;
      } else if (r < 90) {
        auto it = next->begin();
        std::advance(it, rng() % next->size());
        bool existed = false;
        Status s = w.Delete(it->first, &existed);
        if (!s.ok()) {
          EXPECT_TRUE(s.IsIOError()) << s.ToString();
          *error = s;
          return Outcome::kStopped;
        }
        EXPECT_TRUE(existed);
        next->erase(it);
      } else {
        const std::string key = gen.Key();
        std::string value;
        Status s = w.Get(key, &value);
        auto it = next->find(key);
        if (it == next->end()) {
          EXPECT_TRUE(s.IsNotFound()) << s.ToString();
        } else {
          EXPECT_TRUE(s.ok()) << s.ToString();
          EXPECT_EQ(value, it->second);
        }
      }
    }
    if (rng() % 10 == 0) {
      (*txn)->Abort();
      return Outcome::kAborted;
    }
    *error = (*txn)->Commit();
    return error->ok() ? Outcome::kCommitted : Outcome::kFailed;
  }

  // Transactions and checkpoints until the file system dies or max_txns.
  // True when it died.
  bool RunUntilFailure(pager::Pager* pager, std::mt19937_64& rng, Workload& gen, int max_txns,
                       KV* acked, std::optional<KV>* in_flight, CrashStats* st) {
    for (int t = 0; t < max_txns; ++t) {
      if (rng() % 16 == 0) {
        if (!pager->Checkpoint().ok()) return true;
        st->checkpoints++;
        continue;
      }
      KV next;
      Status error;
      const Outcome o = RunTxn(pager, rng, gen, *acked, &next, &error, st);
      if (::testing::Test::HasFailure()) return true;
      if (o == Outcome::kCommitted) {
        *acked = std::move(next);
        st->commits++;
      } else if (o == Outcome::kFailed) {
        EXPECT_TRUE(error.IsIOError()) << error.ToString();
        *in_flight = std::move(next);
        return true;
      } else if (o == Outcome::kStopped) {
        EXPECT_TRUE(error.IsIOError()) << error.ToString();
        return true;
      }
    }
    return false;
  }

  // The reopened tree: VerifyTree passes and *got holds its content.
  void ReadTree(pager::Pager* pager, KV* got, CrashStats* st) {
    auto snap = pager->BeginRead();
    Status v = VerifyTree(*snap);
    ASSERT_TRUE(v.ok()) << v.ToString();
    MetricsRegistry own;
    BTreeCounters c{&own};
    Status s;
    *got = ScanAll(SnapshotReader(snap.get()), pager->page_size(), snap->state().root, &c, &s);
    ASSERT_TRUE(s.ok()) << s.ToString();
    TreeWalker walker(SnapshotReader(snap.get()), pager->page_size());
    TreeShape shape = walker.Walk(snap->state().root);
    ASSERT_EQ(shape.error, "");
    st->max_keys = std::max(st->max_keys, got->size());
    st->max_height = std::max(st->max_height, shape.height);
  }

  NoSyncEnv disk_;  // the "disk" under every FaultInjectionEnv
  sombra::test::TempDir dir_;
};

TEST_F(BTreeCrashTest, CrashAnywhereKeepsTheLastAcknowledgedCommit) {
  const uint64_t seed = sombra::test::TestSeed();
  std::mt19937_64 rng(seed);
  CrashStats st;
  constexpr int kRounds = 25;
  for (int round = 0; round < kRounds; ++round) {
    const std::string path = dir_.File("crash" + std::to_string(round));
    FaultInjectionEnv env(&disk_, seed + static_cast<uint64_t>(round));
    Workload gen(rng, 4096, /*max_key=*/300, /*max_value=*/1500, /*big_min=*/5000,
                 /*big_max=*/40000);
    Options o;
    o.page_size = 4096;
    o.durability = Durability::kFull;
    o.wal_checkpoint_bytes = (32 << 10) << (rng() % 4);  // 32 KiB .. 256 KiB
    o.wal_compression = rng() % 2 == 0;
    auto pager = Open(&env, path, o);
    ASSERT_TRUE(pager.ok()) << pager.status().ToString();
    KV acked;
    for (int phase = 0; phase < 2; ++phase) {
      const uint64_t k = rng() % 2000;
      const CrashMode mode =
          (round + phase) % 2 ? CrashMode::kTornSectors : CrashMode::kDropUnsynced;
      SCOPED_TRACE("seed " + std::to_string(seed) + " round " + std::to_string(round) + " phase " +
                   std::to_string(phase) + ": crash after " + std::to_string(k) + " ops, " +
                   (mode == CrashMode::kTornSectors ? "torn sectors" : "drop unsynced"));
      std::optional<KV> in_flight;
      env.CrashAfterOps(k);
      const bool died = RunUntilFailure(pager->get(), rng, gen, 400, &acked, &in_flight, &st);
      if (HasFailure()) return;
      env.SetActive(false);  // the process dies: its close writes nothing
      pager->reset();
      ASSERT_TRUE(env.Crash(mode).ok());
      env.SetActive(true);
      st.crashes++;
      st.interrupted += died ? 1 : 0;
      st.torn += mode == CrashMode::kTornSectors ? 1 : 0;

      pager = Open(&env, path, o);
      ASSERT_TRUE(pager.ok()) << pager.status().ToString();
      KV got;
      ReadTree(pager->get(), &got, &st);
      if (HasFatalFailure()) return;
      const std::string diff = MapDiff(got, acked);
      if (diff.empty()) {
        if (in_flight.has_value()) st.lost_in_flight++;
        continue;
      }
      ASSERT_TRUE(in_flight.has_value()) << "an acknowledged commit is lost: " << diff;
      ASSERT_EQ(MapDiff(got, *in_flight), "")
          << "neither before (" << diff << ") nor after the commit in flight";
      st.recovered_in_flight++;
      acked = std::move(*in_flight);
    }
    pager->reset();  // a clean close keeps everything too
    pager = Open(&env, path, o);
    ASSERT_TRUE(pager.ok()) << pager.status().ToString();
    KV got;
    ReadTree(pager->get(), &got, &st);
    if (HasFatalFailure()) return;
    ASSERT_EQ(MapDiff(got, acked), "") << "round " << round << ", after a clean close";
  }
  std::printf(
      "[ crash    ] %d crashes (%d torn sectors, %d interrupting the workload; commit in "
      "flight: %d recovered, %d lost), %llu commits, %llu ops, %llu checkpoints, max %zu keys, "
      "max height %u\n",
      st.crashes, st.torn, st.interrupted, st.recovered_in_flight, st.lost_in_flight,
      (unsigned long long)st.commits, (unsigned long long)st.ops,
      (unsigned long long)st.checkpoints, st.max_keys, st.max_height);
  EXPECT_GE(st.crashes, 30);
  EXPECT_GE(st.interrupted, 30);  // crashes that cut the workload short
}

}  // namespace
}  // namespace sombra::btree::model_test
