// Read-only handles beside a writer (docs/design/readers.md), as two
// handles of one process: each has its own slot in `<path>-shm` and its own
// map of the page file, exactly as a handle in another process, but the
// steps run in a fixed order (the process tests are reader_process_test).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "db/db_impl.h"
#include "db_test_util.h"
#include "env/env_wrapper.h"
#include "sombra/db.h"
#include "wal/wal_batch.h"
#include "wal/wal_format.h"

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
  // The same through `env` (a test Env), which may fail.
  Status OpenReaderWith(Env* env, std::unique_ptr<DB>* reader) const {
    Options o;
    o.read_only = true;
    return db::OpenWithEnv(env, o, path_, reader);
  }
  // A read-only open through `env`, whose hook closes the writer under it
  // (and sets `closed`), must succeed and read n keys of `fill`.
  std::unique_ptr<DB> ExpectOpenAfterTheWriterClosed(Env* env, const bool& closed, int n,
                                                     char fill) const {
    std::unique_ptr<DB> reader;
    Status s = OpenReaderWith(env, &reader);
    EXPECT_TRUE(closed);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) return nullptr;
    std::unique_ptr<ReadTxn> r;
    EXPECT_TRUE(reader->BeginRead(&r).ok());
    if (r != nullptr) ExpectAll(r.get(), n, fill);
    return reader;
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
  // Large values that do not compress: the log passes its threshold every
  // few commits.
  const auto value = [](int i) { return FillValue(2000, static_cast<uint64_t>(i)); };
  for (int i = 1; i <= 600; ++i) {
    ASSERT_TRUE(writer->Put(Key(i), value(i)).ok());
    if (i == 100) {
      ASSERT_TRUE(reader->BeginRead(&long_txn).ok());
    }
    if (i == 300) long_txn.reset();
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(reader->BeginRead(&txn).ok());
    std::string v;
    Status s = txn->Get(Key(i), &v);
    ASSERT_TRUE(s.ok()) << "commit " << i << ": " << s.ToString();
    ASSERT_EQ(v, value(i));
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

// A reader elsewhere holding one snapshot for ever: the writer's
// checkpoints are put off, and once the log is twice what it would keep
// they compact it: a new generation from the page file's checkpoint that
// carries one image of each changed page (WAL format 3). The log stays
// bounded, the held snapshot exact, and a reopened writer recovers the
// carried log.
TEST_F(DbReadersTest, HeldSnapshotForEverKeepsTheLogBoundedByCompaction) {
  Options o = WriterOptions();
  auto writer = OpenOrDie(o, path_);
  PutAll(writer.get(), 50, 'a');  // one or two leaves
  ASSERT_TRUE(writer->Checkpoint().ok());
  auto reader = OpenReader();
  std::unique_ptr<ReadTxn> held;
  ASSERT_TRUE(reader->BeginRead(&held).ok());
  uint64_t max_log = 0;
  for (int round = 0; round < 2000; ++round) {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(writer->BeginWrite(&w).ok());
    ASSERT_TRUE(w->Put(Key(round % 50), std::string(100, 'b')).ok());
    ASSERT_TRUE(w->Put("round", std::to_string(round)).ok());
    ASSERT_TRUE(w->Commit().ok());
    max_log = std::max(max_log, writer->GetStats().wal_file_bytes);
  }
  EXPECT_GT(Metric(writer.get(), "wal_carried_pages"), 0u);
  EXPECT_GT(Metric(writer.get(), "checkpoints_limited_by_readers"), 0u);
  // Bound: the threshold, plus at most twice what a compacted log keeps
  // (a few pages here), plus one transaction.
  EXPECT_LT(max_log, o.wal_checkpoint_bytes + 64 * 1024) << max_log;
  ExpectAll(held.get(), 50, 'a');
  std::unique_ptr<ReadTxn> fresh;
  ASSERT_TRUE(reader->BeginRead(&fresh).ok());
  std::string v;
  ASSERT_TRUE(fresh->Get("round", &v).ok());
  EXPECT_EQ(v, "1999");
  ExpectAll(held.get(), 50, 'a');
  fresh.reset();

  // The writer closes under the held snapshot (the log stays) and a new
  // one recovers the compacted log and continues it.
  writer.reset();
  writer = OpenOrDie(o, path_);
  ASSERT_TRUE(writer->Get("round", &v).ok());
  EXPECT_EQ(v, "1999");
  ASSERT_TRUE(writer->Put("round", "2000").ok());
  ExpectAll(held.get(), 50, 'a');
  held.reset();
  ASSERT_TRUE(reader->BeginRead(&fresh).ok());
  ASSERT_TRUE(fresh->Get("round", &v).ok());
  EXPECT_EQ(v, "2000");
  fresh.reset();
  ASSERT_TRUE(writer->Checkpoint().ok());
  EXPECT_EQ(writer->GetStats().wal_file_bytes, 0u);
  EXPECT_TRUE(writer->Verify().ok());
}

// The same with transactions that change hundreds of leaves: the carried
// log takes at least BatchBuilder::kParallelImages images in one batch, so
// they are compressed on two threads (wal::BatchBuilder::PrecompressImages),
// and the log a reopened writer recovers holds every page whole.
TEST_F(DbReadersTest, ACarriedLogOfHundredsOfPagesIsRecoveredWhole) {
  constexpr int kKeys = 6000;  // about 200 leaves of 100-byte values
  // Values that do not compress, so that the log grows by the bytes changed.
  auto value = [](int i, int round) {
    std::string v(100, '\0');
    uint64_t x =
        (static_cast<uint64_t>(i) << 20) ^ static_cast<uint64_t>(round) ^ 0x9E3779B97F4A7C15ull;
    for (char& c : v) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      c = static_cast<char>(x >> 56);
    }
    return v;
  };
  auto put_round = [&](DB* db, int round) {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(w->Put(Key(i), value(i, round)).ok());
    ASSERT_TRUE(w->Commit().ok());
  };
  auto expect_round = [&](ReadTxn* txn, int round) {
    auto c = txn->NewCursor();
    int count = 0;
    for (c->SeekToFirst(); c->Valid(); c->Next(), ++count) {
      ASSERT_EQ(c->key(), Key(count));
      ASSERT_EQ(c->value(), value(count, round)) << "at " << Key(count);
    }
    ASSERT_TRUE(c->status().ok()) << c->status().ToString();
    EXPECT_EQ(count, kKeys);
  };
  Options o = WriterOptions();
  auto writer = OpenOrDie(o, path_);
  put_round(writer.get(), 0);
  ASSERT_TRUE(writer->Checkpoint().ok());
  auto reader = OpenReader();
  std::unique_ptr<ReadTxn> held;
  ASSERT_TRUE(reader->BeginRead(&held).ok());
  // Every round changes every leaf: a carry holds them all, once the log
  // is twice their images.
  int round = 0;
  while (Metric(writer.get(), "wal_carried_pages") == 0 && round < 20) {
    put_round(writer.get(), ++round);
  }
  // One carry, of more images than the two-thread threshold.
  EXPECT_GE(Metric(writer.get(), "wal_carried_pages"), wal::BatchBuilder::kParallelImages);
  put_round(writer.get(), ++round);  // a commit after the carry, in the new generation
  expect_round(held.get(), 0);
  writer.reset();  // under the held snapshot: the carried log stays
  writer = OpenOrDie(o, path_);
  std::unique_ptr<ReadTxn> fresh;
  ASSERT_TRUE(writer->BeginRead(&fresh).ok());
  expect_round(fresh.get(), round);
  fresh.reset();
  expect_round(held.get(), 0);
  held.reset();
  EXPECT_TRUE(writer->Verify().ok());
}

