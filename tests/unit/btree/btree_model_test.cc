// The B+tree against std::map: random puts, updates that change the value's
// size (inline <-> overflow too), deletes, gets, cursor walks from random
// seeks in both directions and the edges, in transactions of random size of
// which some abort (the model rolls back). VerifyTree after every commit, a
// full scan compare every few commits, reopens of the pager on the way.
// Page sizes 4096 and 65536.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "btree/btree.h"
#include "btree_model_util.h"
#include "model_workload.h"
#include "pager/pager.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"

namespace sombra::btree::model_test {
namespace {

// std::map plus an array of its keys (uniform picks of an existing key) and
// an undo journal for aborted transactions.
class Model {
 public:
  const std::map<std::string, std::string>& map() const { return map_; }
  size_t size() const { return map_.size(); }

  void Begin() { undo_.clear(); }
  void Put(const std::string& key, const std::string& value) {
    auto it = map_.find(key);
    if (it == map_.end()) {
      undo_.push_back(Undo{key, false, {}});
      Insert(key, value);
    } else {
      undo_.push_back(Undo{key, true, it->second});
      it->second = value;
    }
  }
  bool Erase(const std::string& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return false;
    undo_.push_back(Undo{key, true, std::move(it->second)});
    Remove(key);
    return true;
  }
  void Rollback() {
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
      if (it->had) {
        auto m = map_.find(it->key);
        if (m == map_.end()) {
          Insert(it->key, it->old);
        } else {
          m->second = it->old;
        }
      } else {
        Remove(it->key);
      }
    }
    undo_.clear();
  }
  // A uniformly chosen existing key; REQUIRES: size() > 0.
  const std::string& RandomKey(std::mt19937_64& rng) const { return keys_[rng() % keys_.size()]; }

 private:
  struct Undo {
    std::string key;
    bool had;
    std::string old;
  };
  void Insert(const std::string& key, const std::string& value) {
    map_.emplace(key, value);
    pos_[key] = keys_.size();
    keys_.push_back(key);
  }
  void Remove(const std::string& key) {
    map_.erase(key);
    auto p = pos_.find(key);
    const size_t i = p->second;
    pos_.erase(p);
    if (i + 1 != keys_.size()) {
      keys_[i] = std::move(keys_.back());
      pos_[keys_[i]] = i;
    }
    keys_.pop_back();
  }

