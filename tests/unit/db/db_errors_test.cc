// Bad input never crashes and never loses committed data: files that are
// not databases, truncated and damaged page files, damaged logs, and a full
// disk (docs/api.md; docs/testing.md, "Fault injection" and "Corruption sweep").
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "db/db_impl.h"
#include "db_test_util.h"
#include "env/fault_injection_env.h"
#include "sombra/db.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"

namespace sombra::dbtest {
namespace {

using FaultOp = FaultInjectionEnv::Op;

class DbErrorsTest : public ::testing::Test {
 protected:
  // Opens `path_` expecting failure with InvalidArgument or Corruption and
  // no change to the file.
  void ExpectRefused(const std::string& what, const Options& o = Options()) {
    SCOPED_TRACE(what);
    const FileImage before = ImageOf(path_);
    std::unique_ptr<DB> db;
    Status s = DB::Open(o, path_, &db);
    EXPECT_TRUE(s.IsInvalidArgument() || s.IsCorruption()) << s.ToString();
    EXPECT_EQ(db, nullptr);
    EXPECT_TRUE(ImageOf(path_) == before) << "the failed Open changed the file";
  }

  // A checkpointed, closed database of `n` keys, values of 100 bytes.
  KV BuildClosed(int n, uint32_t page_size = 4096) {
    KV kv;
    auto db = OpenOrDie(FastOptions(page_size), path_);
    EXPECT_NE(db, nullptr);
    if (db == nullptr) return kv;
    std::unique_ptr<WriteTxn> w;
    EXPECT_TRUE(db->BeginWrite(&w).ok());
    for (int i = 0; i < n; ++i) {
      std::string k = NumKey(i, 12);
      std::string v = FillValue(100, i);
      EXPECT_TRUE(w->Put(k, v).ok());
      kv[k] = v;
    }
    EXPECT_TRUE(w->Commit().ok());
    return kv;
  }

  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
};

TEST_F(DbErrorsTest, RandomBytesAreNotADatabase) {
  const uint64_t seed = sombra::test::TestSeed();
  std::mt19937_64 rng(seed);
  for (size_t size : {size_t{100}, size_t{4096}, size_t{8192}, size_t{65536 * 3}}) {
    std::string junk(size, '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    sombra::test::WriteFileOrDie(path_, junk);
    ExpectRefused("random " + std::to_string(size) + " bytes");
    Options ro;
    ro.read_only = true;
    ExpectRefused("random, read-only", ro);
    Options no_create;
    no_create.create_if_missing = false;
    ExpectRefused("random, !create_if_missing", no_create);
  }
}

TEST_F(DbErrorsTest, TextFileIsNotADatabase) {
  std::string text;
  for (int i = 0; i < 400; ++i) text += "This is line " + std::to_string(i) + " of a text file.\n";
  sombra::test::WriteFileOrDie(path_, text);
  ExpectRefused("text");
}

TEST_F(DbErrorsTest, ShortNonEmptyFilesAreNotADatabase) {
  sombra::test::WriteFileOrDie(path_, std::string(100, '\0'));
  ExpectRefused("100 zero bytes");
  sombra::test::WriteFileOrDie(path_, std::string(100, 'x'));
  ExpectRefused("100 x bytes");
  sombra::test::WriteFileOrDie(path_, std::string(4096, '\0'));
  ExpectRefused("4096 zero bytes");
  sombra::test::WriteFileOrDie(path_, "SOMBRADB");
  ExpectRefused("the magic alone");
}

TEST_F(DbErrorsTest, TruncatedPageFile) {
  KV kv = BuildClosed(3000);
  const uint64_t size = FileSize(path_);
  ASSERT_GT(size, 20u * 4096);
  // Cut inside the pages in use (the file may have zero tail space; cut
  // well below the page count of the meta page).
  const std::string bytes = sombra::test::ReadFileOrDie(path_);
  MetaInfo meta = ReadMeta(bytes, 4096);
  ASSERT_GT(meta.page_count, 10u);
  for (uint64_t cut :
       {meta.page_count * 4096 / 2, meta.page_count * 4096 - 4096, meta.page_count * 4096 - 1}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    sombra::test::WriteFileOrDie(path_, bytes.substr(0, cut));
    std::unique_ptr<DB> db;
    Status s = DB::Open(FastOptions(), path_, &db);
    if (s.ok()) {
      // Acceptable only if the damage is then reported, never wrong data.
      Status v = db->Verify();
      EXPECT_TRUE(v.IsCorruption()) << v.ToString();
    } else {
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_TRUE(Contains(s.ToString(), path_)) << s.ToString();
      EXPECT_EQ(FileSize(path_), cut) << "a failed Open changed the file";
    }
  }
  // Cutting only the zero tail past the pages in use is harmless.
  sombra::test::WriteFileOrDie(path_, bytes.substr(0, meta.page_count * 4096));
  auto db = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(db->Verify().ok());
  EXPECT_EQ(DiffKV(DumpDb(db.get()), kv), "");
}

// Finds the leaf pages of a closed database file: (page number, low fence,
// high fence); fences empty for -inf/+inf (docs/format/page.md).
struct LeafInfo {
  uint32_t page_no;
  std::string low, high;
};
std::vector<LeafInfo> FindLeaves(const std::string& file, uint32_t page_size) {
  std::vector<LeafInfo> out;
  MetaInfo meta = ReadMeta(file, page_size);
  for (uint64_t p = 2; p < meta.page_count && (p + 1) * page_size <= file.size(); ++p) {
    const size_t base = p * page_size;
    if (static_cast<uint8_t>(file[base]) != 3) continue;
    LeafInfo leaf;
    leaf.page_no = static_cast<uint32_t>(p);
    uint16_t low = Le16(file, base + 48), high = Le16(file, base + 50);
    leaf.low = file.substr(base + 52, low);
    leaf.high = file.substr(base + 52 + low, high);
    out.push_back(leaf);
  }
  return out;
}

TEST_F(DbErrorsTest, DamagedLeafPage) {
  KV kv = BuildClosed(4000);
  const std::string file = sombra::test::ReadFileOrDie(path_);
  std::vector<LeafInfo> leaves = FindLeaves(file, 4096);
  ASSERT_GT(leaves.size(), 10u);
  // A leaf in the middle of the key space.
  LeafInfo victim = leaves[0];
  for (const auto& l : leaves) {
    if (!l.low.empty() && !l.high.empty() && l.low > NumKey(2000, 12)) {
      victim = l;
      break;
    }
  }
  ASSERT_FALSE(victim.low.empty());
  FlipByte(path_, uint64_t{victim.page_no} * 4096 + 2000);
  const std::string damaged = sombra::test::ReadFileOrDie(path_);

  std::unique_ptr<DB> db;
  Status s = DB::Open(FastOptions(), path_, &db);
  ASSERT_TRUE(s.ok()) << "meta pages are intact: " << s.ToString();
  Status v = db->Verify();
  EXPECT_TRUE(v.IsCorruption()) << v.ToString();
  EXPECT_TRUE(Contains(v.ToString(), "page " + std::to_string(victim.page_no)))
      << "Verify does not name page " << victim.page_no << ": " << v.ToString();

  size_t on_victim = 0;
  for (const auto& [k, val] : kv) {
    std::string got = "untouched";
    Status g = db->Get(k, &got);
    if (k >= victim.low && k < victim.high) {
      ++on_victim;
      EXPECT_TRUE(g.IsCorruption()) << k << ": " << g.ToString();
      if (g.IsCorruption()) {
        EXPECT_TRUE(Contains(g.ToString(), std::to_string(victim.page_no))) << g.ToString();
      }
    } else {
      ASSERT_TRUE(g.ok()) << k << ": " << g.ToString();
      ASSERT_TRUE(got == val) << k;
    }
  }
  EXPECT_GT(on_victim, 0u);
  // A scan stops at the damage with a Corruption status, after yielding
  // only correct pairs.
  {
    std::unique_ptr<ReadTxn> r;
    ASSERT_TRUE(db->BeginRead(&r).ok());
    auto c = r->NewCursor();
    size_t n = 0;
    for (c->SeekToFirst(); c->Valid(); c->Next()) {
      auto it = kv.find(std::string(c->key()));
      ASSERT_NE(it, kv.end());
      ASSERT_TRUE(c->value() == it->second);
      ++n;
    }
    EXPECT_TRUE(c->status().IsCorruption()) << c->status().ToString();
    EXPECT_LT(n, kv.size());
    // Seeking past the damaged page works.
    auto it = kv.lower_bound(victim.high);
    ASSERT_NE(it, kv.end());
    c->Seek(victim.high);
    ASSERT_TRUE(c->Valid()) << c->status().ToString();
    EXPECT_EQ(c->key(), it->first);
  }
  EXPECT_GT(db->GetStats().pager_checksum_failures, 0u);
  // A write into another page still commits.
  Status p = db->Put(NumKey(10, 12), "rewritten");
  EXPECT_TRUE(p.ok()) << p.ToString();
  db.reset();
  // Nothing made the damage worse or "repaired" it silently; the page is
  // still reported.
  db = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db, nullptr);
  v = db->Verify();
  EXPECT_TRUE(v.IsCorruption()) << v.ToString();
  std::string got;
  ASSERT_TRUE(db->Get(NumKey(10, 12), &got).ok());
  EXPECT_EQ(got, "rewritten");
}

TEST_F(DbErrorsTest, DamagedMetaPages) {
  KV kv = BuildClosed(500);
  const std::string good = sombra::test::ReadFileOrDie(path_);
  const MetaInfo meta = ReadMeta(good, 4096);
  const uint32_t current = static_cast<uint32_t>(meta.checkpoint_seq % 2);
  // The meta page in force damaged: the other one is older but valid.
  // Opening must not crash; it gives Corruption or falls back to the
  // older meta page (whose checkpoint may be incomplete: then Corruption
  // must come from Verify or from the data, never wrong data silently).
  FlipByte(path_, uint64_t{current} * 4096 + 50);
  const std::string copy = dir_.File("copy");
  std::filesystem::copy_file(path_, copy);
  if (FileExists(path_ + "-wal")) std::filesystem::copy_file(path_ + "-wal", copy + "-wal");
  for (bool read_only : {true, false}) {
    SCOPED_TRACE(read_only ? "read-only open" : "writable open");
    std::unique_ptr<DB> db;
    Options o;
    o.read_only = read_only;
    Status s = DB::Open(o, read_only ? path_ : copy, &db);
    EXPECT_TRUE(s.ok() || s.IsCorruption()) << s.ToString();
    if (s.ok()) {
      // The older meta page describes the database before the last
      // checkpoint, and no log holds what came after: opening is only
      // fine if no committed key is silently missing.
      EXPECT_EQ(DiffKV(DumpDb(db.get()), kv), "")
          << "opened on the older meta page and lost committed data silently";
    }
  }
  // Both damaged: Corruption naming the file.
  FlipByte(path_, uint64_t{1 - current} * 4096 + 50);
  ExpectRefused("both meta pages damaged");
  std::unique_ptr<DB> db;
  Status s = DB::Open(Options(), path_, &db);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_TRUE(Contains(s.ToString(), path_)) << s.ToString();
}

// A database whose committed transactions are only in the log: the writer
// stays open while its files are copied (a crash image: the commits are
// synced, the page file is untouched until a checkpoint).
class DbWalDamageTest : public DbErrorsTest {
 protected:
  void SetUp() override {
    Options o;  // durability full
    o.wal_checkpoint_bytes = uint64_t{1} << 40;
    o.wal_compression = false;
    writer_ = OpenOrDie(o, src_);
    ASSERT_NE(writer_, nullptr);
    KV kv;
    for (int t = 0; t < kTxns; ++t) {
      std::unique_ptr<WriteTxn> w;
      ASSERT_TRUE(writer_->BeginWrite(&w).ok());
      for (int i = 0; i < 20; ++i) {
        std::string k = NumKey(t * 20 + i, 10);
        std::string v = FillValue(50 + i, t * 100 + i);
        ASSERT_TRUE(w->Put(k, v).ok());
        kv[k] = v;
      }
      ASSERT_TRUE(w->Delete(NumKey(t * 20 - 7, 10)).ok());
      kv.erase(NumKey(t * 20 - 7, 10));
      ASSERT_TRUE(w->Commit().ok());
      states_.push_back(kv);
    }
    wal_ = sombra::test::ReadFileOrDie(src_ + "-wal");
    records_ = WalRecords(wal_);
    size_t commits = 0;
    for (const auto& r : records_) commits += r.type == 3;
    ASSERT_EQ(commits, size_t{kTxns}) << "cannot parse the log";
  }
  void TearDown() override { writer_.reset(); }

