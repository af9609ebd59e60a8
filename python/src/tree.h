// python/src/tree.h: sombra.Tree, a handle to a named tree (DB::OpenTree).
//
// A Tree belongs to the DB that opened it and is passed as `tree=` to the
// calls of that DB's transactions; None (the default) is the default tree.
// It holds its DB weakly: it never keeps a closed database open. Passing a
// Tree of another DB, or of a closed one, is InvalidArgument; so is every
// call with a Tree whose tree was dropped (as in C++).
#pragma once

#include <pybind11/pybind11.h>

#include <memory>

#include "handles.h"

namespace sombra::python {

struct TreeObject {
  std::weak_ptr<DbHandle> db;
  Tree* tree = nullptr;
};

// The sombra::Tree for `tree` (None: the default tree) in txn's database.
Tree* ResolveTree(const Txn& txn, py::handle tree);

void BindTree(py::module_& m);

}  // namespace sombra::python
