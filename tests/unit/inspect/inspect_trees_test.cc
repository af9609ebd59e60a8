// sombra-inspect on a database with named trees (docs/tools.md): `catalog`
// lists every entry, `tree --tree NAME` shows one named tree, `tree`,
// `stats` and `verify` count the pages of the other trees as reached, not
// leaked; `meta` and `page 0` show the catalog root, `wal` shows it in the
// header's base meta and in every commit record (formats 6 and 7); damage
// to a named tree is reported.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "btree/node_format.h"
#include "inspect/inspect.h"
#include "inspect/inspect_internal.h"
#include "inspect_test_util.h"
#include "sombra/db.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"

namespace sombra::inspect::test {
namespace {

using sombra::test::ReadFileOrDie;
using sombra::test::WriteFileOrDie;

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key-%06d", i);
  return buf;
}

std::unique_ptr<DB> OpenDb(const std::string& path) {
  Options o;
  o.durability = Durability::kOff;
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, path, &db);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return db;
}

Tree* OpenTree(DB* db, const std::string& name) {
  Tree* t = nullptr;
  Status s = db->OpenTree(name, &t);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return t;
}

// Puts keys [first, first + n) with `value` into `tree` in one transaction.
void Fill(DB* db, Tree* tree, int first, int n, const std::string& value) {
  std::unique_ptr<WriteTxn> w;
  ASSERT_TRUE(db->BeginWrite(&w).ok());
  for (int i = first; i < first + n; ++i) ASSERT_TRUE(w->Put(tree, Key(i), value).ok()) << i;
  ASSERT_TRUE(w->Commit().ok());
}

// "  label:" padded as PrintField pads it, then the value.
std::string FieldLine(const std::string& label, const std::string& value) {
  std::string line = "  " + label + ":";
  line.append(line.size() < 21 ? 21 - line.size() : 1, ' ');
  return line + value + "\n";
}

class InspectTreesTest : public ::testing::Test {
 protected:
  // The default tree: 50 records. "big": 400 records and one value of
  // 10000 bytes (three overflow pages). "small": one record. "gone": 300
  // records, then dropped (its pages on the freelist). Closed cleanly.
  void SetUp() override {
    std::unique_ptr<DB> db = OpenDb(db_);
    ASSERT_NE(db, nullptr);
    ASSERT_NO_FATAL_FAILURE(Fill(db.get(), db->DefaultTree(), 0, 50, "default"));
    Tree* big = OpenTree(db.get(), "big");
    ASSERT_NO_FATAL_FAILURE(Fill(db.get(), big, 0, 400, "big"));
    ASSERT_NO_FATAL_FAILURE(Fill(db.get(), big, 1000, 1, std::string(10000, 'o')));
    // "gone" before "small": its pages stay free below small's leaf (free
    // pages at the end of the file would be given back at close).
    ASSERT_NO_FATAL_FAILURE(Fill(db.get(), OpenTree(db.get(), "gone"), 0, 300, "gone"));
    ASSERT_NO_FATAL_FAILURE(Fill(db.get(), OpenTree(db.get(), "small"), 0, 1, "small"));
    ASSERT_TRUE(db->DropTree("gone").ok());
  }

  // A field of `catalog --json`'s first tree named `name`, or of the
  // catalog itself (name "").
  uint64_t CatalogField(const std::string& name, const std::string& field) {
    const std::string json = Inspect({db_, "catalog", "--json"}).out;
    size_t at = 0;
    if (!name.empty()) at = json.find("\"text\":\"" + name + "\"}");
    EXPECT_NE(at, std::string::npos) << name << " not in " << json;
    at = json.find("\"" + field + "\":", at);
    EXPECT_NE(at, std::string::npos) << field << " not in " << json;
    return std::stoull(json.substr(at + field.size() + 3));
  }

  sombra::test::TempDir dir_;
  std::string db_ = dir_.File("db");
};

