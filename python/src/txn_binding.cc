// python/src/txn_binding.cc: sombra.Txn (the reading calls), sombra.ReadTxn
// and sombra.WriteTxn (docs/python.md, "Transactions").
#include <memory>
#include <string>

#include "bytes_arg.h"
#include "cursor.h"
#include "errors.h"
#include "fast_calls.h"
#include "tree.h"
#include "txn.h"

namespace sombra::python {
namespace {

using TxnPtr = std::shared_ptr<Txn>;

py::object Get(Txn& t, py::handle key, py::handle default_, py::handle tree) {
  t.CheckOpen();
  BytesArg k(key, "key");
  const Status s = t.Get(ResolveTree(t, tree), k.get());
  if (s.ok()) return ToBytes(t.buffer());
  if (s.IsNotFound()) return py::reinterpret_borrow<py::object>(default_);
  Raise(s);
}

py::bytes GetItem(Txn& t, py::handle key) {
  t.CheckOpen();
  BytesArg k(key, "key");
  const Status s = t.Get(t.db()->default_tree, k.get());
  if (s.ok()) return ToBytes(t.buffer());
  if (s.IsNotFound()) RaiseKeyError(key);
  Raise(s);
}

bool Contains(Txn& t, py::handle key) {
  t.CheckOpen();
  BytesArg k(key, "key");
  const Status s = t.Get(t.db()->default_tree, k.get());
  if (s.ok()) return true;
  if (s.IsNotFound()) return false;
  Raise(s);
}

py::object View(Txn& t, py::handle key, py::handle default_, py::handle tree) {
  t.CheckOpen();
  BytesArg k(key, "key");
  return ViewValue(t, ResolveTree(t, tree), k.get(), default_);
}

py::object Iterate(const TxnPtr& t, IterMode mode, py::handle prefix, py::handle start,
                   py::handle stop, bool reverse, py::handle tree) {
  t->CheckOpen();
  return NewIterator(NewCursorObject(t, ResolveTree(*t, tree)), mode, prefix, start, stop, reverse);
}

void Put(Txn& t, py::handle key, py::handle value, py::handle tree) {
  WriteTxn& w = t.writer();
  BytesArg k(key, "key");
  BytesArg v(value, "value");
  Check(w.Put(ResolveTree(t, tree), k.get(), v.get()));
}

void Delete(Txn& t, py::handle key, py::handle tree) {
  WriteTxn& w = t.writer();
  BytesArg k(key, "key");
  Check(w.Delete(ResolveTree(t, tree), k.get()));
}

void Append(Txn& t, py::handle key, py::handle value, py::handle tree) {
  WriteTxn& w = t.writer();
  BytesArg k(key, "key");
  BytesArg v(value, "value");
  Check(w.Append(ResolveTree(t, tree), k.get(), v.get()));
}

void DeleteRange(Txn& t, py::handle begin, py::handle end, py::handle tree) {
  WriteTxn& w = t.writer();
  BytesArg b(begin, "begin");
  BytesArg e(end, "end");
  Check(w.DeleteRange(ResolveTree(t, tree), b.get(), e.get()));
}

// __exit__: a write transaction commits unless an exception is leaving the
// block; either kind ends. Never swallows the exception.
bool Exit(Txn& t, py::handle exc_type) {
  if (t.is_write() && exc_type.is_none()) {
    t.Commit();
  } else {
    t.Abort();
  }
  return false;
}

py::str Repr(const Txn& t) {
  return Text(std::string("<sombra.") + (t.is_write() ? "WriteTxn" : "ReadTxn") + " on " +
              t.path() + (t.ended() ? " (ended)>" : ">"));
}

void BindReading(py::class_<Txn, TxnPtr>& c) {
  const auto none = py::none();
  c.def("view", &View, py::arg("key"), py::arg("default") = none, py::kw_only(),
        py::arg("tree") = none,
        "A read-only memoryview of key's value, valid until the transaction ends "
        "(docs/python.md, \"Zero-copy reads\"); default when absent.")
      .def(
          "cursor",
          [](const TxnPtr& t, py::handle tree) {
            t->CheckOpen();
            return NewCursorObject(t, ResolveTree(*t, tree));
          },
          py::kw_only(), py::arg("tree") = none, "A new, unpositioned sombra.Cursor.")
      .def(
          "__iter__",
          [](const TxnPtr& t) {
            return Iterate(t, IterMode::kItems, py::none(), py::none(), py::none(), false,
                           py::none());
          },
          "(key, value) pairs of the default tree in key order.");
  for (auto [name, mode] :
       {std::pair{"items", IterMode::kItems}, std::pair{"keys", IterMode::kKeys},
        std::pair{"values", IterMode::kValues}}) {
    const IterMode m = mode;
    c.def(
        name,
        [m](const TxnPtr& t, py::handle prefix, py::handle start, py::handle stop, bool reverse,
            py::handle tree) { return Iterate(t, m, prefix, start, stop, reverse, tree); },
        py::kw_only(), py::arg("prefix") = none, py::arg("start") = none, py::arg("stop") = none,
        py::arg("reverse") = false, py::arg("tree") = none,
        "Iterates keys with the prefix, start <= key < stop, in key order or reversed.");
  }
  c.def("abort", &Txn::Abort, "Ends the transaction; a write transaction's changes are dropped.")
      .def_property_readonly("ended", &Txn::ended)
      .def("__enter__", [](const TxnPtr& t) { return t; })
      .def("__exit__",
           [](Txn& t, py::handle type, py::handle, py::handle) { return Exit(t, type); })
      .def("__repr__", &Repr);
}

// The vectorcall methods (fast_calls.h).
PyTypeObject* g_read_type = nullptr;   // sombra.ReadTxn
PyTypeObject* g_write_type = nullptr;  // sombra.WriteTxn

Txn& Self(PyObject* self) {
  if (Py_TYPE(self) == g_write_type) return Unwrap<WriteTxnObject>(self, g_write_type);
  if (Py_TYPE(self) == g_read_type) return Unwrap<ReadTxnObject>(self, g_read_type);
  return py::cast<Txn&>(py::handle(self));
}

PyObject* FastGet(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return Guarded([&]() -> PyObject* {
    static const char* const kNames[] = {"key", "default", "tree"};
    PyObject* a[3];
    if (!ParseFastArgs("get", args, nargs, kwnames, kNames, 3, 2, 1, a)) return nullptr;
    return Get(Self(self), a[0], a[1] != nullptr ? a[1] : Py_None, a[2] != nullptr ? a[2] : Py_None)
        .release()
        .ptr();
  });
}

PyObject* FastGetItem(PyObject* self, PyObject* key) {
  return Guarded([&]() -> PyObject* { return GetItem(Self(self), key).release().ptr(); });
}

PyObject* FastContains(PyObject* self, PyObject* key) {
  return Guarded([&]() -> PyObject* { return PyBool_FromLong(Contains(Self(self), key)); });
}

PyObject* FastPut(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return Guarded([&]() -> PyObject* {
    static const char* const kNames[] = {"key", "value", "tree"};
    PyObject* a[3];
    if (!ParseFastArgs("put", args, nargs, kwnames, kNames, 3, 2, 2, a)) return nullptr;
    Put(Self(self), a[0], a[1], a[2] != nullptr ? a[2] : Py_None);
    Py_RETURN_NONE;
  });
}

template <auto F>
constexpr PyCFunction Fast() {
  return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(F));
}

PyMethodDef kReadMethods[] = {
    {"get", Fast<FastGet>(), METH_FASTCALL | METH_KEYWORDS,
     "get(self, key, default=None, *, tree=None)\n--\n\n"
     "The value of key as bytes, or default when absent."},
    {"__getitem__", FastGetItem, METH_O,
     "__getitem__(self, key, /)\n--\n\nThe value of key; KeyError when absent."},
    {"__contains__", FastContains, METH_O, "__contains__(self, key, /)\n--\n\n"},
    {nullptr, nullptr, 0, nullptr}};

PyMethodDef kWriteMethods[] = {{"put", Fast<FastPut>(), METH_FASTCALL | METH_KEYWORDS,
                                "put(self, key, value, *, tree=None)\n--\n\nSets key to value."},
                               {nullptr, nullptr, 0, nullptr}};

}  // namespace

