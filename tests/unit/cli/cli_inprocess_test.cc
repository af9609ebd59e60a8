// RunCli called in-process: commands, help, usage errors, the progress line.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "sombra/version.h"
#include "testutil/temp_dir.h"

namespace sombra::cli {
namespace {

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result Cli(const std::vector<std::string>& args, const std::string& input = "", bool tty = false,
           int64_t in_size = -1) {
  std::istringstream in(input);
  std::ostringstream out, err;
  const int code = RunCli(args, in, out, err, tty, in_size);
  return {code, out.str(), err.str()};
}

// `n` records "k<i>\tvalue <i>", as load reads them.
std::string NumberedRecords(int n) {
  std::string input;
  for (int i = 0; i < n; i++)
    input += "k" + std::to_string(i) + "\tvalue " + std::to_string(i) + "\n";
  return input;
}

// --version prints the library's version, which is CMakeLists.txt's
// project version, and the formats this build writes; with or without a
// command, before or after it.
TEST(CliInProcessTest, VersionMatchesTheProjectVersion) {
  EXPECT_EQ(std::string(sombra::kVersion), SOMBRA_PROJECT_VERSION);
  EXPECT_EQ(std::to_string(sombra::kVersionMajor) + "." + std::to_string(sombra::kVersionMinor) +
                "." + std::to_string(sombra::kVersionPatch),
            SOMBRA_PROJECT_VERSION);
  const std::string line =
      std::string("sombra ") + SOMBRA_PROJECT_VERSION + " (page file format 5, log format 13)\n";
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--version"}, {"get", "db", "k", "--version"}}) {
    Result r = Cli(args);
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out, line);
    EXPECT_EQ(r.err, "");
  }
  EXPECT_EQ(Cli({"--version=1"}).code, 2);  // takes no value
}

