// bench/readers_bench.cc: the cost of reading through a read-only handle
// (Options::read_only) next to the cost on the writer's own handle
// (docs/micro-benchmarks.md, "Readers: read-only handles against the
// writer's").
//
// One database of SOMBRA_READERS_KEYS keys (default 1,000,000): 8-byte
// big-endian keys 0 .. N-1 and 8-byte values, loaded once, then closed (a
// clean close checkpoints, so the log is empty and every handle reads the
// page file). Four configurations of open handles, each measured in turn:
//
//   writer        one writable handle, nothing else open; measured on it.
//   ro_alone      one read-only handle, no writer open; measured on it.
//   ro_beside_w   an idle writable handle and a read-only handle (separate
//                 handles of one process behave as separate processes:
//                 each has its own slot and OFD locks); measured on the
//                 read-only one.
//   w_beside_ro   the same two handles, measured on the writer.
//
// A configuration is opened when the first benchmark needing it starts
// (outside timing) and closed when a benchmark needs another, so the
// handles stay open, and their verified-page caches warm, across the
// repetitions. After opening, every page is read once by a full cursor scan
// on each open handle (pages are checksummed on their first read), so the
// timed loops measure steady state: `verified/op` counts the pages
// checksummed during the loop and should be 0.
//
// Benchmarks (every one checks its result; a failure is SkipWithError):
//   BM_BeginEndRead/<config>  DB::BeginRead, then the ReadTxn destroyed.
//   BM_GetInTxn/<config>      ReadTxn::Get of a random existing key, all
//                             iterations inside one ReadTxn.
//   BM_DbGet/<config>         DB::Get (one-operation: a BeginRead per Get).
//   BM_Paired/<op>            the three above on the writer and on the
//                             read-only handle beside it, in alternating
//                             batches of one loop: ro/w is the ratio of
//                             their thread CPU times, robust to load that
//                             changes between benchmarks (see BM_Paired).
//
// Environment: SOMBRA_READERS_KEYS (key count), SOMBRA_SEED (key order),
// SOMBRA_READERS_DIR: when set, the database is `<dir>/db`, loaded only if
// it does not exist yet and kept at exit (so that a profile of one
// benchmark does not include the load; the warm-up scan checks the key
// count); when not set, a fresh database in $TMPDIR (or /tmp), removed at
// exit.
#include <benchmark/benchmark.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "sombra/db.h"

namespace {

using sombra::DB;
using sombra::Options;
using sombra::ReadTxn;
using sombra::Status;

constexpr uint64_t kDefaultSeed = 20240601;
constexpr uint64_t kDefaultKeys = 1000000;

uint64_t EnvU64(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : def;
}

uint64_t Seed() { return EnvU64("SOMBRA_SEED", kDefaultSeed); }
uint64_t KeyCount() {
  static const uint64_t n = EnvU64("SOMBRA_READERS_KEYS", kDefaultKeys);
  return n;
}

void EncodeBE(uint64_t v, char* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

uint64_t ValueOf(uint64_t k) { return k * 0x9E3779B97F4A7C15ULL + 1; }

// xorshift64*: a few ns per key, the same in every configuration.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed | 1) {}
  uint64_t Next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ULL;
  }
};

bool KeepDir() {
  const char* d = std::getenv("SOMBRA_READERS_DIR");
  return d != nullptr && *d != '\0';
}

std::string Dir() {
  static const std::string dir = [] {
    if (KeepDir()) return std::string(std::getenv("SOMBRA_READERS_DIR"));
    const char* d = std::getenv("TMPDIR");
    if (d == nullptr || *d == '\0') d = "/tmp";
    return std::string(d) + "/sombra-readers-bench-" + std::to_string(getpid());
  }();
  return dir;
}
std::string DbPath() { return Dir() + "/db"; }

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "readers_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

// Loads the database once: keys 0 .. N-1 in ascending order, 10,000 per
// transaction, durability off; the clean close checkpoints.
void Load() {
  std::filesystem::create_directories(Dir());
  if (KeepDir() && std::filesystem::exists(DbPath())) return;
  Options o;
  o.durability = sombra::Durability::kOff;
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, DbPath(), &db);
  if (!s.ok()) Die("open for load", s);
  const uint64_t n = KeyCount();
  char k[8], v[8];
  for (uint64_t i = 0; i < n;) {
    std::unique_ptr<sombra::WriteTxn> w;
    s = db->BeginWrite(&w);
    if (!s.ok()) Die("BeginWrite", s);
    for (uint64_t end = std::min(n, i + 10000); i < end; ++i) {
      EncodeBE(i, k);
      EncodeBE(ValueOf(i), v);
      s = w->Put(std::string_view(k, 8), std::string_view(v, 8));
      if (!s.ok()) Die("Put", s);
    }
    s = w->Commit();
    if (!s.ok()) Die("Commit", s);
  }
  s = db->Checkpoint();
  if (!s.ok()) Die("Checkpoint", s);
}

