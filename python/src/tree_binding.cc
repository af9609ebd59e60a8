// python/src/tree_binding.cc: sombra.Tree and the tree= argument.
#include <string>

#include "bytes_arg.h"
#include "errors.h"
#include "tree.h"

namespace sombra::python {

Tree* ResolveTree(const Txn& txn, py::handle tree) {
  if (tree.is_none()) return txn.db()->default_tree;
  if (!py::isinstance<TreeObject>(tree)) {
    RaiseTypeError(std::string("tree must be a sombra.Tree (from db.tree(name)) or None, not ") +
                   Py_TYPE(tree.ptr())->tp_name);
  }
  const TreeObject& t = tree.cast<const TreeObject&>();
  // Same control block: the same DbHandle, which txn keeps alive.
  const std::shared_ptr<DbHandle>& db = txn.db();
  if (t.db.owner_before(db) || db.owner_before(t.db)) {
    RaiseInvalid(t.db.expired() ? std::string("tree handle of a closed database")
                                : "tree \"" + t.tree->name() +
                                      "\" belongs to another database than " + db->path);
  }
  return t.tree;
}

void BindTree(py::module_& m) {
  py::class_<TreeObject>(m, "Tree",
                         "A named tree of a DB (db.tree(name)); pass it as tree= to a "
                         "transaction's calls.")
      .def_property_readonly(
          "name",
          [](const TreeObject& t) {
            if (t.db.expired()) RaiseInvalid("tree handle of a closed database");
            return NameToStr(t.tree->name());
          },
          "The tree's name (str; bytes that are not UTF-8 as surrogate escapes).")
      .def("__repr__", [](const TreeObject& t) -> std::string {
        if (t.db.expired()) return "<sombra.Tree of a closed database>";
        return "<sombra.Tree " + py::repr(NameToStr(t.tree->name())).cast<std::string>() + ">";
      });
}

}  // namespace sombra::python
