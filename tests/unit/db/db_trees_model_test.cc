// Named trees against a model (docs/testing.md, "Model tests"): 50 named
// trees and the default tree against a std::map of std::maps.
//
// Each transaction works on one to five trees at random: Put (small
// values, now and then ~9000-byte overflow values), Delete, Append of
// keys after the tree's last key (and a refused Append of a key that does
// not sort last), DeleteRange (and a refused reversed range), Get and
// cursor walks compared with the transaction's own view, a whole-tree scan
// inside the transaction, reads of a snapshot that must not see the
// transaction. It commits or aborts at random; the model changes only on
// commit. After every transaction Verify() passes and the trees it touched
// equal the model; every few, every tree and ListTrees do. The database is
// checkpointed and reopened now and then; now and then a random tree is
// dropped (its old handle turns invalid, ListTrees loses it, it is
// recreated empty at once or a few transactions later), and a snapshot
// held across several transactions, drops included, still reads every
// tree as it was.
//
// DbTreesModelCrashTest: the same transactions, drops and
// recreations on a FaultInjectionEnv (durability full): the file system
// dies after a random number of mutating calls, unsynced data is dropped
// (or torn), the database reopens, and every tree together equals the
// model after the last acknowledged commit or, entirely, after the one in
// flight: never some trees of a commit without the others.
//
// SOMBRA_SEED=<seed> replays a run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "db/db_impl.h"
#include "db_test_util.h"
#include "env/fault_injection_env.h"
#include "sombra/db.h"
#include "testutil/no_sync_env.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"

namespace sombra::dbtest {
namespace {

using CrashMode = FaultInjectionEnv::CrashMode;
// Every tree by name; "" is the default tree.
using Trees = std::map<std::string, KV>;

constexpr int kNamedTrees = 50;

// Names of 1 to 255 bytes, some with 0x00 and 0xff bytes.
std::string TreeName(int i) {
  std::string name = "tree-" + std::to_string(i);
  if (i % 10 == 3) name += std::string("\x00\xff", 2);
  if (i % 10 == 7) name.append(120, static_cast<char>('a' + i % 26));
  if (i == 9) name = std::string(255, 'n');
  if (i == 11) name = "x";
  return name;
}

std::string Show(const std::string& name) {
  if (name.empty()) return "the default tree";
  std::string out = "tree '";
  for (unsigned char ch : name.substr(0, 24)) {
    if (ch >= 0x20 && ch < 0x7f) {
      out += static_cast<char>(ch);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", ch);
      out += buf;
    }
  }
  if (name.size() > 24) out += "...(" + std::to_string(name.size()) + " bytes)";
  return out + "'";
}

std::vector<std::string> NamedTrees(const Trees& trees) {
  std::vector<std::string> names;
  for (const auto& [name, kv] : trees) {
    if (!name.empty()) names.push_back(name);
  }
  return names;
}

// The first difference between two sets of trees, "" when equal.
std::string DiffTrees(const Trees& got, const Trees& want) {
  for (const auto& [name, kv] : want) {
    auto it = got.find(name);
    if (it == got.end()) return Show(name) + " missing";
    std::string d = DiffKV(it->second, kv);
    if (!d.empty()) return Show(name) + ": " + d;
  }
  for (const auto& [name, kv] : got) {
    if (want.count(name) == 0) return Show(name) + " present, not in the model";
  }
  return "";
}

enum class Outcome {
  kCommitted,
  kAborted,
  kStopped,  // a call failed before Commit (a crash run): nothing logged
  kFailed,   // Commit failed (a crash run): the transaction is in flight
};

class DbTreesModelTest : public ::testing::Test {
 protected:
  // ---- Random keys and values ----

