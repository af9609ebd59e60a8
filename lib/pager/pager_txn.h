// pager/pager_txn.h: a write transaction at the page level.
//
// A page is copied into a private buffer on its first Write(); the caller
// changes bytes there and reports which ranges it changed (NoteWrite), or
// that the page is new or rewritten whole (NoteWholePage). Read() never
// copies or dirties. Commit() logs the changes in one write: a full image
// for a page's first change since the last checkpoint (or a whole-page
// change), a delta of the changed ranges otherwise, then the commit record.
// Abort (or the destructor) discards everything.
//
// Bytes [8, 24) of a page (its LSN and checksum) belong to the pager: the
// LSN is set at commit and the checksum when the page reaches the file.
//
// Thread safety: one thread; the transaction holds the pager's writer slot.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "env/page_buffer.h"
#include "pager/format.h"
#include "pager/pager.h"
#include "util/result.h"

namespace sombra::pager {

class PagerTxn {
 public:
  ~PagerTxn();
  PagerTxn(const PagerTxn&) = delete;
  PagerTxn& operator=(const PagerTxn&) = delete;

  // The commit this transaction builds on.
  uint64_t base_lsn() const { return base_lsn_; }
  // The LSN its commit gets: the next one, as the transaction holds the
  // writer slot from its start to its commit (Pager::CommitTxn).
  uint64_t commit_lsn() const { return base_lsn_ + 1; }
  const TreeState& state() const { return state_; }
  uint32_t root() const { return state_.root; }
  void SetRoot(uint32_t root);
  // The catalog of named trees (btree/catalog.h); 0: none.
  uint32_t catalog_root() const { return state_.catalog_root; }
  void SetCatalogRoot(uint32_t root);
  uint32_t page_size() const { return pager_->page_size(); }
  // The log takes copies between pages and pages built on zeros (format
  // 12 or 13): NoteCopy and NoteCloned log them so.
  bool copies_allowed() const { return copies_allowed_; }

  // The page as this transaction sees it (its own change, else the last
  // commit). Valid until the next Write/Allocate/Free of the same page or
  // the end of the transaction.
  Result<const uint8_t*> Read(uint32_t page_no);
  // A private, writable copy of the page (made on first touch).
  // REQUIRES: 2 <= page_no < state().page_count.
  Result<uint8_t*> Write(uint32_t page_no);
  // Reports that bytes [offset, offset + length) of the page were changed,
  // right after the change: their bytes now are those the change wrote
  // (the page's op record replays the changes in the order they were
  // noted, wal/wal_page_ops.h). REQUIRES: Write(page_no) was called in
  // this transaction.
  void NoteWrite(uint32_t page_no, uint32_t offset, uint32_t length);
  // Reports, right after it, that bytes [src, src + length) of the page
  // were moved to dst (memmove). REQUIRES: as NoteWrite.
  void NoteMove(uint32_t page_no, uint32_t src, uint32_t dst, uint32_t length);
  // Reports, right after it, that bytes [dst, dst + length) of the page
  // were written with bytes [src, src + length) of page `src_page` as the
  // transaction found them (a record a share moves between leaves). In a
  // log of format 12 or 13 the runs of them that page's last commit holds
  // are logged as copies from it (wal/wal_page_ops.h), the rest as
  // NoteWrite logs them. REQUIRES: as NoteWrite.
  void NoteCopy(uint32_t page_no, uint32_t dst, uint32_t src_page, uint32_t src, uint32_t length);
  // Reports that the page was rewritten as a whole (logged as an image).
  void NoteWholePage(uint32_t page_no);
  // Reports that page `page_no`, allocated in this transaction, was just
  // made a copy of page `src_page` as the transaction has it: bytes
  // [24, page size) and the kind and flags. In a log of format 12 or 13
  // it is logged as page ops on zeros: a copy of the last commit's
  // `src_page` beyond the node header, then the ops `src_page` was given
  // so far in this transaction, then its own header. When `src_page` was
  // not touched, or its ops are not kept (logged whole, or new), as the
  // runs of the page that `src_page`'s last commit holds (copies) and
  // writes of its other non-zero bytes. Otherwise, and for a page not
  // allocated in this transaction, as NoteWholePage.
  void NoteCloned(uint32_t page_no, uint32_t src_page);
  // True when the page will be logged as a whole image at commit (new in
  // this transaction, first touched since the checkpoint, or its edits
  // grew past a delta's worth): NoteWrite and NoteMove then do nothing for
  // it. Once true, true for the rest of the transaction, so a caller may
  // ask once and skip its notes.
  bool LoggedWhole(uint32_t page_no) {
    const Dirty* d = FindDirty(page_no);
    return d != nullptr && d->whole;
  }

