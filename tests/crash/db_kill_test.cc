// Kill tests through the public API [crash] (docs/testing.md, "Kill tests").
//
//   db_kill_test [gtest flags] [--soak=SECONDS]
//
// A child process opens the database with sombra::DB::Open (durability
// full, a 256 KiB log so that checkpoints happen) and runs one of the
// workloads of db_workloads.h, reporting each transaction before Commit
// and each acknowledged commit after it through a pipe. The parent
// SIGKILLs it at a random moment (after it opened the database, or while
// it opens and recovers it), or arms a crash point of util/crash_point.h
// (wal-write, after-wal-sync, checkpoint-before-meta, checkpoint-after-
// meta) through SOMBRA_CRASH_POINT / SOMBRA_CRASH_AFTER. Then it reopens
// the database with DB::Open (read-only half the time) and checks: every
// acknowledged transaction is there in full, at most the transactions in
// flight besides, none in part (each key holds the value of the last
// transaction that wrote it), the bank total is unchanged, the named
// trees are all at the same transaction, and Verify() passes. The next child continues on the same
// database.
//
// Default run: 96 + 64 + 64 + 128 + 96 = 448 kills (112 in an AddressSanitizer
// build), half by the parent, the rest spread over the four crash points.
//
// --soak=SECONDS: each test runs for SECONDS (as many kills as fit)
// instead of its fixed number of kills, e.g.
//   db_kill_test --soak=120    (four tests: about 8 minutes)
// Each test prints its seed and its kills per crash point;
// SOMBRA_SEED=<seed> replays the same workloads and choice of crash points
// (the moment of a parent kill still varies from run to run).
//
// The binary is also the child of every kill: main() hands
// `--kill-child WORKLOAD PATH FD SEED` to KillChildMain with DbChild.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "db_workloads.h"
#include "kill_harness.h"
#include "util/crash_point.h"

namespace sombra::kill_test {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr int kKillDivisor = 4;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr int kKillDivisor = 4;
#else
constexpr int kKillDivisor = 1;
#endif
#else
constexpr int kKillDivisor = 1;
#endif

void RunAndExpectEveryPointFired(const char* name, int iterations) {
  std::unique_ptr<KillSubject> subject = MakeDbSubject(name);
  ASSERT_NE(subject, nullptr);
  KillLoopConfig config;
  config.iterations = iterations / kKillDivisor;
  config.max_delay_ms = 50;
  KillCounts counts = RunKillLoop(subject.get(), config);
  if (::testing::Test::HasFailure()) return;
  for (const std::string& point : config.points) {
    EXPECT_GE(counts[point], 1) << "crash point " << point << " never fired";
  }
  EXPECT_GE(counts[kParentKill], 1);
}

TEST(DbKillTest, RandomMultiKeyTransactions) { RunAndExpectEveryPointFired("txns", 96); }

TEST(DbKillTest, BankTotalNeverChanges) { RunAndExpectEveryPointFired("bank", 64); }

TEST(DbKillTest, GroupCommitFourThreads) { RunAndExpectEveryPointFired("group", 64); }

// Every transaction writes the default tree and five named trees; after
// each kill all six are at the same transaction.
TEST(DbKillTest, NamedTreesCommitTogether) { RunAndExpectEveryPointFired("trees", 128); }

// The same with compactions (DB::Compact) between transactions; the
// compact-step point kills between two of its steps too.
TEST(DbKillTest, CompactionKeepsEveryTree) {
  std::unique_ptr<KillSubject> subject = MakeDbSubject("compact");
  ASSERT_NE(subject, nullptr);
  KillLoopConfig config;
  config.iterations = 96 / kKillDivisor;
  config.max_delay_ms = 50;
  config.points.push_back(kCrashCompactStep);
  KillCounts counts = RunKillLoop(subject.get(), config);
  if (::testing::Test::HasFailure()) return;
  for (const std::string& point : config.points) {
    EXPECT_GE(counts[point], 1) << "crash point " << point << " never fired";
  }
  EXPECT_GE(counts[kParentKill], 1);
}

}  // namespace
}  // namespace sombra::kill_test

int main(int argc, char** argv) {
  using namespace sombra::kill_test;
  if (IsKillChild(argc, argv)) KillChildMain(argc, argv, DbChild);
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
