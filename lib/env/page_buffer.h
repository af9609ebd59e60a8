// env/page_buffer.h: page-sized byte buffers, recycled.
//
// A write transaction copies every page it changes into a fresh buffer,
// and the commit that publishes it retires the buffer of the version it
// replaces; a random load does this for hundreds of pages per commit. Page
// sizes (4 KiB and up) are past glibc's per-thread cache, so each of those
// allocations searched and split malloc's bins (perf: 8% of a random load
// in PagerTxn::Touch's `new`, and as much again in frees). Buffers freed
// here go back to a process-wide pool per page size, and the next
// NewPageBuffer of that size takes the one freed last.
//
// Buffers are carved from slabs of kSlabBytes (2 MiB), mapped with mmap,
// aligned to their size and faulted in at once, as transparent huge pages
// where the kernel allows (env/prefault.h). A large transaction takes
// thousands of buffers, and on this project's VM each 4 KiB page of fresh
// memory faulted in on its first write cost about 11 us: 66 ms for the
// 6,000 new leaves of a 1M-key one-commit load (perf, page-fault events:
// 5,983 of its 9,448 faults were those buffers), against about 1.4 ms for
// 24 MiB of huge pages. A slab whose last buffer comes back while the
// pool holds more than kPooledBytesPerSize of freed buffers of its size is
// unmapped whole; the pool keeps the others. So memory stays at the
// buffers alive plus about the cap, except when every slab keeps a buffer
// alive (as malloc's heap cannot shrink below a live block either).
//
// Bytes of a new buffer are not initialised (as `new uint8_t[n]`). Under
// ASan a pooled buffer is poisoned until it is handed out again, so a use
// after free is still reported, and every buffer is followed by a poisoned
// slot of its size, so a write past its end is too.
//
// Thread safety: NewPageBuffer and the deleter may be called from any
// thread (a reader releasing the last snapshot frees the versions it held).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "env/prefault.h"

namespace sombra {

struct PageBufferFree {
  void operator()(uint8_t* p) const;
};
using PageBuffer = std::unique_ptr<uint8_t[], PageBufferFree>;

// The bytes of freed buffers of one size past which a slab that empties
// is unmapped.
inline constexpr size_t kPooledBytesPerSize = size_t{16} << 20;
// The unit buffers are mapped in.
inline constexpr size_t kSlabBytes = kHugePageBytes;

// A buffer of `size` bytes (4096 to 65536, a power of two: a page size),
// aligned to `size`. Throws std::bad_alloc when no memory can be mapped.
PageBuffer NewPageBuffer(size_t size);

// Tests: freed buffers of `size` bytes the pool holds now, the slabs of
// that size mapped now, and how many buffers one slab holds.
size_t PooledPageBuffers(size_t size);
size_t PageBufferSlabs(size_t size);
size_t PageBuffersPerSlab(size_t size);

}  // namespace sombra
