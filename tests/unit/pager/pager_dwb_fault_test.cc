// A checkpoint whose writes, syncs or truncates fail (ENOSPC, EIO) at each
// step in turn, including the double-write batch (docs/format/dwb.md) it
// writes before touching the page file: the failure is reported, nothing
// committed is lost, and a power loss right after the failed checkpoint
// (its unsynced writes torn sector by sector) still recovers every commit.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "env/fault_injection_env.h"
#include "pager/pager.h"
#include "pager_test_util.h"
#include "testutil/temp_dir.h"

namespace sombra::pager {
namespace {

using test::PatchPage;
using test::WriteNewRawPage;
using CrashMode = FaultInjectionEnv::CrashMode;
using FaultOp = FaultInjectionEnv::Op;

constexpr int kPages = 24;
constexpr uint32_t kPatchAt = 1000;
constexpr uint64_t kMaxSteps = 64;  // far more than a checkpoint's writes

const char* OpName(FaultOp op) {
  switch (op) {
    case FaultOp::kWrite:
      return "write";
    case FaultOp::kSync:
      return "sync";
    case FaultOp::kTruncate:
      return "truncate";
  }
  return "?";
}

class PagerDwbFaultTest : public ::testing::Test {
 protected:
  // `count` pages 'p' at a checkpoint, each then patched with 'q' at
  // kPatchAt in one transaction (page ops on the page file's pages): the
  // next checkpoint copies all of them to the double-write file before it
  // overwrites them.
  void Load(FaultInjectionEnv* env, const std::string& path, int count,
            std::vector<uint32_t>* pages) {
    auto pager = Pager::Open(env, path, Options());
    ASSERT_TRUE(pager.ok()) << pager.status().ToString();
    {
      auto txn = (*pager)->BeginWrite();
      ASSERT_TRUE(txn.ok()) << txn.status().ToString();
      for (int i = 0; i < count; ++i) pages->push_back(test::AllocRawPage(txn->get(), i, 'p'));
      ASSERT_TRUE((*txn)->Commit().ok());
    }
    ASSERT_TRUE((*pager)->Checkpoint().ok());
    {
      auto txn = (*pager)->BeginWrite();
      ASSERT_TRUE(txn.ok()) << txn.status().ToString();
      for (uint32_t p : *pages) {
        auto page = (*txn)->Write(p);
        ASSERT_TRUE(page.ok()) << page.status().ToString();
        std::memset(*page + kPatchAt, 'q', 8);
        (*txn)->NoteWrite(p, kPatchAt, 8);
      }
      ASSERT_TRUE((*txn)->Commit().ok());
    }
    EXPECT_EQ((*pager)->metrics()->Value("wal_ops_records"), static_cast<uint64_t>(count));
    pager_ = std::move(*pager);
  }

  // Every page holds its tag and its patch.
  static void ExpectCommitted(Pager* pager, const std::vector<uint32_t>& pages) {
    auto snap = pager->BeginRead();
    for (size_t i = 0; i < pages.size(); ++i) {
      auto page = snap->Read(pages[i]);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      EXPECT_EQ(DecodeFixed32(*page + kPageHeaderSize), i) << "page " << pages[i];
      EXPECT_EQ((*page)[kPatchAt], 'q') << "page " << pages[i];
      EXPECT_EQ((*page)[kPatchAt + 8], 'p') << "page " << pages[i];
    }
  }

  // Fails the (skip+1)-th `op` of a checkpoint with `err`, then crashes
  // (`crash`) or closes; the reopened pager must hold every commit. False
  // when the checkpoint did not reach that step (it succeeded).
  bool FailStep(FaultOp op, int err, uint64_t skip, bool crash) {
    const std::string path =
        dir_.File(std::string(OpName(op)) + std::to_string(skip) + (crash ? "-crash" : "-close"));
    FaultInjectionEnv env(Env::Default(), skip + 1);
    std::vector<uint32_t> pages;
    Load(&env, path, kPages, &pages);
    if (HasFatalFailure()) return false;
    MetricsRegistry* m = pager_->metrics();
    const uint64_t copies = m->Value("double_write_pages");
    env.FailNext(op, err, skip);
    const Status s = pager_->Checkpoint();
    env.ClearFailures();
    if (s.ok()) {
      EXPECT_EQ(m->Value("double_write_pages") - copies, static_cast<uint64_t>(kPages));
      pager_.reset();
      return false;
    }
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    if (op == FaultOp::kWrite && err == ENOSPC) {
      EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
    }
    ExpectCommitted(pager_.get(), pages);  // reads go on
    if (crash) {
      env.SetActive(false);  // the process dies: nothing more reaches the disk
      pager_.reset();
      EXPECT_TRUE(env.Crash(CrashMode::kTornSectors).ok());
      env.SetActive(true);
    } else {
      pager_.reset();
    }
    auto reopened = Pager::Open(&env, path, Options());
    EXPECT_TRUE(reopened.ok()) << reopened.status().ToString();
    if (!reopened.ok()) return true;
    ExpectCommitted(reopened->get(), pages);
    // And it checkpoints and takes writes again.
    EXPECT_TRUE((*reopened)->Checkpoint().ok());
    EXPECT_TRUE(PatchPage(reopened->get(), pages[0], kPatchAt + 100, 4, 'z').ok());
    return true;
  }

