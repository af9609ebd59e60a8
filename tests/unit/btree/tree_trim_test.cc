// btree::TrimFreeTail: the free pages at the end of the file leave the
// freelist and the page count; a page that looks free there but is not on
// the freelist (damage, or a leaked page) is Corruption and changes nothing.
#include <gtest/gtest.h>

#include <string>

#include "btree/tree_compact.h"
#include "pager/pager.h"
#include "pager/pager_txn.h"
#include "testutil/temp_dir.h"

namespace sombra::btree {
namespace {

class TreeTrimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = pager::Pager::Open(Env::Default(), dir_.File("db"), Options());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pager_ = std::move(*p);
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    for (int i = 0; i < 7; ++i) {  // pages 2..8
      uint8_t* page = nullptr;
      ASSERT_TRUE((*txn)->Allocate(pager::PageKind::kRaw, &page).ok());
    }
    ASSERT_TRUE((*txn)->Commit().ok());
  }

  Status Trim(uint64_t* given_back) {
    auto txn = pager_->BeginWrite();
    if (!txn.ok()) return txn.status();
    SOMBRA_RETURN_IF_ERROR(TrimFreeTail(txn->get(), given_back));
    return (*txn)->Commit();
  }

  sombra::test::TempDir dir_;
  std::unique_ptr<pager::Pager> pager_;
};

TEST_F(TreeTrimTest, TheFreeTailLeavesTheFreelistAndThePageCount) {
  auto txn = pager_->BeginWrite();
  ASSERT_TRUE(txn.ok());
  for (uint32_t p : {3u, 7u, 8u}) ASSERT_TRUE((*txn)->Free(p).ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  uint64_t given_back = 0;
  ASSERT_TRUE(Trim(&given_back).ok());
  EXPECT_EQ(given_back, 2u);
  EXPECT_EQ(pager_->published().page_count, 7u);
  EXPECT_EQ(pager_->published().freelist_count, 1u);
  EXPECT_EQ(pager_->published().freelist_head, 3u);
  ASSERT_TRUE(Trim(&given_back).ok());  // page 6 is not free: nothing more
  EXPECT_EQ(given_back, 0u);
}

TEST_F(TreeTrimTest, APageThatLooksFreeButIsNotOnTheFreelistIsCorruption) {
  auto txn = pager_->BeginWrite();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->Free(3).ok());
  // Page 8, the last, marked free without joining the freelist.
  auto page = (*txn)->Write(8);
  ASSERT_TRUE(page.ok());
  (*page)[pager::kHeaderKindOffset] = static_cast<uint8_t>(pager::PageKind::kFree);
  (*txn)->NoteWrite(8, pager::kHeaderKindOffset, 1);
  ASSERT_TRUE((*txn)->Commit().ok());
  const pager::TreeState before = pager_->published();
  uint64_t given_back = 7;
  Status s = Trim(&given_back);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("not on it"), std::string::npos) << s.ToString();
  EXPECT_EQ(given_back, 0u);
  EXPECT_EQ(pager_->published().lsn, before.lsn) << "nothing committed";
  EXPECT_EQ(pager_->published().page_count, 9u);
  EXPECT_EQ(pager_->published().freelist_count, 1u);
}

}  // namespace
}  // namespace sombra::btree
