// Round trips of each record type through BatchBuilder and WalReader, and
// the checksum chain: records validate only in their place.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wal/wal_batch.h"
#include "wal/wal_reader.h"
#include "wal_test_util.h"

namespace sombra::wal {
namespace {

using test::U8;

class WalRecordTest : public ::testing::Test {
 protected:
  // Writes header(salt) + batches + zeros and opens a reader on it.
  void WriteLog(uint64_t salt, const std::string& records, uint64_t start_lsn = 1) {
    sombra::test::WriteFileOrDie(path_, test::HeaderBytes(test::TestHeader(salt, start_lsn)) +
                                            records + std::string(4096, '\0'));
    auto file = Env::Default()->OpenFile(path_, OpenMode::kReadOnly);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    file_ = std::move(file).value();
    reader_ = std::make_unique<WalReader>(file_.get());
    WAL_ASSERT_OK(reader_->Open());
  }

  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db-wal");
  std::unique_ptr<File> file_;
  std::unique_ptr<WalReader> reader_;
};

TEST_F(WalRecordTest, EachTypeRoundTrips) {
  const std::string plain = test::TestPage(1, true);
  const std::string squeezable = test::TestPage(2, true);
  const std::string noise = test::TestPage(3, false);
  const std::string b1 = "hello", b2 = std::string(300, 'z'), b3 = "!";
  const std::vector<DeltaRange> ranges = {{0, b1}, {5, b2}, {4095, b3}};
  CommitInfo first;
  first.lsn = 1;
  first.page_count = 10;
  CommitInfo info;
  info.txn_id = 77;
  info.lsn = 2;
  info.root = 9;
  info.freelist_head = 8;
  info.page_count = 12;
  info.freelist_count = 2;
  info.durable_lsn = 1;

  // Transaction 1 uncompressed, transaction 2 with compression on.
  BatchBuilder raw(test::kPageSize, /*compress=*/false);
  raw.Reset(1111);
  ASSERT_TRUE(raw.AddPageImage(7, 1, U8(plain)).ok());
  ASSERT_TRUE(raw.AddCommit(first).ok());
  BatchBuilder lz(test::kPageSize, /*compress=*/true);
  lz.Reset(raw.last_checksum());
  ASSERT_TRUE(lz.AddPageImage(8, 2, U8(squeezable)).ok());
  ASSERT_TRUE(lz.AddPageImage(9, 2, U8(noise)).ok());  // does not shrink: stored raw
  ASSERT_TRUE(lz.AddPageDelta(4, 1, 2, ranges).ok());
  ASSERT_TRUE(lz.AddCommit(info).ok());
  EXPECT_EQ(lz.image_records(), 2u);
  EXPECT_EQ(lz.delta_records(), 1u);
  EXPECT_EQ(lz.record_count(), 4u);
  EXPECT_GT(lz.compressed_bytes_saved(), 3000u);
  WriteLog(1111, std::string(raw.data()) + std::string(lz.data()));

  Record rec;
  ASSERT_TRUE(reader_->Next(&rec)) << reader_->stop_detail();
  EXPECT_EQ(rec.type, RecordType::kPageImage);
  EXPECT_EQ(rec.offset, kWalHeaderSize);
  EXPECT_EQ(rec.index, 0u);
  EXPECT_EQ(rec.length, kImageFixedSize + test::kPageSize);
  EXPECT_EQ(rec.page_no, 7u);
  EXPECT_EQ(rec.page_lsn, 1u);
  EXPECT_FALSE(rec.compressed);
  EXPECT_EQ(rec.page, plain);
  ASSERT_TRUE(reader_->Next(&rec)) << reader_->stop_detail();
  EXPECT_EQ(rec.type, RecordType::kCommit);
  EXPECT_EQ(rec.commit.record_count, 1u);
  EXPECT_EQ(reader_->committed_end_offset(), kWalHeaderSize + raw.data().size());
  uint64_t next = rec.offset + rec.size();

  ASSERT_TRUE(reader_->Next(&rec)) << reader_->stop_detail();
  EXPECT_EQ(rec.offset, next);
  EXPECT_EQ(rec.index, 2u);
  EXPECT_EQ(rec.page_no, 8u);
  EXPECT_EQ(rec.page_lsn, 2u);
  EXPECT_TRUE(rec.compressed);
  EXPECT_EQ(rec.flags, kFlagCompressed);
  EXPECT_LT(rec.length, test::kPageSize / 2);
  EXPECT_EQ(rec.page, squeezable);
  next = rec.offset + rec.size();

  ASSERT_TRUE(reader_->Next(&rec)) << reader_->stop_detail();
  EXPECT_EQ(rec.offset, next);
  EXPECT_EQ(rec.page_no, 9u);
  EXPECT_FALSE(rec.compressed);
  EXPECT_EQ(rec.page, noise);

  ASSERT_TRUE(reader_->Next(&rec)) << reader_->stop_detail();
  EXPECT_EQ(rec.type, RecordType::kPageDelta);
  EXPECT_EQ(rec.page_no, 4u);
  EXPECT_EQ(rec.base_lsn, 1u);
  EXPECT_EQ(rec.new_lsn, 2u);
  ASSERT_EQ(rec.ranges.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rec.ranges[i].offset, ranges[i].offset);
    EXPECT_EQ(rec.ranges[i].bytes, ranges[i].bytes);
  }

