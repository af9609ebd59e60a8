// The write side: Put, Delete, splits and rebalancing, all through
// LeafAllocator and InternalNode.
#include <algorithm>
#include <cassert>
#include <cstring>
#include <tuple>

#include "btree/btree.h"
#include "btree/internal_node.h"
#include "btree/write_sink.h"
#include "pager/format.h"

namespace sombra::btree {

namespace {

// The records of one or two leaves, in order.
class LeavesSource final : public RecordSource {
 public:
  void Add(const uint8_t* page, const LeafLayout* layout, size_t begin, size_t end) {
    parts_.push_back(Part{page, layout, begin, end});
  }
  bool Next(std::string_view* record, uint32_t* head) override {
    while (part_ < parts_.size()) {
      Part& p = parts_[part_];
      if (p.begin < p.end) {
        const LeafSlot& s = p.layout->slot(p.begin++);
        *record = std::string_view(reinterpret_cast<const char*>(p.page + s.offset), s.length);
        *head = s.head;
        return true;
      }
      ++part_;
    }
    return false;
  }

 private:
  struct Part {
    const uint8_t* page;
    const LeafLayout* layout;
    size_t begin, end;
  };
  std::vector<Part> parts_;
  size_t part_ = 0;
};

// The REQUIRES of Get and Delete (btree.h), asserted only: no guard is
// needed, as they only compare the key with stored ones, and a key outside
// the limits is never stored (PutRequires), so they find nothing and
// change no page.
void AssertKeyRequires(std::string_view key, uint32_t page_size) {
  assert(CheckKeySize(key.size(), page_size).ok() &&
         "BTreeWriter REQUIRES: key within sombra/limits.h");
  (void)key;
  (void)page_size;
}

// Moves one entry between internal siblings through their parent: the
// first of `right` to the end of `left` (from_right) or the last of `left`
// to the front of `right`; `sep` is the parent's separator left_idx between
// them. Nothing changes when the giver has one separator or a key does not
// fit.
void RotateThroughParent(InternalNode* parent, size_t left_idx, const std::string& sep,
                         bool from_right, InternalNode* left, InternalNode* right) {
  if (from_right && right->count() > 1) {
    const std::string up(right->key(0));
    if (!parent->SetKey(left_idx, up)) return;
    if (!left->Insert(left->count(), sep, right->child(0))) {
      parent->SetKey(left_idx, sep);
      return;
    }
    right->SetChild(0, right->child(1));
    right->Erase(0);
  } else if (!from_right && left->count() > 1) {
    const size_t last = left->count() - 1;
    const std::string up(left->key(last));
    if (!parent->SetKey(left_idx, up)) return;
    const uint32_t moved = left->child(last + 1);
    if (!right->Insert(0, sep, right->child(0))) {
      parent->SetKey(left_idx, sep);
      return;
    }
    right->SetChild(0, moved);
    left->Erase(last);
  }
}

// The fraction of a leaf's space (after its fences) its records and slots
// use, from its header; 1 for a header that does not add up (a damaged
// page is never chosen to share with).
double LeafFill(const uint8_t* page, uint32_t page_size) {
  const int64_t arena = int64_t{kFencesOffset} + DecodeFixed16(page + kLowFenceLenOffset) +
                        DecodeFixed16(page + kHighFenceLenOffset);
  const int64_t free = int64_t{DecodeFixed32(page + kFreeEndOffset)} -
                       DecodeFixed32(page + kFreeStartOffset) +
                       DecodeFixed32(page + kHoleBytesOffset);
  const int64_t space = int64_t{page_size} - arena;
  if (space <= 0 || free < 0 || free > space) return 1;
  return double(space - free) / double(space);
}

// Puts `pending` at slot i of the page `at` edits: true when it fits.
bool ApplyPending(LeafAllocator* at, const PendingInsert& pending, size_t i) {
  const EditResult r = pending.replace ? at->Update(i, pending.record, nullptr)
                                       : at->Insert(i, pending.record, pending.head, nullptr);
  return r == EditResult::kApplied;
}

}  // namespace

// Put's REQUIRES (btree.h): key and value within sombra/limits.h, which
// the API edge (lib/db) has checked; both asserted. The key's check stays
// on in release builds, for memory safety: an oversized key can make a
// record longer than a page holds (slot lengths are 16-bit), and fences
// and separators above MaxKeySize, which LeafAllocator and InternalNode
// assume never happen; the same compare refuses the empty key. The value
// needs no such guard: a value over kMaxValueSize goes to overflow pages,
// whose reference carries a 64-bit length, so it would be stored whole.
Status PutRequires(std::string_view key, std::string_view value, uint32_t page_size) {
  assert(CheckValueSize(value.size()).ok() &&
         "BTreeWriter::Put REQUIRES: value within sombra/limits.h");
  (void)value;
  Status s = CheckKeySize(key.size(), page_size);
  assert(s.ok() && "BTreeWriter::Put REQUIRES: key within sombra/limits.h");
  return s;
}

BTreeWriter::BTreeWriter(pager::PagerTxn* txn, const TickCounters* targets, BtreeOptions options)
    : txn_(txn), counters_(targets), options_(options) {}

BTreeWriter::BTreeWriter(pager::PagerTxn* txn, MetricsRegistry* metrics, BtreeOptions options)
    : txn_(txn), counters_(metrics), options_(options) {}

BTreeWriter::~BTreeWriter() = default;

PageReader BTreeWriter::reader() {
  return [this](uint32_t page_no) { return txn_->Read(page_no); };
}

bool BTreeWriter::Underfull(uint32_t used_bytes) const {
  return used_bytes < options_.merge_threshold * (page_size_ - kNodeHeaderEnd);
}

Status BTreeWriter::Get(std::string_view key, std::string* value) {
  const FlushOnReturn flush(counters_);
  AssertKeyRequires(key, page_size_);
  return TreeGet(reader(), page_size_, root(), key, value, &counters_);
}

Status BTreeWriter::Descend(std::string_view key, std::vector<PathEntry>* path, uint32_t* leaf) {
  SOMBRA_ASSIGN_OR_RETURN(*leaf, DescendToLeaf(reader(), page_size_, root(), key,
                                               DescentTarget::kByKey, &counters_, path));
  return Status::OK();
}

Status BTreeWriter::CheckServedLayout([[maybe_unused]] const LeafLayout& layout,
                                      [[maybe_unused]] uint32_t page_no) {
#ifndef NDEBUG
  SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, txn_->Read(page_no));
  if (!layout.Matches(page)) {
    return Status::Corruption("page " + std::to_string(page_no) +
                              ": cached leaf layout is stale (a write bypassed it)");
  }
#endif
  return Status::OK();
}

