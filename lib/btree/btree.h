// btree/btree.h: the B+tree over pager transactions and snapshots.
//
// BTreeWriter runs inside one pager::PagerTxn: Put/Delete/Get descend from
// the root keeping the path (no parent pointers), edit leaves only through
// LeafAllocator (with a per-transaction cache of leaf layouts, so a
// run of edits to one leaf never re-parses it); a full leaf first shares
// its records with a sibling that has room (moved in place, logged as page
// ops), else splits: SplitOffRight streams the right half into a new page
// (a whole image for the pager) and SplitKeepLeft edits the split page in
// place (page ops), cascading internal splits up to a new root; deletes borrow
// from (in place) or merge with a sibling when a page falls below the fill
// threshold, and the root collapses when it has one child. Reads (Get,
// cursors, Verify) take a PageReader: a snapshot's or the transaction's
// view.
//
// Thread safety: a BTreeWriter belongs to its transaction's thread. Readers
// over distinct snapshots run in parallel.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "btree/btree_counters.h"
#include "btree/layout_cache.h"
#include "btree/leaf_allocator.h"
#include "btree/overflow.h"
#include "btree/slotted_page.h"
#include "btree/tree_descent.h"
#include "pager/pager_txn.h"
#include "pager/snapshot.h"
#include "sombra/limits.h"

namespace sombra::btree {

struct BtreeOptions {
  // A non-root page whose records and slots use less than this fraction of
  // the space a page offers borrows from or merges with a sibling.
  double merge_threshold = 0.25;
  // An insert into a full leaf first looks at its siblings under the same
  // parent: when one has records and slots using at most this fraction of
  // the space a page offers it, the two leaves and the new record are
  // shared evenly between them (as SQLite's balance does) instead of a
  // split leaving two half-full pages; random loads then end with leaves
  // ~85% full instead of ~68%. An append at the right edge of the tree
  // always splits (a sequential load fills each leaf to the end). 0: never.
  double share_fill = 0.97;
};

// A reader over a snapshot.
PageReader SnapshotReader(const pager::Snapshot* snap);

// Looks `key` up in the tree rooted at `root`: NotFound, or *value.
Status TreeGet(const PageReader& read, uint32_t page_size, uint32_t root, std::string_view key,
               std::string* value, const BTreeCounters* c);

class BTreeWriter {
 public:
  // Tallies into `targets` (a database's, looked up once; null: counts
  // nothing); Put, Delete and Get add their tallies as they return.
  BTreeWriter(pager::PagerTxn* txn, const TickCounters* targets, BtreeOptions options = {});
  // The same with the counters of `metrics` looked up here.
  BTreeWriter(pager::PagerTxn* txn, MetricsRegistry* metrics, BtreeOptions options = {});
  ~BTreeWriter();