  // Copies the writer's files to path_, with `wal` as the log.
  void MakeCopy(const std::string& wal) {
    std::filesystem::copy_file(src_, path_, std::filesystem::copy_options::overwrite_existing);
    sombra::test::WriteFileOrDie(path_ + "-wal", wal);
  }
  // Opens the copy; OK only if it shows exactly one of the committed states
  // (a prefix), reported in *prefix.
  Status OpenCopy(size_t* prefix) {
    std::unique_ptr<DB> db;
    Status s = DB::Open(FastOptions(), path_, &db);
    if (!s.ok()) return s;
    KV got = DumpDb(db.get());
    *prefix = SIZE_MAX;
    if (got.empty()) *prefix = 0;
    for (size_t i = 0; i < states_.size(); ++i) {
      if (DiffKV(got, states_[i]) == "") *prefix = i + 1;
    }
    EXPECT_NE(*prefix, SIZE_MAX) << "recovered a state that was never committed";
    Status v = db->Verify();
    EXPECT_TRUE(v.ok()) << v.ToString();
    return s;
  }

  static constexpr int kTxns = 12;
  std::string src_ = dir_.File("src");
  std::unique_ptr<DB> writer_;
  std::vector<KV> states_;  // after each commit
  std::string wal_;
  std::vector<WalRecord> records_;
};

TEST_F(DbWalDamageTest, UndamagedCopyRecoversEverything) {
  MakeCopy(wal_);
  size_t prefix = 0;
  Status s = OpenCopy(&prefix);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(prefix, size_t{kTxns});
}

TEST_F(DbWalDamageTest, DamageInAMiddleRecordIsCorruption) {
  // Every record of the third transaction onward except the last one.
  int checked = 0;
  for (size_t i = 0; i + 3 < records_.size(); i += 3) {
    const WalRecord& r = records_[i];
    SCOPED_TRACE("record " + std::to_string(i) + " at offset " + std::to_string(r.offset) +
                 " type " + std::to_string(r.type));
    std::string wal = wal_;
    wal[r.offset + 16 + r.length / 2] ^= 0x41;  // the payload
    MakeCopy(wal);
    size_t prefix = 0;
    Status s = OpenCopy(&prefix);
    // Acknowledged commits follow the damage: recovering a prefix would
    // lose them silently.
    EXPECT_TRUE(s.IsCorruption()) << s.ToString() << " (recovered " << prefix << " of " << kTxns
                                  << ")";
    if (s.IsCorruption()) {
      EXPECT_TRUE(Contains(s.ToString(), "wal") || Contains(s.ToString(), "log")) << s.ToString();
    }
    // The failed open left the log as it was.
    EXPECT_TRUE(sombra::test::ReadFileOrDie(path_ + "-wal") == wal);
    ++checked;
  }
  EXPECT_GT(checked, 5);
}

TEST_F(DbWalDamageTest, DamagedHeaderOfARecord) {
  const WalRecord& r = records_[records_.size() / 2];
  std::string wal = wal_;
  wal[r.offset + 4] ^= 0x7f;  // the length
  MakeCopy(wal);
  size_t prefix = 0;
  Status s = OpenCopy(&prefix);
  EXPECT_TRUE(s.IsCorruption() || (s.ok() && prefix < size_t{kTxns})) << s.ToString();
}

TEST_F(DbWalDamageTest, TornTailRecoversAPrefix) {
  // Damage in the last commit record (nothing valid follows): the last
  // transaction is lost as after a crash, or the damage is reported.
  const WalRecord& last = records_.back();
  ASSERT_EQ(last.type, 3);
  std::string wal = wal_;
  wal[last.offset + 20] ^= 0x01;
  MakeCopy(wal);
  size_t prefix = 0;
  Status s = OpenCopy(&prefix);
  if (s.ok()) {
    EXPECT_EQ(prefix, size_t{kTxns - 1});
  } else {
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  }
  // Cut the log inside the last transaction: the prefix recovers.
  MakeCopy(wal_.substr(0, last.offset + 10));
  s = OpenCopy(&prefix);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(prefix, size_t{kTxns - 1});
  // Cut the log inside its header: an empty or damaged log.
  MakeCopy(wal_.substr(0, 30));
  s = OpenCopy(&prefix);
  EXPECT_TRUE(s.ok() || s.IsCorruption()) << s.ToString();
  if (s.ok()) {
    EXPECT_EQ(prefix, 0u);
  }
}

TEST_F(DbWalDamageTest, RandomLogGarbageNeverCrashes) {
  const uint64_t seed = sombra::test::TestSeed();
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 25; ++iter) {
    std::string wal = wal_;
    const size_t end = records_.back().offset + 16 + records_.back().length;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) wal[rng() % end] ^= static_cast<char>(1 + rng() % 255);
    MakeCopy(wal);
    size_t prefix = 0;
    Status s = OpenCopy(&prefix);
    EXPECT_TRUE(s.ok() || s.IsCorruption()) << "seed " << seed << ": " << s.ToString();
  }
}

