// Records a share moves between leaves are logged as copies from the leaf
// that gave them (log formats 12 and 13; docs/format/wal.md, "Page ops"):
// a random load logs them, and recovery after a crash and a read-only
// handle following the writer both rebuild exactly what was committed.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "db_test_util.h"
#include "sombra/db.h"
#include "testutil/temp_dir.h"

namespace sombra::dbtest {
namespace {

uint64_t Metric(DB* db, const std::string& name) {
  Stats s = db->GetStats();
  auto it = s.all.find(name);
  return it == s.all.end() ? 0 : it->second;
}

TEST(DbCopyTest, SharesAreLoggedAsCopiesAndReplayedExactly) {
  test::TempDir dir;
  const std::string path = dir.File("db");
  Options o;
  o.durability = Durability::kOff;
  o.wal_checkpoint_bytes = uint64_t{1} << 30;  // everything stays in the log
  auto db = OpenOrDie(o, path);
  ASSERT_NE(db, nullptr);
  Options ro;
  ro.read_only = true;
  auto follower = OpenOrDie(ro, path);
  ASSERT_NE(follower, nullptr);

  std::mt19937_64 rng(11);
  KV model;
  for (int t = 0; t < 60; ++t) {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    for (int i = 0; i < 300; ++i) {
      const std::string key = NumKey(rng() % 1000000);
      const std::string value = FillValue(8 + rng() % 40, rng());
      ASSERT_TRUE(w->Put(key, value).ok());
      model[key] = value;
    }
    ASSERT_TRUE(w->Commit().ok());
  }
  EXPECT_GT(Metric(db.get(), "wal_copy_ops"), 0u) << "no share was logged as copies";
  ASSERT_EQ(DiffKV(DumpDb(db.get()), model), "");
  EXPECT_EQ(DiffKV(DumpDb(follower.get()), model), "") << "the follower";

  // A crash now: the page file holds nothing of it, the log everything.
  const std::string copy = dir.File("crashed");
  test::WriteFileOrDie(copy, test::ReadFileOrDie(path));
  test::WriteFileOrDie(copy + "-wal", test::ReadFileOrDie(path + "-wal"));
  auto recovered = OpenOrDie(Options(), copy);
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(DiffKV(DumpDb(recovered.get()), model), "") << "recovery";
  EXPECT_TRUE(recovered->Verify().ok());
}

}  // namespace
}  // namespace sombra::dbtest