// A crash between writing the compacted log and renaming it over the log
// leaves `<path>-wal.carry` beside a whole log: the next writer removes it
// and recovers from the log.
TEST_F(DbReadersTest, LeftoverCompactedLogIsIgnoredAndRemoved) {
  {
    auto writer = OpenOrDie(WriterOptions(), path_);
    PutAll(writer.get(), 50, 'a');
    auto reader = OpenReader();
    std::unique_ptr<ReadTxn> held;
    ASSERT_TRUE(reader->BeginRead(&held).ok());
    PutAll(writer.get(), 50, 'b');
    held.reset();
    reader.reset();
    // A log that is not this database's last word: another salt.
    test::WriteFileOrDie(path_ + "-wal.carry", std::string(8192, 'x'));
  }
  auto writer = OpenOrDie(WriterOptions(), path_);
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(writer->BeginRead(&txn).ok());
  ExpectAll(txn.get(), 50, 'b');
  struct stat st;
  EXPECT_NE(::stat((path_ + "-wal.carry").c_str(), &st), 0);
}

// The table has 126 slots (docs/format/shm.md): a read-only open beyond
// them is Busy naming the table, as LMDB's MDB_READERS_FULL; the writer
// needs none (its slot only shows its snapshots to tools).
TEST_F(DbReadersTest, ReadOnlyOpenBeyondTheSlotsIsBusyAndTheWriterStillOpens) {
  { auto created = OpenOrDie(WriterOptions(), path_); }
  std::vector<std::unique_ptr<DB>> readers;
  for (int i = 0; i < 126; ++i) {
    readers.push_back(OpenReader());
    ASSERT_NE(readers.back(), nullptr) << "reader " << i;
  }
  Options ro;
  ro.read_only = true;
  std::unique_ptr<DB> extra;
  Status s = DB::Open(ro, path_, &extra);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_TRUE(Contains(s.ToString(), path_ + "-shm")) << s.ToString();
  auto writer = OpenOrDie(WriterOptions(), path_);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Put("k", "v").ok());
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(readers[7]->BeginRead(&txn).ok());
  std::string v;
  ASSERT_TRUE(txn->Get("k", &v).ok());
  EXPECT_EQ(v, "v");
}