Result<LeafLayout*> BTreeWriter::LeafLayoutOf(uint32_t page_no) {
  auto it = cache_.find(page_no);
  if (it != cache_.end()) {  // the hot path: no page read in release builds
    counters_.Add(Tick::kAllocatorCacheReuse);
    SOMBRA_RETURN_IF_ERROR(CheckServedLayout(it->second, page_no));
    return &it->second;
  }
  SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, txn_->Read(page_no));
  LeafLayout kept;
  if (shared_ != nullptr && shared_->Take(page_no, page, &kept)) {
    counters_.Add(Tick::kAllocatorCacheReuse);
    kept.RebindCounters(&counters_);
    SOMBRA_RETURN_IF_ERROR(CheckServedLayout(kept, page_no));
    return &cache_.emplace(page_no, std::move(kept)).first->second;
  }
  Result<LeafLayout> layout = LeafLayout::Parse(page, page_size_, &counters_);
  if (!layout.ok()) {
    counters_.Add(Tick::kAllocatorFailures);  // a leaf the allocator cannot lay out (damaged)
    return layout.status();
  }
  return &cache_.emplace(page_no, std::move(*layout)).first->second;
}

Status BTreeWriter::EncodeRecord(std::string_view key, std::string_view value,
                                 std::string* record) {
  if (LeafRecordSize(key, value) <= MaxInlineRecord(page_size_)) {
    EncodeLeafRecordTo(key, value, record);  // into the reused buffer
    return Status::OK();
  }
  SOMBRA_ASSIGN_OR_RETURN(uint32_t first, WriteOverflow(txn_, value, &counters_));
  *record = EncodeOverflowRecord(key, first, value.size());
  return Status::OK();
}

Status BTreeWriter::FreeValue(const LeafRecordRef& rec) {
  if (!rec.overflow) return Status::OK();
  uint32_t first;
  uint64_t len;
  DecodeOverflowRef(rec.value, &first, &len);
  return FreeOverflow(txn_, first, len);
}

