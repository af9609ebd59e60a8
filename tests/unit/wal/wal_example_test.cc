// The worked examples of docs/format/wal.md, byte for byte: if this test
// fails, the document (or the format) changed.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "wal/wal_batch.h"
#include "wal/wal_format.h"
#include "wal/wal_page_ops.h"
#include "wal_test_util.h"

namespace sombra::wal {
namespace {

std::string Hex(std::string_view bytes) {
  std::string out;
  char buf[4];
  for (unsigned char c : bytes) {
    std::snprintf(buf, sizeof(buf), "%02x ", c);
    out += buf;
  }
  if (!out.empty()) out.pop_back();
  return out;
}

// The examples of format 2 (format-2 logs are still read).
WalHeader ExampleHeader() {
  WalHeader h;
  h.version = kWalFormatVersion;
  h.page_size = 4096;
  h.salt = 0x0123456789abcdefull;
  h.generation = 3;
  h.db_salt = 0x5eed5a17db000001ull;
  h.start_lsn = 8;
  h.base.root = 5;
  h.base.page_count = 6;
  h.base.checkpoint_seq = 4;
  return h;
}

// The commit of transaction LSN 8 on root 5 in 6 pages.
CommitInfo SmallTxnCommit() {
  return CommitInfo{.txn_id = 12, .lsn = 8, .root = 5, .page_count = 6, .durable_lsn = 7};
}

// The small transaction: one delta of page 5 and the commit, LSN 8.
void AddSmallTxn(BatchBuilder* b) {
  const std::string count("\x0a\x00", 2);
  const std::string record(
      "\x03\x02"
      "catV1",
      7);
  const std::vector<DeltaRange> ranges = {{28, count}, {4089, record}};
  ASSERT_TRUE(b->AddPageDelta(5, 6, 8, ranges).ok());
  ASSERT_TRUE(b->AddCommit(SmallTxnCommit()).ok());
}

std::string ExamplePage(uint8_t page_no) {
  std::string page(4096, '\0');
  page[0] = 3;  // leaf
  page[4] = static_cast<char>(page_no);
  page[8] = 9;  // page LSN
  return page;
}

// The split: images of pages 5 and 6, a delta of parent 3, the commit, LSN 9.
void AddSplitTxn(BatchBuilder* b) {
  const std::string left = ExamplePage(5);
  const std::string right = ExamplePage(6);
  ASSERT_TRUE(b->AddPageImage(5, 9, test::U8(left)).ok());
  ASSERT_TRUE(b->AddPageImage(6, 9, test::U8(right)).ok());
  const std::string count("\x02\x00", 2);
  const std::string separator(
      "\x06\x00\x00\x00"
      "dog",
      7);
  const std::vector<DeltaRange> ranges = {{28, count}, {4080, separator}};
  ASSERT_TRUE(b->AddPageDelta(3, 4, 9, ranges).ok());
  ASSERT_TRUE(
      b->AddCommit(CommitInfo{.txn_id = 13, .lsn = 9, .root = 3, .page_count = 7, .durable_lsn = 8})
          .ok());
}

class WalExampleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    header_ = test::HeaderBytes(ExampleHeader());
    BatchBuilder small(4096, false);
    small.Reset(ExampleHeader().salt);
    small.set_log_version(kWalFormatVersion);
    AddSmallTxn(&small);
    small_ = std::string(small.data());
    small_last_ = small.last_checksum();
    BatchBuilder split(4096, false);
    split.Reset(small_last_);
    split.set_log_version(kWalFormatVersion);
    AddSplitTxn(&split);
    split_ = std::string(split.data());
    split_last_ = split.last_checksum();
  }

  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db-wal");
  std::string header_, small_, split_;
  uint64_t small_last_ = 0, split_last_ = 0;
};