  std::string RandomKey() {
    static const char kAlphabet[] = {'\x00', 'a', 'b', 'c', 'm', 'z', '\xff'};
    size_t len;
    switch (rng_() % 20) {
      case 0:
        len = 61 + rng_() % 240;
        break;
      case 1:
      case 2:
      case 3:
      case 4:
        len = 13 + rng_() % 48;
        break;
      default:
        len = 1 + rng_() % (rng_() % 2 == 0 ? 4 : 12);
        break;
    }
    std::string k;
    if (rng_() % 6 == 0) k.assign(std::min<size_t>(len, 40), 'p');
    while (k.size() < len) k.push_back(kAlphabet[rng_() % sizeof(kAlphabet)]);
    return k;
  }
  // An existing key of `m` half of the time, else a random one.
  std::string PickKey(const KV& m) {
    return dbtest::PickKey(rng_, m, [this] { return RandomKey(); });
  }
  // A key that sorts after `last`: `last` and one more byte, or (once it
  // is long) a short prefix of it with its last byte incremented.
  std::string KeyAfter(const std::string& last) {
    if (last.size() < 60) return last + static_cast<char>(rng_() % 256);
    std::string k = last.substr(0, 8 + rng_() % 24);
    while (!k.empty() && static_cast<unsigned char>(k.back()) == 0xff) k.pop_back();
    if (k.empty()) return last + 'a';
    k.back() = static_cast<char>(static_cast<unsigned char>(k.back()) + 1);
    return k;
  }
  std::string SmallValue() {
    const int r = static_cast<int>(rng_() % 100);
    size_t len;
    if (r < 70) {
      len = rng_() % 41;
    } else if (r < 95) {
      len = 40 + rng_() % 360;
    } else {
      len = 400 + rng_() % 800;  // around the inline limit
    }
    return FillValue(len, rng_());
  }
  std::string LargeValue() { return FillValue(8500 + rng_() % 1000, rng_()); }  // overflow

  // ---- Checks ----

  // The tree under `c` scanned forwards (and with `reverse` backwards
  // too) against `want`: "" when they match.
  std::string CheckScan(Cursor* c, const KV& want, bool reverse) {
    std::string d = DiffKV(Dump(c), want);
    if (d.empty() && reverse) d = DiffKV(DumpReverse(c), want);
    return d;
  }

  // Seeks to a random key and walks up to 12 steps, mostly forwards,
  // comparing with `m`. "" when it matches.
  std::string CheckWalk(Cursor* c, const KV& m) {
    const std::string target = PickKey(m);
    c->Seek(target);
    auto it = m.lower_bound(target);
    const int steps = static_cast<int>(rng_() % 12);
    for (int s = 0; s <= steps; ++s) {
      if (it == m.end()) return c->Valid() ? "valid past the last key" : "";
      if (!c->Valid()) return "invalid before key " + it->first + ": " + c->status().ToString();
      if (c->key() != it->first)
        return "walk at '" + std::string(c->key()) + "', want " + it->first;
      if (c->value() != it->second) return "walk: the value of " + it->first + " differs";
      if (rng_() % 4 == 0) {
        c->Prev();
        if (it == m.begin()) return c->Valid() ? "valid before the first key" : "";
        --it;
      } else {
        c->Next();
        ++it;
      }
    }
    return c->status().ok() ? "" : c->status().ToString();
  }

  // A Get of `key` against `m`: "" when it matches.
  template <typename Reader>
  std::string CheckGet(Reader* r, Tree* tree, const KV& m, const std::string& key,
                       Status* status = nullptr) {
    std::string v = "untouched";
    Status s = r->Get(tree, key, &v);
    if (status != nullptr) *status = s;
    auto it = m.find(key);
    if (it == m.end()) {
      if (!s.IsNotFound()) return "get of an absent key: " + s.ToString();
      if (v != "untouched") return "get of an absent key changed the value";
      return "";
    }
    if (!s.ok()) return "get: " + s.ToString();
    if (v != it->second)
      return "get: a value of " + std::to_string(v.size()) + " bytes, want " +
             std::to_string(it->second.size());
    return "";
  }

  // Every tree through one snapshot: ListTrees equals the model's names,
  // and each tree's content (a scan, some walks and gets) the model's.
  void CheckAllTrees(DB* db, const Trees& model, const std::string& when) {
    std::vector<std::string> names;
    Status s = db->ListTrees(&names);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(names, NamedTrees(model)) << when << ", seed " << seed_;
    std::unique_ptr<ReadTxn> r;
    ASSERT_TRUE(db->BeginRead(&r).ok());
    for (const auto& [name, kv] : model) {
      Tree* t = handles_.at(name);
      auto c = r->NewCursor(t);
      ASSERT_EQ(CheckScan(c.get(), kv, rng_() % 8 == 0), "")
          << Show(name) << ", " << when << ", seed " << seed_;
      ASSERT_EQ(CheckWalk(c.get(), kv), "") << Show(name) << ", " << when << ", seed " << seed_;
      ASSERT_EQ(CheckGet(r.get(), t, kv, PickKey(kv)), "")
          << Show(name) << ", " << when << ", seed " << seed_;
    }
  }

  // The trees `names` through a new snapshot.
  void CheckTrees(DB* db, const Trees& model, const std::vector<std::string>& names,
                  const std::string& when) {
    std::unique_ptr<ReadTxn> r;
    ASSERT_TRUE(db->BeginRead(&r).ok());
    for (const std::string& name : names) {
      auto c = r->NewCursor(handles_.at(name));
      ASSERT_EQ(CheckScan(c.get(), model.at(name), false), "")
          << Show(name) << ", " << when << ", seed " << seed_;
    }
  }

