// capi/c_cursor.cc: sombra_cursor over Cursor (sombra/cursor.h).
//
// A cursor is attached to its transaction until it is freed or the
// transaction ends (c_handles.h, invariant 3). Each move returns the
// cursor's status after it, so a C loop needs no separate status call.
#include <algorithm>
#include <memory>
#include <string>

#include "capi/c_handles.h"

namespace sombra::capi {
namespace {

Status NewCursor(sombra_txn* txn, const sombra_tree* tree, bool with_tree, sombra_cursor** cursor) {
  SOMBRA_RETURN_IF_ERROR(CheckHandle(cursor, "cursor (the output)"));
  *cursor = nullptr;
  SOMBRA_RETURN_IF_ERROR(CheckOpen(txn));
  Tree* t = nullptr;
  if (with_tree) SOMBRA_RETURN_IF_ERROR(TreeOf(tree, &t));
  auto handle = std::make_unique<sombra_cursor>();
  if (txn->write != nullptr) {
    handle->cursor = t == nullptr ? txn->write->NewCursor() : txn->write->NewCursor(t);
  } else {
    handle->cursor = t == nullptr ? txn->read->NewCursor() : txn->read->NewCursor(t);
  }
  // A bad tree handle or a failed transaction: the C++ cursor starts
  // invalid with the error; here the error is the result instead.
  SOMBRA_RETURN_IF_ERROR(handle->cursor->status());
  txn->cursors.push_back(handle.get());
  handle->txn = txn;
  *cursor = handle.release();
  return Status::OK();
}

// InvalidArgument for a null cursor or one whose transaction has ended.
Status CheckAttached(const sombra_cursor* cursor) {
  SOMBRA_RETURN_IF_ERROR(CheckHandle(cursor, "cursor"));
  if (cursor->cursor != nullptr) return Status::OK();
  return Status::InvalidArgument("cursor of a finished transaction (committed, aborted or freed)");
}

// Runs `move` on an attached cursor and returns its status after it.
template <typename Move>
sombra_status Step(sombra_cursor* cursor, sombra_error** err, bool needs_valid, Move&& move) {
  return Guard(err, [&] {
    SOMBRA_RETURN_IF_ERROR(CheckAttached(cursor));
    if (needs_valid && !cursor->cursor->Valid()) {
      SOMBRA_RETURN_IF_ERROR(cursor->cursor->status());
      return Status::InvalidArgument("cursor is not on a key (next and prev need a valid cursor)");
    }
    move(cursor->cursor.get());
    return cursor->cursor->status();
  });
}

const void* View(std::string_view bytes, size_t* len) {
  if (len != nullptr) *len = bytes.size();
  // A valid cursor's empty value is a pointer to zero bytes, never NULL.
  return bytes.data() == nullptr ? "" : bytes.data();
}

}  // namespace
}  // namespace sombra::capi

using sombra::Cursor;
using sombra::capi::Step;

extern "C" {

sombra_status sombra_txn_cursor(sombra_txn* txn, sombra_cursor** cursor, sombra_error** err) {
  return sombra::capi::Guard(err,
                             [&] { return sombra::capi::NewCursor(txn, nullptr, false, cursor); });
}

sombra_status sombra_txn_cursor_tree(sombra_txn* txn, sombra_tree* tree, sombra_cursor** cursor,
                                     sombra_error** err) {
  return sombra::capi::Guard(err, [&] { return sombra::capi::NewCursor(txn, tree, true, cursor); });
}

sombra_status sombra_cursor_seek_to_first(sombra_cursor* cursor, sombra_error** err) {
  return Step(cursor, err, false, [](Cursor* c) { c->SeekToFirst(); });
}

sombra_status sombra_cursor_seek_to_last(sombra_cursor* cursor, sombra_error** err) {
  return Step(cursor, err, false, [](Cursor* c) { c->SeekToLast(); });
}

sombra_status sombra_cursor_seek(sombra_cursor* cursor, const void* key, size_t key_len,
                                 sombra_error** err) {
  if (key == nullptr && key_len > 0) {
    return sombra::capi::Guard(err, [&] { return sombra::capi::CheckBytes(key, key_len, "key"); });
  }
  return Step(cursor, err, false, [&](Cursor* c) { c->Seek(sombra::capi::Bytes(key, key_len)); });
}

sombra_status sombra_cursor_next(sombra_cursor* cursor, sombra_error** err) {
  return Step(cursor, err, true, [](Cursor* c) { c->Next(); });
}

sombra_status sombra_cursor_prev(sombra_cursor* cursor, sombra_error** err) {
  return Step(cursor, err, true, [](Cursor* c) { c->Prev(); });
}

int sombra_cursor_valid(const sombra_cursor* cursor) {
  return cursor != nullptr && cursor->cursor != nullptr && cursor->cursor->Valid();
}

const void* sombra_cursor_key(const sombra_cursor* cursor, size_t* len) {
  if (!sombra_cursor_valid(cursor)) {
    if (len != nullptr) *len = 0;
    return nullptr;
  }
  return sombra::capi::View(cursor->cursor->key(), len);
}

const void* sombra_cursor_value(const sombra_cursor* cursor, size_t* len) {
  if (!sombra_cursor_valid(cursor)) {
    if (len != nullptr) *len = 0;
    return nullptr;
  }
  return sombra::capi::View(cursor->cursor->value(), len);
}

sombra_status sombra_cursor_status(const sombra_cursor* cursor, sombra_error** err) {
  return sombra::capi::Guard(err, [&] {
    SOMBRA_RETURN_IF_ERROR(sombra::capi::CheckAttached(cursor));
    return cursor->cursor->status();
  });
}

void sombra_cursor_free(sombra_cursor* cursor) {
  if (cursor == nullptr) return;
  if (sombra_txn* txn = cursor->txn; txn != nullptr) {
    auto& list = txn->cursors;
    list.erase(std::remove(list.begin(), list.end(), cursor), list.end());
  }
  delete cursor;
}

}  // extern "C"