TEST_F(WalExampleTest, HeaderBytes) {
  EXPECT_EQ(Hex(header_),
            "53 4f 4d 42 52 57 41 4c 02 00 00 00 00 10 00 00 "
            "ef cd ab 89 67 45 23 01 03 00 00 00 00 00 00 00 "
            "01 00 00 db 17 5a ed 5e 08 00 00 00 00 00 00 00 "
            "05 00 00 00 00 00 00 00 06 00 00 00 00 00 00 00 "
            "00 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00 "
            "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
            "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
            "00 00 00 00 00 00 00 00 65 4d f9 50 ce 1a e0 f7");
}

TEST_F(WalExampleTest, SmallTransactionBytes) {
  EXPECT_EQ(small_.size(), 119u);
  EXPECT_EQ(Hex(small_),
            // delta at 0x40
            "02 00 00 00 23 00 00 00 65 f8 cf e5 cc a4 08 5c "
            "05 00 00 00 06 00 00 00 00 00 00 00 08 00 00 00 00 00 00 00 "
            "02 1c 02 0a 00 f9 1f 07 03 02 63 61 74 56 31 "
            // commit at 0x73
            "03 00 00 00 34 00 00 00 13 9d ea 3b 8e 2e 41 08 "
            "0c 00 00 00 00 00 00 00 08 00 00 00 00 00 00 00 05 00 00 00 00 00 00 00 "
            "06 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 "
            "01 00 00 00");
  EXPECT_EQ(small_last_, 0x08412e8e3bea9d13ull);
}

TEST_F(WalExampleTest, SplitTransactionLayout) {
  ASSERT_EQ(split_.size(), 8367u);
  const uint64_t base = 0xf7;
  auto at = [&](uint64_t file_offset, size_t n) {
    return Hex(std::string_view(split_).substr(file_offset - base, n));
  };
  EXPECT_EQ(at(0x00f7, 28),
            "01 00 00 00 0c 10 00 00 34 ef eb c6 33 45 19 c4 05 00 00 00 09 00 00 00 00 00 00 00");
  EXPECT_EQ(at(0x0113, 10), "03 00 00 00 05 00 00 00 09 00");
  EXPECT_EQ(at(0x1113, 28),
            "01 00 00 00 0c 10 00 00 a2 c0 cb e1 26 99 40 0b 06 00 00 00 09 00 00 00 00 00 00 00");
  EXPECT_EQ(at(0x212f, 51),
            "02 00 00 00 23 00 00 00 d8 b6 9e b3 e0 58 44 8f 03 00 00 00 "
            "04 00 00 00 00 00 00 00 09 00 00 00 00 00 00 00 02 1c 02 02 00 "
            "f0 1f 07 06 00 00 00 64 6f 67");
  EXPECT_EQ(at(0x2162, 16), "03 00 00 00 34 00 00 00 e7 2c 3b cd 7c eb e8 b3");
  EXPECT_EQ(at(0x21a2, 4), "03 00 00 00");
  EXPECT_EQ(split_last_, 0xb3e8eb7ccd3b2ce7ull);
}

