#include "wal/wal_reader.h"

#include <algorithm>
#include <cstring>

#include "util/coding.h"

namespace sombra::wal {

WalReader::WalReader(File* file) : file_(file) {}

Status WalReader::ReadRawHeader(uint8_t* raw, size_t* got) {
  *got = static_cast<size_t>(std::min<uint64_t>(file_size_, kWalHeaderSize));
  std::memset(raw, 0, kWalHeaderSize);
  return file_->ReadExactly(0, *got, reinterpret_cast<char*>(raw));
}

// The layout a damaged header is read with: the version its field names
// when that is a known one, else the format this build writes (the
// length of a commit record depends on it).
WalHeader WalReader::StoredFields(const uint8_t* raw) {
  WalHeader h;
  const uint32_t stored = DecodeFixed32(raw + kWalVersionOffset);
  h.version = WalHeaderSize(stored) != 0 ? stored : kWalFormatVersionCopies;
  h.page_size = DecodeFixed32(raw + kWalPageSizeOffset);
  h.salt = DecodeFixed64(raw + kWalSaltOffset);
  h.generation = DecodeFixed64(raw + kWalGenerationOffset);
  h.db_salt = DecodeFixed64(raw + kWalDbSaltOffset);
  h.start_lsn = DecodeFixed64(raw + kWalStartLsnOffset);
  return h;
}

Status WalReader::Open() {
  SOMBRA_ASSIGN_OR_RETURN(file_size_, file_->Size());
  if (file_size_ < kWalHeaderSizeV1) {
    return Status::NotFound("empty log: " + file_->path() + " is " + std::to_string(file_size_) +
                            " bytes, shorter than the smallest WAL header (64 bytes)");
  }
  uint8_t raw[kWalHeaderSize];
  size_t got = 0;
  SOMBRA_RETURN_IF_ERROR(ReadRawHeader(raw, &got));
  Result<WalHeader> header = DecodeWalHeader(raw, got);
  if (!header.ok()) return header.status().WithContext(file_->path());
  header_ = *header;
  Setup();
  return Status::OK();
}

void WalReader::Setup() {
  // Room for the largest record; no more than the file for a small log.
  const size_t chunk = std::max(kChunkSize, kRecordHeaderSize + MaxPayload(header_.page_size));
  buf_.resize(static_cast<size_t>(std::min<uint64_t>(chunk, file_size_)));
  buf_offset_ = 0;
  buf_len_ = 0;
  pos_ = header_.size();
  index_ = 0;
  seed_ = header_.salt;
  expected_lsn_ = header_.start_lsn;
  txn_records_ = 0;
  group_ = Record{};
  group_next_ = 0;
  committed_end_ = header_.size();
  committed_seed_ = seed_;
  committed_index_ = 0;
  last_commit_lsn_ = 0;
  stop_reason_ = StopReason::kNone;
  opened_ = true;
}

Status WalReader::Continue() {
  SOMBRA_ASSIGN_OR_RETURN(file_size_, file_->Size());
  const size_t chunk = std::max(kChunkSize, kRecordHeaderSize + MaxPayload(header_.page_size));
  buf_.resize(static_cast<size_t>(std::min<uint64_t>(chunk, file_size_)));
  buf_len_ = 0;  // the bytes may have changed since they were buffered
  // A follower reads what was appended since the last time: usually a few
  // records, not a chunk of the preallocated zeros behind them.
  read_ahead_ = kFollowReadAhead;
  pos_ = committed_end_;
  seed_ = committed_seed_;
  index_ = committed_index_;
  expected_lsn_ = last_commit_lsn_ == 0 ? header_.start_lsn : last_commit_lsn_ + 1;
  txn_records_ = 0;
  group_ = Record{};
  group_next_ = 0;
  stop_reason_ = StopReason::kNone;
  stop_detail_.clear();
  status_ = Status::OK();
  return Status::OK();
}

Status WalReader::OpenAsStored() {
  opened_ = false;
  SOMBRA_ASSIGN_OR_RETURN(file_size_, file_->Size());
  if (file_size_ < kWalHeaderSizeV1) return Status::NotFound("empty log: " + file_->path());
  uint8_t raw[kWalHeaderSize];
  size_t got = 0;
  SOMBRA_RETURN_IF_ERROR(ReadRawHeader(raw, &got));
  header_ = StoredFields(raw);
  if (!IsValidPageSize(header_.page_size) || header_.salt == 0 || header_.start_lsn == 0 ||
      file_size_ < header_.size()) {
    return Status::Corruption("WAL " + file_->path() +
                              ": the stored header fields are not usable either");
  }
  Setup();
  return Status::OK();
}

Result<WalReader::ProbeResult> WalReader::ProbeBehindDamagedHeader(uint32_t page_size,
                                                                   uint64_t first_missing_lsn,
                                                                   bool* intact_commit) {
  *intact_commit = false;
  opened_ = false;
  SOMBRA_ASSIGN_OR_RETURN(file_size_, file_->Size());
  if (file_size_ < kWalHeaderSizeV1 || !IsValidPageSize(page_size)) return ProbeResult{};
  uint8_t raw[kWalHeaderSize];
  size_t got = 0;
  SOMBRA_RETURN_IF_ERROR(ReadRawHeader(raw, &got));
  // The stored fields, untrusted: only the salt is used, as a seed, and
  // the version, to tell where the first record is and how long a commit
  // record is. A damaged version may name another known one: the records
  // are probed as the stored version says and, when that proves nothing,
  // as the layouts of this build and of the one before named trees.
  const WalHeader stored = StoredFields(raw);
  Result<ProbeResult> best = ProbeResult{};
  bool best_intact = false;
  for (uint32_t version : {stored.version, kWalFormatVersionCopies, kWalFormatVersionOps}) {
    header_ = stored;
    header_.version = version;
    bool intact = false;
    Result<ProbeResult> r = ProbeAs(page_size, first_missing_lsn, &intact);
    if (!r.ok()) return r;
    const bool proves = r->stop_was_durable || intact;
    if (proves || r->records_found > best->records_found) {
      best = std::move(r);
      best_intact = intact;
    }
    if (proves) break;
  }
  *intact_commit = best_intact;
  return best;
}

Result<WalReader::ProbeResult> WalReader::ProbeAs(uint32_t page_size, uint64_t first_missing_lsn,
                                                  bool* intact_commit) {
  header_.page_size = page_size;
  header_.start_lsn = first_missing_lsn;
  if (file_size_ < header_.size()) return ProbeResult{};
  Setup();  // stop_txn_lsn() is now first_missing_lsn: older commits do not count
  // The chain from the first record, seeded with the stored salt.
  ProbeResult chain;
  Check check;
  const uint64_t first = header_.size();
  uint64_t off = first;
  uint64_t seed = header_.salt;
  const StopReason r = FollowChain(&off, &seed, /*count_stale=*/true, &chain, &check);
  *intact_commit = chain.commits_found > 0;
  if (r == StopReason::kIOError) return check.io;
  pos_ = off;
  Stop(r, std::move(check.detail));
  if (r == StopReason::kEndOfLog && off == first) return chain;  // no record at all
  SOMBRA_ASSIGN_OR_RETURN(ProbeResult past, ProbeFrom(off, seed));
  past.Add(chain);
  past.stop_was_durable = past.max_durable_lsn && *past.max_durable_lsn >= first_missing_lsn;
  return past;
}

Status WalReader::Fetch(uint64_t offset, size_t n, const uint8_t** out) {
  if (offset >= buf_offset_ && offset + n <= buf_offset_ + buf_len_) {
    *out = buf_.data() + (offset - buf_offset_);
    return Status::OK();
  }
  const size_t ahead = std::max(n, std::min(read_ahead_, buf_.size()));
  const size_t want = static_cast<size_t>(std::min<uint64_t>(ahead, file_size_ - offset));
  size_t got = 0;
  buf_len_ = 0;
  SOMBRA_RETURN_IF_ERROR(file_->ReadAt(offset, want, reinterpret_cast<char*>(buf_.data()), &got));
  buf_offset_ = offset;
  buf_len_ = got;
  if (got < n) {
    return Status::IOError("short read of " + file_->path() + " at offset " +
                           std::to_string(offset) + ": wanted " + std::to_string(n) +
                           " bytes, got " + std::to_string(got) + " (did the file shrink?)");
  }
  *out = buf_.data();
  return Status::OK();
}

StopReason WalReader::CheckAt(uint64_t offset, uint64_t seed, Record* rec, Check* check) {
  const uint64_t remaining = offset <= file_size_ ? file_size_ - offset : 0;
  const uint8_t* p = nullptr;
  // R1: a header inside the file, not all zero.
  if (remaining < kRecordHeaderSize) {
    if (remaining > 0) {
      check->io = Fetch(offset, static_cast<size_t>(remaining), &p);
      if (!check->io.ok()) return StopReason::kIOError;
    }
    if (remaining == 0 || IsAllZero(p, static_cast<size_t>(remaining))) {
      check->detail = "end of log (" + std::to_string(remaining) + " zero bytes to end of file)";
      return StopReason::kEndOfLog;
    }
    check->detail = "record header truncated: " + std::to_string(remaining) +
                    " bytes before the end of the file";
    return StopReason::kTruncated;
  }
  check->io = Fetch(offset, kRecordHeaderSize, &p);
  if (!check->io.ok()) return StopReason::kIOError;
  if (IsAllZero(p, kRecordHeaderSize)) {
    check->detail = "end of log (zeroed record header)";
    return StopReason::kEndOfLog;
  }
  const RecordHeader h = DecodeRecordHeader(p);
  // R2-R4.
  StopReason reason = CheckRecordHeader(h, header_.page_size, header_.version, &check->detail);
  if (reason != StopReason::kNone) return reason;
  // R5.
  if (kRecordHeaderSize + h.length > remaining) {
    check->detail = std::string(RecordTypeName(h.type)) + " record of " +
                    std::to_string(kRecordHeaderSize + h.length) +
                    " bytes truncated: " + std::to_string(remaining) +
                    " bytes before the end of the file";
    return StopReason::kTruncated;
  }
  check->io = Fetch(offset, kRecordHeaderSize + h.length, &p);
  if (!check->io.ok()) return StopReason::kIOError;
  // R6.
  const uint64_t computed = RecordChecksum(p, p + kRecordHeaderSize, h.length, seed);
  if (computed != h.checksum) {
    check->detail = std::string(RecordTypeName(h.type)) + " record: checksum mismatch (stored " +
                    Hex64(h.checksum) + ", computed " + Hex64(computed) + " seeded with " +
                    Hex64(seed) + ")";
    return StopReason::kChecksumMismatch;
  }
  // R7.
  reason = DecodeRecordPayload(h, p + kRecordHeaderSize, header_.page_size, header_.version,
                               &scratch_, rec, &check->detail);
  if (reason != StopReason::kNone) return reason;
  rec->offset = offset;
  return StopReason::kNone;
}

StopReason WalReader::CheckTxn(const Record& rec, std::string* detail) const {
  const uint64_t lsn = TxnLsnOf(rec);
  if (rec.type == RecordType::kCommit && lsn == expected_lsn_ &&
      rec.commit.record_count != txn_records_) {
    *detail = "commit record of LSN " + std::to_string(lsn) + " counts " +
              std::to_string(rec.commit.record_count) + " records, but " +
              std::to_string(txn_records_) + " precede it";
    return StopReason::kBadPayload;
  }
  if (lsn != expected_lsn_) {
    *detail = std::string(RecordTypeName(static_cast<uint8_t>(rec.type))) + " record carries LSN " +
              std::to_string(lsn) + ", but the transaction in progress has LSN " +
              std::to_string(expected_lsn_);
    return StopReason::kBadPayload;
  }
  return StopReason::kNone;
}

void WalReader::NextGroupEntry(Record* rec) {
  *rec = group_;
  const GroupEntry& e = group_.group[group_next_];
  rec->type = RecordType::kPageOps;
  rec->group = {};
  rec->page_no = e.page_no;
  rec->base_lsn = e.base_lsn;
  rec->ops = e.ops;
  rec->copies = e.copies;
  rec->group_entry = static_cast<uint32_t>(group_next_);
  rec->group_entries = static_cast<uint32_t>(group_.group.size());
  ++group_next_;
}

bool WalReader::Next(Record* rec) {
  if (!opened_ || stop_reason_ != StopReason::kNone) return false;
  if (group_next_ < group_.group.size()) {
    NextGroupEntry(rec);
    return true;
  }
  Check check;
  StopReason reason = CheckAt(pos_, seed_, rec, &check);
  if (reason == StopReason::kNone && IsCarriedVersion(header_.version) && last_commit_lsn_ == 0 &&
      txn_records_ == 0) {
    // A carried generation: its first transaction's LSN (that of its first
    // record) may be above the start LSN (rule T1).
    const uint64_t lsn = TxnLsnOf(*rec);
    if (lsn > expected_lsn_) expected_lsn_ = lsn;
  }
  if (reason == StopReason::kNone) reason = CheckTxn(*rec, &check.detail);
  if (reason != StopReason::kNone) {
    if (reason == StopReason::kIOError) status_ = check.io;
    Stop(reason, reason == StopReason::kIOError ? check.io.ToString() : std::move(check.detail));
    return false;
  }
  rec->index = index_++;
  pos_ += rec->size();
  seed_ = rec->checksum;
  if (rec->type == RecordType::kCommit) {
    last_commit_lsn_ = rec->commit.lsn;
    ++expected_lsn_;
    txn_records_ = 0;
    committed_end_ = pos_;
    committed_seed_ = seed_;
    committed_index_ = index_;
  } else {
    ++txn_records_;
  }
  if (rec->type == RecordType::kOpsGroup) {  // returned entry by entry
    group_ = *rec;
    group_next_ = 0;
    NextGroupEntry(rec);
  }
  return true;
}

void WalReader::Stop(StopReason reason, std::string detail) {
  stop_reason_ = reason;
  stop_offset_ = pos_;
  stop_detail_ =
      "record " + std::to_string(index_) + " at offset " + std::to_string(pos_) + ": " + detail;
}

Status WalReader::StopAsCorruption() const {
  return Status::Corruption("WAL " + file_->path() + ": " + stop_detail_);
}

}  // namespace sombra::wal