  ASSERT_TRUE(reader_->Next(&rec)) << reader_->stop_detail();
  EXPECT_EQ(rec.type, RecordType::kCommit);
  EXPECT_EQ(rec.index, 5u);
  EXPECT_EQ(rec.length, kCommitPayloadSizeTrees);
  EXPECT_EQ(rec.commit.txn_id, 77u);
  EXPECT_EQ(rec.commit.lsn, 2u);
  EXPECT_EQ(rec.commit.root, 9u);
  EXPECT_EQ(rec.commit.freelist_head, 8u);
  EXPECT_EQ(rec.commit.page_count, 12u);
  EXPECT_EQ(rec.commit.freelist_count, 2u);
  EXPECT_EQ(rec.commit.durable_lsn, 1u);
  EXPECT_EQ(rec.commit.record_count, 3u);
  EXPECT_EQ(rec.checksum, lz.last_checksum());

  EXPECT_FALSE(reader_->Next(&rec));
  EXPECT_EQ(reader_->stop_reason(), StopReason::kEndOfLog);
  EXPECT_EQ(reader_->stop_offset(), kWalHeaderSize + raw.data().size() + lz.data().size());
  EXPECT_EQ(reader_->stop_record_index(), 6u);
  EXPECT_EQ(reader_->committed_end_offset(), reader_->stop_offset());
  EXPECT_EQ(reader_->last_commit_lsn(), 2u);
  EXPECT_EQ(reader_->stop_txn_lsn(), 3u);
  EXPECT_FALSE(reader_->Next(&rec));  // stays stopped
}

TEST_F(WalRecordTest, ManyTransactionsInSequence) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  BatchBuilder b(test::kPageSize, true);
  std::string log;
  uint64_t seed = 4242;
  for (uint64_t lsn = 5; lsn < 25; ++lsn) {
    b.Reset(seed);
    test::AddTxn(&b, lsn, static_cast<int>(rng() % 3), static_cast<int>(rng() % 4), lsn - 1, &rng);
    log += b.data();
    seed = b.last_checksum();
  }
  WriteLog(4242, log, /*start_lsn=*/5);
  Record rec;
  std::vector<uint64_t> commits;
  while (reader_->Next(&rec)) {
    if (rec.type == RecordType::kCommit) commits.push_back(rec.commit.lsn);
  }
  EXPECT_EQ(reader_->stop_reason(), StopReason::kEndOfLog) << reader_->stop_detail();
  ASSERT_EQ(commits.size(), 20u);
  EXPECT_EQ(commits.front(), 5u);
  EXPECT_EQ(commits.back(), 24u);
}

