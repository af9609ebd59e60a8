// Tests of the WAL file header, the commit and delta field checks, and
// BatchBuilder's input validation and buffer reuse.
#include "wal/wal_format.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/hash.h"
#include "wal/wal_batch.h"
#include "wal/wal_page_ops.h"
#include "wal_test_util.h"

namespace sombra::wal {
namespace {

using test::HeaderBytes;
using test::TestHeader;

TEST(WalHeaderTest, RoundTrip) {
  WalHeader h = TestHeader(0x0123456789ABCDEFull, 42, 7);
  h.page_size = 65536;
  h.base = WalBase{7, 9, 12, 3, 41};
  const std::string raw = HeaderBytes(h);
  ASSERT_EQ(raw.size(), kWalHeaderSize);
  ASSERT_EQ(kWalHeaderSize, 128u);
  EXPECT_EQ(raw.substr(0, 8), "SOMBRWAL");
  EXPECT_EQ(DecodeFixed64(test::U8(raw) + 120), Hash64(raw.data(), 120, 0));
  EXPECT_EQ(DecodeFixed32(test::U8(raw) + 48), 7u);   // base root
  EXPECT_EQ(DecodeFixed64(test::U8(raw) + 72), 41u);  // base checkpoint sequence
  auto back = DecodeWalHeader(test::U8(raw), raw.size());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->version, kWalFormatVersionTrees);  // what this build writes
  EXPECT_EQ(back->size(), 128u);
  EXPECT_EQ(back->page_size, 65536u);
  EXPECT_EQ(back->salt, 0x0123456789ABCDEFull);
  EXPECT_EQ(back->generation, 7u);
  EXPECT_EQ(back->db_salt, test::kDbSalt);
  EXPECT_EQ(back->start_lsn, 42u);
  EXPECT_EQ(back->base.root, 7u);
  EXPECT_EQ(back->base.freelist_head, 9u);
  EXPECT_EQ(back->base.page_count, 12u);
  EXPECT_EQ(back->base.freelist_count, 3u);
  EXPECT_EQ(back->base.checkpoint_seq, 41u);
}

// Format 1 (64 bytes, no base copy) is still read.
TEST(WalHeaderTest, FormatOneIsStillRead) {
  WalHeader h = TestHeader(0x0123456789ABCDEFull, 42, 7);
  h.version = kWalFormatVersion1;
  std::string raw(kWalHeaderSizeV1, '\0');
  EncodeWalHeader(h, reinterpret_cast<uint8_t*>(raw.data()));
  EXPECT_EQ(DecodeFixed64(test::U8(raw) + 56), Hash64(raw.data(), 56, 0));
  auto back = DecodeWalHeader(test::U8(raw), raw.size());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->version, 1u);
  EXPECT_EQ(back->size(), 64u);
  EXPECT_FALSE(back->has_base());
  EXPECT_EQ(back->start_lsn, 42u);
  for (size_t i = 0; i < kWalHeaderSizeV1; ++i) {
    std::string bad = raw;
    bad[i] ^= 0x10;
    EXPECT_TRUE(DecodeWalHeader(test::U8(bad), bad.size()).status().IsCorruption()) << i;
  }
}

// Rewrites the field at `offset` (`size` bytes) to `value` and reseals the
// header checksum, so the field's own rule is what fails.
std::string WithField(size_t offset, size_t size, uint64_t value) {
  std::string raw = HeaderBytes(TestHeader(99));
  auto* p = reinterpret_cast<uint8_t*>(raw.data());
  if (size == 4) {
    EncodeFixed32(p + offset, static_cast<uint32_t>(value));
  } else {
    EncodeFixed64(p + offset, value);
  }
  EncodeFixed64(p + kWalHeaderChecksumOffset, Hash64(p, kWalHeaderChecksumOffset, 0));
  return raw;
}

