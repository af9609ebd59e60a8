// Kill tests through the pager [crash] (docs/testing.md, "Kill tests").
//
//   pager_kill_test [gtest flags] [--soak=SECONDS]
//
// --soak=SECONDS: each kill test below runs for SECONDS (as many kills as
// fit) instead of its fixed number of kills. Each test prints its seed;
// SOMBRA_SEED=<seed> replays the same workloads and the same choice of
// crash points (the moment of a parent kill still varies from run to
// run). Each test prints its kills per crash point.
//
// The binary is also the child of every kill: main() hands
// `--kill-child WORKLOAD PATH FD SEED` to KillChildMain (kill_harness.h).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "kill_harness.h"
#include "kill_workloads.h"
#include "pager/snapshot.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"

namespace sombra::kill_test {
namespace {

void RunAndExpectEveryPointFired(const char* workload_name, int iterations) {
  std::unique_ptr<Workload> workload = MakeWorkload(workload_name);
  ASSERT_NE(workload, nullptr);
  KillLoopConfig config;
  config.iterations = iterations;
  KillCounts counts = RunKillLoop(workload.get(), config);
  if (::testing::Test::HasFailure()) return;
  for (const std::string& point : config.points) {
    EXPECT_GE(counts[point], 1) << "crash point " << point << " never fired";
  }
  EXPECT_GE(counts[kParentKill], 1);
}

// 160 + 96 + 64 = 320 kills in a default run; half by the parent, the rest
// spread over the four crash points.
TEST(PagerKillTest, RandomMultiPageTransactions) { RunAndExpectEveryPointFired("pages", 160); }

TEST(PagerKillTest, BankTotalNeverChanges) { RunAndExpectEveryPointFired("bank", 96); }

TEST(PagerKillTest, GroupCommitCountersSurvive) { RunAndExpectEveryPointFired("counters", 64); }

// Without kills: eight committing threads share fsyncs (group commit).
TEST(PagerGroupCommitTest, EightThreadsNeedFewerFsyncsThanCommits) {
  constexpr uint64_t kCommitsPerThread = 100;
  test::TempDir dir;
  Options options;
  options.durability = Durability::kFull;
  auto pager = pager::Pager::Open(Env::Default(), dir.File("db"), options);
  ASSERT_TRUE(pager.ok()) << pager.status().ToString();
  pager::Pager* p = pager->get();
  ASSERT_TRUE(CreateCounterPages(p, kCounterThreads).ok());
  MetricsRegistry* metrics = p->metrics();
  const uint64_t fsyncs_before = metrics->Value("fsyncs");
  const uint64_t commits_before = metrics->Value("commits");

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kCounterThreads; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; i < kCommitsPerThread; ++i) {
        uint64_t lsn = 0, value = 0;
        Status s = IncrementCounter(p, pager::kFirstDataPage + t, &lsn, &value);
        if (!s.ok()) {
          std::fprintf(stderr, "thread %d: %s\n", t, s.ToString().c_str());
          failures++;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);

  const uint64_t commits = metrics->Value("commits") - commits_before;
  const uint64_t fsyncs = metrics->Value("fsyncs") - fsyncs_before;
  std::printf("[ group    ] %llu commits, %llu fsyncs\n", static_cast<unsigned long long>(commits),
              static_cast<unsigned long long>(fsyncs));
  EXPECT_EQ(commits, kCounterThreads * kCommitsPerThread);
  EXPECT_LT(fsyncs, commits);
  auto snap = p->BeginRead();
  for (int t = 0; t < kCounterThreads; ++t) {
    auto page = snap->Read(pager::kFirstDataPage + t);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(DecodeFixed64(*page + kCounterOffset), kCommitsPerThread) << "thread " << t;
  }
}

}  // namespace
}  // namespace sombra::kill_test

int main(int argc, char** argv) {
  using namespace sombra::kill_test;
  if (IsKillChild(argc, argv)) KillChildMain(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--soak=", 7) == 0 && std::atoi(argv[i] + 7) > 0) {
      SetSoakSeconds(std::atoi(argv[i] + 7));
    } else {
      std::fprintf(stderr, "unknown argument %s (usage: %s [gtest flags] [--soak=SECONDS])\n",
                   argv[i], argv[0]);
      return 2;
    }
  }
  return RUN_ALL_TESTS();
}
