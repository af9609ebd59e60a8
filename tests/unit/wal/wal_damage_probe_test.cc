// WalReader::ProbePastStop: damage to a synced transaction is told apart
// from a torn tail (docs/format/wal.md, "Telling damage from a torn tail").
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wal/wal_batch.h"
#include "wal/wal_reader.h"
#include "wal_test_util.h"

namespace sombra::wal {
namespace {

// A log of transactions start_lsn.. (one delta + commit each, all the same
// size) whose commits carry the given durable LSNs.
struct Log {
  std::string bytes;
  std::vector<uint64_t> txn_offsets;  // offset of each transaction's delta
  std::vector<uint64_t> commit_offsets;
};

Log MakeLog(uint64_t salt, uint64_t start_lsn, const std::vector<uint64_t>& durable) {
  Log log;
  log.bytes = test::HeaderBytes(test::TestHeader(salt, start_lsn));
  BatchBuilder b(test::kPageSize, false);
  b.Reset(salt);
  const std::string bytes(200, 'd');
  for (size_t i = 0; i < durable.size(); ++i) {
    const uint64_t lsn = start_lsn + i;
    const std::vector<DeltaRange> ranges = {{500, bytes}};
    log.txn_offsets.push_back(kWalHeaderSize + b.data().size());
    EXPECT_TRUE(b.AddPageDelta(7, lsn - 1, lsn, ranges).ok());
    log.commit_offsets.push_back(kWalHeaderSize + b.data().size());
    CommitInfo c;
    c.lsn = lsn;
    c.page_count = 9;
    c.durable_lsn = durable[i];
    EXPECT_TRUE(b.AddCommit(c).ok());
  }
  log.bytes += b.data();
  return log;
}

class WalProbeTest : public ::testing::Test {
 protected:
  test::Scan ScanBytes(const std::string& bytes) {
    sombra::test::WriteFileOrDie(path_, bytes + std::string(8192, '\0'));
    return test::ScanLog(path_);
  }

  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db-wal");
};

// Each transaction synced before the next was written: commit k carries
// durable LSN k-1.
const std::vector<uint64_t> kSyncedEach = {0, 1, 2, 3, 4, 5};

TEST_F(WalProbeTest, DamageToSyncedTransactionIsCorruption) {
  Log log = MakeLog(1, 1, kSyncedEach);
  log.bytes[log.txn_offsets[2] + 40] ^= 0x01;  // payload of transaction 3's delta
  test::Scan scan = ScanBytes(log.bytes);
  EXPECT_EQ(scan.stop, StopReason::kChecksumMismatch);
  EXPECT_EQ(scan.stop_offset, log.txn_offsets[2]);
  EXPECT_EQ(scan.stop_index, 4u);
  EXPECT_EQ(scan.stop_txn_lsn, 3u);
  EXPECT_EQ(scan.commit_lsns, (std::vector<uint64_t>{1, 2}));
  // Commit 3, then transactions 4-6 (two records each).
  EXPECT_EQ(scan.probe.records_found, 7u);
  EXPECT_EQ(scan.probe.commits_found, 4u);
  EXPECT_EQ(scan.probe.first_commit_lsn, std::optional<uint64_t>(3));
  EXPECT_EQ(scan.probe.max_durable_lsn, std::optional<uint64_t>(5));
  EXPECT_TRUE(scan.probe.stop_was_durable);
}

TEST_F(WalProbeTest, TornFinalTransactionIsNotCorruption) {
  Log log = MakeLog(1, 1, kSyncedEach);
  log.bytes[log.txn_offsets[5] + 40] ^= 0x01;  // the last transaction
  test::Scan scan = ScanBytes(log.bytes);
  EXPECT_EQ(scan.stop, StopReason::kChecksumMismatch);
  EXPECT_EQ(scan.stop_txn_lsn, 6u);
  EXPECT_EQ(scan.probe.commits_found, 1u);  // its own commit, durable LSN 5
  EXPECT_EQ(scan.probe.max_durable_lsn, std::optional<uint64_t>(5));
  EXPECT_FALSE(scan.probe.stop_was_durable);
}

TEST_F(WalProbeTest, TornGroupOfUnsyncedTransactionsIsNotCorruption) {
  // Transactions 4-6 were written while 3 was the last durable LSN.
  Log log = MakeLog(1, 1, {0, 1, 2, 3, 3, 3});
  log.bytes[log.txn_offsets[3] + 40] ^= 0x01;
  test::Scan scan = ScanBytes(log.bytes);
  EXPECT_EQ(scan.stop_txn_lsn, 4u);
  EXPECT_EQ(scan.probe.commits_found, 3u);
  EXPECT_EQ(scan.probe.max_durable_lsn, std::optional<uint64_t>(3));
  EXPECT_FALSE(scan.probe.stop_was_durable);
}

TEST_F(WalProbeTest, DamagedChecksumFieldIsFollowedWithComputedSeed) {
  Log log = MakeLog(1, 1, kSyncedEach);
  log.bytes[log.commit_offsets[1] + kRecordChecksumOffset + 3] ^= 0x20;  // commit 2's checksum
  test::Scan scan = ScanBytes(log.bytes);
  EXPECT_EQ(scan.stop, StopReason::kChecksumMismatch);
  EXPECT_EQ(scan.stop_offset, log.commit_offsets[1]);
  EXPECT_EQ(scan.stop_txn_lsn, 2u);
  EXPECT_EQ(scan.probe.first_commit_lsn, std::optional<uint64_t>(3));
  EXPECT_TRUE(scan.probe.stop_was_durable);
}

TEST_F(WalProbeTest, DamagedTypeAndFlagsAreFollowedWithStoredLength) {
  for (size_t pos : {kRecordTypeOffset, kRecordFlagsOffset, kRecordReservedOffset}) {
    Log log = MakeLog(1, 1, kSyncedEach);
    log.bytes[log.txn_offsets[1] + pos] = static_cast<char>(0x40);
    test::Scan scan = ScanBytes(log.bytes);
    EXPECT_NE(scan.stop, StopReason::kChecksumMismatch) << pos;
    EXPECT_EQ(scan.stop_offset, log.txn_offsets[1]) << pos;
    EXPECT_TRUE(scan.probe.stop_was_durable) << pos << " " << scan.stop_detail;
    EXPECT_EQ(scan.probe.max_durable_lsn, std::optional<uint64_t>(5)) << pos;
  }
}

TEST_F(WalProbeTest, SeveralDamagedRecordsAreAllPassed) {
  Log log = MakeLog(1, 1, kSyncedEach);
  log.bytes[log.txn_offsets[1] + 40] ^= 0x01;
  log.bytes[log.commit_offsets[1] + 30] ^= 0x01;  // the next record too
  log.bytes[log.txn_offsets[3] + 50] ^= 0x01;
  test::Scan scan = ScanBytes(log.bytes);
  EXPECT_EQ(scan.stop_offset, log.txn_offsets[1]);
  EXPECT_TRUE(scan.probe.stop_was_durable);
  EXPECT_EQ(scan.probe.max_durable_lsn, std::optional<uint64_t>(5));
}

// A length damaged within its bounds puts the next record at the wrong
// place; the probe resynchronises on the framing and still finds the later
// commits that prove the damaged transaction durable.
TEST_F(WalProbeTest, DamagedLengthIsPassedByResynchronising) {
  Log log = MakeLog(1, 1, kSyncedEach);
  log.bytes[log.txn_offsets[1] + kRecordLengthOffset] ^= 0x02;
  test::Scan scan = ScanBytes(log.bytes);
  EXPECT_EQ(scan.stop, StopReason::kChecksumMismatch);
  EXPECT_EQ(scan.stop_offset, log.txn_offsets[1]);
  EXPECT_EQ(scan.probe.commits_found, 5u);
  EXPECT_EQ(scan.probe.max_durable_lsn, std::optional<uint64_t>(5));
  EXPECT_EQ(scan.probe.max_durable_offset, log.commit_offsets[5]);
  EXPECT_GE(scan.probe.resyncs, 1u);
  EXPECT_TRUE(scan.probe.stop_was_durable);
}

// Every bit of a commit record's length field (bounds: exactly 52) and of
// a delta's (large values pass the end of the file: kTruncated).
TEST_F(WalProbeTest, OutOfBoundsLengthDoesNotStopTheSearch) {
  for (int bit = 0; bit < 32; ++bit) {
    for (bool commit : {true, false}) {
      Log log = MakeLog(1, 1, kSyncedEach);
      const uint64_t at = commit ? log.commit_offsets[2] : log.txn_offsets[2];
      log.bytes[at + kRecordLengthOffset + bit / 8] ^= static_cast<char>(1 << (bit % 8));
      test::Scan scan = ScanBytes(log.bytes);
      const std::string what = (commit ? "commit" : "delta") + std::string(" bit ") +
                               std::to_string(bit) + ": " + scan.stop_detail;
      EXPECT_EQ(scan.stop_offset, at) << what;
      EXPECT_EQ(scan.stop_txn_lsn, 3u) << what;
      EXPECT_EQ(scan.probe.max_durable_lsn, std::optional<uint64_t>(5)) << what;
      EXPECT_TRUE(scan.probe.stop_was_durable) << what;
    }
  }
}

// The same damage in the last transaction, which no later commit records
// as durable: a torn tail, whatever the resynchronisation finds.
TEST_F(WalProbeTest, DamagedLengthOfTheLastTransactionIsATornTail) {
  for (int bit = 0; bit < 32; ++bit) {
    Log log = MakeLog(1, 1, kSyncedEach);
    log.bytes[log.commit_offsets[5] + kRecordLengthOffset + bit / 8] ^=
        static_cast<char>(1 << (bit % 8));
    test::Scan scan = ScanBytes(log.bytes);
    EXPECT_EQ(scan.stop_offset, log.commit_offsets[5]) << bit;
    EXPECT_FALSE(scan.probe.stop_was_durable) << bit << " " << scan.stop_detail;
  }
}

TEST_F(WalProbeTest, EndOfLogAndTruncationFindNothing) {
  Log log = MakeLog(1, 1, kSyncedEach);
  test::Scan scan = ScanBytes(log.bytes);
  EXPECT_EQ(scan.stop, StopReason::kEndOfLog);
  EXPECT_EQ(scan.probe.records_found, 0u);
  EXPECT_FALSE(scan.probe.max_durable_lsn.has_value());
  sombra::test::WriteFileOrDie(path_, log.bytes.substr(0, log.commit_offsets[5] + 20));
  scan = test::ScanLog(path_);
  EXPECT_EQ(scan.stop, StopReason::kTruncated);
  EXPECT_EQ(scan.probe.records_found, 0u);
}

TEST_F(WalProbeTest, OlderGenerationPastTheTailIsNotCorruption) {
  // Generation 1 (salt 1): LSNs 1-6, each synced. Checkpoint at 6, then
  // generation 2 (salt 2, start 7) overwrites the first two transactions'
  // places with LSNs 7-8 and crashes; LSNs 3-6 of generation 1 follow.
  const Log old_gen = MakeLog(1, 1, kSyncedEach);
  const Log new_gen = MakeLog(2, 7, {6, 7});
  std::string bytes = new_gen.bytes + old_gen.bytes.substr(new_gen.bytes.size());
  test::Scan scan = ScanBytes(bytes);
  EXPECT_EQ(scan.commit_lsns, (std::vector<uint64_t>{7, 8}));
  EXPECT_EQ(scan.stop, StopReason::kChecksumMismatch);
  EXPECT_EQ(scan.stop_offset, old_gen.txn_offsets[2]);
  EXPECT_EQ(scan.stop_txn_lsn, 9u);
  // The old chain validates among itself, but its first commit (LSN 3) is
  // below the stop's LSN 9: not this log's continuation.
  EXPECT_EQ(scan.probe.commits_found, 0u);
  EXPECT_FALSE(scan.probe.stop_was_durable);
}

// ---- A damaged header (WalReader::ProbeBehindDamagedHeader) ----

struct HeaderProbe {
  WalReader::ProbeResult probe;
  bool intact = false;
};

HeaderProbe ProbeHeader(const std::string& bytes, uint64_t first_missing_lsn) {
  test::StringFile file(bytes + std::string(8192, '\0'));
  WalReader reader(&file);
  HeaderProbe out;
  auto probe = reader.ProbeBehindDamagedHeader(test::kPageSize, first_missing_lsn, &out.intact);
  EXPECT_TRUE(probe.ok()) << probe.status().ToString();
  if (probe.ok()) out.probe = *probe;
  return out;
}

// Every byte of the header flipped in a log whose six synced transactions
// the page file lacks (its checkpoint LSN is 0): the header no longer
// validates, yet the records behind it prove the damage.
TEST_F(WalProbeTest, DamagedHeaderBeforeDurableTransactionsIsFound) {
  const Log log = MakeLog(0x1234567890abcdefull, 1, kSyncedEach);
  for (size_t i = 0; i < kWalHeaderSize; ++i) {
    std::string bytes = log.bytes;
    bytes[i] ^= 0x10;
    HeaderProbe h = ProbeHeader(bytes, 1);
    EXPECT_TRUE(h.probe.stop_was_durable) << "byte " << i;
    // The salt intact: the chain from offset 64 is whole.
    const bool salt_byte = i >= kWalSaltOffset && i < kWalSaltOffset + 8;
    EXPECT_EQ(h.intact, !salt_byte) << "byte " << i;
  }
}

// A restart torn by a crash: the records behind the header are the older
// generation's, all in the page file already (checkpoint LSN 6): no
// evidence, so "no log" stands.
TEST_F(WalProbeTest, TornRestartHeaderBeforeCheckpointedRecordsIsNoEvidence) {
  const Log log = MakeLog(0x1234567890abcdefull, 1, kSyncedEach);
  for (size_t i : {size_t{3}, kWalSaltOffset + 2, kWalStartLsnOffset, kWalHeaderChecksumOffset}) {
    std::string bytes = log.bytes;
    bytes[i] ^= 0x10;
    HeaderProbe h = ProbeHeader(bytes, 7);
    EXPECT_FALSE(h.probe.stop_was_durable) << "byte " << i;
    EXPECT_FALSE(h.intact) << "byte " << i;
    EXPECT_EQ(h.probe.commits_found, 0u) << "byte " << i;
  }
  // And a header with nothing behind it.
  std::string bytes = log.bytes.substr(0, kWalHeaderSize);
  bytes[20] ^= 0x10;
  HeaderProbe h = ProbeHeader(bytes, 1);
  EXPECT_FALSE(h.probe.stop_was_durable);
  EXPECT_FALSE(h.intact);
}

// One transaction only, not yet recorded durable by a later commit, behind
// a header whose salt is damaged: indistinguishable from a torn restart
// over a torn tail (the documented limit).
TEST_F(WalProbeTest, DamagedSaltBeforeASingleTransactionIsNoEvidence) {
  const Log log = MakeLog(0x1234567890abcdefull, 1, {0});
  std::string bytes = log.bytes;
  bytes[kWalSaltOffset + 1] ^= 0x10;
  HeaderProbe h = ProbeHeader(bytes, 1);
  EXPECT_FALSE(h.probe.stop_was_durable);
  EXPECT_FALSE(h.intact);
}

}  // namespace
}  // namespace sombra::wal
