// Read-only handles in other processes beside the writer (docs/design/readers.md,
// docs/format/shm.md), with real processes: every reader and writer below is
// a forked child with its own handles, its own slot of `<path>-shm` and its
// own OFD locks. (db_readers_test.cc runs the same protocol with two handles
// of one process, in a fixed order.)
//
// Rules of this file:
//  - The parent forks every child before it opens any handle of the
//    database (a child would share the parent's open file descriptions, and
//    so its OFD locks on `-shm` and the lock file). A parent handle is
//    opened only once no child is forked any more.
//  - A child never uses gtest (its failures would be lost): it reports
//    "ok ..." or "fail ..." lines through a pipe and leaves with _exit().
//  - The parent reads every pipe with a timeout (poll) and reaps every
//    child, killing it when it does not exit in time: a test never hangs.
//  - Nothing asserted depends on timing: only what the database shows.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "db_test_util.h"
#include "sombra/db.h"
#include "testutil/seed.h"
#include "util/crash_point.h"

namespace sombra::dbtest {
namespace {

using Clock = std::chrono::steady_clock;

int64_t MsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// The pipe ends the parent holds for its children: a child forked later
// closes them all, so that only the parent and the child a pipe belongs to
// hold its ends (EOF then means what it says).
std::vector<int>& ParentFds() {
  static std::vector<int> fds;
  return fds;
}

void ForgetParentFd(int fd) {
  auto& fds = ParentFds();
  fds.erase(std::remove(fds.begin(), fds.end(), fd), fds.end());
}

// One direction of a pipe, as lines of text.
class Channel {
 public:
  Channel() = default;
  explicit Channel(int fd) : fd_(fd) {}

  // One line, without its '\n'. False on timeout, end of file or error
  // (eof() tells the end of file apart).
  bool ReadLine(std::string* line, int timeout_ms) {
    const Clock::time_point start = Clock::now();
    for (;;) {
      const size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        line->assign(buf_, 0, nl);
        buf_.erase(0, nl + 1);
        return true;
      }
      if (fd_ < 0 || eof_) return false;
      const int64_t left = std::max<int64_t>(0, timeout_ms - MsSince(start));
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(left));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return false;
      if (r == 0) return false;  // timeout
      char chunk[4096];
      const ssize_t n = ::read(fd_, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        eof_ = true;
        continue;  // a last whole line may still be buffered
      }
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

