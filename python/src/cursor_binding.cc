// python/src/cursor_binding.cc: sombra.Cursor (docs/python.md, "Cursors").
#include <memory>

#include "bytes_arg.h"
#include "cursor.h"
#include "errors.h"
#include "txn.h"

namespace sombra::python {
namespace {

using CursorPtr = std::shared_ptr<CursorObject>;

bool First(CursorObject& c) {
  c.slot.get().SeekToFirst();
  c.positioned = true;
  return c.Moved().Valid();
}

bool Last(CursorObject& c) {
  c.slot.get().SeekToLast();
  c.positioned = true;
  return c.Moved().Valid();
}

bool Seek(CursorObject& c, py::handle key) {
  Cursor& cur = c.slot.get();
  BytesArg k(key, "key");
  cur.Seek(k.get());
  c.positioned = true;
  return c.Moved().Valid();
}

// Next and Prev on an invalid cursor leave it invalid (C++ REQUIRES Valid).
bool Step(CursorObject& c, bool forward) {
  Cursor& cur = c.slot.get();
  if (!cur.Valid()) return false;
  forward ? cur.Next() : cur.Prev();
  return c.Moved().Valid();
}

py::object Key(CursorObject& c) {
  Cursor& cur = c.slot.get();
  if (!cur.Valid()) return py::none();
  return ToBytes(cur.key());
}

py::object Value(CursorObject& c) {
  Cursor& cur = c.slot.get();
  if (!cur.Valid()) return py::none();
  return ToBytes(cur.value());
}

py::object Item(CursorObject& c) {
  Cursor& cur = c.slot.get();
  if (!cur.Valid()) return py::none();
  return py::make_tuple(ToBytes(cur.key()), ToBytes(cur.value()));
}

}  // namespace

std::shared_ptr<CursorObject> NewCursorObject(const std::shared_ptr<Txn>& txn, Tree* tree) {
  return std::make_shared<CursorObject>(txn, tree);
}

void BindCursor(py::module_& m) {
  const auto none = py::none();
  py::class_<CursorObject, CursorPtr> c(
      m, "Cursor",
      "A position in a transaction's tree (txn.cursor()). The moves return whether the "
      "cursor is on a key; key(), value() and item() return None when it is not.");
  c.def("first", &First, "To the first key.")
      .def("last", &Last, "To the last key.")
      .def("seek", &Seek, py::arg("key"), "To the first key >= key (any bytes: a position).")
      .def(
          "next", [](CursorObject& cur) { return Step(cur, true); }, "To the next key.")
      .def(
          "prev", [](CursorObject& cur) { return Step(cur, false); }, "To the previous key.")
      .def("key", &Key)
      .def("value", &Value)
      .def("item", &Item, "(key, value), or None.")
      .def_property_readonly("valid", [](CursorObject& cur) { return cur.slot.get().Valid(); })
      .def("__iter__", &IterateFromHere,
           "(key, value) pairs from the current key forward (from the first key when the "
           "cursor was never positioned), moving the cursor.");
  for (auto [name, mode] :
       {std::pair{"items", IterMode::kItems}, std::pair{"keys", IterMode::kKeys},
        std::pair{"values", IterMode::kValues}}) {
    const IterMode im = mode;
    c.def(
        name,
        [im](const CursorPtr& cur, py::handle prefix, py::handle start, py::handle stop,
             bool reverse) {
          cur->slot.get();  // raises when the transaction ended
          return NewIterator(cur, im, prefix, start, stop, reverse);
        },
        py::kw_only(), py::arg("prefix") = none, py::arg("start") = none, py::arg("stop") = none,
        py::arg("reverse") = false,
        "Positions the cursor and iterates keys with the prefix, start <= key < stop, in key "
        "order or reversed, moving the cursor.");
  }
}

}  // namespace sombra::python
