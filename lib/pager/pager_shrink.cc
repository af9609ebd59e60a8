// pager/pager_shrink.cc: lowering a transaction's page count (a free tail,
// compaction; docs/operations.md, "Compaction").
#include <algorithm>
#include <functional>
#include <unordered_set>

#include "pager/pager_txn.h"
#include "util/coding.h"

namespace sombra::pager {

Status PagerTxn::WalkFree(const std::function<Status(uint32_t page_no, uint32_t next)>& visit) {
  uint32_t page_no = state_.freelist_head;
  uint64_t seen = 0;
  while (page_no != 0) {
    if (++seen > state_.freelist_count || page_no < kFirstDataPage ||
        page_no >= state_.page_count) {
      return Status::Corruption("the freelist of " + pager_->path() + " is damaged at page " +
                                std::to_string(page_no));
    }
    SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, Read(page_no));
    if (page[kHeaderKindOffset] != static_cast<uint8_t>(PageKind::kFree)) {
      return Status::Corruption("freelist page " + std::to_string(page_no) + " of " +
                                pager_->path() + " is a " + PageKindName(page[kHeaderKindOffset]) +
                                " page");
    }
    const uint32_t next = DecodeFixed32(page + kFreeNextOffset);
    SOMBRA_RETURN_IF_ERROR(visit(page_no, next));
    page_no = next;
  }
  if (seen != state_.freelist_count) {
    return Status::Corruption("the freelist of " + pager_->path() + " ends after " +
                              std::to_string(seen) + " of the " +
                              std::to_string(state_.freelist_count) + " pages its meta counts");
  }
  return Status::OK();
}

Status PagerTxn::ListFree(std::vector<uint32_t>* pages) {
  pages->clear();
  return WalkFree([pages](uint32_t page_no, uint32_t) {
    pages->push_back(page_no);
    return Status::OK();
  });
}

Status PagerTxn::UnlinkFree(const std::vector<uint32_t>& pages) {
  if (pages.empty()) return Status::OK();
  std::unordered_set<uint32_t> remove(pages.begin(), pages.end());
  const size_t wanted = remove.size();
  uint32_t kept_tail = 0;  // the last page kept so far (0: none, the head moves)
  uint32_t head = state_.freelist_head;
  uint64_t unlinked = 0;
  SOMBRA_RETURN_IF_ERROR(WalkFree([&](uint32_t page_no, uint32_t next) -> Status {
    if (remove.erase(page_no) == 0) {
      kept_tail = page_no;
      return Status::OK();
    }
    ++unlinked;
    // The page kept before it (or the head) now links past it.
    if (kept_tail == 0) {
      head = next;
      return Status::OK();
    }
    SOMBRA_ASSIGN_OR_RETURN(uint8_t * prev, Write(kept_tail));
    EncodeFixed32(prev + kFreeNextOffset, next);
    NoteWrite(kept_tail, kFreeNextOffset, 4);
    return Status::OK();
  }));
  if (unlinked != wanted) {
    return Status::Corruption(std::to_string(wanted - unlinked) + " of the pages to unlink from " +
                              "the freelist of " + pager_->path() + " are not on it");
  }
  state_.freelist_head = head;
  state_.freelist_count -= unlinked;
  state_changed_ = true;
  return Status::OK();
}

Status PagerTxn::ShrinkTo(uint64_t page_count) {
  if (page_count < kFirstDataPage || page_count > state_.page_count) {
    return Status::InvalidArgument("cannot shrink " + pager_->path() + " from " +
                                   std::to_string(state_.page_count) + " to " +
                                   std::to_string(page_count) + " pages");
  }
  // The lowest written page past the new end, if any (the map is hashed).
  uint64_t past = UINT64_MAX;
  for (const auto& entry : dirty_) {
    if (entry.first >= page_count) past = std::min<uint64_t>(past, entry.first);
  }
  if (past != UINT64_MAX) {
    return Status::InvalidArgument("cannot shrink " + pager_->path() + " to " +
                                   std::to_string(page_count) + " pages: page " +
                                   std::to_string(past) + " was written");
  }
  if (state_.freelist_head >= page_count) {
    return Status::InvalidArgument("cannot shrink " + pager_->path() + " to " +
                                   std::to_string(page_count) + " pages: free page " +
                                   std::to_string(state_.freelist_head) + " is past it");
  }
  state_.page_count = page_count;
  state_changed_ = true;
  return Status::OK();
}

}  // namespace sombra::pager
