// Helpers shared by the B+tree model, crash, counter and split tests: keys,
// an independent walk of the tree's pages (fences checked against the
// parents' separators), scans into a std::map, an Env without fdatasync.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "btree/btree.h"
#include "btree/internal_node.h"
#include "btree/leaf_allocator.h"
#include "btree/node_format.h"
#include "env/env.h"
#include "pager/format.h"
#include "pager/pager.h"
#include "pager/pager_txn.h"
#include "pager/snapshot.h"
#include "testutil/no_sync_env.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"
#include "util/metrics.h"

namespace sombra::btree::model_test {

// 8-byte big-endian key: byte order equals numeric order.
inline std::string BeKey(uint64_t i) {
  std::string k(8, '\0');
  for (int b = 0; b < 8; ++b) k[b] = static_cast<char>(i >> (56 - 8 * b));
  return k;
}

inline PageReader TxnReader(pager::PagerTxn* txn) {
  return [txn](uint32_t page_no) { return txn->Read(page_no); };
}

struct LeafInfo {
  uint32_t page_no = 0;
  std::string low, high;  // fences (empty: infinite)
  uint32_t left = 0, right = 0;
  size_t records = 0;
  uint32_t used = 0;              // records + slots
  uint32_t capacity = 0;          // page_size - 52 - fences
  uint32_t free = 0;              // gap + holes
  std::vector<std::string> keys;  // only when asked for
};

struct TreeShape {
  std::vector<LeafInfo> leaves;  // in key order
  uint32_t height = 0;           // levels, the leaves included (0: empty tree)
  uint64_t internal_pages = 0;
  uint16_t root_level = 0;
  std::string error;  // first inconsistency found, empty when none

  double AverageFill(bool skip_last) const {
    double sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < leaves.size(); ++i) {
      if (skip_last && i + 1 == leaves.size() && leaves.size() > 1) continue;
      sum += static_cast<double>(leaves[i].used) / leaves[i].capacity;
      ++n;
    }
    return n == 0 ? 0 : sum / static_cast<double>(n);
  }
  double MinFill(bool skip_last) const {
    double m = 1.0;
    for (size_t i = 0; i < leaves.size(); ++i) {
      if (skip_last && i + 1 == leaves.size()) continue;
      m = std::min(m, static_cast<double>(leaves[i].used) / leaves[i].capacity);
    }
    return m;
  }
};

// Walks the tree from `root` page by page (no cursor, no BTreeWriter):
// internal pages through InternalNode, leaves through
// LeafLayout::Parse - all counted in a private MetricsRegistry,
// so the database's counters are not disturbed. Checks on the way that
// every leaf's fences equal the separators its ancestors give, levels
// decrease by one, and the sibling links chain the leaves in order.
class TreeWalker {
 public:
  TreeWalker(PageReader read, uint32_t page_size) : read_(std::move(read)), ps_(page_size) {}

  TreeShape Walk(uint32_t root, bool with_keys = false) {
    TreeShape shape;
    with_keys_ = with_keys;
    if (root == 0) return shape;
    Visit(root, "", false, "", false, -1, 1, &shape);
    if (!shape.error.empty()) return shape;
    for (size_t i = 0; i < shape.leaves.size(); ++i) {
      const uint32_t want_left = i == 0 ? 0 : shape.leaves[i - 1].page_no;
      const uint32_t want_right = i + 1 == shape.leaves.size() ? 0 : shape.leaves[i + 1].page_no;
      if (shape.leaves[i].left != want_left || shape.leaves[i].right != want_right) {
        shape.error = "leaf " + std::to_string(shape.leaves[i].page_no) + ": sibling links " +
                      std::to_string(shape.leaves[i].left) + "/" +
                      std::to_string(shape.leaves[i].right) + ", expected " +
                      std::to_string(want_left) + "/" + std::to_string(want_right);
        return shape;
      }
      if (i > 0 && shape.leaves[i - 1].high != shape.leaves[i].low) {
        shape.error = "leaf " + std::to_string(shape.leaves[i].page_no) +
                      ": low fence differs from the left neighbour's high fence";
        return shape;
      }
    }
    return shape;
  }

