// python/src/view_binding.cc: txn.view(), zero-copy reads (docs/python.md,
// "Zero-copy reads").
//
// In a read transaction the memoryview is over the value where the
// snapshot holds it (the mapped page, or the cursor's buffer for an
// overflow value): a cursor is left on the record and never moved, and the
// ValueRef that owns it pins the snapshot (handles.h, invariants 2 and 3).
// In a write transaction pages change in place as the transaction writes,
// so the memoryview is over a copy.
#include <memory>
#include <string>

#include "bytes_arg.h"
#include "errors.h"
#include "txn.h"

namespace sombra::python {
namespace {

py::object MemoryView(py::handle exporter) {
  PyObject* view = PyMemoryView_FromObject(exporter.ptr());
  if (view == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(view);
}

py::object ViewOfCopy(Txn& txn, Tree* tree, std::string_view key, py::handle default_) {
  const Status s = txn.Get(tree, key);
  if (s.IsNotFound()) return py::reinterpret_borrow<py::object>(default_);
  Check(s);
  return MemoryView(ToBytes(txn.buffer()));
}

}  // namespace

py::object ViewValue(Txn& txn, Tree* tree, std::string_view key, py::handle default_) {
  if (txn.is_write()) return ViewOfCopy(txn, tree, key, default_);
  // A cursor's Seek takes any position: check the key as Get does.
  Check(CheckKeySize(key.size(), txn.db()->db->page_size()));
  std::unique_ptr<Cursor> cursor = txn.NewCursor(tree);
  cursor->Seek(key);
  if (!cursor->Valid()) {
    Check(cursor->status());
    return py::reinterpret_borrow<py::object>(default_);
  }
  if (cursor->key() != key) return py::reinterpret_borrow<py::object>(default_);
  py::object ref = py::cast(new ValueRef(&txn, txn.pin(), std::move(cursor)),
                            py::return_value_policy::take_ownership);
  py::object view = MemoryView(ref);
  ref.cast<ValueRef&>().set_view(view);
  return view;
}

void BindView(py::module_& m) {
  py::class_<ValueRef>(m, "_ValueRef", py::buffer_protocol(),
                       "The exporter behind txn.view()'s memoryview (not for direct use).")
      .def_buffer([](ValueRef& v) {
        static const char kEmpty[1] = {0};
        const std::string_view b = v.bytes();
        const char* data = b.empty() ? kEmpty : b.data();
        return py::buffer_info(const_cast<char*>(data), 1, "B", 1,
                               {static_cast<py::ssize_t>(b.size())}, {1}, /*readonly=*/true);
      });
}

}  // namespace sombra::python