// Threads of one read-only handle begin, read and end snapshots while a
// writer (another handle) commits and restarts its log: the catch-up, the
// switch to a new log and the slot updates race with each other and with
// snapshot reads (run under ThreadSanitizer by the tsan preset). Every
// snapshot is consistent: it holds exactly the keys its counter says.
TEST_F(DbReadersTest, ThreadsOfAReadOnlyHandleFollowAWriter) {
  auto writer = OpenOrDie(WriterOptions(), path_);
  ASSERT_TRUE(writer->Put("count", "0").ok());
  auto reader = OpenReader();
  constexpr int kCommits = 400;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<uint64_t> scans{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      while (!done.load()) {
        std::unique_ptr<ReadTxn> txn;
        if (!reader->BeginRead(&txn).ok()) {
          failures++;
          continue;
        }
        std::string count;
        if (!txn->Get("count", &count).ok()) {
          failures++;
          continue;
        }
        int keys = 0;
        auto c = txn->NewCursor();
        for (c->SeekToFirst(); c->Valid(); c->Next()) {
          if (c->key() != "count") ++keys;
        }
        if (!c->status().ok() || keys != std::stoi(count)) failures++;
        scans++;
      }
    });
  }
  for (int i = 1; i <= kCommits; ++i) {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(writer->BeginWrite(&w).ok());
    ASSERT_TRUE(w->Put(Key(i), std::string(1500, 'v')).ok());
    ASSERT_TRUE(w->Put("count", std::to_string(i)).ok());
    ASSERT_TRUE(w->Commit().ok());
  }
  done = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(scans.load(), 0u);
  std::unique_ptr<ReadTxn> last;
  ASSERT_TRUE(reader->BeginRead(&last).ok());
  std::string count;
  ASSERT_TRUE(last->Get("count", &count).ok());
  EXPECT_EQ(count, std::to_string(kCommits));
}

// Runs `hook` once, before the first read of a log past its header, and
// `before_map` and `after_map` once, around the first map of the page
// file (an open has read its size and meta pages then, not the log).
class HookedLogEnv final : public EnvWrapper {
 public:
  std::function<void()> hook;
  std::function<void()> before_map;
  std::function<void()> after_map;

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    SOMBRA_ASSIGN_OR_RETURN(auto file, base()->OpenFile(path, mode));
    if (!path.ends_with("-wal")) return file;
    return std::unique_ptr<File>(new HookedFile(std::move(file), this));
  }
  Result<std::shared_ptr<const MappedRegion>> MapReadOnly(const std::string& path,
                                                          uint64_t size) override {
    if (before_map) std::exchange(before_map, nullptr)();
    auto region = EnvWrapper::MapReadOnly(path, size);
    if (after_map) std::exchange(after_map, nullptr)();
    return region;
  }

 private:
  class HookedFile final : public FileWrapper {
   public:
    HookedFile(std::unique_ptr<File> f, HookedLogEnv* env) : FileWrapper(std::move(f)), env_(env) {}
    Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* got) override {
      if (offset >= wal::kWalHeaderSize && env_->hook) std::exchange(env_->hook, nullptr)();
      return FileWrapper::ReadAt(offset, n, dst, got);
    }

   private:
    HookedLogEnv* env_;
  };
};

