#include "wal/wal_format.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "sombra/version.h"
#include "util/coding.h"
#include "util/hash.h"

namespace sombra::wal {

bool IsValidPageSize(uint64_t page_size) {
  return page_size >= kMinPageSize && page_size <= kMaxPageSize &&
         (page_size & (page_size - 1)) == 0;
}

std::string Hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%016" PRIx64, v);
  return buf;
}

const char* RecordTypeName(uint8_t type) {
  switch (type) {
    case static_cast<uint8_t>(RecordType::kPageImage):
      return "page image";
    case static_cast<uint8_t>(RecordType::kPageDelta):
      return "page delta";
    case static_cast<uint8_t>(RecordType::kCommit):
      return "commit";
    case static_cast<uint8_t>(RecordType::kPageOps):
      return "page ops";
    case static_cast<uint8_t>(RecordType::kOpsGroup):
      return "ops group";
    default:
      return "unknown";
  }
}

size_t WalHeaderSize(uint32_t version) {
  if (version == kWalFormatVersion1) return kWalHeaderSizeV1;
  if (version >= kWalFormatVersion && version <= kWalNewestFormatVersion) return kWalHeaderSize;
  return 0;
}

namespace {

// Where the checksum of a header of `size` bytes lies: its last 8 bytes.
bool SealedAs(const uint8_t* data, size_t available, size_t size) {
  if (size == 0 || available < size) return false;
  return DecodeFixed64(data + size - 8) == Hash64(data, size - 8, 0);
}

}  // namespace

void EncodeWalHeader(const WalHeader& header, uint8_t* out) {
  const size_t size = header.size();
  std::memset(out, 0, size);
  std::memcpy(out + kWalMagicOffset, kWalMagic, sizeof(kWalMagic));
  EncodeFixed32(out + kWalVersionOffset, header.version);
  EncodeFixed32(out + kWalPageSizeOffset, header.page_size);
  EncodeFixed64(out + kWalSaltOffset, header.salt);
  EncodeFixed64(out + kWalGenerationOffset, header.generation);
  EncodeFixed64(out + kWalDbSaltOffset, header.db_salt);
  EncodeFixed64(out + kWalStartLsnOffset, header.start_lsn);
  if (header.has_base()) {
    EncodeFixed32(out + kWalBaseRootOffset, header.base.root);
    EncodeFixed32(out + kWalBaseFreelistHeadOffset, header.base.freelist_head);
    EncodeFixed64(out + kWalBasePageCountOffset, header.base.page_count);
    EncodeFixed64(out + kWalBaseFreelistCountOffset, header.base.freelist_count);
    EncodeFixed64(out + kWalBaseSeqOffset, header.base.checkpoint_seq);
    if (HasCatalogRoot(header.version)) {
      EncodeFixed32(out + kWalBaseCatalogRootOffset, header.base.catalog_root);
    }
  }
  EncodeFixed64(out + size - 8, Hash64(out, size - 8, 0));
}

namespace {

// Rule H3 for an unknown version: NotSupported if newer and sealed as a known layout, else damage.
Status RejectUnknownVersion(const uint8_t* data, size_t size, uint32_t version) {
  const bool sealed =
      SealedAs(data, size, kWalHeaderSizeV1) || SealedAs(data, size, kWalHeaderSize);
  if (version > kWalNewestFormatVersion && sealed) {
    return Status::NotSupported("WAL format version " + std::to_string(version) +
                                " is newer than this build's " +
                                std::to_string(kWalNewestFormatVersion));
  }
  if (sealed) {
    return Status::Corruption("WAL header: format version " + std::to_string(version) +
                              " is unknown");
  }
  return Status::Corruption("WAL header: checksum mismatch (and format version " +
                            std::to_string(version) + " is unknown)");
}

// Rules H4-H7 on the decoded fields, the reserved bytes being [reserved_at, checksum_at) of data.
Status CheckHeaderFields(const WalHeader& h, const uint8_t* data, size_t reserved_at,
                         size_t checksum_at) {
  if (!IsValidPageSize(h.page_size)) {
    return Status::Corruption("WAL header: page size " + std::to_string(h.page_size) +
                              " is not a power of two from 4096 to 65536");
  }
  if (h.salt == 0) return Status::Corruption("WAL header: WAL salt is 0");
  if (h.db_salt == 0) return Status::Corruption("WAL header: database salt is 0");
  if (h.start_lsn == 0) return Status::Corruption("WAL header: start LSN is 0");
  if (!IsAllZero(data + reserved_at, checksum_at - reserved_at)) {
    return Status::Corruption("WAL header: reserved bytes [" + std::to_string(reserved_at) + "," +
                              std::to_string(checksum_at) + ") are not 0");
  }
  if (h.has_base()) {
    std::string why;
    if (!CheckWalBase(h.base, &why)) return Status::Corruption("WAL header: base meta: " + why);
  }
  return Status::OK();
}

}  // namespace

