// The TSV escaping and the hex encoding of keys and values (cli/escape.h).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "cli/escape.h"
#include "testutil/seed.h"

namespace sombra::cli {
namespace {

using namespace std::string_literals;

TEST(CliEscapeTest, EscapesTabNewlineBackslashAndNonPrintableBytes) {
  EXPECT_EQ(Escape("plain text ~!"), "plain text ~!");
  EXPECT_EQ(Escape("a\tb\nc\\d"), "a\\tb\\nc\\\\d");
  EXPECT_EQ(Escape("\0\x01\x1f\x7f\x80\xff\r"s), "\\x00\\x01\\x1f\\x7f\\x80\\xff\\x0d");
  EXPECT_EQ(Escape(""), "");
  // A literal backslash-x stays distinguishable from an escaped byte.
  EXPECT_EQ(Escape("\\x41"), "\\\\x41");
}

TEST(CliEscapeTest, EscapedTextHoldsOnlyPrintableAscii) {
  std::string all;
  for (int b = 0; b < 256; b++) all.push_back(static_cast<char>(b));
  const std::string escaped = Escape(all);
  for (char c : escaped) {
    const auto b = static_cast<unsigned char>(c);
    EXPECT_TRUE(b >= 0x20 && b <= 0x7E) << static_cast<int>(b);
  }
  std::string back, error;
  ASSERT_TRUE(Unescape(escaped, &back, &error)) << error;
  EXPECT_EQ(back, all);
}

TEST(CliEscapeTest, UnescapeAcceptsTheDocumentedSequences) {
  std::string out, error;
  ASSERT_TRUE(Unescape("a\\tb\\nc\\rd\\\\e\\x00\\xFf\\x41", &out, &error)) << error;
  EXPECT_EQ(out, "a\tb\nc\rd\\e\0\xff"s + "A");
  ASSERT_TRUE(Unescape("", &out, &error));
  EXPECT_EQ(out, "");
}

TEST(CliEscapeTest, UnescapeRejectsBadSequences) {
  std::string out, error;
  for (const char* bad : {"\\", "abc\\", "\\q", "\\x", "\\x4", "\\xg0", "\\x0g", "\\0"}) {
    error.clear();
    EXPECT_FALSE(Unescape(bad, &out, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(CliEscapeTest, RandomBytesRoundTrip) {
  const uint64_t seed = sombra::test::TestSeed();
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 2000; i++) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xFF);
    std::string back, error;
    ASSERT_TRUE(Unescape(Escape(s), &back, &error)) << error;
    ASSERT_EQ(back, s) << "seed " << seed;
    const std::string escaped = Escape(s);
    EXPECT_EQ(escaped.find('\t'), std::string::npos);
    EXPECT_EQ(escaped.find('\n'), std::string::npos);
    ASSERT_TRUE(HexDecode(HexEncode(s), &back, &error)) << error;
    ASSERT_EQ(back, s) << "seed " << seed;
  }
}

TEST(CliEscapeTest, Hex) {
  EXPECT_EQ(HexEncode("\0\x01\xab\xff"s), "0001abff");
  EXPECT_EQ(HexEncode(""), "");
  std::string out, error;
  ASSERT_TRUE(HexDecode("00ABcdFF", &out, &error)) << error;
  EXPECT_EQ(out, "\0\xab\xcd\xff"s);
  EXPECT_FALSE(HexDecode("abc", &out, &error));
  EXPECT_FALSE(HexDecode("0x41", &out, &error));
  EXPECT_FALSE(HexDecode("zz", &out, &error));
  EXPECT_FALSE(HexDecode("41 42", &out, &error));
}

}  // namespace
}  // namespace sombra::cli