  // Everything `db` holds, found through ListTrees (which must list no
  // tree twice and not the default tree); fills handles_.
  void ReadEverything(DB* db, Trees* got) {
    got->clear();
    handles_.clear();
    std::vector<std::string> names;
    Status s = db->ListTrees(&names);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(std::is_sorted(names.begin(), names.end()));
    ASSERT_TRUE(std::adjacent_find(names.begin(), names.end()) == names.end());
    handles_[""] = db->DefaultTree();
    for (const std::string& name : names) {
      ASSERT_FALSE(name.empty());
      Tree* t = nullptr;
      s = db->OpenTree(name, &t);
      ASSERT_TRUE(s.ok()) << Show(name) << ": " << s.ToString();
      handles_[name] = t;
    }
    std::unique_ptr<ReadTxn> r;
    ASSERT_TRUE(db->BeginRead(&r).ok());
    for (const auto& [name, t] : handles_) {
      auto c = r->NewCursor(t);
      (*got)[name] = Dump(c.get());
      ASSERT_TRUE(c->status().ok()) << Show(name) << ": " << c->status().ToString();
    }
  }

  // Handles for every tree of `model` (each must exist).
  void OpenHandles(DB* db, const Trees& model) {
    handles_.clear();
    handles_[""] = db->DefaultTree();
    for (const std::string& name : NamedTrees(model)) {
      Tree* t = nullptr;
      Status s = db->OpenTree(name, &t);
      ASSERT_TRUE(s.ok()) << Show(name) << ": " << s.ToString();
      handles_[name] = t;
    }
  }

  // ---- One transaction ----