Result<WalHeader> DecodeWalHeader(const uint8_t* data, size_t size) {
  if (size < kWalHeaderSizeV1) {
    return Status::Corruption("WAL header truncated: " + std::to_string(size) + " of " +
                              std::to_string(kWalHeaderSizeV1) + " bytes");
  }
  if (std::memcmp(data + kWalMagicOffset, kWalMagic, sizeof(kWalMagic)) != 0) {
    return Status::Corruption("WAL header: bad magic (expected \"SOMBRWAL\")");
  }
  WalHeader h;
  h.version = DecodeFixed32(data + kWalVersionOffset);
  const size_t header_size = WalHeaderSize(h.version);
  if (header_size == 0) return RejectUnknownVersion(data, size, h.version);
  if (size < header_size) {
    return Status::Corruption("WAL header truncated: " + std::to_string(size) + " of " +
                              std::to_string(header_size) + " bytes (format " +
                              std::to_string(h.version) + ")");
  }
  const size_t checksum_at = header_size - 8;
  const uint64_t stored = DecodeFixed64(data + checksum_at);
  const uint64_t computed = Hash64(data, checksum_at, 0);
  if (stored != computed) {
    return Status::Corruption("WAL header: checksum mismatch (stored " + Hex64(stored) +
                              ", computed " + Hex64(computed) + ")");
  }
  h.page_size = DecodeFixed32(data + kWalPageSizeOffset);
  h.salt = DecodeFixed64(data + kWalSaltOffset);
  h.generation = DecodeFixed64(data + kWalGenerationOffset);
  h.db_salt = DecodeFixed64(data + kWalDbSaltOffset);
  h.start_lsn = DecodeFixed64(data + kWalStartLsnOffset);
  if (h.has_base()) {
    h.base.root = DecodeFixed32(data + kWalBaseRootOffset);
    h.base.freelist_head = DecodeFixed32(data + kWalBaseFreelistHeadOffset);
    h.base.page_count = DecodeFixed64(data + kWalBasePageCountOffset);
    h.base.freelist_count = DecodeFixed64(data + kWalBaseFreelistCountOffset);
    h.base.checkpoint_seq = DecodeFixed64(data + kWalBaseSeqOffset);
    if (HasCatalogRoot(h.version)) {
      h.base.catalog_root = DecodeFixed32(data + kWalBaseCatalogRootOffset);
    }
  }
  const size_t reserved_at = !h.has_base()               ? kWalReservedOffsetV1
                             : HasCatalogRoot(h.version) ? kWalReservedOffsetTrees
                                                         : kWalReservedOffset;
  SOMBRA_RETURN_IF_ERROR(CheckHeaderFields(h, data, reserved_at, checksum_at));
  return h;
}

void EncodeRecordHeader(const RecordHeader& header, uint8_t* out) {
  out[kRecordTypeOffset] = header.type;
  out[kRecordFlagsOffset] = header.flags;
  EncodeFixed16(out + kRecordReservedOffset, header.reserved);
  EncodeFixed32(out + kRecordLengthOffset, header.length);
  EncodeFixed64(out + kRecordChecksumOffset, header.checksum);
}

RecordHeader DecodeRecordHeader(const uint8_t* in) {
  RecordHeader h;
  h.type = in[kRecordTypeOffset];
  h.flags = in[kRecordFlagsOffset];
  h.reserved = DecodeFixed16(in + kRecordReservedOffset);
  h.length = DecodeFixed32(in + kRecordLengthOffset);
  h.checksum = DecodeFixed64(in + kRecordChecksumOffset);
  return h;
}

uint64_t RecordChecksum(const uint8_t* header, const uint8_t* payload, size_t length,
                        uint64_t seed) {
  return Hash64Pair(header, kRecordChecksumOffset, payload, length, seed);
}

