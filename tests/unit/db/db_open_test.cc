// DB::Open and the database's life cycle: option validation, creation,
// the lock, read-only opens beside a writer, clean close, page sizes,
// DestroyDB and the statistics (docs/api.md rules, db.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "db_test_util.h"
#include "sombra/db.h"
#include "testutil/temp_dir.h"

namespace sombra::dbtest {
namespace {

class DbOpenTest : public ::testing::Test {
 protected:
  std::vector<std::string> DirEntries() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
      out.push_back(e.path().filename().string());
    }
    return out;
  }
  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
};

TEST_F(DbOpenTest, InvalidPageSizesAreRejectedAndCreateNoFile) {
  for (uint32_t ps : {0u, 1u, 1000u, 2048u, 3000u, 5000u, 12288u, 65535u, 131072u, 1u << 20}) {
    SCOPED_TRACE("page_size " + std::to_string(ps));
    Options o;
    o.page_size = ps;
    std::unique_ptr<DB> db;
    Status s = DB::Open(o, path_, &db);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_EQ(db, nullptr);
    EXPECT_TRUE(DirEntries().empty()) << "a file was created: " << DirEntries().front();
  }
}

TEST_F(DbOpenTest, ValidPageSizesWork) {
  for (uint32_t ps : {4096u, 8192u, 16384u, 32768u, 65536u}) {
    SCOPED_TRACE("page_size " + std::to_string(ps));
    const std::string path = dir_.File("db" + std::to_string(ps));
    KV want;
    {
      auto db = OpenOrDie(FastOptions(ps), path);
      ASSERT_NE(db, nullptr);
      EXPECT_EQ(db->page_size(), ps);
      EXPECT_EQ(db->MaxKeySize(), ps / 4);
      EXPECT_EQ(db->MaxKeySize(), sombra::MaxKeySize(ps));
      EXPECT_EQ(db->path(), path);
      EXPECT_EQ(db->GetStats().page_size, ps);
      for (int i = 0; i < 600; ++i) {
        std::string k = NumKey(i * 7919 % 600, 1 + i % 40 + 8);
        std::string v = FillValue(i % 5 == 0 ? ps + 100 : i % 300, i);
        ASSERT_TRUE(db->Put(k, v).ok());
        want[k] = v;
      }
      EXPECT_TRUE(db->Verify().ok());
      EXPECT_EQ(DiffKV(DumpDb(db.get()), want), "");
    }
    Options o = FastOptions(ps);
    o.create_if_missing = false;
    auto db = OpenOrDie(o, path);
    ASSERT_NE(db, nullptr);
    EXPECT_EQ(db->page_size(), ps);
    EXPECT_TRUE(db->Verify().ok());
    EXPECT_EQ(DiffKV(DumpDb(db.get()), want), "");
  }
}

TEST_F(DbOpenTest, MaxKeySizeFunction) {
  EXPECT_EQ(sombra::MaxKeySize(), 1024u);
  EXPECT_EQ(sombra::MaxKeySize(4096), 1024u);
  EXPECT_EQ(sombra::MaxKeySize(8192), 2048u);
  EXPECT_EQ(sombra::MaxKeySize(65536), 16384u);
}

// Options::page_size applies when the file is created: an existing
// database opens with its own page size whatever the option says, and
// DB::page_size() reports it (issue 14, item 4).
TEST_F(DbOpenTest, ExistingDatabaseOpensWithItsOwnPageSize) {
  KV want;
  {
    auto db = OpenOrDie(FastOptions(16384), path_);
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 300; ++i) {
      const std::string k = NumKey(i, 12);
      const std::string v = FillValue(i % 7 == 0 ? 20000 : 40, i);
      ASSERT_TRUE(db->Put(k, v).ok());
      want[k] = v;
    }
  }
  for (uint32_t ps : {4096u, 8192u, 65536u}) {
    SCOPED_TRACE("options.page_size " + std::to_string(ps));
    Options o = FastOptions(ps);
    o.create_if_missing = false;
    auto db = OpenOrDie(o, path_);
    ASSERT_NE(db, nullptr);
    EXPECT_EQ(db->page_size(), 16384u);
    EXPECT_EQ(db->MaxKeySize(), 4096u);
    EXPECT_EQ(db->GetStats().page_size, 16384u);
    // Keys up to the file's own limit are accepted, not the option's.
    const std::string big_key(4096, 'k');
    ASSERT_TRUE(db->Put(big_key, "v").ok());
    want[big_key] = "v";
    EXPECT_TRUE(db->Verify().ok());
    EXPECT_EQ(DiffKV(DumpDb(db.get()), want), "");
  }
  // Default options, read-only too.
  {
    std::unique_ptr<DB> db;
    ASSERT_TRUE(DB::Open(Options(), path_, &db).ok());
    EXPECT_EQ(db->page_size(), 16384u);
  }
  Options ro;
  ro.read_only = true;
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(ro, path_, &db).ok());
  EXPECT_EQ(db->page_size(), 16384u);
  EXPECT_EQ(DiffKV(DumpDb(db.get()), want), "");
}