  // REQUIRES (Put, Delete, Get): the key, and Put's value, are within the
  // limits of sombra/limits.h (CheckKeySize(key.size(), page size) and
  // CheckValueSize(value.size()) are OK). The API edge checks them
  // (db::DBImpl::CheckKey, CheckKeyValue) and tells the user; here they
  // are asserted. With asserts off, Put still returns CheckKeySize's
  // InvalidArgument (nothing written) rather than store a key that breaks
  // its page; the value and Get's and Delete's key need no such guard
  // (btree_write.cc says why).
  //
  // Any error of Put (a failed allocation, file growth or page read;
  // damage) may leave the transaction's pages half-changed (a split
  // without its separator, pages taken or freed): the caller must abort
  // the transaction, never commit it (db::WriteTxnImpl refuses to). A
  // replaced overflow value's chain is freed only after the new value is
  // written.
  Status Put(std::string_view key, std::string_view value);
  // Puts, Deletes and Appends add their counts to the registry every
  // BTreeCounters::kFlushEvery calls and when the writer goes; this adds
  // the rest now (tests that read the counters after each edit).
  void FlushCounters() const { counters_.Flush(); }
  // Sorted bulk load (as LMDB's MDB_APPEND): `key` goes after the tree's
  // last key, in the rightmost leaf, with no descent while the last Append
  // left that leaf in place (no other edit since, no split); a full
  // rightmost leaf splits at its end, so appended keys fill leaves
  // completely. InvalidArgument, nothing written, when the tree holds a
  // key >= `key`. REQUIRES and other errors as Put.
  Status Append(std::string_view key, std::string_view value);
  // Append's order check alone (it reads, never writes): InvalidArgument
  // when the tree holds a key >= `key`.
  Status CheckAppendOrder(std::string_view key);
  // Append without its order check, for a caller that just made it.
  // REQUIRES: CheckAppendOrder(key) returned OK, with no edit since.
  Status AppendInOrder(std::string_view key, std::string_view value);
  // Descents Append made to find the rightmost leaf (tests: one per leaf
  // filled, not one per key).
  uint64_t append_descents() const { return append_descents_; }
  // *existed (may be null) says whether the key was there. Errors as Put.
  Status Delete(std::string_view key, bool* existed);
  // Deletes every key k with begin <= k < end (any byte strings, as
  // positions): a leaf at a time, its records in the range gone in one
  // erase (their overflow chains freed), then the leaf rebalanced as a
  // Delete's would be (an emptied leaf merges away and its page is freed).
  // *deleted (may be null) counts them. InvalidArgument, nothing written,
  // when end < begin. Errors as Put.
  Status DeleteRange(std::string_view begin, std::string_view end, uint64_t* deleted);
  Status Get(std::string_view key, std::string* value);
  PageReader reader();
  // The root of the tree this writer edits: the pager transaction's
  // (the default tree's), or *root_slot when SetRootSlot named one.
  uint32_t root() const { return root_slot_ != nullptr ? *root_slot_ : txn_->root(); }
  // Makes this writer edit the tree whose root is *slot (a named tree, or
  // the catalog, db/catalog.h): it reads its root there and stores a new
  // root there. REQUIRES: before any other call; *slot outlives the writer.
  void SetRootSlot(uint32_t* slot) { root_slot_ = slot; }
  // Takes leaf layouts from `shared` (kept by earlier committed
  // transactions) before parsing a leaf (layout_cache.h). Null: parses.
  void ShareLayouts(LayoutCache* shared) { shared_ = shared; }
  // The layouts of the leaves this transaction touched, which describe
  // them as they are now: for LayoutCache::Keep as the transaction commits.
  // The writer has none afterwards.
  // Each carries the page LSN it describes (LeafLayout::kept_lsn): the
  // commit's for a page this transaction changed, the page's own for one it
  // only read. REQUIRES: the transaction has not committed yet.
  std::unordered_map<uint32_t, LeafLayout> ReleaseLayouts();
  // Bumped by every change: cursors in the transaction re-seek after one.
  uint64_t version() const { return version_; }

 private:
  using PathEntry = DescentStep;
  class Sink;

