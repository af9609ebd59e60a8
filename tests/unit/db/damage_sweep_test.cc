// Corruption sweep (docs/testing.md, "Corruption sweep"): every field named in docs/format
// (page header, node header, fences, slots, records, overflow and free
// pages, both meta pages, WAL header, record headers, image / delta /
// commit payloads), each of its bytes (sampled for long fields) flipped
// with a few bit patterns, in a crash image of a database whose latest
// acknowledged transactions live only in its log. Also the page file cut
// or removed beside its log.
//
// The crash image: a writer (durability full, no automatic checkpoint)
// loads the database, checkpoints, then commits kLogTxns more
// transactions; its page file and log are copied while it is still open,
// so those transactions are only in `<db>-wal` (the page file is written
// only by checkpoints). Nothing else is in flight.
//
// For each damaged byte the copy is opened read-only, then writable, each
// in a child process (so a crash or a hang is reported, not fatal to the
// sweep), and the outcome must be one of:
//   - recovered-all: Open, Verify, a forward and a backward scan and a Get
//     of every key agree with the model after all kLogTxns transactions
//     (writable: also after one more commit, and after close + reopen);
//   - torn tail: only when the damage lies in the last transaction, which
//     no later commit records as durable (docs/format/wal.md: a crash can
//     produce exactly that): the state after kLogTxns - 1 transactions;
//   - a clean error: a Corruption / IOError / NotSupported /
//     InvalidArgument status whose message names the file and a page,
//     offset or record (at Open, or later from Verify or a read); a failed
//     Open leaves both files as they were, and a read-only open never
//     changes them.
// Anything else is a VIOLATION: a crash, a hang, fewer (or other)
// transactions without an error, an error that does not say where.
//
// With SOMBRA_WRITE_DAMAGE_TABLE=PATH the test writes the table of fields
// x outcomes (docs/design/damage.md is generated this way). Field offsets
// come from lib/pager/format.h, lib/wal/wal_format.h and
// lib/btree/node_format.h (and the commit payload's from its encoder).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "btree/node_format.h"
#include "btree/slotted_page.h"
#include "db/db_impl.h"
#include "db_test_util.h"
#include "pager/format.h"
#include "sombra/db.h"
#include "testutil/no_sync_env.h"
#include "testutil/temp_dir.h"
#include "wal/wal_format.h"
#include "wal/wal_ops_group.h"

namespace sombra::dbtest {
namespace {

constexpr uint32_t kPageSize = 4096;
constexpr int kLogTxns = 6;              // transactions that live only in the log
constexpr int kBaseKeys = 1200;          // keys loaded before the checkpoint
constexpr size_t kBigValue = 9000;       // an overflow value: 3 pages at 4 KiB
constexpr size_t kMaxBytesPerField = 8;  // longer fields: first, middle, last byte

// Under a sanitizer (several times slower) every kDefaultStride-th damaged
// copy of each field runs (at least one per field); the table comes from a
// full Release run. SOMBRA_DAMAGE_STRIDE=N overrides.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr size_t kDefaultStride = 6;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr size_t kDefaultStride = 6;
#else
constexpr size_t kDefaultStride = 1;
#endif
#else
constexpr size_t kDefaultStride = 1;
#endif
// XOR patterns: all bits, the low bit (a length or a count that stays in
// bounds) and, in the log, where framing depends on values, the high bit.
const std::vector<uint8_t> kPageFilePatterns = {0xff, 0x01};
const std::vector<uint8_t> kWalPatterns = {0xff, 0x01, 0x80};

std::string BaseKey(int i) { return NumKey(static_cast<uint64_t>(i), 12); }

// ---------------------------------------------------------------- fields

enum class Which { kPageFile, kWal };

struct Field {
  std::string group;  // e.g. "leaf page 7 (untouched by the log)"
  std::string name;   // e.g. "free_start"
  Which file;
  uint64_t offset;              // absolute offset of the field in its file
  uint64_t size;                // bytes
  bool last_txn = false;        // damage in the last transaction: a torn tail is allowed
  std::vector<uint64_t> bytes;  // offsets inside the field that are flipped
  // Whole-file damage instead of flipped bytes: the file cut to this size,
  // or removed (kRemoved); -1 for none.
  int64_t new_size = -1;
};
constexpr int64_t kRemoved = -2;

Field MakeField(std::string group, std::string name, Which file, uint64_t offset, uint64_t size,
                bool last_txn = false) {
  Field f{std::move(group), std::move(name), file, offset, size, last_txn, {}};
  if (size <= kMaxBytesPerField) {
    for (uint64_t i = 0; i < size; ++i) f.bytes.push_back(i);
  } else {
    f.bytes = {0, size / 2, size - 1};
  }
  return f;
}

// LEB128 varint at s[off]; returns its length in bytes (0 if malformed).
size_t VarintAt(const std::string& s, size_t off, uint64_t* value) {
  uint64_t v = 0;
  for (size_t i = 0; i < 10 && off + i < s.size(); ++i) {
    uint8_t b = static_cast<uint8_t>(s[off + i]);
    v |= uint64_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80) == 0) {
      *value = v;
      return i + 1;
    }
  }
  return 0;
}

// The common page header (docs/format/file.md).
void AddPageHeader(std::vector<Field>* out, const std::string& group, uint64_t base) {
  using namespace pager;
  out->push_back(MakeField(group, "header: kind", Which::kPageFile, base + kHeaderKindOffset, 1));
  out->push_back(MakeField(group, "header: flags", Which::kPageFile, base + kHeaderFlagsOffset, 1));
  out->push_back(MakeField(group, "header: reserved", Which::kPageFile,
                           base + kHeaderReservedOffset,
                           kHeaderPageNoOffset - kHeaderReservedOffset));
  out->push_back(MakeField(group, "header: page number", Which::kPageFile,
                           base + kHeaderPageNoOffset, kHeaderLsnOffset - kHeaderPageNoOffset));
  out->push_back(MakeField(group, "header: page LSN", Which::kPageFile, base + kHeaderLsnOffset,
                           kHeaderChecksumOffset - kHeaderLsnOffset));
  out->push_back(MakeField(group, "header: checksum", Which::kPageFile,
                           base + kHeaderChecksumOffset, kPageHeaderSize - kHeaderChecksumOffset));
}

void AddMetaPage(std::vector<Field>* out, const std::string& group, uint64_t base) {
  using namespace pager;
  AddPageHeader(out, group, base);
  const std::pair<size_t, const char*> body[] = {{kMetaMagicOffset, "magic"},
                                                 {kMetaVersionOffset, "format version"},
                                                 {kMetaPageSizeOffset, "page size"},
                                                 {kMetaSaltOffset, "salt"},
                                                 {kMetaPageCountOffset, "page count"},
                                                 {kMetaRootOffset, "root"},
                                                 {kMetaFreelistHeadOffset, "freelist head"},
                                                 {kMetaFreelistCountOffset, "freelist count"},
                                                 {kMetaCheckpointSeqOffset, "checkpoint sequence"},
                                                 {kMetaCheckpointLsnOffset, "checkpoint LSN"},
                                                 {kMetaCatalogRootOffset, "catalog root"},
                                                 {kMetaEndOffset, nullptr}};
  for (size_t i = 0; body[i].second != nullptr; ++i) {
    out->push_back(MakeField(group, body[i].second, Which::kPageFile, base + body[i].first,
                             body[i + 1].first - body[i].first));
  }
  out->push_back(MakeField(group, "zero tail", Which::kPageFile, base + kMetaEndOffset,
                           kPageSize - kMetaEndOffset));
}

