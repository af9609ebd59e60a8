// Random and mutated bytes through WalReader (and its probe) never crash,
// and whatever the reader returns is consistent. Seeded from
// sombra::test::TestSeed(); replay with SOMBRA_SEED.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "util/coding.h"
#include "wal/wal_batch.h"
#include "wal/wal_reader.h"
#include "wal_test_util.h"

namespace sombra::wal {
namespace {

constexpr uint64_t kSalt = 0xF0F0F0F0;

class WalFuzzTest : public ::testing::Test {
 protected:
  void SetUp() override { rng_.seed(sombra::test::TestSeed()); }

  std::string RandomBytes(size_t n) {
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(rng_());
    return out;
  }

  // Scans `bytes` (in memory) and checks the reader's invariants.
  test::Scan ScanChecked(const std::string& bytes) {
    test::Scan scan = test::ScanBytes(bytes);
    if (!scan.open_status.ok()) return scan;
    uint64_t expect_offset = kWalHeaderSize;
    for (const auto& r : scan.records) {
      EXPECT_EQ(r.offset, expect_offset);
      expect_offset += r.size;
    }
    EXPECT_NE(scan.stop, StopReason::kNone);
    EXPECT_NE(scan.stop, StopReason::kIOError) << scan.stop_detail;
    EXPECT_EQ(scan.stop_offset, expect_offset);
    EXPECT_EQ(scan.stop_index, scan.records.size());
    EXPECT_LE(scan.committed_end, scan.stop_offset);
    EXPECT_LE(scan.stop_offset, bytes.size());
    return scan;
  }

