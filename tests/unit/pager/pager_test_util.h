// Helpers shared by the pager tests.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "pager/pager.h"
#include "util/coding.h"

namespace sombra::pager::test {

// A kRaw page whose body is `fill` repeated, with `tag` at offset 24.
inline std::vector<uint8_t> RawPage(uint32_t page_size, uint32_t tag, char fill) {
  std::vector<uint8_t> page(page_size, static_cast<uint8_t>(fill));
  InitPageHeader(page.data(), PageKind::kRaw, 0, 7);
  EncodeFixed32(page.data() + kPageHeaderSize, tag);
  return page;
}

// Asserts page `page_no` is a kRaw page carrying `tag` and `fill`.
inline void ExpectRawPage(Pager* pager, uint32_t page_no, uint32_t tag, char fill) {
  auto page = pager->ReadPage(page_no);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ((*page)[kHeaderKindOffset], static_cast<uint8_t>(PageKind::kRaw));
  EXPECT_EQ(DecodeFixed32(*page + kPageHeaderSize), tag) << "page " << page_no;
  EXPECT_EQ((*page)[pager->page_size() - 1], static_cast<uint8_t>(fill)) << "page " << page_no;
}

// Allocates a page and writes RawPage(tag, fill) to it.
inline uint32_t WriteNewRawPage(Pager* pager, uint32_t tag, char fill) {
  auto page_no = pager->AllocatePage();
  EXPECT_TRUE(page_no.ok()) << page_no.status().ToString();
  if (!page_no.ok()) return 0;
  auto page = RawPage(pager->page_size(), tag, fill);
  Status s = pager->WritePage(*page_no, page.data());
  EXPECT_TRUE(s.ok()) << s.ToString();
  return *page_no;
}

// Overwrites `n` bytes at `offset` of the file at `path`.
inline void PatchFile(const std::string& path, uint64_t offset, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fseek(f, static_cast<long>(offset), SEEK_SET), 0);
  ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);
}

inline std::string ReadAt(const std::string& path, uint64_t offset, size_t n) {
  std::string out(n, '\0');
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return {};
  std::fseek(f, static_cast<long>(offset), SEEK_SET);
  size_t got = std::fread(out.data(), 1, n, f);
  std::fclose(f);
  out.resize(got);
  return out;
}

}  // namespace sombra::pager::test