// The writer closes cleanly while a read-only open reads the log: the
// close truncates the log (restarted by a checkpoint, its old bytes still
// there, nothing in it the page file lacks, so no reader's slot keeps it)
// to its header under the reading, whose next read comes up short.
// The open reads again and sees the closed database, never an I/O error.
TEST_F(DbReadersTest, LogTruncatedUnderAReadOnlyOpenIsReadAgain) {
  auto writer = OpenOrDie(WriterOptions(), path_);
  PutAll(writer.get(), 300, 'a');
  ASSERT_TRUE(writer->Checkpoint().ok());  // restarts the log, its old bytes stay
  ASSERT_GT(FileSize(path_ + "-wal"), wal::kWalHeaderSize);

  HookedLogEnv env;
  bool closed = false;
  env.hook = [&] {
    writer.reset();
    closed = true;
  };
  ExpectOpenAfterTheWriterClosed(&env, closed, 300, 'a');
}

// The writer checkpoints and closes while a read-only open reads: after
// the open read the meta pages and before it reads the log, so the log it
// finds starts past the meta page it read, with no writer left to say it
// was one's doing; and, the first time, also between the open's reading
// of the page file's size and its map of the file, which the close
// shrinks (to its page count). Neither is damage: the open maps only the
// pages its meta page counts, which the close keeps, sees that a newer
// meta page is in force, reads again and sees the closed database
// (before: "cannot map ... the file has only", then "the page file is
// older than its log").
TEST_F(DbReadersTest, WriterClosingDuringAReadOnlyOpenIsNotDamage) {
  for (bool before_map : {true, false}) {
    SCOPED_TRACE(before_map ? "closed before the map" : "closed after the map");
    auto writer = OpenOrDie(WriterOptions(), path_);
    PutAll(writer.get(), 300, 'a');
    ASSERT_TRUE(writer->Checkpoint().ok());
    PutAll(writer.get(), 300, before_map ? 'b' : 'c');  // the close checkpoints them
    HookedLogEnv env;
    bool closed = false;
    (before_map ? env.before_map : env.after_map) = [&] {
      writer.reset();
      closed = true;
    };
    auto reader = ExpectOpenAfterTheWriterClosed(&env, closed, 300, before_map ? 'b' : 'c');
    ASSERT_NE(reader, nullptr);
    EXPECT_TRUE(reader->Verify().ok());
  }
}

// The writer closes while a read-only open maps the pages its log adds
// past the meta page's count: the close shrinks the page file from the
// size the open read to the writer's page count, under that map. The open
// then maps just the pages it serves (page counts never shrink). Before,
// the open mapped the whole file at once and retried when a close shrank
// it under the map; this test saw no map after the first then.
TEST_F(DbReadersTest, WriterClosingWhileAReadOnlyOpenFollowsGrowthIsNotDamage) {
  auto writer = OpenOrDie(FastOptions(), path_);
  PutAll(writer.get(), 300, 'a');
  ASSERT_TRUE(writer->Checkpoint().ok());
  PutAll(writer.get(), 3000, 'b');  // in the log only: pages past the meta's count
  HookedLogEnv env;
  bool closed = false;
  std::function<void()> close_writer = [&] {
    writer.reset();
    closed = true;
  };
  // The first map, of the meta page's pages, goes on; the next closes.
  env.before_map = [&] { env.before_map = close_writer; };
  auto reader = ExpectOpenAfterTheWriterClosed(&env, closed, 3000, 'b');
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(reader->Verify().ok());
}

// While `changing`, every log it opens (and every one it opened before)
// looks like a log the writer changes under each reading: a read fails,
// as the short read of a log truncated under it does, and its size is
// another at each look. Counts the opens of the log meanwhile: the
// follower opens it once per attempt.
class ChangingLogEnv final : public EnvWrapper {
 public:
  std::atomic<bool> changing{false};
  std::atomic<int> log_opens{0};

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    SOMBRA_ASSIGN_OR_RETURN(auto file, base()->OpenFile(path, mode));
    if (!path.ends_with("-wal")) return file;
    if (changing) ++log_opens;
    return std::unique_ptr<File>(new ChangingFile(std::move(file), this));
  }

 private:
  class ChangingFile final : public FileWrapper {
   public:
    ChangingFile(std::unique_ptr<File> f, ChangingLogEnv* env)
        : FileWrapper(std::move(f)), env_(env) {}
    Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* got) override {
      if (!env_->changing) return FileWrapper::ReadAt(offset, n, dst, got);
      *got = 0;
      return Status::IOError("short read of " + path() + " (test: the log changed)");
    }
    Result<uint64_t> Size() override {
      SOMBRA_ASSIGN_OR_RETURN(uint64_t size, FileWrapper::Size());
      return env_->changing ? size + ++looks_ : size;
    }

   private:
    ChangingLogEnv* env_;
    uint64_t looks_ = 0;
  };
};