  // A page for new content, from the freelist or past the end of the file:
  // zeroed, with its header's kind set, logged as a whole image.
  Result<uint32_t> Allocate(PageKind kind, uint8_t** page);
  // Returns the page to the freelist (it becomes a free page).
  Status Free(uint32_t page_no);

  size_t dirty_pages() const { return dirty_.size(); }
  // True when the transaction wrote, allocated or freed the page.
  bool IsDirty(uint32_t page_no) { return FindDirty(page_no) != nullptr; }

  // Compaction (pager_shrink.cc; docs/operations.md, "Compaction").
  // The pages of the freelist, from its head (Corruption when it is
  // damaged: a loop, a page that is not free, a count that disagrees).
  Status ListFree(std::vector<uint32_t>* pages);
  // Unlinks the free pages of `pages` from the freelist: each one must be
  // on it (Corruption otherwise, nothing changed but pages written). They
  // are the caller's: written with Write() as new content, or left past
  // the page count by ShrinkTo.
  Status UnlinkFree(const std::vector<uint32_t>& pages);
  // Lowers the page count to `page_count`: the caller has made sure no
  // page past it is reachable and none is on the freelist.
  // InvalidArgument when a page past it was written in this transaction
  // or the freelist's first page is past it.
  Status ShrinkTo(uint64_t page_count);

  // Tests only (tests/unit/db/db_atomic_write_test.cc): `hook` runs at the
  // start of every Read, Write, Allocate and Free of this transaction; a
  // non-OK status fails that call before it changes anything, as a failing
  // read, copy or file growth would.
  enum class FaultPoint { kRead, kWrite, kAllocate, kFree };
  using FaultHook = std::function<Status(FaultPoint point, uint32_t page_no)>;
  void SetFaultHookForTest(FaultHook hook) { fault_hook_ = std::move(hook); }

  // Logs and publishes the changes (durable per Options::durability when it
  // returns OK). The transaction is over either way.
  Status Commit();
  void Abort();

