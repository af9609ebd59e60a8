// Keys, values and transactions: limits, absent keys, own writes, abort,
// calls after Commit, visibility and snapshots (docs/api.md rules, db.h).
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "db/db_impl.h"
#include "db_test_util.h"
#include "env/env_wrapper.h"
#include "sombra/db.h"
#include "testutil/temp_dir.h"

namespace sombra::dbtest {
namespace {

class DbTxnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenOrDie(FastOptions(), path_);
    ASSERT_NE(db_, nullptr);
  }
  void TearDown() override { db_.reset(); }

  std::string GetOrDie(std::string_view key) {
    std::string v;
    Status s = db_->Get(key, &v);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return v;
  }

  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
  std::unique_ptr<DB> db_;
};

TEST_F(DbTxnTest, KeysFromOneByteToMaxKeySize) {
  const size_t max = db_->MaxKeySize();
  ASSERT_GE(max, 1024u);
  KV want;
  for (size_t len : {size_t{1}, size_t{2}, size_t{7}, size_t{100}, max - 1, max}) {
    for (char c : {'\x00', 'a', '\xff'}) {
      std::string k(len, c);
      std::string v = "len" + std::to_string(len) + c;
      ASSERT_TRUE(db_->Put(k, v).ok()) << len;
      want[k] = v;
    }
  }
  // Many maximal keys sharing long prefixes force splits with long fences.
  for (int i = 0; i < 60; ++i) {
    std::string k(max, 'p');
    k.replace(max - 8, 8, NumKey(i));
    ASSERT_TRUE(db_->Put(k, std::to_string(i)).ok());
    want[k] = std::to_string(i);
  }
  for (const auto& [k, v] : want) EXPECT_EQ(GetOrDie(k), v) << "key of " << k.size() << " bytes";
  EXPECT_EQ(DiffKV(DumpDb(db_.get()), want), "");
  EXPECT_TRUE(db_->Verify().ok());
  db_.reset();
  db_ = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db_, nullptr);
  EXPECT_EQ(DiffKV(DumpDb(db_.get()), want), "");
}

TEST_F(DbTxnTest, EmptyAndOversizedKeysAreInvalidAndWriteNothing) {
  ASSERT_TRUE(db_->Put("present", "1").ok());
  const Stats before = db_->GetStats();
  const std::string big(db_->MaxKeySize() + 1, 'k');
  const std::string huge(100000, 'k');
  for (const std::string& bad : {std::string(), big, huge}) {
    SCOPED_TRACE("key of " + std::to_string(bad.size()) + " bytes");
    Status s = db_->Put(bad, "v");
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    s = db_->Delete(bad);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    std::string v = "untouched";
    s = db_->Get(bad, &v);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_EQ(v, "untouched");

    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db_->BeginWrite(&w).ok());
    s = w->Put(bad, "v");
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    s = w->Delete(bad);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    // The transaction is still usable and commits only its good writes.
    ASSERT_TRUE(w->Put("good" + std::to_string(bad.size()), "g").ok());
    ASSERT_TRUE(w->Commit().ok());
  }
  KV want = {{"present", "1"}, {"good0", "g"}, {"good1025", "g"}, {"good100000", "g"}};
  EXPECT_EQ(DiffKV(DumpDb(db_.get()), want), "");
  // Nothing but the three good transactions reached the log.
  EXPECT_EQ(db_->GetStats().commits, before.commits + 3);
  std::string v;
  EXPECT_TRUE(db_->Get(big.substr(0, db_->MaxKeySize()), &v).IsNotFound());
}

// A readable value of kMaxValueSize + 1 bytes that costs no memory: an
// anonymous mapping that is reserved, never touched (the limit check looks
// at the size only; a read would see zeros).
class OversizedValue {
 public:
  OversizedValue() {
    void* p = mmap(nullptr, kSize, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) data_ = static_cast<const char*>(p);
  }
  ~OversizedValue() {
    if (data_ != nullptr) munmap(const_cast<char*>(data_), kSize);
  }
  bool ok() const { return data_ != nullptr; }
  std::string_view view() const { return std::string_view(data_, kSize); }

 private:
  static constexpr size_t kSize = static_cast<size_t>(kMaxValueSize) + 1;
  const char* data_ = nullptr;
};

