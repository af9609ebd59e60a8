// `sombra --wait MS`: a writing command waits for a writer lock held by
// another process (Options::busy_timeout_ms). Only lower bounds on the
// time waited are asserted.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "cli/cli.h"
#include "cli_run.h"
#include "sombra/db.h"
#include "testutil/db_holder.h"
#include "testutil/temp_dir.h"

namespace sombra::cli::test {
namespace {

using sombra::test::TempDir;
using Clock = std::chrono::steady_clock;

bool Contains(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

int64_t MsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

TEST(CliBusyTest, WaitGivesUpWithBusyWhileAnotherProcessHoldsTheDatabase) {
  TempDir dir;
  const std::string db = dir.File("db");
  sombra::test::DbHolder holder(db);
  RunResult r = RunSombra(dir.path(), {"put", db, "k", "v"});
  EXPECT_EQ(r.code, kExitError) << r.err;
  EXPECT_TRUE(Contains(r.err, "Busy")) << r.err;
  EXPECT_FALSE(Contains(r.err, "waited")) << r.err;

  const Clock::time_point start = Clock::now();
  r = RunSombra(dir.path(), {"--wait", "100", "put", db, "k", "v"});
  EXPECT_GE(MsSince(start), 100);
  EXPECT_EQ(r.code, kExitError) << r.err;
  EXPECT_TRUE(Contains(r.err, "sombra: put: " + db + ": Busy: ")) << r.err;
  EXPECT_TRUE(Contains(r.err, db + "-lock")) << r.err;
  EXPECT_TRUE(Contains(r.err, "(waited ")) << r.err;

  // After the command, as global options may be.
  r = RunSombra(dir.path(), {"del", db, "holder", "--wait=50"});
  EXPECT_EQ(r.code, kExitError) << r.err;
  EXPECT_TRUE(Contains(r.err, "(waited ")) << r.err;

  // A reading command takes no lock: --wait changes nothing.
  r = RunSombra(dir.path(), {"--wait", "60000", "get", db, "holder"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "held\n");
}

TEST(CliBusyTest, WaitWantsMilliseconds) {
  TempDir dir;
  const std::string db = dir.File("db");
  for (const char* bad : {"soon", "-1", "1.5", "", "4294967296"}) {
    RunResult r = RunSombra(dir.path(), {"--wait", bad, "put", db, "k", "v"});
    EXPECT_EQ(r.code, kExitError) << bad;
    EXPECT_TRUE(Contains(r.err, "--wait wants milliseconds")) << bad << ": " << r.err;
  }
  RunResult r = RunSombra(dir.path(), {"put", db, "k", "v", "--wait"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_TRUE(Contains(r.err, "--wait needs a value")) << r.err;
}

TEST(CliBusyTest, WaitGetsTheDatabaseWhenTheOtherProcessLetsGo) {
  TempDir dir;
  const std::string db = dir.File("db");
  sombra::test::DbHolder holder(db);
  const Clock::time_point start = Clock::now();
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    holder.Release();
  });
  RunResult r = RunSombra(dir.path(), {"--wait", "5000", "put", db, "k", "v"});
  const int64_t waited = MsSince(start);
  release.join();
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_GE(waited, 300);
  r = RunSombra(dir.path(), {"get", db, "holder"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "held\n");
  r = RunSombra(dir.path(), {"get", db, "k"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "v\n");
}

}  // namespace
}  // namespace sombra::cli::test