// The full disk, through FaultInjectionEnv.
class DbNoSpaceTest : public DbErrorsTest {
 protected:
  std::unique_ptr<DB> OpenWithFaults(const Options& o) {
    std::unique_ptr<DB> db;
    Status s = sombra::db::OpenWithEnv(&env_, o, path_, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return db;
  }
  void CheckReopen(const KV& want) {
    auto db = OpenOrDie(FastOptions(), path_);
    ASSERT_NE(db, nullptr);
    Status v = db->Verify();
    EXPECT_TRUE(v.ok()) << v.ToString();
    EXPECT_EQ(DiffKV(DumpDb(db.get()), want), "");
    // And it takes writes again.
    EXPECT_TRUE(db->Put("after-reopen", "x").ok());
  }
  FaultInjectionEnv env_{Env::Default(), 1};
};

class DbNoSpaceDurabilityTest : public DbNoSpaceTest,
                                public ::testing::WithParamInterface<Durability> {};

TEST_P(DbNoSpaceDurabilityTest, CommitFailsWithNoSpaceAndEarlierDataSurvives) {
  KV want;
  {
    Options o;
    o.durability = GetParam();
    auto db = OpenWithFaults(o);
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(db->Put(NumKey(i), FillValue(200, i)).ok());
      want[NumKey(i)] = FillValue(200, i);
    }
    env_.FailNext(FaultOp::kWrite, ENOSPC);
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(w->Put(NumKey(1000 + i), "lost").ok());
    Status s = w->Commit();
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
    w.reset();
    // Reads keep working and show only the acknowledged commits.
    EXPECT_EQ(DiffKV(DumpDb(db.get()), want), "");
    std::string v;
    EXPECT_TRUE(db->Get(NumKey(1000), &v).IsNotFound());
    // Later writes fail cleanly (sticky error) or succeed; never crash.
    Status later = db->Put("later", "x");
    if (later.ok()) want["later"] = "x";
  }
  CheckReopen(want);
}

