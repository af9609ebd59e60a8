// bench/held_reader_log.cc: how the log (`<path>-wal`) grows while a
// read-only handle in another process holds one snapshot (docs/micro-
// benchmarks.md, "The log under a held reader"). A plain executable, not a
// test and not a Google Benchmark.
//
// The process forks before any handle is opened (OFD locks and the reader
// table's slots are shared across fork). Then:
//
//   parent (writer)                       child (read-only handle)
//   open, load --keys keys, checkpoint    waits
//   commit for --before s (no reader)
//   "open" ---------------------------->  opens read_only, BeginRead, one Get
//   waits   <---------------------------  "held"
//   commit for --hold s (t = 0 .. hold)   holds the ReadTxn
//   "release" ------------------------->  destroys the ReadTxn, closes
//   waits   <---------------------------  "ended"
//   commit for --after s
//
// Every commit is DB::Put of one 8-byte key (uniform over the loaded keys)
// with an 8-byte value: one transaction each. Once a second (and at each
// phase change) it prints a row: seconds since the reader took its
// snapshot, the phase, the size of the -wal file (stat st_size and the
// allocated st_blocks * 512), the bytes of the current log generation
// (Stats::wal_file_bytes), commits so far, and the counters that say what
// the checkpoints did. At the end, the growth per commit of each phase.
//
// Usage: held_reader_log [--dir=DIR] [--hold=60] [--after=10] [--before=5]
//          [--keys=100000] [--checkpoint-bytes=N] [--durability=normal|off|full]
//          [--workload=update|append] [--csv=FILE]
// --workload=append puts new keys (ascending after the loaded ones) instead
// of updating loaded keys: the database grows, and so does the set of
// pages changed since the last checkpoint.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "sombra/db.h"

