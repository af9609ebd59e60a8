// Tests of util/coding: fixed-width and varint encodings and the Decoder.
#include "util/coding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "testutil/seed.h"

namespace sombra {
namespace {

const uint8_t* Bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

TEST(CodingTest, FixedLittleEndianByteOrder) {
  uint8_t buf[8];
  EncodeFixed16(buf, 0x0201);
  EXPECT_EQ(buf[0], 0x01);
  EXPECT_EQ(buf[1], 0x02);
  EncodeFixed32(buf, 0x04030201);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(buf[i], i + 1) << "byte " << i;
  EncodeFixed64(buf, 0x0807060504030201ULL);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(buf[i], i + 1) << "byte " << i;

  std::string s;
  PutFixed32(&s, 0x04030201);
  EXPECT_EQ(s, std::string("\x01\x02\x03\x04", 4));
  PutFixed16(&s, 0xBEEF);
  PutFixed64(&s, 0x0807060504030201ULL);
  EXPECT_EQ(s, std::string("\x01\x02\x03\x04\xEF\xBE\x01\x02\x03\x04\x05\x06\x07\x08", 14));
}

TEST(CodingTest, FixedRoundTrip) {
  std::mt19937_64 rng(test::TestSeed());
  std::vector<uint64_t> values = {
      0, 1, 0xFF, 0x100, 0xFFFF, 0x10000, UINT32_MAX, uint64_t{UINT32_MAX} + 1, UINT64_MAX};
  for (int i = 0; i < 1000; ++i) values.push_back(rng());
  uint8_t buf[8];
  std::string s;
  for (uint64_t v : values) {
    EncodeFixed16(buf, static_cast<uint16_t>(v));
    EXPECT_EQ(DecodeFixed16(buf), static_cast<uint16_t>(v));
    EncodeFixed32(buf, static_cast<uint32_t>(v));
    EXPECT_EQ(DecodeFixed32(buf), static_cast<uint32_t>(v));
    EncodeFixed64(buf, v);
    EXPECT_EQ(DecodeFixed64(buf), v);
    PutFixed16(&s, static_cast<uint16_t>(v));
    PutFixed32(&s, static_cast<uint32_t>(v));
    PutFixed64(&s, v);
  }
  Decoder d(s);
  for (uint64_t v : values) {
    uint16_t a;
    uint32_t b;
    uint64_t c;
    ASSERT_TRUE(d.GetFixed16(&a));
    ASSERT_TRUE(d.GetFixed32(&b));
    ASSERT_TRUE(d.GetFixed64(&c));
    EXPECT_EQ(a, static_cast<uint16_t>(v));
    EXPECT_EQ(b, static_cast<uint32_t>(v));
    EXPECT_EQ(c, v);
  }
  EXPECT_EQ(d.remaining(), 0u);
}

std::vector<uint64_t> VarintValues() {
  std::mt19937_64 rng(test::TestSeed());
  std::vector<uint64_t> v = {0,
                             1,
                             127,
                             128,
                             (1u << 14) - 1,
                             1u << 14,
                             UINT32_MAX,
                             uint64_t{UINT32_MAX} + 1,
                             UINT64_MAX - 1,
                             UINT64_MAX};
  for (int i = 0; i < 1000; ++i) v.push_back(rng() >> (rng() % 64));  // all lengths
  return v;
}

TEST(CodingTest, Varint64RoundTripAndLength) {
  const std::vector<uint64_t> values = VarintValues();
  std::string s;
  for (uint64_t v : values) {
    uint8_t buf[kMaxVarint64Bytes];
    uint8_t* end = EncodeVarint64(buf, v);
    EXPECT_EQ(end - buf, VarintLength(v)) << v;
    size_t before = s.size();
    PutVarint64(&s, v);
    EXPECT_EQ(s.size() - before, static_cast<size_t>(VarintLength(v))) << v;
  }
  EXPECT_EQ(VarintLength(0), 1);
  EXPECT_EQ(VarintLength(127), 1);
  EXPECT_EQ(VarintLength(128), 2);
  EXPECT_EQ(VarintLength((1u << 14) - 1), 2);
  EXPECT_EQ(VarintLength(1u << 14), 3);
  EXPECT_EQ(VarintLength(UINT32_MAX), kMaxVarint32Bytes);
  EXPECT_EQ(VarintLength(UINT64_MAX), kMaxVarint64Bytes);
  Decoder d(s);
  for (uint64_t v : values) {
    uint64_t got = ~v;
    ASSERT_TRUE(d.GetVarint64(&got)) << v;
    EXPECT_EQ(got, v);
  }
  EXPECT_EQ(d.remaining(), 0u);
}

TEST(CodingTest, Varint32RoundTrip) {
  std::string s;
  std::vector<uint32_t> values;
  for (uint64_t v : VarintValues()) values.push_back(static_cast<uint32_t>(v));
  for (uint32_t v : values) {
    uint8_t buf[kMaxVarint32Bytes];
    EXPECT_EQ(EncodeVarint32(buf, v) - buf, VarintLength(v)) << v;
    PutVarint32(&s, v);
  }
  Decoder d(s);
  for (uint32_t v : values) {
    uint32_t got = ~v;
    ASSERT_TRUE(d.GetVarint32(&got)) << v;
    EXPECT_EQ(got, v);
  }
  EXPECT_EQ(d.remaining(), 0u);
}

TEST(CodingTest, EveryTruncatedVarintPrefixFails) {
  for (uint64_t v : {uint64_t{128}, uint64_t{1} << 14, uint64_t{UINT32_MAX}, UINT64_MAX}) {
    std::string s;
    PutVarint64(&s, v);
    for (size_t len = 0; len < s.size(); ++len) {
      uint64_t v64 = 0;
      EXPECT_EQ(DecodeVarint64(Bytes(s), Bytes(s) + len, &v64), nullptr) << v << " " << len;
      uint32_t v32 = 0;
      EXPECT_EQ(DecodeVarint32(Bytes(s), Bytes(s) + len, &v32), nullptr) << v << " " << len;
      Decoder d(Bytes(s), len);
      EXPECT_FALSE(d.GetVarint64(&v64));
      EXPECT_FALSE(d.GetVarint32(&v32));
      EXPECT_EQ(d.remaining(), len);
    }
  }
}

TEST(CodingTest, Varint32RejectsValuesAbove32Bits) {
  for (uint64_t v : {uint64_t{UINT32_MAX} + 1, uint64_t{1} << 34, UINT64_MAX}) {
    std::string s;
    PutVarint64(&s, v);
    uint32_t v32 = 7;
    EXPECT_EQ(DecodeVarint32(Bytes(s), Bytes(s) + s.size(), &v32), nullptr) << v;
    Decoder d(s);
    EXPECT_FALSE(d.GetVarint32(&v32));
    EXPECT_EQ(v32, 7u);
    EXPECT_EQ(d.remaining(), s.size());
  }
}

TEST(CodingTest, Varint64RejectsOverlongEncodings) {
  // 11 bytes: ten continuation bytes and a terminator.
  std::string eleven(10, '\x80');
  eleven.push_back('\x00');
  uint64_t v = 0;
  EXPECT_EQ(DecodeVarint64(Bytes(eleven), Bytes(eleven) + eleven.size(), &v), nullptr);
  // 10 bytes whose last byte carries more than the 64th bit.
  for (int last = 2; last < 0x80; ++last) {
    std::string ten(9, '\xff');
    ten.push_back(static_cast<char>(last));
    EXPECT_EQ(DecodeVarint64(Bytes(ten), Bytes(ten) + ten.size(), &v), nullptr) << last;
    Decoder d(ten);
    EXPECT_FALSE(d.GetVarint64(&v));
    EXPECT_EQ(d.remaining(), 10u);
  }
  // The largest legal 10-byte varint decodes to UINT64_MAX.
  std::string max(9, '\xff');
  max.push_back('\x01');
  ASSERT_NE(DecodeVarint64(Bytes(max), Bytes(max) + max.size(), &v), nullptr);
  EXPECT_EQ(v, UINT64_MAX);
}

TEST(CodingTest, ShortFixedReadsLeaveDecoderUnchanged) {
  const std::string s("\x01\x02\x03\x04\x05\x06\x07", 7);
  uint16_t v16 = 0;
  uint32_t v32 = 0;
  uint64_t v64 = 0;
  EXPECT_FALSE(Decoder(Bytes(s), 1).GetFixed16(&v16));
  EXPECT_FALSE(Decoder(Bytes(s), 0).GetFixed16(&v16));
  Decoder d3(Bytes(s), 3);
  EXPECT_FALSE(d3.GetFixed32(&v32));
  EXPECT_EQ(d3.remaining(), 3u);
  Decoder d7(s);
  EXPECT_FALSE(d7.GetFixed64(&v64));
  EXPECT_EQ(d7.remaining(), 7u);
  EXPECT_EQ(d7.position(), Bytes(s));
  EXPECT_EQ(v16, 0u);
  EXPECT_EQ(v32, 0u);
  EXPECT_EQ(v64, 0u);
  // After the failures the same decoder still reads what is there.
  ASSERT_TRUE(d7.GetFixed32(&v32));
  EXPECT_EQ(v32, 0x04030201u);
  EXPECT_FALSE(d7.GetFixed32(&v32));
  EXPECT_EQ(d7.remaining(), 3u);
}

TEST(CodingTest, GetBytesAndSkipBounds) {
  const std::string s("abcdef");
  Decoder d(s);
  std::string_view out;
  EXPECT_FALSE(d.GetBytes(7, &out));
  EXPECT_EQ(d.remaining(), 6u);
  ASSERT_TRUE(d.GetBytes(2, &out));
  EXPECT_EQ(out, "ab");
  EXPECT_FALSE(d.Skip(5));
  EXPECT_EQ(d.remaining(), 4u);
  ASSERT_TRUE(d.Skip(1));
  ASSERT_TRUE(d.GetBytes(3, &out));
  EXPECT_EQ(out, "def");
  EXPECT_EQ(d.remaining(), 0u);
  EXPECT_TRUE(d.GetBytes(0, &out));
  EXPECT_TRUE(d.Skip(0));
  EXPECT_FALSE(d.Skip(1));
  EXPECT_FALSE(d.GetBytes(SIZE_MAX, &out));
  EXPECT_FALSE(d.Skip(SIZE_MAX));
}

}  // namespace
}  // namespace sombra
