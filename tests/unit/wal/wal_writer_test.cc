// Tests of WalWriter: appending and reading back, restart, preallocation
// and the sticky error state (group commit: wal_group_commit_test.cc).
#include "wal/wal_writer.h"

#include <errno.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "env/env_wrapper.h"
#include "env/fault_injection_env.h"
#include "util/metrics.h"
#include "wal/wal_batch.h"
#include "wal_test_util.h"

namespace sombra::wal {
namespace {

using CrashMode = FaultInjectionEnv::CrashMode;
using Op = FaultInjectionEnv::Op;

constexpr uint64_t kMiB = uint64_t{1} << 20;

class WalWriterTest : public ::testing::Test {
 protected:
  std::unique_ptr<WalWriter> OpenWriter(Env* env, uint64_t generation = 1, uint64_t start_lsn = 1,
                                        uint64_t preallocate = kMiB) {
    auto w = WalWriter::Open(env, path_, test::kPageSize, test::kDbSalt, generation, start_lsn,
                             WalBase{}, preallocate, &metrics_);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? std::move(w).value() : nullptr;
  }

  // Builds transaction `lsn` (a delta of a fixed size and a commit) chained
  // from the writer's last checksum.
  void BuildSmallTxn(WalWriter* w, uint64_t lsn, uint64_t durable_lsn) {
    batch_.Reset(w->last_checksum());
    batch_.set_log_version(w->header().version);
    const std::string bytes(64, static_cast<char>('a' + lsn % 26));
    const std::vector<DeltaRange> ranges = {{128, bytes}};
    ASSERT_TRUE(batch_.AddPageDelta(3, lsn - 1, lsn, ranges).ok());
    CommitInfo c;
    c.txn_id = lsn;
    c.lsn = lsn;
    c.page_count = 10;
    c.durable_lsn = durable_lsn;
    ASSERT_TRUE(batch_.AddCommit(c).ok());
  }

