#include "kill_harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "testutil/seed.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"
#include "util/crash_point.h"

extern char** environ;

namespace sombra::kill_test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kChildFlag[] = "--kill-child";
// Record framing: u16 length of the rest, u8 type, u64 lsn, payload.
constexpr size_t kRecordHeader = 2 + 1 + 8;
// A child that neither reports ready nor reaches its crash point by then
// is killed (and, when the parent meant to kill it later, fails the test).
constexpr auto kChildTimeout = std::chrono::seconds(5);
// A child that outlives this dies of SIGALRM (a hang fails the test).
constexpr unsigned kChildAlarmSeconds = 60;

int soak_seconds = 0;

// How one child ends.
struct Plan {
  std::string point;  // empty: the parent kills after delay_ms
  long after = 0;     // SOMBRA_CRASH_AFTER
  uint32_t delay_ms = 0;
  bool during_open = false;  // delay counted from kOpening, not from kReady
};

struct ChildOutcome {
  std::vector<Record> records;
  int status = 0;
  bool parent_killed = false;
  bool opening = false;  // kOpening arrived
  bool ready = false;    // kReady arrived
};

std::string SelfExe() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return {};
  return std::string(buf, static_cast<size_t>(n));
}

// The parent's environment with the crash point armed (or disarmed).
std::vector<std::string> ChildEnvironment(const Plan& plan) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "SOMBRA_CRASH_", 13) != 0) env.emplace_back(*e);
  }
  if (!plan.point.empty()) {
    env.push_back("SOMBRA_CRASH_POINT=" + plan.point);
    env.push_back("SOMBRA_CRASH_AFTER=" + std::to_string(plan.after));
  }
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Forks and execs the child, reads its records until it is dead, reaps it.
ChildOutcome RunChild(const std::string& workload, const std::string& path, const Plan& plan,
                      uint64_t child_seed) {
  ChildOutcome out;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return out;
  }
  // Everything the child needs is built before the fork: between fork and
  // exec it only makes async-signal-safe calls.
  std::string exe = SelfExe();
  std::vector<std::string> args = {
      exe, kChildFlag, workload, path, std::to_string(fds[1]), std::to_string(child_seed)};
  std::vector<std::string> env = ChildEnvironment(plan);
  std::vector<char*> argv = Pointers(args);
  std::vector<char*> envp = Pointers(env);
  const pid_t parent = getpid();
  const auto start = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(5);
    close(fds[0]);
    fcntl(fds[1], F_SETFD, 0);  // the write end survives exec
    execve(exe.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return out;
  }

  const bool parent_kills = plan.point.empty();
  auto deadline = start + kChildTimeout;
  std::string bytes;
  char chunk[4096];
  for (;;) {
    int timeout_ms = -1;
    if (!out.parent_killed) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      timeout_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    pollfd p{fds[0], POLLIN, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      kill(pid, SIGKILL);
      out.parent_killed = true;
      continue;
    }
    ssize_t n = read(fds[0], chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child is gone
    bytes.append(chunk, static_cast<size_t>(n));
    if (!out.ready) {
      // The parent's kill is timed from kOpening or kReady (as planned),
      // the child's first two records.
      const bool was_opening = out.opening;
      for (const Record& rec : DecodeRecords(bytes)) {
        out.opening |= rec.type == RecordType::kOpening;
        out.ready |= rec.type == RecordType::kReady;
      }
      if (parent_kills && (plan.during_open ? !was_opening && out.opening : out.ready)) {
        deadline = Clock::now() + std::chrono::milliseconds(plan.delay_ms);
      }
    }
  }
  close(fds[0]);
  while (waitpid(pid, &out.status, 0) < 0 && errno == EINTR) {
  }
  out.records = DecodeRecords(bytes);
  std::erase_if(out.records, [](const Record& r) { return r.type == RecordType::kOpening; });
  return out;
}

// How many times a point is passed before it fires: commits for the log
// points, checkpoints for the others.
long ChooseAfter(const std::string& point, Rng* rng) {
  if (point == kCrashWalWrite || point == kCrashAfterWalSync) return 1 + (*rng)() % 24;
  return 1 + (*rng)() % 3;
}

// Half the children are killed by the parent (one in four of those while
// it opens, and maybe recovers, the database), the other half rotate over
// the crash points.
Plan ChoosePlan(int i, const KillLoopConfig& config, Rng* rng) {
  Plan plan;
  const size_t n = config.points.size();
  const size_t slot = n == 0 ? 0 : static_cast<size_t>(i) % (2 * n);
  if (slot < n || n == 0) {
    plan.during_open = (*rng)() % 4 == 0;
    const uint32_t max_delay = plan.during_open ? config.max_open_delay_ms : config.max_delay_ms;
    plan.delay_ms = static_cast<uint32_t>((*rng)() % (max_delay + 1));
  } else {
    plan.point = config.points[slot - n];
    plan.after = ChooseAfter(plan.point, rng);
  }
  return plan;
}

