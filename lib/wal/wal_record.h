// wal/wal_record.h: a decoded WAL record and the stateless validity checks
// of docs/format/wal.md ("A record is valid if and only if", rules R1-R5
// and the payload rules I*, D*, C*), shared by WalReader and its probe.
//
// The checks that need the record's place in the log (the checksum chain,
// rule R6, and the transaction rules T1-T3) live in WalReader.
//
// Thread safety: pure functions over caller-owned buffers.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wal/wal_format.h"

namespace sombra::wal {

// Why a WalReader stopped (docs/format/wal.md, "Stop reasons").
enum class StopReason : uint8_t {
  kNone = 0,          // not stopped yet
  kEndOfLog,          // the 16 bytes at the stop are zero, or the file ends exactly there
  kTruncated,         // the record header or payload passes the end of the file
  kBadType,           // type not 1..5 (4 only in formats 4 to 13, 5 only in 10 to 13)
  kBadFlags,          // an unknown flag bit, or the reserved bytes, are not zero
  kBadLength,         // payload length outside the bounds of its type
  kChecksumMismatch,  // the chained checksum does not match
  kBadPayload,        // checksum matches, but the payload does not decode or is inconsistent
  kIOError,           // reading the file failed: see WalReader::status()
};
const char* StopReasonName(StopReason reason);

// One record as decoded by WalReader. Views (page, ranges and their bytes)
// stay valid until the next call to WalReader::Next or ProbePastStop.
struct Record {
  RecordType type = RecordType::kInvalid;
  uint8_t flags = 0;
  uint64_t offset = 0;    // of the record header in the file
  uint64_t index = 0;     // 0-based record number in this generation
  uint32_t length = 0;    // payload length as stored
  uint64_t checksum = 0;  // stored (and, for a valid record, computed) checksum

  uint32_t page_no = 0;  // page image and page delta

  // Page image: the page's LSN and its page_size bytes (decompressed).
  uint64_t page_lsn = 0;
  bool compressed = false;
  std::string_view page;

  // Page delta and page ops.
  uint64_t base_lsn = 0;
  uint64_t new_lsn = 0;
  std::span<const DeltaRange> ranges;  // delta
  std::string_view ops;                // page ops: checked (CheckPageOps), for ApplyPageOps
  bool copies = false;                 // page ops holding a copy from another page

  // Ops group (type 5) as decoded: its LSN is new_lsn. WalReader::Next
  // never returns a group: it returns each entry as a page-ops record
  // (type kPageOps; offset, index, length, flags and checksum those of the
  // group), numbered by group_entry among group_entries.
  std::span<const GroupEntry> group;
  uint32_t group_entry = 0;
  uint32_t group_entries = 0;  // 0: a record of its own

  CommitInfo commit;  // commit

  // Bytes the record occupies in the file.
  uint64_t size() const { return kRecordHeaderSize + length; }
};

// The LSN of the transaction a decoded record belongs to (rule T1): an
// image's page LSN, a delta's or page ops' new LSN, a commit's LSN.
inline uint64_t TxnLsnOf(const Record& rec) {
  switch (rec.type) {
    case RecordType::kPageImage:
      return rec.page_lsn;
    case RecordType::kCommit:
      return rec.commit.lsn;
    case RecordType::kPageDelta:
    case RecordType::kPageOps:
    case RecordType::kOpsGroup:
      return rec.new_lsn;
    case RecordType::kInvalid:
      break;
  }
  return 0;
}

// Rules R2-R4: type, flags and reserved bytes, payload length bounds (a
// commit's length is that of the log's format `version`). Returns kNone
// when they hold; otherwise the reason, and *detail says why.
StopReason CheckRecordHeader(const RecordHeader& header, uint32_t page_size, uint32_t version,
                             std::string* detail);

// Buffers the decoded views of a Record may point into.
struct DecodeScratch {
  std::string page;                // a decompressed page image
  std::vector<DeltaRange> ranges;  // a delta's ranges
  std::string group_body;          // a decompressed ops group body
  std::vector<GroupEntry> group;   // an ops group's entries
};

// Rules I*, D*, P*, G*, C*: decodes the payload of a record whose header
// passed CheckRecordHeader into *rec (type, flags, length and the type's
// fields), its views pointing into the payload or *scratch. Returns kNone,
// or kBadPayload with *detail.
StopReason DecodeRecordPayload(const RecordHeader& header, const uint8_t* payload,
                               uint32_t page_size, uint32_t version, DecodeScratch* scratch,
                               Record* rec, std::string* detail);

}  // namespace sombra::wal
