// capi/c_handles.h: the opaque handles of <sombra/c.h> and the boundary
// every exported function goes through (docs/c-api.md).
//
// Invariants:
//  1. A sombra_db owns its DB and every sombra_tree it handed out (the
//     default tree's handle is made with it, so sombra_db_default_tree
//     cannot fail). `txns` counts its sombra_txn handles not yet freed;
//     sombra_db_close refuses while it is not 0, so a transaction handle
//     never outlives the DB it points at.
//  2. A sombra_txn holds exactly one of `read` and `write` until it ends
//     (commit, abort, free), then neither. `cursors` lists the cursors
//     made from it that are still attached.
//  3. A sombra_cursor is attached (txn set, cursor set) until it is freed
//     or its transaction ends; then both are null and every call on it
//     returns InvalidArgument. So a C++ Cursor never outlives its
//     transaction, whatever order the caller frees handles in.
//  4. `writer` is the thread that began the database's open write
//     transaction (none when there is none): the calls that would wait for
//     the writer slot return Busy on that thread instead of waiting for
//     themselves.
//  5. No exception leaves an exported function: each runs its body through
//     Guard, and the functions that cannot fail are noexcept.
//
// Thread safety: as <sombra/c.h>. `trees` is guarded by trees_mu; `txns`
// and `writer` are atomic; a transaction and its cursors are used by one
// thread at a time, so `cursors` needs no lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sombra/c.h"
#include "sombra/db.h"
#include "util/result.h"

struct sombra_error {
  sombra_status code;
  int sys_errno;
  const char* message;  // NUL-terminated; in the same allocation, or static
};

struct sombra_tree {
  sombra::Tree* tree = nullptr;  // owned by the DB
};

struct sombra_db {
  std::unique_ptr<sombra::DB> db;
  sombra_tree default_tree;
  std::mutex trees_mu;
  std::unordered_map<const sombra::Tree*, std::unique_ptr<sombra_tree>> trees;
  std::atomic<size_t> txns{0};
  std::atomic<std::thread::id> writer{};
};

struct sombra_cursor {
  sombra_txn* txn = nullptr;
  std::unique_ptr<sombra::Cursor> cursor;
};

struct sombra_txn {
  sombra_txn(sombra_db* d, bool w) : db(d), is_write(w) {}
  sombra_db* const db;
  const bool is_write;
  std::unique_ptr<sombra::ReadTxn> read;
  std::unique_ptr<sombra::WriteTxn> write;
  std::string view;  // sombra_txn_get_view's value
  std::vector<sombra_cursor*> cursors;

  bool ended() const { return read == nullptr && write == nullptr; }
};

namespace sombra::capi {

// ---- Errors (c_status.cc) ----

// Sets *err (when err is not null) to a new error, freeing the one it held,
// and returns `code`. Never throws: without memory for the message *err is
// a static out-of-memory error.
sombra_status Fail(sombra_error** err, sombra_status code, std::string_view message,
                   int sys_errno = 0) noexcept;
// OK: frees *err and sets it to null; else Fail with the status's code,
// message and errno.
sombra_status Report(sombra_error** err, const Status& s) noexcept;
// The exception being handled as a code and message: NoMemory for
// std::bad_alloc, InternalError for anything else. Call from a catch block.
sombra_status ReportException(sombra_error** err) noexcept;

// Runs body() (returning Status) and reports its result; any exception
// becomes a status (invariant 5).
template <typename Body>
sombra_status Guard(sombra_error** err, Body&& body) noexcept {
  try {
    return Report(err, body());
  } catch (...) {
    return ReportException(err);
  }
}

// ---- Arguments (c_status.cc) ----

// InvalidArgument naming `what` when a handle is null.
Status CheckHandle(const void* handle, const char* what);
// InvalidArgument when `data` is null with a length above 0.
Status CheckBytes(const void* data, size_t size, const char* what);
inline std::string_view Bytes(const void* data, size_t size) {
  return size == 0 ? std::string_view() : std::string_view(static_cast<const char*>(data), size);
}
// Busy when the calling thread holds db's open write transaction and
// `what` would wait for the writer slot (invariant 4).
Status CheckNotWriter(const sombra_db* db, const char* what);

// ---- Options (c_options.cc) ----

// The C++ Options of `in` (the defaults when null): InvalidArgument for a
// durability outside the enum.
Status ToCppOptions(const sombra_options* in, Options* out);

// ---- Transactions (c_txn.cc) ----

// InvalidArgument for a null or ended transaction.
Status CheckOpen(const sombra_txn* txn);
// CheckOpen, then InvalidArgument for a read transaction: `what` writes.
Status CheckWritable(const sombra_txn* txn, const char* what);
// The C++ tree of a _tree call: InvalidArgument for a null handle.
Status TreeOf(const sombra_tree* tree, Tree** out);
// Ends the transaction: detaches its cursors (invariant 3), then commits
// or aborts. OK for a read transaction.
Status EndTxn(sombra_txn* txn, bool commit);

// ---- Values out (c_get.cc) ----

// Copies `value` into buf as sombra_txn_get does: BufferTooSmall (nothing
// copied) when it does not fit. Reports through err.
sombra_status CopyOut(const std::string& value, void* buf, size_t buf_size, size_t* value_len,
                      sombra_error** err) noexcept;
// A malloc'd copy of `value` plus a NUL byte; throws std::bad_alloc.
void* AllocCopy(const std::string& value);

}  // namespace sombra::capi