void EncodeCommitPayload(const CommitInfo& info, uint8_t* out, uint32_t version) {
  EncodeFixed64(out + 0, info.txn_id);
  EncodeFixed64(out + 8, info.lsn);
  EncodeFixed32(out + 16, info.root);
  EncodeFixed32(out + 20, info.freelist_head);
  EncodeFixed64(out + 24, info.page_count);
  EncodeFixed64(out + 32, info.freelist_count);
  EncodeFixed64(out + 40, info.durable_lsn);
  EncodeFixed32(out + 48, info.record_count);
  if (HasCatalogRoot(version)) EncodeFixed32(out + 52, info.catalog_root);
}

CommitInfo DecodeCommitPayload(const uint8_t* in, uint32_t version) {
  CommitInfo info;
  info.txn_id = DecodeFixed64(in + 0);
  info.lsn = DecodeFixed64(in + 8);
  info.root = DecodeFixed32(in + 16);
  info.freelist_head = DecodeFixed32(in + 20);
  info.page_count = DecodeFixed64(in + 24);
  info.freelist_count = DecodeFixed64(in + 32);
  info.durable_lsn = DecodeFixed64(in + 40);
  info.record_count = DecodeFixed32(in + 48);
  if (HasCatalogRoot(version)) info.catalog_root = DecodeFixed32(in + 52);
  return info;
}

namespace {

// The tree fields a commit record and a base meta both carry (rule C1's
// second half, rule H7): page count in [2, 2^32], root 0 or a page, an empty
// freelist or a head page with a count below the page count.
bool CheckTreeFields(uint32_t root, uint32_t freelist_head, uint64_t n, uint64_t freelist_count,
                     std::string* why) {
  if (n < kFirstLoggedPage || n > (uint64_t{1} << 32)) {
    *why = "page count " + std::to_string(n) + " outside [2, 2^32]";
  } else if (root != 0 && (root < kFirstLoggedPage || root >= n)) {
    *why = "root " + std::to_string(root) + " outside [2, page count " + std::to_string(n) + ")";
  } else if (freelist_head == 0 && freelist_count != 0) {
    *why = "empty freelist with count " + std::to_string(freelist_count);
  } else if (freelist_head != 0 && (freelist_head < kFirstLoggedPage || freelist_head >= n ||
                                    freelist_count == 0 || freelist_count >= n)) {
    *why = "freelist head " + std::to_string(freelist_head) + " / count " +
           std::to_string(freelist_count) + " inconsistent with page count " + std::to_string(n);
  } else {
    return true;
  }
  return false;
}

bool CheckCatalogRoot(uint32_t catalog_root, uint64_t n, std::string* why) {
  if (catalog_root == 0 || (catalog_root >= kFirstLoggedPage && catalog_root < n)) return true;
  *why = "catalog root " + std::to_string(catalog_root) + " outside [2, page count " +
         std::to_string(n) + ")";
  return false;
}

}  // namespace

bool CheckCommitInfo(const CommitInfo& c, std::string* why) {
  if (c.lsn == 0) {
    *why = "commit LSN is 0";
    return false;
  }
  if (c.durable_lsn >= c.lsn) {
    *why = "durable LSN " + std::to_string(c.durable_lsn) + " is not below the commit LSN " +
           std::to_string(c.lsn);
    return false;
  }
  return CheckTreeFields(c.root, c.freelist_head, c.page_count, c.freelist_count, why) &&
         CheckCatalogRoot(c.catalog_root, c.page_count, why);
}

bool CheckWalBase(const WalBase& b, std::string* why) {
  return CheckTreeFields(b.root, b.freelist_head, b.page_count, b.freelist_count, why) &&
         CheckCatalogRoot(b.catalog_root, b.page_count, why);
}

bool CheckDeltaRanges(std::span<const DeltaRange> ranges, uint32_t page_size, std::string* why) {
  uint64_t prev_end = 0;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const uint64_t off = ranges[i].offset;
    const uint64_t len = ranges[i].bytes.size();
    if (len != 0 && off >= prev_end && off + len <= page_size) {
      prev_end = off + len;
      continue;
    }
    *why = "range " + std::to_string(i) + " [" + std::to_string(off) + ", +" + std::to_string(len) +
           ")";
    if (len == 0) {
      *why += " is empty";
    } else if (off < prev_end) {
      *why +=
          " overlaps or precedes the previous range (ending at " + std::to_string(prev_end) + ")";
    } else {
      *why += " passes the page end " + std::to_string(page_size);
    }
    return false;
  }
  return true;
}

}  // namespace sombra::wal

// The newest format sombra/version.h announces is the one this layer writes.
static_assert(sombra::wal::kWalNewestFormatVersion == sombra::kLogFormat,
              "sombra/version.h: kLogFormat");
