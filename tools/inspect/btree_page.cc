// sombra-inspect: B+tree pages (leaf, internal, overflow) decoded for the
// page and tree commands (docs/format/page.md).
//
// Nothing here trusts the page: the node header is read as stored (it lies
// inside every valid page size), and offsets, fences, slots and records are
// looked at only after LeafLayout::Parse or InternalNode::Validate
// accepted the layout; both are bounds-checked against the page size.
#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "btree/internal_node.h"
#include "btree/leaf_allocator.h"
#include "btree/node_format.h"
#include "btree/slotted_page.h"
#include "inspect/inspect_internal.h"
#include "inspect/json_writer.h"
#include "util/coding.h"

namespace sombra::inspect {
namespace {

bool IsPrintable(std::string_view s) {
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7E) return false;
  }
  return true;
}

std::string HexString(std::string_view s) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * s.size());
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    out += kDigits[u >> 4];
    out += kDigits[u & 0xF];
  }
  return out;
}

std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

void DecodeLeaf(const uint8_t* page, uint32_t page_size, NodeInfo* n) {
  // Counts nothing: an offline reader has no counters.
  Result<btree::LeafLayout> parsed = btree::LeafLayout::Parse(page, page_size, nullptr);
  if (!parsed.ok()) {
    n->layout = parsed.status();
    return;
  }
  const btree::LeafLayout& snap = *parsed;
  n->arena_start = snap.arena_start();
  n->used_bytes = snap.used_bytes();
  n->low_fence = std::string(snap.low_fence(page));
  n->high_fence = std::string(snap.high_fence(page));
  n->slots.reserve(snap.size());
  n->records.reserve(snap.size());
  for (size_t i = 0; i < snap.size(); ++i) {
    const btree::LeafSlot& s = snap.slot(i);
    n->slots.push_back(NodeSlot{s.offset, s.length, s.head});
    const btree::LeafRecordRef rec = snap.Record(page, i);  // Parse decoded it already
    NodeRecord r;
    r.key = std::string(rec.key);
    r.overflow = rec.overflow;
    if (rec.overflow) {
      btree::DecodeOverflowRef(rec.value, &r.first_page, &r.value_length);
    } else {
      r.value_length = rec.value.size();
      r.preview = std::string(rec.value.substr(0, kValuePreview));
    }
    n->records.push_back(std::move(r));
  }
  n->holes = snap.Holes();
}

void DecodeInternal(const uint8_t* page, uint32_t page_size, NodeInfo* n) {
  const btree::InternalNodeView node(page, page_size, nullptr);
  n->layout = node.Validate();
  if (!n->layout.ok()) return;
  n->arena_start = static_cast<uint32_t>(btree::kNodeHeaderEnd);
  n->used_bytes = node.used_bytes();
  std::vector<btree::SlotEntry> slots;
  slots.reserve(n->count);
  n->slots.reserve(n->count);
  n->records.reserve(n->count);
  for (size_t i = 0; i < n->count; ++i) {
    // Validate checked that the directory [free_end, page_size) holds count slots.
    const btree::SlotEntry s = btree::ReadSlot(page, page_size, i, n->free_start, /*leaf=*/false);
    slots.push_back(s);
    n->slots.push_back(NodeSlot{s.offset, s.length, s.head});
    NodeRecord r;
    r.key = std::string(node.key(i));
    r.child = node.child(i + 1);
    n->records.push_back(std::move(r));
  }
  n->holes = btree::ListHoles(slots.data(), slots.size(), n->arena_start, n->free_start);
}