INSTANTIATE_TEST_SUITE_P(Durability, DbNoSpaceDurabilityTest,
                         ::testing::Values(Durability::kFull, Durability::kNormal,
                                           Durability::kOff),
                         [](const auto& param_info) { return DurabilityName(param_info.param); });

TEST_F(DbNoSpaceTest, SyncFailsWithNoSpace) {
  KV want;
  {
    auto db = OpenWithFaults(Options());
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 30; ++i) {
      ASSERT_TRUE(db->Put(NumKey(i), "v").ok());
      want[NumKey(i)] = "v";
    }
    env_.FailNext(FaultOp::kSync, ENOSPC);
    Status s = db->Put("unsynced", "x");
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
    std::string v;
    EXPECT_TRUE(db->Get(NumKey(3), &v).ok());
  }
  // The failed commit may or may not be there (its bytes reached the log);
  // everything acknowledged must be.
  auto db = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db, nullptr);
  KV got = DumpDb(db.get());
  got.erase("unsynced");
  EXPECT_EQ(DiffKV(got, want), "");
  EXPECT_TRUE(db->Verify().ok());
}

TEST_F(DbNoSpaceTest, CheckpointFailsWithNoSpace) {
  KV want;
  {
    auto db = OpenWithFaults(Options());
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 500; ++i) {
      ASSERT_TRUE(db->Put(NumKey(i), FillValue(300, i)).ok());
      want[NumKey(i)] = FillValue(300, i);
    }
    env_.FailNext(FaultOp::kWrite, ENOSPC);
    Status s = db->Checkpoint();
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
    EXPECT_EQ(DiffKV(DumpDb(db.get()), want), "");
  }
  CheckReopen(want);
}

