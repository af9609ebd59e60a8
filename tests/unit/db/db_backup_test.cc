// DB::Backup (docs/operations.md, "Backup"): the copy holds every tree of
// one committed state and only live pages, renumbered without a gap, opens
// with default options and verifies; a destination that exists is refused;
// a damaged source leaves nothing behind; and under a writer moving money
// between accounts and a reader scanning, the copy holds exactly one
// committed state (the bank total and the transfer sequence agree).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "db_test_util.h"
#include "sombra/db.h"
#include "testutil/patch_file.h"
#include "testutil/temp_dir.h"

namespace sombra::dbtest {
namespace {

class DbBackupTest : public ::testing::Test {
 protected:
  void SetUp() override { db_ = OpenOrDie(FastOptions(), path_); }

  // Every tree of `db` by name ("" for the default tree).
  static std::map<std::string, KV> Contents(DB* db) {
    std::map<std::string, KV> out;
    std::unique_ptr<ReadTxn> r;
    EXPECT_TRUE(db->BeginRead(&r).ok());
    out[""] = Dump(r->NewCursor().get());
    std::vector<std::string> names;
    EXPECT_TRUE(db->ListTrees(&names).ok());
    for (const std::string& name : names) {
      Tree* t = nullptr;
      EXPECT_TRUE(db->OpenTree(name, &t).ok());
      out[name] = Dump(r->NewCursor(t).get());
    }
    return out;
  }

  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
  std::string dest_ = dir_.File("copy");
  std::unique_ptr<DB> db_;
};

TEST_F(DbBackupTest, CopyHoldsEveryTreeAndOnlyLivePages) {
  Tree* a = nullptr;
  Tree* b = nullptr;
  ASSERT_TRUE(db_->OpenTree("a", &a).ok());
  ASSERT_TRUE(db_->OpenTree("b", &b).ok());
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(w->Put(NumKey(i), FillValue(i % 700 == 0 ? 20000 : 16, i)).ok());
    ASSERT_TRUE(w->Put(a, NumKey(i), FillValue(i % 900 == 0 ? 9000 : 30, i)).ok());
    if (i % 3 == 0) {
      ASSERT_TRUE(w->Put(b, NumKey(i), "b").ok());
    }
  }
  ASSERT_TRUE(w->Commit().ok());
  // Free pages in the middle of the file: half of a, and a whole tree.
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  ASSERT_TRUE(w->DeleteRange(a, NumKey(5000), NumKey(15000)).ok());
  ASSERT_TRUE(w->Commit().ok());
  Tree* c = nullptr;
  ASSERT_TRUE(db_->OpenTree("c", &c).ok());
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(w->Put(c, NumKey(i), FillValue(40, i)).ok());
  ASSERT_TRUE(w->Commit().ok());
  ASSERT_TRUE(db_->DropTree("b").ok());

  const Stats src = db_->GetStats();
  ASSERT_GT(src.freelist_pages, 100u);
  const auto want = Contents(db_.get());
  std::vector<std::pair<uint64_t, uint64_t>> progress;
  BackupOptions options;
  options.progress = [&](uint64_t done, uint64_t total) { progress.emplace_back(done, total); };
  BackupStats stats;
  Status s = db_->Backup(dest_, options, &stats);
  ASSERT_TRUE(s.ok()) << s.ToString();

  // Live pages only: the source's pages less its free ones.
  EXPECT_EQ(stats.pages, src.page_count - src.freelist_pages);
  EXPECT_EQ(stats.bytes, stats.pages * 4096);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().first, stats.pages - 2);
  EXPECT_EQ(progress.back().second, stats.pages - 2);
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  // Nothing but the page file: no log, no partial file.
  const std::string partial = dest_ + ".partial";
  for (const std::string& f : {dest_ + "-wal", dest_ + "-lock", partial, partial + "-lock"}) {
    EXPECT_FALSE(std::filesystem::exists(f)) << f;
  }
  EXPECT_EQ(std::filesystem::file_size(dest_), stats.bytes);

