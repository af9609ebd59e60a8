// capi/c_txn.cc: sombra_txn: BeginRead/BeginWrite, Commit, Abort and the
// writes (Put, Delete, Append, DeleteRange, with and without a tree).
//
// One handle type for both kinds, as LMDB's MDB_txn: a write call on a read
// transaction is InvalidArgument (a bad argument, like a call on an ended
// transaction). A tree of null means the call without a Tree*.
#include <memory>
#include <string>

#include "capi/c_handles.h"

namespace sombra::capi {
namespace {

Status Begin(sombra_db* db, bool write, sombra_txn** txn) {
  SOMBRA_RETURN_IF_ERROR(CheckHandle(txn, "txn (the output)"));
  *txn = nullptr;
  SOMBRA_RETURN_IF_ERROR(CheckHandle(db, "db"));
  auto handle = std::make_unique<sombra_txn>(db, write);
  if (write) {
    SOMBRA_RETURN_IF_ERROR(CheckNotWriter(db, "sombra_db_begin_write"));
    SOMBRA_RETURN_IF_ERROR(db->db->BeginWrite(&handle->write));
    db->writer.store(std::this_thread::get_id());
  } else {
    SOMBRA_RETURN_IF_ERROR(db->db->BeginRead(&handle->read));
  }
  db->txns.fetch_add(1);
  *txn = handle.release();
  return Status::OK();
}

// The writes, each with or without a tree.
Status Put(WriteTxn* w, Tree* tree, std::string_view key, std::string_view value) {
  return tree == nullptr ? w->Put(key, value) : w->Put(tree, key, value);
}
Status Delete(WriteTxn* w, Tree* tree, std::string_view key) {
  return tree == nullptr ? w->Delete(key) : w->Delete(tree, key);
}
Status Append(WriteTxn* w, Tree* tree, std::string_view key, std::string_view value) {
  return tree == nullptr ? w->Append(key, value) : w->Append(tree, key, value);
}
Status DeleteRange(WriteTxn* w, Tree* tree, std::string_view begin, std::string_view end) {
  return tree == nullptr ? w->DeleteRange(begin, end) : w->DeleteRange(tree, begin, end);
}

// The checks every write makes, in order; *out is the C++ tree (null for
// the calls without one).
Status PrepareWrite(const sombra_txn* txn, const sombra_tree* tree, bool with_tree,
                    const char* what, Tree** out) {
  SOMBRA_RETURN_IF_ERROR(CheckWritable(txn, what));
  *out = nullptr;
  if (with_tree) SOMBRA_RETURN_IF_ERROR(TreeOf(tree, out));
  return Status::OK();
}

sombra_status PutOrAppend(bool append, sombra_txn* txn, const sombra_tree* tree, bool with_tree,
                          const void* key, size_t key_len, const void* value, size_t value_len,
                          sombra_error** err) {
  return Guard(err, [&] {
    Tree* t = nullptr;
    SOMBRA_RETURN_IF_ERROR(PrepareWrite(txn, tree, with_tree, append ? "append" : "put", &t));
    SOMBRA_RETURN_IF_ERROR(CheckBytes(key, key_len, "key"));
    SOMBRA_RETURN_IF_ERROR(CheckBytes(value, value_len, "value"));
    const std::string_view k = Bytes(key, key_len), v = Bytes(value, value_len);
    return append ? Append(txn->write.get(), t, k, v) : Put(txn->write.get(), t, k, v);
  });
}

sombra_status DeleteKey(sombra_txn* txn, const sombra_tree* tree, bool with_tree, const void* key,
                        size_t key_len, sombra_error** err) {
  return Guard(err, [&] {
    Tree* t = nullptr;
    SOMBRA_RETURN_IF_ERROR(PrepareWrite(txn, tree, with_tree, "delete", &t));
    SOMBRA_RETURN_IF_ERROR(CheckBytes(key, key_len, "key"));
    return Delete(txn->write.get(), t, Bytes(key, key_len));
  });
}

sombra_status DeleteKeys(sombra_txn* txn, const sombra_tree* tree, bool with_tree,
                         const void* begin, size_t begin_len, const void* end, size_t end_len,
                         sombra_error** err) {
  return Guard(err, [&] {
    Tree* t = nullptr;
    SOMBRA_RETURN_IF_ERROR(PrepareWrite(txn, tree, with_tree, "delete_range", &t));
    SOMBRA_RETURN_IF_ERROR(CheckBytes(begin, begin_len, "begin"));
    SOMBRA_RETURN_IF_ERROR(CheckBytes(end, end_len, "end"));
    return DeleteRange(txn->write.get(), t, Bytes(begin, begin_len), Bytes(end, end_len));
  });
}

// Abort and free report nothing (void, as WriteTxn::Abort): nothing there
// allocates, and should anything throw it stops here (invariant 5).
void AbortQuietly(sombra_txn* txn) noexcept {
  try {
    (void)EndTxn(txn, false);
  } catch (...) {
  }
}

}  // namespace

Status CheckOpen(const sombra_txn* txn) {
  SOMBRA_RETURN_IF_ERROR(CheckHandle(txn, "txn"));
  if (!txn->ended()) return Status::OK();
  return Status::InvalidArgument(std::string(txn->is_write ? "write" : "read") +
                                 " transaction on " + txn->db->db->path() +
                                 " is finished (committed or aborted)");
}

Status CheckWritable(const sombra_txn* txn, const char* what) {
  SOMBRA_RETURN_IF_ERROR(CheckOpen(txn));
  if (txn->is_write) return Status::OK();
  return Status::InvalidArgument(std::string(what) + " in a read transaction of " +
                                 txn->db->db->path() + " (writes need sombra_db_begin_write)");
}

Status EndTxn(sombra_txn* txn, bool commit) {
  for (sombra_cursor* c : txn->cursors) {
    c->cursor.reset();
    c->txn = nullptr;
  }
  txn->cursors.clear();
  txn->view.clear();
  txn->read.reset();
  if (txn->write == nullptr) return Status::OK();
  Status s;
  if (commit) {
    s = txn->write->Commit();
  } else {
    txn->write->Abort();
  }
  txn->write.reset();
  txn->db->writer.store(std::thread::id());
  return s;
}

}  // namespace sombra::capi