void PrintNode(const NodeInfo& n, std::ostream& out) {
  PrintField(out, "slot count", std::to_string(n.count));
  PrintField(out, "level", std::to_string(n.level));
  PrintField(out, "free start", std::to_string(n.free_start));
  PrintField(out, "free end", std::to_string(n.free_end));
  PrintField(out, "hole bytes", std::to_string(n.hole_bytes));
  if (n.leaf) {
    PrintField(out, "left sibling", std::to_string(n.left));
    PrintField(out, "right sibling", std::to_string(n.right));
  } else {
    PrintField(out, "leftmost child", std::to_string(n.right));
  }
  PrintField(out, "low fence length", std::to_string(n.low_len));
  PrintField(out, "high fence length", std::to_string(n.high_len));
  if (!n.layout.ok()) {
    PrintField(out, "layout", "invalid: " + n.layout.message());
    return;
  }
  PrintField(out, "layout", "valid");
  PrintField(out, "arena start", std::to_string(n.arena_start));
  PrintField(out, "used bytes",
             std::to_string(n.used_bytes) + " of " + std::to_string(n.usable_bytes) + " (" +
                 FillText(n.used_bytes, n.usable_bytes) + ")");
  if (n.leaf) {
    PrintField(out, "low fence", n.low_fence.empty() ? "-infinity" : ShowBytes(n.low_fence));
    PrintField(out, "high fence", n.high_fence.empty() ? "+infinity" : ShowBytes(n.high_fence));
  }
  PrintField(out, "slots", std::to_string(n.slots.size()));
  for (size_t i = 0; i < n.slots.size(); ++i) {
    const NodeSlot& s = n.slots[i];
    out << "    " << i << ": offset " << s.offset << ", length " << s.length << ", head "
        << Hex32(s.head) << '\n';
  }
  PrintField(out, "records", std::to_string(n.records.size()));
  for (size_t i = 0; i < n.records.size(); ++i) {
    const NodeRecord& r = n.records[i];
    std::string line = "    " + std::to_string(i) + ": ";
    if (!n.leaf) {
      line += "separator " + ShowBytes(r.key) + ", child " + std::to_string(r.child);
    } else if (r.overflow) {
      line += "key " + ShowBytes(r.key) + ", value " + std::to_string(r.value_length) +
              " bytes in overflow pages from page " + std::to_string(r.first_page);
    } else {
      line += "key " + ShowBytes(r.key) + ", value " + std::to_string(r.value_length) +
              " bytes inline: " + ShowBytes(r.preview);
      if (r.value_length > r.preview.size()) line += "...";
    }
    out << line << '\n';
  }
  uint64_t hole_total = 0;
  for (const auto& [begin, end] : n.holes) hole_total += end - begin;
  PrintField(out, "holes",
             n.holes.empty()
                 ? "none"
                 : std::to_string(n.holes.size()) + " (" + std::to_string(hole_total) + " bytes)");
  for (const auto& [begin, end] : n.holes) {
    out << "    [" << begin << ", " << end << ")\n";
  }
}

void WriteNode(const NodeInfo& n, JsonWriter* json) {
  json->Key("node");
  json->BeginObject();
  json->Field("type", n.leaf ? "leaf" : "internal");
  json->Field("slot_count", uint64_t{n.count});
  json->Field("level", uint64_t{n.level});
  json->Field("free_start", uint64_t{n.free_start});
  json->Field("free_end", uint64_t{n.free_end});
  json->Field("hole_bytes", uint64_t{n.hole_bytes});
  if (n.leaf) {
    json->Field("left_sibling", uint64_t{n.left});
    json->Field("right_sibling", uint64_t{n.right});
  } else {
    json->Field("leftmost_child", uint64_t{n.right});
  }
  json->Field("low_fence_length", uint64_t{n.low_len});
  json->Field("high_fence_length", uint64_t{n.high_len});
  json->BoolField("valid", n.layout.ok());
  if (!n.layout.ok()) {
    json->Field("problem", n.layout.message());
    json->EndObject();
    return;
  }
  json->Field("arena_start", uint64_t{n.arena_start});
  json->Field("used_bytes", uint64_t{n.used_bytes});
  json->Field("usable_bytes", uint64_t{n.usable_bytes});
  json->Field("fill", FillText(n.used_bytes, n.usable_bytes));
  if (n.leaf) {
    json->Key("low_fence");
    WriteFence(n.low_fence, json);
    json->Key("high_fence");
    WriteFence(n.high_fence, json);
  }
  json->Key("slots");
  json->BeginArray();
  for (size_t i = 0; i < n.slots.size(); ++i) {
    json->BeginObject();
    json->Field("index", uint64_t{i});
    json->Field("offset", uint64_t{n.slots[i].offset});
    json->Field("length", uint64_t{n.slots[i].length});
    json->Field("head", Hex32(n.slots[i].head));
    json->EndObject();
  }
  json->EndArray();
  json->Key("records");
  json->BeginArray();
  for (size_t i = 0; i < n.records.size(); ++i) {
    const NodeRecord& r = n.records[i];
    json->BeginObject();
    json->Field("index", uint64_t{i});
    if (!n.leaf) {
      json->Key("separator");
      WriteBytes(r.key, json);
      json->Field("child", uint64_t{r.child});
    } else {
      json->Key("key");
      WriteBytes(r.key, json);
      json->Field("value_length", r.value_length);
      json->BoolField("overflow", r.overflow);
      if (r.overflow) {
        json->Field("first_page", uint64_t{r.first_page});
      } else {
        json->Key("value_preview");
        WriteBytes(r.preview, json);
      }
    }
    json->EndObject();
  }
  json->EndArray();
  json->Key("holes");
  json->BeginArray();
  for (const auto& [begin, end] : n.holes) {
    json->BeginObject();
    json->Field("begin", uint64_t{begin});
    json->Field("end", uint64_t{end});
    json->EndObject();
  }
  json->EndArray();
  json->EndObject();
}

