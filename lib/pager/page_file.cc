#include "pager/page_file.h"

#include <algorithm>
#include <cstring>

#include "util/coding.h"
#include "wal/wal_format.h"

namespace sombra::pager {
namespace {

constexpr uint64_t kMinGrowBytes = 1 << 20;   // 1 MiB
constexpr uint64_t kMaxGrowBytes = 64 << 20;  // 64 MiB
// True when the log beside the page file holds bytes past its header: a
// record header after the header (64 or 128 bytes, by the version field;
// 128 when that is damaged) that is not all zero. A log that was never
// written, or was trimmed at a clean close, has none.
bool LogHasRecords(Env* env, const std::string& wal_path, uint64_t* wal_size) {
  *wal_size = 0;
  if (!env->FileExists(wal_path)) return false;
  auto log = env->OpenFile(wal_path, OpenMode::kReadOnly);
  if (!log.ok()) return false;
  auto size = (*log)->Size();
  if (!size.ok() || *size < wal::kWalHeaderSizeV1 + wal::kRecordHeaderSize) return false;
  *wal_size = *size;
  char version[4];
  size_t got = 0;
  if (!(*log)->ReadAt(wal::kWalVersionOffset, sizeof(version), version, &got).ok() ||
      got != sizeof(version)) {
    return true;
  }
  size_t first = wal::WalHeaderSize(DecodeFixed32(reinterpret_cast<const uint8_t*>(version)));
  if (first == 0) first = wal::kWalHeaderSize;
  char head[wal::kRecordHeaderSize];
  if (*size < first + sizeof(head)) return false;
  if (!(*log)->ReadAt(first, sizeof(head), head, &got).ok() || got != sizeof(head)) return true;
  for (char c : head) {
    if (c != 0) return true;
  }
  return false;
}

// Corruption for a page file that is missing, empty or too short beside a
// log with records: creating a database there would throw the log away.
Status RefuseBesideLog(const std::string& path, const std::string& what, uint64_t wal_size) {
  return Status::Corruption("page file " + path + " " + what + ", but its log " + path +
                            "-wal holds records (" + std::to_string(wal_size) +
                            " bytes): refusing to create a new database over them (restore the "
                            "page file, or move the log away to start afresh)");
}

// The checks that depend on whether the page file exists, which they set
// in *exists: a log with records beside a missing file, error_if_exists,
// NotFound.
Status CheckExistence(Env* env, const std::string& path, const Options& options, bool* exists) {
  *exists = env->FileExists(path);
  uint64_t wal_size = 0;
  if (!*exists && LogHasRecords(env, path + "-wal", &wal_size)) {
    return RefuseBesideLog(path, "is missing", wal_size);
  }
  if (*exists && options.error_if_exists) {
    return Status::InvalidArgument("database already exists: " + path);
  }
  if (!*exists && (options.read_only || !options.create_if_missing)) {
    return Status::NotFound("database does not exist: " + path);
  }
  return Status::OK();
}

}  // namespace

PageFile::PageFile(Env* env, std::string path, const Options& options, MetricsRegistry* metrics)
    : env_(env),
      path_(std::move(path)),
      read_only_(options.read_only),
      verify_checksums_(options.verify_checksums),
      metrics_(metrics) {
  pages_read_ = metrics_->GetCounter("pager_file_pages_read");
  pages_written_ = metrics_->GetCounter("pager_file_pages_written");
  file_grows_ = metrics_->GetCounter("pager_file_grows");
  checksum_failures_ = metrics_->GetCounter("pager_checksum_failures");
  meta_writes_ = metrics_->GetCounter("pager_meta_writes");
}

PageFile::~PageFile() = default;

Result<std::unique_ptr<PageFile>> PageFile::Open(Env* env, const std::string& path,
                                                 const Options& options, MetricsRegistry* metrics) {
  if (!IsValidPageSize(options.page_size)) {
    return Status::InvalidArgument("page size " + std::to_string(options.page_size) +
                                   " is not a power of two from 4096 to 65536");
  }
  if (env->IsDirectory(path)) {
    return Status::InvalidArgument("is a directory, not a database: " + path);
  }
  bool exists = false;
  SOMBRA_RETURN_IF_ERROR(CheckExistence(env, path, options, &exists));

  std::unique_ptr<PageFile> pager(new PageFile(env, path, options, metrics));
  if (!options.read_only) {
    SOMBRA_ASSIGN_OR_RETURN(pager->lock_, env->LockDatabase(path, options.busy_timeout_ms));
    // Again under the lock: while this open waited for it (busy_timeout_ms)
    // the writer that held it may have created the database, which must be
    // opened now, never created over.
    SOMBRA_RETURN_IF_ERROR(CheckExistence(env, path, options, &exists));
  }
  uint64_t wal_size = 0;
  if (!exists) {
    SOMBRA_RETURN_IF_ERROR(pager->Create(options));
  } else {
    SOMBRA_ASSIGN_OR_RETURN(
        pager->file_,
        env->OpenFile(path, options.read_only ? OpenMode::kReadOnly : OpenMode::kReadWrite));
    SOMBRA_ASSIGN_OR_RETURN(uint64_t size, pager->file_->Size());
    if (size < 2 * uint64_t{kMinPageSize} && LogHasRecords(env, path + "-wal", &wal_size)) {
      return RefuseBesideLog(path, "is truncated to " + std::to_string(size) + " bytes", wal_size);
    }
    if (size == 0 && !options.read_only) {
      // An empty file is a database whose creation never wrote its metas.
      SOMBRA_RETURN_IF_ERROR(pager->Create(options));
    }
  }
  SOMBRA_RETURN_IF_ERROR(pager->Load());
  return pager;
}

Status PageFile::Create(const Options& options) {
  if (file_ == nullptr) {
    SOMBRA_ASSIGN_OR_RETURN(file_, env_->OpenFile(path_, OpenMode::kCreate));
  }
  Meta meta;
  meta.page_size = options.page_size;
  meta.salt = NewSalt();
  meta.page_count = kFirstDataPage;
  scratch_.assign(meta.page_size, 0);
  // Both meta pages valid from the start: sequence 0 in page 0, 1 in page 1.
  for (uint64_t seq = 0; seq < 2; ++seq) {
    meta.checkpoint_seq = seq;
    SOMBRA_RETURN_IF_ERROR(WriteMeta(meta));
  }
  SOMBRA_RETURN_IF_ERROR(file_->Sync());
  return env_->SyncDir(DirName(path_));
}

Status PageFile::Load() {
  // Read-only beside a writer in another process: a checkpoint after a
  // compaction may shrink the file between the reading of the meta pages
  // and the map (docs/design/readers.md). The meta page that names the
  // smaller file is then in force: read again.
  for (int attempt = 0;; ++attempt) {
    Status s = LoadOnce();
    if (s.ok() || !read_only_ || attempt >= 50 || !NewerMetaInFile()) return s;
  }
}

Status PageFile::LoadOnce() {
  SOMBRA_ASSIGN_OR_RETURN(MetaChoice choice, ReadNewestMeta(file_.get()));
  meta_ = choice.meta;
  other_meta_status_ = choice.slot_status[1 - choice.slot];
  page_size_ = meta_.page_size;
  salt_ = meta_.salt;
  scratch_.assign(meta_.page_size, 0);
  SOMBRA_ASSIGN_OR_RETURN(file_size_, file_->Size());
  const uint64_t needed = meta_.page_count * meta_.page_size;
  if (file_size_ < needed) {
    uint64_t wal_size = 0;
    const std::string beside = LogHasRecords(env_, path_ + "-wal", &wal_size)
                                   ? " (its log " + path_ + "-wal, " + std::to_string(wal_size) +
                                         " bytes, is left untouched)"
                                   : "";
    return Status::Corruption("file " + path_ + " is truncated: " + std::to_string(file_size_) +
                              " bytes, but meta page " + std::to_string(choice.slot) + " counts " +
                              std::to_string(meta_.page_count) + " pages of " +
                              std::to_string(meta_.page_size) + " bytes" + beside);
  }
  return MapFile(needed);
}

Status PageFile::MapFile(uint64_t needed) {
  // Read-only beside a writer in another process: its clean close shrinks
  // the file to its page count (TrimToPageCount), possibly between the
  // size read above and the map: the pages the meta counts are all a
  // reader maps; FollowGrowth maps more. (A checkpoint after a compaction
  // may shrink it below that count: Load reads the newer meta then.)
  SOMBRA_ASSIGN_OR_RETURN(map_, FileMap::Open(env_, path_, read_only_ ? needed : file_size_));
  return Status::OK();
}

Status PageFile::CheckWritable(const char* op) const {
  if (read_only_) {
    return Status::NotSupported(std::string(op) + ": database opened read-only: " + path_);
  }
  return Status::OK();
}

Status PageFile::ReadUnmapped(uint64_t page_no, uint8_t* out) const {
  std::memset(out, 0, page_size_);
  size_t got = 0;
  return file_->ReadAt(page_no * page_size_, page_size_, reinterpret_cast<char*>(out), &got);
}

Result<const uint8_t*> PageFile::ReadPage(const MappedRegion& region, uint32_t page_no) const {
  const uint32_t ps = page_size_;
  const uint64_t offset = static_cast<uint64_t>(page_no) * ps;
  if (offset + ps > region.size()) {
    return Status::InvalidArgument("page " + std::to_string(page_no) + " of " + path_ +
                                   " is past the end of the mapped file");
  }
  const uint8_t* page = region.data() + offset;
  if (verify_checksums_ && !verified_.Test(page_no)) {
    pages_read_->Add();
    Status s = VerifyPage(page, ps, page_no, salt_, path_);
    if (!s.ok()) {
      checksum_failures_->Add();
      return s;
    }
    if (!read_only_ || trust_verified_) verified_.Set(page_no);
  }
  return page;
}

Status PageFile::ReloadMeta() {
  SOMBRA_ASSIGN_OR_RETURN(MetaChoice choice, ReadNewestMeta(file_.get()));
  if (choice.meta.salt != salt_ || choice.meta.page_size != page_size_) {
    return Status::Corruption("database " + path_ + " was replaced while it was open read-only");
  }
  meta_ = choice.meta;
  other_meta_status_ = choice.slot_status[1 - choice.slot];
  return Status::OK();
}

bool PageFile::NewerMetaInFile() const {
  // A checkpoint writes its meta page before it restarts the log, so a
  // reader that saw the restarted log reads that meta page whole (a torn
  // read is of a yet newer one, in the other slot).
  Result<MetaChoice> now = ReadNewestMeta(file_.get());
  return now.ok() && now->meta.checkpoint_seq > meta_.checkpoint_seq;
}

Status PageFile::FollowGrowth(uint64_t page_count) {
  const uint64_t needed = page_count * page_size_;
  if (needed <= map_->size()) return Status::OK();
  // As far as the file extends, so that the map follows the writer's
  // growth steps rather than each page; but the writer's clean close may
  // shrink the file to its page count (never below `needed`) between the
  // size read and the map, which then covers `needed` only.
  SOMBRA_ASSIGN_OR_RETURN(uint64_t size, file_->Size());
  size -= size % page_size_;
  Status s = map_->Grow(std::max(size, needed));
  if (!s.ok() && size > needed) s = map_->Grow(needed);
  if (s.ok()) file_size_ = map_->size();
  return s;
}

Status PageFile::EnsureCapacity(uint64_t page_count) {
  const uint64_t ps = meta_.page_size;
  const uint64_t needed = page_count * ps;
  if (needed <= file_size_) return Status::OK();
  uint64_t step = std::clamp(file_size_ / 4, kMinGrowBytes, kMaxGrowBytes);
  uint64_t new_size = std::max(needed, file_size_ + step);
  new_size = (new_size + ps - 1) / ps * ps;
  // Extend the file first, then the map: no mapped byte a reader may read
  // is ever past EOF. After a shrink (TrimTail) the map may already cover
  // the new size: the file extends under it again.
  SOMBRA_RETURN_IF_ERROR(file_->Truncate(new_size));
  if (new_size > map_->current()->size()) SOMBRA_RETURN_IF_ERROR(map_->Grow(new_size));
  file_size_ = new_size;
  file_grows_->Add();
  return Status::OK();
}

Status PageFile::WriteMeta(const Meta& meta) {
  EncodeMeta(meta, scratch_.data());
  const uint64_t offset = static_cast<uint64_t>(MetaSlotFor(meta.checkpoint_seq)) * meta.page_size;
  return file_->WriteAt(
      offset, std::string_view(reinterpret_cast<const char*>(scratch_.data()), meta.page_size));
}

Status PageFile::WritePage(uint32_t page_no, const uint8_t* image) {
  SOMBRA_RETURN_IF_ERROR(CheckWritable("write page"));
  const uint32_t ps = meta_.page_size;
  if (page_no < kFirstDataPage || uint64_t{page_no} + 1 > capacity_pages()) {
    return Status::InvalidArgument("cannot write page " + std::to_string(page_no) + " of " + path_ +
                                   ": outside the file");
  }
  std::copy(image, image + ps, scratch_.begin());
  uint8_t* page = scratch_.data();
  page[kHeaderFlagsOffset] &= AllowedHeaderFlags(page[kHeaderKindOffset]);
  EncodeFixed16(page + kHeaderReservedOffset, 0);
  EncodeFixed32(page + kHeaderPageNoOffset, page_no);
  SealPage(page, ps, meta_.salt);
  verified_.Clear(page_no);
  SOMBRA_RETURN_IF_ERROR(file_->WriteAt(uint64_t{page_no} * ps,
                                        std::string_view(reinterpret_cast<const char*>(page), ps)));
  pages_written_->Add();
  return Status::OK();
}

Status PageFile::TrimToPageCount() {
  SOMBRA_RETURN_IF_ERROR(CheckWritable("trim"));
  const uint64_t size = meta_.page_count * meta_.page_size;
  if (size >= file_size_) return Status::OK();
  SOMBRA_RETURN_IF_ERROR(file_->Truncate(size));
  // The pages cut off read as zeros if the file grows again: none of them
  // is verified any more.
  for (uint64_t p = meta_.page_count; p < file_size_ / meta_.page_size; ++p) {
    verified_.Clear(static_cast<uint32_t>(p));
  }
  file_size_ = size;
  return Status::OK();
}

bool PageFile::TailWorthTrimming() const {
  const uint64_t used = meta_.page_count * meta_.page_size;
  if (used >= file_size_) return false;
  // More room past the page count than the file would grow by in one step
  // (EnsureCapacity): a growing file never has that much, a shrunk one
  // does.
  return file_size_ - used > std::clamp(used / 4, kMinGrowBytes, kMaxGrowBytes);
}

Status PageFile::SyncData() {
  SOMBRA_RETURN_IF_ERROR(CheckWritable("sync"));
  return file_->Sync();
}

bool PageFile::CanRestoreMeta(const Meta& copy) const {
  return !other_meta_status_.ok() && copy.checkpoint_seq > meta_.checkpoint_seq &&
         MetaSlotFor(copy.checkpoint_seq) != MetaSlotFor(meta_.checkpoint_seq) &&
         copy.page_count * meta_.page_size <= file_size_;
}

Status PageFile::RestoreMeta(Meta copy) {
  SOMBRA_RETURN_IF_ERROR(CheckWritable("restore meta"));
  copy.page_size = meta_.page_size;
  copy.salt = meta_.salt;
  if (!CanRestoreMeta(copy)) {
    return Status::InvalidArgument("meta copy of sequence " + std::to_string(copy.checkpoint_seq) +
                                   " does not replace a damaged meta page of " + path_);
  }
  SOMBRA_RETURN_IF_ERROR(WriteMeta(copy));
  SOMBRA_RETURN_IF_ERROR(file_->Sync());
  meta_ = copy;
  other_meta_status_ = Status::OK();
  meta_writes_->Add();
  return Status::OK();
}

Status PageFile::PublishMeta(Meta next) {
  SOMBRA_RETURN_IF_ERROR(CheckWritable("write meta"));
  next.page_size = meta_.page_size;
  next.salt = meta_.salt;
  next.checkpoint_seq = meta_.checkpoint_seq + 1;
  SOMBRA_RETURN_IF_ERROR(WriteMeta(next));
  SOMBRA_RETURN_IF_ERROR(file_->Sync());
  meta_ = next;
  meta_writes_->Add();
  return Status::OK();
}

}  // namespace sombra::pager
