// Tests of Env::LockDatabase: exclusion within one process (the lock table)
// and across processes (the fcntl lock on "<db>-lock").
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "env/env.h"
#include "env_test_util.h"
#include "testutil/temp_dir.h"

namespace sombra {
namespace {

// Expects the lock attempt `r` to have failed with Busy naming `lock_path`.
void ExpectBusy(const Result<std::unique_ptr<FileLock>>& r, const std::string& lock_path) {
  ASSERT_FALSE(r.ok()) << "lock unexpectedly acquired";
  EXPECT_TRUE(r.status().IsBusy()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(lock_path), std::string::npos) << r.status().ToString();
}

// Forks a child that reports whether some other process holds a write lock
// on `lock_path` (F_GETLK never reports the caller's own locks, so this is
// how the parent checks that its lock is a real file lock).
bool HeldByAnotherProcess(const std::string& lock_path) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) _exit(2);
    struct flock fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd, F_GETLK, &fl) != 0) _exit(2);
    _exit(fl.l_type == F_UNLCK ? 0 : 1);
  }
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 2) << "F_GETLK probe failed";
  return WIFEXITED(status) && WEXITSTATUS(status) == 1;
}

class LockTest : public ::testing::Test {
 protected:
  Env* const env_ = Env::Default();
  test::TempDir dir_;
};

TEST_F(LockTest, SecondLockInProcessIsBusyUntilReleased) {
  const std::string db = dir_.File("db");
  const std::string lock_path = db + "-lock";
  ENV_ASSERT_OK_AND_ASSIGN(auto first, env_->LockDatabase(db));
  EXPECT_EQ(first->path(), lock_path);
  EXPECT_TRUE(env_->FileExists(lock_path));

  ExpectBusy(env_->LockDatabase(db), lock_path);
  // The failed attempt did not release the first lock.
  ExpectBusy(env_->LockDatabase(db), lock_path);
  EXPECT_TRUE(HeldByAnotherProcess(lock_path));

  first.reset();
  EXPECT_FALSE(HeldByAnotherProcess(lock_path));
  ENV_ASSERT_OK_AND_ASSIGN(auto again, env_->LockDatabase(db));
  EXPECT_TRUE(HeldByAnotherProcess(lock_path));
}

TEST_F(LockTest, DifferentSpellingOfSamePathIsBusy) {
  const std::string db = dir_.File("db");
  ENV_ASSERT_OK_AND_ASSIGN(auto first, env_->LockDatabase(db));
  ExpectBusy(env_->LockDatabase(dir_.path() + "/./db"), "-lock");
  ExpectBusy(env_->LockDatabase(dir_.path() + "//db"), "-lock");
}

TEST_F(LockTest, DistinctDatabasesLockIndependently) {
  ENV_ASSERT_OK_AND_ASSIGN(auto a, env_->LockDatabase(dir_.File("a")));
  ENV_ASSERT_OK_AND_ASSIGN(auto b, env_->LockDatabase(dir_.File("b")));
  EXPECT_NE(a->path(), b->path());
  a.reset();
  // Releasing one leaves the other held.
  ExpectBusy(env_->LockDatabase(dir_.File("b")), dir_.File("b") + "-lock");
  EXPECT_TRUE(HeldByAnotherProcess(dir_.File("b") + "-lock"));
}

