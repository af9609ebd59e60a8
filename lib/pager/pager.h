// pager/pager.h: transactions over pages, with a write-ahead log.
//
// The Pager owns the page file (PageFile), the write-ahead log (lib/wal)
// and the committed page versions that the page file does not hold yet
// (VersionMap). Writers change private copies of pages in a PagerTxn; at
// commit the changes go to the log in one write (full images for the first
// change of a page since the last checkpoint, byte-range deltas after) and
// become immutable versions. Readers take a Snapshot: the newest version of
// a page at or below their LSN, else the page file through the map; no lock
// and no copy on that path. A checkpoint writes the newest versions to the
// page file and restarts the log; it never waits for readers (see
// docs/design/checkpoint.md).
//
// LSN: the i-th committed transaction since the database was created has
// LSN i (docs/format/wal.md).
//
// State machine of a commit (durability = full):
//
//   BUILD --Commit--> APPENDED --(writer slot released)--> SYNCING
//     ^                  |                                    |
//   BeginWrite      write failed                      fdatasync returned
//                        v                                    v
//                     FAILED (sticky) <--fsync failed-- PUBLISHED (visible)
//
// Invariants:
//  1. published_.lsn <= committed_.lsn; readers see published_ only, the
//     writer builds on committed_.
//  2. Every version in the map with lsn <= published_.lsn is durable in the
//     log (durability full) or in the page file.
//  3. The page file holds, for every page without versions, its content at
//     the checkpoint LSN. Of a page's versions, at most one is marked as
//     the file's content (PageVersion::in_file), set only when the
//     checkpoint that wrote it completed and cleared, under version_mu_,
//     when a checkpoint chooses to overwrite the page. A version a reader
//     needs is dropped only with the file's version, when every reader is
//     at or above it and no held map region has a private copy of the page
//     (docs/design/checkpoint.md, "Invariants").
//  4. After a failed log write or fsync, no transaction commits until the
//     database is reopened (sticky error); reads keep working.
//
// Readers in other processes (docs/design/readers.md): every handle claims a
// slot of the shared reader table `<path>-shm` and publishes there the
// oldest snapshot it reads. A checkpoint writes to the page file only
// versions at or below the oldest snapshot of every other handle, and
// restarts the log only when it wrote everything. A read-only handle
// follows the log: each BeginRead catches up on what was appended since
// the last one (pager_follow.cc).
//
// Thread safety: a Pager is shared by threads. BeginWrite waits for the
// single writer slot. A PagerTxn or Snapshot is used by one thread at a
// time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "env/env.h"
#include "env/reader_table.h"
#include "pager/page_file.h"
#include "pager/version_map.h"
#include "sombra/options.h"
#include "util/metrics.h"
#include "util/result.h"
#include "wal/wal_batch.h"
#include "wal/wal_reader.h"
#include "wal/wal_writer.h"

