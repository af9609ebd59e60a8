// The pager: creation, options, transactions, freelist, snapshots, growth.
#include "pager/pager.h"

#include <gtest/gtest.h>

#include <random>

#include "pager_test_util.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"
#include "wal/wal_format.h"
#include "wal/wal_page_ops.h"
#include "wal/wal_reader.h"
#include "wal/wal_writer.h"

namespace sombra::pager {
namespace {

using test::AllocRawPage;
using test::ExpectRawPage;
using test::FillRawPage;
using test::PatchPage;
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
    EXPECT_FALSE(Env::Default()->FileExists(path_ + "-wal"));
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
  EXPECT_EQ((*pager)->published().page_count, kFirstDataPage);
}

TEST_F(PagerTest, CommitsGoToTheLogAndCheckpointsToTheFile) {
  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  const std::string file_before = sombra::test::ReadFileOrDie(path_);  // the two metas
  std::vector<uint32_t> pages;
  for (uint32_t i = 0; i < 20; ++i) pages.push_back(WriteNewRawPage(pager->get(), i, 'a' + i));
  // The file grew (allocation extends it with zeros) but holds no page yet.
  EXPECT_TRUE(test::ReadAt(path_, 0, file_before.size()) == file_before)
      << "a commit writes the log only";
  const std::string data = test::ReadAt(path_, file_before.size(), 20 * 4096);
  EXPECT_EQ(data.find_first_not_of('\0'), std::string::npos);
  EXPECT_EQ((*pager)->published().lsn, 20u);
  EXPECT_GT((*pager)->version_count(), 0u);
  for (uint32_t i = 0; i < 20; ++i) ExpectRawPage(pager->get(), pages[i], i, 'a' + i);

  ASSERT_TRUE((*pager)->Checkpoint().ok());
  EXPECT_EQ((*pager)->version_count(), 0u) << "no reader needs a version any more";
  EXPECT_EQ((*pager)->file_meta().checkpoint_lsn, 20u);
  EXPECT_EQ((*pager)->wal_bytes(), 0u) << "the log restarts";
  for (uint32_t i = 0; i < 20; ++i) ExpectRawPage(pager->get(), pages[i], i, 'a' + i);
  EXPECT_EQ((*pager)->metrics()->Value("checkpoints"), 1u);
}

TEST_F(PagerTest, WriteRejectsMetaAndOutOfRangePages) {
  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  auto txn = (*pager)->BeginWrite();
  ASSERT_TRUE(txn.ok());
  EXPECT_TRUE((*txn)->Write(0).status().IsInvalidArgument());
  EXPECT_TRUE((*txn)->Write(1).status().IsInvalidArgument());
  EXPECT_TRUE((*txn)->Write(99).status().IsInvalidArgument());
  EXPECT_TRUE((*txn)->Free(1).IsInvalidArgument());
  EXPECT_TRUE((*txn)->Read(99).status().IsInvalidArgument());
}

TEST_F(PagerTest, AbortAndReadsInsideAWriteDirtyNothing) {
  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  uint32_t p = WriteNewRawPage(pager->get(), 1, 'a');
  {
    auto txn = (*pager)->BeginWrite();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->Read(p).ok());
    EXPECT_EQ((*txn)->dirty_pages(), 0u) << "reading must not dirty";
    auto page = (*txn)->Write(p);
    ASSERT_TRUE(page.ok());
    std::memset(*page + 100, 'z', 10);
    (*txn)->NoteWrite(p, 100, 10);
    EXPECT_EQ((*txn)->dirty_pages(), 1u);
    (*txn)->Abort();
  }
  ExpectRawPage(pager->get(), p, 1, 'a');
  auto snap = (*pager)->BeginRead();
  EXPECT_EQ((*snap->Read(p))[100], 'a');
  EXPECT_EQ(snap->lsn(), 1u) << "an aborted transaction takes no LSN";
}

TEST_F(PagerTest, StateSurvivesReopenThroughTheLog) {
  uint32_t a;
  {
    auto pager = Open();
    ASSERT_TRUE(pager.ok());
    auto txn = (*pager)->BeginWrite();
    ASSERT_TRUE(txn.ok());
    a = AllocRawPage(txn->get(), 1, 'a');
    (*txn)->SetRoot(a);
    ASSERT_TRUE((*txn)->Commit().ok());
    ASSERT_TRUE(PatchPage(pager->get(), a, 1000, 5, 'q').ok());
  }
  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  EXPECT_EQ((*pager)->published().root, a);
  EXPECT_EQ((*pager)->published().lsn, 2u);
  auto snap = (*pager)->BeginRead();
  auto page = snap->Read(a);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ((*page)[1000], 'q');
  EXPECT_EQ((*page)[999], 'a');
}