// Builds `n` one-delta transactions from LSN 1 chained from `salt`.
std::string Records(uint64_t salt, int n, std::vector<uint64_t>* offsets) {
  BatchBuilder b(test::kPageSize, false);
  b.Reset(salt);
  std::string bytes(10, 'q');
  for (int i = 1; i <= n; ++i) {
    const std::vector<DeltaRange> ranges = {{static_cast<uint32_t>(i), bytes}};
    if (offsets != nullptr) offsets->push_back(kWalHeaderSize + b.data().size());
    EXPECT_TRUE(b.AddPageDelta(2, 0, i, ranges).ok());
    if (offsets != nullptr) offsets->push_back(kWalHeaderSize + b.data().size());
    CommitInfo c;
    c.lsn = i;
    c.page_count = 3;
    c.durable_lsn = i - 1;
    EXPECT_TRUE(b.AddCommit(c).ok());
  }
  return std::string(b.data());
}

TEST_F(WalRecordTest, RecordOfOlderGenerationDoesNotValidate) {
  // The same records at the same offsets, chained from another salt.
  const std::string old_gen = Records(/*salt=*/1, 3, nullptr);
  WriteLog(/*salt=*/2, old_gen);
  Record rec;
  EXPECT_FALSE(reader_->Next(&rec));
  EXPECT_EQ(reader_->stop_reason(), StopReason::kChecksumMismatch);
  EXPECT_EQ(reader_->stop_offset(), kWalHeaderSize);
  EXPECT_EQ(reader_->stop_record_index(), 0u);

  // New generation's first transaction, then the old generation's second
  // transaction at its own offset: stops there.
  std::vector<uint64_t> offsets;
  const std::string new_gen = Records(/*salt=*/2, 3, &offsets);
  WriteLog(2, new_gen.substr(0, offsets[2] - kWalHeaderSize) +
                  old_gen.substr(offsets[2] - kWalHeaderSize));
  ASSERT_TRUE(reader_->Next(&rec));
  ASSERT_TRUE(reader_->Next(&rec));
  EXPECT_FALSE(reader_->Next(&rec));
  EXPECT_EQ(reader_->stop_reason(), StopReason::kChecksumMismatch);
  EXPECT_EQ(reader_->stop_offset(), offsets[2]);
  EXPECT_EQ(reader_->stop_record_index(), 2u);
}

TEST_F(WalRecordTest, SwappedRecordsBreakTheChain) {
  std::vector<uint64_t> offsets;
  const std::string log = Records(7, 3, &offsets);
  // Swap transaction 2 (records 2, 3) and transaction 3 (records 4, 5):
  // the same sizes, each self-consistent, but out of place.
  const size_t t2 = offsets[2] - kWalHeaderSize, t3 = offsets[4] - kWalHeaderSize;
  const std::string swapped = log.substr(0, t2) + log.substr(t3) + log.substr(t2, t3 - t2);
  ASSERT_EQ(swapped.size(), log.size());
  WriteLog(7, swapped);
  Record rec;
  int valid = 0;
  while (reader_->Next(&rec)) ++valid;
  EXPECT_EQ(valid, 2);
  EXPECT_EQ(reader_->stop_reason(), StopReason::kChecksumMismatch);
  EXPECT_EQ(reader_->stop_offset(), offsets[2]);

  // Swapping two records within a transaction is caught the same way.
  const size_t d = offsets[0] - kWalHeaderSize, c = offsets[1] - kWalHeaderSize;
  const std::string inner = log.substr(c, t2 - c) + log.substr(d, c - d) + log.substr(t2);
  WriteLog(7, inner);
  EXPECT_FALSE(reader_->Next(&rec));
  EXPECT_EQ(reader_->stop_reason(), StopReason::kChecksumMismatch);
  EXPECT_EQ(reader_->stop_offset(), kWalHeaderSize);
}

}  // namespace
}  // namespace sombra::wal