// The limits (sombra/limits.h) at every entry point that takes a key or a
// value, on two page sizes: InvalidArgument with the one message format,
// nothing written, and a write transaction left usable. (Below this edge
// the B+tree only asserts them: BTreeTest.KeysAndValuesOutsideTheLimits*.)
class DbLimitsTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  void SetUp() override {
    db_ = OpenOrDie(FastOptions(GetParam()), path_);
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(db_->Put("present", "1").ok());
    ASSERT_TRUE(db_->Put(std::string(db_->MaxKeySize(), 'm'), "at the limit").ok());
    want_ = DumpDb(db_.get());
    commits_ = db_->GetStats().commits;
  }
  // Nothing was written: same content, no commit, now and after a reopen.
  void ExpectUnchanged() {
    EXPECT_EQ(db_->GetStats().commits, commits_);
    EXPECT_EQ(DiffKV(DumpDb(db_.get()), want_), "");
    Status s = db_->Verify();
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset();
    db_ = OpenOrDie(FastOptions(GetParam()), path_);
    ASSERT_NE(db_, nullptr);
    EXPECT_EQ(DiffKV(DumpDb(db_.get()), want_), "");
  }
  std::string KeyMessage(size_t size) const {
    return std::string("key of ") + std::to_string(size) + " bytes is " +
           (size == 0 ? "under" : "over") + " the limit: keys are 1 to " +
           std::to_string(GetParam() / 4) + " bytes at page size " + std::to_string(GetParam());
  }

  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
  std::unique_ptr<DB> db_;
  KV want_;
  uint64_t commits_ = 0;
};

// `s` is the InvalidArgument `message`.
::testing::AssertionResult IsLimitError(const Status& s, const std::string& message) {
  if (s.IsInvalidArgument() && s.message() == message) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s.ToString() << "\n  wanted InvalidArgument: " << message;
}

TEST_P(DbLimitsTest, KeysOutsideTheLimitsAtEveryEntryPoint) {
  EXPECT_EQ(db_->MaxKeySize(), GetParam() / 4);
  EXPECT_EQ(db_->MaxKeySize(), MaxKeySize(GetParam()));
  EXPECT_EQ(CheckKeySize(1025, 4096).message(),
            "key of 1025 bytes is over the limit: keys are 1 to 1024 bytes at page size 4096");
  EXPECT_EQ(CheckKeySize(0, 4096).message(),
            "key of 0 bytes is under the limit: keys are 1 to 1024 bytes at page size 4096");
  for (size_t size : {size_t{0}, db_->MaxKeySize() + 1, size_t{100000}}) {
    SCOPED_TRACE("key of " + std::to_string(size) + " bytes");
    const std::string bad(size, 'k');
    const std::string msg = KeyMessage(size);
    std::string v = "untouched";
    EXPECT_TRUE(IsLimitError(db_->Put(bad, "v"), msg));
    EXPECT_TRUE(IsLimitError(db_->Delete(bad), msg));
    EXPECT_TRUE(IsLimitError(db_->Get(bad, &v), msg));
    std::unique_ptr<ReadTxn> r;
    ASSERT_TRUE(db_->BeginRead(&r).ok());
    EXPECT_TRUE(IsLimitError(r->Get(bad, &v), msg));
    r.reset();
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db_->BeginWrite(&w).ok());
    EXPECT_TRUE(IsLimitError(w->Put(bad, "v"), msg));
    EXPECT_TRUE(IsLimitError(w->Delete(bad), msg));
    EXPECT_TRUE(IsLimitError(w->Get(bad, &v), msg));
    EXPECT_EQ(v, "untouched");
    // Not failed by them: it reads on.
    ASSERT_TRUE(w->Get("present", &v).ok());
    EXPECT_EQ(v, "1");
    w->Abort();
  }
  ExpectUnchanged();
}

TEST_P(DbLimitsTest, ValueOverTheLimitAtEveryEntryPoint) {
  EXPECT_EQ(kMaxValueSize, 4294967295u);
  EXPECT_TRUE(CheckValueSize(kMaxValueSize).ok());
  const std::string msg =
      "value of 4294967296 bytes is over the limit: values are 0 to 4294967295 bytes";
  EXPECT_EQ(CheckValueSize(kMaxValueSize + 1).message(), msg);
  OversizedValue big;
  if (!big.ok()) GTEST_SKIP() << "cannot reserve 4 GiB of address space";
  // On a new key and on an existing one; with a bad key too, the key's
  // error comes first.
  for (const char* key : {"absent", "present"}) {
    EXPECT_TRUE(IsLimitError(db_->Put(key, big.view()), msg));
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db_->BeginWrite(&w).ok());
    EXPECT_TRUE(IsLimitError(w->Put(key, big.view()), msg));
    std::string v;
    ASSERT_TRUE(w->Get("present", &v).ok());  // not failed
    w->Abort();
  }
  EXPECT_TRUE(IsLimitError(db_->Put("", big.view()), KeyMessage(0)));
  ExpectUnchanged();
}

