// python/src/module.cc: the native module sombra._sombra (python/sombra/
// re-exports it; docs/python.md).
#include <pybind11/pybind11.h>

#include "errors.h"
#include "options.h"
#include "sombra/db.h"
#include "sombra/version.h"
#include "tree.h"
#include "txn.h"

namespace sombra::python {
void BindDb(py::module_& m);
}  // namespace sombra::python

PYBIND11_MODULE(_sombra, m) {
  namespace sp = sombra::python;
  m.doc() = "Sombra, a durable ordered key-value index (docs/python.md).";
  m.attr("__version__") = sombra::kVersion;
  m.attr("MAX_VALUE_SIZE") = sombra::kMaxValueSize;
  sp::BindErrors(m);
  sp::BindDurability(m);
  sp::BindTree(m);
  sp::BindView(m);
  sp::BindIterator(m);
  sp::BindCursor(m);
  sp::BindTxn(m);
  sp::BindDb(m);
}