  // The leaf whose fences hold `key` (by descent), 0 on error.
  uint32_t LeafFor(uint32_t root, std::string_view key) {
    uint32_t page_no = root;
    for (int depth = 0; depth < 64 && page_no != 0; ++depth) {
      auto page = read_(page_no);
      if (!page.ok()) return 0;
      if ((*page)[pager::kHeaderKindOffset] == static_cast<uint8_t>(pager::PageKind::kLeaf)) {
        return page_no;
      }
      const InternalNodeView node(*page, ps_, c_);
      page_no = node.child(node.ChildIndex(key));
    }
    return 0;
  }

  // Parses leaf `page_no` (private counters).
  Result<LeafLayout> ParseLeaf(uint32_t page_no, const uint8_t** bytes) {
    SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, read_(page_no));
    if (bytes != nullptr) *bytes = page;
    return LeafLayout::Parse(page, ps_, c_);
  }

  const BTreeCounters* counters() const { return c_; }

 private:
  void Visit(uint32_t page_no, const std::string& low, bool has_low, const std::string& high,
             bool has_high, int level, uint32_t depth, TreeShape* shape) {
    if (!shape->error.empty()) return;
    auto page = read_(page_no);
    if (!page.ok()) {
      shape->error = "page " + std::to_string(page_no) + ": " + page.status().ToString();
      return;
    }
    const uint8_t kind = (*page)[pager::kHeaderKindOffset];
    if (kind == static_cast<uint8_t>(pager::PageKind::kLeaf)) {
      if (level > 0) {
        shape->error = "leaf " + std::to_string(page_no) + " at level " + std::to_string(level);
        return;
      }
      auto snap = LeafLayout::Parse(*page, ps_, c_);
      if (!snap.ok()) {
        shape->error = snap.status().ToString();
        return;
      }
      LeafInfo info;
      info.page_no = page_no;
      info.low = std::string(snap->low_fence(*page));
      info.high = std::string(snap->high_fence(*page));
      if (info.low != (has_low ? low : std::string()) ||
          info.high != (has_high ? high : std::string())) {
        shape->error = "leaf " + std::to_string(page_no) + ": fences differ from the separators";
        return;
      }
      info.left = DecodeFixed32(*page + kLeftOffset);
      info.right = DecodeFixed32(*page + kRightOffset);
      info.records = snap->size();
      info.used = snap->used_bytes();
      info.capacity = ps_ - snap->arena_start();
      info.free = snap->free_bytes();
      if (with_keys_) {
        for (size_t i = 0; i < snap->size(); ++i) {
          info.keys.emplace_back(snap->Record(*page, i).key);
        }
      }
      shape->leaves.push_back(std::move(info));
      if (shape->height == 0) shape->height = depth;
      if (shape->height != depth) shape->error = "leaves at different depths";
      return;
    }
    if (kind != static_cast<uint8_t>(pager::PageKind::kInternal)) {
      shape->error = "page " + std::to_string(page_no) + " of kind " + std::to_string(kind);
      return;
    }
    const InternalNodeView node(*page, ps_, c_);
    Status s = node.Validate();
    if (!s.ok()) {
      shape->error = s.ToString();
      return;
    }
    if (level >= 0 && node.level() != level) {
      shape->error = "internal page " + std::to_string(page_no) + " at the wrong level";
      return;
    }
    if (level < 0) shape->root_level = node.level();
    shape->internal_pages++;
    for (size_t i = 0; i <= node.count(); ++i) {
      std::string child_low = i == 0 ? low : std::string(node.key(i - 1));
      std::string child_high = i == node.count() ? high : std::string(node.key(i));
      Visit(node.child(i), child_low, i == 0 ? has_low : true, child_high,
            i == node.count() ? has_high : true, node.level() - 1, depth + 1, shape);
    }
  }

  PageReader read_;
  uint32_t ps_;
  bool with_keys_ = false;
  MetricsRegistry own_;
  BTreeCounters counters_{&own_};
  const BTreeCounters* c_ = &counters_;
};

