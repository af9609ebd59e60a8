// db/db_txn.cc: the transactions of <sombra/db.h>. The calls without a
// Tree* act on the default tree; db_trees.cc finds the others.
#include "db/db_txn.h"

#include <memory>
#include <string>

namespace sombra::db {

Status ReadTxnImpl::Get(std::string_view key, std::string* value) {
  return Get(db_->default_tree(), key, value);
}

Status ReadTxnImpl::Get(Tree* tree, std::string_view key, std::string* value) {
  SOMBRA_RETURN_IF_ERROR(db_->CheckKey(key));
  SOMBRA_ASSIGN_OR_RETURN(uint32_t root, RootOf(tree));
  ScopedTimer t(db_->search_timer());
  const btree::BTreeCounters counts(db_->tick_counters());  // in the registry when Get returns
  return btree::TreeGet(reader_, snap_->page_size(), root, key, value, &counts);
}

std::unique_ptr<Cursor> ReadTxnImpl::NewCursor() { return NewCursor(db_->default_tree()); }

std::unique_ptr<Cursor> ReadTxnImpl::NewCursor(Tree* tree) {
  Result<uint32_t> root = RootOf(tree);
  if (!root.ok()) return NewErrorCursor(root.status());
  return NewSnapshotCursor(snap_.get(), *root, db_->tick_counters());
}

WriteTxnImpl::WriteTxnImpl(const DBImpl* db, std::unique_ptr<pager::PagerTxn> txn)
    : db_(db),
      txn_(std::move(txn)),
      writer_(std::make_unique<btree::BTreeWriter>(txn_.get(), db->tick_counters())),
      catalog_root_(txn_->catalog_root()) {
  writer_->ShareLayouts(db->layout_cache());
  db_->SetWriterThread(std::this_thread::get_id());
}

WriteTxnImpl::~WriteTxnImpl() { Abort(); }

Status WriteTxnImpl::CheckOpen() const {
  if (txn_ == nullptr) {
    return Status::InvalidArgument("write transaction on " + db_->path() +
                                   " is finished (committed or aborted)");
  }
  return state_->error;
}

void WriteTxnImpl::NoteError(const Status& s) {
  if (!s.IsNotFound() && state_->error.ok()) state_->error = s;
}

Status WriteTxnImpl::Put(std::string_view key, std::string_view value) {
  return Put(db_->default_tree(), key, value);
}

Status WriteTxnImpl::Put(Tree* tree, std::string_view key, std::string_view value) {
  SOMBRA_RETURN_IF_ERROR(CheckOpen());
  SOMBRA_RETURN_IF_ERROR(db_->CheckKeyValue(key, value));
  SOMBRA_ASSIGN_OR_RETURN(btree::BTreeWriter * w, WriterFor(tree));
  ScopedTimer t(db_->insert_timer());
  return Check(w->Put(key, value));
}

Status WriteTxnImpl::Append(std::string_view key, std::string_view value) {
  return Append(db_->default_tree(), key, value);
}

Status WriteTxnImpl::Append(Tree* tree, std::string_view key, std::string_view value) {
  SOMBRA_RETURN_IF_ERROR(CheckOpen());
  SOMBRA_RETURN_IF_ERROR(db_->CheckKeyValue(key, value));
  SOMBRA_ASSIGN_OR_RETURN(btree::BTreeWriter * w, WriterFor(tree));
  ScopedTimer t(db_->insert_timer());
  // A key out of order is the caller's mistake, found before anything is
  // written: InvalidArgument, and the transaction goes on.
  Status order = w->CheckAppendOrder(key);
  if (order.IsInvalidArgument()) return order;
  SOMBRA_RETURN_IF_ERROR(Check(order));
  return Check(w->AppendInOrder(key, value));
}

Status WriteTxnImpl::DeleteRange(std::string_view begin, std::string_view end) {
  return DeleteRange(db_->default_tree(), begin, end, nullptr);
}

Status WriteTxnImpl::DeleteRange(std::string_view begin, std::string_view end, uint64_t* deleted) {
  return DeleteRange(db_->default_tree(), begin, end, deleted);
}

Status WriteTxnImpl::DeleteRange(Tree* tree, std::string_view begin, std::string_view end) {
  return DeleteRange(tree, begin, end, nullptr);
}

Status WriteTxnImpl::DeleteRange(Tree* tree, std::string_view begin, std::string_view end,
                                 uint64_t* deleted) {
  SOMBRA_RETURN_IF_ERROR(CheckOpen());
  // A reversed range is the caller's mistake: refused before anything is
  // read or written, and the transaction goes on.
  if (end < begin) {
    return Status::InvalidArgument("DeleteRange: the end of the range sorts before its begin");
  }
  SOMBRA_ASSIGN_OR_RETURN(btree::BTreeWriter * w, WriterFor(tree));
  return Check(w->DeleteRange(begin, end, deleted));
}

Status WriteTxnImpl::Delete(std::string_view key) { return Delete(key, nullptr); }

Status WriteTxnImpl::Delete(std::string_view key, bool* existed) {
  SOMBRA_RETURN_IF_ERROR(CheckOpen());
  SOMBRA_RETURN_IF_ERROR(db_->CheckKey(key));
  return Check(writer_->Delete(key, existed));
}

Status WriteTxnImpl::Delete(Tree* tree, std::string_view key) {
  SOMBRA_RETURN_IF_ERROR(CheckOpen());
  SOMBRA_RETURN_IF_ERROR(db_->CheckKey(key));
  SOMBRA_ASSIGN_OR_RETURN(btree::BTreeWriter * w, WriterFor(tree));
  return Check(w->Delete(key, nullptr));
}

Status WriteTxnImpl::Get(std::string_view key, std::string* value) {
  return Get(db_->default_tree(), key, value);
}

Status WriteTxnImpl::Get(Tree* tree, std::string_view key, std::string* value) {
  SOMBRA_RETURN_IF_ERROR(CheckOpen());
  SOMBRA_RETURN_IF_ERROR(db_->CheckKey(key));
  SOMBRA_ASSIGN_OR_RETURN(btree::BTreeWriter * w, WriterFor(tree));
  ScopedTimer t(db_->search_timer());
  return Check(w->Get(key, value));
}

std::unique_ptr<Cursor> WriteTxnImpl::NewCursor() { return NewCursor(db_->default_tree()); }

std::unique_ptr<Cursor> WriteTxnImpl::NewCursor(Tree* tree) {
  if (txn_ == nullptr) return NewWriteCursor(nullptr, 0, db_->tick_counters(), state_);
  Result<btree::BTreeWriter*> w = WriterFor(tree);
  if (!w.ok()) return NewErrorCursor(w.status());
  // A failed transaction's cursor is invalid with its first error.
  return NewWriteCursor(*w, txn_->page_size(), db_->tick_counters(), state_);
}

Status WriteTxnImpl::Commit() {
  if (txn_ != nullptr && state_->error.ok()) (void)Check(CommitTrees());
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
  ReleaseWriters();
  db_->SetWriterThread(std::thread::id());
  Status s = txn_->Commit();
  if (!s.ok()) db_->layout_cache()->Clear();
  txn_.reset();  // releases the writer slot
  return s;
}

void WriteTxnImpl::Abort() {
  if (txn_ == nullptr) return;
  state_->finished = true;
  last_tree_ = nullptr;
  last_writer_ = nullptr;
  named_.clear();
  catalog_.reset();
  writer_.reset();
  db_->SetWriterThread(std::thread::id());
  txn_->Abort();
  txn_.reset();
}

}  // namespace sombra::db