INSTANTIATE_TEST_SUITE_P(PageSizes, DbLimitsTest, ::testing::Values(4096u, 65536u));

// A committed transaction's leaf layouts serve the next transactions
// (btree/layout_cache.h): random inserts into existing leaves parse none;
// an aborted transaction's layouts are not kept, so its leaves are parsed
// again by the next transaction, with the data the committed state has.
TEST_F(DbTxnTest, CommittedLeafLayoutsServeTheNextTransactions) {
  auto put_range = [&](int from, int to, bool commit) {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db_->BeginWrite(&w).ok());
    for (int i = from; i < to; ++i) {
      const int k = (i * 7919) % 20000;  // spread over the key space
      ASSERT_TRUE(w->Put("key" + std::to_string(k), std::to_string(i)).ok());
    }
    if (commit) {
      ASSERT_TRUE(w->Commit().ok());
    } else {
      w->Abort();
    }
  };
  put_range(0, 4000, true);
  const uint64_t parses = db_->GetStats().allocator_page_parses;
  put_range(4000, 6000, true);
  put_range(6000, 8000, true);
  EXPECT_EQ(db_->GetStats().allocator_page_parses, parses);
  put_range(8000, 10000, false);  // touches (takes) layouts, keeps none
  put_range(10000, 12000, true);
  EXPECT_GT(db_->GetStats().allocator_page_parses, parses);
  for (int i = 0; i < 12000; ++i) {
    if (i >= 8000 && i < 10000) continue;
    const int k = (i * 7919) % 20000;
    // The last committed write of k wins; 7919 is prime to 20000, so each
    // i below 20000 writes its own key.
    EXPECT_EQ(GetOrDie("key" + std::to_string(k)), std::to_string(i));
  }
  for (int i = 8000; i < 10000; ++i) {
    std::string v;
    EXPECT_TRUE(db_->Get("key" + std::to_string((i * 7919) % 20000), &v).IsNotFound());
  }
  EXPECT_TRUE(db_->Verify().ok());
}

// An Env whose log fdatasyncs wait while `hold` is set, counting those
// that wait.
class GatedSyncEnv final : public EnvWrapper {
 public:
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;
  int waiting = 0;

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    SOMBRA_ASSIGN_OR_RETURN(auto file, base()->OpenFile(path, mode));
    if (!path.ends_with("-wal")) return file;
    return std::unique_ptr<File>(new GatedFile(std::move(file), this));
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu);
    hold = false;
    cv.notify_all();
  }

 private:
  class GatedFile final : public FileWrapper {
   public:
    GatedFile(std::unique_ptr<File> f, GatedSyncEnv* env) : FileWrapper(std::move(f)), env_(env) {}
    Status Sync() override {
      {
        std::unique_lock<std::mutex> lock(env_->mu);
        ++env_->waiting;
        env_->cv.notify_all();
        env_->cv.wait(lock, [this] { return !env_->hold; });
        --env_->waiting;
      }
      return FileWrapper::Sync();
    }

   private:
    GatedSyncEnv* env_;
  };
};

// The group commit passes the writer slot on before its fdatasync: the
// next transaction runs while the previous commit waits for the disk, and
// must still find the layouts that commit kept (they are kept before the
// append). Deterministic: the first commit is held inside its sync while
// the second writes into the same leaf.
TEST(DbLayoutCacheTest, GroupCommitPassesLayoutsToTheNextTransactionWhileItSyncs) {
  sombra::test::TempDir dir;
  GatedSyncEnv env;
  Options o;
  o.durability = Durability::kFull;
  std::unique_ptr<DB> db;
  ASSERT_TRUE(db::OpenWithEnv(&env, o, dir.File("db"), &db).ok());
  {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    for (int i = 0; i < 2000; ++i) ASSERT_TRUE(w->Put(NumKey(2 * i), "v").ok());
    ASSERT_TRUE(w->Commit().ok());
  }
  ASSERT_TRUE(db->Put(NumKey(1001), "first").ok());  // its leaf's layout is kept
  const uint64_t parses = db->GetStats().allocator_page_parses;
  {
    std::lock_guard<std::mutex> lock(env.mu);
    env.hold = true;
  }
  std::thread first([&] { EXPECT_TRUE(db->Put(NumKey(1003), "held").ok()); });
  {
    std::unique_lock<std::mutex> lock(env.mu);
    env.cv.wait(lock, [&] { return env.waiting == 1; });  // the first commit is in its sync
  }
  std::unique_ptr<WriteTxn> second;
  ASSERT_TRUE(db->BeginWrite(&second).ok());
  ASSERT_TRUE(second->Put(NumKey(1005), "second").ok());  // the same leaf as 1003
  EXPECT_EQ(db->GetStats().allocator_page_parses, parses)
      << "the held commit's layouts were not there for the next transaction";
  env.Release();
  ASSERT_TRUE(second->Commit().ok());
  first.join();
  std::string v;
  ASSERT_TRUE(db->Get(NumKey(1003), &v).ok());
  EXPECT_EQ(v, "held");
  ASSERT_TRUE(db->Get(NumKey(1005), &v).ok());
  EXPECT_EQ(v, "second");
  EXPECT_TRUE(db->Verify().ok());
}

