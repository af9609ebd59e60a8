// Helpers shared by the pager tests.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "pager/pager.h"
#include "pager/pager_txn.h"
#include "pager/snapshot.h"
#include "testutil/patch_file.h"
#include "util/coding.h"

namespace sombra::pager::test {

// Fills `page` (page_size bytes, header set) with `fill`, `tag` at 24.
inline void FillRawPage(uint8_t* page, uint32_t page_size, uint32_t tag, char fill) {
  std::memset(page + kPageHeaderSize, fill, page_size - kPageHeaderSize);
  EncodeFixed32(page + kPageHeaderSize, tag);
}

// Asserts page `page_no` is a kRaw page carrying `tag` and `fill` in `snap`.
inline void ExpectRawPage(const Snapshot& snap, uint32_t page_no, uint32_t tag, char fill) {
  auto page = snap.Read(page_no);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ((*page)[kHeaderKindOffset], static_cast<uint8_t>(PageKind::kRaw));
  EXPECT_EQ(DecodeFixed32(*page + kPageHeaderSize), tag) << "page " << page_no;
  EXPECT_EQ((*page)[snap.page_size() - 1], static_cast<uint8_t>(fill)) << "page " << page_no;
}
inline void ExpectRawPage(Pager* pager, uint32_t page_no, uint32_t tag, char fill) {
  ExpectRawPage(*pager->BeginRead(), page_no, tag, fill);
}

// Allocates a raw page in `txn` and fills it.
inline uint32_t AllocRawPage(PagerTxn* txn, uint32_t tag, char fill) {
  uint8_t* page = nullptr;
  auto page_no = txn->Allocate(PageKind::kRaw, &page);
  EXPECT_TRUE(page_no.ok()) << page_no.status().ToString();
  if (!page_no.ok()) return 0;
  FillRawPage(page, txn->page_size(), tag, fill);
  return *page_no;
}

// Commits one transaction that allocates a raw page; returns its number.
inline uint32_t WriteNewRawPage(Pager* pager, uint32_t tag, char fill) {
  auto txn = pager->BeginWrite();
  EXPECT_TRUE(txn.ok()) << txn.status().ToString();
  if (!txn.ok()) return 0;
  uint32_t page_no = AllocRawPage(txn->get(), tag, fill);
  Status s = (*txn)->Commit();
  EXPECT_TRUE(s.ok()) << s.ToString();
  return page_no;
}

// Commits one transaction that overwrites `length` bytes at `offset` of a
// page with `byte`.
inline Status PatchPage(Pager* pager, uint32_t page_no, uint32_t offset, uint32_t length,
                        char byte) {
  auto txn = pager->BeginWrite();
  if (!txn.ok()) return txn.status();
  auto page = (*txn)->Write(page_no);
  if (!page.ok()) return page.status();
  std::memset(*page + offset, byte, length);
  (*txn)->NoteWrite(page_no, offset, length);
  return (*txn)->Commit();
}

using ::sombra::test::PatchFile;

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
