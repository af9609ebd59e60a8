// btree/tree_copy.h: a compacting page copy of every tree of one state
// (DB::Backup; docs/operations.md, "Backup").
//
// PlanCopy walks the default tree, the catalog and every named tree the
// catalog names (internal pages, leaves, the overflow chains of the
// leaves) and numbers the pages it meets 2, 3, ... in that order: the
// live pages only, with no gap and no free page. CopyPage then writes one
// of them as the copy stores it: every page number inside it (children,
// sibling links, overflow references and chain links, the roots in catalog
// entries, its own header number) renumbered, and sealed with the copy's
// salt. The records, fences and page LSNs are kept as they are.
//
// Each page is checked as it is walked (InternalNodeView::Validate,
// LeafLayout::Parse, the overflow chain rules) and a page met twice is
// Corruption: a damaged source gives an error, never a damaged copy.
//
// Thread safety: none; the reader must stay valid (a snapshot).
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "btree/overflow.h"
#include "util/result.h"

namespace sombra::btree {

struct CopyPlan {
  // What a page of the copy is: CopyPage rewrites each kind differently.
  enum class Role : uint8_t { kTree, kCatalog, kOverflow };
  std::vector<uint32_t> pages;  // source page numbers; pages[i] becomes page i + 2
  std::vector<Role> roles;      // beside pages
  std::unordered_map<uint32_t, uint32_t> renumber;  // source page -> copy page
  uint32_t root = 0;                                // the copy's default root (0: empty)
  uint32_t catalog_root = 0;                        // the copy's catalog root (0: none)
  uint64_t page_count() const { return pages.size() + 2; }
};

// Numbers every live page of the state whose default tree is `root` and
// catalog `catalog_root` (0: none), read through `read`; `page_count`
// bounds the page numbers. Corruption on a damaged page or a page reached
// twice.
Status PlanCopy(const PageReader& read, uint32_t page_size, uint64_t page_count, uint32_t root,
                uint32_t catalog_root, CopyPlan* plan);

// Rewrites every page number inside `page` (a page of the given role, as
// PlanCopy walked it) through `map`: children, sibling links, overflow
// references and chain links, the roots in catalog entries; 0 (none)
// stays 0. Not its own header number. Corruption when a leaf that must be
// parsed does not parse.
using PageRenumber = std::function<uint32_t(uint32_t page_no)>;
Status RenumberPage(const PageRenumber& map, CopyPlan::Role role, uint32_t page_size,
                    uint8_t* page);

// Writes plan.pages[i] (its source bytes `src`) into `out` (page_size
// bytes) as page i + 2 of the copy, sealed with `salt`.
Status CopyPage(const CopyPlan& plan, size_t i, const uint8_t* src, uint32_t page_size,
                uint64_t salt, uint8_t* out);

}  // namespace sombra::btree