TEST_F(WalExampleTest, ReadBackTornAndDamaged) {
  // Clean: 6 records, end of log at 0x21a6.
  sombra::test::WriteFileOrDie(path_, header_ + small_ + split_ + std::string(8192, '\0'));
  test::Scan scan = test::ScanLog(path_);
  ASSERT_TRUE(scan.open_status.ok()) << scan.open_status.ToString();
  EXPECT_EQ(scan.records.size(), 6u);
  EXPECT_EQ(scan.stop, StopReason::kEndOfLog);
  EXPECT_EQ(scan.stop_offset, 0x21a6u);
  EXPECT_EQ(scan.commit_lsns, (std::vector<uint64_t>{8, 9}));

  // Torn before sync: the sector 0x2000-0x21ff reads as zeros (the end of
  // page 6's image, zeros anyway, the delta and the commit).
  test::PatchFile(path_, 0x2000, std::string(512, '\0'));
  scan = test::ScanLog(path_);
  EXPECT_EQ(scan.stop, StopReason::kEndOfLog);
  EXPECT_EQ(scan.stop_offset, 0x212fu);
  EXPECT_EQ(scan.stop_index, 4u);
  EXPECT_EQ(scan.committed_end, 0xf7u);
  EXPECT_FALSE(scan.probe.stop_was_durable);

  // Damaged after sync, with transaction 10 (durable LSN 9) written later.
  BatchBuilder next(4096, false);
  next.Reset(split_last_);
  next.set_log_version(kWalFormatVersion);
  std::mt19937_64 rng(3);
  test::AddTxn(&next, 10, 0, 1, 9, &rng);
  std::string log = header_ + small_ + split_ + std::string(next.data()) + std::string(4096, '\0');
  log[0x2140] ^= 0x40;
  sombra::test::WriteFileOrDie(path_, log);
  scan = test::ScanLog(path_);
  EXPECT_EQ(scan.stop, StopReason::kChecksumMismatch);
  EXPECT_EQ(scan.stop_offset, 0x212fu);
  EXPECT_EQ(scan.stop_index, 4u);
  EXPECT_EQ(scan.stop_txn_lsn, 9u);
  EXPECT_TRUE(scan.probe.stop_was_durable);
  EXPECT_EQ(scan.probe.max_durable_lsn, std::optional<uint64_t>(9));
  EXPECT_EQ(scan.probe.first_commit_lsn, std::optional<uint64_t>(9));
}

// The page-ops example: "cow" -> "moo" inserted into leaf page 5, which
// holds "cat" -> "meow" (slot 0) under the high fence "dog": the record
// written at the gap, slot 0 moved down one slot, the new slot 1, the
// header fields (count, free_start, free_end) in one write.
std::string OpsExampleBefore() {
  std::string page(4096, '\0');
  const std::string header(
      "\x03\x00\x00\x00\x05\x00\x00\x00"  // kind 3, page 5
      "\x06\x00\x00\x00\x00\x00\x00\x00"  // page LSN 6
      "\x00\x00\x00\x00\x00\x00\x00\x00"  // checksum (the pager's)
      "\x01\x00\x00\x00"                  // 1 slot, level 0
      "\x40\x00\x00\x00"                  // free_start 64
      "\xfa\x0f\x00\x00"                  // free_end 4090
      "\x00\x00\x00\x00"                  // hole_bytes 0
      "\x00\x00\x00\x00\x00\x00\x00\x00"  // no siblings
      "\x00\x00\x03\x00"                  // fences: low 0, high 3 bytes
      "dog"
      "\x03\x08"
      "catmeow",
      64);
  page.replace(0, header.size(), header);
  page.replace(4090, 6, std::string("\x37\x00\x74\x61\x63\xff", 6));  // slot 0
  return page;
}

std::string OpsExampleOps() {
  std::string ops;
  AppendWriteOp(&ops, 64,
                std::string("\x03\x06"
                            "cabmoo",
                            8));
  AppendMoveOp(&ops, 4090, 4084, 6);
  AppendWriteOp(&ops, 4090, std::string("\x40\x00\x62\x61\x63\xff", 6));
  AppendWriteOp(&ops, 24, std::string("\x02\x00\x00\x00\x48\x00\x00\x00\xf4\x0f\x00\x00", 12));
  return ops;
}

