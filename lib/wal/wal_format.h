// wal/wal_format.h: constants, header and record codecs of the write-ahead
// log `<db>-wal`.
//
// The format is specified in docs/format/wal.md; every number here is defined
// there. Change both together, and bump kWalFormatVersion when the bytes on
// disk change. All integers are little-endian and go through util/coding.h.
//
// Thread safety: everything here is a pure function or a value type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "sombra/status.h"
#include "util/result.h"

namespace sombra::wal {

constexpr char kWalMagic[8] = {'S', 'O', 'M', 'B', 'R', 'W', 'A', 'L'};
// Format 2 added the base meta copy (and a 128-byte header); format-1 logs
// (64-byte header) are still read, never written.
constexpr uint32_t kWalFormatVersion = 2;
constexpr uint32_t kWalFormatVersion1 = 1;
// Format 3: the layout of format 2, for a generation whose first
// transaction is carried over from the log it replaces (its LSN may be
// above the start LSN; docs/format/wal.md, "Carried generations").
constexpr uint32_t kWalFormatVersionCarry = 3;
// Formats 4 and 5: the layouts of formats 2 and 3, whose records may also
// be page-op records (type 4). This build writes these; it continues a
// format-2 or format-3 log (after recovery) without page-op records.
constexpr uint32_t kWalFormatVersionOps = 4;
constexpr uint32_t kWalFormatVersionOpsCarry = 5;
// Formats 6 and 7: the layouts of formats 4 and 5 whose commit records
// (56 bytes) and base meta also carry the catalog root (named trees,
// docs/format/file.md). This build writes these.
constexpr uint32_t kWalFormatVersionTrees = 6;
constexpr uint32_t kWalFormatVersionTreesCarry = 7;
// Formats 8 and 9: the layouts of formats 6 and 7, where a delta or page-ops
// record may be a page's first record since the checkpoint: it applies on
// the page as the page file holds it, which the double-write file
// (docs/format/dwb.md) keeps whole across a torn checkpoint. This build
// writes these.
constexpr uint32_t kWalFormatVersionFileBase = 8;
constexpr uint32_t kWalFormatVersionFileBaseCarry = 9;
// Formats 10 and 11: the layouts of formats 8 and 9 whose records may also
// be ops groups (type 5): the page ops of many pages of one transaction in
// one record, lz4-compressed together.
constexpr uint32_t kWalFormatVersionGroups = 10;
constexpr uint32_t kWalFormatVersionGroupsCarry = 11;
// Formats 12 and 13: the layouts of formats 10 and 11 whose ops-group
// entries may also hold copies, bytes of another page as it was before the
// transaction (wal_page_ops.h). This build writes these.
constexpr uint32_t kWalFormatVersionCopies = 12;
constexpr uint32_t kWalFormatVersionCopiesCarry = 13;
constexpr uint32_t kWalNewestFormatVersion = 13;
// A carried generation (formats 3, 5, 7, 9, 11 and 13).
inline bool IsCarriedVersion(uint32_t v) {
  return v == kWalFormatVersionCarry || v == kWalFormatVersionOpsCarry ||
         v == kWalFormatVersionTreesCarry || v == kWalFormatVersionFileBaseCarry ||
         v == kWalFormatVersionGroupsCarry || v == kWalFormatVersionCopiesCarry;
}
// A log whose commit records and base meta carry the catalog root
// (formats 6 and 7).
inline bool HasCatalogRoot(uint32_t v) { return v >= kWalFormatVersionTrees; }
// The carried-generation format of the same layout as `v`.
inline uint32_t CarriedVersionOf(uint32_t v) {
  if (v >= kWalFormatVersionCopies) return kWalFormatVersionCopiesCarry;
  if (v >= kWalFormatVersionGroups) return kWalFormatVersionGroupsCarry;
  if (v >= kWalFormatVersionFileBase) return kWalFormatVersionFileBaseCarry;
  if (v >= kWalFormatVersionTrees) return kWalFormatVersionTreesCarry;
  if (v >= kWalFormatVersionOps) return kWalFormatVersionOpsCarry;
  return kWalFormatVersionCarry;
}
// A log whose records may be page-op records (formats 4 and 5).
inline bool AllowsPageOps(uint32_t v) { return v >= kWalFormatVersionOps; }
// A log whose deltas and page ops may apply on the page file's page, with
// no image of the page before them in the generation (formats 8 and 9).
inline bool AllowsFileBases(uint32_t v) { return v >= kWalFormatVersionFileBase; }
// A log whose records may be ops groups (formats 10 to 13).
inline bool AllowsOpsGroups(uint32_t v) { return v >= kWalFormatVersionGroups; }
// A log whose ops-group entries may copy from other pages (formats 12 and
// 13).
inline bool AllowsCopies(uint32_t v) { return v >= kWalFormatVersionCopies; }

// The page sizes a log may declare; the same range as the page file
// (docs/format/file.md), repeated here because lib/wal sits below lib/pager.
constexpr uint32_t kMinPageSize = 4096;
constexpr uint32_t kMaxPageSize = 65536;
bool IsValidPageSize(uint64_t page_size);

// Pages 0 and 1 are the meta pages: they are never logged (a commit record
// carries what they describe).
constexpr uint32_t kFirstLoggedPage = 2;

// ---- File header (docs/format/wal.md, "File header") ----
// The size of the header this build writes; the first record follows it.
constexpr size_t kWalHeaderSize = 128;
constexpr size_t kWalHeaderSizeV1 = 64;
// The header size of a format version (0 for an unknown one).
size_t WalHeaderSize(uint32_t version);

constexpr size_t kWalMagicOffset = 0;
constexpr size_t kWalVersionOffset = 8;
constexpr size_t kWalPageSizeOffset = 12;
constexpr size_t kWalSaltOffset = 16;
constexpr size_t kWalGenerationOffset = 24;
constexpr size_t kWalDbSaltOffset = 32;
constexpr size_t kWalStartLsnOffset = 40;
// Format 2: the base meta copy, then reserved bytes, then the checksum.
constexpr size_t kWalBaseRootOffset = 48;
constexpr size_t kWalBaseFreelistHeadOffset = 52;
constexpr size_t kWalBasePageCountOffset = 56;
constexpr size_t kWalBaseFreelistCountOffset = 64;
constexpr size_t kWalBaseSeqOffset = 72;
// Formats 6 and 7: the base meta's catalog root, then reserved bytes.
constexpr size_t kWalBaseCatalogRootOffset = 80;
constexpr size_t kWalReservedOffset = 80;
constexpr size_t kWalReservedOffsetTrees = 84;
constexpr size_t kWalHeaderChecksumOffset = 120;
// Format 1: reserved [48, 56), checksum at 56.
constexpr size_t kWalReservedOffsetV1 = 48;
constexpr size_t kWalHeaderChecksumOffsetV1 = 56;

// A copy of the meta page the generation starts from (format 2; its
// checkpoint LSN is start_lsn - 1, its page size and salt are the header's).
// It is what recovery falls back on when that meta page is damaged
// (docs/format/file.md, "Meta redundancy").
struct WalBase {
  uint32_t root = 0;
  uint32_t freelist_head = 0;
  uint64_t page_count = kFirstLoggedPage;  // the meta pages only: an empty database
  uint64_t freelist_count = 0;
  uint64_t checkpoint_seq = 0;
  uint32_t catalog_root = 0;  // formats 6 and 7 only (0 in older ones)
};

struct WalHeader {
  uint32_t version = kWalFormatVersionTrees;
  uint32_t page_size = 0;
  uint64_t salt = 0;        // random per generation, never 0; seeds the record chain
  uint64_t generation = 0;  // +1 at every restart
  uint64_t db_salt = 0;     // the page file's salt: binds the log to its database
  uint64_t start_lsn = 0;   // the first LSN this generation may contain
  WalBase base;             // format 2 only (all zero in a format-1 header)