namespace {

using sombra::DB;
using sombra::Options;
using sombra::Status;

struct Args {
  std::string dir;
  double hold = 60;
  double after = 10;
  double before = 5;
  uint64_t keys = 100000;
  uint64_t checkpoint_bytes = Options().wal_checkpoint_bytes;
  sombra::Durability durability = sombra::Durability::kNormal;
  std::string durability_name = "normal";
  std::string csv;
  bool append = false;
};

[[noreturn]] void Die(const char* who, const std::string& what) {
  std::fprintf(stderr, "held_reader_log (%s): %s\n", who, what.c_str());
  std::exit(1);
}

bool Flag(const char* arg, const char* name, std::string* value) {
  const size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  *value = arg + n + 1;
  return true;
}

Args Parse(int argc, char** argv) {
  Args a;
  const char* tmp = std::getenv("TMPDIR");
  a.dir = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/sombra-held-reader-" +
          std::to_string(getpid());
  for (int i = 1; i < argc; ++i) {
    std::string v;
    if (Flag(argv[i], "--dir", &v)) {
      a.dir = v;
    } else if (Flag(argv[i], "--hold", &v)) {
      a.hold = std::stod(v);
    } else if (Flag(argv[i], "--after", &v)) {
      a.after = std::stod(v);
    } else if (Flag(argv[i], "--before", &v)) {
      a.before = std::stod(v);
    } else if (Flag(argv[i], "--keys", &v)) {
      a.keys = std::stoull(v);
    } else if (Flag(argv[i], "--checkpoint-bytes", &v)) {
      a.checkpoint_bytes = std::stoull(v);
    } else if (Flag(argv[i], "--durability", &v)) {
      a.durability_name = v;
      if (v == "normal") {
        a.durability = sombra::Durability::kNormal;
      } else if (v == "off") {
        a.durability = sombra::Durability::kOff;
      } else if (v == "full") {
        a.durability = sombra::Durability::kFull;
      } else {
        Die("args", "--durability must be normal, off or full");
      }
    } else if (Flag(argv[i], "--workload", &v)) {
      if (v != "update" && v != "append") Die("args", "--workload must be update or append");
      a.append = v == "append";
    } else if (Flag(argv[i], "--csv", &v)) {
      a.csv = v;
    } else {
      Die("args", std::string("unknown argument ") + argv[i]);
    }
  }
  if (a.keys == 0) Die("args", "--keys must be > 0");
  return a;
}

void EncodeBE(uint64_t v, char* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

void WriteByte(int fd, char c, const char* who) {
  if (write(fd, &c, 1) != 1) Die(who, "pipe write failed");
}

char ReadByte(int fd, const char* who) {
  char c = 0;
  if (read(fd, &c, 1) != 1) Die(who, "pipe closed");
  return c;
}

// The child: opens read-only when told, holds one ReadTxn until told.
int Child(const std::string& path, int in, int out) {
  if (ReadByte(in, "child") != 'o') Die("child", "unexpected message");
  Options o;
  o.read_only = true;
  o.create_if_missing = false;
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, path, &db);
  if (!s.ok()) Die("child", "open read-only: " + s.ToString());
  std::unique_ptr<sombra::ReadTxn> txn;
  s = db->BeginRead(&txn);
  if (!s.ok()) Die("child", "BeginRead: " + s.ToString());
  char k[8];
  EncodeBE(0, k);
  std::string v;
  s = txn->Get(std::string_view(k, 8), &v);
  if (!s.ok()) Die("child", "Get: " + s.ToString());
  std::fprintf(stderr, "child %d: holding a snapshot at sequence %" PRIu64 "\n", getpid(),
               txn->Sequence());
  WriteByte(out, 'h', "child");
  if (ReadByte(in, "child") != 'r') Die("child", "unexpected message");
  txn.reset();
  db.reset();
  WriteByte(out, 'e', "child");
  return 0;
}

struct Row {
  double t;
  const char* phase;
  uint64_t st_size;
  uint64_t st_alloc;
  uint64_t log_bytes;  // Stats::wal_file_bytes
  uint64_t commits;
  uint64_t wal_bytes_appended;  // Stats::wal_bytes, cumulative
  uint64_t checkpoints;
  uint64_t limited;
  uint64_t carried_pages;
  uint64_t versions;
};

uint64_t Counter(const sombra::Stats& st, const char* name) {
  auto it = st.all.find(name);
  return it == st.all.end() ? 0 : it->second;
}

class Writer {
 public:
  Writer(const Args& a, const std::string& path) : args_(a), path_(path), rng_(20240601) {}

  void Open() {
    Options o;
    o.durability = args_.durability;
    o.wal_checkpoint_bytes = args_.checkpoint_bytes;
    Status s = DB::Open(o, path_, &db_);
    if (!s.ok()) Die("parent", "open: " + s.ToString());
    char k[8], v[8];
    for (uint64_t i = 0; i < args_.keys;) {
      std::unique_ptr<sombra::WriteTxn> w;
      s = db_->BeginWrite(&w);
      if (!s.ok()) Die("parent", "BeginWrite: " + s.ToString());
      for (uint64_t end = std::min(args_.keys, i + 10000); i < end; ++i) {
        EncodeBE(i, k);
        EncodeBE(i, v);
        s = w->Put(std::string_view(k, 8), std::string_view(v, 8));
        if (!s.ok()) Die("parent", "Put: " + s.ToString());
      }
      s = w->Commit();
      if (!s.ok()) Die("parent", "Commit: " + s.ToString());
    }
    s = db_->Checkpoint();
    if (!s.ok()) Die("parent", "Checkpoint: " + s.ToString());
    base_commits_ = Counter(db_->GetStats(), "commits");
  }

