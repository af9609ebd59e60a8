// Named trees through the public API (docs/api.md, "Named trees"): one
// transaction writes several trees and commits or aborts them together, a
// snapshot sees every tree at one commit, trees survive a reopen, handles
// of dropped trees turn invalid, and dropping a tree returns its pages to
// the freelist while the other trees stay intact.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "db/db_impl.h"
#include "db_test_util.h"
#include "pager/format.h"
#include "pager/meta.h"
#include "sombra/db.h"
#include "testutil/patch_file.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"

namespace sombra::dbtest {
namespace {

class DbTreesTest : public ::testing::Test {
 protected:
  void SetUp() override { db_ = OpenOrDie(FastOptions(), path_); }
  Tree* Open(const std::string& name) {
    Tree* t = nullptr;
    Status s = db_->OpenTree(name, &t);
    EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
    return t;
  }
  std::string GetIn(Tree* t, const std::string& key) {
    std::unique_ptr<ReadTxn> r;
    EXPECT_TRUE(db_->BeginRead(&r).ok());
    std::string v;
    Status s = r->Get(t, key, &v);
    return s.ok() ? v : "<" + s.ToString() + ">";
  }
  KV DumpTree(Tree* t) {
    std::unique_ptr<ReadTxn> r;
    EXPECT_TRUE(db_->BeginRead(&r).ok());
    auto c = r->NewCursor(t);
    return Dump(c.get());
  }

  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
  std::unique_ptr<DB> db_;
};

TEST_F(DbTreesTest, TreesAreSeparateKeySpacesCommittedTogether) {
  Tree* a = Open("a");
  Tree* b = Open("b");
  ASSERT_NE(a, b);
  EXPECT_EQ(a->name(), "a");
  EXPECT_EQ(db_->DefaultTree()->name(), "");
  Tree* again = nullptr;
  ASSERT_TRUE(db_->OpenTree("a", &again).ok());
  EXPECT_EQ(again, a);

  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  ASSERT_TRUE(w->Put(a, "k", "in a").ok());
  ASSERT_TRUE(w->Put(b, "k", "in b").ok());
  ASSERT_TRUE(w->Put("k", "in default").ok());
  std::string v;
  ASSERT_TRUE(w->Get(a, "k", &v).ok());
  EXPECT_EQ(v, "in a");
  // Not yet committed: a snapshot sees none of it, in any tree.
  EXPECT_TRUE(Contains(GetIn(a, "k"), "NotFound"));
  EXPECT_TRUE(Contains(GetIn(b, "k"), "NotFound"));
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_EQ(GetIn(a, "k"), "in a");
  EXPECT_EQ(GetIn(b, "k"), "in b");
  EXPECT_EQ(GetIn(db_->DefaultTree(), "k"), "in default");

  // An aborted transaction over three trees changes none of them.
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  ASSERT_TRUE(w->Put(a, "k", "a2").ok());
  ASSERT_TRUE(w->Delete(b, "k").ok());
  ASSERT_TRUE(w->Put("z", "z").ok());
  w->Abort();
  EXPECT_EQ(GetIn(a, "k"), "in a");
  EXPECT_EQ(GetIn(b, "k"), "in b");
  EXPECT_TRUE(Contains(GetIn(db_->DefaultTree(), "z"), "NotFound"));

  std::vector<std::string> names;
  ASSERT_TRUE(db_->ListTrees(&names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(db_->Verify().ok());
}

TEST_F(DbTreesTest, ASnapshotSeesEveryTreeAtOneCommit) {
  Tree* a = Open("a");
  Tree* b = Open("b");
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  ASSERT_TRUE(w->Put(a, "x", "1").ok());
  ASSERT_TRUE(w->Put(b, "x", "1").ok());
  ASSERT_TRUE(w->Commit().ok());
  std::unique_ptr<ReadTxn> before;
  ASSERT_TRUE(db_->BeginRead(&before).ok());
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  ASSERT_TRUE(w->Put(a, "x", "2").ok());
  ASSERT_TRUE(w->Put(b, "x", "2").ok());
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(w->Put(b, NumKey(i), FillValue(40, i)).ok());
  ASSERT_TRUE(w->Commit().ok());
  ASSERT_TRUE(db_->Checkpoint().ok());
  std::string va, vb;
  ASSERT_TRUE(before->Get(a, "x", &va).ok());
  ASSERT_TRUE(before->Get(b, "x", &vb).ok());
  EXPECT_EQ(va + vb, "11");
  auto c = before->NewCursor(b);
  EXPECT_EQ(Dump(c.get()).size(), 1u);
  EXPECT_EQ(GetIn(a, "x") + GetIn(b, "x"), "22");
  // A tree created after the snapshot began reads as empty in it.
  Tree* late = Open("late");
  EXPECT_TRUE(before->Get(late, "x", &va).IsNotFound());
  auto lc = before->NewCursor(late);
  lc->SeekToFirst();
  EXPECT_FALSE(lc->Valid());
  EXPECT_TRUE(lc->status().ok());
}

TEST_F(DbTreesTest, TreesSurviveAReopenAndACrashRecovery) {
  Tree* a = Open("alpha");
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(w->Put(a, NumKey(i), FillValue(30, i)).ok());
  ASSERT_TRUE(w->Put(a, "big", FillValue(20000, 7)).ok());
  ASSERT_TRUE(w->Commit().ok());
  const KV want = DumpTree(a);
  ASSERT_EQ(want.size(), 5001u);
  // The files as a crash would leave them (the commit is in the log only):
  // recovery replays the catalog root with the tree's pages.
  const std::string crashed = dir_.File("crashed");
  std::filesystem::copy_file(path_, crashed);
  std::filesystem::copy_file(path_ + "-wal", crashed + "-wal");
  {
    auto copy = OpenOrDie(FastOptions(), crashed);
    ASSERT_NE(copy, nullptr);
    EXPECT_GT(copy->GetStats().recovery_records_replayed, 0u);
    Tree* t = nullptr;
    ASSERT_TRUE(copy->OpenTree("alpha", &t).ok());
    std::unique_ptr<ReadTxn> r;
    ASSERT_TRUE(copy->BeginRead(&r).ok());
    auto c = r->NewCursor(t);
    EXPECT_EQ(Dump(c.get()), want);
    EXPECT_TRUE(copy->Verify().ok());
  }
  db_.reset();  // clean close: checkpointed into the meta page
  db_ = OpenOrDie(FastOptions(), path_);
  Tree* again = Open("alpha");
  EXPECT_EQ(DumpTree(again), want);
  EXPECT_TRUE(db_->Verify().ok());

  // Read-only: an existing tree opens, a missing one is NotFound.
  Options ro = FastOptions();
  ro.read_only = true;
  auto reader = OpenOrDie(ro, path_);
  Tree* t = nullptr;
  ASSERT_TRUE(reader->OpenTree("alpha", &t).ok());
  EXPECT_TRUE(reader->OpenTree("missing", &t).IsNotFound());
}

TEST_F(DbTreesTest, BadNamesAndHandles) {
  Tree* t = nullptr;
  EXPECT_TRUE(db_->OpenTree("", &t).IsInvalidArgument());
  EXPECT_TRUE(db_->OpenTree(std::string(256, 'n'), &t).IsInvalidArgument());
  EXPECT_TRUE(db_->OpenTree(std::string(255, 'n'), &t).ok());
  EXPECT_TRUE(db_->DropTree("").IsInvalidArgument());
  EXPECT_TRUE(db_->DropTree("missing").IsNotFound());
  std::unique_ptr<ReadTxn> r;
  ASSERT_TRUE(db_->BeginRead(&r).ok());
  std::string v;
  EXPECT_TRUE(r->Get(nullptr, "k", &v).IsInvalidArgument());

  // Another database's handle is refused.
  auto other = OpenOrDie(FastOptions(), dir_.File("other"));
  Tree* foreign = nullptr;
  ASSERT_TRUE(other->OpenTree("a", &foreign).ok());
  EXPECT_TRUE(r->Get(foreign, "k", &v).IsInvalidArgument());

  // Creating a tree needs the writer slot: the thread holding it gets Busy
  // instead of waiting for itself; an existing tree opens.
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  Status s = db_->OpenTree("new", &t);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_TRUE(db_->DropTree("new").IsBusy());
  EXPECT_TRUE(db_->OpenTree(std::string(255, 'n'), &t).ok());
  ASSERT_TRUE(w->Put(t, "k", "v").ok());
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_TRUE(db_->OpenTree("new", &t).ok());
}

TEST_F(DbTreesTest, DropFreesEveryPageAndInvalidatesTheHandle) {
  Tree* keep = Open("keep");
  Tree* gone = Open("gone");
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(w->Put(gone, NumKey(i), FillValue(i % 1000 == 0 ? 9000 : 24, i)).ok());
    if (i % 10 == 0) {
      ASSERT_TRUE(w->Put(keep, NumKey(i), "kept").ok());
    }
  }
  ASSERT_TRUE(w->Put("d", "default").ok());
  ASSERT_TRUE(w->Commit().ok());
  const KV kept = DumpTree(keep);
  const Stats before = db_->GetStats();

  ASSERT_TRUE(db_->DropTree("gone").ok());
  const Stats after = db_->GetStats();
  EXPECT_EQ(after.page_count, before.page_count);
  // The tree's leaves and internal pages, and 20 three-page overflow chains.
  EXPECT_GT(after.freelist_pages, before.freelist_pages + 100 + 60);
  std::unique_ptr<ReadTxn> r;
  ASSERT_TRUE(db_->BeginRead(&r).ok());
  std::string v;
  EXPECT_TRUE(r->Get(gone, NumKey(1), &v).IsInvalidArgument());
  auto c = r->NewCursor(gone);
  EXPECT_TRUE(c->status().IsInvalidArgument());
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  EXPECT_TRUE(w->Put(gone, "k", "v").IsInvalidArgument());
  ASSERT_TRUE(w->Put(keep, "k", "v").ok());  // the transaction goes on
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_EQ(DumpTree(keep).size(), kept.size() + 1);
  EXPECT_EQ(GetIn(db_->DefaultTree(), "d"), "default");
  std::vector<std::string> names;
  ASSERT_TRUE(db_->ListTrees(&names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"keep"}));
  EXPECT_TRUE(db_->Verify().ok());

  // The name can be used again: a new, empty tree.
  Tree* fresh = Open("gone");
  EXPECT_NE(fresh, gone);
  EXPECT_TRUE(DumpTree(fresh).empty());
  // The freed pages are reused before the file grows.
  const uint64_t pages = db_->GetStats().page_count;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(w->Put(fresh, NumKey(i), FillValue(24, i)).ok());
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_EQ(db_->GetStats().page_count, pages);
  EXPECT_TRUE(db_->Verify().ok());
}

// A format-4 file (written before the leaf flag: every leaf unflagged, the
// meta pages say version 4) opens, verifies, and drops a tree holding
// overflow values without leaking a page: the unflagged leaves have their
// records read for overflow references. Its next meta page is format 5.
TEST_F(DbTreesTest, AFormatFourFileDropsATreeWithOverflowValues) {
  Tree* gone = Open("gone");
  Tree* keep = Open("keep");
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(w->Put(gone, NumKey(i), FillValue(i % 100 == 0 ? 9000 : 24, i)).ok());
    ASSERT_TRUE(w->Put(keep, NumKey(i), FillValue(i % 500 == 0 ? 9000 : 24, i)).ok());
  }
  ASSERT_TRUE(w->Commit().ok());
  const KV kept = DumpTree(keep);
  db_.reset();  // a clean close: every page is in the file, the log empty

