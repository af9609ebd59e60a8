// BTreeWriter::DeleteRange: every key in [begin, end), a leaf at a time.
#include "btree/btree.h"
#include "btree/write_sink.h"

namespace sombra::btree {

Status BTreeWriter::DeleteRange(std::string_view begin, std::string_view end, uint64_t* deleted) {
  const FlushOnReturn flush(counters_);
  if (deleted != nullptr) *deleted = 0;
  if (end < begin) {
    return Status::InvalidArgument("DeleteRange: the end of the range sorts before its begin");
  }
  if (begin == end || root() == 0) return Status::OK();
  std::string from(begin);
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
    const std::string_view high = layout->high_fence(page);
    // Where the next leaf starts, when the range goes on past this one.
    const bool more = !high.empty() && high < end;
    std::string next = more ? std::string(high) : std::string();
    if (i < j) {
      for (size_t k = i; k < j; ++k) SOMBRA_RETURN_IF_ERROR(FreeValue(layout->Record(page, k)));
      Sink sink(txn_, leaf);
      LeafAllocator(page, layout, &sink).EraseRange(i, j);
      ++version_;
      if (deleted != nullptr) *deleted += j - i;
      if (!path.empty() && Underfull(layout->used_bytes())) {
        SOMBRA_RETURN_IF_ERROR(RebalanceLeaf(&path));
      }
    }
    if (!more) return Status::OK();
    from = std::move(next);
  }
}

}  // namespace sombra::btree
