// WalReader::ProbePastStop: following the checksum chain past the stop to
// tell damage from a torn tail (docs/format/wal.md, "Telling damage from a
// torn tail").
#include "wal/wal_reader.h"

namespace sombra::wal {

namespace {

// Stops past which there is nothing to follow.
bool IsEndStop(StopReason reason) {
  return reason == StopReason::kNone || reason == StopReason::kEndOfLog ||
         reason == StopReason::kTruncated || reason == StopReason::kIOError;
}

}  // namespace

Result<WalReader::ProbeResult> WalReader::ProbePastStop() {
  ProbeResult result;
  if (!opened_ || IsEndStop(stop_reason_)) return result;

  Record rec;
  Check check;
  // Counts a valid record found past the stop; false when the chain cannot
  // be this log's continuation: every commit after the stop has an LSN of
  // at least stop_txn_lsn() (rule T2), so a lower one belongs to an older
  // generation's chain.
  auto take = [&](const Record& r) {
    if (r.type == RecordType::kCommit && r.commit.lsn < expected_lsn_) return false;
    ++result.records_found;
    if (r.type != RecordType::kCommit) return true;
    ++result.commits_found;
    if (!result.first_commit_lsn) result.first_commit_lsn = r.commit.lsn;
    if (!result.max_durable_lsn || r.commit.durable_lsn > *result.max_durable_lsn) {
      result.max_durable_lsn = r.commit.durable_lsn;
    }
    return true;
  };

  // Loop invariant: an invalid record with a readable, non-zero header
  // starts at `off`, and `seed` is the seed it was checked with.
  uint64_t off = stop_offset_;
  uint64_t seed = seed_;
  for (;;) {
    const uint8_t* p = nullptr;
    Status s = Fetch(off, kRecordHeaderSize, &p);
    if (!s.ok()) return s;
    const RecordHeader h = DecodeRecordHeader(p);
    const uint64_t next = off + kRecordHeaderSize + h.length;
    if (next + kRecordHeaderSize > file_size_) break;

    // Seeds the next record may have been chained with: the stored checksum
    // (the record's bytes are damaged) or the computed one (its checksum
    // field is).
    uint64_t seeds[2] = {h.checksum, h.checksum};
    int num_seeds = 1;
    if (h.length <= MaxPayload(header_.page_size)) {
      s = Fetch(off, kRecordHeaderSize + h.length, &p);
      if (!s.ok()) return s;
      const uint64_t computed = RecordChecksum(p, p + kRecordHeaderSize, h.length, seed);
      if (computed != h.checksum) seeds[num_seeds++] = computed;
    }
    StopReason reason = StopReason::kNone;
    int chosen = -1;
    for (int i = 0; i < num_seeds && chosen < 0; ++i) {
      reason = CheckAt(next, seeds[i], &rec, &check);
      if (reason == StopReason::kNone) chosen = i;
      if (reason == StopReason::kIOError) return check.io;
    }
    off = next;
    if (chosen < 0) {
      // The next record is invalid too (with the stored seed): pass it the
      // same way unless it is the end.
      reason = CheckAt(next, seeds[0], &rec, &check);
      if (reason == StopReason::kIOError) return check.io;
      if (IsEndStop(reason)) break;
      seed = seeds[0];
      continue;
    }
    // Follow the valid chain from `next`.
    seed = seeds[chosen];
    bool ours = true;
    while (reason == StopReason::kNone && (ours = take(rec))) {
      seed = rec.checksum;
      off += rec.size();
      reason = CheckAt(off, seed, &rec, &check);
    }
    if (!ours) break;
    if (reason == StopReason::kIOError) return check.io;
    if (IsEndStop(reason)) break;
  }
  result.stop_was_durable = result.max_durable_lsn && *result.max_durable_lsn >= expected_lsn_;
  return result;
}

}  // namespace sombra::wal
