// recover: which tree each good leaf belongs to (docs/tools.md, "recover",
// "Trees and orphan leaves").
//
// The structure comes from the pages, the names from the root sources:
//  1. Each valid internal page names its children; a child of the right
//     level has that page as its parent (the newest, should two name it).
//     A valid node page with no parent is a *top*; the pages below a top
//     form its fragment. A child that is not a valid node page of the
//     right level is a broken link: its key range (from the separators
//     around it) is a hole of the fragment.
//  2. Each tree takes, from the sources freshest first, the first root
//     that is 0 (an empty tree; from a source that is not stale) or a top
//     no other tree took: the default tree and the catalog from each
//     source, the named trees from the catalog's entries (after the
//     freshest source). An unreadable root makes the tree's root lost,
//     and the next source is tried. A source is stale when a good
//     page carries an LSN above its own (a meta page older than the
//     pages, once the newer one is lost).
//  3. A fragment no tree took is an orphan. Leaves joined by sibling links
//     (each naming the other, the fences meeting) and leaves of one
//     fragment form a group. A group with orphans goes to the one tree
//     whose leaves are in it; else to the one tree that may hold it (a
//     hole of it covers the group's key range, or its root is lost or not
//     known; the catalog only when every record of the group could be a
//     catalog entry), when every tree is known or that tree is the
//     catalog; else, when no source names the catalog or the default tree,
//     the one group whose leaves cover the whole key space and could be
//     the catalog is the catalog, and then (every tree known) the one such
//     group left is the default tree. A group placed by a hole or as a
//     whole tree that overlaps another such group or its tree's own
//     leaves, and any other group, goes to a lost+found tree of its own.
// The catalog's entries depend on the catalog's leaves, which 3 may add
// to: the steps repeat until the entries no longer change.
#include <algorithm>
#include <numeric>

#include "inspect/recover.h"

namespace sombra::inspect::recover {
namespace {

constexpr size_t kDefaultTree = 0;
constexpr size_t kCatalogTree = 1;
constexpr int kMaxRounds = 8;

// Walks the fragment below `top` into *f, depth first in key order (an
// explicit stack: a damaged file may chain many levels).
void WalkFragment(const PageTable& table, const std::unordered_map<uint32_t, uint32_t>& parent,
                  uint32_t top, Fragment* f) {
  struct Step {
    uint32_t page;
    std::string low, high;
  };
  std::vector<Step> stack = {{top, "", ""}};
  while (!stack.empty()) {
    const Step step = std::move(stack.back());
    stack.pop_back();
    if (table.Class(step.page) == PageClass::kLeaf) {
      f->leaves.push_back(step.page);
      continue;
    }
    const InternalInfo& node = table.internals.at(step.page);
    for (size_t i = node.children.size(); i-- > 0;) {  // pushed last first
      const uint32_t child = node.children[i];
      const std::string& lo = i == 0 ? step.low : node.separators[i - 1];
      const std::string& hi = i == node.separators.size() ? step.high : node.separators[i];
      if (table.Level(child) != node.level - 1) {
        f->broken.push_back(child);
        f->holes.Add(lo, hi);
        continue;
      }
      auto p = parent.find(child);
      if (p != parent.end() && p->second == step.page) stack.push_back({child, lo, hi});
    }
  }
}

// Step 1: every top and the fragment below it, in page order.
void BuildFragments(const PageTable& table, std::vector<Fragment>* fragments) {
  std::unordered_map<uint32_t, uint32_t> parent;
  for (const auto& [page, node] : table.internals) {
    for (uint32_t child : node.children) {
      if (table.Level(child) != node.level - 1) continue;
      auto [it, fresh] = parent.emplace(child, page);
      if (!fresh && table.internals.at(it->second).lsn < node.lsn) it->second = page;
    }
  }
  std::vector<uint32_t> tops;
  for (const auto& [page, leaf] : table.leaves) {
    if (!parent.count(page)) tops.push_back(page);
  }
  for (const auto& [page, node] : table.internals) {
    if (!parent.count(page)) tops.push_back(page);
  }
  std::sort(tops.begin(), tops.end());
  for (uint32_t top : tops) {
    Fragment f;
    f.top = top;
    WalkFragment(table, parent, top, &f);
    fragments->push_back(std::move(f));
  }
}

// Step 2, for one tree and one root.
class Namer {
 public:
  Namer(const PageTable& table, Forest* forest) : table_(table), forest_(forest) {
    for (size_t i = 0; i < forest->fragments.size(); ++i) top_[forest->fragments[i].top] = i;
  }

