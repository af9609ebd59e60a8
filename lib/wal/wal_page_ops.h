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
// A *copy* (log formats 12 and 13, inside ops groups only) is a move whose
// source lies on another page: its source varint is `source page *
// page_size + offset`, which is at least page_size. It copies bytes of the
// source page as that page was before the transaction (the state replay
// holds before applying any of the transaction's records), so a record a
// share or a split moves between leaves is logged as the place it came
// from, not as its bytes. Its source range starts at kCopySourceBegin or
// later: the bytes before it (page number, LSN, checksum) differ between a
// page in memory and in the file.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace sombra::wal {

enum class PageOpKind : uint8_t { kWrite = 0, kMove = 1, kCopy = 2 };

// The first byte of a page a copy may read (docs/format/page.md: bytes
// [0, 24) are the page number, kind, LSN and checksum).
inline constexpr uint32_t kCopySourceBegin = 24;

// A page as it was before the transaction whose ops are replayed, for the
// copies that read it; null when the replay has no such page.
using CopySourceFn = std::function<const uint8_t*(uint32_t page_no)>;

// Appends the encoding of a write of `bytes` at `offset`.
// REQUIRES: bytes non-empty.
void AppendWriteOp(std::string* ops, uint32_t offset, std::string_view bytes);
// Appends the encoding of a move of [src, src + length) to dst.
// REQUIRES: length >= 1, src != dst.
void AppendMoveOp(std::string* ops, uint32_t src, uint32_t dst, uint32_t length);

// Appends the encoding of a copy of [src, src + length) of page
// `src_page` (as it was before the transaction) to dst. REQUIRES: length
// >= 1, src_page >= 2, src >= kCopySourceBegin, src + length <= page_size.
void AppendCopyOp(std::string* ops, uint32_t page_size, uint32_t src_page, uint32_t src,
                  uint32_t dst, uint32_t length);

// Rule P2: `ops` is one or more ops, each of length >= 1, whose ranges
// (a write's destination, a move's source and destination) lie inside
// [0, page_size), a move's source differing from its destination, with no
// byte after the last op. With `copies` (an ops-group entry of a log of
// format 12 or 13) an op may also be a copy from page `own_page`'s
// neighbours: its source page >= 2 and not `own_page`, its source range
// inside [kCopySourceBegin, page_size). False with *why (naming the op)
// otherwise.
bool CheckPageOps(std::string_view ops, uint32_t page_size, std::string* why);
// *copy_count (when given) gets the number of copies.
bool CheckPageOps(std::string_view ops, uint32_t page_size, bool copies, uint32_t own_page,
                  std::string* why, size_t* copy_count = nullptr);

// Calls visit(page) for the source page of each copy of checked ops (a
// page may come more than once).
void ForEachCopySource(std::string_view ops, uint32_t page_size,
                       const std::function<void(uint32_t)>& visit);

// Applies ops that passed CheckPageOps for this page size to `page`, in
// order. A copy reads source(page); false, with the page partly changed,
// when that is null (the ops had no copy: `source` is never called).
[[nodiscard]] bool ApplyPageOps(std::string_view ops, uint32_t page_size, uint8_t* page,
                                const CopySourceFn& source);

// `ops` (checked) with every copy whose source page fails `keep` turned
// into a write of the bytes it copies, read from source(page) (non-null
// for those pages). The writer's fallback when a source page is not logged
// in a way replay can take its earlier state from.
std::string WriteOutCopies(std::string_view ops, uint32_t page_size,
                           const std::function<bool(uint32_t)>& keep, const CopySourceFn& source);

// The number of ops in a checked stream (for dumps).
size_t CountPageOps(std::string_view ops);

}  // namespace sombra::wal
