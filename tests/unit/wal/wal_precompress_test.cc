// BatchBuilder::PrecompressImages: a large transaction's page images
// compressed on a helper thread give the same batch, byte for byte, as
// compressing each image as it is added.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "wal/wal_batch.h"
#include "wal/wal_page_ops.h"
#include "wal/wal_reader.h"
#include "wal_test_util.h"

namespace sombra::wal {
namespace {

using test::U8;

// `n` pages: most compress, every seventh is noise (stored raw).
std::vector<std::string> Pages(size_t n) {
  std::vector<std::string> pages;
  for (size_t i = 0; i < n; ++i) {
    pages.push_back(test::TestPage(static_cast<uint32_t>(i), /*compressible=*/i % 7 != 3));
  }
  return pages;
}

// One transaction: images of pages[order[k]] as page 10 + order[k], a
// delta of page 3 after the first image and page ops of page 5 in the
// middle (records a commit interleaves with images), then the commit.
// `plan`: announce the images first.
std::string Build(BatchBuilder* b, const std::vector<std::string>& pages,
                  const std::vector<size_t>& order, const std::vector<size_t>* plan) {
  b->Reset(4242);
  if (plan != nullptr) {
    std::vector<const uint8_t*> ptrs;
    for (size_t i : *plan) ptrs.push_back(U8(pages[i]));
    b->PrecompressImages(ptrs);
  }
  const std::string bytes = "delta bytes";
  const std::vector<DeltaRange> ranges = {{100, bytes}};
  std::string ops;
  AppendWriteOp(&ops, 200, "op bytes");
  for (size_t k = 0; k < order.size(); ++k) {
    const size_t i = order[k];
    EXPECT_TRUE(b->AddPageImage(static_cast<uint32_t>(10 + i), 2, U8(pages[i])).ok());
    if (k == 0) {
      EXPECT_TRUE(b->AddPageDelta(3, 1, 2, ranges).ok());
    }
    if (k == order.size() / 2) {
      EXPECT_TRUE(b->AddPageOps(5, 1, 2, ops).ok());
    }
  }
  CommitInfo info;
  info.lsn = 2;
  info.page_count = static_cast<uint32_t>(10 + pages.size());
  info.durable_lsn = 1;
  EXPECT_TRUE(b->AddCommit(info).ok());
  return std::string(b->data());
}

std::vector<size_t> Iota(size_t n) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

TEST(PrecompressTest, HelperThreadGivesTheInlineBatchByteForByte) {
  const std::vector<std::string> pages = Pages(300);
  const std::vector<size_t> order = Iota(pages.size());
  BatchBuilder inline_b(test::kPageSize, /*compress=*/true);
  const std::string want = Build(&inline_b, pages, order, nullptr);
  BatchBuilder b(test::kPageSize, /*compress=*/true);
  b.Reset(4242);
  std::vector<const uint8_t*> ptrs;
  for (const std::string& p : pages) ptrs.push_back(U8(p));
  b.PrecompressImages(ptrs);
  EXPECT_EQ(b.planned_images(), pages.size());  // the helper took half of them
  // Twice with one builder: the helper's buffer is reused.
  for (int round = 0; round < 2; ++round) {
    const std::string got = Build(&b, pages, order, &order);
    ASSERT_EQ(got.size(), want.size()) << "round " << round;
    EXPECT_TRUE(got == want) << "round " << round;
    EXPECT_EQ(b.last_checksum(), inline_b.last_checksum());
    EXPECT_EQ(b.image_records(), pages.size());
    EXPECT_EQ(b.compressed_bytes_saved(), inline_b.compressed_bytes_saved());
  }
  // The batch decodes: every image is its page.
  WalHeader header = test::TestHeader(4242, /*start_lsn=*/2);
  header.version = kWalNewestFormatVersion;  // ops groups
  test::StringFile file(test::HeaderBytes(header) + want);
  WalReader reader(&file);
  ASSERT_TRUE(reader.Open().ok());
  Record rec;
  size_t images = 0;
  while (reader.Next(&rec)) {
    if (rec.type != RecordType::kPageImage) continue;
    ASSERT_EQ(rec.page, pages[rec.page_no - 10]) << "page " << rec.page_no;
    ++images;
  }
  EXPECT_EQ(images, pages.size());
  EXPECT_EQ(reader.committed_end_offset(), header.size() + want.size()) << reader.stop_detail();
}

TEST(PrecompressTest, ImagesOutOfThePlannedOrderAreCompressedInline) {
  const std::vector<std::string> pages = Pages(200);
  const std::vector<size_t> plan = Iota(pages.size());
  // Two pages of the helper's half swapped, then one of this thread's.
  for (const std::pair<size_t, size_t>& swap :
       {std::pair<size_t, size_t>{150, 151}, std::pair<size_t, size_t>{10, 11}}) {
    std::vector<size_t> order = plan;
    std::swap(order[swap.first], order[swap.second]);
    BatchBuilder inline_b(test::kPageSize, true);
    const std::string want = Build(&inline_b, pages, order, nullptr);
    BatchBuilder b(test::kPageSize, true);
    const std::string got = Build(&b, pages, order, &plan);
    EXPECT_TRUE(got == want) << "swapped " << swap.first;
    EXPECT_EQ(b.planned_images(), 0u);  // the plan ended at the swap
  }
}

TEST(PrecompressTest, SmallOrUncompressedBatchesMakeNoPlan) {
  const std::vector<std::string> pages = Pages(BatchBuilder::kParallelImages);
  std::vector<const uint8_t*> ptrs;
  for (const std::string& p : pages) ptrs.push_back(U8(p));
  BatchBuilder b(test::kPageSize, true);
  b.Reset(1);
  b.PrecompressImages(std::span<const uint8_t* const>(ptrs.data(), ptrs.size() - 1));
  EXPECT_EQ(b.planned_images(), 0u);
  b.PrecompressImages(ptrs);
  EXPECT_EQ(b.planned_images(), ptrs.size());
  // Reset waits for the helper and drops the plan: the pages may go.
  b.Reset(1);
  EXPECT_EQ(b.planned_images(), 0u);
  BatchBuilder raw(test::kPageSize, /*compress=*/false);
  raw.Reset(1);
  raw.PrecompressImages(ptrs);
  EXPECT_EQ(raw.planned_images(), 0u);
}

}  // namespace
}  // namespace sombra::wal