  bool WriteLine(std::string line) {
    if (fd_ < 0) return false;
    if (line.size() > 2000) line.resize(2000);  // one short write
    for (char& c : line) {
      if (c == '\n') c = ' ';
    }
    line += '\n';
    size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  bool eof() const { return eof_; }

  void Close() {
    if (fd_ >= 0) {
      ForgetParentFd(fd_);
      ::close(fd_);
    }
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  std::string buf_;
  bool eof_ = false;
};

// A forked child with a pipe each way. The destructor kills and reaps a
// child still running.
class ChildProcess {
 public:
  // What the child runs: reads the parent's lines from `in`, writes its own
  // to `out`; the return value is its exit status.
  using Body = std::function<int(Channel& in, Channel& out)>;

  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() {
    if (pid_ > 0) Kill();
    to_child_.Close();
    from_child_.Close();
  }

  bool Start(const Body& body) {
    int down[2], up[2];
    if (::pipe(down) != 0) return false;
    if (::pipe(up) != 0) {
      ::close(down[0]);
      ::close(down[1]);
      return false;
    }
    std::fflush(nullptr);  // nothing buffered is written twice
    const pid_t pid = ::fork();
    if (pid < 0) {
      for (int fd : {down[0], down[1], up[0], up[1]}) ::close(fd);
      return false;
    }
    if (pid == 0) {
      ::signal(SIGPIPE, SIG_IGN);
      for (int fd : ParentFds()) ::close(fd);
      ::close(down[1]);
      ::close(up[0]);
      Channel in(down[0]);
      Channel out(up[1]);
      int rc = 99;
      try {
        rc = body(in, out);
      } catch (...) {
        out.WriteLine("fail exception in the child");
        rc = 98;
      }
      ::_exit(rc);
    }
    ::close(down[0]);
    ::close(up[1]);
    pid_ = pid;
    to_child_ = Channel(down[1]);
    from_child_ = Channel(up[0]);
    ParentFds().push_back(down[1]);
    ParentFds().push_back(up[0]);
    return true;
  }

  pid_t pid() const { return pid_; }
  Channel& to_child() { return to_child_; }
  Channel& from_child() { return from_child_; }

  // The child's wait status once it exited; when it has not within
  // `timeout_ms`, it is killed (and -1 returned).
  int Wait(int timeout_ms) {
    if (pid_ <= 0) return -1;
    const Clock::time_point start = Clock::now();
    for (;;) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return status;
      }
      if (r < 0 && errno != EINTR) {
        pid_ = -1;
        return -1;
      }
      if (MsSince(start) > timeout_ms) {
        Kill();
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // SIGKILL, then reaps; the wait status.
  int Kill() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGKILL);
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  Channel to_child_;
  Channel from_child_;
};

std::string DescribeStatus(int status) {
  if (status == -1) return "did not exit in time (killed)";
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

bool ExitedZero(int status) {
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// A snapshot's every (key, value), without gtest: false and *err on a
// cursor error.
bool DumpTxn(ReadTxn* txn, KV* out, std::string* err) {
  out->clear();
  auto c = txn->NewCursor();
  for (c->SeekToFirst(); c->Valid(); c->Next()) {
    out->emplace(std::string(c->key()), std::string(c->value()));
  }
  if (!c->status().ok()) {
    *err = "cursor: " + c->status().ToString();
    return false;
  }
  return true;
}

// The opens of a child: null once the failure is reported to the parent
// ("fail open: ..." on `out`).
std::unique_ptr<DB> OpenInChild(const Options& o, const std::string& path, Channel& out) {
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, path, &db);
  if (!s.ok()) out.WriteLine("fail open: " + s.ToString());
  return db;
}

std::unique_ptr<DB> OpenChildReader(const std::string& path, Channel& out) {
  Options o;
  o.read_only = true;
  return OpenInChild(o, path, out);
}

// A writer process: it waits for the lock (the writer before it may still
// be closing), and its log is the smallest, so that it checkpoints, or
// compacts the log under a held snapshot, often.
std::unique_ptr<DB> OpenChildWriter(const std::string& path, Channel& out) {
  Options o;
  o.busy_timeout_ms = 10000;
  o.wal_checkpoint_bytes = uint64_t{1} << 16;
  return OpenInChild(o, path, out);
}

// A child reader's first snapshot, which it holds: null once the failure
// is reported to the parent.
std::unique_ptr<ReadTxn> BeginChildRead(DB* db, Channel& out) {
  std::unique_ptr<ReadTxn> txn;
  Status s = db->BeginRead(&txn);
  if (!s.ok()) {
    out.WriteLine("fail BeginRead: " + s.ToString());
    return nullptr;
  }
  return txn;
}

// The writer in the parent, opened once no child is forked any more: no
// fdatasync, and the smallest log threshold, as OpenChildWriter.
std::unique_ptr<DB> OpenParentWriter(const std::string& path) {
  Options o = FastOptions();
  o.wal_checkpoint_bytes = uint64_t{1} << 16;
  return OpenOrDie(o, path);
}

// The first line of a child, which it writes once set up, is "ready".
::testing::AssertionResult Ready(ChildProcess& child) {
  std::string line;
  if (!child.from_child().ReadLine(&line, 60000)) {
    return ::testing::AssertionFailure() << "the child did not start";
  }
  if (line != "ready") return ::testing::AssertionFailure() << "the child says: " << line;
  return ::testing::AssertionSuccess();
}

uint64_t Metric(DB* db, const std::string& name) {
  Stats s = db->GetStats();
  auto it = s.all.find(name);
  return it == s.all.end() ? 0 : it->second;
}

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%06d", i);
  return buf;
}

class ReaderProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("db");
    // A write to a pipe whose child died is an error, not the end of the
    // test binary.
    old_sigpipe_ = ::signal(SIGPIPE, SIG_IGN);
  }
  void TearDown() override { ::signal(SIGPIPE, old_sigpipe_); }

  test::TempDir dir_;
  std::string path_;
  sighandler_t old_sigpipe_ = SIG_DFL;
};

// ---------------------------------------------------------------------------
// 1. One snapshot held in another process for 20 seconds while the writer
// commits 100,000 transactions and checkpoints 50 times.

std::string InitialValue(int i) { return "initial-" + std::to_string(i) + std::string(60, 'i'); }
std::string UpdatedValue(int t) {
  return "t" + std::to_string(t) + std::string(static_cast<size_t>(10 + t % 70), 'u');
}
std::string NewKey(int t) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "new%07d", t);
  return buf;
}

