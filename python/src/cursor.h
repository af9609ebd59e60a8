// python/src/cursor.h: sombra.Cursor, a position in one transaction.
//
// A cursor belongs to the transaction that made it and turns unusable
// (InvalidArgument) when that transaction ends. key() and value() return
// copies (bytes); a write transaction's cursor sees its own writes and
// continues from its key after a put or delete (include/sombra/cursor.h).
#pragma once

#include <memory>

#include "errors.h"
#include "handles.h"

namespace sombra::python {

struct CursorObject {
  CursorObject(std::shared_ptr<Txn> txn, Tree* tree) : slot(std::move(txn), tree) {}

  // The cursor after a move: raises the error that made it invalid.
  Cursor& Moved() {
    Cursor& c = slot.get();
    if (!c.Valid()) Check(c.status());
    return c;
  }

  CursorSlot slot;
  bool positioned = false;  // by any call that positions or moves it
};

}  // namespace sombra::python