  std::map<std::string, std::string> map_;
  std::vector<std::string> keys_;
  std::unordered_map<std::string, size_t> pos_;
  std::vector<Undo> undo_;
};

struct Config {
  uint32_t page_size;
  uint64_t ops;         // operations in all
  size_t high_keys;     // the workload grows the tree to this many keys,
  size_t low_keys;      // then shrinks it to this many, and again
  int reopen_every;     // committed transactions between reopens
  uint32_t min_height;  // the tallest tree must reach this height
};

struct Stats {
  uint64_t ops = 0, puts = 0, updates = 0, deletes = 0, gets = 0, seeks = 0, edges = 0;
  uint64_t committed = 0, aborted = 0, reopens = 0, checkpoints = 0, full_compares = 0;
  uint64_t snapshot_checks = 0, verified_pages = 0;
  uint32_t max_height = 0;
  size_t max_keys = 0;
};

class BTreeModelTest : public ::testing::Test {
 protected:
  void Open(uint32_t page_size) {
    Options o;
    o.page_size = page_size;
    o.durability = Durability::kOff;
    o.wal_checkpoint_bytes = 4 << 20;
    auto p = pager::Pager::Open(&env_, dir_.File("db"), o, {}, &metrics_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pager_ = std::move(p).value();
  }

  // Cursor from Seek(start) forward and backward, compared with the model.
  void CheckCursorAt(const PageReader& read, uint32_t root, const Model& m,
                     const std::string& start, int steps) {
    const auto& map = m.map();
    {
      TreeCursor cur(read, pager_->page_size(), root, c_);
      cur.Seek(start);
      auto it = map.lower_bound(start);
      for (int i = 0; i < steps; ++i) {
        if (it == map.end()) {
          ASSERT_FALSE(cur.Valid()) << "forward step " << i << " past the model's end";
          break;
        }
        ASSERT_TRUE(cur.Valid()) << "forward step " << i << ": " << cur.status().ToString();
        ASSERT_EQ(cur.key(), it->first) << "forward step " << i;
        ASSERT_EQ(cur.value(), it->second) << "forward step " << i;
        cur.Next();
        ++it;
      }
      ASSERT_TRUE(cur.status().ok()) << cur.status().ToString();
    }
    {
      TreeCursor cur(read, pager_->page_size(), root, c_);
      cur.Seek(start);
      auto it = map.lower_bound(start);
      if (it == map.end()) {
        ASSERT_FALSE(cur.Valid());
        if (map.empty()) return;
        cur.SeekToLast();
        --it;
      }
      for (int i = 0; i < steps; ++i) {
        ASSERT_TRUE(cur.Valid()) << "backward step " << i << ": " << cur.status().ToString();
        ASSERT_EQ(cur.key(), it->first) << "backward step " << i;
        ASSERT_EQ(cur.value(), it->second) << "backward step " << i;
        cur.Prev();
        if (it == map.begin()) {
          ASSERT_FALSE(cur.Valid()) << "backward past the model's first key";
          break;
        }
        --it;
      }
      ASSERT_TRUE(cur.status().ok()) << cur.status().ToString();
    }
  }

  void CheckEdges(const PageReader& read, uint32_t root, const Model& m) {
    const auto& map = m.map();
    TreeCursor cur(read, pager_->page_size(), root, c_);
    cur.SeekToFirst();
    if (map.empty()) {
      ASSERT_FALSE(cur.Valid());
    } else {
      ASSERT_TRUE(cur.Valid()) << cur.status().ToString();
      ASSERT_EQ(cur.key(), map.begin()->first);
      ASSERT_EQ(cur.value(), map.begin()->second);
      cur.Prev();
      ASSERT_FALSE(cur.Valid());
    }
    cur.SeekToLast();
    if (map.empty()) {
      ASSERT_FALSE(cur.Valid());
    } else {
      ASSERT_TRUE(cur.Valid()) << cur.status().ToString();
      ASSERT_EQ(cur.key(), map.rbegin()->first);
      ASSERT_EQ(cur.value(), map.rbegin()->second);
      cur.Next();
      ASSERT_FALSE(cur.Valid());
    }
    ASSERT_TRUE(cur.status().ok()) << cur.status().ToString();
  }

  // The published tree equals the model: VerifyTree, a forward scan, and
  // (when `backward`) a backward one.
  void CompareAll(const Model& m, bool backward, Stats* st) {
    auto snap = pager_->BeginRead();
    uint64_t pages = 0;
    Status v = VerifyTree(*snap, &pages);
    ASSERT_TRUE(v.ok()) << v.ToString();
    st->verified_pages += pages;
    Status s;
    auto got = ScanAll(SnapshotReader(snap.get()), pager_->page_size(), snap->state().root, c_, &s);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(MapDiff(got, m.map()), "");
    st->full_compares++;
    if (backward) {
      TreeCursor cur(SnapshotReader(snap.get()), pager_->page_size(), snap->state().root, c_);
      auto it = m.map().rbegin();
      for (cur.SeekToLast(); cur.Valid(); cur.Prev(), ++it) {
        ASSERT_NE(it, m.map().rend());
        ASSERT_EQ(cur.key(), it->first);
      }
      ASSERT_TRUE(cur.status().ok()) << cur.status().ToString();
      ASSERT_EQ(it, m.map().rend());
    }
    TreeWalker walker(SnapshotReader(snap.get()), pager_->page_size());
    TreeShape shape = walker.Walk(snap->state().root);
    ASSERT_EQ(shape.error, "");
    st->max_height = std::max(st->max_height, shape.height);
  }

  void Run(const Config& cfg) {
    const uint64_t seed = sombra::test::TestSeed();
    std::mt19937_64 rng(seed);
    Open(cfg.page_size);
    ASSERT_NE(pager_, nullptr);
    Workload gen(rng, cfg.page_size);
    Model m;
    Stats st;
    const auto t0 = std::chrono::steady_clock::now();
    std::unique_ptr<pager::Snapshot> held;  // an old reader, checked later
    std::map<std::string, std::string> held_model;
    while (st.ops < cfg.ops) {
      SCOPED_TRACE("seed " + std::to_string(seed) + ", after " + std::to_string(st.ops) + " ops, " +
                   std::to_string(st.committed) + " commits");
      if (held == nullptr && rng() % 64 == 0) {
        held = pager_->BeginRead();
        held_model = m.map();
      }
      if (rng() % 32 == 0) {
        ASSERT_TRUE(pager_->Checkpoint().ok());
        st.checkpoints++;
      }
      const int kind = static_cast<int>(rng() % 10);
      const uint64_t txn_ops = kind < 4   ? 1 + rng() % 8
                               : kind < 8 ? 8 + rng() % 92
                                          : 100 + rng() % 300;
      const bool abort = rng() % 10 == 0;
      m.Begin();
      {
        auto txn = pager_->BeginWrite();
        ASSERT_TRUE(txn.ok()) << txn.status().ToString();
        BTreeWriter w(txn->get(), &metrics_);
        for (uint64_t i = 0; i < txn_ops; ++i) {
          Step(&w, gen, rng, cfg, &m, &st);
          if (HasFatalFailure()) return;
        }
        if (abort) {
          if (rng() % 2 == 0) (*txn)->Abort();  // else the destructor aborts
          m.Rollback();
          st.aborted++;
        } else {
          Status s = (*txn)->Commit();
          ASSERT_TRUE(s.ok()) << s.ToString();
          st.committed++;
        }
      }
      // VerifyTree after every commit; a full compare every few.
      {
        auto snap = pager_->BeginRead();
        uint64_t pages = 0;
        Status v = VerifyTree(*snap, &pages);
        ASSERT_TRUE(v.ok()) << v.ToString();
        st.verified_pages += pages;
      }
      if (abort || (st.committed % 8) == 0) {
        CompareAll(m, rng() % 4 == 0, &st);
        if (HasFatalFailure()) return;
      }
      if (held != nullptr && rng() % 8 == 0) {
        Status s;
        auto got =
            ScanAll(SnapshotReader(held.get()), pager_->page_size(), held->state().root, c_, &s);
        ASSERT_TRUE(s.ok()) << s.ToString();
        ASSERT_EQ(MapDiff(got, held_model), "") << "an old snapshot changed";
        Status v = VerifyTree(*held);
        ASSERT_TRUE(v.ok()) << "old snapshot: " << v.ToString();
        held.reset();
        held_model.clear();
        st.snapshot_checks++;
      }
      if (!abort && st.committed % cfg.reopen_every == 0) {
        held.reset();
        pager_.reset();
        Open(cfg.page_size);
        ASSERT_NE(pager_, nullptr);
        st.reopens++;
        CompareAll(m, true, &st);
        if (HasFatalFailure()) return;
      }
      st.max_keys = std::max(st.max_keys, m.size());
    }
    held.reset();
    pager_.reset();
    Open(cfg.page_size);
    st.reopens++;
    CompareAll(m, true, &st);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(metrics_.Value("allocator_failures"), 0u);
    EXPECT_EQ(metrics_.Value("allocator_split_triggers"),
              metrics_.Value("leaf_splits") + metrics_.Value("leaf_shares"));
    std::printf(
        "[ model    ] page %u: %llu ops (%llu puts, %llu updates, %llu deletes, %llu gets, "
        "%llu seeks, %llu edge checks) in %llu commits + %llu aborts, %llu reopens, %llu "
        "checkpoints, %llu full compares, %llu old-snapshot checks, %llu pages verified, max "
        "%zu keys, max height %u; splits %llu leaf / %llu internal, merges %llu, borrows %llu, "
        "overflow pages %llu, compactions %llu; %.1f s\n",
        cfg.page_size, (unsigned long long)st.ops, (unsigned long long)st.puts,
        (unsigned long long)st.updates, (unsigned long long)st.deletes, (unsigned long long)st.gets,
        (unsigned long long)st.seeks, (unsigned long long)st.edges,
        (unsigned long long)st.committed, (unsigned long long)st.aborted,
        (unsigned long long)st.reopens, (unsigned long long)st.checkpoints,
        (unsigned long long)st.full_compares, (unsigned long long)st.snapshot_checks,
        (unsigned long long)st.verified_pages, st.max_keys, st.max_height,
        (unsigned long long)metrics_.Value("leaf_splits"),
        (unsigned long long)metrics_.Value("internal_splits"),
        (unsigned long long)metrics_.Value("leaf_merges"),
        (unsigned long long)metrics_.Value("leaf_borrows"),
        (unsigned long long)metrics_.Value("overflow_pages"),
        (unsigned long long)metrics_.Value("allocator_compactions"), secs);
    RecordProperty("ops", std::to_string(st.ops));
    // The workload reached what it is meant to exercise.
    EXPECT_GT(st.reopens, 2u);
    EXPECT_GT(st.aborted, 0u);
    EXPECT_GE(st.max_height, cfg.min_height);
    EXPECT_GT(metrics_.Value("leaf_merges"), 0u);
    EXPECT_GT(metrics_.Value("leaf_borrows"), 0u);
    EXPECT_GT(metrics_.Value("overflow_pages"), 0u);
  }

  // One random operation inside a transaction, mirrored in the model.
  void Step(BTreeWriter* w, Workload& gen, std::mt19937_64& rng, const Config& cfg, Model* m,
            Stats* st) {
    st->ops++;
    if (m->size() >= cfg.high_keys) grow_ = false;
    if (m->size() <= cfg.low_keys) grow_ = true;
    const bool grow = grow_;
    int r = static_cast<int>(rng() % 100);
    if (m->size() == 0 && r >= 35) r = 0;
    if (r < (grow ? 40 : 20)) {  // put a new key (an update when it exists)
      std::string key = gen.Key();
      std::string value = gen.Value();
      Status s = w->Put(key, value);
      ASSERT_TRUE(s.ok()) << s.ToString();
      m->Put(key, value);
      st->puts++;
    } else if (r < (grow ? 55 : 30)) {  // update an existing key with a value of another size
      const std::string key = m->RandomKey(rng);
      const size_t old = m->map().at(key).size();
      std::string value = gen.ValueOtherThan(old);
      Status s = w->Put(key, value);
      ASSERT_TRUE(s.ok()) << s.ToString();
      m->Put(key, value);
      st->updates++;
    } else if (r < 65) {  // delete: mostly existing keys
      const std::string key = rng() % 8 == 0 ? gen.Key() : m->RandomKey(rng);
      bool existed = false;
      Status s = w->Delete(key, &existed);
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_EQ(existed, m->Erase(key));
      st->deletes++;
    } else if (r < 85) {  // get
      const std::string key = rng() % 4 == 0 || m->size() == 0 ? gen.Key() : m->RandomKey(rng);
      std::string value;
      Status s = w->Get(key, &value);
      auto it = m->map().find(key);
      if (it == m->map().end()) {
        ASSERT_TRUE(s.IsNotFound()) << s.ToString();
      } else {
        ASSERT_TRUE(s.ok()) << s.ToString();
        ASSERT_EQ(value, it->second);
      }
      st->gets++;
    } else if (r < 96) {  // cursor from a random seek, both ways, in the transaction
      std::string start = m->size() == 0 || rng() % 2 == 0 ? gen.Key() : m->RandomKey(rng);
      CheckCursorAt(w->reader(), w->root(), *m, start, 1 + static_cast<int>(rng() % 40));
      st->seeks++;
    } else {
      CheckEdges(w->reader(), w->root(), *m);
      st->edges++;
    }
  }

  NoSyncEnv env_;  // durability is not under test here: no fdatasync
  sombra::test::TempDir dir_;
  MetricsRegistry metrics_;
  BTreeCounters counters_{&metrics_};
  const BTreeCounters* c_ = &counters_;
  std::unique_ptr<pager::Pager> pager_;
  bool grow_ = true;
};

TEST_F(BTreeModelTest, RandomOperationsMatchStdMapAt4KiB) {
  Run(Config{4096, 150000, 2500, 150, 400, 3});
}

TEST_F(BTreeModelTest, RandomOperationsMatchStdMapAt64KiB) {
  Run(Config{65536, 60000, 2500, 100, 150, 2});
}

}  // namespace
}  // namespace sombra::btree::model_test