Status BTreeWriter::Put(std::string_view key, std::string_view value) {
  const FlushSometimesOnReturn flush(counters_);
  SOMBRA_RETURN_IF_ERROR(PutRequires(key, value, page_size_));
  if (root() == 0) {
    uint8_t* page;
    SOMBRA_ASSIGN_OR_RETURN(uint32_t root, txn_->Allocate(pager::PageKind::kLeaf, &page));
    cache_[root] = LeafLayout::InitEmpty(page, page_size_, {}, {}, 0, 0, &counters_);
    SetRoot(root);
  }
  std::string& record = record_;  // reused: no allocation per Put
  // The new value first (an overflow chain is written in full here), the
  // old one's chain is freed only after that: a failure in between leaves
  // the old value whole, never a record pointing at free pages. (A failed
  // Put still leaves the transaction half-changed; db::WriteTxnImpl refuses
  // to commit it.)
  SOMBRA_RETURN_IF_ERROR(EncodeRecord(key, value, &record));
  bool freed = false;
  // Usually one pass; a second when the split had to leave the record out.
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::vector<PathEntry>& path = path_;
    uint32_t leaf;
    LeafLayout* layout = attempt == 0 ? PutHintHolds(key) : nullptr;
    if (layout != nullptr) {
      leaf = put_hint_.leaf;  // path_ is still its path
      counters_.Add(Tick::kAllocatorCacheReuse);
      SOMBRA_RETURN_IF_ERROR(CheckServedLayout(*layout, leaf));
    } else {
      SOMBRA_RETURN_IF_ERROR(Descend(key, &path, &leaf));
      SOMBRA_ASSIGN_OR_RETURN(layout, LeafLayoutOf(leaf));
    }
    SOMBRA_ASSIGN_OR_RETURN(uint8_t * page, txn_->Write(leaf));
    bool exact;
    size_t i = layout->LowerBound(page, key, &exact);
    if (exact && !freed) SOMBRA_RETURN_IF_ERROR(FreeValue(layout->Record(page, i)));
    freed = true;
    Sink sink(txn_, leaf);
    LeafAllocator alloc(page, layout, &sink);
    PendingInsert pending;
    EditResult r =
        exact ? alloc.Update(i, record, &pending) : alloc.Insert(i, record, KeyHead(key), &pending);
    ++version_;
    if (r == EditResult::kApplied) {
      put_hint_ = PutHint{version_, root(), leaf, layout};
      return Status::OK();
    }
    counters_.Add(Tick::kAllocatorSplitTriggers);
    pending.head = KeyHead(key);
    SOMBRA_ASSIGN_OR_RETURN(bool shared, ShareWithSibling(leaf, *layout, page, pending, path));
    if (shared) return Status::OK();
    SOMBRA_ASSIGN_OR_RETURN(bool placed, SplitLeaf(leaf, page, layout, pending, &path));
    if (placed) return Status::OK();
  }
  counters_.Add(Tick::kAllocatorFailures);
  return Status::Corruption("no leaf split makes room for a key of " + std::to_string(key.size()) +
                            " bytes");
}

std::unordered_map<uint32_t, LeafLayout> BTreeWriter::ReleaseLayouts() {
  std::unordered_map<uint32_t, LeafLayout> out;
  out.swap(cache_);
  // A changed page is logged with the commit's LSN; one whose change turns
  // out empty keeps its old LSN, so its layout is only dropped by the next
  // Take, never served wrongly.
  const uint64_t commit_lsn = txn_->commit_lsn();
  for (auto it = out.begin(); it != out.end();) {
    uint64_t lsn = commit_lsn;
    if (!txn_->IsDirty(it->first)) {
      Result<const uint8_t*> page = txn_->Read(it->first);
      if (!page.ok()) {
        it = out.erase(it);
        continue;
      }
      lsn = DecodeFixed64(*page + pager::kHeaderLsnOffset);
    }
    it->second.set_kept_lsn(lsn);
    ++it;
  }
  put_hint_ = PutHint{};
  return out;
}

LeafLayout* BTreeWriter::PutHintHolds(std::string_view key) {
  if (put_hint_.version != version_ || put_hint_.root != root()) return nullptr;
  // Nothing changed since the last Put edited this leaf in place: path_ is
  // its path, the leaf is dirty in this transaction and its layout cached.
  LeafLayout* layout = put_hint_.layout;
  // A key whose head is above the last record's is above the low fence
  // (every record is at or above it): an ascending load's keys need no
  // fence comparison in the rightmost leaf, which has no high fence.
  const size_t n = layout->size();
  const bool above_last = n != 0 && layout->slot(n - 1).head < KeyHead(key);
  if (above_last && !layout->has_high_fence()) return layout;
  Result<const uint8_t*> page = txn_->Read(put_hint_.leaf);
  if (!page.ok()) return nullptr;
  if (!above_last && key < layout->low_fence(*page)) return nullptr;
  if (layout->has_high_fence() && !(key < layout->high_fence(*page))) return nullptr;
  return layout;
}

