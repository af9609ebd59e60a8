// WriteTxn::DeleteRange through the public API: the range is gone and
// the rest stays, across a reopen; a reversed range is InvalidArgument
// and the transaction goes on; an aborted range delete changes nothing.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "db_test_util.h"
#include "sombra/db.h"
#include "testutil/temp_dir.h"

namespace sombra::dbtest {
namespace {

TEST(DbRangeTest, DeletesTheRangeKeepsTheRestAndSurvivesAReopen) {
  sombra::test::TempDir dir;
  const std::string path = dir.File("db");
  KV want;
  {
    auto db = OpenOrDie(FastOptions(), path);
    ASSERT_NE(db, nullptr);
    std::unique_ptr<WriteTxn> txn;
    ASSERT_TRUE(db->BeginWrite(&txn).ok());
    for (int i = 0; i < 20000; ++i) {
      const std::string v = FillValue(i % 500 == 0 ? 9000 : 20, i);
      ASSERT_TRUE(txn->Put(NumKey(i), v).ok());
      want[NumKey(i)] = v;
    }
    ASSERT_TRUE(txn->Commit().ok());

    ASSERT_TRUE(db->BeginWrite(&txn).ok());
    Status s = txn->DeleteRange(NumKey(900), NumKey(100));
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    ASSERT_TRUE(txn->DeleteRange(NumKey(100), NumKey(15000)).ok());
    for (int i = 100; i < 15000; ++i) want.erase(NumKey(i));
    ASSERT_TRUE(txn->DeleteRange(NumKey(3), NumKey(3)).ok());  // empty
    std::string v;
    EXPECT_TRUE(txn->Get(NumKey(14999), &v).IsNotFound());
    ASSERT_TRUE(txn->Get(NumKey(15000), &v).ok());
    ASSERT_TRUE(txn->Commit().ok());

    // Aborted: nothing of it stays.
    ASSERT_TRUE(db->BeginWrite(&txn).ok());
    ASSERT_TRUE(txn->DeleteRange(NumKey(0), NumKey(99999)).ok());
    txn->Abort();
    EXPECT_TRUE(db->Verify().ok());
    EXPECT_EQ(DiffKV(DumpDb(db.get()), want), "");
    EXPECT_GT(db->GetStats().freelist_pages, 80u);
  }
  auto db = OpenOrDie(FastOptions(), path);
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(db->Verify().ok());
  EXPECT_EQ(DiffKV(DumpDb(db.get()), want), "");
}

}  // namespace
}  // namespace sombra::dbtest