  // Rewrite it as format 4 would have: no leaf flag, version 4.
  std::string file;
  {
    std::FILE* f = std::fopen(path_.c_str(), "rb");
    ASSERT_NE(f, nullptr);
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) file.append(buf, n);
    std::fclose(f);
  }
  constexpr size_t kPs = 4096;
  auto* bytes = reinterpret_cast<uint8_t*>(file.data());
  const uint64_t salt = DecodeFixed64(bytes + pager::kMetaSaltOffset);
  size_t unflagged = 0;
  for (size_t p = 0; p + kPs <= file.size(); p += kPs) {
    uint8_t* page = bytes + p;
    if (p < 2 * kPs) {
      EncodeFixed32(page + pager::kMetaVersionOffset, 4);
    } else if (page[pager::kHeaderKindOffset] == static_cast<uint8_t>(pager::PageKind::kLeaf) &&
               page[pager::kHeaderFlagsOffset] != 0) {
      page[pager::kHeaderFlagsOffset] = 0;
      ++unflagged;
    } else {
      continue;
    }
    pager::SealPage(page, kPs, salt);
  }
  EXPECT_GT(unflagged, 20u);
  test::PatchFile(path_, 0, file);

  db_ = OpenOrDie(FastOptions(), path_);
  EXPECT_TRUE(db_->Verify().ok());
  const Stats before = db_->GetStats();
  ASSERT_TRUE(db_->DropTree("gone").ok());
  const Stats after = db_->GetStats();
  // 50 three-page overflow chains and the tree's own pages.
  EXPECT_GT(after.freelist_pages, before.freelist_pages + 150 + 30);
  Status v = db_->Verify();  // a leaked overflow page is reported here
  EXPECT_TRUE(v.ok()) << v.ToString();
  keep = Open("keep");
  EXPECT_EQ(DumpTree(keep), kept);
  db_.reset();
  // The meta page in force (the higher checkpoint sequence) is format 5.
  uint8_t metas[2][kPs];
  std::FILE* f = std::fopen(path_.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fread(metas, 1, sizeof(metas), f), sizeof(metas));
  std::fclose(f);
  const bool b_newer = DecodeFixed64(metas[1] + pager::kMetaCheckpointSeqOffset) >
                       DecodeFixed64(metas[0] + pager::kMetaCheckpointSeqOffset);
  EXPECT_EQ(DecodeFixed32(metas[b_newer ? 1 : 0] + pager::kMetaVersionOffset), 5u);
}

