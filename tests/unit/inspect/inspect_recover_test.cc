// sombra-inspect FILE recover OUT (docs/tools.md, "recover"): a database
// of three trees (the default tree, "alpha" and "beta"; ~21,000 records,
// overflow values, updates, deletes and a DeleteRange over many commits) is
// damaged in each way below, and recovered. Each time OUT verifies, every
// record on an undamaged page comes back with its last committed value,
// nothing comes back that was never committed (no deleted key, no wrong
// value), and the report names what was lost. The yield of each damage
// class is printed ("[ recover  ] ..."; docs/operations.md, "Recover").
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "btree/node_format.h"
#include "inspect/inspect.h"
#include "inspect/inspect_internal.h"
#include "inspect/key_ranges.h"
#include "inspect_test_util.h"
#include "pager/double_write.h"
#include "sombra/db.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"
#include "wal/wal_page_ops.h"
#include "wal/wal_reader.h"

namespace sombra::inspect::test {
namespace {

using sombra::test::ReadFileOrDie;
using sombra::test::TempDir;
using sombra::test::WriteFileOrDie;

constexpr uint32_t kPageSize = 4096;
constexpr int kKeys = 7000;  // per tree in the first round

using Records = std::map<std::string, std::string>;
using Model = std::map<std::string, Records>;                  // tree name ("" default) -> records
using KeySet = std::set<std::pair<std::string, std::string>>;  // (tree, key)

const std::vector<std::string>& TreeNames() {
  static const std::vector<std::string> names = {"", "alpha", "beta"};
  return names;
}

// Each tree's keys have their own prefix, so a record in lost+found tells
// which tree it came from.
std::string Key(const std::string& tree, int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s-%06d", tree.empty() ? "d" : tree.substr(0, 1).c_str(), i);
  return buf;
}
std::string TreeOfKey(const std::string& key) {
  return key[0] == 'd' ? "" : key[0] == 'a' ? "alpha" : "beta";
}
std::string Value(int i, int round) {
  return "value-" + std::to_string(round) + "-" + std::to_string(i) + "-padding";
}
std::string BigValue(int i, int round) {
  return std::string(static_cast<size_t>(6000 + 1000 * round + i % 7),
                     static_cast<char>('a' + (i + round) % 26));
}

// One transaction applied to the database and to the model.
class Txn {
 public:
  Txn(DB* db, Model* model) : db_(db), model_(model) { EXPECT_TRUE(db->BeginWrite(&w_).ok()); }
  ~Txn() { EXPECT_TRUE(w_->Commit().ok()); }
  void Put(const std::string& tree, const std::string& k, const std::string& v) {
    ASSERT_TRUE(w_->Put(TreeOf(tree), k, v).ok());
    (*model_)[tree][k] = v;
  }
  void Delete(const std::string& tree, const std::string& k) {
    ASSERT_TRUE(w_->Delete(TreeOf(tree), k).ok());
    (*model_)[tree].erase(k);
  }
  void DeleteRange(const std::string& tree, const std::string& lo, const std::string& hi) {
    ASSERT_TRUE(w_->DeleteRange(TreeOf(tree), lo, hi).ok());
    Records& r = (*model_)[tree];
    r.erase(r.lower_bound(lo), r.lower_bound(hi));
  }