namespace sombra::pager {

class PagerTxn;
class Snapshot;

// What a commit record carries and a snapshot sees besides pages.
struct TreeState {
  uint64_t lsn = 0;
  uint32_t root = 0;
  uint64_t page_count = kFirstDataPage;
  uint32_t freelist_head = 0;
  uint64_t freelist_count = 0;
  uint32_t catalog_root = 0;  // the catalog of named trees; 0: none
};

// The state a commit record carries.
TreeState StateOfCommit(const wal::CommitInfo& c);
// The state a meta page names (its checkpoint LSN).
TreeState StateOfMeta(const Meta& m);

struct RecoveryStats {
  uint64_t transactions_replayed = 0;
  uint64_t records_replayed = 0;
  uint64_t bytes_discarded = 0;
  std::string stop;  // where and why the log ended
  // The meta page in force was damaged and the log header's copy of it
  // stood in (and, writable, rewrote it).
  bool meta_from_log = false;
  // Pages a checkpoint that did not complete had overwritten (or torn),
  // put back from the double-write file (docs/format/dwb.md).
  uint64_t pages_restored = 0;
};

// The copy of `meta` a log generation starting from it carries in its
// header (docs/format/wal.md, "File header").
wal::WalBase LogBase(const Meta& meta);

struct PagerOptions {
  // Keep the valid prefix of a log with a damaged record in its middle
  // instead of refusing to open with Corruption.
  bool salvage_wal = false;
  // durability=normal: fdatasync at most this long after a commit.
  uint32_t normal_sync_interval_ms = 50;
};

// Points of the commit and checkpoint paths where a test may run code
// (Pager::SetTestHook): deterministic schedules of the races between
// committers, readers and a checkpoint, without sleeps.
enum class PagerHook {
  kPublishedBeforePrune,     // Publish made commits visible, has not pruned yet
  kPruned,                   // PruneVersions has cut versions (bins not chained yet)
  kCheckpointPagesChosen,    // at-risk pages preserved, pages to write chosen
  kCheckpointPagesWritten,   // pages written, map not refreshed, nothing synced
  kCheckpointMetaPublished,  // meta page durable, log not restarted
};

class Pager {
 public:
  static Result<std::unique_ptr<Pager>> Open(Env* env, const std::string& path,
                                             const Options& options,
                                             const PagerOptions& pager_options = {},
                                             MetricsRegistry* metrics = nullptr);
  // Clean close: a checkpoint (unless read-only or failed), then the lock is
  // released. REQUIRES: no PagerTxn or Snapshot alive.
  ~Pager();

  Pager(const Pager&) = delete;
  Pager& operator=(const Pager&) = delete;

  const std::string& path() const { return file_->path(); }
  uint32_t page_size() const { return file_->page_size(); }
  bool read_only() const { return file_->read_only(); }

  // A consistent view of the last durable commit.
  std::unique_ptr<Snapshot> BeginRead();
  // Waits for the writer slot. The sticky error, if any.
  Result<std::unique_ptr<PagerTxn>> BeginWrite();

  // Writes every committed version to the page file and restarts the log.
  // After the page count went down, the file shrinks to it once no reader
  // reads an older state: when the room past it is more than a growth
  // step, or always with `trim_file` (DB::Compact).
  Status Checkpoint(bool trim_file = false);

  TreeState published() const;
  const RecoveryStats& recovery() const { return recovery_; }
  Status sticky_error() const;
  // The durable meta page of the page file (for tools and tests).
  const Meta& file_meta() const { return file_->durable_meta(); }
  uint32_t durable_meta_slot() const { return file_->durable_meta_slot(); }
  uint64_t wal_bytes() const;
  size_t version_count() const;
  // The shared reader table, or null when it could not be opened (a
  // read-only handle then serves the state it opened with and reports
  // pages a writer rewrote as Busy); why in table_error().
  ReaderTable* reader_table() const { return table_.get(); }
  const std::string& table_error() const { return table_error_; }
  // Read-only handles: true when a writer had the database open when the
  // handle opened or last caught up on the log.
  bool saw_live_writer() const { return saw_live_writer_.load(); }
  MetricsRegistry* metrics() const { return metrics_; }

  // Tests only: `hook` runs, in the thread that reaches it, at each point
  // of PagerHook. Set it before the threads that may reach it start.
  void SetTestHook(std::function<void(PagerHook)> hook) { hook_ = std::move(hook); }

 private:
  friend class PagerTxn;
  friend class Snapshot;

  struct Pending {  // appended, not yet published
    uint64_t end_offset;
    TreeState state;
    std::vector<uint32_t> pages;
  };

  Pager(Env* env, const Options& options, const PagerOptions& pager_options,
        MetricsRegistry* metrics);

