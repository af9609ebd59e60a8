// The checkpoint's double-write batch (docs/format/dwb.md) and recovery's
// use of it, from the files as a crash between a checkpoint's in-place
// writes and its meta page leaves them: every page the log changes after a
// checkpoint is logged as page ops on the page file's page (no image), so
// recovery needs each such page as the checkpoint found it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pager/pager.h"
#include "pager_test_util.h"
#include "testutil/temp_dir.h"

namespace sombra::pager {
namespace {

using test::ExpectRawPage;
using test::PatchPage;
using test::WriteNewRawPage;

constexpr int kPages = 24;
constexpr uint32_t kPatchAt = 1000;
constexpr uint32_t kEarlierPatchAt = 2000;

class PagerDwbTest : public ::testing::Test {
 protected:
  // Pages 'p' at a checkpoint (`older` keeps the page file then); each
  // patched with 'r' at kEarlierPatchAt, and a checkpoint; then each
  // patched with 'q' at kPatchAt (page ops on the page file's page); then
  // a checkpoint, during which
  // the hook copies the files to `crash` once the pages are written in
  // place (before any sync, the meta page or the log's restart), and
  // `before` holds the page file as it was before that checkpoint.
  void SetUp() override {
    auto pager = Pager::Open(Env::Default(), path_, Options());
    ASSERT_TRUE(pager.ok()) << pager.status().ToString();
    for (int i = 0; i < kPages; ++i) pages_.push_back(WriteNewRawPage(pager->get(), i, 'p'));
    ASSERT_TRUE((*pager)->Checkpoint().ok());
    older_ = sombra::test::ReadFileOrDie(path_);
    for (uint32_t p : pages_) ASSERT_TRUE(PatchPage(pager->get(), p, kEarlierPatchAt, 8, 'r').ok());
    ASSERT_TRUE((*pager)->Checkpoint().ok());
    MetricsRegistry* m = (*pager)->metrics();
    const uint64_t images = m->Value("wal_image_records");
    const uint64_t ops = m->Value("wal_ops_records");
    for (uint32_t p : pages_) ASSERT_TRUE(PatchPage(pager->get(), p, kPatchAt, 8, 'q').ok());
    EXPECT_EQ(m->Value("wal_image_records"), images) << "no image after the checkpoint";
    EXPECT_EQ(m->Value("wal_ops_records") - ops, static_cast<uint64_t>(kPages));
    before_ = sombra::test::ReadFileOrDie(path_);
    (*pager)->SetTestHook([&](PagerHook point) {
      if (point != PagerHook::kCheckpointPagesWritten) return;
      for (const char* suffix : {"", "-wal", "-dwb"}) {
        sombra::test::WriteFileOrDie(crash_ + suffix, sombra::test::ReadFileOrDie(path_ + suffix));
      }
    });
    const uint64_t copies = m->Value("double_write_pages");
    ASSERT_TRUE((*pager)->Checkpoint().ok());
    EXPECT_EQ(m->Value("double_write_pages") - copies, static_cast<uint64_t>(kPages));
    (*pager)->SetTestHook(nullptr);
  }

  // Every page holds its patch (the last commit before the crash).
  void ExpectCommittedState(Pager* pager) {
    auto snap = pager->BeginRead();
    for (size_t i = 0; i < pages_.size(); ++i) {
      auto page = snap->Read(pages_[i]);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      EXPECT_EQ(DecodeFixed32(*page + kPageHeaderSize), i);
      EXPECT_EQ((*page)[kPatchAt], 'q') << "page " << pages_[i];
      EXPECT_EQ((*page)[kPatchAt + 8], 'p') << "page " << pages_[i];
      EXPECT_EQ((*page)[kEarlierPatchAt], 'r') << "page " << pages_[i];
    }
  }

  // Tears page `page_no` of the crash copy: its second half garbage.
  void Tear(uint32_t page_no) {
    std::string db = sombra::test::ReadFileOrDie(crash_);
    const size_t at = size_t{page_no} * kDefaultPageSize;
    for (size_t i = kDefaultPageSize / 2; i < kDefaultPageSize; ++i) db[at + i] = '\x5a';
    sombra::test::WriteFileOrDie(crash_, db);
  }

