// btree/tree_descent.h: the one walk from the root to a leaf, shared by the
// read path (TreeGet, cursors) and the write path (BTreeWriter).
//
// Thread safety: as the PageReader it is given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "btree/btree_counters.h"
#include "btree/overflow.h"
#include "util/result.h"

namespace sombra::btree {

// The deepest tree a descent follows: deeper means the child pointers
// form a cycle.
constexpr int kMaxTreeDepth = 64;

// Which leaf a descent goes to.
enum class DescentTarget { kFirstLeaf, kByKey, kLastLeaf };

// One internal node passed on the way down and the child taken there.
struct DescentStep {
  uint32_t page_no;
  size_t child_index;
};

// Descends from `root` to the leaf that holds `key` (or the first or last
// leaf) and returns its page number; `path` (may be null) is cleared and
// gets one step per internal node, root first. Corruption for a page that
// is neither leaf nor internal, a child pointer below the first data page,
// or a tree deeper than kMaxTreeDepth. *leaf_page (may be null) gets the
// leaf as `read` gave it, so that the caller need not read it again.
Result<uint32_t> DescendToLeaf(const PageReader& read, uint32_t page_size, uint32_t root,
                               std::string_view key, DescentTarget target, const BTreeCounters* c,
                               std::vector<DescentStep>* path, const uint8_t** leaf_page = nullptr);

}  // namespace sombra::btree
