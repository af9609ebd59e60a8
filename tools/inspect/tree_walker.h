// inspect/tree_walker.h: the walk behind sombra-inspect FILE tree and
// catalog: each B+tree from its root, level by level (breadth first,
// children in key order), with the overflow chains of its leaves; then
// the freelist.
//
// Every page is read with InspectedFile::ReadPage (the snapshot's page,
// as the file stores it or sealed) and checked with pager::VerifyPage before
// anything in it is used, then decoded by DecodeNode (Parse / Validate).
// A page is reached at most once over every walk of one TreeWalker: a link
// to a page already reached (a cycle, a shared child, a page in two trees
// or both in a tree and on the freelist) is reported on the page holding
// the link, and not followed. A damaged page is reported and not descended
// into; the walk goes on with the others. So after walking the default
// tree, the catalog, every named tree and the freelist, the pages not
// reached are the pages nothing links to (docs/format/file.md).
//
// This is not VerifyTree: it does not check fences against separators,
// sibling links or key order across pages (docs/format/page.md T2-T4).
//
// Thread safety: one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "btree/catalog.h"
#include "btree/db_verify.h"
#include "inspect/inspect_internal.h"

namespace sombra::inspect {

// One page of a level, for --verbose.
struct PageLine {
  uint32_t page = 0;
  bool damaged = false;
  std::string what;  // damaged: why
  bool leaf = false;
  uint64_t records = 0;
  uint64_t used = 0;
  uint64_t usable = 0;
  std::string first;  // leaf: low fence (empty: -infinity); internal: first separator
  std::string last;   // leaf: high fence (empty: +infinity); internal: last separator
};

struct Level {
  uint64_t pages = 0;  // damaged ones included
  uint64_t damaged = 0;
  uint64_t records = 0;
  uint64_t used = 0;    // undamaged pages only
  uint64_t usable = 0;  // undamaged pages only
  std::vector<PageLine> lines;
};

// What the walks counting into it met.
struct TreeCounts {
  std::map<int, Level> levels;
  uint32_t height = 0;  // the root's level + 1; 0 for an empty tree or a damaged root
  bool root_damaged = false;
  uint64_t leaf_pages = 0;
  uint64_t internal_pages = 0;
  uint64_t overflow_pages = 0;
  uint64_t damaged_pages = 0;  // failed their own checks (not counted above)
  uint64_t records = 0;        // in leaves
  uint64_t pages() const { return leaf_pages + internal_pages + overflow_pages; }
};

class TreeWalker {
 public:
  TreeWalker(const InspectedFile& db, bool verbose)
      : db_(db), verbose_(verbose), reached_(db.page_count(), false) {}

  // Walks the tree rooted at `root` (0: empty) into *counts. A root outside
  // the file or already reached is a problem on page `from`, its link
  // named by `label` ("root page 7"). A non-OK status is an I/O error.
  Status WalkTree(uint32_t root, uint64_t from, const std::string& label, TreeCounts* counts);
  // The freelist from the head in state(), checked against its count.
  Status WalkFreelist();
  void AddProblem(uint64_t page, std::string what) { problems_.push_back({page, std::move(what)}); }

  const std::vector<btree::VerifyProblem>& problems() const { return problems_; }
  uint64_t free_pages() const { return free_pages_; }
  uint64_t free_damaged() const { return free_damaged_; }  // damaged pages on the freelist
  uint64_t pages_reached() const { return reached_count_; }
  uint64_t pages_not_reached() const;

 private:
  struct Pending {
    uint32_t page;
    int level;        // expected; -1 for the root
    uint32_t parent;  // 0 for the root
  };

  bool InRange(uint64_t page) const {
    return page >= pager::kFirstDataPage && page < db_.page_count();
  }
  std::string Range() const { return "[2, " + std::to_string(db_.page_count()) + ")"; }
  bool Reach(uint32_t page);
  Status ReadChecked(uint32_t page_no, std::string* what);
  void Damaged(const Pending& p, std::string what);
  Status Visit(const Pending& p, std::vector<Pending>* next);
  void CountNode(const Pending& p, const NodeInfo& n);
  Status WalkChain(uint32_t leaf, size_t index, uint32_t first, uint64_t value_len);

  const InspectedFile& db_;
  const bool verbose_;
  std::vector<bool> reached_;
  uint64_t reached_count_ = 0;
  std::vector<uint8_t> page_;
  std::vector<btree::VerifyProblem> problems_;
  TreeCounts* counts_ = nullptr;  // the walk in progress counts here
  uint64_t free_pages_ = 0;
  uint64_t free_damaged_ = 0;
};

// The catalog of named trees at db.state() (btree::ReadCatalog over pages
// read with InspectedFile::ReadPage, each checked with pager::VerifyPage):
// Corruption when a page of it or an entry is damaged.
Status ReadInspectedCatalog(const InspectedFile& db, std::vector<btree::CatalogEntry>* entries);

// "tree \"name\"" as the commands name a named tree (ShowBytes).
std::string TreeLabel(const std::string& name);

}  // namespace sombra::inspect