  Status Descend(std::string_view key, std::vector<PathEntry>* path, uint32_t* leaf);
  void SetRoot(uint32_t root) {
    if (root_slot_ != nullptr) {
      *root_slot_ = root;
    } else {
      txn_->SetRoot(root);
    }
  }
  // The cached layout of a leaf (parsed from the transaction's
  // view on first use).
  Result<LeafLayout*> LeafLayoutOf(uint32_t page_no);
  // Debug builds: a layout served without a parse (this transaction's
  // cache, or one kept by an earlier one) is what a parse of the page
  // gives; Corruption otherwise. Release builds trust it: every write goes
  // through the layout, and a kept one was checked against the page's
  // header and directory (LayoutCache::Take).
  Status CheckServedLayout(const LeafLayout& layout, uint32_t page_no);
  // Splits a full leaf; true when the pending record went in with it,
  // false when it had to be left out (the caller inserts it again).
  Result<bool> SplitLeaf(uint32_t leaf_no, uint8_t* page, LeafLayout* layout,
                         const PendingInsert& pending, std::vector<PathEntry>* path);
  // The new right half of SplitLeaf's cut, in page right_no (allocated):
  // into its layout *right; returns the separator. As a copy of the split
  // page that loses the left half in place when the log takes copies
  // (format 12) and the cut is not an append at the tree's right edge
  // (which keeps its new leaf compact for the appends to come); else
  // streamed (SplitOffRight).
  Result<std::string> RightHalf(uint32_t leaf_no, const uint8_t* page, const LeafLayout& layout,
                                const PendingInsert& use, size_t cut, bool rightmost,
                                uint32_t right_no, uint8_t* right_page, LeafLayout* right);
  Status InsertIntoParent(std::vector<PathEntry>* path, uint16_t child_level,
                          std::string_view separator, uint32_t right_child);
  Status FixLeftLink(uint32_t page_no, uint32_t new_left);
  // DeleteRange's whole-subtree step (btree_range.cc): at the highest page
  // of `path` with children after the path's wholly inside [.., end),
  // those subtrees (whole leaves, at level 1) are freed with their
  // overflow chains (CountAndFreeSubtree; their records counted into
  // *count, not erased), their separators leave the page, the last leaf of
  // the path's subtree takes over their range (high fence, right link), and
  // the page is rebalanced. True when it freed any (the caller descends
  // again); false, nothing changed, when none qualifies or the longer
  // fence would not fit.
  Result<bool> FreeWholeSubtrees(const std::vector<PathEntry>& path, std::string_view end,
                                 uint64_t* count);
  // Frees every page of the subtree rooted at `root_no` (internal pages,
  // leaves and their overflow chains); *records += its leaves' records.
  Status CountAndFreeSubtree(uint32_t root_no, uint64_t* records);
  // Two sibling leaves under one parent, read for a rebalance.
  struct LeafPair {
    PathEntry parent;
    size_t left_idx = 0;  // the separator between them in the parent
    uint32_t left_no = 0, right_no = 0;
    LeafLayout *left_layout = nullptr, *right_layout = nullptr;
    const uint8_t *lp = nullptr, *rp = nullptr;
    std::string low, high;  // left's low fence, right's high fence
    uint32_t far_left = 0, far_right = 0;
    uint32_t records = 0;  // used bytes of both
  };
  // The two leaves on either side of the parent's separator left_idx.
  Status ReadPair(const PathEntry& parent, size_t left_idx, LeafPair* p);
  // BtreeOptions::share_fill: true when `pending`, which does not fit in
  // leaf `leaf_no`, went in by sharing the leaf with a sibling.
  Result<bool> ShareWithSibling(uint32_t leaf_no, const LeafLayout& layout, const uint8_t* page,
                                const PendingInsert& pending, const std::vector<PathEntry>& path);
  // One record of a pair being shared, in key order.
  struct PairRecord {
    std::string_view bytes;
    uint32_t head;
    bool pending;  // the PendingInsert's record, not yet on its page
  };
  // Shares the records of the pair `p` - `recs`: the left leaf's n_left
  // then the right leaf's, with `pending` (may be null) in its place among
  // them - evenly by bytes around a new separator: the records on the
  // wrong side of the cut move to the sibling through LeafAllocator (logged
  // as the records and slot moves, not as page images), the fences follow,
  // and `pending` goes in. False, nothing changed, when nothing would move,
  // the halves with their fences do not fit, or the parent has no room for
  // the separator.
  Result<bool> SharePair(const LeafPair& p, const std::vector<PairRecord>& recs, size_t n_left,
                         const PendingInsert* pending, Tick tally);
  // The records of both leaves of `p` in key order into pair_records_, with
  // `pending` (may be null) in its place on leaf `pending_leaf` (replacing
  // the record it updates); returns how many are the left leaf's.
  size_t CollectPair(const LeafPair& p, uint32_t pending_leaf, const PendingInsert* pending);
  // SharePair's cut (the records going left) and the separator there; false
  // when nothing would move or the halves do not fit.
  Result<bool> ShareCut(const LeafPair& p, const std::vector<PairRecord>& recs, size_t n_left,
                        size_t* cut, std::string* sep);
  Status RebalanceLeaf(std::vector<PathEntry>* path);
  Status MergeLeaves(const LeafPair& p, std::vector<PathEntry>* path);
  Status RebalanceInternal(uint32_t page_no, std::vector<PathEntry>* path);
  bool Underfull(uint32_t used_bytes) const;
  Status EncodeRecord(std::string_view key, std::string_view value, std::string* record);
  Status FreeValue(const LeafRecordRef& rec);
  // Append's rightmost leaf and the path to it, found again when stale.
  Status FindAppendLeaf();

  // Where Append goes on: valid while version_ == append_.version.
  struct AppendPoint {
    uint64_t version = UINT64_MAX;
    uint32_t leaf = 0;
    std::vector<PathEntry> path;
    bool has_last = false;  // the tree holds a key: last_key
    std::string last_key;
  };

  pager::PagerTxn* txn_;
  uint32_t* root_slot_ = nullptr;
  BTreeCounters counters_;  // what the layouts and nodes count into
  BtreeOptions options_;
  uint32_t page_size_ = txn_->page_size();
  uint64_t version_ = 0;
  std::unordered_map<uint32_t, LeafLayout> cache_;
  LayoutCache* shared_ = nullptr;
  std::vector<uint8_t> scratch_ = std::vector<uint8_t>(page_size_);
  std::string record_;           // Put's encoded record
  std::vector<PathEntry> path_;  // Put's descent path
  // The leaf the last Put edited in place, whose path is still path_:
  // valid while version_ == put_hint_.version and the root is unchanged.
  // The next Put whose key lies inside that leaf's fences goes straight
  // there (a sequential load's keys land in one leaf until it splits).
  // Its layout points at the leaf's entry in cache_; every erase from
  // cache_ resets the hint.
  struct PutHint {
    uint64_t version = UINT64_MAX;
    uint32_t root = 0;
    uint32_t leaf = 0;
    LeafLayout* layout = nullptr;
  };
  PutHint put_hint_;
  // The hinted leaf's layout when put_hint_ is current and `key` lies
  // inside that leaf's fences; null otherwise.
  LeafLayout* PutHintHolds(std::string_view key);
  std::vector<PairRecord> pair_records_;         // SharePair's input, reused
  std::vector<std::string_view> moved_records_;  // SharePair's, reused
  std::vector<uint32_t> moved_heads_;
  AppendPoint append_;
  uint64_t append_descents_ = 0;
};

// Ordered iteration over the tree rooted at `root` as `read` sees it.
class TreeCursor {
 public:
  TreeCursor(PageReader read, uint32_t page_size, uint32_t root, const BTreeCounters* c);
  ~TreeCursor() { FlushDecodes(); }
  TreeCursor(const TreeCursor&) = delete;
  TreeCursor& operator=(const TreeCursor&) = delete;

