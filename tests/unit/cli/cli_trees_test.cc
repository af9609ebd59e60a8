// RunCli with named trees (docs/cli.md, "Named trees"): --tree on every
// per-key command, the default tree untouched without it, a missing tree
// refused by the reading commands and del/delrange (nothing created), put
// and load creating it; `trees` (text and JSON) and `droptree`.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "testutil/temp_dir.h"

namespace sombra::cli {
namespace {

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result Cli(const std::vector<std::string>& args, const std::string& input = "") {
  std::istringstream in(input);
  std::ostringstream out, err;
  const int code = RunCli(args, in, out, err, /*err_is_tty=*/false);
  return {code, out.str(), err.str()};
}

class CliTreesTest : public ::testing::Test {
 protected:
  // The default tree holds a=1 and b=2.
  void SetUp() override {
    ASSERT_EQ(Cli({"put", db_, "a", "1"}).code, kExitOk);
    ASSERT_EQ(Cli({"put", db_, "b", "2"}).code, kExitOk);
  }

  // Expects `args` to fail naming the missing tree `name`, exit 2.
  void ExpectNoSuchTree(const std::vector<std::string>& args, const std::string& name) {
    Result r = Cli(args);
    EXPECT_EQ(r.code, kExitError) << args[0];
    EXPECT_EQ(r.out, "") << args[0];
    EXPECT_EQ(r.err,
              "sombra: " + args[0] + ": " + db_ + ": NotFound: no tree named \"" + name + "\"\n");
  }

