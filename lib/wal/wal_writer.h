// wal/wal_writer.h: WalWriter, the append side of the write-ahead log, with
// group commit (docs/architecture.md, "Commit, checkpoint and recovery"; docs/format/wal.md).
//
// A commit appends its batch (BatchBuilder::data()) with one pwrite at the
// tail, releases the writer lock, then waits in SyncTo for durability. The
// first waiter becomes the leader and runs one fdatasync for every batch
// appended so far; the others wait for it. So one fdatasync covers every
// transaction appended before it, and the next transaction is built and
// appended while the previous one syncs.
//
// The leader lingers before it syncs while fewer batches wait for a sync
// than there were committers in SyncTo when the last sync ended, for at most
// half that sync's duration (and 500 us): the committers the last sync
// released are building their next transactions, and without the wait each
// would miss this sync and wait for the next one, so each sync would cover
// about half of them. A single committer never lingers, and a Restart
// (a checkpoint, which holds the writer lock, so no batch can come) ends
// a linger at once.
//
//   // under the database's writer lock:
//   batch.Reset(writer->last_checksum());   ... add records ...
//   SOMBRA_ASSIGN_OR_RETURN(uint64_t end, writer->Append(batch));
//   // writer lock released:
//   SOMBRA_RETURN_IF_ERROR(writer->SyncTo(end));   // durable now
//
// The file is preallocated with written zeros and keeps its size across
// generations, so an append inside it changes no file size and fdatasync
// writes no metadata. When a batch would pass its end it grows in 4 MiB
// steps: the batch, then written zeros to the step's end.
//
// No write to the file is larger than kWritePiece, batches included. The
// page cache sizes the folio it makes for a write by the write's length, and
// a log held in large folios makes every later small append and its
// fdatasync slower (docs/design/checkpoint.md, "Group commit").
//
// Thread safety: Append and Restart must be serialised by the caller (the
// writer lock). SyncTo and the accessors may be called from any thread, and
// SyncTo concurrently with Append and Restart.
//
// Invariants:
//  1. 128 (the header) <= synced_offset() <= written_offset() <= file size; every byte
//     below synced_offset() was covered by a successful fdatasync.
//  2. [128, written_offset()) holds the records of the current generation,
//     chained from the header's salt; last_checksum() is the last one's.
//  3. The header of the current generation is durable (Open and Restart
//     sync it), so no record of this generation is ever on disk behind an
//     older generation's header.
//  4. After the first failed write or sync, every call returns that error
//     (sticky), and the record header at the synced (or acknowledged)
//     offset has been zeroed (best effort) so a reopen does not replay an
//     unacknowledged batch.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "env/env.h"
#include "util/metrics.h"
#include "util/result.h"
#include "wal/wal_batch.h"
#include "wal/wal_format.h"

namespace sombra::wal {

class WalWriter {
 public:
  // The most the pager preallocates for a new generation, the largest
  // write to the file, and the step Append grows the file by.
  static constexpr uint64_t kMaxPreallocation = uint64_t{1} << 20;
  static constexpr uint64_t kWritePiece = uint64_t{64} << 10;
  static constexpr uint64_t kGrowStep = uint64_t{4} << 20;

  // Tests only: headers written from now on (in this process) are of
  // format `version` (2: formats 2 and 3, as a build before page-op
  // records wrote them; 4: formats 4 and 5, before named trees; 0: this
  // build's 6 and 7), so that a test can make the logs an older build left.
  static void WriteFormatForTest(uint32_t version);

  // Opens (creating when missing) the log at `path` for generation
  // `generation` starting at `start_lsn`: extends the file with zeros to at
  // least preallocate_bytes (an existing file keeps its size and its blocks
  // are reused), writes a fresh header with a new random salt and
  // fdatasyncs once; a newly created file also gets its directory synced.
  // Records of older generations stay behind the header and never
  // validate. REQUIRES: the log's previous content has been recovered (it
  // is overwritten). `metrics` (may be null) must outlive the writer; it
  // gets the counters wal_records, wal_bytes, wal_image_records,
  // wal_delta_records, wal_ops_records, wal_group_records, wal_copy_ops
  // (copies from other pages in page ops), wal_compressed_bytes_saved,
  // fsyncs and
  // wal_syncs_grouped (batches covered by an fdatasync beyond the first)
  // and wal_commit_fsyncs (the fdatasyncs of SyncTo, i.e. for commits).
  // `base` is the meta page the generation starts from (its checkpoint LSN
  // is start_lsn - 1), copied into the header (docs/format/wal.md).
  // InvalidArgument when page_size, db_salt (0), start_lsn (0) or base is
  // bad.
  static Result<std::unique_ptr<WalWriter>> Open(Env* env, const std::string& path,
                                                 uint32_t page_size, uint64_t db_salt,
                                                 uint64_t generation, uint64_t start_lsn,
                                                 const WalBase& base, uint64_t preallocate_bytes,
                                                 MetricsRegistry* metrics,
                                                 uint32_t version = kWalFormatVersionCopies);

  // Continues the log at `path` whose header is `header` (read and checked
  // by a WalReader) after its last committed record, which ends at
  // end_offset and has checksum last_checksum: for a writer that could not
  // restart the log because readers elsewhere still need it
  // (docs/design/readers.md). Bytes past end_offset (a torn or
  // unacknowledged batch) are overwritten by the next Append. fdatasyncs
  // once, so the records it continues are durable. NotSupported for a log
  // of another format version; InvalidArgument for an offset outside it.
  static Result<std::unique_ptr<WalWriter>> Resume(Env* env, const std::string& path,
                                                   const WalHeader& header, uint64_t end_offset,
                                                   uint64_t last_checksum,
                                                   MetricsRegistry* metrics);

  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;
  ~WalWriter();

