// Read-only handles beside a writer (docs/design/readers.md), as two
// handles of one process: each has its own slot in `<path>-shm` and its own
// map of the page file, exactly as a handle in another process, but the
// steps run in a fixed order (the process tests are reader_process_test).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "db_test_util.h"
#include "sombra/db.h"

namespace sombra::dbtest {
namespace {

class DbReadersTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = dir_.File("db"); }

  Options WriterOptions() const {
    Options o = FastOptions();
    o.wal_checkpoint_bytes = uint64_t{1} << 16;  // the smallest: restarts often
    return o;
  }
  std::unique_ptr<DB> OpenReader() const {
    Options o;
    o.read_only = true;
    return OpenOrDie(o, path_);
  }
  static std::string Key(int i) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "key%06d", i);
    return buf;
  }
  static void PutAll(DB* db, int n, char fill) {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    for (int i = 0; i < n; ++i) ASSERT_TRUE(w->Put(Key(i), std::string(100, fill)).ok());
    ASSERT_TRUE(w->Commit().ok());
  }
  // Every value seen by `txn` is `fill` repeated, over exactly n keys.
  static void ExpectAll(ReadTxn* txn, int n, char fill) {
    auto c = txn->NewCursor();
    int count = 0;
    for (c->SeekToFirst(); c->Valid(); c->Next()) {
      ASSERT_EQ(c->key(), Key(count));
      ASSERT_EQ(c->value(), std::string(100, fill)) << "at " << Key(count);
      ++count;
    }
    ASSERT_TRUE(c->status().ok()) << c->status().ToString();
    EXPECT_EQ(count, n);
  }
  static uint64_t Metric(DB* db, const std::string& name) {
    Stats s = db->GetStats();
    auto it = s.all.find(name);
    return it == s.all.end() ? 0 : it->second;
  }

  test::TempDir dir_;
  std::string path_;
};

TEST_F(DbReadersTest, SnapshotStaysExactWhileTheWriterCheckpoints) {
  auto writer = OpenOrDie(WriterOptions(), path_);
  PutAll(writer.get(), 300, 'a');
  ASSERT_TRUE(writer->Checkpoint().ok());
  auto reader = OpenReader();

  std::unique_ptr<ReadTxn> old_txn;
  ASSERT_TRUE(reader->BeginRead(&old_txn).ok());
  auto held = old_txn->NewCursor();
  held->SeekToFirst();
  ASSERT_TRUE(held->Valid());
  const std::string_view view = held->value();  // zero-copy, from the page file
  ASSERT_EQ(view, std::string(100, 'a'));

  // The writer rewrites every record and checkpoints: the reader's
  // snapshot holds the page file where it is, the log keeps the rest.
  PutAll(writer.get(), 300, 'b');
  ASSERT_TRUE(writer->Checkpoint().ok());
  EXPECT_GE(Metric(writer.get(), "checkpoints_limited_by_readers"), 1u);
  EXPECT_GT(writer->GetStats().wal_file_bytes, 0u);
  EXPECT_EQ(view, std::string(100, 'a')) << "bytes under a held pointer changed";
  ExpectAll(old_txn.get(), 300, 'a');

  // A new snapshot sees the last commit; the old one stays as it was.
  std::unique_ptr<ReadTxn> new_txn;
  ASSERT_TRUE(reader->BeginRead(&new_txn).ok());
  ExpectAll(new_txn.get(), 300, 'b');
  ExpectAll(old_txn.get(), 300, 'a');

  // Once the old snapshot ends, the checkpoint goes through and the log
  // restarts; the reader follows the new log.
  held.reset();
  old_txn.reset();
  ASSERT_TRUE(writer->Checkpoint().ok());
  EXPECT_EQ(writer->GetStats().wal_file_bytes, 0u);
  ExpectAll(new_txn.get(), 300, 'b');
  PutAll(writer.get(), 300, 'c');
  std::unique_ptr<ReadTxn> third;
  ASSERT_TRUE(reader->BeginRead(&third).ok());
  ExpectAll(third.get(), 300, 'c');
  ExpectAll(new_txn.get(), 300, 'b');
}

TEST_F(DbReadersTest, EveryBeginReadSeesEveryReturnedCommit) {
  auto writer = OpenOrDie(WriterOptions(), path_);
  ASSERT_TRUE(writer->Put(Key(0), "0").ok());
  auto reader = OpenReader();
  std::unique_ptr<ReadTxn> long_txn;  // held over a third of the run
  for (int i = 1; i <= 600; ++i) {
    // Large values: the log passes its threshold every few commits.
    ASSERT_TRUE(writer->Put(Key(i), std::string(2000, static_cast<char>('a' + i % 26))).ok());
    if (i == 100) ASSERT_TRUE(reader->BeginRead(&long_txn).ok());
    if (i == 300) long_txn.reset();
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(reader->BeginRead(&txn).ok());
    std::string v;
    Status s = txn->Get(Key(i), &v);
    ASSERT_TRUE(s.ok()) << "commit " << i << ": " << s.ToString();
    ASSERT_EQ(v, std::string(2000, static_cast<char>('a' + i % 26)));
    ASSERT_TRUE(txn->Get(Key(i + 1), &v).IsNotFound());
    if (long_txn != nullptr) {
      ASSERT_TRUE(long_txn->Get(Key(100), &v).ok());
      ASSERT_TRUE(long_txn->Get(Key(101), &v).IsNotFound());
    }
  }
  EXPECT_GT(Metric(writer.get(), "checkpoints"), 3u);
}

TEST_F(DbReadersTest, WriterReopenedUnderAHeldSnapshotContinuesTheLog) {
  auto writer = OpenOrDie(WriterOptions(), path_);
  PutAll(writer.get(), 200, 'a');
  auto reader = OpenReader();
  std::unique_ptr<ReadTxn> old_txn;
  ASSERT_TRUE(reader->BeginRead(&old_txn).ok());
  PutAll(writer.get(), 200, 'b');
  writer.reset();  // its closing checkpoint is held back: the log stays
  {
    struct stat st;
    ASSERT_EQ(::stat((path_ + "-wal").c_str(), &st), 0);
  }
  writer = OpenOrDie(WriterOptions(), path_);  // recovery cannot restart the log
  PutAll(writer.get(), 200, 'c');
  ExpectAll(old_txn.get(), 200, 'a');
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(reader->BeginRead(&txn).ok());
  ExpectAll(txn.get(), 200, 'c');
  old_txn.reset();
  txn.reset();
  writer.reset();  // now the checkpoint goes through
  reader.reset();
  auto again = OpenOrDie(WriterOptions(), path_);
  std::unique_ptr<ReadTxn> check;
  ASSERT_TRUE(again->BeginRead(&check).ok());
  ExpectAll(check.get(), 200, 'c');
  EXPECT_TRUE(again->Verify().ok());
}

}  // namespace
}  // namespace sombra::dbtest
