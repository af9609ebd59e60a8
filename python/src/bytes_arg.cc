// python/src/bytes_arg.cc: argument conversions that need the slow path.
#include "bytes_arg.h"

#include <string>

#include "errors.h"

namespace sombra::python {

void BytesArg::Acquire(py::handle obj, const char* what) {
  if (PyUnicode_Check(obj.ptr())) {
    RaiseTypeError(std::string(what) +
                   " must be bytes-like (bytes, bytearray, memoryview), not str: encode it, "
                   "e.g. " +
                   what + ".encode()");
  }
  if (PyObject_GetBuffer(obj.ptr(), &buffer_, PyBUF_SIMPLE) != 0) {
    PyErr_Clear();
    buffer_.obj = nullptr;
    RaiseTypeError(std::string(what) +
                   " must be bytes-like (bytes, bytearray, memoryview, C-contiguous), not " +
                   Py_TYPE(obj.ptr())->tp_name);
  }
  bytes_ =
      std::string_view(static_cast<const char*>(buffer_.buf), static_cast<size_t>(buffer_.len));
}

std::string PathArg(py::handle obj) {
  py::object path = py::reinterpret_steal<py::object>(PyOS_FSPath(obj.ptr()));
  if (!path) throw py::error_already_set();
  if (PyUnicode_Check(path.ptr())) {
    path = py::reinterpret_steal<py::object>(PyUnicode_EncodeFSDefault(path.ptr()));
    if (!path) throw py::error_already_set();
  }
  std::string out(PyBytes_AS_STRING(path.ptr()), static_cast<size_t>(PyBytes_GET_SIZE(path.ptr())));
  if (out.find('\0') != std::string::npos) RaiseInvalid("path contains a NUL byte");
  return out;
}

std::string NameArg(py::handle obj) {
  if (PyUnicode_Check(obj.ptr())) {
    py::object encoded = py::reinterpret_steal<py::object>(
        PyUnicode_AsEncodedString(obj.ptr(), "utf-8", "surrogateescape"));
    if (!encoded) throw py::error_already_set();
    return std::string(PyBytes_AS_STRING(encoded.ptr()),
                       static_cast<size_t>(PyBytes_GET_SIZE(encoded.ptr())));
  }
  BytesArg bytes(obj, "tree name");
  return std::string(bytes.get());
}

py::str Text(std::string_view text) {
  PyObject* s =
      PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "backslashreplace");
  if (s == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

py::str NameToStr(std::string_view name) {
  PyObject* s =
      PyUnicode_DecodeUTF8(name.data(), static_cast<Py_ssize_t>(name.size()), "surrogateescape");
  if (s == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

}  // namespace sombra::python