  uint64_t FileSize() {
    auto size = Env::Default()->GetFileSize(path_);
    EXPECT_TRUE(size.ok());
    return size.ok() ? *size : 0;
  }

  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db-wal");
  MetricsRegistry metrics_;
  BatchBuilder batch_{test::kPageSize, true};
};

TEST_F(WalWriterTest, AppendedBatchesReadBackExactly) {
  auto w = OpenWriter(Env::Default(), /*generation=*/4, /*start_lsn=*/10);
  ASSERT_NE(w, nullptr);
  std::mt19937_64 rng(sombra::test::TestSeed());
  std::string expected;
  uint64_t records = 0, images = 0, deltas = 0;
  for (uint64_t lsn = 10; lsn < 20; ++lsn) {
    batch_.Reset(w->last_checksum());
    test::AddTxn(&batch_, lsn, static_cast<int>(rng() % 3), static_cast<int>(rng() % 3), lsn - 1,
                 &rng);
    records += batch_.record_count();
    images += batch_.image_records();
    deltas += batch_.delta_records();
    WAL_ASSERT_OK_AND_ASSIGN(uint64_t end, w->Append(batch_));
    expected += batch_.data();
    EXPECT_EQ(end, kWalHeaderSize + expected.size());
    EXPECT_EQ(w->written_offset(), end);
    EXPECT_EQ(w->last_checksum(), batch_.last_checksum());
    WAL_ASSERT_OK(w->SyncTo(end));
    EXPECT_EQ(w->synced_offset(), end);
  }
  EXPECT_EQ(w->log_bytes(), expected.size());
  const WalHeader written = w->header();
  w.reset();

  const std::string file = sombra::test::ReadFileOrDie(path_);
  EXPECT_EQ(file.substr(kWalHeaderSize, expected.size()), expected);
  test::Scan scan = test::ScanLog(path_);
  ASSERT_TRUE(scan.open_status.ok()) << scan.open_status.ToString();
  EXPECT_EQ(scan.records.size(), records);
  EXPECT_EQ(scan.commit_lsns.size(), 10u);
  EXPECT_EQ(scan.commit_lsns.front(), 10u);
  EXPECT_EQ(scan.stop, StopReason::kEndOfLog);
  EXPECT_EQ(scan.stop_offset, kWalHeaderSize + expected.size());

  auto f = Env::Default()->OpenFile(path_, OpenMode::kReadOnly);
  ASSERT_TRUE(f.ok());
  WalReader reader(f->get());
  WAL_ASSERT_OK(reader.Open());
  EXPECT_EQ(reader.header().generation, 4u);
  EXPECT_EQ(reader.header().start_lsn, 10u);
  EXPECT_EQ(reader.header().db_salt, test::kDbSalt);
  EXPECT_EQ(reader.header().page_size, test::kPageSize);
  EXPECT_EQ(reader.header().salt, written.salt);
  EXPECT_NE(written.salt, 0u);

  EXPECT_EQ(metrics_.Value("wal_records"), records);
  EXPECT_EQ(metrics_.Value("wal_bytes"), expected.size());
  EXPECT_EQ(metrics_.Value("wal_image_records"), images);
  EXPECT_EQ(metrics_.Value("wal_delta_records"), deltas);
  if (images > 0) {
    EXPECT_GT(metrics_.Value("wal_compressed_bytes_saved"), 0u);
  }
  EXPECT_EQ(metrics_.Value("fsyncs"), 11u);  // Open + one per SyncTo
  EXPECT_EQ(metrics_.Value("wal_syncs_grouped"), 0u);
}

// A follower (a read-only handle beside a live writer) reads a log that
// grows under it: Continue() goes back to the last commit and reads on.
TEST_F(WalWriterTest, ReaderContinuesWhereTheLogGrew) {
  auto w = OpenWriter(Env::Default(), 1, /*start_lsn=*/1);
  ASSERT_NE(w, nullptr);
  auto f = Env::Default()->OpenFile(path_, OpenMode::kReadOnly);
  ASSERT_TRUE(f.ok());
  WalReader reader(f->get());
  WAL_ASSERT_OK(reader.Open());
  Record rec;
  std::vector<uint64_t> commits;
  for (uint64_t lsn = 1; lsn <= 6; ++lsn) {
    BuildSmallTxn(w.get(), lsn, lsn - 1);
    // Half a batch first: the reader stops in the transaction, and reads it
    // whole once the rest is there.
    const std::string data(batch_.data());
    WAL_ASSERT_OK_AND_ASSIGN(uint64_t end, w->Append(batch_));
    if (lsn == 3) {
      auto raw = Env::Default()->OpenFile(path_, OpenMode::kReadWrite);
      ASSERT_TRUE(raw.ok());
      WAL_ASSERT_OK((*raw)->WriteAt(end - data.size() / 2, std::string(data.size() / 2, '\0')));
      WAL_ASSERT_OK(reader.Continue());
      while (reader.Next(&rec)) {
        if (rec.type == RecordType::kCommit) commits.push_back(rec.commit.lsn);
      }
      EXPECT_EQ(commits.back(), 2u);
      WAL_ASSERT_OK((*raw)->WriteAt(end - data.size(), data));
    }
    WAL_ASSERT_OK(reader.Continue());
    while (reader.Next(&rec)) {
      if (rec.type == RecordType::kCommit) commits.push_back(rec.commit.lsn);
    }
    EXPECT_EQ(reader.last_commit_lsn(), lsn);
    EXPECT_EQ(reader.committed_end_offset(), end);
  }
  EXPECT_EQ(commits, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6}));
}

// A writer that could not restart the log (readers elsewhere) continues it
// after its last commit: what it appends chains on, and a torn batch behind
// the last commit is overwritten.
TEST_F(WalWriterTest, ResumeAppendsAfterTheLastCommit) {
  WalHeader header;
  {
    auto w = OpenWriter(Env::Default(), 3, /*start_lsn=*/5);
    ASSERT_NE(w, nullptr);
    for (uint64_t lsn = 5; lsn <= 7; ++lsn) {
      BuildSmallTxn(w.get(), lsn, lsn - 1);
      WAL_ASSERT_OK_AND_ASSIGN(uint64_t end, w->Append(batch_));
      WAL_ASSERT_OK(w->SyncTo(end));
    }
    BuildSmallTxn(w.get(), 8, 7);  // torn: only its first half lands
    WAL_ASSERT_OK(
        w->Append(batch_.data().substr(0, batch_.data().size() / 2), batch_.last_checksum()));
    header = w->header();
  }
  auto f = Env::Default()->OpenFile(path_, OpenMode::kReadOnly);
  ASSERT_TRUE(f.ok());
  WalReader reader(f->get());
  WAL_ASSERT_OK(reader.Open());
  Record rec;
  while (reader.Next(&rec)) {
  }
  ASSERT_EQ(reader.last_commit_lsn(), 7u);
  WAL_ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<WalWriter> w,
      WalWriter::Resume(Env::Default(), path_, reader.header(), reader.committed_end_offset(),
                        reader.committed_checksum(), &metrics_));
  EXPECT_EQ(w->header().salt, header.salt);
  for (uint64_t lsn = 8; lsn <= 9; ++lsn) {
    BuildSmallTxn(w.get(), lsn, lsn - 1);
    WAL_ASSERT_OK_AND_ASSIGN(uint64_t end, w->Append(batch_));
    WAL_ASSERT_OK(w->SyncTo(end));
  }
  test::Scan scan = test::ScanLog(path_);
  EXPECT_EQ(scan.commit_lsns, (std::vector<uint64_t>{5, 6, 7, 8, 9}));
  // Out of range, or another format: refused.
  EXPECT_TRUE(WalWriter::Resume(Env::Default(), path_, reader.header(), 10, 0, nullptr)
                  .status()
                  .IsInvalidArgument());
  WalHeader v1 = reader.header();
  v1.version = kWalFormatVersion1;
  EXPECT_TRUE(
      WalWriter::Resume(Env::Default(), path_, v1, reader.committed_end_offset(), 0, nullptr)
          .status()
          .IsNotSupported());
}