Result<bool> BTreeWriter::SplitLeaf(uint32_t leaf_no, uint8_t* page, LeafLayout* layout,
                                    const PendingInsert& pending, std::vector<PathEntry>* path) {
  const uint32_t old_right = DecodeFixed32(page + kRightOffset);
  const bool rightmost = old_right == 0;
  PendingInsert use = pending;
  size_t cut = ChooseSplit(page, *layout, use, rightmost);
  const bool placed = SplitFits(page, *layout, use, cut);
  if (!placed) {
    // No cut holds the new record with its neighbours (fences, separator and
    // records all near their limits): split the page's own records and let
    // the caller insert into the half that now has room.
    use = PendingInsert{};
    if (layout->size() < 2) return Status::Corruption("a full leaf with one record cannot split");
    cut = ChooseSplit(page, *layout, use, rightmost);
    if (!SplitFits(page, *layout, use, cut)) {
      return Status::Corruption("page " + std::to_string(leaf_no) + ": no split fits");
    }
  }
  uint8_t* right_page;
  SOMBRA_ASSIGN_OR_RETURN(uint32_t right_no, txn_->Allocate(pager::PageKind::kLeaf, &right_page));
  LeafLayout right;
  SOMBRA_ASSIGN_OR_RETURN(
      const std::string separator,
      RightHalf(leaf_no, page, *layout, use, cut, rightmost, right_no, right_page, &right));
  // The new page's allocator header must match the layout that enters the
  // cache (a cheap check, always on).
  if (right.page_size() != page_size_ ||
      DecodeFixed32(right_page + kFreeStartOffset) != right.free_start() ||
      DecodeFixed32(right_page + kFreeEndOffset) != right.free_end()) {
    return Status::Corruption("page " + std::to_string(leaf_no) +
                              ": split produced a page whose header disagrees with its "
                              "leaf layout");
  }
  // The split page keeps its records in place (docs/architecture.md,
  // "Splits"): its log record is a few page ops, not a second image.
  Sink sink(txn_, leaf_no);
  if (!SplitKeepLeft(page, layout, use, cut, separator, right_no, &sink)) {
    return Status::Corruption("page " + std::to_string(leaf_no) +
                              ": the left half of a split does not hold its records");
  }
  cache_[right_no] = std::move(right);
  counters_.Add(Tick::kLeafSplits);
  if (old_right != 0) SOMBRA_RETURN_IF_ERROR(FixLeftLink(old_right, right_no));
  SOMBRA_RETURN_IF_ERROR(InsertIntoParent(path, 0, separator, right_no));
  return placed;
}

Result<std::string> BTreeWriter::RightHalf(uint32_t leaf_no, const uint8_t* page,
                                           const LeafLayout& layout, const PendingInsert& use,
                                           size_t cut, bool rightmost, uint32_t right_no,
                                           uint8_t* right_page, LeafLayout* right) {
  const bool append =
      rightmost && !use.record.empty() && !use.replace && use.slot_index == layout.size();
  if (txn_->copies_allowed() && !append) {
    // A copy of the split page (its kind and flags, node header, fences,
    // slots and records), which the log takes as one copy of the split
    // page's last commit and the edits this transaction made to it; then
    // the left half goes, in place, as SplitKeepLeft lets the right half go
    // from the split page.
    std::string separator = SplitSeparator(page, layout, use, cut);
    right_page[pager::kHeaderFlagsOffset] = page[pager::kHeaderFlagsOffset];
    std::memcpy(right_page + pager::kPageHeaderSize, page + pager::kPageHeaderSize,
                page_size_ - pager::kPageHeaderSize);
    counters_.Add(Tick::kMemcopyBytes, page_size_ - pager::kPageHeaderSize);
    txn_->NoteCloned(right_no, leaf_no);
    *right = layout;
    Sink sink(txn_, right_no);
    if (!SplitKeepRight(right_page, right, use, cut, separator, leaf_no, &sink)) {
      return Status::Corruption("page " + std::to_string(leaf_no) +
                                ": the right half of a split does not hold its records");
    }
    return separator;
  }
  // A new leaf the appends to come will fill: logged whole, so that they
  // note nothing in this transaction.
  SplitOutput out = SplitOffRight(page, layout, use, cut, right_page, leaf_no);
  txn_->NoteWholePage(right_no);
  *right = std::move(out.right);
  return std::move(out.separator);
}