  // Runs FailStep for skip 0, 1, ... until the checkpoint gets past every
  // step; returns how many steps failed it.
  uint64_t FailEachStep(FaultOp op, int err, bool crash) {
    uint64_t failed = 0;
    for (uint64_t skip = 0; skip < kMaxSteps; ++skip) {
      SCOPED_TRACE(std::string(OpName(op)) + " " + std::to_string(skip) +
                   (crash ? ", then a power loss" : ", then a clean close"));
      if (!FailStep(op, err, skip, crash)) break;
      ++failed;
      if (HasFatalFailure()) break;
    }
    return failed;
  }

  sombra::test::TempDir dir_;
  std::unique_ptr<Pager> pager_;
};

// Full disk at each write: the double-write copies, their header, each page
// written in place, the meta pages, the log's restart.
TEST_F(PagerDwbFaultTest, EveryWriteFailingWithNoSpace) {
  for (bool crash : {false, true}) {
    const uint64_t failed = FailEachStep(FaultOp::kWrite, ENOSPC, crash);
    // At least the batch's copies and header, the pages and a meta page.
    EXPECT_GE(failed, 4u);
    EXPECT_LT(failed, kMaxSteps) << "the checkpoint never succeeded";
  }
}

// An fdatasync failing at each of the checkpoint's syncs (the batch's, the
// page file's, the meta page's, the log's).
TEST_F(PagerDwbFaultTest, EverySyncFailingWithEio) {
  for (bool crash : {false, true}) {
    const uint64_t failed = FailEachStep(FaultOp::kSync, EIO, crash);
    EXPECT_GE(failed, 3u);
    EXPECT_LT(failed, kMaxSteps) << "the checkpoint never succeeded";
  }
}

// The double-write file is given back (truncated) after a checkpoint that
// copied more than 4 MiB; when that truncate fails the checkpoint still
// succeeds, and the stale copies left in the file (behind a later, smaller
// batch) are never put back: after a clean close whose truncate fails too,
// or after a power loss, every commit is there.
TEST_F(PagerDwbFaultTest, AFailedTruncateOfALargeBatchLosesNothing) {
  constexpr int kManyPages = 1100;  // copies past the 4 MiB kept
  for (bool crash : {false, true}) {
    SCOPED_TRACE(crash ? "then a power loss" : "then a clean close");
    const std::string path = dir_.File(crash ? "truncate-crash" : "truncate-close");
    FaultInjectionEnv env(Env::Default(), 7);
    std::vector<uint32_t> pages;
    Load(&env, path, kManyPages, &pages);
    if (HasFatalFailure()) return;
    env.FailNext(FaultOp::kTruncate, EIO);
    ASSERT_TRUE(pager_->Checkpoint().ok()) << "giving the file back is best effort";
    env.ClearFailures();
    EXPECT_GT(std::filesystem::file_size(path + "-dwb"), uint64_t{4} << 20) << "kept";
    // A later checkpoint writes a one-page batch over the start of the file.
    ASSERT_TRUE(PatchPage(pager_.get(), pages[0], kPatchAt + 100, 4, 'z').ok());
    ASSERT_TRUE(pager_->Checkpoint().ok());
    ASSERT_TRUE(PatchPage(pager_.get(), pages[1], kPatchAt + 100, 4, 'y').ok());
    if (crash) {
      env.SetActive(false);
      pager_.reset();
      ASSERT_TRUE(env.Crash(CrashMode::kTornSectors).ok());
      env.SetActive(true);
    } else {
      env.FailNext(FaultOp::kTruncate, EIO);
      pager_.reset();
      env.ClearFailures();
    }
    auto reopened = Pager::Open(&env, path, Options());
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    ExpectCommitted(reopened->get(), pages);
    auto snap = (*reopened)->BeginRead();
    auto first = snap->Read(pages[0]);
    auto second = snap->Read(pages[1]);
    ASSERT_TRUE(first.ok() && second.ok());
    EXPECT_EQ((*first)[kPatchAt + 100], 'z');
    EXPECT_EQ((*second)[kPatchAt + 100], 'y');
  }
}

}  // namespace
}  // namespace sombra::pager
