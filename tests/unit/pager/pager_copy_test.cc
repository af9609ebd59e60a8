// Copies between pages (PagerTxn::NoteCopy; log formats 12 and 13,
// docs/format/wal.md "Page ops"): logged as copies when the source page's
// last commit holds the bytes and the transaction logs the source with a
// base LSN, written out otherwise; replayed from the source as it was
// before the transaction by recovery and by a read-only handle following
// the writer.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "pager/pager.h"
#include "pager/pager_txn.h"
#include "pager/snapshot.h"
#include "pager_test_util.h"
#include "testutil/temp_dir.h"
#include "wal/wal_batch.h"
#include "wal/wal_page_ops.h"
#include "wal/wal_reader.h"
#include "wal/wal_writer.h"

namespace sombra::pager {
namespace {

class PagerCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pager = Pager::Open(Env::Default(), path_, Options());
    ASSERT_TRUE(pager.ok()) << pager.status().ToString();
    pager_ = std::move(*pager);
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    for (uint32_t* p : {&a_, &b_, &c_}) {
      uint8_t* page = nullptr;
      auto no = (*txn)->Allocate(PageKind::kRaw, &page);
      ASSERT_TRUE(no.ok());
      *p = *no;
      for (uint32_t i = kPageHeaderSize; i < pager_->page_size(); ++i) {
        page[i] = static_cast<uint8_t>(i * 7 + *p);
      }
    }
    ASSERT_TRUE((*txn)->Commit().ok());
  }

  std::string Page(Pager* pager, uint32_t page_no) {
    auto snap = pager->BeginRead();
    auto page = snap->Read(page_no);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return "";
    return std::string(reinterpret_cast<const char*>(*page) + kPageHeaderSize,
                       pager->page_size() - kPageHeaderSize);
  }

  // Calls visit(record) for each record of the log, in order.
  void ForEachLogRecord(const std::function<void(const wal::Record&)>& visit) {
    auto file = Env::Default()->OpenFile(path_ + "-wal", OpenMode::kReadOnly);
    ASSERT_TRUE(file.ok());
    wal::WalReader reader(file->get());
    ASSERT_TRUE(reader.Open().ok());
    wal::Record rec;
    while (reader.Next(&rec)) visit(rec);
  }

  // The copies of the log's last transaction: (page, source page) pairs.
  std::vector<std::pair<uint32_t, uint32_t>> CopiesInLog() {
    std::vector<std::pair<uint32_t, uint32_t>> out, txn;
    ForEachLogRecord([&](const wal::Record& rec) {
      if (rec.type == wal::RecordType::kCommit) {
        out = txn;
        txn.clear();
      } else if (rec.type == wal::RecordType::kPageOps) {
        wal::ForEachCopySource(rec.ops, pager_->page_size(),
                               [&](uint32_t src) { txn.emplace_back(rec.page_no, src); });
      }
    });
    return out;
  }

  // A read-only handle beside the writer, following its log.
  std::unique_ptr<Pager> Follower() {
    Options ro;
    ro.read_only = true;
    auto pager = Pager::Open(Env::Default(), path_, ro);
    EXPECT_TRUE(pager.ok()) << pager.status().ToString();
    return pager.ok() ? std::move(*pager) : nullptr;
  }

  // The base LSN and ops size of the last page-ops record of `page_no`
  // in the log (size 0: none).
  std::pair<uint64_t, size_t> LastOpsOf(uint32_t page_no) {
    std::pair<uint64_t, size_t> out{0, 0};
    ForEachLogRecord([&](const wal::Record& rec) {
      if (rec.type == wal::RecordType::kPageOps && rec.page_no == page_no) {
        out = {rec.base_lsn, rec.ops.size()};
      }
    });
    return out;
  }

  // The database as a crash now would leave it (the log synced, the page
  // file as the last checkpoint left it), opened: recovery replays the log.
  std::unique_ptr<Pager> Crashed() {
    const std::string copy = dir_.File("crashed" + std::to_string(++crashes_));
    sombra::test::WriteFileOrDie(copy, sombra::test::ReadFileOrDie(path_));
    sombra::test::WriteFileOrDie(copy + "-wal", sombra::test::ReadFileOrDie(path_ + "-wal"));
    auto pager = Pager::Open(Env::Default(), copy, Options());
    EXPECT_TRUE(pager.ok()) << pager.status().ToString();
    return pager.ok() ? std::move(*pager) : nullptr;
  }