Status BTreeWriter::FixLeftLink(uint32_t page_no, uint32_t new_left) {
  SOMBRA_ASSIGN_OR_RETURN(LeafLayout * layout, LeafLayoutOf(page_no));
  SOMBRA_ASSIGN_OR_RETURN(uint8_t * page, txn_->Write(page_no));
  Sink sink(txn_, page_no);
  LeafAllocator alloc(page, layout, &sink);
  alloc.SetSiblings(new_left, DecodeFixed32(page + kRightOffset));
  return Status::OK();
}

Status BTreeWriter::InsertIntoParent(std::vector<PathEntry>* path, uint16_t child_level,
                                     std::string_view separator, uint32_t right_child) {
  if (path->empty()) {  // the root split: a new root above it
    uint8_t* page;
    SOMBRA_ASSIGN_OR_RETURN(uint32_t new_root, txn_->Allocate(pager::PageKind::kInternal, &page));
    InternalNode node(page, page_size_, nullptr, &counters_);
    node.Init(static_cast<uint16_t>(child_level + 1), root());
    if (!node.Insert(0, separator, right_child)) {
      return Status::Corruption("a separator does not fit in an empty internal page");
    }
    SetRoot(new_root);
    return Status::OK();
  }
  const PathEntry parent = path->back();
  path->pop_back();
  SOMBRA_ASSIGN_OR_RETURN(uint8_t * page, txn_->Write(parent.page_no));
  Sink sink(txn_, parent.page_no);
  InternalNode node(page, page_size_, &sink, &counters_);
  if (node.Insert(parent.child_index, separator, right_child)) return Status::OK();
  uint8_t* right_page;
  SOMBRA_ASSIGN_OR_RETURN(uint32_t right_no,
                          txn_->Allocate(pager::PageKind::kInternal, &right_page));
  std::memset(scratch_.data(), 0, page_size_);
  std::string up = SplitInternal(page, page_size_, parent.child_index, separator, right_child,
                                 scratch_.data(), right_page, &counters_);
  std::memcpy(page, scratch_.data(), page_size_);
  txn_->NoteWholePage(parent.page_no);
  txn_->NoteWholePage(right_no);
  counters_.Add(Tick::kInternalSplits);
  return InsertIntoParent(path, node.level(), up, right_no);
}

Status BTreeWriter::Delete(std::string_view key, bool* existed) {
  const FlushSometimesOnReturn flush(counters_);
  if (existed != nullptr) *existed = false;
  AssertKeyRequires(key, page_size_);
  if (root() == 0) return Status::OK();
  std::vector<PathEntry> path;
  uint32_t leaf;
  SOMBRA_RETURN_IF_ERROR(Descend(key, &path, &leaf));
  SOMBRA_ASSIGN_OR_RETURN(LeafLayout * layout, LeafLayoutOf(leaf));
  SOMBRA_ASSIGN_OR_RETURN(const uint8_t* view, txn_->Read(leaf));
  bool exact;
  size_t i = layout->LowerBound(view, key, &exact);
  if (!exact) return Status::OK();
  if (existed != nullptr) *existed = true;
  SOMBRA_ASSIGN_OR_RETURN(uint8_t * page, txn_->Write(leaf));
  SOMBRA_RETURN_IF_ERROR(FreeValue(layout->Record(page, i)));
  Sink sink(txn_, leaf);
  LeafAllocator(page, layout, &sink).Erase(i);
  ++version_;
  if (path.empty() || !Underfull(layout->used_bytes())) return Status::OK();
  return RebalanceLeaf(&path);
}

// The leaf at the end of `path` fell below the threshold: merge it with a
// sibling under the same parent when both fit in one page, else even them.
Status BTreeWriter::RebalanceLeaf(std::vector<PathEntry>* path) {
  const PathEntry parent = path->back();
  SOMBRA_ASSIGN_OR_RETURN(const uint8_t* pview, txn_->Read(parent.page_no));
  const InternalNodeView pnode(pview, page_size_, &counters_);
  if (pnode.count() == 0) return Status::OK();  // no sibling under this parent
  LeafPair p;
  SOMBRA_RETURN_IF_ERROR(ReadPair(
      parent, parent.child_index < pnode.count() ? parent.child_index : parent.child_index - 1,
      &p));
  // A merge erases a separator of the parent; a non-root internal page
  // must keep at least one (rule I3), so with one left the leaves borrow.
  const bool parent_keeps_one = path->size() == 1 || pnode.count() > 1;
  if (parent_keeps_one && kNodeHeaderEnd + p.low.size() + p.high.size() + p.records <= page_size_) {
    return MergeLeaves(p, path);
  }
  // Borrow: the records of both evened out (nothing changes when that does
  // not fit: the leaf stays under the threshold).
  const size_t n_left = CollectPair(p, 0, nullptr);
  return SharePair(p, pair_records_, n_left, nullptr, Tick::kLeafBorrows).status();
}