// An invalid page size is refused before any file is touched, also when
// the database exists.
TEST_F(DbOpenTest, InvalidPageSizeIsRefusedEvenForAnExistingDatabase) {
  { ASSERT_NE(OpenOrDie(FastOptions(4096), path_), nullptr); }
  const FileImage before = ImageOf(path_);
  for (uint32_t ps : {0u, 1000u, 6000u, 131072u}) {
    std::unique_ptr<DB> db;
    Status s = DB::Open(FastOptions(ps), path_, &db);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_EQ(db, nullptr);
  }
  EXPECT_TRUE(ImageOf(path_) == before) << "a failed Open changed the page file";
}

TEST_F(DbOpenTest, MissingWithoutCreateIsNotFoundNamingThePath) {
  Options o;
  o.create_if_missing = false;
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, path_, &db);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_TRUE(Contains(s.ToString(), path_)) << s.ToString();
  EXPECT_EQ(db, nullptr);
  EXPECT_TRUE(DirEntries().empty());
}

TEST_F(DbOpenTest, ReadOnlyOnMissingIsNotFoundAndCreatesNothing) {
  Options o;
  o.read_only = true;  // create_if_missing stays true: read_only wins
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, path_, &db);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_TRUE(Contains(s.ToString(), path_)) << s.ToString();
  EXPECT_EQ(db, nullptr);
  EXPECT_TRUE(DirEntries().empty());
}

TEST_F(DbOpenTest, ErrorIfExists) {
  Options o = FastOptions();
  o.error_if_exists = true;
  {
    auto db = OpenOrDie(o, path_);  // does not exist yet: fine
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Put("k", "v").ok());
  }
  const FileImage before = ImageOf(path_);
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, path_, &db);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(db, nullptr);
  EXPECT_TRUE(ImageOf(path_) == before);
  db = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db, nullptr);
  std::string v;
  ASSERT_TRUE(db->Get("k", &v).ok());
  EXPECT_EQ(v, "v");
}

TEST_F(DbOpenTest, SecondWritableOpenIsBusyNamingTheLockAndFirstKeepsWorking) {
  auto db = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Put("a", "1").ok());
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::unique_ptr<DB> second;
    Status s = DB::Open(FastOptions(), path_, &second);
    EXPECT_TRUE(s.IsBusy()) << s.ToString();
    EXPECT_TRUE(Contains(s.ToString(), path_ + "-lock")) << s.ToString();
    EXPECT_EQ(second, nullptr);
  }
  // Also with create_if_missing = false and error_if_exists = false.
  Options o = FastOptions();
  o.create_if_missing = false;
  std::unique_ptr<DB> second;
  Status s = DB::Open(o, path_, &second);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();

  ASSERT_TRUE(db->Put("b", "2").ok());
  std::string v;
  ASSERT_TRUE(db->Get("a", &v).ok());
  EXPECT_EQ(v, "1");
  EXPECT_TRUE(db->Checkpoint().ok());
  EXPECT_TRUE(db->Verify().ok());
  db.reset();

  // The lock is released at close: a new writable open works.
  db = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Get("b", &v).ok());
  EXPECT_EQ(v, "2");
}

