#include "env/prefault.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace sombra {

bool PrefaultForWrite(void* begin, size_t bytes) {
#ifdef MADV_POPULATE_WRITE
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t b = (reinterpret_cast<uintptr_t>(begin) + page - 1) & ~(page - 1);
  const uintptr_t e = (reinterpret_cast<uintptr_t>(begin) + bytes) & ~(page - 1);
  if (e <= b) return false;
#ifdef MADV_HUGEPAGE
  // The whole 2 MiB blocks of the range may be huge pages (when the
  // kernel's transparent_hugepage setting is "madvise" or "always"): one
  // fault maps 512 pages.
  constexpr uintptr_t kHuge = kHugePageBytes;
  const uintptr_t hb = (b + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t he = e & ~(kHuge - 1);
  if (he > hb) (void)madvise(reinterpret_cast<void*>(hb), he - hb, MADV_HUGEPAGE);
#endif
  return madvise(reinterpret_cast<void*>(b), e - b, MADV_POPULATE_WRITE) == 0;
#else
  (void)begin;
  (void)bytes;
  return false;
#endif
}

}  // namespace sombra
