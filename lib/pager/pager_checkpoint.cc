// Checkpoint: the newest committed version of each page goes to the page
// file, then a meta page, then the log restarts. It never waits for
// readers: a page a reader may still read from the file is first preserved
// in that reader's map region (docs/design/checkpoint.md).
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

  std::vector<uint32_t> pages;
  uint64_t oldest_reader = UINT64_MAX;
  {
    std::lock_guard<std::mutex> lock(reader_mu_);
    if (!readers_.empty()) oldest_reader = *readers_.begin();
  }
  {
    std::lock_guard<std::mutex> lock(version_mu_);
    pages.assign(versions_.pages().begin(), versions_.pages().end());
  }
  Status s = [&]() -> Status {
    SOMBRA_RETURN_IF_ERROR(file_->EnsureCapacity(state.page_count));
    // 2. Pages that a reader may still read from the file (it is older than
    //    every version of the page) are preserved in every live region.
    const uint64_t ps = page_size();
    // Chains change under version_mu_ (a committer still publishing may
    // prune); heads are never cut outside a checkpoint, so the pointers
    // taken here stay valid while the pages are written.
    std::vector<uint32_t> at_risk;
    std::vector<const PageVersion*> heads;
    {
      std::lock_guard<std::mutex> lock(version_mu_);
      for (uint32_t page_no : pages) {
        heads.push_back(versions_.Head(page_no));
        const PageVersion* oldest = versions_.Oldest(page_no);
        if (oldest_reader != UINT64_MAX && oldest != nullptr && oldest_reader < oldest->lsn &&
            page_no < file_->durable_meta().page_count) {
          at_risk.push_back(page_no);
        }
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
      }
    }
    // 3. The newest version of each page, once per page. A head at or
    // below the last checkpoint is what the file already holds (it is kept
    // only for readers): rewriting it would put bytes that are in no log at
    // risk of a torn write.
    const uint64_t previous = checkpoint_lsn_.load();
    for (size_t i = 0; i < pages.size(); ++i) {
      if (heads[i] == nullptr || heads[i]->lsn <= previous) continue;
      SOMBRA_RETURN_IF_ERROR(file_->WritePage(pages[i], heads[i]->data.get()));
    }
    checkpoint_pages_->Add(pages.size());
    if (!at_risk.empty()) SOMBRA_RETURN_IF_ERROR(file_->RefreshMap());
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
    checkpoint_lsn_ = state.lsn;
    CrashPoint(kCrashAfterMeta);
    // 5. The log restarts with a new salt.
    if (wal_ != nullptr) {
      SOMBRA_RETURN_IF_ERROR(wal_->Restart(++wal_generation_, state.lsn + 1));
    }
    return Status::OK();
  }();
  if (!s.ok()) {
    SetSticky(s);
    return s;
  }
  imaged_.clear();
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