TEST_F(DbTxnTest, ValuesOfEverySizeRoundTrip) {
  const std::vector<size_t> sizes = {0,    1,    2,    100,  1000,  1023,   1024,   1025, 1040,
                                     1060, 1080, 1088, 1100, 2000,  4000,   4063,   4064, 4065,
                                     4096, 8127, 8128, 8129, 65536, 100000, 1 << 20};
  KV want;
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::string k = "v" + NumKey(sizes[i]);
    std::string v = FillValue(sizes[i], i);
    ASSERT_TRUE(db_->Put(k, v).ok()) << sizes[i];
    want[k] = v;
  }
  for (const auto& [k, v] : want) {
    std::string got = "not empty";
    ASSERT_TRUE(db_->Get(k, &got).ok());
    EXPECT_EQ(got.size(), v.size()) << k;
    EXPECT_TRUE(got == v) << k;
  }
  EXPECT_EQ(DiffKV(DumpDb(db_.get()), want), "");
  EXPECT_TRUE(db_->Verify().ok());
  // Large ones shrink, small ones grow, and back; then delete all.
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::string k = "v" + NumKey(sizes[i]);
    std::string v = FillValue(sizes[sizes.size() - 1 - i], i + 100);
    ASSERT_TRUE(db_->Put(k, v).ok());
    want[k] = v;
  }
  ASSERT_TRUE(db_->Checkpoint().ok());
  EXPECT_EQ(DiffKV(DumpDb(db_.get()), want), "");
  Status vs = db_->Verify();
  EXPECT_TRUE(vs.ok()) << vs.ToString();
  db_.reset();
  db_ = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db_, nullptr);
  EXPECT_EQ(DiffKV(DumpDb(db_.get()), want), "");
  for (const auto& [k, v] : want) ASSERT_TRUE(db_->Delete(k).ok());
  EXPECT_TRUE(DumpDb(db_.get()).empty());
  vs = db_->Verify();
  EXPECT_TRUE(vs.ok()) << vs.ToString();
  const Stats st = db_->GetStats();
  EXPECT_GT(st.freelist_pages, 0u) << "overflow pages of deleted values not freed";
}

TEST_F(DbTxnTest, EmptyValueIsPresent) {
  ASSERT_TRUE(db_->Put("e", "").ok());
  std::string v = "x";
  ASSERT_TRUE(db_->Get("e", &v).ok());
  EXPECT_EQ(v, "");
  auto dump = DumpDb(db_.get());
  ASSERT_EQ(dump.size(), 1u);
  EXPECT_EQ(dump.begin()->second, "");
}

TEST_F(DbTxnTest, TwentyMebibyteValue) {
  const std::string v = FillValue(20 << 20, 42);
  ASSERT_TRUE(db_->Put("big", v).ok());
  ASSERT_TRUE(db_->Put("after", "a").ok());
  std::string got;
  ASSERT_TRUE(db_->Get("big", &got).ok());
  EXPECT_TRUE(got == v);
  {
    std::unique_ptr<ReadTxn> r;
    ASSERT_TRUE(db_->BeginRead(&r).ok());
    auto c = r->NewCursor();
    c->Seek("big");
    ASSERT_TRUE(c->Valid());
    EXPECT_EQ(c->key(), "big");
    EXPECT_EQ(c->value().size(), v.size());
    EXPECT_TRUE(c->value() == v);
  }
  db_.reset();
  db_ = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db_, nullptr);
  got.clear();
  ASSERT_TRUE(db_->Get("big", &got).ok());
  EXPECT_TRUE(got == v);
  EXPECT_TRUE(db_->Verify().ok());
  ASSERT_TRUE(db_->Put("big", "small now").ok());
  ASSERT_TRUE(db_->Get("big", &got).ok());
  EXPECT_EQ(got, "small now");
}