TEST_F(ReaderProcessTest, HeldSnapshotIsIdenticalWhileWriterCommitsAndCheckpoints) {
  constexpr int kKeys = 2000;
  constexpr int kCommits = 100000;
  constexpr int kCheckpoints = 50;
  constexpr int kHoldMs = 20000;
  constexpr int kNewKeyEvery = 10;  // a transaction in 10 also inserts a key
  {
    auto db = OpenOrDie(FastOptions(), path_);
    ASSERT_NE(db, nullptr);
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(w->Put(Key(i), InitialValue(i)).ok());
    ASSERT_TRUE(w->Commit().ok());
  }  // closed: nothing of it is inherited by the child

  ChildProcess reader;
  ASSERT_TRUE(reader.Start([&](Channel& in, Channel& out) -> int {
    std::unique_ptr<DB> db = OpenChildReader(path_, out);
    if (db == nullptr) return 1;
    std::unique_ptr<ReadTxn> held = BeginChildRead(db.get(), out);
    if (held == nullptr) return 1;
    Status s;
    KV first;
    std::string err;
    if (!DumpTxn(held.get(), &first, &err)) {
      out.WriteLine("fail first dump: " + err);
      return 1;
    }
    KV want;
    for (int i = 0; i < kKeys; ++i) want.emplace(Key(i), InitialValue(i));
    if (std::string d = DiffKV(first, want); !d.empty()) {
      out.WriteLine("fail first dump is not the initial content: " + d);
      return 1;
    }
    out.WriteLine("ready");

    const Clock::time_point start = Clock::now();
    std::string failure;
    int compares = 0;
    bool done = false;
    long long want_counter = -1;
    size_t want_keys = 0;
    // Re-read the held snapshot every second for kHoldMs and until the
    // writer is done.
    while (failure.empty()) {
      std::string line;
      if (!done) {
        if (in.ReadLine(&line, 1000)) {
          unsigned long long c = 0, k = 0;
          if (std::sscanf(line.c_str(), "done %llu %llu", &c, &k) != 2) {
            failure = "unexpected message '" + line + "'";
            break;
          }
          done = true;
          want_counter = static_cast<long long>(c);
          want_keys = static_cast<size_t>(k);
        } else if (in.eof()) {
          failure = "the parent went away";
          break;
        }
      } else {
        std::this_thread::sleep_for(
            std::chrono::milliseconds(std::clamp<int64_t>(kHoldMs - MsSince(start), 0, 1000)));
      }
      KV again;
      if (!DumpTxn(held.get(), &again, &err)) {
        failure = "re-read " + std::to_string(compares) + ": " + err;
        break;
      }
      ++compares;
      if (std::string d = DiffKV(again, first); !d.empty()) {
        failure = "held snapshot changed at re-read " + std::to_string(compares) + " (" +
                  std::to_string(MsSince(start)) + " ms): " + d;
        break;
      }
      if (done && MsSince(start) >= kHoldMs) break;
    }
    const int64_t held_ms = MsSince(start);
    if (failure.empty()) {
      // The writer is done: a new snapshot of the same handle sees its
      // last commit.
      std::unique_ptr<ReadTxn> fresh;
      s = db->BeginRead(&fresh);
      std::string v;
      KV now;
      if (!s.ok()) {
        failure = "new BeginRead: " + s.ToString();
      } else if (Status g = fresh->Get("counter", &v); !g.ok()) {
        failure = "new snapshot: Get(counter): " + g.ToString();
      } else if (v != std::to_string(want_counter)) {
        failure = "new snapshot: counter " + v + ", want " + std::to_string(want_counter);
      } else if (!DumpTxn(fresh.get(), &now, &err)) {
        failure = "new snapshot dump: " + err;
      } else if (now.size() != want_keys) {
        failure = "new snapshot: " + std::to_string(now.size()) + " keys, want " +
                  std::to_string(want_keys);
      }
    }
    if (failure.empty()) {
      // And the held one is still what it was.
      KV again;
      if (!DumpTxn(held.get(), &again, &err)) {
        failure = "last re-read: " + err;
      } else if (std::string d = DiffKV(again, first); !d.empty()) {
        failure = "held snapshot changed after the new BeginRead: " + d;
      }
    }
    held.reset();
    db.reset();
    out.WriteLine(failure.empty() ? "ok compares=" + std::to_string(compares + 1) +
                                        " held_ms=" + std::to_string(held_ms)
                                  : "fail " + failure);
    return failure.empty() ? 0 : 1;
  }));
  ASSERT_TRUE(Ready(reader)) << "reader";

  // The writer (this process, which forks nothing from here on).
  auto writer = OpenParentWriter(path_);
  ASSERT_NE(writer, nullptr);
  const Clock::time_point start = Clock::now();
  size_t keys = kKeys;
  for (int t = 1; t <= kCommits; ++t) {
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(writer->BeginWrite(&w).ok());
    ASSERT_TRUE(w->Put(Key(t % kKeys), UpdatedValue(t)).ok());
    if (t % kNewKeyEvery == 0) {
      ASSERT_TRUE(w->Put(NewKey(t), UpdatedValue(t)).ok());
      ++keys;
    }
    ASSERT_TRUE(w->Put("counter", std::to_string(t)).ok());
    Status s = w->Commit();
    ASSERT_TRUE(s.ok()) << "commit " << t << ": " << s.ToString();
    if (t % (kCommits / kCheckpoints) == 0) {
      s = writer->Checkpoint();
      ASSERT_TRUE(s.ok()) << "checkpoint after commit " << t << ": " << s.ToString();
      // Spread over the reader's hold, so that its re-reads fall between
      // commits from start to end (a pace, not an assertion).
      const int64_t due = int64_t{kHoldMs} * (t / (kCommits / kCheckpoints)) / kCheckpoints;
      if (MsSince(start) < due) {
        std::this_thread::sleep_for(std::chrono::milliseconds(due - MsSince(start)));
      }
    }
  }
  ++keys;  // "counter"
  const int64_t write_ms = MsSince(start);
  // The reader held its first snapshot all along: every checkpoint of the
  // log threshold and every explicit one was put off.
  EXPECT_GT(Metric(writer.get(), "checkpoints_limited_by_readers"), 0u);
  ASSERT_TRUE(
      reader.to_child().WriteLine("done " + std::to_string(kCommits) + " " + std::to_string(keys)));
  std::string line;
  const bool got = reader.from_child().ReadLine(&line, 120000);
  EXPECT_TRUE(got) << "no report from the reader";
  EXPECT_TRUE(StartsWith(line, "ok ")) << line;
  const int status = reader.Wait(60000);
  EXPECT_TRUE(ExitedZero(status)) << "reader: " << DescribeStatus(status);
  std::printf(
      "[ info     ] %d commits in %lld ms; reader: %s; limited checkpoints: %llu\n", kCommits,
      static_cast<long long>(write_ms), line.c_str(),
      static_cast<unsigned long long>(Metric(writer.get(), "checkpoints_limited_by_readers")));

  // The reader is gone: the next checkpoint writes everything and restarts
  // the log.
  ASSERT_TRUE(writer->Checkpoint().ok());
  EXPECT_EQ(writer->GetStats().wal_file_bytes, 0u);
  std::string v;
  ASSERT_TRUE(writer->Get("counter", &v).ok());
  EXPECT_EQ(v, std::to_string(kCommits));
  EXPECT_TRUE(writer->Verify().ok());
}

