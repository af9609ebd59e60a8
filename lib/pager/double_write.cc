#include "pager/double_write.h"

#include <algorithm>
#include <cstring>

#include "pager/format.h"
#include "util/coding.h"
#include "util/hash.h"

namespace sombra::pager {
namespace {

constexpr size_t kVersionOffset = 8;
constexpr size_t kPageSizeOffset = 12;
constexpr size_t kSaltOffset = 16;
constexpr size_t kFromLsnOffset = 24;
constexpr size_t kToLsnOffset = 32;
constexpr size_t kCountOffset = 40;
constexpr size_t kCopiesChecksumOffset = 44;
constexpr size_t kReservedOffset = 52;
constexpr size_t kChecksumOffset = 56;
// Images are written this many at a time.
constexpr size_t kRunPages = 64;

uint64_t HeaderChecksum(const uint8_t* fixed, const uint8_t* list, size_t list_bytes) {
  return Hash64Pair(fixed, kChecksumOffset, list, list_bytes, 0);
}

// The copies checksum chained over `count` copies in `run`, from `seed`.
uint64_t ChainCopies(const uint8_t* run, size_t count, uint32_t page_size, uint64_t seed) {
  for (size_t j = 0; j < count; ++j) seed = Hash64(run + j * page_size, page_size, seed);
  return seed;
}

}  // namespace

uint64_t DwbImagesOffset(uint32_t page_size, size_t page_count) {
  const uint64_t head = kDwbHeaderSize + 4 * uint64_t{page_count};
  return (head + page_size - 1) / page_size * page_size;
}

Status WriteDoubleWrite(File* file, const DwbHeader& header,
                        const std::function<Status(size_t i, uint8_t* out)>& fill, bool sync) {
  const uint32_t ps = header.page_size;
  const size_t n = header.pages.size();
  const uint64_t images = DwbImagesOffset(ps, n);
  // The copies first, chaining their checksum; the header, which names
  // that checksum, last: a batch cut short anywhere fails its check.
  std::vector<uint8_t> run(std::min(n, kRunPages) * ps);
  uint64_t copies = 0;
  for (size_t first = 0; first < n; first += kRunPages) {
    const size_t count = std::min(kRunPages, n - first);
    for (size_t j = 0; j < count; ++j) SOMBRA_RETURN_IF_ERROR(fill(first + j, run.data() + j * ps));
    copies = ChainCopies(run.data(), count, ps, copies);
    SOMBRA_RETURN_IF_ERROR(file->WriteAt(
        images + uint64_t{first} * ps,
        std::string_view(reinterpret_cast<const char*>(run.data()), count * size_t{ps})));
  }
  std::vector<uint8_t> head(images, 0);
  std::memcpy(head.data(), kDwbMagic, sizeof(kDwbMagic));
  EncodeFixed32(head.data() + kVersionOffset, kDwbFormatVersion);
  EncodeFixed32(head.data() + kPageSizeOffset, ps);
  EncodeFixed64(head.data() + kSaltOffset, header.db_salt);
  EncodeFixed64(head.data() + kFromLsnOffset, header.from_lsn);
  EncodeFixed64(head.data() + kToLsnOffset, header.to_lsn);
  EncodeFixed32(head.data() + kCountOffset, static_cast<uint32_t>(n));
  EncodeFixed64(head.data() + kCopiesChecksumOffset, copies);
  for (size_t i = 0; i < n; ++i)
    EncodeFixed32(head.data() + kDwbHeaderSize + 4 * i, header.pages[i]);
  EncodeFixed64(head.data() + kChecksumOffset,
                HeaderChecksum(head.data(), head.data() + kDwbHeaderSize, 4 * n));
  SOMBRA_RETURN_IF_ERROR(
      file->WriteAt(0, std::string_view(reinterpret_cast<const char*>(head.data()), head.size())));
  if (sync) SOMBRA_RETURN_IF_ERROR(file->Sync());
  return Status::OK();
}

Result<std::unique_ptr<DoubleWriteBatch>> DoubleWriteBatch::Open(Env* env, const std::string& path,
                                                                 uint32_t page_size,
                                                                 uint64_t db_salt) {
  SOMBRA_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->OpenFile(path, OpenMode::kReadOnly));
  SOMBRA_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  auto bad = [&](const std::string& why) {
    return Status::Corruption("double-write file " + path + ": " + why);
  };
  if (size < kDwbHeaderSize) return bad("shorter than its header");
  uint8_t fixed[kDwbHeaderSize];
  size_t got = 0;
  SOMBRA_RETURN_IF_ERROR(file->ReadAt(0, kDwbHeaderSize, reinterpret_cast<char*>(fixed), &got));
  if (got != kDwbHeaderSize) return bad("shorter than its header");
  if (std::memcmp(fixed, kDwbMagic, sizeof(kDwbMagic)) != 0) return bad("bad magic");
  if (DecodeFixed32(fixed + kVersionOffset) != kDwbFormatVersion) {
    return bad("format version " + std::to_string(DecodeFixed32(fixed + kVersionOffset)) +
               " (this build reads version " + std::to_string(kDwbFormatVersion) + ")");
  }
  const uint32_t n = DecodeFixed32(fixed + kCountOffset);
  if (kDwbHeaderSize + 4 * uint64_t{n} > size)
    return bad("the page list passes the end of the file");
  std::vector<uint8_t> list(4 * size_t{n});
  SOMBRA_RETURN_IF_ERROR(
      file->ReadAt(kDwbHeaderSize, list.size(), reinterpret_cast<char*>(list.data()), &got));
  if (got != list.size()) return bad("the page list passes the end of the file");
  if (DecodeFixed64(fixed + kChecksumOffset) != HeaderChecksum(fixed, list.data(), list.size())) {
    return bad("header checksum mismatch");
  }
  auto batch = std::unique_ptr<DoubleWriteBatch>(new DoubleWriteBatch());
  DwbHeader& h = batch->header_;
  h.page_size = DecodeFixed32(fixed + kPageSizeOffset);
  h.db_salt = DecodeFixed64(fixed + kSaltOffset);
  h.from_lsn = DecodeFixed64(fixed + kFromLsnOffset);
  h.to_lsn = DecodeFixed64(fixed + kToLsnOffset);
  batch->copies_checksum_ = DecodeFixed64(fixed + kCopiesChecksumOffset);
  for (size_t i = kReservedOffset; i < kChecksumOffset; ++i) {
    if (fixed[i] != 0) return bad("reserved header bytes are not zero");
  }
  if (h.page_size != page_size || h.db_salt != db_salt) {
    return bad("written for another database (page size or salt differ)");
  }
  if (h.from_lsn >= h.to_lsn) return bad("LSNs out of order");
  h.pages.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    h.pages[i] = DecodeFixed32(list.data() + 4 * size_t{i});
    if (h.pages[i] < 2 || !batch->index_.emplace(h.pages[i], i).second) {
      return bad("page list entry " + std::to_string(i) + " names page " +
                 std::to_string(h.pages[i]) + " (a meta page or listed twice)");
    }
  }
  batch->file_ = std::move(file);
  return batch;
}

