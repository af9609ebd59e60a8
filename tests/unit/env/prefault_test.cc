// PrefaultForWrite maps the pages of a range without changing its bytes.
#include "env/prefault.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
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

// The VmFlags line of the mapping that holds `address` (/proc/self/smaps).
std::string VmFlagsAt(uintptr_t address) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool in = false;
  while (std::getline(smaps, line)) {
    if (line.rfind("VmFlags:", 0) == 0) {
      if (in) return line;
      continue;
    }
    // A mapping's first line: "start-end perms ...", both in hex.
    const size_t dash = line.find('-'), space = line.find(' ');
    if (dash == std::string::npos || space == std::string::npos || dash > space) continue;
    if (line.find(':') < space) continue;  // a field line ("Size:  4 kB")
    const uintptr_t start = std::stoull(line.substr(0, dash), nullptr, 16);
    const uintptr_t end = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
    in = start <= address && address < end;
  }
  return "";
}

// A range holding whole 2 MiB blocks: those are marked for huge pages
// (VmFlags "hg") when the kernel takes the advice; still exactly the whole
// pages inside the range become resident, and no byte changes.
TEST(PrefaultTest, WholeTwoMebibyteBlocksAreMarkedForHugePages) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t bytes = 4 * kHuge;
  void* raw =
      mmap(nullptr, bytes + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(raw, MAP_FAILED);
  auto* p = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(raw) + kHuge - 1) &
                                       ~uintptr_t{kHuge - 1});
  p[kHuge + 5] = 0x77;  // written before: kept
  // From inside the first block to inside the fourth: blocks 2 and 3 whole.
  const size_t begin = kHuge / 2 + 10, length = 3 * kHuge;
  if (!PrefaultForWrite(p + begin, length)) {
    munmap(raw, bytes + kHuge);
    GTEST_SKIP() << "no MADV_POPULATE_WRITE (Linux before 5.14)";
  }
  const size_t first = (begin + page - 1) / page, end = (begin + length) / page;
  EXPECT_EQ(ResidentPages(p, bytes), end - first);
  EXPECT_EQ(p[kHuge + 5], 0x77);
  for (size_t i = first * page; i < end * page; i += 97) {
    if (i != kHuge + 5) {
      ASSERT_EQ(p[i], 0) << i;
    }
  }
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::stringstream setting;
  setting << thp.rdbuf();
  if (setting.str().find("[never]") == std::string::npos && !setting.str().empty()) {
    for (size_t block : {1, 2}) {
      const std::string flags = VmFlagsAt(reinterpret_cast<uintptr_t>(p + block * kHuge));
      ASSERT_FALSE(flags.empty());
      EXPECT_NE(flags.find(" hg"), std::string::npos) << block << ": " << flags;
    }
    for (size_t block : {0, 3}) {  // not whole in the range
      const std::string flags = VmFlagsAt(reinterpret_cast<uintptr_t>(p + block * kHuge));
      ASSERT_FALSE(flags.empty());
      EXPECT_EQ(flags.find(" hg"), std::string::npos) << block << ": " << flags;
    }
  }
  munmap(raw, bytes + kHuge);
}

}  // namespace
}  // namespace sombra
