// WriteTxn::Append through the public API: out-of-order keys are
// InvalidArgument with nothing written and the transaction still usable;
// Append, Put and Delete mix in one transaction; what was appended
// survives a reopen.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "db_test_util.h"
#include "sombra/db.h"
#include "testutil/temp_dir.h"

namespace sombra::dbtest {
namespace {

class DbAppendTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = dir_.File("db"); }
  sombra::test::TempDir dir_;
  std::string path_;
};

TEST_F(DbAppendTest, OutOfOrderKeyIsInvalidArgumentAndTheTransactionGoesOn) {
  auto db = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db, nullptr);
  KV want;
  {
    std::unique_ptr<WriteTxn> txn;
    ASSERT_TRUE(db->BeginWrite(&txn).ok());
    for (int i = 1; i <= 1000; ++i) {
      ASSERT_TRUE(txn->Append(NumKey(i * 2), FillValue(30, i)).ok()) << i;
      want[NumKey(i * 2)] = FillValue(30, i);
    }
    ASSERT_TRUE(txn->Commit().ok());
  }
  const uint64_t pages = db->GetStats().page_count;
  std::unique_ptr<WriteTxn> txn;
  ASSERT_TRUE(db->BeginWrite(&txn).ok());
  // Equal to the last key, below it, far below: refused, even with a value
  // that would need overflow pages.
  for (uint64_t k : {uint64_t{2000}, uint64_t{1999}, uint64_t{1}}) {
    Status s = txn->Append(NumKey(k), std::string(100000, 'x'));
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_TRUE(Contains(s.ToString(), "does not sort after")) << s.ToString();
  }
  // A bad key is refused as by Put.
  EXPECT_TRUE(txn->Append("", "v").IsInvalidArgument());
  // The transaction goes on: Append, Put below the end, Delete, Append.
  ASSERT_TRUE(txn->Append(NumKey(2001), "a").ok());
  want[NumKey(2001)] = "a";
  ASSERT_TRUE(txn->Put(NumKey(3), "p").ok());
  want[NumKey(3)] = "p";
  ASSERT_TRUE(txn->Delete(NumKey(2001)).ok());
  want.erase(NumKey(2001));
  ASSERT_TRUE(txn->Append(NumKey(2001), "again").ok());
  want[NumKey(2001)] = "again";
  std::string v;
  ASSERT_TRUE(txn->Get(NumKey(2001), &v).ok());
  EXPECT_EQ(v, "again");
  ASSERT_TRUE(txn->Commit().ok());
  EXPECT_EQ(db->GetStats().page_count, pages) << "a refused Append allocated pages";
  EXPECT_TRUE(db->Verify().ok());
  EXPECT_EQ(DiffKV(DumpDb(db.get()), want), "");
}

TEST_F(DbAppendTest, AppendedKeysSurviveAReopen) {
  KV want;
  {
    auto db = OpenOrDie(FastOptions(), path_);
    ASSERT_NE(db, nullptr);
    for (int batch = 0; batch < 10; ++batch) {
      std::unique_ptr<WriteTxn> txn;
      ASSERT_TRUE(db->BeginWrite(&txn).ok());
      for (int i = 0; i < 5000; ++i) {
        const uint64_t n = uint64_t(batch) * 5000 + i;
        const std::string value = FillValue(n % 97 == 0 ? 6000 : 16, n);
        ASSERT_TRUE(txn->Append(NumKey(n, 12), value).ok()) << n;
        want[NumKey(n, 12)] = value;
      }
      ASSERT_TRUE(txn->Commit().ok());
    }
    // An aborted transaction's appends leave nothing behind.
    std::unique_ptr<WriteTxn> txn;
    ASSERT_TRUE(db->BeginWrite(&txn).ok());
    ASSERT_TRUE(txn->Append(NumKey(999999, 12), "gone").ok());
    txn->Abort();
  }
  auto db = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(db->Verify().ok());
  EXPECT_EQ(DiffKV(DumpDb(db.get()), want), "");
  // After the reopen, Append continues from the stored last key.
  std::unique_ptr<WriteTxn> txn;
  ASSERT_TRUE(db->BeginWrite(&txn).ok());
  EXPECT_TRUE(txn->Append(NumKey(49999, 12), "x").IsInvalidArgument());
  ASSERT_TRUE(txn->Append(NumKey(50000, 12), "y").ok());
  ASSERT_TRUE(txn->Commit().ok());
}

}  // namespace
}  // namespace sombra::dbtest
