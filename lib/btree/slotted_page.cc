// btree/slotted_page.cc: hole listing for the slot directory.
#include "btree/slotted_page.h"

#include <algorithm>
#include <functional>

namespace sombra::btree {

std::string_view Unaliased(const uint8_t* page, uint32_t page_size, std::string_view bytes,
                           std::string* copy) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  std::less<const uint8_t*> lt;
  if (bytes.empty() || lt(p, page) || !lt(p, page + page_size)) return bytes;
  copy->assign(bytes);
  return *copy;
}

std::vector<ByteRange> ListHoles(const SlotEntry* slots, size_t count, uint32_t arena_start,
                                 uint32_t free_start) {
  std::vector<ByteRange> recs;
  recs.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if (slots[i].length != 0) {
      recs.emplace_back(slots[i].offset, uint32_t{slots[i].offset} + slots[i].length);
    }
  }
  std::sort(recs.begin(), recs.end());
  std::vector<ByteRange> holes;
  uint32_t cursor = arena_start;
  for (const auto& [begin, end] : recs) {
    if (begin > cursor) holes.emplace_back(cursor, begin);
    cursor = std::max(cursor, end);
  }
  if (cursor < free_start) holes.emplace_back(cursor, free_start);
  return holes;
}

uint32_t FirstFitHole(const SlotEntry* slots, size_t count, uint32_t arena_start,
                      uint32_t free_start, uint32_t size) {
  for (const auto& [begin, end] : ListHoles(slots, count, arena_start, free_start)) {
    if (end - begin >= size) return begin;
  }
  return 0;
}

}  // namespace sombra::btree
