// BTreeWriter::Append: sorted bulk load into the rightmost leaf.
#include <cassert>

#include "btree/btree.h"
#include "btree/tree_descent.h"
#include "btree/write_sink.h"

namespace sombra::btree {

Status BTreeWriter::FindAppendLeaf() {
  AppendPoint& a = append_;
  a.has_last = false;
  a.last_key.clear();
  if (root() == 0) {
    a.leaf = 0;
    a.path.clear();
  } else {
    ++append_descents_;
    SOMBRA_ASSIGN_OR_RETURN(a.leaf, DescendToLeaf(reader(), page_size_, root(), {},
                                                  DescentTarget::kLastLeaf, &counters_, &a.path));
    SOMBRA_ASSIGN_OR_RETURN(LeafLayout * layout, LeafLayoutOf(a.leaf));
    SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, txn_->Read(a.leaf));
    if (layout->size() > 0) {
      a.has_last = true;
      a.last_key.assign(layout->Record(page, layout->size() - 1).key);
    } else if (!a.path.empty()) {
      // An empty rightmost leaf beside others (deletes not yet rebalanced):
      // the last key is further left.
      TreeCursor c(reader(), page_size_, root(), &counters_);
      c.SeekToLast();
      SOMBRA_RETURN_IF_ERROR(c.status());
      if (c.Valid()) {
        a.has_last = true;
        a.last_key.assign(c.key());
      }
    }
  }
  a.version = version_;
  return Status::OK();
}

Status BTreeWriter::CheckAppendOrder(std::string_view key) {
  if (append_.version != version_) SOMBRA_RETURN_IF_ERROR(FindAppendLeaf());
  if (!append_.has_last || append_.last_key < key) return Status::OK();
  return Status::InvalidArgument("Append: the key (" + std::to_string(key.size()) +
                                 " bytes) does not sort after the tree's last key (" +
                                 std::to_string(append_.last_key.size()) +
                                 " bytes); nothing was written");
}

Status BTreeWriter::Append(std::string_view key, std::string_view value) {
  SOMBRA_RETURN_IF_ERROR(PutRequires(key, value, page_size_));
  // The order is checked before anything is written (an overflow value
  // included): a refused key changes nothing.
  SOMBRA_RETURN_IF_ERROR(CheckAppendOrder(key));
  return AppendInOrder(key, value);
}

Status BTreeWriter::AppendInOrder(std::string_view key, std::string_view value) {
  const FlushSometimesOnReturn flush(counters_);
  SOMBRA_RETURN_IF_ERROR(PutRequires(key, value, page_size_));
  assert(append_.version == version_ && (!append_.has_last || append_.last_key < key));
  if (append_.leaf == 0) {
    // An empty tree: Put makes the root leaf.
    SOMBRA_RETURN_IF_ERROR(Put(key, value));
    return FindAppendLeaf();
  }
  std::string& record = record_;
  SOMBRA_RETURN_IF_ERROR(EncodeRecord(key, value, &record));
  const uint32_t leaf = append_.leaf;
  SOMBRA_ASSIGN_OR_RETURN(LeafLayout * layout, LeafLayoutOf(leaf));
  SOMBRA_ASSIGN_OR_RETURN(uint8_t * page, txn_->Write(leaf));
  Sink sink(txn_, leaf);
  LeafAllocator alloc(page, layout, &sink);
  PendingInsert pending;
  const EditResult r = alloc.Insert(layout->size(), record, KeyHead(key), &pending);
  ++version_;
  if (r == EditResult::kApplied) {
    append_.version = version_;  // still the rightmost leaf, same path
    append_.has_last = true;
    append_.last_key.assign(key);
    return Status::OK();
  }
  // The rightmost leaf is full: it splits at its end (the new key alone
  // starts the next leaf), and the next Append finds the new leaf.
  counters_.Add(Tick::kAllocatorSplitTriggers);
  pending.head = KeyHead(key);
  SOMBRA_ASSIGN_OR_RETURN(bool placed, SplitLeaf(leaf, page, layout, pending, &append_.path));
  if (!placed) {
    // Keys near the size limits: the split left the record out; Put places
    // it (it sorts last, so it lands in the rightmost leaf).
    SOMBRA_RETURN_IF_ERROR(Put(key, value));
  }
  append_.version = UINT64_MAX;
  return Status::OK();
}

}  // namespace sombra::btree
