// The page file under damage: flipped bits, torn meta writes, truncation,
// foreign versions, a second process, a full disk.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "env/fault_injection_env.h"
#include "pager/pager.h"
#include "pager_test_util.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"
#include "wal/wal_reader.h"

namespace sombra::pager {
namespace {

using test::AllocRawPage;
using test::ExpectRawPage;
using test::PatchFile;
using test::WriteNewRawPage;

class PagerDamageTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<Pager>> Open(Env* env = Env::Default(), Options o = Options()) {
    return Pager::Open(env, path_, o);
  }
  // A checkpointed database with `n` raw pages tagged 0..n-1; returns
  // their numbers.
  std::vector<uint32_t> Build(int n) {
    auto pager = Open();
    EXPECT_TRUE(pager.ok()) << pager.status().ToString();
    std::vector<uint32_t> pages;
    for (int i = 0; i < n; ++i) pages.push_back(WriteNewRawPage(pager->get(), i, 'd'));
    EXPECT_TRUE((*pager)->Checkpoint().ok());
    return pages;
  }
  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
};

TEST_F(PagerDamageTest, FlippedBitGivesCorruptionNamingThePage) {
  auto pages = Build(6);
  const uint32_t victim = pages[4];
  std::string byte = test::ReadAt(path_, uint64_t{victim} * 4096 + 1000, 1);
  byte[0] ^= 0x10;
  PatchFile(path_, uint64_t{victim} * 4096 + 1000, byte);

  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  auto page = (*pager)->BeginRead()->Read(victim);
  ASSERT_TRUE(page.status().IsCorruption());
  EXPECT_NE(page.status().message().find("page " + std::to_string(victim) + " of " + path_),
            std::string::npos)
      << page.status().ToString();
  EXPECT_NE(page.status().message().find("checksum mismatch"), std::string::npos);
  EXPECT_EQ((*pager)->metrics()->Value("pager_checksum_failures"), 1u);
  ExpectRawPage(pager->get(), pages[3], 3, 'd');  // its neighbours are fine

  Options no_verify;
  no_verify.verify_checksums = false;
  pager->reset();
  auto lax = Open(Env::Default(), no_verify);
  ASSERT_TRUE(lax.ok());
  EXPECT_TRUE((*lax)->BeginRead()->Read(victim).ok());
}

TEST_F(PagerDamageTest, MisdirectedPageIsNamed) {
  auto pages = Build(3);
  std::string copy = test::ReadAt(path_, uint64_t{pages[0]} * 4096, 4096);
  PatchFile(path_, uint64_t{pages[1]} * 4096, copy);
  auto pager = Open();
  ASSERT_TRUE(pager.ok());
  auto page = (*pager)->BeginRead()->Read(pages[1]);
  ASSERT_TRUE(page.status().IsCorruption());
  EXPECT_NE(page.status().message().find("holds page " + std::to_string(pages[0])),
            std::string::npos)
      << page.status().ToString();
}

// A crash (power loss tearing every unsynced write) at each step of a
// checkpoint: reopening always finds every committed page, whichever meta
// page survived.
TEST_F(PagerDamageTest, CrashAtEveryStepOfACheckpointLosesNothing) {
  const uint64_t seed = sombra::test::TestSeed();
  for (uint64_t step = 0;; ++step) {
    std::string path = dir_.File("crash" + std::to_string(step));
    FaultInjectionEnv env(Env::Default(), seed + step);
    std::vector<uint32_t> pages;
    bool completed;
    {
      auto pager = Pager::Open(&env, path, Options());
      ASSERT_TRUE(pager.ok());
      for (uint32_t i = 0; i < 6; ++i) pages.push_back(WriteNewRawPage(pager->get(), i, 'c'));
      ASSERT_TRUE((*pager)->Checkpoint().ok());
      ASSERT_TRUE(test::PatchPage(pager->get(), pages[2], 500, 100, 'N').ok());
      auto txn = (*pager)->BeginWrite();
      ASSERT_TRUE(txn.ok());
      (*txn)->SetRoot(pages[4]);
      pages.push_back(AllocRawPage(txn->get(), 6, 'c'));
      ASSERT_TRUE((*txn)->Commit().ok());
      env.CrashAfterOps(step);
      completed = (*pager)->Checkpoint().ok();
      env.SetActive(false);  // the process dies: the close writes nothing
    }
    ASSERT_TRUE(env.Crash(FaultInjectionEnv::CrashMode::kTornSectors).ok());
    env.SetActive(true);
    auto pager = Pager::Open(&env, path, Options());
    ASSERT_TRUE(pager.ok()) << "step " << step << ": " << pager.status().ToString();
    EXPECT_EQ((*pager)->published().root, pages[4]) << "step " << step;
    EXPECT_EQ((*pager)->published().lsn, 8u) << "step " << step;
    auto snap = (*pager)->BeginRead();
    for (uint32_t i = 0; i < pages.size(); ++i) {
      auto page = snap->Read(pages[i]);
      ASSERT_TRUE(page.ok()) << "step " << step << ": " << page.status().ToString();
      EXPECT_EQ(DecodeFixed32(*page + kPageHeaderSize), i);
      EXPECT_EQ((*page)[550], i == 2 ? 'N' : 'c') << "step " << step;
    }
    if (completed) break;  // the checkpoint ran to its end: every step was covered
  }
}

TEST_F(PagerDamageTest, DeterministicTornMetaAndBothMetasDamaged) {
  Build(2);
  uint32_t newest;
  {
    auto pager = Open();
    ASSERT_TRUE(pager.ok());
    newest = (*pager)->durable_meta_slot();
  }  // nothing changed: the close writes no meta page
  const std::string intact = test::ReadAt(path_, uint64_t{newest} * 4096, 4096);
  // Tear the second half of the newest meta page. The log was restarted
  // after that meta, and its header carries a copy of it: a read-only open
  // uses the copy, a writable one rewrites the meta page from it.
  PatchFile(path_, uint64_t{newest} * 4096 + 2048, std::string(2048, '\x5a'));
  const std::string damaged = "meta page " + std::to_string(newest) + " ";
  {
    Options ro;
    ro.read_only = true;
    auto pager = Open(Env::Default(), ro);
    ASSERT_TRUE(pager.ok()) << pager.status().ToString();
    EXPECT_TRUE((*pager)->recovery().meta_from_log);
    EXPECT_NE((*pager)->durable_meta_slot(), newest);  // read-only: nothing rewritten
  }
  EXPECT_NE(test::ReadAt(path_, uint64_t{newest} * 4096, 4096), intact);
  {
    auto pager = Open();
    ASSERT_TRUE(pager.ok()) << pager.status().ToString();
    EXPECT_TRUE((*pager)->recovery().meta_from_log);
    EXPECT_EQ((*pager)->durable_meta_slot(), newest);
  }
  EXPECT_EQ(test::ReadAt(path_, uint64_t{newest} * 4096, 4096), intact) << "healed byte for byte";
  // A log of format 1 (no copy) or no log at all: refused, never served.
  PatchFile(path_, uint64_t{newest} * 4096 + 2048, std::string(2048, '\x5a'));
  {
    std::string log = test::ReadAt(path_ + "-wal", 0, wal::kWalHeaderSize);
    wal::WalHeader h =
        *wal::DecodeWalHeader(reinterpret_cast<const uint8_t*>(log.data()), log.size());
    h.version = wal::kWalFormatVersion1;
    std::string v1(wal::kWalHeaderSize, '\0');
    wal::EncodeWalHeader(h, reinterpret_cast<uint8_t*>(v1.data()));
    sombra::test::WriteFileOrDie(path_ + "-wal", v1.substr(0, wal::kWalHeaderSizeV1));
    auto pager = Open();
    ASSERT_TRUE(pager.status().IsCorruption()) << pager.status().ToString();
    EXPECT_NE(pager.status().message().find(damaged), std::string::npos)
        << pager.status().ToString();
    EXPECT_NE(pager.status().message().find("was the one in force"), std::string::npos);
    EXPECT_NE(pager.status().message().find("no usable copy"), std::string::npos);
  }
  // Without the log, the pages the newer checkpoint wrote (LSNs above the
  // older meta's checkpoint LSN) still tell that the older meta is stale:
  // refused, naming the damaged meta page, never served.
  ASSERT_TRUE(Env::Default()->RemoveFile(path_ + "-wal").ok());
  {
    auto pager = Open();
    ASSERT_TRUE(pager.status().IsCorruption()) << pager.status().ToString();
    EXPECT_NE(pager.status().message().find(damaged + "of " + path_ + " is damaged"),
              std::string::npos)
        << pager.status().ToString();
  }
  PatchFile(path_, uint64_t{1 - newest} * 4096 + 100, std::string(8, '\x01'));
  auto pager = Open();
  ASSERT_TRUE(pager.status().IsCorruption()) << pager.status().ToString();
  EXPECT_NE(pager.status().message().find("no valid meta page"), std::string::npos);
}

// RestoreMeta only ever replaces a damaged meta page, from a newer copy of
// its slot that names pages inside the file.
TEST_F(PagerDamageTest, RestoreMetaRefusesACopyThatReplacesNoDamagedPage) {
  Build(2);
  MetricsRegistry metrics;
  auto file = PageFile::Open(Env::Default(), path_, Options(), &metrics);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  Meta copy = (*file)->durable_meta();
  copy.checkpoint_seq += 1;                     // the other slot, newer: fine but for the damage
  EXPECT_FALSE((*file)->CanRestoreMeta(copy));  // both meta pages are valid
  const std::string before = test::ReadAt(path_, 0, 2 * 4096);
  Status s = (*file)->RestoreMeta(copy);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(test::ReadAt(path_, 0, 2 * 4096), before) << "no meta page written";
}

TEST_F(PagerDamageTest, TruncatedFileIsCorruption) {
  auto pages = Build(4);
  ASSERT_EQ(::truncate(path_.c_str(), uint64_t{pages[2]} * 4096), 0);
  auto pager = Open();
  ASSERT_TRUE(pager.status().IsCorruption()) << pager.status().ToString();
  EXPECT_NE(pager.status().message().find("truncated"), std::string::npos);
}

TEST_F(PagerDamageTest, NewerFormatVersionIsRefusedClearly) {
  Build(1);
  for (uint32_t slot : {0u, 1u}) {
    std::string page = test::ReadAt(path_, uint64_t{slot} * 4096, 4096);
    auto* p = reinterpret_cast<uint8_t*>(page.data());
    EncodeFixed32(p + kMetaVersionOffset, kFormatVersion + 1);
    SealPage(p, 4096, DecodeFixed64(p + kMetaSaltOffset));
    PatchFile(path_, uint64_t{slot} * 4096, page);
  }
  auto pager = Open();
  ASSERT_TRUE(pager.status().IsNotSupported()) << pager.status().ToString();
  EXPECT_NE(pager.status().message().find("format version " + std::to_string(kFormatVersion + 1)),
            std::string::npos);
}

// Files of an older format are refused, naming the versions, and left as
// they were: version 1 (key heads of the first four bytes) and version 2
// (8-byte slots in key order; this build writes 6-byte slots in reverse
// key order, docs/format/page.md). Versions 3 and 4 are read (next test).
TEST_F(PagerDamageTest, OlderFormatVersionIsRefusedClearly) {
  static_assert(kFormatVersion == 5, "list the versions this test refuses");
  Build(1);
  for (uint32_t version : {1u, 2u}) {
    SCOPED_TRACE("version " + std::to_string(version));
    for (uint32_t slot : {0u, 1u}) {
      std::string page = test::ReadAt(path_, uint64_t{slot} * 4096, 4096);
      auto* p = reinterpret_cast<uint8_t*>(page.data());
      EncodeFixed32(p + kMetaVersionOffset, version);
      SealPage(p, 4096, DecodeFixed64(p + kMetaSaltOffset));
      PatchFile(path_, uint64_t{slot} * 4096, page);
    }
    const std::string before = test::ReadAt(path_, 0, 8192);
    auto pager = Open();
    ASSERT_TRUE(pager.status().IsNotSupported()) << pager.status().ToString();
    EXPECT_NE(pager.status().message().find("format version " + std::to_string(version) +
                                            "; this build reads versions 3 to 5"),
              std::string::npos)
        << pager.status().ToString();
    EXPECT_EQ(test::ReadAt(path_, 0, 8192), before);
  }
}

// A format-3 file (before named trees: bytes [88, 92) of its meta pages
// are zero) opens with no catalog, keeps its pages, and its next meta page
// is written as format 5. The same for a format-4 file (before the leaf
// flag; the B+tree tests read its unflagged leaves: DbTreesTest).
class PagerOldFormatTest : public PagerDamageTest,
                           public ::testing::WithParamInterface<uint32_t> {};

TEST_P(PagerOldFormatTest, OpensAndIsWrittenAsFormatFive) {
  static_assert(kFormatVersion == 5, "this test reads formats 3 and 4");
  auto pages = Build(3);
  for (uint32_t slot : {0u, 1u}) {
    std::string page = test::ReadAt(path_, uint64_t{slot} * 4096, 4096);
    auto* p = reinterpret_cast<uint8_t*>(page.data());
    ASSERT_EQ(DecodeFixed32(p + kMetaCatalogRootOffset), 0u);
    EncodeFixed32(p + kMetaVersionOffset, GetParam());
    SealPage(p, 4096, DecodeFixed64(p + kMetaSaltOffset));
    PatchFile(path_, uint64_t{slot} * 4096, page);
  }
  {
    auto pager = Open();
    ASSERT_TRUE(pager.ok()) << pager.status().ToString();
    EXPECT_EQ((*pager)->BeginRead()->state().catalog_root, 0u);
    for (size_t i = 0; i < pages.size(); ++i) {
      ExpectRawPage(pager->get(), pages[i], static_cast<uint32_t>(i), 'd');
    }
    WriteNewRawPage(pager->get(), 9, 'e');
    ASSERT_TRUE((*pager)->Checkpoint().ok());
  }
  auto choice = [&] {
    auto file = Env::Default()->OpenFile(path_, OpenMode::kReadOnly);
    EXPECT_TRUE(file.ok());
    return ReadNewestMeta(file->get());
  }();
  ASSERT_TRUE(choice.ok()) << choice.status().ToString();
  const std::string meta = test::ReadAt(path_, uint64_t{choice->slot} * 4096, 4096);
  EXPECT_EQ(DecodeFixed32(reinterpret_cast<const uint8_t*>(meta.data()) + kMetaVersionOffset), 5u);
}

INSTANTIATE_TEST_SUITE_P(FormatsThreeAndFour, PagerOldFormatTest, ::testing::Values(3u, 4u));

TEST_F(PagerDamageTest, SecondOpenInThisProcessIsBusy) {
  auto first = Open();
  ASSERT_TRUE(first.ok());
  auto second = Open();
  ASSERT_TRUE(second.status().IsBusy()) << second.status().ToString();
  EXPECT_NE(second.status().message().find(path_ + "-lock"), std::string::npos);
  // The first handle keeps its lock and works.
  EXPECT_TRUE(Open().status().IsBusy());
  WriteNewRawPage(first->get(), 1, 'k');
  EXPECT_TRUE((*first)->Checkpoint().ok());
  first->reset();
  EXPECT_TRUE(Open().ok());
}

TEST_F(PagerDamageTest, SecondOpenFromAnotherProcessIsBusy) {
  Build(1);
  int to_parent[2], to_child[2];
  ASSERT_EQ(pipe(to_parent), 0);
  ASSERT_EQ(pipe(to_child), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto pager = Pager::Open(Env::Default(), path_, Options());
    char c = pager.ok() ? 'y' : 'n';
    if (write(to_parent[1], &c, 1) != 1) _exit(3);
    if (read(to_child[0], &c, 1) != 1) _exit(4);
    _exit(pager.ok() ? 0 : 1);
  }
  char c = 0;
  ASSERT_EQ(read(to_parent[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto mine = Open();
  EXPECT_TRUE(mine.status().IsBusy()) << mine.status().ToString();
  EXPECT_NE(mine.status().message().find(path_ + "-lock"), std::string::npos);
  ASSERT_EQ(write(to_child[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(Open().ok()) << "the lock is released when the holder exits";
  for (int fd : {to_parent[0], to_parent[1], to_child[0], to_child[1]}) close(fd);
}

TEST_F(PagerDamageTest, NoSpaceWhileGrowingLosesNothing) {
  FaultInjectionEnv env(Env::Default());
  std::vector<uint32_t> pages;
  {
    auto pager = Open(&env);
    ASSERT_TRUE(pager.ok());
    env.FailNext(FaultInjectionEnv::Op::kTruncate, ENOSPC);
    Status failure;
    for (uint32_t i = 0; i < 1000 && failure.ok(); ++i) {
      auto txn = (*pager)->BeginWrite();
      ASSERT_TRUE(txn.ok());
      uint8_t* page = nullptr;
      auto p = (*txn)->Allocate(PageKind::kRaw, &page);
      if (!p.ok()) {
        failure = p.status();
        break;
      }
      test::FillRawPage(page, 4096, i, 's');
      ASSERT_TRUE((*txn)->Commit().ok());
      pages.push_back(*p);
    }
    ASSERT_TRUE(failure.IsNoSpace()) << failure.ToString();
    EXPECT_NE(failure.message().find("ftruncate"), std::string::npos);
    // Nothing sticks: the pager goes on working once space is back.
    uint32_t more = WriteNewRawPage(pager->get(), 5000, 's');
    ASSERT_NE(more, 0u);
    pages.push_back(more);
  }
  auto pager = Open(&env);
  ASSERT_TRUE(pager.ok()) << pager.status().ToString();
  EXPECT_EQ((*pager)->published().page_count, kFirstDataPage + pages.size());
  auto snap = (*pager)->BeginRead();
  for (uint32_t i = 0; i + 1 < pages.size(); ++i) ExpectRawPage(*snap, pages[i], i, 's');
  ExpectRawPage(*snap, pages.back(), 5000, 's');
}

// A damaged record in the middle of a synced log: Corruption naming it,
// unless the caller opts into salvaging the valid prefix.
TEST_F(PagerDamageTest, DamagedSyncedLogRecordIsCorruptionUnlessSalvaged) {
  const std::string copy = dir_.File("copy");
  uint32_t page;
  {
    auto pager = Open();
    ASSERT_TRUE(pager.ok());
    page = WriteNewRawPage(pager->get(), 1, 'a');  // LSN 1: an image
    for (int i = 0; i < 4; ++i) {                  // LSN 2..5: deltas (page ops)
      ASSERT_TRUE(test::PatchPage(pager->get(), page, 100 + 10 * i, 4, 'x').ok());
    }
    // Copy the files while the log still holds the transactions.
    sombra::test::WriteFileOrDie(copy, sombra::test::ReadFileOrDie(path_));
    sombra::test::WriteFileOrDie(copy + "-wal", sombra::test::ReadFileOrDie(path_ + "-wal"));
  }
  // Flip a payload byte of transaction 2's delta (page ops).
  uint64_t offset = 0;
  {
    auto file = Env::Default()->OpenFile(copy + "-wal", OpenMode::kReadOnly);
    ASSERT_TRUE(file.ok());
    wal::WalReader reader(file->get());
    ASSERT_TRUE(reader.Open().ok());
    wal::Record rec;
    while (reader.Next(&rec)) {
      if (rec.type != wal::RecordType::kPageImage && rec.type != wal::RecordType::kCommit &&
          rec.new_lsn == 2) {
        offset = rec.offset;
      }
    }
  }
  ASSERT_NE(offset, 0u);
  std::string byte = test::ReadAt(copy + "-wal", offset + wal::kRecordHeaderSize + 2, 1);
  byte[0] ^= 0x40;
  PatchFile(copy + "-wal", offset + wal::kRecordHeaderSize + 2, byte);

  auto refused = Pager::Open(Env::Default(), copy, Options());
  ASSERT_TRUE(refused.status().IsCorruption()) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("offset " + std::to_string(offset)), std::string::npos)
      << refused.status().ToString();
  PagerOptions salvage;
  salvage.salvage_wal = true;
  auto salvaged = Pager::Open(Env::Default(), copy, Options(), salvage);
  ASSERT_TRUE(salvaged.ok()) << salvaged.status().ToString();
  EXPECT_EQ((*salvaged)->published().lsn, 1u) << "only the valid prefix is kept";
  ExpectRawPage(salvaged->get(), page, 1, 'a');
}

}  // namespace
}  // namespace sombra::pager
