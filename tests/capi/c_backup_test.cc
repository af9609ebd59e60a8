// DB::Backup through the C API: the copy opens with everything committed,
// the report and progress callback, and the refusals; DB::Compact.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "capi_test_util.h"

namespace sombra::capitest {
namespace {

class CapiBackupTest : public CapiTest {};

TEST_F(CapiBackupTest, BackupThenOpenTheCopy) {
  DbPtr db = Open();
  Fill(db.get(), {{"a", "1"}, {"b", "2"}});
  sombra_tree* t = nullptr;
  Error e;
  ASSERT_EQ(sombra_db_open_tree(db.get(), "t", 1, &t, e.out()), SOMBRA_OK) << e.str();
  {
    TxnPtr w = BeginWrite(db.get());
    ASSERT_EQ(PutTree(w.get(), t, "tk", "tv", &e), SOMBRA_OK);
    ASSERT_EQ(sombra_txn_commit(w.get(), e.out()), SOMBRA_OK);
  }
  const std::string copy = dir_.File("copy");
  ASSERT_EQ(sombra_db_backup(db.get(), copy.c_str(), e.out()), SOMBRA_OK) << e.str();
  // A later commit is not in the copy.
  ASSERT_EQ(DbPut(db.get(), "c", "3", &e), SOMBRA_OK);

  DbPtr c = Open(Defaults(), copy);
  ASSERT_EQ(sombra_db_verify(c.get(), e.out()), SOMBRA_OK) << e.str();
  EXPECT_EQ(DbGet(c.get(), "a"), "1");
  EXPECT_EQ(DbGet(c.get(), "b"), "2");
  EXPECT_EQ(DbGet(c.get(), "c"), "<NotFound>");
  sombra_tree* ct = nullptr;
  ASSERT_EQ(sombra_db_open_tree(c.get(), "t", 1, &ct, e.out()), SOMBRA_OK);
  TxnPtr r = BeginRead(c.get());
  EXPECT_EQ(Get(r.get(), "tk", ct), "tv");
}

TEST_F(CapiBackupTest, ReportAndProgress) {
  DbPtr db = Open();
  Fill(db.get(), {{"a", std::string(10000, 'a')}, {"b", "2"}});
  struct Progress {
    std::vector<std::pair<uint64_t, uint64_t>> calls;
  } progress;
  auto on_progress = [](void* ctx, uint64_t done, uint64_t total) {
    static_cast<Progress*>(ctx)->calls.emplace_back(done, total);
  };
  sombra_backup_stats st{};
  Error e;
  const std::string copy = dir_.File("copy");
  ASSERT_EQ(sombra_db_backup_ex(db.get(), copy.c_str(), on_progress, &progress, &st, e.out()),
            SOMBRA_OK)
      << e.str();
  EXPECT_GE(st.pages, 3u);
  EXPECT_EQ(st.bytes, st.pages * 4096);
  TxnPtr r = BeginRead(db.get());
  EXPECT_EQ(st.sequence, sombra_txn_sequence(r.get()));
  EXPECT_GE(st.seconds, 0.0);
  ASSERT_FALSE(progress.calls.empty());
  EXPECT_EQ(progress.calls.back().first, progress.calls.back().second);
  // Without a callback or a report.
  ASSERT_EQ(
      sombra_db_backup_ex(db.get(), dir_.File("copy2").c_str(), nullptr, nullptr, nullptr, e.out()),
      SOMBRA_OK)
      << e.str();
  EXPECT_EQ(DbGet(Open(Defaults(), dir_.File("copy2")).get(), "b"), "2");
}

TEST_F(CapiBackupTest, ExistingDestinationIsInvalidArgument) {
  DbPtr db = Open();
  Fill(db.get(), {{"a", "1"}});
  Error e;
  const std::string copy = dir_.File("copy");
  ASSERT_EQ(sombra_db_backup(db.get(), copy.c_str(), e.out()), SOMBRA_OK) << e.str();
  EXPECT_EQ(sombra_db_backup(db.get(), copy.c_str(), e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), copy)) << e.str();
  EXPECT_EQ(sombra_db_backup(db.get(), path_.c_str(), e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_db_backup(db.get(), nullptr, e.out()), SOMBRA_INVALID_ARGUMENT);
  sombra_backup_stats st{};
  EXPECT_EQ(sombra_db_backup_ex(db.get(), copy.c_str(), nullptr, nullptr, &st, e.out()),
            SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(st.pages, 0u);
}

TEST_F(CapiBackupTest, ReadOnlyHandleCanBackUp) {
  {
    DbPtr db = Open();
    Fill(db.get(), {{"a", "1"}});
  }
  sombra_options o = Defaults();
  o.read_only = 1;
  DbPtr db = Open(o);
  Error e;
  ASSERT_EQ(sombra_db_backup(db.get(), dir_.File("copy").c_str(), e.out()), SOMBRA_OK) << e.str();
  EXPECT_EQ(DbGet(Open(Defaults(), dir_.File("copy")).get(), "a"), "1");
}

// DB::Compact: a tree dropped below live pages; the report counts the
// moves and the smaller file; the records stay. Read-only: NotSupported;
// inside this thread's write transaction: Busy.
TEST_F(CapiBackupTest, CompactReportsAndKeepsTheRecords) {
  DbPtr db = Open();
  sombra_tree* low = nullptr;
  Error e;
  ASSERT_EQ(sombra_db_open_tree(db.get(), "low", 3, &low, e.out()), SOMBRA_OK) << e.str();
  {
    TxnPtr w = BeginWrite(db.get());
    for (int i = 0; i < 3000; ++i) {
      const std::string k = "k" + std::to_string(100000 + i);
      ASSERT_EQ(PutTree(w.get(), low, k, std::string(200, 'x'), &e), SOMBRA_OK) << e.str();
    }
    ASSERT_EQ(sombra_txn_commit(w.get(), e.out()), SOMBRA_OK);
  }
  Fill(db.get(), {{"a", "1"}, {"b", "2"}});
  ASSERT_EQ(sombra_db_drop_tree(db.get(), "low", 3, e.out()), SOMBRA_OK) << e.str();
  {
    TxnPtr w = BeginWrite(db.get());
    sombra_compact_stats busy{};
    EXPECT_EQ(sombra_db_compact(db.get(), &busy, e.out()), SOMBRA_BUSY) << e.str();
  }
  sombra_compact_stats st{};
  ASSERT_EQ(sombra_db_compact(db.get(), &st, e.out()), SOMBRA_OK) << e.str();
  EXPECT_GE(st.steps, 1u);
  EXPECT_GT(st.pages_given_back, 0u);
  EXPECT_LT(st.file_bytes_after, st.file_bytes_before);
  EXPECT_EQ(DbGet(db.get(), "a"), "1");
  EXPECT_EQ(DbGet(db.get(), "b"), "2");
  ASSERT_EQ(sombra_db_verify(db.get(), e.out()), SOMBRA_OK) << e.str();
  ASSERT_EQ(sombra_db_compact(db.get(), nullptr, e.out()), SOMBRA_OK) << e.str();
  db.reset();

  sombra_options o = Defaults();
  o.read_only = 1;
  DbPtr ro = Open(o);
  EXPECT_EQ(sombra_db_compact(ro.get(), nullptr, e.out()), SOMBRA_NOT_SUPPORTED);
  EXPECT_EQ(DbGet(ro.get(), "a"), "1");
}

}  // namespace
}  // namespace sombra::capitest