TEST_F(DbNoSpaceTest, EveryWriteOfACommitFailingLeavesAConsistentDatabase) {
  // Fail the k-th write (k = 0, 1, 2, ...) of a large commit that needs
  // log growth; each time the database must reopen with exactly the
  // acknowledged commits.
  for (uint64_t skip = 0; skip < 6; ++skip) {
    SCOPED_TRACE("skip " + std::to_string(skip));
    (void)env_.RemoveFile(path_);
    (void)env_.RemoveFile(path_ + "-wal");
    KV want;
    {
      auto db = OpenWithFaults(FastOptions());
      ASSERT_NE(db, nullptr);
      ASSERT_TRUE(db->Put("base", "1").ok());
      want["base"] = "1";
      env_.FailNext(FaultOp::kWrite, ENOSPC, skip);
      bool failed = false;
      for (int t = 0; t < 5 && !failed; ++t) {
        std::unique_ptr<WriteTxn> w;
        Status b = db->BeginWrite(&w);
        if (!b.ok()) break;
        KV add;
        for (int i = 0; i < 300; ++i) {
          std::string k = NumKey(t * 1000 + i);
          add[k] = FillValue(i % 50 == 0 ? 40000 : 500, t * 1000 + i);
          ASSERT_TRUE(w->Put(k, add[k]).ok());
        }
        Status s = w->Commit();
        if (s.ok()) {
          want.insert(add.begin(), add.end());
        } else {
          EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
          failed = true;
        }
      }
      Status c = db->Checkpoint();
      if (!failed && !c.ok()) {
        EXPECT_TRUE(c.IsNoSpace()) << c.ToString();
      }
    }
    CheckReopen(want);
  }
}

}  // namespace
}  // namespace sombra::dbtest