  Result<std::unique_ptr<Pager>> OpenCrash(bool read_only = false) {
    Options o;
    o.read_only = read_only;
    return Pager::Open(Env::Default(), crash_, o);
  }

  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
  std::string crash_ = dir_.File("crash");
  std::string before_;
  std::string older_;
  std::vector<uint32_t> pages_;
};

// The pages written in place, some of them torn: recovery puts every one
// back from its copy, replays the log's page ops on them, and the state is
// exactly the last commit's.
TEST_F(PagerDwbTest, PagesWrittenInPlaceAndTornArePutBack) {
  Tear(pages_[0]);
  Tear(pages_[kPages / 2]);
  auto pager = OpenCrash();
  ASSERT_TRUE(pager.ok()) << pager.status().ToString();
  EXPECT_EQ((*pager)->recovery().pages_restored, static_cast<uint64_t>(kPages));
  EXPECT_EQ((*pager)->recovery().transactions_replayed, static_cast<uint64_t>(kPages));
  ExpectCommittedState(pager->get());
  pager->reset();
  // Recovered and checkpointed: a plain reopen replays nothing.
  pager = OpenCrash();
  ASSERT_TRUE(pager.ok()) << pager.status().ToString();
  EXPECT_EQ((*pager)->recovery().transactions_replayed, 0u);
  ExpectCommittedState(pager->get());
}

// A read-only handle writes nothing: it takes the copies in memory.
TEST_F(PagerDwbTest, AReadOnlyOpenReadsTheCopies) {
  Tear(pages_[1]);
  auto pager = OpenCrash(/*read_only=*/true);
  ASSERT_TRUE(pager.ok()) << pager.status().ToString();
  EXPECT_EQ((*pager)->recovery().pages_restored, 0u);
  ExpectCommittedState(pager->get());
}

// Without the double-write file, a page the checkpoint rewrote is not the
// page the log's ops apply on: a clear Corruption, nothing changed.
TEST_F(PagerDwbTest, WithoutItsCopiesRecoveryRefusesClearly) {
  ASSERT_TRUE(Env::Default()->RemoveFile(crash_ + "-dwb").ok());
  const std::string db = sombra::test::ReadFileOrDie(crash_);
  auto pager = OpenCrash();
  ASSERT_FALSE(pager.ok());
  EXPECT_TRUE(pager.status().IsCorruption()) << pager.status().ToString();
  EXPECT_NE(pager.status().message().find("page " + std::to_string(pages_[0])), std::string::npos)
      << pager.status().ToString();
  EXPECT_NE(pager.status().message().find(crash_ + "-dwb has no copy"), std::string::npos)
      << pager.status().ToString();
  EXPECT_EQ(sombra::test::ReadFileOrDie(crash_), db);
}

// A batch cut short was never synced, so its checkpoint wrote nothing in
// place: recovery leaves the page file alone and replays on it. The batch
// is written over the previous one, so the copies a cut leaves may be
// older batches' copies of the same pages, whole and valid but older than
// the checkpoint: one of them put back would lose the commits between.
TEST_F(PagerDwbTest, ABatchCutShortIsLeftAlone) {
  sombra::test::WriteFileOrDie(crash_, before_);  // no page written in place
  std::string dwb = sombra::test::ReadFileOrDie(crash_ + "-dwb");
  const size_t last_copy = dwb.size() - kDefaultPageSize;
  ASSERT_EQ(dwb.substr(last_copy),
            before_.substr(size_t{pages_.back()} * kDefaultPageSize, kDefaultPageSize));
  dwb.replace(last_copy, kDefaultPageSize,
              older_.substr(size_t{pages_.back()} * kDefaultPageSize, kDefaultPageSize));
  sombra::test::WriteFileOrDie(crash_ + "-dwb", dwb);
  auto pager = OpenCrash();
  ASSERT_TRUE(pager.ok()) << pager.status().ToString();
  EXPECT_EQ((*pager)->recovery().pages_restored, 0u);
  ExpectCommittedState(pager->get());
}

// Once the checkpoint's meta page is durable the batch is never read: a
// clean close leaves an empty double-write file.
TEST_F(PagerDwbTest, ACompletedCheckpointsBatchIsNotRead) {
  EXPECT_EQ(Env::Default()->GetFileSize(path_ + "-dwb").value(), 0u) << "emptied at close";
  auto pager = Pager::Open(Env::Default(), path_, Options());
  ASSERT_TRUE(pager.ok()) << pager.status().ToString();
  EXPECT_EQ((*pager)->recovery().pages_restored, 0u);
  ExpectCommittedState(pager->get());
}

}  // namespace
}  // namespace sombra::pager
