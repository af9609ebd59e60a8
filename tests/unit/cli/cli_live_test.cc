// Reading a live database: `sombra dump`, `sombra scan --reverse`, `sombra
// verify` and `sombra-inspect DB verify` (and its other commands) run again
// and again while a writer in another process opens the database, commits
// one transaction and closes it (a clean close checkpoints), hundreds of
// times. Every run must exit 0 with complete output of one consistent
// snapshot, and verify must find nothing: a writer that comes and goes is
// not damage (docs/cli.md and docs/tools.md, "Live databases").
//
// The writer is a forked child using the C++ API; the parent opens no
// database handle itself (the readers are processes of their own), so no
// OFD lock is shared with the child.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cli/cli.h"
#include "cli_run.h"
#include "sombra/db.h"
#include "testutil/db_holder.h"
#include "testutil/temp_dir.h"

namespace sombra::cli::test {
namespace {

using sombra::test::TempDir;
using Clock = std::chrono::steady_clock;

// Records of the database before the writer starts: enough for a tree of
// three levels over about a thousand pages.
constexpr int kRecords = 50000;
// The writer commits at least this many transactions (one per open).
constexpr int kMinWriterCommits = 300;
// Each reading command runs this many times while the writer runs.
constexpr int kRounds = 30;
// The writer updates original record (i * kStride) % kRecords in commit i:
// distinct records for i < kRecords (kStride is prime to kRecords).
constexpr int kStride = 7919;

std::string OriginalKey(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "k%06d", i);
  return buf;
}
std::string OriginalValue(int i) {
  return "v" + std::to_string(i) + "-" + std::string(static_cast<size_t>(i * 37 % 61), 'x');
}
std::string WriterKey(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "w%06d", i);
  return buf;
}
std::string WriterValue(int i) { return "w" + std::to_string(i) + std::string(20, 'y'); }
std::string UpdatedValue(int i) { return "u" + std::to_string(i); }

std::string InspectBinary() { return SOMBRA_INSPECT_BINARY; }

std::string InspectCommand(const std::vector<std::string>& args) {
  std::string cmd = ShellQuote(InspectBinary());
  for (const std::string& a : args) cmd += " " + ShellQuote(a);
  return cmd;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The note a read command of sombra prints on stderr after reading a live
// database: "sombra: COMMAND: DB: live: ...".
bool IsLiveNote(const std::string& err, const std::string& command, const std::string& db) {
  const std::string prefix =
      "sombra: " + command + ": " + db + ": live: a writer has this database open; read at LSN ";
  return StartsWith(err, prefix) && err.find(" (snapshot)\n") != std::string::npos &&
         CountLines(err) == 1;
}

// A forked child that commits one transaction per open until told to stop
// (after kMinWriterCommits at least): commit i puts WriterKey(i) and sets
// original record (i * kStride) % kRecords to UpdatedValue(i).
class Writer {
 public:
  explicit Writer(const std::string& path) {
    int stop[2], done[2];
    if (::pipe(stop) != 0 || ::pipe(done) != 0) {
      ADD_FAILURE() << "pipe failed";
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(stop[1]);
      ::close(done[0]);
      std::string error;
      int i = 0;
      for (;; ++i) {
        if (i >= kMinWriterCommits) {
          pollfd p{stop[0], POLLIN, 0};
          if (::poll(&p, 1, 0) != 0) break;  // a byte, or EOF: the parent is done
        }
        std::unique_ptr<DB> db;
        Status s = DB::Open(Options(), path, &db);
        std::unique_ptr<WriteTxn> txn;
        if (s.ok()) s = db->BeginWrite(&txn);
        if (s.ok()) s = txn->Put(WriterKey(i), WriterValue(i));
        if (s.ok()) s = txn->Put(OriginalKey(i * kStride % kRecords), UpdatedValue(i));
        if (s.ok()) s = txn->Commit();
        txn.reset();
        db.reset();
        if (!s.ok()) {
          error = "commit " + std::to_string(i) + ": " + s.ToString();
          break;
        }
      }
      const std::string report = error.empty() ? "ok " + std::to_string(i) : error;
      (void)!::write(done[1], report.data(), report.size());
      ::_exit(error.empty() ? 0 : 1);
    }
    ::close(stop[0]);
    ::close(done[1]);
    stop_fd_ = stop[1];
    done_fd_ = done[0];
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer() {
    if (pid_ > 0) Stop();
  }

  // Tells the child to stop, waits for it; "ok N" (N commits) or its error.
  std::string Stop() {
    const char c = 's';
    (void)!::write(stop_fd_, &c, 1);
    ::close(stop_fd_);
    std::string report;
    char buf[256];
    ssize_t n;
    while ((n = ::read(done_fd_, buf, sizeof(buf))) > 0) report.append(buf, static_cast<size_t>(n));
    ::close(done_fd_);
    int status = 0;
    EXPECT_EQ(::waitpid(pid_, &status, 0), pid_);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << report;
    pid_ = -1;
    return report;
  }

 private:
  pid_t pid_ = -1;
  int stop_fd_ = -1;
  int done_fd_ = -1;
};

// Checks that `tsv` (dump output, in key order, reversed when `reverse`)
// is one consistent state of the database: every original record, the
// writer's first m records for some m, and exactly the updates of commits
// 0..m-1. Returns "" or what is wrong; *commits is m.
std::string CheckSnapshot(const std::string& tsv, bool reverse, int* commits) {
  std::vector<std::pair<std::string_view, std::string_view>> records;
  std::string_view rest = tsv;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) return "the output does not end with a newline";
    const std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    const size_t tab = line.find('\t');
    if (tab == std::string_view::npos) return "a line without a tab: " + std::string(line);
    records.emplace_back(line.substr(0, tab), line.substr(tab + 1));
  }
  if (reverse) std::reverse(records.begin(), records.end());
  for (size_t i = 1; i < records.size(); ++i) {
    if (!(records[i - 1].first < records[i].first)) {
      return "keys out of order at record " + std::to_string(i) + ": " +
             std::string(records[i].first);
    }
  }
  if (records.size() < static_cast<size_t>(kRecords)) {
    return "only " + std::to_string(records.size()) + " records";
  }
  std::set<int> updated;
  for (int i = 0; i < kRecords; ++i) {
    const auto& [key, value] = records[static_cast<size_t>(i)];
    if (key != OriginalKey(i)) return "record " + std::to_string(i) + " is " + std::string(key);
    if (value == OriginalValue(i)) continue;
    if (value.size() < 2 || value[0] != 'u') {
      return "record " + std::string(key) + " = " + std::string(value);
    }
    const int commit = std::atoi(std::string(value.substr(1)).c_str());
    if (commit * kStride % kRecords != i || value != UpdatedValue(commit)) {
      return "record " + std::string(key) + " = " + std::string(value);
    }
    updated.insert(commit);
  }
  const int m = static_cast<int>(records.size()) - kRecords;
  for (int j = 0; j < m; ++j) {
    const auto& [key, value] = records[static_cast<size_t>(kRecords + j)];
    if (key != WriterKey(j) || value != WriterValue(j)) {
      return "writer record " + std::to_string(j) + " is " + std::string(key) + " = " +
             std::string(value);
    }
  }
  // One commit wrote both: the updates seen are exactly those of commits
  // 0..m-1 (for m < kRecords, which holds).
  if (updated.size() != static_cast<size_t>(m) || (m > 0 && *updated.rbegin() != m - 1)) {
    return std::to_string(m) + " writer records but " + std::to_string(updated.size()) +
           " updated records: not one snapshot";
  }
  *commits = m;
  return "";
}

class CliLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string input;
    for (int i = 0; i < kRecords; ++i) input += OriginalKey(i) + "\t" + OriginalValue(i) + "\n";
    sombra::test::WriteFileOrDie(dir_.File("in.tsv"), input);
    RunResult r = RunSombra(dir_.path(), {"load", "db"}, "in.tsv");
    ASSERT_EQ(r.code, 0) << r.err;
  }

  TempDir dir_;
};

TEST_F(CliLiveTest, ReadCommandsBesideAWriterThatComesAndGoes) {
  const Clock::time_point start = Clock::now();
  Writer writer(dir_.File("db"));
  int live_notes = 0;
  int last_seen = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    RunResult dump = RunSombra(dir_.path(), {"dump", "db"});
    ASSERT_EQ(dump.code, 0) << dump.err;
    ASSERT_TRUE(dump.err.empty() || IsLiveNote(dump.err, "dump", "db")) << dump.err;
    live_notes += dump.err.empty() ? 0 : 1;
    int seen = 0;
    std::string why = CheckSnapshot(dump.out, /*reverse=*/false, &seen);
    ASSERT_EQ(why, "") << "dump";
    // Snapshots never go back in time.
    EXPECT_GE(seen, last_seen);
    last_seen = seen;

    RunResult scan = RunSombra(dir_.path(), {"scan", "db", "--reverse"});
    ASSERT_EQ(scan.code, 0) << scan.err;
    ASSERT_TRUE(scan.err.empty() || IsLiveNote(scan.err, "scan", "db")) << scan.err;
    live_notes += scan.err.empty() ? 0 : 1;
    why = CheckSnapshot(scan.out, /*reverse=*/true, &seen);
    ASSERT_EQ(why, "") << "scan --reverse";
    EXPECT_GE(seen, last_seen);
    last_seen = seen;

    RunResult verify = RunShell(dir_.path(), InspectCommand({"db", "verify"}));
    ASSERT_EQ(verify.code, 0) << verify.out << verify.err;
    ASSERT_EQ(verify.err, "");
    ASSERT_TRUE(verify.out.find(": OK\n") != std::string::npos) << verify.out;
    const size_t lines = CountLines(verify.out);
    if (lines == 2) {
      EXPECT_TRUE(StartsWith(verify.out, "live: a writer has this database open; read at LSN "))
          << verify.out;
      ++live_notes;
    } else {
      EXPECT_EQ(lines, 1u) << verify.out;
    }

    // The other commands, every third round.
    if (round % 3 == 0) {
      RunResult cli_verify = RunSombra(dir_.path(), {"verify", "db"});
      EXPECT_EQ(cli_verify.code, 0) << cli_verify.err;
      EXPECT_EQ(cli_verify.out, "db: OK\n");
      EXPECT_TRUE(cli_verify.err.empty() || IsLiveNote(cli_verify.err, "verify", "db"))
          << cli_verify.err;
      RunResult get = RunSombra(dir_.path(), {"get", "db", OriginalKey(1)});
      EXPECT_EQ(get.code, 0) << get.err;
      EXPECT_TRUE(get.err.empty() || IsLiveNote(get.err, "get", "db")) << get.err;
      RunResult stats = RunSombra(dir_.path(), {"stats", "db", "--json"});
      EXPECT_EQ(stats.code, 0) << stats.err;
      for (const char* command : {"meta", "tree", "catalog", "freelist", "stats", "wal"}) {
        RunResult r = RunShell(dir_.path(), InspectCommand({"db", command}));
        EXPECT_EQ(r.code, 0) << command << ":\n" << r.out << r.err;
        EXPECT_EQ(r.err, "") << command;
      }
      RunResult json = RunShell(dir_.path(), InspectCommand({"db", "verify", "--json"}));
      EXPECT_EQ(json.code, 0) << json.out << json.err;
      EXPECT_NE(json.out.find("\"ok\":true"), std::string::npos) << json.out;
    }
  }
  const std::string report = writer.Stop();
  ASSERT_TRUE(StartsWith(report, "ok ")) << report;
  const int commits = std::atoi(report.c_str() + 3);
  EXPECT_GE(commits, kMinWriterCommits);
  // The writer ran the whole time: most runs read it live.
  EXPECT_GT(live_notes, 0);

  // The writer gone, everything it committed is there; nothing is live.
  RunResult dump = RunSombra(dir_.path(), {"dump", "db"});
  ASSERT_EQ(dump.code, 0) << dump.err;
  EXPECT_EQ(dump.err, "");
  int seen = 0;
  ASSERT_EQ(CheckSnapshot(dump.out, false, &seen), "");
  EXPECT_EQ(seen, commits);
  RunResult verify = RunShell(dir_.path(), InspectCommand({"db", "verify"}));
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  EXPECT_EQ(CountLines(verify.out), 1u) << verify.out;
  std::printf("[          ] %d writer commits, %d of %d runs read live, %.1f s\n", commits,
              live_notes, 3 * kRounds, std::chrono::duration<double>(Clock::now() - start).count());
}

