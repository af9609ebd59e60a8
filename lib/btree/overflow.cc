// btree/overflow.cc: chains of overflow pages.
//
// A value of n bytes takes max(1, ceil(n / capacity)) pages, capacity =
// page_size - kOverflowDataOffset; every page but the last is full. A chain
// is valid if and only if, walking from its first page:
//  1. every link is a data page (>= kFirstDataPage) the reader can read;
//  2. every page is an overflow page whose header names its own number;
//  3. every page uses <= capacity bytes;
//  4. the bytes used add up to exactly value_len where the link is 0;
//  5. it has at most value_len / capacity + 1 pages (so it cannot loop).
#include "btree/overflow.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "btree/node_format.h"
#include "pager/format.h"
#include "util/coding.h"

namespace sombra::btree {
namespace {

struct ChainPage {
  uint32_t page_no;
  const uint8_t* page;
};

// Rules 2 and 3 and the running part of 4 for one page of a chain, `total`
// bytes into the value: what is wrong, empty when nothing is.
std::string CheckChainPage(const uint8_t* page, uint32_t page_no, uint32_t capacity,
                           uint64_t value_len, uint64_t total) {
  const uint8_t kind = page[pager::kHeaderKindOffset];
  if (kind != static_cast<uint8_t>(pager::PageKind::kOverflow)) {
    return std::string("page kind is ") + pager::PageKindName(kind) + " (" + std::to_string(kind) +
           "), expected overflow (5)";
  }
  const uint32_t stored_no = DecodeFixed32(page + pager::kHeaderPageNoOffset);
  if (stored_no != page_no) return "its header names page " + std::to_string(stored_no);
  const uint32_t used = DecodeFixed32(page + kOverflowUsedOffset);
  if (used > capacity) {
    return std::to_string(used) + " bytes used, more than the capacity " + std::to_string(capacity);
  }
  if (used > value_len - total) {
    return "holds more bytes than the value (" + std::to_string(total + used) + " so far)";
  }
  return {};
}

// Walks the chain and checks it (rules above) without copying a byte;
// the pages in chain order go to *pages. A loop is also caught early by
// Brent's cycle detection, so a damaged length of terabytes over a looping
// chain costs a few reads, not value_len / capacity of them.
Status WalkChain(const PageReader& read, uint32_t page_size, uint32_t first_page,
                 uint64_t value_len, std::vector<ChainPage>* pages) {
  if (page_size <= kOverflowDataOffset) {
    return Status::InvalidArgument("page size " + std::to_string(page_size) +
                                   " is too small for overflow pages");
  }
  const uint32_t capacity = page_size - kOverflowDataOffset;
  const uint64_t max_pages = value_len / capacity + 1;
  uint64_t total = 0;
  uint32_t page_no = first_page;
  uint32_t mark = 0;  // Brent: the page at the last power-of-two step
  uint64_t power = 1;
  pages->clear();
  for (uint64_t k = 0;; ++k) {
    auto bad = [&](const std::string& what) {
      return Status::Corruption("overflow chain of " + std::to_string(value_len) +
                                " bytes from page " + std::to_string(first_page) + ", link " +
                                std::to_string(k) + " (page " + std::to_string(page_no) +
                                "): " + what);
    };
    if (page_no < pager::kFirstDataPage) return bad("not a data page");
    if (k >= max_pages) {
      return bad("the chain is longer than the " + std::to_string(max_pages) +
                 " pages the value needs");
    }
    if (page_no == mark) return bad("the chain loops");
    if (k == power) {
      mark = page_no;
      power *= 2;
    }
    Result<const uint8_t*> r = read(page_no);
    if (!r.ok()) {
      // A link past the end of the file is a broken chain, not a bad call.
      if (r.status().IsInvalidArgument()) return bad(r.status().message());
      return r.status().WithContext("overflow chain from page " + std::to_string(first_page));
    }
    const uint8_t* page = *r;
    const std::string wrong = CheckChainPage(page, page_no, capacity, value_len, total);
    if (!wrong.empty()) return bad(wrong);
    total += DecodeFixed32(page + kOverflowUsedOffset);
    pages->push_back(ChainPage{page_no, page});
    const uint32_t next = DecodeFixed32(page + kOverflowNextOffset);
    if (next == 0) {
      if (total != value_len)
        return bad("the chain ends after " + std::to_string(total) + " bytes");
      return Status::OK();
    }
    page_no = next;
  }
}

}  // namespace

// An empty value still gets one page (used = 0), so every overflow
// reference names a real chain.
Result<uint32_t> WriteOverflow(pager::PagerTxn* txn, std::string_view value,
                               const BTreeCounters* c) {
  const uint32_t capacity = txn->page_size() - kOverflowDataOffset;
  std::vector<uint32_t> written;
  written.reserve(value.size() / capacity + 1);
  uint8_t* prev = nullptr;
  size_t pos = 0;
  do {
    uint8_t* page = nullptr;
    Result<uint32_t> page_no = txn->Allocate(pager::PageKind::kOverflow, &page);
    if (!page_no.ok()) {
      // Give back what this call took, so that the pages this transaction
      // holds stay accounted for (a failed Put fails the whole transaction
      // anyway: db::WriteTxnImpl never commits it).
      for (uint32_t p : written) (void)txn->Free(p);
      return page_no.status();
    }
    Count(c, Tick::kOverflowPages, 1);
    const uint32_t n = static_cast<uint32_t>(std::min<size_t>(capacity, value.size() - pos));
    EncodeFixed32(page + kOverflowNextOffset, 0);
    EncodeFixed32(page + kOverflowUsedOffset, n);
    if (n != 0) std::memcpy(page + kOverflowDataOffset, value.data() + pos, n);
    // The previous page is this transaction's own buffer: Allocate of
    // another page leaves it in place, and it is logged whole at commit.
    if (prev != nullptr) EncodeFixed32(prev + kOverflowNextOffset, *page_no);
    written.push_back(*page_no);
    prev = page;
    pos += n;
  } while (pos < value.size());
  return written.front();
}

Status ReadOverflow(const PageReader& read, uint32_t page_size, uint32_t first_page,
                    uint64_t value_len, std::string* out) {
  std::vector<ChainPage> pages;
  SOMBRA_RETURN_IF_ERROR(WalkChain(read, page_size, first_page, value_len, &pages));
  // value_len is now known to match the chain, so it is safe to reserve.
  out->clear();
  out->reserve(value_len);
  for (const ChainPage& p : pages) {
    out->append(reinterpret_cast<const char*>(p.page + kOverflowDataOffset),
                DecodeFixed32(p.page + kOverflowUsedOffset));
  }
  return Status::OK();
}

// The chain is checked whole before the first page is freed, so a damaged
// chain frees nothing (and never frees a page of another kind).
Status FreeOverflow(pager::PagerTxn* txn, uint32_t first_page, uint64_t value_len) {
  std::vector<ChainPage> pages;
  SOMBRA_RETURN_IF_ERROR(WalkChain([txn](uint32_t p) { return txn->Read(p); }, txn->page_size(),
                                   first_page, value_len, &pages));
  for (const ChainPage& p : pages) SOMBRA_RETURN_IF_ERROR(txn->Free(p.page_no));
  return Status::OK();
}

}  // namespace sombra::btree
