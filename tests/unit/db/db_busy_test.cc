// Options::busy_timeout_ms: a writable open waits for the writer lock held
// by another process (a forked child, test::DbHolder) or by another handle
// in this process, then gives up with Busy saying how long it waited. Only
// lower bounds on the time waited are asserted: a loaded machine may be
// slower, never faster.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "db_test_util.h"
#include "env/env.h"
#include "sombra/db.h"
#include "testutil/db_holder.h"
#include "testutil/temp_dir.h"

namespace sombra::dbtest {
namespace {

using Clock = std::chrono::steady_clock;

// How long the holder keeps the lock in the tests where it lets go.
constexpr int kHoldMs = 300;

int64_t MsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

Status OpenWriter(const std::string& path, uint32_t wait_ms, std::unique_ptr<DB>* db) {
  Options o;
  o.busy_timeout_ms = wait_ms;
  return DB::Open(o, path, db);
}

class DbBusyTest : public ::testing::Test {
 protected:
  test::TempDir dir_;
  std::string path_ = dir_.File("db");
};

// A one-operation Put or Delete on the thread that holds an open write
// transaction would wait for that transaction's writer slot forever: Busy,
// naming the call, and nothing written. Once the transaction ends they work.
TEST_F(DbBusyTest, OneOperationWritesOnTheWriterThreadAreBusy) {
  std::unique_ptr<DB> db;
  ASSERT_TRUE(OpenWriter(path_, 0, &db).ok());
  ASSERT_TRUE(db->Put("k", "before").ok());
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db->BeginWrite(&w).ok());
  Status s = db->Put("k", "inside");
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(s.message().find("Put on " + path_ + ": this thread holds an open write"),
            std::string::npos)
      << s.ToString();
  s = db->Delete("k");
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(s.message().find("Delete on "), std::string::npos) << s.ToString();
  ASSERT_TRUE(w->Put("other", "1").ok());
  ASSERT_TRUE(w->Commit().ok());
  std::string v;
  ASSERT_TRUE(db->Get("k", &v).ok());
  EXPECT_EQ(v, "before");
  ASSERT_TRUE(db->Put("k", "after").ok());
  ASSERT_TRUE(db->Delete("other").ok());
  ASSERT_TRUE(db->Get("k", &v).ok());
  EXPECT_EQ(v, "after");
  EXPECT_TRUE(db->Get("other", &v).IsNotFound());
}

TEST_F(DbBusyTest, ZeroTimeoutIsBusyAtOnce) {
  test::DbHolder holder(path_);
  std::unique_ptr<DB> db;
  Status s = OpenWriter(path_, 0, &db);
  ASSERT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), path_ + "-lock")) << s.ToString();
  EXPECT_FALSE(Contains(s.message(), "waited")) << s.ToString();
  EXPECT_EQ(db, nullptr);
}

TEST_F(DbBusyTest, TimeoutExpiresWithBusySayingItWaited) {
  test::DbHolder holder(path_);
  std::unique_ptr<DB> db;
  const Clock::time_point start = Clock::now();
  Status s = OpenWriter(path_, 200, &db);
  const int64_t waited = MsSince(start);
  ASSERT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_GE(waited, 200);
  EXPECT_TRUE(Contains(s.message(), path_ + "-lock")) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "(waited ")) << s.ToString();
  EXPECT_EQ(db, nullptr);
}

TEST_F(DbBusyTest, ReadOnlyOpenIgnoresTheTimeout) {
  test::DbHolder holder(path_);
  Options ro;
  ro.read_only = true;
  ro.busy_timeout_ms = 60000;
  std::unique_ptr<DB> reader;
  Status s = DB::Open(ro, path_, &reader);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string v;
  ASSERT_TRUE(reader->Get("holder", &v).ok());
  EXPECT_EQ(v, "held");
}

TEST_F(DbBusyTest, WaiterGetsTheLockWhenAnotherProcessLetsGo) {
  test::DbHolder holder(path_);
  {
    std::unique_ptr<DB> db;
    ASSERT_TRUE(OpenWriter(path_, 0, &db).IsBusy()) << "the holder must hold the lock first";
  }
  const Clock::time_point start = Clock::now();
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(kHoldMs));
    holder.Release();  // through the pipe; returns once the child has exited
  });
  std::unique_ptr<DB> db;
  Status s = OpenWriter(path_, 5000, &db);
  const int64_t waited = MsSince(start);
  release.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GE(waited, kHoldMs);
  std::string v;
  ASSERT_TRUE(db->Get("holder", &v).ok());  // the other process's commit
  EXPECT_EQ(v, "held");
  EXPECT_TRUE(db->Put("waiter", "in").ok());
}

TEST_F(DbBusyTest, WaiterGetsTheLockWhenAnotherHandleInThisProcessCloses) {
  std::unique_ptr<DB> first;
  ASSERT_TRUE(OpenWriter(path_, 0, &first).ok());
  ASSERT_TRUE(first->Put("first", "1").ok());
  {
    std::unique_ptr<DB> db;
    ASSERT_TRUE(OpenWriter(path_, 0, &db).IsBusy());
  }
  const Clock::time_point start = Clock::now();
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(kHoldMs));
    first.reset();
  });
  std::unique_ptr<DB> second;
  Status s = OpenWriter(path_, 5000, &second);
  const int64_t waited = MsSince(start);
  closer.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GE(waited, kHoldMs);
  std::string v;
  ASSERT_TRUE(second->Get("first", &v).ok());
  EXPECT_EQ(v, "1");
}

TEST_F(DbBusyTest, TimeoutExpiresAgainstAnotherHandleInThisProcess) {
  std::unique_ptr<DB> first;
  ASSERT_TRUE(OpenWriter(path_, 0, &first).ok());
  const Clock::time_point start = Clock::now();
  std::unique_ptr<DB> second;
  Status s = OpenWriter(path_, 100, &second);
  ASSERT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_GE(MsSince(start), 100);
  EXPECT_TRUE(Contains(s.message(), "(waited ")) << s.ToString();
  // The first handle kept its lock and still writes.
  EXPECT_TRUE(first->Put("k", "v").ok());
}

// The open found no database, then waited for the lock while its holder
// created one: it must open that database, not create a new one over it.
TEST_F(DbBusyTest, WaiterOpensTheDatabaseCreatedWhileItWaited) {
  std::unique_ptr<FileLock> held;
  {
    auto lock = Env::Default()->LockDatabase(path_);  // as a writer that is creating it
    ASSERT_TRUE(lock.ok()) << lock.status().ToString();
    held = std::move(*lock);
  }
  const std::string elsewhere = dir_.File("elsewhere");
  std::thread creator([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(kHoldMs));
    {
      std::unique_ptr<DB> db;
      ASSERT_TRUE(OpenWriter(elsewhere, 0, &db).ok());
      ASSERT_TRUE(db->Put("made", "meanwhile").ok());
    }  // closed: checkpointed, so the page file alone holds the data
    ASSERT_EQ(std::rename(elsewhere.c_str(), path_.c_str()), 0);
    held.reset();
  });
  std::unique_ptr<DB> db;
  Status s = OpenWriter(path_, 5000, &db);
  creator.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string v;
  ASSERT_TRUE(db->Get("made", &v).ok());
  EXPECT_EQ(v, "meanwhile");
  EXPECT_TRUE(db->Verify().ok());
}

}  // namespace
}  // namespace sombra::dbtest