// Node header, fences, slots, the records of the first and last slot, and
// the gap of a leaf or internal page (docs/format/page.md).
void AddNodePage(std::vector<Field>* out, const std::string& group, const std::string& file,
                 uint64_t base, bool leaf) {
  using namespace btree;
  AddPageHeader(out, group, base);
  auto add = [&](const std::string& name, size_t off, size_t size) {
    out->push_back(MakeField(group, name, Which::kPageFile, base + off, size));
  };
  add("slot count", kSlotCountOffset, kLevelOffset - kSlotCountOffset);
  add("level", kLevelOffset, kFreeStartOffset - kLevelOffset);
  add("free_start", kFreeStartOffset, kFreeEndOffset - kFreeStartOffset);
  add("free_end", kFreeEndOffset, kHoleBytesOffset - kFreeEndOffset);
  add("hole_bytes", kHoleBytesOffset, kLeftOffset - kHoleBytesOffset);
  add(leaf ? "left sibling" : "offset 40 (zero)", kLeftOffset, kRightOffset - kLeftOffset);
  add(leaf ? "right sibling" : "leftmost child", kRightOffset, kLowFenceLenOffset - kRightOffset);
  add(leaf ? "low fence length" : "offset 48 (zero)", kLowFenceLenOffset,
      kHighFenceLenOffset - kLowFenceLenOffset);
  add(leaf ? "high fence length" : "offset 50 (zero)", kHighFenceLenOffset,
      kFencesOffset - kHighFenceLenOffset);
  const uint16_t low = Le16(file, base + kLowFenceLenOffset);
  const uint16_t high = Le16(file, base + kHighFenceLenOffset);
  if (low > 0) add("low fence bytes", kFencesOffset, low);
  if (high > 0) add("high fence bytes", kFencesOffset + low, high);
  const uint16_t count = Le16(file, base + kSlotCountOffset);
  const uint32_t free_start = Le32(file, base + kFreeStartOffset);
  const uint32_t free_end = Le32(file, base + kFreeEndOffset);
  if (free_start < free_end) add("gap", free_start, free_end - free_start);
  for (uint16_t s : {uint16_t{0}, static_cast<uint16_t>(count - 1)}) {
    if (count == 0) break;
    const std::string which = s == 0 ? "first" : "last";
    const size_t slot = SlotAt(kPageSize, s);
    add("slot (" + which + "): record offset", slot + kSlotRecordOffsetField, 2);
    add("slot (" + which + "): key head", slot + kSlotHeadField, 4);
    const size_t rec = Le16(file, base + slot + kSlotRecordOffsetField);
    const auto* page = reinterpret_cast<const uint8_t*>(file.data() + base);
    const size_t rec_len = RecordLength(page + rec, page + kPageSize, leaf);
    uint64_t key_len = 0;
    size_t n1 = VarintAt(file, base + rec, &key_len);
    if (n1 == 0 || rec_len == 0) continue;
    add("record (" + which + "): key length", rec, n1);
    if (leaf) {
      uint64_t code = 0;
      size_t n2 = VarintAt(file, base + rec + n1, &code);
      if (n2 == 0) continue;
      add("record (" + which + "): value code", rec + n1, n2);
      add("record (" + which + "): key", rec + n1 + n2, key_len);
      const size_t value_off = rec + n1 + n2 + key_len;
      if (value_off >= rec + rec_len) continue;
      if (code & 1) {
        add("record (" + which + "): overflow first page", value_off, 4);
        add("record (" + which + "): overflow value length", value_off + 4, kOverflowRefSize - 4);
      } else {
        add("record (" + which + "): value", value_off, rec + rec_len - value_off);
      }
    } else {
      add("record (" + which + "): separator", rec + n1, key_len);
      add("record (" + which + "): child", rec + n1 + key_len, 4);
    }
  }
}

// The common header, then a leaf record holding an overflow reference.
void AddOverflowRefRecord(std::vector<Field>* out, const std::string& group,
                          const std::string& file, uint64_t base, const std::string& key) {
  using namespace btree;
  const uint16_t count = Le16(file, base + kSlotCountOffset);
  for (uint16_t s = 0; s < count; ++s) {
    const size_t slot = SlotAt(kPageSize, s);
    const size_t rec = Le16(file, base + slot + kSlotRecordOffsetField);
    uint64_t key_len = 0, code = 0;
    size_t n1 = VarintAt(file, base + rec, &key_len);
    size_t n2 = VarintAt(file, base + rec + n1, &code);
    if (file.compare(base + rec + n1 + n2, key_len, key) != 0) continue;
    auto add = [&](const std::string& name, size_t off, size_t size) {
      out->push_back(MakeField(group, name, Which::kPageFile, base + off, size));
    };
    add("overflow record: slot key head", slot + kSlotHeadField, 4);
    add("overflow record: value code", rec + n1, n2);
    add("overflow record: first page", rec + n1 + n2 + key_len, 4);
    add("overflow record: value length", rec + n1 + n2 + key_len + 4, kOverflowRefSize - 4);
    return;
  }
  ADD_FAILURE() << "no record for key " << key << " in " << group;
}

void AddOverflowPage(std::vector<Field>* out, const std::string& group, const std::string& file,
                     uint64_t base) {
  using namespace btree;
  AddPageHeader(out, group, base);
  out->push_back(MakeField(group, "next page", Which::kPageFile, base + kOverflowNextOffset,
                           kOverflowUsedOffset - kOverflowNextOffset));
  out->push_back(MakeField(group, "bytes used", Which::kPageFile, base + kOverflowUsedOffset,
                           kOverflowDataOffset - kOverflowUsedOffset));
  const uint32_t used = Le32(file, base + kOverflowUsedOffset);
  if (used > 0 && used <= kPageSize - kOverflowDataOffset) {
    out->push_back(
        MakeField(group, "value bytes", Which::kPageFile, base + kOverflowDataOffset, used));
    if (kOverflowDataOffset + used < kPageSize) {
      out->push_back(MakeField(group, "after the used bytes", Which::kPageFile,
                               base + kOverflowDataOffset + used,
                               kPageSize - kOverflowDataOffset - used));
    }
  }
}

void AddFreePage(std::vector<Field>* out, const std::string& group, uint64_t base) {
  using namespace pager;
  AddPageHeader(out, group, base);
  out->push_back(MakeField(group, "next free page", Which::kPageFile, base + kFreeNextOffset, 4));
  out->push_back(MakeField(group, "zero body", Which::kPageFile, base + kFreeNextOffset + 4,
                           kPageSize - kFreeNextOffset - 4));
}

// ------------------------------------------------------------------- log

struct LogRecord {
  uint64_t offset;
  wal::RecordHeader header;
  int txn;                      // 1-based transaction of the generation
  std::vector<uint32_t> pages;  // the pages it changes (an ops group: each entry's)
};

std::vector<LogRecord> ParseLog(const std::string& wal, int txns) {
  std::vector<LogRecord> out;
  uint64_t off = wal::kWalHeaderSize;
  int txn = 1;
  while (txn <= txns && off + wal::kRecordHeaderSize <= wal.size()) {
    auto h = wal::DecodeRecordHeader(reinterpret_cast<const uint8_t*>(wal.data() + off));
    if (h.type == 0 || h.type > wal::kMaxRecordType) break;
    if (off + wal::kRecordHeaderSize + h.length > wal.size()) break;
    std::vector<uint32_t> pages;
    if (h.type == static_cast<uint8_t>(wal::RecordType::kOpsGroup)) {
      std::string body, why;
      std::vector<wal::GroupEntry> entries;
      uint64_t lsn = 0;
      const auto* payload = reinterpret_cast<const uint8_t*>(wal.data()) + off + 16;
      if (wal::DecodeOpsGroup(h, payload, kPageSize, /*copies=*/true, &body, &entries, &lsn,
                              &why) != wal::StopReason::kNone) {
        ADD_FAILURE() << "ops group at " << off << ": " << why;
        break;
      }
      for (const wal::GroupEntry& e : entries) pages.push_back(e.page_no);
    } else if (h.type != static_cast<uint8_t>(wal::RecordType::kCommit)) {
      pages.push_back(Le32(wal, off + wal::kRecordHeaderSize));
    }
    out.push_back({off, h, txn, std::move(pages)});
    if (h.type == static_cast<uint8_t>(wal::RecordType::kCommit)) ++txn;
    off += wal::kRecordHeaderSize + h.length;
  }
  return out;
}