 private:
  Tree* TreeOf(const std::string& name) {
    if (name.empty()) return db_->DefaultTree();
    Tree* t = nullptr;
    EXPECT_TRUE(db_->OpenTree(name, &t).ok());
    return t;
  }
  DB* db_;
  Model* model_;
  std::unique_ptr<WriteTxn> w_;
};

// Rounds 0-2: the base database. Round 3: what goes to the log in (e).
void Workload(DB* db, Model* m, int round) {
  for (const std::string& t : TreeNames()) {
    if (!t.empty() && round == 0) {
      Tree* unused = nullptr;
      ASSERT_TRUE(db->OpenTree(t, &unused).ok());  // created before the transaction
    }
    if (round == 0) {
      for (int b = 0; b < kKeys; b += 1000) {
        Txn x(db, m);
        for (int i = b; i < b + 1000; ++i) x.Put(t, Key(t, i), Value(i, 0));
      }
    } else if (round == 1) {
      {
        Txn x(db, m);
        for (int i = 3; i < kKeys; i += 7) x.Put(t, Key(t, i), Value(i, 1));
      }
      {
        Txn x(db, m);
        for (int i = 5; i < kKeys; i += 11) x.Delete(t, Key(t, i));
      }
      {
        Txn x(db, m);
        for (int i : {100, 2500, 4900, 6800}) x.Put(t, Key(t, i), BigValue(i, 1));
      }
    } else if (round == 2) {
      {
        Txn x(db, m);
        x.DeleteRange(t, Key(t, 3000), Key(t, 3200));
      }
      {
        Txn x(db, m);
        for (int i = kKeys; i < kKeys + 300; ++i) x.Put(t, Key(t, i), Value(i, 2));
      }
      {
        Txn x(db, m);
        for (int i = 0; i < kKeys; i += 13) x.Put(t, Key(t, i), Value(i, 2));
      }
    } else {
      {
        Txn x(db, m);
        for (int i = 1; i < kKeys; i += 5) x.Put(t, Key(t, i), Value(i, 3));
      }
      {
        Txn x(db, m);
        for (int i = 2; i < kKeys; i += 17) x.Delete(t, Key(t, i));
      }
      {
        Txn x(db, m);
        x.Put(t, Key(t, 3500), BigValue(3500, 3));
      }
    }
  }
}

std::unique_ptr<DB> OpenDb(const std::string& path, Options o = Options()) {
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, path, &db);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return db;
}

Model ReadDb(const std::string& path) {
  Options o;
  o.read_only = true;
  o.create_if_missing = false;
  std::unique_ptr<DB> db = OpenDb(path, o);
  Model m;
  if (db == nullptr) return m;
  std::vector<std::string> names;
  EXPECT_TRUE(db->ListTrees(&names).ok());
  names.insert(names.begin(), "");
  for (const std::string& name : names) {
    Tree* t = db->DefaultTree();
    if (!name.empty()) {
      EXPECT_TRUE(db->OpenTree(name, &t).ok());
    }
    std::unique_ptr<ReadTxn> r;
    EXPECT_TRUE(db->BeginRead(&r).ok());
    Records& recs = m[name];
    std::unique_ptr<Cursor> c = r->NewCursor(t);
    for (c->SeekToFirst(); c->Valid(); c->Next()) recs[std::string(c->key())] = c->value();
    EXPECT_TRUE(c->status().ok());
  }
  return m;
}

uint64_t Count(const Model& m) {
  uint64_t n = 0;
  for (const auto& [t, r] : m) n += r.size();
  return n;
}

void CopyFile(const std::string& from, const std::string& to) {
  WriteFileOrDie(to, ReadFileOrDie(from));
}

void ZeroBytes(const std::string& path, uint64_t offset, size_t n) {
  std::string data = ReadFileOrDie(path);
  ASSERT_LE(offset + n, data.size());
  std::fill(data.begin() + static_cast<std::ptrdiff_t>(offset),
            data.begin() + static_cast<std::ptrdiff_t>(offset + n), '\0');
  WriteFileOrDie(path, data);
}

void ZeroPage(const std::string& path, uint64_t page) {
  ZeroBytes(path, page * kPageSize, kPageSize);
}

// The records each page of a closed database holds: a leaf its keys, an
// overflow page the key whose value it carries.
std::map<uint64_t, KeySet> KeysByPage(const std::string& path, uint64_t pages) {
  std::map<uint64_t, KeySet> out;
  for (uint64_t n = 2; n < pages; ++n) {
    const std::vector<uint8_t> page = ReadPageBytes(path, n, kPageSize);
    if (page[0] != static_cast<uint8_t>(pager::PageKind::kLeaf)) continue;
    const NodeInfo node = DecodeNode(page.data(), kPageSize);
    for (const NodeRecord& r : node.records) {
      if (r.key.size() != 8 || r.key[1] != '-') continue;  // a catalog entry
      const std::pair<std::string, std::string> key{TreeOfKey(r.key), r.key};
      out[n].insert(key);
      for (uint32_t p = r.overflow ? r.first_page : 0; p != 0;) {
        out[p].insert(key);
        p = DecodeFixed32(ReadPageBytes(path, p, kPageSize).data() + btree::kOverflowNextOffset);
      }
    }
  }
  return out;
}

// The state after the log of a database: page count, default root.
pager::TreeState StateOf(const std::string& path) {
  Result<std::unique_ptr<InspectedFile>> db = InspectedFile::Open(path);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? (*db)->state() : pager::TreeState{};
}

// The "possibly lost" ranges the text report gives each tree.
std::map<std::string, KeyRanges> LostRanges(const std::string& report) {
  std::map<std::string, KeyRanges> out;
  std::string tree;
  size_t at = 0;
  while (at < report.size()) {
    const size_t end = report.find('\n', at);
    const std::string line = report.substr(at, end - at);
    at = end == std::string::npos ? report.size() : end + 1;
    if (line.rfind("tree \"", 0) == 0) tree = line.substr(6, line.find('"', 6) - 6);
    const std::string prefix = "  possibly lost: [";
    if (line.rfind(prefix, 0) != 0) continue;
    const std::string body = line.substr(prefix.size(), line.size() - prefix.size() - 1);
    const size_t comma = body.find(", ");
    auto bound = [](std::string s) { return s[0] == '"' ? s.substr(1, s.size() - 2) : ""; };
    out[tree].Add(bound(body.substr(0, comma)), bound(body.substr(comma + 2)));
  }
  return out;
}

struct Outcome {
  uint64_t recovered = 0;  // with the last committed value
  uint64_t older = 0;      // with an earlier committed value (a log lost)
  uint64_t lost_found = 0;
};

// OUT against the models: every record in OUT was committed (`latest`, or
// `older` when the log's transactions may be lost), in its tree (or in a
// lost+found tree); every key of both `latest` and `older` not in `lost` is
// in OUT.
Outcome Compare(const std::string& out_path, const Model& latest, const Model& older,
                const KeySet& lost) {
  const Model out = ReadDb(out_path);
  Outcome o;
  KeySet seen;
  for (const auto& [tree, recs] : out) {
    const bool lf = tree.rfind("lost+found", 0) == 0;
    for (const auto& [k, v] : recs) {
      const std::string t = lf ? TreeOfKey(k) : tree;
      EXPECT_TRUE(seen.insert({t, k}).second) << "twice: " << k;
      o.lost_found += lf ? 1 : 0;
      auto in = [&](const Model& m) {
        auto mt = m.find(t);
        if (mt == m.end()) return false;
        auto it = mt->second.find(k);
        return it != mt->second.end() && it->second == v;
      };
      if (in(latest)) {
        ++o.recovered;
      } else if (in(older)) {
        ++o.older;
      } else {
        ADD_FAILURE() << "tree \"" << tree << "\": " << k << " was never committed with value "
                      << v.substr(0, 40);
      }
    }
  }
  for (const auto& key : lost) {
    EXPECT_FALSE(seen.count(key)) << "recovered from a zeroed page: " << key.second;
  }
  uint64_t missing = 0;
  for (const auto& [t, recs] : latest) {
    for (const auto& [k, v] : recs) {
      // A key the older state lacks may be lost with the log.
      if (lost.count({t, k}) || seen.count({t, k}) || !older.at(t).count(k)) continue;
      if (++missing <= 5) ADD_FAILURE() << "not recovered: tree \"" << t << "\" " << k;
    }
  }
  EXPECT_EQ(missing, 0u);
  return o;
}

void PrintYield(const std::string& what, const Outcome& o, const Model& latest, int code) {
  const uint64_t committed = Count(latest);
  std::printf("[ recover  ] %-44s %6llu / %6llu records (%6.2f%%)%s, exit %d\n", what.c_str(),
              static_cast<unsigned long long>(o.recovered),
              static_cast<unsigned long long>(committed), 100.0 * o.recovered / committed,
              o.older == 0
                  ? ""
                  : (" + " + std::to_string(o.older) + " at an older committed value").c_str(),
              code);
}

class InspectRecoverTest : public ::testing::Test {
 protected:
  // The base database, built once: rounds 0-2, closed cleanly.
  static void SetUpTestSuite() {
    base_dir_ = new TempDir();
    base_model_ = new Model();
    Options o;
    o.durability = Durability::kOff;
    std::unique_ptr<DB> db = OpenDb(base_dir_->File("db"), o);
    ASSERT_NE(db, nullptr);
    for (int round = 0; round < 3; ++round) Workload(db.get(), base_model_, round);
    ASSERT_TRUE(db->Verify().ok());
  }
  static void TearDownTestSuite() {
    delete base_model_;
    delete base_dir_;
  }