// Merge: the right leaf's records join the left's; the right page goes.
Status BTreeWriter::MergeLeaves(const LeafPair& p, std::vector<PathEntry>* path) {
  LeavesSource src;
  src.Add(p.lp, p.left_layout, 0, p.left_layout->size());
  src.Add(p.rp, p.right_layout, 0, p.right_layout->size());
  SOMBRA_ASSIGN_OR_RETURN(LeafLayout merged,
                          RebuildFromRecords(scratch_.data(), page_size_, p.low, p.high, p.far_left,
                                             p.far_right, &src, &counters_));
  SOMBRA_ASSIGN_OR_RETURN(uint8_t * lw, txn_->Write(p.left_no));
  std::memcpy(lw, scratch_.data(), page_size_);
  txn_->NoteWholePage(p.left_no);
  cache_[p.left_no] = std::move(merged);
  cache_.erase(p.right_no);
  put_hint_ = PutHint{};  // its layout may have been that one
  SOMBRA_RETURN_IF_ERROR(txn_->Free(p.right_no));
  if (p.far_right != 0) SOMBRA_RETURN_IF_ERROR(FixLeftLink(p.far_right, p.left_no));
  SOMBRA_ASSIGN_OR_RETURN(uint8_t * pw, txn_->Write(p.parent.page_no));
  Sink sink(txn_, p.parent.page_no);
  InternalNode(pw, page_size_, &sink, &counters_).Erase(p.left_idx);
  counters_.Add(Tick::kLeafMerges);
  path->pop_back();
  return RebalanceInternal(p.parent.page_no, path);
}

Status BTreeWriter::ReadPair(const PathEntry& parent, size_t left_idx, LeafPair* p) {
  SOMBRA_ASSIGN_OR_RETURN(const uint8_t* pview, txn_->Read(parent.page_no));
  const InternalNodeView pnode(pview, page_size_, &counters_);
  p->parent = parent;
  p->left_idx = left_idx;
  p->left_no = pnode.child(left_idx);
  p->right_no = pnode.child(left_idx + 1);
  SOMBRA_ASSIGN_OR_RETURN(p->left_layout, LeafLayoutOf(p->left_no));
  SOMBRA_ASSIGN_OR_RETURN(p->right_layout, LeafLayoutOf(p->right_no));
  SOMBRA_ASSIGN_OR_RETURN(p->lp, txn_->Read(p->left_no));
  SOMBRA_ASSIGN_OR_RETURN(p->rp, txn_->Read(p->right_no));
  p->low = std::string(p->left_layout->low_fence(p->lp));
  p->high = std::string(p->right_layout->high_fence(p->rp));
  p->far_left = DecodeFixed32(p->lp + kLeftOffset);
  p->far_right = DecodeFixed32(p->rp + kRightOffset);
  p->records = p->left_layout->used_bytes() + p->right_layout->used_bytes();
  return Status::OK();
}

Result<bool> BTreeWriter::ShareWithSibling(uint32_t leaf_no, const LeafLayout& layout,
                                           const uint8_t* page, const PendingInsert& pending,
                                           const std::vector<PathEntry>& path) {
  if (path.empty() || options_.share_fill <= 0) return false;
  const bool append = !pending.replace && pending.slot_index == layout.size();
  if (append && DecodeFixed32(page + kRightOffset) == 0) return false;  // the tree's right edge
  const PathEntry parent = path.back();
  SOMBRA_ASSIGN_OR_RETURN(const uint8_t* pview, txn_->Read(parent.page_no));
  const InternalNodeView pnode(pview, page_size_, &counters_);
  // The sibling with the most room, if it has enough, judged from its
  // header alone (the pair's layouts are looked up once one is chosen).
  size_t best_left_idx = 0;
  double best_fill = options_.share_fill;
  bool found = false;
  for (size_t sib : {parent.child_index - 1, parent.child_index + 1}) {
    if (sib > pnode.count()) continue;  // also catches child_index 0's "-1"
    SOMBRA_ASSIGN_OR_RETURN(const uint8_t* sp, txn_->Read(pnode.child(sib)));
    const double fill = LeafFill(sp, page_size_);
    if (fill <= best_fill) {
      best_fill = fill;
      best_left_idx = std::min(sib, parent.child_index);
      found = true;
    }
  }
  if (!found) return false;
  LeafPair p;
  SOMBRA_RETURN_IF_ERROR(ReadPair(parent, best_left_idx, &p));
  assert(p.left_no == leaf_no || p.right_no == leaf_no);
  const size_t n_left = CollectPair(p, leaf_no, &pending);
  return SharePair(p, pair_records_, n_left, &pending, Tick::kLeafShares);
}

