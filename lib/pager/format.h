// pager/format.h: constants and helpers of the page file format.
//
// The format is specified in docs/format/file.md; every number here is
// defined there. Change both together, and bump kFormatVersion when the
// bytes on disk change.
//
// All integers are little-endian and go through util/coding.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "sombra/status.h"

namespace sombra::pager {

constexpr uint32_t kMinPageSize = 4096;
constexpr uint32_t kMaxPageSize = 65536;
constexpr uint32_t kDefaultPageSize = 4096;
// 3: 6-byte slots in reverse key order; 4: the meta page names the
// catalog of named trees; 5: leaf pages may carry kLeafFlagNoOverflow.
// Format-3 and format-4 files are read (format 3: no named trees; their
// leaves have the flag clear, "not known") and written as format 5 from
// their next meta page on.
constexpr uint32_t kFormatVersion = 5;
constexpr uint32_t kOldestReadableFormatVersion = 3;

// The two meta pages; the one with the higher checkpoint sequence wins.
constexpr uint32_t kMetaPageA = 0;
constexpr uint32_t kMetaPageB = 1;
constexpr uint32_t kFirstDataPage = 2;

// Page kinds: permanent numbers, never reused; 0 is reserved (a page of
// zeros is never valid).
enum class PageKind : uint8_t {
  kInvalid = 0,
  kMeta = 1,
  kFree = 2,
  kLeaf = 3,
  kInternal = 4,
  kOverflow = 5,
  kRaw = 6,  // opaque bytes: the pager demo and tests
};
constexpr uint8_t kMaxPageKind = 6;
const char* PageKindName(uint8_t kind);

// Common page header (docs/format/file.md, "Common page header").
constexpr size_t kHeaderKindOffset = 0;       // u8
constexpr size_t kHeaderFlagsOffset = 1;      // u8: zero, or kLeafFlagNoOverflow on a leaf
constexpr size_t kHeaderReservedOffset = 2;   // u16, zero
constexpr size_t kHeaderPageNoOffset = 4;     // u32
constexpr size_t kHeaderLsnOffset = 8;        // u64
constexpr size_t kHeaderChecksumOffset = 16;  // u64
constexpr size_t kPageHeaderSize = 24;

// Header flag of a leaf page (format 5; docs/format/page.md, "Leaf page"):
// no record on the page is an overflow reference. Clear means not known.
constexpr uint8_t kLeafFlagNoOverflow = 0x01;
// The flags a page of `kind` may carry.
constexpr uint8_t AllowedHeaderFlags(uint8_t kind) {
  return kind == static_cast<uint8_t>(PageKind::kLeaf) ? kLeafFlagNoOverflow : 0;
}

// Meta page body (docs/format/file.md, "Meta page").
constexpr size_t kMetaMagicOffset = 24;
constexpr size_t kMetaVersionOffset = 32;
constexpr size_t kMetaPageSizeOffset = 36;
constexpr size_t kMetaSaltOffset = 40;
constexpr size_t kMetaPageCountOffset = 48;
constexpr size_t kMetaRootOffset = 56;
constexpr size_t kMetaFreelistHeadOffset = 60;
constexpr size_t kMetaFreelistCountOffset = 64;
constexpr size_t kMetaCheckpointSeqOffset = 72;
constexpr size_t kMetaCheckpointLsnOffset = 80;
constexpr size_t kMetaCatalogRootOffset = 88;  // format 4
constexpr size_t kMetaEndOffset = 92;
constexpr char kMetaMagic[8] = {'S', 'O', 'M', 'B', 'R', 'A', 'D', 'B'};

// Free page body: the next free page, 0 at the end of the list.
constexpr size_t kFreeNextOffset = 24;  // u32

bool IsValidPageSize(uint64_t page_size);

struct PageHeader {
  uint8_t kind;
  uint8_t flags;
  uint32_t page_no;
  uint64_t lsn;
  uint64_t checksum;
};
PageHeader DecodePageHeader(const uint8_t* page);

// Writes kind, page number and LSN into the header (flags and reserved
// zero). The checksum is set by SealPage.
void InitPageHeader(uint8_t* page, PageKind kind, uint32_t page_no, uint64_t lsn);

// XXH3-64 of bytes [0,16) ++ [24,page_size), seeded with
// salt XOR (page_no * 0x9E3779B97F4A7C15).
uint64_t ComputePageChecksum(const uint8_t* page, uint32_t page_size, uint32_t page_no,
                             uint64_t salt);
// Stores ComputePageChecksum in the header.
void SealPage(uint8_t* page, uint32_t page_size, uint64_t salt);
// A random non-zero salt for a new page file.
uint64_t NewSalt();

// OK when the page is valid as page `page_no` of a file with `salt`
// (docs/format/file.md, "A page is valid if and only if"); otherwise
// Corruption naming `file`, the page and what differs.
Status VerifyPage(const uint8_t* page, uint32_t page_size, uint32_t page_no, uint64_t salt,
                  const std::string& file);

std::string Hex64(uint64_t v);

// `message` without the leading "page N of FILE: " or "meta page N of
// FILE: " that the pager puts in its errors (VerifyPage, DecodeMeta), when
// present: for tools that print the page and the file apart.
std::string StripWhere(const std::string& message, uint64_t page_no, const std::string& file);

}  // namespace sombra::pager
