// pager::ReadSettledMetas (pager/settled_meta.h), what DB::Verify and
// sombra-inspect read the meta pages with: a meta page read while a
// checkpoint writes it is read again, never reported; a damaged one is
// reported exactly as pager::ReadNewestMeta reports it.
#include "pager/settled_meta.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "env/env_wrapper.h"
#include "pager_test_util.h"
#include "testutil/temp_dir.h"

namespace sombra::pager::test {
namespace {

// A byte of meta page 0 under its checksum.
constexpr uint64_t kTornOffset = 200;

// The page file as a reader beside a checkpoint sees it: the first
// `torn_reads` reads of meta page 0 return it with one byte changed (a
// pwrite seen half done); every other read is the file's.
class TornMetaFile final : public FileWrapper {
 public:
  TornMetaFile(std::unique_ptr<File> f, int torn_reads)
      : FileWrapper(std::move(f)), torn_reads_(torn_reads) {}
  Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* got) override {
    SOMBRA_RETURN_IF_ERROR(FileWrapper::ReadAt(offset, n, dst, got));
    if (offset == 0 && *got > kTornOffset && torn_reads_ > 0) {
      --torn_reads_;
      dst[kTornOffset] ^= 0x5a;
    }
    return Status::OK();
  }

 private:
  int torn_reads_;
};

class SettledMetaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("db");
    auto pager = Pager::Open(Env::Default(), path_, Options());
    ASSERT_TRUE(pager.ok()) << pager.status().ToString();
    // Two checkpoints: both meta pages valid.
    for (int i = 0; i < 2; ++i) {
      WriteNewRawPage(pager->get(), i, 'a');
      ASSERT_TRUE((*pager)->Checkpoint().ok());
    }
  }

  std::unique_ptr<File> OpenTorn(int torn_reads) const {
    auto file = Env::Default()->OpenFile(path_, OpenMode::kReadOnly);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    return std::make_unique<TornMetaFile>(std::move(*file), torn_reads);
  }

  sombra::test::TempDir dir_;
  std::string path_;
};

// One ReadSettledMetas attempt reads meta page 0 three times: before the
// choice, for it, after it.
constexpr int kReadsOfPage0PerAttempt = 3;

TEST_F(SettledMetaTest, MetaPageTornForAWholeAttemptIsReadAgainNotReported) {
  // What a plain read reports: the race looks like damage.
  Result<MetaChoice> plain = ReadNewestMeta(OpenTorn(1).get());
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_TRUE(plain->slot_status[0].IsCorruption()) << plain->slot_status[0].ToString();

  MetaPages pages;
  Result<MetaChoice> settled =
      ReadSettledMetas(OpenTorn(kReadsOfPage0PerAttempt).get(), path_, kDefaultPageSize, &pages);
  ASSERT_TRUE(settled.ok()) << settled.status().ToString();
  EXPECT_TRUE(settled->slot_status[0].ok()) << settled->slot_status[0].ToString();
  EXPECT_TRUE(settled->slot_status[1].ok()) << settled->slot_status[1].ToString();
  // The pages the choice was made from: the file's.
  EXPECT_EQ(std::string(pages[0].begin(), pages[0].end()), ReadAt(path_, 0, kDefaultPageSize));
  EXPECT_EQ(std::string(pages[1].begin(), pages[1].end()),
            ReadAt(path_, kDefaultPageSize, kDefaultPageSize));
}

TEST_F(SettledMetaTest, MetaPageThatChangesUnderTheReadingIsReadAgain) {
  // Torn before the choice only: the pair read before differs from the
  // pair read after.
  Result<MetaChoice> settled = ReadSettledMetas(OpenTorn(1).get(), path_, kDefaultPageSize);
  ASSERT_TRUE(settled.ok()) << settled.status().ToString();
  EXPECT_TRUE(settled->slot_status[0].ok()) << settled->slot_status[0].ToString();
  EXPECT_TRUE(settled->slot_status[1].ok()) << settled->slot_status[1].ToString();
}

TEST_F(SettledMetaTest, DamagedMetaPageAtRestIsReportedAsReadNewestMetaReportsIt) {
  std::string byte = ReadAt(path_, kTornOffset, 1);
  byte[0] ^= 0x5a;
  PatchFile(path_, kTornOffset, byte);
  Result<MetaChoice> plain = ReadNewestMeta(OpenTorn(0).get());
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  ASSERT_TRUE(plain->slot_status[0].IsCorruption());

  Result<MetaChoice> settled = ReadSettledMetas(OpenTorn(0).get(), path_, kDefaultPageSize);
  ASSERT_TRUE(settled.ok()) << settled.status().ToString();
  EXPECT_EQ(settled->slot_status[0].ToString(), plain->slot_status[0].ToString());
  EXPECT_TRUE(settled->slot_status[1].ok());
  EXPECT_EQ(settled->slot, plain->slot);
  EXPECT_EQ(settled->meta.checkpoint_seq, plain->meta.checkpoint_seq);
}

}  // namespace
}  // namespace sombra::pager::test
