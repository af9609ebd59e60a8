// The B+tree over real pager transactions: inserts with splits, updates,
// deletes with borrow and merge, large values, cursors, Verify.
#include "btree/btree.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <map>
#include <random>

#include "btree/node_format.h"
#include "btree/slotted_page.h"
#include "pager/pager.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"

namespace sombra::btree {
namespace {

std::string Key(uint64_t i) {
  std::string k(8, '\0');
  for (int b = 0; b < 8; ++b) k[b] = static_cast<char>(i >> (56 - 8 * b));  // big-endian
  return k;
}

class BTreeTest : public ::testing::Test {
 protected:
  void Open(uint32_t page_size = 4096) {
    Options o;
    o.page_size = page_size;
    o.durability = Durability::kOff;
    auto p = pager::Pager::Open(Env::Default(), dir_.File("db"), o);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pager_ = std::move(p).value();
    c_ = std::make_unique<BTreeCounters>(pager_->metrics());
  }
  uint64_t Counter(const char* name) { return pager_->metrics()->Value(name); }
  // Keys 0..9 (value = key) in one committed transaction: a root leaf.
  void PutTenKeys() {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    BTreeWriter w(txn->get(), pager_->metrics());
    for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(w.Put(Key(i), Key(i)).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  void ExpectVerified() {
    auto snap = pager_->BeginRead();
    Status s = VerifyTree(*snap);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  // The whole tree through a cursor, forward.
  std::map<std::string, std::string> Scan() {
    auto snap = pager_->BeginRead();
    TreeCursor cur(SnapshotReader(snap.get()), pager_->page_size(), snap->state().root, c_.get());
    std::map<std::string, std::string> out;
    std::string last;
    for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
      EXPECT_TRUE(out.empty() || std::string(cur.key()) > last);
      last = std::string(cur.key());
      out[last] = std::string(cur.value());
    }
    EXPECT_TRUE(cur.status().ok()) << cur.status().ToString();
    return out;
  }

  sombra::test::TempDir dir_;
  std::unique_ptr<pager::Pager> pager_;
  std::unique_ptr<BTreeCounters> c_;
};

TEST_F(BTreeTest, SequentialLoadFillsLeavesAndCountsExactly) {
  Open();
  {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    BTreeWriter w(txn->get(), pager_->metrics());
    for (uint64_t i = 0; i < 10000; ++i) ASSERT_TRUE(w.Put(Key(i), Key(i)).ok()) << i;
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  ExpectVerified();
  const uint64_t splits = Counter("leaf_splits");
  EXPECT_GT(splits, 0u);
  EXPECT_EQ(Counter("allocator_split_triggers"), splits);
  EXPECT_EQ(Counter("allocator_failures"), 0u);
  EXPECT_LE(Counter("allocator_page_parses"), 1u);
  // Leaves: the root leaf plus one per split; each built once.
  const uint64_t leaves = splits + 1;
  EXPECT_LE(Counter("allocator_builds"), leaves + 1) << "builds ~ leaf pages created";
  EXPECT_GE(Counter("allocator_builds"), leaves);
  RecordProperty("leaves", std::to_string(leaves));
  // >= 90% fill: 10000 records of 1+1+8+8 = 18 bytes + 8 slot bytes.
  const double fill = 10000.0 * 26 / (leaves * (4096.0 - 52 - 16));
  EXPECT_GE(fill, 0.90) << leaves << " leaves";
  auto all = Scan();
  ASSERT_EQ(all.size(), 10000u);
  EXPECT_EQ(all.begin()->first, Key(0));
}

TEST_F(BTreeTest, RandomOperationsMatchAModel) {
  Open();
  std::mt19937_64 rng(sombra::test::TestSeed());
  std::map<std::string, std::string> model;
  for (int round = 0; round < 40; ++round) {
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    BTreeWriter w(txn->get(), pager_->metrics());
    for (int op = 0; op < 300; ++op) {
      std::string key = "k" + std::to_string(rng() % 3000);
      if (rng() % 8 == 0) key.append(rng() % 200, 'x');
      if (rng() % 3 == 0) {
        bool existed;
        ASSERT_TRUE(w.Delete(key, &existed).ok());
        EXPECT_EQ(existed, model.erase(key) == 1);
      } else {
        size_t len = rng() % 16 == 0 ? 2000 + rng() % 20000 : rng() % 100;
        std::string value(len, static_cast<char>('a' + rng() % 26));
        ASSERT_TRUE(w.Put(key, value).ok());
        model[key] = value;
      }
    }
    ASSERT_TRUE((*txn)->Commit().ok());
    ExpectVerified();
    ASSERT_EQ(Scan(), model) << "round " << round;
  }
  EXPECT_GT(Counter("overflow_pages"), 0u);
}

TEST_F(BTreeTest, DeletesBorrowMergeAndCollapseTheRoot) {
  Open();
  std::map<std::string, std::string> model;
  {
    auto txn = pager_->BeginWrite();
    BTreeWriter w(txn->get(), pager_->metrics());
    for (uint64_t i = 0; i < 5000; ++i) {
      std::string v(40, static_cast<char>('a' + i % 26));
      ASSERT_TRUE(w.Put(Key(i * 7919 % 5000), v).ok());
      model[Key(i * 7919 % 5000)] = v;
    }
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  const uint64_t pages_full = pager_->published().page_count;
  ExpectVerified();
  std::mt19937_64 rng(sombra::test::TestSeed());
  for (int round = 0; round < 10; ++round) {
    auto txn = pager_->BeginWrite();
    BTreeWriter w(txn->get(), pager_->metrics());
    for (int n = 0; n < 490; ++n) {
      auto it = model.begin();
      std::advance(it, rng() % model.size());
      bool existed;
      ASSERT_TRUE(w.Delete(it->first, &existed).ok());
      ASSERT_TRUE(existed);
      model.erase(it);
    }
    ASSERT_TRUE((*txn)->Commit().ok());
    ExpectVerified();
    ASSERT_EQ(Scan(), model) << "round " << round;
  }
  EXPECT_GT(Counter("leaf_merges"), 0u);
  EXPECT_GT(pager_->published().freelist_count, 0u) << "merged pages are freed";
  EXPECT_LT(pager_->published().page_count - pager_->published().freelist_count, pages_full);
  // Down to nothing: the root collapses to one (empty) leaf.
  {
    auto txn = pager_->BeginWrite();
    BTreeWriter w(txn->get(), pager_->metrics());
    for (const auto& [k, v] : model) ASSERT_TRUE(w.Delete(k, nullptr).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  ExpectVerified();
  EXPECT_TRUE(Scan().empty());
  auto snap = pager_->BeginRead();
  auto root = snap->Read(snap->state().root);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ((*root)[0], static_cast<uint8_t>(pager::PageKind::kLeaf));
}

TEST_F(BTreeTest, CursorsSeekAndWalkBothWays) {
  Open();
  {
    auto txn = pager_->BeginWrite();
    BTreeWriter w(txn->get(), pager_->metrics());
    for (uint64_t i = 0; i < 3000; i += 2) ASSERT_TRUE(w.Put(Key(i), std::to_string(i)).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto snap = pager_->BeginRead();
  TreeCursor cur(SnapshotReader(snap.get()), pager_->page_size(), snap->state().root, c_.get());
  cur.Seek(Key(1001));
  ASSERT_TRUE(cur.Valid());
  EXPECT_EQ(cur.key(), Key(1002));
  cur.Prev();
  EXPECT_EQ(cur.key(), Key(1000));
  cur.SeekToLast();
  EXPECT_EQ(cur.key(), Key(2998));
  int n = 0;
  for (; cur.Valid(); cur.Prev()) ++n;
  EXPECT_EQ(n, 1500);
  cur.Seek(Key(5000));
  EXPECT_FALSE(cur.Valid());
  std::string v;
  EXPECT_TRUE(
      TreeGet(SnapshotReader(snap.get()), 4096, snap->state().root, Key(1000), &v, c_.get()).ok());
  EXPECT_EQ(v, "1000");
  EXPECT_TRUE(TreeGet(SnapshotReader(snap.get()), 4096, snap->state().root, Key(1001), &v, c_.get())
                  .IsNotFound());
}

// A scan steps inline over records whose headers take one byte each and
// whose values are inline, and through the full decoder over the rest
// (keys of 128 bytes or more, values of 64 or more, overflow values): both
// ways, every record equals the model, and every step counts a key decode
// once the cursor goes.
TEST_F(BTreeTest, CursorStepsInlineAndThroughTheFullDecoderAlike) {
  Open();
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(7);
  {
    auto txn = pager_->BeginWrite();
    BTreeWriter w(txn->get(), pager_->metrics());
    for (uint64_t i = 0; i < 3000; ++i) {
      const uint64_t kind = rng() % 8;
      std::string key = Key(i * 3) + std::string(kind == 1 ? 130 : rng() % 20, 'k');
      std::string value(kind == 2 ? 64 + rng() % 200 : kind == 3 ? 5000 : rng() % 64, 'v');
      if (!value.empty()) value[0] = static_cast<char>(i);
      ASSERT_TRUE(w.Put(key, value).ok());
      model[key] = value;
    }
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  MetricsRegistry own;
  const uint64_t steps = 2 * model.size();
  {
    BTreeCounters c(&own);
    auto snap = pager_->BeginRead();
    TreeCursor cur(SnapshotReader(snap.get()), pager_->page_size(), snap->state().root, &c);
    auto it = model.begin();
    for (cur.SeekToFirst(); cur.Valid(); cur.Next(), ++it) {
      ASSERT_NE(it, model.end());
      ASSERT_EQ(cur.key(), it->first);
      ASSERT_EQ(cur.value(), it->second);
    }
    EXPECT_EQ(it, model.end());
    auto rit = model.rbegin();
    for (cur.SeekToLast(); cur.Valid(); cur.Prev(), ++rit) {
      ASSERT_NE(rit, model.rend());
      ASSERT_EQ(cur.key(), rit->first);
      ASSERT_EQ(cur.value(), rit->second);
    }
    EXPECT_EQ(rit, model.rend());
    EXPECT_TRUE(cur.status().ok()) << cur.status().ToString();
  }
  EXPECT_GE(own.Value("key_decodes"), steps);
}

// Keys near MaxKeySize sharing long prefixes: fences, separators and
// records all near their limits, where sometimes no two-way cut holds the
// new record and the split leaves it out for a second pass.
TEST_F(BTreeTest, NearLimitKeysWithLongSharedPrefixes) {
  Open();
  std::mt19937_64 rng(sombra::test::TestSeed());
  std::map<std::string, std::string> model;
  for (int round = 0; round < 6; ++round) {
    auto txn = pager_->BeginWrite();
    BTreeWriter w(txn->get(), pager_->metrics());
    for (int n = 0; n < 150; ++n) {
      std::string key(960 + rng() % 64, 'p');
      for (size_t j = 940; j < key.size(); ++j) key[j] = static_cast<char>('a' + rng() % 3);
      std::string value(rng() % 40, 'v');
      ASSERT_TRUE(w.Put(key, value).ok()) << key.size();
      model[key] = value;
    }
    ASSERT_TRUE((*txn)->Commit().ok());
    ExpectVerified();
    ASSERT_EQ(Scan(), model);
  }
}

// Below the API edge the key and value limits are REQUIRES (btree.h): the
// user's InvalidArgument comes from the DB (DbLimitsTest). A debug build
// asserts them; with asserts off, Put still refuses a key outside them
// (the InvalidArgument of sombra/limits.h, nothing written) and Get and
// Delete find nothing.
TEST_F(BTreeTest, KeysAndValuesOutsideTheLimitsAreRequiresViolations) {
  // The default ("fast") death test style: the child forks at the
  // statement and dies at the assert, before it touches a page.
  Open();
  auto txn = pager_->BeginWrite();
  ASSERT_TRUE(txn.ok());
  BTreeWriter w(txn->get(), pager_->metrics());
  ASSERT_TRUE(w.Put(std::string(1024, 'k'), std::string(3000, 'v')).ok());  // at the limit
  const uint64_t version = w.version();
  const size_t dirty = (*txn)->dirty_pages();
  for (size_t size : {size_t{0}, size_t{1025}, size_t{100000}}) {
    SCOPED_TRACE("key of " + std::to_string(size) + " bytes");
    const std::string bad(size, 'k');
    Status put, get, del;
    std::string v = "untouched";
    bool existed = true;
    EXPECT_DEBUG_DEATH(put = w.Put(bad, "v"), "Put REQUIRES: key within");
    EXPECT_DEBUG_DEATH(get = w.Get(bad, &v), "BTreeWriter REQUIRES: key within");
    EXPECT_DEBUG_DEATH(del = w.Delete(bad, &existed), "BTreeWriter REQUIRES: key within");
#ifdef NDEBUG
    EXPECT_TRUE(put.IsInvalidArgument()) << put.ToString();
    EXPECT_EQ(put.message(), CheckKeySize(size, 4096).message());
    EXPECT_TRUE(get.IsNotFound()) << get.ToString();
    EXPECT_EQ(v, "untouched");
    EXPECT_TRUE(del.ok()) << del.ToString();
    EXPECT_FALSE(existed);
#endif
  }
#ifndef NDEBUG
  // A value over kMaxValueSize (a reserved, never touched mapping). Debug
  // only: with asserts off nothing guards it (its overflow reference holds
  // a 64-bit length), and Put would write all 4 GiB.
  const size_t huge = static_cast<size_t>(kMaxValueSize) + 1;
  void* p = mmap(nullptr, huge, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p != MAP_FAILED) {
    EXPECT_DEATH((void)w.Put("k", std::string_view(static_cast<const char*>(p), huge)),
                 "Put REQUIRES: value within");
    munmap(p, huge);
  }
#endif
  // Nothing changed.
  EXPECT_EQ(w.version(), version);
  EXPECT_EQ((*txn)->dirty_pages(), dirty);
  std::string v;
  EXPECT_TRUE(w.Get(std::string(1024, 'k'), &v).ok());
  EXPECT_EQ(v.size(), 3000u);
  EXPECT_TRUE(w.Get("k", &v).IsNotFound());
}

// allocator_failures counts the writes the allocator cannot serve: here a
// leaf whose checksum is fine (written through the transaction) but whose
// layout is not (a slot pointing into the node header).
TEST_F(BTreeTest, WriteIntoALeafTheAllocatorCannotParseIsCountedAndCorruption) {
  Open();
  PutTenKeys();
  EXPECT_EQ(Counter("allocator_failures"), 0u);
  auto txn = pager_->BeginWrite();
  ASSERT_TRUE(txn.ok());
  const uint32_t root = (*txn)->root();
  auto page = (*txn)->Write(root);
  ASSERT_TRUE(page.ok());
  EncodeFixed16(*page + SlotAt(4096, 0), 4);  // slot 0's record offset: inside the header
  BTreeWriter w(txn->get(), pager_->metrics());
  Status s = w.Put(Key(100), "v");
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  w.FlushCounters();
  EXPECT_EQ(Counter("allocator_failures"), 1u);
}

// A cursor checks a leaf's slot directory once as it enters the leaf and
// each record's bounds as it reads it: damage in either is Corruption
// naming the page, never a read outside it.
TEST_F(BTreeTest, CursorOverADamagedLeafIsCorruption) {
  Open();
  PutTenKeys();
  struct Damage {
    const char* what;
    void (*apply)(uint8_t* page);
  };
  const Damage damages[] = {
      {"slot count past the page", [](uint8_t* p) { EncodeFixed16(p + kSlotCountOffset, 700); }},
      // Slot 5's record at the last byte: its header would pass the page.
      {"record past the page", [](uint8_t* p) { EncodeFixed16(p + SlotAt(4096, 5), 4095); }},
      {"record inside the header", [](uint8_t* p) { EncodeFixed16(p + SlotAt(4096, 5), 4); }},
  };
  for (const Damage& d : damages) {
    SCOPED_TRACE(d.what);
    auto txn = pager_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    const uint32_t root = (*txn)->root();
    auto page = (*txn)->Write(root);
    ASSERT_TRUE(page.ok());
    d.apply(*page);
    BTreeWriter w(txn->get(), pager_->metrics());
    for (bool forward : {true, false}) {
      TreeCursor cur(w.reader(), pager_->page_size(), root, c_.get());
      int seen = 0;
      for (forward ? cur.SeekToFirst() : cur.SeekToLast(); cur.Valid();
           forward ? cur.Next() : cur.Prev()) {
        ++seen;
      }
      EXPECT_LE(seen, 5);
      EXPECT_TRUE(cur.status().IsCorruption()) << cur.status().ToString();
      EXPECT_NE(cur.status().ToString().find("page " + std::to_string(root)), std::string::npos)
          << cur.status().ToString();
    }
    (*txn)->Abort();
  }
}

}  // namespace
}  // namespace sombra::btree
