// The writer lock and the writer slot through the C API: a second writable
// handle or process is Busy; read-only handles open beside a writer; a
// thread holding the write transaction gets Busy instead of waiting for
// itself; other threads wait for the slot; snapshots from many threads.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "capi_test_util.h"

namespace sombra::capitest {
namespace {

// A child process that holds `path` open for writing (through the C API)
// until Release().
class Holder {
 public:
  explicit Holder(const std::string& path) {
    int ready[2], release[2];
    if (::pipe(ready) != 0 || ::pipe(release) != 0) {
      ADD_FAILURE() << "pipe failed";
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(release[1]);
      sombra_db* db = nullptr;
      char status = 'x';
      if (sombra_db_open(path.c_str(), nullptr, &db, nullptr) == SOMBRA_OK &&
          sombra_db_put(db, "holder", 6, "held", 4, nullptr) == SOMBRA_OK) {
        status = 'k';
      }
      (void)!::write(ready[1], &status, 1);
      char c;
      (void)!::read(release[0], &c, 1);
      const bool closed = sombra_db_close(db, nullptr) == SOMBRA_OK;
      ::_exit(status == 'k' && closed ? 0 : 1);
    }
    ::close(ready[1]);
    ::close(release[0]);
    release_fd_ = release[1];
    char status = 0;
    EXPECT_EQ(::read(ready[0], &status, 1), 1);
    EXPECT_EQ(status, 'k') << "the holder could not open " << path;
    ::close(ready[0]);
  }
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;
  ~Holder() { Release(); }

