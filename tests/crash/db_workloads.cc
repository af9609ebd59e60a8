// The "txns", "bank", "group", "trees" and "compact" workloads of db_kill_test and the
// models the parent checks them against (db_workloads.h).
#include "db_workloads.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "sombra/db.h"
#include "util/coding.h"

namespace sombra::kill_test {
namespace {

// ---- Keys and values ----------------------------------------------------

constexpr char kSeqKey[] = "__seq";  // sorts before every DbKeyName

constexpr uint32_t kTxnKeys = 3000;
constexpr int kMaxSmallTxnOps = 8;
constexpr int kMaxLargeTxnOps = 240;
constexpr int kMaxRangeDelete = 20;

constexpr uint32_t kAccounts = 32;
constexpr uint64_t kInitialBalance = 1000;
constexpr uint64_t kMaxTransfer = 500;

constexpr int kGroupThreads = 4;
constexpr uint32_t kGroupOwnKeys = 200;
constexpr uint32_t kGroupSharedKeys = 16;
constexpr uint32_t kGroupFirstOwnKey = 10000;  // thread t: + 1000 * t
constexpr uint32_t kGroupFirstSharedKey = 20000;
// Thread 0 of the group checkpoints after this many of its commits.
constexpr uint64_t kGroupCheckpointEvery = 32;

constexpr int kNamedTrees = 5;
constexpr uint32_t kTreesKeys = 600;
constexpr int kMaxTreesLargeTxnOps = 120;

uint64_t Mix(uint64_t x) {
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 32;
  return x;
}

// Mostly small values, some of a few pages (overflow pages).
size_t PatternLength(uint64_t h) {
  const uint64_t r = h % 100;
  h >>= 8;
  if (r < 60) return h % 65;
  if (r < 90) return 64 + h % 536;
  if (r < 98) return 600 + h % 2400;
  return 3000 + h % 6000;
}

// The txn id stored in a value, for messages.
std::string DescribeValue(std::string_view v) {
  if (v.size() < 16) return "a value of " + std::to_string(v.size()) + " bytes (too short)";
  const auto* p = reinterpret_cast<const uint8_t*>(v.data());
  return "the value of txn " + std::to_string(DecodeFixed64(p)) + " (amount " +
         std::to_string(DecodeFixed64(p + 8)) + ", " + std::to_string(v.size()) + " bytes)";
}

uint64_t AmountOf(std::string_view v) {
  return v.size() < 16 ? 0 : DecodeFixed64(reinterpret_cast<const uint8_t*>(v.data()) + 8);
}

std::string SeqValue(uint64_t seq) {
  std::string v;
  PutFixed64(&v, seq);
  return v;
}

bool ParseSeq(std::string_view v, uint64_t* seq) {
  if (v.size() != 8) return false;
  *seq = DecodeFixed64(reinterpret_cast<const uint8_t*>(v.data()));
  return true;
}

// ---- Child --------------------------------------------------------------

void OkOrFail(const Status& s, const std::string& what) {
  if (!s.ok()) ChildFail(what + ": " + s.ToString());
}

// The id of the last transaction committed before `txn`, from "__seq".
uint64_t ReadSeq(WriteTxn* txn) {
  std::string v;
  Status s = txn->Get(kSeqKey, &v);
  if (s.IsNotFound()) return 0;
  OkOrFail(s, "get __seq");
  uint64_t seq = 0;
  if (!ParseSeq(v, &seq)) ChildFail("__seq of " + std::to_string(v.size()) + " bytes");
  return seq;
}

void ApplyOp(WriteTxn* txn, uint64_t id, const DbOp& op) {
  const std::string key = DbKeyName(op.key_id);
  if (op.erase) {
    OkOrFail(txn->Delete(key), "delete " + key);
  } else {
    OkOrFail(txn->Put(key, DbValue(id, op.key_id, op.amount)), "put " + key);
  }
}

// Writes the transaction's ops into `txn` and appends them to `ops`.
using TxnBody = void (*)(WriteTxn* txn, uint64_t id, Rng* rng, std::vector<DbOp>* ops, void* arg);

// One transaction: its id from "__seq", the body's writes, then (unless
// it aborts, one in 24 when `may_abort`) the intent, Commit and the ack.
// Returns whether it committed.
bool RunTxn(DB* db, Reporter* out, Rng* rng, bool may_abort, TxnBody body, void* arg = nullptr) {
  std::unique_ptr<WriteTxn> txn;
  OkOrFail(db->BeginWrite(&txn), "begin write");
  const uint64_t id = ReadSeq(txn.get()) + 1;
  std::vector<DbOp> ops;
  body(txn.get(), id, rng, &ops, arg);
  OkOrFail(txn->Put(kSeqKey, SeqValue(id)), "put __seq");
  if (!ops.empty() && (*rng)() % 4 == 0) {
    // The transaction reads its own last write.
    const DbOp& last = ops.back();
    std::string v;
    Status s = txn->Get(DbKeyName(last.key_id), &v);
    const bool good =
        last.erase ? s.IsNotFound() : s.ok() && v == DbValue(id, last.key_id, last.amount);
    if (!good) {
      ChildFail("txn " + std::to_string(id) + " does not see its own write of " +
                DbKeyName(last.key_id) + ": " + s.ToString());
    }
  }
  if (may_abort && (*rng)() % 24 == 0) {
    if ((*rng)() % 2 == 0) txn->Abort();
    return false;  // else the destructor aborts
  }
  out->Send(RecordType::kIntent, id, EncodeDbOps(ops));
  OkOrFail(txn->Commit(), "commit txn " + std::to_string(id));
  out->Send(RecordType::kAck, id);
  return true;
}

// The key ids of the keys a cursor of `txn` finds from `from` on: at most
// `limit`, and only those below `end` (when not empty).
std::vector<uint32_t> KeysFrom(WriteTxn* txn, const std::string& from, const std::string& end,
                               size_t limit) {
  std::vector<uint32_t> ids;
  std::unique_ptr<Cursor> c = txn->NewCursor();
  for (c->Seek(from); c->Valid() && ids.size() < limit; c->Next()) {
    const std::string key(c->key());
    if (!end.empty() && key >= end) break;
    // DbKeyName: "k" and six digits first.
    const uint32_t key_id = static_cast<uint32_t>(std::stoul(key.substr(1, 6)));
    if (DbKeyName(key_id) != key) ChildFail("the cursor found a key no one wrote: " + key);
    ids.push_back(key_id);
  }
  OkOrFail(c->status(), "cursor");
  return ids;
}

// The tail of the key space from key id t on, deleted with one DeleteRange
// and written again with Append in ascending order (every key < "l" is a
// DbKeyName, and all of them from t on are gone, so each Append sorts
// last). Applies its ops; returns them in order.
void RewriteTail(WriteTxn* txn, uint64_t id, Rng* rng, std::vector<DbOp>* ops) {
  const auto t = static_cast<uint32_t>(kTxnKeys - 1 - (*rng)() % 200);
  for (uint32_t key_id : KeysFrom(txn, DbKeyName(t), "l", kTxnKeys)) {
    ops->push_back({key_id, true, 0});
  }
  OkOrFail(txn->DeleteRange(DbKeyName(t), "l"), "delete range from " + DbKeyName(t));
  for (uint32_t key_id = t; key_id < kTxnKeys; key_id += 1 + (*rng)() % 3) {
    const std::string key = DbKeyName(key_id);
    OkOrFail(txn->Append(key, DbValue(id, key_id, 0)), "append " + key);
    ops->push_back({key_id, false, 0});
  }
}

void TxnsBody(WriteTxn* txn, uint64_t id, Rng* rng, std::vector<DbOp>* ops, void*) {
  size_t applied = 0;  // ops already applied to txn
  if ((*rng)() % 24 == 0) {
    // Deletes a run of keys found with a cursor of the transaction: one
    // DeleteRange over them half of the time, else a Delete each.
    const std::vector<uint32_t> ids =
        KeysFrom(txn, DbKeyName(static_cast<uint32_t>((*rng)() % kTxnKeys)), "",
                 1 + (*rng)() % kMaxRangeDelete);
    for (uint32_t key_id : ids) ops->push_back({key_id, true, 0});
    if (!ids.empty() && (*rng)() % 2 == 0) {
      // [first, last + "\0"): exactly the keys the cursor found.
      const std::string end = DbKeyName(ids.back()) + std::string(1, '\0');
      OkOrFail(txn->DeleteRange(DbKeyName(ids.front()), end), "delete range");
      applied = ops->size();
    }
  } else if ((*rng)() % 24 == 0) {
    RewriteTail(txn, id, rng, ops);
    applied = ops->size();
  }
  const int n = (*rng)() % 16 == 0 ? 40 + static_cast<int>((*rng)() % (kMaxLargeTxnOps - 39))
                                   : 1 + static_cast<int>((*rng)() % kMaxSmallTxnOps);
  for (int k = 0; k < n; ++k) {
    ops->push_back({static_cast<uint32_t>((*rng)() % kTxnKeys), (*rng)() % 4 == 0, 0});
  }
  for (size_t k = applied; k < ops->size(); ++k) ApplyOp(txn, id, (*ops)[k]);
}

uint64_t Balance(WriteTxn* txn, uint32_t account) {
  std::string v;
  OkOrFail(txn->Get(DbKeyName(account), &v), "get account " + std::to_string(account));
  if (v.size() < 16) ChildFail("account " + std::to_string(account) + ": short value");
  return AmountOf(v);
}

void BankBody(WriteTxn* txn, uint64_t id, Rng* rng, std::vector<DbOp>* ops, void*) {
  const uint32_t from = static_cast<uint32_t>((*rng)() % kAccounts);
  std::vector<uint32_t> to;
  const size_t legs = 1 + (*rng)() % 3;
  while (to.size() < legs) {
    const uint32_t a = static_cast<uint32_t>((*rng)() % kAccounts);
    if (a != from && std::find(to.begin(), to.end(), a) == to.end()) to.push_back(a);
  }
  uint64_t have = Balance(txn, from);
  for (uint32_t a : to) {
    const uint64_t amount = (*rng)() % (std::min(have, kMaxTransfer) + 1);
    have -= amount;
    ops->push_back({a, false, Balance(txn, a) + amount});
  }
  ops->push_back({from, false, have});
  for (const DbOp& op : *ops) ApplyOp(txn, id, op);
}

void GroupBody(WriteTxn* txn, uint64_t id, Rng* rng, std::vector<DbOp>* ops, void* arg) {
  const int thread = *static_cast<int*>(arg);
  const uint32_t first = kGroupFirstOwnKey + 1000 * static_cast<uint32_t>(thread);
  const int n = 1 + static_cast<int>((*rng)() % 6);
  for (int k = 0; k < n; ++k) {
    ops->push_back({first + static_cast<uint32_t>((*rng)() % kGroupOwnKeys), (*rng)() % 5 == 0, 0});
  }
  if ((*rng)() % 3 == 0) {
    ops->push_back(
        {kGroupFirstSharedKey + static_cast<uint32_t>((*rng)() % kGroupSharedKeys), false, 0});
  }
  for (const DbOp& op : *ops) ApplyOp(txn, id, op);
}

void GroupThread(DB* db, Reporter* out, uint64_t seed, int thread) {
  Rng rng(seed);
  for (uint64_t n = 1;; ++n) {
    RunTxn(db, out, &rng, true, GroupBody, &thread);
    if (thread == 0 && n % kGroupCheckpointEvery == 0) OkOrFail(db->Checkpoint(), "checkpoint");
  }
}

// ---- trees ----------------------------------------------------------------

// The named trees of the "trees" workload, created in this order.
std::string NamedTreeName(int i) { return "tree-" + std::to_string(i); }

// Named tree i holds the default tree's keys with `amount` i + 1: the same
// keys, values that differ from tree to tree.
uint64_t TreeAmount(int i) { return static_cast<uint64_t>(i) + 1; }

// Applies `op` to the default tree and to each named tree.
void ApplyToAllTrees(WriteTxn* txn, const std::vector<Tree*>& trees, uint64_t id, const DbOp& op) {
  ApplyOp(txn, id, op);
  const std::string key = DbKeyName(op.key_id);
  for (int i = 0; i < kNamedTrees; ++i) {
    if (op.erase) {
      OkOrFail(txn->Delete(trees[i], key), "delete " + key + " in " + NamedTreeName(i));
    } else {
      OkOrFail(txn->Put(trees[i], key, DbValue(id, op.key_id, TreeAmount(i))),
               "put " + key + " in " + NamedTreeName(i));
    }
  }
}

// DeleteRange [begin, end) in the default tree and each named tree.
void DeleteRangeInAllTrees(WriteTxn* txn, const std::vector<Tree*>& trees, const std::string& begin,
                           const std::string& end) {
  OkOrFail(txn->DeleteRange(begin, end), "delete range from " + begin);
  for (int i = 0; i < kNamedTrees; ++i) {
    OkOrFail(txn->DeleteRange(trees[i], begin, end),
             "delete range from " + begin + " in " + NamedTreeName(i));
  }
}

// One transaction of the "trees" workload: the same writes in the default
// tree and the five named trees (found with a cursor of the default tree,
// which holds the same keys), and the transaction's id as "__seq" in each
// named tree (RunTxn writes the default tree's). `arg`: the trees.
void TreesBody(WriteTxn* txn, uint64_t id, Rng* rng, std::vector<DbOp>* ops, void* arg) {
  const auto& trees = *static_cast<std::vector<Tree*>*>(arg);
  size_t applied = 0;
  if ((*rng)() % 16 == 0) {
    // A run of keys deleted with one DeleteRange per tree.
    const std::vector<uint32_t> ids =
        KeysFrom(txn, DbKeyName(static_cast<uint32_t>((*rng)() % kTreesKeys)), "",
                 1 + (*rng)() % kMaxRangeDelete);
    for (uint32_t key_id : ids) ops->push_back({key_id, true, 0});
    if (!ids.empty()) {
      DeleteRangeInAllTrees(txn, trees, DbKeyName(ids.front()),
                            DbKeyName(ids.back()) + std::string(1, '\0'));
    }
    applied = ops->size();
  } else if ((*rng)() % 16 == 0) {
    // The tail from key id t on deleted and appended again, in every tree.
    const auto t = static_cast<uint32_t>(kTreesKeys - 1 - (*rng)() % 150);
    for (uint32_t key_id : KeysFrom(txn, DbKeyName(t), "l", kTreesKeys)) {
      ops->push_back({key_id, true, 0});
    }
    DeleteRangeInAllTrees(txn, trees, DbKeyName(t), "l");
    for (uint32_t key_id = t; key_id < kTreesKeys; key_id += 1 + (*rng)() % 3) {
      const std::string key = DbKeyName(key_id);
      OkOrFail(txn->Append(key, DbValue(id, key_id, 0)), "append " + key);
      for (int i = 0; i < kNamedTrees; ++i) {
        OkOrFail(txn->Append(trees[i], key, DbValue(id, key_id, TreeAmount(i))),
                 "append " + key + " in " + NamedTreeName(i));
      }
      ops->push_back({key_id, false, 0});
    }
    applied = ops->size();
  }
  const int n = (*rng)() % 16 == 0 ? 40 + static_cast<int>((*rng)() % (kMaxTreesLargeTxnOps - 39))
                                   : 1 + static_cast<int>((*rng)() % kMaxSmallTxnOps);
  for (int k = 0; k < n; ++k) {
    ops->push_back({static_cast<uint32_t>((*rng)() % kTreesKeys), (*rng)() % 4 == 0, 0});
  }
  for (size_t k = applied; k < ops->size(); ++k) ApplyToAllTrees(txn, trees, id, (*ops)[k]);
  for (int i = 0; i < kNamedTrees; ++i) {
    OkOrFail(txn->Put(trees[i], kSeqKey, SeqValue(id)), "put __seq in " + NamedTreeName(i));
  }
  if (!ops->empty() && (*rng)() % 4 == 0) {
    // The transaction reads its own last write in a named tree.
    const DbOp& last = ops->back();
    const int i = static_cast<int>((*rng)() % kNamedTrees);
    std::string v;
    Status s = txn->Get(trees[i], DbKeyName(last.key_id), &v);
    const bool good =
        last.erase ? s.IsNotFound() : s.ok() && v == DbValue(id, last.key_id, TreeAmount(i));
    if (!good) {
      ChildFail("txn " + std::to_string(id) + " does not see its own write of " +
                DbKeyName(last.key_id) + " in " + NamedTreeName(i) + ": " + s.ToString());
    }
  }
}

// The child of "trees": creates (or opens) the named trees, each creation
// a durable transaction of its own, then commits transactions until
// killed.
void TreesChild(DB* db, Reporter* out, Rng* rng, bool compact) {
  std::vector<Tree*> trees;
  for (int i = 0; i < kNamedTrees; ++i) {
    Tree* t = nullptr;
    OkOrFail(db->OpenTree(NamedTreeName(i), &t), "open tree " + NamedTreeName(i));
    trees.push_back(t);
  }
  for (;;) {
    const bool committed = RunTxn(db, out, rng, true, TreesBody, &trees);
    if (committed && (*rng)() % 16 == 0) OkOrFail(db->Checkpoint(), "checkpoint");
    if (compact && committed && (*rng)() % 4 == 0) OkOrFail(db->Compact(), "compact");
  }
}

// ---- Parent -------------------------------------------------------------

using Model = std::map<std::string, std::string>;

std::unique_ptr<Cursor> NewCursorOf(ReadTxn* snap, Tree* tree) {
  return tree == nullptr ? snap->NewCursor() : snap->NewCursor(tree);
}

// The tree of `snap` (the default tree when `tree` is null) holds exactly
// `model`; reports the first few differences, prefixed with `where`.
void CompareScan(ReadTxn* snap, Tree* tree, const Model& model, bool reverse,
                 const std::string& where = "") {
  std::unique_ptr<Cursor> c = NewCursorOf(snap, tree);
  int errors = 0;
  size_t seen = 0;
  auto it = model.begin();
  auto rit = model.rbegin();
  auto model_done = [&] { return reverse ? rit == model.rend() : it == model.end(); };
  auto model_key = [&]() -> const std::string& { return reverse ? rit->first : it->first; };
  auto model_value = [&]() -> const std::string& { return reverse ? rit->second : it->second; };
  auto model_next = [&] { reverse ? (void)++rit : (void)++it; };
  const std::string dir = where + (reverse ? "reverse scan" : "scan");
  reverse ? c->SeekToLast() : c->SeekToFirst();
  while (errors < 5 && (c->Valid() || !model_done())) {
    const bool db_first =
        c->Valid() && (model_done() || (reverse ? c->key() > model_key() : c->key() < model_key()));
    if (db_first) {
      ADD_FAILURE() << dir << ": key " << c->key() << " present with " << DescribeValue(c->value())
                    << ", not in the model";
      ++errors;
    } else if (!c->Valid() || c->key() != model_key()) {
      ADD_FAILURE() << dir << ": key " << model_key() << " missing; expected "
                    << DescribeValue(model_value());
      ++errors;
      model_next();
      continue;
    } else {
      if (c->value() != model_value()) {
        ADD_FAILURE() << dir << ": key " << model_key() << " holds " << DescribeValue(c->value())
                      << ", expected " << DescribeValue(model_value());
        ++errors;
      }
      model_next();
    }
    ++seen;
    reverse ? c->Prev() : c->Next();
  }
  EXPECT_TRUE(c->status().ok()) << dir << ": " << c->status().ToString();
  if (errors == 0) {
    EXPECT_EQ(seen, model.size()) << dir;
  }
}

void CompareGet(ReadTxn* snap, Tree* tree, const Model& model, const std::string& key,
                const std::string& where = "") {
  std::string v = "untouched";
  Status s = tree == nullptr ? snap->Get(key, &v) : snap->Get(tree, key, &v);
  auto it = model.find(key);
  if (it == model.end()) {
    EXPECT_TRUE(s.IsNotFound()) << where << "get " << key << ": " << s.ToString() << ", "
                                << (s.ok() ? DescribeValue(v) : "") << "; expected NotFound";
    EXPECT_EQ(v, "untouched") << where << "get " << key << " NotFound changed the value";
    return;
  }
  ASSERT_TRUE(s.ok()) << where << "get " << key << ": " << s.ToString() << "; expected "
                      << DescribeValue(it->second);
  EXPECT_EQ(v, it->second) << where << "get " << key << ": " << DescribeValue(v) << ", expected "
                           << DescribeValue(it->second);
}

// What one child reported: the intents of the transactions it began
// after the last check (whose __seq was `seq`), in order, and the ids
// whose Commit returned.
struct Reports {
  std::map<uint64_t, std::vector<DbOp>> intents;
  std::set<uint64_t> acked;
};

void ParseReports(const std::vector<Record>& records, uint64_t seq, Reports* out) {
  for (const Record& r : records) {
    switch (r.type) {
      case RecordType::kReady:
        EXPECT_EQ(r.lsn, seq) << "the child opened the database at __seq " << r.lsn
                              << ", the last check saw " << seq;
        break;
      case RecordType::kIntent: {
        ASSERT_EQ(r.lsn, seq + out->intents.size() + 1)
            << "txn ids not consecutive: the child began txn " << r.lsn << " after "
            << out->intents.size() << " since " << seq;
        std::vector<DbOp> ops;
        ASSERT_TRUE(DecodeDbOps(r.payload, &ops)) << "malformed intent of txn " << r.lsn;
        out->intents.emplace(r.lsn, std::move(ops));
        break;
      }
      case RecordType::kAck:
        ASSERT_TRUE(out->intents.count(r.lsn) == 1 && out->acked.count(r.lsn) == 0)
            << "ack of txn " << r.lsn << " without its intent, or twice";
        out->acked.insert(r.lsn);
        break;
      case RecordType::kOpening:
        break;
    }
  }
}

// A workload as the parent sees it: the model of the whole database
// (every key, "__seq" included) as of transaction seq_.
class DbSubject final : public KillSubject {
 public:
  explicit DbSubject(std::string name) : name_(std::move(name)) {}