  bool Valid() const { return valid_; }
  void SeekToFirst();
  void SeekToLast();
  void Seek(std::string_view key);  // first key >= key
  // REQUIRES (Next, Prev): Valid(). A step inside a leaf to a record with
  // one-byte headers and an inline value is decoded here, inline, with no
  // call (a scan's every step but the one to the next leaf); anything
  // else takes the full path.
  void Next() {
    if (!(valid_ && slot_ + 1 < count_ && LoadInline(slot_ + 1))) NextSlow();
  }
  void Prev() {
    if (!(valid_ && slot_ > 0 && LoadInline(slot_ - 1))) PrevSlow();
  }
  // Views into the page (or, for a large value, into the cursor's buffer),
  // valid until the cursor moves.
  std::string_view key() const { return key_; }
  std::string_view value() const { return value_; }
  const Status& status() const { return status_; }
  // For a writer's cursor: re-read the tree from a new root.
  void Reset(uint32_t root) { root_ = root; }

 private:
  // Descends to the leaf for key (or the first/last leaf) and positions.
  void Position(std::string_view key, int edge);
  // Makes `page` (page `page_no`, a leaf) the current leaf: its slot count
  // and directory are checked against the page size once here, so that
  // Load reads a slot without decoding the header again. False (and
  // status_ Corruption) when the directory does not fit the page.
  bool EnterLeaf(uint32_t page_no, const uint8_t* page);
  bool Load();  // reads the current slot into key_/value_
  // Load's common case for slot i of the current leaf: the record lies in
  // the page after the header, its key length and value code take one byte
  // each, its value is inline, and its length adds up; then slot_ = i.
  // False for any other record (Load reads it, or names the damage).
  bool LoadInline(size_t i) {
    const uint32_t off = DecodeFixed16(dir_end_ - kSlotSize * (i + 1) + kSlotRecordOffsetField);
    if (off < kNodeHeaderEnd || off + 2 > page_size_) return false;
    const uint8_t* d = page_ + off;
    const uint32_t key_len = d[0], code = d[1];
    // A high bit: a longer varint; the low bit of the code: an overflow value.
    if (((key_len | code) & 0x80) != 0 || (code & 1) != 0 ||
        off + 2 + key_len + (code >> 1) > page_size_) {
      return false;
    }
    const char* k = reinterpret_cast<const char*>(d + 2);
    key_ = std::string_view(k, key_len);
    value_ = std::string_view(k + key_len, code >> 1);
    slot_ = i;
    ++decodes_;
    return true;
  }
  void NextSlow();
  void PrevSlow();
  bool StepLeaf(bool forward);
  void Fail(const Status& s);
  // Adds the key decodes of inline steps to the counters.
  void FlushDecodes() {
    Count(c_, Tick::kKeyDecodes, decodes_);
    decodes_ = 0;
  }

  PageReader read_;
  uint32_t page_size_;
  uint32_t root_;
  const BTreeCounters* c_;
  uint32_t leaf_ = 0;
  const uint8_t* page_ = nullptr;     // leaf_ as read_ gave it (valid as the reader promises)
  const uint8_t* dir_end_ = nullptr;  // the end of page_'s slot directory (EnterLeaf)
  size_t count_ = 0;                  // page_'s slot count
  size_t slot_ = 0;
  uint64_t decodes_ = 0;  // inline steps not yet counted
  bool valid_ = false;
  std::string_view key_;
  std::string_view value_;
  std::string overflow_value_;
  Status status_;
};

// Walks the whole tree (docs/format/page.md, "A page is valid if and only
// if"): checksums (by reading every page), layouts, keys inside fences,
// separators consistent with children's fences, levels, sibling links,
// every page in [2, page count) reachable exactly once or on the freelist.
// Corruption naming the page and what is wrong, at the first problem;
// *pages_checked counts. Its own parses are not counted in the database's
// allocator counters. The tree rules of VerifyDatabase (db_verify.h), which
// checks every page, the meta pages and the freelist first and collects
// every problem; the tests use it alone.
Status VerifyTree(const pager::Snapshot& snap, uint64_t* pages_checked = nullptr);

}  // namespace sombra::btree
