// btree/overflow.h: values larger than MaxInlineRecord live in chains of
// overflow pages (kind 5; docs/format/page.md, "Overflow page").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "btree/btree_counters.h"
#include "pager/pager_txn.h"
#include "util/result.h"

namespace sombra::btree {

// Reads page `page_no` as the caller's transaction or snapshot sees it.
using PageReader = std::function<Result<const uint8_t*>(uint32_t page_no)>;

// Writes `value` into a new chain; returns its first page.
Result<uint32_t> WriteOverflow(pager::PagerTxn* txn, std::string_view value,
                               const BTreeCounters* c);
// Reads the chain into *out (exactly value_len bytes; Corruption when the
// chain is shorter, longer, loops or holds a page of another kind). The
// page size bounds a page's bytes used and the chain's length.
Status ReadOverflow(const PageReader& read, uint32_t page_size, uint32_t first_page,
                    uint64_t value_len, std::string* out);
// Frees every page of the chain.
Status FreeOverflow(pager::PagerTxn* txn, uint32_t first_page, uint64_t value_len);

}  // namespace sombra::btree
