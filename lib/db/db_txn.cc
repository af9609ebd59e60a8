// db/db_txn.cc: the transactions of <sombra/db.h>.
#include "db/db_txn.h"

#include <memory>
#include <string>

namespace sombra::db {

Status ReadTxnImpl::Get(std::string_view key, std::string* value) {
  SOMBRA_RETURN_IF_ERROR(db_->CheckKey(key));
  ScopedTimer t(db_->search_timer());
  const btree::BTreeCounters counts(db_->tick_counters());  // in the registry when Get returns
  return btree::TreeGet(reader_, snap_->page_size(), snap_->state().root, key, value, &counts);
}

std::unique_ptr<Cursor> ReadTxnImpl::NewCursor() {
  return NewSnapshotCursor(snap_.get(), db_->tick_counters());
}

WriteTxnImpl::WriteTxnImpl(const DBImpl* db, std::unique_ptr<pager::PagerTxn> txn)
    : db_(db),
      txn_(std::move(txn)),
      writer_(std::make_unique<btree::BTreeWriter>(txn_.get(), db->tick_counters())) {
  writer_->ShareLayouts(db->layout_cache());
}

WriteTxnImpl::~WriteTxnImpl() { Abort(); }

Status WriteTxnImpl::CheckOpen() const {
  if (txn_ == nullptr) {
    return Status::InvalidArgument("write transaction on " + db_->path() +
                                   " is finished (committed or aborted)");
  }
  return state_->error;
}

Status WriteTxnImpl::Check(Status s) {
  if (!s.ok() && !s.IsNotFound() && state_->error.ok()) state_->error = s;
  return s;
}

Status WriteTxnImpl::Put(std::string_view key, std::string_view value) {
  SOMBRA_RETURN_IF_ERROR(CheckOpen());
  SOMBRA_RETURN_IF_ERROR(db_->CheckKeyValue(key, value));
  ScopedTimer t(db_->insert_timer());
  return Check(writer_->Put(key, value));
}

Status WriteTxnImpl::Append(std::string_view key, std::string_view value) {
  SOMBRA_RETURN_IF_ERROR(CheckOpen());
  SOMBRA_RETURN_IF_ERROR(db_->CheckKeyValue(key, value));
  ScopedTimer t(db_->insert_timer());
  // A key out of order is the caller's mistake, found before anything is
  // written: InvalidArgument, and the transaction goes on.
  Status order = writer_->CheckAppendOrder(key);
  if (order.IsInvalidArgument()) return order;
  SOMBRA_RETURN_IF_ERROR(Check(order));
  return Check(writer_->Append(key, value));
}

Status WriteTxnImpl::DeleteRange(std::string_view begin, std::string_view end) {
  return DeleteRange(begin, end, nullptr);
}

Status WriteTxnImpl::DeleteRange(std::string_view begin, std::string_view end, uint64_t* deleted) {
  SOMBRA_RETURN_IF_ERROR(CheckOpen());
  // A reversed range is the caller's mistake: refused before anything is
  // read or written, and the transaction goes on.
  if (end < begin) {
    return Status::InvalidArgument("DeleteRange: the end of the range sorts before its begin");
  }
  return Check(writer_->DeleteRange(begin, end, deleted));
}

Status WriteTxnImpl::Delete(std::string_view key) { return Delete(key, nullptr); }

Status WriteTxnImpl::Delete(std::string_view key, bool* existed) {
  SOMBRA_RETURN_IF_ERROR(CheckOpen());
  SOMBRA_RETURN_IF_ERROR(db_->CheckKey(key));
  return Check(writer_->Delete(key, existed));
}

Status WriteTxnImpl::Get(std::string_view key, std::string* value) {
  SOMBRA_RETURN_IF_ERROR(CheckOpen());
  SOMBRA_RETURN_IF_ERROR(db_->CheckKey(key));
  ScopedTimer t(db_->search_timer());
  return Check(writer_->Get(key, value));
}

std::unique_ptr<Cursor> WriteTxnImpl::NewCursor() {
  if (txn_ == nullptr) return NewWriteCursor(nullptr, 0, db_->tick_counters(), state_);
  // A failed transaction's cursor is invalid with its first error.
  return NewWriteCursor(writer_.get(), txn_->page_size(), db_->tick_counters(), state_);
}

Status WriteTxnImpl::Commit() {
  if (txn_ != nullptr && !state_->error.ok()) {
    // A failed transaction is never committed: it ends here, as Abort, and
    // the database stays as it was before the transaction.
    const Status first = state_->error;
    Abort();
    return first;
  }
  SOMBRA_RETURN_IF_ERROR(CheckOpen());
  state_->finished = true;
  // Kept now, while this transaction holds the writer slot: the commit
  // passes the slot on before its sync, and the next transaction must find
  // them. Should the commit fail, the kept layouts describe pages the
  // database does not have: the whole cache is dropped before the slot is
  // released (a failure after the append, in the sync, makes the database
  // refuse every later commit anyway). LayoutCache::Take also checks each
  // layout against its page's header and directory.
  db_->layout_cache()->Keep(writer_->ReleaseLayouts());
  writer_.reset();
  Status s = txn_->Commit();
  if (!s.ok()) db_->layout_cache()->Clear();
  txn_.reset();  // releases the writer slot
  return s;
}

void WriteTxnImpl::Abort() {
  if (txn_ == nullptr) return;
  state_->finished = true;
  writer_.reset();
  txn_->Abort();
  txn_.reset();
}

}  // namespace sombra::db
