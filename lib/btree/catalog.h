// btree/catalog.h: the catalog of named trees (docs/format/file.md, "Named
// trees and the catalog").
//
// The catalog is an ordinary B+tree whose root is the meta page's catalog
// root: one record per named tree, its name (1 to kMaxTreeNameSize bytes)
// to an 8-byte value naming the tree's root (0: an empty tree with no
// pages). The default tree (name "") is not in it. These are the
// catalog's codec, its reads, and the freeing of a whole tree.
//
// Thread safety: pure functions over the caller's transaction or snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "btree/overflow.h"
#include "pager/pager_txn.h"
#include "sombra/status.h"

namespace sombra::btree {

constexpr size_t kMaxTreeNameSize = 255;
constexpr size_t kCatalogValueSize = 8;

// InvalidArgument unless 1 <= name.size() <= kMaxTreeNameSize.
Status CheckTreeName(std::string_view name);

// The catalog value of a tree whose root is `root`.
std::string EncodeCatalogValue(uint32_t root);
// Corruption (naming the tree) when `value` is not 8 bytes with reserved
// bytes 0, or its root is not 0 and outside [2, page_count).
Status DecodeCatalogValue(std::string_view name, std::string_view value, uint64_t page_count,
                          uint32_t* root);

// The root of the tree `name` in the catalog rooted at catalog_root (0:
// empty): NotFound when there is no such tree.
Status LookupTree(const PageReader& read, uint32_t page_size, uint64_t page_count,
                  uint32_t catalog_root, std::string_view name, uint32_t* root);

struct CatalogEntry {
  std::string name;
  uint32_t root = 0;
};
// Every entry of the catalog, in name order; Corruption when a name does
// not sort after the one before (damaged links).
Status ReadCatalog(const PageReader& read, uint32_t page_size, uint64_t page_count,
                   uint32_t catalog_root, std::vector<CatalogEntry>* out);

// What FreeTree freed, and what it had to read to do it.
struct FreedTree {
  uint64_t pages = 0;                       // tree pages and overflow pages put on the freelist
  uint64_t records = 0;                     // records of the freed leaves (their slot counts)
  uint64_t leaves_decoded = 0;              // leaves whose records were decoded (flag clear)
  std::vector<uint32_t>* leaves = nullptr;  // when set, the freed leaves are appended
};

// Frees every page of the tree (or subtree) rooted at `root` (0: none) in
// `txn`: its internal pages and leaves and the overflow chains its leaves
// name. A leaf flagged kLeafFlagNoOverflow is freed from its header alone;
// the records of the others are decoded for their overflow references
// (never rewritten). Counts add to *freed (may be null). The caller removes
// the tree's catalog entry, or the subtree's separator.
Status FreeTree(pager::PagerTxn* txn, uint32_t root, FreedTree* freed);

}  // namespace sombra::btree
