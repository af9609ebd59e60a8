// BTreeWriter::DeleteRange: every key in [begin, end). The leaf holding
// the range's next key loses its records in the range in one erase; the
// subtrees (or leaves) after the descent path that lie wholly inside the
// range are freed whole (FreeWholeSubtrees), their records neither erased
// nor logged; then the leaf is rebalanced as a Delete's would be.
#include "btree/btree.h"
#include "btree/catalog.h"
#include "btree/internal_node.h"
#include "btree/tree_descent.h"
#include "btree/write_sink.h"
#include "pager/format.h"
#include "util/coding.h"

namespace sombra::btree {

Status BTreeWriter::DeleteRange(std::string_view begin, std::string_view end, uint64_t* deleted) {
  const FlushOnReturn flush(counters_);
  if (deleted != nullptr) *deleted = 0;
  if (end < begin) {
    return Status::InvalidArgument("DeleteRange: the end of the range sorts before its begin");
  }
  if (begin == end || root() == 0) return Status::OK();
  std::string from(begin);
  uint64_t count = 0;
  for (;;) {
    // The leaf holding `from`: its records in [from, end) go in one erase;
    // its overflow values are freed first (their chains are pages too).
    std::vector<PathEntry> path;
    uint32_t leaf;
    SOMBRA_RETURN_IF_ERROR(Descend(from, &path, &leaf));
    SOMBRA_ASSIGN_OR_RETURN(LeafLayout * layout, LeafLayoutOf(leaf));
    SOMBRA_ASSIGN_OR_RETURN(uint8_t * page, txn_->Write(leaf));
    const size_t i = layout->LowerBound(page, from, nullptr);
    const size_t j = layout->LowerBound(page, end, nullptr);
    if (i < j) {
      if ((page[pager::kHeaderFlagsOffset] & pager::kLeafFlagNoOverflow) == 0) {
        for (size_t k = i; k < j; ++k) SOMBRA_RETURN_IF_ERROR(FreeValue(layout->Record(page, k)));
      }
      Sink sink(txn_, leaf);
      LeafAllocator(page, layout, &sink).EraseRange(i, j);
      ++version_;
      count += j - i;
    }
    // Whole subtrees (or leaves) after the path's, highest first; the tree
    // changed: descend again from the same key.
    SOMBRA_ASSIGN_OR_RETURN(bool freed, FreeWholeSubtrees(path, end, &count));
    if (freed) continue;
    // Where the next leaf starts, when the range goes on past this one.
    const std::string_view high = layout->high_fence(page);
    const bool more = !high.empty() && high < end;
    std::string next = more ? std::string(high) : std::string();
    if (!path.empty() && Underfull(layout->used_bytes())) {
      SOMBRA_RETURN_IF_ERROR(RebalanceLeaf(&path));
    }
    if (!more) break;
    from = std::move(next);
  }
  if (deleted != nullptr) *deleted = count;
  return Status::OK();
}

Result<bool> BTreeWriter::FreeWholeSubtrees(const std::vector<PathEntry>& path,
                                            std::string_view end, uint64_t* count) {
  for (size_t d = 0; d < path.size(); ++d) {
    const PathEntry& at = path[d];
    const size_t a = at.child_index;
    size_t k = a;
    {
      // Read first: most rounds free nothing at most levels, and a write
      // would copy the page.
      SOMBRA_ASSIGN_OR_RETURN(const uint8_t* pr, txn_->Read(at.page_no));
      const InternalNodeView view(pr, page_size_, &counters_);
      while (k + 1 < view.count() && view.key(k + 1) <= end) ++k;
    }
    if (k == a) continue;
    SOMBRA_ASSIGN_OR_RETURN(uint8_t * pw, txn_->Write(at.page_no));
    Sink psink(txn_, at.page_no);
    InternalNode node(pw, page_size_, &psink, &counters_);
    // Subtree a's last leaf (child a itself at level 1) takes over the
    // freed range: its high fence becomes key(k) and it links to subtree
    // k + 1's first leaf.
    const std::string new_high(node.key(k));
    SOMBRA_ASSIGN_OR_RETURN(uint32_t last,
                            DescendToLeaf(reader(), page_size_, node.child(a), {},
                                          DescentTarget::kLastLeaf, &counters_, nullptr));
    SOMBRA_ASSIGN_OR_RETURN(uint32_t next,
                            DescendToLeaf(reader(), page_size_, node.child(k + 1), {},
                                          DescentTarget::kFirstLeaf, &counters_, nullptr));
    SOMBRA_ASSIGN_OR_RETURN(LeafLayout * layout, LeafLayoutOf(last));
    SOMBRA_ASSIGN_OR_RETURN(uint8_t * page, txn_->Write(last));
    const std::string low(layout->low_fence(page));
    if (kFencesOffset + low.size() + new_high.size() + layout->used_bytes() > page_size_) continue;
    for (size_t c = a + 1; c <= k; ++c) {
      uint64_t records = 0;
      SOMBRA_RETURN_IF_ERROR(CountAndFreeSubtree(node.child(c), &records));
      *count += records;
    }
    for (size_t c = a; c < k; ++c) node.Erase(a);
    Sink sink(txn_, last);
    LeafAllocator alloc(page, layout, &sink);
    alloc.SetFences(low, new_high);
    alloc.SetSiblings(DecodeFixed32(page + kLeftOffset), next);
    SOMBRA_RETURN_IF_ERROR(FixLeftLink(next, last));
    ++version_;
    std::vector<PathEntry> above(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(d));
    SOMBRA_RETURN_IF_ERROR(RebalanceInternal(at.page_no, &above));
    return true;
  }
  return false;
}

Status BTreeWriter::CountAndFreeSubtree(uint32_t root_no, uint64_t* records) {
  std::vector<uint32_t> leaves;
  FreedTree freed;
  freed.leaves = &leaves;
  const Status s = FreeTree(txn_, root_no, &freed);
  // Freed pages may come back as other kinds: no layout of theirs stays.
  for (uint32_t leaf : leaves) cache_.erase(leaf);
  put_hint_ = PutHint{};  // its layout may have been one of them
  *records += freed.records;
  counters_.Add(Tick::kFreedLeavesDecoded, freed.leaves_decoded);
  return s;
}

}  // namespace sombra::btree
