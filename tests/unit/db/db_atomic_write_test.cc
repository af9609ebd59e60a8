// A failed write is atomic (docs/api.md, "Failed writes").
//
// For every kind of mutation (put a new key, replace an inline value,
// replace an overflow value, delete, a put that splits a leaf, a put whose
// split cascades up the tree, deletes that merge or borrow) the mutation is
// run again and again, failing at its k-th page-level call (read, write,
// allocate, free; k = 1, 2, ... until it succeeds), at its k-th file growth
// (ENOSPC through FaultInjectionEnv) and at the k-th write of its commit.
// After each failure: the failing call returned the error; every later
// call in the transaction returns that first error, Commit too (and ends
// the transaction); the database state (root, page count, freelist) is
// exactly what it was; Verify passes (no orphaned or doubly used page); the
// content equals the model; and the same holds after a reopen.
#include <gtest/gtest.h>

#include <cerrno>
#include <functional>
#include <iostream>
#include <memory>
#include <string>

#include "db/db_impl.h"
#include "db/db_txn.h"
#include "db_test_util.h"
#include "env/fault_injection_env.h"
#include "pager/pager_txn.h"
#include "sombra/db.h"
#include "testutil/no_sync_env.h"
#include "testutil/temp_dir.h"

namespace sombra::dbtest {
namespace {

using FaultOp = FaultInjectionEnv::Op;
using FaultPoint = pager::PagerTxn::FaultPoint;

// A mutation inside a write transaction, and what it does to the model.
struct Mutation {
  std::function<Status(WriteTxn*)> run;
  std::function<void(KV*)> apply;
};

// How many failure cases one sweep injected (for the test log).
struct SweepCount {
  uint64_t pager_calls = 0;    // failed at the k-th page-level call
  uint64_t file_growths = 0;   // failed at the k-th file growth (ENOSPC)
  uint64_t commit_writes = 0;  // failed at the k-th write of the commit
};

const char* PointName(FaultPoint p) {
  switch (p) {
    case FaultPoint::kRead:
      return "read";
    case FaultPoint::kWrite:
      return "write";
    case FaultPoint::kAllocate:
      return "allocate";
    case FaultPoint::kFree:
      return "free";
  }
  return "?";
}

// Keys sharing a 1000-byte prefix: their separators are as long, so an
// internal page holds three of them and a few dozen keys make a deep tree.
std::string LongKey(uint64_t n) { return std::string(1000, 'k') + NumKey(n); }

class AtomicWriteTest : public ::testing::Test {
 protected:
  void Open() {
    db_.reset();
    Status s = db::OpenWithEnv(&env_, FastOptions(), path_, &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  db::DBImpl* impl() const { return static_cast<db::DBImpl*>(db_.get()); }
  pager::TreeState State() const { return impl()->pager()->published(); }

  // Commits the model's puts in transactions of `batch`.
  void Load(const KV& kv, size_t batch = 50) {
    auto it = kv.begin();
    while (it != kv.end()) {
      std::unique_ptr<WriteTxn> w;
      ASSERT_TRUE(db_->BeginWrite(&w).ok());
      for (size_t i = 0; i < batch && it != kv.end(); ++i, ++it) {
        ASSERT_TRUE(w->Put(it->first, it->second).ok());
        model_[it->first] = it->second;
      }
      ASSERT_TRUE(w->Commit().ok());
    }
  }

  void ExpectModel(const std::string& when) {
    SCOPED_TRACE(when);
    Status v = db_->Verify();
    EXPECT_TRUE(v.ok()) << v.ToString();
    EXPECT_EQ(DiffKV(DumpDb(db_.get()), model_), "");
  }

  static bool SameState(const pager::TreeState& a, const pager::TreeState& b) {
    return a.lsn == b.lsn && a.root == b.root && a.page_count == b.page_count &&
           a.freelist_head == b.freelist_head && a.freelist_count == b.freelist_count;
  }

  // The transaction failed with `first` (from the mutation): every later
  // call returns it, then Commit (or Abort, by `commit`) ends the
  // transaction and every call returns InvalidArgument.
  void ExpectPoisoned(WriteTxn* w, const Status& first, bool commit) {
    EXPECT_FALSE(first.ok());
    EXPECT_FALSE(first.IsInvalidArgument()) << first.ToString();
    auto same = [&](const Status& s) {
      return s.code() == first.code() && s.ToString() == first.ToString();
    };
    std::string v = "untouched";
    EXPECT_TRUE(same(w->Put("later", "x")));
    EXPECT_TRUE(same(w->Put(std::string(5000, 'x'), "bad key, still the first error")));
    EXPECT_TRUE(same(w->Delete(model_.empty() ? "a" : model_.begin()->first)));
    EXPECT_TRUE(same(w->Get(model_.empty() ? "a" : model_.begin()->first, &v)));
    EXPECT_EQ(v, "untouched");
    auto c = w->NewCursor();
    c->SeekToFirst();
    EXPECT_FALSE(c->Valid());
    EXPECT_TRUE(same(c->status())) << c->status().ToString();
    if (commit) {
      Status s = w->Commit();
      EXPECT_TRUE(same(s)) << s.ToString() << " vs " << first.ToString();
    } else {
      w->Abort();
    }
    EXPECT_TRUE(w->Put("later", "x").IsInvalidArgument());
    EXPECT_TRUE(w->Commit().IsInvalidArgument());
  }

  // After a failure: nothing changed, the writer slot is free, and the
  // database reopens to the same state.
  void ExpectUnchanged(const pager::TreeState& before, const std::string& when) {
    SCOPED_TRACE(when);
    EXPECT_TRUE(SameState(State(), before));
    ExpectModel("after the failure");
    {
      std::unique_ptr<WriteTxn> w;
      ASSERT_TRUE(db_->BeginWrite(&w).ok());  // the slot was released
      if (!model_.empty()) {
        std::string v;
        EXPECT_TRUE(w->Get(model_.begin()->first, &v).ok());
        EXPECT_EQ(v, model_.begin()->second);
      }
    }
    ASSERT_NO_FATAL_FAILURE(Open());
    EXPECT_TRUE(SameState(State(), before));
    ExpectModel("after reopen");
  }

  // Runs `m` failing at its k-th page-level call, k = 1, 2, ... until it
  // succeeds; then commits it. Returns the number of failure cases.
  uint64_t SweepPagerCalls(const std::string& name, const Mutation& m) {
    uint64_t failures = 0;
    for (uint64_t k = 1;; ++k) {
      SCOPED_TRACE(name + ": failing pager call " + std::to_string(k));
      if (k > 5000) {
        ADD_FAILURE() << "the mutation never succeeds";
        return failures;
      }
      Open();
      if (HasFatalFailure()) return failures;
      const pager::TreeState before = State();
      std::unique_ptr<WriteTxn> w;
      if (Status b = db_->BeginWrite(&w); !b.ok()) {
        ADD_FAILURE() << b.ToString();
        return failures;
      }
      pager::PagerTxn* ptxn = static_cast<db::WriteTxnImpl*>(w.get())->pager_txn_for_test();
      uint64_t calls = 0;
      std::string where;
      ptxn->SetFaultHookForTest([&](FaultPoint p, uint32_t page_no) {
        if (++calls != k) return Status::OK();
        where = std::string(PointName(p)) + " of page " + std::to_string(page_no);
        return Status::IOError("injected fault at pager call " + std::to_string(k) + " (" + where +
                               ")");
      });
      Status s = m.run(w.get());
      if (s.ok()) {
        // Every call went through: the injected fault never fired (an
        // error that fired and was swallowed would be a bug).
        EXPECT_LT(calls, k) << "a failure at " << where << " was swallowed";
        ptxn->SetFaultHookForTest(nullptr);
        Status c = w->Commit();
        EXPECT_TRUE(c.ok()) << c.ToString();
        m.apply(&model_);
        ExpectModel("after the mutation succeeded");
        Open();
        ExpectModel("after the mutation succeeded and a reopen");
        return failures;
      }
      ++failures;
      EXPECT_TRUE(s.IsIOError()) << s.ToString();
      EXPECT_TRUE(Contains(s.ToString(), "injected fault")) << s.ToString();
      ExpectPoisoned(w.get(), s, /*commit=*/k % 2 == 1);
      w.reset();
      ExpectUnchanged(before, "failed at " + where);
    }
  }

  // The same with ENOSPC at the k-th file growth (ftruncate) of the
  // mutation. The database reopens before each try, so its file holds
  // exactly its pages and the first allocation past the freelist grows it.
  uint64_t SweepFileGrowth(const std::string& name, const Mutation& m) {
    uint64_t failures = 0;
    for (uint64_t k = 1;; ++k) {
      SCOPED_TRACE(name + ": failing file growth " + std::to_string(k));
      if (k > 100) {
        ADD_FAILURE() << "the mutation never succeeds";
        return failures;
      }
      Open();
      if (HasFatalFailure()) return failures;
      const pager::TreeState before = State();
      std::unique_ptr<WriteTxn> w;
      if (Status b = db_->BeginWrite(&w); !b.ok()) {
        ADD_FAILURE() << b.ToString();
        return failures;
      }
      env_.FailNext(FaultOp::kTruncate, ENOSPC, k - 1);
      Status s = m.run(w.get());
      env_.ClearFailures();
      if (s.ok()) {
        Status c = w->Commit();
        EXPECT_TRUE(c.ok()) << c.ToString();
        w.reset();
        m.apply(&model_);
        ExpectModel("after the mutation succeeded");
        return failures;
      }
      ++failures;
      EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
      ExpectPoisoned(w.get(), s, /*commit=*/true);
      w.reset();
      ExpectUnchanged(before, "file growth " + std::to_string(k));
    }
  }

  // The mutation then a commit whose k-th write (log append, or a
  // checkpoint's page writes) fails: a failed log write leaves the
  // database as it was, refusing writes (sticky) until reopened.
  uint64_t SweepCommitWrites(const std::string& name, const Mutation& m) {
    uint64_t failures = 0;
    for (uint64_t k = 1;; ++k) {
      SCOPED_TRACE(name + ": failing commit write " + std::to_string(k));
      if (k > 100) {
        ADD_FAILURE() << "the commit never succeeds";
        return failures;
      }
      Open();
      if (HasFatalFailure()) return failures;
      const pager::TreeState before = State();
      std::unique_ptr<WriteTxn> w;
      if (Status b = db_->BeginWrite(&w); !b.ok()) {
        ADD_FAILURE() << b.ToString();
        return failures;
      }
      Status s = m.run(w.get());
      EXPECT_TRUE(s.ok()) << s.ToString();
      env_.FailNext(FaultOp::kWrite, EIO, k - 1);
      Status c = w->Commit();
      env_.ClearFailures();
      if (c.ok()) {
        m.apply(&model_);
        Open();
        ExpectModel("after the commit succeeded");
        return failures;
      }
      ++failures;
      EXPECT_TRUE(c.IsIOError()) << c.ToString();
      EXPECT_TRUE(w->Put("later", "x").IsInvalidArgument());  // finished
      w.reset();
      EXPECT_TRUE(SameState(State(), before));
      ExpectModel("after the failed commit");
      std::unique_ptr<WriteTxn> again;
      EXPECT_FALSE(db_->BeginWrite(&again).ok()) << "sticky error expected";
      Open();
      if (HasFatalFailure()) return failures;
      EXPECT_TRUE(SameState(State(), before));
      ExpectModel("after the failed commit and a reopen");
    }
  }

  // The files and model of the closed database, to start each sweep from
  // exactly the same pages.
  struct Saved {
    std::string db, wal;
    KV model;
  };
  Saved Save() {
    db_.reset();
    Saved s{test::ReadFileOrDie(path_), test::ReadFileOrDie(path_ + "-wal"), model_};
    Open();
    return s;
  }
  void Restore(const Saved& s) {
    db_.reset();
    test::WriteFileOrDie(path_, s.db);
    test::WriteFileOrDie(path_ + "-wal", s.wal);
    model_ = s.model;
    Open();
  }

  // The three sweeps of one mutation, each from the same files and each
  // ending with the mutation committed.
  void SweepAll(const std::string& name, const Mutation& m, SweepCount* count = nullptr) {
    const Saved saved = Save();
    SweepCount n;
    n.file_growths = SweepFileGrowth(name, m);
    if (HasFatalFailure()) return;
    Restore(saved);
    n.pager_calls = SweepPagerCalls(name, m);
    if (HasFatalFailure()) return;
    Restore(saved);
    n.commit_writes = SweepCommitWrites(name, m);
    std::cout << "[ atomic   ] " << name << ": " << n.pager_calls << " failed pager calls, "
              << n.file_growths << " failed file growths, " << n.commit_writes
              << " failed commit writes\n";
    if (count != nullptr) *count = n;
  }

  // Writes `kv` (a key absent from it is deleted) and commits; the model
  // follows.
  void Restore(const KV& kv, const std::vector<std::string>& erase = {}) {
    ASSERT_NO_FATAL_FAILURE(Open());
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db_->BeginWrite(&w).ok());
    for (const auto& [k, v] : kv) {
      ASSERT_TRUE(w->Put(k, v).ok());
      model_[k] = v;
    }
    for (const auto& k : erase) {
      ASSERT_TRUE(w->Delete(k).ok());
      model_.erase(k);
    }
    ASSERT_TRUE(w->Commit().ok());
  }

  // The first candidate whose mutation (tried in a transaction that is
  // then aborted) makes `pred` hold of the counters' deltas.
  template <typename Pred>
  std::string FindKey(const std::vector<std::string>& candidates,
                      const std::function<Status(WriteTxn*, const std::string&)>& run, Pred pred) {
    const MetricsRegistry* m = impl()->metrics();
    auto count = [m](const char* name) { return m->Value(name); };
    for (const std::string& key : candidates) {
      const uint64_t ls = count("leaf_splits"), is = count("internal_splits");
      const uint64_t lm = count("leaf_merges"), lb = count("leaf_borrows");
      const uint32_t root = State().root;
      std::unique_ptr<WriteTxn> w;
      if (Status b = db_->BeginWrite(&w); !b.ok()) {
        ADD_FAILURE() << b.ToString();
        return "";
      }
      EXPECT_TRUE(run(w.get(), key).ok());
      const uint32_t new_root =
          static_cast<db::WriteTxnImpl*>(w.get())->pager_txn_for_test()->root();
      w->Abort();
      if (pred(count("leaf_splits") - ls, count("internal_splits") - is, count("leaf_merges") - lm,
               count("leaf_borrows") - lb, new_root != root)) {
        return key;
      }
    }
    return "";
  }

  test::TempDir dir_;
  std::string path_ = dir_.File("db");
  test::NoSyncEnv base_;
  FaultInjectionEnv env_{&base_, 7};
  KV model_;
  std::unique_ptr<DB> db_;
};

TEST_F(AtomicWriteTest, PutNewKey) {
  ASSERT_NO_FATAL_FAILURE(Open());
  KV base;
  for (int i = 0; i < 40; i += 2) base[NumKey(i)] = FillValue(100, i);
  ASSERT_NO_FATAL_FAILURE(Load(base));
  const std::string k = NumKey(7), v = FillValue(100, 77);
  SweepAll("put new key", {[&](WriteTxn* w) { return w->Put(k, v); }, [&](KV* m) { (*m)[k] = v; }});
}

TEST_F(AtomicWriteTest, PutNewKeyIntoEmptyDatabase) {
  ASSERT_NO_FATAL_FAILURE(Open());
  SweepCount n;
  SweepAll("put into an empty database",
           {[&](WriteTxn* w) { return w->Put("first", "value"); },
            [&](KV* m) { (*m)["first"] = "value"; }},
           &n);
  EXPECT_GE(n.file_growths, 1u);  // the root leaf grows the file
}

TEST_F(AtomicWriteTest, ReplaceInlineValue) {
  ASSERT_NO_FATAL_FAILURE(Open());
  KV base;
  for (int i = 0; i < 40; ++i) base[NumKey(i)] = FillValue(100, i);
  ASSERT_NO_FATAL_FAILURE(Load(base));
  const std::string k = NumKey(13), v = FillValue(150, 1313);
  SweepAll("replace inline value",
           {[&](WriteTxn* w) { return w->Put(k, v); }, [&](KV* m) { (*m)[k] = v; }});
}

// The case of the issue: a Put replacing an overflow value with a larger
// one whose chain needs the file to grow. The old chain used to be freed
// first, the transaction stayed committable and stored a record pointing
// at free pages.
TEST_F(AtomicWriteTest, ReplaceOverflowValue) {
  ASSERT_NO_FATAL_FAILURE(Open());
  KV base;
  for (int i = 0; i < 20; ++i) base[NumKey(i)] = FillValue(i == 5 ? 9000 : 100, i);
  ASSERT_NO_FATAL_FAILURE(Load(base));
  const std::string k = NumKey(5), v = FillValue(30000, 55);
  SweepCount n;
  SweepAll("replace overflow value",
           {[&](WriteTxn* w) { return w->Put(k, v); }, [&](KV* m) { (*m)[k] = v; }}, &n);
  EXPECT_GE(n.file_growths, 1u);
  EXPECT_GE(n.pager_calls, 8u);  // 8 allocations for the new chain alone
}

TEST_F(AtomicWriteTest, ReplaceOverflowValueWithInlineAndBack) {
  ASSERT_NO_FATAL_FAILURE(Open());
  KV base;
  for (int i = 0; i < 20; ++i) base[NumKey(i)] = FillValue(i == 3 ? 12000 : 100, i);
  ASSERT_NO_FATAL_FAILURE(Load(base));
  const std::string k = NumKey(3), small = "small now";
  SweepAll("replace overflow value with an inline one",
           {[&](WriteTxn* w) { return w->Put(k, small); }, [&](KV* m) { (*m)[k] = small; }});
  ASSERT_FALSE(HasFatalFailure());
  Restore({{k, small}});
  const std::string big = FillValue(12000, 333);
  SweepAll("replace inline value with an overflow one",
           {[&](WriteTxn* w) { return w->Put(k, big); }, [&](KV* m) { (*m)[k] = big; }});
}

TEST_F(AtomicWriteTest, DeleteInlineAndOverflowValues) {
  ASSERT_NO_FATAL_FAILURE(Open());
  KV base;
  for (int i = 0; i < 40; ++i) base[NumKey(i)] = FillValue(i == 21 ? 20000 : 60, i);
  ASSERT_NO_FATAL_FAILURE(Load(base));
  for (int i : {20, 21}) {
    const std::string k = NumKey(i);
    SweepAll(i == 21 ? "delete overflow value" : "delete inline value",
             {[&](WriteTxn* w) { return w->Delete(k); }, [&](KV* m) { m->erase(k); }});
    ASSERT_FALSE(HasFatalFailure());
  }
}

// A tree of long keys, three levels or more: a Put that splits a leaf only,
// then one whose split goes up through every internal level.
class AtomicSplitTest : public AtomicWriteTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(Open());
    KV base;
    for (int i = 0; i < 300; i += 3) base[LongKey(i)] = FillValue(40, i);
    ASSERT_NO_FATAL_FAILURE(Load(base, 7));
    for (int i = 1; i < 300; i += 3) candidates_.push_back(LongKey(i));
    for (int i = 2; i < 300; i += 3) candidates_.push_back(LongKey(i));
  }
  std::vector<std::string> candidates_;
};

TEST_F(AtomicSplitTest, PutSplittingALeaf) {
  const std::string k = FindKey(
      candidates_, [](WriteTxn* w, const std::string& key) { return w->Put(key, "v"); },
      [](uint64_t ls, uint64_t is, uint64_t, uint64_t, bool) { return ls >= 1 && is == 0; });
  ASSERT_FALSE(k.empty()) << "no put splits only a leaf";
  SweepAll("put splitting a leaf",
           {[&](WriteTxn* w) { return w->Put(k, "v"); }, [&](KV* m) { (*m)[k] = "v"; }});
}

TEST_F(AtomicSplitTest, PutSplittingUpToANewRoot) {
  // Fill until some put splits a leaf, every internal page above it and the
  // root (a new root: the tree grows a level).
  std::string k;
  for (int round = 0; round < 50 && k.empty(); ++round) {
    k = FindKey(
        candidates_, [](WriteTxn* w, const std::string& key) { return w->Put(key, "v"); },
        [](uint64_t ls, uint64_t is, uint64_t, uint64_t, bool new_root) {
          return ls >= 1 && is >= 2 && new_root;
        });
    if (k.empty()) {
      // Grow the tree with a few candidates spread over the key range, so
      // that the pages of every level fill up, then look again.
      KV more;
      for (int j = 3; j >= 0 && !candidates_.empty(); --j) {
        const size_t at = candidates_.size() * j / 4;
        more[candidates_[at]] = "w";
        candidates_.erase(candidates_.begin() + static_cast<ptrdiff_t>(at));
      }
      ASSERT_NO_FATAL_FAILURE(Restore(more));
    }
  }
  ASSERT_FALSE(k.empty()) << "no put splits up to a new root";
  SweepCount n;
  SweepAll("put splitting up to a new root",
           {[&](WriteTxn* w) { return w->Put(k, "v"); }, [&](KV* m) { (*m)[k] = "v"; }}, &n);
  EXPECT_GE(n.pager_calls, 10u);
}

TEST_F(AtomicSplitTest, DeleteMergingLeaves) {
  std::vector<std::string> present;
  for (const auto& [key, v] : model_) present.push_back(key);
  // Prefer a delete whose merge also rebalances the level above.
  std::string k;
  const auto del = [](WriteTxn* w, const std::string& key) { return w->Delete(key); };
  for (int round = 0; round < 60 && k.empty(); ++round) {
    k = FindKey(present, del, [](uint64_t, uint64_t, uint64_t lm, uint64_t, bool new_root) {
      return lm >= 1 && new_root;
    });
    if (k.empty()) {
      // Thin the tree out and look again.
      ASSERT_NO_FATAL_FAILURE(Restore({}, {present.back()}));
      present.pop_back();
    }
  }
  if (k.empty()) {
    k = FindKey(present, del,
                [](uint64_t, uint64_t, uint64_t lm, uint64_t, bool) { return lm >= 1; });
  }
  ASSERT_FALSE(k.empty()) << "no delete merges leaves";
  const std::string v = model_[k];
  SweepCount n;
  SweepAll("delete merging leaves",
           {[&](WriteTxn* w) { return w->Delete(k); }, [&](KV* m) { m->erase(k); }}, &n);
  EXPECT_GE(n.pager_calls, 10u);
}

TEST_F(AtomicSplitTest, DeleteBorrowingFromASibling) {
  std::vector<std::string> present;
  for (const auto& [key, v] : model_) present.push_back(key);
  const std::string k = FindKey(
      present, [](WriteTxn* w, const std::string& key) { return w->Delete(key); },
      [](uint64_t, uint64_t, uint64_t lm, uint64_t lb, bool) { return lb >= 1 && lm == 0; });
  if (k.empty()) GTEST_SKIP() << "no delete borrows in this tree";
  const std::string v = model_[k];
  SweepAll("delete borrowing from a sibling",
           {[&](WriteTxn* w) { return w->Delete(k); }, [&](KV* m) { m->erase(k); }});
}

// An argument error does not fail the transaction: it goes on and commits.
TEST_F(AtomicWriteTest, InvalidArgumentKeepsTheTransactionUsable) {
  ASSERT_NO_FATAL_FAILURE(Open());
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  ASSERT_TRUE(w->Put("a", "1").ok());
  EXPECT_TRUE(w->Put(std::string(db_->MaxKeySize() + 1, 'x'), "v").IsInvalidArgument());
  EXPECT_TRUE(w->Put("", "v").IsInvalidArgument());
  EXPECT_TRUE(w->Delete(std::string(db_->MaxKeySize() + 1, 'x')).IsInvalidArgument());
  std::string v;
  EXPECT_TRUE(w->Get("absent", &v).IsNotFound());  // NotFound does not fail it either
  EXPECT_TRUE(w->Delete("absent").ok());
  ASSERT_TRUE(w->Put("b", "2").ok());
  ASSERT_TRUE(w->Commit().ok());
  model_ = {{"a", "1"}, {"b", "2"}};
  ExpectModel("after commit");
  Open();
  ExpectModel("after reopen");
}

// A cursor opened before the failure turns invalid with the first error;
// the one-operation DB::Put returns the error and changes nothing.
TEST_F(AtomicWriteTest, CursorsAndOneOperationWritesOfAFailedTransaction) {
  ASSERT_NO_FATAL_FAILURE(Open());
  KV base;
  for (int i = 0; i < 30; ++i) base[NumKey(i)] = FillValue(50, i);
  ASSERT_NO_FATAL_FAILURE(Load(base));
  ASSERT_NO_FATAL_FAILURE(Open());  // the file holds exactly its pages
  const pager::TreeState before = State();
  {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db_->BeginWrite(&w).ok());
    auto c = w->NewCursor();
    c->SeekToFirst();
    ASSERT_TRUE(c->Valid());
    env_.FailNext(FaultOp::kTruncate, ENOSPC);
    Status s = w->Put(NumKey(100), FillValue(50000, 1));  // a chain past the end of the file
    env_.ClearFailures();
    ASSERT_TRUE(s.IsNoSpace()) << s.ToString();
    c->Next();
    EXPECT_FALSE(c->Valid());
    EXPECT_EQ(c->status().ToString(), s.ToString());
    EXPECT_EQ(w->Commit().ToString(), s.ToString());
  }
  EXPECT_TRUE(SameState(State(), before));
  env_.FailNext(FaultOp::kTruncate, ENOSPC);
  Status s = db_->Put(NumKey(101), FillValue(50000, 2));
  env_.ClearFailures();
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_TRUE(SameState(State(), before));
  ExpectModel("after the failed writes");
  ASSERT_TRUE(db_->Put(NumKey(101), "fits").ok());  // not sticky: the next write works
  model_[NumKey(101)] = "fits";
  Open();
  ExpectModel("after reopen");
}

}  // namespace
}  // namespace sombra::dbtest
