// sombra-inspect on a live database: while a writer in another process has
// it open, every command reads one registered snapshot and says so, first
// line "live: a writer has this database open; read at LSN N (snapshot)"
// (wal: "read the log up to LSN N") and "live":true in --json; on a
// database no writer holds, neither (docs/tools.md, "Live databases").
//
// The writer is a forked child (testutil/db_holder.h), forked before this
// process opens any handle of the database.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "inspect_test_util.h"
#include "sombra/db.h"
#include "testutil/db_holder.h"
#include "testutil/temp_dir.h"

namespace sombra::inspect::test {
namespace {

constexpr char kLivePrefix[] = "live: a writer has this database open; ";

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key-%06d", i);
  return buf;
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

class InspectLiveTest : public ::testing::Test {
 protected:
  // 2,000 records in 4 transactions (LSN 1 to 4), closed cleanly.
  void SetUp() override {
    std::unique_ptr<DB> db;
    ASSERT_TRUE(DB::Open(Options(), db_, &db).ok());
    for (int t = 0; t < 4; ++t) {
      std::unique_ptr<WriteTxn> txn;
      ASSERT_TRUE(db->BeginWrite(&txn).ok());
      for (int i = 0; i < 500; ++i) {
        ASSERT_TRUE(txn->Put(Key(t * 500 + i), std::string(60, 'v')).ok());
      }
      ASSERT_TRUE(txn->Commit().ok());
    }
  }

  // Every command, text and JSON: exit 0, a live note (and "live":true)
  // exactly when `live`, naming LSN `lsn`.
  void ExpectEveryCommand(bool live, uint64_t lsn) {
    const std::vector<std::vector<std::string>> commands = {
        {"meta"}, {"page", "2"}, {"tree"}, {"freelist"}, {"stats"}, {"verify"}, {"wal"}};
    const std::string snapshot_note =
        std::string(kLivePrefix) + "read at LSN " + std::to_string(lsn) + " (snapshot)\n";
    const std::string wal_note =
        std::string(kLivePrefix) + "read the log up to LSN " + std::to_string(lsn) + "\n";
    for (const auto& command : commands) {
      std::vector<std::string> args = command;
      args.insert(args.begin(), db_);
      SCOPED_TRACE(command[0]);
      RunOutput text = Inspect(args);
      EXPECT_EQ(text.code, 0) << text.out << text.err;
      EXPECT_EQ(text.err, "");
      const std::string& note = command[0] == "wal" ? wal_note : snapshot_note;
      if (live) {
        EXPECT_TRUE(StartsWith(text.out, note)) << text.out;
      } else {
        EXPECT_EQ(text.out.find("live:"), std::string::npos) << text.out;
      }
      // Exactly one note, and only first.
      EXPECT_EQ(text.out.find(kLivePrefix, 1), std::string::npos) << text.out;

      args.push_back("--json");
      RunOutput json = Inspect(args);
      EXPECT_EQ(json.code, 0) << json.out << json.err;
      std::string why;
      EXPECT_TRUE(IsValidJson(json.out, &why)) << why << "\n" << json.out;
      EXPECT_NE(json.out.find(live ? "\"live\":true" : "\"live\":false"), std::string::npos)
          << json.out;
    }
    RunOutput verify = Inspect({db_, "verify"});
    EXPECT_EQ(CountLines(verify.out), live ? 2 : 1) << verify.out;
    EXPECT_NE(verify.out.find(" pages: OK\n"), std::string::npos) << verify.out;
  }

  sombra::test::TempDir dir_;
  const std::string db_ = dir_.File("db");
};

TEST_F(InspectLiveTest, NotesAWriterThatHoldsTheDatabaseAndOnlyThen) {
  ASSERT_NO_FATAL_FAILURE(ExpectEveryCommand(/*live=*/false, 4));
  {
    // Commits LSN 5 (holder = held) and keeps the database open.
    sombra::test::DbHolder holder(db_);
    ASSERT_NO_FATAL_FAILURE(ExpectEveryCommand(/*live=*/true, 5));
    RunOutput tree = Inspect({db_, "tree"});
    EXPECT_NE(tree.out.find("records:           2001\n"), std::string::npos) << tree.out;
  }
  // The writer closed: the same database, not live.
  ASSERT_NO_FATAL_FAILURE(ExpectEveryCommand(/*live=*/false, 5));
}

TEST_F(InspectLiveTest, ALogTheWriterAppendsToIsNotDamage) {
  // The holder's commit is in the log, not in the page file: inspect reads
  // it from the log through the snapshot, and the meta command shows it.
  sombra::test::DbHolder holder(db_);
  RunOutput meta = Inspect({db_, "meta"});
  EXPECT_EQ(meta.code, 0) << meta.err;
  EXPECT_TRUE(StartsWith(meta.out, std::string(kLivePrefix) + "read at LSN 5 (snapshot)\n"))
      << meta.out;
  EXPECT_NE(meta.out.find("log: 1 transaction replayed in memory: lsn 5"), std::string::npos)
      << meta.out;
  RunOutput wal = Inspect({db_, "wal"});
  EXPECT_EQ(wal.code, 0) << wal.out << wal.err;
  EXPECT_NE(wal.out.find("lsn 5 (1 transaction)"), std::string::npos) << wal.out;
}

}  // namespace
}  // namespace sombra::inspect::test
