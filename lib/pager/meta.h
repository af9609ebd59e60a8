// pager/meta.h: the two meta pages (docs/format/file.md, "Meta page").
#pragma once

#include <cstdint>
#include <string>

#include "env/env.h"
#include "pager/format.h"
#include "sombra/status.h"
#include "util/result.h"

namespace sombra::pager {

struct Meta {
  uint32_t page_size = kDefaultPageSize;
  uint64_t salt = 0;
  uint64_t page_count = kFirstDataPage;  // pages in use, meta pages included
  uint32_t root = 0;                     // 0: no root yet
  uint32_t freelist_head = 0;            // 0: empty
  uint64_t freelist_count = 0;
  uint64_t checkpoint_seq = 0;  // lives in page checkpoint_seq % 2
  uint64_t checkpoint_lsn = 0;
  uint32_t catalog_root = 0;  // the catalog of named trees; 0: none
};

// The meta page a sequence is written to.
inline uint32_t MetaSlotFor(uint64_t checkpoint_seq) {
  return static_cast<uint32_t>(checkpoint_seq % 2);
}

// Fills page[0, meta.page_size) with the meta page for slot
// MetaSlotFor(meta.checkpoint_seq), sealed.
void EncodeMeta(const Meta& meta, uint8_t* page);

// Decodes the meta page read from `slot` (0 or 1). `size` is how many bytes
// are available at `page`. Corruption (or NotSupported for a newer format
// version) naming `file` and what is wrong when the page is not valid.
Result<Meta> DecodeMeta(const uint8_t* page, size_t size, uint32_t slot, const std::string& file);

// True when the 8 magic bytes are at their place: the file claims to be a
// Sombra database, whether or not its meta pages are intact.
bool HasMetaMagic(const uint8_t* page, size_t size);

struct MetaChoice {
  Meta meta;              // the newest valid meta
  uint32_t slot = 0;      // the page it was read from
  Status slot_status[2];  // why each slot is or is not valid
};

// Reads both meta pages of `file` and picks the valid one with the highest
// checkpoint sequence. Works with any page size: the page size is taken
// from a meta page and cross-checked. InvalidArgument when the file is not
// a Sombra database; Corruption when it is one but no meta page is valid.
Result<MetaChoice> ReadNewestMeta(File* file);

}  // namespace sombra::pager
