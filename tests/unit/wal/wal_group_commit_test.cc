// Group commit: concurrent committers share fdatasyncs, everything SyncTo
// acknowledged survives a power loss, and a failed sync among concurrent
// commits leaves exactly a prefix of the log.
#include <errno.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "env/fault_injection_env.h"
#include "util/metrics.h"
#include "wal/wal_batch.h"
#include "wal/wal_writer.h"
#include "wal_test_util.h"

namespace sombra::wal {
namespace {

using CrashMode = FaultInjectionEnv::CrashMode;
using Op = FaultInjectionEnv::Op;

constexpr uint64_t kMiB = uint64_t{1} << 20;

class WalGroupCommitTest : public ::testing::Test {
 protected:
  std::unique_ptr<WalWriter> OpenWriter(Env* env, uint64_t generation = 1, uint64_t start_lsn = 1,
                                        uint64_t preallocate = kMiB) {
    auto w = WalWriter::Open(env, path_, test::kPageSize, test::kDbSalt, generation, start_lsn,
                             WalBase{}, preallocate, &metrics_);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? std::move(w).value() : nullptr;
  }

  // Fills `batch` with transaction `lsn` of the tests' log (a 40-byte delta
  // of page 3 and the commit), chained from w's last record.
  static bool BuildTxn(WalWriter* w, BatchBuilder* batch, uint64_t lsn, uint64_t durable_lsn = 0) {
    batch->Reset(w->last_checksum());
    const std::string bytes(40, static_cast<char>('a' + lsn % 26));
    const std::vector<DeltaRange> ranges = {{64, bytes}};
    CommitInfo c;
    c.lsn = lsn;
    c.page_count = 10;
    c.durable_lsn = durable_lsn;
    return batch->AddPageDelta(3, lsn - 1, lsn, ranges).ok() && batch->AddCommit(c).ok();
  }

  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db-wal");
  MetricsRegistry metrics_;
};

TEST_F(WalGroupCommitTest, GroupCommitCoversConcurrentBatchesWithFewerSyncs) {
  constexpr int kThreads = 8;
  constexpr int kBatchesPerThread = 200;
  test::SlowSyncEnv slow(Env::Default(), std::chrono::microseconds(300));
  FaultInjectionEnv env(&slow);
  auto w = OpenWriter(&env, 1, 1, 4 * kMiB);
  ASSERT_NE(w, nullptr);
  const uint64_t syncs_before = env.syncs();

  std::mutex writer_lock;
  uint64_t next_lsn = 1;
  std::atomic<uint64_t> durable{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      BatchBuilder batch(test::kPageSize, true);
      for (int i = 0; i < kBatchesPerThread; ++i) {
        uint64_t end = 0, lsn = 0;
        {
          std::lock_guard<std::mutex> lock(writer_lock);
          lsn = next_lsn++;
          if (!BuildTxn(w.get(), &batch, lsn, std::min(durable.load(), lsn - 1))) {
            ++failures;
            return;
          }
          auto appended = w->Append(batch);
          if (!appended.ok()) {
            ++failures;
            return;
          }
          end = *appended;
        }
        if (!w->SyncTo(end).ok()) {
          ++failures;
          return;
        }
        uint64_t d = durable.load();
        while (d < lsn && !durable.compare_exchange_weak(d, lsn)) {
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  const uint64_t batches = kThreads * kBatchesPerThread;
  const uint64_t syncs = env.syncs() - syncs_before;
  EXPECT_LT(syncs, batches);
  EXPECT_GT(metrics_.Value("wal_syncs_grouped"), 0u);
  EXPECT_EQ(metrics_.Value("wal_syncs_grouped") + syncs, batches);
  std::printf("[ info     ] %llu batches, %llu fsyncs\n", static_cast<unsigned long long>(batches),
              static_cast<unsigned long long>(syncs));
  w.reset();

  // Everything SyncTo acknowledged survives a power loss.
  WAL_ASSERT_OK(env.Crash(CrashMode::kDropUnsynced));
  test::Scan scan = test::ScanLog(path_);
  ASSERT_EQ(scan.commit_lsns.size(), batches) << scan.stop_detail;
  EXPECT_EQ(scan.commit_lsns.back(), batches);
  EXPECT_EQ(scan.stop, StopReason::kEndOfLog);
}

TEST_F(WalGroupCommitTest, SyncFailureAmongConcurrentCommitsKeepsExactlyAPrefix) {
  constexpr int kThreads = 4;
  test::SlowSyncEnv slow(Env::Default(), std::chrono::microseconds(200));
  FaultInjectionEnv env(&slow);
  auto w = OpenWriter(&env);
  ASSERT_NE(w, nullptr);
  env.FailNext(Op::kSync, EIO, /*skip=*/15);

  std::mutex writer_lock;
  uint64_t next_lsn = 1;
  std::mutex acked_mu;
  std::vector<uint64_t> acked;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      BatchBuilder batch(test::kPageSize, false);
      for (int i = 0; i < 50; ++i) {
        uint64_t end = 0, lsn = 0;
        {
          std::lock_guard<std::mutex> lock(writer_lock);
          lsn = next_lsn;
          if (!BuildTxn(w.get(), &batch, lsn)) {
            ADD_FAILURE();
            return;
          }
          auto appended = w->Append(batch);
          if (!appended.ok()) {
            EXPECT_TRUE(appended.status().IsIOError());
            return;
          }
          ++next_lsn;
          end = *appended;
        }
        Status s = w->SyncTo(end);
        if (!s.ok()) {
          EXPECT_EQ(s.sys_errno(), EIO) << s.ToString();
          return;
        }
        std::lock_guard<std::mutex> lock(acked_mu);
        acked.push_back(lsn);
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(w->error().IsIOError());
  w.reset();

  WAL_ASSERT_OK(env.Crash(CrashMode::kDropUnsynced));
  test::Scan scan = test::ScanLog(path_);
  EXPECT_EQ(scan.stop, StopReason::kEndOfLog) << scan.stop_detail;
  // The log holds LSNs 1..n: every acknowledged commit, and no more than
  // was covered by the last successful sync.
  for (size_t i = 0; i < scan.commit_lsns.size(); ++i) EXPECT_EQ(scan.commit_lsns[i], i + 1);
  for (uint64_t lsn : acked) EXPECT_LE(lsn, scan.commit_lsns.size());
  EXPECT_LT(scan.commit_lsns.size(), next_lsn - 1);  // the failed sync's batches are gone
}

// An Env whose file syncs, once closed, wait until the test lets each
// through: a schedule can hold a sync in flight and see who waits for it.
class GateSyncEnv final : public EnvWrapper {
 public:
  explicit GateSyncEnv(Env* base) : EnvWrapper(base) {}

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    SOMBRA_ASSIGN_OR_RETURN(auto file, base()->OpenFile(path, mode));
    return std::unique_ptr<File>(new GateFile(std::move(file), this));
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  // Lets the next sync (entered or not yet) through.
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    ++released_;
    cv_.notify_all();
  }
  // Syncs that have reached the gate since it closed.
  int entered() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entered_;
  }

 private:
  class GateFile final : public FileWrapper {
   public:
    GateFile(std::unique_ptr<File> base, GateSyncEnv* env)
        : FileWrapper(std::move(base)), env_(env) {}
    Status Sync() override {
      env_->Pass();
      return FileWrapper::Sync();
    }

   private:
    GateSyncEnv* const env_;
  };
  void Pass() {
    std::unique_lock<std::mutex> lock(mu_);
    if (!closed_) return;
    const int me = ++entered_;
    cv_.wait(lock, [&] { return released_ >= me; });
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  int entered_ = 0;
  int released_ = 0;
};

// Polls `done` for up to 20 s (a schedule step taken by another thread).
template <typename F>
bool Eventually(F done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

class WalLingerTest : public WalGroupCommitTest {
 protected:
  // Appends transaction `lsn` (a delta and its commit); returns its end.
  uint64_t AppendTxn(WalWriter* w, uint64_t lsn) {
    BatchBuilder batch(test::kPageSize, false);
    EXPECT_TRUE(BuildTxn(w, &batch, lsn));
    auto end = w->Append(batch);
    EXPECT_TRUE(end.ok()) << end.status().ToString();
    return end.ok() ? *end : 0;
  }

  // Three committers wait in SyncTo while the gate holds the sync that
  // covers their transactions 1-3; then it is let through. So the writer
  // has seen three committers at the end of its last sync.
  void ThreeCommitters(WalWriter* w, GateSyncEnv* gate) {
    std::vector<uint64_t> ends;
    for (uint64_t lsn = 1; lsn <= 3; ++lsn) ends.push_back(AppendTxn(w, lsn));
    std::vector<std::thread> threads;
    for (uint64_t end : ends) {
      threads.emplace_back([w, end] { EXPECT_TRUE(w->SyncTo(end).ok()); });
    }
    ASSERT_TRUE(Eventually([&] { return gate->entered() == 1 && w->syncers() == 3; }));
    gate->Release();
    for (auto& t : threads) t.join();
    EXPECT_EQ(metrics_.Value("wal_syncs_grouped"), 2u);
    EXPECT_EQ(metrics_.Value("wal_sync_lingers"), 0u);
  }

  // A writer on `env`, whose syncs pass `gate`, with its linger bounded by
  // `bound`, after ThreeCommitters: the next leader lingers for three.
  std::unique_ptr<WalWriter> WriterAfterThree(Env* env, GateSyncEnv* gate,
                                              std::chrono::microseconds bound) {
    auto w = OpenWriter(env);
    if (w == nullptr) return nullptr;
    w->SetMaxLingerForTest(bound);
    gate->Close();
    ThreeCommitters(w.get(), gate);
    return HasFatalFailure() ? nullptr : std::move(w);
  }
};

// The committers of the last sync commit again: the leader waits until all
// three transactions are appended, and one sync covers them.
TEST_F(WalLingerTest, ALeaderWaitsForTheCommittersOfTheLastSync) {
  GateSyncEnv gate(Env::Default());
  // The schedule decides, not the clock.
  auto w = WriterAfterThree(&gate, &gate, std::chrono::seconds(60));
  ASSERT_NE(w, nullptr);

  const uint64_t end4 = AppendTxn(w.get(), 4);
  std::thread a([&] { EXPECT_TRUE(w->SyncTo(end4).ok()); });  // the leader: lingers
  ASSERT_TRUE(Eventually([&] { return metrics_.Value("wal_sync_lingers") == 1; }));
  const uint64_t end5 = AppendTxn(w.get(), 5);
  std::thread b([&] { EXPECT_TRUE(w->SyncTo(end5).ok()); });
  ASSERT_TRUE(Eventually([&] { return w->syncers() == 2; }));
  EXPECT_EQ(gate.entered(), 1) << "the leader synced before the third transaction";
  const uint64_t end6 = AppendTxn(w.get(), 6);  // the third: the leader syncs
  ASSERT_TRUE(Eventually([&] { return gate.entered() == 2; }));
  std::thread c([&] { EXPECT_TRUE(w->SyncTo(end6).ok()); });
  gate.Release();
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(gate.entered(), 2) << "one sync for transactions 4-6";
  EXPECT_EQ(metrics_.Value("wal_syncs_grouped"), 4u);
  EXPECT_EQ(w->synced_offset(), end6);
}

// A committer alone after three: the leader waits no longer than its bound,
// and once the sync it ran ended with one committer it no longer waits.
TEST_F(WalLingerTest, TheLingerEndsAtItsBoundAndFollowsTheCommitters) {
  GateSyncEnv gate(Env::Default());
  auto w = WriterAfterThree(&gate, &gate, std::chrono::milliseconds(2));
  ASSERT_NE(w, nullptr);
  gate.Release();  // let the next two syncs through at once
  gate.Release();
  const uint64_t end4 = AppendTxn(w.get(), 4);
  EXPECT_TRUE(w->SyncTo(end4).ok());
  EXPECT_EQ(metrics_.Value("wal_sync_lingers"), 1u);
  const uint64_t end5 = AppendTxn(w.get(), 5);
  EXPECT_TRUE(w->SyncTo(end5).ok());
  EXPECT_EQ(metrics_.Value("wal_sync_lingers"), 1u) << "one committer: no linger";
  EXPECT_EQ(gate.entered(), 3);
}

// A Restart (a checkpoint: it holds the writer lock, so no batch can come)
// ends a linger at once instead of waiting out its bound; it runs after
// the leader's sync, which covers the leader's transaction.
TEST_F(WalLingerTest, ARestartEndsTheLinger) {
  GateSyncEnv gate(Env::Default());
  // Longer than Eventually's 20 s: only the Restart ends it in time (and a
  // failure still ends, when the bound does).
  auto w = WriterAfterThree(&gate, &gate, std::chrono::seconds(30));
  ASSERT_NE(w, nullptr);
  const uint64_t end4 = AppendTxn(w.get(), 4);
  std::thread a([&] { EXPECT_TRUE(w->SyncTo(end4).ok()); });
  ASSERT_TRUE(Eventually([&] { return metrics_.Value("wal_sync_lingers") == 1; }));
  EXPECT_EQ(gate.entered(), 1) << "the leader lingers";
  std::atomic<bool> restarted{false};
  Status restart;
  std::thread r([&] {
    restart = w->Restart(2, 5, WalBase{});
    restarted = true;
  });
  EXPECT_TRUE(Eventually([&] { return gate.entered() == 2; })) << "the linger did not end";
  EXPECT_FALSE(restarted.load()) << "Restart went ahead of the leader's sync";
  gate.Release();  // the leader's sync
  gate.Release();  // the new header's
  a.join();
  r.join();
  EXPECT_TRUE(restart.ok()) << restart.ToString();
  EXPECT_EQ(metrics_.Value("wal_sync_lingers"), 1u);
  EXPECT_EQ(metrics_.Value("wal_syncs_grouped"), 2u) << "the leader's sync covered one batch";
}

// A failed append ends the linger: the leader returns the sticky error
// without syncing.
TEST_F(WalLingerTest, AFailedAppendEndsTheLinger) {
  GateSyncEnv gate(Env::Default());
  FaultInjectionEnv env(&gate);
  auto w = WriterAfterThree(&env, &gate, std::chrono::seconds(60));
  ASSERT_NE(w, nullptr);
  const uint64_t synced = w->synced_offset();
  const uint64_t end4 = AppendTxn(w.get(), 4);
  Status leader;
  std::thread a([&] { leader = w->SyncTo(end4); });
  ASSERT_TRUE(Eventually([&] { return metrics_.Value("wal_sync_lingers") == 1; }));
  env.FailNext(Op::kWrite, ENOSPC);
  gate.Release();  // for the sync after Fail zeroes the header at the synced offset
  BatchBuilder batch(test::kPageSize, false);
  batch.Reset(w->last_checksum());
  CommitInfo c;
  c.lsn = 5;
  c.page_count = 10;
  ASSERT_TRUE(batch.AddCommit(c).ok());
  EXPECT_TRUE(w->Append(batch).status().IsIOError());
  a.join();
  EXPECT_TRUE(leader.IsIOError()) << leader.ToString();
  EXPECT_EQ(w->synced_offset(), synced) << "transaction 4 was never synced";
  EXPECT_EQ(gate.entered(), 2) << "the sync of transactions 1-3 and Fail's";
}

}  // namespace
}  // namespace sombra::wal
