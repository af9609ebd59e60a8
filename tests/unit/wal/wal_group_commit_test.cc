// Group commit: concurrent committers share fdatasyncs, everything SyncTo
// acknowledged survives a power loss, and a failed sync among concurrent
// commits leaves exactly a prefix of the log.
#include <errno.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
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
          batch.Reset(w->last_checksum());
          const std::string bytes(40, 'g');
          const std::vector<DeltaRange> ranges = {{64, bytes}};
          CommitInfo c;
          c.lsn = lsn;
          c.page_count = 10;
          c.durable_lsn = std::min(durable.load(), lsn - 1);
          if (!batch.AddPageDelta(3, lsn - 1, lsn, ranges).ok() || !batch.AddCommit(c).ok()) {
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
          batch.Reset(w->last_checksum());
          const std::string bytes(40, 'f');
          const std::vector<DeltaRange> ranges = {{64, bytes}};
          CommitInfo c;
          c.lsn = lsn;
          c.page_count = 10;
          if (!batch.AddPageDelta(3, lsn - 1, lsn, ranges).ok() || !batch.AddCommit(c).ok()) {
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

}  // namespace
}  // namespace sombra::wal