size_t BTreeWriter::CollectPair(const LeafPair& p, uint32_t pending_leaf,
                                const PendingInsert* pending) {
  std::vector<PairRecord>& recs = pair_records_;
  recs.clear();
  size_t n_left = 0;
  for (auto [no, pp, pl] :
       {std::tuple{p.left_no, p.lp, p.left_layout}, std::tuple{p.right_no, p.rp, p.right_layout}}) {
    const bool here = pending != nullptr && no == pending_leaf;
    for (size_t k = 0; k <= pl->size(); ++k) {
      if (here && k == pending->slot_index) {
        recs.push_back({pending->record, pending->head, true});
        if (pending->replace) continue;
      }
      if (k == pl->size()) break;
      const LeafSlot& s = pl->slot(k);
      recs.push_back({std::string_view(reinterpret_cast<const char*>(pp + s.offset), s.length),
                      s.head, false});
    }
    if (no == p.left_no) n_left = recs.size();
  }
  return n_left;
}

Result<bool> BTreeWriter::ShareCut(const LeafPair& p, const std::vector<PairRecord>& recs,
                                   size_t n_left, size_t* cut_out, std::string* sep) {
  if (recs.size() < 2) return false;  // nothing to share
  uint64_t total = 0;
  for (const PairRecord& r : recs) total += r.bytes.size() + kSlotSize;
  size_t cut = 0;
  uint64_t acc = 0;
  while (cut + 1 < recs.size() && acc + recs[cut].bytes.size() + kSlotSize <= total / 2) {
    acc += recs[cut++].bytes.size() + kSlotSize;
  }
  if (cut == 0) acc += recs[cut++].bytes.size() + kSlotSize;
  if (cut == n_left) return false;  // already even
  LeafRecordRef before, after;
  if (!DecodeLeafRecord(reinterpret_cast<const uint8_t*>(recs[cut - 1].bytes.data()),
                        recs[cut - 1].bytes.size(), &before) ||
      !DecodeLeafRecord(reinterpret_cast<const uint8_t*>(recs[cut].bytes.data()),
                        recs[cut].bytes.size(), &after) ||
      before.key >= after.key) {
    return Status::Corruption("page " + std::to_string(p.left_no) + " or " +
                              std::to_string(p.right_no) + ": records out of order");
  }
  *sep = ShortestSeparator(before.key, after.key);
  *cut_out = cut;
  return kNodeHeaderEnd + p.low.size() + sep->size() + acc <= page_size_ &&
         kNodeHeaderEnd + sep->size() + p.high.size() + (total - acc) <= page_size_;
}