// Format 3 (a carried generation): the first transaction may carry an LSN
// above the start LSN; later ones follow it one by one; format 2 refuses
// the same jump (rule T1).
TEST_F(WalWriterTest, CarriedGenerationMayJumpOnlyAtItsFirstTransaction) {
  for (uint32_t version : {kWalFormatVersion, kWalFormatVersionCarry}) {
    SCOPED_TRACE(version);
    {
      WAL_ASSERT_OK_AND_ASSIGN(
          std::unique_ptr<WalWriter> w,
          WalWriter::Open(Env::Default(), path_, test::kPageSize, test::kDbSalt, 2,
                          /*start_lsn=*/5, WalBase{}, kMiB, &metrics_, version));
      for (uint64_t lsn : {40, 41, 43}) {  // a jump at the start, then a gap
        BuildSmallTxn(w.get(), lsn, 4);
        WAL_ASSERT_OK_AND_ASSIGN(uint64_t end, w->Append(batch_));
        WAL_ASSERT_OK(w->SyncTo(end));
      }
    }
    test::Scan scan = test::ScanLog(path_);
    ASSERT_TRUE(scan.open_status.ok()) << scan.open_status.ToString();
    if (version == kWalFormatVersionCarry) {
      EXPECT_EQ(scan.commit_lsns, (std::vector<uint64_t>{40, 41}));
    } else {
      EXPECT_TRUE(scan.commit_lsns.empty());
    }
    EXPECT_EQ(scan.stop, StopReason::kBadPayload);
  }
}

TEST_F(WalWriterTest, RestartStartsANewGenerationOverTheOldRecords) {
  auto w = OpenWriter(Env::Default());
  ASSERT_NE(w, nullptr);
  std::vector<uint64_t> ends;
  for (uint64_t lsn = 1; lsn <= 6; ++lsn) {
    BuildSmallTxn(w.get(), lsn, lsn - 1);
    WAL_ASSERT_OK_AND_ASSIGN(uint64_t end, w->Append(batch_));
    ends.push_back(end);
  }
  WAL_ASSERT_OK(w->SyncTo(ends.back()));
  const uint64_t old_salt = w->header().salt;

  WAL_ASSERT_OK(w->Restart(/*generation=*/2, /*start_lsn=*/7, WalBase{}));
  EXPECT_NE(w->header().salt, old_salt);
  EXPECT_EQ(w->header().generation, 2u);
  EXPECT_EQ(w->written_offset(), kWalHeaderSize);
  EXPECT_EQ(w->synced_offset(), kWalHeaderSize);
  EXPECT_EQ(w->log_bytes(), 0u);
  EXPECT_EQ(w->last_checksum(), w->header().salt);
  // A SyncTo still pending from the old generation returns at once.
  WAL_ASSERT_OK(w->SyncTo(ends.back()));

  for (uint64_t lsn = 7; lsn <= 8; ++lsn) {
    BuildSmallTxn(w.get(), lsn, 6);
    WAL_ASSERT_OK_AND_ASSIGN(uint64_t end, w->Append(batch_));
    WAL_ASSERT_OK(w->SyncTo(end));
  }
  EXPECT_EQ(w->written_offset(), ends[1]);  // same sizes: the new tail is an old boundary
  w.reset();

  // The old generation's third transaction starts at the new tail: its
  // header is well formed, its checksum belongs to the old chain.
  test::Scan scan = test::ScanLog(path_);
  EXPECT_EQ(scan.commit_lsns, (std::vector<uint64_t>{7, 8}));
  EXPECT_EQ(scan.stop, StopReason::kChecksumMismatch) << scan.stop_detail;
  EXPECT_EQ(scan.stop_offset, ends[1]);
  EXPECT_EQ(scan.stop_txn_lsn, 9u);
  EXPECT_EQ(scan.probe.commits_found, 0u);  // the old chain (LSNs 3-6) is not followed
  EXPECT_FALSE(scan.probe.stop_was_durable);
}

