// env/page_buffer.h: page-sized byte buffers, recycled.
//
// A write transaction copies every page it changes into a fresh buffer,
// and the commit that publishes it retires the buffer of the version it
// replaces; a random load does this for hundreds of pages per commit. Page
// sizes (4 KiB and up) are past glibc's per-thread cache, so each of those
// allocations searched and split malloc's bins (perf: 8% of a random load
// in PagerTxn::Touch's `new`, and as much again in frees). Buffers freed
// here go back to a process-wide pool per page size, capped at
// kPooledBytesPerSize, and the next NewPageBuffer of that size takes one.
//
// Bytes of a new buffer are not initialised (as `new uint8_t[n]`). Under
// ASan a pooled buffer is poisoned until it is handed out again, so a use
// after free is still reported.
//
// Thread safety: NewPageBuffer and the deleter may be called from any
// thread (a reader releasing the last snapshot frees the versions it held).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace sombra {

struct PageBufferFree {
  void operator()(uint8_t* p) const;
};
using PageBuffer = std::unique_ptr<uint8_t[], PageBufferFree>;

// The most bytes the pool keeps for one buffer size; buffers freed past it
// go back to malloc.
inline constexpr size_t kPooledBytesPerSize = size_t{16} << 20;

// A buffer of `size` bytes (4096 to 65536, a power of two: a page size).
PageBuffer NewPageBuffer(size_t size);

// Buffers of `size` bytes the pool holds now (tests).
size_t PooledPageBuffers(size_t size);

}  // namespace sombra
