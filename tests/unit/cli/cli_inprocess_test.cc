// RunCli called in-process: commands, help, usage errors, the progress line.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
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
