#include "wal/wal_record.h"

#include "util/coding.h"
#include "util/compress.h"
#include "wal/wal_ops_group.h"
#include "wal/wal_page_ops.h"

namespace sombra::wal {

const char* StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kNone:
      return "none";
    case StopReason::kEndOfLog:
      return "end of log";
    case StopReason::kTruncated:
      return "truncated";
    case StopReason::kBadType:
      return "bad type";
    case StopReason::kBadFlags:
      return "bad flags";
    case StopReason::kBadLength:
      return "bad length";
    case StopReason::kChecksumMismatch:
      return "checksum mismatch";
    case StopReason::kBadPayload:
      return "bad payload";
    case StopReason::kIOError:
      return "I/O error";
  }
  return "unknown";
}

namespace {

std::string Num(uint64_t v) { return std::to_string(v); }

constexpr const char* kDeltaOf = "page delta of page ";
constexpr const char* kOpsOf = "page ops of page ";

// Rules I1-I3.
StopReason DecodeImage(const RecordHeader& h, const uint8_t* payload, uint32_t page_size,
                       std::string* page_buf, Record* rec, std::string* detail) {
  rec->page_no = DecodeFixed32(payload);
  rec->page_lsn = DecodeFixed64(payload + 4);
  rec->compressed = (h.flags & kFlagCompressed) != 0;
  if (rec->page_no < kFirstLoggedPage) {
    *detail = "page image of page " + Num(rec->page_no) + " (meta pages are never logged)";
    return StopReason::kBadPayload;
  }
  if (rec->page_lsn == 0) {
    *detail = "page image of page " + Num(rec->page_no) + " with page LSN 0";
    return StopReason::kBadPayload;
  }
  const uint8_t* data = payload + kImageFixedSize;
  const size_t data_size = h.length - kImageFixedSize;
  if (!rec->compressed) {
    rec->page = std::string_view(reinterpret_cast<const char*>(data), data_size);
    return StopReason::kNone;
  }
  page_buf->resize(page_size);
  Status s = LZ4Decompress(std::string_view(reinterpret_cast<const char*>(data), data_size),
                           page_buf->data(), page_size);
  if (!s.ok()) {
    *detail = "page image of page " + Num(rec->page_no) + ": " + s.message();
    return StopReason::kBadPayload;
  }
  rec->page = std::string_view(page_buf->data(), page_size);
  return StopReason::kNone;
}

// Rules D1 and P1, shared: the page number and the LSN step of a delta or
// page-ops record (decoded into *rec); `kind` begins the error.
bool PageAndLsnsValid(const Record& rec, const char* kind, std::string* detail) {
  if (rec.page_no < kFirstLoggedPage) {
    *detail = std::string(kind) + Num(rec.page_no) + " (meta pages are never logged)";
    return false;
  }
  if (rec.base_lsn >= rec.new_lsn) {
    *detail = std::string(kind) + Num(rec.page_no) + ": base LSN " + Num(rec.base_lsn) +
              " is not below the new LSN " + Num(rec.new_lsn);
    return false;
  }
  return true;
}

// Rules D1-D3.
StopReason DecodeDelta(const RecordHeader& h, const uint8_t* payload, uint32_t page_size,
                       std::vector<DeltaRange>* ranges, Record* rec, std::string* detail) {
  Decoder in(payload, h.length);
  uint32_t count = 0;
  // The length bounds guarantee the fixed part.
  (void)in.GetFixed32(&rec->page_no);
  (void)in.GetFixed64(&rec->base_lsn);
  (void)in.GetFixed64(&rec->new_lsn);
  if (!PageAndLsnsValid(*rec, kDeltaOf, detail)) return StopReason::kBadPayload;
  if (!in.GetVarint32(&count) || count > page_size) {
    *detail = std::string(kDeltaOf) + Num(rec->page_no) + ": bad range count";
    return StopReason::kBadPayload;
  }
  uint64_t prev_end = 0;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t off = 0;
    uint32_t len = 0;
    std::string_view bytes;
    if (!in.GetVarint32(&off) || !in.GetVarint32(&len) || !in.GetBytes(len, &bytes)) {
      *detail = std::string(kDeltaOf) + Num(rec->page_no) + ": range " + Num(i) + " of " +
                Num(count) + " runs past the payload";
      return StopReason::kBadPayload;
    }
    if (len == 0 || off < prev_end || uint64_t{off} + len > page_size) {
      *detail = std::string(kDeltaOf) + Num(rec->page_no) + ": range " + Num(i) + " [" + Num(off) +
                ", +" + Num(len) + ") is empty, out of order, overlapping or past the page end";
      return StopReason::kBadPayload;
    }
    prev_end = uint64_t{off} + len;
    ranges->push_back(DeltaRange{off, bytes});
  }
  if (in.remaining() != 0) {
    *detail = std::string(kDeltaOf) + Num(rec->page_no) + ": " + Num(in.remaining()) +
              " bytes after the last range";
    return StopReason::kBadPayload;
  }
  rec->ranges = std::span<const DeltaRange>(ranges->data(), ranges->size());
  return StopReason::kNone;
}

