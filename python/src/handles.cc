// python/src/handles.cc: ending transactions, destroying the DB without the
// GIL, and the registries of handles.h.
#include "handles.h"

#include <utility>
#include <vector>

#include "errors.h"

namespace sombra::python {

DbHandle::~DbHandle() {
  if (PyGILState_Check() != 0) {
    py::gil_scoped_release release;
    db.reset();
  } else {
    db.reset();
  }
}

CursorSlot::CursorSlot(std::shared_ptr<Txn> txn, Tree* tree)
    : txn_(std::move(txn)), cursor_(txn_->NewCursor(tree)) {
  txn_->Register(this);
}

CursorSlot::~CursorSlot() { txn_->Unregister(this); }

Cursor& CursorSlot::get() {
  txn_->CheckOpen();
  return *cursor_;
}

ValueRef::ValueRef(Txn* owner, std::shared_ptr<ReadPin> pin, std::unique_ptr<Cursor> cursor)
    : pin_(std::move(pin)), cursor_(std::move(cursor)), owner_(owner) {
  owner_->Register(this);
}

ValueRef::~ValueRef() {
  if (owner_ != nullptr) owner_->Unregister(this);
}

void ValueRef::set_view(py::handle memoryview) { weak_view_ = py::weakref(memoryview); }

py::object ValueRef::Detach() {
  owner_ = nullptr;
  if (!weak_view_) return py::none();
  return weak_view_();
}

Txn::Txn(std::shared_ptr<DbHandle> db, std::shared_ptr<ReadPin> pin)
    : db_(std::move(db)), path_(db_->path), pin_(std::move(pin)) {
  db_->open_txns.insert(this);
}

Txn::Txn(std::shared_ptr<DbHandle> db, std::unique_ptr<WriteTxn> write, unsigned long thread)
    : db_(std::move(db)), path_(db_->path), write_(std::move(write)), write_txn_(true) {
  db_->open_txns.insert(this);
  db_->writer_thread = thread;
}

Txn::~Txn() { Abort(); }

void Txn::RaiseEnded() const {
  RaiseInvalid(std::string(write_txn_ ? "write" : "read") + " transaction on " + path_ +
               " has ended (committed, aborted or its database closed)");
}

WriteTxn& Txn::writer() {
  CheckOpen();
  return *write_;
}

Status Txn::Get(Tree* tree, std::string_view key) {
  return write_ != nullptr ? write_->Get(tree, key, &buffer_) : pin_->txn->Get(tree, key, &buffer_);
}

std::unique_ptr<Cursor> Txn::NewCursor(Tree* tree) {
  return write_ != nullptr ? write_->NewCursor(tree) : pin_->txn->NewCursor(tree);
}

uint64_t Txn::Sequence() {
  CheckOpen();
  return pin_ != nullptr ? pin_->txn->Sequence() : 0;
}

void Txn::ReleaseViews() {
  // Called from destructors too, maybe while an exception is pending.
  py::error_scope keep_pending_error;
  // Collect the memoryviews first: releasing one may destroy its ValueRef.
  std::vector<py::object> views;
  views.reserve(views_.size());
  for (ValueRef* v : views_) views.push_back(v->Detach());
  views_.clear();
  for (py::object& view : views) {
    if (view.is_none()) continue;
    // Fails (BufferError) only when the memoryview itself is exported
    // (e.g. to NumPy): that export then keeps the pin (invariant 3).
    PyObject* r = PyObject_CallMethod(view.ptr(), "release", nullptr);
    if (r == nullptr) PyErr_Clear();
    Py_XDECREF(r);
  }
}

void Txn::Detach() {
  ended_ = true;
  for (CursorSlot* c : cursors_) c->Reset();
  cursors_.clear();
  if (!views_.empty()) ReleaseViews();
  db_->open_txns.erase(this);
  if (write_txn_) db_->writer_thread = 0;
  pin_.reset();
}

void Txn::Commit() {
  if (ended_) return;
  Detach();
  std::unique_ptr<WriteTxn> write = std::move(write_);
  Status s;
  {
    py::gil_scoped_release release;
    s = write->Commit();
    write.reset();
  }
  db_.reset();
  Check(s);
}

void Txn::Abort() {
  if (ended_) return;
  Detach();
  write_.reset();  // the destructor aborts
  db_.reset();     // may close the database (without the GIL)
}

}  // namespace sombra::python
