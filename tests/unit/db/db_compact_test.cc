// DB::Compact and the free tail given back at checkpoint and close
// (docs/operations.md, "Compaction"): live pages move down into free
// pages, the page count drops past the last live page and the file
// shrinks to it; every tree reads as before, a snapshot from before reads
// on (the file waits for it), writers commit between steps, and bad cases
// are refused without a change.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "db_test_util.h"
#include "sombra/db.h"
#include "testutil/temp_dir.h"

namespace sombra::dbtest {
namespace {

constexpr uint64_t kPage = 4096;

class DbCompactTest : public ::testing::Test {
 protected:
  void SetUp() override { db_ = OpenOrDie(FastOptions(), path_); }

  Tree* OpenTreeOrDie(const std::string& name) {
    Tree* t = nullptr;
    Status s = db_->OpenTree(name, &t);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return t;
  }

  // `n` records in `tree` (every 97th with a 9,000-byte overflow value),
  // keys prefixed with `tag`, in one transaction; also into *model.
  void Fill(Tree* tree, const std::string& tag, int n, KV* model) {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db_->BeginWrite(&w).ok());
    for (int i = 0; i < n; ++i) {
      const std::string key = tag + NumKey(i);
      const std::string value = FillValue(i % 97 == 0 ? 9000 : 100, i);
      ASSERT_TRUE(w->Put(tree, key, value).ok());
      if (model != nullptr) (*model)[key] = value;
    }
    ASSERT_TRUE(w->Commit().ok());
  }

  KV DumpTree(Tree* tree) {
    std::unique_ptr<ReadTxn> r;
    EXPECT_TRUE(db_->BeginRead(&r).ok());
    return Dump(r->NewCursor(tree).get());
  }