  void SetUp() override {
    CopyFile(base_dir_->File("db"), db_);
    CopyFile(base_dir_->File("db-wal"), db_ + "-wal");
  }

  // Runs recover into a fresh OUT at each call (out_ names the last) and
  // again with --json; checks the contract of every run.
  RunOutput Recover(const std::vector<std::string>& extra = {}) {
    out_ = dir_.File("out" + std::to_string(++runs_));
    std::vector<std::string> args = {db_, "recover", out_};
    args.insert(args.end(), extra.begin(), extra.end());
    RunOutput r = Inspect(args);
    EXPECT_TRUE(r.code == 0 || r.code == 1) << r.code << " " << r.err;
    EXPECT_EQ(r.err, "");
    RunOutput json = Inspect({db_, "recover", out_ + "-json", "--json"});
    std::string why;
    EXPECT_TRUE(IsValidJson(json.out, &why)) << why << "\n" << json.out;
    EXPECT_EQ(json.code, r.code);
    return r;
  }

  // Every key of a zeroed leaf lies in a range the report gives its tree,
  // when the tree is known (with the catalog lost, a named tree's leaves
  // are in lost+found, which has no ranges).
  void ExpectRangesCover(const std::string& report, const KeySet& lost_leaf_keys) {
    const std::map<std::string, KeyRanges> ranges = LostRanges(report);
    for (const auto& [tree, key] : lost_leaf_keys) {
      if (report.find("\ntree \"" + tree + "\": ") == std::string::npos) continue;
      auto it = ranges.find(tree);
      EXPECT_TRUE(it != ranges.end() && it->second.Contains(key))
          << "tree \"" << tree << "\" key " << key << " not in a lost range:\n"
          << report;
    }
  }