  void Release() {
    if (pid_ <= 0) return;
    (void)!::write(release_fd_, "r", 1);
    ::close(release_fd_);
    int status = 0;
    EXPECT_EQ(::waitpid(pid_, &status, 0), pid_);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "holder status " << status;
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int release_fd_ = -1;
};

class CapiBusyTest : public CapiTest {};

TEST_F(CapiBusyTest, SecondWritableHandleIsBusy) {
  DbPtr first = Open();
  Error e;
  sombra_db* second = nullptr;
  sombra_options o = Defaults();
  EXPECT_EQ(sombra_db_open(path_.c_str(), &o, &second, e.out()), SOMBRA_BUSY);
  EXPECT_TRUE(Contains(e.message(), path_ + "-lock")) << e.str();
  EXPECT_EQ(second, nullptr);
  o.busy_timeout_ms = 50;
  EXPECT_EQ(sombra_db_open(path_.c_str(), &o, &second, e.out()), SOMBRA_BUSY);
  EXPECT_TRUE(Contains(e.message(), "(waited ")) << e.str();
  // The first handle keeps working.
  ASSERT_EQ(DbPut(first.get(), "k", "v", &e), SOMBRA_OK) << e.str();
}

TEST_F(CapiBusyTest, AnotherProcessHoldingTheDatabaseMakesItBusy) {
  Holder holder(path_);
  Error e;
  sombra_db* db = nullptr;
  sombra_options o = Defaults();
  EXPECT_EQ(sombra_db_open(path_.c_str(), &o, &db, e.out()), SOMBRA_BUSY);
  EXPECT_TRUE(Contains(e.message(), path_ + "-lock")) << e.str();
  // A read-only handle opens beside it and reads its commit.
  sombra_options ro = Defaults();
  ro.read_only = 1;
  {
    DbPtr reader = Open(ro);
    EXPECT_EQ(DbGet(reader.get(), "holder"), "held");
  }
  holder.Release();
  DbPtr writer = Open();
  EXPECT_EQ(DbGet(writer.get(), "holder"), "held");
}

TEST_F(CapiBusyTest, ReadOnlyHandleBesideAWriterFollowsItsCommits) {
  DbPtr writer = Open();
  Fill(writer.get(), {{"a", "1"}});
  sombra_options ro = Defaults();
  ro.read_only = 1;
  DbPtr reader = Open(ro);
  TxnPtr snap = BeginRead(reader.get());
  Fill(writer.get(), {{"b", "2"}});
  EXPECT_EQ(Get(snap.get(), "a"), "1");
  EXPECT_EQ(Get(snap.get(), "b"), "<NotFound>");
  TxnPtr later = BeginRead(reader.get());
  EXPECT_EQ(Get(later.get(), "b"), "2");
}

TEST_F(CapiBusyTest, TheWritersOwnThreadGetsBusyInsteadOfWaitingForItself) {
  DbPtr db = Open();
  TxnPtr w = BeginWrite(db.get());
  Error e;
  sombra_txn* second = nullptr;
  EXPECT_EQ(sombra_db_begin_write(db.get(), &second, e.out()), SOMBRA_BUSY);
  EXPECT_TRUE(Contains(e.message(), "this thread holds the database's open write transaction"))
      << e.str();
  EXPECT_EQ(second, nullptr);
  EXPECT_EQ(DbPut(db.get(), "k", "v", &e), SOMBRA_BUSY);
  EXPECT_EQ(sombra_db_delete(db.get(), "k", 1, e.out()), SOMBRA_BUSY);
  // A bad argument is found first, as C++ checks it before the wait.
  EXPECT_EQ(DbPut(db.get(), "", "v", &e), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_db_delete(db.get(), nullptr, 1, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_db_checkpoint(db.get(), e.out()), SOMBRA_BUSY);
  // Reads need no slot.
  EXPECT_EQ(DbGet(db.get(), "k"), "<NotFound>");
  TxnPtr r = BeginRead(db.get());
  EXPECT_NE(r, nullptr);
  ASSERT_EQ(sombra_txn_commit(w.get(), e.out()), SOMBRA_OK);
  // Once it ended, the same thread may write again.
  ASSERT_EQ(DbPut(db.get(), "k", "v", &e), SOMBRA_OK) << e.str();
  ASSERT_EQ(sombra_db_checkpoint(db.get(), e.out()), SOMBRA_OK) << e.str();
  TxnPtr w2 = BeginWrite(db.get());
  EXPECT_NE(w2, nullptr);
}

TEST_F(CapiBusyTest, AnotherThreadWaitsForTheWriterSlot) {
  DbPtr db = Open();
  TxnPtr w = BeginWrite(db.get());
  Error e;
  ASSERT_EQ(Put(w.get(), "first", "1", &e), SOMBRA_OK);
  std::atomic<bool> done{false};
  std::string seen;
  std::thread other([&] {
    sombra_txn* t = nullptr;
    if (sombra_db_begin_write(db.get(), &t, nullptr) != SOMBRA_OK) return;
    seen = Get(t, "first");  // it began after the first commit
    (void)sombra_txn_commit(t, nullptr);
    sombra_txn_free(t);
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(done.load());
  ASSERT_EQ(sombra_txn_commit(w.get(), e.out()), SOMBRA_OK);
  other.join();
  EXPECT_TRUE(done.load());
  EXPECT_EQ(seen, "1");
}

TEST_F(CapiBusyTest, ReadTransactionsFromManyThreads) {
  DbPtr db = Open();
  Fill(db.get(), {{"a", "1"}, {"b", "2"}, {"c", "3"}});
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int round = 0; round < 50; ++round) {
        sombra_txn* r = nullptr;
        sombra_cursor* c = nullptr;
        if (sombra_db_begin_read(db.get(), &r, nullptr) != SOMBRA_OK) return;
        int keys = 0;
        if (sombra_txn_cursor(r, &c, nullptr) == SOMBRA_OK) {
          for (sombra_cursor_seek_to_first(c, nullptr); sombra_cursor_valid(c);
               sombra_cursor_next(c, nullptr)) {
            ++keys;
          }
        }
        sombra_cursor_free(c);
        sombra_txn_free(r);
        if (keys == 3) ++good;
      }
    });
  }
  Error e;
  for (int i = 0; i < 20; ++i) ASSERT_EQ(DbPut(db.get(), "b", std::to_string(i), &e), SOMBRA_OK);
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(good.load(), 200);
}

}  // namespace
}  // namespace sombra::capitest
