// cli/tree_pages.h: the size of each named tree in one snapshot, for
// `sombra trees` (docs/cli.md): its records and its pages (leaf, internal
// and overflow), found by walking the tree from its catalog entry's root.
//
// Thread safety: pure functions over the caller's snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pager/snapshot.h"
#include "sombra/status.h"

namespace sombra::cli {

struct TreeSize {
  std::string name;
  uint64_t records = 0;
  uint64_t pages = 0;  // leaf + internal + overflow pages
};

// Every named tree of `snap` (the catalog at its state), in name order.
// Corruption when a page of a tree is damaged or reached twice.
Status MeasureNamedTrees(const pager::Snapshot& snap, std::vector<TreeSize>* out);

}  // namespace sombra::cli
