// python/src/errors.h: sombra::Status as Python exceptions.
//
// The hierarchy (docs/python.md, "Errors"), one class per Status code:
//
//   sombra.Error(Exception)
//     NotFound           a missing database or tree (never a missing key:
//                        txn[key] raises KeyError, get() returns a default)
//     Corruption
//     NotSupported       e.g. a write transaction on a read_only database
//     InvalidArgument    also a ValueError
//     IoError            also an OSError (errno set when known)
//       NoSpace          a full disk (Status::IsNoSpace)
//     Busy
//
// Each carries the C++ message (which names the file, page or offset) as
// its text. Raise() sets the Python error and throws
// pybind11::error_already_set, which pybind11 turns back into it.
#pragma once

#include <pybind11/pybind11.h>

#include "sombra/status.h"

namespace sombra::python {

namespace py = pybind11;

// Creates the exception classes as attributes of `m`.
void BindErrors(py::module_& m);

// REQUIRES: !s.ok().
[[noreturn]] void Raise(const Status& s);

inline void Check(const Status& s) {
  if (!s.ok()) [[unlikely]]
    Raise(s);
}

// sombra.InvalidArgument with `message`.
[[noreturn]] void RaiseInvalid(const std::string& message);

// TypeError with `message`.
[[noreturn]] void RaiseTypeError(const std::string& message);

}  // namespace sombra::python
