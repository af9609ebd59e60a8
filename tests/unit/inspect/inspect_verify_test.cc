// sombra-inspect verify (and page/meta) on damaged databases.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "inspect_test_util.h"
#include "pager/format.h"
#include "pager/pager.h"
#include "sombra/options.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"

namespace sombra::inspect::test {
namespace {

constexpr uint32_t kPageSize = 4096;

class InspectVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("db");
    ASSERT_NO_FATAL_FAILURE(BuildFixedDb(db_));
    RunOutput clean = Inspect({db_, "verify"});
    ASSERT_EQ(clean.code, 1);
    ASSERT_EQ(clean.out, std::string(kFixedDbTreeLine) + "1 problem in 6 pages\n");
  }

  // Verify must fail with exactly `lines` (the problem lines and the
  // summary) on stdout and nothing on stderr.
  void ExpectVerifyReports(const std::string& lines) {
    RunOutput r = Inspect({db_, "verify"});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out, lines);
  }

  void SetFreeNext(uint64_t page_no, uint32_t next) {
    EditAndReseal(db_, page_no, kPageSize,
                  [next](uint8_t* p) { EncodeFixed32(p + pager::kFreeNextOffset, next); });
  }

  sombra::test::TempDir dir_;
  std::string db_;
};

TEST_F(InspectVerifyTest, FlippedByteInDataPage) {
  const uint64_t stored = StoredChecksum(db_, 4, kPageSize);
  FlipByte(db_, 4 * kPageSize + 1000);
  RunOutput r = Inspect({db_, "verify"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "");
  // The line names page 4, the stored checksum and then the summary.
  EXPECT_EQ(r.out.rfind(kFixedDbTreeLine, 0), 0u) << r.out;
  EXPECT_NE(
      r.out.find("\npage 4: checksum mismatch (stored " + pager::Hex64(stored) + ", computed 0x"),
      std::string::npos)
      << r.out;
  EXPECT_EQ(CountLines(r.out), 3) << r.out;
  EXPECT_NE(r.out.find("\n2 problems in 6 pages\n"), std::string::npos) << r.out;
}

TEST_F(InspectVerifyTest, FlippedByteInHeaderOfDataPage) {
  FlipByte(db_, 2 * kPageSize + pager::kHeaderLsnOffset);
  RunOutput r = Inspect({db_, "verify"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out.rfind("page 2: checksum mismatch", 0), 0u) << r.out;
}

TEST_F(InspectVerifyTest, FlippedByteInFreePage) {
  FlipByte(db_, 3 * kPageSize + 2000);  // the tail of the freelist
  RunOutput r = Inspect({db_, "verify"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("\npage 3: checksum mismatch"), std::string::npos) << r.out;
  // The damaged page stops the freelist walk without further noise.
  EXPECT_EQ(CountLines(r.out), 3) << r.out;
}

TEST_F(InspectVerifyTest, FlippedFreelistLinkInFreePage) {
  FlipByte(db_, 5 * kPageSize + pager::kFreeNextOffset);  // the head's link
  RunOutput r = Inspect({db_, "verify"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("\npage 5: checksum mismatch"), std::string::npos) << r.out;
}

TEST_F(InspectVerifyTest, SeveralDamagedPagesListedInOrder) {
  FlipByte(db_, 4 * kPageSize + 100);
  FlipByte(db_, 2 * kPageSize + 100);
  RunOutput r = Inspect({db_, "verify"});
  EXPECT_EQ(r.code, 1);
  const size_t at2 = r.out.find("page 2: ");
  const size_t at4 = r.out.find("page 4: ");
  ASSERT_NE(at2, std::string::npos) << r.out;
  ASSERT_NE(at4, std::string::npos) << r.out;
  EXPECT_LT(at2, at4);
  EXPECT_NE(r.out.find("\n2 problems in 6 pages\n"), std::string::npos) << r.out;
}

TEST_F(InspectVerifyTest, FreelistLinkOutOfRange) {
  SetFreeNext(5, 999);
  ExpectVerifyReports(
      "page 2: tree: a raw page in the tree\n"
      "page 5: freelist links to page 999, outside [2, 6)\n"
      "2 problems in 6 pages\n");
}

TEST_F(InspectVerifyTest, FreelistLinkToMetaPage) {
  SetFreeNext(3, 1);
  ExpectVerifyReports(
      "page 2: tree: a raw page in the tree\n"
      "page 3: freelist links to page 1, outside [2, 6)\n"
      "2 problems in 6 pages\n");
}

TEST_F(InspectVerifyTest, FreelistLinkToPageInUse) {
  SetFreeNext(5, 4);
  ExpectVerifyReports(
      "page 2: tree: a raw page in the tree\n"
      "page 4: on the freelist but is a raw page\n"
      "2 problems in 6 pages\n");
}

TEST_F(InspectVerifyTest, FreelistCycle) {
  SetFreeNext(3, 5);
  ExpectVerifyReports(
      "page 2: tree: a raw page in the tree\n"
      "page 3: freelist links to page 5, already on the list (cycle)\n"
      "2 problems in 6 pages\n");
}

TEST_F(InspectVerifyTest, FreelistSelfLoop) {
  SetFreeNext(5, 5);
  ExpectVerifyReports(
      "page 2: tree: a raw page in the tree\n"
      "page 5: freelist links to page 5, already on the list (cycle)\n"
      "2 problems in 6 pages\n");
}

TEST_F(InspectVerifyTest, FreelistShorterThanCounted) {
  SetFreeNext(5, 0);
  ExpectVerifyReports(
      "page 1: freelist holds 1 page, but the meta page counts 2\n"
      "page 2: tree: a raw page in the tree\n"
      "2 problems in 6 pages\n");
}

TEST_F(InspectVerifyTest, DamagedNonChosenMetaPage) {
  FlipByte(db_, 0 * kPageSize + 500);  // meta page 0 holds the older seq 2
  RunOutput r = Inspect({db_, "verify"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out.rfind("page 0: checksum mismatch", 0), 0u) << r.out;
  EXPECT_EQ(CountLines(r.out), 3) << r.out;

  // meta still works, shows why page 0 is invalid, and keeps page 1.
  RunOutput meta = Inspect({db_, "meta"});
  EXPECT_EQ(meta.code, 0);
  EXPECT_NE(meta.out.find("meta page 0: invalid: checksum mismatch"), std::string::npos)
      << meta.out;
  EXPECT_NE(meta.out.find("meta page 1: valid\n"), std::string::npos) << meta.out;
  EXPECT_NE(meta.out.find("in force: meta page 1 (checkpoint seq 3)\n"), std::string::npos)
      << meta.out;
}

TEST_F(InspectVerifyTest, DamagedNewestMetaFallsBackToOlder) {
  FlipByte(db_, 1 * kPageSize + pager::kMetaMagicOffset);  // bad magic in page 1
  RunOutput meta = Inspect({db_, "meta"});
  EXPECT_EQ(meta.code, 0);
  EXPECT_NE(meta.out.find("meta page 1: invalid: bad magic\n"), std::string::npos) << meta.out;
  EXPECT_NE(meta.out.find("in force: meta page 0 (checkpoint seq 2)\n"), std::string::npos)
      << meta.out;
  // Page 1 itself is the page problem; and pages newer than the older
  // meta's checkpoint show that the damaged page was the meta in force, so
  // the older state is not shown as the database's (docs/format/file.md).
  RunOutput r = Inspect({db_, "verify"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out.rfind("page 1: bad magic\nlog ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("the damaged meta page was the one in force"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n2 problems in 6 pages\n"), std::string::npos) << r.out;
}

TEST_F(InspectVerifyTest, MisdirectedWrite) {
  WritePageBytes(db_, 4, ReadPageBytes(db_, 2, kPageSize));
  ExpectVerifyReports(
      "page 2: tree: a raw page in the tree\n"
      "page 4: holds page 2 (misdirected write)\n"
      "2 problems in 6 pages\n");
}

TEST_F(InspectVerifyTest, ZeroedPage) {
  WritePageBytes(db_, 4, std::vector<uint8_t>(kPageSize, 0));
  RunOutput r = Inspect({db_, "verify"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("\npage 4: checksum mismatch (stored 0x0000000000000000"), std::string::npos)
      << r.out;
}

TEST_F(InspectVerifyTest, InvalidKindWithGoodChecksum) {
  EditAndReseal(db_, 4, kPageSize, [](uint8_t* p) { p[pager::kHeaderKindOffset] = 9; });
  ExpectVerifyReports(
      "page 2: tree: a raw page in the tree\n"
      "page 4: invalid page kind 9\n"
      "2 problems in 6 pages\n");
  RunOutput page = Inspect({db_, "page", "4", "--no-hex"});
  EXPECT_EQ(page.code, 0);
  EXPECT_NE(page.out.find("  kind:              invalid (9)\n"), std::string::npos) << page.out;
  EXPECT_NE(page.out.find("  valid:             no: invalid page kind 9\n"), std::string::npos)
      << page.out;
}

TEST_F(InspectVerifyTest, MetaKindOutsideMetaSlots) {
  EditAndReseal(db_, 4, kPageSize, [](uint8_t* p) {
    p[pager::kHeaderKindOffset] = static_cast<uint8_t>(pager::PageKind::kMeta);
  });
  ExpectVerifyReports(
      "page 2: tree: a raw page in the tree\n"
      "page 4: meta page outside slots 0 and 1\n"
      "2 problems in 6 pages\n");
}

TEST_F(InspectVerifyTest, PageCommandShowsMismatchButSucceeds) {
  const uint64_t stored = StoredChecksum(db_, 2, kPageSize);
  FlipByte(db_, 2 * kPageSize + 3000);
  RunOutput r = Inspect({db_, "page", "2"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("  stored checksum:   " + pager::Hex64(stored) + "\n"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("  computed checksum: " + pager::Hex64(stored) + "\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  checksum:          mismatch\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  valid:             no: checksum mismatch"), std::string::npos) << r.out;
  // The flipped byte (0x00 ^ 0x5a = 'Z') shows in the dump at 0xbb8.
  EXPECT_NE(r.out.find("00000bb0  00 00 00 00 00 00 00 00  5a 00"), std::string::npos) << r.out;
}

TEST_F(InspectVerifyTest, WorksWhileAPagerHoldsTheLock) {
  Options options;
  auto pager = pager::Pager::Open(Env::Default(), db_, options);
  ASSERT_TRUE(pager.ok()) << pager.status().ToString();
  // The writer's open checkpointed nothing new: LSN 50, the file's.
  const std::string live = "live: a writer has this database open; read at LSN 50 (snapshot)\n";
  EXPECT_EQ(Inspect({db_, "verify"}).out,
            live + std::string(kFixedDbTreeLine) + "1 problem in 6 pages\n");
  RunOutput meta = Inspect({db_, "meta"});
  EXPECT_EQ(meta.code, 0);
  EXPECT_EQ(meta.out.rfind(live, 0), 0u) << meta.out;
  pager->reset();
  EXPECT_EQ(Inspect({db_, "verify"}).out, std::string(kFixedDbTreeLine) + "1 problem in 6 pages\n");
}

TEST_F(InspectVerifyTest, NeverWritesOrCreatesFiles) {
  const std::string copy_dir = dir_.File("copy");
  ASSERT_EQ(::mkdir(copy_dir.c_str(), 0755), 0);
  const std::string copy = copy_dir + "/db";
  sombra::test::WriteFileOrDie(copy, sombra::test::ReadFileOrDie(db_));
  FlipByte(copy, 4 * kPageSize + 7);  // verify finds a problem, and still must not repair
  const std::string before = sombra::test::ReadFileOrDie(copy);
  for (std::vector<std::string> args : {std::vector<std::string>{"meta"},
                                        {"page", "0"},
                                        {"page", "4"},
                                        {"verify"},
                                        {"verify", "--json"}}) {
    args.insert(args.begin(), copy);
    EXPECT_NE(Inspect(args).code, 2);
  }
  EXPECT_EQ(sombra::test::ReadFileOrDie(copy), before);
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(copy_dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  // No lock file, no temp file: only the reader table, which every handle
  // (read-only ones too, as SQLite's -shm) joins or creates so that a
  // writer that comes later never rewrites what it reads
  // (docs/format/shm.md); the database itself is untouched (above).
  EXPECT_EQ(names, (std::vector<std::string>{"db", "db-shm"}));
}

}  // namespace
}  // namespace sombra::inspect::test
