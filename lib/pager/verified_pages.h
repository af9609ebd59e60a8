// pager/verified_pages.h: which pages of the page file have had their
// checksum verified since they were last written.
//
// A page read from the file is verified on its first read and then trusted
// until this process writes it again (a checkpoint), so a hot page costs
// one XXH3 pass per checkpoint instead of one per read. One bit per page,
// in chunks allocated on first use so the set can grow while readers look
// at it (no resize, no lock).
//
// Thread safety: Test/Set/Clear from any thread (atomics, relaxed for the
// bits: a stale answer is "not verified", which only costs a re-check, and
// Clear happens-before the write that could make a set bit stale because
// the writer clears before writing and readers of a page being written do
// not exist (pager invariant: only pages no snapshot reads from the file
// are rewritten).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace sombra::pager {

class VerifiedPages {
 public:
  VerifiedPages() = default;
  ~VerifiedPages();
  VerifiedPages(const VerifiedPages&) = delete;
  VerifiedPages& operator=(const VerifiedPages&) = delete;

  bool Test(uint32_t page_no) const {
    const Chunk* c = chunks_[page_no >> kChunkShift].load(std::memory_order_acquire);
    if (c == nullptr) return false;
    const uint32_t bit = page_no & kChunkMask;
    return (c->words[bit >> 6].load(std::memory_order_relaxed) >> (bit & 63)) & 1;
  }
  void Set(uint32_t page_no);
  void Clear(uint32_t page_no);
  // Clears every bit (a read-only handle whose writer rewrote the file).
  void ClearAll();

 private:
  static constexpr uint32_t kChunkShift = 20;  // 2^20 pages (128 KiB of bits) per chunk
  static constexpr uint32_t kChunkMask = (1u << kChunkShift) - 1;
  static constexpr uint32_t kChunks = 1u << (32 - kChunkShift);
  struct Chunk {
    std::atomic<uint64_t> words[(1u << kChunkShift) / 64];
  };
  Chunk* GetOrCreate(uint32_t page_no);

  std::atomic<Chunk*> chunks_[kChunks] = {};
};

}  // namespace sombra::pager
