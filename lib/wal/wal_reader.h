// wal/wal_reader.h: WalReader, the sequential scanner of a WAL file used by
// recovery and by the inspector.
//
// Open() checks the file header; each Next() returns the next valid record
// (docs/format/wal.md, "A record is valid if and only if") until the first
// invalid one, where the reader stops for good and records why, where and
// in which record. The stop is a fact, not a verdict: a torn tail after a
// crash stops the reader exactly as damage does. ProbePastStop() gathers the
// evidence that tells them apart (docs/format/wal.md, "Recovery").
//
//   WalReader reader(file.get());
//   SOMBRA_RETURN_IF_ERROR(reader.Open());      // NotFound: empty log
//   Record rec;
//   while (reader.Next(&rec)) { ... }
//   if (reader.stop_reason() == StopReason::kIOError) return reader.status();
//
// The file is read in 1 MiB chunks through the File; no length read from
// the file is trusted before it is checked against the bounds of its type
// and the file size, and arbitrary bytes never make the reader crash.
//
// Invariants (while not stopped):
//  1. valid_end_offset() is the end of the last record returned (the header size before
//     the first) and the next record is read there, its checksum seeded
//     with the last record's (the WAL salt for the first).
//  2. Every record returned satisfies rules R1-R7 and T1-T3 of wal.md.
//  3. committed_end_offset() <= valid_end_offset(); records between them
//     belong to the transaction in progress, whose LSN is stop_txn_lsn().
//
// Thread safety: none; a reader belongs to one thread. The File must not be
// written while the reader uses it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "env/env.h"
#include "sombra/status.h"
#include "wal/wal_format.h"
#include "wal/wal_record.h"

namespace sombra::wal {

class WalReader {
 public:
  // Bytes read from the file at a time.
  static constexpr size_t kChunkSize = size_t{1} << 20;

  // `file` must outlive the reader.
  explicit WalReader(File* file);

  WalReader(const WalReader&) = delete;
  WalReader& operator=(const WalReader&) = delete;

  // Reads and checks the header. NotFound ("empty log") when the file is
  // shorter than the header; Corruption naming the file and the failed
  // rule, or NotSupported for a newer format; IOError when reading fails.
  [[nodiscard]] Status Open();
  // REQUIRES: Open() succeeded.
  const WalHeader& header() const { return header_; }
  uint64_t file_size() const { return file_size_; }

  // The next valid record into *rec (its views are valid until the next
  // call of Next or ProbePastStop); false at the stop, and ever after. An
  // ops group is returned as its entries, each a page-ops record
  // (Record::group_entry); the reader's offsets and counts move past the
  // group when its first entry is returned.
  // REQUIRES: Open() succeeded.
  bool Next(Record* rec);

  // ---- The stop (meaningful once Next has returned false) ----
  StopReason stop_reason() const { return stop_reason_; }
  // Where the invalid record (or the end of the log) starts; equal to
  // valid_end_offset().
  uint64_t stop_offset() const { return stop_offset_; }
  // The 0-based number the invalid record would have had.
  uint64_t stop_record_index() const { return index_; }
  // A sentence naming the record, its offset and what is wrong.
  const std::string& stop_detail() const { return stop_detail_; }
  // The stop as a Corruption status, "WAL <path>: record N at offset O:
  // <detail>", for a caller that judged the stop to be damage.
  Status StopAsCorruption() const;
  // IOError when stop_reason() is kIOError; OK otherwise.
  const Status& status() const { return status_; }

  // End of the last valid record.
  uint64_t valid_end_offset() const { return pos_; }
  // End of the last valid commit record (the header size when there is none): the end of
  // the replayable prefix.
  uint64_t committed_end_offset() const { return committed_end_; }
  // Follows a log that a live writer appends to: re-reads the file size and
  // goes back to committed_end_offset(), so that the next Next() reads
  // what was appended since (the records of a transaction in progress at
  // the stop are read again). The stop is cleared. The caller checks that
  // the log was not restarted (its header unchanged) before trusting what
  // it reads. REQUIRES: Open() succeeded.
  [[nodiscard]] Status Continue();

