// BTreeWriter::DeleteRange: every key in [begin, end). The leaf holding
// the range's next key loses its records in the range in one erase; the
// leaves after it under the same parent that lie wholly inside the range
// are freed whole (FreeWholeLeaves), their records neither erased nor
// logged; then the leaf is rebalanced as a Delete's would be.
#include "btree/btree.h"
#include "btree/catalog.h"
#include "btree/internal_node.h"
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
      for (size_t k = i; k < j; ++k) SOMBRA_RETURN_IF_ERROR(FreeValue(layout->Record(page, k)));
      Sink sink(txn_, leaf);
      LeafAllocator(page, layout, &sink).EraseRange(i, j);
      ++version_;
      count += j - i;
    }
    size_t freed = 0;
    if (!path.empty()) {
      SOMBRA_ASSIGN_OR_RETURN(freed, FreeWholeLeaves(leaf, layout, path.back(), end, &count));
    }
    // Where the next leaf starts, when the range goes on past this one.
    const std::string_view high = layout->high_fence(page);
    const bool more = !high.empty() && high < end;
    std::string next = more ? std::string(high) : std::string();
    if (!path.empty() && Underfull(layout->used_bytes())) {
      SOMBRA_RETURN_IF_ERROR(RebalanceLeaf(&path));
    } else if (freed > 0) {
      const uint32_t parent = path.back().page_no;
      path.pop_back();
      SOMBRA_RETURN_IF_ERROR(RebalanceInternal(parent, &path));
    }
    if (!more) break;
    from = std::move(next);
  }
  if (deleted != nullptr) *deleted = count;
  return Status::OK();
}

Result<size_t> BTreeWriter::FreeWholeLeaves(uint32_t leaf, LeafLayout* layout,
                                            const PathEntry& parent, std::string_view end,
                                            uint64_t* count) {
  SOMBRA_ASSIGN_OR_RETURN(uint8_t * pw, txn_->Write(parent.page_no));
  Sink psink(txn_, parent.page_no);
  InternalNode pnode(pw, page_size_, &psink, &counters_);
  // Child c > idx spans [key(c - 1), key(c)): wholly inside the range when
  // key(c) <= end. The last child's upper bound is not on this page: it is
  // left to the next round.
  const size_t idx = parent.child_index;
  size_t m = idx;
  while (m + 1 < pnode.count() && pnode.key(m + 1) <= end) ++m;
  if (m == idx) return size_t{0};
  SOMBRA_ASSIGN_OR_RETURN(uint8_t * page, txn_->Write(leaf));
  const std::string new_high(pnode.key(m));
  const std::string low(layout->low_fence(page));
  // The leaf takes over the freed leaves' key range: its high fence grows
  // to key(m), which must fit beside its records.
  if (kFencesOffset + low.size() + new_high.size() + layout->used_bytes() > page_size_) {
    return size_t{0};
  }
  const uint32_t after = pnode.child(m + 1);
  for (size_t c = idx + 1; c <= m; ++c) {
    const uint32_t victim = pnode.child(c);
    SOMBRA_ASSIGN_OR_RETURN(const uint8_t* vp, txn_->Read(victim));
    if (vp[pager::kHeaderKindOffset] != static_cast<uint8_t>(pager::PageKind::kLeaf)) {
      return Status::Corruption("page " + std::to_string(victim) + ": child of level-1 page " +
                                std::to_string(parent.page_no) + " is not a leaf");
    }
    *count += DecodeFixed16(vp + kSlotCountOffset);
    cache_.erase(victim);
    SOMBRA_RETURN_IF_ERROR(FreeTree(txn_, victim, nullptr));  // the leaf and its overflow chains
  }
  for (size_t c = idx; c < m; ++c) pnode.Erase(idx);
  Sink sink(txn_, leaf);
  LeafAllocator alloc(page, layout, &sink);
  alloc.SetFences(low, new_high);
  alloc.SetSiblings(DecodeFixed32(page + kLeftOffset), after);
  SOMBRA_RETURN_IF_ERROR(FixLeftLink(after, leaf));
  ++version_;
  return m - idx;
}

}  // namespace sombra::btree