TEST(WalHeaderTest, EachDamagedFieldIsRejectedWithItsReason) {
  struct Case {
    const char* name;
    std::string raw;
    Status::Code code;
    const char* reason;
  };
  std::string bad_magic = HeaderBytes(TestHeader(99));
  bad_magic[3] = 'X';
  std::string bad_checksum = HeaderBytes(TestHeader(99));
  bad_checksum[124] ^= 0x01;
  const std::vector<Case> cases = {
      {"magic", bad_magic, Status::Code::kCorruption, "bad magic"},
      {"checksum", bad_checksum, Status::Code::kCorruption, "checksum mismatch"},
      {"version 14", WithField(8, 4, 14), Status::Code::kNotSupported, "newer"},
      {"version 0", WithField(8, 4, 0), Status::Code::kCorruption, "format version 0"},
      {"page size", WithField(12, 4, 5000), Status::Code::kCorruption, "page size 5000"},
      {"page size 128K", WithField(12, 4, 131072), Status::Code::kCorruption, "page size"},
      {"salt", WithField(16, 8, 0), Status::Code::kCorruption, "WAL salt is 0"},
      {"db salt", WithField(32, 8, 0), Status::Code::kCorruption, "database salt is 0"},
      {"start lsn", WithField(40, 8, 0), Status::Code::kCorruption, "start LSN is 0"},
      {"reserved", WithField(84, 8, 1), Status::Code::kCorruption, "reserved"},
      {"base catalog root", WithField(80, 4, 1), Status::Code::kCorruption, "catalog root 1"},
      {"reserved end", WithField(112, 8, 1), Status::Code::kCorruption, "reserved"},
      {"base page count", WithField(56, 8, 1), Status::Code::kCorruption, "page count 1"},
      {"base root", WithField(48, 4, 2), Status::Code::kCorruption, "root 2"},
      {"base freelist", WithField(64, 8, 1), Status::Code::kCorruption, "empty freelist"},
  };
  for (const Case& c : cases) {
    auto r = DecodeWalHeader(test::U8(c.raw), c.raw.size());
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), c.code) << c.name << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.reason), std::string::npos)
        << c.name << ": " << r.status().ToString();
  }
  // The generation may be anything.
  const std::string gen = WithField(24, 8, 0);
  EXPECT_TRUE(DecodeWalHeader(test::U8(gen), gen.size()).ok());
}

TEST(WalHeaderTest, AnyFlippedBitIsCaught) {
  const std::string good = HeaderBytes(TestHeader(1234));
  for (size_t i = 0; i < kWalHeaderSize; ++i) {
    std::string raw = good;
    raw[i] ^= 0x10;
    auto r = DecodeWalHeader(test::U8(raw), raw.size());
    EXPECT_TRUE(r.status().IsCorruption()) << "byte " << i;
  }
  auto short_header = DecodeWalHeader(test::U8(good), kWalHeaderSize - 1);
  EXPECT_TRUE(short_header.status().IsCorruption());
}

TEST(WalHeaderTest, ReaderOpenReportsEmptyAndBadHeaders) {
  sombra::test::TempDir dir;
  const std::string path = dir.File("db-wal");
  auto open = [&](const std::string& bytes) {
    sombra::test::WriteFileOrDie(path, bytes);
    auto file = Env::Default()->OpenFile(path, OpenMode::kReadOnly);
    EXPECT_TRUE(file.ok());
    WalReader reader(file->get());
    return reader.Open();
  };
  EXPECT_TRUE(open("").IsNotFound());
  Status s = open(HeaderBytes(TestHeader(5)).substr(0, 63));
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find("empty log"), std::string::npos);
  s = open(std::string(64, '\0'));
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
  EXPECT_TRUE(open(HeaderBytes(TestHeader(5))).ok());
}

TEST(WalCommitInfoTest, ConsistencyRules) {
  CommitInfo good;
  good.lsn = 5;
  good.durable_lsn = 4;
  good.page_count = 10;
  good.root = 2;
  good.freelist_head = 9;
  good.freelist_count = 1;
  std::string why;
  EXPECT_TRUE(CheckCommitInfo(good, &why)) << why;
  auto bad = [&](auto mutate) {
    CommitInfo c = good;
    mutate(&c);
    std::string reason;
    return !CheckCommitInfo(c, &reason) && !reason.empty();
  };
  EXPECT_TRUE(bad([](CommitInfo* c) { c->lsn = 0; }));
  EXPECT_TRUE(bad([](CommitInfo* c) { c->durable_lsn = 5; }));
  EXPECT_TRUE(bad([](CommitInfo* c) { c->page_count = 1; }));
  EXPECT_TRUE(bad([](CommitInfo* c) { c->page_count = (uint64_t{1} << 32) + 1; }));
  EXPECT_TRUE(bad([](CommitInfo* c) { c->root = 1; }));
  EXPECT_TRUE(bad([](CommitInfo* c) { c->root = 10; }));
  EXPECT_TRUE(bad([](CommitInfo* c) { c->freelist_head = 0; }));
  EXPECT_TRUE(bad([](CommitInfo* c) { c->freelist_count = 0; }));
  EXPECT_TRUE(bad([](CommitInfo* c) { c->freelist_head = 10; }));
  EXPECT_TRUE(bad([](CommitInfo* c) { c->freelist_count = 10; }));
  EXPECT_FALSE(bad([](CommitInfo* c) { c->root = 0; }));
}