  // `current`: the source is not stale; only then does a root 0 (an empty
  // tree) settle the tree.
  void Claim(size_t tree, uint32_t root, bool current) {
    TreePlan& t = forest_->trees[tree];
    if (t.settled) return;
    if (root == 0) {
      t.settled = current;
      return;
    }
    t.rooted = true;
    if (table_.Unreadable(root) || root >= table_.cls.size()) {
      if (table_.Unreadable(root)) t.unreadable.insert(root);
      t.root_lost = true;
      return;
    }
    auto f = top_.find(root);
    if (f == top_.end() || owner_.count(f->second)) return;  // not a top now, or taken
    Take(tree, f->second);
    t.settled = true;
  }

  void Take(size_t tree, size_t fragment) {
    owner_[fragment] = tree;
    TreePlan& t = forest_->trees[tree];
    t.fragments.push_back(fragment);
    const Fragment& f = forest_->fragments[fragment];
    for (uint32_t p : f.broken) {
      if (table_.Unreadable(p)) t.unreadable.insert(p);
    }
    for (const KeyRange& r : f.holes.Ranges()) t.holes.Add(r.low, r.high);
  }

  const std::unordered_map<size_t, size_t>& owner() const { return owner_; }

 private:
  const PageTable& table_;
  Forest* forest_;
  std::unordered_map<uint32_t, size_t> top_;  // top page -> fragment
  std::unordered_map<size_t, size_t> owner_;  // fragment -> tree
};

// Union-find over the good leaves.
class LeafGroups {
 public:
  LeafGroups(const PageTable& table, const std::vector<Fragment>& fragments) {
    for (const auto& [page, leaf] : table.leaves) index_.emplace(page, index_.size());
    up_.resize(index_.size());
    std::iota(up_.begin(), up_.end(), size_t{0});
    for (const Fragment& f : fragments) {
      for (uint32_t leaf : f.leaves) Join(f.leaves.front(), leaf);
    }
    for (const auto& [page, leaf] : table.leaves) {
      auto right = table.leaves.find(leaf.right);
      if (right == table.leaves.end() || right->second.left != page) continue;
      if (leaf.high.empty() || leaf.high != right->second.low) continue;
      Join(page, leaf.right);
    }
  }
  size_t Of(uint32_t leaf) { return Find(index_.at(leaf)); }

 private:
  size_t Find(size_t i) {
    while (up_[i] != i) i = up_[i] = up_[up_[i]];
    return i;
  }
  void Join(uint32_t a, uint32_t b) { up_[Find(index_.at(a))] = Find(index_.at(b)); }