TEST_F(DbOpenTest, ReadOnlyBesideAWriterSeesCommittedDataAndWritesNothing) {
  Options wo;  // durability full: the log is synced, not checkpointed
  auto writer = OpenOrDie(wo, path_);
  ASSERT_NE(writer, nullptr);
  KV want;
  for (int i = 0; i < 200; ++i) {
    std::string k = NumKey(i);
    std::string v = FillValue(i == 7 ? 30000 : 50, i);
    ASSERT_TRUE(writer->Put(k, v).ok());
    want[k] = v;
  }
  ASSERT_TRUE(writer->Checkpoint().ok());
  // Committed after the checkpoint: only in the log.
  for (int i = 200; i < 300; ++i) {
    std::string k = NumKey(i);
    std::string v = FillValue(60, i);
    ASSERT_TRUE(writer->Put(k, v).ok());
    want[k] = v;
  }
  ASSERT_TRUE(writer->Delete(NumKey(3)).ok());
  want.erase(NumKey(3));

  const std::string wal = path_ + "-wal";
  const FileImage db_before = ImageOf(path_);
  const FileImage wal_before = ImageOf(wal);
  const FileImage lock_before = ImageOf(path_ + "-lock");
  ASSERT_TRUE(db_before.exists);
  ASSERT_TRUE(wal_before.exists);
  {
    Options ro;
    ro.read_only = true;
    std::unique_ptr<DB> reader;
    Status s = DB::Open(ro, path_, &reader);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(DiffKV(DumpDb(reader.get()), want), "");
    std::string v;
    EXPECT_TRUE(reader->Get(NumKey(3), &v).IsNotFound());
    ASSERT_TRUE(reader->Get(NumKey(250), &v).ok());
    EXPECT_EQ(v, FillValue(60, 250));
    EXPECT_TRUE(reader->Verify().ok());

    std::unique_ptr<WriteTxn> w;
    EXPECT_TRUE(reader->BeginWrite(&w).IsNotSupported());
    EXPECT_EQ(w, nullptr);
    EXPECT_TRUE(reader->Put("x", "y").IsNotSupported());
    EXPECT_TRUE(reader->Delete(NumKey(1)).IsNotSupported());
    Status cs = reader->Checkpoint();
    EXPECT_TRUE(cs.IsNotSupported()) << cs.ToString();
    (void)reader->GetStats();

    // A second read-only handle at the same time.
    std::unique_ptr<DB> reader2;
    s = DB::Open(ro, path_, &reader2);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(DiffKV(DumpDb(reader2.get()), want), "");
  }
  // Nothing was written by the read-only handles, close included.
  EXPECT_TRUE(ImageOf(path_) == db_before) << "read-only open changed the page file";
  EXPECT_TRUE(ImageOf(wal) == wal_before) << "read-only open changed the log";
  EXPECT_TRUE(ImageOf(path_ + "-lock") == lock_before) << "read-only open changed the lock file";

  // The writer is unaffected.
  ASSERT_TRUE(writer->Put("after", "reader").ok());
  std::string v;
  ASSERT_TRUE(writer->Get("after", &v).ok());
  EXPECT_EQ(v, "reader");
}

TEST_F(DbOpenTest, ReadOnlyOfAClosedDatabaseWritesNothing) {
  KV want;
  {
    auto db = OpenOrDie(FastOptions(), path_);
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(db->Put(NumKey(i), "v" + std::to_string(i)).ok());
      want[NumKey(i)] = "v" + std::to_string(i);
    }
  }
  const FileImage db_before = ImageOf(path_);
  const FileImage wal_before = ImageOf(path_ + "-wal");
  {
    Options ro;
    ro.read_only = true;
    std::unique_ptr<DB> reader;
    Status s = DB::Open(ro, path_, &reader);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(DiffKV(DumpDb(reader.get()), want), "");
  }
  EXPECT_TRUE(ImageOf(path_) == db_before);
  EXPECT_TRUE(ImageOf(path_ + "-wal") == wal_before);
  // A writable open is possible after (the read-only one held no write lock).
  auto db = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db, nullptr);
}

TEST_F(DbOpenTest, ReadOnlyOpenDoesNotBlockAWriterOpen) {
  ASSERT_NE(OpenOrDie(FastOptions(), path_), nullptr);
  Options ro;
  ro.read_only = true;
  std::unique_ptr<DB> reader;
  ASSERT_TRUE(DB::Open(ro, path_, &reader).ok());
  std::unique_ptr<DB> writer;
  Status s = DB::Open(FastOptions(), path_, &writer);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(writer->Put("k", "v").ok());
}