  const char* name() const override { return name_.c_str(); }

  void Create(const std::string& path) override {
    std::unique_ptr<DB> db;
    Status s = DB::Open(DbKillOptions(), path, &db);
    ASSERT_TRUE(s.ok()) << "create: " << s.ToString();
    if (name_ != "bank") return;
    // Transaction 1 opens the accounts.
    std::unique_ptr<WriteTxn> txn;
    s = db->BeginWrite(&txn);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::vector<DbOp> ops;
    for (uint32_t a = 0; a < kAccounts; ++a) {
      ops.push_back({a, false, kInitialBalance});
      s = txn->Put(DbKeyName(a), DbValue(1, a, kInitialBalance));
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    s = txn->Put(kSeqKey, SeqValue(1));
    ASSERT_TRUE(s.ok()) << s.ToString();
    s = txn->Commit();
    ASSERT_TRUE(s.ok()) << s.ToString();
    Apply(1, ops);
    seq_ = 1;
  }

  void Check(const std::string& path, const std::vector<Record>& records, Rng* rng) override {
    // Half the checks open read-only: the log stays for the next child to
    // recover (and maybe die recovering).
    Options options = DbKillOptions();
    options.read_only = (*rng)() % 2 == 0;
    std::unique_ptr<DB> db;
    Status s = DB::Open(options, path, &db);
    ASSERT_TRUE(s.ok()) << "reopen (read_only=" << options.read_only
                        << ") after the kill: " << s.ToString();

    // What the child reported.
    Reports reports;
    ParseReports(records, seq_, &reports);
    if (::testing::Test::HasFatalFailure()) return;
    const auto& intents = reports.intents;
    const auto& acked = reports.acked;
    const uint64_t max_acked = acked.empty() ? seq_ : *acked.rbegin();
    const uint64_t max_begun = seq_ + intents.size();

    std::unique_ptr<ReadTxn> snap;
    s = db->BeginRead(&snap);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::string v;
    uint64_t got = 0;
    s = snap->Get(kSeqKey, &v);
    if (!s.IsNotFound()) {
      ASSERT_TRUE(s.ok()) << "get __seq: " << s.ToString();
      ASSERT_TRUE(ParseSeq(v, &got)) << "__seq of " << v.size() << " bytes";
    }
    const std::string where =
        "recovered __seq " + std::to_string(got) + "; last check " + std::to_string(seq_) +
        ", last acknowledged " + std::to_string(max_acked) + ", last begun " +
        std::to_string(max_begun) + " (" + std::to_string(acked.size()) + " acks this round)";
    SCOPED_TRACE(where);
    ASSERT_GE(got, max_acked) << "acknowledged transactions lost";
    ASSERT_LE(got, max_begun) << "a transaction the child never began";
    int unacked = 0;
    for (uint64_t id = seq_ + 1; id <= got; ++id) {
      unacked += acked.count(id) == 0 ? 1 : 0;
      Apply(id, intents.at(id));
    }
    EXPECT_LE(unacked, name_ == "group" ? kGroupThreads : 1)
        << "more unacknowledged transactions present than threads committing";
    seq_ = got;

    CompareScan(snap.get(), nullptr, model_, /*reverse=*/false);
    CompareScan(snap.get(), nullptr, model_, /*reverse=*/true);
    // Point reads of every key the round's transactions touched, present
    // or not.
    std::set<uint32_t> touched;
    for (const auto& [id, ops] : intents) {
      for (const DbOp& op : ops) touched.insert(op.key_id);
    }
    for (uint32_t key_id : touched) CompareGet(snap.get(), nullptr, model_, DbKeyName(key_id));
    if (name_ == "bank") CheckTotal(snap.get());
    snap.reset();
    s = db->Verify();
    EXPECT_TRUE(s.ok()) << "Verify: " << s.ToString();
  }

 private:
  void Apply(uint64_t id, const std::vector<DbOp>& ops) {
    for (const DbOp& op : ops) {
      if (op.erase) {
        model_.erase(DbKeyName(op.key_id));
      } else {
        model_[DbKeyName(op.key_id)] = DbValue(id, op.key_id, op.amount);
      }
    }
    model_[kSeqKey] = SeqValue(id);
  }

  void CheckTotal(ReadTxn* snap) {
    uint64_t total = 0;
    for (uint32_t a = 0; a < kAccounts; ++a) {
      std::string v;
      Status s = snap->Get(DbKeyName(a), &v);
      ASSERT_TRUE(s.ok()) << "account " << a << ": " << s.ToString();
      total += AmountOf(v);
    }
    EXPECT_EQ(total, kAccounts * kInitialBalance) << "money created or destroyed";
  }

  const std::string name_;
  Model model_;
  uint64_t seq_ = 0;  // "__seq" at the last check
};

// The "trees" workload as the parent sees it: a model of the default
// tree and of each named tree as of transaction seq_.
class TreesSubject final : public KillSubject {
 public:
  // "trees", or "compact": the same with a compaction after one commit in
  // four (compaction changes no record, so the model is the same).
  explicit TreesSubject(const char* name = "trees") : name_(name) {}
  const char* name() const override { return name_; }