TEST(WalDeltaRangesTest, WellFormedRules) {
  const std::string b = "abcdef";
  std::string why;
  std::vector<DeltaRange> ok = {{0, b}, {6, b}, {4090, b}};  // adjacent is fine
  EXPECT_TRUE(CheckDeltaRanges(ok, 4096, &why)) << why;
  EXPECT_TRUE(CheckDeltaRanges({}, 4096, &why));
  std::vector<DeltaRange> empty = {{0, ""}};
  EXPECT_FALSE(CheckDeltaRanges(empty, 4096, &why));
  EXPECT_NE(why.find("empty"), std::string::npos);
  std::vector<DeltaRange> overlap = {{0, b}, {5, b}};
  EXPECT_FALSE(CheckDeltaRanges(overlap, 4096, &why));
  std::vector<DeltaRange> unsorted = {{100, b}, {0, b}};
  EXPECT_FALSE(CheckDeltaRanges(unsorted, 4096, &why));
  std::vector<DeltaRange> past = {{4091, b}};
  EXPECT_FALSE(CheckDeltaRanges(past, 4096, &why));
  EXPECT_NE(why.find("page end"), std::string::npos);
}

// Rule P2 (CheckPageOps) names the op that breaks it; ApplyPageOps
// replays writes and overlapping moves as memmove does.
TEST(PageOpsTest, CheckNamesTheBadOpAndApplyMoves) {
  const auto why_of = [](const std::string& ops) {
    std::string why;
    EXPECT_FALSE(CheckPageOps(ops, 4096, &why));
    return why;
  };
  EXPECT_EQ(why_of(""), "no op");
  std::string ops;
  AppendWriteOp(&ops, 0, "ab");
  std::string zero = ops;
  zero += std::string("\x00\x05", 2);  // a write of length 0
  EXPECT_NE(why_of(zero).find("op 1"), std::string::npos) << why_of(zero);
  std::string past = ops;
  AppendWriteOp(&past, 4095, "ab");
  EXPECT_NE(why_of(past).find("op 1 (write to [4095, +2))"), std::string::npos) << why_of(past);
  std::string same = ops;
  AppendMoveOp(&same, 7, 7, 3);
  EXPECT_NE(why_of(same).find("moves nothing"), std::string::npos) << why_of(same);
  std::string from_past = ops;
  AppendMoveOp(&from_past, 4094, 0, 3);
  EXPECT_NE(why_of(from_past).find("move from 4094"), std::string::npos) << why_of(from_past);
  std::string cut = ops;
  AppendWriteOp(&cut, 10, "xyz");
  cut.pop_back();  // the write's last byte is missing
  EXPECT_NE(why_of(cut).find("op 1 runs past the payload"), std::string::npos) << why_of(cut);

  std::string good;
  AppendWriteOp(&good, 0, "abcdef");
  AppendMoveOp(&good, 0, 2, 4);  // overlapping, forward: "ababcd"
  std::string why;
  ASSERT_TRUE(CheckPageOps(good, 4096, &why)) << why;
  EXPECT_EQ(CountPageOps(good), 2u);
  std::string page(4096, '\0');
  ASSERT_TRUE(ApplyPageOps(good, 4096, reinterpret_cast<uint8_t*>(page.data()), nullptr));
  EXPECT_EQ(page.substr(0, 6), "ababcd");
}

