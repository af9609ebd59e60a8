// python/src/handles.h: the C++ objects behind sombra.DB, its transactions,
// cursors and zero-copy views, and who owns what.
//
// Ownership (each arrow a std::shared_ptr):
//
//   DB (Python) ---> DbHandle ---> sombra::DB
//   Txn ----------> DbHandle          a transaction keeps its database open
//   Txn ----------> ReadPin -> DbHandle   a read transaction's snapshot
//   CursorObject -> Txn
//   ValueRef -----> ReadPin           a zero-copy view pins the snapshot
//
// Invariants (every field here is read and written with the GIL held):
//  1. sombra::DB is destroyed after every Txn, ReadPin and cursor of it
//     (its destructor checkpoints: it runs with the GIL released).
//  2. A Txn is open or ended; once ended every call on it, its cursors and
//     its iterators raises InvalidArgument. Ending it (commit, abort, the
//     end of its `with` block, db.close(), garbage collection) first
//     destroys every sombra::Cursor made from it (a CursorSlot), releases
//     every memoryview its view() returned and drops its ReadPin, then
//     commits or aborts a write transaction, then drops its DbHandle: an
//     ended Txn (or a cursor of one) never keeps a database open.
//  3. A buffer exported from a view that outlived its memoryview's release
//     (a slice of it, a NumPy array over it) holds its ValueRef, which
//     holds the ReadPin: the snapshot, its cursor and the DB stay alive and
//     the bytes unchanged until that buffer is released. Nothing a Python
//     program can do reaches freed or remapped memory.
//  4. An open Txn is in its DbHandle's open_txns; db.close() ends them.
//  5. DbHandle::writer_thread is the Python thread that began the open
//     write transaction (0 when none): that thread beginning another one,
//     or a one-operation db.put/db.delete, would wait for itself, so it
//     raises Busy instead.
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "sombra/db.h"

namespace sombra::python {

namespace py = pybind11;

class Txn;
class CursorSlot;
class ValueRef;

struct DbHandle {
  ~DbHandle();  // destroys `db` with the GIL released (invariant 1)

  std::unique_ptr<DB> db;
  std::string path;
  Tree* default_tree = nullptr;
  std::unordered_set<Txn*> open_txns;  // invariant 4
  unsigned long writer_thread = 0;     // invariant 5
};

// A snapshot shared by a read transaction and the views it returned.
struct ReadPin {
  std::shared_ptr<DbHandle> db;  // declared first: destroyed after txn
  std::unique_ptr<ReadTxn> txn;
};

// A sombra::Cursor that its transaction destroys when it ends.
class CursorSlot {
 public:
  // Registers with `txn`. REQUIRES: txn is open.
  CursorSlot(std::shared_ptr<Txn> txn, Tree* tree);
  ~CursorSlot();
  CursorSlot(const CursorSlot&) = delete;
  CursorSlot& operator=(const CursorSlot&) = delete;

  // The cursor; InvalidArgument once the transaction has ended.
  Cursor& get();
  const std::shared_ptr<Txn>& txn() const { return txn_; }
  void Reset() { cursor_.reset(); }

 private:
  std::shared_ptr<Txn> txn_;
  std::unique_ptr<Cursor> cursor_;
};

// The exporter behind a zero-copy view (view_binding.cc): a cursor left on
// one record of a pinned snapshot, never moved.
class ValueRef {
 public:
  ValueRef(Txn* owner, std::shared_ptr<ReadPin> pin, std::unique_ptr<Cursor> cursor);
  ~ValueRef();
  ValueRef(const ValueRef&) = delete;
  ValueRef& operator=(const ValueRef&) = delete;

  std::string_view bytes() const { return cursor_->value(); }
  // Remembers (weakly) the memoryview handed out, for Release.
  void set_view(py::handle memoryview);
  // For Txn::End: a strong reference to the memoryview (None when gone);
  // the ValueRef is no longer registered with its owner.
  py::object Detach();

 private:
  std::shared_ptr<ReadPin> pin_;  // declared first: destroyed after cursor_
  std::unique_ptr<Cursor> cursor_;
  Txn* owner_;
  py::object weak_view_;
};

class Txn {
 public:
  // A read transaction over `pin`, or a write transaction.
  Txn(std::shared_ptr<DbHandle> db, std::shared_ptr<ReadPin> pin);
  Txn(std::shared_ptr<DbHandle> db, std::unique_ptr<WriteTxn> write, unsigned long thread);
  virtual ~Txn();  // ends (aborts) an open transaction
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  bool is_write() const { return write_txn_; }
  bool ended() const { return ended_; }
  // InvalidArgument when ended.
  void CheckOpen() const {
    if (ended_) [[unlikely]]
      RaiseEnded();
  }
  // REQUIRES: open (an ended transaction has let its database go).
  const std::shared_ptr<DbHandle>& db() const { return db_; }
  const std::string& path() const { return path_; }
  const std::shared_ptr<ReadPin>& pin() const { return pin_; }
  WriteTxn& writer();  // REQUIRES: open write transaction

  // Get into buffer(): OK, NotFound or an error. REQUIRES: open.
  Status Get(Tree* tree, std::string_view key);
  const std::string& buffer() const { return buffer_; }
  std::unique_ptr<Cursor> NewCursor(Tree* tree);  // REQUIRES: open
  uint64_t Sequence();

  // Ends the transaction (invariant 2). Commit releases the GIL around
  // WriteTxn::Commit and raises its error; ending an ended one is a no-op.
  void Commit();
  void Abort();

  void Register(CursorSlot* c) { cursors_.insert(c); }
  void Unregister(CursorSlot* c) { cursors_.erase(c); }
  void Register(ValueRef* v) { views_.insert(v); }
  void Unregister(ValueRef* v) { views_.erase(v); }

 private:
  [[noreturn]] void RaiseEnded() const;
  // Steps of ending common to commit and abort: cursors, views, registry.
  void Detach();
  void ReleaseViews();

  std::shared_ptr<DbHandle> db_;  // null once ended
  const std::string path_;
  std::shared_ptr<ReadPin> pin_;
  std::unique_ptr<WriteTxn> write_;
  bool write_txn_ = false;
  bool ended_ = false;
  std::unordered_set<CursorSlot*> cursors_;
  std::unordered_set<ValueRef*> views_;
  std::string buffer_;  // Get's value, reused (no allocation per get)
};

// The Python classes ReadTxn and WriteTxn (txn_binding.cc) hold these.
class ReadTxnObject final : public Txn {
 public:
  using Txn::Txn;
};
class WriteTxnObject final : public Txn {
 public:
  using Txn::Txn;
};

}  // namespace sombra::python