TEST_F(DbTxnTest, OneGibibyteValueWhenSombraBig) {
  const char* big = std::getenv("SOMBRA_BIG");
  if (big == nullptr || std::string(big) != "1") GTEST_SKIP() << "set SOMBRA_BIG=1 to run";
  std::string v(size_t{1} << 30, '\0');
  for (size_t i = 0; i < v.size(); i += 4096) v[i] = static_cast<char>(i >> 12);
  ASSERT_TRUE(db_->Put("gib", v).ok());
  db_.reset();
  db_ = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db_, nullptr);
  std::string got;
  ASSERT_TRUE(db_->Get("gib", &got).ok());
  EXPECT_EQ(got.size(), v.size());
  EXPECT_TRUE(got == v);
}

TEST_F(DbTxnTest, GetOfAbsentKeyIsNotFoundAndLeavesValueUntouched) {
  std::string v = "sentinel";
  EXPECT_TRUE(db_->Get("nothing", &v).IsNotFound());
  EXPECT_EQ(v, "sentinel");
  ASSERT_TRUE(db_->Put("b", "1").ok());
  const std::string_view absent[] = {"a", "ba", "c", "\xff", std::string_view("\0", 1)};
  for (std::string_view k : absent) {
    v = "sentinel";
    EXPECT_TRUE(db_->Get(k, &v).IsNotFound()) << k;
    EXPECT_EQ(v, "sentinel");
  }
  std::unique_ptr<ReadTxn> r;
  ASSERT_TRUE(db_->BeginRead(&r).ok());
  v = "sentinel";
  EXPECT_TRUE(r->Get("a", &v).IsNotFound());
  EXPECT_EQ(v, "sentinel");
  r.reset();
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  ASSERT_TRUE(w->Delete("b").ok());
  v = "sentinel";
  EXPECT_TRUE(w->Get("b", &v).IsNotFound());
  EXPECT_EQ(v, "sentinel");
  EXPECT_TRUE(w->Get("zz", &v).IsNotFound());
  EXPECT_EQ(v, "sentinel");
}

TEST_F(DbTxnTest, DeleteOfAbsentKeyIsOk) {
  EXPECT_TRUE(db_->Delete("never").ok());
  ASSERT_TRUE(db_->Put("k", "v").ok());
  EXPECT_TRUE(db_->Delete("k").ok());
  EXPECT_TRUE(db_->Delete("k").ok());
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  EXPECT_TRUE(w->Delete("never").ok());
  EXPECT_TRUE(w->Commit().ok());
  EXPECT_TRUE(DumpDb(db_.get()).empty());
}

TEST_F(DbTxnTest, WriteTxnSeesItsOwnWrites) {
  ASSERT_TRUE(db_->Put("a", "old-a").ok());
  ASSERT_TRUE(db_->Put("c", "old-c").ok());
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  ASSERT_TRUE(w->Put("b", "new-b").ok());
  ASSERT_TRUE(w->Put("a", "new-a").ok());
  ASSERT_TRUE(w->Delete("c").ok());
  const std::string big = FillValue(50000, 1);
  ASSERT_TRUE(w->Put("d", big).ok());
  std::string v;
  ASSERT_TRUE(w->Get("a", &v).ok());
  EXPECT_EQ(v, "new-a");
  ASSERT_TRUE(w->Get("b", &v).ok());
  EXPECT_EQ(v, "new-b");
  ASSERT_TRUE(w->Get("d", &v).ok());
  EXPECT_TRUE(v == big);
  v = "x";
  EXPECT_TRUE(w->Get("c", &v).IsNotFound());
  EXPECT_EQ(v, "x");
  {
    auto c = w->NewCursor();
    KV want = {{"a", "new-a"}, {"b", "new-b"}, {"d", big}};
    EXPECT_EQ(DiffKV(Dump(c.get()), want), "");
    EXPECT_EQ(DiffKV(DumpReverse(c.get()), want), "");
  }
  // Others do not see them yet.
  std::unique_ptr<ReadTxn> r;
  ASSERT_TRUE(db_->BeginRead(&r).ok());
  EXPECT_EQ(DiffKV(Dump(r->NewCursor().get()), KV{{"a", "old-a"}, {"c", "old-c"}}), "");
  ASSERT_TRUE(db_->Get("a", &v).ok());
  EXPECT_EQ(v, "old-a");
  ASSERT_TRUE(w->Commit().ok());
  // The old snapshot still does not; a new one does.
  EXPECT_EQ(DiffKV(Dump(r->NewCursor().get()), KV{{"a", "old-a"}, {"c", "old-c"}}), "");
  EXPECT_EQ(DiffKV(DumpDb(db_.get()), KV{{"a", "new-a"}, {"b", "new-b"}, {"d", big}}), "");
}

