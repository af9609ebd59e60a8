// sombra/limits.h: the key and value limits, defined once, and the one
// check of them (included by sombra/db.h).
//
// Rules:
//  - Keys: kMinKeySize (1) to MaxKeySize(page_size) = page_size / 4 bytes
//    (1024 at 4 KiB pages, 16384 at 64 KiB). The format needs the bound:
//    fences and separators are prefixes of keys, and a leaf must hold two
//    fences and its largest record (docs/format/page.md, "Limits").
//  - Values: 0 to kMaxValueSize (4 GiB - 1) bytes; large ones live in
//    overflow pages.
//
// Every public entry point that takes a key to store, find or delete (DB
// and WriteTxn Put/Delete/Get, ReadTxn Get) checks it with CheckKeySize,
// and Put checks its value with CheckValueSize, before anything is read or
// written: a key or value outside the limits is InvalidArgument and
// changes nothing. Cursor::Seek takes a position, not a key: any byte
// string, "" and longer than MaxKeySize included.
//
// The message of both errors has one format,
//   "<key|value> of N bytes is <over|under> the limit: <keys|values> are
//    MIN to MAX bytes[ at page size P]",
// e.g. "key of 1025 bytes is over the limit: keys are 1 to 1024 bytes at
// page size 4096", "value of 4294967296 bytes is over the limit: values
// are 0 to 4294967295 bytes".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sombra/status.h"

namespace sombra {

// The smallest key (the empty key is refused).
inline constexpr size_t kMinKeySize = 1;
// The largest key a database with this page size accepts (page_size / 4).
constexpr size_t MaxKeySize(uint32_t page_size = 4096) { return page_size / 4; }
// The largest value Put accepts.
inline constexpr uint64_t kMaxValueSize = (uint64_t{1} << 32) - 1;

namespace limits_internal {
// The one message format of both errors (see above).
inline Status SizeError(std::string_view what, uint64_t size, uint64_t min, uint64_t max,
                        std::string_view where) {
  std::string msg(what);
  msg += " of " + std::to_string(size) + " bytes is " + (size < min ? "under" : "over") +
         " the limit: ";
  msg.append(what);
  msg += "s are " + std::to_string(min) + " to " + std::to_string(max) + " bytes";
  msg.append(where);
  return Status::InvalidArgument(msg);
}
}  // namespace limits_internal

// OK when a key of key_size bytes is within the limits of a database with
// this page size, else InvalidArgument in the format above.
inline Status CheckKeySize(size_t key_size, uint32_t page_size) {
  const size_t max = MaxKeySize(page_size);
  if (key_size >= kMinKeySize && key_size <= max) return Status::OK();
  return limits_internal::SizeError("key", key_size, kMinKeySize, max,
                                    " at page size " + std::to_string(page_size));
}

// OK when a value of value_size bytes is within the limit, else
// InvalidArgument in the format above.
inline Status CheckValueSize(uint64_t value_size) {
  if (value_size <= kMaxValueSize) return Status::OK();
  return limits_internal::SizeError("value", value_size, 0, kMaxValueSize, "");
}

}  // namespace sombra
