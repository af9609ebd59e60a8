// Leaf record encoding (docs/format/page.md, "Leaf record"), KeyHead and
// ShortestSeparator. Random cases are seeded from sombra::test::TestSeed();
// replay with SOMBRA_SEED.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "btree/leaf_allocator.h"
#include "btree/node_format.h"
#include "leaf_test_util.h"
#include "testutil/seed.h"
#include "util/coding.h"

namespace sombra::btree {
namespace {

bool Decode(const std::string& bytes, LeafRecordRef* out) {
  return DecodeLeafRecord(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), out);
}

TEST(LeafRecordTest, InlineRoundTrip) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  // Lengths around the varint boundaries, then random ones.
  const size_t lengths[] = {0, 1, 63, 64, 127, 128, 1000, 8191, 8192, 16383, 16384, 20000};
  for (size_t kl : {0, 1, 4, 127, 128, 1024}) {
    for (size_t vl : lengths) {
      const std::string key = test::RandomBytes(rng, kl);
      const std::string value = test::RandomBytes(rng, vl);
      const std::string rec = EncodeLeafRecord(key, value);
      EXPECT_EQ(rec.size(), size_t(VarintLength(kl) + VarintLength(vl << 1)) + kl + vl);
      LeafRecordRef r;
      ASSERT_TRUE(Decode(rec, &r)) << kl << " " << vl;
      EXPECT_EQ(r.key, key);
      EXPECT_EQ(r.value, value);
      EXPECT_FALSE(r.overflow);
      EXPECT_EQ(r.encoded.size(), rec.size());
      EXPECT_EQ(static_cast<const void*>(r.encoded.data()), static_cast<const void*>(rec.data()));
    }
  }
}

TEST(LeafRecordTest, ExactBytes) {
  // "cat" -> "meow": key length 3, value code 4 << 1 = 8.
  EXPECT_EQ(EncodeLeafRecord("cat", "meow"), std::string("\x03\x08"
                                                         "catmeow",
                                                         9));
  // Overflow: code (12 << 1) | 1 = 25, then u32 page, u64 length.
  EXPECT_EQ(EncodeOverflowRecord("k", 0x01020304, 0x1122334455667788ull),
            std::string("\x01\x19k\x04\x03\x02\x01\x88\x77\x66\x55\x44\x33\x22\x11", 15));
}

TEST(LeafRecordTest, OverflowRoundTrip) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  for (int i = 0; i < 200; ++i) {
    const std::string key = test::RandomBytes(rng, rng() % 300);
    const auto first = static_cast<uint32_t>(rng());
    const uint64_t len = rng() >> (rng() % 64);
    const std::string rec = EncodeOverflowRecord(key, first, len);
    LeafRecordRef r;
    ASSERT_TRUE(Decode(rec, &r));
    EXPECT_TRUE(r.overflow);
    EXPECT_EQ(r.key, key);
    ASSERT_EQ(r.value.size(), kOverflowRefSize);
    uint32_t got_first = 0;
    uint64_t got_len = 0;
    DecodeOverflowRef(r.value, &got_first, &got_len);
    EXPECT_EQ(got_first, first);
    EXPECT_EQ(got_len, len);
  }
}

TEST(LeafRecordTest, MalformedRejected) {
  const std::string good = EncodeLeafRecord("key", std::string(200, 'v'));  // 2-byte code
  LeafRecordRef r;
  ASSERT_TRUE(Decode(good, &r));
  // Every proper prefix is malformed, and so is a trailing byte.
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(DecodeLeafRecord(reinterpret_cast<const uint8_t*>(good.data()), n, &r)) << n;
  }
  EXPECT_FALSE(Decode(good + "x", &r));

  // Overflow code with another length.
  std::string bad;
  PutVarint32(&bad, 1);
  PutVarint32(&bad, (11 << 1) | 1);
  bad += "k" + std::string(11, '\0');
  EXPECT_FALSE(Decode(bad, &r));
  // Overflow record with 11 or 13 reference bytes.
  const std::string ovf = EncodeOverflowRecord("k", 7, 9);
  ASSERT_TRUE(Decode(ovf, &r));
  EXPECT_FALSE(Decode(ovf.substr(0, ovf.size() - 1), &r));
  EXPECT_FALSE(Decode(ovf + "z", &r));
  // Non-canonical varints: 0x83 0x00 is 3 in two bytes.
  EXPECT_FALSE(Decode(std::string("\x83\x00\x02"
                                  "abcx",
                                  7),
                      &r));
  EXPECT_FALSE(Decode(std::string("\x03\x82\x00"
                                  "abcx",
                                  7),
                      &r));
  // Varint longer than 5 bytes.
  EXPECT_FALSE(Decode(std::string("\xff\xff\xff\xff\xff\x01\x00", 7), &r));
  // Key length past the end; huge value length.
  EXPECT_FALSE(Decode(std::string("\x09\x00"
                                  "abc",
                                  5),
                      &r));
  EXPECT_FALSE(Decode(std::string("\x01\xfe\xff\xff\xff\x0f"
                                  "a",
                                  7),
                      &r));
  // Empty input.
  EXPECT_FALSE(DecodeLeafRecord(nullptr, 0, &r));
}

TEST(LeafRecordTest, RandomBytesNeverMisdecode) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  for (int i = 0; i < 20000; ++i) {
    // Heap buffer of the exact size: ASan reports any read past it.
    const std::string s = test::RandomBytes(rng, rng() % 24);
    std::vector<uint8_t> buf(s.begin(), s.end());
    LeafRecordRef r;
    if (DecodeLeafRecord(buf.data(), buf.size(), &r)) {
      // Whatever decodes re-encodes to the same bytes.
      std::string again = r.overflow ? std::string() : EncodeLeafRecord(r.key, r.value);
      if (r.overflow) {
        uint32_t first;
        uint64_t len;
        DecodeOverflowRef(r.value, &first, &len);
        again = EncodeOverflowRecord(r.key, first, len);
      }
      EXPECT_EQ(again, s);
    }
  }
}