void AddRecord(std::vector<Field>* out, const std::string& group, const std::string& wal,
               const LogRecord& r, bool last_txn) {
  using namespace wal;
  auto add = [&](const std::string& name, uint64_t off, uint64_t size) {
    out->push_back(MakeField(group, name, Which::kWal, r.offset + off, size, last_txn));
  };
  add("record header: type", kRecordTypeOffset, 1);
  add("record header: flags", kRecordFlagsOffset, 1);
  add("record header: reserved", kRecordReservedOffset,
      kRecordLengthOffset - kRecordReservedOffset);
  add("record header: payload length", kRecordLengthOffset,
      kRecordChecksumOffset - kRecordLengthOffset);
  add("record header: checksum", kRecordChecksumOffset, kRecordHeaderSize - kRecordChecksumOffset);
  const uint64_t p = kRecordHeaderSize;
  const uint32_t len = r.header.length;
  switch (static_cast<RecordType>(r.header.type)) {
    case RecordType::kPageImage:
      // docs/format/wal.md "Page image": page number u32, page LSN u64.
      add("image: page number", p, 4);
      add("image: page LSN", p + 4, kImageFixedSize - 4);
      add(r.header.flags & kFlagCompressed ? "image: lz4 block" : "image: page bytes",
          p + kImageFixedSize, len - kImageFixedSize);
      break;
    case RecordType::kPageDelta: {
      // docs/format/wal.md "Page delta": page number u32, base LSN u64,
      // new LSN u64, varint range count, ranges (varint offset, varint
      // length, bytes).
      add("delta: page number", p, 4);
      add("delta: base LSN", p + 4, 8);
      add("delta: new LSN", p + 12, kDeltaFixedSize - 12);
      const size_t base = r.offset + p + kDeltaFixedSize;
      uint64_t count = 0, roff = 0, rlen = 0;
      size_t n0 = VarintAt(wal, base, &count);
      add("delta: range count", p + kDeltaFixedSize, n0);
      size_t n1 = VarintAt(wal, base + n0, &roff);
      add("delta: first range offset", p + kDeltaFixedSize + n0, n1);
      size_t n2 = VarintAt(wal, base + n0 + n1, &rlen);
      add("delta: first range length", p + kDeltaFixedSize + n0 + n1, n2);
      add("delta: first range bytes", p + kDeltaFixedSize + n0 + n1 + n2, rlen);
      if (count > 1) add("delta: last payload byte", p + len - 1, 1);
      break;
    }
    case RecordType::kPageOps: {
      // docs/format/wal.md "Page ops": page number u32, base LSN u64, new
      // LSN u64, then ops (varint head = length << 1 | kind, varint
      // destination, then a write's bytes or a move's varint source).
      add("ops: page number", p, 4);
      add("ops: base LSN", p + 4, 8);
      add("ops: new LSN", p + 12, kOpsFixedSize - 12);
      const size_t base = r.offset + p + kOpsFixedSize;
      uint64_t head = 0, dst = 0;
      size_t n0 = VarintAt(wal, base, &head);
      add("ops: first op head", p + kOpsFixedSize, n0);
      size_t n1 = VarintAt(wal, base + n0, &dst);
      add("ops: first op destination", p + kOpsFixedSize + n0, n1);
      if ((head & 1) != 0) {
        uint64_t src = 0;
        add("ops: first op source", p + kOpsFixedSize + n0 + n1,
            VarintAt(wal, base + n0 + n1, &src));
      } else {
        add("ops: first op bytes", p + kOpsFixedSize + n0 + n1, head >> 1);
      }
      add("ops: last payload byte", p + len - 1, 1);
      break;
    }
    case RecordType::kOpsGroup: {
      // docs/format/wal.md "Ops group": LSN u64, varint entry count,
      // varint body length, then the body (raw: entries of varint page
      // step, LSN step and ops length, then the ops; or an lz4 block).
      add("group: LSN", p, kGroupFixedSize);
      const size_t base = r.offset + p + kGroupFixedSize;
      uint64_t count = 0, body = 0;
      const size_t n0 = VarintAt(wal, base, &count);
      add("group: entry count", p + kGroupFixedSize, n0);
      const size_t n1 = VarintAt(wal, base + n0, &body);
      add("group: body length", p + kGroupFixedSize + n0, n1);
      const uint64_t b = p + kGroupFixedSize + n0 + n1;
      if ((r.header.flags & kFlagCompressed) != 0) {
        add("group: lz4 block", b, len - (b - p));
        break;
      }
      uint64_t v = 0;
      const size_t e0 = VarintAt(wal, r.offset + b, &v);
      add("group: first entry page step", b, e0);
      const size_t e1 = VarintAt(wal, r.offset + b + e0, &v);
      add("group: first entry LSN step", b + e0, e1);
      const size_t e2 = VarintAt(wal, r.offset + b + e0 + e1, &v);
      add("group: first entry ops length", b + e0 + e1, e2);
      add("group: first op head", b + e0 + e1 + e2, VarintAt(wal, r.offset + b + e0 + e1 + e2, &v));
      add("group: last payload byte", p + len - 1, 1);
      break;
    }
    case RecordType::kCommit: {
      // Offsets from the encoder: each field set to a distinct marker.
      CommitInfo marks;
      marks.txn_id = 0xa1a1a1a1a1a1a1a1ull;
      marks.lsn = 0xa2a2a2a2a2a2a2a2ull;
      marks.root = 0xa3a3a3a3u;
      marks.freelist_head = 0xa4a4a4a4u;
      marks.page_count = 0xa5a5a5a5a5a5a5a5ull;
      marks.freelist_count = 0xa6a6a6a6a6a6a6a6ull;
      marks.durable_lsn = 0xa7a7a7a7a7a7a7a7ull;
      marks.record_count = 0xa8a8a8a8u;
      marks.catalog_root = 0xa9a9a9a9u;
      uint8_t enc[kCommitPayloadSizeTrees];
      EncodeCommitPayload(marks, enc, kWalNewestFormatVersion);
      const std::pair<uint8_t, const char*> names[] = {
          {0xa1, "commit: txn id"},      {0xa2, "commit: LSN"},
          {0xa3, "commit: root"},        {0xa4, "commit: freelist head"},
          {0xa5, "commit: page count"},  {0xa6, "commit: freelist count"},
          {0xa7, "commit: durable LSN"}, {0xa8, "commit: record count"},
          {0xa9, "commit: catalog root"}};
      for (const auto& [mark, name] : names) {
        size_t first = kCommitPayloadSizeTrees, n = 0;
        for (size_t i = 0; i < kCommitPayloadSizeTrees; ++i) {
          if (enc[i] != mark) continue;
          if (first == kCommitPayloadSizeTrees) first = i;
          ++n;
        }
        if (n > 0) add(name, p + first, n);
      }
      break;
    }
    default:
      break;
  }
}

// ------------------------------------------------------------- outcomes

enum class Outcome : uint8_t {
  kRecoveredAll = 0,
  kTornTail = 1,
  kErrorAtOpen = 2,
  kErrorLater = 3,
  kViolation = 4,
};
constexpr int kOutcomes = 5;

struct ModeResult {
  Outcome outcome = Outcome::kViolation;
  std::string detail;  // the status, or what went wrong
};

// The crash image and its model, built once.
struct Golden {
  std::string page_file;
  std::string wal;
  std::vector<KV> states;  // states[k]: after k transactions of the log
  std::vector<Field> fields;
  std::vector<std::string> notes;  // how the image looks (for the table)
};