  // Checksum of the last valid commit record (the salt when there is none):
  // the seed of what a writer appends after committed_end_offset().
  uint64_t committed_checksum() const { return committed_seed_; }
  // LSN of the last valid commit, 0 when there is none.
  uint64_t last_commit_lsn() const { return last_commit_lsn_; }
  // LSN of the transaction the next record (or the invalid one) belongs to:
  // last_commit_lsn() + 1, or header().start_lsn before the first commit.
  uint64_t stop_txn_lsn() const { return expected_lsn_; }

  struct ProbeResult {
    // Valid records found past the stop by following the chain.
    uint64_t records_found = 0;
    uint64_t commits_found = 0;
    // Highest durable LSN among the valid commit records found.
    std::optional<uint64_t> max_durable_lsn;
    std::optional<uint64_t> first_commit_lsn;
    // Where those commits are (meaningful when the LSNs are set).
    uint64_t max_durable_offset = 0;
    uint64_t first_commit_offset = 0;
    // Times the probe resynchronised on the record framing (the next record
    // was not where a stored length put it).
    uint64_t resyncs = 0;
    // max_durable_lsn >= stop_txn_lsn(): a later transaction was written
    // after the damaged one had been synced, so the damage is not a torn
    // write and recovery must report Corruption (unless salvaging).
    bool stop_was_durable = false;

    // Counts the commit record of `lsn` (durable up to `durable_lsn`) at
    // `offset`: the first one found, and the highest durable LSN.
    void NoteCommit(uint64_t lsn, uint64_t durable_lsn, uint64_t offset);
    // Adds the findings of `earlier`, a chain read before this probe's.
    void Add(const ProbeResult& earlier);
  };
  // Follows the chain past the stop (docs/format/wal.md, "Telling damage
  // from a torn tail"): the record after an invalid one is looked for at
  // the invalid record's stored length, seeded with its stored checksum or,
  // failing that, the checksum computed over its bytes; when it is not
  // there (a damaged length), the probe resynchronises on the record
  // framing: the first later offset where a record validates, chained from
  // the invalid record or from the record just before it. Invalid records
  // met on the way are passed the same way, up to the end of the file.
  // Commits whose LSN is below stop_txn_lsn() (an older generation's
  // chain, not this log's continuation) are not counted. Finds nothing for
  // a kIOError stop or a kEndOfLog stop at the end of the file; a zeroed
  // record header with bytes behind it is probed like any bad record (a
  // zeroed sector in the middle of a log). REQUIRES: Next() has returned
  // false. Does not move the stop.
  Result<ProbeResult> ProbePastStop();

  // For a log whose header failed its checks (Open returned Corruption):
  // reads the header's fields as stored, without trusting them, and looks
  // for transactions the page file lacks. `page_size` is the page file's;
  // `first_missing_lsn` is its checkpoint LSN + 1. Follows the chain from
  // the first record, seeded with the stored WAL salt, then probes past its end as
  // ProbePastStop does. The result's stop_was_durable is true when a valid
  // commit records a durable LSN >= first_missing_lsn; *intact_commit is
  // set when the chain from the first record is valid through a commit of LSN >=
  // first_missing_lsn. Either is damage a crash cannot produce
  // (docs/format/wal.md, "A damaged header").
  Result<ProbeResult> ProbeBehindDamagedHeader(uint32_t page_size, uint64_t first_missing_lsn,
                                               bool* intact_commit);

  // Salvage of a log whose header failed its checks: opens the reader with
  // the header's fields as stored (page size, salts, start LSN), unchecked
  // but for being usable (a valid page size, non-zero salt and start LSN),
  // so that the records that still chain from the stored salt can be read.
  // Corruption when they are not usable; NotFound for an empty log.
  [[nodiscard]] Status OpenAsStored();

 private:
  // The outcome of checking one record at a given place in the chain.
  struct Check {
    StopReason reason = StopReason::kNone;
    std::string detail;
    Status io;  // when reason == kIOError
  };