  sombra::test::TempDir dir_;
  std::string db_ = dir_.File("db");
};

TEST_F(CliTreesTest, PutGetScanCountDelInANamedTree) {
  // put creates the tree; the default tree is untouched.
  ASSERT_EQ(Cli({"put", db_, "a", "in users", "--tree", "users"}).code, kExitOk);
  ASSERT_EQ(Cli({"put", db_, "--tree=users", "c", "3"}).code, kExitOk);
  EXPECT_EQ(Cli({"get", db_, "a", "--tree", "users"}).out, "in users\n");
  EXPECT_EQ(Cli({"get", db_, "a"}).out, "1\n");
  Result r = Cli({"get", db_, "b", "--tree", "users"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.err, "sombra: get: " + db_ + ": NotFound: key \"b\"\n");

  EXPECT_EQ(Cli({"scan", db_, "--tree", "users"}).out, "a\tin users\nc\t3\n");
  EXPECT_EQ(Cli({"scan", db_}).out, "a\t1\nb\t2\n");
  EXPECT_EQ(Cli({"scan", db_, "--tree", "users", "--reverse", "--keys-only"}).out, "c\na\n");
  EXPECT_EQ(Cli({"dump", db_, "--tree", "users", "--format", "csv"}).out, "a,in users\nc,3\n");
  EXPECT_EQ(Cli({"count", db_, "--tree", "users"}).out, "2\n");
  EXPECT_EQ(Cli({"count", db_}).out, "2\n");
  EXPECT_EQ(Cli({"--hex", "get", db_, "63", "--tree", "users"}).out, "33\n");  // name literal

  EXPECT_EQ(Cli({"del", db_, "a", "--tree", "users"}).code, kExitOk);
  EXPECT_EQ(Cli({"del", db_, "a", "--tree", "users"}).code, kExitNotFound);
  EXPECT_EQ(Cli({"get", db_, "a"}).out, "1\n");
  EXPECT_EQ(Cli({"count", db_, "--tree", "users"}).out, "1\n");
  EXPECT_EQ(Cli({"verify", db_}).code, kExitOk);
}

TEST_F(CliTreesTest, PrefixCountAndDelRangeInANamedTree) {
  const std::string input = "ab\t1\nabc\t2\nabd\t3\nac\t4\nb\t5\n";
  ASSERT_EQ(Cli({"load", db_, "--tree", "t"}, input).code, kExitOk);
  EXPECT_EQ(Cli({"scan", db_, "--tree", "t", "--prefix", "ab", "--keys-only"}).out,
            "ab\nabc\nabd\n");
  EXPECT_EQ(Cli({"count", db_, "--tree", "t", "--prefix", "a"}).out, "4\n");
  EXPECT_EQ(Cli({"count", db_, "--tree", "t", "--from", "abc", "--to", "b"}).out, "3\n");
  Result r = Cli({"delrange", db_, "ab", "ac", "--tree", "t"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "3\n");
  EXPECT_EQ(Cli({"scan", db_, "--tree", "t", "--keys-only"}).out, "ac\nb\n");
  // The default tree's a and b are untouched by a range over them.
  EXPECT_EQ(Cli({"delrange", db_, "a", "c", "--tree", "t"}).out, "2\n");
  EXPECT_EQ(Cli({"count", db_}).out, "2\n");
}

TEST_F(CliTreesTest, LoadSortedAndFromStandardInput) {
  std::string input;
  for (int i = 0; i < 3000; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%05d", i);
    input += std::string(key) + "\tvalue\n";
  }
  // FILE "-" is standard input; --sorted appends into the named tree.
  Result r = Cli({"load", db_, "-", "--sorted", "--tree", "sorted", "--batch", "700"}, input);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(Cli({"count", db_, "--tree", "sorted"}).out, "3000\n");
  // A key that does not sort after the tree's keys (only the tree's count).
  r = Cli({"load", db_, "--sorted", "--tree", "sorted"}, "a\tx\n");
  EXPECT_EQ(r.code, kExitError);
  EXPECT_NE(r.err.find("line 1: the input is not sorted"), std::string::npos) << r.err;
  // ... while the default tree, whose last key is "b", takes "c".
  EXPECT_EQ(Cli({"load", db_, "--sorted"}, "c\t3\n").code, kExitOk);
  // dump | load copies a tree into another.
  const std::string dump = Cli({"dump", db_, "--tree", "sorted"}).out;
  EXPECT_EQ(Cli({"load", db_, "--tree", "copy", "--sorted"}, dump).code, kExitOk);
  EXPECT_EQ(Cli({"dump", db_, "--tree", "copy"}).out, dump);
  // Both appended: the same leaves, the same pages.
  const std::string trees = Cli({"trees", db_}).out;
  const size_t mid = trees.find('\n') + 1;
  EXPECT_EQ(trees.substr(0, 10), "copy\t3000\t") << trees;
  EXPECT_EQ(trees.substr(10, mid - 10), trees.substr(mid + 12)) << trees;
  EXPECT_EQ(Cli({"verify", db_}).code, kExitOk);
}

TEST_F(CliTreesTest, MissingTreeIsRefusedAndNotCreated) {
  ASSERT_EQ(Cli({"put", db_, "k", "v", "--tree", "present"}).code, kExitOk);
  ExpectNoSuchTree({"get", db_, "k", "--tree", "absent"}, "absent");
  ExpectNoSuchTree({"scan", db_, "--tree", "absent"}, "absent");
  ExpectNoSuchTree({"dump", db_, "--tree", "absent"}, "absent");
  ExpectNoSuchTree({"count", db_, "--tree", "absent", "--prefix", "k"}, "absent");
  ExpectNoSuchTree({"del", db_, "k", "--tree", "absent"}, "absent");
  ExpectNoSuchTree({"delrange", db_, "a", "z", "--tree", "absent"}, "absent");
  ExpectNoSuchTree({"get", db_, "k", "--tree", "a\tb"}, "a\\tb");  // escaped
  // Nothing was created by any of them.
  EXPECT_EQ(Cli({"trees", db_}).out, "present\t1\t1\n");
  // A bad name is InvalidArgument.
  Result r = Cli({"put", db_, "k", "v", "--tree", ""});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_NE(r.err.find("InvalidArgument: tree name of 0 bytes"), std::string::npos) << r.err;
  r = Cli({"get", db_, "k", "--tree", std::string(256, 'n')});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_NE(r.err.find("InvalidArgument: tree name of 256 bytes"), std::string::npos) << r.err;
  // A missing database is not created by a reading command with --tree.
  const std::string none = dir_.File("none");
  EXPECT_EQ(Cli({"get", none, "k", "--tree", "x"}).code, kExitError);
  EXPECT_FALSE(std::filesystem::exists(none));
  // --tree does not apply to every command.
  r = Cli({"verify", db_, "--tree", "present"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_EQ(r.err, "sombra: verify: --tree does not apply to verify (see: sombra verify --help)\n");
}

TEST_F(CliTreesTest, TreesListsNamesRecordsAndPages) {
  EXPECT_EQ(Cli({"trees", db_}).out, "");  // the default tree is not listed
  std::string input;
  for (int i = 0; i < 400; ++i) input += "key-" + std::to_string(1000 + i) + "\t" + "v\n";
  ASSERT_EQ(Cli({"load", db_, "--tree", "big"}, input).code, kExitOk);
  // One value of 10000 bytes: three overflow pages of 4064 bytes.
  ASSERT_EQ(Cli({"put", db_, "x", std::string(10000, 'o'), "--tree", "blob"}).code, kExitOk);
  ASSERT_EQ(Cli({"load", db_, "--tree", "empty"}, "").code, kExitOk);  // created, empty
  Result r = Cli({"trees", db_});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  // 400 records of ~10 bytes fill 2 leaves under a root: 3 pages.
  EXPECT_EQ(r.out, "big\t400\t3\nblob\t1\t4\nempty\t0\t0\n");
  r = Cli({"trees", db_, "--json"});
  EXPECT_EQ(r.out, "{\n  \"path\": \"" + db_ +
                       "\",\n  \"trees\": [\n"
                       "    {\"name\": \"big\", \"records\": 400, \"pages\": 3},\n"
                       "    {\"name\": \"blob\", \"records\": 1, \"pages\": 4},\n"
                       "    {\"name\": \"empty\", \"records\": 0, \"pages\": 0}\n  ]\n}\n");
  const std::string empty_db = dir_.File("empty-db");
  ASSERT_EQ(Cli({"put", empty_db, "k", "v"}).code, kExitOk);
  EXPECT_EQ(Cli({"trees", empty_db, "--json"}).out,
            "{\n  \"path\": \"" + empty_db + "\",\n  \"trees\": []\n}\n");
  EXPECT_EQ(Cli({"trees", dir_.File("none")}).code, kExitError);
  EXPECT_EQ(Cli({"trees", db_, "extra"}).code, kExitError);  // usage
}

TEST_F(CliTreesTest, DropTree) {
  ASSERT_EQ(Cli({"put", db_, "k", "v", "--tree", "one"}).code, kExitOk);
  ASSERT_EQ(Cli({"put", db_, "k", "w", "--tree", "two"}).code, kExitOk);
  Result r = Cli({"droptree", db_, "one"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(Cli({"trees", db_}).out, "two\t1\t1\n");
  ExpectNoSuchTree({"get", db_, "k", "--tree", "one"}, "one");
  // Absent: exit 1, as del of an absent key.
  r = Cli({"droptree", db_, "one"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.err, "sombra: droptree: " + db_ + ": NotFound: no tree named \"one\"\n");
  // The default tree cannot be dropped; a missing database is not created.
  EXPECT_EQ(Cli({"droptree", db_, ""}).code, kExitError);
  EXPECT_EQ(Cli({"droptree", dir_.File("none"), "one"}).code, kExitError);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("none")));
  EXPECT_EQ(Cli({"--read-only", "droptree", db_, "two"}).code, kExitError);
  EXPECT_EQ(Cli({"droptree", db_}).code, kExitError);  // usage
  // put creates a dropped tree again, empty but for the new key.
  ASSERT_EQ(Cli({"put", db_, "k2", "v", "--tree", "one"}).code, kExitOk);
  EXPECT_EQ(Cli({"scan", db_, "--tree", "one"}).out, "k2\tv\n");
  EXPECT_EQ(Cli({"scan", db_}).out, "a\t1\nb\t2\n");
  EXPECT_EQ(Cli({"verify", db_}).code, kExitOk);
}

TEST_F(CliTreesTest, HelpNamesTheTreeOption) {
  for (const char* command : {"get", "put", "del", "delrange", "scan", "count", "load", "dump"}) {
    Result r = Cli({command, "--help"});
    EXPECT_NE(r.out.find("[--tree NAME]"), std::string::npos) << command << "\n" << r.out;
    EXPECT_NE(r.out.find("  --tree NAME        act on the named tree NAME"), std::string::npos)
        << command;
  }
  EXPECT_EQ(Cli({"verify", "--help"}).out.find("--tree NAME"), std::string::npos);
  const std::string usage = Cli({"--help"}).out;
  EXPECT_NE(usage.find("  sombra trees DB [--json]\n"), std::string::npos) << usage;
  EXPECT_NE(usage.find("  sombra droptree DB NAME\n"), std::string::npos) << usage;
  EXPECT_NE(Cli({"droptree", "--help"}).out.find("Exit status 1 (and nothing written)"),
            std::string::npos);
}

}  // namespace
}  // namespace sombra::cli