  // A random transaction over one to five trees of `model`; the trees it
  // wrote, as they are after it (or would be, had it committed), go to
  // *changed. With `faults` (a crash run) an IOError from any call stops
  // it (kStopped, or kFailed from Commit), with *error set; every other
  // error, and any difference from the model, fails the test.
  Outcome RunTxn(DB* db, const Trees& model, bool faults, const std::string& when, Trees* changed,
                 Status* error) {
    changed->clear();
    // Checks a call's status: true when OK. An IOError in a crash run
    // stops the transaction; anything else is a failure.
    auto ok = [&](const Status& s, const std::string& what) {
      if (s.ok()) return true;
      *error = s;
      if (!(faults && s.IsIOError())) {
        ADD_FAILURE() << what << ": " << s.ToString() << ", " << when << ", seed " << seed_;
      }
      return false;
    };
    auto fail = [&](const std::string& what) {
      ADD_FAILURE() << what << ", " << when << ", seed " << seed_;
      *error = Status::Corruption(what);
      return Outcome::kStopped;
    };
    // The transaction's view of a tree (copied from the model on first use).
    auto local = [&](const std::string& name) -> KV& {
      auto it = changed->find(name);
      if (it == changed->end()) it = changed->emplace(name, model.at(name)).first;
      return it->second;
    };

    // The trees of this transaction: half of them from the first six
    // trees by name (which grow larger), the others from all.
    std::vector<std::string> all;
    for (const auto& [name, kv] : model) all.push_back(name);
    std::vector<std::string> mine;
    const size_t n_trees = 1 + rng_() % 5;
    while (mine.size() < std::min(n_trees, all.size())) {
      const size_t from = rng_() % 2 == 0 ? std::min<size_t>(6, all.size()) : all.size();
      const std::string& name = all[rng_() % from];
      if (std::find(mine.begin(), mine.end(), name) == mine.end()) mine.push_back(name);
    }

    // A snapshot of the committed state, taken before the writer begins
    // (half the time) or inside it: it must not see the transaction.
    std::unique_ptr<ReadTxn> before;
    if (rng_() % 4 == 0 && !ok(db->BeginRead(&before), "begin read")) return Outcome::kStopped;
    std::unique_ptr<WriteTxn> w;
    if (!ok(db->BeginWrite(&w), "begin write")) return Outcome::kStopped;
    const bool big_txn = rng_() % 12 == 0;
    const int ops =
        big_txn ? 40 + static_cast<int>(rng_() % 120) : 1 + static_cast<int>(rng_() % 24);
    for (int i = 0; i < ops; ++i) {
      const std::string& name = mine[rng_() % mine.size()];
      Tree* t = handles_.at(name);
      KV& m = local(name);
      const int r = static_cast<int>(rng_() % 100);
      if (r < 35 || r >= 95) {
        const std::string k = rng_() % 10 < 3 ? PickKey(m) : RandomKey();
        const std::string v = rng_() % 40 == 0 ? LargeValue() : SmallValue();
        if (!ok(w->Put(t, k, v), "put in " + Show(name))) return Outcome::kStopped;
        m[k] = v;
      } else if (r < 38) {
        const std::string k = PickKey(m);
        const std::string v = LargeValue();
        if (!ok(w->Put(t, k, v), "put of a large value in " + Show(name))) return Outcome::kStopped;
        m[k] = v;
      } else if (r < 50) {
        const std::string k = PickKey(m);
        if (!ok(w->Delete(t, k), "delete in " + Show(name))) return Outcome::kStopped;
        m.erase(k);
      } else if (r < 56) {
        // Append keys after the tree's last key; rarely a few hundred.
        const int n = rng_() % 10 == 0 ? 100 + static_cast<int>(rng_() % 300)
                                       : 1 + static_cast<int>(rng_() % 20);
        for (int a = 0; a < n; ++a) {
          const std::string k = m.empty() ? RandomKey() : KeyAfter(m.rbegin()->first);
          const std::string v = rng_() % 60 == 0 ? LargeValue() : SmallValue();
          if (!ok(w->Append(t, k, v), "append in " + Show(name))) return Outcome::kStopped;
          m[k] = v;
        }
        if (!m.empty() && rng_() % 4 == 0) {
          // A key that does not sort after the last: refused, nothing
          // written, the transaction goes on.
          std::string k = PickKey(m);
          if (k > m.rbegin()->first) k = m.begin()->first;
          Status s = w->Append(t, k, "no");
          if (!s.IsInvalidArgument())
            return fail("append of a key not sorting last: " + s.ToString());
        }
      } else if (r < 61) {
        // DeleteRange [begin, end) over up to ~40 keys of the tree, or
        // rarely of much of it, or an empty range.
        std::string begin = PickKey(m);
        auto from = m.lower_bound(begin);
        auto to = from;
        const int span = rng_() % 20 == 0 ? 1000 : static_cast<int>(rng_() % 40);
        for (int s = 0; s < span && to != m.end(); ++s) ++to;
        std::string end;
        if (to != m.end()) {
          end = to->first;
        } else if (!m.empty()) {
          end = m.rbegin()->first + std::string(1, '\0');
        } else {
          end = begin + "a";
        }
        if (end < begin) end = begin;  // the tree has no key from begin on
        if (rng_() % 16 == 0) end = begin;
        if (rng_() % 12 == 0 && end > begin) {
          Status s = w->DeleteRange(t, end, begin);
          if (!s.IsInvalidArgument()) return fail("a reversed DeleteRange: " + s.ToString());
        }
        if (!ok(w->DeleteRange(t, begin, end), "delete range in " + Show(name))) {
          return Outcome::kStopped;
        }
        m.erase(m.lower_bound(begin), m.lower_bound(end));
      } else if (r < 78) {
        Status s;
        std::string d = CheckGet(w.get(), t, m, PickKey(m), &s);
        if (faults && s.IsIOError()) {
          *error = s;
          return Outcome::kStopped;
        }
        if (!d.empty()) return fail(Show(name) + " in the transaction: " + d);
      } else if (r < 85) {
        auto c = w->NewCursor(t);
        std::string d = CheckWalk(c.get(), m);
        if (!d.empty()) return fail(Show(name) + ", a walk in the transaction: " + d);
      } else if (r < 89) {
        auto c = w->NewCursor(t);
        std::string d = CheckScan(c.get(), m, rng_() % 4 == 0);
        if (!d.empty()) return fail(Show(name) + ", a scan in the transaction: " + d);
      } else {
        // The snapshot sees the committed state only.
        if (before == nullptr && !ok(db->BeginRead(&before), "begin read")) {
          return Outcome::kStopped;
        }
        const KV& committed = model.at(name);
        std::string d = rng_() % 2 ? CheckGet(before.get(), t, committed, PickKey(m)) : "";
        if (d.empty()) {
          auto c = before->NewCursor(t);
          d = CheckWalk(c.get(), committed);
        }
        if (!d.empty()) return fail(Show(name) + ", a snapshot beside the transaction: " + d);
      }
    }
    before.reset();
    if (rng_() % 100 < 15) {
      if (rng_() % 2) w->Abort();
      w.reset();  // else the destructor aborts
      return Outcome::kAborted;
    }
    Status s = w->Commit();
    if (!ok(s, "commit")) return faults && s.IsIOError() ? Outcome::kFailed : Outcome::kStopped;
    return Outcome::kCommitted;
  }

