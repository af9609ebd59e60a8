// The commit path: log, version, release the writer slot, sync, publish.
#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstring>
#include <vector>

#include "pager/pager.h"
#include "pager/pager_txn.h"
#include "util/coding.h"
#include "util/crash_point.h"
#include "wal/wal_page_ops.h"

namespace sombra::pager {
namespace {

// Byte ranges that are cheaper as one range: a range costs 2-6 bytes of
// header, so gaps shorter than this are merged.
constexpr uint32_t kMergeGap = 8;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Sorts and merges the ranges, leaving out the pager's header bytes
// [8, 24) (LSN and checksum), and returns the bytes they cover.
uint64_t MergeRanges(std::vector<std::pair<uint32_t, uint32_t>>* ranges) {
  std::vector<std::pair<uint32_t, uint32_t>> clipped;
  for (auto [b, e] : *ranges) {
    if (b < kHeaderLsnOffset) clipped.emplace_back(b, std::min<uint32_t>(e, kHeaderLsnOffset));
    if (e > kPageHeaderSize) clipped.emplace_back(std::max<uint32_t>(b, kPageHeaderSize), e);
  }
  std::sort(clipped.begin(), clipped.end());
  ranges->clear();
  uint64_t bytes = 0;
  for (auto r : clipped) {
    if (r.first >= r.second) continue;
    if (!ranges->empty() && r.first <= ranges->back().second + kMergeGap) {
      ranges->back().second = std::max(ranges->back().second, r.second);
    } else {
      ranges->push_back(r);
    }
  }
  for (auto [b, e] : *ranges) bytes += e - b;
  return bytes;
}

#ifndef NDEBUG
// Debug builds: the ops replayed on the page as it was (`base`; null: a
// page of zeros) give the page as it is, outside the pager's bytes [8, 24).
void CheckOpsReplay(std::string_view ops, const uint8_t* base, const uint8_t* now, uint32_t ps,
                    const wal::CopySourceFn& sources) {
  std::vector<uint8_t> replayed(ps, 0);
  if (base != nullptr) std::memcpy(replayed.data(), base, ps);
  const bool applied = wal::ApplyPageOps(ops, ps, replayed.data(), sources);
  assert(applied);
  (void)applied;
  assert(std::memcmp(replayed.data(), now, kHeaderLsnOffset) == 0);
  assert(std::memcmp(replayed.data() + kPageHeaderSize, now + kPageHeaderSize,
                     ps - kPageHeaderSize) == 0);
}
#endif

}  // namespace

TreeState StateOfCommit(const wal::CommitInfo& c) {
  return TreeState{c.lsn, c.root, c.page_count, c.freelist_head, c.freelist_count, c.catalog_root};
}

TreeState StateOfMeta(const Meta& m) {
  return TreeState{m.checkpoint_lsn, m.root,           m.page_count,
                   m.freelist_head,  m.freelist_count, m.catalog_root};
}

wal::CommitInfo Pager::CommitRecord(const TreeState& state, uint64_t durable_lsn) {
  wal::CommitInfo info;
  info.txn_id = state.lsn;
  info.lsn = state.lsn;
  info.root = state.root;
  info.freelist_head = state.freelist_head;
  info.page_count = state.page_count;
  info.freelist_count = state.freelist_count;
  info.catalog_root = state.catalog_root;
  info.durable_lsn = durable_lsn;
  return info;
}

void Pager::RaiseDurableLsn(uint64_t lsn) {
  uint64_t d = durable_lsn_.load();
  while (d < lsn && !durable_lsn_.compare_exchange_weak(d, lsn)) {
  }
}

// The group commit (docs/design/checkpoint.md, "Group commit"): steps 1-3,
// then the automatic checkpoint.
Status Pager::CommitTxn(PagerTxn* t) {
  ScopedTimer timer(commit_timer_);
  if (t->dirty_.empty() && !t->state_changed_) return Status::OK();
  TreeState next = t->state_;
  next.lsn = t->commit_lsn();
  assert(next.lsn == committed_.lsn + 1);  // the slot was held since the transaction began

  // The writer this commit appends to and syncs on, even if a checkpoint
  // replaces wal_ once the slot is released.
  const std::shared_ptr<wal::WalWriter> wal = wal_;
  std::vector<uint32_t> pages;
  SOMBRA_RETURN_IF_ERROR(BuildCommitBatch(t, next, wal->last_checksum(),
                                          wal::AllowsPageOps(wal->header().version), &pages));
  SOMBRA_ASSIGN_OR_RETURN(uint64_t end, AppendCommit(t, next, wal.get(), std::move(pages)));
  SOMBRA_RETURN_IF_ERROR(SyncCommit(wal.get(), end, next.lsn));
  Publish(/*all=*/options_.durability != Durability::kFull);
  MaybeCheckpoint(wal.get());
  return Status::OK();
}

// Group commit step 1, the batch: a full image, page ops or a delta of
// each changed page, then the commit record carrying durable_lsn_.
Status Pager::BuildCommitBatch(PagerTxn* t, const TreeState& next, uint64_t seed, bool ops_allowed,
                               std::vector<uint32_t>* pages) {
  const uint32_t ps = page_size();
  batch_->Reset(seed);
  batch_->set_log_version(wal_->header().version);
  batch_->ReserveForPages(t->dirty_.size());
  // In page order, so a transaction's log records do not depend on the
  // hash map's order.
  std::vector<PagerTxn::CommitPlan> plan;
  plan.reserve(t->dirty_.size());
  for (auto& [page_no, d] : t->dirty_) plan.push_back(PagerTxn::CommitPlan{page_no, &d});
  std::sort(plan.begin(), plan.end(),
            [](const PagerTxn::CommitPlan& a, const PagerTxn::CommitPlan& b) {
              return a.page_no < b.page_no;
            });
  bool any_copies = false;
  for (PagerTxn::CommitPlan& c : plan) {
    PagerTxn::Dirty& d = *c.d;
    c.form = PagerTxn::CommitPlan::kImage;
    // A page NoteCloned made is page ops on zeros; other pages need a base
    // recovery rebuilds.
    const bool built = d.built && !d.whole;
    if (!built && (d.whole || d.base_lsn == 0 || !LogRebuildsBase(c.page_no))) continue;
    const uint64_t bytes = d.ranges_dropped ? ps : MergeRanges(&d.ranges);
    if (!d.ranges_dropped && d.ranges.empty()) {  // touched but nothing reported changed:
      d.buf.reset();                              // not logged, and no new version
      c.form = PagerTxn::CommitPlan::kNone;
      continue;
    }
    t->FinishOps(&d);
    // The smaller of the ops and the delta (a range costs ~4 bytes).
    const bool ops = ops_allowed && d.ops_ok && !d.ops.empty() &&
                     (d.ranges_dropped || d.ops.size() < bytes + 4 * d.ranges.size());
    if ((ops ? d.ops.size() : bytes) <= ps / 2)
      c.form = ops ? PagerTxn::CommitPlan::kOps : PagerTxn::CommitPlan::kDelta;
    any_copies = any_copies || (c.form == PagerTxn::CommitPlan::kOps && d.copies);
  }
  if (any_copies) t->WriteOutCopies(&plan);
  // Every logged page's header as its record holds it, then the images
  // compressed on two threads (a large transaction's images are most of
  // its commit's work); the helper is joined on every way out.
  std::vector<const uint8_t*> images;
  for (const PagerTxn::CommitPlan& c : plan) {
    if (c.form == PagerTxn::CommitPlan::kNone) continue;
    uint8_t* buf = c.d->buf.get();
    EncodeFixed32(buf + kHeaderPageNoOffset, c.page_no);
    EncodeFixed64(buf + kHeaderLsnOffset, next.lsn);
    EncodeFixed64(buf + kHeaderChecksumOffset, 0);
    if (c.form == PagerTxn::CommitPlan::kImage) images.push_back(buf);
  }
  const wal::PrecompressScope join(batch_.get());
  batch_->PrecompressImages(images);
  for (const PagerTxn::CommitPlan& c : plan) {
    if (c.form == PagerTxn::CommitPlan::kNone) continue;
    const uint32_t page_no = c.page_no;
    PagerTxn::Dirty& d = *c.d;
    uint8_t* buf = d.buf.get();
    pages->push_back(page_no);
    Status s;
    if (c.form == PagerTxn::CommitPlan::kImage) {
      s = batch_->AddPageImage(page_no, next.lsn, buf);
    } else if (c.form == PagerTxn::CommitPlan::kOps) {
#ifndef NDEBUG
      CheckOpsReplay(d.ops, d.built ? nullptr : d.committed, buf, ps,
                     [t](uint32_t src) { return t->CommittedBytes(src); });
#endif
      s = batch_->AddPageOps(page_no, d.base_lsn, next.lsn, d.ops);
    } else {
      std::vector<wal::DeltaRange> ranges;
      for (auto [b, e] : d.ranges) {
        ranges.push_back(
            wal::DeltaRange{b, std::string_view(reinterpret_cast<const char*>(buf + b), e - b)});
      }
      s = batch_->AddPageDelta(page_no, d.base_lsn, next.lsn, ranges);
    }
    if (!s.ok()) return s;  // a caller bug, nothing written
  }
  return batch_->AddCommit(CommitRecord(next, durable_lsn_.load()));
}

// Group commit step 1, the append: one pwrite of the batch (crash point
// wal-write); the pages become versions, committed_ advances, the commit is
// queued in pending_ and the writer slot is released.
Result<uint64_t> Pager::AppendCommit(PagerTxn* t, const TreeState& next, wal::WalWriter* wal,
                                     std::vector<uint32_t> pages) {
  Result<uint64_t> end = wal->Append(*batch_);
  CrashPoint(kCrashWalWrite);
  if (!end.ok()) {
    SetSticky(end.status());
    return end.status();
  }
  {
    std::lock_guard<std::mutex> lock(version_mu_);
    for (auto& [page_no, d] : t->dirty_) {
      if (d.buf == nullptr) continue;
      versions_->Push(page_no, std::make_unique<PageVersion>(next.lsn, std::move(d.buf)));
      imaged_.insert(page_no);
    }
  }
  committed_ = next;
  commits_->Add();
  {
    std::lock_guard<std::mutex> lock(reader_mu_);
    pending_.push_back(Pending{*end, next, std::move(pages)});
  }
  t->slot_.unlock();  // the next transaction builds while this one syncs
  return end;
}

// Group commit step 2, the sync: SyncTo(end) with durability full, or with
// normal when normal_sync_interval_ms has passed since the last one (crash
// point after-wal-sync); then durable_lsn_ rises.
Status Pager::SyncCommit(wal::WalWriter* wal, uint64_t end, uint64_t lsn) {
  const bool full = options_.durability == Durability::kFull;
  Status synced;
  bool did_sync = false;
  if (full) {
    synced = wal->SyncTo(end);
    did_sync = true;
  } else if (options_.durability == Durability::kNormal) {
    int64_t now = NowMs();
    bool due;
    {
      std::lock_guard<std::mutex> lock(reader_mu_);
      due = now - last_sync_ms_ >= pager_options_.normal_sync_interval_ms;
      if (due) last_sync_ms_ = now;
    }
    if (due) {
      synced = wal->SyncTo(end);
      did_sync = true;
    }
  }
  if (!synced.ok()) {
    SetSticky(synced);
    return synced;
  }
  if (!full) wal->Acknowledge(end);
  if (did_sync) CrashPoint(kCrashAfterWalSync);
  if (did_sync) RaiseDurableLsn(lsn);
  return Status::OK();
}

// The automatic checkpoint, once the log passed its threshold
// (docs/design/checkpoint.md, "When a checkpoint runs"): the writer slot is
// taken again, after this commit released it, and the size re-checked.
void Pager::MaybeCheckpoint(wal::WalWriter* wal) {
  if (wal->log_bytes() > checkpoint_due_bytes_.load()) {
    std::lock_guard<std::mutex> slot(writer_mu_);
    if (wal_->log_bytes() > checkpoint_due_bytes_.load()) {
      (void)CheckpointLocked();  // a failure is sticky; this commit stands
    }
  }
}

// Group commit step 3, the publication: queued commits become visible in
// commit order (only synced ones with durability full), then versions are
// pruned.
void Pager::Publish(bool all) {
  std::vector<uint32_t> pages;
  std::vector<uint64_t> snapshots;
  const std::shared_ptr<wal::WalWriter> wal = Wal();
  {
    std::lock_guard<std::mutex> lock(reader_mu_);
    const uint64_t synced = wal->synced_offset();
    bool any = false;
    while (!pending_.empty() && (all || pending_.front().end_offset <= synced)) {
      Pending& p = pending_.front();
      published_ = p.state;
      pages.insert(pages.end(), p.pages.begin(), p.pages.end());
      pending_.pop_front();
      any = true;
    }
    if (!any) return;
    // Readers elsewhere see the commit (docs/design/readers.md).
    if (table_ != nullptr) table_->PublishNewestLsn(published_.lsn);
    snapshots = ReaderLsnsLocked();
  }
  std::sort(pages.begin(), pages.end());
  pages.erase(std::unique(pages.begin(), pages.end()), pages.end());
  RunHook(PagerHook::kPublishedBeforePrune);
  PruneVersions(pages, snapshots);
}

std::unordered_set<uint32_t> Pager::PreservedPagesAlive() {
  std::erase_if(preserved_, [](const Preserved& p) { return p.region.expired(); });
  std::unordered_set<uint32_t> pages;
  for (const Preserved& p : preserved_) pages.insert(p.pages->begin(), p.pages->end());
  return pages;
}

void Pager::PruneVersions(const std::vector<uint32_t>& pages,
                          const std::vector<uint64_t>& snapshots) {
  auto bin = std::make_shared<RetireBin>();
  size_t cut = 0;
  {
    std::lock_guard<std::mutex> lock(version_mu_);
    // The file's content may stand in for versions only of pages that no
    // map region still held by a reader has preserved
    // (docs/design/checkpoint.md).
    const std::unordered_set<uint32_t> preserved = PreservedPagesAlive();
    VersionMap::SuffixCheck check;
#ifndef NDEBUG
    // Before any suffix drop: the page file really holds the version it is
    // said to hold (its header carries that version's LSN).
    check = [this](uint32_t page_no, const PageVersion& v) {
      std::shared_ptr<const MappedRegion> region = file_->Pin();
      const uint64_t offset = uint64_t{page_no} * page_size();
      assert(offset + page_size() <= region->size());
      assert(DecodeFixed64(region->data() + offset + kHeaderLsnOffset) == v.lsn);
      (void)region;
      (void)offset;
      (void)v;
    };
#endif
    for (uint32_t page_no : pages) {
      cut += versions_->Prune(page_no, snapshots, preserved.count(page_no) == 0, bin.get(), check);
    }
  }
  RunHook(PagerHook::kPruned);
  if (cut == 0) return;
  versions_pruned_->Add(cut);
  Retire(std::move(bin));
}

void Pager::Retire(std::shared_ptr<RetireBin> bin) {
  // Readers that began before now hold the current bin, which will hold the
  // new one: the cut versions live until they are all gone. Bins are only
  // chained and released under reader_mu_ (pager.h): the local reference is
  // moved into the chain here, not dropped after the lock.
  std::lock_guard<std::mutex> lock(reader_mu_);
  auto fresh = std::make_shared<RetireBin>();
  bin->set_next(fresh);
  bin_->set_next(std::move(bin));
  bin_ = std::move(fresh);
}

}  // namespace sombra::pager