Status ScanAndGet(DB* db, const std::vector<const KV*>& key_sets, KV* got) {
  std::unique_ptr<ReadTxn> r;
  SOMBRA_RETURN_IF_ERROR(db->BeginRead(&r));
  auto c = r->NewCursor();
  got->clear();
  std::string prev;
  bool first = true;
  for (c->SeekToFirst(); c->Valid(); c->Next()) {
    std::string k(c->key());
    if (!first && !(prev < k)) return Status::OK();  // order broken: the maps will differ
    first = false;
    prev = k;
    (*got)[k] = std::string(c->value());
  }
  SOMBRA_RETURN_IF_ERROR(c->status());
  KV backward;
  for (c->SeekToLast(); c->Valid(); c->Prev()) backward[std::string(c->key())] = c->value();
  SOMBRA_RETURN_IF_ERROR(c->status());
  if (backward != *got) {
    (*got)["\xff(backward scan differs)"] = "";
    return Status::OK();
  }
  for (const KV* set : key_sets) {
    for (const auto& [k, v] : *set) {
      std::string value;
      Status s = r->Get(k, &value);
      if (s.IsNotFound()) {
        if (got->count(k) != 0) (*got)["\xff(Get misses " + k + ")"] = "";
        continue;
      }
      SOMBRA_RETURN_IF_ERROR(s);
      auto it = got->find(k);
      if (it == got->end() || it->second != value) (*got)["\xff(Get differs " + k + ")"] = "";
    }
  }
  return Status::OK();
}

// Whether an error message says where: "page N", "offset N", "record N",
// "meta page" or "header".
bool NamesAPlace(const std::string& msg) {
  for (const char* word : {"page ", "pages ", "offset ", "record "}) {
    for (size_t at = msg.find(word); at != std::string::npos; at = msg.find(word, at + 1)) {
      size_t d = at + std::strlen(word);
      if (d < msg.size() && msg[d] == '#') ++d;
      if (d < msg.size() && msg[d] >= '0' && msg[d] <= '9') return true;
    }
  }
  return Contains(msg, "meta page") || Contains(msg, "header");
}

class Judge {
 public:
  Judge(const Golden& g, const std::string& path, bool last_txn, bool whole_file)
      : g_(g), path_(path), last_txn_(last_txn), whole_file_(whole_file) {}

  // A non-OK status: a clean error, or a violation.
  ModeResult Error(const Status& s, Outcome clean, const std::string& step) const {
    const std::string msg = s.ToString();
    ModeResult r;
    r.detail = step + ": " + msg;
    const bool kind_ok =
        s.IsCorruption() || s.IsIOError() || s.IsNotSupported() || s.IsInvalidArgument();
    if (!kind_ok) {
      r.outcome = Outcome::kViolation;
      r.detail = "unexpected status kind at " + r.detail;
    } else if (!Contains(msg, path_) || (!whole_file_ && !NamesAPlace(msg))) {
      r.outcome = Outcome::kViolation;
      r.detail = "error does not name the file and a page/offset at " + r.detail;
    } else {
      r.outcome = clean;
    }
    return r;
  }

  // The state read back: all transactions, the torn tail when allowed, or
  // a violation naming which committed state it matches (if any).
  ModeResult State(const KV& got, const KV& want_all, const std::string& step) const {
    ModeResult r;
    if (got == want_all) {
      r.outcome = Outcome::kRecoveredAll;
      return r;
    }
    if (last_txn_ && &want_all == &g_.states[kLogTxns] && got == g_.states[kLogTxns - 1]) {
      r.outcome = Outcome::kTornTail;
      return r;
    }
    int match = -1;
    for (size_t k = 0; k < g_.states.size(); ++k) {
      if (got == g_.states[k]) match = static_cast<int>(k);
    }
    r.outcome = Outcome::kViolation;
    r.detail = step + ": no error, but " +
               (match >= 0 ? "the state after " + std::to_string(match) + " of " +
                                 std::to_string(kLogTxns) + " log transactions"
                           : "a state never committed (" + DiffKV(got, want_all) + ")");
    return r;
  }

 private:
  const Golden& g_;
  const std::string& path_;
  const bool last_txn_;
  const bool whole_file_;  // a cut or removed file: naming the file is enough
};

// Whether the file at `path` holds exactly `want` (without copying it).
bool FileEquals(const std::string& path, const std::string& want) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  bool same = ::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) == want.size();
  static char buf[1 << 16];
  for (size_t off = 0; same && off < want.size();) {
    ssize_t n = ::pread(fd, buf, std::min(sizeof(buf), want.size() - off), static_cast<off_t>(off));
    if (n <= 0 || std::memcmp(buf, want.data() + off, static_cast<size_t>(n)) != 0) same = false;
    off += n > 0 ? static_cast<size_t>(n) : 0;
  }
  ::close(fd);
  return same;
}

// Makes the file at `path` hold `data`, rewriting it in place.
bool WriteWhole(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = ::ftruncate(fd, static_cast<off_t>(data.size())) == 0;
  for (size_t off = 0; ok && off < data.size();) {
    ssize_t n = ::pwrite(fd, data.data() + off, data.size() - off, static_cast<off_t>(off));
    ok = n > 0;
    off += ok ? static_cast<size_t>(n) : 0;
  }
  ::close(fd);
  return ok;
}

Options SweepOptions(bool read_only) {
  Options o;
  o.page_size = kPageSize;
  o.read_only = read_only;
  return o;
}

// One open of the damaged copy at `path` (files equal to pf / wal).
ModeResult RunMode(const Golden& g, const std::string& path, const std::string& pf, bool pf_missing,
                   const std::string& wal, bool read_only, bool last_txn, bool whole_file) {
  sombra::test::NoSyncEnv env;
  Judge judge(g, path, last_txn, whole_file);
  const KV& all = g.states[kLogTxns];
  const std::vector<const KV*> keys = {&g.states[kLogTxns - 1], &all};
  auto unchanged = [&] {
    return (pf_missing ? !FileExists(path) : FileEquals(path, pf)) &&
           FileEquals(path + "-wal", wal);
  };
  ModeResult result;
  {
    std::unique_ptr<DB> db;
    Status s = sombra::db::OpenWithEnv(&env, SweepOptions(read_only), path, &db);
    if (!s.ok()) {
      result = judge.Error(s, Outcome::kErrorAtOpen, "open");
      if (result.outcome != Outcome::kViolation && !unchanged()) {
        result.outcome = Outcome::kViolation;
        result.detail = "the failed open changed the files (" + result.detail + ")";
      }
      return result;
    }
    s = db->Verify();
    if (!s.ok()) return judge.Error(s, Outcome::kErrorLater, "verify");
    KV got;
    s = ScanAndGet(db.get(), keys, &got);
    if (!s.ok()) return judge.Error(s, Outcome::kErrorLater, "scan");
    result = judge.State(got, all, "open + verify + scan");
    if (result.outcome == Outcome::kViolation) return result;
    if (read_only) {
      db.reset();
      if (!unchanged()) return {Outcome::kViolation, "the read-only open changed the files"};
      return result;
    }
    // One more commit that allocates (a damaged freelist shows here), then
    // close and reopen.
    KV after = result.outcome == Outcome::kTornTail ? g.states[kLogTxns - 1] : all;
    {
      std::unique_ptr<WriteTxn> w;
      s = db->BeginWrite(&w);
      if (s.ok()) s = w->Put("zz-after-big", FillValue(kBigValue, 77));
      if (s.ok()) s = w->Put("zz-after-small", "x");
      if (s.ok()) s = w->Delete(BaseKey(5));
      if (s.ok()) s = w->Commit();
      if (!s.ok()) return judge.Error(s, Outcome::kErrorLater, "commit after recovery");
    }
    after["zz-after-big"] = FillValue(kBigValue, 77);
    after["zz-after-small"] = "x";
    after.erase(BaseKey(5));
    s = db->Verify();
    if (!s.ok()) return judge.Error(s, Outcome::kErrorLater, "verify after a commit");
    const std::vector<const KV*> keys2 = {&after};
    s = ScanAndGet(db.get(), keys2, &got);
    if (!s.ok()) return judge.Error(s, Outcome::kErrorLater, "scan after a commit");
    if (got != after) {
      return {Outcome::kViolation,
              "after one more commit, the state differs: " + DiffKV(got, after)};
    }
  }
  std::unique_ptr<DB> db;
  Status s = sombra::db::OpenWithEnv(&env, SweepOptions(false), path, &db);
  if (!s.ok()) return judge.Error(s, Outcome::kErrorLater, "reopen");
  s = db->Verify();
  if (!s.ok()) return judge.Error(s, Outcome::kErrorLater, "verify after reopen");
  KV got;
  KV after = result.outcome == Outcome::kTornTail ? g.states[kLogTxns - 1] : all;
  after["zz-after-big"] = FillValue(kBigValue, 77);
  after["zz-after-small"] = "x";
  after.erase(BaseKey(5));
  const std::vector<const KV*> keys2 = {&after};
  s = ScanAndGet(db.get(), keys2, &got);
  if (!s.ok()) return judge.Error(s, Outcome::kErrorLater, "scan after reopen");
  if (got != after) {
    return {Outcome::kViolation, "after close + reopen, the state differs: " + DiffKV(got, after)};
  }
  return result;
}

