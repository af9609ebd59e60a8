// Copies (log formats 12 and 13; docs/format/wal.md, "Page ops"): bytes of
// another page as it was before the transaction. Their encoding as a move
// whose source lies past the page, the rules a reader checks, replay
// through a source function, the writer's fallback to writes, and ops
// groups that hold them only in a log that allows them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wal/wal_batch.h"
#include "wal/wal_format.h"
#include "wal/wal_page_ops.h"
#include "wal/wal_reader.h"
#include "wal_test_util.h"

namespace sombra::wal {
namespace {

constexpr uint32_t kPs = 4096;
constexpr uint64_t kSalt = 0x0badc0ffee000002ull;
constexpr uint64_t kLsn = 7;

std::string Why(const std::string& ops, bool copies, uint32_t own_page) {
  std::string why;
  EXPECT_FALSE(CheckPageOps(ops, kPs, copies, own_page, &why));
  return why;
}

TEST(CopyOpTest, EncodesAsAMoveFromPastThePage) {
  std::string ops;
  AppendCopyOp(&ops, kPs, /*src_page=*/3, /*src=*/100, /*dst=*/200, /*length=*/18);
  // head 18 << 1 | 1 = 37, destination 200 (2 bytes), source 3 * 4096 + 100
  // = 12388 (2 bytes).
  EXPECT_EQ(ops, std::string("\x25\xc8\x01\xe4\x60", 5));
  std::string why;
  EXPECT_TRUE(CheckPageOps(ops, kPs, /*copies=*/true, /*own_page=*/5, &why)) << why;
  EXPECT_EQ(CountPageOps(ops), 1u);
  std::vector<uint32_t> sources;
  ForEachCopySource(ops, kPs, [&](uint32_t p) { sources.push_back(p); });
  EXPECT_EQ(sources, std::vector<uint32_t>{3});
  // A page number past 2^32 / page size needs a 64-bit source field.
  std::string far;
  AppendCopyOp(&far, kPs, 4000000000u, 4000, 300, 96);
  EXPECT_TRUE(CheckPageOps(far, kPs, true, 5, &why)) << why;
  sources.clear();
  ForEachCopySource(far, kPs, [&](uint32_t p) { sources.push_back(p); });
  EXPECT_EQ(sources, std::vector<uint32_t>{4000000000u});
}

TEST(CopyOpTest, EachRuleRefusesWhatBreaksIt) {
  const auto copy = [](uint32_t page, uint32_t src, uint32_t dst, uint32_t len) {
    std::string ops;
    AppendCopyOp(&ops, kPs, page, src, dst, len);
    return ops;
  };
  // Not in a log that allows them (and never in a page-ops record).
  EXPECT_NE(Why(copy(3, 100, 200, 18), false, 5).find("only an ops group of a log of format 12"),
            std::string::npos);
  std::string why;
  EXPECT_FALSE(CheckPageOps(copy(3, 100, 200, 18), kPs, &why));
  // Its own page, a meta page, the page header, past either page's end.
  for (const std::string& bad :
       {copy(5, 100, 200, 18), copy(1, 100, 200, 18), copy(3, 23, 200, 18), copy(3, 4090, 200, 18),
        copy(3, 100, 4090, 18), copy(3, 100, 200, 0)}) {
    EXPECT_NE(Why(bad, true, 5).find("reads a page header or reads page 0, 1 or its own page"),
              std::string::npos)
        << Why(bad, true, 5);
  }
  EXPECT_TRUE(CheckPageOps(copy(3, 24, 200, 18), kPs, true, 5, &why)) << why;
  EXPECT_TRUE(CheckPageOps(copy(3, 4078, 4078, 18), kPs, true, 5, &why)) << why;
}

TEST(CopyOpTest, ReplayReadsTheSourceAndFailsWithoutIt) {
  std::string before(kPs, 'b');
  for (uint32_t i = 0; i < kPs; ++i) before[i] = static_cast<char>('a' + i % 26);
  std::string ops;
  AppendWriteOp(&ops, 60, "xyz");
  AppendCopyOp(&ops, kPs, 9, 26, 100, 5);  // "abcde"
  AppendMoveOp(&ops, 100, 102, 5);         // "ababcde"
  std::string page(kPs, '\0');
  auto* p = reinterpret_cast<uint8_t*>(page.data());
  const auto* src = reinterpret_cast<const uint8_t*>(before.data());
  std::vector<uint32_t> asked;
  ASSERT_TRUE(ApplyPageOps(ops, kPs, p, [&](uint32_t n) -> const uint8_t* {
    asked.push_back(n);
    return n == 9 ? src : nullptr;
  }));
  EXPECT_EQ(asked, std::vector<uint32_t>{9});
  EXPECT_EQ(page.substr(60, 3), "xyz");
  EXPECT_EQ(page.substr(100, 7), "ababcde");
  // Without the source the replay says so (the write before it is done).
  std::string other(kPs, '\0');
  EXPECT_FALSE(ApplyPageOps(ops, kPs, reinterpret_cast<uint8_t*>(other.data()),
                            [](uint32_t) -> const uint8_t* { return nullptr; }));
  EXPECT_FALSE(ApplyPageOps(ops, kPs, reinterpret_cast<uint8_t*>(other.data()), nullptr));
}

TEST(CopyOpTest, WriteOutTurnsOnlyUnkeptCopiesIntoWrites) {
  std::string three(kPs, '3'), four(kPs, '4');
  for (uint32_t i = 0; i < kPs; ++i) four[i] = static_cast<char>(i);
  std::string ops;
  AppendCopyOp(&ops, kPs, 3, 40, 100, 10);
  AppendWriteOp(&ops, 200, "w");
  AppendCopyOp(&ops, kPs, 4, 50, 300, 20);
  const auto source = [&](uint32_t n) -> const uint8_t* {
    return reinterpret_cast<const uint8_t*>(n == 3 ? three.data() : four.data());
  };
  const std::string out = WriteOutCopies(
      ops, kPs, [](uint32_t n) { return n == 3; }, source);
  std::vector<uint32_t> left;
  ForEachCopySource(out, kPs, [&](uint32_t p) { left.push_back(p); });
  EXPECT_EQ(left, std::vector<uint32_t>{3});
  std::string why;
  ASSERT_TRUE(CheckPageOps(out, kPs, true, 5, &why)) << why;
  EXPECT_EQ(CountPageOps(out), 3u);
  // Both give the same page.
  std::string a(kPs, '\0'), b(kPs, '\0');
  ASSERT_TRUE(ApplyPageOps(ops, kPs, reinterpret_cast<uint8_t*>(a.data()), source));
  ASSERT_TRUE(ApplyPageOps(out, kPs, reinterpret_cast<uint8_t*>(b.data()), source));
  EXPECT_EQ(a, b);
  EXPECT_EQ(b.substr(300, 20), four.substr(50, 20));
  // Nothing kept: no copy is left.
  const std::string none = WriteOutCopies(
      ops, kPs, [](uint32_t) { return false; }, source);
  left.clear();
  ForEachCopySource(none, kPs, [&](uint32_t p) { left.push_back(p); });
  EXPECT_TRUE(left.empty());
  EXPECT_TRUE(CheckPageOps(none, kPs, &why)) << why;
}

// An ops group holding a copy: built and read back in a log of format 12;
// a log of format 10 refuses it, in the builder and in the reader.
TEST(CopyOpTest, OnlyALogOfFormatTwelveOrThirteenHoldsThem) {
  std::string ops, writes;
  AppendCopyOp(&ops, kPs, 3, 100, 200, 18);
  AppendWriteOp(&writes, 300, "written");
  for (uint32_t version : {kWalFormatVersionCopies, kWalFormatVersionCopiesCarry}) {
    BatchBuilder b(kPs, /*compress=*/false);
    b.set_log_version(version);
    b.Reset(kSalt);
    ASSERT_TRUE(b.AddPageOps(5, kLsn - 1, kLsn, ops).ok());
    ASSERT_TRUE(b.AddPageOps(6, kLsn - 1, kLsn, writes).ok());
    CommitInfo c;
    c.txn_id = c.lsn = kLsn;
    c.root = 2;
    c.page_count = 100;
    c.durable_lsn = kLsn - 1;
    ASSERT_TRUE(b.AddCommit(c).ok());
    WalHeader h = test::TestHeader(kSalt, kLsn);
    h.version = version;
    test::StringFile file(test::HeaderBytes(h) + std::string(b.data()) + std::string(64, '\0'));
    WalReader reader(&file);
    ASSERT_TRUE(reader.Open().ok());
    Record rec;
    ASSERT_TRUE(reader.Next(&rec));
    EXPECT_EQ(rec.type, RecordType::kPageOps);
    EXPECT_EQ(rec.page_no, 5u);
    EXPECT_EQ(std::string(rec.ops), ops);
    EXPECT_TRUE(rec.copies) << "the reader flags the entry holding a copy";
    ASSERT_TRUE(reader.Next(&rec));
    EXPECT_EQ(rec.page_no, 6u);
    EXPECT_FALSE(rec.copies);
    ASSERT_TRUE(reader.Next(&rec));
    EXPECT_EQ(rec.type, RecordType::kCommit);
    EXPECT_FALSE(reader.Next(&rec));
    EXPECT_EQ(reader.stop_reason(), StopReason::kEndOfLog);

    // The same bytes behind a format-10 header: the group is damage.
    h.version = kWalFormatVersionGroups;
    test::StringFile old(test::HeaderBytes(h) + std::string(b.data()) + std::string(64, '\0'));
    WalReader old_reader(&old);
    ASSERT_TRUE(old_reader.Open().ok());
    EXPECT_FALSE(old_reader.Next(&rec));
    EXPECT_EQ(old_reader.stop_reason(), StopReason::kBadPayload);
    EXPECT_NE(old_reader.stop_detail().find("only an ops group of a log of format 12"),
              std::string::npos)
        << old_reader.stop_detail();
  }
  BatchBuilder b(kPs, false);
  b.set_log_version(kWalFormatVersionGroups);
  b.Reset(kSalt);
  const Status s = b.AddPageOps(5, kLsn - 1, kLsn, ops);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_TRUE(b.empty());
}

}  // namespace
}  // namespace sombra::wal
