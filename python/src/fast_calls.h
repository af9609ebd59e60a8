// python/src/fast_calls.h: the hottest calls as CPython vectorcall methods.
//
// pybind11's dispatcher costs about 120 ns a call on the 2-core test
// machine (it builds argument vectors and applies defaults and keyword-only
// markers) where a METH_FASTCALL method costs about 20: more than half the
// binding's share of a txn.get. So txn.get, txn[key], `key in txn`, txn.put and the
// iterators' __next__ are plain CPython methods added to the pybind11
// classes (docs/python.md, "Performance"); everything else is pybind11.
// They convert C++ exceptions into Python errors themselves.
#pragma once

#include <pybind11/pybind11.h>

namespace sombra::python {

namespace py = pybind11;

// Adds `defs` (terminated by an entry with a null name) as methods of
// pybind11 class `cls`.
void AddFastMethods(py::handle cls, PyMethodDef* defs);

// Parses a METH_FASTCALL | METH_KEYWORDS call into out[0..n): the first
// `positional` names may be passed by position, all of them by keyword.
// Missing arguments stay null; `required` of them must be present.
// Sets a TypeError and returns false on a bad call.
bool ParseFastArgs(const char* fname, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                   const char* const* names, int n, int positional, int required, PyObject** out);

// The C++ object behind `self` when its Python type is exactly `type`, the
// class pybind11 registered for T: read from the instance, as pybind11
// stores it (simple layout: one C++ type, value pointer first), without
// py::cast's look-up of T's type_info by a hash of its name (that look-up
// was 17% of a scan's time). Any other case takes py::cast<T&>.
template <typename T>
T& Unwrap(PyObject* self, PyTypeObject* type) {
  if (Py_TYPE(self) == type) [[likely]] {
    auto* inst = reinterpret_cast<py::detail::instance*>(self);
    if (inst->simple_layout && inst->simple_value_holder[0] != nullptr) {
      return *static_cast<T*>(inst->simple_value_holder[0]);
    }
  }
  return py::cast<T&>(py::handle(self));
}

// Runs f() (returning PyObject*), turning a C++ exception into the Python
// error it carries, and returns null then.
template <typename F>
PyObject* Guarded(F&& f) noexcept {
  try {
    return f();
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const py::builtin_exception& e) {
    e.set_error();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  return nullptr;
}

}  // namespace sombra::python