TEST_F(WalWriterTest, RestartMakesUnsyncedBatchesDurable) {
  FaultInjectionEnv env(Env::Default());
  auto w = OpenWriter(&env);
  ASSERT_NE(w, nullptr);
  BuildSmallTxn(w.get(), 1, 0);
  WAL_ASSERT_OK_AND_ASSIGN(uint64_t end, w->Append(batch_));
  EXPECT_GT(env.unsynced_bytes(path_), 0u);
  std::thread waiter([&] { EXPECT_TRUE(w->SyncTo(end).ok()); });
  WAL_ASSERT_OK(w->Restart(2, 2, WalBase{}));
  waiter.join();
  EXPECT_EQ(env.unsynced_bytes(path_), 0u);
  WAL_ASSERT_OK(w->SyncTo(end));
}

TEST_F(WalWriterTest, PreallocatedFileKeepsItsSizeAndGrowsInSteps) {
  FaultInjectionEnv env(Env::Default());
  auto w = OpenWriter(&env, 1, 1, 2 * kMiB);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(FileSize(), 2 * kMiB);
  // One fdatasync covers the zeros and the header; the new file's directory
  // is synced too.
  EXPECT_EQ(env.syncs(), 2u);
  EXPECT_EQ(env.unsynced_bytes(path_), 0u);
  EXPECT_EQ(sombra::test::ReadFileOrDie(path_).substr(kWalHeaderSize, 4096),
            std::string(4096, '\0'));

  uint64_t lsn = 1;
  while (w->written_offset() < 2 * kMiB - 4096) {
    BuildSmallTxn(w.get(), lsn, lsn - 1);
    ++lsn;
    WAL_ASSERT_OK_AND_ASSIGN(uint64_t end, w->Append(batch_));
    (void)end;
    ASSERT_EQ(FileSize(), 2 * kMiB);
  }
  // Past the end: the file grows by written zeros in 4 MiB steps.
  while (w->written_offset() < 2 * kMiB + 4096) {
    BuildSmallTxn(w.get(), lsn, lsn - 1);
    ++lsn;
    WAL_ASSERT_OK_AND_ASSIGN(uint64_t end, w->Append(batch_));
    (void)end;
  }
  EXPECT_EQ(FileSize(), 6 * kMiB);
  WAL_ASSERT_OK(w->SyncTo(w->written_offset()));
  const uint64_t commits = lsn - 1;
  w.reset();
  test::Scan scan = test::ScanLog(path_);
  EXPECT_EQ(scan.commit_lsns.size(), commits);
  EXPECT_EQ(scan.stop, StopReason::kEndOfLog);

  // Reopening keeps the larger size; the old records no longer validate.
  w = OpenWriter(&env, 2, commits + 1, kMiB);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(FileSize(), 6 * kMiB);
  w.reset();
  scan = test::ScanLog(path_);
  EXPECT_TRUE(scan.records.empty());
  EXPECT_EQ(scan.stop, StopReason::kChecksumMismatch);
  EXPECT_EQ(scan.stop_offset, kWalHeaderSize);
}

// An Env whose files count the bytes written and note the largest write.
class WriteSizeEnv final : public EnvWrapper {
 public:
  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    SOMBRA_ASSIGN_OR_RETURN(auto file, base()->OpenFile(path, mode));
    return std::unique_ptr<File>(new CountingFile(std::move(file), this));
  }
  uint64_t bytes = 0;
  uint64_t largest = 0;

 private:
  class CountingFile final : public FileWrapper {
   public:
    CountingFile(std::unique_ptr<File> base, WriteSizeEnv* env)
        : FileWrapper(std::move(base)), env_(env) {}
    Status WriteAt(uint64_t offset, std::string_view data) override {
      env_->bytes += data.size();
      env_->largest = std::max<uint64_t>(env_->largest, data.size());
      return FileWrapper::WriteAt(offset, data);
    }

   private:
    WriteSizeEnv* env_;
  };
};