TEST_F(DbTxnTest, DestructorAbortsAndAbortDiscards) {
  ASSERT_TRUE(db_->Put("keep", "1").ok());
  const uint64_t seq = db_->GetStats().sequence;
  {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db_->BeginWrite(&w).ok());
    ASSERT_TRUE(w->Put("dropped", "x").ok());
    ASSERT_TRUE(w->Delete("keep").ok());
    for (int i = 0; i < 2000; ++i) ASSERT_TRUE(w->Put(NumKey(i), FillValue(100, i)).ok());
  }  // destroyed uncommitted
  EXPECT_EQ(DiffKV(DumpDb(db_.get()), KV{{"keep", "1"}}), "");
  {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db_->BeginWrite(&w).ok());  // the slot was released
    ASSERT_TRUE(w->Put("dropped2", "x").ok());
    ASSERT_TRUE(w->Put("big", FillValue(100000, 3)).ok());
    w->Abort();
    // After Abort every call is InvalidArgument, and nothing crashes.
    std::string v = "untouched";
    EXPECT_TRUE(w->Put("p", "q").IsInvalidArgument());
    EXPECT_TRUE(w->Delete("keep").IsInvalidArgument());
    EXPECT_TRUE(w->Get("keep", &v).IsInvalidArgument());
    EXPECT_EQ(v, "untouched");
    EXPECT_TRUE(w->Commit().IsInvalidArgument());
    w->Abort();
  }
  EXPECT_EQ(DiffKV(DumpDb(db_.get()), KV{{"keep", "1"}}), "");
  EXPECT_EQ(db_->GetStats().sequence, seq);
  EXPECT_TRUE(db_->Verify().ok());
  db_.reset();
  db_ = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db_, nullptr);
  EXPECT_EQ(DiffKV(DumpDb(db_.get()), KV{{"keep", "1"}}), "");
}

TEST_F(DbTxnTest, CallsAfterCommitAreErrorsNotCrashes) {
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  ASSERT_TRUE(w->Put("k", "v").ok());
  ASSERT_TRUE(w->Commit().ok());
  std::string v = "untouched";
  EXPECT_TRUE(w->Put("k2", "v").IsInvalidArgument());
  EXPECT_TRUE(w->Delete("k").IsInvalidArgument());
  EXPECT_TRUE(w->Get("k", &v).IsInvalidArgument());
  EXPECT_EQ(v, "untouched");
  EXPECT_TRUE(w->Commit().IsInvalidArgument());
  auto c = w->NewCursor();
  if (c != nullptr) {
    c->SeekToFirst();
    EXPECT_FALSE(c->Valid());
    EXPECT_FALSE(c->status().ok());
  }
  w->Abort();  // must not undo the commit
  w.reset();
  EXPECT_EQ(DiffKV(DumpDb(db_.get()), KV{{"k", "v"}}), "");
  // The writer slot is free again.
  std::unique_ptr<WriteTxn> w2;
  ASSERT_TRUE(db_->BeginWrite(&w2).ok());
  ASSERT_TRUE(w2->Put("k2", "v2").ok());
  ASSERT_TRUE(w2->Commit().ok());
}

// Exit code of the child below: 0 = answered sensibly, else what went
// wrong (a crash shows as a signal).
int UseCursorOfAFinishedTxn(DB* db, bool commit) {
  std::unique_ptr<WriteTxn> w;
  if (!db->BeginWrite(&w).ok()) return 10;
  if (!w->Put("b", "2").ok()) return 11;
  auto c = w->NewCursor();  // made while the transaction is open
  c->SeekToFirst();
  if (!c->Valid()) return 12;
  if (commit) {
    if (!w->Commit().ok()) return 13;
  } else {
    w->Abort();
  }
  // The transaction object is still alive: its cursor must answer without
  // touching freed memory: an error, or the view it had.
  c->Next();
  if (c->Valid() && c->key() != "b") return 14;
  c->SeekToFirst();
  if (!c->Valid() && c->status().ok()) return 15;  // silently empty
  c->Seek("b");
  c.reset();
  return 0;
}

TEST_F(DbTxnTest, CursorOfAFinishedTxnIsAnErrorNotACrash) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ASSERT_TRUE(db_->Put("a", "1").ok());
  // In a child process, so that a crash fails this test only.
  auto child = [this](bool commit) {
    int code = UseCursorOfAFinishedTxn(db_.get(), commit);
    db_.reset();
    std::filesystem::remove_all(dir_.path());
    std::exit(code);
  };
  EXPECT_EXIT(child(true), ::testing::ExitedWithCode(0), "")
      << "cursor used after its transaction's Commit";
  EXPECT_EXIT(child(false), ::testing::ExitedWithCode(0), "")
      << "cursor used after its transaction's Abort";
}