  // Commits until `seconds` have passed since `start_offset` on the clock
  // whose 0 is hold_start_, sampling at each whole second.
  void CommitUntil(double until, const char* phase) {
    char k[8], v[8];
    Sample(phase);
    for (;;) {
      const double t = Now();
      if (t >= until) break;
      if (t >= next_sample_) Sample(phase);
      for (int j = 0; j < 16; ++j) {  // the clock once per 16 commits
        EncodeBE(args_.append ? next_key_++ : rng_() % args_.keys, k);
        EncodeBE(rng_(), v);
        Status s = db_->Put(std::string_view(k, 8), std::string_view(v, 8));
        if (!s.ok()) Die("parent", "Put: " + s.ToString());
      }
    }
    Sample(phase);
  }

  void Sample(const char* phase) {
    Row r{};
    r.t = Now();
    r.phase = phase;
    struct stat st {};
    if (stat((path_ + "-wal").c_str(), &st) == 0) {
      r.st_size = static_cast<uint64_t>(st.st_size);
      r.st_alloc = static_cast<uint64_t>(st.st_blocks) * 512;
    }
    const sombra::Stats s = db_->GetStats();
    r.log_bytes = s.wal_file_bytes;
    r.commits = Counter(s, "commits") - base_commits_;
    r.wal_bytes_appended = s.wal_bytes;
    r.checkpoints = s.checkpoints;
    r.limited = Counter(s, "checkpoints_limited_by_readers");
    r.carried_pages = Counter(s, "wal_carried_pages");
    r.versions = s.versions_in_memory;
    std::printf("%7.2f  %-7s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %9" PRIu64 " %6" PRIu64
                " %7" PRIu64 " %8" PRIu64 " %9" PRIu64 "\n",
                r.t, r.phase, r.st_size, r.st_alloc, r.log_bytes, r.commits, r.checkpoints,
                r.limited, r.carried_pages, r.versions);
    std::fflush(stdout);
    rows_.push_back(r);
    next_sample_ = std::floor(r.t) + 1;
  }

  void SetZero() { zero_ = std::chrono::steady_clock::now(); }
  void SetZeroAt(double offset) {  // the clock reads -offset now
    zero_ = std::chrono::steady_clock::now() +
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                std::chrono::duration<double>(offset));
  }
  double Now() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - zero_).count();
  }

  void Close() { db_.reset(); }
  const std::vector<Row>& rows() const { return rows_; }

 private:
  const Args& args_;
  const std::string path_;
  std::mt19937_64 rng_;
  std::unique_ptr<DB> db_;
  uint64_t base_commits_ = 0;
  uint64_t next_key_ = args_.keys;  // --workload=append
  std::chrono::steady_clock::time_point zero_;
  double next_sample_ = 1;
  std::vector<Row> rows_;
};

