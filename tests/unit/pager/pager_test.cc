// The page file: creation, options, reads and writes, growth, freelist.
#include "pager/pager.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <random>

#include "pager_test_util.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"

namespace sombra::pager {
namespace {

using test::ExpectRawPage;
using test::RawPage;
using test::WriteNewRawPage;

class PagerTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<Pager>> Open(Options options = Options()) {
    return Pager::Open(Env::Default(), path_, options);
  }
  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
};

TEST_F(PagerTest, InvalidPageSizesAreRejectedAndCreateNoFile) {
  for (uint32_t ps : {0u, 512u, 1000u, 2048u, 3000u, 4097u, 12288u, 131072u}) {
    Options o;
    o.page_size = ps;
    auto pager = Open(o);
    ASSERT_FALSE(pager.ok()) << ps;
    EXPECT_TRUE(pager.status().IsInvalidArgument()) << pager.status().ToString();
    EXPECT_NE(pager.status().message().find(std::to_string(ps)), std::string::npos);
    EXPECT_FALSE(Env::Default()->FileExists(path_));
    EXPECT_FALSE(Env::Default()->FileExists(path_ + "-lock"));
  }
}

TEST_F(PagerTest, EveryValidPageSizeCreatesAndReopens) {
  for (uint32_t ps = kMinPageSize; ps <= kMaxPageSize; ps *= 2) {
    std::string path = dir_.File("db" + std::to_string(ps));
    Options o;
    o.page_size = ps;
    uint32_t page_no;
    {
      auto pager = Pager::Open(Env::Default(), path, o);
      ASSERT_TRUE(pager.ok()) << pager.status().ToString();
      EXPECT_EQ((*pager)->page_size(), ps);
      page_no = WriteNewRawPage(pager->get(), 42, 'p');
      ASSERT_TRUE((*pager)->Sync().ok());
    }
    o.page_size = kDefaultPageSize;  // an existing file keeps its own page size
    auto pager = Pager::Open(Env::Default(), path, o);
    ASSERT_TRUE(pager.ok()) << pager.status().ToString();
    EXPECT_EQ((*pager)->page_size(), ps);
    ExpectRawPage(pager->get(), page_no, 42, 'p');
  }
}

TEST_F(PagerTest, OpenOptions) {
  Options o;
  o.create_if_missing = false;
  auto missing = Open(o);
  ASSERT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find(path_), std::string::npos);
  EXPECT_FALSE(Env::Default()->FileExists(path_));

  ASSERT_TRUE(Open().ok());
  o = Options();
  o.error_if_exists = true;
  auto exists = Open(o);
  ASSERT_TRUE(exists.status().IsInvalidArgument()) << exists.status().ToString();
  EXPECT_NE(exists.status().message().find(path_), std::string::npos);

  auto dir = Pager::Open(Env::Default(), dir_.path(), Options());
  EXPECT_TRUE(dir.status().IsInvalidArgument()) << dir.status().ToString();
}

TEST_F(PagerTest, NonSombraFileIsACleanError) {
  std::string junk(10000, '\0');
  std::mt19937_64 rng(sombra::test::TestSeed());
  for (char& c : junk) c = static_cast<char>(rng());
  sombra::test::WriteFileOrDie(path_, junk);
  auto pager = Open();
  ASSERT_FALSE(pager.ok());
  EXPECT_TRUE(pager.status().IsInvalidArgument()) << pager.status().ToString();
  EXPECT_NE(pager.status().message().find("not a Sombra database"), std::string::npos);
  EXPECT_EQ(sombra::test::ReadFileOrDie(path_), junk) << "opening must not write";

  sombra::test::WriteFileOrDie(path_, "hello");
  EXPECT_TRUE(Open().status().IsInvalidArgument());
}

TEST_F(PagerTest, EmptyFileIsInitialised) {
  sombra::test::WriteFileOrDie(path_, "");
  auto pager = Open();
  ASSERT_TRUE(pager.ok()) << pager.status().ToString();
  EXPECT_EQ((*pager)->meta().page_count, kFirstDataPage);
}

TEST_F(PagerTest, WritesReadBackZeroCopyFromTheMap) {
  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  std::vector<uint32_t> pages;
  for (uint32_t i = 0; i < 20; ++i) pages.push_back(WriteNewRawPage(pager->get(), i, 'a' + i));
  for (uint32_t i = 0; i < 20; ++i) ExpectRawPage(pager->get(), pages[i], i, 'a' + i);

  auto region = (*pager)->Pin();
  auto page = (*pager)->ReadPage(*region, pages[3]);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(*page, region->data() + uint64_t{pages[3]} * (*pager)->page_size())
      << "reads must be views into the map, not copies";

  EXPECT_TRUE((*pager)->ReadPage((*pager)->meta().page_count).status().IsInvalidArgument());
}

TEST_F(PagerTest, WritePageRejectsMetaAndOutOfRangePages) {
  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  auto page = RawPage(4096, 1, 'x');
  EXPECT_TRUE((*pager)->WritePage(0, page.data()).IsInvalidArgument());
  EXPECT_TRUE((*pager)->WritePage(1, page.data()).IsInvalidArgument());
  EXPECT_TRUE((*pager)->WritePage(99, page.data()).IsInvalidArgument());
  uint32_t p = WriteNewRawPage(pager->get(), 1, 'x');
  page[kHeaderKindOffset] = 0;
  EXPECT_TRUE((*pager)->WritePage(p, page.data()).IsInvalidArgument());
  page[kHeaderKindOffset] = static_cast<uint8_t>(PageKind::kMeta);
  EXPECT_TRUE((*pager)->WritePage(p, page.data()).IsInvalidArgument());
  EXPECT_TRUE((*pager)->FreePage(1).IsInvalidArgument());
}

