// DB::Backup killed by SIGKILL (docs/operations.md, "Backup"; docs/testing.md,
// "Kill tests"): a forked child opens the database and backs it up, and dies
// either at a chosen point of the page writes (from its progress callback)
// or when the parent kills it after a chosen delay, spread over the whole
// backup (its open, page writes, meta pages, verification and rename).
// After each death: the destination is absent, or opens with default
// options, verifies and holds every record; a `.partial` file left behind
// either opens as nothing or is the complete copy (killed between its meta
// pages and the rename); the source still opens and verifies; and a new
// backup over the leftovers succeeds.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sombra/db.h"
#include "testutil/temp_dir.h"

namespace sombra {
namespace {

using Contents = std::map<std::string, std::map<std::string, std::string>>;

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "key%08d", i);
  return buf;
}

Contents Read(DB* db) {
  Contents out;
  std::unique_ptr<ReadTxn> r;
  EXPECT_TRUE(db->BeginRead(&r).ok());
  std::vector<std::string> names;
  EXPECT_TRUE(db->ListTrees(&names).ok());
  names.insert(names.begin(), "");
  for (const std::string& name : names) {
    Tree* t = db->DefaultTree();
    if (!name.empty()) {
      EXPECT_TRUE(db->OpenTree(name, &t).ok());
    }
    auto c = r->NewCursor(t);
    for (c->SeekToFirst(); c->Valid(); c->Next()) out[name][std::string(c->key())] = c->value();
    EXPECT_TRUE(c->status().ok());
  }
  return out;
}

class BackupKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::unique_ptr<DB> db;
    ASSERT_TRUE(DB::Open(Options(), path_, &db).ok());
    Tree* named = nullptr;
    ASSERT_TRUE(db->OpenTree("named", &named).ok());
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    for (int i = 0; i < 40000; ++i) {
      const size_t len = i % 1000 == 0 ? 12000 : 40;
      ASSERT_TRUE(w->Put(Key(i), std::string(len, static_cast<char>('a' + i % 26))).ok());
      if (i % 4 == 0) {
        ASSERT_TRUE(w->Put(named, Key(i), "n").ok());
      }
    }
    ASSERT_TRUE(w->Commit().ok());
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    ASSERT_TRUE(w->DeleteRange(Key(10000), Key(20000)).ok());  // free pages
    ASSERT_TRUE(w->Commit().ok());
    want_ = Read(db.get());
  }

  // Forks a child that opens the database and backs it up to dest_,
  // raising SIGKILL once `kill_at_page` pages are written (0: never); the
  // parent kills it after `delay` (negative: never). Returns how it ended.
  std::string RunChild(uint64_t kill_at_page, std::chrono::microseconds delay) {
    const pid_t pid = fork();
    if (pid == 0) {
      std::unique_ptr<DB> db;
      if (!DB::Open(Options(), path_, &db).ok()) _exit(3);
      BackupOptions o;
      o.progress = [&](uint64_t done, uint64_t) {
        if (kill_at_page != 0 && done >= kill_at_page) raise(SIGKILL);
      };
      _exit(db->Backup(dest_, o, nullptr).ok() ? 0 : 4);
    }
    if (delay.count() >= 0) {
      std::this_thread::sleep_for(delay);
      kill(pid, SIGKILL);
    }
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) return "killed";
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
    return "finished";
  }

  // What a death left behind, checked and cleared away.
  void CheckAfter(const std::string& how) {
    SCOPED_TRACE(how);
    if (std::filesystem::exists(dest_)) {
      ++complete_;
      ExpectCompleteCopy(dest_, Options());
    }
    const std::string partial = dest_ + ".partial";
    if (std::filesystem::exists(partial)) {
      Options ro;
      ro.read_only = true;
      std::unique_ptr<DB> db;
      if (DB::Open(ro, partial, &db).ok()) {
        db.reset();
        ++partial_complete_;
        ExpectCompleteCopy(partial, ro);
      } else {
        ++partial_refused_;
      }
    }
    {
      std::unique_ptr<DB> src;
      ASSERT_TRUE(DB::Open(Options(), path_, &src).ok());
      EXPECT_TRUE(src->Verify().ok());
      EXPECT_EQ(Read(src.get()), want_);
    }
    for (const std::string& f : {dest_, partial}) {
      for (const char* suffix : {"", "-wal", "-lock", "-shm"}) std::filesystem::remove(f + suffix);
    }
  }

  void ExpectCompleteCopy(const std::string& path, const Options& o) {
    std::unique_ptr<DB> db;
    Status s = DB::Open(o, path, &db);
    ASSERT_TRUE(s.ok()) << path << ": " << s.ToString();
    Status v = db->Verify();
    EXPECT_TRUE(v.ok()) << path << ": " << v.ToString();
    EXPECT_EQ(Read(db.get()), want_) << path;
  }

  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
  std::string dest_ = dir_.File("copy");
  Contents want_;
  int complete_ = 0, partial_complete_ = 0, partial_refused_ = 0;
};

TEST_F(BackupKillTest, KilledBackupNeverLeavesAHalfDatabase) {
  // How long an open and a backup take here, to spread the kills over.
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(RunChild(0, std::chrono::microseconds(-1)), "finished");
  const auto full =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
  ASSERT_TRUE(std::filesystem::exists(dest_));
  CheckAfter("uninterrupted");
  // Every run of pages the backup writes (256 pages a run): killed after it.
  for (uint64_t page : {1u, 256u, 512u, 768u, 1024u}) {
    const std::string how = RunChild(page, std::chrono::microseconds(-1));
    CheckAfter("killed at page " + std::to_string(page) + " (" + how + ")");
  }
  // Delays from the start to past the end of a whole backup.
  constexpr int kDelays = 24;
  for (int i = 0; i <= kDelays; ++i) {
    const auto delay = full * i * 3 / (2 * kDelays);
    const std::string how = RunChild(0, delay);
    CheckAfter("killed after " + std::to_string(delay.count()) + " us (" + how + ")");
  }
  // Leftovers of a killed backup do not stop the next one.
  EXPECT_EQ(RunChild(512, std::chrono::microseconds(-1)), "killed");
  EXPECT_TRUE(std::filesystem::exists(dest_ + ".partial"));
  EXPECT_FALSE(std::filesystem::exists(dest_));
  EXPECT_EQ(RunChild(0, std::chrono::microseconds(-1)), "finished");
  CheckAfter("after a killed one");
  std::printf(
      "[ backup   ] full run %lld us; after the kills: %d complete copies, %d partial "
      "files complete, %d partial files refused\n",
      static_cast<long long>(full.count()), complete_, partial_complete_, partial_refused_);
  EXPECT_GT(partial_refused_, 0);
}

}  // namespace
}  // namespace sombra