  // Recovery (pager_recovery.cc): one function per step of
  // docs/format/wal.md, "Recovery". A Replay is what reading the log found.
  struct Replay;
  Status Recover();
  Status ReadLog(File* log, Replay* r);
  Status ReadLogHeader(File* log, wal::WalReader* reader, Replay* r, bool* replay);
  Status JudgeDamagedHeader(wal::WalReader* reader, Status* opened, Replay* r);
  Status CheckLogStart(const wal::WalReader& reader, Replay* r);
  Status ReplayLog(wal::WalReader* reader, Replay* r);
  Status JudgeStop(File* log, wal::WalReader* reader, Replay* r);
  Status CheckpointRecovered(Replay* r);
  // Recovery, before replay: the double-write batch, kept in r->dwb; when
  // it belongs to a checkpoint that did not complete, a writable handle
  // first puts back every page it copied (docs/format/dwb.md, "Recovery").
  Status LoadDoubleWrite(Replay* r);
  // Page `page_no` at LSN `lsn` as the checkpoint left it, verified, into
  // `out`: from the page file, else from r's double-write batch.
  Status FileBase(const Replay& r, uint32_t page_no, uint64_t lsn, uint8_t* out) const;
  Status ResumeLog(const Replay& r);
  // A follower's reading that raced with the writer: Busy, read again.
  Status LogChanged(const Status& s) const;
  Status FollowerIoError(File* log, uint64_t size_seen, const Status& s, bool live);
  Status OpenLog(uint64_t generation);

  // Checkpoint (pager_checkpoint.cc): one function per step of
  // docs/design/checkpoint.md, "Steps". REQUIRES: writer slot held.
  struct CheckpointWork;
  Status CheckpointLocked(bool trim_file = false);
  Status SyncLogAndPublish(bool sync);
  bool PutOffForReaders(const TreeState& state);
  void TakeVersionedPages(CheckpointWork* w);
  Status WriteCheckpoint(CheckpointWork* w, bool sync);
  Status PreserveAndChoose(CheckpointWork* w);
  Status PreserveAtRisk(const std::vector<uint32_t>& at_risk);
  Status WriteHeads(const CheckpointWork& w, bool sync);
  // Step 6a: the chosen pages, sealed, to the double-write file and synced
  // (docs/format/dwb.md) before any is overwritten in place.
  Status WriteDoubleWriteBatch(const CheckpointWork& w, bool sync);
  Status SyncPagesAndMeta(const CheckpointWork& w, bool sync);
  void CompleteCheckpoint(const CheckpointWork& w);
  Status GiveBackTail(const CheckpointWork& w);
  void GiveBackDoubleWrite();
  // A double-write file larger than this is emptied after its checkpoint.
  static constexpr uint64_t kDoubleWriteKeepBytes = uint64_t{4} << 20;
  // A checkpoint put off by readers elsewhere: when the log has grown to
  // at least twice what it would keep, replaces it by a new generation
  // that starts from the page file's checkpoint and carries one image of
  // every page changed since (docs/design/readers.md, "The log under a
  // reader held elsewhere"). REQUIRES: writer slot held, wal_ != nullptr,
  // everything committed published.
  Status CarryLog(const TreeState& state);
  Status WriteCarriedLog(const TreeState& state, const std::vector<uint32_t>& pages,
                         const std::vector<const PageVersion*>& heads, uint64_t carried_bytes,
                         bool* renamed);
  std::shared_ptr<wal::WalWriter> Wal() const {
    std::lock_guard<std::mutex> lock(wal_mu_);
    return wal_;
  }
  // Opens the reader table and claims this handle's slot (and, writable,
  // the writer's mark). A read-only handle that cannot open it goes on
  // without (table_error_).
  Status OpenReaderTable();
  // Read-only open: Recover() under the snapshot handshake, again when a
  // writer restarted the log or checkpointed during the reading.
  Status OpenFollower();
  // Read-only BeginRead: catches up on the log (pager_follow.cc) and
  // returns the LSN-consistent state to read. REQUIRES: follow_mu_ held.
  void CatchUp();
  Status IngestLog(bool* restarted);
  // A follower's base for a delta that is its page's first record in the
  // log: the page at that LSN, verified, from the page file or the
  // double-write file (false: neither has it; read again).
  std::function<bool(uint32_t, uint64_t, uint8_t*)> FollowerFileBase() const;
  Status SwitchLog();
  // The slot's value: the oldest snapshot of this handle (and the floor a
  // BeginRead in progress holds). REQUIRES: reader_mu_ held.
  void PublishSlotLocked();