  static TempDir* base_dir_;
  static Model* base_model_;
  TempDir dir_;
  std::string db_ = dir_.File("db");
  std::string out_ = dir_.File("out");
  int runs_ = 0;
};

TempDir* InspectRecoverTest::base_dir_ = nullptr;
Model* InspectRecoverTest::base_model_ = nullptr;

TEST_F(InspectRecoverTest, HealthyDatabaseRecoversCompletely) {
  RunOutput r = Recover();
  EXPECT_EQ(r.code, 0) << r.out;
  const Outcome o = Compare(out_, *base_model_, *base_model_, {});
  EXPECT_EQ(o.recovered, Count(*base_model_));
  EXPECT_NE(r.out.find("tree \"alpha\": " + std::to_string((*base_model_)["alpha"].size()) +
                       " records recovered, 0 pages unreadable, 0 ranges possibly lost\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("catalog: 2 trees, 0 pages unreadable, 0 ranges possibly lost\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("recovered " + std::to_string(Count(*base_model_)) +
                       " records into 3 trees: OK\n"),
            std::string::npos)
      << r.out;
  PrintYield("healthy database", o, *base_model_, r.code);
}

TEST_F(InspectRecoverTest, ExistingOutIsRefused) {
  WriteFileOrDie(out_, "something");
  RunOutput r = Inspect({db_, "recover", out_});
  EXPECT_EQ(CheckRefused(r), "");
  EXPECT_NE(r.err.find("exists; OUT must be a new database"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFileOrDie(out_), "something");
  RunOutput missing = Inspect({db_, "recover"});
  EXPECT_EQ(CheckRefused(missing), "");
  RunOutput flag = Inspect({db_, "meta", "--page-size", "4096"});
  EXPECT_EQ(CheckRefused(flag), "");
  RunOutput bad = Inspect({db_, "recover", dir_.File("o2"), "--page-size", "5000"});
  EXPECT_EQ(CheckRefused(bad), "");
}

// The meta page's checkpoint sequence (docs/format/file.md, offset 72).
uint64_t MetaSeq(const std::string& path, uint64_t slot) {
  return DecodeFixed64(ReadPageBytes(path, slot, kPageSize).data() + 72);
}

TEST_F(InspectRecoverTest, MetaPageZeroDestroyed) {
  ASSERT_GT(MetaSeq(db_, 0), MetaSeq(db_, 1));  // meta page 0 is in force
  ZeroPage(db_, 0);
  RunOutput r = Recover();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("meta page 0:       damaged"), std::string::npos) << r.out;
  const Outcome o = Compare(out_, *base_model_, *base_model_, {});
  EXPECT_EQ(o.recovered, Count(*base_model_));
  PrintYield("(a) meta page 0 (in force) zeroed", o, *base_model_, r.code);

  // Without the log, whose header holds a copy of the meta page in force.
  std::filesystem::remove(db_ + "-wal");
  RunOutput alone = Recover();
  const Outcome o2 = Compare(out_, *base_model_, *base_model_, {});
  EXPECT_EQ(o2.recovered, Count(*base_model_)) << alone.out;
  EXPECT_EQ(o2.lost_found, 0u) << alone.out;
  PrintYield("(a) meta page 0 zeroed, no log", o2, *base_model_, alone.code);
}

TEST_F(InspectRecoverTest, MetaPageInForceZeroedAfterCheckpointsNoLog) {
  // Checkpoints all along: the other meta page is a recent one, but older
  // than the pages (stale). Without the log nothing names the newer roots.
  TempDir d;
  const std::string path = d.File("db");
  Model model;
  {
    Options o;
    o.durability = Durability::kOff;
    o.wal_checkpoint_bytes = 256 << 10;
    std::unique_ptr<DB> db = OpenDb(path, o);
    ASSERT_NE(db, nullptr);
    for (int round = 0; round < 3; ++round) Workload(db.get(), &model, round);
  }
  CopyFile(path, db_);
  std::filesystem::remove(db_ + "-wal");
  ZeroPage(db_, MetaSeq(db_, 0) > MetaSeq(db_, 1) ? 0 : 1);
  RunOutput r = Recover();
  EXPECT_EQ(r.code, 1) << r.out;
  const Outcome o = Compare(out_, model, model, {});
  EXPECT_EQ(o.recovered, Count(model)) << r.out;
  PrintYield("(a) meta in force zeroed, no log, checkpoints", o, model, r.code);
}

TEST_F(InspectRecoverTest, BothMetaPagesDestroyed) {
  // Wholly zeroed: the salt survives in the log header only.
  ZeroPage(db_, 0);
  ZeroPage(db_, 1);
  RunOutput r = Recover();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("(the log header; "), std::string::npos) << r.out;
  const Outcome o = Compare(out_, *base_model_, *base_model_, {});
  EXPECT_EQ(o.recovered, Count(*base_model_));
  PrintYield("(b) both meta pages zeroed, log header kept", o, *base_model_, r.code);

  std::filesystem::remove(db_ + "-wal");
  RunOutput none = Inspect({db_, "recover", dir_.File("out2")});
  EXPECT_EQ(CheckRefused(none), "");
  EXPECT_NE(none.err.find("no database salt found"), std::string::npos) << none.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("out2")));
}