// ---------------------------------------------------------------- pipes

void WriteAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// One damaged copy: a byte of a field XORed with a pattern.
struct Cell {
  uint64_t byte;  // offset inside the field
  uint8_t pattern;
};

// A result on the pipe: cell index, mode (0 read-only, 1 writable),
// outcome, detail length, detail.
std::string Encode(uint32_t cell, uint8_t mode, const ModeResult& r) {
  std::string out(reinterpret_cast<const char*>(&cell), 4);
  out += static_cast<char>(mode);
  out += static_cast<char>(r.outcome);
  uint32_t n = static_cast<uint32_t>(r.detail.size());
  out.append(reinterpret_cast<const char*>(&n), 4);
  return out + r.detail;
}

bool Decode(const std::string& in, size_t* pos, uint32_t* cell, uint8_t* mode, ModeResult* r) {
  if (*pos + 10 > in.size()) return false;
  std::memcpy(cell, in.data() + *pos, 4);
  *mode = static_cast<uint8_t>(in[*pos + 4]);
  r->outcome = static_cast<Outcome>(in[*pos + 5]);
  uint32_t n = 0;
  std::memcpy(&n, in.data() + *pos + 6, 4);
  if (*pos + 10 + n > in.size()) return false;
  r->detail = in.substr(*pos + 10, n);
  *pos += 10 + n;
  return true;
}

// Runs cells [first, cells.size()) of `field` in one child process: each
// damaged copy opened read-only, then writable. Results go to *results
// (two per cell); a cell whose child died or hung gets that as its
// violation, and the cells after it run in a new child.
void RunField(Golden* g, const std::string& path, const Field& field,
              const std::vector<Cell>& cells,
              std::vector<std::pair<ModeResult, ModeResult>>* results) {
  results->assign(cells.size(), {});
  std::vector<uint8_t> have(cells.size(), 0);  // bit 0: read-only, bit 1: writable
  size_t first = 0;
  while (first < cells.size()) {
    int fds[2];
    if (::pipe(fds) != 0) {
      ADD_FAILURE() << "pipe failed";
      return;
    }
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      std::string& target = field.file == Which::kWal ? g->wal : g->page_file;
      for (size_t i = first; i < cells.size(); ++i) {
        ::alarm(60);
        const uint64_t at = field.offset + cells[i].byte;
        const bool whole = field.new_size != -1;
        const std::string saved = whole ? target : std::string();
        if (whole) {
          target.resize(field.new_size >= 0 ? static_cast<size_t>(field.new_size) : 0);
        } else {
          target[at] = static_cast<char>(static_cast<uint8_t>(target[at]) ^ cells[i].pattern);
        }
        const bool pf_missing = field.new_size == kRemoved && field.file == Which::kPageFile;
        ModeResult ro, rw;
        if (!WriteWhole(path, g->page_file) || !WriteWhole(path + "-wal", g->wal) ||
            (pf_missing && ::unlink(path.c_str()) != 0)) {
          ro = rw = {Outcome::kViolation, "cannot write the copy"};
          WriteAll(fds[1], Encode(static_cast<uint32_t>(i), 0, ro) +
                               Encode(static_cast<uint32_t>(i), 1, rw));
        } else {
          ro = RunMode(*g, path, g->page_file, pf_missing, g->wal, /*read_only=*/true,
                       field.last_txn, whole);
          WriteAll(fds[1], Encode(static_cast<uint32_t>(i), 0, ro));
          // The read-only open wrote nothing (checked): the same files serve.
          rw = RunMode(*g, path, g->page_file, pf_missing, g->wal, /*read_only=*/false,
                       field.last_txn, whole);
          WriteAll(fds[1], Encode(static_cast<uint32_t>(i), 1, rw));
        }
        if (whole) {
          target = saved;
        } else {
          target[at] = static_cast<char>(static_cast<uint8_t>(target[at]) ^ cells[i].pattern);
        }
      }
      ::_exit(0);
    }
    ::close(fds[1]);
    std::string out = ReadAll(fds[0]);
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    size_t pos = 0;
    uint32_t cell = 0;
    uint8_t mode = 0;
    ModeResult r;
    while (Decode(out, &pos, &cell, &mode, &r)) {
      if (cell >= cells.size() || mode > 1) break;
      (mode == 0 ? (*results)[cell].first : (*results)[cell].second) = r;
      have[cell] |= static_cast<uint8_t>(1u << mode);
    }
    while (first < cells.size() && have[first] == 3) ++first;
    if (first == cells.size()) break;
    // The child stopped inside cell `first`.
    std::string death;
    if (WIFSIGNALED(status)) {
      death = WTERMSIG(status) == SIGALRM
                  ? "hang (no result in 60 s)"
                  : "crash (signal " + std::to_string(WTERMSIG(status)) + ")";
    } else {
      death = "the child exited with status " + std::to_string(WEXITSTATUS(status));
    }
    if ((have[first] & 1) == 0) (*results)[first].first = {Outcome::kViolation, death};
    (*results)[first].second = {
        Outcome::kViolation, (have[first] & 1) == 0 ? "not run (the read-only open died)" : death};
    ++first;
  }
}

// ------------------------------------------------------------ the image

// Leaf and overflow pages of the page file, found by kind.
std::vector<uint32_t> PagesOfKind(const std::string& file, uint64_t page_count, uint8_t kind) {
  std::vector<uint32_t> out;
  for (uint64_t p = pager::kFirstDataPage; p < page_count && (p + 1) * kPageSize <= file.size();
       ++p) {
    if (static_cast<uint8_t>(file[p * kPageSize + pager::kHeaderKindOffset]) == kind) {
      out.push_back(static_cast<uint32_t>(p));
    }
  }
  return out;
}

