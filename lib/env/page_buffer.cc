// Page buffers: carved from 2 MiB slabs that the kernel may map as huge
// pages. A slab's first buffer-sized slot is its header (the buffer size
// and how many of its buffers are handed out), so the deleter needs no
// state. Freed buffers wait in a mutex-guarded stack per size; a slab
// whose last buffer comes back while the pool holds more than its cap is
// unmapped whole.
#include "env/page_buffer.h"

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

#include "env/prefault.h"

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

// Under ASan each buffer is followed by a poisoned slot of its size, as
// malloc's redzones would be: a write past a page is still reported.
#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kStrideFactor = 2;
#else
constexpr size_t kStrideFactor = 1;
#endif

constexpr unsigned kMinShift = 12;  // 4096
constexpr unsigned kMaxShift = 16;  // 65536

// The first slot of a slab. `size` never changes; `live` only under the
// pool's mutex.
struct SlabHeader {
  size_t size;
  size_t live;  // buffers of the slab handed out and not freed
};

struct SizePool {
  std::mutex mu;
  std::vector<uint8_t*> free;
  // The newest slab's buffers not handed out yet: [next, end).
  uint8_t* next = nullptr;
  uint8_t* end = nullptr;
  size_t slabs = 0;
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

uint8_t* SlabOf(const uint8_t* p) {
  return reinterpret_cast<uint8_t*>(reinterpret_cast<uintptr_t>(p) & ~uintptr_t{kSlabBytes - 1});
}

SlabHeader* HeaderOf(uint8_t* slab) { return reinterpret_cast<SlabHeader*>(slab); }

// A new slab of `size`-byte buffers: kSlabBytes, aligned to them (so a
// buffer's slab is its address rounded down), faulted in at once (huge
// pages where the kernel allows). Its first slot is the header.
uint8_t* NewSlab(size_t size) {
  void* raw =
      mmap(nullptr, 2 * kSlabBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto at = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t slab = (at + kSlabBytes - 1) & ~uintptr_t{kSlabBytes - 1};
  if (slab > at) munmap(raw, slab - at);
  if (const uintptr_t tail = at + 2 * kSlabBytes - (slab + kSlabBytes); tail > 0) {
    munmap(reinterpret_cast<void*>(slab + kSlabBytes), tail);
  }
  auto* p = reinterpret_cast<uint8_t*>(slab);
  (void)PrefaultForWrite(p, kSlabBytes);
  *HeaderOf(p) = SlabHeader{size, 0};
  const size_t stride = kStrideFactor * size;
  SOMBRA_POISON(p + sizeof(SlabHeader), stride - sizeof(SlabHeader));
  // Every buffer stays poisoned until it is handed out.
  SOMBRA_POISON(p + stride, kSlabBytes - stride);
  return p;
}

}  // namespace

size_t PageBuffersPerSlab(size_t size) { return kSlabBytes / (kStrideFactor * size) - 1; }

PageBuffer NewPageBuffer(size_t size) {
  SizePool& pool = PoolOf(size);
  uint8_t* p = nullptr;
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    if (!pool.free.empty()) {
      p = pool.free.back();
      pool.free.pop_back();
    } else {
      if (pool.next == pool.end) {
        uint8_t* slab = NewSlab(size);
        ++pool.slabs;
        pool.next = slab + kStrideFactor * size;
        pool.end = slab + kSlabBytes;
      }
      p = pool.next;
      pool.next += kStrideFactor * size;
    }
    ++HeaderOf(SlabOf(p))->live;
  }
  SOMBRA_UNPOISON(p, size);
  return PageBuffer(p);
}

void PageBufferFree::operator()(uint8_t* p) const {
  uint8_t* const slab = SlabOf(p);
  SlabHeader* const h = HeaderOf(slab);
  const size_t size = h->size;  // written once, before any buffer was handed out
  SizePool& pool = PoolOf(size);
  SOMBRA_POISON(p, size);
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    pool.free.push_back(p);
    if (--h->live != 0 || pool.free.size() * size <= kPooledBytesPerSize) return;
    // The slab's last buffer came back and the pool holds more than its
    // cap: the slab goes. Its buffers leave the stack (no one can take
    // them then), and the carving stops if it was the newest.
    std::erase_if(pool.free, [slab](uint8_t* b) { return SlabOf(b) == slab; });
    if (pool.next != nullptr && SlabOf(pool.next) == slab) pool.next = pool.end = nullptr;
    --pool.slabs;
  }
  SOMBRA_UNPOISON(slab, kSlabBytes);
  munmap(slab, kSlabBytes);
}

size_t PooledPageBuffers(size_t size) {
  SizePool& pool = PoolOf(size);
  std::lock_guard<std::mutex> lock(pool.mu);
  return pool.free.size();
}

size_t PageBufferSlabs(size_t size) {
  SizePool& pool = PoolOf(size);
  std::lock_guard<std::mutex> lock(pool.mu);
  return pool.slabs;
}

}  // namespace sombra
