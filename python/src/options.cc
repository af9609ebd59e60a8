// python/src/options.cc: keyword arguments -> sombra::Options, field by field.
#include "options.h"

#include <cstdint>
#include <limits>
#include <string>

#include "errors.h"

namespace sombra::python {
namespace {

bool BoolField(py::handle value, const char* name) {
  if (!PyBool_Check(value.ptr())) {
    RaiseTypeError(std::string(name) + " must be a bool, not " + Py_TYPE(value.ptr())->tp_name);
  }
  return value.ptr() == Py_True;
}

uint64_t IntField(py::handle value, const char* name, uint64_t max) {
  if (!PyLong_Check(value.ptr()) || PyBool_Check(value.ptr())) {
    RaiseTypeError(std::string(name) + " must be an int, not " + Py_TYPE(value.ptr())->tp_name);
  }
  const unsigned long long v = PyLong_AsUnsignedLongLong(value.ptr());
  if (PyErr_Occurred() != nullptr || v > max) {
    PyErr_Clear();
    RaiseInvalid(std::string(name) + " must be from 0 to " + std::to_string(max) + ", not " +
                 py::str(value).cast<std::string>());
  }
  return v;
}

Durability DurabilityField(py::handle value) {
  if (py::isinstance<Durability>(value)) return value.cast<Durability>();
  if (!PyUnicode_Check(value.ptr())) {
    RaiseTypeError(std::string("durability must be \"full\", \"normal\", \"off\" or a ") +
                   "sombra.Durability, not " + Py_TYPE(value.ptr())->tp_name);
  }
  const std::string s = value.cast<std::string>();
  if (s == "full") return Durability::kFull;
  if (s == "normal") return Durability::kNormal;
  if (s == "off") return Durability::kOff;
  RaiseInvalid("durability must be \"full\", \"normal\" or \"off\", not \"" + s + "\"");
}

void SetField(Options& o, const std::string& name, py::handle v) {
  constexpr uint64_t kU32 = std::numeric_limits<uint32_t>::max();
  constexpr uint64_t kU64 = std::numeric_limits<uint64_t>::max();
  constexpr uint64_t kSize = std::numeric_limits<size_t>::max();
  const char* n = name.c_str();
  if (name == "create_if_missing") {
    o.create_if_missing = BoolField(v, n);
  } else if (name == "error_if_exists") {
    o.error_if_exists = BoolField(v, n);
  } else if (name == "read_only") {
    o.read_only = BoolField(v, n);
  } else if (name == "page_size") {
    o.page_size = static_cast<uint32_t>(IntField(v, n, kU32));
  } else if (name == "durability") {
    o.durability = DurabilityField(v);
  } else if (name == "wal_checkpoint_bytes") {
    o.wal_checkpoint_bytes = IntField(v, n, kU64);
  } else if (name == "wal_compression") {
    o.wal_compression = BoolField(v, n);
  } else if (name == "verify_checksums") {
    o.verify_checksums = BoolField(v, n);
  } else if (name == "cache_bytes") {
    o.cache_bytes = static_cast<size_t>(IntField(v, n, kSize));  // deprecated, never read
  } else if (name == "busy_timeout_ms") {
    o.busy_timeout_ms = static_cast<uint32_t>(IntField(v, n, kU32));
  } else if (name == "salvage_wal") {
    o.salvage_wal = BoolField(v, n);
  } else {
    RaiseTypeError("open() got an unexpected keyword argument '" + name +
                   "' (options are the fields of sombra::Options; docs/python.md)");
  }
}

}  // namespace

Options OptionsFromKwargs(const py::kwargs& kwargs) {
  Options options;
  for (auto [key, value] : kwargs) SetField(options, key.cast<std::string>(), value);
  return options;
}

void BindDurability(py::module_& m) {
  py::enum_<Durability>(m, "Durability", "What a successful commit promises after a crash.")
      .value("FULL", Durability::kFull, "fdatasync before commit returns (the default)")
      .value("NORMAL", Durability::kNormal, "synced within about 50 ms; a crash keeps a prefix")
      .value("OFF", Durability::kOff, "never fdatasync: survives a process kill, not power loss");
}

}  // namespace sombra::python