TEST_F(InspectRecoverTest, BothMetaPagesDamagedPageSizeGiven) {
  // Header, magic, version and page size gone; the salt and the tree
  // fields stand. No log.
  std::filesystem::remove(db_ + "-wal");
  ZeroBytes(db_, 0, 40);
  ZeroBytes(db_, kPageSize, 40);
  RunOutput r = Recover({"--page-size", "4096"});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("page size:         4096 (--page-size)"), std::string::npos) << r.out;
  const Outcome o = Compare(out_, *base_model_, *base_model_, {});
  EXPECT_EQ(o.recovered, Count(*base_model_));
  EXPECT_EQ(o.lost_found, 0u) << r.out;
  PrintYield("(b) both meta pages damaged, --page-size", o, *base_model_, r.code);
  // Without --page-size every page size is tried.
  RunOutput tried = Recover();
  EXPECT_EQ(tried.code, 1) << tried.err;
  EXPECT_NE(tried.out.find("page size:         4096 (tried)"), std::string::npos) << tried.out;
  const Outcome o2 = Compare(out_, *base_model_, *base_model_, {});
  EXPECT_EQ(o2.recovered, Count(*base_model_));
  PrintYield("(b) both meta pages damaged, page size tried", o2, *base_model_, tried.code);
}

TEST_F(InspectRecoverTest, RandomDataPagesZeroedOrDamaged) {
  const uint64_t seed = sombra::test::TestSeed();
  std::mt19937_64 rng(seed);
  const pager::TreeState st = StateOf(db_);
  const std::map<uint64_t, KeySet> keys = KeysByPage(db_, st.page_count);
  KeySet lost;
  KeySet lost_leaf_keys;
  std::set<uint64_t> zeroed;
  while (zeroed.size() < 8) {
    const uint64_t page = 2 + rng() % (st.page_count - 2);
    if (!zeroed.insert(page).second) continue;
    const std::vector<uint8_t> bytes = ReadPageBytes(db_, page, kPageSize);
    auto it = keys.find(page);
    if (it != keys.end()) {
      lost.insert(it->second.begin(), it->second.end());
      if (bytes[0] == static_cast<uint8_t>(pager::PageKind::kLeaf)) {
        lost_leaf_keys.insert(it->second.begin(), it->second.end());
      }
    }
    if (zeroed.size() <= 6) {
      ZeroPage(db_, page);
    } else {  // the last two damaged: one byte of the body changed
      FlipByte(db_, page * kPageSize + pager::kPageHeaderSize + rng() % (kPageSize - 24));
    }
  }
  RunOutput r = Recover();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("unreadable pages:  8 (6 zeroed, 2 damaged)"), std::string::npos)
      << "seed " << seed << "\n"
      << r.out;
  const Outcome o = Compare(out_, *base_model_, *base_model_, lost);
  EXPECT_EQ(o.recovered, Count(*base_model_) - lost.size()) << "seed " << seed;
  ExpectRangesCover(r.out, lost_leaf_keys);
  PrintYield("(c) 6 data pages zeroed, 2 damaged", o, *base_model_, r.code);
}

