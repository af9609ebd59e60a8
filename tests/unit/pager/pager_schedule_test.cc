// Deterministic schedules of readers, commits, pruning and checkpoints
// (docs/design/checkpoint.md, "Invariants"): the two orders that once let a
// reader see a page newer than its snapshot, replayed step by step through
// the pager's test hooks (no sleeps), and a seeded random schedule checked
// against a model after every step.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pager/pager.h"
#include "pager_test_util.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"

namespace sombra::pager {
namespace {

// Each commit writes its own LSN into these bytes of the pages it changes.
constexpr uint32_t kStampOffset = 1000;

// The stamp (an LSN) a snapshot reads on a page.
uint64_t Stamp(const Snapshot& snap, uint32_t page_no) {
  auto page = snap.Read(page_no);
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  if (!page.ok()) return UINT64_MAX;
  return DecodeFixed64(*page + kStampOffset);
}

// Commits one transaction stamping `pages` with its LSN; returns the LSN.
uint64_t StampPages(Pager* pager, const std::vector<uint32_t>& pages) {
  auto txn = pager->BeginWrite();
  EXPECT_TRUE(txn.ok()) << txn.status().ToString();
  if (!txn.ok()) return 0;
  const uint64_t lsn = (*txn)->base_lsn() + 1;
  for (uint32_t page_no : pages) {
    auto page = (*txn)->Write(page_no);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return 0;
    EncodeFixed64(*page + kStampOffset, lsn);
    (*txn)->NoteWrite(page_no, kStampOffset, 8);
  }
  Status s = (*txn)->Commit();
  EXPECT_TRUE(s.ok()) << s.ToString();
  return lsn;
}

// Commits one transaction that allocates `n` raw pages stamped with its LSN.
std::vector<uint32_t> NewPages(Pager* pager, int n) {
  auto txn = pager->BeginWrite();
  EXPECT_TRUE(txn.ok());
  if (!txn.ok()) return {};
  const uint64_t lsn = (*txn)->base_lsn() + 1;
  std::vector<uint32_t> pages;
  for (int i = 0; i < n; ++i) {
    uint32_t page_no = test::AllocRawPage(txn->get(), static_cast<uint32_t>(i), 'r');
    auto page = (*txn)->Write(page_no);
    EXPECT_TRUE(page.ok());
    if (!page.ok()) return {};
    EncodeFixed64(*page + kStampOffset, lsn);
    pages.push_back(page_no);
  }
  EXPECT_TRUE((*txn)->Commit().ok());
  return pages;
}

class PagerScheduleTest : public ::testing::Test {
 protected:
  std::unique_ptr<Pager> Open(const Options& options) {
    auto pager = Pager::Open(Env::Default(), path_, options);
    EXPECT_TRUE(pager.ok()) << pager.status().ToString();
    return pager.ok() ? std::move(*pager) : nullptr;
  }
  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
};

// A page preserved in a region that a reader still holds
// (from an earlier checkpoint) may not be replaced by the file for pruning;
// the version the file holds must still be kept, and once that region is
// gone the file must stand in for exactly that version — not for an older
// one a reader depends on, whose region has no private copy of the page.
TEST_F(PagerScheduleTest, FileVersionIsKeptWhileAnOlderRegionPreservesThePage) {
  auto pager = Open(Options());
  ASSERT_NE(pager, nullptr);
  const uint32_t p = NewPages(pager.get(), 1)[0];  // LSN 1
  ASSERT_TRUE(pager->Checkpoint().ok());           // the file holds LSN 1, no versions
  auto oldest = pager->BeginRead();                // S = 1, region X
  const uint64_t l2 = StampPages(pager.get(), {p});
  auto on_x = pager->BeginRead();  // S = 2, also region X
  // `oldest` reads p from the file: p is preserved in X; the map is refreshed (Y).
  ASSERT_TRUE(pager->Checkpoint().ok());
  EXPECT_EQ(pager->metrics()->Value("versions_kept_for_readers"), 1u);
  oldest.reset();
  const uint64_t l3 = StampPages(pager.get(), {p});
  auto middle = pager->BeginRead();  // S = 3, region Y: no private copy of p
  const uint64_t l4 = StampPages(pager.get(), {p});
  // Nothing at risk now (the oldest reader, S = 2, has a version): the file
  // gets LSN 4; X still holds its private copy of p.
  ASSERT_TRUE(pager->Checkpoint().ok());
  EXPECT_EQ(pager->metrics()->Value("versions_kept_for_readers"), 1u);
  StampPages(pager.get(), {p});  // no reader needs LSN 4 any more, but the file holds it
  on_x.reset();                  // X is gone
  StampPages(pager.get(), {p});  // prunes p with the file standing in
  EXPECT_EQ(Stamp(*middle, p), l3) << "the snapshot at LSN " << middle->lsn()
                                   << " reads a newer page (LSN " << l4 << " is in the file)";
  EXPECT_EQ(Stamp(*pager->BeginRead(), p), l3 + 3);
  (void)l2;
  middle.reset();
  StampPages(pager.get(), {p});
  ASSERT_TRUE(pager->Checkpoint().ok());
  EXPECT_EQ(pager->version_count(), 0u) << "every version goes once no reader needs it";
}

// A committer that published before a checkpoint began
// prunes while the checkpoint is writing pages: the file's bytes are then
// in flux, so they may not stand in for the version a reader reads.
TEST_F(PagerScheduleTest, PruneDuringCheckpointWriteKeepsTheReadersVersion) {
  Options options;
  options.durability = Durability::kFull;
  options.wal_checkpoint_bytes = 64 << 20;  // no automatic checkpoint
  auto pager = Open(options);
  ASSERT_NE(pager, nullptr);
  const uint32_t p = NewPages(pager.get(), 1)[0];
  ASSERT_TRUE(pager->Checkpoint().ok());
  StampPages(pager.get(), {p});
  auto old_reader = pager->BeginRead();
  const uint64_t l3 = StampPages(pager.get(), {p});
  // Not at risk (the old reader has a version): the file gets LSN 3, kept
  // for `reader` below, since `old_reader` still needs LSN 2.
  ASSERT_TRUE(pager->Checkpoint().ok());
  auto reader = pager->BeginRead();  // S = 3: reads the version the file holds
  ASSERT_EQ(reader->lsn(), l3);
  old_reader.reset();

  // One hook for the whole schedule: the committer parks after publishing
  // LSN 4 (before it prunes); the checkpoint, once it has written LSN 4 into
  // the file, lets it prune and waits for its commit to return.
  std::mutex mu;
  std::condition_variable cv;
  bool paused = false, go = false, checkpointing = false;
  std::thread::id committer_id;
  std::thread committer;
  pager->SetTestHook([&](PagerHook point) {
    std::unique_lock<std::mutex> lock(mu);
    if (point == PagerHook::kPublishedBeforePrune && std::this_thread::get_id() == committer_id &&
        !go) {
      paused = true;
      cv.notify_all();
      cv.wait(lock, [&] { return go; });
    } else if (point == PagerHook::kCheckpointPagesWritten && checkpointing) {
      go = true;
      cv.notify_all();
      lock.unlock();
      committer.join();
    }
  });
  uint64_t l4 = 0;
  {
    std::unique_lock<std::mutex> lock(mu);
    committer = std::thread([&] { l4 = StampPages(pager.get(), {p}); });
    committer_id = committer.get_id();
    cv.wait(lock, [&] { return paused; });  // LSN 4 published, not pruned
    checkpointing = true;
  }
  ASSERT_TRUE(pager->Checkpoint().ok());
  if (committer.joinable()) committer.join();
  EXPECT_EQ(Stamp(*reader, p), l3) << "a reader at LSN " << l3 << " read LSN " << l4;
  EXPECT_EQ(Stamp(*pager->BeginRead(), p), l4);
  pager->SetTestHook({});
}

// A seeded random schedule of begin/end read, commits (durability full,
// normal, off) and checkpoints, one step at a time: after every step each
// live reader reads, on every page, the stamp of the newest commit at or
// below its snapshot, and every pointer it took before still shows the
// bytes it showed then.
TEST_F(PagerScheduleTest, RandomScheduleMatchesTheModelAfterEveryStep) {
  const uint64_t seed = sombra::test::TestSeed();
  std::mt19937_64 rng(seed);
  Options options;
  options.wal_checkpoint_bytes = 64 << 10;
  options.durability = static_cast<Durability>(rng() % 3);
  auto pager = Open(options);
  ASSERT_NE(pager, nullptr);
  constexpr int kPages = 6;
  const std::vector<uint32_t> pages = NewPages(pager.get(), kPages);
  ASSERT_EQ(pages.size(), static_cast<size_t>(kPages));
  // history[page]: stamp by commit LSN.
  std::map<uint32_t, std::map<uint64_t, uint64_t>> history;
  for (uint32_t p : pages) history[p][1] = 1;
  struct Reader {
    std::unique_ptr<Snapshot> snap;
    std::map<uint32_t, std::pair<const uint8_t*, uint64_t>> seen;  // pointer, stamp
  };
  std::vector<Reader> readers;
  auto expected = [&](uint32_t p, uint64_t lsn) {
    auto& h = history[p];
    return std::prev(h.upper_bound(lsn))->second;
  };
  int steps = 0;
  for (int step = 0; step < 1500; ++step) {
    const int op = static_cast<int>(rng() % 100);
    std::string what;
    if (op < 20 && readers.size() < 8) {
      readers.push_back(Reader{pager->BeginRead(), {}});
      what = "begin read at " + std::to_string(readers.back().snap->lsn());
    } else if (op < 40 && !readers.empty()) {
      size_t i = rng() % readers.size();
      what = "end read at " + std::to_string(readers[i].snap->lsn());
      readers.erase(readers.begin() + static_cast<long>(i));
    } else if (op < 90) {
      std::vector<uint32_t> touch;
      for (uint32_t p : pages) {
        if (rng() % 3 == 0) touch.push_back(p);
      }
      if (touch.empty()) touch.push_back(pages[rng() % pages.size()]);
      const uint64_t lsn = StampPages(pager.get(), touch);
      ASSERT_NE(lsn, 0u);
      for (uint32_t p : touch) history[p][lsn] = lsn;
      what = "commit " + std::to_string(lsn);
    } else {
      ASSERT_TRUE(pager->Checkpoint().ok());
      what = "checkpoint";
    }
    ++steps;
    for (Reader& r : readers) {
      for (uint32_t p : pages) {
        auto page = r.snap->Read(p);
        ASSERT_TRUE(page.ok()) << page.status().ToString();
        const uint64_t want = expected(p, r.snap->lsn());
        ASSERT_EQ(DecodeFixed64(*page + kStampOffset), want)
            << "seed " << seed << ", step " << step << " (" << what << "): snapshot at LSN "
            << r.snap->lsn() << " on page " << p;
        auto [it, fresh] = r.seen.emplace(p, std::make_pair(*page, want));
        if (!fresh) {
          ASSERT_EQ(DecodeFixed64(it->second.first + kStampOffset), it->second.second)
              << "seed " << seed << ", step " << step << " (" << what
              << "): bytes under a pointer changed, page " << p;
        }
      }
    }
  }
  readers.clear();
  ASSERT_TRUE(pager->Checkpoint().ok());
  EXPECT_EQ(pager->version_count(), 0u);
  EXPECT_EQ(steps, 1500);
}

}  // namespace
}  // namespace sombra::pager
