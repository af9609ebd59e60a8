#include "pager/meta.h"

#include <cstring>
#include <vector>

#include "util/coding.h"

namespace sombra::pager {

void EncodeMeta(const Meta& meta, uint8_t* page) {
  std::memset(page, 0, meta.page_size);
  InitPageHeader(page, PageKind::kMeta, MetaSlotFor(meta.checkpoint_seq), meta.checkpoint_lsn);
  std::memcpy(page + kMetaMagicOffset, kMetaMagic, sizeof(kMetaMagic));
  EncodeFixed32(page + kMetaVersionOffset, kFormatVersion);
  EncodeFixed32(page + kMetaPageSizeOffset, meta.page_size);
  EncodeFixed64(page + kMetaSaltOffset, meta.salt);
  EncodeFixed64(page + kMetaPageCountOffset, meta.page_count);
  EncodeFixed32(page + kMetaRootOffset, meta.root);
  EncodeFixed32(page + kMetaFreelistHeadOffset, meta.freelist_head);
  EncodeFixed64(page + kMetaFreelistCountOffset, meta.freelist_count);
  EncodeFixed64(page + kMetaCheckpointSeqOffset, meta.checkpoint_seq);
  EncodeFixed64(page + kMetaCheckpointLsnOffset, meta.checkpoint_lsn);
  EncodeFixed32(page + kMetaCatalogRootOffset, meta.catalog_root);
  SealPage(page, meta.page_size, meta.salt);
}

bool HasMetaMagic(const uint8_t* page, size_t size) {
  return size >= kMetaMagicOffset + sizeof(kMetaMagic) &&
         std::memcmp(page + kMetaMagicOffset, kMetaMagic, sizeof(kMetaMagic)) == 0;
}

Result<Meta> DecodeMeta(const uint8_t* page, size_t size, uint32_t slot, const std::string& file) {
  const std::string where = "meta page " + std::to_string(slot) + " of " + file + ": ";
  if (size < kMetaEndOffset) {
    return Status::Corruption(where + "truncated (" + std::to_string(size) + " bytes)");
  }
  if (!HasMetaMagic(page, size)) return Status::Corruption(where + "bad magic");
  uint32_t version = DecodeFixed32(page + kMetaVersionOffset);
  Meta m;
  m.page_size = DecodeFixed32(page + kMetaPageSizeOffset);
  if (!IsValidPageSize(m.page_size)) {
    return Status::Corruption(where + "invalid page size " + std::to_string(m.page_size));
  }
  if (size < m.page_size) {
    return Status::Corruption(where + "truncated (" + std::to_string(size) + " of " +
                              std::to_string(m.page_size) + " bytes)");
  }
  m.salt = DecodeFixed64(page + kMetaSaltOffset);
  SOMBRA_RETURN_IF_ERROR(VerifyPage(page, m.page_size, slot, m.salt, file));
  if (page[kHeaderKindOffset] != static_cast<uint8_t>(PageKind::kMeta)) {
    return Status::Corruption(where + "page kind is " + PageKindName(page[kHeaderKindOffset]) +
                              ", expected meta");
  }
  if (version < kOldestReadableFormatVersion || version > kFormatVersion) {
    return Status::NotSupported(
        where + "format version " + std::to_string(version) + "; this build reads versions " +
        std::to_string(kOldestReadableFormatVersion) + " to " + std::to_string(kFormatVersion));
  }
  m.page_count = DecodeFixed64(page + kMetaPageCountOffset);
  m.root = DecodeFixed32(page + kMetaRootOffset);
  m.freelist_head = DecodeFixed32(page + kMetaFreelistHeadOffset);
  m.freelist_count = DecodeFixed64(page + kMetaFreelistCountOffset);
  m.checkpoint_seq = DecodeFixed64(page + kMetaCheckpointSeqOffset);
  m.checkpoint_lsn = DecodeFixed64(page + kMetaCheckpointLsnOffset);
  // Format 3 kept these bytes zero: no named trees.
  m.catalog_root = version >= 4 ? DecodeFixed32(page + kMetaCatalogRootOffset) : 0;
  if (m.page_count < kFirstDataPage || m.page_count > (uint64_t{1} << 32)) {
    return Status::Corruption(where + "page count " + std::to_string(m.page_count) +
                              " out of range");
  }
  if (m.root != 0 && (m.root < kFirstDataPage || m.root >= m.page_count)) {
    return Status::Corruption(where + "root page " + std::to_string(m.root) +
                              " outside [2, page count " + std::to_string(m.page_count) + ")");
  }
  if (m.catalog_root != 0 && (m.catalog_root < kFirstDataPage || m.catalog_root >= m.page_count)) {
    return Status::Corruption(where + "catalog root page " + std::to_string(m.catalog_root) +
                              " outside [2, page count " + std::to_string(m.page_count) + ")");
  }
  bool head_ok = m.freelist_head == 0
                     ? m.freelist_count == 0
                     : (m.freelist_head >= kFirstDataPage && m.freelist_head < m.page_count &&
                        m.freelist_count > 0 && m.freelist_count <= m.page_count - kFirstDataPage);
  if (!head_ok) {
    return Status::Corruption(where + "freelist head " + std::to_string(m.freelist_head) +
                              " with count " + std::to_string(m.freelist_count) +
                              " is inconsistent");
  }
  if (MetaSlotFor(m.checkpoint_seq) != slot) {
    return Status::Corruption(where + "checkpoint sequence " + std::to_string(m.checkpoint_seq) +
                              " belongs in meta page " +
                              std::to_string(MetaSlotFor(m.checkpoint_seq)));
  }
  return m;
}

namespace {

// Meta page 1, read at each candidate page size (`a`'s, or every valid one
// when page 0 is damaged) into `buf`: the first valid one, else the most
// telling failure (*b as the caller set it when none had the meta magic).
// *magic1, false on entry: some candidate had the meta magic.
Status ReadMetaPageB(File* file, const Result<Meta>& a, std::vector<uint8_t>* buf, Result<Meta>* b,
                     bool* magic1) {
  const std::string& name = file->path();
  std::vector<uint32_t> sizes;
  if (a.ok()) {
    sizes.push_back(a->page_size);
  } else {
    for (uint32_t ps = kMinPageSize; ps <= kMaxPageSize; ps *= 2) sizes.push_back(ps);
  }
  for (uint32_t ps : sizes) {
    size_t got1 = 0;
    SOMBRA_RETURN_IF_ERROR(file->ReadAt(ps, ps, reinterpret_cast<char*>(buf->data()), &got1));
    bool has_magic = HasMetaMagic(buf->data(), got1);
    Result<Meta> candidate = DecodeMeta(buf->data(), got1, kMetaPageB, name);
    if (candidate.ok() && candidate->page_size != ps) {
      candidate = Status::Corruption("meta page 1 of " + name + ": page size " +
                                     std::to_string(candidate->page_size) +
                                     " does not match its position " + std::to_string(ps));
    }
    if (candidate.ok()) {
      *b = std::move(candidate);
      break;
    }
    if (has_magic && !*magic1) *b = std::move(candidate);  // the most telling failure
    *magic1 = *magic1 || has_magic;
  }
  return Status::OK();
}

// The newer of the two decoded meta pages, or why there is none.
Status ChooseMeta(const std::string& name, const Result<Meta>& a, const Result<Meta>& b,
                  bool magic0, bool magic1, MetaChoice* choice) {
  if (a.ok() && b.ok() && a->page_size != b->page_size) {
    return Status::Corruption("meta pages of " + name + " disagree on the page size");
  }
  if (a.ok() && b.ok() && a->salt != b->salt) {
    return Status::Corruption("meta pages of " + name + " disagree on the salt");
  }
  if (a.ok() && (!b.ok() || a->checkpoint_seq > b->checkpoint_seq)) {
    choice->meta = *a;
    choice->slot = kMetaPageA;
  } else if (b.ok()) {
    choice->meta = *b;
    choice->slot = kMetaPageB;
  } else if (!magic0 && !magic1) {
    return Status::InvalidArgument("not a Sombra database: " + name);
  } else if (a.status().IsNotSupported()) {
    return a.status();
  } else {
    return Status::Corruption("no valid meta page in " + name + ": " + a.status().message() + "; " +
                              b.status().message());
  }
  return Status::OK();
}

}  // namespace

Result<MetaChoice> ReadNewestMeta(File* file) {
  SOMBRA_ASSIGN_OR_RETURN(uint64_t file_size, file->Size());
  const std::string& name = file->path();
  if (file_size < kMetaEndOffset) {
    return Status::InvalidArgument("not a Sombra database: " + name + " is " +
                                   std::to_string(file_size) + " bytes long");
  }
  // Page 0 starts at offset 0 whatever the page size; page 1 starts at
  // offset page_size, which is taken from page 0 or, when page 0 is damaged,
  // found by trying every valid page size.
  std::vector<uint8_t> buf(kMaxPageSize);
  size_t got0 = 0;
  SOMBRA_RETURN_IF_ERROR(file->ReadAt(0, kMaxPageSize, reinterpret_cast<char*>(buf.data()), &got0));
  MetaChoice choice;
  Result<Meta> a = DecodeMeta(buf.data(), got0, kMetaPageA, name);
  choice.slot_status[0] = a.status();
  bool magic0 = HasMetaMagic(buf.data(), got0);
  Result<Meta> b = Status::Corruption("meta page 1 of " + name + ": bad magic");
  bool magic1 = false;
  SOMBRA_RETURN_IF_ERROR(ReadMetaPageB(file, a, &buf, &b, &magic1));
  choice.slot_status[1] = b.status();
  SOMBRA_RETURN_IF_ERROR(ChooseMeta(name, a, b, magic0, magic1, &choice));
  return choice;
}

}  // namespace sombra::pager