  // The page as the writer sees it: newest version, else the file. A map
  // region the pointer depends on is added to *pins.
  Result<const uint8_t*> ReadCommitted(
      uint32_t page_no, std::vector<std::shared_ptr<const MappedRegion>>* pins) const;
  Result<const uint8_t*> ReadFile(const MappedRegion& region, uint32_t page_no) const;
  // True when a change of `page_no` may be logged as a delta or page ops
  // on the writer's base version: recovery rebuilds that version from the
  // log, or (log formats 8 and 9) finds it in the page file, kept whole by
  // the double-write file. REQUIRES: writer slot held.
  bool LogRebuildsBase(uint32_t page_no) const;

  // Commit path (pager_commit.cc): one function per step of the group
  // commit (docs/design/checkpoint.md, "Group commit").
  Status CommitTxn(PagerTxn* txn);
  Status BuildCommitBatch(PagerTxn* txn, const TreeState& next, uint64_t seed, bool ops_allowed,
                          std::vector<uint32_t>* pages);
  Result<uint64_t> AppendCommit(PagerTxn* txn, const TreeState& next, wal::WalWriter* wal,
                                std::vector<uint32_t> pages);
  Status SyncCommit(wal::WalWriter* wal, uint64_t end, uint64_t lsn);
  void MaybeCheckpoint(wal::WalWriter* wal);
  // The commit record of `state` (commits and carried logs).
  static wal::CommitInfo CommitRecord(const TreeState& state, uint64_t durable_lsn);
  // durable_lsn_ = max(durable_lsn_, lsn).
  void RaiseDurableLsn(uint64_t lsn);
  // Makes pending commits visible: those the log has synced, or all of
  // them (durability normal/off), in commit order; then prunes versions.
  void Publish(bool all);
  void PruneVersions(const std::vector<uint32_t>& pages, const std::vector<uint64_t>& snapshots);
  // Chains `bin` (versions cut from the map) behind the current retire
  // bin, so they live until every reader that began before is gone.
  void Retire(std::shared_ptr<RetireBin> bin);
  // The pages preserved in regions still held by a reader.
  // REQUIRES: version_mu_ held.
  std::unordered_set<uint32_t> PreservedPagesAlive();
  // Unregisters a snapshot and drops its retire bin under reader_mu_, so
  // that bins are only ever released and chained under that lock.
  void EndRead(uint64_t lsn, std::shared_ptr<RetireBin> bin);
  void SetSticky(const Status& s);
  void RunHook(PagerHook point) const {
    if (hook_) hook_(point);
  }
  std::vector<uint64_t> ReaderLsnsLocked() const;

  Env* const env_;
  const Options options_;
  const PagerOptions pager_options_;
  std::unique_ptr<MetricsRegistry> owned_metrics_;
  MetricsRegistry* metrics_;
  std::unique_ptr<PageFile> file_;
  // The log writer. A checkpoint that readers elsewhere put off may
  // replace it by a compacted log (CarryLog); it is changed only with the
  // writer slot and wal_mu_ held, so whoever holds the slot reads it
  // directly and others take a reference with Wal().
  std::shared_ptr<wal::WalWriter> wal_;
  mutable std::mutex wal_mu_;
  std::string wal_path_;
  uint64_t wal_generation_ = 0;
  RecoveryStats recovery_;