  std::mt19937_64 rng_;
  uint64_t seed_ = 0;
  std::map<std::string, Tree*> handles_;  // of every tree in the model
  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
};

TEST_F(DbTreesModelTest, FiftyTreesMatchTheModel) {
  seed_ = sombra::test::TestSeed();
  rng_.seed(seed_);
  constexpr int kTransactions = 1000;
  Options o = FastOptions();
  o.wal_checkpoint_bytes = 1 << 20;
  auto db = OpenOrDie(o, path_);
  ASSERT_NE(db, nullptr);
  Trees model;
  model[""];
  handles_[""] = db->DefaultTree();
  for (int i = 0; i < kNamedTrees; ++i) {
    Tree* t = nullptr;
    Status s = db->OpenTree(TreeName(i), &t);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(t->name(), TreeName(i));
    handles_[TreeName(i)] = t;
    model[TreeName(i)];
  }
  CheckAllTrees(db.get(), model, "after creating the trees");
  if (HasFatalFailure()) return;

  std::vector<Tree*> stale;          // handles of dropped trees
  std::vector<std::string> dropped;  // names dropped and not yet created again
  // A snapshot held across transactions, with the model it began at.
  std::unique_ptr<ReadTxn> held;
  Trees held_model;
  std::map<std::string, Tree*> held_handles;  // handles_ when it began
  int held_until = 0;
  int held_across_drops = 0;  // trees read in it through a handle of a later tree
  int committed = 0, aborted = 0, drops = 0, reopens = 0, held_checks = 0;
  uint64_t compacted_pages = 0;
  size_t max_keys = 0;

  auto check_held = [&](const std::string& when) {
    // Every tree as it was: through the current handle of its name (the
    // tree may have been dropped and created again since; the snapshot
    // still sees the old one, whose pages are not reused meanwhile).
    for (const auto& [name, kv] : held_model) {
      auto h = handles_.find(name);
      if (h == handles_.end()) continue;  // dropped, not created again: no handle
      held_across_drops += held_handles.at(name) != h->second ? 1 : 0;
      auto c = held->NewCursor(h->second);
      ASSERT_EQ(CheckScan(c.get(), kv, false), "")
          << Show(name) << " in a snapshot held since transaction " << held_until << ", " << when
          << ", seed " << seed_;
    }
    held.reset();
    held_model.clear();
    ++held_checks;
  };

  auto create = [&](const std::string& name, const std::string& when) {
    Tree* t = nullptr;
    Status s = db->OpenTree(name, &t);
    ASSERT_TRUE(s.ok()) << Show(name) << ": " << s.ToString();
    ASSERT_TRUE(std::find(stale.begin(), stale.end(), t) == stale.end())
        << "a new tree got a dropped tree's handle";
    handles_[name] = t;
    model[name];
    std::unique_ptr<ReadTxn> r;
    ASSERT_TRUE(db->BeginRead(&r).ok());
    auto c = r->NewCursor(t);
    ASSERT_EQ(DiffKV(Dump(c.get()), {}), "") << Show(name) << " created again, " << when;
  };

  for (int t = 1; t <= kTransactions; ++t) {
    const std::string when = "transaction " + std::to_string(t);
    if (held == nullptr && rng_() % 15 == 0) {
      ASSERT_TRUE(db->BeginRead(&held).ok());
      held_model = model;
      held_handles = handles_;
      held_until = t;
    }
    Trees changed;
    Status error;
    const Outcome out = RunTxn(db.get(), model, false, when, &changed, &error);
    if (HasFailure()) return;
    if (out == Outcome::kCommitted) {
      std::vector<std::string> touched;
      for (auto& [name, kv] : changed) {
        model[name] = std::move(kv);
        touched.push_back(name);
      }
      ++committed;
      CheckTrees(db.get(), model, touched, when);
    } else {
      ASSERT_EQ(out, Outcome::kAborted);
      ++aborted;
      // An abort changes nothing: the trees it wrote are the model's.
      std::vector<std::string> touched;
      for (const auto& [name, kv] : changed) touched.push_back(name);
      CheckTrees(db.get(), model, touched, when + " (aborted)");
    }
    if (HasFatalFailure()) return;
    Status v = db->Verify();
    ASSERT_TRUE(v.ok()) << when << ", seed " << seed_ << ": " << v.ToString();
    size_t keys = 0;
    for (const auto& [name, kv] : model) keys += kv.size();
    max_keys = std::max(max_keys, keys);

    if (t % 5 == 0) {
      CheckAllTrees(db.get(), model, when);
      if (HasFatalFailure()) return;
    }
    if (held != nullptr && t >= held_until + 8) {
      check_held(when);
      if (HasFatalFailure()) return;
    }
    if (rng_() % 20 == 0) {
      // Drop a tree: its pages are freed, its handle turns invalid, the
      // other trees stay; recreate it now, or a few transactions later.
      for (const std::string& name : dropped) create(name, when);
      dropped.clear();
      if (HasFatalFailure()) return;
      const std::vector<std::string> names = NamedTrees(model);
      const std::string name = names[rng_() % names.size()];
      Tree* old = handles_.at(name);
      Status s = db->DropTree(name);
      ASSERT_TRUE(s.ok()) << "drop " << Show(name) << ": " << s.ToString();
      ++drops;
      model.erase(name);
      handles_.erase(name);
      stale.push_back(old);
      std::vector<std::string> listed;
      ASSERT_TRUE(db->ListTrees(&listed).ok());
      ASSERT_EQ(listed, NamedTrees(model)) << "after dropping " << Show(name);
      EXPECT_TRUE(db->DropTree(name).IsNotFound());
      std::unique_ptr<ReadTxn> r;
      ASSERT_TRUE(db->BeginRead(&r).ok());
      std::string value;
      s = r->Get(old, "a", &value);
      ASSERT_TRUE(s.IsInvalidArgument()) << "get with a dropped tree's handle: " << s.ToString();
      auto c = r->NewCursor(old);
      ASSERT_TRUE(c->status().IsInvalidArgument()) << c->status().ToString();
      r.reset();
      std::unique_ptr<WriteTxn> w;
      ASSERT_TRUE(db->BeginWrite(&w).ok());
      s = w->Put(old, "a", "b");
      ASSERT_TRUE(s.IsInvalidArgument()) << "put with a dropped tree's handle: " << s.ToString();
      w.reset();
      if (rng_() % 3 == 0) {
        dropped.push_back(name);
      } else {
        create(name, when);
      }
      CheckAllTrees(db.get(), model, "after dropping " + Show(name) + ", " + when);
      if (HasFatalFailure()) return;
      v = db->Verify();
      ASSERT_TRUE(v.ok()) << "after a drop, " << when << ", seed " << seed_ << ": " << v.ToString();
    }
    if (t % 37 == 0) {
      Status c = db->Checkpoint();
      ASSERT_TRUE(c.ok()) << c.ToString();
    }
    if (t % 89 == 44) {
      // Compaction under a held snapshot (when there is one): pages move,
      // the trees and the snapshot read as before.
      CompactStats cs;
      v = db->Compact(&cs);
      ASSERT_TRUE(v.ok()) << "compact, " << when << ", seed " << seed_ << ": " << v.ToString();
      compacted_pages += cs.pages_moved;
      v = db->Verify();
      ASSERT_TRUE(v.ok()) << "after compact, " << when << ", seed " << seed_ << ": "
                          << v.ToString();
      CheckAllTrees(db.get(), model, "after compact, " + when);
      if (HasFatalFailure()) return;
      if (held != nullptr) check_held(when + ", after a compaction");
      if (HasFatalFailure()) return;
    }
    if (t % 80 == 0) {
      if (held != nullptr) check_held(when + ", before a reopen");
      if (HasFatalFailure()) return;
      handles_.clear();
      stale.clear();  // gone with the DB
      db.reset();
      db = OpenOrDie(o, path_);
      ASSERT_NE(db, nullptr);
      ++reopens;
      v = db->Verify();
      ASSERT_TRUE(v.ok()) << "after reopen, " << when << ": " << v.ToString();
      OpenHandles(db.get(), model);
      if (HasFatalFailure()) return;
      CheckAllTrees(db.get(), model, "after reopen, " + when);
      if (HasFatalFailure()) return;
    }
  }
  held.reset();
  handles_.clear();
  db.reset();
  db = OpenOrDie(o, path_);
  ASSERT_NE(db, nullptr);
  Trees got;
  ReadEverything(db.get(), &got);
  if (HasFatalFailure()) return;
  EXPECT_EQ(DiffTrees(got, model), "") << "final reopen, seed " << seed_;
  Status v = db->Verify();
  EXPECT_TRUE(v.ok()) << v.ToString();
  size_t keys = 0;
  for (const auto& [name, kv] : model) keys += kv.size();
  const Stats stats = db->GetStats();
  std::printf(
      "[ info     ] %d committed, %d aborted, %d drops, %d reopens, %d held snapshots (%d trees "
      "read in one after a drop); max %zu keys, %zu at the end, %llu pages (%llu free); "
      "%llu pages moved by compactions\n",
      committed, aborted, drops, reopens, held_checks, held_across_drops, max_keys, keys,
      static_cast<unsigned long long>(stats.page_count),
      static_cast<unsigned long long>(stats.freelist_pages),
      static_cast<unsigned long long>(compacted_pages));
  EXPECT_GT(committed, 0);
  EXPECT_GT(drops, 0);
  EXPECT_GT(compacted_pages, 0u);  // the compactions had pages to move
}

// ---- Crashes ----

struct CrashStats {
  int crashes = 0;
  int interrupted = 0;          // the file system died before the phase ended
  int recovered_in_flight = 0;  // the reopened database held the commit in flight
  int lost_in_flight = 0;       // ... or the state before it
  int torn = 0;
  int commits = 0, drops = 0, checkpoints = 0;
  // Where the file system's death showed: a call before Commit, Commit,
  // DropTree, OpenTree creating a tree, Checkpoint.
  int died_in_txn = 0, died_in_commit = 0, died_in_drop = 0, died_in_create = 0,
      died_in_checkpoint = 0, compactions = 0, died_in_compact = 0;
};

class DbTreesModelCrashTest : public DbTreesModelTest {
 protected:
  // Transactions, drops, recreations and checkpoints until a call fails
  // (true) or `max_txns`. *acked follows every acknowledged change;
  // *in_flight is what the failed one would have made it.
  bool RunUntilFailure(DB* db, int max_txns, Trees* acked, std::optional<Trees>* in_flight,
                       CrashStats* st) {
    for (int t = 0; t < max_txns; ++t) {
      const std::string when = "step " + std::to_string(t);
      const int r = static_cast<int>(rng_() % 100);
      if (r < 3) {
        if (!db->Checkpoint().ok()) {
          st->died_in_checkpoint++;
          return true;
        }
        st->checkpoints++;
        continue;
      }
      if (r < 6) {
        // Compaction changes no record: whatever step it dies at, the
        // trees are as acknowledged.
        if (!db->Compact().ok()) {
          st->died_in_compact++;
          return true;
        }
        st->compactions++;
        continue;
      }
      if (r < 11) {
        // Drop a tree; create it again (or one dropped earlier).
        const std::vector<std::string> names = NamedTrees(*acked);
        std::vector<std::string> missing;
        for (int i = 0; i < kNamedTrees; ++i) {
          if (acked->count(TreeName(i)) == 0) missing.push_back(TreeName(i));
        }
        if (!names.empty() && (missing.empty() || rng_() % 2 == 0)) {
          const std::string name = names[rng_() % names.size()];
          Trees next = *acked;
          next.erase(name);
          Status s = db->DropTree(name);
          if (!s.ok()) {
            EXPECT_TRUE(s.IsIOError()) << "drop " << Show(name) << ": " << s.ToString();
            *in_flight = std::move(next);
            st->died_in_drop++;
            return true;
          }
          *acked = std::move(next);
          handles_.erase(name);
          st->drops++;
        } else if (!missing.empty()) {
          const std::string name = missing[rng_() % missing.size()];
          Trees next = *acked;
          next[name];
          Tree* tree = nullptr;
          Status s = db->OpenTree(name, &tree);
          if (!s.ok()) {
            EXPECT_TRUE(s.IsIOError()) << "create " << Show(name) << ": " << s.ToString();
            *in_flight = std::move(next);
            st->died_in_create++;
            return true;
          }
          *acked = std::move(next);
          handles_[name] = tree;
        }
        continue;
      }
      Trees changed;
      Status error;
      const Outcome out = RunTxn(db, *acked, true, when, &changed, &error);
      if (::testing::Test::HasFailure()) return true;
      if (out == Outcome::kAborted) continue;
      Trees next = *acked;
      for (auto& [name, kv] : changed) next[name] = std::move(kv);
      if (out == Outcome::kCommitted) {
        *acked = std::move(next);
        st->commits++;
        continue;
      }
      EXPECT_TRUE(error.IsIOError()) << error.ToString();
      if (out == Outcome::kFailed) {
        *in_flight = std::move(next);
        st->died_in_commit++;
      } else {
        st->died_in_txn++;
      }
      return true;
    }
    return false;
  }