using sombra::capi::Guard;

extern "C" {

sombra_status sombra_db_begin_read(sombra_db* db, sombra_txn** txn, sombra_error** err) {
  return Guard(err, [&] { return sombra::capi::Begin(db, false, txn); });
}

sombra_status sombra_db_begin_write(sombra_db* db, sombra_txn** txn, sombra_error** err) {
  return Guard(err, [&] { return sombra::capi::Begin(db, true, txn); });
}

sombra_status sombra_txn_commit(sombra_txn* txn, sombra_error** err) {
  return Guard(err, [&] {
    SOMBRA_RETURN_IF_ERROR(sombra::capi::CheckOpen(txn));
    return sombra::capi::EndTxn(txn, true);
  });
}

void sombra_txn_abort(sombra_txn* txn) {
  if (txn != nullptr) sombra::capi::AbortQuietly(txn);
}

void sombra_txn_free(sombra_txn* txn) {
  if (txn == nullptr) return;
  sombra::capi::AbortQuietly(txn);
  txn->db->txns.fetch_sub(1);
  delete txn;
}

uint64_t sombra_txn_sequence(const sombra_txn* txn) {
  return txn == nullptr || txn->read == nullptr ? 0 : txn->read->Sequence();
}

sombra_status sombra_txn_put(sombra_txn* txn, const void* key, size_t key_len, const void* value,
                             size_t value_len, sombra_error** err) {
  return sombra::capi::PutOrAppend(false, txn, nullptr, false, key, key_len, value, value_len, err);
}

sombra_status sombra_txn_put_tree(sombra_txn* txn, sombra_tree* tree, const void* key,
                                  size_t key_len, const void* value, size_t value_len,
                                  sombra_error** err) {
  return sombra::capi::PutOrAppend(false, txn, tree, true, key, key_len, value, value_len, err);
}

sombra_status sombra_txn_append(sombra_txn* txn, const void* key, size_t key_len, const void* value,
                                size_t value_len, sombra_error** err) {
  return sombra::capi::PutOrAppend(true, txn, nullptr, false, key, key_len, value, value_len, err);
}

sombra_status sombra_txn_append_tree(sombra_txn* txn, sombra_tree* tree, const void* key,
                                     size_t key_len, const void* value, size_t value_len,
                                     sombra_error** err) {
  return sombra::capi::PutOrAppend(true, txn, tree, true, key, key_len, value, value_len, err);
}

sombra_status sombra_txn_delete(sombra_txn* txn, const void* key, size_t key_len,
                                sombra_error** err) {
  return sombra::capi::DeleteKey(txn, nullptr, false, key, key_len, err);
}

sombra_status sombra_txn_delete_tree(sombra_txn* txn, sombra_tree* tree, const void* key,
                                     size_t key_len, sombra_error** err) {
  return sombra::capi::DeleteKey(txn, tree, true, key, key_len, err);
}

sombra_status sombra_txn_delete_range(sombra_txn* txn, const void* begin, size_t begin_len,
                                      const void* end, size_t end_len, sombra_error** err) {
  return sombra::capi::DeleteKeys(txn, nullptr, false, begin, begin_len, end, end_len, err);
}

sombra_status sombra_txn_delete_range_tree(sombra_txn* txn, sombra_tree* tree, const void* begin,
                                           size_t begin_len, const void* end, size_t end_len,
                                           sombra_error** err) {
  return sombra::capi::DeleteKeys(txn, tree, true, begin, begin_len, end, end_len, err);
}

}  // extern "C"
