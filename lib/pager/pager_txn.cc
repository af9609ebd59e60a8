#include "pager/pager_txn.h"

#include <algorithm>
#include <cstring>

#include "util/coding.h"
#include "wal/wal_page_ops.h"

namespace sombra::pager {

PagerTxn::PagerTxn(Pager* pager, std::unique_lock<std::mutex> slot, const TreeState& state)
    : pager_(pager), slot_(std::move(slot)), base_lsn_(state.lsn), state_(state) {}

PagerTxn::~PagerTxn() {
  if (!done_) Abort();
}

void PagerTxn::SetRoot(uint32_t root) {
  state_.root = root;
  state_changed_ = true;
}

void PagerTxn::SetCatalogRoot(uint32_t root) {
  state_.catalog_root = root;
  state_changed_ = true;
}

PagerTxn::Dirty* PagerTxn::FindDirty(uint32_t page_no) {
  CacheEntry& c = cache_[page_no % kCacheEntries];
  if (c.dirty != nullptr && c.page_no == page_no) return c.dirty;
  auto it = dirty_.find(page_no);
  if (it == dirty_.end()) return nullptr;
  c = CacheEntry{page_no, &it->second};  // map nodes never move; entries are never erased
  return c.dirty;
}

Result<const uint8_t*> PagerTxn::Read(uint32_t page_no) {
  if (fault_hook_) [[unlikely]] {
    SOMBRA_RETURN_IF_ERROR(fault_hook_(FaultPoint::kRead, page_no));
  }
  if (Dirty* d = FindDirty(page_no)) return static_cast<const uint8_t*>(d->buf.get());
  if (page_no >= state_.page_count) {
    return Status::InvalidArgument("page " + std::to_string(page_no) + " of " + pager_->path() +
                                   " is beyond the page count " +
                                   std::to_string(state_.page_count));
  }
  return pager_->ReadCommitted(page_no, &pins_);
}

Result<PagerTxn::Dirty*> PagerTxn::Touch(uint32_t page_no) {
  if (Dirty* d = FindDirty(page_no)) return d;
  if (page_no < kFirstDataPage || page_no >= state_.page_count) {
    return Status::InvalidArgument("cannot write page " + std::to_string(page_no) + " of " +
                                   pager_->path() + ": outside [2, page count " +
                                   std::to_string(state_.page_count) + ")");
  }
  SOMBRA_ASSIGN_OR_RETURN(const uint8_t* committed, pager_->ReadCommitted(page_no, &pins_));
  const uint32_t ps = pager_->page_size();
  Dirty d;
  d.buf = NewPageBuffer(ps);
  std::memcpy(d.buf.get(), committed, ps);
  d.base_lsn = DecodeFixed64(committed + kHeaderLsnOffset);
  // A page whose base recovery could not rebuild is logged whole anyway:
  // its byte ranges need not be kept.
  d.whole = d.base_lsn == 0 || !pager_->LogRebuildsBase(page_no);
#ifndef NDEBUG
  if (!d.whole) {
    d.base = NewPageBuffer(ps);
    std::memcpy(d.base.get(), committed, ps);
  }
#endif
  Dirty* entry = &dirty_.emplace(page_no, std::move(d)).first->second;
  cache_[page_no % kCacheEntries] = CacheEntry{page_no, entry};
  return entry;
}

Result<uint8_t*> PagerTxn::Write(uint32_t page_no) {
  if (fault_hook_) [[unlikely]] {
    SOMBRA_RETURN_IF_ERROR(fault_hook_(FaultPoint::kWrite, page_no));
  }
  SOMBRA_ASSIGN_OR_RETURN(Dirty * d, Touch(page_no));
  return d->buf.get();
}

namespace {

// Page ops of one page stay below this many bytes (past it, a delta or an
// image is as small).
constexpr size_t OpsLimit(uint32_t page_size) { return page_size / 2; }

}  // namespace

void PagerTxn::AddWriteOp(Dirty* d, uint32_t b, uint32_t e) {
  if (d->last_write_at != std::string::npos && b <= d->last_write_end + kOpsMergeGap &&
      e + kOpsMergeGap >= d->last_write_begin) {
    // Nothing was noted since the last write: rewrite it to cover both,
    // with the bytes now there.
    b = std::min(b, d->last_write_begin);
    e = std::max(e, d->last_write_end);
    d->ops.resize(d->last_write_at);
  }
  d->last_write_at = d->ops.size();
  d->last_write_begin = b;
  d->last_write_end = e;
  wal::AppendWriteOp(&d->ops, b,
                     std::string_view(reinterpret_cast<const char*>(d->buf.get()) + b, e - b));
}

void PagerTxn::NoteWrite(uint32_t page_no, uint32_t offset, uint32_t length) {
  Dirty* d = FindDirty(page_no);
  if (d == nullptr || length == 0 || d->whole) return;
  if (!d->ranges_dropped) d->ranges.emplace_back(offset, offset + length);
  if (d->ops_ok) {
    // The pager's bytes [8, 24) (LSN and checksum) are never logged; the
    // node header's [24, 52) is logged once, at commit (FinishOps).
    const uint32_t end = offset + length;
    if (offset < kHeaderLsnOffset) AddWriteOp(d, offset, std::min<uint32_t>(end, kHeaderLsnOffset));
    const uint32_t hb = std::max<uint32_t>(offset, kPageHeaderSize);
    const uint32_t he = std::min<uint32_t>(end, kDeferredHeaderEnd);
    if (hb < he) {
      if (d->deferred_begin == d->deferred_end) {
        d->deferred_begin = hb;
        d->deferred_end = he;
      } else {
        d->deferred_begin = std::min(d->deferred_begin, hb);
        d->deferred_end = std::max(d->deferred_end, he);
      }
    }
    if (end > kDeferredHeaderEnd)
      AddWriteOp(d, std::max<uint32_t>(offset, kDeferredHeaderEnd), end);
  }
  NoteLimits(d);
}

void PagerTxn::NoteMove(uint32_t page_no, uint32_t src, uint32_t dst, uint32_t length) {
  Dirty* d = FindDirty(page_no);
  if (d == nullptr || length == 0 || d->whole) return;
  if (!d->ranges_dropped) d->ranges.emplace_back(dst, dst + length);
  if (d->ops_ok && (std::min(src, dst) < kDeferredHeaderEnd)) {
    // A move through the node header would read or overwrite deferred
    // bytes (no B-tree edit makes one): the delta or an image instead.
    d->ops_ok = false;
    std::string().swap(d->ops);
  }
  if (d->ops_ok) {
    wal::AppendMoveOp(&d->ops, src, dst, length);
    d->last_write_at = std::string::npos;
  }
  NoteLimits(d);
}

void PagerTxn::FinishOps(Dirty* d) {
  if (!d->ops_ok || d->deferred_begin == d->deferred_end) return;
  wal::AppendWriteOp(
      &d->ops, d->deferred_begin,
      std::string_view(reinterpret_cast<const char*>(d->buf.get()) + d->deferred_begin,
                       d->deferred_end - d->deferred_begin));
  d->deferred_begin = d->deferred_end = 0;
}

void PagerTxn::NoteLimits(Dirty* d) {
  if (d->ops_ok && d->ops.size() > OpsLimit(pager_->page_size())) {
    d->ops_ok = false;
    std::string().swap(d->ops);
  }
  // Many edits of one page in one transaction: an image is about as small
  // as their deltas, and keeping the list bounded keeps commits cheap.
  if (!d->ranges_dropped && d->ranges.size() > kMaxRangesPerPage) {
    d->ranges_dropped = true;
    std::vector<std::pair<uint32_t, uint32_t>>().swap(d->ranges);
  }
  if (d->ranges_dropped && !d->ops_ok) d->whole = true;
}

void PagerTxn::NoteWholePage(uint32_t page_no) {
  if (Dirty* d = FindDirty(page_no)) d->whole = true;
}

Result<uint32_t> PagerTxn::Allocate(PageKind kind, uint8_t** page) {
  if (fault_hook_) [[unlikely]] {
    SOMBRA_RETURN_IF_ERROR(fault_hook_(FaultPoint::kAllocate, 0));
  }
  const uint32_t ps = pager_->page_size();
  uint32_t page_no;
  if (state_.freelist_head != 0) {
    page_no = state_.freelist_head;
    SOMBRA_ASSIGN_OR_RETURN(const uint8_t* free_page, Read(page_no));
    if (free_page[kHeaderKindOffset] != static_cast<uint8_t>(PageKind::kFree)) {
      return Status::Corruption("freelist page " + std::to_string(page_no) + " of " +
                                pager_->path() + " is a " +
                                PageKindName(free_page[kHeaderKindOffset]) + " page");
    }
    uint32_t next = DecodeFixed32(free_page + kFreeNextOffset);
    if (next != 0 && (next < kFirstDataPage || next >= state_.page_count)) {
      return Status::Corruption("freelist page " + std::to_string(page_no) + " of " +
                                pager_->path() + " links to page " + std::to_string(next) +
                                ", outside the file");
    }
    if ((next == 0) != (state_.freelist_count == 1)) {
      return Status::Corruption("the freelist of " + pager_->path() +
                                " does not end after the number of pages its meta counts");
    }
    state_.freelist_head = next;
    state_.freelist_count--;
  } else {
    if (state_.page_count >= UINT32_MAX) {
      return Status::IOError("database " + pager_->path() + " is full: 2^32 pages");
    }
    SOMBRA_RETURN_IF_ERROR(pager_->file_->EnsureCapacity(state_.page_count + 1));
    page_no = static_cast<uint32_t>(state_.page_count++);
  }
  state_changed_ = true;
  // Logged as a whole image, so no base LSN is needed.
  Dirty& d = dirty_[page_no];
  if (d.buf == nullptr) d.buf = NewPageBuffer(ps);
  std::memset(d.buf.get(), 0, ps);
  InitPageHeader(d.buf.get(), kind, page_no, 0);
  d.whole = true;
  d.ranges.clear();
  *page = d.buf.get();
  return page_no;
}

Status PagerTxn::Free(uint32_t page_no) {
  if (fault_hook_) [[unlikely]] {
    SOMBRA_RETURN_IF_ERROR(fault_hook_(FaultPoint::kFree, page_no));
  }
  SOMBRA_ASSIGN_OR_RETURN(Dirty * d, Touch(page_no));
  const uint32_t ps = pager_->page_size();
  std::memset(d->buf.get(), 0, ps);
  InitPageHeader(d->buf.get(), PageKind::kFree, page_no, 0);
  EncodeFixed32(d->buf.get() + kFreeNextOffset, state_.freelist_head);
  d->whole = true;
  state_.freelist_head = page_no;
  state_.freelist_count++;
  state_changed_ = true;
  return Status::OK();
}

Status PagerTxn::Commit() {
  if (done_) return Status::InvalidArgument("transaction already ended");
  done_ = true;
  Status s = pager_->CommitTxn(this);
  dirty_.clear();
  pins_.clear();
  if (slot_.owns_lock()) slot_.unlock();
  return s;
}

void PagerTxn::Abort() {
  done_ = true;
  dirty_.clear();
  pins_.clear();
  if (slot_.owns_lock()) slot_.unlock();
}

}  // namespace sombra::pager
