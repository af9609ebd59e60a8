// wal/wal_page_ops.h: the operations of a page-ops record (type 4,
// docs/format/wal.md, "Page ops (type 4)").
//
// A page-ops record replays the edits of one page in the order they were
// made: a write puts bytes at an offset, a move copies a byte range within
// the page (memmove: the ranges may overlap). The slotted-page editor's
// insert into the middle of a slot directory is then a move of the slots
// before it and an 8-byte write, instead of a delta range over every slot
// it shifted.
//
// Encoding of one op: varint `length << 1 | kind` (kind 0 write, 1 move;
// length >= 1), varint destination offset, then for a write `length`
// bytes, for a move varint source offset. Ops follow each other to the end
// of the payload.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sombra::wal {

enum class PageOpKind : uint8_t { kWrite = 0, kMove = 1 };

// Appends the encoding of a write of `bytes` at `offset`.
// REQUIRES: bytes non-empty.
void AppendWriteOp(std::string* ops, uint32_t offset, std::string_view bytes);
// Appends the encoding of a move of [src, src + length) to dst.
// REQUIRES: length >= 1, src != dst.
void AppendMoveOp(std::string* ops, uint32_t src, uint32_t dst, uint32_t length);

// Rule P2: `ops` is one or more ops, each of length >= 1, whose ranges
// (a write's destination, a move's source and destination) lie inside
// [0, page_size), a move's source differing from its destination, with no
// byte after the last op. False with *why (naming the op) otherwise.
bool CheckPageOps(std::string_view ops, uint32_t page_size, std::string* why);

// Applies ops that passed CheckPageOps for this page size to `page`, in
// order.
void ApplyPageOps(std::string_view ops, uint8_t* page);

// The number of ops in a checked stream (for dumps).
size_t CountPageOps(std::string_view ops);

}  // namespace sombra::wal