void BuildGolden(Golden* g, const std::string& src) {
  Options o;
  o.page_size = kPageSize;
  o.durability = Durability::kFull;
  o.wal_checkpoint_bytes = uint64_t{1} << 40;  // no automatic checkpoint
  std::unique_ptr<DB> db = OpenOrDie(o, src);
  ASSERT_NE(db, nullptr);
  KV kv;
  auto put = [&](WriteTxn* w, const std::string& k, const std::string& v) {
    ASSERT_TRUE(w->Put(k, v).ok());
    kv[k] = v;
  };
  auto del = [&](WriteTxn* w, const std::string& k) {
    ASSERT_TRUE(w->Delete(k).ok());
    kv.erase(k);
  };
  // Before the checkpoint: kBaseKeys keys with 100-byte values, three of
  // them with overflow values; two of these are deleted again, so the
  // checkpointed file has a freelist.
  for (int part = 0; part < 4; ++part) {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    for (int i = part * kBaseKeys / 4; i < (part + 1) * kBaseKeys / 4; ++i) {
      const bool big = i == 200 || i == 300 || i == 1000 || i == 600;
      put(w.get(), BaseKey(i), FillValue(big ? kBigValue : 100, i));
    }
    ASSERT_TRUE(w->Commit().ok());
  }
  {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    del(w.get(), BaseKey(200));
    del(w.get(), BaseKey(300));
    ASSERT_TRUE(w->Commit().ok());
  }
  ASSERT_TRUE(db->Checkpoint().ok());
  g->states.push_back(kv);
  // Only in the log: updates (an image on a page's first change, deltas
  // after), a replaced overflow value (new chain from the freelist, old
  // chain freed), deletes and inserts; no split, so the root stays as the
  // checkpoint wrote it.
  for (int t = 1; t <= kLogTxns; ++t) {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    put(w.get(), BaseKey(500), FillValue(100, 5000 + t));  // the same leaf every time
    put(w.get(), BaseKey(40 + 7 * t), FillValue(100, 6000 + t));
    put(w.get(), BaseKey(800 + 11 * t), FillValue(100, 7000 + t));
    if (t == 2) put(w.get(), BaseKey(600), FillValue(kBigValue, 8000));
    if (t == 3) {
      del(w.get(), BaseKey(501));
      del(w.get(), BaseKey(502));
      del(w.get(), BaseKey(503));
    }
    if (t == 4) {
      put(w.get(), BaseKey(501) + "a", "new-1");
      put(w.get(), BaseKey(502) + "a", "new-2");
    }
    ASSERT_TRUE(w->Commit().ok());
    g->states.push_back(kv);
  }
  // The crash image: copied while the writer is open.
  g->page_file = sombra::test::ReadFileOrDie(src);
  g->wal = sombra::test::ReadFileOrDie(src + "-wal");
  db.reset();
  // Smaller copies, so that each damaged copy is fast to write and check:
  // the page file is cut to the pages in use at the checkpoint (as a clean
  // close leaves it; the bytes past them are zero and meaningless,
  // docs/format/file.md), the log after its last non-zero 4 KiB block (the
  // reader treats zeros and the end of the file alike, docs/format/wal.md).
  const uint64_t file_pages = ReadMeta(g->page_file, kPageSize).page_count;
  const uint64_t full_pf = g->page_file.size(), full_wal = g->wal.size();
  ASSERT_LE(file_pages * kPageSize, full_pf);
  g->page_file.resize(file_pages * kPageSize);
  size_t wal_used = g->wal.find_last_not_of('\0');
  ASSERT_NE(wal_used, std::string::npos);
  g->wal.resize(std::min(g->wal.size(), (wal_used / 4096 + 2) * 4096));

  // ---- what lies where
  const std::string& pf = g->page_file;
  const MetaInfo meta = ReadMeta(pf, kPageSize);
  const uint32_t in_force = static_cast<uint32_t>(meta.checkpoint_seq % 2);
  const std::vector<LogRecord> log = ParseLog(g->wal, kLogTxns);
  int commits = 0;
  std::set<uint32_t> touched;
  for (const auto& r : log) {
    if (r.header.type == static_cast<uint8_t>(wal::RecordType::kCommit)) {
      ++commits;
    } else {
      touched.insert(r.pages.begin(), r.pages.end());
    }
  }
  ASSERT_EQ(commits, kLogTxns) << "cannot parse the log";
  const uint64_t log_end = log.back().offset + wal::kRecordHeaderSize + log.back().header.length;
  g->notes.push_back("page file: " + std::to_string(full_pf) + " bytes, cut to " +
                     std::to_string(pf.size()) + ": " + std::to_string(meta.page_count) +
                     " pages at the checkpoint (meta page " + std::to_string(in_force) +
                     " in force, sequence " + std::to_string(meta.checkpoint_seq) +
                     ", checkpoint LSN " + std::to_string(meta.checkpoint_lsn) + ")");
  g->notes.push_back("log: " + std::to_string(full_wal) + " bytes, cut to " +
                     std::to_string(g->wal.size()) + "; " + std::to_string(log.size()) +
                     " records of " + std::to_string(kLogTxns) + " transactions end at offset " +
                     std::to_string(log_end) + "; an older generation's records follow; " +
                     std::to_string(touched.size()) + " pages changed by the log");

  std::vector<Field>& f = g->fields;
  AddMetaPage(&f, "meta page in force (page " + std::to_string(in_force) + ")",
              uint64_t{in_force} * kPageSize);
  AddMetaPage(&f, "standby meta page (page " + std::to_string(1 - in_force) + ")",
              uint64_t{1 - in_force} * kPageSize);

  const uint32_t root = Le32(pf, uint64_t{in_force} * kPageSize + pager::kMetaRootOffset);
  const std::vector<uint32_t> leaves =
      PagesOfKind(pf, meta.page_count, static_cast<uint8_t>(pager::PageKind::kLeaf));
  // A leaf with both fences that the log does not touch, one that holds
  // the reference of the untouched overflow value, and one the log
  // rewrites (its damage must vanish in recovery).
  uint32_t leaf = 0, ref_leaf = 0, rewritten = 0;
  const std::string big_key = BaseKey(1000);
  for (uint32_t p : leaves) {
    const uint64_t base = uint64_t{p} * kPageSize;
    const uint16_t low = Le16(pf, base + btree::kLowFenceLenOffset);
    const uint16_t high = Le16(pf, base + btree::kHighFenceLenOffset);
    const std::string lo = pf.substr(base + btree::kFencesOffset, low);
    const std::string hi = pf.substr(base + btree::kFencesOffset + low, high);
    const bool holds_big = (low == 0 || lo <= big_key) && (high == 0 || big_key < hi);
    if (touched.count(p) != 0) {
      if (rewritten == 0) rewritten = p;
      continue;
    }
    if (holds_big) {
      ref_leaf = p;
    } else if (leaf == 0 && low > 0 && high > 0) {
      leaf = p;
    }
  }
  ASSERT_NE(leaf, 0u) << "no untouched leaf";
  ASSERT_NE(ref_leaf, 0u) << "the leaf of the overflow value is touched by the log";
  ASSERT_NE(rewritten, 0u);
  ASSERT_EQ(touched.count(root), 0u) << "the log rewrote the root";
  ASSERT_EQ(static_cast<uint8_t>(pf[uint64_t{root} * kPageSize]),
            static_cast<uint8_t>(pager::PageKind::kInternal));
  AddNodePage(&f, "leaf page " + std::to_string(leaf) + " (untouched by the log)", pf,
              uint64_t{leaf} * kPageSize, true);
  AddOverflowRefRecord(&f, "leaf page " + std::to_string(ref_leaf) + " (untouched by the log)", pf,
                       uint64_t{ref_leaf} * kPageSize, big_key);
  AddNodePage(&f, "internal page " + std::to_string(root) + " (root, untouched by the log)", pf,
              uint64_t{root} * kPageSize, false);
  {
    const std::string group =
        "leaf page " + std::to_string(rewritten) + " (rewritten by a log image)";
    const uint64_t base = uint64_t{rewritten} * kPageSize;
    f.push_back(MakeField(group, "header: checksum", Which::kPageFile,
                          base + pager::kHeaderChecksumOffset, 8));
    f.push_back(
        MakeField(group, "free_start", Which::kPageFile, base + btree::kFreeStartOffset, 4));
    f.push_back(MakeField(group, "page body", Which::kPageFile, base + btree::kNodeHeaderEnd,
                          kPageSize - btree::kNodeHeaderEnd));
  }
  // The untouched overflow chain: its first (full) and last page.
  {
    // Follow the chain of big_key from its reference in ref_leaf.
    std::vector<Field> ref;
    AddOverflowRefRecord(&ref, "", pf, uint64_t{ref_leaf} * kPageSize, big_key);
    ASSERT_EQ(ref.size(), 4u);
    ASSERT_EQ(ref[2].name, "overflow record: first page");
    std::vector<uint32_t> chain;
    for (uint32_t p = Le32(pf, ref[2].offset); p != 0 && chain.size() < 10;
         p = Le32(pf, uint64_t{p} * kPageSize + btree::kOverflowNextOffset)) {
      ASSERT_LT(p, meta.page_count);
      ASSERT_EQ(touched.count(p), 0u) << "the log touches overflow page " << p;
      chain.push_back(p);
    }
    ASSERT_GE(chain.size(), 2u) << "no untouched overflow chain";
    const uint32_t first = chain.front(), last = chain.back();
    ASSERT_NE(first, 0u);
    ASSERT_NE(last, 0u);
    AddOverflowPage(&f, "overflow page " + std::to_string(first) + " (full, untouched)", pf,
                    uint64_t{first} * kPageSize);
    AddOverflowPage(&f, "overflow page " + std::to_string(last) + " (last of a chain, untouched)",
                    pf, uint64_t{last} * kPageSize);
  }
  // A free page of the checkpoint's freelist that the log does not touch.
  {
    uint32_t free_page = 0;
    uint32_t p = Le32(pf, uint64_t{in_force} * kPageSize + pager::kMetaFreelistHeadOffset);
    for (int hops = 0; p != 0 && hops < 100; ++hops) {
      if (touched.count(p) == 0) {
        free_page = p;
        break;
      }
      p = Le32(pf, uint64_t{p} * kPageSize + pager::kFreeNextOffset);
    }
    ASSERT_NE(free_page, 0u) << "no untouched free page";
    AddFreePage(&f, "free page " + std::to_string(free_page) + " (on the freelist, untouched)",
                uint64_t{free_page} * kPageSize);
  }

  // Whole-file damage of the page file beside the log (refused,
  // never re-initialised).
  {
    const std::string group = "page file, as a whole (the log intact)";
    const int64_t size = static_cast<int64_t>(pf.size());
    const std::pair<const char*, int64_t> cuts[] = {
        {"removed", kRemoved},
        {"cut to 0 bytes", 0},
        {"cut to one page", kPageSize},
        {"cut by one page", size - kPageSize},
        {"cut by 100 bytes", size - 100},
    };
    for (const auto& [name, new_size] : cuts) {
      Field fld = MakeField(group, name, Which::kPageFile, 0, 1);
      fld.new_size = new_size;
      f.push_back(fld);
    }
  }

  // ---- the log
  {
    const std::pair<size_t, const char*> header[] = {
        {wal::kWalMagicOffset, "magic"},
        {wal::kWalVersionOffset, "format version"},
        {wal::kWalPageSizeOffset, "page size"},
        {wal::kWalSaltOffset, "WAL salt"},
        {wal::kWalGenerationOffset, "generation"},
        {wal::kWalDbSaltOffset, "database salt"},
        {wal::kWalStartLsnOffset, "start LSN"},
        {wal::kWalBaseRootOffset, "base meta: root"},
        {wal::kWalBaseFreelistHeadOffset, "base meta: freelist head"},
        {wal::kWalBasePageCountOffset, "base meta: page count"},
        {wal::kWalBaseFreelistCountOffset, "base meta: freelist count"},
        {wal::kWalBaseSeqOffset, "base meta: checkpoint sequence"},
        {wal::kWalBaseCatalogRootOffset, "base meta: catalog root"},
        {wal::kWalReservedOffsetTrees, "reserved"},
        {wal::kWalHeaderChecksumOffset, "checksum"},
    };
    std::vector<std::pair<size_t, const char*>> sorted(std::begin(header), std::end(header));
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i) {
      const size_t end = i + 1 < sorted.size() ? sorted[i + 1].first : wal::kWalHeaderSize;
      Field fld = MakeField("WAL header", sorted[i].second, Which::kWal, sorted[i].first,
                            end - sorted[i].first);
      // Every byte of the header, however long a field.
      fld.bytes.clear();
      for (uint64_t b = 0; b < fld.size; ++b) fld.bytes.push_back(b);
      f.push_back(fld);
    }
  }
  // One record of each kind in an early transaction (later commits record
  // it as durable), and the records of the last transaction.
  auto kind_of = [](const LogRecord& r) -> std::string {
    switch (static_cast<wal::RecordType>(r.header.type)) {
      case wal::RecordType::kPageImage:
        return r.header.flags & wal::kFlagCompressed ? "image (lz4)" : "image (raw)";
      case wal::RecordType::kPageDelta:
        return "delta";
      case wal::RecordType::kPageOps:
        return "ops";
      case wal::RecordType::kOpsGroup:
        return r.header.flags & wal::kFlagCompressed ? "group (lz4)" : "group (raw)";
      case wal::RecordType::kCommit:
        return "commit";
      default:
        return "?";
    }
  };
  std::set<std::string> seen_mid, seen_last;
  for (const auto& r : log) {
    const bool last = r.txn == kLogTxns;
    const std::string kind = kind_of(r);
    std::set<std::string>& seen = last ? seen_last : seen_mid;
    if (!seen.insert(kind).second) continue;
    const std::string group = "log: " + kind + " record, transaction " + std::to_string(r.txn) +
                              " of " + std::to_string(kLogTxns) +
                              (last ? " (the last: no later commit)" : "") + ", offset " +
                              std::to_string(r.offset);
    AddRecord(&f, group, g->wal, r, last);
  }
  for (const char* kind :
       {"image (lz4)", "image (raw)", "delta", "group (raw)", "group (lz4)", "commit"}) {
    EXPECT_EQ(seen_mid.count(kind), 1u) << "no " << kind << " record before the last transaction";
  }
  EXPECT_EQ(seen_last.count("commit"), 1u);
  EXPECT_EQ(seen_last.count("delta"), 1u);
  if (log_end + wal::kRecordHeaderSize <= g->wal.size()) {
    Field tail = MakeField("log: after the last commit (older generation or zeros)",
                           "16 bytes at the tail", Which::kWal, log_end, wal::kRecordHeaderSize);
    f.push_back(tail);
  }
}

