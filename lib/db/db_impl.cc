// db/db_impl.cc: DBImpl: one-operation transactions, BeginRead/BeginWrite,
// Checkpoint and Verify.
#include "db/db_impl.h"

#include <memory>
#include <string>

#include "btree/db_verify.h"
#include "db/db_txn.h"
#include "pager/meta.h"
#include "pager/settled_meta.h"

namespace sombra::db {

DBImpl::DBImpl(std::unique_ptr<MetricsRegistry> metrics, std::unique_ptr<pager::Pager> pager,
               Env* env)
    : metrics_(std::move(metrics)),
      pager_(std::move(pager)),
      env_(env),
      tick_counters_(metrics_.get()),
      insert_timer_(metrics_->GetTimer("insert")),
      search_timer_(metrics_->GetTimer("search")) {}

// The free pages at the end of the file are given back, then the Pager's
// destructor checkpoints (unless read-only or failed), trims the file and
// releases the lock.
DBImpl::~DBImpl() {
  if (!pager_->read_only() && pager_->sticky_error().ok()) {
    uint64_t pages = 0;
    (void)TrimFreeTail(&pages);
  }
}

Status DBImpl::Put(std::string_view key, std::string_view value) {
  // Checked before waiting for the writer slot (WriteTxn::Put checks again).
  SOMBRA_RETURN_IF_ERROR(CheckKeyValue(key, value));
  std::unique_ptr<WriteTxnImpl> txn;
  SOMBRA_RETURN_IF_ERROR(BeginOwnWrite("Put", &txn));
  SOMBRA_RETURN_IF_ERROR(txn->Put(key, value));
  return txn->Commit();
}

Status DBImpl::Get(std::string_view key, std::string* value) {
  SOMBRA_RETURN_IF_ERROR(CheckKey(key));
  ScopedTimer t(search_timer_);
  std::unique_ptr<pager::Snapshot> snap = pager_->BeginRead();
  const btree::BTreeCounters counts(&tick_counters_);  // in the registry when Get returns
  return btree::TreeGet(btree::SnapshotReader(snap.get()), page_size(), snap->state().root, key,
                        value, &counts);
}

Status DBImpl::Delete(std::string_view key) {
  SOMBRA_RETURN_IF_ERROR(CheckKey(key));
  std::unique_ptr<WriteTxnImpl> txn;
  SOMBRA_RETURN_IF_ERROR(BeginOwnWrite("Delete", &txn));
  bool existed = false;
  SOMBRA_RETURN_IF_ERROR(txn->Delete(key, &existed));
  if (!existed) return Status::OK();  // nothing to log
  return txn->Commit();
}

Status DBImpl::BeginOwnWrite(const char* what, std::unique_ptr<WriteTxnImpl>* txn) {
  txn->reset();
  SOMBRA_RETURN_IF_ERROR(CheckNotWriterThread(what));
  std::unique_ptr<WriteTxn> began;
  SOMBRA_RETURN_IF_ERROR(BeginWrite(&began));
  txn->reset(static_cast<WriteTxnImpl*>(began.release()));  // BeginWrite makes one
  return Status::OK();
}

Status DBImpl::BeginRead(std::unique_ptr<ReadTxn>* txn) {
  *txn = std::make_unique<ReadTxnImpl>(this, pager_->BeginRead());
  return Status::OK();
}

Status DBImpl::BeginWrite(std::unique_ptr<WriteTxn>* txn) {
  txn->reset();
  SOMBRA_ASSIGN_OR_RETURN(auto ptxn, pager_->BeginWrite());
  *txn = std::make_unique<WriteTxnImpl>(this, std::move(ptxn));
  return Status::OK();
}

Status DBImpl::Checkpoint() {
  if (pager_->read_only()) return pager_->Checkpoint();  // NotSupported
  SOMBRA_RETURN_IF_ERROR(CheckNotWriterThread("Checkpoint"));
  uint64_t pages = 0;
  const Status trimmed = TrimFreeTail(&pages);
  SOMBRA_RETURN_IF_ERROR(pager_->Checkpoint());
  return trimmed;  // a damaged freelist is reported, the checkpoint done
}

Status DBImpl::Verify() {
  // btree::VerifyDatabase, the check sombra-inspect verify runs too, over
  // the newest snapshot and both meta pages as the file stores them (read
  // here: the pager keeps only the one in force; a damaged standby meta is
  // reported though the database works without it).
  const std::string where = "verify " + path();
  SOMBRA_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env_->OpenFile(path(), OpenMode::kReadOnly));
  // The snapshot below keeps the data pages still, not the meta pages: a
  // checkpoint (of a writer in another process beside a read-only handle,
  // or of another thread of this writable one) may be writing one right
  // now, and a torn read of it is not damage. So they are read until they
  // settle; a damaged meta page of a database at rest reads damaged twice
  // and is reported as before.
  Result<pager::MetaChoice> metas = pager::ReadSettledMetas(file.get(), path(), page_size());
  if (!metas.ok()) return metas.status().WithContext(where);
  std::unique_ptr<pager::Snapshot> snap = pager_->BeginRead();
  Result<btree::VerifyReport> report = btree::VerifyDatabase(*snap, *metas, path());
  if (!report.ok()) return report.status().WithContext(where);
  if (report->ok()) return Status::OK();
  // The first problem (the lowest page), and how many more there are.
  std::string message = btree::DescribeProblem(report->problems.front(), path());
  if (const size_t more = report->problems.size() - 1; more > 0) {
    message += " (and " + std::to_string(more) + (more == 1 ? " more problem)" : " more problems)");
  }
  return Status::Corruption(message).WithContext(where);
}

}  // namespace sombra::db