// ---------------------------------------------------------------------------
// 2. Short-lived writer processes, one after another, against readers that
// scan without pause: every scan is one commit's state, whole.

std::string WriterKey(int writer, int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "w%03d-%03d", writer, i);
  return buf;
}

// Scans a snapshot: the number of keys besides "count" must be its value,
// and each value its key's. "" or what is wrong; *count the value seen.
std::string CheckCountedScan(ReadTxn* txn, long long* count) {
  std::string v;
  Status s = txn->Get("count", &v);
  if (!s.ok()) return "Get(count): " + s.ToString();
  *count = std::atoll(v.c_str());
  long long keys = 0;
  auto c = txn->NewCursor();
  for (c->SeekToFirst(); c->Valid(); c->Next()) {
    if (c->key() == "count") continue;
    if (c->value() != std::string(c->key()) + "=v") {
      return "key " + std::string(c->key()) + " has value " + std::string(c->value());
    }
    ++keys;
  }
  if (!c->status().ok()) return "cursor: " + c->status().ToString();
  if (keys != *count) {
    return "scan saw " + std::to_string(keys) + " keys but count " + v;
  }
  return "";
}

TEST_F(ReaderProcessTest, ShortWritersAgainstScanningReaders) {
  constexpr int kReaders = 4;
  constexpr int kWriters = 200;
  constexpr int kKeysPerWriter = 100;
  {
    auto db = OpenOrDie(FastOptions(), path_);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Put("count", "0").ok());
  }

  std::vector<std::unique_ptr<ChildProcess>> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.push_back(std::make_unique<ChildProcess>());
    ASSERT_TRUE(readers.back()->Start([&](Channel& in, Channel& out) -> int {
      std::unique_ptr<DB> db = OpenChildReader(path_, out);  // once, for the whole run
      if (db == nullptr) return 1;
      Status s;
      long long scans = 0, last = -1, distinct = 0;
      long long want = -1;
      std::string failure;
      for (;;) {
        std::string line;
        // A pause of a millisecond between scans leaves the writers some of
        // the machine (four readers on two cores would starve them).
        if (in.ReadLine(&line, scans == 0 ? 0 : 1)) {
          if (std::sscanf(line.c_str(), "stop %lld", &want) != 1) {
            failure = "unexpected message '" + line + "'";
          }
          break;
        }
        if (in.eof()) {
          failure = "the parent went away";
          break;
        }
        std::unique_ptr<ReadTxn> txn;
        s = db->BeginRead(&txn);
        if (!s.ok()) {
          failure = "BeginRead at scan " + std::to_string(scans) + ": " + s.ToString();
          break;
        }
        long long count = 0;
        failure = CheckCountedScan(txn.get(), &count);
        if (!failure.empty()) break;
        if (count < last) {
          failure = "count went back from " + std::to_string(last) + " to " + std::to_string(count);
          break;
        }
        if (count != last) ++distinct;
        last = count;
        if (scans++ == 0) out.WriteLine("ready");
      }
      if (failure.empty()) {
        // Every writer has committed and exited: a new snapshot sees all.
        std::unique_ptr<ReadTxn> txn;
        s = db->BeginRead(&txn);
        long long count = 0;
        if (!s.ok()) {
          failure = "last BeginRead: " + s.ToString();
        } else {
          failure = CheckCountedScan(txn.get(), &count);
          if (failure.empty() && count != want) {
            failure =
                "last scan: count " + std::to_string(count) + ", want " + std::to_string(want);
          }
        }
      }
      db.reset();
      out.WriteLine(failure.empty() ? "ok scans=" + std::to_string(scans) +
                                          " states=" + std::to_string(distinct)
                                    : "fail " + failure);
      return failure.empty() ? 0 : 1;
    }));
  }
  for (int r = 0; r < kReaders; ++r) ASSERT_TRUE(Ready(*readers[r])) << "reader " << r;

  const Clock::time_point start = Clock::now();
  for (int w = 0; w < kWriters; ++w) {
    ChildProcess writer;
    ASSERT_TRUE(writer.Start([&](Channel&, Channel& out) -> int {
      std::unique_ptr<DB> db = OpenChildWriter(path_, out);
      if (db == nullptr) return 1;
      std::string failure = [&]() -> std::string {
        std::unique_ptr<WriteTxn> txn;
        Status st = db->BeginWrite(&txn);
        if (!st.ok()) return "BeginWrite: " + st.ToString();
        std::string v;
        st = txn->Get("count", &v);
        if (!st.ok()) return "Get(count): " + st.ToString();
        // Every writer before this one committed and closed.
        if (v != std::to_string(w * kKeysPerWriter)) {
          return "count " + v + " at writer " + std::to_string(w);
        }
        for (int i = 0; i < kKeysPerWriter; ++i) {
          st = txn->Put(WriterKey(w, i), WriterKey(w, i) + "=v");
          if (!st.ok()) return "Put: " + st.ToString();
        }
        st = txn->Put("count", std::to_string((w + 1) * kKeysPerWriter));
        if (!st.ok()) return "Put(count): " + st.ToString();
        st = txn->Commit();
        if (!st.ok()) return "Commit: " + st.ToString();
        return "";
      }();
      db.reset();
      out.WriteLine(failure.empty() ? "ok" : "fail " + failure);
      return failure.empty() ? 0 : 1;
    }));
    std::string line;
    const bool got = writer.from_child().ReadLine(&line, 60000);
    const int status = writer.Wait(60000);
    ASSERT_TRUE(got && line == "ok" && ExitedZero(status))
        << "writer " << w << ": " << line << ", " << DescribeStatus(status);
  }
  const int64_t write_ms = MsSince(start);

  for (int r = 0; r < kReaders; ++r) {
    EXPECT_TRUE(
        readers[r]->to_child().WriteLine("stop " + std::to_string(kWriters * kKeysPerWriter)));
  }
  for (int r = 0; r < kReaders; ++r) {
    std::string line;
    const bool got = readers[r]->from_child().ReadLine(&line, 60000);
    EXPECT_TRUE(got && StartsWith(line, "ok ")) << "reader " << r << ": " << line;
    const int status = readers[r]->Wait(60000);
    EXPECT_TRUE(ExitedZero(status)) << "reader " << r << ": " << DescribeStatus(status);
    std::printf("[ info     ] reader %d: %s\n", r, line.c_str());
  }
  std::printf("[ info     ] %d writers in %lld ms\n", kWriters, static_cast<long long>(write_ms));

  // Every process is gone: this one may open.
  auto db = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db, nullptr);
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(db->BeginRead(&txn).ok());
  long long count = 0;
  EXPECT_EQ(CheckCountedScan(txn.get(), &count), "");
  EXPECT_EQ(count, kWriters * kKeysPerWriter);
  txn.reset();
  EXPECT_TRUE(db->Verify().ok());
}

