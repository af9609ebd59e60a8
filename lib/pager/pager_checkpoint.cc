// Checkpoint: the newest committed version of each page goes to the page
// file, then a meta page, then the log restarts. It never waits for
// readers: a page a reader may still read from the file is first preserved
// in that reader's map region (docs/design/checkpoint.md).
#include <algorithm>
#include <cassert>

#include "pager/pager.h"
#include "util/crash_point.h"

namespace sombra::pager {

Status Pager::Checkpoint() {
  if (read_only()) return Status::NotSupported("database opened read-only: " + path());
  std::lock_guard<std::mutex> slot(writer_mu_);
  return CheckpointLocked();
}

Status Pager::CheckpointLocked() {
  SOMBRA_RETURN_IF_ERROR(sticky_error());
  const bool sync = options_.durability != Durability::kOff;
  // 1. Everything committed is durable in the log and published.
  if (wal_ != nullptr && sync) {
    Status s = wal_->SyncTo(wal_->written_offset());
    if (!s.ok()) {
      SetSticky(s);
      return s;
    }
  }
  if (wal_ != nullptr) Publish(/*all=*/true);
  const TreeState state = committed_;
  if (state.lsn == file_->durable_meta().checkpoint_lsn && version_count() == 0 &&
      (wal_ == nullptr || wal_->log_bytes() == 0)) {
    return Status::OK();  // nothing since the last checkpoint
  }

  // Readers elsewhere (docs/design/readers.md): W1. a new checkpoint
  // sequence, so that a reader that registers from now on sees it and
  // re-checks; W2. the oldest snapshot of every other handle. A reader
  // there older than the last commit may read from the page file pages
  // the checkpoint would overwrite: the checkpoint waits for nobody, it
  // is put off (the log grows) until they have moved on.
  if (table_ != nullptr) {
    table_->PublishCheckpointSeq(++checkpoint_seq_);
    if (table_->OldestSnapshot(/*exclude_own=*/true) < state.lsn) {
      limited_checkpoints_->Add();
      checkpoint_due_bytes_ = wal_bytes() + options_.wal_checkpoint_bytes / 2;
      return Status::OK();
    }
  }

  std::vector<uint32_t> pages;
  uint64_t oldest_reader = UINT64_MAX;
  {
    std::lock_guard<std::mutex> lock(reader_mu_);
    if (!readers_.empty()) oldest_reader = *readers_.begin();
  }
  {
    std::lock_guard<std::mutex> lock(version_mu_);
    pages.assign(versions_->pages().begin(), versions_->pages().end());
  }
  // What the checkpoint writes, decided with the at-risk pages in one
  // critical section (docs/design/checkpoint.md, "Invariants"): the head of
  // each page, unless the file holds it already. From here until the
  // checkpoint completes, the file's bytes of a page being written are not
  // known (old, new or torn): its file mark is cleared, so no prune lets
  // the file stand in for a version of it.
  std::vector<uint32_t> to_write;
  std::vector<PageVersion*> heads;
  bool preserved_any = false;
  Status s = [&]() -> Status {
    SOMBRA_RETURN_IF_ERROR(file_->EnsureCapacity(state.page_count));
    const uint64_t ps = page_size();
    {
      std::lock_guard<std::mutex> lock(version_mu_);
      std::vector<uint32_t> at_risk;
      for (uint32_t page_no : pages) {
        // Heads are never cut while the writer slot is held: every head is
        // published (Publish(all) above) and the newest version at or below
        // the published LSN, or it is the file's version, whose mark only
        // this checkpoint clears.
        PageVersion* head = const_cast<PageVersion*>(versions_->Head(page_no));
        if (head == nullptr) continue;
        // 2. Pages a reader may still read from the file (it is older than
        //    every version of the page) are preserved in every live region.
        const PageVersion* oldest = versions_->Oldest(page_no);
        if (oldest_reader < oldest->lsn && page_no < file_->durable_meta().page_count) {
          at_risk.push_back(page_no);
        }
        if (head->in_file)
          continue;  // the file holds it: rewriting it would expose
                     // bytes in no log to a torn write
        versions_->SetInFile(page_no, nullptr);
        to_write.push_back(page_no);
        heads.push_back(head);
      }
      if (!at_risk.empty()) {
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
        preserved_any = true;
      }
    }
    RunHook(PagerHook::kCheckpointPagesChosen);
    // 3. The newest version of each page, once per page.
    for (size_t i = 0; i < to_write.size(); ++i) {
      SOMBRA_RETURN_IF_ERROR(file_->WritePage(to_write[i], heads[i]->data.get()));
    }
    checkpoint_pages_->Add(to_write.size());
    RunHook(PagerHook::kCheckpointPagesWritten);
    if (preserved_any) SOMBRA_RETURN_IF_ERROR(file_->RefreshMap());
    // 4. The pages are durable, then the meta page that names them.
    if (sync) SOMBRA_RETURN_IF_ERROR(file_->SyncData());
    CrashPoint(kCrashBeforeMeta);
    Meta next = file_->durable_meta();
    next.page_count = state.page_count;
    next.root = state.root;
    next.freelist_head = state.freelist_head;
    next.freelist_count = state.freelist_count;
    next.checkpoint_lsn = state.lsn;
    SOMBRA_RETURN_IF_ERROR(file_->PublishMeta(next));
    CrashPoint(kCrashAfterMeta);
    RunHook(PagerHook::kCheckpointMetaPublished);
    // 5. The log restarts with a new salt.
    if (wal_ != nullptr) {
      SOMBRA_RETURN_IF_ERROR(
          wal_->Restart(++wal_generation_, state.lsn + 1, LogBase(file_->durable_meta())));
    }
    return Status::OK();
  }();
  if (!s.ok()) {
    // The written pages keep no file mark: their versions stay until no
    // reader needs them, and readers never fall through to those bytes.
    SetSticky(s);
    return s;
  }
  {
    // The checkpoint is complete: the file holds each written head.
    std::lock_guard<std::mutex> lock(version_mu_);
    for (size_t i = 0; i < to_write.size(); ++i) versions_->SetInFile(to_write[i], heads[i]);
  }
  imaged_.clear();
  checkpoint_due_bytes_ = options_.wal_checkpoint_bytes;
  uint64_t d = durable_lsn_.load();
  while (d < state.lsn && !durable_lsn_.compare_exchange_weak(d, state.lsn)) {
  }
  checkpoints_->Add();
  std::vector<uint64_t> snapshots;
  {
    std::lock_guard<std::mutex> lock(reader_mu_);
    snapshots = ReaderLsnsLocked();
  }
  PruneVersions(pages, snapshots);
  return Status::OK();
}

}  // namespace sombra::pager