  // The source goes on; the copy is the state at the backup.
  ASSERT_TRUE(db_->Put("after", "backup").ok());
  std::unique_ptr<DB> copy = OpenOrDie(Options(), dest_);
  Status v = copy->Verify();
  EXPECT_TRUE(v.ok()) << v.ToString();
  const Stats cs = copy->GetStats();
  EXPECT_EQ(cs.page_count, stats.pages);
  EXPECT_EQ(cs.freelist_pages, 0u);
  EXPECT_EQ(Contents(copy.get()), want);
  std::unique_ptr<ReadTxn> r;
  ASSERT_TRUE(copy->BeginRead(&r).ok());
  EXPECT_EQ(r->Sequence(), stats.sequence);
  r.reset();
  // The copy is a working database.
  Tree* ca = nullptr;
  ASSERT_TRUE(copy->OpenTree("a", &ca).ok());
  ASSERT_TRUE(copy->BeginWrite(&w).ok());
  for (int i = 5000; i < 15000; ++i) ASSERT_TRUE(w->Put(ca, NumKey(i), "again").ok());
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_TRUE(copy->Verify().ok());
}

TEST_F(DbBackupTest, EmptyDatabase) {
  BackupStats stats;
  ASSERT_TRUE(db_->Backup(dest_, BackupOptions(), &stats).ok());
  EXPECT_EQ(stats.pages, 2u);
  std::unique_ptr<DB> copy = OpenOrDie(Options(), dest_);
  EXPECT_TRUE(copy->Verify().ok());
  EXPECT_EQ(Contents(copy.get()), (std::map<std::string, KV>{{"", {}}}));
}