// ---------------------------------------------------------------------------
// 3. A reader killed while it holds a snapshot holds the checkpoints back
// no longer than the next one after its death.

TEST_F(ReaderProcessTest, KilledReaderSlotIsReclaimed) {
  {
    auto db = OpenOrDie(FastOptions(), path_);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Put("first", "1").ok());
  }
  ChildProcess reader;
  ASSERT_TRUE(reader.Start([&](Channel& in, Channel& out) -> int {
    std::unique_ptr<DB> db = OpenChildReader(path_, out);
    if (db == nullptr) return 1;
    std::unique_ptr<ReadTxn> held;
    Status s = db->BeginRead(&held);
    std::string v;
    if (!s.ok() || !held->Get("first", &v).ok() || v != "1") {
      out.WriteLine("fail BeginRead: " + s.ToString());
      return 1;
    }
    out.WriteLine("ready");
    std::string line;
    while (!in.ReadLine(&line, 1000) && !in.eof()) {
    }  // until killed (or the parent goes away)
    return 0;
  }));
  ASSERT_TRUE(Ready(reader)) << "reader";

  auto writer = OpenParentWriter(path_);
  ASSERT_NE(writer, nullptr);
  // Well past the log threshold (300 KB of records).
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(writer->Put(Key(i), std::string(1000, static_cast<char>('a' + i % 26))).ok());
  }
  const uint64_t limited = Metric(writer.get(), "checkpoints_limited_by_readers");
  EXPECT_GT(limited, 0u);  // the automatic ones
  ASSERT_TRUE(writer->Checkpoint().ok());
  EXPECT_EQ(Metric(writer.get(), "checkpoints_limited_by_readers"), limited + 1);
  EXPECT_GT(writer->GetStats().wal_file_bytes, 0u);

  const int status = reader.Kill();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << DescribeStatus(status);

  // The dead reader's slot still holds its LSN, but its lock is gone: the
  // next checkpoint clears it and goes through.
  ASSERT_TRUE(writer->Checkpoint().ok());
  EXPECT_EQ(Metric(writer.get(), "checkpoints_limited_by_readers"), limited + 1);
  EXPECT_EQ(writer->GetStats().wal_file_bytes, 0u);
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(writer->BeginRead(&txn).ok());
  std::string v;
  ASSERT_TRUE(txn->Get(Key(299), &v).ok());
  EXPECT_EQ(v, std::string(1000, static_cast<char>('a' + 299 % 26)));
  txn.reset();
  EXPECT_TRUE(writer->Verify().ok());
}

