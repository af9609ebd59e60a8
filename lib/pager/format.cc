#include "pager/format.h"

#include <cstdio>
#include <random>

#include "sombra/version.h"
#include "util/coding.h"
#include "util/hash.h"

namespace sombra::pager {

const char* PageKindName(uint8_t kind) {
  switch (kind) {
    case 1:
      return "meta";
    case 2:
      return "free";
    case 3:
      return "leaf";
    case 4:
      return "internal";
    case 5:
      return "overflow";
    case 6:
      return "raw";
    default:
      return "invalid";
  }
}

bool IsValidPageSize(uint64_t page_size) {
  return page_size >= kMinPageSize && page_size <= kMaxPageSize &&
         (page_size & (page_size - 1)) == 0;
}

PageHeader DecodePageHeader(const uint8_t* page) {
  PageHeader h;
  h.kind = page[kHeaderKindOffset];
  h.flags = page[kHeaderFlagsOffset];
  h.page_no = DecodeFixed32(page + kHeaderPageNoOffset);
  h.lsn = DecodeFixed64(page + kHeaderLsnOffset);
  h.checksum = DecodeFixed64(page + kHeaderChecksumOffset);
  return h;
}

uint64_t NewSalt() {
  std::random_device rd;
  uint64_t salt = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return salt == 0 ? 1 : salt;
}

void InitPageHeader(uint8_t* page, PageKind kind, uint32_t page_no, uint64_t lsn) {
  page[kHeaderKindOffset] = static_cast<uint8_t>(kind);
  page[kHeaderFlagsOffset] = 0;
  EncodeFixed16(page + kHeaderReservedOffset, 0);
  EncodeFixed32(page + kHeaderPageNoOffset, page_no);
  EncodeFixed64(page + kHeaderLsnOffset, lsn);
}

uint64_t ComputePageChecksum(const uint8_t* page, uint32_t page_size, uint32_t page_no,
                             uint64_t salt) {
  uint64_t seed = salt ^ (static_cast<uint64_t>(page_no) * 0x9E3779B97F4A7C15ULL);
  return Hash64Pair(page, kHeaderChecksumOffset, page + kPageHeaderSize,
                    page_size - kPageHeaderSize, seed);
}

void SealPage(uint8_t* page, uint32_t page_size, uint64_t salt) {
  uint32_t page_no = DecodeFixed32(page + kHeaderPageNoOffset);
  EncodeFixed64(page + kHeaderChecksumOffset, ComputePageChecksum(page, page_size, page_no, salt));
}

std::string Hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

Status VerifyPage(const uint8_t* page, uint32_t page_size, uint32_t page_no, uint64_t salt,
                  const std::string& file) {
  const std::string where = "page " + std::to_string(page_no) + " of " + file + ": ";
  PageHeader h = DecodePageHeader(page);
  uint64_t computed = ComputePageChecksum(page, page_size, page_no, salt);
  if (h.checksum != computed && h.page_no != page_no &&
      h.checksum == ComputePageChecksum(page, page_size, h.page_no, salt)) {
    return Status::Corruption(where + "holds page " + std::to_string(h.page_no) +
                              " (misdirected write)");
  }
  if (h.checksum != computed) {
    return Status::Corruption(where + "checksum mismatch (stored " + Hex64(h.checksum) +
                              ", computed " + Hex64(computed) + ")");
  }
  if (h.page_no != page_no) {
    return Status::Corruption(where + "header names page " + std::to_string(h.page_no) +
                              " (misdirected write)");
  }
  if (h.kind == 0 || h.kind > kMaxPageKind) {
    return Status::Corruption(where + "invalid page kind " + std::to_string(h.kind));
  }
  if ((h.flags & ~AllowedHeaderFlags(h.kind)) != 0 ||
      DecodeFixed16(page + kHeaderReservedOffset) != 0) {
    return Status::Corruption(where + "reserved header bytes are not zero");
  }
  return Status::OK();
}

std::string StripWhere(const std::string& message, uint64_t page_no, const std::string& file) {
  const std::string tail = "page " + std::to_string(page_no) + " of " + file + ": ";
  for (const std::string& prefix : {"meta " + tail, tail}) {
    if (message.compare(0, prefix.size(), prefix) == 0) return message.substr(prefix.size());
  }
  return message;
}

}  // namespace sombra::pager

// The format sombra/version.h announces is the one this layer writes.
static_assert(sombra::pager::kFormatVersion == sombra::kPageFileFormat,
              "sombra/version.h: kPageFileFormat");