// The follower's attempts (kFollowAttempts in pager/pager_follow.cc).
constexpr int kFollowAttempts = 50;

// A read-only open whose every reading of the log races with the writer
// gives up after its last attempt with Busy (worth retrying, not damage),
// changes no file, and holds nothing back: its slot is released, so the
// writer's next checkpoint goes through, and the next open reads all.
TEST_F(DbReadersTest, ReadOnlyOpenGivesUpWithBusyWhenTheLogChangesAtEveryAttempt) {
  auto writer = OpenOrDie(WriterOptions(), path_);
  PutAll(writer.get(), 300, 'a');
  ASSERT_TRUE(writer->Checkpoint().ok());
  PutAll(writer.get(), 300, 'b');  // in the log only
  const std::string file_before = test::ReadFileOrDie(path_);
  const std::string log_before = test::ReadFileOrDie(path_ + "-wal");

  ChangingLogEnv env;
  env.changing = true;
  std::unique_ptr<DB> reader;
  Status s = OpenReaderWith(&env, &reader);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_TRUE(Contains(s.ToString(), "changed while it was read")) << s.ToString();
  EXPECT_EQ(reader, nullptr);
  EXPECT_EQ(env.log_opens, kFollowAttempts);
  EXPECT_EQ(test::ReadFileOrDie(path_), file_before);
  EXPECT_EQ(test::ReadFileOrDie(path_ + "-wal"), log_before);

  const uint64_t limited = Metric(writer.get(), "checkpoints_limited_by_readers");
  ASSERT_TRUE(writer->Checkpoint().ok());
  EXPECT_EQ(Metric(writer.get(), "checkpoints_limited_by_readers"), limited);
  EXPECT_EQ(writer->GetStats().wal_file_bytes, 0u);
  env.changing = false;
  ASSERT_TRUE(OpenReaderWith(&env, &reader).ok());
  std::unique_ptr<ReadTxn> r;
  ASSERT_TRUE(reader->BeginRead(&r).ok());
  ExpectAll(r.get(), 300, 'b');
  r.reset();
  EXPECT_TRUE(reader->Verify().ok());
  EXPECT_TRUE(writer->Verify().ok());
}

// A BeginRead whose every reading of the log races with the writer gives
// up after its last attempt and serves the state the handle had, whole;
// the writer's commits are not lost to it: once the log reads again, the
// next BeginRead has them all.
TEST_F(DbReadersTest, BeginReadGivesUpOnALogThatChangesAtEveryAttemptAndServesWhatItHas) {
  auto writer = OpenOrDie(FastOptions(), path_);  // no automatic checkpoint below
  PutAll(writer.get(), 300, 'a');
  ChangingLogEnv env;
  std::unique_ptr<DB> reader;
  ASSERT_TRUE(OpenReaderWith(&env, &reader).ok());
  std::unique_ptr<ReadTxn> before;
  ASSERT_TRUE(reader->BeginRead(&before).ok());
  const uint64_t had = before->Sequence();
  before.reset();
  PutAll(writer.get(), 300, 'b');

  env.changing = true;
  std::unique_ptr<ReadTxn> r;
  ASSERT_TRUE(reader->BeginRead(&r).ok());
  EXPECT_EQ(env.log_opens, kFollowAttempts);
  EXPECT_EQ(r->Sequence(), had);
  ExpectAll(r.get(), 300, 'a');
  r.reset();

  env.changing = false;
  ASSERT_TRUE(reader->BeginRead(&r).ok());
  EXPECT_EQ(r->Sequence(), had + 1);
  ExpectAll(r.get(), 300, 'b');
  r.reset();
  EXPECT_TRUE(reader->Verify().ok());
  reader.reset();
  writer.reset();
  auto again = OpenOrDie(FastOptions(), path_);
  ASSERT_TRUE(again->BeginRead(&r).ok());
  ExpectAll(r.get(), 300, 'b');
  r.reset();  // a read transaction ends before its database closes
  EXPECT_TRUE(again->Verify().ok());
}

}  // namespace
}  // namespace sombra::dbtest