  std::unordered_map<uint32_t, size_t> index_;
  std::vector<size_t> up_;
};

void NameTrees(const std::vector<RootSource>& roots, const std::vector<CatalogEntry>& entries,
               uint64_t max_lsn, Namer* namer) {
  for (size_t i = 0; i < roots.size(); ++i) {
    const bool current = roots[i].lsn >= max_lsn;
    namer->Claim(kDefaultTree, roots[i].root, current);
    namer->Claim(kCatalogTree, roots[i].catalog_root, current);
    if (i != 0) continue;
    for (size_t e = 0; e < entries.size(); ++e) namer->Claim(2 + e, entries[e].root, true);
  }
  if (roots.empty()) {
    for (size_t e = 0; e < entries.size(); ++e) namer->Claim(2 + e, entries[e].root, true);
  }
}

// The key range of a group's leaves (the lowest low fence, the highest
// high fence), what their fences cover, and whether they could all be
// catalog leaves.
struct Span {
  KeyRange range;
  KeyRanges cover;
  bool any = false;
  bool catalog_like = true;
  void Add(const LeafInfo& leaf) {
    if (!any || leaf.low < range.low) range.low = leaf.low;
    if (!any || KeyRanges::HighLess(range.high, leaf.high)) range.high = leaf.high;
    cover.Add(leaf.low, leaf.high);
    catalog_like = catalog_like && leaf.catalog_like;
    any = true;
  }
};

// What step 3 knows of one group of leaves.
struct Group {
  std::set<size_t> owners;      // trees that took fragments of it in step 2
  Span span;                    // its leaves' key range
  std::vector<size_t> orphans;  // its fragments no tree took
  size_t tree = SIZE_MAX;       // the choice; SIZE_MAX: lost+found
  uint64_t* counter = nullptr;  // the Forest count its orphans add to
  // Its leaves cover the whole key space: a whole tree's leaves.
  bool Whole() const { return span.cover.Gaps().empty(); }
};

// Every tree is known: the catalog is complete (no named tree may be
// missing from it).
bool TreesKnown(const Forest& forest) { return forest.trees[kCatalogTree].Complete(); }

// Step 3's choice by links or holes for group `g`. A tree may hold the
// group when a hole under one of its broken links covers the group, or
// when its root is lost or not known (its leaves may then be anywhere).
// The one tree that may hold it takes it; unless it is the catalog, only
// when every tree is known.
void ChooseTree(const Forest& forest, Forest* counts, Group* g) {
  if (!g->owners.empty()) {
    if (g->owners.size() == 1) g->tree = *g->owners.begin();
    g->counter = &counts->attributed_by_links;
    return;
  }
  size_t found = SIZE_MAX;
  int fits = 0;
  for (size_t t = 0; t < forest.trees.size(); ++t) {
    const TreePlan& p = forest.trees[t];
    if (p.kind == TreeKind::kLostFound) continue;
    if (!p.holes.Covers(g->span.range.low, g->span.range.high) && !p.root_lost && p.settled) {
      continue;
    }
    if (p.kind == TreeKind::kCatalog && !g->span.catalog_like) continue;
    found = t;
    ++fits;
  }
  if (fits != 1) return;
  if (forest.trees[found].kind != TreeKind::kCatalog && !TreesKnown(forest)) return;
  g->tree = found;
  g->counter = &counts->attributed_by_holes;
}

// A whole tree no source names (every source stale): the one group that
// spans the whole key space and could be the catalog is the catalog; then,
// every tree being known, the one such group left is the default tree.
void InferWholeTrees(Forest* forest, std::map<size_t, Group>* groups) {
  for (const size_t tree : {kCatalogTree, kDefaultTree}) {
    TreePlan& t = forest->trees[tree];
    if (t.settled || (tree == kDefaultTree && !TreesKnown(*forest))) continue;
    Group* only = nullptr;
    int candidates = 0;
    for (auto& [id, g] : *groups) {
      if (g.orphans.empty() || !g.owners.empty() || g.tree != SIZE_MAX || !g.Whole()) continue;
      if (tree == kCatalogTree && !g.span.catalog_like) continue;
      only = &g;
      ++candidates;
    }
    if (candidates != 1) continue;
    only->tree = tree;
    only->counter = &forest->attributed_whole;
    t.settled = true;  // and complete: its leaves cover the key space
  }
}

// Groups placed by a hole or as a whole tree must not overlap each other
// nor the leaves their tree took in step 2: such a group goes to
// lost+found instead.
void DropConflicts(const PageTable& table, const Forest& forest, std::map<size_t, Group>* groups) {
  std::map<size_t, std::vector<Group*>> placed;  // tree -> groups
  for (auto& [id, g] : *groups) {
    if (g.tree != SIZE_MAX && g.owners.empty()) placed[g.tree].push_back(&g);
  }
  for (auto& [tree, list] : placed) {
    KeyRanges owned;
    for (uint32_t leaf : forest.Leaves(forest.trees[tree])) {
      owned.Add(table.leaves.at(leaf).low, table.leaves.at(leaf).high);
    }
    std::vector<bool> conflict(list.size(), false);
    for (size_t i = 0; i < list.size(); ++i) {
      const KeyRange& r = list[i]->span.range;
      if (owned.Overlaps(r.low, r.high)) conflict[i] = true;
      for (size_t j = i + 1; j < list.size(); ++j) {
        if (KeyRanges::Intersect(r, list[j]->span.range)) conflict[i] = conflict[j] = true;
      }
    }
    for (size_t i = 0; i < list.size(); ++i) {
      if (conflict[i]) list[i]->tree = SIZE_MAX;
    }
  }
}

TreePlan NewTree(TreeKind kind, const std::string& name) {
  TreePlan t;
  t.kind = kind;
  t.name = name;
  return t;
}

std::string LostFoundName(size_t n, size_t of, const std::vector<CatalogEntry>& entries) {
  std::string name = of == 1 ? "lost+found" : "lost+found-" + std::to_string(n);
  while (std::any_of(entries.begin(), entries.end(),
                     [&name](const CatalogEntry& e) { return e.name == name; })) {
    name += "+";
  }
  return name;
}

// Step 3.
void Attribute(const PageTable& table, const std::vector<CatalogEntry>& entries, Namer* namer,
               Forest* forest) {
  LeafGroups leaf_groups(table, forest->fragments);
  std::map<size_t, Group> groups;
  for (size_t i = 0; i < forest->fragments.size(); ++i) {
    const Fragment& f = forest->fragments[i];
    if (f.leaves.empty()) continue;
    Group& g = groups[leaf_groups.Of(f.leaves.front())];
    for (uint32_t leaf : f.leaves) g.span.Add(table.leaves.at(leaf));
    auto o = namer->owner().find(i);
    if (o != namer->owner().end()) {
      g.owners.insert(o->second);
    } else {
      g.orphans.push_back(i);
    }
  }
  for (auto& [id, g] : groups) {
    if (!g.orphans.empty()) ChooseTree(*forest, forest, &g);
  }
  InferWholeTrees(forest, &groups);
  DropConflicts(table, *forest, &groups);
  size_t lost = 0;
  for (const auto& [id, g] : groups) lost += !g.orphans.empty() && g.tree == SIZE_MAX ? 1 : 0;
  size_t n = 0;
  for (auto& [id, g] : groups) {
    if (g.orphans.empty()) continue;
    if (g.tree == SIZE_MAX) {
      TreePlan t = NewTree(TreeKind::kLostFound, LostFoundName(++n, lost, entries));
      t.settled = true;
      g.tree = forest->trees.size();
      g.counter = &forest->lost_found_leaves;
      forest->trees.push_back(std::move(t));
    }
    for (size_t fragment : g.orphans) {
      *g.counter += forest->fragments[fragment].leaves.size();
      namer->Take(g.tree, fragment);
    }
  }
}

void ResetTrees(const std::vector<CatalogEntry>& entries, Forest* forest) {
  forest->trees.clear();
  forest->attributed_by_links = forest->attributed_by_holes = 0;
  forest->attributed_whole = forest->lost_found_leaves = 0;
  forest->trees.push_back(NewTree(TreeKind::kDefault, ""));
  forest->trees.push_back(NewTree(TreeKind::kCatalog, "catalog"));
  for (const CatalogEntry& e : entries) forest->trees.push_back(NewTree(TreeKind::kNamed, e.name));
}

// In name order, one per name: the newest leaf's (the reader's first).
void SortEntries(std::vector<CatalogEntry>* entries) {
  const auto by_name = [](const CatalogEntry& a, const CatalogEntry& b) { return a.name < b.name; };
  const auto same_name = [](const CatalogEntry& a, const CatalogEntry& b) {
    return a.name == b.name;
  };
  std::stable_sort(entries->begin(), entries->end(), by_name);
  entries->erase(std::unique(entries->begin(), entries->end(), same_name), entries->end());
}

}  // namespace

std::vector<uint32_t> Forest::Leaves(const TreePlan& tree) const {
  std::vector<uint32_t> out;
  for (size_t f : tree.fragments) {
    out.insert(out.end(), fragments[f].leaves.begin(), fragments[f].leaves.end());
  }
  return out;
}

Status BuildForest(const PageTable& table, const std::vector<RootSource>& roots,
                   const CatalogReader& read_catalog, Forest* forest) {
  forest->fragments.clear();
  BuildFragments(table, &forest->fragments);
  std::vector<CatalogEntry> entries;
  for (int round = 0; round < kMaxRounds; ++round) {
    ResetTrees(entries, forest);
    Namer namer(table, forest);
    NameTrees(roots, entries, table.max_lsn, &namer);
    Attribute(table, entries, &namer, forest);
    std::vector<CatalogEntry> next;
    SOMBRA_RETURN_IF_ERROR(read_catalog(forest->trees[kCatalogTree], &next));
    SortEntries(&next);
    const auto same = [](const CatalogEntry& a, const CatalogEntry& b) {
      return a.name == b.name && a.root == b.root;
    };
    if (std::equal(next.begin(), next.end(), entries.begin(), entries.end(), same)) break;
    entries = std::move(next);
  }
  // An unreadable leaf its tree's leaves link to is that tree's too.
  for (TreePlan& t : forest->trees) {
    for (uint32_t page : forest->Leaves(t)) {
      const LeafInfo& leaf = table.leaves.at(page);
      for (uint32_t link : {leaf.left, leaf.right}) {
        if (table.Unreadable(link)) t.unreadable.insert(link);
      }
    }
  }
  return Status::OK();
}

}  // namespace sombra::inspect::recover