// ---------------------------------------------------------------------------
// 4. The writer process dies at each of the kill test's crash points
// (util/crash_point.h), armed for a random occurrence, while reader
// processes follow the log: a log write not yet synced, a commit synced
// but not published, a compaction synced beside the log (readers hold a
// snapshot, so checkpoints are put off and the log compacted), and a
// checkpoint before and after its meta page (readers take only short
// snapshots, so checkpoints go through).

constexpr int kBaseKeys = 300;

std::string BaseKey(int j) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "base%04d", j);
  return buf;
}
std::string BaseInitial(int j) { return "initial-" + std::to_string(j); }
std::string BaseAfter(long long i) { return "base-by-" + std::to_string(i); }
std::string TxnKey(long long i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "w%07lld", i);
  return buf;
}
// Short: the log of such transactions outgrows twice the pages they
// change, so a held snapshot makes the writer compact the log.
std::string TxnValue(long long i) {
  return "txn-" + std::to_string(i) + std::string(static_cast<size_t>((i * 37) % 16), 'x');
}

// Transaction i (from 1) writes TxnKey(i), BaseKey(i % kBaseKeys) and
// count = i. The state after transaction c, exactly; "" or what differs.
struct CrashRound {
  const char* point;
  long first, spread;  // armed for occurrence first + rng() % spread
  bool readers_hold;   // the readers hold a snapshot during the round
};
constexpr CrashRound kCrashRounds[] = {
    {kCrashWalWrite, 20, 200, true}, {kCrashAfterWalSync, 20, 200, true},
    {kCrashBeforeCarry, 1, 3, true}, {kCrashBeforeMeta, 1, 5, false},
    {kCrashAfterMeta, 1, 5, false},
};

std::string CheckCrashState(ReadTxn* txn, long long* count) {
  std::string v;
  Status s = txn->Get("count", &v);
  if (!s.ok()) return "Get(count): " + s.ToString();
  const long long c = std::atoll(v.c_str());
  *count = c;
  KV got;
  std::string err;
  if (!DumpTxn(txn, &got, &err)) return err;
  KV want;
  want.emplace("count", v);
  for (int j = 0; j < kBaseKeys; ++j) {
    // The last transaction i <= c with i % kBaseKeys == j, if any.
    long long i = c - (((c - j) % kBaseKeys) + kBaseKeys) % kBaseKeys;
    want.emplace(BaseKey(j), i >= 1 ? BaseAfter(i) : BaseInitial(j));
  }
  for (long long i = 1; i <= c; ++i) want.emplace(TxnKey(i), TxnValue(i));
  std::string d = DiffKV(got, want);
  return d.empty() ? "" : "state of count " + v + ": " + d;
}

