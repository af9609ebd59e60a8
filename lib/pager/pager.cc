// Pager: open, read paths, snapshots and close. The commit path is in
// pager_commit.cc, checkpoints in pager_checkpoint.cc, recovery in
// pager_recovery.cc.
#include "pager/pager.h"

#include <algorithm>
#include <cassert>

#include "pager/pager_txn.h"
#include "pager/snapshot.h"
#include "util/coding.h"
#include "wal/wal_format.h"

namespace sombra::pager {

Pager::Pager(Env* env, const Options& options, const PagerOptions& pager_options,
             MetricsRegistry* metrics)
    : env_(env),
      options_(options),
      pager_options_(pager_options),
      bin_(std::make_shared<RetireBin>()) {
  if (metrics == nullptr) {
    owned_metrics_ = std::make_unique<MetricsRegistry>();
    metrics = owned_metrics_.get();
  }
  metrics_ = metrics;
  commits_ = metrics_->GetCounter("commits");
  checkpoints_ = metrics_->GetCounter("checkpoints");
  checkpoint_pages_ = metrics_->GetCounter("checkpoint_pages");
  limited_checkpoints_ = metrics_->GetCounter("checkpoints_limited_by_readers");
  carried_pages_ = metrics_->GetCounter("wal_carried_pages");
  double_written_ = metrics_->GetCounter("double_write_pages");
  file_trims_ = metrics_->GetCounter("file_trims");
  kept_for_readers_ = metrics_->GetCounter("versions_kept_for_readers");
  recovery_records_ = metrics_->GetCounter("recovery_records_replayed");
  recovery_bytes_discarded_ = metrics_->GetCounter("recovery_bytes_discarded");
  versions_pruned_ = metrics_->GetCounter("pager_versions_pruned");
  commit_timer_ = metrics_->GetTimer("commit");
}

Result<std::unique_ptr<Pager>> Pager::Open(Env* env, const std::string& path,
                                           const Options& options,
                                           const PagerOptions& pager_options,
                                           MetricsRegistry* metrics) {
  std::unique_ptr<Pager> pager(new Pager(env, options, pager_options, metrics));
  SOMBRA_ASSIGN_OR_RETURN(pager->file_, PageFile::Open(env, path, options, pager->metrics_));
  pager->wal_path_ = path + "-wal";
  // An existing file's page size wins over options.page_size.
  pager->batch_ = std::make_unique<wal::BatchBuilder>(pager->page_size(), options.wal_compression);
  SOMBRA_RETURN_IF_ERROR(pager->OpenReaderTable());
  if (pager->read_only()) {
    SOMBRA_RETURN_IF_ERROR(pager->OpenFollower());
  } else {
    SOMBRA_RETURN_IF_ERROR(pager->Recover());
    if (pager->table_ != nullptr) pager->table_->PublishNewestLsn(pager->published_.lsn);
  }
  return pager;
}

Status Pager::OpenReaderTable() {
  auto table = ReaderTable::Open(path() + "-shm", file_->salt());
  if (table.ok()) {
    auto slot = (*table)->Acquire();
    if (read_only()) {
      // Every slot held: Busy, as LMDB's MDB_READERS_FULL (a reader
      // without a slot could not be protected).
      SOMBRA_RETURN_IF_ERROR(slot.status());
    }
    table_ = std::move(*table);
    // The writer's own slot only shows its snapshots to tools: it goes on
    // without one when every slot is held.
    if (slot.ok()) slot_ = std::move(*slot);
    if (read_only()) return Status::OK();
    SOMBRA_RETURN_IF_ERROR(table_->ClaimWriter());
    checkpoint_seq_ = table_->CheckpointSeq();
    return Status::OK();
  }
  // A writer must protect readers elsewhere; a read-only handle (say, on a
  // read-only medium) goes on without the table.
  if (!read_only()) return table.status().WithContext("cannot open the reader table");
  table_error_ = table.status().ToString();
  return Status::OK();
}

Pager::~Pager() {
  if (file_ != nullptr && !read_only() && wal_ != nullptr && sticky_error().ok()) {
    std::lock_guard<std::mutex> slot(writer_mu_);
    // A failure leaves the log to recovery; so does a checkpoint that a
    // reader elsewhere limited (the log still holds what the file lacks).
    if (CheckpointLocked().ok() && wal_->log_bytes() == 0 &&
        file_->durable_meta().checkpoint_lsn == committed_.lsn) {
      // Clean close: the page file holds everything (its meta is durable)
      // and the log was restarted, so the log keeps only its synced header
      // (which still tells recovery where the page file must be, should the
      // newest meta page go bad) and the page file gives back the room it
      // grew ahead. Neither shrink changes what a reopen sees.
      {
        std::lock_guard<std::mutex> lock(wal_mu_);
        wal_.reset();
      }
      if (auto log = env_->OpenFile(wal_path_, OpenMode::kReadWrite); log.ok()) {
        (void)(*log)->Truncate(wal::kWalHeaderSize);
      }
      (void)file_->TrimToPageCount();
      // The double-write batch is of a checkpoint whose meta page is
      // durable: recovery would never read it (docs/format/dwb.md).
      if (dwb_ != nullptr) (void)dwb_->Truncate(0);
    }
  }
  slot_.Release();
}

wal::WalBase LogBase(const Meta& meta) {
  wal::WalBase base;
  base.root = meta.root;
  base.freelist_head = meta.freelist_head;
  base.page_count = meta.page_count;
  base.freelist_count = meta.freelist_count;
  base.checkpoint_seq = meta.checkpoint_seq;
  base.catalog_root = meta.catalog_root;
  return base;
}

Status Pager::OpenLog(uint64_t generation) {
  wal_generation_ = generation;
  // The new generation starts from the meta page in force (recovery
  // checkpointed what it replayed), and carries a copy of it.
  const Meta& meta = file_->durable_meta();
  assert(meta.checkpoint_lsn == committed_.lsn);
  // A fresh log: no page has a record in it yet.
  imaged_.clear();
  carried_.clear();
  checkpoint_due_bytes_ = options_.wal_checkpoint_bytes;
  const uint64_t preallocate =
      std::min<uint64_t>(options_.wal_checkpoint_bytes, wal::WalWriter::kMaxPreallocation);
  SOMBRA_ASSIGN_OR_RETURN(
      std::unique_ptr<wal::WalWriter> wal,
      wal::WalWriter::Open(env_, wal_path_, page_size(), file_->salt(), generation,
                           meta.checkpoint_lsn + 1, LogBase(meta), preallocate, metrics_));
  std::lock_guard<std::mutex> lock(wal_mu_);
  wal_ = std::move(wal);
  return Status::OK();
}

TreeState Pager::published() const {
  std::lock_guard<std::mutex> lock(reader_mu_);
  return published_;
}

Status Pager::sticky_error() const {
  std::lock_guard<std::mutex> lock(reader_mu_);
  return sticky_;
}

void Pager::SetSticky(const Status& s) {
  std::lock_guard<std::mutex> lock(reader_mu_);
  if (sticky_.ok()) {
    sticky_ =
        s.WithContext("database " + path() +
                      " refuses writes until reopened after a failed log or checkpoint write");
  }
}

uint64_t Pager::wal_bytes() const {
  std::shared_ptr<wal::WalWriter> wal = Wal();
  return wal == nullptr ? 0 : wal->log_bytes();
}

size_t Pager::version_count() const {
  std::lock_guard<std::mutex> lock(version_mu_);
  return versions_->version_count();
}

std::unique_ptr<Snapshot> Pager::BeginRead() {
  std::unique_lock<std::mutex> follow;
  if (read_only() && table_ != nullptr) {
    follow = std::unique_lock<std::mutex>(follow_mu_);
    CatchUp();  // leaves slot_floor_ set: the slot protects what it serves
  }
  std::lock_guard<std::mutex> lock(reader_mu_);
  readers_.insert(published_.lsn);
  slot_floor_ = 0;
  PublishSlotLocked();
  return std::unique_ptr<Snapshot>(new Snapshot(this, published_, versions_, file_->Pin(), bin_));
}

void Pager::EndRead(uint64_t lsn, std::shared_ptr<RetireBin> bin) {
  std::lock_guard<std::mutex> lock(reader_mu_);
  auto it = readers_.find(lsn);
  if (it != readers_.end()) readers_.erase(it);
  PublishSlotLocked();
  bin.reset();
}

void Pager::PublishSlotLocked() {
  if (!slot_.valid()) return;
  uint64_t oldest = readers_.empty() ? UINT64_MAX : *readers_.begin();
  if (slot_floor_ != 0) oldest = std::min(oldest, slot_floor_);
  // LSN 0 (an empty database) is published as 1: 0 means "not reading",
  // and a writer limited to LSN 1 has nothing a reader at 0 reads.
  if (oldest == UINT64_MAX) {
    if (slot_.published() != 0) slot_.Clear();
  } else if (slot_.published() != std::max<uint64_t>(oldest, 1)) {
    slot_.Publish(std::max<uint64_t>(oldest, 1));
  }
}

std::vector<uint64_t> Pager::ReaderLsnsLocked() const {
  std::vector<uint64_t> lsns(readers_.begin(), readers_.end());
  lsns.push_back(published_.lsn);
  std::sort(lsns.begin(), lsns.end());
  lsns.erase(std::unique(lsns.begin(), lsns.end()), lsns.end());
  return lsns;
}

Result<std::unique_ptr<PagerTxn>> Pager::BeginWrite() {
  if (read_only()) {
    return Status::NotSupported("database opened read-only: " + path());
  }
  std::unique_lock<std::mutex> slot(writer_mu_);
  SOMBRA_RETURN_IF_ERROR(sticky_error());
  return std::unique_ptr<PagerTxn>(new PagerTxn(this, std::move(slot), committed_));
}

Result<const uint8_t*> Pager::ReadFile(const MappedRegion& region, uint32_t page_no) const {
  return file_->ReadPage(region, page_no);
}

bool Pager::LogRebuildsBase(uint32_t page_no) const {
  if (imaged_.count(page_no) != 0) return true;
  // Otherwise the base is the page file's page (every version the writer
  // holds of a page without a record in this log is the file's, or was
  // carried), which recovery reads only from a log of format 8 or 9.
  return wal_ != nullptr && wal::AllowsFileBases(wal_->header().version) &&
         carried_.count(page_no) == 0;
}

Result<const uint8_t*> Pager::ReadCommitted(
    uint32_t page_no, std::vector<std::shared_ptr<const MappedRegion>>* pins) const {
  // The writer holds the slot: every version is committed, the head newest.
  if (const PageVersion* v = versions_->Head(page_no)) {
    return static_cast<const uint8_t*>(v->data.get());
  }
  // The file may grow during the transaction; the transaction keeps every
  // region it read through.
  std::shared_ptr<const MappedRegion> region = file_->Pin();
  if (pins->empty() || pins->back() != region) pins->push_back(region);
  return file_->ReadPage(*region, page_no);
}

Snapshot::~Snapshot() { pager_->EndRead(state_.lsn, std::move(bin_)); }

Result<const uint8_t*> Snapshot::Read(uint32_t page_no) const {
  if (page_no >= state_.page_count) {
    return Status::InvalidArgument("page " + std::to_string(page_no) + " of " + pager_->path() +
                                   " is beyond the snapshot's page count " +
                                   std::to_string(state_.page_count));
  }
  if (const PageVersion* v = versions_->Find(page_no, state_.lsn)) {
    return static_cast<const uint8_t*>(v->data.get());
  }
  SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, pager_->ReadFile(*region_, page_no));
  // A writer never rewrites a page that a snapshot registered in the
  // reader table may read from the file (docs/design/readers.md). Without
  // the table (a read-only handle that could not open it), a page newer
  // than this snapshot is reported, never used; with it, it would be a bug
  // or a meta page older than the pages.
  if (pager_->read_only() && DecodeFixed64(page + kHeaderLsnOffset) > state_.lsn) {
    return Status::Busy("page " + std::to_string(page_no) + " of " + pager_->path() + " has LSN " +
                        std::to_string(DecodeFixed64(page + kHeaderLsnOffset)) +
                        ", newer than this read-only snapshot (LSN " + std::to_string(state_.lsn) +
                        "): a writer checkpointed it after this handle opened (reopen to read "
                        "the newer state), or the meta page in force is older than the pages");
  }
  return page;
}

}  // namespace sombra::pager