TEST(CliInProcessTest, PutGetDelScan) {
  sombra::test::TempDir dir;
  const std::string db = dir.File("db");
  EXPECT_EQ(Cli({"put", db, "b", "2"}).code, kExitOk);
  EXPECT_EQ(Cli({"put", db, "a", "1"}).code, kExitOk);
  EXPECT_EQ(Cli({"--durability", "off", "put", db, "c", "3"}).code, kExitOk);

  Result r = Cli({"get", db, "a"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, "1\n");
  EXPECT_EQ(r.err, "");

  r = Cli({"scan", db});
  EXPECT_EQ(r.out, "a\t1\nb\t2\nc\t3\n");
  r = Cli({"scan", db, "--reverse", "--keys-only"});
  EXPECT_EQ(r.out, "c\nb\na\n");

  EXPECT_EQ(Cli({"del", db, "b"}).code, kExitOk);
  r = Cli({"del", db, "b"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.err, "sombra: del: " + db + ": NotFound: key \"b\"\n");
  r = Cli({"get", db, "b"});
  EXPECT_EQ(r.code, kExitNotFound);
  EXPECT_EQ(r.out, "");
}

// scan --prefix and count: the keys starting with P are [P, P's successor)
// - a last byte 0xff carries over, a prefix of 0xff bytes only has no upper
// bound - intersected with --from/--to; count counts the same ranges; stats
// ends its fields with the record count.
TEST(CliInProcessTest, PrefixScanCountAndStatsRecords) {
  sombra::test::TempDir dir;
  const std::string db = dir.File("db");
  const std::string input =
      "ab\t1\nabc\t2\nabd\t3\nac\t4\nb\t5\na\\xff\t6\na\\xff\\xff\t7\nb\\x00\t8\n"
      "\\xff\t9\n\\xff\\xff\t10\n";
  ASSERT_EQ(Cli({"load", db}, input).code, kExitOk);
  EXPECT_EQ(Cli({"count", db}).out, "10\n");
  EXPECT_EQ(Cli({"scan", db, "--prefix", "ab", "--keys-only"}).out, "ab\nabc\nabd\n");
  EXPECT_EQ(Cli({"count", db, "--prefix", "ab"}).out, "3\n");
  EXPECT_EQ(Cli({"count", db, "--prefix", "a"}).out, "6\n");
  EXPECT_EQ(Cli({"count", db, "--prefix", "a", "--from", "abd"}).out, "4\n");
  EXPECT_EQ(Cli({"count", db, "--prefix", "a", "--to", "abd"}).out, "2\n");
  EXPECT_EQ(Cli({"count", db, "--from", "ac", "--to", "b"}).out, "3\n");
  EXPECT_EQ(Cli({"--hex", "count", db, "--prefix", "61ff"}).out, "2\n");
  EXPECT_EQ(Cli({"--hex", "scan", db, "--prefix", "ff", "--keys-only"}).out, "ff\nffff\n");
  EXPECT_EQ(Cli({"scan", db, "--prefix", "a", "--reverse", "--keys-only", "--limit", "3"}).out,
            "a\\xff\\xff\na\\xff\nac\n");
  EXPECT_EQ(Cli({"count", db, "--prefix", "zz"}).out, "0\n");
  Result r = Cli({"stats", db});
  EXPECT_NE(r.out.find("\nrecords "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" 10\nall:\n"), std::string::npos) << r.out;
  EXPECT_NE(Cli({"stats", db, "--json"}).out.find("\"records\": 10,\n  \"all\""),
            std::string::npos);
  EXPECT_EQ(Cli({"count", db, "extra"}).code, 2);  // usage error
  // delrange prints how many it deleted.
  r = Cli({"delrange", db, "ab", "ac"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "3\n");
  EXPECT_EQ(Cli({"count", db, "--prefix", "a"}).out, "3\n");
  EXPECT_EQ(Cli({"delrange", db, "ab", "ac"}).out, "0\n");
  r = Cli({"delrange", db, "b", "a"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("InvalidArgument: DeleteRange: the end of the range sorts before"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(Cli({"verify", db}).code, kExitOk);
}

TEST(CliInProcessTest, LoadDrawsProgressOnlyOnATerminal) {
  sombra::test::TempDir dir;
  std::string input;
  for (int i = 0; i < 5000; i++) input += "k" + std::to_string(i) + "\tv\n";

  Result quiet = Cli({"load", dir.File("quiet")}, input, /*tty=*/false, input.size());
  EXPECT_EQ(quiet.code, kExitOk);
  EXPECT_EQ(quiet.err, "");
  EXPECT_EQ(quiet.out, "");

  Result tty = Cli({"load", dir.File("tty")}, input, /*tty=*/true, input.size());
  EXPECT_EQ(tty.code, kExitOk);
  EXPECT_EQ(tty.out, "");
  EXPECT_NE(tty.err.find('\r'), std::string::npos);
  EXPECT_NE(tty.err.find("5000 records"), std::string::npos) << tty.err;
  EXPECT_NE(tty.err.find("100%"), std::string::npos) << tty.err;
  EXPECT_EQ(tty.err.back(), '\n');

  EXPECT_EQ(Cli({"scan", dir.File("tty"), "--keys-only", "--limit", "2"}).out, "k0\nk1\n");
}

// backup: the copy verifies and holds the records; a progress line on a
// terminal only; --json; an existing destination is an error (exit 2)
// that leaves it alone.
TEST(CliInProcessTest, BackupCopiesAndReports) {
  sombra::test::TempDir dir;
  const std::string db = dir.File("db");
  ASSERT_EQ(Cli({"load", db}, NumberedRecords(20000)).code, kExitOk);
  ASSERT_EQ(Cli({"delrange", db, "k1", "k5"}).code, kExitOk);  // free pages to leave out

  Result tty = Cli({"backup", db, dir.File("copy")}, "", /*tty=*/true);
  EXPECT_EQ(tty.code, kExitOk) << tty.err;
  EXPECT_EQ(tty.out.rfind(db + " -> " + dir.File("copy") + ": ", 0), 0u) << tty.out;
  EXPECT_NE(tty.out.find(" pages, "), std::string::npos) << tty.out;
  EXPECT_NE(tty.err.find("100%"), std::string::npos) << tty.err;
  EXPECT_NE(tty.err.find(" pages  "), std::string::npos) << tty.err;
  EXPECT_EQ(tty.err.back(), '\n');
  EXPECT_EQ(Cli({"verify", dir.File("copy")}).code, kExitOk);
  EXPECT_EQ(Cli({"dump", dir.File("copy")}).out, Cli({"dump", db}).out);
  EXPECT_EQ(Cli({"stats", dir.File("copy")}).out.find("freelist_pages                    0\n") !=
                std::string::npos,
            true);

  Result json = Cli({"backup", db, dir.File("copy2"), "--json"}, "", /*tty=*/true);
  EXPECT_EQ(json.code, kExitOk) << json.err;
  EXPECT_EQ(json.err, "");  // no progress line with --json
  EXPECT_EQ(json.out.rfind("{\"path\": ", 0), 0u) << json.out;
  EXPECT_NE(json.out.find("\"pages\": "), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"seconds\": "), std::string::npos) << json.out;

  Result again = Cli({"backup", db, dir.File("copy")});
  EXPECT_EQ(again.code, kExitError);
  EXPECT_NE(again.err.find(dir.File("copy") + " exists"), std::string::npos) << again.err;
  EXPECT_EQ(Cli({"verify", dir.File("copy")}).code, kExitOk);
}

// compact: free pages below live ones are given back; the records stay;
// --json; a read-only option is refused (exit 2).
TEST(CliInProcessTest, CompactShrinksTheFileAndReports) {
  sombra::test::TempDir dir;
  const std::string db = dir.File("db");
  ASSERT_EQ(Cli({"load", db}, NumberedRecords(20000)).code, kExitOk);
  ASSERT_EQ(Cli({"delrange", db, "k1", "k5"}).code, kExitOk);  // free pages below live ones
  const std::string dump = Cli({"dump", db}).out;
  const uint64_t before = std::filesystem::file_size(db);

  Result r = Cli({"compact", db});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out.rfind(db + ": ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(" pages moved, "), std::string::npos) << r.out;
  EXPECT_LT(std::filesystem::file_size(db), before);
  EXPECT_EQ(Cli({"verify", db}).code, kExitOk);
  EXPECT_EQ(Cli({"dump", db}).out, dump);
  EXPECT_NE(Cli({"stats", db}).out.find("freelist_pages                    0\n"),
            std::string::npos);

  Result json = Cli({"compact", db, "--json"});
  EXPECT_EQ(json.code, kExitOk) << json.err;
  EXPECT_EQ(json.out.rfind("{\"path\": ", 0), 0u) << json.out;
  EXPECT_NE(json.out.find("\"pages_moved\": 0,"), std::string::npos) << json.out;  // done before
}

// recover: sombra-inspect DB recover OUT under this tool's name: a healthy
// database comes back whole (exit 0), one whose meta page in force is
// damaged too (exit 1: something was damaged), an existing OUT is refused.
TEST(CliInProcessTest, RecoverCopiesTheRecordsOut) {
  sombra::test::TempDir dir;
  const std::string db = dir.File("db");
  std::string input;
  for (int i = 0; i < 3000; i++)
    input += "k" + std::to_string(i) + "\tv" + std::to_string(i) + "\n";
  ASSERT_EQ(Cli({"load", db}, input).code, kExitOk);
  const std::string dump = Cli({"dump", db}).out;

  Result r = Cli({"recover", db, dir.File("out")});
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("recovered 3000 records into 1 tree: OK\n"), std::string::npos) << r.out;
  EXPECT_EQ(Cli({"dump", dir.File("out")}).out, dump);

  {
    std::FILE* f = std::fopen(db.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fseek(f, 100, SEEK_SET), 0);
    std::fputc(0x5a, f);  // meta page 0, the one in force
    std::fclose(f);
  }
  Result damaged = Cli({"recover", db, dir.File("out2"), "--json"});
  EXPECT_EQ(damaged.code, 1) << damaged.out << damaged.err;
  EXPECT_EQ(damaged.out.rfind("{", 0), 0u) << damaged.out;
  EXPECT_EQ(Cli({"dump", dir.File("out2")}).out, dump);

  Result again = Cli({"recover", db, dir.File("out")});
  EXPECT_EQ(again.code, kExitError);
  EXPECT_EQ(again.err.rfind("sombra: recover: ", 0), 0u) << again.err;
}

TEST(CliInProcessTest, HelpGoesToStdout) {
  Result r = Cli({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, Usage());
  for (const char* cmd :
       {"put", "get", "del", "scan", "load", "dump", "verify", "checkpoint", "stats"}) {
    EXPECT_NE(r.out.find(std::string("sombra ") + cmd), std::string::npos) << cmd;
    Result c = Cli({cmd, "--help"});
    EXPECT_EQ(c.code, kExitOk) << cmd;
    EXPECT_EQ(c.out.rfind(std::string("Usage: sombra ") + cmd, 0), 0u) << c.out;
    EXPECT_EQ(Cli({"help", cmd}).out, c.out);
    EXPECT_EQ(Cli({"-h", cmd}).out, c.out);
  }
}

TEST(CliInProcessTest, UsageErrorsAreOneLineAndExit2) {
  const std::vector<std::vector<std::string>> bad = {
      {"get", "db"},
      {"put", "db", "k"},
      {"frobnicate", "db"},
      {"get", "db", "k", "--from", "a"},
      {"scan", "db", "--limit", "x"},
      {"scan", "db", "--limit"},
      {"scan", "db", "--reverse=yes"},
      {"load", "db", "--batch", "0"},
      {"load", "db", "--format", "json"},
      {"--durability", "sometimes", "put", "db", "k", "v"},
      {"--page-size", "big", "put", "db", "k", "v"},
      {"put", "db", "k", "v", "--read-only"},
      {"--hex", "get", "db", "xyz"},
      {"scan", "db", "--bogus"},
      {"--bogus"},
  };
  for (const auto& args : bad) {
    Result r = Cli(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.code, kExitError) << joined;
    EXPECT_EQ(r.out, "") << joined;
    EXPECT_EQ(r.err.rfind("sombra: ", 0), 0u) << joined << ": " << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << joined << ": " << r.err;
  }
  Result none = Cli({});
  EXPECT_EQ(none.code, kExitError);
  EXPECT_EQ(none.err, Usage());
}

TEST(CliInProcessTest, DoubleDashEndsOptions) {
  sombra::test::TempDir dir;
  const std::string db = dir.File("db");
  EXPECT_EQ(Cli({"put", db, "--", "--key", "--value"}).code, kExitOk);
  Result r = Cli({"get", "--", db, "--key"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, "--value\n");
  EXPECT_EQ(Cli({"put", db, "-", "-1"}).code, kExitOk);
  EXPECT_EQ(Cli({"get", db, "-"}).out, "-1\n");
}

}  // namespace
}  // namespace sombra::cli
