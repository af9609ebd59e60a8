// Every kind of damage listed in docs/format/wal.md stops the reader with the
// documented reason, at the damaged record's offset and number.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "util/coding.h"
#include "wal/wal_batch.h"
#include "wal/wal_reader.h"
#include "wal_test_util.h"

namespace sombra::wal {
namespace {

constexpr uint64_t kSalt = 0xD00DFEED;

class WalDamageTest : public ::testing::Test {
 protected:
  // Three transactions: [compressed image, delta, commit], [raw image,
  // delta, commit], [delta, commit]. Records 0..7.
  void SetUp() override {
    BatchBuilder b(test::kPageSize, true);
    b.Reset(kSalt);
    std::mt19937_64 rng(11);
    const std::string squeezable = test::TestPage(1, true);
    const std::string noise = test::TestPage(2, false);
    ASSERT_TRUE(b.AddPageImage(10, 1, test::U8(squeezable)).ok());
    AddDeltaAndCommit(&b, 1);
    ASSERT_TRUE(b.AddPageImage(11, 2, test::U8(noise)).ok());
    AddDeltaAndCommit(&b, 2);
    AddDeltaAndCommit(&b, 3);
    log_ = test::HeaderBytes(test::TestHeader(kSalt)) + std::string(b.data());
    sombra::test::WriteFileOrDie(path_, log_ + std::string(4096, '\0'));
    test::Scan scan = test::ScanLog(path_);
    ASSERT_EQ(scan.stop, StopReason::kEndOfLog) << scan.stop_detail;
    recs_ = scan.records;
    ASSERT_EQ(recs_.size(), 8u);
    ASSERT_EQ(recs_[1].type, RecordType::kPageDelta);
    ASSERT_EQ(recs_[2].type, RecordType::kCommit);
    ASSERT_EQ(recs_[3].size, kRecordHeaderSize + kImageFixedSize + test::kPageSize);
    ASSERT_LT(recs_[0].size, recs_[3].size / 2);
  }

  static void AddDeltaAndCommit(BatchBuilder* b, uint64_t lsn) {
    const std::string bytes = "0123456789";
    const std::vector<DeltaRange> ranges = {{100, bytes}, {2000, bytes}};
    ASSERT_TRUE(b->AddPageDelta(20, lsn - 1, lsn, ranges).ok());
    CommitInfo c;
    c.lsn = lsn;
    c.page_count = 50;
    c.durable_lsn = lsn - 1;
    ASSERT_TRUE(b->AddCommit(c).ok());
  }

  // Writes `log` (plus trailing zeros unless `exact`) and scans it.
  test::Scan ScanBytes(const std::string& log, bool exact = false) {
    sombra::test::WriteFileOrDie(path_, exact ? log : log + std::string(4096, '\0'));
    return test::ScanLog(path_);
  }

  // The log with byte `pos` of record `index` replaced by `f(old byte)`.
  std::string Damaged(size_t index, size_t pos, const std::function<uint8_t(uint8_t)>& f) {
    std::string log = log_;
    char& c = log[recs_[index].offset + pos];
    c = static_cast<char>(f(static_cast<uint8_t>(c)));
    return log;
  }