TEST_F(InspectRecoverTest, DefaultRootZeroed) {
  const pager::TreeState st = StateOf(db_);
  ZeroPage(db_, st.root);
  RunOutput r = Recover();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("tree \"\": " + std::to_string((*base_model_)[""].size()) +
                       " records recovered, 1 page unreadable, 0 ranges possibly lost\n"),
            std::string::npos)
      << r.out;
  const Outcome o = Compare(out_, *base_model_, *base_model_, {});
  EXPECT_EQ(o.recovered, Count(*base_model_));
  EXPECT_EQ(o.lost_found, 0u);
  PrintYield("(d) default tree's root zeroed", o, *base_model_, r.code);
}

TEST_F(InspectRecoverTest, NewestLeafWins) {
  // An old copy of the first leaf, from before its keys were updated and
  // some deleted, is put at a new page, and the root made to name it: the
  // new leaf, no longer named by the root, joins the tree by its sibling
  // links. Both cover the same keys; the newer page LSN wins.
  TempDir d;
  const std::string path = d.File("db");
  Model model;
  std::vector<uint8_t> old_leaf;
  pager::TreeState st;
  Options o;
  o.durability = Durability::kOff;
  {
    std::unique_ptr<DB> db = OpenDb(path, o);
    ASSERT_NE(db, nullptr);
    Txn x(db.get(), &model);
    for (int i = 0; i < 2000; ++i) x.Put("", Key("", i), Value(i, 0));
  }
  st = StateOf(path);
  const uint32_t first = DecodeFixed32(ReadPageBytes(path, st.root, kPageSize).data() + 44);
  old_leaf = ReadPageBytes(path, first, kPageSize);
  {
    std::unique_ptr<DB> db = OpenDb(path, o);
    ASSERT_NE(db, nullptr);
    Txn x(db.get(), &model);
    for (int i = 0; i < 40; ++i) x.Put("", Key("", i), Value(i, 5));
    for (int i = 50; i < 60; ++i) x.Delete("", Key("", i));
  }
  CopyFile(path, db_);
  std::filesystem::remove(db_ + "-wal");
  st = StateOf(db_);
  ASSERT_EQ(DecodeFixed32(ReadPageBytes(db_, st.root, kPageSize).data() + 44), first);
  const uint64_t copy = st.page_count;  // a page past the last in use
  WritePageBytes(db_, copy, old_leaf);
  EditAndReseal(db_, copy, kPageSize,
                [copy](uint8_t* p) { EncodeFixed32(p + 4, static_cast<uint32_t>(copy)); });
  EditAndReseal(db_, st.root, kPageSize,
                [copy](uint8_t* p) { EncodeFixed32(p + 44, static_cast<uint32_t>(copy)); });
  RunOutput r = Recover();
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("orphan leaves:     1 (1 by sibling links"), std::string::npos) << r.out;
  const Outcome out = Compare(out_, model, model, {});
  EXPECT_EQ(out.recovered, Count(model)) << r.out;
  EXPECT_EQ(r.out.find("records dropped:   0 "), std::string::npos) << r.out;
  PrintYield("an older copy of a leaf in the tree", out, model, r.code);
}

// (e): transactions committed after a checkpoint, in the log only; the
// database and its log copied while the writer has them open.
class InspectRecoverLogTest : public InspectRecoverTest {
 protected:
  void SetUp() override {
    InspectRecoverTest::SetUp();
    latest_ = *base_model_;
    TempDir live;
    CopyFile(db_, live.File("db"));
    CopyFile(db_ + "-wal", live.File("db-wal"));
    Options o;
    o.wal_checkpoint_bytes = uint64_t{1} << 30;
    std::unique_ptr<DB> db = OpenDb(live.File("db"), o);
    ASSERT_NE(db, nullptr);
    Workload(db.get(), &latest_, 3);
    CopyFile(live.File("db"), db_);
    CopyFile(live.File("db-wal"), db_ + "-wal");
  }
  Model latest_;
};

