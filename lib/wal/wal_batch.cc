#include "wal/wal_batch.h"

#include <cstring>
#include <system_error>

#include "env/prefault.h"
#include "util/coding.h"
#include "util/compress.h"
#include "wal/wal_page_ops.h"

namespace sombra::wal {

BatchBuilder::BatchBuilder(uint32_t page_size, bool compress)
    : page_size_(page_size), compress_(compress) {}

BatchBuilder::~BatchBuilder() { WaitPrecompressed(); }

void BatchBuilder::PrecompressImages(std::span<const uint8_t* const> pages) {
  WaitPrecompressed();
  if (!compress_ || pages.size() < kParallelImages) return;
  const size_t bound = LZ4CompressBound(page_size_);
  const size_t need = (pages.size() - pages.size() / 2) * bound;
  if (need > side_capacity_) {
    side_.reset(new char[need]);  // not zeroed: every block is written before it is read
    side_capacity_ = need;
    if (need > kPrefaultBytes) (void)PrefaultForWrite(side_.get(), need);
  }
  pre_.reserve(pages.size());
  for (const uint8_t* page : pages) pre_.push_back(PreImage{page, 0, 0});
  try {
    helper_ = std::thread([this] { CompressHelperHalf(); });
  } catch (const std::system_error&) {
    pre_.clear();  // no thread: every image is compressed inline
  }
}

void BatchBuilder::CompressHelperHalf() {
  const size_t bound = LZ4CompressBound(page_size_);
  size_t at = 0;
  for (size_t i = HelperFirst(); i < pre_.size(); ++i) {
    PreImage& p = pre_[i];
    const size_t n =
        LZ4CompressTo(std::string_view(reinterpret_cast<const char*>(p.page), page_size_),
                      side_.get() + at, bound);
    if (StoredCompressed(n)) {
      p.offset = at;
      p.size = n;
      at += n;
    }
  }
}

void BatchBuilder::WaitPrecompressed() {
  if (helper_.joinable()) helper_.join();
  pre_.clear();
  pre_next_ = 0;
}

void BatchBuilder::TakePlanned(const uint8_t* page, const PreImage** pre) {
  *pre = nullptr;
  if (pre_next_ >= pre_.size()) return;
  if (pre_[pre_next_].page != page) {
    WaitPrecompressed();  // the caller left the plan
    return;
  }
  if (pre_next_ >= HelperFirst()) {
    if (helper_.joinable()) helper_.join();
    *pre = &pre_[pre_next_];
  }
  ++pre_next_;
}

void BatchBuilder::ReserveForPages(size_t pages) {
  const size_t had = buf_.capacity();
  buf_.reserve(buf_.size() + pages * (kRecordHeaderSize + kImageFixedSize + page_size_) +
               kRecordHeaderSize + kCommitPayloadSizeTrees);
  // Only new memory: room reused from earlier batches is mapped already.
  if (buf_.capacity() > had && buf_.capacity() - buf_.size() > kPrefaultBytes) {
    (void)PrefaultForWrite(buf_.data() + buf_.size(), buf_.capacity() - buf_.size());
  }
}

void BatchBuilder::Reset(uint64_t prev_checksum) {
  WaitPrecompressed();
  buf_.clear();
  group_.Clear();
  last_checksum_ = prev_checksum;
  stats_ = BatchStats{};
  txn_records_ = 0;
  txn_lsn_ = 0;
  last_commit_lsn_ = 0;
}

Status BatchBuilder::CheckTxnLsn(uint64_t lsn, const char* what) const {
  uint64_t expected = 0;
  if (!group_.empty()) {
    expected = group_lsn_;
  } else if (txn_records_ > 0) {
    expected = txn_lsn_;
  } else if (last_commit_lsn_ != 0) {
    expected = last_commit_lsn_ + 1;
  }
  if (expected != 0 && lsn != expected) {
    return Status::InvalidArgument(std::string(what) + " carries LSN " + std::to_string(lsn) +
                                   ", expected " + std::to_string(expected) +
                                   " (the LSN of the transaction being built)");
  }
  return Status::OK();
}

size_t BatchBuilder::BeginRecord(RecordType type, uint8_t flags, size_t payload_size) {
  const size_t start = buf_.size();
  uint8_t header[kRecordHeaderSize];
  RecordHeader h;
  h.type = static_cast<uint8_t>(type);
  h.flags = flags;
  h.length = static_cast<uint32_t>(payload_size);
  EncodeRecordHeader(h, header);
  buf_.append(reinterpret_cast<const char*>(header), kRecordHeaderSize);
  return start;
}

void BatchBuilder::SealRecord(size_t start) {
  auto* rec = reinterpret_cast<uint8_t*>(buf_.data()) + start;
  const size_t length = buf_.size() - start - kRecordHeaderSize;
  last_checksum_ = RecordChecksum(rec, rec + kRecordHeaderSize, length, last_checksum_);
  EncodeFixed64(rec + kRecordChecksumOffset, last_checksum_);
  ++stats_.records;
}

void BatchBuilder::FlushGroup() {
  if (group_.empty()) return;
  const size_t start = BeginRecord(RecordType::kOpsGroup, 0, 0);
  uint8_t flags = 0;
  stats_.compressed_bytes_saved += group_.AppendPayload(group_lsn_, compress_, &buf_, &flags);
  // The header was written before the payload's size and flags were known.
  auto* rec = reinterpret_cast<uint8_t*>(buf_.data()) + start;
  rec[kRecordFlagsOffset] = flags;
  EncodeFixed32(rec + kRecordLengthOffset,
                static_cast<uint32_t>(buf_.size() - start - kRecordHeaderSize));
  SealRecord(start);
  ++stats_.group_records;
  txn_lsn_ = group_lsn_;
  ++txn_records_;
  group_.Clear();
}

Status BatchBuilder::AddPageImage(uint32_t page_no, uint64_t page_lsn, const uint8_t* page) {
  if (page_no < kFirstLoggedPage || page_lsn == 0) {
    return Status::InvalidArgument("page image of page " + std::to_string(page_no) + " with LSN " +
                                   std::to_string(page_lsn) + ": page must be >= 2 and LSN >= 1");
  }
  SOMBRA_RETURN_IF_ERROR(CheckTxnLsn(page_lsn, "page image"));
  if (group_.Holds(page_no)) FlushGroup();
  const std::string_view raw(reinterpret_cast<const char*>(page), page_size_);
  const PreImage* pre;
  TakePlanned(page, &pre);
  bool compressed = false;
  std::string_view stored = raw;
  if (pre != nullptr) {
    compressed = pre->size != 0;
    if (compressed) stored = std::string_view(side_.get() + pre->offset, pre->size);
  } else if (compress_) {
    LZ4Compress(raw, &lz4_);
    compressed = StoredCompressed(lz4_.size());
    if (compressed) stored = lz4_;
  }
  const size_t start = BeginRecord(RecordType::kPageImage, compressed ? kFlagCompressed : 0,
                                   kImageFixedSize + stored.size());
  uint8_t fixed[kImageFixedSize];
  EncodeFixed32(fixed, page_no);
  EncodeFixed64(fixed + 4, page_lsn);
  buf_.append(reinterpret_cast<const char*>(fixed), kImageFixedSize);
  buf_.append(stored);
  SealRecord(start);
  ++stats_.image_records;
  if (compressed) stats_.compressed_bytes_saved += page_size_ - stored.size();
  txn_lsn_ = page_lsn;
  ++txn_records_;
  return Status::OK();
}

namespace {

// The page number and LSN step of a delta or page-ops record (`kind`).
Status CheckPageChange(const char* kind, uint32_t page_no, uint64_t base_lsn, uint64_t new_lsn) {
  if (page_no >= kFirstLoggedPage && base_lsn < new_lsn) return Status::OK();
  return Status::InvalidArgument(std::string(kind) + " of page " + std::to_string(page_no) +
                                 " from LSN " + std::to_string(base_lsn) + " to " +
                                 std::to_string(new_lsn) +
                                 ": page must be >= 2 and base LSN < new LSN");
}

// The 20 fixed bytes both records start with: page number, base LSN, new LSN.
void EncodePageChange(uint32_t page_no, uint64_t base_lsn, uint64_t new_lsn, uint8_t* out) {
  EncodeFixed32(out, page_no);
  EncodeFixed64(out + 4, base_lsn);
  EncodeFixed64(out + 12, new_lsn);
}

}  // namespace

Status BatchBuilder::AddPageDelta(uint32_t page_no, uint64_t base_lsn, uint64_t new_lsn,
                                  std::span<const DeltaRange> ranges) {
  std::string why;
  SOMBRA_RETURN_IF_ERROR(CheckPageChange("page delta", page_no, base_lsn, new_lsn));
  if (!CheckDeltaRanges(ranges, page_size_, &why)) {
    return Status::InvalidArgument("page delta of page " + std::to_string(page_no) + ": " + why);
  }
  SOMBRA_RETURN_IF_ERROR(CheckTxnLsn(new_lsn, "page delta"));
  if (group_.Holds(page_no)) FlushGroup();
  size_t payload = kDeltaFixedSize + VarintLength(ranges.size());
  for (const DeltaRange& r : ranges) {
    payload += VarintLength(r.offset) + VarintLength(r.bytes.size()) + r.bytes.size();
  }
  const size_t start = BeginRecord(RecordType::kPageDelta, 0, payload);
  uint8_t scratch[kDeltaFixedSize + kMaxVarint32Bytes];
  EncodePageChange(page_no, base_lsn, new_lsn, scratch);
  uint8_t* end = EncodeVarint32(scratch + kDeltaFixedSize, static_cast<uint32_t>(ranges.size()));
  buf_.append(reinterpret_cast<const char*>(scratch), static_cast<size_t>(end - scratch));
  for (const DeltaRange& r : ranges) {
    end = EncodeVarint32(scratch, r.offset);
    end = EncodeVarint32(end, static_cast<uint32_t>(r.bytes.size()));
    buf_.append(reinterpret_cast<const char*>(scratch), static_cast<size_t>(end - scratch));
    buf_.append(r.bytes);
  }
  SealRecord(start);
  ++stats_.delta_records;
  txn_lsn_ = new_lsn;
  ++txn_records_;
  return Status::OK();
}

Status BatchBuilder::AddPageOps(uint32_t page_no, uint64_t base_lsn, uint64_t new_lsn,
                                std::string_view ops) {
  std::string why;
  SOMBRA_RETURN_IF_ERROR(CheckPageChange("page ops", page_no, base_lsn, new_lsn));
  size_t copies = 0;
  if (!CheckPageOps(ops, page_size_, AllowsCopies(log_version_), page_no, &why, &copies) ||
      kOpsFixedSize + ops.size() > MaxOpsPayload(page_size_)) {
    if (why.empty()) why = std::to_string(ops.size()) + " bytes of ops exceed the record bound";
    return Status::InvalidArgument("page ops of page " + std::to_string(page_no) + ": " + why);
  }
  SOMBRA_RETURN_IF_ERROR(CheckTxnLsn(new_lsn, "page ops"));
  if (AllowsOpsGroups(log_version_)) {
    if (!group_.Fits(page_no, ops.size())) FlushGroup();
    group_.Add(page_no, new_lsn - base_lsn, ops);
    group_lsn_ = new_lsn;
    ++stats_.ops_records;
    stats_.copy_ops += copies;
    return Status::OK();
  }
  const size_t start = BeginRecord(RecordType::kPageOps, 0, kOpsFixedSize + ops.size());
  uint8_t fixed[kOpsFixedSize];
  EncodePageChange(page_no, base_lsn, new_lsn, fixed);
  buf_.append(reinterpret_cast<const char*>(fixed), kOpsFixedSize);
  buf_.append(ops);
  SealRecord(start);
  ++stats_.ops_records;
  txn_lsn_ = new_lsn;
  ++txn_records_;
  return Status::OK();
}

Status BatchBuilder::AddCommit(const CommitInfo& info) {
  CommitInfo c = info;
  std::string why;
  if (!CheckCommitInfo(c, &why)) return Status::InvalidArgument("commit record: " + why);
  SOMBRA_RETURN_IF_ERROR(CheckTxnLsn(c.lsn, "commit record"));
  if (c.catalog_root != 0 && !HasCatalogRoot(log_version_)) {
    return Status::InvalidArgument("commit record: a log of format version " +
                                   std::to_string(log_version_) +
                                   " cannot carry named trees (formats 6 to 13 can)");
  }
  FlushGroup();
  c.record_count = txn_records_;
  const size_t size = CommitPayloadSize(log_version_);
  const size_t start = BeginRecord(RecordType::kCommit, 0, size);
  uint8_t payload[kCommitPayloadSizeTrees];
  EncodeCommitPayload(c, payload, log_version_);
  buf_.append(reinterpret_cast<const char*>(payload), size);
  SealRecord(start);
  ++stats_.commit_records;
  txn_records_ = 0;
  txn_lsn_ = 0;
  last_commit_lsn_ = c.lsn;
  return Status::OK();
}

}  // namespace sombra::wal