TEST(BatchBuilderTest, RejectsBadInputAndStaysUnchanged) {
  BatchBuilder b(test::kPageSize, true);
  b.Reset(77);
  const std::string page = test::TestPage(1, true);
  const std::string bytes = "xyz";
  std::vector<DeltaRange> ranges = {{10, bytes}};
  ASSERT_TRUE(b.AddPageImage(5, 3, test::U8(page)).ok());
  const std::string before(b.data());
  const uint64_t checksum = b.last_checksum();

  EXPECT_TRUE(b.AddPageImage(1, 3, test::U8(page)).IsInvalidArgument());  // meta page
  EXPECT_TRUE(b.AddPageImage(5, 0, test::U8(page)).IsInvalidArgument());  // LSN 0
  EXPECT_TRUE(b.AddPageImage(6, 4, test::U8(page)).IsInvalidArgument());  // another LSN
  EXPECT_TRUE(b.AddPageDelta(6, 3, 3, ranges).IsInvalidArgument());       // base == new
  EXPECT_TRUE(b.AddPageDelta(6, 2, 4, ranges).IsInvalidArgument());       // another LSN
  std::vector<DeltaRange> overlap = {{10, bytes}, {11, bytes}};
  EXPECT_TRUE(b.AddPageDelta(6, 2, 3, overlap).IsInvalidArgument());
  std::string ops;
  AppendWriteOp(&ops, 10, bytes);
  EXPECT_TRUE(b.AddPageOps(1, 2, 3, ops).IsInvalidArgument());  // meta page
  EXPECT_TRUE(b.AddPageOps(6, 3, 3, ops).IsInvalidArgument());  // base == new
  EXPECT_TRUE(b.AddPageOps(6, 2, 4, ops).IsInvalidArgument());  // another LSN
  EXPECT_TRUE(b.AddPageOps(6, 2, 3, "").IsInvalidArgument());   // no op
  std::string past;
  AppendWriteOp(&past, test::kPageSize - 2, bytes);
  EXPECT_TRUE(b.AddPageOps(6, 2, 3, past).IsInvalidArgument());
  std::string too_many;  // 3-byte moves past the delta bound
  while (kOpsFixedSize + too_many.size() <= MaxOpsPayload(test::kPageSize)) {
    AppendMoveOp(&too_many, 100, 101, 1);
  }
  const Status big = b.AddPageOps(6, 2, 3, too_many);
  EXPECT_TRUE(big.IsInvalidArgument());
  EXPECT_NE(big.message().find("exceed the record bound"), std::string::npos) << big.ToString();
  CommitInfo c;
  c.lsn = 4;  // not the transaction's LSN
  c.page_count = 10;
  EXPECT_TRUE(b.AddCommit(c).IsInvalidArgument());
  c.lsn = 3;
  c.durable_lsn = 3;  // must be below the LSN
  EXPECT_TRUE(b.AddCommit(c).IsInvalidArgument());
  // A continued log of format 4 or 5 (a resumed older log) has no room for
  // the catalog root: a commit that needs one fails, naming the formats
  // that have it, and the batch is unchanged.
  c.durable_lsn = 2;
  c.catalog_root = 7;
  for (uint32_t version : {4u, 5u}) {
    b.set_log_version(version);
    const Status old_log = b.AddCommit(c);
    EXPECT_TRUE(old_log.IsInvalidArgument()) << old_log.ToString();
    EXPECT_NE(old_log.message().find("format version " + std::to_string(version) +
                                     " cannot carry named trees"),
              std::string::npos)
        << old_log.ToString();
  }
  b.set_log_version(kWalNewestFormatVersion);
  c.catalog_root = 0;
  c.durable_lsn = 3;
  EXPECT_EQ(b.data(), before);
  EXPECT_EQ(b.last_checksum(), checksum);
  EXPECT_EQ(b.record_count(), 1u);

  c.durable_lsn = 2;
  ASSERT_TRUE(b.AddCommit(c).ok());
  // The next transaction in the same batch must be LSN 4.
  EXPECT_TRUE(b.AddPageImage(5, 3, test::U8(page)).IsInvalidArgument());
  EXPECT_TRUE(b.AddPageImage(5, 4, test::U8(page)).ok());
  EXPECT_EQ(b.record_count(), 3u);
  EXPECT_EQ(b.stats().commit_records, 1u);
}

TEST(BatchBuilderTest, EmptyBatchKeepsSeedAndBuffersAreReused) {
  BatchBuilder b(test::kPageSize, true);
  b.Reset(0xABCDEF);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.last_checksum(), 0xABCDEFu);
  std::mt19937_64 rng(1);
  test::AddTxn(&b, 5, 3, 3, 4, &rng);
  const std::string first(b.data());
  const char* buffer = b.data().data();
  for (int i = 0; i < 20; ++i) {
    b.Reset(0xABCDEF);
    std::mt19937_64 again(1);
    test::AddTxn(&b, 5, 3, 3, 4, &again);
    EXPECT_EQ(b.data(), first);
    EXPECT_EQ(b.data().data(), buffer) << "the batch buffer was reallocated";
  }
}

// ReserveForPages makes room for the images and the commit record: a
// transaction of incompressible pages fills the batch without growing it
// (it used to double, copying the batch, for want of the commit's bytes).
TEST(BatchBuilderTest, ReservedRoomHoldsImagesAndTheCommit) {
  for (bool compress : {false, true}) {
    BatchBuilder b(test::kPageSize, compress);
    b.Reset(7);
    constexpr uint32_t kPages = 64;
    b.ReserveForPages(kPages);
    const char* buffer = b.data().data();
    std::mt19937_64 rng(3);
    std::string page(test::kPageSize, '\0');
    for (uint32_t i = 0; i < kPages; ++i) {
      for (char& c : page) c = static_cast<char>(rng());
      ASSERT_TRUE(b.AddPageImage(2 + i, 9, test::U8(page)).ok());
    }
    CommitInfo c;
    c.txn_id = c.lsn = 9;
    c.root = 2;
    c.page_count = 2 + kPages;
    c.durable_lsn = 8;
    ASSERT_TRUE(b.AddCommit(c).ok());
    EXPECT_EQ(b.stats().compressed_bytes_saved, 0u) << "random pages do not compress";
    EXPECT_EQ(b.data().data(), buffer)
        << "the batch buffer was reallocated (compress " << compress << ")";
  }
}

}  // namespace
}  // namespace sombra::wal
