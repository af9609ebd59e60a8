// Page buffers: a header before the bytes names their size, so the deleter
// needs no state; freed buffers wait in a mutex-guarded stack per size.
#include "env/page_buffer.h"

#include <array>
#include <bit>
#include <cassert>
#include <mutex>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define SOMBRA_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define SOMBRA_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define SOMBRA_POISON(p, n) ((void)(p), (void)(n))
#define SOMBRA_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace sombra {
namespace {

// The header keeps the bytes as aligned as malloc's blocks (16 bytes).
// (An aligned new of 64 took glibc's memalign path, 5% of a sorted load.)
constexpr size_t kHeader = 16;
constexpr unsigned kMinShift = 12;  // 4096
constexpr unsigned kMaxShift = 16;  // 65536

struct SizePool {
  std::mutex mu;
  std::vector<uint8_t*> free;  // each points at its header
};

struct Pools {
  std::array<SizePool, kMaxShift - kMinShift + 1> by_shift;
};

// Never destroyed: buffers may be freed by static destructors of other
// translation units, after this one's would have run.
Pools& ThePools() {
  static Pools* pools = new Pools;
  return *pools;
}

SizePool& PoolOf(size_t size) {
  assert(std::has_single_bit(size) && size >= (size_t{1} << kMinShift) &&
         size <= (size_t{1} << kMaxShift));
  return ThePools().by_shift[static_cast<unsigned>(std::countr_zero(size)) - kMinShift];
}

}  // namespace

PageBuffer NewPageBuffer(size_t size) {
  SizePool& pool = PoolOf(size);
  uint8_t* block = nullptr;
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    if (!pool.free.empty()) {
      block = pool.free.back();
      pool.free.pop_back();
    }
  }
  if (block == nullptr) {
    block = static_cast<uint8_t*>(::operator new(kHeader + size));
    *reinterpret_cast<size_t*>(block) = size;
  } else {
    SOMBRA_UNPOISON(block + kHeader, size);
  }
  return PageBuffer(block + kHeader);
}

void PageBufferFree::operator()(uint8_t* p) const {
  uint8_t* block = p - kHeader;
  const size_t size = *reinterpret_cast<const size_t*>(block);
  SizePool& pool = PoolOf(size);
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    if ((pool.free.size() + 1) * size <= kPooledBytesPerSize) {
      SOMBRA_POISON(p, size);
      pool.free.push_back(block);
      return;
    }
  }
  ::operator delete(block);
}

size_t PooledPageBuffers(size_t size) {
  SizePool& pool = PoolOf(size);
  std::lock_guard<std::mutex> lock(pool.mu);
  return pool.free.size();
}

}  // namespace sombra
