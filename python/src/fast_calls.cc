// python/src/fast_calls.cc: argument parsing and method installation for
// the vectorcall methods of fast_calls.h.
#include "fast_calls.h"

#include <cstring>

namespace sombra::python {

void AddFastMethods(py::handle cls, PyMethodDef* defs) {
  auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  for (PyMethodDef* d = defs; d->ml_name != nullptr; ++d) {
    py::object method = py::reinterpret_steal<py::object>(PyDescr_NewMethod(type, d));
    if (!method) throw py::error_already_set();
    // setattr, not the dict: the type updates its slots (__getitem__ ->
    // mp_subscript, __contains__ -> sq_contains, __next__ -> tp_iternext).
    if (PyObject_SetAttrString(cls.ptr(), d->ml_name, method.ptr()) != 0) {
      throw py::error_already_set();
    }
  }
}

bool ParseFastArgs(const char* fname, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                   const char* const* names, int n, int positional, int required, PyObject** out) {
  for (int i = 0; i < n; ++i) out[i] = nullptr;
  if (nargs > positional) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most %d positional arguments (%zd given)", fname,
                 positional, nargs);
    return false;
  }
  for (Py_ssize_t i = 0; i < nargs; ++i) out[i] = args[i];
  const Py_ssize_t nkw = kwnames == nullptr ? 0 : PyTuple_GET_SIZE(kwnames);
  for (Py_ssize_t k = 0; k < nkw; ++k) {
    const char* kw = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, k));
    if (kw == nullptr) return false;
    int i = 0;
    while (i < n && std::strcmp(kw, names[i]) != 0) ++i;
    if (i == n) {
      PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%s'", fname, kw);
      return false;
    }
    if (out[i] != nullptr) {
      PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname, kw);
      return false;
    }
    out[i] = args[nargs + k];
  }
  for (int i = 0; i < required; ++i) {
    if (out[i] == nullptr) {
      PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname, names[i]);
      return false;
    }
  }
  return true;
}

}  // namespace sombra::python
