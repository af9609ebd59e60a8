// python/src/iterator_binding.cc: the iterators of txn.items()/keys()/
// values() and of a cursor, over a key range.
//
// A range is start <= key < stop, narrowed by a prefix to
// [prefix, successor(prefix)) where successor is the prefix with trailing
// 0xff bytes dropped and its last byte incremented (no upper bound when
// the prefix is all 0xff). Forward iteration seeks the lower bound and
// stops at the upper one; reverse iteration seeks the upper bound, steps
// back once, and stops below the lower one.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bytes_arg.h"
#include "cursor.h"
#include "errors.h"
#include "fast_calls.h"
#include "txn.h"

namespace sombra::python {
namespace {

struct Range {
  std::optional<std::string> lower;  // inclusive
  std::optional<std::string> upper;  // exclusive
};

std::optional<std::string> OptionalBytes(py::handle obj, const char* what) {
  if (obj.is_none()) return std::nullopt;
  BytesArg b(obj, what);
  return std::string(b.get());
}

std::optional<std::string> Successor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

Range MakeRange(py::handle prefix_obj, py::handle start, py::handle stop) {
  Range r{OptionalBytes(start, "start"), OptionalBytes(stop, "stop")};
  std::optional<std::string> prefix = OptionalBytes(prefix_obj, "prefix");
  if (!prefix.has_value() || prefix->empty()) return r;
  if (!r.lower.has_value() || *r.lower < *prefix) r.lower = *prefix;
  std::optional<std::string> end = Successor(*prefix);
  if (end.has_value() && (!r.upper.has_value() || *end < *r.upper)) r.upper = std::move(end);
  return r;
}

class Iterator {
 public:
  Iterator(std::shared_ptr<CursorObject> cursor, IterMode mode, Range range, bool reverse,
           bool from_here)
      : cursor_(std::move(cursor)),
        mode_(mode),
        range_(std::move(range)),
        reverse_(reverse),
        from_here_(from_here) {}

  // The next item (a new reference), or null with StopIteration or the
  // cursor's error set.
  PyObject* Next() {
    if (done_) return Stop();
    Cursor& c = cursor_->slot.get();
    if (!started_) {
      Start(c);
      started_ = true;
    } else {
      reverse_ ? c.Prev() : c.Next();
    }
    if (!c.Valid()) {
      done_ = true;
      Check(c.status());
      return Stop();
    }
    if (OutOfRange(c.key())) {
      done_ = true;
      return Stop();
    }
    return Item(c).release().ptr();
  }

 private:
  void Start(Cursor& c) {
    if (from_here_) {
      if (!cursor_->positioned) c.SeekToFirst();
    } else if (!reverse_) {
      range_.lower ? c.Seek(*range_.lower) : c.SeekToFirst();
    } else if (range_.upper) {
      c.Seek(*range_.upper);
      if (c.Valid()) {
        c.Prev();
      } else if (c.status().ok()) {
        c.SeekToLast();
      }
    } else {
      c.SeekToLast();
    }
    cursor_->positioned = true;
  }

  static PyObject* Stop() {
    PyErr_SetNone(PyExc_StopIteration);
    return nullptr;
  }

  bool OutOfRange(std::string_view key) const {
    if (reverse_) return range_.lower.has_value() && key < *range_.lower;
    return range_.upper.has_value() && key >= *range_.upper;
  }

  py::object Item(const Cursor& c) const {
    switch (mode_) {
      case IterMode::kKeys:
        return ToBytes(c.key());
      case IterMode::kValues:
        return ToBytes(c.value());
      case IterMode::kItems:
        break;
    }
    PyObject* pair = PyTuple_New(2);
    if (pair == nullptr) throw py::error_already_set();
    py::object owner = py::reinterpret_steal<py::object>(pair);
    PyTuple_SET_ITEM(pair, 0, ToBytes(c.key()).release().ptr());
    PyTuple_SET_ITEM(pair, 1, ToBytes(c.value()).release().ptr());
    return owner;
  }

  std::shared_ptr<CursorObject> cursor_;
  const IterMode mode_;
  Range range_;
  const bool reverse_;
  const bool from_here_;
  bool started_ = false;
  bool done_ = false;
};

}  // namespace

py::object NewIterator(std::shared_ptr<CursorObject> cursor, IterMode mode, py::handle prefix,
                       py::handle start, py::handle stop, bool reverse) {
  return py::cast(Iterator(std::move(cursor), mode, MakeRange(prefix, start, stop), reverse,
                           /*from_here=*/false));
}

py::object IterateFromHere(std::shared_ptr<CursorObject> cursor) {
  cursor->slot.get();  // raises when the transaction ended
  return py::cast(Iterator(std::move(cursor), IterMode::kItems, Range{}, false,
                           /*from_here=*/true));
}

namespace {

PyTypeObject* g_iterator_type = nullptr;  // sombra.Iterator

PyObject* FastNext(PyObject* self, PyObject* /*unused*/) {
  return Guarded([&]() -> PyObject* { return Unwrap<Iterator>(self, g_iterator_type).Next(); });
}

PyMethodDef kIteratorMethods[] = {{"__next__", FastNext, METH_NOARGS, "__next__(self, /)\n--\n\n"},
                                  {nullptr, nullptr, 0, nullptr}};

}  // namespace

void BindIterator(py::module_& m) {
  py::class_<Iterator> c(m, "Iterator", "Iterates a key range of a transaction (txn.items()).");
  c.def("__iter__", [](py::object self) { return self; });
  AddFastMethods(c, kIteratorMethods);
  g_iterator_type = reinterpret_cast<PyTypeObject*>(c.ptr());
}

}  // namespace sombra::python