TEST_F(DbTxnTest, SequenceIncreasesPerCommit) {
  std::unique_ptr<ReadTxn> r0;
  ASSERT_TRUE(db_->BeginRead(&r0).ok());
  uint64_t prev = r0->Sequence();
  EXPECT_EQ(prev, db_->GetStats().sequence);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(db_->Put(NumKey(i), "v").ok());
    std::unique_ptr<ReadTxn> r;
    ASSERT_TRUE(db_->BeginRead(&r).ok());
    EXPECT_EQ(r->Sequence(), prev + 1);
    EXPECT_EQ(db_->GetStats().sequence, r->Sequence());
    prev = r->Sequence();
  }
  // An aborted transaction is not a commit.
  {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db_->BeginWrite(&w).ok());
    ASSERT_TRUE(w->Put("x", "y").ok());
  }
  std::unique_ptr<ReadTxn> r;
  ASSERT_TRUE(db_->BeginRead(&r).ok());
  EXPECT_EQ(r->Sequence(), prev);
  EXPECT_EQ(r0->Sequence(), prev - 10);  // an old snapshot keeps its number
  // The sequence survives reopen.
  r.reset();
  r0.reset();
  db_.reset();
  db_ = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db_, nullptr);
  ASSERT_TRUE(db_->BeginRead(&r).ok());
  EXPECT_EQ(r->Sequence(), prev);
}

TEST_F(DbTxnTest, SnapshotKeepsItsViewAcrossCommitsAndCheckpoints) {
  KV original;
  for (int i = 0; i < 2000; ++i) {
    std::string v = FillValue(i % 97 == 0 ? 10000 : 80, i);
    ASSERT_TRUE(db_->Put(NumKey(i, 12), v).ok());
    original[NumKey(i, 12)] = v;
  }
  std::unique_ptr<ReadTxn> snap;
  ASSERT_TRUE(db_->BeginRead(&snap).ok());
  const uint64_t seq = snap->Sequence();
  auto open_cursor = snap->NewCursor();
  open_cursor->Seek(NumKey(1000, 12));
  ASSERT_TRUE(open_cursor->Valid());

  KV now = original;
  for (int round = 0; round < 4; ++round) {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db_->BeginWrite(&w).ok());
    for (int i = round; i < 2000; i += 3) {
      std::string k = NumKey(i, 12);
      if (i % 2 == 0) {
        ASSERT_TRUE(w->Delete(k).ok());
        now.erase(k);
      } else {
        std::string v = FillValue(i % 5 == 0 ? 7000 : 20, i + round * 10000);
        ASSERT_TRUE(w->Put(k, v).ok());
        now[k] = v;
      }
    }
    for (int i = 0; i < 300; ++i) {
      std::string k = NumKey(5000 + round * 1000 + i, 30);
      ASSERT_TRUE(w->Put(k, "new").ok());
      now[k] = "new";
    }
    ASSERT_TRUE(w->Commit().ok());
    ASSERT_TRUE(db_->Checkpoint().ok());
    EXPECT_EQ(snap->Sequence(), seq);
    EXPECT_EQ(DiffKV(Dump(snap->NewCursor().get()), original), "") << "round " << round;
  }
  // Every key by Get, and the cursor opened before all of it continues.
  for (const auto& [k, v] : original) {
    std::string got;
    ASSERT_TRUE(snap->Get(k, &got).ok()) << k;
    EXPECT_TRUE(got == v) << k;
  }
  std::string absent = "u";
  EXPECT_TRUE(snap->Get(NumKey(5000, 30), &absent).IsNotFound());
  KV rest;
  for (; open_cursor->Valid(); open_cursor->Next()) {
    rest[std::string(open_cursor->key())] = std::string(open_cursor->value());
  }
  EXPECT_TRUE(open_cursor->status().ok());
  KV want_rest(original.lower_bound(NumKey(1000, 12)), original.end());
  EXPECT_EQ(DiffKV(rest, want_rest), "");
  EXPECT_EQ(DiffKV(DumpDb(db_.get()), now), "");
  open_cursor.reset();
  snap.reset();
  ASSERT_TRUE(db_->Checkpoint().ok());
  EXPECT_TRUE(db_->Verify().ok());
  EXPECT_EQ(DiffKV(DumpDb(db_.get()), now), "");
}

