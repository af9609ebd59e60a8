// Ops groups (record type 5, docs/format/wal.md "Ops group (type 5)"):
// the builder's grouping rules, round trips through WalReader with and
// without compression, and each decoding rule G1-G4 refusing what breaks
// it.
#include "wal/wal_ops_group.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "util/coding.h"
#include "util/compress.h"
#include "wal/wal_batch.h"
#include "wal/wal_page_ops.h"
#include "wal/wal_reader.h"
#include "wal_test_util.h"

namespace sombra::wal {
namespace {

constexpr uint64_t kSalt = 0x0badc0ffee000001ull;
constexpr uint64_t kLsn = 9;

// The ops of page `page`: an insert-like edit (a record write, a slot move
// and a header write) when `repetitive`, else one write of 40 random bytes
// at a random offset, which lz4 cannot shrink.
std::string SomeOps(uint32_t page, std::mt19937_64* rng, bool repetitive) {
  std::string ops;
  if (!repetitive) {
    std::string noise(40, '\0');
    for (char& c : noise) c = static_cast<char>((*rng)());
    AppendWriteOp(&ops, 100 + static_cast<uint32_t>((*rng)() % 3000), noise);
    return ops;
  }
  AppendWriteOp(&ops, 100 + page % 1000, std::string(18, 'r'));
  AppendMoveOp(&ops, 4000, 3994, 60);
  AppendWriteOp(&ops, 24, std::string(12, static_cast<char>(page)));
  return ops;
}

CommitInfo Commit(uint64_t lsn) {
  CommitInfo c;
  c.txn_id = lsn;
  c.lsn = lsn;
  c.root = 2;
  c.page_count = 100000;
  c.durable_lsn = lsn - 1;
  return c;
}

struct Entry {
  RecordType type;
  uint32_t page;
  uint64_t base;
  std::string ops;
  uint32_t group_entry, group_entries;
  uint64_t index;
};

// The records a reader returns from a format-10 log holding `batch`.
std::vector<Entry> Read(const std::string& batch, StopReason* stop = nullptr,
                        std::string* detail = nullptr) {
  WalHeader h = test::TestHeader(kSalt, kLsn);
  h.version = kWalFormatVersionGroups;
  test::StringFile file(test::HeaderBytes(h) + batch + std::string(64, '\0'));
  WalReader reader(&file);
  EXPECT_TRUE(reader.Open().ok());
  std::vector<Entry> out;
  Record rec;
  while (reader.Next(&rec)) {
    out.push_back(Entry{rec.type, rec.page_no, rec.base_lsn, std::string(rec.ops), rec.group_entry,
                        rec.group_entries, rec.index});
  }
  if (stop != nullptr) *stop = reader.stop_reason();
  if (detail != nullptr) *detail = reader.stop_detail();
  return out;
}

TEST(OpsGroupTest, ManyPagesRoundTripCompressedAndRaw) {
  for (bool repetitive : {true, false}) {
    for (bool compress : {true, false}) {
      std::mt19937_64 rng(7);
      BatchBuilder b(test::kPageSize, compress);
      b.Reset(kSalt);
      std::vector<std::pair<uint32_t, std::string>> pages;
      for (uint32_t p = 2; p < 3000; p += 1 + static_cast<uint32_t>(rng() % 300)) {
        pages.emplace_back(p, SomeOps(p, &rng, repetitive));
        ASSERT_TRUE(b.AddPageOps(p, kLsn - 1 - p % 5, kLsn, pages.back().second).ok());
      }
      ASSERT_TRUE(b.AddCommit(Commit(kLsn)).ok());
      EXPECT_EQ(b.group_records(), 1u);
      EXPECT_EQ(b.ops_records(), pages.size());
      const std::string batch(b.data());
      // Only a repetitive body shrinks enough to be stored compressed.
      EXPECT_EQ((batch[kRecordFlagsOffset] & kFlagCompressed) != 0, compress && repetitive)
          << "compress " << compress << " repetitive " << repetitive;
      StopReason stop;
      const std::vector<Entry> got = Read(batch, &stop);
      EXPECT_EQ(stop, StopReason::kEndOfLog);
      ASSERT_EQ(got.size(), pages.size() + 1);
      for (size_t i = 0; i < pages.size(); ++i) {
        EXPECT_EQ(got[i].type, RecordType::kPageOps);
        EXPECT_EQ(got[i].page, pages[i].first);
        EXPECT_EQ(got[i].base, kLsn - 1 - pages[i].first % 5);
        EXPECT_EQ(got[i].ops, pages[i].second);
        EXPECT_EQ(got[i].group_entry, i);
        EXPECT_EQ(got[i].group_entries, pages.size());
        EXPECT_EQ(got[i].index, 0u);
      }
      EXPECT_EQ(got.back().type, RecordType::kCommit);
      EXPECT_EQ(got.back().index, 1u);
    }
  }
}

// A page out of increasing order, or an image or delta of a page already
// in the group, closes the group first: a page's records keep their order.
TEST(OpsGroupTest, TheBuilderKeepsEachPagesRecordsInOrder) {
  std::mt19937_64 rng(3);
  const std::string page(test::kPageSize, 'p');
  BatchBuilder b(test::kPageSize, true);
  b.Reset(kSalt);
  ASSERT_TRUE(b.AddPageOps(5, 1, kLsn, SomeOps(5, &rng, true)).ok());
  ASSERT_TRUE(b.AddPageOps(9, 1, kLsn, SomeOps(9, &rng, true)).ok());
  ASSERT_TRUE(b.AddPageImage(7, kLsn, reinterpret_cast<const uint8_t*>(page.data())).ok());
  ASSERT_TRUE(b.AddPageOps(3, 1, kLsn, SomeOps(3, &rng, true)).ok());  // below 9: a new group
  ASSERT_TRUE(b.AddPageImage(3, kLsn, reinterpret_cast<const uint8_t*>(page.data())).ok());
  const std::vector<DeltaRange> ranges = {{10, "xy"}};
  ASSERT_TRUE(b.AddPageOps(12, 1, kLsn, SomeOps(12, &rng, true)).ok());
  ASSERT_TRUE(b.AddPageDelta(12, kLsn - 1, kLsn, ranges).ok());
  ASSERT_TRUE(b.AddCommit(Commit(kLsn)).ok());
  EXPECT_EQ(b.group_records(), 3u);
  const std::vector<Entry> got = Read(std::string(b.data()));
  std::vector<std::pair<RecordType, uint32_t>> order;
  for (const Entry& e : got) order.emplace_back(e.type, e.page);
  const std::vector<std::pair<RecordType, uint32_t>> want = {
      {RecordType::kPageImage, 7},  {RecordType::kPageOps, 5},   {RecordType::kPageOps, 9},
      {RecordType::kPageOps, 3},    {RecordType::kPageImage, 3}, {RecordType::kPageOps, 12},
      {RecordType::kPageDelta, 12}, {RecordType::kCommit, 0}};
  EXPECT_EQ(order, want);
  EXPECT_EQ(got.back().index, 6u) << "3 groups, 2 images and a delta precede the commit";
}

// A transaction whose ops pass 512 KiB of body is logged as several groups.
TEST(OpsGroupTest, ALargeTransactionSpansGroups) {
  BatchBuilder b(65536, true);
  b.Reset(kSalt);
  std::string big;
  for (int i = 0; i < 60; ++i) AppendWriteOp(&big, 100 + i * 1000, std::string(900, 'a' + i % 26));
  ASSERT_GT(big.size(), 50000u);
  for (uint32_t p = 2; p < 40; ++p) ASSERT_TRUE(b.AddPageOps(p, 1, kLsn, big).ok());
  ASSERT_TRUE(b.AddCommit(Commit(kLsn)).ok());
  EXPECT_GE(b.group_records(), 38u * big.size() / kMaxGroupBody + 1);
  WalHeader h = test::TestHeader(kSalt, kLsn);
  h.version = kWalFormatVersionGroups;
  h.page_size = 65536;
  test::StringFile file(test::HeaderBytes(h) + std::string(b.data()) + std::string(64, '\0'));
  WalReader reader(&file);
  ASSERT_TRUE(reader.Open().ok());
  Record rec;
  uint32_t page = 2;
  while (reader.Next(&rec) && rec.type == RecordType::kPageOps) {
    EXPECT_EQ(rec.page_no, page++);
    EXPECT_EQ(rec.ops, big);
    EXPECT_LE(rec.length, kMaxGroupPayload);
  }
  EXPECT_EQ(page, 40u);
  EXPECT_EQ(rec.type, RecordType::kCommit);
  EXPECT_EQ(rec.commit.record_count, b.group_records());
}

TEST(OpsGroupTest, ARecordOfAnotherLsnIsRefusedWhileAGroupIsOpen) {
  std::mt19937_64 rng(1);
  BatchBuilder b(test::kPageSize, true);
  b.Reset(kSalt);
  ASSERT_TRUE(b.AddPageOps(5, 1, kLsn, SomeOps(5, &rng, true)).ok());
  EXPECT_TRUE(b.AddPageOps(6, 1, kLsn + 1, SomeOps(6, &rng, true)).IsInvalidArgument());
  EXPECT_TRUE(b.AddCommit(Commit(kLsn + 1)).IsInvalidArgument());
  ASSERT_TRUE(b.AddCommit(Commit(kLsn)).ok());
  EXPECT_EQ(Read(std::string(b.data())).size(), 2u);
}

// ---- Rules G1-G4: a group with a valid checksum whose payload breaks one.

// A sealed group record of `payload` (flags as given) and a commit.
std::string SealedGroup(const std::string& payload, uint8_t flags = 0) {
  std::string rec(kRecordHeaderSize, '\0');
  RecordHeader h;
  h.type = static_cast<uint8_t>(RecordType::kOpsGroup);
  h.flags = flags;
  h.length = static_cast<uint32_t>(payload.size());
  EncodeRecordHeader(h, reinterpret_cast<uint8_t*>(rec.data()));
  rec += payload;
  const uint64_t sum =
      RecordChecksum(reinterpret_cast<const uint8_t*>(rec.data()),
                     reinterpret_cast<const uint8_t*>(rec.data()) + 16, payload.size(), kSalt);
  EncodeFixed64(reinterpret_cast<uint8_t*>(rec.data()) + kRecordChecksumOffset, sum);
  return rec;
}

std::string Payload(uint64_t lsn, uint32_t count, const std::string& body, int64_t declared = -1) {
  std::string p;
  PutFixed64(&p, lsn);
  PutVarint32(&p, count);
  PutVarint32(&p, declared < 0 ? static_cast<uint32_t>(body.size()) : uint32_t(declared));
  return p + body;
}

std::string EntryBytes(uint32_t step, uint64_t lsn_step, const std::string& ops, int64_t len = -1) {
  std::string e;
  PutVarint32(&e, step);
  PutVarint64(&e, lsn_step);
  PutVarint32(&e, len < 0 ? static_cast<uint32_t>(ops.size()) : uint32_t(len));
  return e + ops;
}

TEST(OpsGroupTest, EachDecodingRuleRefusesWhatBreaksIt) {
  std::string op;
  AppendWriteOp(&op, 30, "ab");
  const std::string good = EntryBytes(5, 1, op) + EntryBytes(2, 3, op);
  std::string op10;
  AppendWriteOp(&op10, 40, "0123456789");
  {  // the well-formed group the cases below break
    StopReason stop;
    const std::vector<Entry> got = Read(SealedGroup(Payload(kLsn, 2, good)), &stop);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[1].page, 7u);
    EXPECT_EQ(got[1].base, kLsn - 3);
    EXPECT_EQ(stop, StopReason::kEndOfLog);
  }
  std::string bad_ops;  // a move onto itself
  AppendMoveOp(&bad_ops, 30, 31, 2);
  bad_ops[bad_ops.size() - 1] = bad_ops[bad_ops.size() - 2];
  std::string lz4;
  LZ4Compress(std::string(200, 'x'), &lz4, 1);
  struct Case {
    const char* name;
    std::string record;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"G1 LSN 0", SealedGroup(Payload(0, 2, good)), "LSN 0"},
      {"G1 no entry", SealedGroup(Payload(kLsn, 0, good)), "0 entries"},
      {"G1 body too long", SealedGroup(Payload(kLsn, 2, good, kMaxGroupBody + 1)), "body of"},
      {"G1 more entries than fit", SealedGroup(Payload(kLsn, 3, good)), "3 entries"},
      {"G2 stored size", SealedGroup(Payload(kLsn, 2, good, good.size() + 1)), "declared"},
      {"G2 bad lz4", SealedGroup(Payload(kLsn, 2, std::string(10, '\xff'), 200), 1), "lz4"},
      {"G2 lz4 not smaller", SealedGroup(Payload(kLsn, 1, lz4, lz4.size()), 1), "not smaller"},
      {"G2 lz4 size", SealedGroup(Payload(kLsn, 2, lz4, 150), 1), "lz4"},
      {"G3 runs past",
       SealedGroup(Payload(kLsn, 2, EntryBytes(5, 1, op) + EntryBytes(2, 3, op, 9))), "runs past"},
      {"G3 page step 0", SealedGroup(Payload(kLsn, 2, EntryBytes(5, 1, op) + EntryBytes(0, 3, op))),
       "page step 0"},
      {"G3 meta page", SealedGroup(Payload(kLsn, 2, EntryBytes(1, 1, op) + EntryBytes(2, 3, op))),
       "page 1"},
      {"G3 LSN step 0", SealedGroup(Payload(kLsn, 2, EntryBytes(5, 0, op) + EntryBytes(2, 3, op))),
       "LSN step 0"},
      {"G3 LSN step past the LSN",
       SealedGroup(Payload(kLsn, 2, EntryBytes(5, kLsn + 1, op) + EntryBytes(2, 3, op))),
       "LSN step 10"},
      {"G3 no ops", SealedGroup(Payload(kLsn, 2, EntryBytes(5, 1, "", 0) + EntryBytes(2, 3, op10))),
       "no ops"},
      {"G3 bad ops",
       SealedGroup(Payload(kLsn, 2, EntryBytes(5, 1, op) + EntryBytes(2, 3, bad_ops))),
       "entry 1, page ops of page 7"},
      {"G4 trailing", SealedGroup(Payload(kLsn, 2, good + "\x01")), "after the last"},
      {"G4 trailing entry", SealedGroup(Payload(kLsn, 1, good)), "after the last"},
  };
  for (const Case& c : cases) {
    StopReason stop;
    std::string detail;
    const std::vector<Entry> got = Read(c.record, &stop, &detail);
    EXPECT_EQ(got.size(), 0u) << c.name;
    EXPECT_EQ(stop, StopReason::kBadPayload) << c.name << ": " << detail;
    EXPECT_NE(detail.find(c.reason), std::string::npos) << c.name << ": " << detail;
  }
}