void RaiseKeyError(py::handle key) {
  PyObject* args = PyTuple_Pack(1, key.ptr());
  if (args != nullptr) {
    PyErr_SetObject(PyExc_KeyError, args);
    Py_DECREF(args);
  }
  throw py::error_already_set();
}

void BindTxn(py::module_& m) {
  py::class_<Txn, TxnPtr> txn(m, "Txn", "What ReadTxn and WriteTxn share: the reading calls.");
  BindReading(txn);
  AddFastMethods(txn, kReadMethods);

  py::class_<ReadTxnObject, Txn, std::shared_ptr<ReadTxnObject>> read(
      m, "ReadTxn", "A consistent snapshot (db.begin()); ends with its with block or abort().");
  read.def_property_readonly("sequence", &Txn::Sequence, "The commit sequence it sees.");
  g_read_type = reinterpret_cast<PyTypeObject*>(read.ptr());

  const auto none = py::none();
  py::class_<WriteTxnObject, Txn, std::shared_ptr<WriteTxnObject>> write(
      m, "WriteTxn",
      "The database's one write transaction (db.begin(write=True)); its with block commits "
      "on success and aborts on an exception.");
  write
      .def("delete", &Delete, py::arg("key"), py::kw_only(), py::arg("tree") = none,
           "Deletes key; an absent key is not an error.")
      .def("append", &Append, py::arg("key"), py::arg("value"), py::kw_only(),
           py::arg("tree") = none,
           "Sorted bulk load: key must sort after every key of the tree, else InvalidArgument "
           "(nothing written, the transaction goes on).")
      .def("delete_range", &DeleteRange, py::arg("begin"), py::arg("end"), py::kw_only(),
           py::arg("tree") = none, "Deletes every key k with begin <= k < end.")
      .def(
          "commit",
          [](Txn& t) {
            t.CheckOpen();
            t.Commit();
          },
          "Commits (durable per the database's durability when it returns) and ends the "
          "transaction; on an error it is ended too, and nothing of it is kept.");
  AddFastMethods(write, kWriteMethods);
  g_write_type = reinterpret_cast<PyTypeObject*>(write.ptr());
}

}  // namespace sombra::python