  size_t size() const { return WalHeaderSize(version); }
  bool has_base() const { return version >= 2; }
};

// Writes the header of header.version (1 or 2, checksum included) at
// out[0, header.size()).
void EncodeWalHeader(const WalHeader& header, uint8_t* out);

// Decodes and checks a header (docs/format/wal.md, "A header is valid if and
// only if"); `size` bytes are available (kWalHeaderSize suffice for every
// version). Corruption naming the first failed rule; NotSupported for a
// correctly sealed header of a newer format version.
Result<WalHeader> DecodeWalHeader(const uint8_t* data, size_t size);

// True when a base meta copy is consistent (docs/format/wal.md, rule H7);
// otherwise false with the reason in *why.
bool CheckWalBase(const WalBase& base, std::string* why);

// ---- Records (docs/format/wal.md, "Records") ----
constexpr size_t kRecordHeaderSize = 16;
constexpr size_t kRecordTypeOffset = 0;
constexpr size_t kRecordFlagsOffset = 1;
constexpr size_t kRecordReservedOffset = 2;
constexpr size_t kRecordLengthOffset = 4;
constexpr size_t kRecordChecksumOffset = 8;

// Permanent numbers, never reused; 0 is reserved (a zeroed header is the end
// of the log).
enum class RecordType : uint8_t {
  kInvalid = 0,
  kPageImage = 1,
  kPageDelta = 2,
  kCommit = 3,
  kPageOps = 4,   // formats 4 to 13
  kOpsGroup = 5,  // formats 10 to 13
};
constexpr uint8_t kMaxRecordType = 5;
const char* RecordTypeName(uint8_t type);

// Page image: the page bytes are an lz4 block. Ops group: its body is.
constexpr uint8_t kFlagCompressed = 0x01;

// Payload sizes.
constexpr size_t kImageFixedSize = 12;          // page number u32, page LSN u64
constexpr size_t kDeltaFixedSize = 20;          // page number u32, base LSN u64, new LSN u64
constexpr size_t kOpsFixedSize = 20;            // the same for a page-ops record
constexpr size_t kCommitPayloadSize = 52;       // see CommitInfo; formats 1 to 5
constexpr size_t kCommitPayloadSizeTrees = 56;  // formats 6 and 7: + catalog root
inline size_t CommitPayloadSize(uint32_t version) {
  return HasCatalogRoot(version) ? kCommitPayloadSizeTrees : kCommitPayloadSize;
}

// The largest payload a well-formed delta can have: the fixed part, a 3-byte
// range count, and at most 5 bytes per page byte (a 1-byte range costs a
// 3-byte offset, a 1-byte length and the byte).
inline size_t MaxDeltaPayload(uint32_t page_size) {
  return kDeltaFixedSize + 3 + 5 * static_cast<size_t>(page_size);
}
// The largest payload a page-ops record may have: that of a delta (the
// writer logs ops only when they are smaller than the page's delta).
inline size_t MaxOpsPayload(uint32_t page_size) { return MaxDeltaPayload(page_size); }

// Ops group (type 5): the transaction's LSN (u64), then varints entry count
// and body length, then the body (raw, or an lz4 block smaller than it).
constexpr size_t kGroupFixedSize = 8;
// The largest body a group may have (a page's ops always fit one group:
// MaxOpsPayload(65536) is 327,703 bytes).
constexpr size_t kMaxGroupBody = size_t{512} << 10;
// The smallest entry: 1-byte page step, LSN step and ops length, and a
// 3-byte op (a 1-byte write or move).
constexpr size_t kMinGroupEntry = 6;
// Payload bounds: a raw body of one smallest entry; a body of kMaxGroupBody
// bytes with varints of at most 3 bytes each (kMaxGroupBody < 2^21).
constexpr size_t kMinGroupPayload = kGroupFixedSize + 1 + 1 + 1;
constexpr size_t kMaxGroupPayload = kGroupFixedSize + 3 + 3 + kMaxGroupBody;

// The largest payload of any record type.
inline size_t MaxPayload(uint32_t page_size) {
  return MaxDeltaPayload(page_size) > kMaxGroupPayload ? MaxDeltaPayload(page_size)
                                                       : kMaxGroupPayload;
}

struct RecordHeader {
  uint8_t type = 0;
  uint8_t flags = 0;
  uint16_t reserved = 0;
  uint32_t length = 0;  // payload bytes as stored
  uint64_t checksum = 0;
};
void EncodeRecordHeader(const RecordHeader& header, uint8_t* out);
RecordHeader DecodeRecordHeader(const uint8_t* in);

// XXH3-64 of header bytes [0, 8) followed by the payload, seeded with the
// previous record's checksum (the WAL salt for the first record).
uint64_t RecordChecksum(const uint8_t* header, const uint8_t* payload, size_t length,
                        uint64_t seed);

// Fields of a commit record, in payload order.
struct CommitInfo {
  uint64_t txn_id = 0;
  uint64_t lsn = 0;
  uint32_t root = 0;
  uint32_t freelist_head = 0;
  uint64_t page_count = 0;
  uint64_t freelist_count = 0;
  // The highest LSN known durable (synced to the log, or in the page file)
  // when this transaction was written.
  uint64_t durable_lsn = 0;
  // Records of this transaction before the commit record.
  uint32_t record_count = 0;
  // The catalog tree's root (formats 6 and 7; 0: no named trees).
  uint32_t catalog_root = 0;
};
// CommitPayloadSize(version) bytes; formats before 6 have no catalog root.
void EncodeCommitPayload(const CommitInfo& info, uint8_t* out, uint32_t version);
CommitInfo DecodeCommitPayload(const uint8_t* in, uint32_t version);

// True when the commit's fields are consistent (docs/format/wal.md, rule
// C1); otherwise false with the reason in *why.
bool CheckCommitInfo(const CommitInfo& info, std::string* why);

// One page of an ops group: the page ops of page_no (checked, for
// ApplyPageOps), applying on its LSN base_lsn.
struct GroupEntry {
  uint32_t page_no = 0;
  uint64_t base_lsn = 0;
  std::string_view ops;
  bool copies = false;  // the ops hold a copy from another page
};

// One changed byte range of a page: page[offset, offset + bytes.size()).
struct DeltaRange {
  uint32_t offset = 0;
  std::string_view bytes;
};

// True when the ranges are non-empty, sorted by offset, non-overlapping and
// inside [0, page_size) (rule D2); otherwise false with the reason in *why.
bool CheckDeltaRanges(std::span<const DeltaRange> ranges, uint32_t page_size, std::string* why);

// "0x" and 16 hex digits.
std::string Hex64(uint64_t v);

}  // namespace sombra::wal
