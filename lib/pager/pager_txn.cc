#include "pager/pager_txn.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "util/coding.h"
#include "wal/wal_format.h"
#include "wal/wal_page_ops.h"
#include "wal/wal_writer.h"

namespace sombra::pager {

PagerTxn::PagerTxn(Pager* pager, std::unique_lock<std::mutex> slot, const TreeState& state)
    : pager_(pager), slot_(std::move(slot)), base_lsn_(state.lsn), state_(state) {
  copies_allowed_ = pager_->wal_ != nullptr && wal::AllowsCopies(pager_->wal_->header().version);
  base_page_count_ = state.page_count;
}

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
  d.committed = committed;
  // A page whose base recovery could not rebuild is logged whole anyway:
  // its byte ranges need not be kept.
  d.whole = d.base_lsn == 0 || !pager_->LogRebuildsBase(page_no);
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
  d->last_copy_at = std::string::npos;
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
    d->last_copy_at = std::string::npos;
  }
  NoteLimits(d);
}

const uint8_t* PagerTxn::CommittedBytes(uint32_t src_page) {
  if (src_page >= base_page_count()) return nullptr;  // new in this transaction
  if (const Dirty* s = FindDirty(src_page); s != nullptr && s->committed != nullptr) {
    return s->committed;
  }
  auto [it, first] = copy_sources_.try_emplace(src_page, nullptr);
  if (first) {
    Result<const uint8_t*> committed = pager_->ReadCommitted(src_page, &pins_);
    if (committed.ok()) it->second = *committed;
  }
  return it->second;
}

void PagerTxn::NoteCopy(uint32_t page_no, uint32_t dst, uint32_t src_page, uint32_t src,
                        uint32_t length) {
  Dirty* d = FindDirty(page_no);
  if (d == nullptr || length == 0 || d->whole) return;
  const uint32_t ps = pager_->page_size();
  const Dirty* source = FindDirty(src_page);
  // The source's committed bytes, looked up only when the cheap
  // conditions allow a copy: without them the bytes are a write.
  const bool may_copy = copies_allowed_ && d->ops_ok && src_page != page_no &&
                        src_page >= kFirstDataPage && (source == nullptr || !source->fresh) &&
                        src >= wal::kCopySourceBegin && dst >= kDeferredHeaderEnd &&
                        uint64_t{src} + length <= ps;
  const uint8_t* committed = may_copy ? CommittedBytes(src_page) : nullptr;
  if (committed == nullptr) {
    NoteWrite(page_no, dst, length);
    return;
  }
  const uint8_t* was = committed + src;
  // The runs of at least kMinCopyRun bytes the last commit holds are
  // copies; the bytes between them writes.
  const uint8_t* now = d->buf.get() + dst;
  uint32_t i = 0, write_from = length;  // write_from: a write not yet noted
  while (i < length) {
    uint32_t j = i;
    while (j < length && now[j] == was[j]) ++j;
    if (j - i >= kMinCopyRun) {
      if (write_from < i) NoteWrite(page_no, dst + write_from, i - write_from);
      write_from = length;
      AddCopyOp(d, src_page, src + i, dst + i, j - i);
    } else if (write_from == length) {
      write_from = i;  // a short run joins the write
    }
    i = j;
    while (i < length && now[i] != was[i]) ++i;
    if (i > j && write_from == length) write_from = j;
  }
  if (write_from < length) NoteWrite(page_no, dst + write_from, length - write_from);
}

void PagerTxn::AddCopyOp(Dirty* d, uint32_t src_page, uint32_t src, uint32_t dst, uint32_t length) {
  const uint32_t ps = pager_->page_size();
  if (d->whole) return;
  if (!d->ranges_dropped) d->ranges.emplace_back(dst, dst + length);
  if (!d->ops_ok) {
    NoteLimits(d);
    return;
  }
  if (d->last_copy_at != std::string::npos && d->last_copy_page == src_page &&
      d->last_copy_src + d->last_copy_len == src && d->last_copy_dst + d->last_copy_len == dst) {
    // Both ranges continue the last copy's: one copy of both.
    d->ops.resize(d->last_copy_at);
    src = d->last_copy_src;
    dst = d->last_copy_dst;
    length += d->last_copy_len;
  }
  d->last_copy_at = d->ops.size();
  d->last_copy_page = src_page;
  d->last_copy_src = src;
  d->last_copy_dst = dst;
  d->last_copy_len = length;
  wal::AppendCopyOp(&d->ops, ps, src_page, src, dst, length);
  d->last_write_at = std::string::npos;
  d->copies = true;
  NoteLimits(d);
}

