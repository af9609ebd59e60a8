// RFC 4180 reading and writing (cli/csv.h).
#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli/csv.h"
#include "testutil/seed.h"

namespace sombra::cli {
namespace {

using namespace std::string_literals;
using Rows = std::vector<std::vector<std::string>>;

// All records of `text`; *error gets the reader's error.
Rows Parse(const std::string& text, std::string* error = nullptr) {
  std::istringstream in(text);
  CsvReader reader(in);
  Rows rows;
  std::vector<std::string> fields;
  while (reader.Next(&fields)) rows.push_back(fields);
  if (error != nullptr) *error = reader.error();
  return rows;
}

TEST(CliCsvTest, PlainFieldsAndLineEnds) {
  EXPECT_EQ(Parse("a,b\nc,d\n"), (Rows{{"a", "b"}, {"c", "d"}}));
  EXPECT_EQ(Parse("a,b\r\nc,d\r\n"), (Rows{{"a", "b"}, {"c", "d"}}));
  EXPECT_EQ(Parse("a,b\nc,d"), (Rows{{"a", "b"}, {"c", "d"}}));  // no final line end
  EXPECT_EQ(Parse("a,\n,b\n"), (Rows{{"a", ""}, {"", "b"}}));
  EXPECT_EQ(Parse(" a , b \n"), (Rows{{" a ", " b "}}));  // no trimming
  EXPECT_EQ(Parse("a,b,c\n"), (Rows{{"a", "b", "c"}}));
  EXPECT_EQ(Parse(""), Rows{});
}

TEST(CliCsvTest, EmptyLinesAreSkipped) {
  EXPECT_EQ(Parse("\n\na,b\n\r\n\nc,d\n\n"), (Rows{{"a", "b"}, {"c", "d"}}));
}

TEST(CliCsvTest, QuotedFields) {
  EXPECT_EQ(Parse("\"a,b\",\"say \"\"hi\"\"\"\n"), (Rows{{"a,b", "say \"hi\""}}));
  EXPECT_EQ(Parse("\"line1\nline2\",\"cr\r\nlf\"\n"), (Rows{{"line1\nline2", "cr\r\nlf"}}));
  EXPECT_EQ(Parse("\"\",\"\"\n"), (Rows{{"", ""}}));
  EXPECT_EQ(Parse("\"\"\"\"\n"), (Rows{{"\""}}));
  EXPECT_EQ(Parse("\"a\"\r\n"), (Rows{{"a"}}));
  // Any bytes, NUL and 0xFF included, quoted or not.
  EXPECT_EQ(Parse("\"\0\xff\",x\0y\n"s), (Rows{{"\0\xff"s, "x\0y"s}}));
}

TEST(CliCsvTest, LoneCarriageReturnIsData) {
  EXPECT_EQ(Parse("a\rb,c\n"), (Rows{{"a\rb", "c"}}));
  EXPECT_EQ(Parse("\rb,c\n"), (Rows{{"\rb", "c"}}));
}

TEST(CliCsvTest, MalformedInputSaysWhere) {
  std::string error;
  Parse("a,b\n\"open,b\n", &error);
  EXPECT_NE(error.find("line 2"), std::string::npos) << error;
  EXPECT_NE(error.find("not closed"), std::string::npos) << error;

  Parse("a,b\nc,d\"e\n", &error);
  EXPECT_NE(error.find("line 2"), std::string::npos) << error;

  Rows rows = Parse("a,b\n\"x\"y,z\n", &error);
  EXPECT_EQ(rows, (Rows{{"a", "b"}}));
  EXPECT_NE(error.find("line 2"), std::string::npos) << error;
}

TEST(CliCsvTest, ReportsTheLineARecordStartsOn) {
  std::istringstream in("\"a\nb\",c\nd,e\n");
  CsvReader reader(in);
  std::vector<std::string> fields;
  ASSERT_TRUE(reader.Next(&fields));
  EXPECT_EQ(reader.record_line(), 1u);
  ASSERT_TRUE(reader.Next(&fields));
  EXPECT_EQ(reader.record_line(), 3u);
  EXPECT_FALSE(reader.Next(&fields));
  EXPECT_EQ(reader.error(), "");
  EXPECT_EQ(reader.bytes_read(), in.str().size());
}

TEST(CliCsvTest, QuotesOnlyWhenNeeded) {
  auto quote = [](const std::string& s) {
    std::string out;
    AppendCsvField(s, &out);
    return out;
  };
  EXPECT_EQ(quote("plain"), "plain");
  EXPECT_EQ(quote(""), "\"\"");
  EXPECT_EQ(quote("a,b"), "\"a,b\"");
  EXPECT_EQ(quote("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(quote("a\rb"), "\"a\rb\"");
  EXPECT_EQ(quote("a\nb"), "\"a\nb\"");
  EXPECT_EQ(quote("\0\xff"s), "\0\xff"s);
}

TEST(CliCsvTest, RandomFieldsRoundTrip) {
  const uint64_t seed = sombra::test::TestSeed();
  std::mt19937_64 rng(seed);
  const std::string alphabet = "ab,\"\r\n \t\0\xff"s;
  Rows rows;
  std::string text;
  for (int i = 0; i < 500; i++) {
    std::vector<std::string> row(1 + rng() % 3);
    for (size_t f = 0; f < row.size(); f++) {
      row[f].resize(rng() % 6);
      for (char& c : row[f]) c = alphabet[rng() % alphabet.size()];
      if (f > 0) text.push_back(',');
      AppendCsvField(row[f], &text);
    }
    text.push_back('\n');
    rows.push_back(row);
  }
  std::string error;
  EXPECT_EQ(Parse(text, &error), rows) << "seed " << seed;
  EXPECT_EQ(error, "");
}

}  // namespace
}  // namespace sombra::cli