TEST_F(DbOpenTest, CleanCloseCheckpointsAndReleasesTheLock) {
  uint64_t last_sequence = 0;
  KV want;
  {
    Options o;
    o.durability = Durability::kNormal;
    auto db = OpenOrDie(o, path_);
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 500; ++i) {
      std::string v = FillValue(i % 100 == 0 ? 9000 : 100, i);
      ASSERT_TRUE(db->Put(NumKey(i), v).ok());
      want[NumKey(i)] = v;
    }
    Stats st = db->GetStats();
    last_sequence = st.sequence;
    EXPECT_GE(st.sequence, 500u);
    EXPECT_GT(st.wal_file_bytes, 0u);
  }
  // The page file holds everything: its meta page's checkpoint LSN is the
  // last commit, and the log was restarted after it.
  const std::string file = sombra::test::ReadFileOrDie(path_);
  MetaInfo meta = ReadMeta(file, 4096);
  EXPECT_EQ(meta.checkpoint_lsn, last_sequence);
  // The log is gone, or restarted after the checkpoint.
  const std::string wal =
      FileExists(path_ + "-wal") ? sombra::test::ReadFileOrDie(path_ + "-wal") : std::string();
  if (wal.size() >= 64) {
    EXPECT_EQ(wal.compare(0, 8, "SOMBRWAL"), 0);
    EXPECT_EQ(Le64(wal, 40), last_sequence + 1) << "log not restarted after the checkpoint";
  }
  // Reopening replays nothing, sees everything; the lock was released.
  auto db = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db, nullptr);
  Stats st = db->GetStats();
  EXPECT_EQ(st.recovery_records_replayed, 0u);
  EXPECT_EQ(st.sequence, last_sequence);
  EXPECT_LE(st.wal_file_bytes, 4096u) << "log not small after a clean close";
  EXPECT_EQ(DiffKV(DumpDb(db.get()), want), "");
  EXPECT_TRUE(db->Verify().ok());
}

TEST_F(DbOpenTest, CheckpointAndVerifyOnAHealthyDatabase) {
  auto db = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(db->Verify().ok());  // empty
  EXPECT_TRUE(db->Checkpoint().ok());
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(db->Put(NumKey(i, 20), FillValue(40, i)).ok());
  Status v = db->Verify();
  EXPECT_TRUE(v.ok()) << v.ToString();
  uint64_t before = db->GetStats().checkpoints;
  EXPECT_TRUE(db->Checkpoint().ok());
  EXPECT_EQ(db->GetStats().checkpoints, before + 1);
  EXPECT_TRUE(db->Checkpoint().ok());  // nothing new: still OK
  v = db->Verify();
  EXPECT_TRUE(v.ok()) << v.ToString();
  for (int i = 0; i < 3000; i += 2) ASSERT_TRUE(db->Delete(NumKey(i, 20)).ok());
  v = db->Verify();
  EXPECT_TRUE(v.ok()) << v.ToString();
  EXPECT_EQ(DumpDb(db.get()).size(), 1500u);
}