// Rules P1-P2.
StopReason DecodeOps(const RecordHeader& h, const uint8_t* payload, uint32_t page_size, Record* rec,
                     std::string* detail) {
  rec->page_no = DecodeFixed32(payload);
  rec->base_lsn = DecodeFixed64(payload + 4);
  rec->new_lsn = DecodeFixed64(payload + 12);
  if (!PageAndLsnsValid(*rec, kOpsOf, detail)) return StopReason::kBadPayload;
  const std::string_view ops(reinterpret_cast<const char*>(payload) + kOpsFixedSize,
                             h.length - kOpsFixedSize);
  if (std::string why; !CheckPageOps(ops, page_size, &why)) {
    *detail = std::string(kOpsOf) + Num(rec->page_no) + ": " + why;
    return StopReason::kBadPayload;
  }
  rec->ops = ops;
  return StopReason::kNone;
}

}  // namespace

StopReason CheckRecordHeader(const RecordHeader& h, uint32_t page_size, uint32_t version,
                             std::string* detail) {
  if (h.type == 0 || h.type > kMaxRecordType) {
    *detail = "record type " + Num(h.type) + " is not 1..5";
    return StopReason::kBadType;
  }
  const auto type = static_cast<RecordType>(h.type);
  if ((type == RecordType::kPageOps && !AllowsPageOps(version)) ||
      (type == RecordType::kOpsGroup && !AllowsOpsGroups(version))) {
    *detail =
        std::string(RecordTypeName(h.type)) + " record in a log of format version " + Num(version) +
        (type == RecordType::kPageOps ? " (formats 4 to 13 only)" : " (formats 10 to 13 only)");
    return StopReason::kBadType;
  }
  const uint8_t allowed_flags =
      type == RecordType::kPageImage || type == RecordType::kOpsGroup ? kFlagCompressed : 0;
  if ((h.flags & ~allowed_flags) != 0 || h.reserved != 0) {
    *detail = std::string(RecordTypeName(h.type)) + " record with flags " + Num(h.flags) +
              " and reserved " + Num(h.reserved) + " (allowed flags " + Num(allowed_flags) +
              ", reserved 0)";
    return StopReason::kBadFlags;
  }
  size_t min = 0;
  size_t max = 0;
  switch (type) {
    case RecordType::kPageImage:
      if ((h.flags & kFlagCompressed) != 0) {
        min = kImageFixedSize + 1;
        max = kImageFixedSize + page_size - 1;
      } else {
        min = max = kImageFixedSize + page_size;
      }
      break;
    case RecordType::kPageDelta:
      min = kDeltaFixedSize + 1;
      max = MaxDeltaPayload(page_size);
      break;
    case RecordType::kPageOps:
      min = kOpsFixedSize + 3;  // the smallest op: a 1-byte write or move
      max = MaxOpsPayload(page_size);
      break;
    case RecordType::kOpsGroup:
      min = kMinGroupPayload;
      max = kMaxGroupPayload;
      break;
    case RecordType::kCommit:
    case RecordType::kInvalid:
      min = max = CommitPayloadSize(version);
      break;
  }
  if (h.length < min || h.length > max) {
    *detail = std::string(RecordTypeName(h.type)) + " record with payload length " + Num(h.length) +
              ", allowed [" + Num(min) + ", " + Num(max) + "]";
    return StopReason::kBadLength;
  }
  return StopReason::kNone;
}

StopReason DecodeRecordPayload(const RecordHeader& h, const uint8_t* payload, uint32_t page_size,
                               uint32_t version, DecodeScratch* scratch, Record* rec,
                               std::string* detail) {
  rec->type = static_cast<RecordType>(h.type);
  rec->flags = h.flags;
  rec->length = h.length;
  rec->checksum = h.checksum;
  rec->page_no = 0;
  rec->page_lsn = rec->base_lsn = rec->new_lsn = 0;
  rec->compressed = false;
  rec->page = {};
  rec->ranges = {};
  rec->ops = {};
  rec->copies = false;
  rec->group = {};
  rec->group_entry = rec->group_entries = 0;
  rec->commit = CommitInfo{};
  scratch->ranges.clear();
  switch (rec->type) {
    case RecordType::kPageImage:
      return DecodeImage(h, payload, page_size, &scratch->page, rec, detail);
    case RecordType::kPageDelta:
      return DecodeDelta(h, payload, page_size, &scratch->ranges, rec, detail);
    case RecordType::kPageOps:
      return DecodeOps(h, payload, page_size, rec, detail);
    case RecordType::kOpsGroup: {
      rec->compressed = (h.flags & kFlagCompressed) != 0;
      const StopReason r =
          DecodeOpsGroup(h, payload, page_size, AllowsCopies(version), &scratch->group_body,
                         &scratch->group, &rec->new_lsn, detail);
      if (r == StopReason::kNone) rec->group = scratch->group;
      return r;
    }
    case RecordType::kCommit: {
      rec->commit = DecodeCommitPayload(payload, version);
      std::string why;
      if (!CheckCommitInfo(rec->commit, &why)) {
        *detail = "commit record: " + why;
        return StopReason::kBadPayload;
      }
      return StopReason::kNone;
    }
    case RecordType::kInvalid:
      break;
  }
  *detail = "record type " + Num(h.type) + " is not 1..5";
  return StopReason::kBadType;
}

}  // namespace sombra::wal
