// Every error path of the sombra binary: exit status and the one-line
// message on stderr.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "cli_run.h"
#include "testutil/temp_dir.h"

namespace sombra::cli::test {
namespace {

using sombra::test::TempDir;
using sombra::test::WriteFileOrDie;

// Asserts: exit `code`, nothing on stdout, exactly one line on stderr that
// starts with `prefix`.
void ExpectError(const RunResult& r, int code, const std::string& prefix) {
  EXPECT_EQ(r.code, code) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(CountLines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << "stderr: " << r.err << "\nwanted prefix: " << prefix;
}

bool Exists(const std::string& path) { return std::ifstream(path).good(); }

TEST(CliErrorsTest, GetOnAMissingDatabase) {
  TempDir dir;
  RunResult r = RunSombra(dir.path(), {"get", "missing.db", "k"});
  ExpectError(r, 2, "sombra: get: missing.db: NotFound: ");
  EXPECT_FALSE(Exists(dir.File("missing.db")));
  for (const char* cmd : {"scan", "dump", "verify", "stats", "checkpoint"}) {
    ExpectError(RunSombra(dir.path(), {cmd, "missing.db"}), 2,
                std::string("sombra: ") + cmd + ": missing.db: NotFound: ");
  }
  ExpectError(RunSombra(dir.path(), {"del", "missing.db", "k"}), 2,
              "sombra: del: missing.db: NotFound: ");
  EXPECT_FALSE(Exists(dir.File("missing.db")));
}

TEST(CliErrorsTest, AbsentKeys) {
  TempDir dir;
  ASSERT_EQ(RunSombra(dir.path(), {"put", "db", "k", "v"}).code, 0);
  ExpectError(RunSombra(dir.path(), {"get", "db", "nope"}), 1,
              "sombra: get: db: NotFound: key \"nope\"");
  ExpectError(RunSombra(dir.path(), {"--hex", "get", "db", "00ff"}), 1,
              "sombra: get: db: NotFound: key \"\\x00\\xff\"");
  ExpectError(RunSombra(dir.path(), {"del", "db", "nope"}), 1,
              "sombra: del: db: NotFound: key \"nope\"");
  EXPECT_EQ(RunSombra(dir.path(), {"del", "db", "k"}).code, 0);
  ExpectError(RunSombra(dir.path(), {"get", "db", "k"}), 1, "sombra: get: db: NotFound: ");
}

TEST(CliErrorsTest, BadUsage) {
  TempDir dir;
  ExpectError(RunSombra(dir.path(), {"get", "db"}), 2, "sombra: get: expected: sombra get DB KEY");
  ExpectError(RunSombra(dir.path(), {"put", "db", "k", "v", "extra"}), 2, "sombra: put: expected");
  ExpectError(RunSombra(dir.path(), {"scan", "db", "--limit", "-1"}), 2,
              "sombra: scan: --limit wants a number");
  ExpectError(RunSombra(dir.path(), {"get", "db", "k", "--reverse"}), 2,
              "sombra: get: --reverse does not apply to get");
  ExpectError(RunSombra(dir.path(), {"put", "db", "k", "v", "--durability", "maybe"}), 2,
              "sombra: put: --durability wants full, normal or off");
  ExpectError(RunSombra(dir.path(), {"load", "db", "--read-only"}), 2,
              "sombra: load: --read-only is refused");
  ExpectError(RunSombra(dir.path(), {"put", "db", "--hex", "4", "00"}), 2,
              "sombra: put: KEY is not hex");
  ExpectError(RunSombra(dir.path(), {"scan", "db", "--nope"}), 2,
              "sombra: scan: unknown option --nope");
  // Nothing was created by any of these.
  EXPECT_FALSE(Exists(dir.File("db")));

  RunResult r = RunSombra(dir.path(), {});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("Usage: sombra", 0), 0u) << r.err;
}

TEST(CliErrorsTest, OutputThatCannotBeWritten) {
  TempDir dir;
  ASSERT_EQ(RunSombra(dir.path(), {"put", "db", "k", "v"}).code, 0);
  for (const char* cmd : {"get db k", "dump db", "scan db", "stats db"}) {
    RunResult r = RunShell(dir.path(), ShellQuote(SombraBinary()) + " " + cmd + " >/dev/full");
    EXPECT_EQ(r.code, 2) << cmd;
    EXPECT_NE(r.err.find(": IOError: cannot write the output"), std::string::npos) << r.err;
  }
}

TEST(CliErrorsTest, UnknownCommand) {
  TempDir dir;
  ExpectError(RunSombra(dir.path(), {"frobnicate", "db"}), 2,
              "sombra: unknown command 'frobnicate'");
}

TEST(CliErrorsTest, HelpExitsZero) {
  TempDir dir;
  RunResult r = RunSombra(dir.path(), {"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.rfind("Usage: sombra", 0), 0u);
  r = RunSombra(dir.path(), {"scan", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--reverse"), std::string::npos);
}

TEST(CliErrorsTest, OversizedKey) {
  TempDir dir;
  const std::string big(5000, 'k');
  ExpectError(RunSombra(dir.path(), {"put", "db", big, "v"}), 2,
              "sombra: put: db: InvalidArgument: ");
  // The same key through load names the line; the batch before it stays.
  WriteFileOrDie(dir.File("in.tsv"), "a\t1\nb\t2\n" + big + "\t3\nc\t4\n");
  RunResult r = RunSombra(dir.path(), {"load", "db", "--batch", "2"}, "in.tsv");
  ExpectError(r, 2, "sombra: load: db: InvalidArgument: line 3: ");
  EXPECT_EQ(RunSombra(dir.path(), {"get", "db", "b"}).out, "2\n");
  EXPECT_EQ(RunSombra(dir.path(), {"get", "db", "c"}).code, 1);
}

TEST(CliErrorsTest, MalformedLoadInput) {
  TempDir dir;
  WriteFileOrDie(dir.File("notab.tsv"), "a\t1\nb 2\n");
  ExpectError(RunSombra(dir.path(), {"load", "db"}, "notab.tsv"), 2,
              "sombra: load: db: InvalidArgument: line 2: expected KEY<TAB>VALUE");
  WriteFileOrDie(dir.File("escape.tsv"), "a\\q\t1\n");
  ExpectError(RunSombra(dir.path(), {"load", "db"}, "escape.tsv"), 2,
              "sombra: load: db: InvalidArgument: line 1: key: unknown escape");
  WriteFileOrDie(dir.File("bad.csv"), "a,1\n\"open,2\n");
  ExpectError(RunSombra(dir.path(), {"load", "db", "--format", "csv"}, "bad.csv"), 2,
              "sombra: load: db: InvalidArgument: line 2: quoted field is not closed");
  ExpectError(RunSombra(dir.path(), {"load", "db", "no-such-file.tsv"}), 2,
              "sombra: load: db: IOError: cannot open input file no-such-file.tsv");
  // With the default batch nothing of a failed load is committed.
  EXPECT_EQ(RunSombra(dir.path(), {"get", "db", "a"}).code, 1);
}

// load --sorted appends: keys in order load (from a file or "-", standard
// input); a key out of order - within the input or before a key already
// stored - stops the load naming its line and saying the input is not
// sorted, and the batches committed before it stay.
TEST(CliErrorsTest, SortedLoadRefusesUnsortedInput) {
  TempDir dir;
  std::string input;
  for (int i = 0; i < 3000; i++) input += "key" + std::to_string(10000 + i) + "\tv\n";
  WriteFileOrDie(dir.File("in.tsv"), input);
  ASSERT_EQ(RunSombra(dir.path(), {"load", "db", "-", "--sorted"}, "in.tsv").code, 0);
  EXPECT_EQ(RunSombra(dir.path(), {"get", "db", "key12999"}).out, "v\n");
  EXPECT_EQ(RunSombra(dir.path(), {"verify", "db"}).code, 0);
  // A key below the last one stored.
  WriteFileOrDie(dir.File("old.tsv"), "key20000\tx\nkey00001\ty\n");
  ExpectError(RunSombra(dir.path(), {"load", "db", "old.tsv", "--sorted"}), 2,
              "sombra: load: db: InvalidArgument: line 2: the input is not sorted: key "
              "\"key00001\" does not sort after the keys before it");
  EXPECT_EQ(RunSombra(dir.path(), {"get", "db", "key20000"}).code, 1);  // its batch aborted
  // Out of order within the input, after a committed batch.
  WriteFileOrDie(dir.File("mixed.tsv"), "key30000\ta\nkey30001\tb\nkey30003\tc\nkey30002\td\n");
  ExpectError(RunSombra(dir.path(), {"load", "db", "mixed.tsv", "--sorted", "--batch", "2"}), 2,
              "sombra: load: db: InvalidArgument: line 4: the input is not sorted");
  EXPECT_EQ(RunSombra(dir.path(), {"get", "db", "key30001"}).out, "b\n");
  EXPECT_EQ(RunSombra(dir.path(), {"get", "db", "key30003"}).code, 1);
  // Without --sorted the same input loads.
  EXPECT_EQ(RunSombra(dir.path(), {"load", "db", "mixed.tsv"}).code, 0);
  EXPECT_EQ(RunSombra(dir.path(), {"get", "db", "key30002"}).out, "d\n");
}

TEST(CliErrorsTest, NotADatabase) {
  TempDir dir;
  WriteFileOrDie(dir.File("text"), std::string(10000, 'x'));
  RunResult r = RunSombra(dir.path(), {"get", "text", "k"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(CountLines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err.rfind("sombra: get: text: ", 0), 0u) << r.err;
  ExpectError(RunSombra(dir.path(), {"put", dir.path(), "k", "v"}), 2,
              "sombra: put: " + dir.path() + ": InvalidArgument: ");
}

TEST(CliErrorsTest, VerifyFindsCorruption) {
  TempDir dir;
  std::string input;
  for (int i = 0; i < 3000; i++) input += "key" + std::to_string(i) + "\tvalue\n";
  WriteFileOrDie(dir.File("in.tsv"), input);
  ASSERT_EQ(RunSombra(dir.path(), {"load", "db"}, "in.tsv").code, 0);
  ASSERT_EQ(RunSombra(dir.path(), {"checkpoint", "db"}).code, 0);
  RunResult r = RunSombra(dir.path(), {"verify", "db"});
  ASSERT_EQ(r.code, 0) << r.err;

  // Flip one byte in the body of every data page (pages 2..9).
  {
    std::fstream f(dir.File("db"), std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good());
    for (int page = 2; page < 10; page++) {
      const std::streamoff off = page * 4096 + 1000;
      f.seekg(off);
      char c = 0;
      f.read(&c, 1);
      c = static_cast<char>(c ^ 0x5A);
      f.seekp(off);
      f.write(&c, 1);
    }
    ASSERT_TRUE(f.good());
  }
  r = RunSombra(dir.path(), {"verify", "db"});
  ExpectError(r, 1, "sombra: verify: db: Corruption: ");
}

}  // namespace
}  // namespace sombra::cli::test