std::string Describe(int i, const Plan& plan) {
  std::string s = "kill #" + std::to_string(i) + ": ";
  if (plan.point.empty()) {
    return s + "parent kill after " + std::to_string(plan.delay_ms) + " ms from " +
           (plan.during_open ? "opening" : "ready");
  }
  return s + "SOMBRA_CRASH_POINT=" + plan.point +
         " SOMBRA_CRASH_AFTER=" + std::to_string(plan.after);
}

// Counts the kill; false (with a failure) when the child did not die of
// SIGKILL as planned.
bool CountKill(const Plan& plan, const ChildOutcome& out, KillCounts* counts) {
  if (!WIFSIGNALED(out.status) || WTERMSIG(out.status) != SIGKILL) {
    ADD_FAILURE() << "the child did not die of SIGKILL: "
                  << (WIFEXITED(out.status)
                          ? "exit status " + std::to_string(WEXITSTATUS(out.status))
                          : "signal " + std::to_string(WTERMSIG(out.status)))
                  << " (its stderr is above)";
    return false;
  }
  if (plan.point.empty()) {
    if (!(plan.during_open ? out.opening : out.ready)) {
      ADD_FAILURE() << "the child did not " << (plan.during_open ? "start" : "open the database")
                    << " within " << kChildTimeout.count() << " s";
      return false;
    }
    if (!out.parent_killed) {
      ADD_FAILURE() << "the child died of SIGKILL with no crash point armed";
      return false;
    }
    (*counts)[out.ready ? kParentKill : kParentKillInOpen]++;
  } else {
    (*counts)[out.parent_killed ? kNotFired : plan.point]++;
  }
  return true;
}

// Copies the database's directory somewhere that outlives the test, for
// a post-mortem with sombra-inspect.
std::string KeepForPostMortem(const std::string& dir) {
  std::string kept = std::filesystem::temp_directory_path().string() + "/sombra-kill-XXXXXX";
  if (mkdtemp(kept.data()) == nullptr) return "(mkdtemp failed)";
  std::error_code ec;
  std::filesystem::copy(dir, kept, std::filesystem::copy_options::recursive, ec);
  return ec ? "(copy failed: " + ec.message() + ")" : kept;
}

std::string FormatCounts(const KillCounts& counts) {
  std::string s;
  for (const auto& [name, n] : counts) s += " " + name + "=" + std::to_string(n);
  return s;
}

}  // namespace

void Reporter::Send(RecordType type, uint64_t lsn, std::string_view payload) {
  std::string rec;
  PutFixed16(&rec, static_cast<uint16_t>(kRecordHeader - 2 + payload.size()));
  rec.push_back(static_cast<char>(type));
  PutFixed64(&rec, lsn);
  rec.append(payload);
  if (rec.size() > PIPE_BUF) ChildFail("record of " + std::to_string(rec.size()) + " bytes");
  std::lock_guard<std::mutex> lock(mu_);
  for (;;) {
    ssize_t n = write(fd_, rec.data(), rec.size());
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(rec.size())) ChildFail("write to the parent's pipe failed");
    return;
  }
}

std::vector<Record> DecodeRecords(std::string_view bytes) {
  std::vector<Record> out;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t pos = 0;
  while (bytes.size() - pos >= kRecordHeader) {
    const size_t len = DecodeFixed16(p + pos);
    if (len < kRecordHeader - 2 || bytes.size() - pos - 2 < len) break;
    Record r;
    r.type = static_cast<RecordType>(p[pos + 2]);
    r.lsn = DecodeFixed64(p + pos + 3);
    r.payload.assign(bytes.substr(pos + kRecordHeader, len - (kRecordHeader - 2)));
    out.push_back(std::move(r));
    pos += 2 + len;
  }
  return out;
}

void ChildFail(const std::string& what) {
  std::fprintf(stderr, "kill child %d: %s\n", static_cast<int>(getpid()), what.c_str());
  std::fflush(stderr);
  _exit(4);
}

Options Workload::options() const {
  Options o;
  o.durability = Durability::kFull;
  o.wal_checkpoint_bytes = 256 << 10;
  return o;
}

