// Tests of util/hash: properties of the seeded XXH3-64 wrapper.
#include "util/hash.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "testutil/seed.h"

namespace sombra {
namespace {

std::string RandomBytes(std::mt19937_64* rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>((*rng)() & 0xff);
  return s;
}

// Lengths that cross XXH3's internal size classes (0, 1-3, 4-8, 9-16,
// 17-128, 129-240, > 240 and multi-stripe/multi-block inputs).
constexpr size_t kLengths[] = {0, 1, 3, 4, 8, 9, 16, 17, 128, 129, 240, 241, 1024, 4096, 70000};

TEST(HashTest, Deterministic) {
  std::mt19937_64 rng(test::TestSeed());
  for (size_t n : kLengths) {
    std::string s = RandomBytes(&rng, n);
    uint64_t seed = rng();
    const std::string copy = s;  // a different buffer with the same bytes
    EXPECT_EQ(Hash64(s, seed), Hash64(copy, seed)) << n;
    EXPECT_EQ(Hash64(s.data(), s.size(), seed), Hash64(s, seed)) << n;
  }
}

TEST(HashTest, SeedChangesResult) {
  std::mt19937_64 rng(test::TestSeed());
  for (size_t n : kLengths) {
    std::string s = RandomBytes(&rng, n);
    EXPECT_NE(Hash64(s, 0), Hash64(s, 1)) << n;
    uint64_t a = rng();
    EXPECT_NE(Hash64(s, a), Hash64(s, a ^ 0x8000000000000000ULL)) << n;
  }
}

TEST(HashTest, OneBitFlipChangesResult) {
  std::mt19937_64 rng(test::TestSeed());
  for (size_t n : kLengths) {
    if (n == 0) continue;
    std::string s = RandomBytes(&rng, n);
    const uint64_t seed = rng();
    const uint64_t base = Hash64(s, seed);
    // Every bit of short inputs; a sample of bits of long ones.
    const size_t bits = n * 8;
    const size_t trials = bits <= 2048 ? bits : 256;
    for (size_t t = 0; t < trials; ++t) {
      size_t bit = bits <= 2048 ? t : rng() % bits;
      s[bit / 8] = static_cast<char>(s[bit / 8] ^ (1 << (bit % 8)));
      EXPECT_NE(Hash64(s, seed), base) << "length " << n << " bit " << bit;
      s[bit / 8] = static_cast<char>(s[bit / 8] ^ (1 << (bit % 8)));
    }
    EXPECT_EQ(Hash64(s, seed), base);
  }
}

TEST(HashTest, PairEqualsHashOfConcatenation) {
  std::mt19937_64 rng(test::TestSeed());
  for (size_t n : kLengths) {
    std::string s = RandomBytes(&rng, n);
    const uint64_t seed = rng();
    const uint64_t whole = Hash64(s, seed);
    // Split points at both ends, in the middle and at random places.
    std::vector<size_t> splits = {0, n / 2, n};
    if (n > 0) {
      for (int i = 0; i < 8; ++i) splits.push_back(rng() % (n + 1));
    }
    for (size_t k : splits) {
      EXPECT_EQ(Hash64Pair(s.data(), k, s.data() + k, n - k, seed), whole)
          << "length " << n << " split " << k;
    }
  }
  // Header + body, the way page checksums use it.
  const std::string header = "hdr:";
  const std::string body = "payload";
  EXPECT_EQ(Hash64Pair(header.data(), header.size(), body.data(), body.size(), 7),
            Hash64(header + body, 7));
  EXPECT_NE(Hash64Pair(header.data(), header.size(), body.data(), body.size(), 7),
            Hash64Pair(body.data(), body.size(), header.data(), header.size(), 7));
}

}  // namespace
}  // namespace sombra