// DropTree over a damaged page of the tree: Corruption naming the page, and
// the database unchanged - the tree still listed, its catalog entry and
// every other tree intact, the freelist as it was, the next transaction fine.
TEST_F(DbTreesTest, DropOverADamagedPageChangesNothing) {
  Tree* keep = Open("keep");
  Tree* bad = Open("bad");
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(w->Put(keep, NumKey(i), FillValue(24, i)).ok());
  ASSERT_TRUE(w->Commit().ok());
  ASSERT_TRUE(db_->BeginWrite(&w).ok());  // bad's pages: the last ones of the file
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(w->Put(bad, NumKey(i), FillValue(24, i)).ok());
  ASSERT_TRUE(w->Commit().ok());
  const KV kept = DumpTree(keep);
  const uint64_t last = db_->GetStats().page_count - 1;
  db_.reset();
  test::PatchFile(path_, last * 4096 + 2000, std::string(64, '\x5a'));
  db_ = OpenOrDie(FastOptions(), path_);
  const Stats before = db_->GetStats();

  Status s = db_->DropTree("bad");
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("page " + std::to_string(last)), std::string::npos) << s.ToString();
  std::vector<std::string> names;
  ASSERT_TRUE(db_->ListTrees(&names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"bad", "keep"}));
  const Stats after = db_->GetStats();
  EXPECT_EQ(after.freelist_pages, before.freelist_pages);
  EXPECT_EQ(after.page_count, before.page_count);
  EXPECT_EQ(after.sequence, before.sequence);  // nothing committed
  keep = Open("keep");
  EXPECT_EQ(DumpTree(keep), kept);
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  ASSERT_TRUE(w->Put(keep, "next", "fine").ok());
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_EQ(GetIn(keep, "next"), "fine");
}

