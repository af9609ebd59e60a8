#include "wal/wal_page_ops.h"

#include <cstring>

#include "util/coding.h"

namespace sombra::wal {
namespace {

// One decoded op; `bytes` is a write's data.
struct Op {
  PageOpKind kind = PageOpKind::kWrite;
  uint32_t length = 0;
  uint32_t dst = 0;
  uint32_t src = 0;       // a move's or a copy's source offset
  uint64_t src_page = 0;  // a copy's source page
  std::string_view bytes;
};

// The next op of `in`; false when it runs past the end. A move whose
// source field is past the page is a copy (wal_page_ops.h).
bool NextOp(Decoder* in, uint32_t page_size, Op* op) {
  uint32_t head = 0;
  if (!in->GetVarint32(&head) || !in->GetVarint32(&op->dst)) return false;
  op->length = head >> 1;
  if ((head & 1) == 0) {
    op->kind = PageOpKind::kWrite;
    return in->GetBytes(op->length, &op->bytes);
  }
  uint64_t src = 0;
  if (!in->GetVarint64(&src)) return false;
  op->kind = src < page_size ? PageOpKind::kMove : PageOpKind::kCopy;
  op->src_page = src / page_size;
  op->src = static_cast<uint32_t>(src % page_size);
  return true;
}

}  // namespace

void AppendWriteOp(std::string* ops, uint32_t offset, std::string_view bytes) {
  PutVarint32(ops, static_cast<uint32_t>(bytes.size() << 1));
  PutVarint32(ops, offset);
  ops->append(bytes);
}

void AppendMoveOp(std::string* ops, uint32_t src, uint32_t dst, uint32_t length) {
  PutVarint32(ops, (length << 1) | 1u);
  PutVarint32(ops, dst);
  PutVarint32(ops, src);
}

void AppendCopyOp(std::string* ops, uint32_t page_size, uint32_t src_page, uint32_t src,
                  uint32_t dst, uint32_t length) {
  PutVarint32(ops, (length << 1) | 1u);
  PutVarint32(ops, dst);
  PutVarint64(ops, uint64_t{src_page} * page_size + src);
}

bool CheckPageOps(std::string_view ops, uint32_t page_size, std::string* why) {
  return CheckPageOps(ops, page_size, /*copies=*/false, 0, why);
}

bool CheckPageOps(std::string_view ops, uint32_t page_size, bool copies, uint32_t own_page,
                  std::string* why, size_t* copy_count) {
  Decoder in(reinterpret_cast<const uint8_t*>(ops.data()), ops.size());
  size_t n_copies = 0;
  if (ops.empty()) {
    *why = "no op";
    return false;
  }
  for (size_t i = 0; in.remaining() != 0; ++i) {
    Op op;
    const auto name = [i] { return "op " + std::to_string(i); };  // for the error only
    if (!NextOp(&in, page_size, &op)) {
      *why = name() + " runs past the payload";
      return false;
    }
    if (op.kind == PageOpKind::kCopy) {
      if (!copies || op.length == 0 || uint64_t{op.dst} + op.length > page_size ||
          op.src_page < 2 || op.src_page > UINT32_MAX || op.src_page == own_page ||
          op.src < kCopySourceBegin || uint64_t{op.src} + op.length > page_size) {
        *why = name() + " (copy from page " + std::to_string(op.src_page) + " [" +
               std::to_string(op.src) + ", +" + std::to_string(op.length) + ") to " +
               std::to_string(op.dst) + ") " +
               (copies ? "is empty, passes a page end, reads a page header or reads page 0, 1 "
                         "or its own page"
                       : "is a copy, which only an ops group of a log of format 12 or 13 holds");
        return false;
      }
      ++n_copies;
      continue;
    }
    const bool move = op.kind == PageOpKind::kMove;
    if (op.length == 0 || uint64_t{op.dst} + op.length > page_size ||
        (move && (uint64_t{op.src} + op.length > page_size || op.src == op.dst))) {
      *why = name() + " (" + (move ? "move from " + std::to_string(op.src) + " " : "write ") +
             "to [" + std::to_string(op.dst) + ", +" + std::to_string(op.length) +
             ")) is empty, passes the page end " + std::to_string(page_size) +
             (move ? " or moves nothing" : "");
      return false;
    }
  }
  if (copy_count != nullptr) *copy_count = n_copies;
  return true;
}

void ForEachCopySource(std::string_view ops, uint32_t page_size,
                       const std::function<void(uint32_t)>& visit) {
  Decoder in(reinterpret_cast<const uint8_t*>(ops.data()), ops.size());
  Op op;
  while (in.remaining() != 0 && NextOp(&in, page_size, &op)) {
    if (op.kind == PageOpKind::kCopy) visit(static_cast<uint32_t>(op.src_page));
  }
}

bool ApplyPageOps(std::string_view ops, uint32_t page_size, uint8_t* page,
                  const CopySourceFn& source) {
  Decoder in(reinterpret_cast<const uint8_t*>(ops.data()), ops.size());
  Op op;
  while (in.remaining() != 0 && NextOp(&in, page_size, &op)) {
    if (op.kind == PageOpKind::kMove) {
      std::memmove(page + op.dst, page + op.src, op.length);
    } else if (op.kind == PageOpKind::kCopy) {
      const uint8_t* from = source ? source(static_cast<uint32_t>(op.src_page)) : nullptr;
      if (from == nullptr) return false;
      std::memcpy(page + op.dst, from + op.src, op.length);
    } else {
      std::memcpy(page + op.dst, op.bytes.data(), op.length);
    }
  }
  return true;
}

std::string WriteOutCopies(std::string_view ops, uint32_t page_size,
                           const std::function<bool(uint32_t)>& keep, const CopySourceFn& source) {
  std::string out;
  out.reserve(ops.size());
  Decoder in(reinterpret_cast<const uint8_t*>(ops.data()), ops.size());
  Op op;
  while (true) {
    const uint8_t* at = in.position();
    if (in.remaining() == 0 || !NextOp(&in, page_size, &op)) break;
    const auto page = static_cast<uint32_t>(op.src_page);
    if (op.kind == PageOpKind::kCopy && !keep(page)) {
      const uint8_t* from = source(page) + op.src;
      AppendWriteOp(&out, op.dst, std::string_view(reinterpret_cast<const char*>(from), op.length));
    } else {
      out.append(reinterpret_cast<const char*>(at), static_cast<size_t>(in.position() - at));
    }
  }
  return out;
}

size_t CountPageOps(std::string_view ops) {
  Decoder in(reinterpret_cast<const uint8_t*>(ops.data()), ops.size());
  size_t n = 0;
  Op op;
  // Any page size decodes the same ops: only a source's split differs.
  while (in.remaining() != 0 && NextOp(&in, 1u << 16, &op)) ++n;
  return n;
}

}  // namespace sombra::wal