TEST_F(InspectTreesTest, CatalogListsEveryTree) {
  RunOutput r = Inspect({db_, "catalog"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::string root = std::to_string(CatalogField("", "catalog_root"));
  const std::string big = std::to_string(CatalogField("big", "root"));
  const std::string small = std::to_string(CatalogField("small", "root"));
  EXPECT_EQ(r.out, "catalog of " + db_ + "\n" + FieldLine("catalog root", root) +
                       FieldLine("height", "1") + FieldLine("pages", "1") +
                       FieldLine("trees", "2") + "tree \"big\": root " + big +
                       ", height 2, 7 pages, 401 records\n"
                       "tree \"small\": root " +
                       small + ", height 1, 1 page, 1 record\n2 trees, walked 9 pages: OK\n");
  RunOutput json = Inspect({db_, "catalog", "--json"});
  std::string why;
  EXPECT_TRUE(IsValidJson(json.out, &why)) << why << "\n" << json.out;
  EXPECT_NE(json.out.find(R"({"name":{"hex":"626967","text":"big"},"root":)" + big +
                          R"(,"height":2,"pages":7,"leaf_pages":3,"internal_pages":1,)"
                          R"("overflow_pages":3,"damaged_pages":0,"records":401})"),
            std::string::npos)
      << json.out;
  EXPECT_NE(json.out.find(R"("ok":true,"problems":[],"summary":"2 trees, walked 9 pages: OK"})"),
            std::string::npos)
      << json.out;
}

TEST_F(InspectTreesTest, CatalogOfADatabaseWithoutNamedTrees) {
  const std::string plain = dir_.File("plain");
  {
    std::unique_ptr<DB> db = OpenDb(plain);
    ASSERT_TRUE(db->Put("k", "v").ok());
  }
  RunOutput r = Inspect({plain, "catalog"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "catalog of " + plain + "\n" + FieldLine("catalog root", "0 (no named trees)") +
                       FieldLine("height", "0") + FieldLine("pages", "0") +
                       FieldLine("trees", "0") + "0 trees, walked 0 pages: OK\n");
  // tree and stats print no catalog lines then.
  EXPECT_EQ(Inspect({plain, "tree"}).out.find("catalog root"), std::string::npos);
  EXPECT_EQ(Inspect({plain, "stats"}).out.find("named trees"), std::string::npos);
}

TEST_F(InspectTreesTest, TreeOfANamedTree) {
  RunOutput r = Inspect({db_, "tree", "--tree", "big"});
  EXPECT_EQ(r.code, 0) << r.err;
  const std::string root = std::to_string(CatalogField("", "catalog_root"));
  const std::string big = std::to_string(CatalogField("big", "root"));
  EXPECT_EQ(r.out.rfind("tree \"big\" of " + db_ + "\n" + FieldLine("meta in force", "0") +
                            FieldLine("catalog root", root) + FieldLine("root", big) +
                            FieldLine("height", "2") + "level 1: 1 page, 2 records, fill ",
                        0),
            0u)
      << r.out;
  for (const std::string& line :
       {FieldLine("leaf pages", "3"), FieldLine("internal pages", "1"),
        FieldLine("overflow pages", "3"), FieldLine("other tree pages", "3"),
        FieldLine("damaged pages", "0"), FieldLine("pages not reached", "0"),
        FieldLine("records", "401")}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << " missing from\n" << r.out;
  }
  EXPECT_NE(r.out.find(": OK\n"), std::string::npos) << r.out;
  // --tree=NAME, --verbose and JSON.
  RunOutput v = Inspect({db_, "tree", "--verbose", "--tree=small"});
  EXPECT_EQ(v.code, 0) << v.err;
  EXPECT_NE(v.out.find("level 0: 1 page, 1 record"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find(", fences [-infinity, +infinity)\n"), std::string::npos) << v.out;
  RunOutput json = Inspect({db_, "tree", "--json", "--tree", "big"});
  std::string why;
  EXPECT_TRUE(IsValidJson(json.out, &why)) << why << "\n" << json.out;
  EXPECT_NE(json.out.find(R"("tree":{"hex":"626967","text":"big"},"catalog_root":)" + root +
                          ",\"root\":" + big + ",\"height\":2"),
            std::string::npos)
      << json.out;
  EXPECT_NE(json.out.find(R"("other_tree_pages":3,"damaged_pages":0,"pages_not_reached":0,)"),
            std::string::npos)
      << json.out;
}

// The default tree's `tree`: the catalog's and the named trees' pages are
// reached (other tree pages), none is "not reached"; the dropped tree's
// pages are free. stats sums the named trees apart; verify is clean.
TEST_F(InspectTreesTest, OtherTreesAreNotLeaked) {
  RunOutput tree = Inspect({db_, "tree"});
  EXPECT_EQ(tree.code, 0) << tree.out;
  EXPECT_EQ(tree.out.rfind("tree of " + db_ + "\n", 0), 0u) << tree.out;
  for (const std::string& line :
       {FieldLine("leaf pages", "1"), FieldLine("other tree pages", "9"),
        FieldLine("pages not reached", "0"), FieldLine("records", "50")}) {
    EXPECT_NE(tree.out.find(line), std::string::npos) << line << " missing from\n" << tree.out;
  }
  RunOutput stats = Inspect({db_, "stats"});
  EXPECT_EQ(stats.code, 0) << stats.out;
  for (const std::string& line :
       {FieldLine("records", "50"), FieldLine("named trees", "2"), FieldLine("named pages", "9"),
        FieldLine("named records", "402"), FieldLine("damaged pages", "0")}) {
    EXPECT_NE(stats.out.find(line), std::string::npos) << line << " missing from\n" << stats.out;
  }
  RunOutput json = Inspect({db_, "stats", "--json"});
  EXPECT_NE(json.out.find(R"("named_trees":2,"named_tree_pages":9,"named_tree_records":402,)"),
            std::string::npos)
      << json.out;
  RunOutput verify = Inspect({db_, "verify"});
  EXPECT_EQ(verify.code, 0) << verify.out;
  EXPECT_NE(verify.out.find(": OK\n"), std::string::npos) << verify.out;
  // The free pages: the dropped tree's.
  const uint64_t free_pages =
      std::stoull(tree.out.substr(tree.out.find("  free pages:        ") + 21));
  EXPECT_GE(free_pages, 3u) << tree.out;
  EXPECT_EQ(Inspect({db_, "freelist"}).code, 0);
}

TEST_F(InspectTreesTest, MissingTreeAndMisplacedOption) {
  RunOutput r = Inspect({db_, "tree", "--tree", "gone"});
  EXPECT_EQ(CheckRefused(r), "");
  EXPECT_EQ(r.err, "sombra-inspect: tree: no tree named \"gone\" in " + db_ +
                       " (the catalog command lists them)\n");
  EXPECT_EQ(CheckRefused(Inspect({db_, "tree", "--tree"})), "");
  RunOutput meta = Inspect({db_, "meta", "--tree", "big"});
  EXPECT_EQ(CheckRefused(meta), "");
  EXPECT_EQ(meta.err, "sombra-inspect: --tree applies to the tree command only\n");
  EXPECT_EQ(CheckRefused(Inspect({db_, "catalog", "extra"})), "");
}

TEST_F(InspectTreesTest, MetaAndMetaPageShowTheCatalogRoot) {
  const std::string root = std::to_string(CatalogField("", "catalog_root"));
  RunOutput meta = Inspect({db_, "meta"});
  EXPECT_EQ(meta.code, 0);
  // The meta page in force (0); page 1 is older, from before the catalog.
  const std::string line = FieldLine("catalog root", root);
  const size_t first = meta.out.find(line);
  EXPECT_LT(first, meta.out.find("meta page 1:")) << meta.out;
  EXPECT_NE(meta.out.find(FieldLine("catalog root", "0"), first), std::string::npos) << meta.out;
  RunOutput page = Inspect({db_, "page", "0", "--no-hex"});
  EXPECT_NE(page.out.find("    catalog root:    " + root + "\n"), std::string::npos) << page.out;
  RunOutput json = Inspect({db_, "meta", "--json"});
  EXPECT_NE(json.out.find("\"checkpoint_lsn\":"), std::string::npos);
  EXPECT_NE(json.out.find(",\"catalog_root\":" + root + ",\"checksum\""), std::string::npos)
      << json.out;
  EXPECT_NE(json.out.find(",\"catalog_root\":" + root + "}"), std::string::npos)  // after_log
      << json.out;
}

// A log of this build's format (7) whose generation starts after a
// checkpoint with a catalog: its header's base meta names the catalog root,
// and every commit record its catalog root then.
TEST_F(InspectTreesTest, WalShowsTheCatalogRoot) {
  const std::string copy = dir_.File("copy");
  const std::string root = std::to_string(CatalogField("", "catalog_root"));
  {
    std::unique_ptr<DB> db = OpenDb(db_);
    ASSERT_NE(db, nullptr);
    Tree* small = OpenTree(db.get(), "small");
    ASSERT_NO_FATAL_FAILURE(Fill(db.get(), small, 1, 1, "two"));
    OpenTree(db.get(), "new");  // a tree made in its own transaction
    // The database and its log as they are while open.
    WriteFileOrDie(copy, ReadFileOrDie(db_));
    WriteFileOrDie(copy + "-wal", ReadFileOrDie(db_ + "-wal"));
  }
  RunOutput wal = Inspect({copy, "wal"});
  EXPECT_EQ(wal.code, 0) << wal.err;
  const bool trees_format = wal.out.find("  format version:    12\n") != std::string::npos ||
                            wal.out.find("  format version:    13\n") != std::string::npos;
  EXPECT_TRUE(trees_format) << wal.out;
  const size_t base = wal.out.find("  base meta:         seq ");
  ASSERT_NE(base, std::string::npos) << wal.out;
  EXPECT_EQ(wal.out.find(", catalog root " + root + "\n", base),
            wal.out.find('\n', base) - 15 - root.size())
      << wal.out;
  // Two commits, each naming its catalog root (the base meta names it too).
  size_t named = 0;
  for (size_t at = wal.out.find(", catalog root "); at != std::string::npos;
       at = wal.out.find(", catalog root ", at + 1)) {
    ++named;
  }
  EXPECT_EQ(named, 3u) << wal.out;
  EXPECT_NE(wal.out.find(", records 1, catalog root " + root + "\n"), std::string::npos) << wal.out;
  RunOutput json = Inspect({copy, "wal", "--json"});
  std::string why;
  EXPECT_TRUE(IsValidJson(json.out, &why)) << why << "\n" << json.out;
  EXPECT_NE(json.out.find(",\"catalog_root\":" + root + "}},\"page_file\""), std::string::npos)
      << json.out;
  EXPECT_NE(json.out.find("\"record_count\":1,\"catalog_root\":" + root + ","), std::string::npos)
      << json.out;
  // The state after the log: the new tree is in the catalog.
  RunOutput meta = Inspect({copy, "meta"});
  EXPECT_NE(meta.out.find("log: 2 transactions replayed in memory: "), std::string::npos)
      << meta.out;
  EXPECT_NE(meta.out.find(", catalog root "), std::string::npos) << meta.out;
  RunOutput small = Inspect({copy, "tree", "--tree", "small"});
  EXPECT_NE(small.out.find(FieldLine("records", "2")), std::string::npos) << small.out;
  RunOutput fresh = Inspect({copy, "tree", "--tree", "new"});
  EXPECT_EQ(fresh.code, 0) << fresh.err;
  EXPECT_NE(fresh.out.find(FieldLine("root", "0 (empty tree)")), std::string::npos) << fresh.out;
  EXPECT_EQ(Inspect({copy, "verify"}).code, 0);
}

TEST_F(InspectTreesTest, DamageToANamedTreeIsReported) {
  const uint64_t small = CatalogField("small", "root");
  FlipByte(db_, small * 4096 + 200);
  for (const char* command : {"catalog", "tree", "verify", "stats"}) {
    RunOutput r = Inspect({db_, command});
    EXPECT_EQ(r.code, 1) << command << "\n" << r.out << r.err;
    if (std::string(command) != "stats") {
      EXPECT_NE(r.out.find("page " + std::to_string(small) + ": checksum mismatch"),
                std::string::npos)
          << command << "\n"
          << r.out;
    }
  }
  // The tree of `big` is intact, but the walk of the others met the damage.
  RunOutput big = Inspect({db_, "tree", "--tree", "big"});
  EXPECT_EQ(big.code, 1);
  EXPECT_NE(big.out.find(FieldLine("damaged pages", "1")), std::string::npos) << big.out;
  EXPECT_NE(Inspect({db_, "catalog"})
                .out.find("tree \"small\": root " + std::to_string(small) +
                          ", height unknown (the root is damaged), 0 pages, "
                          "0 records, 1 damaged\n"),
            std::string::npos);
}

// A catalog of several leaves whose last leaf links back to the first:
// the catalog's cursor would walk the cycle for ever; catalog, tree and
// stats report damage instead.
TEST_F(InspectTreesTest, CatalogSiblingCycleIsReportedNotFollowed) {
  {
    std::unique_ptr<DB> db = OpenDb(db_);
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 200; ++i) OpenTree(db.get(), Key(i) + std::string(100, 'n'));
  }
  const uint64_t root = CatalogField("", "catalog_root");
  const std::vector<uint8_t> page = ReadPageBytes(db_, root, 4096);
  const NodeInfo n = DecodeNode(page.data(), 4096);
  ASSERT_FALSE(n.leaf);
  ASSERT_TRUE(n.layout.ok()) << n.layout.ToString();
  ASSERT_GE(n.records.size(), 2u);
  const uint32_t first = n.right;
  const uint32_t last = n.records.back().child;
  EditAndReseal(db_, last, 4096,
                [first](uint8_t* p) { EncodeFixed32(p + btree::kRightOffset, first); });
  for (const char* command : {"catalog", "tree", "stats"}) {
    RunOutput r = Inspect({db_, command});
    EXPECT_EQ(r.code, 1) << command << "\n" << r.out << r.err;
  }
  EXPECT_EQ(Inspect({db_, "tree", "--tree", "big"}).code, 1);
  // The entries before the loop, each once; the loop named (the catalog's
  // reader stops at the first name that does not ascend).
  RunOutput r = Inspect({db_, "catalog"});
  EXPECT_NE(r.out.find(FieldLine("trees", "202")), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("page " + std::to_string(root) +
                       ": catalog: tree name \"big\" does not sort after \"small\""),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("already reached"), std::string::npos) << r.out;
  EXPECT_EQ(Inspect({db_, "tree", "--tree", "big"}).err,
            "sombra-inspect: tree: cannot look tree \"big\" up: catalog: tree name \"big\" "
            "does not sort after \"small\"\n");
}

}  // namespace
}  // namespace sombra::inspect::test