// A tree of a million keys: every one of its pages goes to the freelist
// (the file keeps its page count), the other trees stay, and Verify finds
// every page reachable once or free. Prints the time the drop took.
TEST_F(DbTreesTest, DropAMillionKeyTree) {
  Tree* big = Open("big");
  Tree* other = Open("other");
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  for (int i = 0; i < 1000000; ++i) ASSERT_TRUE(w->Append(big, NumKey(i), "12345678").ok());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(w->Put(other, NumKey(i * 7), "o").ok());
  ASSERT_TRUE(w->Commit().ok());
  const KV kept = DumpTree(other);
  const Stats before = db_->GetStats();
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(db_->DropTree("big").ok());
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const Stats after = db_->GetStats();
  const uint64_t dropped =
      static_cast<db::DBImpl*>(db_.get())->metrics()->Value("tree_pages_dropped");
  std::printf("dropped a 1M-key tree: %llu pages freed in %.1f ms\n",
              static_cast<unsigned long long>(dropped), ms);
  EXPECT_EQ(after.page_count, before.page_count);
  EXPECT_EQ(after.freelist_pages, before.freelist_pages + dropped);
  // 1M 18-byte records fill at least ~5,000 leaves of 4 KiB.
  EXPECT_GT(dropped, 5000u);
  // Everything but the other tree, the catalog and the meta pages is free.
  EXPECT_LT(after.page_count - after.freelist_pages, 20u);
  std::string v;
  std::unique_ptr<ReadTxn> r;
  ASSERT_TRUE(db_->BeginRead(&r).ok());
  EXPECT_TRUE(r->Get(big, NumKey(5), &v).IsInvalidArgument());
  EXPECT_EQ(DumpTree(other), kept);
  EXPECT_TRUE(db_->Verify().ok());
}