  std::mt19937_64 rng_;
};

TEST_F(WalFuzzTest, RandomBytesNeverCrash) {
  const std::string header = test::HeaderBytes(test::TestHeader(kSalt));
  for (int i = 0; i < 1000; ++i) {
    std::string body = RandomBytes(rng_() % 20000);
    // Sprinkle plausible record headers so the checks past R2-R4 run too.
    for (size_t pos = 0; pos + kRecordHeaderSize <= body.size(); pos += 1 + rng_() % 3000) {
      body[pos] = static_cast<char>(1 + rng_() % 3);
      body[pos + 1] = static_cast<char>(rng_() % 2);
      body[pos + 2] = body[pos + 3] = 0;
      EncodeFixed32(reinterpret_cast<uint8_t*>(body.data()) + pos + 4,
                    static_cast<uint32_t>(rng_() % 5000));
    }
    ScanChecked(header + body);
    // Random bytes as the header itself.
    test::Scan scan = ScanChecked(RandomBytes(rng_() % 200));
    EXPECT_FALSE(scan.open_status.ok());
  }
}

// Records with random payloads but valid checksums: the payload decoders
// see arbitrary bytes.
TEST_F(WalFuzzTest, SealedRandomPayloadsNeverCrash) {
  const std::string header = test::HeaderBytes(test::TestHeader(kSalt));
  for (int i = 0; i < 5000; ++i) {
    const uint8_t type = static_cast<uint8_t>(1 + rng_() % 3);
    const uint8_t flags = type == 1 ? static_cast<uint8_t>(rng_() % 2) : 0;
    size_t length = 0;
    if (type == 1) {
      length = flags ? kImageFixedSize + 1 + rng_() % (test::kPageSize - 1)
                     : kImageFixedSize + test::kPageSize;
    } else if (type == 2) {
      length = kDeltaFixedSize + 1 + rng_() % 300;
    } else {
      length = kCommitPayloadSizeTrees;
    }
    std::string payload = RandomBytes(length);
    // Often make the fixed fields plausible so later rules are reached.
    if (rng_() % 2 == 0) {
      auto* p = reinterpret_cast<uint8_t*>(payload.data());
      if (type == 1 || type == 2) EncodeFixed32(p, 2 + rng_() % 100);
      if (type == 1) EncodeFixed64(p + 4, 1);
      if (type == 2) {
        EncodeFixed64(p + 4, 0);
        EncodeFixed64(p + 12, 1);
        p[20] = static_cast<uint8_t>(rng_() % 4);
      }
      if (type == 3) {
        EncodeFixed64(p + 8, 1);
        EncodeFixed64(p + 40, 0);
        EncodeFixed64(p + 24, 2 + rng_() % 1000);
      }
    }
    std::string rec(kRecordHeaderSize, '\0');
    RecordHeader h;
    h.type = type;
    h.flags = flags;
    h.length = static_cast<uint32_t>(length);
    auto* hp = reinterpret_cast<uint8_t*>(rec.data());
    EncodeRecordHeader(h, hp);
    EncodeFixed64(hp + kRecordChecksumOffset,
                  RecordChecksum(hp, test::U8(payload), payload.size(), kSalt));
    test::Scan scan = ScanChecked(header + rec + payload + std::string(64, '\0'));
    // The header and checksum are valid: either the record is accepted or
    // its payload is what is wrong.
    if (scan.records.empty()) {
      EXPECT_EQ(scan.stop, StopReason::kBadPayload) << scan.stop_detail;
    }
  }
}

TEST_F(WalFuzzTest, MutatedLogsNeverCrashAndKeepTheirIntactPrefix) {
  // A valid log of 30 transactions with images (some compressed), deltas
  // and commits.
  BatchBuilder b(test::kPageSize, true);
  b.Reset(kSalt);
  std::mt19937_64 build_rng(5);
  for (uint64_t lsn = 1; lsn <= 30; ++lsn) {
    test::AddTxn(&b, lsn, static_cast<int>(build_rng() % 3), static_cast<int>(build_rng() % 3),
                 lsn - 1, &build_rng);
  }
  const std::string good =
      test::HeaderBytes(test::TestHeader(kSalt)) + std::string(b.data()) + std::string(20000, '\0');
  const test::Scan clean = ScanChecked(good);
  ASSERT_EQ(clean.commit_lsns.size(), 30u);

  for (int i = 0; i < 2000; ++i) {
    std::string log = good;
    size_t first_change = log.size();
    const int mutations = 1 + static_cast<int>(rng_() % 4);
    for (int m = 0; m < mutations; ++m) {
      const size_t pos = kWalHeaderSize + rng_() % (log.size() - kWalHeaderSize - 8);
      switch (rng_() % 5) {
        case 0:  // flip a bit
          log[pos] = static_cast<char>(log[pos] ^ (1 << (rng_() % 8)));
          break;
        case 1:  // a random 32-bit value (lengths, counts, varints)
          EncodeFixed32(reinterpret_cast<uint8_t*>(log.data()) + pos,
                        static_cast<uint32_t>(rng_()));
          break;
        case 2:  // truncate
          log.resize(pos);
          break;
        case 3:  // zero a sector-sized run
          log.replace(pos, std::min<size_t>(512, log.size() - pos),
                      std::min<size_t>(512, log.size() - pos), '\0');
          break;
        case 4: {  // copy bytes from elsewhere
          const size_t from = kWalHeaderSize + rng_() % (good.size() - kWalHeaderSize - 64);
          log.replace(pos, std::min<size_t>(64, log.size() - pos),
                      good.substr(from, std::min<size_t>(64, log.size() - pos)));
          break;
        }
      }
      first_change = std::min(first_change, pos);
      if (log.size() <= kWalHeaderSize + 16) break;
    }
    const test::Scan scan = ScanChecked(log);
    // Every record that ends before the first change is still returned.
    size_t intact = 0;
    while (intact < clean.records.size() &&
           clean.records[intact].offset + clean.records[intact].size <= first_change) {
      ++intact;
    }
    ASSERT_GE(scan.records.size(), intact) << "iteration " << i << ": " << scan.stop_detail;
    for (size_t r = 0; r < intact; ++r) EXPECT_EQ(scan.records[r].offset, clean.records[r].offset);
  }
}

}  // namespace
}  // namespace sombra::wal
