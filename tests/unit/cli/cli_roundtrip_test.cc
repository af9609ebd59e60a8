// dump | load copies any bytes; CSV loading with quoted fields.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "cli/escape.h"
#include "cli_run.h"
#include "testutil/temp_dir.h"

namespace sombra::cli::test {
namespace {

using namespace std::string_literals;
using sombra::test::TempDir;
using sombra::test::WriteFileOrDie;

std::map<std::string, std::string> AwkwardRecords() {
  std::map<std::string, std::string> m = {
      {"\0"s, "nul"},
      {"a\0b"s, "inner\0nul"s},
      {"\t", "tab"},
      {"\n", "newline\n"},
      {"\\", "backslash\\"},
      {"\\x41", "not an escape: \\x41 \\t"},
      {"\xff"s, "\xff\xff\xff"s},
      {"\xff\x00\xff"s, ""},
      {"\r", "cr\r"},
      {"x\r\n", "crlf\r\n"},
      {"k\t\n\\\xff\x01", "all\t\n\\\xff\x01 at once"s},
      {"comma,\"quote\"", "v,\"w\",x"},
      {"plain", "text"},
      {" ", " "},
      {"\x7f\x80\x9f", "\x1b[31mred\x1b[0m"},
  };
  std::string big(200000, '\0');
  for (size_t i = 0; i < big.size(); i++) big[i] = static_cast<char>(i * 131 % 256);
  m["big"] = big;
  return m;
}

TEST(CliRoundTripTest, DumpIntoLoadCopiesBinaryKeysAndValues) {
  TempDir dir;
  const auto records = AwkwardRecords();
  std::string input;
  for (const auto& [k, v] : records) input += HexEncode(k) + "\t" + HexEncode(v) + "\n";
  WriteFileOrDie(dir.File("in.hex"), input);
  RunResult r = RunSombra(dir.path(), {"load", "a", "--hex"}, "in.hex");
  ASSERT_EQ(r.code, 0) << r.err;

  RunResult dump_a = RunSombra(dir.path(), {"dump", "a"});
  ASSERT_EQ(dump_a.code, 0) << dump_a.err;
  EXPECT_EQ(CountLines(dump_a.out), records.size());
  // One tab per line and nothing outside printable ASCII but tab and newline.
  size_t tabs = 0;
  for (char c : dump_a.out) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '\t') tabs++;
    EXPECT_TRUE(c == '\t' || c == '\n' || (b >= 0x20 && b <= 0x7E)) << static_cast<int>(b);
  }
  EXPECT_EQ(tabs, records.size());

  r = RunShell(dir.path(), SombraCommand({"dump", "a"}) + " | " + SombraCommand({"load", "b"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  RunResult dump_b = RunSombra(dir.path(), {"dump", "b"});
  EXPECT_TRUE(dump_b.out == dump_a.out) << "dump of the copy differs";
  for (const auto& [k, v] : records) {
    r = RunSombra(dir.path(), {"get", "b", "--hex", HexEncode(k)});
    EXPECT_EQ(r.code, 0) << Escape(k) << ": " << r.err;
    EXPECT_TRUE(r.out == HexEncode(v) + "\n") << Escape(k);
  }
  // The hex dump of the copy is the hex input.
  r = RunSombra(dir.path(), {"dump", "b", "--hex"});
  EXPECT_TRUE(r.out == input);

  // The same through CSV.
  r = RunShell(dir.path(), SombraCommand({"dump", "a", "--format", "csv"}) + " | " +
                               SombraCommand({"load", "c", "--format=csv"}));
  ASSERT_EQ(r.code, 0) << r.err;
  RunResult dump_c = RunSombra(dir.path(), {"dump", "c"});
  EXPECT_TRUE(dump_c.out == dump_a.out) << "dump of the CSV copy differs";

  // get prints the raw bytes.
  r = RunSombra(dir.path(), {"get", "b", "\\"});
  EXPECT_EQ(r.out, "backslash\\\n");
}

TEST(CliRoundTripTest, LoadsCsvWithQuotedFields) {
  TempDir dir;
  const std::string csv =
      "plain,value\r\n"
      "\"with,comma\",\"says \"\"hi\"\"\"\n"
      "\n"
      "\"multi\nline key\",\"a\r\nb\"\n"
      "empty,\n"
      "quoted-empty,\"\"\n"
      " spaced , kept \n"
      "last,no final newline";
  WriteFileOrDie(dir.File("in.csv"), csv);
  RunResult r = RunSombra(dir.path(), {"load", "db", "--format", "csv"}, "in.csv");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::map<std::string, std::string> expected = {
      {"plain", "value"},
      {"with,comma", "says \"hi\""},
      {"multi\nline key", "a\r\nb"},
      {"empty", ""},
      {"quoted-empty", ""},
      {" spaced ", " kept "},
      {"last", "no final newline"},
  };
  for (const auto& [k, v] : expected) {
    r = RunSombra(dir.path(), {"get", "db", "--", k});
    EXPECT_EQ(r.code, 0) << Escape(k) << ": " << r.err;
    EXPECT_EQ(r.out, v + "\n") << Escape(k);
  }
  r = RunSombra(dir.path(), {"scan", "db", "--keys-only"});
  EXPECT_EQ(CountLines(r.out), expected.size());
  r = RunSombra(dir.path(), {"scan", "db", "--format", "csv", "--from", "w"});
  EXPECT_EQ(r.out, "\"with,comma\",\"says \"\"hi\"\"\"\n");
}

}  // namespace
}  // namespace sombra::cli::test