  // The database only: the child creates the trees.
  void Create(const std::string& path) override {
    std::unique_ptr<DB> db;
    Status s = DB::Open(DbKillOptions(), path, &db);
    ASSERT_TRUE(s.ok()) << "create: " << s.ToString();
  }

  void Check(const std::string& path, const std::vector<Record>& records, Rng* rng) override {
    Options options = DbKillOptions();
    options.read_only = (*rng)() % 2 == 0;
    std::unique_ptr<DB> db;
    Status s = DB::Open(options, path, &db);
    ASSERT_TRUE(s.ok()) << "reopen (read_only=" << options.read_only
                        << ") after the kill: " << s.ToString();
    Reports reports;
    ParseReports(records, seq_, &reports);
    if (::testing::Test::HasFatalFailure()) return;
    const uint64_t max_acked = reports.acked.empty() ? seq_ : *reports.acked.rbegin();
    const uint64_t max_begun = seq_ + reports.intents.size();

    // The trees the child created so far: a prefix of tree-0 .. tree-4
    // (each creation is durable before the next begins), all five once
    // any transaction committed. Only those are opened: a writable
    // OpenTree of a missing name would create it.
    std::vector<std::string> names;
    s = db->ListTrees(&names);
    ASSERT_TRUE(s.ok()) << "ListTrees: " << s.ToString();
    std::vector<std::string> want;
    for (int i = 0; i < kNamedTrees; ++i) want.push_back(NamedTreeName(i));
    std::sort(want.begin(), want.end());
    std::vector<Tree*> trees;  // by index i, null when not (yet) created
    for (int i = 0; i < kNamedTrees; ++i) {
      Tree* t = nullptr;
      if (std::find(names.begin(), names.end(), NamedTreeName(i)) != names.end()) {
        s = db->OpenTree(NamedTreeName(i), &t);
        ASSERT_TRUE(s.ok()) << "open " << NamedTreeName(i) << ": " << s.ToString();
      }
      trees.push_back(t);
    }
    for (int i = 1; i < kNamedTrees; ++i) {
      ASSERT_TRUE(trees[i] == nullptr || trees[i - 1] != nullptr)
          << NamedTreeName(i) << " exists without " << NamedTreeName(i - 1);
    }
    for (const std::string& n : names) {
      ASSERT_TRUE(std::binary_search(want.begin(), want.end(), n)) << "a tree named " << n;
    }

    std::unique_ptr<ReadTxn> snap;
    s = db->BeginRead(&snap);
    ASSERT_TRUE(s.ok()) << s.ToString();
    // __seq of the default tree and of each named tree: the transaction
    // each is at. All six must agree.
    auto seq_in = [&](Tree* tree, const std::string& what, uint64_t* seq) {
      *seq = 0;
      std::string v;
      Status st = tree == nullptr ? snap->Get(kSeqKey, &v) : snap->Get(tree, kSeqKey, &v);
      if (st.IsNotFound()) return;
      ASSERT_TRUE(st.ok()) << "get __seq in " << what << ": " << st.ToString();
      ASSERT_TRUE(ParseSeq(v, seq)) << "__seq in " << what << " of " << v.size() << " bytes";
    };
    uint64_t got = 0;
    seq_in(nullptr, "the default tree", &got);
    if (::testing::Test::HasFatalFailure()) return;
    std::string seqs = "default " + std::to_string(got);
    bool agree = true;
    for (int i = 0; i < kNamedTrees; ++i) {
      uint64_t in_tree = 0;
      if (trees[i] != nullptr) seq_in(trees[i], NamedTreeName(i), &in_tree);
      if (::testing::Test::HasFatalFailure()) return;
      seqs += ", " + NamedTreeName(i) + " " +
              (trees[i] == nullptr ? std::string("absent") : std::to_string(in_tree));
      agree &= in_tree == got && (got == 0 || trees[i] != nullptr);
    }
    const std::string where = "recovered __seq: " + seqs + "; last check " + std::to_string(seq_) +
                              ", last acknowledged " + std::to_string(max_acked) + ", last begun " +
                              std::to_string(max_begun) + " (" +
                              std::to_string(reports.acked.size()) + " acks this round)";
    SCOPED_TRACE(where);
    ASSERT_TRUE(agree) << "the trees are not all at one transaction";
    ASSERT_GE(got, max_acked) << "acknowledged transactions lost";
    ASSERT_LE(got, max_begun) << "a transaction the child never began";
    int unacked = 0;
    for (uint64_t id = seq_ + 1; id <= got; ++id) {
      unacked += reports.acked.count(id) == 0 ? 1 : 0;
      Apply(id, reports.intents.at(id));
    }
    EXPECT_LE(unacked, 1) << "more than one unacknowledged transaction present";
    seq_ = got;

    // Every tree equals its model (a created tree with no transaction yet
    // is empty); one of them, at random, backwards too.
    const int reverse = static_cast<int>((*rng)() % (kNamedTrees + 1)) - 1;
    CompareScan(snap.get(), nullptr, models_[0], false, "default tree: ");
    if (reverse == -1) CompareScan(snap.get(), nullptr, models_[0], true, "default tree: ");
    for (int i = 0; i < kNamedTrees; ++i) {
      if (trees[i] == nullptr) continue;
      const std::string label = NamedTreeName(i) + ": ";
      CompareScan(snap.get(), trees[i], models_[i + 1], false, label);
      if (reverse == i) CompareScan(snap.get(), trees[i], models_[i + 1], true, label);
    }
    std::set<uint32_t> touched;
    for (const auto& [id, ops] : reports.intents) {
      for (const DbOp& op : ops) touched.insert(op.key_id);
    }
    for (uint32_t key_id : touched) {
      CompareGet(snap.get(), nullptr, models_[0], DbKeyName(key_id), "default tree: ");
      for (int i = 0; i < kNamedTrees; ++i) {
        if (trees[i] == nullptr) continue;
        CompareGet(snap.get(), trees[i], models_[i + 1], DbKeyName(key_id),
                   NamedTreeName(i) + ": ");
      }
    }
    snap.reset();
    s = db->Verify();
    EXPECT_TRUE(s.ok()) << "Verify: " << s.ToString();
  }