// Everything a cursor sees, forward (and checks ascending order).
inline std::map<std::string, std::string> ScanAll(const PageReader& read, uint32_t page_size,
                                                  uint32_t root, const BTreeCounters* c,
                                                  Status* status) {
  std::map<std::string, std::string> out;
  TreeCursor cur(read, page_size, root, c);
  for (cur.SeekToFirst(); cur.Valid(); cur.Next()) {
    out.emplace_hint(out.end(), std::string(cur.key()), std::string(cur.value()));
  }
  *status = cur.status();
  return out;
}

// A short description of the first difference between two maps.
inline std::string MapDiff(const std::map<std::string, std::string>& got,
                           const std::map<std::string, std::string>& want) {
  auto hex = [](const std::string& s) {
    static const char* d = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < s.size() && i < 24; ++i) {
      out += d[static_cast<uint8_t>(s[i]) >> 4];
      out += d[static_cast<uint8_t>(s[i]) & 15];
    }
    if (s.size() > 24) out += "...(" + std::to_string(s.size()) + " bytes)";
    return out;
  };
  auto g = got.begin();
  auto w = want.begin();
  for (; g != got.end() && w != want.end(); ++g, ++w) {
    if (g->first != w->first)
      return "key " + hex(g->first) + " in the tree, model has " + hex(w->first);
    if (g->second != w->second) {
      return "value of " + hex(g->first) + ": " + std::to_string(g->second.size()) +
             " bytes in the tree, " + std::to_string(w->second.size()) + " in the model";
    }
  }
  if (g != got.end()) return "extra key in the tree " + hex(g->first);
  if (w != want.end()) return "missing key in the tree " + hex(w->first);
  return "";
}

using ::sombra::test::NoSyncEnv;

// A pager on a fresh 4 KiB-page database at `path` without durability
// (the append and range tests' fixture).
inline std::unique_ptr<pager::Pager> OpenFastPager(const std::string& path,
                                                   MetricsRegistry* metrics) {
  Options o;
  o.page_size = 4096;
  o.durability = Durability::kOff;
  auto p = pager::Pager::Open(Env::Default(), path, o, {}, metrics);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : nullptr;
}

// One committed transaction of `edit` on `pager`, counting into `metrics`.
inline void CommitEdit(pager::Pager* pager, MetricsRegistry* metrics,
                       const std::function<void(BTreeWriter*)>& edit) {
  auto txn = pager->BeginWrite();
  ASSERT_TRUE(txn.ok());
  BTreeWriter w(txn->get(), metrics);
  edit(&w);
  ASSERT_TRUE((*txn)->Commit().ok());
}

// The tree `pager` holds now verifies (VerifyTree) and holds exactly `model`.
inline void ExpectTreeHolds(pager::Pager* pager, const std::map<std::string, std::string>& model) {
  auto snap = pager->BeginRead();
  Status s = VerifyTree(*snap);
  EXPECT_TRUE(s.ok()) << s.ToString();
  MetricsRegistry own;
  BTreeCounters c{&own};
  auto got = ScanAll(SnapshotReader(snap.get()), pager->page_size(), snap->state().root, &c, &s);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(MapDiff(got, model), "");
}

// A fixture over a fresh fast pager (OpenFastPager) and a model of the
// tree: the append, range and leaf-flag tests.
class FastPagerTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pager_ = OpenFastPager(dir_.File("db"), &metrics_);
    ASSERT_NE(pager_, nullptr);
  }
  // One committed transaction of `edit`.
  void Write(const std::function<void(BTreeWriter*)>& edit) {
    CommitEdit(pager_.get(), &metrics_, edit);
  }
  TreeShape Shape() {
    auto snap = pager_->BeginRead();
    TreeWalker walker(SnapshotReader(snap.get()), pager_->page_size());
    return walker.Walk(snap->state().root);
  }
  void ExpectTree() { ExpectTreeHolds(pager_.get(), model_); }

  sombra::test::TempDir dir_;
  MetricsRegistry metrics_;
  std::unique_ptr<pager::Pager> pager_;
  std::map<std::string, std::string> model_;
};

}  // namespace sombra::btree::model_test
