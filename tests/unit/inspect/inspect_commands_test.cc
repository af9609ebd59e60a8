// sombra-inspect freelist, stats and verify (with btree::VerifyTree) on a
// small B+tree built with the pager and BTreeWriter; a database held open
// for writing, whose committed transactions are only in the log; and the
// promise that no command writes a byte or creates a file.
//
// The salt and the checksums differ per database; file sizes follow the
// pager's growth policy: the expected text takes them from the files, and is
// otherwise exact.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "btree/btree.h"
#include "inspect/inspect.h"
#include "inspect_test_util.h"
#include "pager/format.h"
#include "pager/pager.h"
#include "pager/pager_txn.h"
#include "sombra/options.h"
#include "sombra/version.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"

namespace sombra::inspect::test {
namespace {

constexpr uint32_t kPageSize = 4096;

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key-%06d", i);
  return buf;
}

std::string Value(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "value-%06d", i);
  return buf;
}

std::unique_ptr<pager::Pager> OpenPager(const std::string& path) {
  Options options;
  options.page_size = kPageSize;
  options.durability = Durability::kOff;
  auto opened = pager::Pager::Open(Env::Default(), path, options);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

// Runs `edit` in one committed transaction.
void Commit(pager::Pager* pager, const std::function<void(btree::BTreeWriter*)>& edit) {
  auto txn = pager->BeginWrite();
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();
  btree::BTreeWriter w(txn->get(), pager->metrics());
  edit(&w);
  ASSERT_TRUE((*txn)->Commit().ok());
}

// Transaction 1: keys 0..299 (10-byte keys, 12-byte values), key 150's
// value 9000 bytes (an overflow chain of three pages). Transaction 2: key
// 150 and keys 0..149 deleted: the chain and the emptied leaves go to the
// freelist.
void FillSmallTree(pager::Pager* pager, bool deletes) {
  ASSERT_NO_FATAL_FAILURE(Commit(pager, [](btree::BTreeWriter* w) {
    for (int i = 0; i < 300; ++i) {
      const std::string value = i == 150 ? std::string(9000, 'v') : Value(i);
      ASSERT_TRUE(w->Put(Key(i), value).ok()) << i;
    }
  }));
  if (!deletes) return;
  ASSERT_NO_FATAL_FAILURE(Commit(pager, [](btree::BTreeWriter* w) {
    for (int i = 0; i <= 150; ++i) ASSERT_TRUE(w->Delete(Key(i), nullptr).ok()) << i;
  }));
}

void BuildSmallTree(const std::string& path, bool deletes) {
  std::unique_ptr<pager::Pager> pager = OpenPager(path);
  ASSERT_NE(pager, nullptr);
  ASSERT_NO_FATAL_FAILURE(FillSmallTree(pager.get(), deletes));
  pager.reset();  // checkpoint, close
}

uint64_t FileBytes(const std::string& path) {
  std::error_code ec;
  const uintmax_t n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(n);
}

class InspectCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override { db_ = dir_.File("db"); }

  void Build(bool deletes) {
    ASSERT_NO_FATAL_FAILURE(BuildSmallTree(db_, deletes));
    vars_ = {{"DB", db_},
             {"FILEBYTES", std::to_string(FileBytes(db_))},
             {"WALBYTES", std::to_string(FileBytes(db_ + "-wal"))}};
  }

  std::string Golden(const std::string& text) { return Fill(text, vars_); }

  sombra::test::TempDir dir_;
  std::string db_;
  std::map<std::string, std::string> vars_;
};

