// DB::Compact on the database of issue 15: 1M keys, 90% of them deleted
// (nine keys in every ten, so that every leaf keeps some), then
// compacted. The file must end at most 5% above its live pages; the
// numbers printed are those of docs/operations.md, "Compaction". [slow]
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "db_test_util.h"
#include "sombra/db.h"
#include "testutil/temp_dir.h"

namespace sombra::dbtest {
namespace {

TEST(DbCompactBigTest, NinetyPercentOfAMillionKeysDeleted) {
  sombra::test::TempDir dir;
  const std::string path = dir.File("db");
  Options o;  // durability full: the numbers are a real compaction's
  std::unique_ptr<DB> db = OpenOrDie(o, path);
  constexpr int kKeys = 1000000;
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db->BeginWrite(&w).ok());
  for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(w->Append(NumKey(i), NumKey(i)).ok());
  ASSERT_TRUE(w->Commit().ok());
  ASSERT_TRUE(db->BeginWrite(&w).ok());
  for (int i = 0; i < kKeys; ++i) {
    if (i % 10 != 0) ASSERT_TRUE(w->Delete(NumKey(i)).ok());
  }
  ASSERT_TRUE(w->Commit().ok());
  ASSERT_TRUE(db->Checkpoint().ok());
  const Stats before = db->GetStats();
  CompactStats cs;
  Status s = db->Compact(&cs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const Stats after = db->GetStats();
  const uint64_t live = after.page_count - after.freelist_pages;
  std::printf(
      "[ compact  ] 1M keys, 90%% deleted: %llu pages (%llu free), file %llu bytes -> "
      "%llu pages (%llu free), file %llu bytes; %llu moved, %llu rewritten, %llu steps, "
      "%.0f ms\n",
      static_cast<unsigned long long>(before.page_count),
      static_cast<unsigned long long>(before.freelist_pages),
      static_cast<unsigned long long>(before.file_bytes),
      static_cast<unsigned long long>(after.page_count),
      static_cast<unsigned long long>(after.freelist_pages),
      static_cast<unsigned long long>(after.file_bytes),
      static_cast<unsigned long long>(cs.pages_moved),
      static_cast<unsigned long long>(cs.pages_rewritten),
      static_cast<unsigned long long>(cs.steps), cs.seconds * 1e3);
  EXPECT_LE(after.file_bytes * 100, live * db->page_size() * 105);
  EXPECT_LT(after.file_bytes, before.file_bytes);
  Status v = db->Verify();
  EXPECT_TRUE(v.ok()) << v.ToString();
  std::unique_ptr<ReadTxn> r;
  ASSERT_TRUE(db->BeginRead(&r).ok());
  auto c = r->NewCursor();
  int n = 0;
  for (c->SeekToFirst(); c->Valid(); c->Next(), ++n) {
    ASSERT_EQ(c->key(), NumKey(uint64_t{10} * n));
  }
  EXPECT_EQ(n, kKeys / 10);
}

}  // namespace
}  // namespace sombra::dbtest