// Continue() in the middle of a group drops its other entries: they are
// read again with the group, from the last commit.
TEST(OpsGroupTest, ContinueRereadsTheTransactionInProgress) {
  std::mt19937_64 rng(5);
  BatchBuilder b(test::kPageSize, true);
  b.Reset(kSalt);
  for (uint32_t p : {4u, 8u, 15u})
    ASSERT_TRUE(b.AddPageOps(p, 1, kLsn, SomeOps(p, &rng, true)).ok());
  ASSERT_TRUE(b.AddCommit(Commit(kLsn)).ok());
  WalHeader h = test::TestHeader(kSalt, kLsn);
  h.version = kWalFormatVersionGroups;
  test::StringFile file(test::HeaderBytes(h) + std::string(b.data()) + std::string(64, '\0'));
  WalReader reader(&file);
  ASSERT_TRUE(reader.Open().ok());
  Record rec;
  ASSERT_TRUE(reader.Next(&rec));
  EXPECT_EQ(rec.page_no, 4u);
  ASSERT_TRUE(reader.Continue().ok());
  std::vector<uint32_t> pages;
  while (reader.Next(&rec)) pages.push_back(rec.page_no);
  EXPECT_EQ(pages, (std::vector<uint32_t>{4, 8, 15, 0}));
  EXPECT_EQ(reader.last_commit_lsn(), kLsn);
}

}  // namespace
}  // namespace sombra::wal