  // Copies `length` bytes at `src` of page `from` as the transaction reads
  // it into page `to` at `dst`, and notes the copy.
  static void Copy(PagerTxn* txn, uint32_t from, uint32_t src, uint32_t to, uint32_t dst,
                   uint32_t length) {
    auto source = txn->Read(from);
    ASSERT_TRUE(source.ok());
    const std::string bytes(reinterpret_cast<const char*>(*source) + src, length);
    auto page = txn->Write(to);
    ASSERT_TRUE(page.ok());
    std::memcpy(*page + dst, bytes.data(), length);
    txn->NoteCopy(to, dst, from, src, length);
  }

  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
  std::unique_ptr<Pager> pager_;
  uint32_t a_ = 0, b_ = 0, c_ = 0;
  int crashes_ = 0;
};

// Page B takes bytes of page A, then A changes them in the same
// transaction: the log names A, and every replay copies A as it was before.
TEST_F(PagerCopyTest, ACopyReadsItsSourceAsItWasBeforeTheTransaction) {
  std::unique_ptr<Pager> follower = Follower();
  ASSERT_NE(follower, nullptr);
  const std::string a_before = Page(pager_.get(), a_);
  {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    ASSERT_NO_FATAL_FAILURE(Copy(txn->get(), a_, 500, b_, 1000, 100));
    ASSERT_NO_FATAL_FAILURE(Copy(txn->get(), a_, 600, b_, 1100, 50));  // extends the copy
    auto a = (*txn)->Write(a_);
    ASSERT_TRUE(a.ok());
    std::memset(*a + 500, 'z', 150);
    (*txn)->NoteWrite(a_, 500, 150);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  using Copies = std::vector<std::pair<uint32_t, uint32_t>>;
  EXPECT_EQ(CopiesInLog(), (Copies{{b_, a_}})) << "one copy, of both ranges";
  std::string b_expected = Page(pager_.get(), b_);
  ASSERT_EQ(b_expected.substr(1000 - kPageHeaderSize, 150),
            a_before.substr(500 - kPageHeaderSize, 150));
  const std::string a_expected = Page(pager_.get(), a_);
  EXPECT_EQ(a_expected.substr(500 - kPageHeaderSize, 150), std::string(150, 'z'));

  EXPECT_EQ(Page(follower.get(), b_), b_expected) << "the follower replays the copy";
  EXPECT_EQ(Page(follower.get(), a_), a_expected);
  std::unique_ptr<Pager> recovered = Crashed();
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(Page(recovered.get(), b_), b_expected) << "recovery replays the copy";
  EXPECT_EQ(Page(recovered.get(), a_), a_expected);
}

// A source the transaction does not log (untouched), logs whole (freed),
// or whose last commit lacks the bytes: the bytes are written instead.
TEST_F(PagerCopyTest, CopiesReplayCannotTakeFromTheirSourceAreWritten) {
  const std::string a_before = Page(pager_.get(), a_);
  const std::string c_before = Page(pager_.get(), c_);
  {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    ASSERT_NO_FATAL_FAILURE(Copy(txn->get(), a_, 500, b_, 1000, 100));
    ASSERT_NO_FATAL_FAILURE(Copy(txn->get(), c_, 700, b_, 2000, 100));  // C is freed below
    // A changes, then gives bytes its last commit does not hold.
    auto a = (*txn)->Write(a_);
    ASSERT_TRUE(a.ok());
    std::memset(*a + 3000, 'q', 64);
    (*txn)->NoteWrite(a_, 3000, 64);
    ASSERT_NO_FATAL_FAILURE(Copy(txn->get(), a_, 3000, b_, 3000, 64));
    ASSERT_TRUE((*txn)->Free(c_).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  // The first copy names A, which the transaction logs as page ops: it
  // stays. C is logged whole (a free page), and A's new bytes were never
  // in its last commit: those two are writes.
  using Copies = std::vector<std::pair<uint32_t, uint32_t>>;
  EXPECT_EQ(CopiesInLog(), (Copies{{b_, a_}}));
  const std::string b_expected = Page(pager_.get(), b_);
  EXPECT_EQ(b_expected.substr(1000 - kPageHeaderSize, 100),
            a_before.substr(500 - kPageHeaderSize, 100));
  EXPECT_EQ(b_expected.substr(2000 - kPageHeaderSize, 100),
            c_before.substr(700 - kPageHeaderSize, 100));
  EXPECT_EQ(b_expected.substr(3000 - kPageHeaderSize, 64), std::string(64, 'q'));
  std::unique_ptr<Pager> recovered = Crashed();
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(Page(recovered.get(), b_), b_expected);

  // Now A is not in the transaction at all: no copy is left.
  {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    ASSERT_NO_FATAL_FAILURE(Copy(txn->get(), a_, 800, b_, 1500, 100));
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  EXPECT_TRUE(CopiesInLog().empty());
  const std::string b_now = Page(pager_.get(), b_);
  EXPECT_EQ(b_now.substr(1500 - kPageHeaderSize, 100), a_before.substr(800 - kPageHeaderSize, 100));
  recovered = Crashed();
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(Page(recovered.get(), b_), b_now);
}

// A page cloned in the transaction from a page it has not touched (a
// split's new leaf when the split leaf was logged whole) is page ops on a
// page of zeros: copies of the runs the source's last commit holds, writes
// of its other non-zero bytes. Also for a page the freelist gave back,
// whose old bytes replay must not start from.
TEST_F(PagerCopyTest, ACloneOfAnUntouchedPageIsPageOpsOnZeros) {
  std::unique_ptr<Pager> follower = Follower();
  ASSERT_NE(follower, nullptr);
  {
    auto txn = pager_->BeginWrite();  // C goes to the freelist
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->Free(c_).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  const std::string a_before = Page(pager_.get(), a_);
  const uint32_t ps = pager_->page_size();
  uint32_t built = 0;
  {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    uint8_t* page = nullptr;
    auto no = (*txn)->Allocate(PageKind::kRaw, &page);  // C again, from the freelist
    ASSERT_TRUE(no.ok());
    built = *no;
    EXPECT_EQ(built, c_);
    auto a = (*txn)->Read(a_);
    ASSERT_TRUE(a.ok());
    std::memcpy(page + kPageHeaderSize, *a + kPageHeaderSize, ps - kPageHeaderSize);
    std::memset(page + 3000, 'n', 40);  // not A's bytes: written
    EncodeFixed32(page + 30, 77);       // a node header field
    (*txn)->NoteCloned(built, a_);
    EXPECT_FALSE((*txn)->IsDirty(a_)) << "the clone only read A";
    // Later edits of the clone add to its ops; A changes too (it is
    // logged as page ops, so the copy stays).
    std::memset(page + 1100, 'e', 10);
    (*txn)->NoteWrite(built, 1100, 10);
    auto aw = (*txn)->Write(a_);
    ASSERT_TRUE(aw.ok());
    std::memset(*aw + 500, 'z', 700);
    (*txn)->NoteWrite(a_, 500, 700);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  EXPECT_EQ(pager_->metrics()->Value("wal_image_records"), 4u) << "3 pages, then the free page";
  // The clone's record: page ops of base LSN 0 holding the copies.
  const auto [base, size] = LastOpsOf(built);
  EXPECT_EQ(base, 0u);
  EXPECT_GT(size, 0u);
  EXPECT_LT(size, 200u);
  using Copies = std::vector<std::pair<uint32_t, uint32_t>>;
  EXPECT_EQ(CopiesInLog(), (Copies{{built, a_}, {built, a_}})) << "the runs around the write";
  const std::string expected = Page(pager_.get(), built);
  EXPECT_EQ(expected.substr(500 - kPageHeaderSize, 600),
            a_before.substr(500 - kPageHeaderSize, 600));
  EXPECT_EQ(expected.substr(1100 - kPageHeaderSize, 10), std::string(10, 'e'));
  EXPECT_EQ(expected.substr(3000 - kPageHeaderSize, 40), std::string(40, 'n'));
  EXPECT_EQ(Page(follower.get(), built), expected) << "the follower";
  std::unique_ptr<Pager> recovered = Crashed();
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(Page(recovered.get(), built), expected) << "recovery";
  EXPECT_EQ(Page(recovered.get(), a_), Page(pager_.get(), a_));
}

// A copied range part of which the source changed earlier in the
// transaction: the runs its last commit still holds are copies, the bytes
// between them writes.
TEST_F(PagerCopyTest, ACopyOfPartlyChangedBytesIsCopiesAndWrites) {
  const std::string a_before = Page(pager_.get(), a_);
  {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    auto a = (*txn)->Write(a_);
    ASSERT_TRUE(a.ok());
    std::memset(*a + 1100, 'q', 20);  // inside the range copied below
    (*txn)->NoteWrite(a_, 1100, 20);
    std::memset(*a + 1390, 'r', 10);  // at its end
    (*txn)->NoteWrite(a_, 1390, 10);
    ASSERT_NO_FATAL_FAILURE(Copy(txn->get(), a_, 1000, b_, 2000, 400));
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  using Copies = std::vector<std::pair<uint32_t, uint32_t>>;
  EXPECT_EQ(CopiesInLog(), (Copies{{b_, a_}, {b_, a_}})) << "before and after the change";
  const std::string b_expected = Page(pager_.get(), b_);
  std::string want = a_before.substr(1000 - kPageHeaderSize, 400);
  want.replace(100, 20, std::string(20, 'q'));
  want.replace(390, 10, std::string(10, 'r'));
  ASSERT_EQ(b_expected.substr(2000 - kPageHeaderSize, 400), want);
  std::unique_ptr<Pager> recovered = Crashed();
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(Page(recovered.get(), b_), b_expected);
}

// A page made a copy of another that the transaction changed (a split's
// new leaf): one copy of the other's last commit, then the other's ops so
// far, then its own edits.
TEST_F(PagerCopyTest, AClonedPageIsACopyAndTheSourcesOpsSoFar) {
  std::unique_ptr<Pager> follower = Follower();
  ASSERT_NE(follower, nullptr);
  uint32_t clone = 0;
  {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    auto a = (*txn)->Write(a_);
    ASSERT_TRUE(a.ok());
    std::memset(*a + 700, 'p', 30);
    (*txn)->NoteWrite(a_, 700, 30);
    std::memmove(*a + 2010, *a + 2000, 100);
    (*txn)->NoteMove(a_, 2000, 2010, 100);
    uint8_t* page = nullptr;
    auto no = (*txn)->Allocate(PageKind::kRaw, &page);
    ASSERT_TRUE(no.ok());
    clone = *no;
    std::memcpy(page + kPageHeaderSize, *a + kPageHeaderSize,
                pager_->page_size() - kPageHeaderSize);
    (*txn)->NoteCloned(clone, a_);
    std::memset(page + 3000, 's', 8);  // its own edit after
    (*txn)->NoteWrite(clone, 3000, 8);
    std::memset(*a + 3000, 't', 8);  // and the source's, which the clone must not take
    (*txn)->NoteWrite(a_, 3000, 8);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  const auto [base, clone_ops] = LastOpsOf(clone);
  EXPECT_EQ(base, 0u);
  EXPECT_GT(clone_ops, 0u);
  EXPECT_LT(clone_ops, 120u) << "a copy, a write of 30 bytes, a move and a few writes";
  const std::string expected = Page(pager_.get(), clone);
  EXPECT_EQ(expected.substr(700 - kPageHeaderSize, 30), std::string(30, 'p'));
  EXPECT_EQ(expected.substr(3000 - kPageHeaderSize, 8), std::string(8, 's'));
  EXPECT_EQ(Page(follower.get(), clone), expected) << "the follower";
  std::unique_ptr<Pager> recovered = Crashed();
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(Page(recovered.get(), clone), expected) << "recovery";
  EXPECT_EQ(Page(recovered.get(), a_), Page(pager_.get(), a_));
}

// Hand-built logs (log format 12/13, docs/format/wal.md rule P3): a copy
// reads its source as the transaction's own record of that page names it.
// A transaction whose copy source has no such record, or a record on
// another LSN, is refused by recovery naming the transaction and page; the
// same log with the source logged on its LSN replays.
class PagerCopyLogTest : public PagerCopyTest {
 protected:
  void SetUp() override {
    PagerCopyTest::SetUp();
    // B changes once more: A and B then carry different LSNs.
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    auto b = (*txn)->Write(b_);
    ASSERT_TRUE(b.ok());
    std::memset(*b + 200, 'b', 8);
    (*txn)->NoteWrite(b_, 200, 8);
    ASSERT_TRUE((*txn)->Commit().ok());
    a_lsn_ = PageLsn(a_);
    b_lsn_ = PageLsn(b_);
    ASSERT_LT(a_lsn_, b_lsn_);
  }

  uint64_t PageLsn(uint32_t page_no) {
    auto snap = pager_->BeginRead();
    auto page = snap->Read(page_no);
    EXPECT_TRUE(page.ok());
    return page.ok() ? DecodeFixed64(*page + kHeaderLsnOffset) : 0;
  }

  // A copy of the database as a crash now would leave it, its log ending
  // in one more transaction: page ops of B copying 100 bytes of A (500 to
  // 1000), and, when `a_base` is not 0, page ops of A on that LSN.
  // Returns the copy's path.
  std::string CrashWithCopy(uint64_t a_base) {
    const std::string copy = dir_.File("hand" + std::to_string(++hand_));
    sombra::test::WriteFileOrDie(copy, sombra::test::ReadFileOrDie(path_));
    sombra::test::WriteFileOrDie(copy + "-wal", sombra::test::ReadFileOrDie(path_ + "-wal"));
    auto file = Env::Default()->OpenFile(copy + "-wal", OpenMode::kReadOnly);
    EXPECT_TRUE(file.ok());
    if (!file.ok()) return copy;
    wal::WalReader reader(file->get());
    EXPECT_TRUE(reader.Open().ok());
    wal::Record rec;
    wal::CommitInfo last;
    while (reader.Next(&rec)) {
      if (rec.type == wal::RecordType::kCommit) last = rec.commit;
    }
    EXPECT_EQ(last.lsn, b_lsn_);
    auto writer =
        wal::WalWriter::Resume(Env::Default(), copy + "-wal", reader.header(),
                               reader.committed_end_offset(), reader.committed_checksum(), nullptr);
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    if (!writer.ok()) return copy;
    const uint32_t ps = pager_->page_size();
    const uint64_t lsn = last.lsn + 1;
    wal::BatchBuilder batch(ps, false);
    batch.set_log_version(reader.header().version);
    batch.Reset((*writer)->last_checksum());
    if (a_base != 0) {
      std::string a_ops;
      wal::AppendWriteOp(&a_ops, 3000, "aaaaaaaa");
      EXPECT_TRUE(batch.AddPageOps(a_, a_base, lsn, a_ops).ok());
    }
    std::string b_ops;
    wal::AppendCopyOp(&b_ops, ps, a_, 500, 1000, 100);
    EXPECT_TRUE(batch.AddPageOps(b_, b_lsn_, lsn, b_ops).ok());
    wal::CommitInfo info = last;
    info.txn_id++;
    info.lsn = lsn;
    EXPECT_TRUE(batch.AddCommit(info).ok());
    auto end = (*writer)->Append(batch);
    EXPECT_TRUE(end.ok());
    if (end.ok()) {
      EXPECT_TRUE((*writer)->SyncTo(*end).ok());
    }
    return copy;
  }

  static Status OpenStatus(const std::string& path, bool read_only) {
    Options options;
    options.read_only = read_only;
    return Pager::Open(Env::Default(), path, options).status();
  }

  uint64_t a_lsn_ = 0, b_lsn_ = 0;
  int hand_ = 0;
};

TEST_F(PagerCopyLogTest, ACopyFromAPageLoggedOnItsLsnReplays) {
  const std::string a_before = Page(pager_.get(), a_);
  const std::string copy = CrashWithCopy(a_lsn_);
  auto pager = Pager::Open(Env::Default(), copy, Options());
  ASSERT_TRUE(pager.ok()) << pager.status().ToString();
  const std::string b = Page(pager->get(), b_);
  EXPECT_EQ(b.substr(1000 - kPageHeaderSize, 100), a_before.substr(500 - kPageHeaderSize, 100));
  EXPECT_EQ(Page(pager->get(), a_).substr(3000 - kPageHeaderSize, 8), "aaaaaaaa");
}

TEST_F(PagerCopyLogTest, ACopyFromAPageTheTransactionDoesNotLogIsRefused) {
  const std::string copy = CrashWithCopy(0);
  const std::string want = "transaction " + std::to_string(b_lsn_ + 1) + " copies from page " +
                           std::to_string(a_) +
                           ", which it logs with no delta or page ops on an earlier state";
  for (bool read_only : {false, true}) {
    const Status s = OpenStatus(copy, read_only);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find(want), std::string::npos) << s.ToString();
  }
}

TEST_F(PagerCopyLogTest, ACopyFromAPageLoggedOnAnotherLsnIsRefused) {
  // A's record names B's LSN, which A never had.
  const std::string copy = CrashWithCopy(b_lsn_);
  const std::string want = "transaction " + std::to_string(b_lsn_ + 1) + " copies from page " +
                           std::to_string(a_) + " at LSN " + std::to_string(b_lsn_) +
                           ", but the page has LSN " + std::to_string(a_lsn_);
  for (bool read_only : {false, true}) {
    const Status s = OpenStatus(copy, read_only);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find(want), std::string::npos) << s.ToString();
  }
}

}  // namespace
}  // namespace sombra::pager