TEST(WalOpsExampleTest, RecordBytesAndReplay) {
  const std::string ops = OpsExampleOps();
  EXPECT_EQ(Hex(ops),
            "10 40 03 06 63 61 62 6d 6f 6f "
            "0d f4 1f fa 1f "
            "0c fa 1f 40 00 62 61 63 ff "
            "18 18 02 00 00 00 48 00 00 00 f4 0f 00 00");
  BatchBuilder b(4096, false);
  b.Reset(ExampleHeader().salt);
  b.set_log_version(kWalFormatVersionFileBase);  // a record of its own (formats 4 to 9)
  ASSERT_TRUE(b.AddPageOps(5, 6, 8, ops).ok());
  const std::string record(b.data());
  ASSERT_EQ(record.size(), 74u);
  EXPECT_EQ(Hex(record),
            "04 00 00 00 3a 00 00 00 bf fc 3e fe e7 51 80 24 "
            "05 00 00 00 06 00 00 00 00 00 00 00 08 00 00 00 00 00 00 00 " +
                Hex(ops));

  // Replayed on the page before, the ops give the page after the insert.
  std::string page = OpsExampleBefore();
  std::string why;
  ASSERT_TRUE(CheckPageOps(ops, 4096, &why)) << why;
  ASSERT_TRUE(ApplyPageOps(ops, 4096, reinterpret_cast<uint8_t*>(page.data()), nullptr));
  EXPECT_EQ(Hex(page.substr(24, 12)), "02 00 00 00 48 00 00 00 f4 0f 00 00");
  EXPECT_EQ(page.substr(55, 17), std::string("\x03\x08"
                                             "catmeow\x03\x06"
                                             "cabmoo",
                                             17));
  EXPECT_EQ(Hex(page.substr(4084, 12)), "37 00 74 61 63 ff 40 00 62 61 63 ff");
  // The same insert as a delta: three ranges, 12 + 8 + 12 bytes.
  const std::vector<DeltaRange> ranges = {{24, std::string_view(page).substr(24, 12)},
                                          {64, std::string_view(page).substr(64, 8)},
                                          {4084, std::string_view(page).substr(4084, 12)}};
  BatchBuilder d(4096, false);
  d.Reset(ExampleHeader().salt);
  ASSERT_TRUE(d.AddPageDelta(5, 6, 8, ranges).ok());
  EXPECT_EQ(d.data().size(), 16u + 20u + 1u + (2u + 12u) + (2u + 8u) + (3u + 12u));  // 76
}

