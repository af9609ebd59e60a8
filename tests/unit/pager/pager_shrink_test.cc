// PagerTxn::ListFree, UnlinkFree and ShrinkTo (compaction's page-level
// steps) and the checkpoint that then shrinks the file: pages leave the
// freelist from anywhere in it, the page count goes down and the file
// with it; refusals change nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "pager/pager.h"
#include "pager/pager_txn.h"
#include "pager_test_util.h"
#include "testutil/temp_dir.h"

namespace sombra::pager {
namespace {

using test::AllocRawPage;

class PagerShrinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = Pager::Open(Env::Default(), path_, Options());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pager_ = std::move(*p);
    // Pages 2..21, then 2, 5, 9, 20 and 21 freed (freelist: 21 20 9 5 2).
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    for (uint32_t i = 0; i < 20; ++i) AllocRawPage(txn->get(), i, 'a');
    ASSERT_TRUE((*txn)->Commit().ok());
    txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    for (uint32_t page_no : {2u, 5u, 9u, 20u, 21u}) ASSERT_TRUE((*txn)->Free(page_no).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }

  std::vector<uint32_t> FreeList() {
    auto txn = pager_->BeginWrite();
    EXPECT_TRUE(txn.ok());
    std::vector<uint32_t> pages;
    Status s = (*txn)->ListFree(&pages);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return pages;
  }

  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
  std::unique_ptr<Pager> pager_;
};

TEST_F(PagerShrinkTest, UnlinkFromAnywhereThenShrinkAndTheFileFollows) {
  EXPECT_EQ(FreeList(), (std::vector<uint32_t>{21, 20, 9, 5, 2}));
  auto txn = pager_->BeginWrite();
  ASSERT_TRUE(txn.ok());
  // The head, one in the middle, and the tail pages.
  ASSERT_TRUE((*txn)->UnlinkFree({21, 20, 5}).ok());
  ASSERT_TRUE((*txn)->ShrinkTo(20).ok());
  EXPECT_EQ((*txn)->state().freelist_count, 2u);
  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_EQ(pager_->published().page_count, 20u);
  EXPECT_EQ(FreeList(), (std::vector<uint32_t>{9, 2}));
  // Page 5 left the freelist: it is the caller's (here: unused, leaked).
  ASSERT_TRUE(pager_->Checkpoint(/*trim_file=*/true).ok());
  EXPECT_EQ(pager_->file_meta().page_count, 20u);
  auto size = Env::Default()->GetFileSize(path_);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 20u * 4096);
  // The file grows again from there: the freelist first, then page 20.
  txn = pager_->BeginWrite();
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(AllocRawPage(txn->get(), 7, 'x'), 9u);
  EXPECT_EQ(AllocRawPage(txn->get(), 8, 'y'), 2u);
  EXPECT_EQ(AllocRawPage(txn->get(), 9, 'w'), 20u);
  ASSERT_TRUE((*txn)->Commit().ok());
  ASSERT_TRUE(pager_->Checkpoint().ok());
  pager_.reset();
  auto p = Pager::Open(Env::Default(), path_, Options());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  test::ExpectRawPage(p->get(), 20, 9, 'w');
  test::ExpectRawPage(p->get(), 19, 17, 'a');
}

TEST_F(PagerShrinkTest, RefusalsChangeNothing) {
  auto txn = pager_->BeginWrite();
  ASSERT_TRUE(txn.ok());
  Status s = (*txn)->UnlinkFree({9, 3});  // 3 is not free
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.ToString().find("not on it"), std::string::npos) << s.ToString();
  (*txn)->Abort();

  txn = pager_->BeginWrite();
  ASSERT_TRUE(txn.ok());
  s = (*txn)->ShrinkTo(21);  // free page 21 is still on the list, past 21
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  s = (*txn)->ShrinkTo(23);  // beyond the page count
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  ASSERT_TRUE((*txn)->UnlinkFree({21, 20}).ok());
  ASSERT_TRUE((*txn)->Write(19).ok());
  s = (*txn)->ShrinkTo(19);  // page 19 was written
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("page 19 was written"), std::string::npos) << s.ToString();
  (*txn)->Abort();
  EXPECT_EQ(pager_->published().page_count, 22u);
  EXPECT_EQ(FreeList(), (std::vector<uint32_t>{21, 20, 9, 5, 2}));
}

// A snapshot from before the shrink keeps reading the pages past the new
// page count: the checkpoint neither drops their versions nor shrinks the
// file until it ends.
TEST_F(PagerShrinkTest, ASnapshotHoldsTheTailUntilItEnds) {
  auto txn = pager_->BeginWrite();
  ASSERT_TRUE(txn.ok());
  AllocRawPage(txn->get(), 99, 'z');  // reuses 21 from the freelist head
  ASSERT_TRUE((*txn)->Commit().ok());
  ASSERT_TRUE(pager_->Checkpoint().ok());
  std::unique_ptr<Snapshot> held = pager_->BeginRead();
  txn = pager_->BeginWrite();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->Free(21).ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  txn = pager_->BeginWrite();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->UnlinkFree({21, 20}).ok());
  ASSERT_TRUE((*txn)->ShrinkTo(20).ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  ASSERT_TRUE(pager_->Checkpoint(/*trim_file=*/true).ok());
  auto size = Env::Default()->GetFileSize(path_);
  ASSERT_TRUE(size.ok());
  EXPECT_GE(*size, 22u * 4096);  // kept for the snapshot
  test::ExpectRawPage(*held, 21, 99, 'z');
  held.reset();
  ASSERT_TRUE(pager_->Checkpoint(/*trim_file=*/true).ok());
  size = Env::Default()->GetFileSize(path_);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 20u * 4096);
}

}  // namespace
}  // namespace sombra::pager
