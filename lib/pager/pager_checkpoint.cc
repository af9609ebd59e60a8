// Checkpoint: the newest committed version of each page goes to the page
// file, then a meta page, then the log restarts. It never waits for
// readers: a page a reader may still read from the file is first preserved
// in that reader's map region (docs/design/checkpoint.md).
#include <algorithm>
#include <cassert>

#include "pager/double_write.h"
#include "pager/pager.h"
#include "util/crash_point.h"

namespace sombra::pager {

// What one checkpoint works on, from step 3 to step 11.
struct Pager::CheckpointWork {
  TreeState state;  // committed_ once everything is published
  uint64_t oldest_reader = UINT64_MAX;
  std::vector<uint32_t> pages;      // pages with versions
  std::vector<uint32_t> to_write;   // chosen: heads the file does not hold
  std::vector<PageVersion*> heads;  // the head of each page of to_write
  bool preserved_any = false;
  bool trim_file = false;  // shrink the file to the page count whatever the room
};

Status Pager::CarryLog(const TreeState& state) {
  // Every page changed since the page file's checkpoint has a version that
  // the file does not hold: its head (heads are stable while the writer
  // slot is held and everything is published).
  std::vector<uint32_t> pages;
  std::vector<const PageVersion*> heads;
  {
    std::lock_guard<std::mutex> lock(version_mu_);
    for (uint32_t page_no : versions_->pages()) {
      const PageVersion* head = versions_->Head(page_no);
      if (head == nullptr || head->in_file) continue;
      pages.push_back(page_no);
      heads.push_back(head);
    }
  }
  // Worth it when the log is at least twice what it would keep.
  const uint64_t log_bytes = wal_->log_bytes();
  const uint64_t carried_bytes = pages.size() * (uint64_t{page_size()} + 64);
  if (log_bytes <= options_.wal_checkpoint_bytes || log_bytes < 2 * carried_bytes) {
    checkpoint_due_bytes_ = log_bytes + options_.wal_checkpoint_bytes / 2;
    return Status::OK();
  }
  const std::string carry_path = wal_path_ + ".carry";
  if (env_->FileExists(carry_path)) SOMBRA_RETURN_IF_ERROR(env_->RemoveFile(carry_path));
  bool renamed = false;
  Status s = WriteCarriedLog(state, pages, heads, carried_bytes, &renamed);
  if (!s.ok()) {
    if (!renamed) {
      // Not renamed: the log in place is whole and goes on.
      (void)env_->RemoveFile(carry_path);
      checkpoint_due_bytes_ = log_bytes + options_.wal_checkpoint_bytes / 2;
    } else {
      SetSticky(s);  // renamed, but the directory entry may not be durable
    }
  }
  return s;
}

Status Pager::WriteCarriedLog(const TreeState& state, const std::vector<uint32_t>& pages,
                              const std::vector<const PageVersion*>& heads, uint64_t carried_bytes,
                              bool* renamed) {
  const Meta& meta = file_->durable_meta();
  const std::string carry_path = wal_path_ + ".carry";
  // 1. The new generation, in a file beside the log: its base is the page
  //    file's checkpoint (the file does not change), its first transaction
  //    carries the state at the last commit, stamped with that LSN.
  SOMBRA_ASSIGN_OR_RETURN(
      std::unique_ptr<wal::WalWriter> next,
      wal::WalWriter::Open(env_, carry_path, page_size(), file_->salt(), wal_generation_ + 1,
                           meta.checkpoint_lsn + 1, LogBase(meta),
                           std::min<uint64_t>(2 * carried_bytes, wal::WalWriter::kMaxPreallocation),
                           metrics_, wal::kWalFormatVersionCopiesCarry));
  batch_->Reset(next->last_checksum());
  batch_->set_log_version(next->header().version);
  std::vector<const uint8_t*> images;
  images.reserve(heads.size());
  for (const PageVersion* h : heads) images.push_back(h->data.get());
  const wal::PrecompressScope join(batch_.get());
  batch_->PrecompressImages(images);
  for (size_t i = 0; i < pages.size(); ++i) {
    SOMBRA_RETURN_IF_ERROR(batch_->AddPageImage(pages[i], state.lsn, heads[i]->data.get()));
  }
  SOMBRA_RETURN_IF_ERROR(
      batch_->AddCommit(CommitRecord(state, std::min(durable_lsn_.load(), state.lsn - 1))));
  SOMBRA_ASSIGN_OR_RETURN(uint64_t end, next->Append(*batch_));
  SOMBRA_RETURN_IF_ERROR(next->SyncTo(end));
  CrashPoint(kCrashBeforeCarry);
  // 2. It replaces the log in one rename: a crash leaves one log or the
  //    other, each whole.
  SOMBRA_RETURN_IF_ERROR(env_->RenameFile(carry_path, wal_path_));
  *renamed = true;
  {
    std::lock_guard<std::mutex> lock(wal_mu_);
    wal_ = std::move(next);
  }
  ++wal_generation_;
  // The carried images are stamped with the last LSN, not their pages'
  // own: the next change of each of those pages is logged whole again.
  imaged_.clear();
  carried_.clear();
  carried_.insert(pages.begin(), pages.end());
  carried_pages_->Add(pages.size());
  checkpoint_due_bytes_ = wal_->log_bytes() + options_.wal_checkpoint_bytes;
  return env_->SyncDir(DirName(wal_path_));
}

Status Pager::Checkpoint(bool trim_file) {
  if (read_only()) return Status::NotSupported("database opened read-only: " + path());
  std::lock_guard<std::mutex> slot(writer_mu_);
  return CheckpointLocked(trim_file);
}

// The steps of docs/design/checkpoint.md, "Steps", in order.
Status Pager::CheckpointLocked(bool trim_file) {
  SOMBRA_RETURN_IF_ERROR(sticky_error());  // step 1
  const bool sync = options_.durability != Durability::kOff;
  SOMBRA_RETURN_IF_ERROR(SyncLogAndPublish(sync));
  CheckpointWork w;
  w.state = committed_;
  w.trim_file = trim_file;
  if (w.state.lsn == file_->durable_meta().checkpoint_lsn && version_count() == 0 &&
      (wal_ == nullptr || wal_->log_bytes() == 0)) {
    return Status::OK();  // nothing since the last checkpoint
  }
  if (PutOffForReaders(w.state)) {
    if (wal_ != nullptr) return CarryLog(w.state);
    return Status::OK();  // recovery: the writer continues the log
  }
  TakeVersionedPages(&w);
  Status s = WriteCheckpoint(&w, sync);
  if (!s.ok()) {
    // Step 11, failure. The written pages keep no file mark: their
    // versions stay until no reader needs them, and readers never fall
    // through to those bytes.
    SetSticky(s);
    return s;
  }
  CompleteCheckpoint(w);
  GiveBackDoubleWrite();
  return GiveBackTail(w);
}

// Step 2: everything committed is durable in the log and published.
Status Pager::SyncLogAndPublish(bool sync) {
  if (wal_ != nullptr && sync) {
    Status s = wal_->SyncTo(wal_->written_offset());
    if (!s.ok()) {
      SetSticky(s);
      return s;
    }
  }
  if (wal_ != nullptr) Publish(/*all=*/true);
  return Status::OK();
}

// Step 2, readers elsewhere (docs/design/readers.md): W1. a new checkpoint
// sequence, so that a reader that registers from now on sees it and
// re-checks; W2. the oldest snapshot of every other handle. A reader there
// older than the last commit may read from the page file pages the
// checkpoint would overwrite: the checkpoint waits for nobody, it is put
// off (true; the log grows) until they have moved on.
bool Pager::PutOffForReaders(const TreeState& state) {
  if (table_ == nullptr) return false;
  table_->PublishCheckpointSeq(++checkpoint_seq_);
  if (table_->OldestSnapshot(/*exclude_own=*/true) >= state.lsn) return false;
  limited_checkpoints_->Add();
  return true;
}

// Step 3: the oldest reader's LSN and the pages that have versions.
void Pager::TakeVersionedPages(CheckpointWork* w) {
  {
    std::lock_guard<std::mutex> lock(reader_mu_);
    if (!readers_.empty()) w->oldest_reader = *readers_.begin();
  }
  {
    std::lock_guard<std::mutex> lock(version_mu_);
    w->pages.assign(versions_->pages().begin(), versions_->pages().end());
  }
}

// Steps 4-10; a failure is step 11's (the caller's).
Status Pager::WriteCheckpoint(CheckpointWork* w, bool sync) {
  SOMBRA_RETURN_IF_ERROR(file_->EnsureCapacity(w->state.page_count));  // step 4
  SOMBRA_RETURN_IF_ERROR(PreserveAndChoose(w));
  RunHook(PagerHook::kCheckpointPagesChosen);
  SOMBRA_RETURN_IF_ERROR(WriteHeads(*w, sync));
  SOMBRA_RETURN_IF_ERROR(SyncPagesAndMeta(*w, sync));
  // Step 10. The log restarts with a new salt.
  if (wal_ != nullptr) {
    SOMBRA_RETURN_IF_ERROR(
        wal_->Restart(++wal_generation_, w->state.lsn + 1, LogBase(file_->durable_meta())));
  }
  return Status::OK();
}

// Step 5, Preserve, and the choice of what the checkpoint writes, in one
// critical section (docs/design/checkpoint.md, "Invariants"): the head of
// each page, unless the file holds it already. From here until the
// checkpoint completes, the file's bytes of a page being written are not
// known (old, new or torn): its file mark is cleared, so no prune lets the
// file stand in for a version of it.
Status Pager::PreserveAndChoose(CheckpointWork* w) {
  std::lock_guard<std::mutex> lock(version_mu_);
  std::vector<uint32_t> at_risk;
  for (uint32_t page_no : w->pages) {
    // Heads are never cut while the writer slot is held: every head is
    // published (Publish(all) in step 2) and the newest version at or below
    // the published LSN, or it is the file's version, whose mark only
    // this checkpoint clears.
    PageVersion* head = const_cast<PageVersion*>(versions_->Head(page_no));
    if (head == nullptr) continue;
    // A page past the page count (it went down: a freed tail, a
    // compaction) is written nowhere: the file may not even have room for
    // it. Its versions go once no reader needs them (GiveBackTail).
    if (page_no >= w->state.page_count) continue;
    // Pages a reader may still read from the file (it is older than every
    // version of the page) are preserved in every live region.
    const PageVersion* oldest = versions_->Oldest(page_no);
    // (The file holds the pages its meta counts, and, after the count went
    // down, those past it until GiveBackTail gives them back.)
    const uint64_t file_pages = std::max(file_->durable_meta().page_count, tail_pages_held_);
    if (w->oldest_reader < oldest->lsn && page_no < file_pages) {
      at_risk.push_back(page_no);
    }
    if (head->in_file)
      continue;  // the file holds it: rewriting it would expose
                 // bytes in no log to a torn write
    versions_->SetInFile(page_no, nullptr);
    w->to_write.push_back(page_no);
    w->heads.push_back(head);
  }
  if (at_risk.empty()) return Status::OK();
  SOMBRA_RETURN_IF_ERROR(PreserveAtRisk(at_risk));
  w->preserved_any = true;
  return Status::OK();
}

// Step 5, Preserve: a private copy of each at-risk page in every live map
// region, remembered in preserved_. REQUIRES: version_mu_ held.
Status Pager::PreserveAtRisk(const std::vector<uint32_t>& at_risk) {
  const uint64_t ps = page_size();
  auto preserved_pages =
      std::make_shared<const std::unordered_set<uint32_t>>(at_risk.begin(), at_risk.end());
  for (const auto& region : file_->LiveRegions()) {
    for (uint32_t page_no : at_risk) {
      if ((uint64_t{page_no} + 1) * ps > region->size()) continue;
      SOMBRA_RETURN_IF_ERROR(region->Preserve(uint64_t{page_no} * ps, ps));
    }
    preserved_.push_back(Preserved{region, preserved_pages});
  }
  kept_for_readers_->Add(at_risk.size());
  return Status::OK();
}

// Step 6a: the double-write batch (docs/format/dwb.md): every chosen page
// the page file holds (below the meta's page count), copied as it is now,
// i.e. at the state the log starts from. Once it is synced, a crash that
// leaves some of them new, old or torn leaves recovery a whole copy of
// each to put back before it replays the log on them.
Status Pager::WriteDoubleWriteBatch(const CheckpointWork& w, bool sync) {
  if (dwb_ == nullptr) {
    const std::string dwb_path = path() + "-dwb";
    const bool existed = env_->FileExists(dwb_path);
    SOMBRA_ASSIGN_OR_RETURN(dwb_, env_->OpenFile(dwb_path, OpenMode::kCreate));
    if (!existed) SOMBRA_RETURN_IF_ERROR(env_->SyncDir(DirName(dwb_path)));
  }
  DwbHeader header;
  header.page_size = page_size();
  header.db_salt = file_->salt();
  header.from_lsn = file_->durable_meta().checkpoint_lsn;
  header.to_lsn = w.state.lsn;
  const uint64_t in_file = file_->durable_meta().page_count;
  for (uint32_t page_no : w.to_write) {
    if (page_no < in_file) header.pages.push_back(page_no);
  }
  SOMBRA_RETURN_IF_ERROR(WriteDoubleWrite(
      dwb_.get(), header,
      [&](size_t i, uint8_t* out) { return file_->ReadUnmapped(header.pages[i], out); }, sync));
  double_written_->Add(header.pages.size());
  CrashPoint(kCrashAfterDoubleWrite);
  return Status::OK();
}

// Step 6, Write: the double-write batch, then the newest version of each
// chosen page in place, once per page.
Status Pager::WriteHeads(const CheckpointWork& w, bool sync) {
  if (!w.to_write.empty()) SOMBRA_RETURN_IF_ERROR(WriteDoubleWriteBatch(w, sync));
  for (size_t i = 0; i < w.to_write.size(); ++i) {
    SOMBRA_RETURN_IF_ERROR(file_->WritePage(w.to_write[i], w.heads[i]->data.get()));
  }
  checkpoint_pages_->Add(w.to_write.size());
  RunHook(PagerHook::kCheckpointPagesWritten);
  return Status::OK();
}

// Steps 7-9: RefreshMap if anything was preserved; the pages are durable,
// then the meta page that names them.
Status Pager::SyncPagesAndMeta(const CheckpointWork& w, bool sync) {
  if (w.preserved_any) SOMBRA_RETURN_IF_ERROR(file_->RefreshMap());
  if (sync) SOMBRA_RETURN_IF_ERROR(file_->SyncData());
  CrashPoint(kCrashBeforeMeta);
  Meta next = file_->durable_meta();
  next.page_count = w.state.page_count;
  next.root = w.state.root;
  next.freelist_head = w.state.freelist_head;
  next.freelist_count = w.state.freelist_count;
  next.catalog_root = w.state.catalog_root;
  next.checkpoint_lsn = w.state.lsn;
  const uint64_t pages_before = file_->durable_meta().page_count;
  if (next.page_count < pages_before) tail_pages_held_ = std::max(tail_pages_held_, pages_before);
  SOMBRA_RETURN_IF_ERROR(file_->PublishMeta(next));
  CrashPoint(kCrashAfterMeta);
  RunHook(PagerHook::kCheckpointMetaPublished);
  return Status::OK();
}

// Step 11, success: the checkpoint is complete, the file holds each
// written head; then the versions are pruned.
void Pager::CompleteCheckpoint(const CheckpointWork& w) {
  {
    std::lock_guard<std::mutex> lock(version_mu_);
    for (size_t i = 0; i < w.to_write.size(); ++i) versions_->SetInFile(w.to_write[i], w.heads[i]);
  }
  imaged_.clear();
  carried_.clear();
  checkpoint_due_bytes_ = options_.wal_checkpoint_bytes;
  RaiseDurableLsn(w.state.lsn);
  checkpoints_->Add();
  std::vector<uint64_t> snapshots;
  {
    std::lock_guard<std::mutex> lock(reader_mu_);
    snapshots = ReaderLsnsLocked();
  }
  PruneVersions(w.pages, snapshots);
}

// Step 11, after success: once the meta page naming the checkpoint is
// durable, its double-write batch is never read again (its source LSN is
// not the meta's checkpoint LSN), so a large one is given back; a small
// one keeps its blocks, which the next batch overwrites. A failure here
// loses nothing (the file only stays larger).
void Pager::GiveBackDoubleWrite() {
  if (dwb_ == nullptr) return;
  Result<uint64_t> size = dwb_->Size();
  if (size.ok() && *size > kDoubleWriteKeepBytes) (void)dwb_->Truncate(0);
}

// Step 12 (docs/operations.md, "Compaction"): once the page count went
// down, the pages past it go, when no reader of this handle reads an older
// state (readers elsewhere are at or above it: step 2 put the checkpoint
// off otherwise, and a reader beginning now reads the last commit): first
// their versions, then, when the room past the page count is more than one
// growth step, the file's tail.
Status Pager::GiveBackTail(const CheckpointWork& w) {
  {
    std::lock_guard<std::mutex> lock(reader_mu_);
    if (!readers_.empty() && *readers_.begin() < w.state.lsn) return Status::OK();
  }
  tail_pages_held_ = 0;
  auto bin = std::make_shared<RetireBin>();
  size_t cut = 0;
  {
    std::lock_guard<std::mutex> lock(version_mu_);
    std::vector<uint32_t> past(versions_->pages().lower_bound(static_cast<uint32_t>(
                                   std::min<uint64_t>(w.state.page_count, UINT32_MAX))),
                               versions_->pages().end());
    for (uint32_t page_no : past) cut += versions_->DropPage(page_no, bin.get());
  }
  if (cut > 0) {
    versions_pruned_->Add(cut);
    Retire(std::move(bin));
  }
  if (!w.trim_file && !file_->TailWorthTrimming()) return Status::OK();
  SOMBRA_RETURN_IF_ERROR(file_->TrimToPageCount());
  file_trims_->Add();
  return Status::OK();
}

}  // namespace sombra::pager