enum Config { kNone = -1, kWriter = 0, kRoAlone = 1, kRoBesideW = 2, kWBesideRo = 3 };
const char* const kConfigNames[] = {"writer", "ro_alone", "ro_beside_w", "w_beside_ro"};

struct Handles {
  Config config = kNone;
  std::unique_ptr<DB> writer;
  std::unique_ptr<DB> ro;
  DB* measured = nullptr;
} g;

// Reads every key once through a cursor: every page gets checksummed (and
// cached as verified) before timing. Returns false on a wrong count.
bool Warm(DB* db, std::string* err) {
  std::unique_ptr<ReadTxn> t;
  Status s = db->BeginRead(&t);
  if (!s.ok()) {
    *err = s.ToString();
    return false;
  }
  std::unique_ptr<sombra::Cursor> c = t->NewCursor();
  uint64_t count = 0;
  for (c->SeekToFirst(); c->Valid(); c->Next()) ++count;
  if (!c->status().ok() || count != KeyCount()) {
    *err = "scan saw " + std::to_string(count) + " keys, expected " + std::to_string(KeyCount()) +
           ": " + c->status().ToString();
    return false;
  }
  return true;
}

void CloseAll() {
  g.measured = nullptr;
  g.ro.reset();
  g.writer.reset();
  g.config = kNone;
}

// Opens the handles of `config` (closing the others). Null and *err on failure.
DB* Use(Config config, std::string* err) {
  if (g.config == config) return g.measured;
  CloseAll();
  Options w;
  w.durability = sombra::Durability::kOff;
  Options r;
  r.read_only = true;
  r.create_if_missing = false;
  Status s;
  if (config != kRoAlone) {
    s = DB::Open(w, DbPath(), &g.writer);
    if (!s.ok()) {
      *err = "open writer: " + s.ToString();
      return nullptr;
    }
  }
  if (config != kWriter) {
    s = DB::Open(r, DbPath(), &g.ro);
    if (!s.ok()) {
      *err = "open read-only: " + s.ToString();
      return nullptr;
    }
  }
  g.measured = (config == kWriter || config == kWBesideRo) ? g.writer.get() : g.ro.get();
  for (DB* db : {g.writer.get(), g.ro.get()}) {
    if (db != nullptr && !Warm(db, err)) return nullptr;
  }
  g.config = config;
  return g.measured;
}

uint64_t VerifiedPages(DB* db) { return db->GetStats().pager_file_pages_read; }

void AddVerified(benchmark::State& state, DB* db, uint64_t before) {
  state.counters["verified/op"] = benchmark::Counter(
      static_cast<double>(VerifiedPages(db) - before), benchmark::Counter::kAvgIterations);
}

