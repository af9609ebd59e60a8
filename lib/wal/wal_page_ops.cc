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
  uint32_t src = 0;
  std::string_view bytes;
};

// The next op of `in`; false when it runs past the end.
bool NextOp(Decoder* in, Op* op) {
  uint32_t head = 0;
  if (!in->GetVarint32(&head) || !in->GetVarint32(&op->dst)) return false;
  op->kind = (head & 1) != 0 ? PageOpKind::kMove : PageOpKind::kWrite;
  op->length = head >> 1;
  if (op->kind == PageOpKind::kMove) return in->GetVarint32(&op->src);
  return in->GetBytes(op->length, &op->bytes);
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

bool CheckPageOps(std::string_view ops, uint32_t page_size, std::string* why) {
  Decoder in(reinterpret_cast<const uint8_t*>(ops.data()), ops.size());
  if (ops.empty()) {
    *why = "no op";
    return false;
  }
  for (size_t i = 0; in.remaining() != 0; ++i) {
    Op op;
    const auto name = [i] { return "op " + std::to_string(i); };  // for the error only
    if (!NextOp(&in, &op)) {
      *why = name() + " runs past the payload";
      return false;
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
  return true;
}

void ApplyPageOps(std::string_view ops, uint8_t* page) {
  Decoder in(reinterpret_cast<const uint8_t*>(ops.data()), ops.size());
  Op op;
  while (in.remaining() != 0 && NextOp(&in, &op)) {
    if (op.kind == PageOpKind::kMove) {
      std::memmove(page + op.dst, page + op.src, op.length);
    } else {
      std::memcpy(page + op.dst, op.bytes.data(), op.length);
    }
  }
}

size_t CountPageOps(std::string_view ops) {
  Decoder in(reinterpret_cast<const uint8_t*>(ops.data()), ops.size());
  size_t n = 0;
  Op op;
  while (in.remaining() != 0 && NextOp(&in, &op)) ++n;
  return n;
}

}  // namespace sombra::wal
