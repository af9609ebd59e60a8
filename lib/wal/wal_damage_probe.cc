// WalReader::ProbePastStop: following the checksum chain past the stop to
// tell damage from a torn tail (docs/format/wal.md, "Telling damage from a
// torn tail"), resynchronising on the record framing when the damaged
// record's length cannot be trusted.

#include "util/coding.h"
#include "wal/wal_reader.h"

namespace sombra::wal {

namespace {

// Stops past which there is nothing to follow: the reader did not stop,
// the file ends there, or the file could not be read. A zeroed record
// header with bytes behind it is probed: it is how a log ends, but also
// what a zeroed sector in the middle of a log looks like.
bool NothingToProbe(StopReason reason, uint64_t stop_offset, uint64_t file_size) {
  if (reason == StopReason::kNone || reason == StopReason::kIOError) return true;
  return reason == StopReason::kEndOfLog && stop_offset + kRecordHeaderSize > file_size;
}

}  // namespace

Result<WalReader::ProbeResult> WalReader::ProbePastStop() {
  if (!opened_ || NothingToProbe(stop_reason_, stop_offset_, file_size_)) return ProbeResult{};
  return ProbeFrom(stop_offset_, seed_);
}

bool WalReader::PlausibleHeaderAt(uint64_t offset, RecordHeader* h, Status* io) {
  if (offset + kRecordHeaderSize > file_size_) return false;
  const uint8_t* p = nullptr;
  *io = Fetch(offset, kRecordHeaderSize, &p);
  if (!io->ok()) return false;
  if (p[kRecordTypeOffset] == 0 || p[kRecordTypeOffset] > kMaxRecordType) return false;
  *h = DecodeRecordHeader(p);
  std::string ignored;
  if (CheckRecordHeader(*h, header_.page_size, header_.version, &ignored) != StopReason::kNone)
    return false;
  return offset + kRecordHeaderSize + h->length <= file_size_;
}

// Tries `seeds` in order on the record at `offset`: the first it validates with goes to *seed.
Result<bool> WalReader::TrySeedsAt(uint64_t offset, const uint64_t* seeds, int num_seeds,
                                   uint64_t* seed) {
  Record rec;
  Check check;
  for (int i = 0; i < num_seeds; ++i) {
    const StopReason r = CheckAt(offset, seeds[i], &rec, &check);
    if (r == StopReason::kIOError) return check.io;
    if (r == StopReason::kNone) {
      *seed = seeds[i];
      return true;
    }
  }
  return false;
}

Result<bool> WalReader::Resync(uint64_t from, const uint64_t* seeds, int num_seeds, uint64_t* at,
                               uint64_t* seed) {
  Status io;
  for (uint64_t x = from; x + kRecordHeaderSize <= file_size_; ++x) {
    // Fast path over the buffered bytes: a record starts with a type 1..5.
    if (x >= buf_offset_ && x < buf_offset_ + buf_len_) {
      const uint8_t* b = buf_.data() + (x - buf_offset_);
      const uint8_t* end = buf_.data() + buf_len_;
      while (b < end && (*b == 0 || *b > kMaxRecordType)) ++b;
      x = buf_offset_ + static_cast<uint64_t>(b - buf_.data());
      if (x + kRecordHeaderSize > file_size_) break;
      if (b == end) {
        --x;  // ++x: look at the next byte, which is not buffered
        if (x + 1 < file_size_) {
          const uint8_t* q = nullptr;
          Status fs = Fetch(x + 1, 1, &q);
          if (!fs.ok()) return fs;
        }
        continue;
      }
    }
    RecordHeader hx;
    if (!PlausibleHeaderAt(x, &hx, &io)) {
      if (!io.ok()) return io;
      continue;
    }
    // The record right after the damaged one, chained from its checksum.
    SOMBRA_ASSIGN_OR_RETURN(bool found, TrySeedsAt(x, seeds, num_seeds, seed));
    if (found) {
      *at = x;
      return true;
    }
    // Or any later record: x is a record boundary when the record after it
    // validates seeded with x's stored checksum.
    const uint64_t y = x + kRecordHeaderSize + hx.length;
    RecordHeader hy;
    if (!PlausibleHeaderAt(y, &hy, &io)) {
      if (!io.ok()) return io;
      continue;
    }
    SOMBRA_ASSIGN_OR_RETURN(found, TrySeedsAt(y, &hx.checksum, 1, seed));
    if (found) {
      *at = y;
      return true;
    }
  }
  return false;
}

// Counts a valid commit: the first one found, and the one with the highest durable LSN.
void WalReader::ProbeResult::NoteCommit(uint64_t lsn, uint64_t durable_lsn, uint64_t offset) {
  ++commits_found;
  if (!first_commit_lsn) {
    first_commit_lsn = lsn;
    first_commit_offset = offset;
  }
  if (!max_durable_lsn || durable_lsn > *max_durable_lsn) {
    max_durable_lsn = durable_lsn;
    max_durable_offset = offset;
  }
}

// Merges in the findings of `earlier`, a chain read before this one.
void WalReader::ProbeResult::Add(const ProbeResult& earlier) {
  records_found += earlier.records_found;
  commits_found += earlier.commits_found;
  if (earlier.first_commit_lsn) {
    first_commit_lsn = earlier.first_commit_lsn;
    first_commit_offset = earlier.first_commit_offset;
  }
  if (earlier.max_durable_lsn &&
      (!max_durable_lsn || *earlier.max_durable_lsn > *max_durable_lsn)) {
    max_durable_lsn = earlier.max_durable_lsn;
    max_durable_offset = earlier.max_durable_offset;
  }
}

// Finds the valid record after the invalid one at `off`: at its stored end, else by Resync.
Result<bool> WalReader::NextValidAfter(uint64_t off, uint64_t seed, uint64_t* at, uint64_t* at_seed,
                                       uint64_t* resyncs) {
  const uint8_t* p = nullptr;
  SOMBRA_RETURN_IF_ERROR(Fetch(off, kRecordHeaderSize, &p));
  const RecordHeader h = DecodeRecordHeader(p);
  // Seeds the next record may have been chained with: the stored checksum
  // (the record's bytes are damaged) or the computed one (its checksum
  // field is).
  uint64_t seeds[2] = {h.checksum, h.checksum};
  int num_seeds = 1;
  const bool zero_header = IsAllZero(p, kRecordHeaderSize);
  const uint64_t stored_end = off + kRecordHeaderSize + h.length;
  if (!zero_header && h.length <= MaxPayload(header_.page_size) && stored_end <= file_size_) {
    SOMBRA_RETURN_IF_ERROR(Fetch(off, kRecordHeaderSize + h.length, &p));
    const uint64_t computed = RecordChecksum(p, p + kRecordHeaderSize, h.length, seed);
    if (computed != h.checksum) seeds[num_seeds++] = computed;
  }
  // 1. The next record where the stored length puts it.
  if (!zero_header && stored_end + kRecordHeaderSize <= file_size_) {
    SOMBRA_ASSIGN_OR_RETURN(bool found, TrySeedsAt(stored_end, seeds, num_seeds, at_seed));
    if (found) {
      *at = stored_end;
      return true;
    }
  }
  // 2. Otherwise resynchronise on the framing: the first later offset
  //    where a record validates (docs/format/wal.md, "Resynchronising").
  SOMBRA_ASSIGN_OR_RETURN(bool found,
                          Resync(off + 1, seeds, zero_header ? 0 : num_seeds, at, at_seed));
  if (found) ++*resyncs;
  return found;
}

// Follows the valid records from *off (seeded with *seed), counting them into *found.
StopReason WalReader::FollowChain(uint64_t* off, uint64_t* seed, bool count_stale,
                                  ProbeResult* found, Check* check) {
  Record rec;
  uint64_t at = *off;  // locals, not *off and *seed: kept in registers
  uint64_t chained = *seed;
  StopReason reason;
  while ((reason = CheckAt(at, chained, &rec, check)) == StopReason::kNone) {
    const bool commit = rec.type == RecordType::kCommit;
    const bool stale = commit && rec.commit.lsn < expected_lsn_;
    if (!stale || count_stale) ++found->records_found;
    if (commit && !stale) found->NoteCommit(rec.commit.lsn, rec.commit.durable_lsn, rec.offset);
    chained = rec.checksum;
    at += rec.size();
  }
  *off = at;
  *seed = chained;
  return reason;
}

Result<WalReader::ProbeResult> WalReader::ProbeFrom(uint64_t start, uint64_t start_seed) {
  ProbeResult result;
  Check check;
  // Loop invariant: an invalid record starts at `off` (its header may be
  // zero or cut by the end of the file), and `seed` is the seed it was
  // checked with.
  uint64_t off = start;
  uint64_t seed = start_seed;
  while (off + kRecordHeaderSize <= file_size_) {
    uint64_t at = 0;
    uint64_t at_seed = 0;
    SOMBRA_ASSIGN_OR_RETURN(bool found, NextValidAfter(off, seed, &at, &at_seed, &result.resyncs));
    if (!found) break;
    // 3. Follow the valid chain from there. Every commit that continues
    //    this log has an LSN of at least stop_txn_lsn() (rule T2); a lower
    //    one belongs to an older generation's chain and proves nothing.
    off = at;
    seed = at_seed;
    const StopReason reason = FollowChain(&off, &seed, /*count_stale=*/false, &result, &check);
    if (reason == StopReason::kIOError) return check.io;
  }
  result.stop_was_durable = result.max_durable_lsn && *result.max_durable_lsn >= expected_lsn_;
  return result;
}

}  // namespace sombra::wal