// The note goes to stderr only, and only while a writer has the database
// open: stdout is the same either way.
TEST(CliLiveNoteTest, ReadCommandsNoteALiveWriterOnStderrOnly) {
  TempDir dir;
  const std::string db = dir.File("db");
  ASSERT_EQ(RunSombra(dir.path(), {"put", "db", "a", "1"}).code, 0);
  struct Expected {
    std::vector<std::string> args;
    std::string command;
  };
  const std::vector<Expected> reads = {{{"get", "db", "a"}, "get"},
                                       {{"scan", "db"}, "scan"},
                                       {{"dump", "db"}, "dump"},
                                       {{"verify", "db"}, "verify"}};
  std::vector<std::string> quiet_out;
  for (const Expected& e : reads) {
    RunResult r = RunSombra(dir.path(), e.args);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "") << e.command;
    quiet_out.push_back(r.out);
  }
  {
    sombra::test::DbHolder holder(db);  // puts holder=held, keeps the database open
    for (size_t i = 0; i < reads.size(); ++i) {
      RunResult r = RunSombra(dir.path(), reads[i].args);
      EXPECT_EQ(r.code, 0) << r.err;
      EXPECT_TRUE(IsLiveNote(r.err, reads[i].command, "db")) << r.err;
      if (reads[i].command == "get" || reads[i].command == "verify") {
        EXPECT_EQ(r.out, quiet_out[i]);
      } else {
        EXPECT_EQ(r.out, "a\t1\nholder\theld\n");
      }
    }
    RunResult stats = RunSombra(dir.path(), {"stats", "db"});
    EXPECT_EQ(stats.code, 0) << stats.err;
    EXPECT_TRUE(IsLiveNote(stats.err, "stats", "db")) << stats.err;
    EXPECT_NE(stats.out.find("sequence"), std::string::npos);
    RunResult trees = RunSombra(dir.path(), {"trees", "db"});
    EXPECT_EQ(trees.code, 0) << trees.err;
    EXPECT_TRUE(IsLiveNote(trees.err, "trees", "db")) << trees.err;
    EXPECT_EQ(trees.out, "");  // no named trees
  }
  for (const Expected& e : reads) {
    RunResult r = RunSombra(dir.path(), e.args);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "") << e.command;
  }
}

}  // namespace
}  // namespace sombra::cli::test
