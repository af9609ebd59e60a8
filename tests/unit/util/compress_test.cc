// Tests of util/compress: lz4 block round trips and rejection of bad input.
#include "util/compress.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sombra/status.h"
#include "testutil/seed.h"

namespace sombra {
namespace {

constexpr size_t kPageSize = 4096;

std::string CompressiblePage() {
  std::string page;
  for (int i = 0; page.size() < kPageSize; ++i) {
    page += "key-" + std::to_string(i % 37) + "=value;";
  }
  page.resize(kPageSize);
  return page;
}

std::string RandomBytes(std::mt19937_64* rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>((*rng)() & 0xff);
  return s;
}

// Decompresses into a heap buffer of exactly out_size bytes so that any
// out-of-bounds write is caught by AddressSanitizer.
Status Decompress(const std::string& in, size_t out_size, std::string* out) {
  std::vector<char> buf(out_size);
  Status s = LZ4Decompress(in, buf.data(), out_size);
  if (s.ok()) out->assign(buf.data(), buf.size());
  return s;
}

TEST(CompressTest, RoundTripCompressiblePage) {
  const std::string page = CompressiblePage();
  std::string compressed;
  LZ4Compress(page, &compressed);
  ASSERT_FALSE(compressed.empty());
  EXPECT_LT(compressed.size(), page.size() / 2);
  EXPECT_LE(compressed.size(), LZ4CompressBound(page.size()));
  std::string out;
  ASSERT_TRUE(Decompress(compressed, page.size(), &out).ok());
  EXPECT_EQ(out, page);
}

TEST(CompressTest, RoundTripRandomBytes) {
  std::mt19937_64 rng(test::TestSeed());
  for (size_t n : {size_t{1}, size_t{15}, size_t{100}, kPageSize, size_t{65536 + 7}}) {
    const std::string input = RandomBytes(&rng, n);
    std::string compressed = "stale contents";
    LZ4Compress(input, &compressed);
    ASSERT_FALSE(compressed.empty()) << n;
    EXPECT_LE(compressed.size(), LZ4CompressBound(n)) << n;
    std::string out;
    Status s = Decompress(compressed, n, &out);
    ASSERT_TRUE(s.ok()) << n << ": " << s.ToString();
    EXPECT_EQ(out, input);
  }
}

TEST(CompressTest, RoundTripEmptyInput) {
  std::string compressed;
  LZ4Compress("", &compressed);
  ASSERT_FALSE(compressed.empty());
  std::string out = "x";
  ASSERT_TRUE(Decompress(compressed, 0, &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(CompressTest, RandomGarbageNeverCrashes) {
  std::mt19937_64 rng(test::TestSeed());
  const std::string page = CompressiblePage();
  std::string valid;
  LZ4Compress(page, &valid);
  for (int i = 0; i < 5000; ++i) {
    std::string in;
    if (i % 2 == 0) {
      in = RandomBytes(&rng, rng() % 600);
    } else {  // mutate a valid block: harder to reject than pure noise
      in = valid;
      for (int m = 0, n = 1 + static_cast<int>(rng() % 4); m < n; ++m) {
        in[rng() % in.size()] = static_cast<char>(rng() & 0xff);
      }
    }
    const size_t out_size = (rng() % 3 == 0) ? kPageSize : rng() % (2 * kPageSize);
    std::string out;
    Status s = Decompress(in, out_size, &out);
    ASSERT_TRUE(s.ok() || s.IsCorruption()) << "iteration " << i << ": " << s.ToString();
    if (s.ok()) {
      EXPECT_EQ(out.size(), out_size);
    }
  }
}

TEST(CompressTest, TruncatedInputIsCorruption) {
  const std::string page = CompressiblePage();
  std::string compressed;
  LZ4Compress(page, &compressed);
  ASSERT_GT(compressed.size(), 1u);
  for (size_t len = 0; len < compressed.size(); ++len) {
    std::string out;
    Status s = Decompress(compressed.substr(0, len), page.size(), &out);
    EXPECT_TRUE(s.IsCorruption()) << "length " << len << ": " << s.ToString();
  }
}

TEST(CompressTest, WrongOutputSizeIsCorruption) {
  const std::string page = CompressiblePage();
  std::string compressed;
  LZ4Compress(page, &compressed);
  for (size_t out_size : {size_t{0}, size_t{1}, kPageSize - 1, kPageSize + 1, 2 * kPageSize}) {
    std::string out;
    Status s = Decompress(compressed, out_size, &out);
    EXPECT_TRUE(s.IsCorruption()) << "out_size " << out_size << ": " << s.ToString();
  }
}

TEST(CompressTest, EmptyInputIsCorruption) {
  std::vector<char> buf(kPageSize);
  EXPECT_TRUE(LZ4Decompress("", buf.data(), buf.size()).IsCorruption());
  EXPECT_TRUE(LZ4Decompress(std::string_view(), buf.data(), buf.size()).IsCorruption());
  EXPECT_TRUE(LZ4Decompress("", buf.data(), 0).IsCorruption());
}

}  // namespace
}  // namespace sombra