 private:
  void Apply(uint64_t id, const std::vector<DbOp>& ops) {
    for (int t = 0; t <= kNamedTrees; ++t) {
      const uint64_t amount = t == 0 ? 0 : TreeAmount(t - 1);
      Model& m = models_[t];
      for (const DbOp& op : ops) {
        if (op.erase) {
          m.erase(DbKeyName(op.key_id));
        } else {
          m[DbKeyName(op.key_id)] = DbValue(id, op.key_id, amount);
        }
      }
      m[kSeqKey] = SeqValue(id);
    }
  }

  const char* const name_;
  Model models_[kNamedTrees + 1];  // the default tree, then tree-0 .. tree-4
  uint64_t seq_ = 0;               // "__seq" at the last check
};

}  // namespace

std::string DbKeyName(uint32_t key_id) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "k%06u", key_id);
  std::string key(buf);
  // One key in eleven is long (up to 400 bytes): fewer keys per page.
  if (key_id % 11 == 0) key.append((key_id * 131) % 400, static_cast<char>('a' + key_id % 26));
  return key;
}

std::string DbValue(uint64_t txn_id, uint32_t key_id, uint64_t amount) {
  std::string v;
  PutFixed64(&v, txn_id);
  PutFixed64(&v, amount);
  const uint64_t h = Mix(txn_id * 0x9E3779B97F4A7C15ull ^ (uint64_t{key_id} << 1));
  const size_t n = PatternLength(h);
  v.reserve(v.size() + n);
  uint64_t x = h;
  for (size_t i = 0; i < n; ++i) {
    if (i % 8 == 0) x = Mix(x + i);
    v.push_back(static_cast<char>(x >> (8 * (i % 8))));
  }
  return v;
}