  // Starts a new generation (after a checkpoint made the page file hold
  // every LSN below start_lsn): new salt, new header at offset 0, synced;
  // the tail goes back to 128. The sync also makes every batch appended
  // before it durable, so a SyncTo still pending for one returns OK.
  // REQUIRES: serialised with Append.
  [[nodiscard]] Status Restart(uint64_t generation, uint64_t start_lsn, const WalBase& base);

  // The seed of the next batch: the last record's checksum, or the salt.
  uint64_t last_checksum() const;

  // Writes `batch` (complete records chained from last_checksum(), the last
  // one's checksum being batch_last_checksum) at the tail with one pwrite;
  // returns the offset of its end, to pass to SyncTo. IOError (sticky) when
  // the write fails. REQUIRES: serialised with Append and Restart.
  Result<uint64_t> Append(std::string_view batch, uint64_t batch_last_checksum,
                          const BatchStats& stats = {});
  Result<uint64_t> Append(const BatchBuilder& batch) {
    return Append(batch.data(), batch.last_checksum(), batch.stats());
  }

  // Returns once every byte below end_offset is durable, running or joining
  // a group fdatasync. An end_offset beyond written_offset() can only come
  // from before the last Restart, whose sync made it durable: OK.
  [[nodiscard]] Status SyncTo(uint64_t end_offset);

  // The longest a leader lingers (see above): 500 us. Tests only: another
  // bound, so that a schedule does not depend on how long a sync took.
  static constexpr std::chrono::microseconds kMaxLinger{500};
  void SetMaxLingerForTest(std::chrono::microseconds max);
  // Threads inside SyncTo (leader and waiters), for tests' schedules.
  uint32_t syncers() const;

  uint64_t written_offset() const;
  uint64_t synced_offset() const;
  // Records that every batch ending at or before end_offset was
  // acknowledged to its committer without waiting for its sync (durability
  // normal/off): a later failure must not cut the log before it.
  void Acknowledge(uint64_t end_offset);
  // Bytes of records written since the last Open or Restart.
  uint64_t log_bytes() const;
  // The header of the current generation.
  WalHeader header() const;
  // OK, or the sticky error.
  Status error() const;
  const std::string& path() const { return file_->path(); }

 private:
  WalWriter(std::unique_ptr<File> file, const WalHeader& header, uint64_t file_size,
            MetricsRegistry* metrics);

  // Writes zeros over [from, to).
  Status WriteZeros(uint64_t from, uint64_t to);
  // `data` at `offset`, in writes of at most kWritePiece.
  Status WritePieces(uint64_t offset, std::string_view data);
  // Writes a header for a new generation at offset 0 (new salt) and syncs.
  Status WriteHeader(uint64_t generation, uint64_t start_lsn, const WalBase& base,
                     uint32_t version = kWalFormatVersionCopies);
  // The leader's wait before its sync (see the file comment).
  // REQUIRES: `lock` holds mu_; syncing_ is set.
  void Linger(std::unique_lock<std::mutex>& lock);
  // Records `s` as the sticky error (the first one wins), zeroes the record
  // header at the synced offset (best effort) and wakes the waiters.
  // Returns the sticky error. REQUIRES: `lock` holds mu_.
  Status Fail(std::unique_lock<std::mutex>& lock, const Status& s);

  const std::unique_ptr<File> file_;
  // Changed only by Open and Append (serialised); read by Fail.
  std::atomic<uint64_t> file_size_;

  Counter* records_ = nullptr;
  Counter* bytes_ = nullptr;
  Counter* image_records_ = nullptr;
  Counter* delta_records_ = nullptr;
  Counter* ops_records_ = nullptr;
  Counter* group_records_ = nullptr;
  Counter* copy_ops_ = nullptr;
  Counter* compressed_saved_ = nullptr;
  Counter* fsyncs_ = nullptr;
  Counter* syncs_grouped_ = nullptr;
  Counter* commit_syncs_ = nullptr;  // fdatasyncs that made commits durable (SyncTo)
  Counter* lingers_ = nullptr;       // leaders that waited for more batches

  mutable std::mutex mu_;
  std::condition_variable sync_done_;
  WalHeader header_;                   // guarded by mu_
  uint64_t last_checksum_ = 0;         // guarded by mu_
  uint64_t written_ = kWalHeaderSize;  // guarded by mu_
  uint64_t synced_ = kWalHeaderSize;   // guarded by mu_
  uint64_t acked_ = kWalHeaderSize;    // guarded by mu_; acknowledged before their sync
  uint64_t written_batches_ = 0;       // guarded by mu_; batches appended, ever
  uint64_t synced_batches_ = 0;        // guarded by mu_; of those, known durable
  bool syncing_ = false;               // guarded by mu_; a leader (or Restart) is syncing
  // The linger: Append wakes a lingering leader.
  std::condition_variable appended_;
  uint32_t syncers_ = 0;                   // guarded by mu_; threads inside SyncTo
  uint32_t committers_ = 1;                // guarded by mu_; syncers_ when the last sync ended
  std::chrono::nanoseconds last_sync_{0};  // guarded by mu_; how long it took
  std::chrono::microseconds max_linger_{kMaxLinger};  // guarded by mu_
  bool linger_fixed_ = false;      // guarded by mu_; SetMaxLingerForTest was called
  uint32_t restarts_waiting_ = 0;  // guarded by mu_; Restarts waiting for a leader
  Status error_;                   // guarded by mu_; sticky
};

}  // namespace sombra::wal