// ------------------------------------------------------------- the sweep

struct Row {
  std::string group, name;
  Which file;
  uint64_t offset = 0, size = 0, bytes = 0;
  bool whole = false;
  int counts[kOutcomes] = {};
};

struct Violation {
  std::string where;
  std::string detail;
};

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kRecoveredAll:
      return "recovered-all";
    case Outcome::kTornTail:
      return "torn tail";
    case Outcome::kErrorAtOpen:
      return "error at open";
    case Outcome::kErrorLater:
      return "error later";
    case Outcome::kViolation:
      return "VIOLATION";
  }
  return "?";
}

void WriteTable(const std::string& out_path, const Golden& g, const std::vector<Row>& rows,
                const std::vector<Violation>& violations, size_t cells) {
  std::ostringstream md;
  md << "# Damage sweep: fields x outcomes\n\n"
     << "Generated by `tests/unit/db/damage_sweep_test.cc` (run it with\n"
     << "`SOMBRA_WRITE_DAMAGE_TABLE=docs/design/damage.md`); do not edit by hand.\n\n"
     << "The database: " << kBaseKeys << " keys (100-byte values, overflow values of " << kBigValue
     << " bytes, a\n"
     << "freelist) loaded and checkpointed, then " << kLogTxns
     << " more transactions committed with durability full; the\n"
     << "page file and the log are copied while the writer is open, so those transactions\n"
     << "live only in the log.\n\n";
  for (const auto& n : g.notes) md << "- " << n << "\n";
  md << "\nEach byte (every byte of a field of up to " << kMaxBytesPerField
     << " bytes and of the WAL header; the first,\n"
     << "middle and last byte of a longer field) is XORed with 0xff and 0x01 (page file) or\n"
     << "0xff, 0x01 and 0x80 (log). Each damaged copy is opened read-only, then writable on\n"
     << "the same files (each in a child process, so a crash or a hang is reported); each\n"
     << "open is one outcome, so a row counts bytes x patterns x 2 opens. An open runs\n"
     << "Open, Verify, a forward and a backward scan and a Get of every key; a writable one\n"
     << "then commits once more (a value in new overflow pages: a damaged freelist shows\n"
     << "here), verifies, closes, reopens, verifies and scans again.\n\n"
     << "- **recovered-all**: every acknowledged transaction, Verify OK.\n"
     << "- **torn tail**: the state before the last transaction; allowed only for damage in\n"
     << "  the last transaction, which no later commit records as durable (a crash can leave\n"
     << "  exactly that, docs/format/wal.md \"Telling damage from a torn tail\").\n"
     << "- **error at open** / **error later** (from Verify, a read, the commit after\n"
     << "  recovery or the reopen): Corruption, IOError, NotSupported or InvalidArgument whose\n"
     << "  message names the file and a page, offset or record (or the meta page / log\n"
     << "  header); a failed open leaves both files unchanged, a read-only open never\n"
     << "  changes them.\n"
     << "- **VIOLATION**: anything else: a crash, a hang, fewer or other transactions without\n"
     << "  an error, an error that does not say where, an open that changed files it must\n"
     << "  not change.\n\n"
     << "The parts of the page file are pages the log does not touch (their damage must be\n"
     << "reported), except one leaf the log rewrites from a full image (its damage must\n"
     << "vanish); the log records are the first of each kind in an early transaction (later\n"
     << "commits record it as durable) and those of the last transaction. The rows \"page\n"
     << "file, as a whole\" cut or remove the page file beside the intact log (one damaged\n"
     << "copy each; naming the file is enough there).\n\n";
  md << "| part | field | file offset | bytes flipped | recovered-all | torn tail | error at "
        "open | error later | VIOLATION |\n"
     << "|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
  std::string prev_group;
  int total[kOutcomes] = {};
  for (const Row& r : rows) {
    md << "| " << (r.group == prev_group ? "" : r.group) << " | " << r.name << " | "
       << (r.file == Which::kWal ? "wal " : "") << r.offset << " | "
       << (r.whole ? std::string("whole file")
                   : std::to_string(r.bytes) + " of " + std::to_string(r.size));
    for (int o = 0; o < kOutcomes; ++o) {
      total[o] += r.counts[o];
      if (o == static_cast<int>(Outcome::kViolation) && r.counts[o] > 0) {
        md << " | **" << r.counts[o] << "**";
      } else {
        md << " | " << r.counts[o];
      }
    }
    md << " |\n";
    prev_group = r.group;
  }
  md << "| **total** | " << rows.size() << " fields | | " << cells << " damaged copies";
  for (int o = 0; o < kOutcomes; ++o) md << " | **" << total[o] << "**";
  md << " |\n\n";
  md << "## Violations\n\n";
  if (violations.empty()) md << "None.\n";
  size_t shown = 0;
  for (const auto& v : violations) {
    if (++shown > 400) {
      md << "- ... and " << violations.size() - 400 << " more\n";
      break;
    }
    std::string detail = v.detail;
    for (auto& ch : detail) {
      if (ch == '\n' || ch == '|') ch = ' ';
    }
    md << "- " << v.where << ": " << detail << "\n";
  }
  std::ofstream out(out_path, std::ios::trunc);
  out << md.str();
  if (!out) ADD_FAILURE() << "cannot write " << out_path;
}