// The ops of page 5 above and of page 7 (base LSN 3: its count at 28
// becomes 10) in one ops group, as a log of format 10 holds them
// (docs/format/wal.md, "Worked examples"), compression off; the reader
// returns them as two page-ops records, then the commit.
TEST(WalOpsExampleTest, GroupBytesAndReading) {
  std::string ops7;
  AppendWriteOp(&ops7, 28, std::string("\x0a\x00", 2));
  BatchBuilder b(4096, false);
  b.Reset(ExampleHeader().salt);
  ASSERT_EQ(b.log_version(), kWalNewestFormatVersion);
  ASSERT_TRUE(b.AddPageOps(5, 6, 8, OpsExampleOps()).ok());
  ASSERT_TRUE(b.AddPageOps(7, 3, 8, ops7).ok());
  ASSERT_TRUE(b.AddCommit(SmallTxnCommit()).ok());
  EXPECT_EQ(b.ops_records(), 2u);
  EXPECT_EQ(b.group_records(), 1u);
  const std::string batch(b.data());
  ASSERT_EQ(batch.size(), 74u + 16u + kCommitPayloadSizeTrees);
  EXPECT_EQ(Hex(batch.substr(0, 74)),
            "05 00 00 00 3a 00 00 00 36 64 1b fc 8f 01 0b e4 "
            "08 00 00 00 00 00 00 00 02 30 "
            "05 02 26 " +
                Hex(OpsExampleOps()) + " 02 05 04 04 1c 0a 00");
  EXPECT_EQ(batch[74], 3) << "the commit record follows the group";
  EXPECT_EQ(DecodeFixed32(reinterpret_cast<const uint8_t*>(batch.data()) + 74 + 16 + 48), 1u)
      << "the group is one record of the transaction";

  WalHeader h = ExampleHeader();
  h.version = kWalFormatVersionGroups;
  sombra::test::TempDir dir;
  const std::string path = dir.File("db-wal");
  sombra::test::WriteFileOrDie(path, test::HeaderBytes(h) + batch + std::string(4096, '\0'));
  auto file = Env::Default()->OpenFile(path, OpenMode::kReadOnly);
  ASSERT_TRUE(file.ok());
  WalReader reader(file->get());
  ASSERT_TRUE(reader.Open().ok());
  Record rec;
  ASSERT_TRUE(reader.Next(&rec));
  EXPECT_EQ(rec.type, RecordType::kPageOps);
  EXPECT_EQ(rec.page_no, 5u);
  EXPECT_EQ(rec.base_lsn, 6u);
  EXPECT_EQ(rec.new_lsn, 8u);
  EXPECT_EQ(rec.ops, OpsExampleOps());
  EXPECT_EQ(rec.offset, kWalHeaderSize);
  EXPECT_EQ(rec.index, 0u);
  EXPECT_EQ(rec.group_entry, 0u);
  EXPECT_EQ(rec.group_entries, 2u);
  EXPECT_EQ(reader.valid_end_offset(), kWalHeaderSize + 74);
  ASSERT_TRUE(reader.Next(&rec));
  EXPECT_EQ(rec.type, RecordType::kPageOps);
  EXPECT_EQ(rec.page_no, 7u);
  EXPECT_EQ(rec.base_lsn, 3u);
  EXPECT_EQ(rec.ops, ops7);
  EXPECT_EQ(rec.index, 0u);
  EXPECT_EQ(rec.group_entry, 1u);
  ASSERT_TRUE(reader.Next(&rec));
  EXPECT_EQ(rec.type, RecordType::kCommit);
  EXPECT_EQ(rec.index, 1u);
  EXPECT_EQ(rec.commit.record_count, 1u);
  EXPECT_FALSE(reader.Next(&rec));
  EXPECT_EQ(reader.stop_reason(), StopReason::kEndOfLog);

  // In a log of format 8 or 9 a group is a bad type (rule R2): the build
  // before groups would refuse the log as newer, never meet one there.
  h.version = kWalFormatVersionFileBase;
  sombra::test::WriteFileOrDie(path, test::HeaderBytes(h) + batch + std::string(4096, '\0'));
  test::Scan scan = test::ScanLog(path);
  ASSERT_TRUE(scan.open_status.ok()) << scan.open_status.ToString();
  EXPECT_EQ(scan.stop, StopReason::kBadType);
  EXPECT_EQ(scan.records.size(), 0u);
  EXPECT_NE(scan.stop_detail.find("formats 10 to 13 only"), std::string::npos) << scan.stop_detail;
}

// Page-op records are refused in a log of format 2 or 3 (rule R2): an older
// build wrote none, and a reader must not take one there.
TEST(WalOpsExampleTest, OpsRecordInAFormatTwoLogIsABadType) {
  sombra::test::TempDir dir;
  const std::string path = dir.File("db-wal");
  for (uint32_t version : {kWalFormatVersion, kWalFormatVersionOps, kWalFormatVersionTrees}) {
    WalHeader h = ExampleHeader();
    h.version = version;
    BatchBuilder b(4096, false);
    b.Reset(h.salt);
    b.set_log_version(version);
    ASSERT_TRUE(b.AddPageOps(5, 6, 8, OpsExampleOps()).ok());
    ASSERT_TRUE(b.AddCommit(SmallTxnCommit()).ok());
    sombra::test::WriteFileOrDie(
        path, test::HeaderBytes(h) + std::string(b.data()) + std::string(4096, '\0'));
    test::Scan scan = test::ScanLog(path);
    ASSERT_TRUE(scan.open_status.ok()) << scan.open_status.ToString();
    if (version == kWalFormatVersion) {
      EXPECT_EQ(scan.stop, StopReason::kBadType);
      EXPECT_EQ(scan.records.size(), 0u);
    } else {
      EXPECT_EQ(scan.stop, StopReason::kEndOfLog);
      EXPECT_EQ(scan.commit_lsns, (std::vector<uint64_t>{8}));
    }
  }
}

}  // namespace
}  // namespace sombra::wal
