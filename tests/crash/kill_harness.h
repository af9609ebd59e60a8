// Kill tests (docs/testing.md, "Kill tests"): a child process runs transactions
// through the pager (Workload) or the public API (KillSubject) and
// reports each acknowledged commit through a pipe; the parent SIGKILLs it
// (or the child dies at an armed crash point), reopens the database and
// checks it against what was acknowledged.
//
// The child is this test binary, forked and then exec'd again with
// `--kill-child` (KillChildMain). It must be a fresh process: the crash
// point reads SOMBRA_CRASH_POINT once per process, and the parent has
// already passed a crash point (a checkpoint) by the time it forks its
// second child, so a plain fork would inherit a disarmed point.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "pager/pager.h"
#include "sombra/options.h"

namespace sombra::kill_test {

// ---- Child -> parent records --------------------------------------------

enum class RecordType : uint8_t {
  kReady = 1,    // the database is open; lsn = its published LSN
  kIntent = 2,   // about to commit transaction `lsn`, which changes `payload`
  kAck = 3,      // transaction `lsn` committed (Commit returned OK)
  kOpening = 4,  // about to open the database (the harness drops it)
};

struct Record {
  RecordType type;
  uint64_t lsn;
  std::string payload;
};

// Child side. Each record goes out in one write() of at most PIPE_BUF
// bytes, so a kill never tears one. Thread-safe.
class Reporter {
 public:
  explicit Reporter(int fd) : fd_(fd) {}
  void Send(RecordType type, uint64_t lsn, std::string_view payload = {});

 private:
  const int fd_;
  std::mutex mu_;
};

// Splits the bytes the parent read into records; a torn tail is dropped.
std::vector<Record> DecodeRecords(std::string_view bytes);

// The child reports a failure on stderr and exits with status 4 (the
// parent expects death by SIGKILL, so any exit fails the test).
[[noreturn]] void ChildFail(const std::string& what);

// ---- Workloads ----------------------------------------------------------

using Rng = std::mt19937_64;

class Workload {
 public:
  virtual ~Workload() = default;
  // The name MakeWorkload knows it by (it is passed to the child).
  virtual const char* name() const = 0;
  // Durability full, small log so automatic checkpoints happen.
  virtual Options options() const;
  // Parent, once, on a new database: the initial content.
  virtual void Setup(pager::Pager* pager) = 0;
  // Child: transactions until killed. Calls ChildFail on any error.
  virtual void RunChild(pager::Pager* pager, Reporter* out, Rng* rng) = 0;
  // Parent, after each child died: checks the reopened database against
  // the records that child sent, and moves the model forward.
  virtual void Check(pager::Pager* pager, const std::vector<Record>& records) = 0;
};

// "pages", "bank" or "counters" (kill_workloads.h); nullptr otherwise.
std::unique_ptr<Workload> MakeWorkload(const std::string& name);

// ---- The kill loop (parent) ---------------------------------------------

// The crash points of util/crash_point.h.
const std::vector<std::string>& AllCrashPoints();
// The names under which a kill by the parent itself is counted: after the
// child opened the database, or while it was opening it.
inline constexpr const char* kParentKill = "parent-kill";
inline constexpr const char* kParentKillInOpen = "parent-kill-in-open";
// A crash point armed but not reached before the parent's timeout.
inline constexpr const char* kNotFired = "armed-not-fired";

struct KillLoopConfig {
  int iterations = 100;             // ignored in soak mode
  uint32_t max_delay_ms = 30;       // parent kills, from kReady
  uint32_t max_open_delay_ms = 10;  // parent kills, from kOpening
  std::vector<std::string> points = AllCrashPoints();
};

// Kills per kind: kParentKill, kParentKillInOpen, each crash point,
// kNotFired.
using KillCounts = std::map<std::string, int>;

// Creates a database in a fresh directory, runs Setup, then kills and
// checks child after child. Stops at the first failure. Prints the seed
// and the counts.
KillCounts RunKillLoop(Workload* workload, const KillLoopConfig& config);

// What the kill loop drives beyond the pager workloads above (the public
// DB API, db_workloads.h): the database at `path` is created once, then
// each child that died is checked. The child side is the ChildBody given
// to KillChildMain below, chosen by name().
class KillSubject {
 public:
  virtual ~KillSubject() = default;
  // Passed to the child as WORKLOAD.
  virtual const char* name() const = 0;
  // Parent, once: creates the database and its initial content.
  virtual void Create(const std::string& path) = 0;
  // Parent, after each child died: reopens and checks the database against
  // the records that child sent (kOpening dropped). `rng` is the loop's.
  virtual void Check(const std::string& path, const std::vector<Record>& records, Rng* rng) = 0;
};

// As RunKillLoop above, over a KillSubject.
KillCounts RunKillLoop(KillSubject* subject, const KillLoopConfig& config);

// Soak mode: when > 0, every kill loop runs for this long instead of its
// iteration count. Set from the command line (pager_kill_test.cc,
// db_kill_test.cc).
void SetSoakSeconds(int seconds);
int SoakSeconds();

// ---- Child entry --------------------------------------------------------

bool IsKillChild(int argc, char** argv);
// Runs the pager workload named on the command line (MakeWorkload).
[[noreturn]] void KillChildMain(int argc, char** argv);

// A KillSubject's child: opens the database at `path` itself (sending
// kOpening before and kReady after) and runs transactions until killed.
// Calls ChildFail on any error.
using ChildBody = void (*)(const std::string& workload, const std::string& path, Reporter* out,
                           Rng* rng);
// Parses `--kill-child WORKLOAD PATH FD SEED` and runs `body`.
[[noreturn]] void KillChildMain(int argc, char** argv, ChildBody body);

}  // namespace sombra::kill_test