void Summary(const std::vector<Row>& rows, const char* phase) {
  const Row* first = nullptr;
  const Row* last = nullptr;
  // Growth of the log between consecutive samples with no checkpoint and
  // no carried log between them (the file itself is preallocated, so its
  // st_size moves in steps).
  uint64_t growth = 0;
  uint64_t grow_commits = 0;
  double grow_secs = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (std::strcmp(rows[i].phase, phase) != 0) continue;
    if (first == nullptr) first = &rows[i];
    if (last != nullptr && rows[i].log_bytes >= last->log_bytes &&
        rows[i].checkpoints == last->checkpoints && rows[i].carried_pages == last->carried_pages) {
      growth += rows[i].log_bytes - last->log_bytes;
      grow_commits += rows[i].commits - last->commits;
      grow_secs += rows[i].t - last->t;
    }
    last = &rows[i];
  }
  if (first == nullptr || last == first) return;
  uint64_t max_log = 0, max_size = 0;
  for (const Row& r : rows) {
    if (std::strcmp(r.phase, phase) != 0) continue;
    max_log = std::max(max_log, r.log_bytes);
    max_size = std::max(max_size, r.st_size);
  }
  const double secs = last->t - first->t;
  const uint64_t commits = last->commits - first->commits;
  const uint64_t appended = last->wal_bytes_appended - first->wal_bytes_appended;
  std::printf(
      "%-7s %5.1f s  %8" PRIu64
      " commits (%.0f/s)  appended %.1f B/commit  log growth "
      "%.1f B/commit, %.0f B/s (over %.1f s without checkpoint or carry)  log_bytes %" PRIu64
      " -> %" PRIu64 " (max %" PRIu64 ")  st_size %" PRIu64 " -> %" PRIu64 " (max %" PRIu64
      ")  checkpoints +%" PRIu64 "  limited +%" PRIu64 "  carried pages +%" PRIu64 "\n",
      phase, secs, commits, commits / secs, commits ? static_cast<double>(appended) / commits : 0.0,
      grow_commits ? static_cast<double>(growth) / grow_commits : 0.0,
      grow_secs > 0 ? static_cast<double>(growth) / grow_secs : 0.0, grow_secs, first->log_bytes,
      last->log_bytes, max_log, first->st_size, last->st_size, max_size,
      last->checkpoints - first->checkpoints, last->limited - first->limited,
      last->carried_pages - first->carried_pages);
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  std::filesystem::create_directories(args.dir);
  const std::string path = args.dir + "/db";
  (void)sombra::DestroyDB(path);

  int p2c[2], c2p[2];
  if (pipe(p2c) != 0 || pipe(c2p) != 0) Die("parent", "pipe failed");
  std::fflush(stdout);
  const pid_t pid = fork();  // before any handle is opened
  if (pid < 0) Die("parent", "fork failed");
  if (pid == 0) {
    close(p2c[1]);
    close(c2p[0]);
    std::_Exit(Child(path, p2c[0], c2p[1]));
  }
  close(p2c[0]);
  close(c2p[1]);

  std::printf("# held_reader_log: keys %" PRIu64
              ", workload %s, durability %s, "
              "wal_checkpoint_bytes %" PRIu64 ", before %.0f s, hold %.0f s, after %.0f s, db %s\n",
              args.keys, args.append ? "append" : "update", args.durability_name.c_str(),
              args.checkpoint_bytes, args.before, args.hold, args.after, path.c_str());
  std::printf("# %5s  %-7s %12s %12s %12s %9s %6s %7s %8s %9s\n", "t_s", "phase", "wal_st_size",
              "wal_alloc", "log_bytes", "commits", "ckpts", "limited", "carried", "versions");
  Writer w(args, path);
  w.Open();
  w.SetZeroAt(args.before);
  if (args.before > 0) w.CommitUntil(0, "before");
  WriteByte(p2c[1], 'o', "parent");
  if (ReadByte(c2p[0], "parent") != 'h') Die("parent", "unexpected message");
  w.SetZero();
  w.CommitUntil(args.hold, "held");
  WriteByte(p2c[1], 'r', "parent");
  if (ReadByte(c2p[0], "parent") != 'e') Die("parent", "unexpected message");
  w.CommitUntil(args.hold + args.after, "after");
  std::printf("# summary\n");
  for (const char* phase : {"before", "held", "after"}) Summary(w.rows(), phase);
  if (!args.csv.empty()) {
    if (FILE* f = std::fopen(args.csv.c_str(), "w")) {
      std::fprintf(f,
                   "t_s,phase,wal_st_size,wal_alloc,log_bytes,commits,wal_bytes_appended,"
                   "checkpoints,limited,carried_pages,versions\n");
      for (const Row& r : w.rows()) {
        std::fprintf(f,
                     "%.3f,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                     ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
                     r.t, r.phase, r.st_size, r.st_alloc, r.log_bytes, r.commits,
                     r.wal_bytes_appended, r.checkpoints, r.limited, r.carried_pages, r.versions);
      }
      std::fclose(f);
    }
  }
  w.Close();
  int status = 0;
  waitpid(pid, &status, 0);
  close(p2c[1]);
  close(c2p[0]);
  (void)sombra::DestroyDB(path);
  std::error_code ec;
  std::filesystem::remove(args.dir, ec);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
