// Records as text: the dump/load formats (cli/record_io.h).
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli/record_io.h"

namespace sombra::cli {
namespace {

using namespace std::string_literals;
using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs ReadAll(const std::string& text, Format format, bool hex, std::string* error) {
  std::istringstream in(text);
  RecordReader reader(in, format, hex);
  Pairs out;
  std::string k, v;
  while (reader.Next(&k, &v)) out.emplace_back(k, v);
  *error = reader.error();
  return out;
}

std::string WriteAll(const Pairs& pairs, Format format, bool hex) {
  std::string out;
  for (const auto& [k, v] : pairs) AppendRecord(format, hex, k, v, false, &out);
  return out;
}

const Pairs kAwkward = {
    {"\0"s, "nul key"}, {"a\tb", "tab\tvalue"}, {"a\nb", "\n"},        {"\\", "\\\\"},
    {"\xff\xfe"s, ""},  {"\r", "x\r\n"},        {"\\x41", "\\t"},      {"k,\"q\"", "v,\"w\""},
    {"plain", "text"},  {" sp ", " "},          {"\x7f\x80"s, "\x01"},
};

TEST(CliRecordTest, TsvWritesOneEscapedLinePerRecord) {
  EXPECT_EQ(WriteAll({{"a\tb", "x\ny"}, {"\xff"s, "\\"}}, Format::kTsv, false),
            "a\\tb\tx\\ny\n\\xff\t\\\\\n");
  std::string keys_only;
  AppendRecord(Format::kTsv, false, "k\t", "ignored", true, &keys_only);
  EXPECT_EQ(keys_only, "k\\t\n");
  std::string hex;
  AppendRecord(Format::kTsv, true, "AB", "\0"s, false, &hex);
  EXPECT_EQ(hex, "4142\t00\n");
}

TEST(CliRecordTest, EveryFormatRoundTripsAwkwardBytes) {
  for (Format format : {Format::kTsv, Format::kCsv}) {
    for (bool hex : {false, true}) {
      std::string error;
      const std::string text = WriteAll(kAwkward, format, hex);
      EXPECT_EQ(ReadAll(text, format, hex, &error), kAwkward)
          << "csv=" << (format == Format::kCsv) << " hex=" << hex;
      EXPECT_EQ(error, "");
    }
  }
}

TEST(CliRecordTest, TsvToleratesCrLfAndEmptyLines) {
  std::string error;
  EXPECT_EQ(ReadAll("a\t1\r\n\n\r\nb\t2", Format::kTsv, false, &error),
            (Pairs{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(error, "");
  EXPECT_EQ(ReadAll("a\t\n", Format::kTsv, false, &error), (Pairs{{"a", ""}}));
}

TEST(CliRecordTest, TsvErrorsNameTheLine) {
  std::string error;
  Pairs got = ReadAll("a\t1\nb\t2\nno tab here\nc\t3\n", Format::kTsv, false, &error);
  EXPECT_EQ(got, (Pairs{{"a", "1"}, {"b", "2"}}));
  EXPECT_NE(error.find("line 3"), std::string::npos) << error;
  EXPECT_NE(error.find("no tab"), std::string::npos) << error;

  ReadAll("a\t1\tx\n", Format::kTsv, false, &error);
  EXPECT_NE(error.find("line 1: more than one tab"), std::string::npos) << error;

  ReadAll("a\t1\n\nb\\q\t2\n", Format::kTsv, false, &error);
  EXPECT_NE(error.find("line 3: key: unknown escape"), std::string::npos) << error;

  ReadAll("00\tzz\n", Format::kTsv, true, &error);
  EXPECT_NE(error.find("line 1: value:"), std::string::npos) << error;
}

TEST(CliRecordTest, CsvNeedsTwoFields) {
  std::string error;
  ReadAll("a,1\nb\n", Format::kCsv, false, &error);
  EXPECT_NE(error.find("line 2: expected 2 comma-separated fields, found 1"), std::string::npos)
      << error;
  ReadAll("a,1,2\n", Format::kCsv, false, &error);
  EXPECT_NE(error.find("found 3"), std::string::npos) << error;
}

TEST(CliRecordTest, CountsBytesRead) {
  const std::string text = "a\t1\nbb\t22\n";
  std::istringstream in(text);
  RecordReader reader(in, Format::kTsv, false);
  std::string k, v;
  ASSERT_TRUE(reader.Next(&k, &v));
  EXPECT_EQ(reader.bytes_read(), 4u);
  ASSERT_TRUE(reader.Next(&k, &v));
  EXPECT_EQ(reader.bytes_read(), text.size());
  EXPECT_EQ(reader.line(), 2u);
}

}  // namespace
}  // namespace sombra::cli
