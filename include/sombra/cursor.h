// sombra/cursor.h: ordered iteration inside one snapshot or transaction.
//
// A cursor walks keys in bytewise order (memcmp, shorter first on a tie).
// A new cursor is not Valid(); position it with SeekToFirst, SeekToLast or
// Seek. key() and value() are views valid until the cursor moves or is
// destroyed. A cursor of a WriteTxn sees the transaction's own writes: after
// a Put or Delete in that transaction it continues from the key it was on.
//
// Errors (a damaged page) make the cursor invalid and status() not OK.
//
// Thread safety: a Cursor belongs to one thread at a time, and must not
// outlive the transaction that made it.
#pragma once

#include <string_view>

#include "sombra/status.h"

namespace sombra {

class Cursor {
 public:
  virtual ~Cursor();
  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  // First key >= key. `key` is a position, not a stored key: any byte
  // string is valid, "" (the first key) and longer than MaxKeySize too, so
  // Seek does not check the key limits (sombra/limits.h).
  virtual void Seek(std::string_view key) = 0;
  virtual void Next() = 0;                   // REQUIRES: Valid()
  virtual void Prev() = 0;                   // REQUIRES: Valid()
  virtual std::string_view key() const = 0;  // valid until the cursor moves
  virtual std::string_view value() const = 0;
  virtual Status status() const = 0;
};

}  // namespace sombra