TEST(InspectVersionTest, PrintsTheVersionAndFormats) {
  RunOutput r = Inspect({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, VersionLine("sombra-inspect") + "\n");
  EXPECT_EQ(r.out.rfind("sombra-inspect 0.", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("(page file format 5, log format 13)"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST_F(InspectCommandsTest, StatsText) {
  ASSERT_NO_FATAL_FAILURE(Build(false));
  RunOutput r = Inspect({db_, "stats"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, Golden(R"(stats of {DB}
  page size:         4096
  page count:        9
  free pages:        0
  file bytes:        {FILEBYTES}
  wal file bytes:    {WALBYTES}
  checkpoint seq:    2
  checkpoint lsn:    1
  last lsn:          1
  log transactions:  0
  root:              4
  tree height:       2
  internal pages:    1
  leaf pages:        3
  overflow pages:    3
  average leaf fill: 74.2%
  records:           300
  overflow values:   1
  key bytes:         3000
  value bytes:       12588
  overflow bytes:    9000
  damaged pages:     0
)"));
}

TEST_F(InspectCommandsTest, StatsJson) {
  ASSERT_NO_FATAL_FAILURE(Build(false));
  RunOutput r = Inspect({db_, "stats", "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  std::string why;
  EXPECT_TRUE(IsValidJson(r.out, &why)) << why << "\n" << r.out;
  EXPECT_EQ(
      r.out,
      Golden(R"({"command":"stats","file":"{DB}","live":false,"page_size":4096,)"
             R"("page_count":9,"free_pages":0,)"
             R"("file_bytes":{FILEBYTES},"wal_file_bytes":{WALBYTES},"checkpoint_seq":2,)"
             R"("checkpoint_lsn":1,"last_lsn":1,"log_transactions":0,"root":4,"tree_height":2,)"
             R"("internal_pages":1,"leaf_pages":3,"overflow_pages":3,"leaf_used_bytes":9000,)"
             R"("leaf_usable_bytes":12132,"average_leaf_fill":"74.2%","records":300,)"
             R"("overflow_values":1,"key_bytes":3000,"value_bytes":12588,)"
             R"("overflow_value_bytes":9000,"catalog_root":0,"named_trees":0,)"
             R"("named_tree_pages":0,"named_tree_records":0,"damaged_pages":0,"complete":true})"
             "\n"));
}

TEST_F(InspectCommandsTest, FreelistAfterDeletesText) {
  ASSERT_NO_FATAL_FAILURE(Build(true));
  RunOutput r = Inspect({db_, "freelist"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, Golden(R"(freelist of {DB}
  head:              3
  count:             4
  page 3: next 7, lsn 2
  page 7: next 6, lsn 2
  page 6: next 5, lsn 2
  page 5: next 0 (end), lsn 2
freelist holds 4 pages, as counted: OK
)"));
  // The pages on it are free pages that know their place.
  RunOutput page = Inspect({db_, "page", "6", "--no-hex"});
  EXPECT_EQ(page.code, 0);
  EXPECT_NE(page.out.find("  kind:              free (2)\n"), std::string::npos) << page.out;
  EXPECT_NE(page.out.find("  free next:         5\n"
                          "  on the freelist:   position 3 of 4\n"
                          "  free body:         zero\n"),
            std::string::npos)
      << page.out;
  // The counts agree with stats and verify.
  EXPECT_NE(Inspect({db_, "stats"}).out.find("  free pages:        4\n"), std::string::npos);
  EXPECT_EQ(Inspect({db_, "verify"}).code, 0);
}

TEST_F(InspectCommandsTest, FreelistAfterDeletesJson) {
  ASSERT_NO_FATAL_FAILURE(Build(true));
  RunOutput r = Inspect({db_, "freelist", "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  std::string why;
  EXPECT_TRUE(IsValidJson(r.out, &why)) << why << "\n" << r.out;
  EXPECT_EQ(r.out, Golden(R"({"command":"freelist","file":"{DB}","live":false,)"
                          R"("head":3,"count":4,"chain":[)"
                          R"({"page":3,"next":7,"lsn":2,"source":"file"},)"
                          R"({"page":7,"next":6,"lsn":2,"source":"file"},)"
                          R"({"page":6,"next":5,"lsn":2,"source":"file"},)"
                          R"({"page":5,"next":0,"lsn":2,"source":"file"}],"length":4,"ok":true,)"
                          R"("problems":[],"summary":"freelist holds 4 pages, as counted: OK"})"
                          "\n"));
}

TEST_F(InspectCommandsTest, FreelistEmpty) {
  ASSERT_NO_FATAL_FAILURE(Build(false));
  RunOutput r = Inspect({db_, "freelist"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, Golden(R"(freelist of {DB}
  head:              0
  count:             0
freelist holds 0 pages, as counted: OK
)"));
}

TEST_F(InspectCommandsTest, FreelistBrokenChain) {
  ASSERT_NO_FATAL_FAILURE(Build(true));
  // Page 6 (third on the list 3 -> 7 -> 6 -> 5) links back to page 7.
  EditAndReseal(db_, 6, kPageSize,
                [](uint8_t* p) { EncodeFixed32(p + pager::kFreeNextOffset, 7); });
  RunOutput r = Inspect({db_, "freelist"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("page 6: freelist links to page 7, already on the list (cycle)\n"
                       "1 problem, walked 3 pages, counted 4\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(Inspect({db_, "verify"}).code, 1);
  // A link to 0 ends the chain early: the count no longer matches.
  EditAndReseal(db_, 6, kPageSize,
                [](uint8_t* p) { EncodeFixed32(p + pager::kFreeNextOffset, 0); });
  r = Inspect({db_, "freelist", "--json"});
  EXPECT_EQ(r.code, 1);
  std::string why;
  EXPECT_TRUE(IsValidJson(r.out, &why)) << why << "\n" << r.out;
  EXPECT_NE(r.out.find("\"what\":\"freelist holds 3 pages, but the meta page counts 4\""),
            std::string::npos)
      << r.out;
}

TEST_F(InspectCommandsTest, VerifyCleanTree) {
  ASSERT_NO_FATAL_FAILURE(Build(true));
  RunOutput r = Inspect({db_, "verify"});
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "verified 9 pages: OK\n");
  r = Inspect({db_, "verify", "--json"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, Golden(R"({"command":"verify","file":"{DB}","live":false,)"
                          R"("meta_in_force":0,"pages":9,)"
                          R"("ok":true,"problems":[],"summary":"verified 9 pages: OK"})"
                          "\n"));
}

// The first leaf, as `tree --verbose` names it.
uint32_t FirstLeaf(const std::string& db) {
  RunOutput r = Inspect({db, "tree", "--verbose"});
  const size_t at = r.out.find("level 0:");
  const size_t page = r.out.find("  page ", at);
  EXPECT_NE(page, std::string::npos) << r.out;
  return page == std::string::npos ? 0 : static_cast<uint32_t>(std::stoul(r.out.substr(page + 7)));
}

TEST_F(InspectCommandsTest, VerifyReportsAFlippedByteInALeaf) {
  ASSERT_NO_FATAL_FAILURE(Build(false));
  const uint32_t leaf = FirstLeaf(db_);
  ASSERT_GE(leaf, 2u);
  FlipByte(db_, uint64_t{leaf} * kPageSize + 200);  // inside a record
  RunOutput r = Inspect({db_, "verify"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "");
  const std::string line = "page " + std::to_string(leaf) + ": checksum mismatch";
  EXPECT_EQ(r.out.rfind(line, 0), 0u) << r.out;
  r = Inspect({db_, "verify", "--json"});
  EXPECT_EQ(r.code, 1);
  std::string why;
  EXPECT_TRUE(IsValidJson(r.out, &why)) << why << "\n" << r.out;
  EXPECT_NE(r.out.find("{\"page\":" + std::to_string(leaf) + ",\"what\":\"checksum mismatch"),
            std::string::npos)
      << r.out;
  // stats skips the page and says so.
  RunOutput stats = Inspect({db_, "stats"});
  EXPECT_EQ(stats.code, 1);
  EXPECT_NE(stats.out.find("  damaged pages:     1\n"), std::string::npos) << stats.out;
}

TEST_F(InspectCommandsTest, VerifyRunsTheTreeRules) {
  ASSERT_NO_FATAL_FAILURE(Build(false));
  const uint32_t leaf = FirstLeaf(db_);
  ASSERT_GE(leaf, 2u);
  // A sibling link pointing elsewhere, resealed: every page is valid on its
  // own and only the tree rules (T4) catch it.
  EditAndReseal(db_, leaf, kPageSize, [](uint8_t* p) { EncodeFixed32(p + 44, 2); });
  RunOutput r = Inspect({db_, "verify"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out.rfind("page " + std::to_string(leaf) + ": tree: right sibling 2, expected ", 0),
            0u)
      << r.out;
  EXPECT_NE(r.out.find("\n1 problem in 9 pages\n"), std::string::npos) << r.out;
}

TEST_F(InspectCommandsTest, HeldOpenForWritingShowsTheLog) {
  ASSERT_NO_FATAL_FAILURE(Build(false));
  // Reopen for writing (the lock is taken) and commit a transaction that
  // stays in the log: no checkpoint while the pager is open.
  std::unique_ptr<pager::Pager> writer = OpenPager(db_);
  ASSERT_NE(writer, nullptr);
  ASSERT_NO_FATAL_FAILURE(Commit(writer.get(), [](btree::BTreeWriter* w) {
    for (int i = 300; i < 320; ++i) ASSERT_TRUE(w->Put(Key(i), Value(i)).ok());
  }));
  ASSERT_EQ(writer->file_meta().checkpoint_lsn, 1u);

  RunOutput meta = Inspect({db_, "meta"});
  EXPECT_EQ(meta.code, 0) << meta.err;
  EXPECT_NE(meta.out.find("log: 1 transaction replayed in memory: lsn 2, root 4"),
            std::string::npos)
      << meta.out;
  RunOutput stats = Inspect({db_, "stats"});
  EXPECT_EQ(stats.code, 0) << stats.err;
  EXPECT_NE(stats.out.find("  checkpoint lsn:    1\n"
                           "  last lsn:          2\n"
                           "  log transactions:  1\n"),
            std::string::npos)
      << stats.out;
  EXPECT_NE(stats.out.find("  records:           320\n"), std::string::npos) << stats.out;
  // The new keys went to the last leaf, page 8, in the log only: the page
  // comes from there.
  RunOutput root = Inspect({db_, "page", "8", "--no-hex"});
  EXPECT_EQ(root.code, 0);
  EXPECT_NE(root.out.find("  lsn:               2\n"
                          "  source:            log (committed, not yet checkpointed)\n"),
            std::string::npos)
      << root.out;
  EXPECT_NE(root.out.find("  valid:             yes\n"), std::string::npos) << root.out;
  RunOutput json = Inspect({db_, "page", "8", "--json", "--no-hex"});
  EXPECT_NE(json.out.find("\"source\":\"log\""), std::string::npos) << json.out;
  RunOutput verify = Inspect({db_, "verify"});
  EXPECT_EQ(verify.code, 0) << verify.out;
  RunOutput tree = Inspect({db_, "tree"});
  EXPECT_EQ(tree.code, 0) << tree.out;
  EXPECT_NE(tree.out.find("  records:           320\n"), std::string::npos) << tree.out;
  EXPECT_EQ(Inspect({db_, "freelist"}).code, 0);
  EXPECT_EQ(Inspect({db_, "wal"}).code, 0);
}

struct FileState {
  std::string bytes;
  int64_t mtime_ns = -1;
  bool operator==(const FileState& o) const = default;
};

FileState StateOf(const std::string& path) {
  FileState s;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return s;
  s.bytes = sombra::test::ReadFileOrDie(path);
  s.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  return s;
}

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Every command, plain and --json, leaves the page file and the log with the
// same bytes and mtime and creates no file (no lock file either).
void ExpectNoCommandWrites(const std::string& db, uint32_t leaf, uint32_t free_page) {
  const std::string dir = std::filesystem::path(db).parent_path().string();
  const std::vector<std::string> names = Names(dir);
  const FileState db_before = StateOf(db);
  const FileState wal_before = StateOf(db + "-wal");
  const std::vector<std::vector<std::string>> commands = {{"meta"},
                                                          {"page", "0"},
                                                          {"page", "1"},
                                                          {"page", std::to_string(leaf)},
                                                          {"page", std::to_string(free_page)},
                                                          {"page", "4", "--hex"},
                                                          {"tree"},
                                                          {"tree", "--verbose"},
                                                          {"freelist"},
                                                          {"stats"},
                                                          {"verify"},
                                                          {"wal"}};
  for (const auto& command : commands) {
    for (bool json : {false, true}) {
      std::vector<std::string> args = command;
      args.insert(args.begin(), db);
      if (json) args.push_back("--json");
      const RunOutput r = Inspect(args);
      // wal refuses a missing log (exit 2); a clean close may remove it.
      if (command[0] != "wal" || wal_before.mtime_ns >= 0) {
        EXPECT_NE(r.code, 2) << args[1] << ": " << r.err;
      }
      EXPECT_TRUE(StateOf(db) == db_before) << args[1] << " changed the page file";
      EXPECT_TRUE(StateOf(db + "-wal") == wal_before) << args[1] << " changed the log";
      EXPECT_EQ(Names(dir), names) << args[1] << " created or removed a file";
    }
  }
}

TEST_F(InspectCommandsTest, NoCommandWritesAClosedDatabase) {
  ASSERT_NO_FATAL_FAILURE(Build(true));
  ExpectNoCommandWrites(db_, FirstLeaf(db_), 6);
}

TEST_F(InspectCommandsTest, NoCommandWritesADatabaseWithALogToReplay) {
  // A copy taken while the writer is open holds a log that recovery would
  // replay and checkpoint; inspecting it must do neither.
  const std::string live = dir_.File("live");
  std::unique_ptr<pager::Pager> writer = OpenPager(live);
  ASSERT_NE(writer, nullptr);
  ASSERT_NO_FATAL_FAILURE(FillSmallTree(writer.get(), true));
  const std::string copy_dir = dir_.File("copy");
  ASSERT_EQ(::mkdir(copy_dir.c_str(), 0755), 0);
  db_ = copy_dir + "/db";
  sombra::test::WriteFileOrDie(db_, sombra::test::ReadFileOrDie(live));
  sombra::test::WriteFileOrDie(db_ + "-wal", sombra::test::ReadFileOrDie(live + "-wal"));
  writer.reset();
  RunOutput meta = Inspect({db_, "meta"});
  EXPECT_NE(meta.out.find("log: 2 transactions replayed"), std::string::npos) << meta.out;
  ExpectNoCommandWrites(db_, FirstLeaf(db_), 6);
}

TEST_F(InspectCommandsTest, RandomLeafDamageIsReportedOnItsPage) {
  const uint64_t seed = sombra::test::TestSeed();
  std::mt19937_64 rng(seed);
  ASSERT_NO_FATAL_FAILURE(Build(false));
  const std::string pristine = sombra::test::ReadFileOrDie(db_);
  const uint32_t leaf = FirstLeaf(db_);
  for (int round = 0; round < 20; ++round) {
    sombra::test::WriteFileOrDie(db_, pristine);
    const uint64_t offset = std::uniform_int_distribution<uint64_t>(0, kPageSize - 1)(rng);
    FlipByte(db_, uint64_t{leaf} * kPageSize + offset);
    RunOutput r = Inspect({db_, "verify"});
    EXPECT_EQ(r.code, 1) << "seed " << seed << " offset " << offset;
    EXPECT_NE(r.out.find("page " + std::to_string(leaf) + ": "), std::string::npos)
        << "seed " << seed << " offset " << offset << "\n"
        << r.out;
  }
}

}  // namespace
}  // namespace sombra::inspect::test