TEST_F(DbTreesTest, AppendAndDeleteRangeOnANamedTree) {
  Tree* t = Open("t");
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(w->Append(t, NumKey(i), "v").ok());
  EXPECT_TRUE(w->Append(t, NumKey(5), "v").IsInvalidArgument());
  ASSERT_TRUE(w->Append(NumKey(1), "default").ok());  // the default tree is empty
  ASSERT_TRUE(w->DeleteRange(t, NumKey(100), NumKey(2900)).ok());
  ASSERT_TRUE(w->Commit().ok());
  EXPECT_EQ(DumpTree(t).size(), 200u);
  EXPECT_EQ(DumpTree(db_->DefaultTree()).size(), 1u);
  EXPECT_TRUE(db_->Verify().ok());
}

// Threads open the same names (one creates each, all get one handle) and
// write their own keys, while a reader thread scans: every handle of a name
// is the same pointer and every committed key is there.
TEST_F(DbTreesTest, ThreadsOpenAndWriteTreesConcurrently) {
  constexpr int kThreads = 4, kNames = 8, kTxns = 20;
  std::vector<std::vector<Tree*>> seen(kThreads, std::vector<Tree*>(kNames));
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load()) {
      std::vector<std::string> names;
      EXPECT_TRUE(db_->ListTrees(&names).ok());
      std::unique_ptr<ReadTxn> r;
      EXPECT_TRUE(db_->BeginRead(&r).ok());
      for (const std::string& n : names) {
        Tree* t = nullptr;
        EXPECT_TRUE(db_->OpenTree(n, &t).ok());
        auto c = r->NewCursor(t);
        Dump(c.get());
        EXPECT_TRUE(c->status().ok());
      }
    }
  });
  std::vector<std::thread> writers;
  for (int id = 0; id < kThreads; ++id) {
    writers.emplace_back([&, id] {
      for (int n = 0; n < kNames; ++n) {
        EXPECT_TRUE(db_->OpenTree("shared-" + std::to_string(n), &seen[id][n]).ok());
      }
      for (int i = 0; i < kTxns; ++i) {
        std::unique_ptr<WriteTxn> w;
        EXPECT_TRUE(db_->BeginWrite(&w).ok());
        for (int n = 0; n < kNames; ++n) {
          EXPECT_TRUE(w->Put(seen[id][n], NumKey(id * 1000 + i), "v").ok());
        }
        EXPECT_TRUE(w->Commit().ok());
      }
    });
  }
  for (std::thread& t : writers) t.join();
  stop = true;
  reader.join();
  for (int n = 0; n < kNames; ++n) {
    for (int id = 1; id < kThreads; ++id) EXPECT_EQ(seen[id][n], seen[0][n]);
    EXPECT_EQ(DumpTree(seen[0][n]).size(), static_cast<size_t>(kThreads * kTxns));
  }
  EXPECT_TRUE(db_->Verify().ok());
}

TEST_F(DbTreesTest, TenThousandTrees) {
  std::vector<Tree*> trees;
  for (int i = 0; i < 10000; ++i) trees.push_back(Open("tree-" + NumKey(i)));
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  for (int i = 0; i < 10000; i += 7) ASSERT_TRUE(w->Put(trees[i], "k", NumKey(i)).ok());
  ASSERT_TRUE(w->Commit().ok());
  std::vector<std::string> names;
  ASSERT_TRUE(db_->ListTrees(&names).ok());
  EXPECT_EQ(names.size(), 10000u);
  EXPECT_EQ(GetIn(trees[7 * 1000], "k"), NumKey(7000));
  EXPECT_TRUE(Contains(GetIn(trees[1], "k"), "NotFound"));
  EXPECT_TRUE(db_->Verify().ok());
}

}  // namespace
}  // namespace sombra::dbtest
