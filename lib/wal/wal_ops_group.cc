#include "wal/wal_ops_group.h"

#include <algorithm>

#include "util/coding.h"
#include "util/compress.h"
#include "wal/wal_page_ops.h"

namespace sombra::wal {

void OpsGroupBuilder::Clear() {
  body_.clear();
  pages_.clear();
}

bool OpsGroupBuilder::Holds(uint32_t page_no) const {
  return std::binary_search(pages_.begin(), pages_.end(), page_no);
}

bool OpsGroupBuilder::Fits(uint32_t page_no, size_t ops_size) const {
  if (pages_.empty()) return true;
  const size_t entry = 2 * kMaxVarint32Bytes + kMaxVarint64Bytes + ops_size;
  return page_no > pages_.back() && body_.size() + entry <= kMaxGroupBody;
}

void OpsGroupBuilder::Add(uint32_t page_no, uint64_t lsn_step, std::string_view ops) {
  PutVarint32(&body_, pages_.empty() ? page_no : page_no - pages_.back());
  PutVarint64(&body_, lsn_step);
  PutVarint32(&body_, static_cast<uint32_t>(ops.size()));
  body_.append(ops);
  pages_.push_back(page_no);
}

size_t OpsGroupBuilder::RawPayloadSize() const {
  return kGroupFixedSize + VarintLength(pages_.size()) + VarintLength(body_.size()) + body_.size();
}

size_t OpsGroupBuilder::AppendPayload(uint64_t new_lsn, bool compress, std::string* out,
                                      uint8_t* flags) {
  bool compressed = false;
  if (compress) {
    LZ4Compress(body_, &lz4_, kGroupLZ4Acceleration);
    compressed = !lz4_.empty() && lz4_.size() < body_.size();
  }
  *flags = compressed ? kFlagCompressed : 0;
  PutFixed64(out, new_lsn);
  PutVarint32(out, static_cast<uint32_t>(pages_.size()));
  PutVarint32(out, static_cast<uint32_t>(body_.size()));
  out->append(compressed ? std::string_view(lz4_) : std::string_view(body_));
  return compressed ? body_.size() - lz4_.size() : 0;
}

namespace {

std::string Num(uint64_t v) { return std::to_string(v); }

}  // namespace

StopReason DecodeOpsGroup(const RecordHeader& h, const uint8_t* payload, uint32_t page_size,
                          bool copies, std::string* body, std::vector<GroupEntry>* entries,
                          uint64_t* new_lsn, std::string* detail) {
  entries->clear();
  Decoder in(payload, h.length);
  uint32_t count = 0;
  uint32_t body_size = 0;
  // G1: the fixed fields.
  if (!in.GetFixed64(new_lsn) || !in.GetVarint32(&count) || !in.GetVarint32(&body_size) ||
      *new_lsn == 0 || count == 0 || body_size < kMinGroupEntry || body_size > kMaxGroupBody ||
      count > body_size / kMinGroupEntry) {
    *detail = "ops group: LSN " + Num(*new_lsn) + ", " + Num(count) + " entries, body of " +
              Num(body_size) + " bytes (wanted LSN >= 1, 1 to body / " + Num(kMinGroupEntry) +
              " entries, a body of " + Num(kMinGroupEntry) + " to " + Num(kMaxGroupBody) +
              " bytes)";
    return StopReason::kBadPayload;
  }
  // G2: the body, as stored or decompressed.
  std::string_view stored(reinterpret_cast<const char*>(in.position()), in.remaining());
  std::string_view raw;
  if ((h.flags & kFlagCompressed) != 0) {
    if (stored.size() >= body_size) {
      *detail = "ops group: a compressed body of " + Num(stored.size()) +
                " bytes is not smaller than the " + Num(body_size) + " bytes it decodes to";
      return StopReason::kBadPayload;
    }
    body->resize(body_size);
    if (Status s = LZ4Decompress(stored, body->data(), body_size); !s.ok()) {
      *detail = "ops group: " + s.message();
      return StopReason::kBadPayload;
    }
    raw = *body;
  } else {
    if (stored.size() != body_size) {
      *detail = "ops group: " + Num(stored.size()) + " body bytes stored, " + Num(body_size) +
                " declared";
      return StopReason::kBadPayload;
    }
    raw = stored;
  }
  // G3-G4: the entries.
  Decoder b(raw);
  uint64_t page = 0;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t step = 0;
    uint64_t lsn_step = 0;
    uint32_t len = 0;
    std::string_view ops;
    if (!b.GetVarint32(&step) || !b.GetVarint64(&lsn_step) || !b.GetVarint32(&len) ||
        !b.GetBytes(len, &ops)) {
      *detail = "ops group: entry " + Num(i) + " of " + Num(count) + " runs past the body";
      return StopReason::kBadPayload;
    }
    page += step;
    if (step == 0 || page < kFirstLoggedPage || page > UINT32_MAX || lsn_step == 0 ||
        lsn_step > *new_lsn) {
      *detail = "ops group: entry " + Num(i) + ": page step " + Num(step) + " (page " + Num(page) +
                "), LSN step " + Num(lsn_step) + " (wanted pages increasing from 2, " +
                "an LSN step of 1 to the group's LSN " + Num(*new_lsn) + ")";
      return StopReason::kBadPayload;
    }
    size_t copy_count = 0;
    if (std::string why;
        len == 0 ||
        !CheckPageOps(ops, page_size, copies, static_cast<uint32_t>(page), &why, &copy_count)) {
      *detail = "ops group: entry " + Num(i) + ", page ops of page " + Num(page) + ": " +
                (len == 0 ? std::string("no ops") : why);
      return StopReason::kBadPayload;
    }
    entries->push_back(
        GroupEntry{static_cast<uint32_t>(page), *new_lsn - lsn_step, ops, copy_count != 0});
  }
  if (b.remaining() != 0) {
    *detail = "ops group: " + Num(b.remaining()) + " body bytes after the last of " + Num(count) +
              " entries";
    return StopReason::kBadPayload;
  }
  return StopReason::kNone;
}

}  // namespace sombra::wal