// No write to the log passes kWritePiece, neither the preallocation's zeros
// nor a batch of several MiB; a batch that passes the file's end is written
// once, with zeros only behind it to the end of the grow step.
TEST_F(WalWriterTest, WritesArePiecesAndGrowthZerosOnlyBehindTheBatch) {
  WriteSizeEnv env;
  auto w = OpenWriter(&env, 1, 1, kMiB);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(FileSize(), kMiB);
  EXPECT_LE(env.largest, WalWriter::kWritePiece);
  env.bytes = 0;

  std::mt19937_64 rng(sombra::test::TestSeed());
  batch_.Reset(w->last_checksum());
  test::AddTxn(&batch_, 1, /*images=*/3000, /*deltas=*/0, 0, &rng);
  ASSERT_GT(batch_.data().size(), WalWriter::kGrowStep);
  WAL_ASSERT_OK_AND_ASSIGN(uint64_t end, w->Append(batch_));
  WAL_ASSERT_OK(w->SyncTo(end));
  const uint64_t size = FileSize();
  EXPECT_GT(size, end);
  EXPECT_LT(size - end, WalWriter::kGrowStep);
  EXPECT_EQ((size - kMiB) % WalWriter::kGrowStep, 0u);
  EXPECT_EQ(env.bytes, batch_.data().size() + (size - end));
  EXPECT_LE(env.largest, WalWriter::kWritePiece);
  w.reset();

  const std::string file = sombra::test::ReadFileOrDie(path_);
  EXPECT_EQ(file.substr(kWalHeaderSize, end - kWalHeaderSize), batch_.data());
  EXPECT_EQ(file.substr(end), std::string(size - end, '\0'));
  test::Scan scan = test::ScanLog(path_);
  EXPECT_EQ(scan.commit_lsns, std::vector<uint64_t>{1});
  EXPECT_EQ(scan.stop, StopReason::kEndOfLog);
}

// A batch written in pieces loses only itself when one piece fails, and a
// grow whose zeros fail writes no byte of the batch: either way the append
// is the sticky error and the log reads back to the commit before it.
TEST_F(WalWriterTest, AFailedPieceOrGrowthLosesOnlyThatBatch) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  for (const bool grow : {false, true}) {
    SCOPED_TRACE(grow ? "the grow's zeros fail" : "the third piece of the batch fails");
    ASSERT_TRUE(Env::Default()->RemoveFile(path_).ok() || !Env::Default()->FileExists(path_));
    FaultInjectionEnv env(Env::Default());
    const uint64_t prealloc = grow ? kMiB : 8 * kMiB;
    auto w = OpenWriter(&env, 1, 1, prealloc);
    ASSERT_NE(w, nullptr);
    BuildSmallTxn(w.get(), 1, 0);
    WAL_ASSERT_OK_AND_ASSIGN(uint64_t end1, w->Append(batch_));
    WAL_ASSERT_OK(w->SyncTo(end1));

    batch_.Reset(w->last_checksum());
    test::AddTxn(&batch_, 2, /*images=*/grow ? 3000 : 300, /*deltas=*/0, 1, &rng);
    ASSERT_GT(batch_.data().size(), 3 * WalWriter::kWritePiece);
    ASSERT_EQ(end1 + batch_.data().size() > prealloc, grow);
    // Growing, the zeros behind the batch go first: the last of them fails.
    const uint64_t end = end1 + batch_.data().size();
    const uint64_t grown = prealloc + (end - prealloc + WalWriter::kGrowStep - 1) /
                                          WalWriter::kGrowStep * WalWriter::kGrowStep;
    const uint64_t zero_pieces =
        (grown - end + WalWriter::kWritePiece - 1) / WalWriter::kWritePiece;
    env.FailNext(Op::kWrite, ENOSPC, /*skip=*/grow ? zero_pieces - 1 : 2);
    auto failed = w->Append(batch_);
    ASSERT_FALSE(failed.ok());
    EXPECT_TRUE(failed.status().IsNoSpace()) << failed.status().ToString();
    EXPECT_EQ(w->written_offset(), end1);
    EXPECT_TRUE(w->SyncTo(end1).IsNoSpace());
    w.reset();

    if (grow) {  // nothing of the batch: zeros (or holes) after the first commit
      const std::string file = sombra::test::ReadFileOrDie(path_);
      EXPECT_EQ(file.substr(end1), std::string(file.size() - end1, '\0'));
    } else {
      EXPECT_EQ(FileSize(), prealloc);
    }
    test::Scan scan = test::ScanLog(path_);
    EXPECT_EQ(scan.commit_lsns, std::vector<uint64_t>{1});
    EXPECT_EQ(scan.stop, StopReason::kEndOfLog);
  }
}