Result<bool> BTreeWriter::SharePair(const LeafPair& p, const std::vector<PairRecord>& recs,
                                    size_t n_left, const PendingInsert* pending, Tick tally) {
  size_t cut = 0;
  std::string sep;
  SOMBRA_ASSIGN_OR_RETURN(bool fits, ShareCut(p, recs, n_left, &cut, &sep));
  if (!fits) return false;
  SOMBRA_ASSIGN_OR_RETURN(uint8_t * pw, txn_->Write(p.parent.page_no));
  Sink psink(txn_, p.parent.page_no);
  if (!InternalNode(pw, page_size_, &psink, &counters_).SetKey(p.left_idx, sep)) return false;

  // The receiver takes the moved records first (they are read from the
  // giver, which changes after); then the giver lets them go.
  SOMBRA_ASSIGN_OR_RETURN(uint8_t * lw, txn_->Write(p.left_no));
  SOMBRA_ASSIGN_OR_RETURN(uint8_t * rw, txn_->Write(p.right_no));
  Sink lsink(txn_, p.left_no), rsink(txn_, p.right_no);
  LeafAllocator left(lw, p.left_layout, &lsink), right(rw, p.right_layout, &rsink);
  const bool to_right = cut < n_left;
  const size_t begin = to_right ? cut : n_left, end = to_right ? n_left : cut;
  // The moved records are views of the giver as ReadPair read it: the log
  // takes them as copies from it where its last commit holds them.
  if (to_right) {
    rsink.CopyFrom(p.left_no, p.lp);
  } else {
    lsink.CopyFrom(p.right_no, p.rp);
  }
  const auto has_pending = [&](size_t b, size_t e) {
    return std::any_of(recs.begin() + static_cast<ptrdiff_t>(b),
                       recs.begin() + static_cast<ptrdiff_t>(e), [](auto& r) { return r.pending; });
  };
  const bool pending_moved = has_pending(begin, end), pending_left = has_pending(0, n_left);
  // The giver's slots that go: one per moved record, but an inserted
  // pending record has none.
  const size_t gone = end - begin - (pending_moved && !pending->replace ? 1 : 0);
  size_t pending_at = pending != nullptr ? pending->slot_index : 0;  // on its page, after the move
  std::vector<std::string_view>& moved = moved_records_;
  std::vector<uint32_t>& heads = moved_heads_;
  moved.clear();
  heads.clear();
  for (size_t k = begin; k < end; ++k) {
    moved.push_back(recs[k].bytes);
    heads.push_back(recs[k].head);
  }
  bool ok;
  if (to_right) {
    right.SetFences(sep, p.high);
    ok = right.InsertRun(0, moved.data(), heads.data(), moved.size()) == EditResult::kApplied;
    left.EraseRange(p.left_layout->size() - gone, p.left_layout->size());
    left.SetFences(p.low, sep);
    if (!pending_left) pending_at += end - begin;
  } else {
    left.SetFences(p.low, sep);
    ok = left.InsertRun(p.left_layout->size(), moved.data(), heads.data(), moved.size()) ==
         EditResult::kApplied;
    right.EraseRange(0, gone);
    right.SetFences(sep, p.high);
    if (!pending_left) pending_at -= gone;
  }
  if (ok && pending != nullptr && !pending_moved) {
    ok = ApplyPending(pending_left ? &left : &right, *pending, pending_at);
  }
  if (!ok) {
    return Status::Corruption("pages " + std::to_string(p.left_no) + " and " +
                              std::to_string(p.right_no) + ": a share overflowed a page");
  }
  counters_.Add(tally);
  return true;
}

Status BTreeWriter::RebalanceInternal(uint32_t page_no, std::vector<PathEntry>* path) {
  SOMBRA_ASSIGN_OR_RETURN(const uint8_t* view, txn_->Read(page_no));
  const InternalNodeView node(view, page_size_, &counters_);
  if (path->empty()) {  // the root: collapse it when one child is left
    if (node.count() == 0) {
      SetRoot(node.child(0));
      return txn_->Free(page_no);
    }
    return Status::OK();
  }
  if (!Underfull(node.used_bytes())) return Status::OK();
  const PathEntry parent = path->back();
  SOMBRA_ASSIGN_OR_RETURN(uint8_t * pw, txn_->Write(parent.page_no));
  Sink psink(txn_, parent.page_no);
  InternalNode pnode(pw, page_size_, &psink, &counters_);
  if (pnode.count() == 0) return Status::OK();
  const size_t left_idx =
      parent.child_index < pnode.count() ? parent.child_index : parent.child_index - 1;
  const uint32_t left_no = pnode.child(left_idx);
  const uint32_t right_no = pnode.child(left_idx + 1);
  const std::string sep(pnode.key(left_idx));
  SOMBRA_ASSIGN_OR_RETURN(uint8_t * lw, txn_->Write(left_no));
  SOMBRA_ASSIGN_OR_RETURN(uint8_t * rw, txn_->Write(right_no));
  Sink lsink(txn_, left_no), rsink(txn_, right_no);
  InternalNode left(lw, page_size_, &lsink, &counters_), right(rw, page_size_, &rsink, &counters_);
  const uint32_t entry = static_cast<uint32_t>(sep.size()) + 6 + kSlotSize;
  const bool parent_keeps_one = path->size() == 1 || pnode.count() > 1;
  if (parent_keeps_one &&
      left.used_bytes() + right.used_bytes() + entry + kNodeHeaderEnd <= page_size_) {
    // Merge: the separator comes down, then the right node's entries.
    bool ok = left.Insert(left.count(), sep, right.child(0));
    for (size_t j = 0; ok && j < right.count(); ++j) {
      ok = left.Insert(left.count(), right.key(j), right.child(j + 1));
    }
    if (!ok) return Status::Corruption("internal merge overflowed a page it was sized for");
    pnode.Erase(left_idx);
    SOMBRA_RETURN_IF_ERROR(txn_->Free(right_no));
    path->pop_back();
    return RebalanceInternal(parent.page_no, path);
  }
  // Borrow one entry through the parent (a rotation).
  RotateThroughParent(&pnode, left_idx, sep, parent.child_index == left_idx, &left, &right);
  return Status::OK();
}

}  // namespace sombra::btree