TEST_F(InspectRecoverLogTest, LogTransactionsRecovered) {
  RunOutput r = Recover();
  EXPECT_EQ(r.code, 0) << r.out;
  const Outcome o = Compare(out_, latest_, latest_, {});
  EXPECT_EQ(o.recovered, Count(latest_));
  PrintYield("(e) 9 transactions in the log, undamaged", o, latest_, r.code);
}

TEST_F(InspectRecoverLogTest, LogReplayedWithoutMetaPages) {
  // No valid meta page: the log's transactions are replayed by recover
  // itself (images, deltas and page ops over the page file's pages).
  ZeroPage(db_, 0);
  ZeroPage(db_, 1);
  RunOutput r = Recover();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("read:              the page file alone, and the log\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("9 committed transactions read from the log"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("damaged log"), std::string::npos) << r.out;  // every record applied
  const Outcome o = Compare(out_, latest_, latest_, {});
  EXPECT_EQ(o.recovered, Count(latest_)) << r.out;
  PrintYield("(b)+(e) both meta pages zeroed, 9 in the log", o, latest_, r.code);
}

// The log's first change of a page since the checkpoint is page ops on the
// page file's page (log format 8). A checkpoint cut by a crash may have
// overwritten or torn such pages; its double-write file holds them as the
// checkpoint found them (docs/format/dwb.md), and recover takes them from
// there when the page file's do not fit.
TEST_F(InspectRecoverLogTest, LogOpsOnPagesTornByACheckpointUseTheDoubleWriteCopies) {
  // The pages the log's deltas and ops apply on first, and their copies.
  std::set<uint32_t> based;
  {
    auto log = Env::Default()->OpenFile(db_ + "-wal", OpenMode::kReadOnly);
    ASSERT_TRUE(log.ok());
    wal::WalReader reader(log->get());
    ASSERT_TRUE(reader.Open().ok());
    std::set<uint32_t> seen;
    wal::Record rec;
    while (reader.Next(&rec)) {
      if (rec.type == wal::RecordType::kCommit) continue;
      if (seen.insert(rec.page_no).second && rec.type != wal::RecordType::kPageImage) {
        based.insert(rec.page_no);
      }
    }
  }
  ASSERT_FALSE(based.empty()) << "no page ops on the page file's pages";
  const std::string meta = ReadFileOrDie(db_).substr(0, kPageSize);
  pager::DwbHeader h;
  h.page_size = kPageSize;
  h.db_salt = DecodeFixed64(reinterpret_cast<const uint8_t*>(meta.data()) + 40);  // meta salt
  h.from_lsn = 1;
  h.to_lsn = 2;
  h.pages.assign(based.begin(), based.end());
  {
    auto dwb = Env::Default()->OpenFile(db_ + "-dwb", OpenMode::kCreate);
    ASSERT_TRUE(dwb.ok());
    ASSERT_TRUE(pager::WriteDoubleWrite(
                    dwb->get(), h,
                    [&](size_t i, uint8_t* out) {
                      const std::vector<uint8_t> page = ReadPageBytes(db_, h.pages[i], kPageSize);
                      std::copy(page.begin(), page.end(), out);
                      return Status::OK();
                    },
                    /*sync=*/false)
                    .ok());
  }
  for (uint32_t page : based) {  // torn: the second half garbage
    std::vector<uint8_t> bytes = ReadPageBytes(db_, page, kPageSize);
    std::fill(bytes.begin() + kPageSize / 2, bytes.end(), 0x5a);
    WritePageBytes(db_, page, bytes);
  }
  ZeroPage(db_, 0);
  ZeroPage(db_, 1);
  RunOutput r = Recover();
  EXPECT_NE(r.out.find("9 committed transactions read from the log"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("damaged log"), std::string::npos) << r.out;  // every record applied
  const Outcome o = Compare(out_, latest_, latest_, {});
  EXPECT_EQ(o.recovered, Count(latest_)) << r.out;
  PrintYield("(b)+(e) pages under the log's ops torn, their copies in DB-dwb", o, latest_, r.code);
}

TEST_F(InspectRecoverLogTest, LogHeaderDamaged) {
  // The generation field: the records still chain from the stored salt.
  std::string wal = ReadFileOrDie(db_ + "-wal");
  wal[24] = static_cast<char>(wal[24] ^ 0x5a);
  WriteFileOrDie(db_ + "-wal", wal);
  RunOutput r = Recover();
  EXPECT_EQ(r.code, 1) << r.out;
  const Outcome o = Compare(out_, latest_, *base_model_, {});
  EXPECT_EQ(o.recovered, Count(latest_)) << r.out;
  PrintYield("(e) log header damaged (generation)", o, latest_, r.code);

  // The WAL salt: nothing chains; the page file's state (the checkpoint)
  // comes back, none of the log's transactions.
  wal[24] = static_cast<char>(wal[24] ^ 0x5a);
  wal[16] = static_cast<char>(wal[16] ^ 0x5a);
  WriteFileOrDie(db_ + "-wal", wal);
  RunOutput salt = Recover();
  EXPECT_EQ(salt.code, 1) << salt.out;
  const Outcome o2 = Compare(out_, latest_, *base_model_, {});
  EXPECT_EQ(o2.recovered + o2.older, Count(*base_model_)) << salt.out;
  PrintYield("(e) log header damaged (WAL salt)", o2, latest_, salt.code);
}

TEST(InspectRecoverKeyRanges, AddMergesAndGapsComplement) {
  KeyRanges r;
  EXPECT_EQ(r.Gaps().size(), 1u);
  r.Add("c", "e");
  r.Add("a", "b");
  r.Add("b", "c");  // touches both: one range [a, e)
  ASSERT_EQ(r.Ranges().size(), 1u);
  EXPECT_EQ(r.Ranges()[0].low, "a");
  EXPECT_EQ(r.Ranges()[0].high, "e");
  EXPECT_TRUE(r.Contains("d"));
  EXPECT_FALSE(r.Contains("e"));
  EXPECT_TRUE(r.Covers("b", "e"));
  EXPECT_FALSE(r.Covers("b", "f"));
  r.Add("g", "");  // to +infinity
  const std::vector<KeyRange> gaps = r.Gaps();
  ASSERT_EQ(gaps.size(), 2u);
  EXPECT_EQ(gaps[0].low, "");
  EXPECT_EQ(gaps[0].high, "a");
  EXPECT_EQ(gaps[1].low, "e");
  EXPECT_EQ(gaps[1].high, "g");
  r.Add("", "z");
  EXPECT_TRUE(r.Gaps().empty());
  EXPECT_TRUE(r.Covers("", ""));
}

// Random inserts, the last 20 transactions in the log only: full leaves
// share records with their neighbours, which the log holds as copies from the giving leaf (log
// formats 12 and 13). With both meta pages zeroed, recover replays the log
// itself, copies included, and loses nothing.
class InspectRecoverCopiesTest : public InspectRecoverTest {
 protected:
  void SetUp() override {
    TempDir live;
    Options o;
    o.durability = Durability::kOff;
    o.wal_checkpoint_bytes = uint64_t{1} << 30;
    std::unique_ptr<DB> db = OpenDb(live.File("db"), o);
    ASSERT_NE(db, nullptr);
    std::mt19937_64 rng(5);
    Records& records = model_[""];
    for (int t = 0; t < 40; ++t) {
      if (t == 20) {
        ASSERT_TRUE(db->Checkpoint().ok());  // the page file has half
      }
      Txn x(db.get(), &model_);
      for (int i = 0; i < 200; ++i) {
        const int k = static_cast<int>(rng() % 100000);
        x.Put("", Key("", k), Value(k, t));
      }
    }
    ASSERT_GT(records.size(), 7000u);
    CopyFile(live.File("db"), db_);
    CopyFile(live.File("db-wal"), db_ + "-wal");
  }

  // The copies in the page ops of the log.
  size_t CopiesInLog() {
    auto file = Env::Default()->OpenFile(db_ + "-wal", OpenMode::kReadOnly);
    EXPECT_TRUE(file.ok());
    if (!file.ok()) return 0;
    wal::WalReader reader(file->get());
    EXPECT_TRUE(reader.Open().ok());
    size_t copies = 0;
    wal::Record rec;
    while (reader.Next(&rec)) {
      if (rec.type != wal::RecordType::kPageOps) continue;
      wal::ForEachCopySource(rec.ops, kPageSize, [&](uint32_t) { ++copies; });
    }
    return copies;
  }

  Model model_;
};

TEST_F(InspectRecoverCopiesTest, LogWithCopiesReplayedWithoutMetaPages) {
  EXPECT_GT(CopiesInLog(), 0u);
  ZeroPage(db_, 0);
  ZeroPage(db_, 1);
  RunOutput r = Recover();
  EXPECT_NE(r.out.find("read:              the page file alone, and the log\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("20 committed transactions read from the log"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("damaged log"), std::string::npos) << r.out;  // every record applied
  const Outcome o = Compare(out_, model_, model_, {});
  EXPECT_EQ(o.recovered, Count(model_)) << r.out;
}

}  // namespace
}  // namespace sombra::inspect::test