TEST_F(PagerTest, FreelistSurvivesReopenAndFreedPagesAreReused) {
  std::vector<uint32_t> pages;
  {
    auto pager = Open();
    ASSERT_TRUE(pager.ok());
    auto txn = (*pager)->BeginWrite();
    ASSERT_TRUE(txn.ok());
    for (uint32_t i = 0; i < 10; ++i) pages.push_back(AllocRawPage(txn->get(), i, 'f'));
    ASSERT_TRUE((*txn)->Commit().ok());
    txn = (*pager)->BeginWrite();
    ASSERT_TRUE(txn.ok());
    for (int i : {2, 5, 7}) ASSERT_TRUE((*txn)->Free(pages[i]).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  TreeState state = (*pager)->published();
  EXPECT_EQ(state.freelist_count, 3u);
  EXPECT_EQ(state.freelist_head, pages[7]);
  auto txn = (*pager)->BeginWrite();
  ASSERT_TRUE(txn.ok());
  std::vector<uint32_t> reused;
  for (int i = 0; i < 3; ++i) reused.push_back(AllocRawPage(txn->get(), 100 + i, 'r'));
  EXPECT_EQ(reused, (std::vector<uint32_t>{pages[7], pages[5], pages[2]}));
  EXPECT_EQ((*txn)->state().freelist_count, 0u);
  EXPECT_EQ((*txn)->state().page_count, state.page_count) << "reuse must not extend the file";
  EXPECT_EQ(AllocRawPage(txn->get(), 200, 'n'), state.page_count);
  ASSERT_TRUE((*txn)->Commit().ok());
}

TEST_F(PagerTest, FreelistPointingAtANonFreePageIsCorruption) {
  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  uint32_t p = WriteNewRawPage(pager->get(), 1, 'z');
  {
    auto txn = (*pager)->BeginWrite();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->Free(p).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  {
    // A bug above the pager writes over the free page.
    auto txn = (*pager)->BeginWrite();
    auto page = (*txn)->Write(p);
    ASSERT_TRUE(page.ok());
    (*page)[kHeaderKindOffset] = static_cast<uint8_t>(PageKind::kRaw);
    (*txn)->NoteWholePage(p);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto txn = (*pager)->BeginWrite();
  uint8_t* page = nullptr;
  auto again = (*txn)->Allocate(PageKind::kRaw, &page);
  ASSERT_TRUE(again.status().IsCorruption()) << again.status().ToString();
  EXPECT_NE(again.status().message().find("freelist page " + std::to_string(p)), std::string::npos);
}

TEST_F(PagerTest, ASmallChangeIsLoggedAsASmallDelta) {
  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  uint32_t p = WriteNewRawPage(pager->get(), 1, 'd');  // the page's image
  const uint64_t before = (*pager)->wal_bytes();
  ASSERT_TRUE(PatchPage(pager->get(), p, 2000, 8, 'x').ok());
  const uint64_t delta = (*pager)->wal_bytes() - before;
  EXPECT_LT(delta, 200u) << "a one-record change of an imaged page is a delta";
  // One write: as page ops (11 bytes) it is a byte smaller than as a delta.
  EXPECT_EQ((*pager)->metrics()->Value("wal_ops_records"), 1u);
  EXPECT_EQ((*pager)->metrics()->Value("wal_delta_records"), 0u);
  RecordProperty("wal_bytes_for_8_byte_change", std::to_string(delta));
}

// The node header [24, 52), which a B-tree edit rewrites every time, is
// one write at the end of a page's ops, with its bytes as committed; the
// other writes stay in order.
TEST_F(PagerTest, TheNodeHeaderIsOneWriteAtTheEndOfAPagesOps) {
  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  const uint32_t p = WriteNewRawPage(pager->get(), 1, 'd');
  std::string expected;
  {
    auto txn = (*pager)->BeginWrite();
    ASSERT_TRUE(txn.ok());
    auto page = (*txn)->Write(p);
    ASSERT_TRUE(page.ok());
    for (uint32_t i = 0; i < 10; ++i) {
      std::memset(*page + 1000 + 32 * i, 'a' + static_cast<int>(i), 8);
      (*txn)->NoteWrite(p, 1000 + 32 * i, 8);
      EncodeFixed32(*page + 28, 100 + i);  // two header fields, each edit
      (*txn)->NoteWrite(p, 28, 4);
      EncodeFixed16(*page + 24, static_cast<uint16_t>(i));
      (*txn)->NoteWrite(p, 24, 2);
    }
    expected.assign(reinterpret_cast<const char*>(*page), (*txn)->page_size());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  EXPECT_EQ((*pager)->metrics()->Value("wal_ops_records"), 1u);
  auto file = Env::Default()->OpenFile(path_ + "-wal", OpenMode::kReadOnly);
  ASSERT_TRUE(file.ok());
  wal::WalReader reader(file->get());
  ASSERT_TRUE(reader.Open().ok());
  wal::Record rec;
  std::vector<std::pair<uint32_t, uint32_t>> writes;  // destination, length
  bool found = false;
  while (reader.Next(&rec)) {
    if (rec.type != wal::RecordType::kPageOps) continue;
    found = true;
    ASSERT_EQ(rec.page_no, p);
    Decoder in(rec.ops);
    while (in.remaining() > 0) {
      uint32_t head = 0, dst = 0;
      ASSERT_TRUE(in.GetVarint32(&head) && in.GetVarint32(&dst));
      ASSERT_EQ(head & 1, 0u) << "no move was made";
      ASSERT_TRUE(in.Skip(head >> 1));
      writes.emplace_back(dst, head >> 1);
    }
    // Replayed on the page as it was, the ops give the page as committed.
    std::string page(expected.size(), 'd');
    FillRawPage(reinterpret_cast<uint8_t*>(page.data()), (*pager)->page_size(), 1, 'd');
    ASSERT_TRUE(wal::ApplyPageOps(rec.ops, (*pager)->page_size(),
                                  reinterpret_cast<uint8_t*>(page.data()), nullptr));
    EXPECT_EQ(page.substr(24), expected.substr(24));
  }
  ASSERT_TRUE(found);
  ASSERT_EQ(writes.size(), 11u);
  for (uint32_t i = 0; i < 10; ++i) EXPECT_EQ(writes[i], std::make_pair(1000 + 32 * i, 8u));
  EXPECT_EQ(writes.back(), std::make_pair(24u, 8u)) << "[24, 32), once";
}

// A move through the node header would read or overwrite bytes whose one
// write comes last: the page's ops are given up for the delta, which
// replays to the committed page.
TEST_F(PagerTest, AMoveThroughTheNodeHeaderIsLoggedAsADelta) {
  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  const uint32_t p = WriteNewRawPage(pager->get(), 1, 'd');
  std::string expected;
  {
    auto txn = (*pager)->BeginWrite();
    ASSERT_TRUE(txn.ok());
    auto page = (*txn)->Write(p);
    ASSERT_TRUE(page.ok());
    EncodeFixed32(*page + 28, 77);
    (*txn)->NoteWrite(p, 28, 4);
    std::memmove(*page + 2000, *page + 28, 8);  // reads the header's new bytes
    (*txn)->NoteMove(p, 28, 2000, 8);
    expected.assign(reinterpret_cast<const char*>(*page) + kPageHeaderSize,
                    (*txn)->page_size() - kPageHeaderSize);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  EXPECT_EQ((*pager)->metrics()->Value("wal_ops_records"), 0u);
  EXPECT_EQ((*pager)->metrics()->Value("wal_delta_records"), 1u);
  // The files as a crash now leaves them: reopening replays the delta.
  const std::string crash = dir_.File("crash");
  for (const char* suffix : {"", "-wal"}) {
    sombra::test::WriteFileOrDie(crash + suffix, sombra::test::ReadFileOrDie(path_ + suffix));
  }
  pager = Pager::Open(Env::Default(), crash, Options());
  ASSERT_TRUE(pager.ok()) << pager.status().ToString();
  EXPECT_EQ((*pager)->recovery().transactions_replayed, 2u);
  auto snap = (*pager)->BeginRead();
  auto page = snap->Read(p);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(*page) + kPageHeaderSize, expected.size()),
            expected);
}

// A log of format 2 (an older build's, continued) takes no page-op
// record: the same change is a delta there.
TEST_F(PagerTest, AFormatTwoLogGetsDeltasNotPageOps) {
  wal::WalWriter::WriteFormatForTest(wal::kWalFormatVersion);
  auto pager = Open();
  wal::WalWriter::WriteFormatForTest(0);
  ASSERT_TRUE(pager.ok());
  uint32_t p = WriteNewRawPage(pager->get(), 1, 'd');
  ASSERT_TRUE(PatchPage(pager->get(), p, 2000, 8, 'x').ok());
  EXPECT_EQ((*pager)->metrics()->Value("wal_delta_records"), 1u);
  EXPECT_EQ((*pager)->metrics()->Value("wal_ops_records"), 0u);
  // After a restart the log is of this build's format again, where the
  // first change since the checkpoint applies on the page file's page.
  ASSERT_TRUE((*pager)->Checkpoint().ok());
  ASSERT_TRUE(PatchPage(pager->get(), p, 2000, 8, 'y').ok());
  ASSERT_TRUE(PatchPage(pager->get(), p, 3000, 8, 'z').ok());
  EXPECT_EQ((*pager)->metrics()->Value("wal_ops_records"), 2u);
}

TEST_F(PagerTest, SnapshotsKeepTheirViewAcrossCommitsAndCheckpoints) {
  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  uint32_t p = WriteNewRawPage(pager->get(), 1, 'o');
  ASSERT_TRUE((*pager)->Checkpoint().ok());  // the page is in the file now
  auto old_snap = (*pager)->BeginRead();
  auto old_view = old_snap->Read(p);  // a pointer into the map
  ASSERT_TRUE(old_view.ok());
  const uint8_t* held = *old_view;

  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(PatchPage(pager->get(), p, 24, 4000, static_cast<char>('x' + round)).ok());
    ASSERT_TRUE((*pager)->Checkpoint().ok());  // overwrites the page in the file
  }
  EXPECT_GE((*pager)->metrics()->Value("versions_kept_for_readers"), 1u);
  // The pointer taken before still shows the old bytes, and so do new reads.
  EXPECT_EQ(held[2000], 'o');
  EXPECT_EQ(held[4095], 'o');
  ExpectRawPage(*old_snap, p, 1, 'o');
  auto new_snap = (*pager)->BeginRead();
  auto now = new_snap->Read(p);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ((*now)[2000], 'y');
  EXPECT_EQ(test::ReadAt(path_, uint64_t{p} * 4096 + 2000, 1), std::string(1, 'y'))
      << "the checkpoint did write the file";
  old_snap.reset();
  ASSERT_TRUE((*pager)->Checkpoint().ok());
  EXPECT_EQ((*pager)->version_count(), 0u);
}

TEST_F(PagerTest, ReadOnlyOpenWritesNothingAndTakesNoLock) {
  uint32_t p;
  {
    auto pager = Open();
    ASSERT_TRUE(pager.ok());
    p = WriteNewRawPage(pager->get(), 5, 'o');
  }
  auto writer = Open();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(PatchPage(writer->get(), p, 3000, 10, 'w').ok());  // in the log only
  const std::string db_before = sombra::test::ReadFileOrDie(path_);
  const std::string wal_before = sombra::test::ReadFileOrDie(path_ + "-wal");
  Options ro;
  ro.read_only = true;
  auto reader = Open(ro);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto snap = (*reader)->BeginRead();
  auto page = snap->Read(p);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ((*page)[3000], 'w') << "the log is replayed in memory";
  EXPECT_TRUE((*reader)->BeginWrite().status().IsNotSupported());
  EXPECT_TRUE((*reader)->Checkpoint().IsNotSupported());
  snap.reset();
  reader->reset();
  EXPECT_EQ(sombra::test::ReadFileOrDie(path_), db_before);
  EXPECT_EQ(sombra::test::ReadFileOrDie(path_ + "-wal"), wal_before);

  ro.create_if_missing = true;
  auto missing = Pager::Open(Env::Default(), dir_.File("nope"), ro);
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_FALSE(Env::Default()->FileExists(dir_.File("nope")));
}

}  // namespace
}  // namespace sombra::pager