  // Buffers and scan state for header_ and file_size_; opened_ = true.
  void Setup();
  // Points *out at file bytes [offset, offset + n), reading a chunk when
  // they are not buffered. REQUIRES: offset + n <= file_size_, n <= chunk.
  Status Fetch(uint64_t offset, size_t n, const uint8_t** out);
  // Rules R1-R7 for the record at `offset` seeded with `seed` (no T rules).
  // On kNone, *rec holds the record (offset and checksum included; index
  // not set).
  StopReason CheckAt(uint64_t offset, uint64_t seed, Record* rec, Check* check);
  // The next entry of group_ as a page-ops record.
  void NextGroupEntry(Record* rec);
  // Rules T1-T3 for a record that passed CheckAt.
  StopReason CheckTxn(const Record& rec, std::string* detail) const;
  void Stop(StopReason reason, std::string detail);
  // The probe from an invalid record at `start` checked with `start_seed`.
  Result<ProbeResult> ProbeFrom(uint64_t start, uint64_t start_seed);
  // ProbeBehindDamagedHeader with header_'s stored fields read as the
  // layout of header_.version.
  Result<ProbeResult> ProbeAs(uint32_t page_size, uint64_t first_missing_lsn, bool* intact_commit);
  // The valid record after the invalid one at `off` (checked with `seed`):
  // where its stored length puts it, else by resynchronising (++*resyncs).
  // *at and *at_seed; false when there is none up to the end.
  Result<bool> NextValidAfter(uint64_t off, uint64_t seed, uint64_t* at, uint64_t* at_seed,
                              uint64_t* resyncs);
  // The first of `seeds` (in order) the record at `offset` validates with
  // (R1-R7): *seed. False when it validates with none.
  Result<bool> TrySeedsAt(uint64_t offset, const uint64_t* seeds, int num_seeds, uint64_t* seed);
  // Follows the valid chain from *off, seeded with *seed, to its first
  // invalid record, where *off and *seed are left; returns why that record
  // is invalid (check->io on kIOError, check->detail otherwise). Counts its
  // records and, by NoteCommit, its commits of LSN >= stop_txn_lsn() into
  // *found; older commits count as records only when `count_stale`.
  StopReason FollowChain(uint64_t* off, uint64_t* seed, bool count_stale, ProbeResult* found,
                         Check* check);
  // True when a well-formed record header (rules R2-R5) is at `offset`;
  // *io is set when reading failed.
  bool PlausibleHeaderAt(uint64_t offset, RecordHeader* h, Status* io);
  // The first offset at or after `from` where a record validates, seeded
  // with one of `seeds` or with the stored checksum of a well-formed record
  // right before it: *at and *seed. False when none does up to the end.
  Result<bool> Resync(uint64_t from, const uint64_t* seeds, int num_seeds, uint64_t* at,
                      uint64_t* seed);

  File* const file_;
  // Reads min(file size, kWalHeaderSize) bytes of the header into raw
  // (zero-filled past them).
  Status ReadRawHeader(uint8_t* raw, size_t* got);
  static WalHeader StoredFields(const uint8_t* raw);

  WalHeader header_;
  uint64_t file_size_ = 0;
  bool opened_ = false;

  static constexpr size_t kFollowReadAhead = size_t{64} << 10;
  size_t read_ahead_ = SIZE_MAX;  // bytes read at a time (capped by buf_)
  std::vector<uint8_t> buf_;
  uint64_t buf_offset_ = 0;  // file offset of buf_[0]
  size_t buf_len_ = 0;       // valid bytes in buf_
  DecodeScratch scratch_;    // what a record's views point into
  // The ops group whose entries Next returns, and the next one's number.
  Record group_;
  size_t group_next_ = 0;

  uint64_t pos_ = kWalHeaderSize;
  uint64_t index_ = 0;
  uint64_t seed_ = 0;  // checksum of the last valid record, or the salt
  uint64_t expected_lsn_ = 0;
  uint32_t txn_records_ = 0;
  uint64_t committed_end_ = kWalHeaderSize;
  uint64_t committed_seed_ = 0;   // seed_ at committed_end_
  uint64_t committed_index_ = 0;  // index_ at committed_end_
  uint64_t last_commit_lsn_ = 0;

  StopReason stop_reason_ = StopReason::kNone;
  uint64_t stop_offset_ = 0;
  std::string stop_detail_;
  Status status_;
};

}  // namespace sombra::wal