TEST_F(WalWriterTest, OpenRejectsBadArgumentsAndPicksFreshSalts) {
  auto bad = [&](uint32_t page_size, uint64_t db_salt, uint64_t start_lsn) {
    return WalWriter::Open(Env::Default(), path_, page_size, db_salt, 1, start_lsn, WalBase{}, 0,
                           nullptr)
        .status()
        .IsInvalidArgument();
  };
  EXPECT_TRUE(bad(1000, 1, 1));
  EXPECT_TRUE(bad(4096, 0, 1));
  EXPECT_TRUE(bad(4096, 1, 0));
  auto a = OpenWriter(Env::Default(), 1, 1, 0);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(FileSize(), kWalHeaderSize);  // no preallocation asked
  const uint64_t salt = a->header().salt;
  a.reset();
  auto b = OpenWriter(Env::Default(), 2, 1, 0);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(b->header().salt, salt);
}

TEST_F(WalWriterTest, FailedSyncIsStickyAndItsBatchIsNotReplayed) {
  FaultInjectionEnv env(Env::Default());
  auto w = OpenWriter(&env);
  ASSERT_NE(w, nullptr);
  BuildSmallTxn(w.get(), 1, 0);
  WAL_ASSERT_OK_AND_ASSIGN(uint64_t end1, w->Append(batch_));
  WAL_ASSERT_OK(w->SyncTo(end1));
  BuildSmallTxn(w.get(), 2, 1);
  WAL_ASSERT_OK_AND_ASSIGN(uint64_t end2, w->Append(batch_));

  env.FailNext(Op::kSync, EIO);
  Status s = w->SyncTo(end2);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_EQ(s.sys_errno(), EIO);
  BuildSmallTxn(w.get(), 2, 1);
  auto again = w->Append(batch_);
  EXPECT_TRUE(again.status().IsIOError()) << again.status().ToString();
  EXPECT_EQ(again.status().sys_errno(), EIO);
  EXPECT_TRUE(w->SyncTo(end2).IsIOError());
  EXPECT_TRUE(w->SyncTo(end1).IsIOError());
  EXPECT_TRUE(w->Restart(2, 3, WalBase{}).IsIOError());
  EXPECT_TRUE(w->error().IsIOError());
  EXPECT_EQ(w->synced_offset(), end1);
  w.reset();

  // Reopened as is (the failed batch did reach the file) and after a power
  // loss: only transaction 1 is in the log.
  test::Scan scan = test::ScanLog(path_);
  EXPECT_EQ(scan.commit_lsns, std::vector<uint64_t>{1});
  EXPECT_EQ(scan.stop, StopReason::kEndOfLog);
  EXPECT_EQ(scan.stop_offset, end1);
  WAL_ASSERT_OK(env.Crash(CrashMode::kDropUnsynced));
  scan = test::ScanLog(path_);
  EXPECT_EQ(scan.commit_lsns, std::vector<uint64_t>{1});
}

TEST_F(WalWriterTest, FailedAppendIsStickyNoSpace) {
  FaultInjectionEnv env(Env::Default());
  auto w = OpenWriter(&env);
  ASSERT_NE(w, nullptr);
  BuildSmallTxn(w.get(), 1, 0);
  WAL_ASSERT_OK_AND_ASSIGN(uint64_t end1, w->Append(batch_));
  WAL_ASSERT_OK(w->SyncTo(end1));

  BuildSmallTxn(w.get(), 2, 1);
  env.FailNext(Op::kWrite, ENOSPC);
  auto failed = w->Append(batch_);
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(failed.status().IsNoSpace()) << failed.status().ToString();
  EXPECT_EQ(w->written_offset(), end1);
  auto again = w->Append(batch_);  // the disk has room again: still refused
  EXPECT_TRUE(again.status().IsNoSpace()) << again.status().ToString();
  EXPECT_TRUE(w->SyncTo(end1).IsNoSpace());
  w.reset();
  test::Scan scan = test::ScanLog(path_);
  EXPECT_EQ(scan.commit_lsns, std::vector<uint64_t>{1});
  EXPECT_EQ(scan.stop, StopReason::kEndOfLog);
}

}  // namespace
}  // namespace sombra::wal