void BM_BeginEndRead(benchmark::State& state, Config config) {
  std::string err;
  DB* db = Use(config, &err);
  if (db == nullptr) {
    state.SkipWithError(err.c_str());
    return;
  }
  {  // checked once: a snapshot sees every key's sequence
    std::unique_ptr<ReadTxn> t;
    Status s = db->BeginRead(&t);
    if (!s.ok() || t == nullptr || t->Sequence() == 0) {
      state.SkipWithError(("BeginRead: " + s.ToString()).c_str());
      return;
    }
  }
  const uint64_t before = VerifiedPages(db);
  for (auto _ : state) {
    std::unique_ptr<ReadTxn> t;
    Status s = db->BeginRead(&t);
    benchmark::DoNotOptimize(t.get());
    if (!s.ok()) {
      state.SkipWithError(("BeginRead: " + s.ToString()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  AddVerified(state, db, before);
}

template <bool kOneOp>
void GetLoop(benchmark::State& state, Config config) {
  std::string err;
  DB* db = Use(config, &err);
  if (db == nullptr) {
    state.SkipWithError(err.c_str());
    return;
  }
  std::unique_ptr<ReadTxn> txn;
  if (!kOneOp) {
    Status s = db->BeginRead(&txn);
    if (!s.ok()) {
      state.SkipWithError(("BeginRead: " + s.ToString()).c_str());
      return;
    }
  }
  const uint64_t n = KeyCount();
  Rng rng(Seed());
  char k[8];
  std::string value;
  auto get = [&](uint64_t i) -> bool {
    EncodeBE(i, k);
    Status s =
        kOneOp ? db->Get(std::string_view(k, 8), &value) : txn->Get(std::string_view(k, 8), &value);
    if (!s.ok() || value.size() != 8) {
      err = "Get of key " + std::to_string(i) + ": " + s.ToString();
      return false;
    }
    return true;
  };
  {  // checked once: 1000 keys, values compared
    Rng check(Seed() ^ 0x5555);
    char want[8];
    for (int j = 0; j < 1000; ++j) {
      const uint64_t i = check.Next() % n;
      if (!get(i)) break;
      EncodeBE(ValueOf(i), want);
      if (std::memcmp(value.data(), want, 8) != 0) {
        err = "wrong value for key " + std::to_string(i);
        break;
      }
    }
    if (!err.empty()) {
      state.SkipWithError(err.c_str());
      return;
    }
  }
  const uint64_t before = VerifiedPages(db);
  for (auto _ : state) {
    if (!get(rng.Next() % n)) {
      state.SkipWithError(err.c_str());
      break;
    }
    benchmark::DoNotOptimize(value.data());
  }
  state.SetItemsProcessed(state.iterations());
  AddVerified(state, db, before);
}

void BM_GetInTxn(benchmark::State& state, Config config) { GetLoop<false>(state, config); }
void BM_DbGet(benchmark::State& state, Config config) { GetLoop<true>(state, config); }

double ThreadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

enum class Op { kBeginEnd, kGetInTxn, kDbGet };

// The writer handle and a read-only handle beside it, measured in turns
// within one loop: each iteration runs a batch on one handle, then a batch
// on the other (the order alternating), each timed with the thread's CPU
// clock. Whatever else runs on the machine then weighs on both alike.
// Counters: w_ns/op and ro_ns/op (thread CPU time per operation on each
// handle) and ro/w, their ratio. The two handles draw their keys from
// different streams of the same distribution, so that neither reads what
// the other has just brought into the cache.
void BM_Paired(benchmark::State& state, Op op) {
  std::string err;
  if (Use(kRoBesideW, &err) == nullptr) {
    state.SkipWithError(err.c_str());
    return;
  }
  DB* const h[2] = {g.writer.get(), g.ro.get()};
  std::unique_ptr<ReadTxn> txn[2];
  for (int i = 0; i < 2; ++i) {
    Status s = h[i]->BeginRead(&txn[i]);
    if (!s.ok()) {
      state.SkipWithError(("BeginRead: " + s.ToString()).c_str());
      return;
    }
    if (op != Op::kGetInTxn) txn[i].reset();
  }
  const uint64_t n = KeyCount();
  Rng rng[2] = {Rng(Seed()), Rng(Seed() ^ 0x9E3779B97F4A7C15ULL)};
  const int batch = op == Op::kBeginEnd ? 20000 : 2000;
  double cpu[2] = {0, 0};
  char k[8];
  std::string value;
  uint64_t round = 0;
  for (auto _ : state) {
    for (int turn = 0; turn < 2; ++turn) {
      const int i = (round & 1) != 0 ? 1 - turn : turn;
      DB* const db = h[i];
      const double t0 = ThreadCpuNs();
      for (int j = 0; j < batch; ++j) {
        Status s;
        if (op == Op::kBeginEnd) {
          std::unique_ptr<ReadTxn> t;
          s = db->BeginRead(&t);
          benchmark::DoNotOptimize(t.get());
        } else {
          const uint64_t key = rng[i].Next() % n;
          EncodeBE(key, k);
          s = op == Op::kDbGet ? db->Get(std::string_view(k, 8), &value)
                               : txn[i]->Get(std::string_view(k, 8), &value);
          if (s.ok() && value.size() != 8) s = Status::Corruption("value size");
        }
        if (!s.ok()) {
          state.SkipWithError(s.ToString().c_str());
          return;
        }
      }
      cpu[i] += ThreadCpuNs() - t0;
    }
    ++round;
  }
  const double ops = static_cast<double>(state.iterations()) * batch;
  state.SetItemsProcessed(static_cast<int64_t>(2 * ops));
  state.counters["w_ns/op"] = cpu[0] / ops;
  state.counters["ro_ns/op"] = cpu[1] / ops;
  state.counters["ro/w"] = cpu[0] > 0 ? cpu[1] / cpu[0] : 0;
}

// Registered configuration by configuration, so that each is opened once.
void Register() {
  for (Config c : {kWriter, kRoAlone, kRoBesideW, kWBesideRo}) {
    const std::string name = kConfigNames[c];
    benchmark::RegisterBenchmark(("BM_BeginEndRead/" + name).c_str(), BM_BeginEndRead, c);
    benchmark::RegisterBenchmark(("BM_GetInTxn/" + name).c_str(), BM_GetInTxn, c);
    benchmark::RegisterBenchmark(("BM_DbGet/" + name).c_str(), BM_DbGet, c);
    if (c == kRoBesideW) {
      benchmark::RegisterBenchmark("BM_Paired/BeginEndRead", BM_Paired, Op::kBeginEnd);
      benchmark::RegisterBenchmark("BM_Paired/GetInTxn", BM_Paired, Op::kGetInTxn);
      benchmark::RegisterBenchmark("BM_Paired/DbGet", BM_Paired, Op::kDbGet);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("sombra_seed", std::to_string(Seed()));
  benchmark::AddCustomContext("sombra_keys", std::to_string(KeyCount()));
  Load();
  Register();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  CloseAll();
  if (!KeepDir()) {
    std::error_code ec;
    std::filesystem::remove_all(Dir(), ec);
  }
  return 0;
}
