// pager/txn_replay.h: one committed transaction of the log, as the replays
// hold it until its commit record (recovery, a follower, the inspector's
// salvage), and the pages its copies read.
//
// A copy (wal/wal_page_ops.h, log formats 12 and 13) reads its source page
// as it was before the transaction. Records apply one after another, so a
// replay keeps those pages aside before it applies any record of the
// transaction (docs/format/wal.md, "Recovery", step 3).
//
// Thread safety: none; one replay each.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "env/page_buffer.h"
#include "sombra/status.h"
#include "wal/wal_page_ops.h"
#include "wal/wal_reader.h"
#include "wal/wal_record.h"

namespace sombra::pager {

// A record of a transaction, owning its bytes (the reader's views last
// only until its next record).
struct TxnRecord {
  wal::RecordType type = wal::RecordType::kInvalid;
  uint32_t page_no = 0;
  uint64_t base_lsn = 0;  // delta and ops: the page LSN they apply on
  uint64_t new_lsn = 0;   // the transaction's LSN (an image's page LSN)
  std::string page;       // image
  std::vector<std::pair<uint32_t, std::string>> ranges;  // delta
  std::string ops;                                       // page ops (checked by the reader)
  bool copies = false;                                   // the ops hold a copy
};

// REQUIRES: rec is an image, a delta or page ops.
TxnRecord RecordOf(const wal::Record& rec);

// Reads `reader` up to and including its next commit record: the
// transaction's records into *txn (replacing what it held) and its commit
// into *commit. False at the end of what the reader returns (its
// stop_reason() says why); the records of a transaction without a commit
// record there are never returned. Every replay of the log walks it so
// (recovery, the follower, the inspector's salvage).
bool NextTxn(wal::WalReader* reader, std::vector<TxnRecord>* txn, wal::CommitInfo* commit);

// Loads page `page_no` as it was before the transaction into `out`
// (page_size bytes), given `base_lsn`, the LSN its own record in the
// transaction applies on.
using BeforeFn = std::function<Status(uint32_t page_no, uint64_t base_lsn, uint8_t* out)>;

// The pages a transaction's copies read, as they were before it.
class CopySources {
 public:
  // Keeps every page the copies of `txn` read (only records the reader
  // flagged as holding copies are decoded), loaded by `before` and
  // checked to carry the LSN its record names. Corruption when a source
  // page has no delta or ops record in the transaction on an earlier state
  // (base LSN 0: a page built in the transaction has none) or loads with
  // another LSN.
  Status Gather(const std::vector<TxnRecord>& txn, uint32_t page_size, const BeforeFn& before);
  // The kept page, or null.
  const uint8_t* Find(uint32_t page_no) const;
  // Find, for wal::ApplyPageOps.
  wal::CopySourceFn AsFn() const;
  bool empty() const { return pages_.empty(); }

 private:
  std::unordered_map<uint32_t, PageBuffer> pages_;
};

// True when `r` applies on a page of zeros: page ops of base LSN 0, a
// page built in its transaction (log formats 12 and 13; docs/format/wal.md,
// "Page ops"), whatever replay held for the page before.
bool OnZeros(const TxnRecord& r, uint32_t log_version);

// Applies an ops record's ops on `page`; Corruption naming the record when
// a copy reads a page `sources` lacks.
Status ApplyOps(const TxnRecord& r, uint32_t page_size, const CopySources& sources, uint8_t* page);

}  // namespace sombra::pager
