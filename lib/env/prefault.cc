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
  return madvise(reinterpret_cast<void*>(b), e - b, MADV_POPULATE_WRITE) == 0;
#else
  (void)begin;
  (void)bytes;
  return false;
#endif
}

}  // namespace sombra
