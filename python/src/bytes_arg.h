// python/src/bytes_arg.h: a key or value argument as bytes.
//
// Accepted: any object with a C-contiguous buffer (bytes, bytearray,
// memoryview, array.array, ...); bytes is read in place with no buffer
// request. Refused with TypeError: str (keys and values are bytes; the
// message says to encode), and anything without a buffer.
//
// Thread safety: the buffer is held until the BytesArg is destroyed, so a
// bytearray cannot be resized under a call that runs without the GIL.
#pragma once

#include <pybind11/pybind11.h>

#include <string>
#include <string_view>

namespace sombra::python {

namespace py = pybind11;

class BytesArg {
 public:
  // `what` names the argument in the TypeError ("key", "value", ...).
  BytesArg(py::handle obj, const char* what) {
    if (PyBytes_CheckExact(obj.ptr())) {
      bytes_ = std::string_view(PyBytes_AS_STRING(obj.ptr()),
                                static_cast<size_t>(PyBytes_GET_SIZE(obj.ptr())));
    } else {
      Acquire(obj, what);
    }
  }
  ~BytesArg() {
    if (buffer_.obj != nullptr) PyBuffer_Release(&buffer_);
  }
  BytesArg(const BytesArg&) = delete;
  BytesArg& operator=(const BytesArg&) = delete;

  std::string_view get() const { return bytes_; }

 private:
  void Acquire(py::handle obj, const char* what);

  Py_buffer buffer_{};
  std::string_view bytes_;
};

// A new bytes object holding `data`.
inline py::bytes ToBytes(std::string_view data) {
  PyObject* b = PyBytes_FromStringAndSize(data.data(), static_cast<Py_ssize_t>(data.size()));
  if (b == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::bytes>(b);
}

// `text` as str: UTF-8, bytes that are not as \xNN escapes (messages and
// reprs quote paths, names and keys).
py::str Text(std::string_view text);

// A file system path (str, bytes or os.PathLike) as bytes.
std::string PathArg(py::handle obj);

// A tree name (str, encoded as UTF-8 with surrogateescape, or bytes-like).
std::string NameArg(py::handle obj);
// A tree name as str (surrogateescape: any bytes round-trip through NameArg).
py::str NameToStr(std::string_view name);

}  // namespace sombra::python
