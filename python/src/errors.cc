// python/src/errors.cc: the exception classes and Status -> exception.
#include "errors.h"

#include <string>

#include "bytes_arg.h"

namespace sombra::python {
namespace {

struct ErrorTypes {
  PyObject* error = nullptr;
  PyObject* not_found = nullptr;
  PyObject* corruption = nullptr;
  PyObject* not_supported = nullptr;
  PyObject* invalid = nullptr;
  PyObject* io = nullptr;
  PyObject* no_space = nullptr;
  PyObject* busy = nullptr;
};
// Created once at import, alive as long as the module (never freed: the
// module cannot be unloaded).
ErrorTypes g_types;

PyObject* NewError(py::module_& m, const char* name, const char* doc, py::tuple bases) {
  const std::string qualified = std::string("sombra.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), /*dict=*/nullptr);
  if (type == nullptr) throw py::error_already_set();
  m.add_object(name, py::handle(type));  // steals nothing: add_object increfs
  return type;
}

PyObject* TypeFor(const Status& s) {
  switch (s.code()) {
    case Status::Code::kNotFound:
      return g_types.not_found;
    case Status::Code::kCorruption:
      return g_types.corruption;
    case Status::Code::kNotSupported:
      return g_types.not_supported;
    case Status::Code::kInvalidArgument:
      return g_types.invalid;
    case Status::Code::kIOError:
      return s.IsNoSpace() ? g_types.no_space : g_types.io;
    case Status::Code::kBusy:
      return g_types.busy;
    case Status::Code::kOk:
      break;
  }
  return g_types.error;
}

}  // namespace

void BindErrors(py::module_& m) {
  py::handle exc(PyExc_Exception);
  g_types.error =
      NewError(m, "Error", "Base class of every error Sombra raises.", py::make_tuple(exc));
  py::handle base(g_types.error);
  g_types.not_found = NewError(
      m, "NotFound", "A database (opened without create_if_missing) or a tree that does not exist.",
      py::make_tuple(base));
  g_types.corruption =
      NewError(m, "Corruption", "Damaged file: the message names the file, page or offset.",
               py::make_tuple(base));
  g_types.not_supported = NewError(
      m, "NotSupported", "Not possible here, e.g. a write transaction on a read_only database.",
      py::make_tuple(base));
  g_types.invalid =
      NewError(m, "InvalidArgument",
               "A bad argument or option, or a call on an ended transaction or closed database.",
               py::make_tuple(base, py::handle(PyExc_ValueError)));
  g_types.io = NewError(m, "IoError", "A failed system call; errno is set when known.",
                        py::make_tuple(base, py::handle(PyExc_OSError)));
  g_types.no_space = NewError(m, "NoSpace", "The disk is full (ENOSPC or EDQUOT).",
                              py::make_tuple(py::handle(g_types.io)));
  g_types.busy = NewError(
      m, "Busy", "The database is open for writing elsewhere, or this thread holds its writer.",
      py::make_tuple(base));
}

void Raise(const Status& s) {
  PyObject* type = TypeFor(s);
  const py::str text = Text(s.message());
  py::tuple args = s.IsIOError() && s.sys_errno() != 0 ? py::make_tuple(s.sys_errno(), text)
                                                       : py::make_tuple(text);
  PyErr_SetObject(type, args.ptr());
  throw py::error_already_set();
}

void RaiseInvalid(const std::string& message) { Raise(Status::InvalidArgument(message)); }

void RaiseTypeError(const std::string& message) {
  PyErr_SetString(PyExc_TypeError, message.c_str());
  throw py::error_already_set();
}

}  // namespace sombra::python