// A destination that exists (the page file or a log of that name) is
// refused and left as it was; so is the source itself.
TEST_F(DbBackupTest, ExistingDestinationIsRefused) {
  ASSERT_TRUE(db_->Put("k", "v").ok());
  for (const std::string& existing : {dest_, dest_ + "-wal"}) {
    SCOPED_TRACE(existing);
    std::FILE* f = std::fopen(existing.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("mine", f);
    std::fclose(f);
    Status s = db_->Backup(dest_);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_NE(s.message().find(existing + " exists"), std::string::npos) << s.ToString();
    EXPECT_EQ(std::filesystem::file_size(existing), 4u);
    std::filesystem::remove(existing);
  }
  EXPECT_TRUE(db_->Backup(path_).IsInvalidArgument());
  EXPECT_TRUE(db_->Backup("").IsInvalidArgument());
  EXPECT_TRUE(db_->Backup(dest_).ok());
}

// A damaged page of the source: Corruption naming it, and nothing at the
// destination (not even the partial file).
TEST_F(DbBackupTest, DamagedSourceLeavesNothing) {
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(w->Put(NumKey(i), FillValue(30, i)).ok());
  ASSERT_TRUE(w->Commit().ok());
  db_.reset();  // every page in the file
  test::PatchFile(path_, 4096 * 5 + 100, "damage");
  db_ = OpenOrDie(FastOptions(), path_);
  Status s = db_->Backup(dest_);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_FALSE(std::filesystem::exists(dest_));
  EXPECT_FALSE(std::filesystem::exists(dest_ + ".partial"));
}

// A writer moves money between accounts (the total never changes) and
// counts its transfers in the same transactions; a reader scans. The copy,
// taken meanwhile, holds one committed state: the right total, and every
// account's last transfer number at or below the copy's transfer count.
// Prints the writer's commit latencies during the backup.
TEST_F(DbBackupTest, ConcurrentWriterAndReaderCopyHoldsOneState) {
  constexpr int kAccounts = 2000;
  constexpr int kStart = 1000;
  auto account = [](int i) { return "acct" + NumKey(i); };
  // Balance and the number of the last transfer that changed it.
  auto encode = [](int64_t balance, uint64_t n) {
    return std::to_string(balance) + ":" + std::to_string(n) + std::string(40, '.');
  };
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  for (int i = 0; i < kAccounts; ++i) ASSERT_TRUE(w->Put(account(i), encode(kStart, 0)).ok());
  for (int i = 0; i < 30000; ++i) ASSERT_TRUE(w->Put("pad" + NumKey(i), FillValue(60, i)).ok());
  ASSERT_TRUE(w->Put("transfers", "0").ok());
  ASSERT_TRUE(w->Commit().ok());

  std::atomic<bool> stop{false};
  std::atomic<bool> backing_up{false};
  std::atomic<uint64_t> transfers{0};
  std::atomic<bool> writer_done{false};  // also when an assertion ended it
  std::vector<double> latencies_us;      // commits while the backup ran
  std::thread writer([&] {
    struct Done {
      std::atomic<bool>* flag;
      ~Done() { flag->store(true); }
    } done{&writer_done};
    std::mt19937_64 rng(7);
    uint64_t n = 0;
    while (!stop.load()) {
      const int from = static_cast<int>(rng() % kAccounts);
      const int to = static_cast<int>((from + 1 + rng() % (kAccounts - 1)) % kAccounts);
      const int64_t amount = static_cast<int64_t>(rng() % 50);
      std::unique_ptr<WriteTxn> t;
      ASSERT_TRUE(db_->BeginWrite(&t).ok());
      ++n;
      for (auto [who, delta] : {std::pair{from, -amount}, std::pair{to, amount}}) {
        std::string v;
        ASSERT_TRUE(t->Get(account(who), &v).ok());
        ASSERT_TRUE(t->Put(account(who), encode(std::stoll(v) + delta, n)).ok());
      }
      ASSERT_TRUE(t->Put("transfers", std::to_string(n)).ok());
      const bool during = backing_up.load();
      const auto t0 = std::chrono::steady_clock::now();
      ASSERT_TRUE(t->Commit().ok());
      const auto t1 = std::chrono::steady_clock::now();
      if (during)
        latencies_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      transfers.store(n);
    }
  });
  std::thread reader([&] {
    while (!stop.load()) {
      std::unique_ptr<ReadTxn> r;
      ASSERT_TRUE(db_->BeginRead(&r).ok());
      auto c = r->NewCursor();
      int64_t total = 0;
      for (c->Seek("acct"); c->Valid() && c->key().substr(0, 4) == "acct"; c->Next()) {
        total += std::stoll(std::string(c->value()));
      }
      ASSERT_TRUE(c->status().ok());
      ASSERT_EQ(total, int64_t{kAccounts} * kStart);
    }
  });
  auto wait_for = [&](uint64_t n) {
    while (transfers.load() < n && !writer_done.load()) std::this_thread::yield();
  };
  wait_for(200);
  backing_up.store(true);
  BackupStats stats;
  Status s = db_->Backup(dest_, BackupOptions(), &stats);
  backing_up.store(false);
  wait_for(400);  // and after it
  stop.store(true);
  writer.join();
  reader.join();
  ASSERT_TRUE(s.ok()) << s.ToString();

  std::unique_ptr<DB> copy = OpenOrDie(Options(), dest_);
  EXPECT_TRUE(copy->Verify().ok());
  std::string count;
  ASSERT_TRUE(copy->Get("transfers", &count).ok());
  const uint64_t at = std::stoull(count);
  EXPECT_GT(at, 0u);
  int64_t total = 0;
  uint64_t newest = 0;
  for (int i = 0; i < kAccounts; ++i) {
    std::string v;
    ASSERT_TRUE(copy->Get(account(i), &v).ok());
    total += std::stoll(v);
    newest = std::max<uint64_t>(newest, std::stoull(v.substr(v.find(':') + 1)));
  }
  EXPECT_EQ(total, int64_t{kAccounts} * kStart);
  // The newest transfer the accounts show is exactly the copy's count.
  EXPECT_EQ(newest, at);
  std::sort(latencies_us.begin(), latencies_us.end());
  if (!latencies_us.empty()) {
    std::printf(
        "[ backup   ] %llu pages in %.1f ms at transfer %llu; %zu commits during it: "
        "median %.0f us, max %.0f us\n",
        static_cast<unsigned long long>(stats.pages), stats.seconds * 1e3,
        static_cast<unsigned long long>(at), latencies_us.size(),
        latencies_us[latencies_us.size() / 2], latencies_us.back());
  }
}

}  // namespace
}  // namespace sombra::dbtest
