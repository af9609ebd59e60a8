// wal/wal_ops_group.h: the ops group (record type 5, docs/format/wal.md,
// "Ops group (type 5)"): the page ops of many pages of one transaction in
// one record, their body lz4-compressed together.
//
// A page-ops record (type 4) spends 36 bytes on its header and fixed
// fields, about as much as the ops of one insert, and the random values and
// offsets of one page's ops give lz4 too little to work on. A group spends
// a few bytes per page (varint page step, LSN step and ops length) and
// compresses the ops of all its pages as one block.
//
//   OpsGroupBuilder g;                      // reused across transactions
//   g.Add(7, 1, ops7);                      // pages in increasing order
//   g.Add(12, 3, ops12);
//   g.AppendPayload(lsn, /*compress=*/true, &out, &flags);
//
// Thread safety: none; pure functions otherwise.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wal/wal_format.h"
#include "wal/wal_record.h"

namespace sombra::wal {

// The lz4 acceleration of group bodies: 1, the best compression (a 64 KiB
// body of a random load's 1,000 inserts compresses in ~110 us to 64% at 1,
// ~90 us to 70% at 4).
constexpr int kGroupLZ4Acceleration = 1;

class OpsGroupBuilder {
 public:
  void Clear();
  bool empty() const { return pages_.empty(); }
  size_t entries() const { return pages_.size(); }
  size_t body_size() const { return body_.size(); }
  // True when page_no is one of the group's pages.
  bool Holds(uint32_t page_no) const;
  // Whether an entry of `ops` bytes for page_no can join: the group is
  // empty, or page_no is above its last page and the body stays within
  // kMaxGroupBody.
  bool Fits(uint32_t page_no, size_t ops_size) const;

  // Appends the entry of page_no whose ops apply on LSN new LSN - lsn_step.
  // REQUIRES: Fits(page_no, ops.size()), lsn_step >= 1, ops non-empty.
  void Add(uint32_t page_no, uint64_t lsn_step, std::string_view ops);

  // Appends the group's payload for transaction `new_lsn` to *out: the body
  // lz4-compressed (acceleration kGroupLZ4Acceleration) when `compress` and
  // that is smaller, raw otherwise; *flags gets kFlagCompressed or 0.
  // Returns the body bytes compression saved. REQUIRES: !empty().
  size_t AppendPayload(uint64_t new_lsn, bool compress, std::string* out, uint8_t* flags);
  // The payload's size were it stored raw.
  size_t RawPayloadSize() const;

 private:
  std::string body_;
  std::vector<uint32_t> pages_;  // increasing
  std::string lz4_;
};

// Rules G1-G4 of docs/format/wal.md: decodes an ops group's payload (its
// header passed CheckRecordHeader) into *new_lsn and *entries, whose ops
// views point into the payload or, for a compressed body, into *body.
// `copies`: the log's format allows copies from other pages (12 and 13).
// Returns kNone, or kBadPayload with *detail.
StopReason DecodeOpsGroup(const RecordHeader& h, const uint8_t* payload, uint32_t page_size,
                          bool copies, std::string* body, std::vector<GroupEntry>* entries,
                          uint64_t* new_lsn, std::string* detail);

}  // namespace sombra::wal