TEST_F(DbTxnTest, BeginWriteWaitsForTheWriterSlot) {
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db_->BeginWrite(&w).ok());
  ASSERT_TRUE(w->Put("first", "1").ok());
  std::atomic<bool> committed{false};
  std::atomic<bool> saw_uncommitted{false};
  std::string seen;
  std::thread other([&] {
    std::unique_ptr<WriteTxn> w2;
    Status s = db_->BeginWrite(&w2);
    if (!committed.load()) saw_uncommitted = true;
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_TRUE(w2->Get("first", &seen).ok());
    ASSERT_TRUE(w2->Put("second", "2").ok());
    ASSERT_TRUE(w2->Commit().ok());
  });
  // Give the other thread every chance to get in (not a timing assertion:
  // it must not get in at all before the commit below).
  for (int i = 0; i < 50; ++i) std::this_thread::yield();
  ASSERT_TRUE(w->Put("first2", "1").ok());
  committed = true;
  ASSERT_TRUE(w->Commit().ok());
  other.join();
  EXPECT_FALSE(saw_uncommitted);
  EXPECT_EQ(seen, "1");
  EXPECT_EQ(DiffKV(DumpDb(db_.get()), KV{{"first", "1"}, {"first2", "1"}, {"second", "2"}}), "");
}

TEST_F(DbTxnTest, CommittedTransactionsAreSeenWholeOrNotAtAll) {
  // A writer commits transactions of 50 keys each ("t<id>/<n>"); readers
  // that begin after a Commit returned see it whole, never a part.
  constexpr int kTxns = 150;
  std::atomic<int> acknowledged{0};
  std::atomic<bool> failed{false};
  std::thread writer([&] {
    for (int t = 1; t <= kTxns; ++t) {
      std::unique_ptr<WriteTxn> w;
      if (!db_->BeginWrite(&w).ok()) {
        failed = true;
        return;
      }
      for (int n = 0; n < 50; ++n) {
        char k[32];
        std::snprintf(k, sizeof(k), "t%04d/%02d", t, n);
        if (!w->Put(k, std::to_string(t)).ok()) failed = true;
      }
      if (!w->Commit().ok()) failed = true;
      acknowledged = t;
    }
  });
  int checks = 0;
  while (acknowledged.load() < kTxns && checks < 100000) {
    const int acked = acknowledged.load();
    std::unique_ptr<ReadTxn> r;
    ASSERT_TRUE(db_->BeginRead(&r).ok());
    auto c = r->NewCursor();
    std::map<int, int> per_txn;
    for (c->SeekToFirst(); c->Valid(); c->Next()) {
      per_txn[std::atoi(std::string(c->key().substr(1, 4)).c_str())]++;
    }
    ASSERT_TRUE(c->status().ok());
    for (const auto& [t, n] : per_txn) ASSERT_EQ(n, 50) << "transaction " << t << " seen partly";
    for (int t = 1; t <= acked; ++t) ASSERT_EQ(per_txn.count(t), 1u) << "acknowledged " << t;
    // Transactions are seen as a prefix.
    if (!per_txn.empty()) {
      EXPECT_EQ(per_txn.rbegin()->first, static_cast<int>(per_txn.size()));
    }
    ++checks;
  }
  writer.join();
  EXPECT_FALSE(failed);
  EXPECT_EQ(DumpDb(db_.get()).size(), size_t{kTxns} * 50);
}

// Durability normal (options.h): the log is synced by a commit that comes
// 50 ms or more after the previous sync, never by a timer. The bounds use
// the time the commits took, so a slow machine cannot fail them.
TEST(DurabilityNormalTest, ACommitSyncsOnlyWhenTheIntervalHasPassed) {
  sombra::test::TempDir dir;
  Options o;
  o.durability = Durability::kNormal;
  auto db = OpenOrDie(o, dir.File("db"));
  ASSERT_NE(db, nullptr);
  auto syncs = [&] { return db->GetStats().all.at("wal_commit_fsyncs"); };
  using Clock = std::chrono::steady_clock;

  const uint64_t before = syncs();
  const auto t0 = Clock::now();
  constexpr int kCommits = 40;
  for (int i = 0; i < kCommits; ++i) ASSERT_TRUE(db->Put("k" + std::to_string(i), "v").ok());
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  // One sync at most per 50 ms that passed, plus the first commit's.
  EXPECT_LE(syncs() - before, static_cast<uint64_t>(1 + ms / 50)) << ms << " ms";

  // Silence syncs nothing (no timer)...
  const uint64_t quiet = syncs();
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_EQ(syncs(), quiet);
  // ...the next commit, 50 ms or more after the last sync, syncs.
  ASSERT_TRUE(db->Put("after", "pause").ok());
  EXPECT_EQ(syncs(), quiet + 1);
}

}  // namespace
}  // namespace sombra::dbtest