void PagerTxn::FinishOps(Dirty* d) {
  if (!d->ops_ok || d->deferred_begin == d->deferred_end) return;
  static const uint8_t kZeros[kDeferredHeaderEnd] = {};
  const uint8_t* base = d->built ? kZeros : d->committed;
  const uint8_t* now = d->buf.get();
  uint32_t b = d->deferred_begin, e = d->deferred_end;
  if (base != nullptr) {
    while (b < e && now[b] == base[b]) ++b;
    while (e > b && now[e - 1] == base[e - 1]) --e;
  }
  if (b < e) {
    wal::AppendWriteOp(&d->ops, b, std::string_view(reinterpret_cast<const char*>(now) + b, e - b));
  }
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

void PagerTxn::WriteOutCopies(std::vector<CommitPlan>* plan) {
  const uint32_t ps = pager_->page_size();
  const auto keep = [&](uint32_t page_no) {
    auto it = std::lower_bound(plan->begin(), plan->end(), page_no,
                               [](const CommitPlan& c, uint32_t p) { return c.page_no < p; });
    return copies_allowed_ && it != plan->end() && it->page_no == page_no && it->d->base_lsn != 0 &&
           (it->form == CommitPlan::kOps || it->form == CommitPlan::kDelta);
  };
  // Every source was read when its copy was noted (CommittedBytes).
  const auto source = [&](uint32_t page_no) { return CommittedBytes(page_no); };
  for (bool changed = true; changed;) {
    changed = false;
    for (CommitPlan& c : *plan) {
      Dirty& d = *c.d;
      if (c.form != CommitPlan::kOps || !d.copies) continue;
      bool all_kept = true;
      wal::ForEachCopySource(d.ops, ps, [&](uint32_t p) {
        if (keep(p)) return;
        all_kept = false;
        assert(source(p) != nullptr);
      });
      if (all_kept) continue;
      d.ops = wal::WriteOutCopies(d.ops, ps, keep, source);
      if (d.ops.size() > OpsLimit(ps)) c.form = CommitPlan::kImage;
      changed = true;
    }
  }
}

void PagerTxn::NoteWholePage(uint32_t page_no) {
  if (Dirty* d = FindDirty(page_no)) {
    d->whole = true;
    d->built = false;
  }
}

void PagerTxn::NoteCloned(uint32_t page_no, uint32_t src_page) {
  Dirty* d = FindDirty(page_no);
  if (d == nullptr) return;
  if (!copies_allowed_ || !d->fresh) {
    NoteWholePage(page_no);
    return;
  }
  const Dirty* s = FindDirty(src_page);
  if (s == nullptr || s->whole || s->fresh || !s->ops_ok || s->base_lsn == 0 ||
      src_page == page_no) {
    CloneOfCommitted(d, page_no, src_page);
    return;
  }
  // Touched, not new: Touch kept its last commit's bytes.
  assert(s->committed != nullptr);
  StartBuilt(d);
  // The page is the last commit's src_page beyond the node header with the
  // edits the transaction made to it so far (none of which reads or
  // writes the deferred header); then its own first bytes and header.
  const uint32_t ps = pager_->page_size();
  AddCopyOp(d, src_page, kDeferredHeaderEnd, kDeferredHeaderEnd, ps - kDeferredHeaderEnd);
  d->ops.append(s->ops);
  d->copies = true;
  d->last_write_at = d->last_copy_at = std::string::npos;
  WriteNonZero(page_no, *d, 0, kDeferredHeaderEnd);
  NoteLimits(d);
}

void PagerTxn::CloneOfCommitted(Dirty* d, uint32_t page_no, uint32_t src_page) {
  StartBuilt(d);
  WriteNonZero(page_no, *d, 0, kDeferredHeaderEnd);
  const uint32_t ps = pager_->page_size();
  NoteCopy(page_no, kDeferredHeaderEnd, src_page, kDeferredHeaderEnd, ps - kDeferredHeaderEnd);
}

void PagerTxn::StartBuilt(Dirty* d) {
  // Page ops from nothing: on a page of zeros, the base of no LSN.
  d->whole = false;
  d->built = true;
  d->base_lsn = 0;
  d->ops.clear();
  d->ops_ok = true;
  d->copies = false;
  d->last_write_at = d->last_copy_at = std::string::npos;
  d->deferred_begin = d->deferred_end = 0;
  d->ranges.clear();
  d->ranges_dropped = true;  // no delta on a page of zeros: its ops or an image
}

void PagerTxn::WriteNonZero(uint32_t page_no, const Dirty& d, uint32_t b, uint32_t e) {
  // Runs of kOpsMergeGap zeros or more split a write.
  const uint8_t* p = d.buf.get();
  while (b < e) {
    while (b < e && p[b] == 0) ++b;
    if (b == e) break;
    uint32_t end = b, zeros = 0;
    while (end + zeros < e && zeros < kOpsMergeGap) {
      if (p[end + zeros] == 0) {
        ++zeros;
      } else {
        end += zeros + 1;
        zeros = 0;
      }
    }
    NoteWrite(page_no, b, end - b);
    b = end;
  }
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
  // Logged as a whole image (or, after NoteCloned, as ops on zeros), so no
  // base LSN is needed.
  Dirty& d = dirty_[page_no];
  if (d.buf == nullptr) d.buf = NewPageBuffer(ps);
  std::memset(d.buf.get(), 0, ps);
  InitPageHeader(d.buf.get(), kind, page_no, 0);
  d.whole = true;
  d.fresh = true;
  d.built = false;
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
