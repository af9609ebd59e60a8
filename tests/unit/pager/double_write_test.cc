// The double-write file's codec (docs/format/dwb.md): a batch written and
// read back, and every way a batch can be cut short or be another's.
#include "pager/double_write.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "pager_test_util.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"
#include "util/hash.h"

namespace sombra::pager {
namespace {

constexpr uint32_t kPs = 4096;
constexpr uint64_t kSalt = 0x5eed5a17db000001ULL;

class DoubleWriteTest : public ::testing::Test {
 protected:
  // Writes a batch of `pages`, copy i filled with byte 'a' + i.
  Status Write(const std::vector<uint32_t>& pages, uint64_t from = 7, uint64_t to = 9) {
    auto file = Env::Default()->OpenFile(path_, OpenMode::kCreate);
    if (!file.ok()) return file.status();
    DwbHeader h;
    h.page_size = kPs;
    h.db_salt = kSalt;
    h.from_lsn = from;
    h.to_lsn = to;
    h.pages = pages;
    return WriteDoubleWrite(
        file->get(), h,
        [](size_t i, uint8_t* out) {
          std::memset(out, 'a' + static_cast<int>(i), kPs);
          return Status::OK();
        },
        /*sync=*/true);
  }
  Result<std::unique_ptr<DoubleWriteBatch>> Open(uint64_t salt = kSalt) {
    return DoubleWriteBatch::Open(Env::Default(), path_, kPs, salt);
  }
  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db-dwb");
};

TEST_F(DoubleWriteTest, ABatchReadsBackWhole) {
  ASSERT_TRUE(Write({9, 3, 700}).ok());
  auto batch = Open();
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  const DwbHeader& h = (*batch)->header();
  EXPECT_EQ(h.page_size, kPs);
  EXPECT_EQ(h.db_salt, kSalt);
  EXPECT_EQ(h.from_lsn, 7u);
  EXPECT_EQ(h.to_lsn, 9u);
  EXPECT_EQ(h.pages, (std::vector<uint32_t>{9, 3, 700}));
  EXPECT_TRUE((*batch)->CheckCopies().ok());
  std::vector<uint8_t> page(kPs);
  const char fills[] = {'a', 'b', 'c'};
  const uint32_t listed[] = {9, 3, 700};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*batch)->Read(listed[i], page.data()));
    EXPECT_EQ(page[0], fills[i]);
    EXPECT_EQ(page[kPs - 1], fills[i]);
  }
  EXPECT_FALSE((*batch)->Read(4, page.data())) << "not listed";
  // Copies start at the first page boundary after the header and list.
  EXPECT_EQ(DwbImagesOffset(kPs, 3), kPs);
  EXPECT_EQ(DwbImagesOffset(kPs, 1008), kPs);  // 64 + 4 * 1008 = 4096
  EXPECT_EQ(DwbImagesOffset(kPs, 1009), 2u * kPs);
  EXPECT_EQ(Env::Default()->GetFileSize(path_).value(), 4u * kPs);
}

TEST_F(DoubleWriteTest, AnEmptyBatchIsValid) {
  ASSERT_TRUE(Write({}).ok());
  auto batch = Open();
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_TRUE((*batch)->header().pages.empty());
  EXPECT_TRUE((*batch)->CheckCopies().ok());
}

// A batch is written over the previous one in place; one cut short keeps
// the other's copies. The header names a checksum of every copy, so such
// a batch fails CheckCopies, whichever copies are stale.
TEST_F(DoubleWriteTest, ABatchCutShortFailsItsCheck) {
  ASSERT_TRUE(Write({5, 6}).ok());
  const std::string whole = sombra::test::ReadFileOrDie(path_);
  // A copy damaged or stale.
  std::string damaged = whole;
  damaged[kPs + kPs / 2] ^= 0x01;
  sombra::test::WriteFileOrDie(path_, damaged);
  auto batch = Open();
  ASSERT_TRUE(batch.ok()) << "the header and list are whole";
  Status s = (*batch)->CheckCopies();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("checksum"), std::string::npos) << s.ToString();
  // Copies past the end of the file.
  sombra::test::WriteFileOrDie(path_, whole.substr(0, whole.size() - 100));
  batch = Open();
  ASSERT_TRUE(batch.ok());
  s = (*batch)->CheckCopies();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("end of the file"), std::string::npos) << s.ToString();
}

TEST_F(DoubleWriteTest, EveryHeaderDamageIsRefusedWithItsReason) {
  EXPECT_TRUE(Open().status().IsNotFound()) << "no file";
  ASSERT_TRUE(Write({5, 6}).ok());
  const std::string whole = sombra::test::ReadFileOrDie(path_);
  struct Case {
    size_t offset;
    const char* reason;
  };
  const Case cases[] = {
      {0, "bad magic"}, {8, "format version"}, {20, "checksum"},
      {44, "checksum"}, {52, "reserved"},      {64, "checksum"},
  };
  for (const Case& c : cases) {
    std::string bad = whole;
    bad[c.offset] ^= 0x01;
    if (c.offset == 52) {
      // Reserved bytes set, with the checksum made to match.
      const uint64_t sum = Hash64Pair(bad.data(), 56, bad.data() + 64, 8, 0);
      EncodeFixed64(reinterpret_cast<uint8_t*>(bad.data()) + 56, sum);
    }
    sombra::test::WriteFileOrDie(path_, bad);
    auto batch = Open();
    ASSERT_FALSE(batch.ok()) << c.offset;
    EXPECT_TRUE(batch.status().IsCorruption()) << batch.status().ToString();
    EXPECT_NE(batch.status().message().find(c.reason), std::string::npos)
        << c.offset << ": " << batch.status().ToString();
  }
  sombra::test::WriteFileOrDie(path_, whole.substr(0, 40));
  EXPECT_NE(Open().status().message().find("shorter than its header"), std::string::npos);
  sombra::test::WriteFileOrDie(path_, whole);
  auto other = Open(kSalt + 1);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("another database"), std::string::npos)
      << other.status().ToString();
}

TEST_F(DoubleWriteTest, ListsThatCannotBeABatchAreRefused) {
  ASSERT_TRUE(Write({5, 5}).ok());
  EXPECT_NE(Open().status().message().find("listed twice"), std::string::npos);
  ASSERT_TRUE(Write({1}).ok());
  EXPECT_NE(Open().status().message().find("a meta page"), std::string::npos);
  ASSERT_TRUE(Write({5}, 9, 9).ok());
  EXPECT_NE(Open().status().message().find("LSNs out of order"), std::string::npos);
}

}  // namespace
}  // namespace sombra::pager