// The inline one-byte-header path of DecodeLeafRecord gives exactly what
// the full decoder gives, for every pair of first bytes and every size up
// to past the largest one-byte record (2 + 127 + 63): same verdict, same
// key, value and kind.
TEST(LeafRecordTest, FastPathAgreesWithTheFullDecoder) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  const std::string tail = test::RandomBytes(rng, 200);
  for (int b0 = 0; b0 < 256; ++b0) {
    for (int b1 = 0; b1 < 256; ++b1) {
      for (size_t size = 0; size <= 202; ++size) {
        std::vector<uint8_t> buf(size);
        if (size > 0) buf[0] = static_cast<uint8_t>(b0);
        if (size > 1) buf[1] = static_cast<uint8_t>(b1);
        for (size_t i = 2; i < size; ++i) buf[i] = static_cast<uint8_t>(tail[i - 2]);
        LeafRecordRef fast, full;
        const bool f = DecodeLeafRecord(buf.data(), size, &fast);
        const bool g = DecodeLeafRecordSlow(buf.data(), size, &full);
        ASSERT_EQ(f, g) << b0 << " " << b1 << " size " << size;
        if (!f) continue;
        ASSERT_EQ(fast.key, full.key);
        ASSERT_EQ(fast.value, full.value);
        ASSERT_EQ(fast.overflow, full.overflow);
        ASSERT_EQ(fast.encoded, full.encoded);
      }
    }
  }
}

std::string HexOf(const std::string& s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

TEST(KeyHeadTest, Examples) {
  EXPECT_EQ(KeyHead(""), 0u);
  EXPECT_EQ(KeyHead(std::string(3, '\0')), 0u);  // zero bytes only
  EXPECT_EQ(KeyHead("a"), 0xff610000u);
  EXPECT_EQ(KeyHead("abcdef"), 0xff616263u);
  EXPECT_EQ(KeyHead(std::string("\0\0\x01\x02\x03\x04", 6)), 0xfd010203u);
  // Big-endian 8-byte integers: the significant bytes make the head.
  EXPECT_EQ(KeyHead(std::string("\0\0\0\0\0\x0f\x42\x40", 8)), 0xfa0f4240u);
  EXPECT_NE(KeyHead(std::string("\0\0\0\0\0\0\x01\x00", 8)),
            KeyHead(std::string("\0\0\0\0\0\0\x01\x01", 8)));
  // Runs of 254 or more zeros share the top byte; the bytes at 254.. follow.
  EXPECT_EQ(KeyHead(std::string(300, '\0') + "x") >> 24, 1u);
  EXPECT_EQ(KeyHead(std::string(254, '\0') + "xyz"), 0x0178797au);
}

TEST(KeyHeadTest, PreservesOrder) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  for (int i = 0; i < 50000; ++i) {
    std::string a = test::RandomKey(rng, 0, 6, 3);
    std::string b = test::RandomKey(rng, 0, 6, 3);
    // Leading zero runs of every length, and keys of zeros only.
    if (rng() % 2 == 0) a.insert(0, rng() % 8, '\0');
    if (rng() % 2 == 0) b.insert(0, rng() % 8, '\0');
    if (rng() % 16 == 0) a.assign(rng() % 4, '\0');
    if (rng() % 64 == 0) b.insert(0, 250 + rng() % 10, '\0');
    if (!a.empty() && rng() % 4 == 0) a[rng() % a.size()] = '\0';
    if (a > b) std::swap(a, b);
    EXPECT_LE(KeyHead(a), KeyHead(b)) << HexOf(a) << " " << HexOf(b);
  }
}

TEST(ShortestSeparatorTest, Examples) {
  EXPECT_EQ(ShortestSeparator("abc", "abd"), "abd");
  EXPECT_EQ(ShortestSeparator("ab", "abc"), "abc");
  EXPECT_EQ(ShortestSeparator("", "a"), "a");
  EXPECT_EQ(ShortestSeparator("", "abc"), "a");
  EXPECT_EQ(ShortestSeparator("apple", "banana"), "b");
  EXPECT_EQ(ShortestSeparator("abcz", "abd"), "abd");
  EXPECT_EQ(ShortestSeparator("abc", "abcdef"), "abcd");
  EXPECT_EQ(ShortestSeparator(std::string("a\xff", 2), "b"), "b");
  EXPECT_EQ(ShortestSeparator(std::string("a", 1), std::string("a\0", 2)), std::string("a\0", 2));
  EXPECT_EQ(ShortestSeparator(std::string(1000, 'x') + "a", std::string(1000, 'x') + "b"),
            std::string(1000, 'x') + "b");
}

TEST(ShortestSeparatorTest, RandomPairs) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  for (int i = 0; i < 20000; ++i) {
    std::string a = test::RandomKey(rng, 0, 12, 1 + static_cast<int>(rng() % 3));
    std::string b = test::RandomKey(rng, 0, 12, 1 + static_cast<int>(rng() % 3));
    if (a == b) continue;
    if (a > b) std::swap(a, b);
    const std::string s = ShortestSeparator(a, b);
    EXPECT_LT(a, s);
    EXPECT_LE(s, b);
    EXPECT_EQ(b.compare(0, s.size(), s), 0) << "a prefix of right_min";
    // The shortest: one byte less is not above a.
    EXPECT_LE(s.substr(0, s.size() - 1), a);
  }
}

}  // namespace
}  // namespace sombra::btree