TEST_F(PagerTest, StateSurvivesReopenOnlyAfterSync) {
  uint32_t a, b;
  {
    auto pager = Open();
    ASSERT_TRUE(pager.ok());
    a = WriteNewRawPage(pager->get(), 1, 'a');
    (*pager)->SetRoot(a);
    ASSERT_TRUE((*pager)->Sync().ok());
    b = WriteNewRawPage(pager->get(), 2, 'b');
    (*pager)->SetRoot(b);  // never synced
  }
  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  EXPECT_EQ((*pager)->meta().root, a);
  EXPECT_EQ((*pager)->meta().page_count, uint64_t{a} + 1);
  ExpectRawPage(pager->get(), a, 1, 'a');
}

TEST_F(PagerTest, FreelistSurvivesReopenAndFreedPagesAreReused) {
  std::vector<uint32_t> pages;
  {
    auto pager = Open();
    ASSERT_TRUE(pager.ok());
    for (uint32_t i = 0; i < 10; ++i) pages.push_back(WriteNewRawPage(pager->get(), i, 'f'));
    ASSERT_TRUE((*pager)->FreePage(pages[2]).ok());
    ASSERT_TRUE((*pager)->FreePage(pages[5]).ok());
    ASSERT_TRUE((*pager)->FreePage(pages[7]).ok());
    ASSERT_TRUE((*pager)->Sync().ok());
  }
  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  EXPECT_EQ((*pager)->meta().freelist_count, 3u);
  EXPECT_EQ((*pager)->meta().freelist_head, pages[7]);
  const uint64_t count_before = (*pager)->meta().page_count;
  std::vector<uint32_t> reused;
  for (int i = 0; i < 3; ++i) {
    auto p = (*pager)->AllocatePage();
    ASSERT_TRUE(p.ok());
    reused.push_back(*p);
  }
  EXPECT_EQ(reused, (std::vector<uint32_t>{pages[7], pages[5], pages[2]}));
  EXPECT_EQ((*pager)->meta().freelist_count, 0u);
  EXPECT_EQ((*pager)->meta().page_count, count_before) << "reuse must not extend the file";
  auto fresh = (*pager)->AllocatePage();
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(*fresh, count_before);
}

TEST_F(PagerTest, FreelistPointingAtANonFreePageIsCorruption) {
  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  uint32_t p = WriteNewRawPage(pager->get(), 1, 'z');
  ASSERT_TRUE((*pager)->FreePage(p).ok());
  auto page = RawPage(4096, 9, 'q');
  ASSERT_TRUE((*pager)->WritePage(p, page.data()).ok());  // a bug above the pager
  auto again = (*pager)->AllocatePage();
  ASSERT_TRUE(again.status().IsCorruption()) << again.status().ToString();
  EXPECT_NE(again.status().message().find("freelist page " + std::to_string(p)), std::string::npos);
}

TEST_F(PagerTest, MappingHeldByAReaderStaysValidAfterTheFileGrows) {
  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  uint32_t first = WriteNewRawPage(pager->get(), 77, 'r');
  auto region = (*pager)->Pin();
  const uint64_t old_size = region->size();
  auto page = (*pager)->ReadPage(*region, first);
  ASSERT_TRUE(page.ok());
  const uint8_t* old_view = *page;

  // Enough pages for several growth steps (1 MiB, then by a quarter).
  for (uint32_t i = 0; i < 1200; ++i) WriteNewRawPage(pager->get(), i, 'g');
  auto grown = (*pager)->Pin();
  EXPECT_GT(grown->size(), old_size);
  EXPECT_GE((*pager)->metrics()->Value("pager_file_grows"), 2u);

  EXPECT_EQ(region->size(), old_size);
  EXPECT_EQ(DecodeFixed32(old_view + kPageHeaderSize), 77u);
  EXPECT_EQ(old_view[4095], 'r');
  ExpectRawPage(pager->get(), first, 77, 'r');
}

TEST_F(PagerTest, ReadOnlyOpenWritesNothingAndTakesNoLock) {
  uint32_t p;
  {
    auto pager = Open();
    ASSERT_TRUE(pager.ok());
    p = WriteNewRawPage(pager->get(), 5, 'o');
    ASSERT_TRUE((*pager)->Sync().ok());
  }
  std::string before = sombra::test::ReadFileOrDie(path_);
  auto writer = Open();
  ASSERT_TRUE(writer.ok());
  Options ro;
  ro.read_only = true;
  auto reader = Open(ro);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ExpectRawPage(reader->get(), p, 5, 'o');
  EXPECT_TRUE((*reader)->AllocatePage().status().IsNotSupported());
  EXPECT_TRUE((*reader)->Sync().IsNotSupported());
  EXPECT_TRUE((*reader)->FreePage(p).IsNotSupported());
  reader->reset();
  writer->reset();
  EXPECT_EQ(sombra::test::ReadFileOrDie(path_), before);

  ro.create_if_missing = true;
  auto missing = Pager::Open(Env::Default(), dir_.File("nope"), ro);
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_FALSE(Env::Default()->FileExists(dir_.File("nope")));
}

}  // namespace
}  // namespace sombra::pager
