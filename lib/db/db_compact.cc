// db/db_compact.cc: DB::Compact and the free-tail trim of DB::Checkpoint
// and close (docs/operations.md, "Compaction").
#include <chrono>

#include "btree/tree_compact.h"
#include "db/db_impl.h"
#include "pager/pager_txn.h"
#include "util/crash_point.h"

namespace sombra::db {
namespace {

// Live pages moved per transaction: the writers beside a compaction wait
// at most one such step (a walk of the live pages, these moves, a commit).
constexpr uint64_t kMovesPerStep = 512;

}  // namespace

Status DBImpl::TrimFreeTail(uint64_t* pages) {
  *pages = 0;
  SOMBRA_ASSIGN_OR_RETURN(auto txn, pager_->BeginWrite());
  if (txn->state().freelist_count == 0) return Status::OK();
  SOMBRA_RETURN_IF_ERROR(btree::TrimFreeTail(txn.get(), pages));
  if (*pages == 0) return Status::OK();
  SOMBRA_RETURN_IF_ERROR(txn->Commit());
  metrics_->GetCounter("pages_given_back")->Add(*pages);
  return Status::OK();
}

Status DBImpl::Compact(CompactStats* stats) {
  if (pager_->read_only()) return Status::NotSupported("Compact on read-only " + path());
  SOMBRA_RETURN_IF_ERROR(CheckNotWriterThread("Compact"));
  const auto start = std::chrono::steady_clock::now();
  CompactStats total;
  SOMBRA_ASSIGN_OR_RETURN(total.file_bytes_before, env_->GetFileSize(path()));
  for (bool done = false; !done;) {
    SOMBRA_ASSIGN_OR_RETURN(auto txn, pager_->BeginWrite());
    // Pages change numbers: no leaf layout kept by an earlier transaction
    // may stand for a page this step rewrites (btree/layout_cache.h).
    layout_cache_->Clear();
    btree::CompactStepResult step;
    SOMBRA_RETURN_IF_ERROR(btree::CompactStep(txn.get(), kMovesPerStep, &step));
    SOMBRA_RETURN_IF_ERROR(txn->Commit());
    CrashPoint(kCrashCompactStep);
    total.steps++;
    total.pages_moved += step.pages_moved;
    total.pages_rewritten += step.pages_rewritten;
    total.pages_given_back += step.pages_given_back;
    done = step.done;
  }
  metrics_->GetCounter("pages_given_back")->Add(total.pages_given_back);
  metrics_->GetCounter("compaction_pages_moved")->Add(total.pages_moved);
  SOMBRA_RETURN_IF_ERROR(pager_->Checkpoint(/*trim_file=*/true));
  SOMBRA_ASSIGN_OR_RETURN(total.file_bytes_after, env_->GetFileSize(path()));
  total.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (stats != nullptr) *stats = total;
  return Status::OK();
}

}  // namespace sombra::db