  test::NoSyncEnv disk_;  // the "disk" under every FaultInjectionEnv
};

TEST_F(DbTreesModelCrashTest, CrashKeepsAllTreesAtOneCommit) {
  seed_ = sombra::test::TestSeed();
  rng_.seed(seed_);
  constexpr int kRounds = 16;
  CrashStats st;
  for (int round = 0; round < kRounds; ++round) {
    const std::string path = dir_.File("crash" + std::to_string(round));
    FaultInjectionEnv env(&disk_, seed_ + static_cast<uint64_t>(round));
    Options o;
    o.page_size = 4096;
    o.durability = Durability::kFull;
    o.wal_checkpoint_bytes = (64 << 10) << (rng_() % 3);  // 64 .. 256 KiB
    std::unique_ptr<DB> db;
    Status s = db::OpenWithEnv(&env, o, path, &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    Trees acked;
    acked[""];
    handles_.clear();
    handles_[""] = db->DefaultTree();
    // The trees, each in its own commit, before the first crash: 50, or
    // fewer now and then (the rest are created by the workload).
    const int n_trees = round % 3 == 2 ? 5 : kNamedTrees;
    for (int i = 0; i < n_trees; ++i) {
      Tree* t = nullptr;
      s = db->OpenTree(TreeName(i), &t);
      ASSERT_TRUE(s.ok()) << s.ToString();
      handles_[TreeName(i)] = t;
      acked[TreeName(i)];
    }
    for (int phase = 0; phase < 3; ++phase) {
      const uint64_t k = rng_() % 1500;
      const CrashMode mode =
          (round + phase) % 2 ? CrashMode::kTornSectors : CrashMode::kDropUnsynced;
      SCOPED_TRACE("seed " + std::to_string(seed_) + " round " + std::to_string(round) + " phase " +
                   std::to_string(phase) + ": crash after " + std::to_string(k) + " ops, " +
                   (mode == CrashMode::kTornSectors ? "torn sectors" : "drop unsynced"));
      std::optional<Trees> in_flight;
      env.CrashAfterOps(k);
      const bool died = RunUntilFailure(db.get(), 120, &acked, &in_flight, &st);
      if (HasFailure()) return;
      env.SetActive(false);  // the process dies: its close writes nothing
      handles_.clear();
      db.reset();
      ASSERT_TRUE(env.Crash(mode).ok());
      env.SetActive(true);
      st.crashes++;
      st.interrupted += died ? 1 : 0;
      st.torn += mode == CrashMode::kTornSectors ? 1 : 0;

      s = db::OpenWithEnv(&env, o, path, &db);
      ASSERT_TRUE(s.ok()) << "reopen after the crash: " << s.ToString();
      Status v = db->Verify();
      ASSERT_TRUE(v.ok()) << "after the crash: " << v.ToString();
      Trees got;
      ReadEverything(db.get(), &got);
      if (HasFatalFailure()) return;
      const std::string diff = DiffTrees(got, acked);
      if (diff.empty()) {
        if (in_flight.has_value()) st.lost_in_flight++;
        continue;
      }
      ASSERT_TRUE(in_flight.has_value()) << "an acknowledged commit is lost: " << diff;
      ASSERT_EQ(DiffTrees(got, *in_flight), "")
          << "neither before (" << diff << ") nor after the commit in flight";
      st.recovered_in_flight++;
      acked = std::move(*in_flight);
    }
    handles_.clear();
    db.reset();  // a clean close keeps everything too
    s = db::OpenWithEnv(&env, o, path, &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    Trees got;
    ReadEverything(db.get(), &got);
    if (HasFatalFailure()) return;
    ASSERT_EQ(DiffTrees(got, acked), "") << "round " << round << ", after a clean close";
    Status v = db->Verify();
    ASSERT_TRUE(v.ok()) << "round " << round << ", after a clean close: " << v.ToString();
    handles_.clear();
    db.reset();
  }
  std::printf(
      "[ crash    ] %d crashes (%d torn sectors, %d interrupting the workload; commit in flight: "
      "%d recovered, %d lost), %d commits, %d drops, %d checkpoints; died in: a transaction %d, "
      "Commit %d, DropTree %d, OpenTree %d, Checkpoint %d, Compact %d (of %d)\n",
      st.crashes, st.torn, st.interrupted, st.recovered_in_flight, st.lost_in_flight, st.commits,
      st.drops, st.checkpoints, st.died_in_txn, st.died_in_commit, st.died_in_drop,
      st.died_in_create, st.died_in_checkpoint, st.died_in_compact,
      st.compactions + st.died_in_compact);
  EXPECT_GE(st.interrupted, kRounds);  // crashes that cut the workload short
}

}  // namespace
}  // namespace sombra::dbtest