  void ExpectStop(const test::Scan& scan, StopReason reason, size_t index,
                  const std::string& what) {
    EXPECT_EQ(scan.stop, reason) << what << ": " << StopReasonName(scan.stop) << " "
                                 << scan.stop_detail;
    EXPECT_EQ(scan.stop_index, index) << what;
    EXPECT_EQ(scan.stop_offset, recs_[index].offset) << what;
    EXPECT_EQ(scan.records.size(), index) << what;
    EXPECT_NE(scan.stop_detail.find("record " + std::to_string(index) + " at offset " +
                                    std::to_string(recs_[index].offset)),
              std::string::npos)
        << scan.stop_detail;
  }

  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db-wal");
  std::string log_;
  std::vector<test::SeenRecord> recs_;
};

TEST_F(WalDamageTest, HeaderFieldDamage) {
  auto set = [](uint8_t v) { return [v](uint8_t) { return v; }; };
  auto flip = [](uint8_t mask) {
    return [mask](uint8_t b) { return static_cast<uint8_t>(b ^ mask); };
  };
  struct Case {
    const char* what;
    size_t index;
    size_t pos;
    std::function<uint8_t(uint8_t)> f;
    StopReason reason;
  };
  const std::vector<Case> cases = {
      {"type 7 on an image", 0, 0, set(7), StopReason::kBadType},
      {"type 0 on a delta", 1, 0, set(0), StopReason::kBadType},
      {"type 255 on a commit", 5, 0, set(255), StopReason::kBadType},
      {"image flag bit 1", 3, 1, set(0x02), StopReason::kBadFlags},
      {"delta with the compressed flag", 4, 1, set(0x01), StopReason::kBadFlags},
      {"commit flag bit 7", 2, 1, set(0x80), StopReason::kBadFlags},
      {"reserved low byte", 1, 2, set(0x01), StopReason::kBadFlags},
      {"reserved high byte", 6, 3, set(0x10), StopReason::kBadFlags},
      {"length high byte", 1, 7, set(0x01), StopReason::kBadLength},
      {"commit length 53", 2, 4, set(53), StopReason::kBadLength},
      {"raw image length + 1", 3, 4, flip(0x01), StopReason::kBadLength},
      {"image type on a commit", 2, 0, set(1), StopReason::kBadLength},
      {"clearing the compressed flag", 0, 1, set(0), StopReason::kBadLength},
      {"delta length +- 1 (within bounds)", 4, 4, flip(0x01), StopReason::kChecksumMismatch},
      {"checksum byte", 4, 8, flip(0x01), StopReason::kChecksumMismatch},
      {"checksum last byte", 7, 15, flip(0x80), StopReason::kChecksumMismatch},
      {"delta type on a raw image", 3, 0, set(2), StopReason::kChecksumMismatch},
  };
  for (const Case& c : cases) {
    ExpectStop(ScanBytes(Damaged(c.index, c.pos, c.f)), c.reason, c.index, c.what);
  }
}

TEST_F(WalDamageTest, PayloadDamageIsAChecksumMismatch) {
  auto flip = [](uint8_t b) { return static_cast<uint8_t>(b ^ 0x04); };
  const struct {
    const char* what;
    size_t index;
    size_t pos;
  } cases[] = {
      {"compressed image: page number", 0, 16},
      {"compressed image: lz4 block", 0, 30},
      {"raw image: page LSN", 3, 20},
      {"raw image: last page byte", 3, 16 + 12 + 4095},
      {"delta: base LSN", 1, 20},
      {"delta: range count", 1, 36},
      {"delta: range bytes", 4, 42},
      {"commit: LSN", 5, 24},
      {"commit: record count", 7, 16 + 48},
  };
  for (const auto& c : cases) {
    ExpectStop(ScanBytes(Damaged(c.index, c.pos, flip)), StopReason::kChecksumMismatch, c.index,
               c.what);
  }
}

TEST_F(WalDamageTest, TruncationAndEndOfLog) {
  // Mid-header: 5 bytes of record 4's header remain.
  ExpectStop(ScanBytes(log_.substr(0, recs_[4].offset + 5), true), StopReason::kTruncated, 4,
             "mid-header");
  // Mid-payload of the raw image and of a commit.
  ExpectStop(ScanBytes(log_.substr(0, recs_[3].offset + 100), true), StopReason::kTruncated, 3,
             "mid-image");
  ExpectStop(ScanBytes(log_.substr(0, recs_[7].offset + 40), true), StopReason::kTruncated, 7,
             "mid-commit");
  // Exactly at a record boundary, with or without a few zero bytes after.
  ExpectStop(ScanBytes(log_.substr(0, recs_[5].offset), true), StopReason::kEndOfLog, 5,
             "file end at boundary");
  ExpectStop(ScanBytes(log_.substr(0, recs_[5].offset) + std::string(7, '\0'), true),
             StopReason::kEndOfLog, 5, "7 zero bytes");
  // A zeroed header in the middle reads as the end of the log.
  std::string zeroed = log_;
  zeroed.replace(recs_[6].offset, kRecordHeaderSize, kRecordHeaderSize, '\0');
  test::Scan scan = ScanBytes(zeroed);
  ExpectStop(scan, StopReason::kEndOfLog, 6, "zeroed header");
  EXPECT_EQ(scan.probe.records_found, 0u);
}

// Record bytes with a valid checksum chained from `seed`.
std::string Sealed(RecordType type, uint8_t flags, const std::string& payload, uint64_t seed) {
  std::string rec(kRecordHeaderSize, '\0');
  RecordHeader h;
  h.type = static_cast<uint8_t>(type);
  h.flags = flags;
  h.length = static_cast<uint32_t>(payload.size());
  auto* p = reinterpret_cast<uint8_t*>(rec.data());
  EncodeRecordHeader(h, p);
  EncodeFixed64(p + kRecordChecksumOffset,
                RecordChecksum(p, test::U8(payload), payload.size(), seed));
  return rec + payload;
}

std::string ImagePayload(uint32_t page_no, uint64_t lsn, const std::string& data) {
  std::string out;
  PutFixed32(&out, page_no);
  PutFixed64(&out, lsn);
  return out + data;
}

std::string DeltaPayload(uint32_t page_no, uint64_t base, uint64_t lsn,
                         const std::vector<std::pair<uint32_t, uint32_t>>& ranges,
                         const std::string& trailer = "") {
  std::string out;
  PutFixed32(&out, page_no);
  PutFixed64(&out, base);
  PutFixed64(&out, lsn);
  PutVarint32(&out, static_cast<uint32_t>(ranges.size()));
  for (auto [off, len] : ranges) {
    PutVarint32(&out, off);
    PutVarint32(&out, len);
    out += std::string(len, 'r');
  }
  return out + trailer;
}

std::string CommitPayload(CommitInfo c) {
  std::string out(kCommitPayloadSizeTrees, '\0');
  EncodeCommitPayload(c, reinterpret_cast<uint8_t*>(out.data()), kWalNewestFormatVersion);
  return out;
}

TEST_F(WalDamageTest, SealedButInconsistentPayloadIsBadPayload) {
  // Appended after transaction 1 (records 0-2): LSN 2 is in progress.
  const std::string prefix = log_.substr(0, recs_[3].offset);
  test::Scan clean = ScanBytes(prefix);
  ASSERT_EQ(clean.records.size(), 3u);
  // The seed after record 2 is its checksum: rebuild it from the log.
  const uint64_t seed = DecodeFixed64(test::U8(log_) + recs_[2].offset + kRecordChecksumOffset);
  CommitInfo ok;
  ok.lsn = 2;
  ok.page_count = 50;
  ok.durable_lsn = 1;
  CommitInfo bad_durable = ok, bad_lsn = ok, bad_count = ok, bad_root = ok;
  bad_durable.durable_lsn = 2;
  bad_lsn.lsn = 3;
  bad_count.record_count = 4;
  bad_root.root = 50;
  const std::string page(test::kPageSize, 'p');
  const struct {
    const char* what;
    std::string rec;
    const char* detail;
  } cases[] = {
      {"I1 meta page image", Sealed(RecordType::kPageImage, 0, ImagePayload(1, 2, page), seed),
       "meta pages"},
      {"I2 bad lz4 block",
       Sealed(RecordType::kPageImage, kFlagCompressed, ImagePayload(12, 2, "\xff\xff\xff"), seed),
       "lz4"},
      {"I2 lz4 block of the wrong size",
       Sealed(RecordType::kPageImage, kFlagCompressed, ImagePayload(12, 2, "\x10xyz\x00"), seed),
       "lz4"},
      {"D1 base == new", Sealed(RecordType::kPageDelta, 0, DeltaPayload(5, 2, 2, {{0, 1}}), seed),
       "base LSN"},
      {"D2 overlap",
       Sealed(RecordType::kPageDelta, 0, DeltaPayload(5, 1, 2, {{10, 5}, {12, 3}}), seed),
       "range 1"},
      {"D2 empty range", Sealed(RecordType::kPageDelta, 0, DeltaPayload(5, 1, 2, {{10, 0}}), seed),
       "range 0"},
      {"D2 past the page",
       Sealed(RecordType::kPageDelta, 0, DeltaPayload(5, 1, 2, {{4090, 7}}), seed), "range 0"},
      {"D2 trailing bytes",
       Sealed(RecordType::kPageDelta, 0, DeltaPayload(5, 1, 2, {{1, 1}}, "zz"), seed),
       "after the last range"},
      {"D2 count beyond payload",
       Sealed(RecordType::kPageDelta, 0,
              DeltaPayload(5, 1, 2, {}).substr(0, 20) + std::string("\x05\x01\x01r", 4), seed),
       "runs past"},
      {"C1 durable LSN", Sealed(RecordType::kCommit, 0, CommitPayload(bad_durable), seed),
       "durable LSN"},
      {"C1 root", Sealed(RecordType::kCommit, 0, CommitPayload(bad_root), seed), "root"},
      {"T1 image LSN", Sealed(RecordType::kPageImage, 0, ImagePayload(12, 3, page), seed),
       "transaction in progress has LSN 2"},
      {"T2 commit LSN", Sealed(RecordType::kCommit, 0, CommitPayload(bad_lsn), seed),
       "transaction in progress has LSN 2"},
      {"T3 record count", Sealed(RecordType::kCommit, 0, CommitPayload(bad_count), seed),
       "counts 4 records"},
  };
  for (const auto& c : cases) {
    test::Scan scan = ScanBytes(prefix + c.rec);
    EXPECT_EQ(scan.stop, StopReason::kBadPayload) << c.what << ": " << scan.stop_detail;
    EXPECT_EQ(scan.stop_offset, recs_[3].offset) << c.what;
    EXPECT_EQ(scan.stop_index, 3u) << c.what;
    EXPECT_NE(scan.stop_detail.find(c.detail), std::string::npos)
        << c.what << ": " << scan.stop_detail;
  }
  // The well-formed commit is accepted (record count 0: nothing precedes it).
  test::Scan scan = ScanBytes(prefix + Sealed(RecordType::kCommit, 0, CommitPayload(ok), seed));
  EXPECT_EQ(scan.records.size(), 4u) << scan.stop_detail;
  EXPECT_EQ(scan.stop, StopReason::kEndOfLog);
}

}  // namespace
}  // namespace sombra::wal
