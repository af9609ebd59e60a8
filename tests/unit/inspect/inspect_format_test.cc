// The hex dump and JSON writer used by sombra-inspect.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "inspect/hex_dump.h"
#include "inspect/json_writer.h"
#include "inspect_test_util.h"

namespace sombra::inspect::test {
namespace {

using Lines = std::vector<std::string>;

TEST(HexDumpTest, ShortLastLineIsPadded) {
  const std::string data = "Sombra hex dump, 40 bytes of it: \x01\x02\x7f\x80\xff!!";
  ASSERT_EQ(data.size(), 40u);
  EXPECT_EQ(HexDumpLines(reinterpret_cast<const uint8_t*>(data.data()), data.size()),
            (Lines{
                "00000000  53 6f 6d 62 72 61 20 68  65 78 20 64 75 6d 70 2c  |Sombra hex dump,|",
                "00000010  20 34 30 20 62 79 74 65  73 20 6f 66 20 69 74 3a  | 40 bytes of it:|",
                "00000020  20 01 02 7f 80 ff 21 21                           | .....!!|",
                "00000028",
            }));
}

TEST(HexDumpTest, CollapsesRunsOfZeroLines) {
  std::vector<uint8_t> data(96, 0);
  data[70] = 'A';  // line 4 of 6
  EXPECT_EQ(HexDumpLines(data.data(), data.size()),
            (Lines{
                "00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|",
                "*",
                "00000040  00 00 00 00 00 00 41 00  00 00 00 00 00 00 00 00  |......A.........|",
                "00000050  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|",
                "00000060",
            }));
}

TEST(HexDumpTest, IdenticalNonZeroLinesAreKept) {
  std::vector<uint8_t> data(32, 0xAB);
  Lines lines = HexDumpLines(data.data(), data.size());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].substr(0, 10), "00000010  ");
}

TEST(HexDumpTest, Empty) { EXPECT_EQ(HexDumpLines(nullptr, 0), Lines{"00000000"}); }

TEST(JsonTest, QuoteEscapes) {
  EXPECT_EQ(JsonQuote("plain"), "\"plain\"");
  EXPECT_EQ(JsonQuote("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
  EXPECT_EQ(JsonQuote("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(JsonQuote(std::string("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(JsonQuote(std::string("nul\0byte", 8)), "\"nul\\u0000byte\"");
  // Valid UTF-8 passes through; stray bytes become code points U+0080..FF.
  EXPECT_EQ(JsonQuote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(JsonQuote("\xff\xc3"), "\"\\u00ff\\u00c3\"");
  EXPECT_EQ(JsonQuote("\xc0\xaf"), "\"\\u00c0\\u00af\"");             // overlong '/'
  EXPECT_EQ(JsonQuote("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\"");  // surrogate
}

TEST(JsonTest, AnyBytesGiveValidJson) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  std::string why;
  EXPECT_TRUE(IsValidJson(JsonQuote(all), &why)) << why;
}

TEST(JsonTest, WriterNestsAndSeparates) {
  std::ostringstream out;
  JsonWriter json(out);
  json.BeginObject();
  json.Field("a", uint64_t{1});
  json.Key("list");
  json.BeginArray();
  json.Uint(18446744073709551615u);
  json.String("x");
  json.Bool(false);
  json.Null();
  json.BeginObject();
  json.EndObject();
  json.BeginArray();
  json.EndArray();
  json.EndArray();
  json.BoolField("b", true);
  json.Field("s", "q\"");
  json.EndObject();
  EXPECT_TRUE(json.Complete());
  EXPECT_EQ(out.str(),
            "{\"a\":1,\"list\":[18446744073709551615,\"x\",false,null,{},[]],\"b\":true,"
            "\"s\":\"q\\\"\"}");
  std::string why;
  EXPECT_TRUE(IsValidJson(out.str(), &why)) << why;
}

TEST(JsonTest, CheckerRejectsBrokenJson) {
  // The checker the other tests rely on does reject bad input.
  for (const char* bad : {"", "{", "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "\"\x01\"", "01",
                          "{\"a\":1}}", "tru", "\"\\x\""}) {
    EXPECT_FALSE(IsValidJson(bad, nullptr)) << bad;
  }
  EXPECT_TRUE(IsValidJson("{\"a\":[1,true,null,\"\\u00e9\"]}\n", nullptr));
}

}  // namespace
}  // namespace sombra::inspect::test
