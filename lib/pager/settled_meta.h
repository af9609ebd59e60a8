// pager/settled_meta.h: both meta pages read beside a writer in another
// process whose checkpoint may be writing one of them.
//
// Pages 2 and up are read through a registered snapshot, which a writer
// elsewhere never overwrites (docs/design/readers.md). The two meta pages
// are not: each checkpoint rewrites one with a single pwrite, and a read
// racing with it may see it torn, which ReadNewestMeta reports as a
// damaged meta page. A check that reports both meta pages as stored
// (DB::Verify, sombra-inspect) reads them with ReadSettledMetas instead,
// so that a writer at work is never reported as damage while a damaged
// meta page of a database at rest still is.
//
// Thread safety: as `file`'s ReadAt; no state is kept.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "env/env.h"
#include "pager/meta.h"
#include "util/result.h"

namespace sombra::pager {

// Meta pages 0 and 1 as stored.
using MetaPages = std::vector<uint8_t>[2];

// ReadNewestMeta of the page file `file` at `db_path`, whose pages are
// `page_size` bytes: both pages are read before and after the choice, and
// all is read again (pager::RetryBesideWriter, pager/beside_writer.h)
// until the pages did not change in between and either both are valid or
// one is invalid the same way twice with the page file and its log
// unchanged (damage, reported in slot_status as ReadNewestMeta does).
// *pages (when not null) gets the two pages the choice was made from
// (fewer bytes when the file is shorter).
Result<MetaChoice> ReadSettledMetas(File* file, const std::string& db_path, uint32_t page_size,
                                    MetaPages* pages = nullptr);

}  // namespace sombra::pager