 private:
  friend class Pager;
  struct Dirty {
    PageBuffer buf;
    uint64_t base_lsn = 0;  // the page's LSN before this transaction
    bool whole = false;
    std::vector<std::pair<uint32_t, uint32_t>> ranges;  // [begin, end)
    // More ranges than kMaxRangesPerPage were noted: no delta, the ops or
    // an image.
    bool ranges_dropped = false;
    // The changes as page ops, in order (while ops_ok: they stay under
    // kMaxOpsBytes), for a log that takes page-op records.
    std::string ops;
    bool ops_ok = true;
    uint32_t last_write_begin = 0, last_write_end = 0;  // the last op, a write
    size_t last_write_at = std::string::npos;           // its offset in ops
    // The last op when it is a copy (its offset in ops, else npos), which
    // the next copy continuing both ranges extends.
    size_t last_copy_at = std::string::npos;
    uint32_t last_copy_page = 0, last_copy_src = 0, last_copy_dst = 0, last_copy_len = 0;
    bool copies = false;  // ops holds a copy
    bool fresh = false;   // allocated in this transaction
    bool built = false;   // NoteCloned: page ops on a page of zeros (base_lsn 0)
    // The last commit's page (Touch; kept readable by pins_ and the writer
    // slot), null for a page the transaction allocated without touching.
    const uint8_t* committed = nullptr;
    // Writes inside [kPageHeaderSize, kDeferredHeaderEnd), the node header
    // every edit rewrites, are not ops: FinishOps logs the bytes of
    // [deferred_begin, deferred_end) once, as they are at commit.
    uint32_t deferred_begin = 0, deferred_end = 0;
  };
  // The commit's plan for one page (Pager::BuildCommitBatch).
  struct CommitPlan {
    enum Form { kNone, kImage, kOps, kDelta };  // kNone: not logged
    uint32_t page_no = 0;
    Dirty* d = nullptr;
    Form form = kImage;
  };
  // A copy reads its source page as the last commit left it, which replay
  // holds only for a page the transaction logs as page ops or a delta
  // (their base LSN names it; docs/format/wal.md, "Recovery"). Copies from
  // any other page become writes of their bytes; a page whose ops then
  // pass half a page is logged whole, which may take a source from others
  // in turn, so this runs until nothing changes. `plan` is in page order.
  void WriteOutCopies(std::vector<CommitPlan>* plan);
  // Appends a write op of buf[b, e), merged into the last op when that is
  // a write ending at most kMergeGap bytes before b or overlapping it.
  void AddWriteOp(Dirty* d, uint32_t b, uint32_t e);
  // The last commit's page `src_page`, or null when there is none (a page
  // new in the transaction) or it cannot be read. Every page a copy op
  // names was read here first, and stays found without a new read: its
  // Dirty's `committed` or copy_sources_ keeps the pointer.
  const uint8_t* CommittedBytes(uint32_t src_page);
  // Appends a copy op, merged into the last op when that is a copy both of
  // whose ranges this one continues.
  void AddCopyOp(Dirty* d, uint32_t src_page, uint32_t src, uint32_t dst, uint32_t length);
  uint64_t base_page_count() const { return base_page_count_; }
  // Past the limits: ops too large (dropped), too many ranges (dropped);
  // both: the page is logged whole.
  void NoteLimits(Dirty* d);
  // NoteCloned's start: `d` becomes page ops on a page of zeros, none yet.
  void StartBuilt(Dirty* d);
  // NoteCloned when src_page's ops are not kept: the page's header bytes
  // as writes, the rest as NoteCopy logs a copy of src_page.
  void CloneOfCommitted(Dirty* d, uint32_t page_no, uint32_t src_page);
  // Notes the non-zero bytes of [b, e) of the page as writes.
  void WriteNonZero(uint32_t page_no, const Dirty& d, uint32_t b, uint32_t e);
  // Appends the deferred header write to d->ops (Commit, once per page).
  // Correct because no move reads or writes the deferred bytes (NoteMove
  // gives up the ops when one would): their last write leaves them as the
  // page holds them at commit, and no op reads them.
  // Only the bytes of that span that differ from the page the ops apply on
  // (the last commit's, or zeros for a page NoteCloned made) are written:
  // the others are already there.
  void FinishOps(Dirty* d);

  PagerTxn(Pager* pager, std::unique_lock<std::mutex> slot, const TreeState& state);
  // Calls `visit` with each freelist page and its link, from the head,
  // checking the list as ListFree says.
  Status WalkFree(const std::function<Status(uint32_t page_no, uint32_t next)>& visit);
  Result<Dirty*> Touch(uint32_t page_no);
  // The page's entry in dirty_, or null (a small direct-mapped cache in
  // front of the map: a Put touches the same few pages again and again).
  Dirty* FindDirty(uint32_t page_no);
  struct CacheEntry {
    uint32_t page_no = 0;
    Dirty* dirty = nullptr;
  };
  static constexpr uint32_t kCacheEntries = 16;

  static constexpr size_t kMaxRangesPerPage = 64;
  static constexpr uint32_t kOpsMergeGap = 8;
  // The shortest run NoteCopy logs as a copy (4 to 7 bytes) rather than as
  // part of a write.
  static constexpr uint32_t kMinCopyRun = 8;
  // The end of the node header of B-tree pages (docs/format/page.md: slot
  // count to fence lengths), whose fields change with nearly every edit.
  static constexpr uint32_t kDeferredHeaderEnd = 52;

  Pager* const pager_;
  std::unique_lock<std::mutex> slot_;
  uint64_t base_lsn_;
  TreeState state_;
  bool state_changed_ = false;
  bool done_ = false;
  // Hashed (a random load dirties hundreds of pages per transaction, and
  // every page read looks here first); nodes never move. The commit visits
  // them in page order (Pager::BuildCommitBatch).
  std::unordered_map<uint32_t, Dirty> dirty_;
  CacheEntry cache_[kCacheEntries];
  std::vector<std::shared_ptr<const MappedRegion>> pins_;  // regions read through
  // The log takes copies (format 12 or 13; fixed while the slot is held).
  bool copies_allowed_ = false;
  uint64_t base_page_count_ = 0;  // the last commit's page count
  // The last commit's pages the copies read (CommittedBytes), so that
  // commit finds them again without a read that could fail.
  std::unordered_map<uint32_t, const uint8_t*> copy_sources_;
  FaultHook fault_hook_;
};

}  // namespace sombra::pager