Status DoubleWriteBatch::CheckCopies() const {
  const uint32_t ps = header_.page_size;
  const size_t n = header_.pages.size();
  const uint64_t images = DwbImagesOffset(ps, n);
  std::vector<uint8_t> run(std::min(n, kRunPages) * ps);
  uint64_t copies = 0;
  for (size_t first = 0; first < n; first += kRunPages) {
    const size_t count = std::min(kRunPages, n - first);
    size_t got = 0;
    SOMBRA_RETURN_IF_ERROR(file_->ReadAt(images + uint64_t{first} * ps, count * size_t{ps},
                                         reinterpret_cast<char*>(run.data()), &got));
    if (got != count * size_t{ps}) {
      return Status::Corruption("double-write file " + file_->path() +
                                ": the copies pass the end of the file");
    }
    copies = ChainCopies(run.data(), count, ps, copies);
  }
  if (copies != copies_checksum_) {
    return Status::Corruption("double-write file " + file_->path() +
                              ": the copies do not match the header's checksum of them");
  }
  return Status::OK();
}

bool DoubleWriteBatch::Read(uint32_t page_no, uint8_t* out) const {
  auto it = index_.find(page_no);
  if (it == index_.end()) return false;
  const uint32_t ps = header_.page_size;
  const uint64_t at = DwbImagesOffset(ps, header_.pages.size()) + uint64_t{it->second} * ps;
  size_t got = 0;
  return file_->ReadAt(at, ps, reinterpret_cast<char*>(out), &got).ok() && got == ps;
}

bool DoubleWriteBatch::ReadAtLsn(uint32_t page_no, uint64_t lsn, const std::string& db_path,
                                 uint8_t* out) const {
  return Read(page_no, out) &&
         VerifyPage(out, header_.page_size, page_no, header_.db_salt, db_path).ok() &&
         DecodeFixed64(out + kHeaderLsnOffset) == lsn;
}

}  // namespace sombra::pager