TEST_F(DbOpenTest, StatsCountersMove) {
  Options o;  // durability full
  auto db = OpenOrDie(o, path_);
  ASSERT_NE(db, nullptr);
  const Stats s0 = db->GetStats();
  EXPECT_EQ(s0.page_size, 4096u);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(db->Put(NumKey(i), "value").ok());
  const Stats s1 = db->GetStats();
  EXPECT_EQ(s1.commits, s0.commits + 20);
  EXPECT_EQ(s1.sequence, s0.sequence + 20);
  EXPECT_GT(s1.wal_bytes, s0.wal_bytes);
  EXPECT_GT(s1.wal_records, s0.wal_records);
  EXPECT_GT(s1.fsyncs, s0.fsyncs) << "durability full commits without fsync";
  EXPECT_GT(s1.commits_per_fsync, 0.0);
  EXPECT_FALSE(s1.all.empty());

  // Many inserts split leaves.
  {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    for (int i = 0; i < 5000; ++i) ASSERT_TRUE(w->Put(NumKey(i + 1000, 16), FillValue(60, i)).ok());
    ASSERT_TRUE(w->Commit().ok());
  }
  const Stats s2 = db->GetStats();
  EXPECT_EQ(s2.commits, s1.commits + 1);
  EXPECT_GT(s2.leaf_splits, s1.leaf_splits);
  EXPECT_GT(s2.page_count, s1.page_count);
  // Inserts in the middle of full leaves share them with their siblings.
  EXPECT_EQ(s2.leaf_shares, 0u);  // so far every key went to the right edge
  {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    for (int i = 0; i < 2000; ++i) {
      ASSERT_TRUE(w->Put(NumKey(i * 2 + 1001, 16) + "x", FillValue(60, i)).ok());
    }
    ASSERT_TRUE(w->Commit().ok());
  }
  EXPECT_GT(db->GetStats().leaf_shares, 0u);
  EXPECT_EQ(db->GetStats().allocator_split_triggers,
            db->GetStats().leaf_splits + db->GetStats().leaf_shares);

  ASSERT_TRUE(db->Checkpoint().ok());
  const Stats s3 = db->GetStats();
  EXPECT_EQ(s3.checkpoints, s2.checkpoints + 1);
  EXPECT_GT(s3.checkpoint_pages, s2.checkpoint_pages);
  EXPECT_GT(s3.pager_file_pages_written, s2.pager_file_pages_written);
  EXPECT_GE(s3.file_bytes, s3.page_count * 4096);

  // An aborted transaction commits nothing.
  {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    ASSERT_TRUE(w->Put("aborted", "x").ok());
    w->Abort();
  }
  EXPECT_EQ(db->GetStats().commits, s3.commits);
  EXPECT_EQ(db->GetStats().sequence, s3.sequence);

  // The automatic checkpoint runs by log size.
  db.reset();
  Options small = FastOptions();
  small.wal_checkpoint_bytes = 64 << 10;
  db = OpenOrDie(small, path_);
  ASSERT_NE(db, nullptr);
  const uint64_t cp = db->GetStats().checkpoints;
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(db->Put(NumKey(i, 12), FillValue(3000, i)).ok());
  EXPECT_GT(db->GetStats().checkpoints, cp) << "no automatic checkpoint";
}

TEST_F(DbOpenTest, DestroyDB) {
  EXPECT_TRUE(DestroyDB(path_).IsNotFound());
  {
    auto db = OpenOrDie(FastOptions(), path_);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Put("k", "v").ok());
  }
  ASSERT_TRUE(FileExists(path_));
  Status s = DestroyDB(path_);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(FileExists(path_));
  EXPECT_FALSE(FileExists(path_ + "-wal"));
  EXPECT_FALSE(FileExists(path_ + "-lock"));
  Options o;
  o.create_if_missing = false;
  std::unique_ptr<DB> db;
  EXPECT_TRUE(DB::Open(o, path_, &db).IsNotFound());
  // A fresh database at the same path is empty.
  db = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db, nullptr);
  std::string v = "untouched";
  EXPECT_TRUE(db->Get("k", &v).IsNotFound());
  EXPECT_EQ(v, "untouched");
}

TEST_F(DbOpenTest, ZeroLengthFileIsInitialised) {
  sombra::test::WriteFileOrDie(path_, "");
  std::unique_ptr<DB> db;
  Status s = DB::Open(FastOptions(), path_, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(db->Put("k", "v").ok());
  db.reset();
  db = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db, nullptr);
  std::string v;
  ASSERT_TRUE(db->Get("k", &v).ok());
  EXPECT_EQ(v, "v");
}

TEST_F(DbOpenTest, ReopenManyTimes) {
  KV want;
  for (int round = 0; round < 8; ++round) {
    auto db = OpenOrDie(FastOptions(), path_);
    ASSERT_NE(db, nullptr);
    EXPECT_EQ(DiffKV(DumpDb(db.get()), want), "") << "round " << round;
    for (int i = 0; i < 50; ++i) {
      std::string k = NumKey(round * 1000 + i);
      ASSERT_TRUE(db->Put(k, std::to_string(round)).ok());
      want[k] = std::to_string(round);
    }
    ASSERT_TRUE(db->Delete(NumKey(round * 1000)).ok());
    want.erase(NumKey(round * 1000));
  }
}

}  // namespace
}  // namespace sombra::dbtest