TEST_F(LockTest, LockHeldByAnotherProcessIsBusy) {
  const std::string db = dir_.File("db");
  const std::string lock_path = db + "-lock";
  int to_parent[2];
  int to_child[2];
  ASSERT_EQ(pipe(to_parent), 0);
  ASSERT_EQ(pipe(to_child), 0);

  // The child takes the lock first: a lock taken by the parent would be
  // caught by the copied in-process table, not by the file lock.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(to_parent[0]);
    ::close(to_child[1]);
    auto lock = Env::Default()->LockDatabase(db);
    char c = lock.ok() ? 'L' : 'E';
    if (::write(to_parent[1], &c, 1) != 1) _exit(3);
    char go;
    if (::read(to_child[0], &go, 1) != 1) _exit(4);
    _exit(lock.ok() ? 0 : 1);  // never return into gtest
  }
  ::close(to_parent[1]);
  ::close(to_child[0]);

  char c = 0;
  ASSERT_EQ(::read(to_parent[0], &c, 1), 1);
  EXPECT_EQ(c, 'L') << "the child could not take the lock";
  ExpectBusy(env_->LockDatabase(db), lock_path);
  ExpectBusy(env_->LockDatabase(db), lock_path);  // a failed attempt leaves no residue
  EXPECT_TRUE(HeldByAnotherProcess(lock_path));

  char go = 'g';
  EXPECT_EQ(::write(to_child[1], &go, 1), 1);
  ::close(to_child[1]);
  ::close(to_parent[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  ENV_ASSERT_OK_AND_ASSIGN(auto lock, env_->LockDatabase(db));
  EXPECT_EQ(lock->path(), lock_path);
}

// LockDatabase(db, wait_ms): only lower bounds on the time waited are
// asserted (a loaded machine may be slower, never faster).
using Clock = std::chrono::steady_clock;

int64_t MsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

TEST_F(LockTest, ZeroWaitIsOneAttempt) {
  const std::string db = dir_.File("db");
  ENV_ASSERT_OK_AND_ASSIGN(auto first, env_->LockDatabase(db));
  auto second = env_->LockDatabase(db, 0);
  ExpectBusy(second, db + "-lock");
  EXPECT_EQ(second.status().message().find("waited"), std::string::npos)
      << second.status().ToString();
}

TEST_F(LockTest, WaitEndsWithBusySayingHowLong) {
  const std::string db = dir_.File("db");
  ENV_ASSERT_OK_AND_ASSIGN(auto first, env_->LockDatabase(db));
  const Clock::time_point start = Clock::now();
  auto second = env_->LockDatabase(db, 100);
  EXPECT_GE(MsSince(start), 100);
  ExpectBusy(second, db + "-lock");
  EXPECT_NE(second.status().message().find(" (waited "), std::string::npos)
      << second.status().ToString();
  // The waiter left the holder's lock alone.
  EXPECT_TRUE(HeldByAnotherProcess(db + "-lock"));
  ExpectBusy(env_->LockDatabase(db), db + "-lock");
}

TEST_F(LockTest, WaiterTakesTheLockWhenThisProcessReleasesIt) {
  const std::string db = dir_.File("db");
  ENV_ASSERT_OK_AND_ASSIGN(auto first, env_->LockDatabase(db));
  const Clock::time_point start = Clock::now();
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    first.reset();
  });
  auto second = env_->LockDatabase(db, 5000);
  const int64_t waited = MsSince(start);
  releaser.join();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_GE(waited, 100);
  EXPECT_TRUE(HeldByAnotherProcess(db + "-lock"));
}

TEST_F(LockTest, WaiterTakesTheLockWhenAnotherProcessReleasesIt) {
  const std::string db = dir_.File("db");
  int to_parent[2];
  int to_child[2];
  ASSERT_EQ(pipe(to_parent), 0);
  ASSERT_EQ(pipe(to_child), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(to_parent[0]);
    ::close(to_child[1]);
    auto lock = Env::Default()->LockDatabase(db);
    char c = lock.ok() ? 'L' : 'E';
    if (::write(to_parent[1], &c, 1) != 1) _exit(3);
    char go;
    if (::read(to_child[0], &go, 1) != 1) _exit(4);
    _exit(lock.ok() ? 0 : 1);  // exiting releases the lock
  }
  ::close(to_parent[1]);
  ::close(to_child[0]);
  char c = 0;
  ASSERT_EQ(::read(to_parent[0], &c, 1), 1);
  ::close(to_parent[0]);
  ASSERT_EQ(c, 'L') << "the child could not take the lock";

  const Clock::time_point start = Clock::now();
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const char go = 'g';
    EXPECT_EQ(::write(to_child[1], &go, 1), 1);
    ::close(to_child[1]);
  });
  auto lock = env_->LockDatabase(db, 5000);
  const int64_t waited = MsSince(start);
  releaser.join();
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  EXPECT_GE(waited, 100);
}

TEST_F(LockTest, WaitReturnsOtherErrorsAtOnce) {
  // No directory to create the lock file in: an error that waiting cannot
  // cure, returned without waiting (a regression shows as a one-minute test).
  auto lock = env_->LockDatabase(dir_.File("missing-dir/db"), 60000);
  ASSERT_FALSE(lock.ok());
  EXPECT_FALSE(lock.status().IsBusy()) << lock.status().ToString();
}

}  // namespace
}  // namespace sombra
