// btree/tree_descent.cc: DescendToLeaf.
#include "btree/tree_descent.h"

#include <string>

#include "btree/internal_node.h"
#include "pager/format.h"

namespace sombra::btree {
namespace {

Status BadNode(uint32_t page_no, const char* what) {
  return Status::Corruption("page " + std::to_string(page_no) + ": " + what);
}

// Lines at the end of a page fetched as soon as the page is known
// (docs/architecture.md, "Reads"): the slot directory ends the page, so a
// search needs its header line and then slots far from it, two misses one
// after the other. Fetched together with the header, the last 192 bytes
// hold the whole directory of a leaf of up to 32 records (16-byte keys and
// 100-byte values) and the tail of a larger one.
constexpr uint32_t kPrefetchedTailLines = 3;

void PrefetchSlotTail(const uint8_t* page, uint32_t page_size) {
  for (uint32_t k = 1; k <= kPrefetchedTailLines; ++k) {
    __builtin_prefetch(page + page_size - 64 * k);
  }
}

}  // namespace

Result<uint32_t> DescendToLeaf(const PageReader& read, uint32_t page_size, uint32_t root,
                               std::string_view key, DescentTarget target, const BTreeCounters* c,
                               std::vector<DescentStep>* path, const uint8_t** leaf_page) {
  if (path != nullptr) path->clear();
  uint32_t page_no = root;
  for (int depth = 0; depth < kMaxTreeDepth; ++depth) {
    SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, read(page_no));
    PrefetchSlotTail(page, page_size);
    const uint8_t kind = page[pager::kHeaderKindOffset];
    if (kind == static_cast<uint8_t>(pager::PageKind::kLeaf)) {
      if (leaf_page != nullptr) *leaf_page = page;
      return page_no;
    }
    if (kind != static_cast<uint8_t>(pager::PageKind::kInternal)) {
      return BadNode(page_no, "tree page is neither leaf nor internal");
    }
    const InternalNodeView node(page, page_size, c);
    const size_t i = target == DescentTarget::kFirstLeaf  ? 0
                     : target == DescentTarget::kLastLeaf ? node.count()
                                                          : node.ChildIndex(key);
    if (path != nullptr) path->push_back(DescentStep{page_no, i});
    page_no = node.child(i);
    if (page_no < pager::kFirstDataPage) return BadNode(page_no, "child pointer out of range");
  }
  return Status::Corruption("tree deeper than " + std::to_string(kMaxTreeDepth) +
                            " levels: a cycle");
}

}  // namespace sombra::btree
