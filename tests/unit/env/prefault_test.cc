// PrefaultForWrite maps the pages of a range without changing its bytes.
#include "env/prefault.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace sombra {
namespace {

// Resident pages of [p, p + bytes) (page-aligned), as mincore reports them.
size_t ResidentPages(void* p, size_t bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> vec(bytes / page);
  EXPECT_EQ(mincore(p, bytes, vec.data()), 0);
  size_t n = 0;
  for (unsigned char v : vec) n += v & 1;
  return n;
}

TEST(PrefaultTest, MapsFreshPagesAndKeepsBytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t bytes = 64 * page;
  void* raw = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(raw, MAP_FAILED);
  auto* p = static_cast<uint8_t*>(raw);
  EXPECT_EQ(ResidentPages(p, bytes), 0u) << "fresh anonymous memory";
  std::memset(p + 3 * page, 0x5a, page);  // one page written before
  EXPECT_EQ(ResidentPages(p, bytes), 1u);
  // A range starting and ending inside pages: only its whole pages.
  if (!PrefaultForWrite(p + 10, 40 * page)) {
    munmap(raw, bytes);
    GTEST_SKIP() << "no MADV_POPULATE_WRITE (Linux before 5.14)";
  }
  EXPECT_EQ(ResidentPages(p, bytes), 39u) << "pages 1 to 39";
  for (size_t i = 0; i < page; ++i) ASSERT_EQ(p[3 * page + i], 0x5a) << i;
  for (size_t i = 4 * page; i < 40 * page; ++i) ASSERT_EQ(p[i], 0) << i;
  EXPECT_FALSE(PrefaultForWrite(p + 10, page)) << "no whole page inside";
  munmap(raw, bytes);
}

}  // namespace
}  // namespace sombra