const std::vector<std::string>& AllCrashPoints() {
  static const std::vector<std::string> points = {kCrashWalWrite, kCrashAfterWalSync,
                                                  kCrashAfterDoubleWrite, kCrashBeforeMeta,
                                                  kCrashAfterMeta};
  return points;
}

void SetSoakSeconds(int seconds) { soak_seconds = seconds; }
int SoakSeconds() { return soak_seconds; }

namespace {

// The pager workloads as a KillSubject: half the checks open read-only,
// which recovers in memory and leaves the log for the next child to
// recover (and maybe die recovering).
class PagerSubject final : public KillSubject {
 public:
  explicit PagerSubject(Workload* workload) : workload_(workload) {}

  const char* name() const override { return workload_->name(); }

  void Create(const std::string& path) override {
    auto pager = pager::Pager::Open(Env::Default(), path, workload_->options());
    if (!pager.ok()) {
      ADD_FAILURE() << "create: " << pager.status().ToString();
      return;
    }
    workload_->Setup(pager->get());
  }

  void Check(const std::string& path, const std::vector<Record>& records, Rng* rng) override {
    Options options = workload_->options();
    options.read_only = (*rng)() % 2 == 0;
    auto pager = pager::Pager::Open(Env::Default(), path, options);
    if (!pager.ok()) {
      ADD_FAILURE() << "reopen after the kill: " << pager.status().ToString();
      return;
    }
    workload_->Check(pager->get(), records);
  }

 private:
  Workload* const workload_;
};

void PagerChild(const std::string& name, const std::string& path, Reporter* out, Rng* rng) {
  std::unique_ptr<Workload> workload = MakeWorkload(name);
  if (workload == nullptr) ChildFail("no workload " + name);
  out->Send(RecordType::kOpening, 0);
  auto pager = pager::Pager::Open(Env::Default(), path, workload->options());
  if (!pager.ok()) ChildFail("open: " + pager.status().ToString());
  out->Send(RecordType::kReady, (*pager)->published().lsn);
  workload->RunChild(pager->get(), out, rng);
}

}  // namespace

KillCounts RunKillLoop(Workload* workload, const KillLoopConfig& config) {
  PagerSubject subject(workload);
  return RunKillLoop(&subject, config);
}

KillCounts RunKillLoop(KillSubject* subject, const KillLoopConfig& config) {
  const uint64_t seed = test::TestSeed();
  Rng rng(seed);
  KillCounts counts = {{kParentKill, 0}, {kParentKillInOpen, 0}, {kNotFired, 0}};
  for (const auto& p : config.points) counts[p] = 0;
  test::TempDir dir;
  const std::string path = dir.File("db");
  subject->Create(path);
  if (::testing::Test::HasFailure()) return counts;
  uint64_t acks = 0;
  const auto start = Clock::now();
  const auto soak_end = start + std::chrono::seconds(soak_seconds);
  for (int i = 0; soak_seconds > 0 ? Clock::now() < soak_end : i < config.iterations; ++i) {
    const Plan plan = ChoosePlan(i, config, &rng);
    const std::string what = Describe(i, plan);
    SCOPED_TRACE(what + " (SOMBRA_SEED=" + std::to_string(seed) + ")");
    ChildOutcome out = RunChild(subject->name(), path, plan, rng());
    if (!CountKill(plan, out, &counts)) break;
    for (const Record& r : out.records) acks += r.type == RecordType::kAck ? 1 : 0;
    subject->Check(path, out.records, &rng);
    if (::testing::Test::HasFailure()) {
      std::printf("[ failed   ] %s: %s, SOMBRA_SEED=%llu; database kept in %s\n", subject->name(),
                  what.c_str(), static_cast<unsigned long long>(seed),
                  KeepForPostMortem(dir.path()).c_str());
      break;
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("[ kills    ] %s:%s; %llu commits acknowledged (%.1f s)\n", subject->name(),
              FormatCounts(counts).c_str(), static_cast<unsigned long long>(acks), secs);
  std::fflush(stdout);
  return counts;
}

bool IsKillChild(int argc, char** argv) {
  return argc >= 2 && std::strcmp(argv[1], kChildFlag) == 0;
}

void KillChildMain(int argc, char** argv) { KillChildMain(argc, argv, PagerChild); }

void KillChildMain(int argc, char** argv, ChildBody body) {
  if (argc != 6) ChildFail("usage: --kill-child WORKLOAD PATH FD SEED");
  alarm(kChildAlarmSeconds);
  Reporter out(std::atoi(argv[4]));
  Rng rng(std::strtoull(argv[5], nullptr, 10));
  body(argv[2], argv[3], &out, &rng);
  ChildFail("the workload returned");
}

}  // namespace sombra::kill_test