  void ExpectVerifies(const std::string& when) {
    Status v = db_->Verify();
    EXPECT_TRUE(v.ok()) << when << ": " << v.ToString();
  }

  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
  std::unique_ptr<DB> db_;
};

// The new user's case of issue 15: a 5 MB value deleted, six records left.
TEST_F(DbCompactTest, DeletingALargeValueGivesTheFileBackAtCheckpoint) {
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(db_->Put(NumKey(i), "small").ok());
  ASSERT_TRUE(db_->Put("big", std::string(5 << 20, 'x')).ok());
  ASSERT_TRUE(db_->Checkpoint().ok());
  ASSERT_GE(db_->GetStats().file_bytes, uint64_t{5} << 20);
  ASSERT_TRUE(db_->Delete("big").ok());
  ASSERT_TRUE(db_->Checkpoint().ok());
  const Stats s = db_->GetStats();
  EXPECT_EQ(s.freelist_pages, 0u);
  EXPECT_LT(s.page_count, 8u);
  EXPECT_EQ(s.file_bytes, s.page_count * kPage);
  ExpectVerifies("after the checkpoint");
  db_.reset();
  db_ = OpenOrDie(FastOptions(), path_);
  EXPECT_EQ(DumpDb(db_.get()).size(), 6u);
  ExpectVerifies("after reopening");
}

TEST_F(DbCompactTest, CloseGivesTheFreeTailBack) {
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(db_->Put(NumKey(i), "small").ok());
  ASSERT_TRUE(db_->Put("big", std::string(3 << 20, 'y')).ok());
  ASSERT_TRUE(db_->Delete("big").ok());
  db_.reset();
  EXPECT_LT(FileSize(path_), 8 * kPage);
  db_ = OpenOrDie(FastOptions(), path_);
  EXPECT_EQ(db_->GetStats().freelist_pages, 0u);
  EXPECT_EQ(DumpDb(db_.get()).size(), 6u);
  ExpectVerifies("after reopening");
}

// Free pages low in the file (a dropped tree, ranges deleted), live pages
// of three trees above them: Compact moves them down and the file ends at
// the last live page; it then grows again as usual.
TEST_F(DbCompactTest, MovesLivePagesDownAndShrinksTheFile) {
  Fill(OpenTreeOrDie("first"), "f", 20000, nullptr);
  KV a, b, def;
  Tree* ta = OpenTreeOrDie("a");
  Tree* tb = OpenTreeOrDie("b");
  Fill(ta, "a", 20000, &a);
  Fill(tb, "b", 5000, &b);
  Fill(db_->DefaultTree(), "d", 8000, &def);
  ASSERT_TRUE(db_->DropTree("first").ok());
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  ASSERT_TRUE(w->DeleteRange(ta, "a" + NumKey(1000), "a" + NumKey(19000)).ok());
  ASSERT_TRUE(w->Commit().ok());
  a.erase(a.lower_bound("a" + NumKey(1000)), a.lower_bound("a" + NumKey(19000)));
  const Stats before = db_->GetStats();
  ASSERT_GT(before.freelist_pages, before.page_count / 2);

  CompactStats cs;
  Status s = db_->Compact(&cs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const Stats after = db_->GetStats();
  std::printf(
      "[ compact  ] %llu pages (%llu free) -> %llu pages (%llu free): %llu moved, "
      "%llu rewritten, %llu steps, %.1f ms, file %llu -> %llu bytes\n",
      static_cast<unsigned long long>(before.page_count),
      static_cast<unsigned long long>(before.freelist_pages),
      static_cast<unsigned long long>(after.page_count),
      static_cast<unsigned long long>(after.freelist_pages),
      static_cast<unsigned long long>(cs.pages_moved),
      static_cast<unsigned long long>(cs.pages_rewritten),
      static_cast<unsigned long long>(cs.steps), cs.seconds * 1e3,
      static_cast<unsigned long long>(cs.file_bytes_before),
      static_cast<unsigned long long>(cs.file_bytes_after));
  EXPECT_GT(cs.pages_moved, 512u);  // more than one step's worth
  EXPECT_GE(cs.steps, 2u);
  EXPECT_EQ(after.freelist_pages, 0u);
  EXPECT_EQ(after.page_count, before.page_count - before.freelist_pages);
  EXPECT_EQ(cs.pages_given_back, before.freelist_pages);
  EXPECT_EQ(after.file_bytes, after.page_count * kPage);
  EXPECT_EQ(cs.file_bytes_after, after.file_bytes);
  ExpectVerifies("after Compact");
  EXPECT_EQ(DiffKV(DumpTree(ta), a), "");
  EXPECT_EQ(DiffKV(DumpTree(tb), b), "");
  EXPECT_EQ(DiffKV(DumpTree(db_->DefaultTree()), def), "");

  // A second compaction finds nothing to do.
  ASSERT_TRUE(db_->Compact(&cs).ok());
  EXPECT_EQ(cs.pages_moved, 0u);
  EXPECT_EQ(cs.pages_given_back, 0u);

  // The file grows again from its new end; all of it survives a reopen.
  Fill(tb, "c", 6000, &b);
  ExpectVerifies("after growing again");
  db_.reset();
  db_ = OpenOrDie(FastOptions(), path_);
  ta = OpenTreeOrDie("a");
  tb = OpenTreeOrDie("b");
  EXPECT_EQ(DiffKV(DumpTree(ta), a), "");
  EXPECT_EQ(DiffKV(DumpTree(tb), b), "");
  EXPECT_EQ(DiffKV(DumpTree(db_->DefaultTree()), def), "");
  ExpectVerifies("after reopening");
}

// A snapshot taken before the deletes reads every record it had while
// Compact moves pages under it; the file keeps the pages it may read
// until it ends, and shrinks at the next checkpoint after that.
TEST_F(DbCompactTest, ASnapshotFromBeforeReadsOnAndTheFileShrinksAfterIt) {
  KV all;
  Fill(db_->DefaultTree(), "k", 30000, &all);
  std::unique_ptr<ReadTxn> held;
  ASSERT_TRUE(db_->BeginRead(&held).ok());
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  KV kept;
  for (const auto& [k, v] : all) {
    if (k.back() % 10 == 3) {
      kept[k] = v;
    } else {
      ASSERT_TRUE(w->Delete(k).ok());
    }
  }
  ASSERT_TRUE(w->DeleteRange("k" + NumKey(0), "k" + NumKey(20000)).ok());
  kept.erase(kept.begin(), kept.lower_bound("k" + NumKey(20000)));
  ASSERT_TRUE(w->Commit().ok());

  CompactStats cs;
  ASSERT_TRUE(db_->Compact(&cs).ok());
  EXPECT_GT(cs.pages_moved, 0u);
  const Stats during = db_->GetStats();
  EXPECT_GT(during.file_bytes, during.page_count * kPage);  // kept for the snapshot
  EXPECT_EQ(DiffKV(Dump(held->NewCursor().get()), all), "");
  EXPECT_EQ(DiffKV(DumpDb(db_.get()), kept), "");
  ExpectVerifies("with the snapshot held");
  held.reset();
  ASSERT_TRUE(db_->Checkpoint().ok());
  const Stats after = db_->GetStats();
  EXPECT_EQ(after.file_bytes, after.page_count * kPage);
  EXPECT_LT(after.file_bytes, during.file_bytes);
  EXPECT_EQ(DiffKV(DumpDb(db_.get()), kept), "");
  ExpectVerifies("after the snapshot ended");
}

// A writer commits into another tree and a reader scans while Compact
// runs its steps: the writer's every commit is there, the moved tree
// reads the same to the reader throughout, and the result verifies.
TEST_F(DbCompactTest, ConcurrentWriterAndReaderBesideCompaction) {
  Fill(OpenTreeOrDie("low"), "l", 20000, nullptr);
  KV moved;
  Tree* tm = OpenTreeOrDie("moved");
  Fill(tm, "m", 20000, &moved);
  Tree* tw = OpenTreeOrDie("written");
  ASSERT_TRUE(db_->DropTree("low").ok());

  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::atomic<int> scans{0};
  std::thread writer([&] {
    for (int i = 0; !stop.load() || i < 50; ++i) {
      std::unique_ptr<WriteTxn> w;
      ASSERT_TRUE(db_->BeginWrite(&w).ok());
      ASSERT_TRUE(w->Put(tw, NumKey(i), FillValue(64, i)).ok());
      ASSERT_TRUE(w->Commit().ok());
      written.store(i + 1);
    }
  });
  std::thread reader([&] {
    while (!stop.load() || scans.load() == 0) {
      std::unique_ptr<ReadTxn> r;
      ASSERT_TRUE(db_->BeginRead(&r).ok());
      ASSERT_EQ(DiffKV(Dump(r->NewCursor(tm).get()), moved), "");
      scans.fetch_add(1);
    }
  });
  CompactStats cs;
  Status s = db_->Compact(&cs);
  stop.store(true);
  writer.join();
  reader.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::printf("[ compact  ] %llu pages moved in %llu steps beside %d commits and %d scans\n",
              static_cast<unsigned long long>(cs.pages_moved),
              static_cast<unsigned long long>(cs.steps), written.load(), scans.load());
  EXPECT_GT(cs.pages_moved, 0u);
  ExpectVerifies("after the compaction");
  EXPECT_EQ(DiffKV(DumpTree(tm), moved), "");
  EXPECT_EQ(DumpTree(tw).size(), static_cast<size_t>(written.load()));
}

TEST_F(DbCompactTest, RefusedReadOnlyAndInsideAWriteTransaction) {
  Fill(db_->DefaultTree(), "k", 100, nullptr);
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  Status s = db_->Compact();  // would wait for the writer slot it holds
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  s = db_->Checkpoint();
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  w.reset();
  db_.reset();
  Options ro = FastOptions();
  ro.read_only = true;
  db_ = OpenOrDie(ro, path_);
  s = db_->Compact();
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
}

// A damaged live page: Corruption naming it, and nothing of the step
// written.
TEST_F(DbCompactTest, ADamagedPageIsCorruptionAndChangesNothing) {
  Tree* low = OpenTreeOrDie("low");
  Fill(low, "l", 5000, nullptr);
  KV kept;
  Tree* high = OpenTreeOrDie("high");
  Fill(high, "h", 5000, &kept);
  ASSERT_TRUE(db_->DropTree("low").ok());
  const Stats before = db_->GetStats();
  db_.reset();
  // The last page is live (the drop freed pages below it): damage it.
  FlipByte(path_, (before.page_count - 1) * kPage + kPage / 2);
  db_ = OpenOrDie(FastOptions(), path_);
  Status s = db_->Compact();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_TRUE(Contains(s.ToString(), "page " + std::to_string(before.page_count - 1)))
      << s.ToString();
  const Stats after = db_->GetStats();
  EXPECT_EQ(after.page_count, before.page_count);
  EXPECT_EQ(after.freelist_pages, before.freelist_pages);
}

}  // namespace
}  // namespace sombra::dbtest
