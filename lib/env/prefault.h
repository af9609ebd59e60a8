// env/prefault.h: faulting in memory about to be written, in one call.
//
// The first write to each page of fresh anonymous memory traps into the
// kernel, which allocates and maps the page. On this project's VM such a
// fault costs about 11 us; madvise(MADV_POPULATE_WRITE) maps a whole range
// in one call, and the range's whole 2 MiB blocks, marked MADV_HUGEPAGE
// first, become transparent huge pages where the kernel allows them: 24
// MiB in 1.4 ms instead of 65 (docs/architecture.md, "Commit, checkpoint
// and recovery"). A large transaction's WAL batch (tens of MB built and
// written at once) is the case it is for.
//
// Thread safety: any thread; the range must stay allocated during the call.
#pragma once

#include <cstddef>

namespace sombra {

// The size (and alignment) of a transparent huge page on x86-64: the unit
// PrefaultForWrite marks MADV_HUGEPAGE, and the slab page buffers are
// carved from (env/page_buffer.h).
inline constexpr size_t kHugePageBytes = size_t{2} << 20;

// Maps the whole pages inside [begin, begin + bytes) writable, as writes
// would, without changing a byte. Best effort: false (nothing done) on a
// kernel without MADV_POPULATE_WRITE (before Linux 5.14) or when it fails;
// later writes then fault the pages in one by one as before.
bool PrefaultForWrite(void* begin, size_t bytes);

}  // namespace sombra
