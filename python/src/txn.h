// python/src/txn.h: what the transaction, cursor and view bindings share.
#pragma once

#include <pybind11/pybind11.h>

#include <string_view>

#include "handles.h"

namespace sombra::python {

// KeyError(key).
[[noreturn]] void RaiseKeyError(py::handle key);

// txn.view(): a read-only memoryview of key's value (view_binding.cc), or
// `default_` when absent.
py::object ViewValue(Txn& txn, Tree* tree, std::string_view key, py::handle default_);

// txn.items()/keys()/values() and a cursor's (iterator_binding.cc).
enum class IterMode { kItems, kKeys, kValues };
struct CursorObject;
py::object NewIterator(std::shared_ptr<CursorObject> cursor, IterMode mode, py::handle prefix,
                       py::handle start, py::handle stop, bool reverse);
// for k, v in cursor: from where the cursor is (the first key when it was
// never positioned).
py::object IterateFromHere(std::shared_ptr<CursorObject> cursor);

// A cursor of `txn` on `tree` (cursor_binding.cc).
std::shared_ptr<CursorObject> NewCursorObject(const std::shared_ptr<Txn>& txn, Tree* tree);

void BindTxn(py::module_& m);
void BindCursor(py::module_& m);
void BindIterator(py::module_& m);
void BindView(py::module_& m);

}  // namespace sombra::python