  // The writer slot.
  std::mutex writer_mu_;
  // Guarded by writer_mu_ (held by the active PagerTxn).
  TreeState committed_;
  // Pages whose newest version the log rebuilds: a record of this
  // generation brought the page to it (an image, or a delta or ops on a
  // version the log rebuilds).
  std::unordered_set<uint32_t> imaged_;
  // Pages of a carried generation's first transaction: their images are
  // stamped with its LSN, not their own, so their next change is logged
  // whole (docs/format/wal.md, "Carried generations").
  std::unordered_set<uint32_t> carried_;
  // The double-write file, opened by the first checkpoint.
  std::unique_ptr<File> dwb_;
  std::unique_ptr<wal::BatchBuilder> batch_;
  std::function<void(PagerHook)> hook_;

  // Versions: readers lock-free; changes under version_mu_. A read-only
  // handle replaces the map when the writer restarted the log (snapshots
  // keep the map they began on).
  mutable std::mutex version_mu_;
  std::shared_ptr<VersionMap> versions_ = std::make_shared<VersionMap>();
  // Map regions that preserved pages at a checkpoint, with those pages: a
  // reader on such a region reads the old bytes of them from its region,
  // so the file may not stand in for their versions. Guarded by version_mu_.
  struct Preserved {
    std::weak_ptr<const MappedRegion> region;
    std::shared_ptr<const std::unordered_set<uint32_t>> pages;
  };
  std::vector<Preserved> preserved_;
  // The highest LSN known durable (synced log or page file).
  std::atomic<uint64_t> durable_lsn_{0};

  // Readers and publication.
  mutable std::mutex reader_mu_;
  TreeState published_;              // guarded by reader_mu_
  std::multiset<uint64_t> readers_;  // snapshot LSNs, guarded by reader_mu_
  std::shared_ptr<RetireBin> bin_;   // guarded by reader_mu_
  std::deque<Pending> pending_;      // guarded by reader_mu_
  Status sticky_;                    // guarded by reader_mu_
  int64_t last_sync_ms_ = 0;         // durability normal; guarded by reader_mu_

  // The shared reader table and this handle's slot.
  std::unique_ptr<ReaderTable> table_;
  ReaderSlot slot_;
  std::string table_error_;
  // Writer: the checkpoint sequence last published (step W1). Guarded by
  // writer_mu_.
  uint64_t checkpoint_seq_ = 0;
  // Writer: after a checkpoint published a lower page count than the meta
  // before it, the highest such earlier count, until GiveBackTail drops
  // the pages past the count (readers may still read them from the file);
  // 0 otherwise. Guarded by writer_mu_.
  uint64_t tail_pages_held_ = 0;
  // Writer: log bytes at which the next automatic checkpoint is due.
  std::atomic<uint64_t> checkpoint_due_bytes_{0};
  // Read-only: the log being followed (pager_follow.cc). Guarded by
  // follow_mu_.
  std::mutex follow_mu_;
  std::unique_ptr<File> follow_log_;
  std::unique_ptr<wal::WalReader> follow_reader_;
  uint64_t follow_seq_ = 0;  // checkpoint sequence when last caught up
  std::atomic<bool> saw_live_writer_{false};
  // A BeginRead in progress holds the slot at or below this LSN (0: none).
  uint64_t slot_floor_ = 0;  // guarded by reader_mu_

  Counter* commits_;
  Counter* checkpoints_;
  Counter* checkpoint_pages_;
  Counter* limited_checkpoints_;  // checkpoints a reader elsewhere held back
  Counter* carried_pages_;        // page images carried into compacted logs
  Counter* double_written_;       // pages written to the double-write file
  Counter* file_trims_;           // checkpoints that shrank the page file
  Counter* kept_for_readers_;
  Counter* recovery_records_;
  Counter* recovery_bytes_discarded_;
  Counter* versions_pruned_;
  Timer* commit_timer_;
};

}  // namespace sombra::pager
