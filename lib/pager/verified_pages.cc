// pager/verified_pages.cc: the chunked bitmap of verified pages.
#include "pager/verified_pages.h"

namespace sombra::pager {

VerifiedPages::~VerifiedPages() {
  for (auto& c : chunks_) delete c.load(std::memory_order_relaxed);
}

VerifiedPages::Chunk* VerifiedPages::GetOrCreate(uint32_t page_no) {
  std::atomic<Chunk*>& slot = chunks_[page_no >> kChunkShift];
  Chunk* c = slot.load(std::memory_order_acquire);
  if (c != nullptr) return c;
  auto fresh = std::make_unique<Chunk>();
  for (auto& w : fresh->words) w.store(0, std::memory_order_relaxed);
  if (slot.compare_exchange_strong(c, fresh.get(), std::memory_order_acq_rel)) {
    return fresh.release();
  }
  return c;  // another thread installed one first
}

void VerifiedPages::Set(uint32_t page_no) {
  const uint32_t bit = page_no & kChunkMask;
  GetOrCreate(page_no)->words[bit >> 6].fetch_or(uint64_t{1} << (bit & 63),
                                                 std::memory_order_relaxed);
}

void VerifiedPages::ClearAll() {
  for (auto& slot : chunks_) {
    Chunk* c = slot.load(std::memory_order_acquire);
    if (c == nullptr) continue;
    for (auto& w : c->words) w.store(0, std::memory_order_relaxed);
  }
}

void VerifiedPages::Clear(uint32_t page_no) {
  Chunk* c = chunks_[page_no >> kChunkShift].load(std::memory_order_acquire);
  if (c == nullptr) return;
  const uint32_t bit = page_no & kChunkMask;
  c->words[bit >> 6].fetch_and(~(uint64_t{1} << (bit & 63)), std::memory_order_relaxed);
}

}  // namespace sombra::pager