std::string EncodeDbOps(const std::vector<DbOp>& ops) {
  std::string out;
  for (const DbOp& op : ops) {
    PutVarint32(&out, op.key_id);
    out.push_back(op.erase ? 1 : 0);
    PutVarint64(&out, op.amount);
  }
  return out;
}

bool DecodeDbOps(std::string_view payload, std::vector<DbOp>* ops) {
  Decoder d(payload);
  while (d.remaining() > 0) {
    DbOp op;
    std::string_view erase;
    if (!d.GetVarint32(&op.key_id) || !d.GetBytes(1, &erase) || !d.GetVarint64(&op.amount)) {
      return false;
    }
    op.erase = erase[0] != 0;
    ops->push_back(op);
  }
  return true;
}

Options DbKillOptions() {
  Options o;
  o.durability = Durability::kFull;
  o.wal_checkpoint_bytes = 256 << 10;
  return o;
}

std::unique_ptr<KillSubject> MakeDbSubject(const std::string& name) {
  if (name == "txns" || name == "bank" || name == "group") return std::make_unique<DbSubject>(name);
  if (name == "trees") return std::make_unique<TreesSubject>();
  if (name == "compact") return std::make_unique<TreesSubject>("compact");
  return nullptr;
}

void DbChild(const std::string& workload, const std::string& path, Reporter* out, Rng* rng) {
  if (MakeDbSubject(workload) == nullptr) ChildFail("no workload " + workload);
  out->Send(RecordType::kOpening, 0);
  std::unique_ptr<DB> db;
  OkOrFail(DB::Open(DbKillOptions(), path, &db), "open");
  std::string v;
  uint64_t seq = 0;
  Status s = db->Get(kSeqKey, &v);
  if (!s.IsNotFound()) {
    OkOrFail(s, "get __seq");
    if (!ParseSeq(v, &seq)) ChildFail("__seq of " + std::to_string(v.size()) + " bytes");
  }
  out->Send(RecordType::kReady, seq);
  if (workload == "group") {
    std::vector<std::thread> threads;
    for (int t = 0; t < kGroupThreads; ++t) {
      threads.emplace_back(GroupThread, db.get(), out, (*rng)(), t);
    }
    for (auto& t : threads) t.join();  // never: the threads run until killed
    return;
  }
  if (workload == "trees" || workload == "compact") {
    TreesChild(db.get(), out, rng, workload == "compact");  // never returns
  }
  const bool bank = workload == "bank";
  for (;;) {
    const bool committed = RunTxn(db.get(), out, rng, true, bank ? BankBody : TxnsBody);
    if (committed && (*rng)() % 16 == 0) OkOrFail(db->Checkpoint(), "checkpoint");
  }
}

}  // namespace sombra::kill_test