struct OverflowInfo {
  uint32_t next;
  uint32_t used;
  uint32_t capacity;
};

OverflowInfo DecodeOverflow(const uint8_t* page, uint32_t page_size) {
  return OverflowInfo{DecodeFixed32(page + btree::kOverflowNextOffset),
                      DecodeFixed32(page + btree::kOverflowUsedOffset),
                      page_size - static_cast<uint32_t>(btree::kOverflowDataOffset)};
}

}  // namespace

std::string ShowBytes(std::string_view bytes) {
  if (!IsPrintable(bytes)) return "0x" + HexString(bytes);
  std::string out = "\"";
  for (char c : bytes) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

void WriteBytes(std::string_view bytes, JsonWriter* json) {
  json->BeginObject();
  json->Field("hex", HexString(bytes));
  if (IsPrintable(bytes)) json->Field("text", bytes);
  json->EndObject();
}

void WriteFence(std::string_view fence, JsonWriter* json) {
  if (fence.empty()) {
    json->Null();
  } else {
    WriteBytes(fence, json);
  }
}

std::string FillText(uint64_t used, uint64_t usable) {
  if (usable == 0) return "-";
  // Tenths of a percent, rounded half up; integers only, so no locale.
  const uint64_t tenths = (used * 1000 + usable / 2) / usable;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + "%";
}

NodeInfo DecodeNode(const uint8_t* page, uint32_t page_size) {
  NodeInfo n;
  n.leaf = page[pager::kHeaderKindOffset] == static_cast<uint8_t>(pager::PageKind::kLeaf);
  n.count = DecodeFixed16(page + btree::kSlotCountOffset);
  n.level = DecodeFixed16(page + btree::kLevelOffset);
  n.free_start = DecodeFixed32(page + btree::kFreeStartOffset);
  n.free_end = DecodeFixed32(page + btree::kFreeEndOffset);
  n.hole_bytes = DecodeFixed32(page + btree::kHoleBytesOffset);
  n.left = DecodeFixed32(page + btree::kLeftOffset);
  n.right = DecodeFixed32(page + btree::kRightOffset);
  n.low_len = DecodeFixed16(page + btree::kLowFenceLenOffset);
  n.high_len = DecodeFixed16(page + btree::kHighFenceLenOffset);
  n.usable_bytes = page_size - static_cast<uint32_t>(btree::kNodeHeaderEnd);
  if (n.leaf) {
    DecodeLeaf(page, page_size, &n);
  } else {
    DecodeInternal(page, page_size, &n);
  }
  return n;
}

bool IsBtreeKind(uint8_t kind) {
  return kind == static_cast<uint8_t>(pager::PageKind::kLeaf) ||
         kind == static_cast<uint8_t>(pager::PageKind::kInternal) ||
         kind == static_cast<uint8_t>(pager::PageKind::kOverflow);
}

void PrintBtreePage(const uint8_t* page, uint32_t page_size, std::ostream& out) {
  const uint8_t kind = page[pager::kHeaderKindOffset];
  if (kind == static_cast<uint8_t>(pager::PageKind::kOverflow)) {
    const OverflowInfo o = DecodeOverflow(page, page_size);
    PrintField(out, "next page", o.next == 0 ? "0 (last page)" : std::to_string(o.next));
    PrintField(out, "bytes used",
               std::to_string(o.used) + " of " + std::to_string(o.capacity) +
                   (o.used > o.capacity ? " (more than the page holds)" : ""));
    return;
  }
  if (IsBtreeKind(kind)) PrintNode(DecodeNode(page, page_size), out);
}

void WriteBtreePage(const uint8_t* page, uint32_t page_size, JsonWriter* json) {
  const uint8_t kind = page[pager::kHeaderKindOffset];
  if (kind == static_cast<uint8_t>(pager::PageKind::kOverflow)) {
    const OverflowInfo o = DecodeOverflow(page, page_size);
    json->Key("overflow");
    json->BeginObject();
    json->Field("next", uint64_t{o.next});
    json->Field("used", uint64_t{o.used});
    json->Field("capacity", uint64_t{o.capacity});
    json->BoolField("used_ok", o.used <= o.capacity);
    json->EndObject();
    return;
  }
  if (IsBtreeKind(kind)) WriteNode(DecodeNode(page, page_size), json);
}

}  // namespace sombra::inspect