std::string Hex(uint8_t b) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "0x%02x", b);
  return buf;
}

TEST(DamageSweepTest, EveryFieldOfTheFormatEitherRecoversEverythingOrFailsCleanly) {
  sombra::test::TempDir dir;
  Golden g;
  ASSERT_NO_FATAL_FAILURE(BuildGolden(&g, dir.File("src")));
  ASSERT_FALSE(g.fields.empty());
  ASSERT_EQ(g.states.size(), size_t{kLogTxns + 1});
  const std::string path = dir.File("copy");

  // The undamaged copy recovers everything, both ways (a pattern of 0).
  {
    const Field none = MakeField("none", "none", Which::kPageFile, 0, 1);
    std::vector<std::pair<ModeResult, ModeResult>> results;
    RunField(&g, path, none, {{0, 0}}, &results);
    ASSERT_EQ(results[0].first.outcome, Outcome::kRecoveredAll) << results[0].first.detail;
    ASSERT_EQ(results[0].second.outcome, Outcome::kRecoveredAll) << results[0].second.detail;
  }

  const auto start = std::chrono::steady_clock::now();
  std::vector<Row> rows;
  std::vector<Violation> violations;
  size_t cells = 0;
  const bool verbose = std::getenv("SOMBRA_DAMAGE_VERBOSE") != nullptr;
  // SOMBRA_DAMAGE_FILTER=TEXT sweeps only the fields whose part or name
  // contains TEXT (for debugging; the table is then partial).
  const char* filter = std::getenv("SOMBRA_DAMAGE_FILTER");
  size_t stride = kDefaultStride;
  if (const char* st = std::getenv("SOMBRA_DAMAGE_STRIDE")) {
    stride = std::max<size_t>(1, std::strtoul(st, nullptr, 10));
  }
  size_t all_cells = 0;
  for (const Field& field : g.fields) {
    if (filter != nullptr && !Contains(field.group + " / " + field.name, filter)) continue;
    Row row;
    row.group = field.group;
    row.name = field.name;
    row.file = field.file;
    row.offset = field.offset;
    row.size = field.size;
    row.bytes = field.bytes.size();
    row.whole = field.new_size != -1;
    std::vector<Cell> field_cells;
    for (uint64_t b : field.bytes) {
      ASSERT_LT(field.offset + b, (field.file == Which::kWal ? g.wal : g.page_file).size())
          << field.group << " " << field.name;
      if (field.new_size != -1) {
        field_cells.push_back({b, 0});
        continue;
      }
      for (uint8_t pattern : field.file == Which::kWal ? kWalPatterns : kPageFilePatterns) {
        if ((all_cells++ % stride) == 0) field_cells.push_back({b, pattern});
      }
    }
    if (field_cells.empty()) {
      field_cells.push_back(
          {field.bytes.back(), (field.file == Which::kWal ? kWalPatterns : kPageFilePatterns)[0]});
    }
    std::vector<std::pair<ModeResult, ModeResult>> results;
    RunField(&g, path, field, field_cells, &results);
    for (size_t i = 0; i < field_cells.size(); ++i) {
      ++cells;
      const uint64_t b = field_cells[i].byte;
      const uint64_t at = field.offset + b;
      for (int m = 0; m < 2; ++m) {
        const ModeResult& r = m == 0 ? results[i].first : results[i].second;
        row.counts[static_cast<int>(r.outcome)]++;
        const std::string mode = m == 0 ? "read-only" : "writable";
        const std::string where =
            field.new_size != -1
                ? field.group + " / " + field.name + ", " + mode
                : field.group + " / " + field.name + ", byte " + std::to_string(b) + " (" +
                      (field.file == Which::kWal ? "wal" : "page file") + " offset " +
                      std::to_string(at) + ") ^ " + Hex(field_cells[i].pattern) + ", " + mode;
        if (r.outcome == Outcome::kViolation) violations.push_back({where, r.detail});
        if (verbose) {
          std::fprintf(stderr, "%s: %s%s%s\n", where.c_str(), OutcomeName(r.outcome),
                       r.detail.empty() ? "" : ": ", r.detail.c_str());
        }
      }
    }
    rows.push_back(row);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("damage sweep: %zu fields, %zu damaged copies (1 in %zu), %zu violations, %.1f s\n",
              rows.size(), cells, stride, violations.size(), seconds);
  if (const char* out = std::getenv("SOMBRA_WRITE_DAMAGE_TABLE")) {
    EXPECT_TRUE(stride == 1 && filter == nullptr)
        << "the table is partial (SOMBRA_DAMAGE_STRIDE or SOMBRA_DAMAGE_FILTER, or a sanitizer "
           "build): write it from a full Release run";
    WriteTable(out, g, rows, violations, cells);
  }
  size_t shown = 0;
  for (const auto& v : violations) {
    if (++shown > 60) break;
    ADD_FAILURE() << "VIOLATION: " << v.where << ": " << v.detail;
  }
  EXPECT_TRUE(violations.empty()) << violations.size() << " violations (the first 60 above)";
}

}  // namespace
}  // namespace sombra::dbtest