TEST_F(ReaderProcessTest, WriterCrashWhileReadersHoldSnapshots) {
  constexpr int kReaders = 2;
  constexpr int kRounds = static_cast<int>(std::size(kCrashRounds));
  std::mt19937_64 rng(test::TestSeed());
  {
    auto db = OpenOrDie(FastOptions(), path_);
    ASSERT_NE(db, nullptr);
    std::unique_ptr<WriteTxn> w;
    ASSERT_TRUE(db->BeginWrite(&w).ok());
    for (int j = 0; j < kBaseKeys; ++j) ASSERT_TRUE(w->Put(BaseKey(j), BaseInitial(j)).ok());
    ASSERT_TRUE(w->Put("count", "0").ok());
    ASSERT_TRUE(w->Commit().ok());
  }

  // Readers: hold the first snapshot and re-read it, check a new snapshot
  // at each turn, and answer the parent:
  //   "probe"     -> "count C" (a new snapshot's count) or "fail ..."
  //   "expect C"  -> "ok" when a new snapshot is exactly the state after C
  //   "final C"   -> the same, then the reader closes and exits
  //   "release"   -> "ok": the held snapshot is given up
  //   "hold"      -> "ok": a new snapshot is held (and its content kept)
  std::vector<std::unique_ptr<ChildProcess>> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.push_back(std::make_unique<ChildProcess>());
    ASSERT_TRUE(readers.back()->Start([&](Channel& in, Channel& out) -> int {
      std::unique_ptr<DB> db = OpenChildReader(path_, out);
      if (db == nullptr) return 1;
      std::unique_ptr<ReadTxn> held = BeginChildRead(db.get(), out);
      if (held == nullptr) return 1;
      Status s;
      long long held_count = -1;
      std::string failure = CheckCrashState(held.get(), &held_count);
      KV first;
      std::string err;
      if (failure.empty() && !DumpTxn(held.get(), &first, &err)) failure = err;
      if (!failure.empty()) {
        out.WriteLine("fail first snapshot: " + failure);
        return 1;
      }
      out.WriteLine("ready");
      long long rereads = 0, scans = 0, last = -1;
      // A new snapshot, checked whole; its count in *count.
      auto fresh = [&](long long* count) -> std::string {
        std::unique_ptr<ReadTxn> txn;
        Status st = db->BeginRead(&txn);
        if (!st.ok()) return "BeginRead: " + st.ToString();
        ++scans;
        std::string f = CheckCrashState(txn.get(), count);
        if (f.empty() && *count < last) {
          f = "count went back from " + std::to_string(last) + " to " + std::to_string(*count);
        }
        last = *count;
        return f;
      };
      for (;;) {
        std::string line;
        if (in.ReadLine(&line, 20)) {
          long long want = -1;
          if (line == "probe") {
            long long count = -1;
            if (failure.empty()) failure = fresh(&count);
            out.WriteLine(failure.empty() ? "count " + std::to_string(count) : "fail " + failure);
          } else if (line == "release" || line == "hold") {
            held.reset();
            first.clear();
            if (line == "hold" && failure.empty()) {
              s = db->BeginRead(&held);
              if (!s.ok()) {
                failure = "BeginRead: " + s.ToString();
              } else if (!DumpTxn(held.get(), &first, &err)) {
                failure = err;
              }
            }
            out.WriteLine(failure.empty() ? "ok" : "fail " + failure);
          } else if (std::sscanf(line.c_str(), "expect %lld", &want) == 1 ||
                     std::sscanf(line.c_str(), "final %lld", &want) == 1) {
            long long count = -1;
            if (failure.empty()) failure = fresh(&count);
            if (failure.empty() && count != want) {
              failure = "new snapshot has count " + std::to_string(count) + ", want " +
                        std::to_string(want);
            }
            KV again;
            if (failure.empty() && held && !DumpTxn(held.get(), &again, &err)) failure = err;
            if (failure.empty() && held) {
              ++rereads;
              if (std::string d = DiffKV(again, first); !d.empty()) {
                failure = "held snapshot changed: " + d;
              }
            }
            const bool is_final = StartsWith(line, "final");
            out.WriteLine(failure.empty() ? "ok rereads=" + std::to_string(rereads) +
                                                " scans=" + std::to_string(scans)
                                          : "fail " + failure);
            if (is_final) break;
          } else {
            out.WriteLine("fail unexpected message '" + line + "'");
            return 1;
          }
          continue;
        }
        if (in.eof()) return 1;  // the parent went away
        if (!failure.empty()) continue;
        // Between messages: the held snapshot again, and a new one.
        KV again;
        if (held && !DumpTxn(held.get(), &again, &err)) {
          failure = "re-read: " + err;
          continue;
        }
        if (held) ++rereads;
        if (std::string d = DiffKV(again, first); !d.empty()) {
          failure = "held snapshot changed at re-read " + std::to_string(rereads) + ": " + d;
          continue;
        }
        long long count = -1;
        failure = fresh(&count);
      }
      held.reset();
      db.reset();
      return failure.empty() ? 0 : 1;
    }));
  }
  for (int r = 0; r < kReaders; ++r) ASSERT_TRUE(Ready(*readers[r])) << "reader " << r;
  // Every reader answers `message` with a line starting `want`; their lines.
  auto ask_readers = [&](const std::string& message) {
    std::vector<std::string> answers;
    for (auto& r : readers) EXPECT_TRUE(r->to_child().WriteLine(message));
    for (size_t r = 0; r < readers.size(); ++r) {
      std::string line;
      if (!readers[r]->from_child().ReadLine(&line, 60000)) line = "(no answer)";
      answers.push_back(line);
    }
    return answers;
  };

  long long count = 0;  // the recovered state's count
  bool holding = true;  // the readers hold a snapshot
  for (int round = 0; round < kRounds; ++round) {
    const CrashRound plan = kCrashRounds[round];
    const long crash_after = plan.first + static_cast<long>(rng() % plan.spread);
    SCOPED_TRACE("round " + std::to_string(round) + ": " + plan.point + " #" +
                 std::to_string(crash_after));
    if (holding != plan.readers_hold) {
      for (const std::string& answer : ask_readers(plan.readers_hold ? "hold" : "release")) {
        ASSERT_EQ(answer, "ok");
      }
      holding = plan.readers_hold;
    }
    // The writer: durability full, a small log (checkpoints put off by
    // readers holding a snapshot compact it), a checkpoint every 40
    // commits; reports each commit once Commit returned; dies at its
    // armed crash point.
    ChildProcess writer;
    ASSERT_TRUE(writer.Start([&](Channel&, Channel& out) -> int {
      std::unique_ptr<DB> db = OpenChildWriter(path_, out);
      if (db == nullptr) return 1;
      std::string v;
      Status s = db->Get("count", &v);
      if (!s.ok()) {
        out.WriteLine("fail Get(count): " + s.ToString());
        return 1;
      }
      const long long from = std::atoll(v.c_str());
      out.WriteLine("ready " + v);
      ArmCrashPoint(plan.point, crash_after);
      for (long long i = from + 1; i <= from + 20000; ++i) {
        std::unique_ptr<WriteTxn> txn;
        s = db->BeginWrite(&txn);
        if (s.ok()) s = txn->Put(TxnKey(i), TxnValue(i));
        if (s.ok()) s = txn->Put(BaseKey(static_cast<int>(i % kBaseKeys)), BaseAfter(i));
        if (s.ok()) s = txn->Put("count", std::to_string(i));
        if (s.ok()) s = txn->Commit();
        if (!s.ok()) {
          out.WriteLine("fail transaction " + std::to_string(i) + ": " + s.ToString());
          return 1;
        }
        out.WriteLine("ack " + std::to_string(i));
        if (i % 40 == 0) {
          s = db->Checkpoint();
          if (!s.ok()) {
            out.WriteLine("fail checkpoint: " + s.ToString());
            return 1;
          }
        }
      }
      out.WriteLine("fail never killed");
      return 1;
    }));
    std::string line;
    ASSERT_TRUE(writer.from_child().ReadLine(&line, 60000)) << "the writer did not start";
    ASSERT_EQ(line, "ready " + std::to_string(count));
    // Every ack until the writer dies at its crash point.
    long long acked = count;
    while (writer.from_child().ReadLine(&line, 120000)) {
      long long i = 0;
      ASSERT_EQ(std::sscanf(line.c_str(), "ack %lld", &i), 1) << line;
      ASSERT_EQ(i, acked + 1);
      acked = i;
    }
    ASSERT_TRUE(writer.from_child().eof()) << "the writer hangs after ack " << acked;
    const int status = writer.Wait(60000);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << DescribeStatus(status);
    std::printf("[ info     ] round %d: died at %s #%ld after ack %lld\n", round, plan.point,
                crash_after, acked);

    // What the readers see with the writer dead: at least every ack, at
    // most the transaction in flight besides.
    std::vector<long long> seen;
    for (const std::string& answer : ask_readers("probe")) {
      long long x = -1;
      ASSERT_EQ(std::sscanf(answer.c_str(), "count %lld", &x), 1) << answer;
      EXPECT_GE(x, acked);
      EXPECT_LE(x, acked + 1);
      seen.push_back(x);
    }

    // A new writer recovers exactly the acknowledged transactions (and at
    // most the one in flight), whole.
    ChildProcess checker;
    ASSERT_TRUE(checker.Start([&](Channel&, Channel& out) -> int {
      std::unique_ptr<DB> db = OpenChildWriter(path_, out);
      if (db == nullptr) return 1;
      std::string failure;
      long long c = -1;
      Status s;
      {
        std::unique_ptr<ReadTxn> txn;
        s = db->BeginRead(&txn);
        failure = s.ok() ? CheckCrashState(txn.get(), &c) : "BeginRead: " + s.ToString();
      }
      if (failure.empty()) {
        s = db->Verify();
        if (!s.ok()) failure = "Verify: " + s.ToString();
      }
      db.reset();
      out.WriteLine(failure.empty() ? "count " + std::to_string(c) : "fail " + failure);
      return failure.empty() ? 0 : 1;
    }));
    const bool got = checker.from_child().ReadLine(&line, 60000);
    const int checker_status = checker.Wait(60000);
    ASSERT_TRUE(got) << "no answer from the new writer";
    EXPECT_TRUE(ExitedZero(checker_status)) << DescribeStatus(checker_status);
    long long recovered = -1;
    ASSERT_EQ(std::sscanf(line.c_str(), "count %lld", &recovered), 1) << line;
    EXPECT_GE(recovered, acked);
    EXPECT_LE(recovered, acked + 1);
    for (long long x : seen) EXPECT_LE(x, recovered) << "a reader saw more than was recovered";
    std::printf("[ info     ] round %d: readers saw %lld and %lld, recovered %lld\n", round,
                seen[0], seen[1], recovered);
    count = recovered;

    // Readers see the recovered state; their held snapshot is unchanged.
    for (const std::string& answer :
         ask_readers((round + 1 < kRounds ? "expect " : "final ") + std::to_string(count))) {
      EXPECT_TRUE(StartsWith(answer, "ok ")) << answer;
      std::printf("[ info     ] reader: %s\n", answer.c_str());
    }
    if (HasFatalFailure()) return;
  }
  for (size_t r = 0; r < readers.size(); ++r) {
    const int status = readers[r]->Wait(60000);
    EXPECT_TRUE(ExitedZero(status)) << "reader " << r << ": " << DescribeStatus(status);
  }

  // Every process is gone: the last checker's log is checkpointed by this
  // writer, which sees the same state.
  auto db = OpenOrDie(FastOptions(), path_);
  ASSERT_NE(db, nullptr);
  {
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(db->BeginRead(&txn).ok());
    long long c = -1;
    EXPECT_EQ(CheckCrashState(txn.get(), &c), "");
    EXPECT_EQ(c, count);
  }
  ASSERT_TRUE(db->Checkpoint().ok());
  EXPECT_EQ(db->GetStats().wal_file_bytes, 0u);
  EXPECT_TRUE(db->Verify().ok());
}

}  // namespace
}  // namespace sombra::dbtest
