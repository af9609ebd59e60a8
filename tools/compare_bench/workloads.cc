// compare_bench/workloads.cc: see workloads.h.
#include "compare_bench/workloads.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "compare_bench/bench_sys.h"

namespace sombra::bench {
namespace {

using Clock = std::chrono::steady_clock;

#define BENCH_RETURN_IF_ERROR(expr) \
  do {                              \
    ::sombra::Status _st = (expr);  \
    if (!_st.ok()) return _st;      \
  } while (0)

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

Status Fail(const std::string& engine, const std::string& what) {
  return Status::Corruption("verification failed for " + engine + ": " + what);
}

// The tree key i lives in: i mod trees.
int TreeOf(uint64_t i, const EngineOptions& o) {
  return o.trees > 1 ? static_cast<int>(i % static_cast<uint64_t>(o.trees)) : 0;
}

// Scans every tree (forward: tree 0 first; reverse: the last tree first)
// and sums the counts and checksums. *first_key is the first key the scan
// of tree `first_tree` met.
Status ScanAll(Engine* e, const EngineOptions& o, bool reverse, int first_tree, ScanResult* out) {
  const int trees = std::max(1, o.trees);
  ScanResult all;
  for (int n = 0; n < trees; ++n) {
    const int t = reverse ? trees - 1 - n : n;
    ScanResult r;
    BENCH_RETURN_IF_ERROR(e->Scan(0, t, reverse, &r));
    all.count += r.count;
    all.checksum += r.checksum;
    if (t == first_tree) all.first_key = std::move(r.first_key);
  }
  *out = std::move(all);
  return Status::OK();
}

// Loads keys [0, docs) in batches of commit_every.
Status Load(Engine* e, const RunConfig& c) {
  std::string k;
  std::string v;
  uint64_t in_batch = 0;
  for (uint64_t i = 0; i < c.docs; ++i) {
    if (in_batch == 0) BENCH_RETURN_IF_ERROR(e->BeginBatch());
    EncodeKey(i, c.engine.key_size, &k);
    MakeValue(i, c.engine.value_size, &v);
    BENCH_RETURN_IF_ERROR(e->Put(TreeOf(i, c.engine), k, v));
    if (++in_batch == c.commit_every) {
      BENCH_RETURN_IF_ERROR(e->Commit());
      in_batch = 0;
    }
  }
  if (in_batch != 0) BENCH_RETURN_IF_ERROR(e->Commit());
  return Status::OK();
}

// Writes the keys of `order` in batches (PutSorted when `sorted`);
// returns the commits.
Status WriteBatches(Engine* e, const RunConfig& c, const std::vector<uint64_t>* order, bool sorted,
                    uint64_t* commits) {
  std::string k;
  std::string v;
  uint64_t in_batch = 0;
  for (uint64_t n = 0; n < c.docs; ++n) {
    uint64_t i = order != nullptr ? (*order)[n] : n;
    if (in_batch == 0) BENCH_RETURN_IF_ERROR(e->BeginBatch());
    EncodeKey(i, c.engine.key_size, &k);
    MakeValue(i, c.engine.value_size, &v);
    const int tree = TreeOf(i, c.engine);
    BENCH_RETURN_IF_ERROR(sorted ? e->PutSorted(tree, k, v) : e->Put(tree, k, v));
    if (++in_batch == c.commit_every) {
      BENCH_RETURN_IF_ERROR(e->Commit());
      ++*commits;
      in_batch = 0;
    }
  }
  if (in_batch != 0) {
    BENCH_RETURN_IF_ERROR(e->Commit());
    ++*commits;
  }
  return Status::OK();
}

// Runs body(t) on `threads` threads released together; returns the seconds
// from the release to the last join.
template <typename Body>
Status RunThreads(int threads, Body body, double* seconds) {
  std::vector<Status> status(static_cast<size_t>(threads));
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      status[static_cast<size_t>(t)] = body(t);
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  Clock::time_point t0 = Clock::now();
  go.store(true, std::memory_order_release);
  for (auto& w : workers) w.join();
  *seconds = Seconds(t0, Clock::now());
  for (Status& s : status) {
    if (!s.ok()) return s;
  }
  return Status::OK();
}

// Checks that forward scans of every tree see `expected` keys in all, the
// one of first's tree starting at `first` (the smallest key expected), and
// that a sample of keys in [0, sample_limit) reads back their values.
Status VerifyContents(Engine* e, const RunConfig& c, uint64_t expected, uint64_t first,
                      uint64_t sample_limit) {
  ScanResult r;
  BENCH_RETURN_IF_ERROR(ScanAll(e, c.engine, false, TreeOf(first, c.engine), &r));
  std::string want;
  if (r.count != expected) {
    return Fail(e->name(), "scan saw " + std::to_string(r.count) + " keys, expected " +
                               std::to_string(expected));
  }
  EncodeKey(first, c.engine.key_size, &want);
  if (expected > 0 && r.first_key != want) return Fail(e->name(), "scan started at a wrong key");
  std::string k;
  std::string v;
  const uint64_t samples = std::min<uint64_t>(64, sample_limit);
  for (uint64_t s = 0; s < samples; ++s) {
    uint64_t i = s * sample_limit / samples;
    EncodeKey(i, c.engine.key_size, &k);
    MakeValue(i, c.engine.value_size, &want);
    bool found = false;
    BENCH_RETURN_IF_ERROR(e->Get(0, TreeOf(i, c.engine), k, &v, &found));
    if (!found) return Fail(e->name(), "key " + std::to_string(i) + " not found");
    if (v != want) return Fail(e->name(), "key " + std::to_string(i) + " has a wrong value");
  }
  return Status::OK();
}

Status Reopen(Engine* e, const std::string& dir, const EngineOptions& o) {
  BENCH_RETURN_IF_ERROR(e->Close());
  return e->Open(dir, o);
}

Status RunTimed(Engine* e, const RunConfig& c, const std::string& dir, RunResult* r) {
  const EngineOptions& o = c.engine;
  const int threads = std::max(1, o.threads);
  PeakMemory mem;
  Clock::time_point t0;
  if (o.trees > 1 && !ModeTakesTrees(c.mode)) {
    return Status::InvalidArgument(
        "--trees > 1 is not supported by commit-every (its one-put commits go through "
        "DB::Put and its peers, which write the default key space)");
  }
  switch (c.mode) {
    case Mode::kInsertsOnly:
    case Mode::kLoadSorted:
    case Mode::kInsertsRandom: {
      std::vector<uint64_t> order;
      if (c.mode == Mode::kInsertsRandom) {
        order.resize(c.docs);
        std::iota(order.begin(), order.end(), 0);
        std::mt19937_64 rng(c.seed);
        std::shuffle(order.begin(), order.end(), rng);
      }
      mem.Start();
      t0 = Clock::now();
      BENCH_RETURN_IF_ERROR(WriteBatches(e, c, c.mode == Mode::kInsertsRandom ? &order : nullptr,
                                         c.mode == Mode::kLoadSorted, &r->commits));
      r->seconds = Seconds(t0, Clock::now());
      r->ops = c.docs;
      r->peak_mem_bytes = mem.GrowthBytes();
      r->peak_mem_exact = mem.exact();
      e->Report(&r->report);
      return VerifyContents(e, c, c.docs, 0, c.docs);
    }
    case Mode::kReadsOnly: {
      BENCH_RETURN_IF_ERROR(Load(e, c));
      BENCH_RETURN_IF_ERROR(Reopen(e, dir, o));
      std::vector<uint64_t> found(static_cast<size_t>(threads), 0);
      auto body = [&](int t) -> Status {
        uint64_t ops = c.docs / threads + (static_cast<uint64_t>(t) < c.docs % threads ? 1 : 0);
        uint64_t rng = c.seed * 1000003 + static_cast<uint64_t>(t);
        std::string k;
        std::string v;
        BENCH_RETURN_IF_ERROR(e->BeginRead(t));
        uint64_t hits = 0;
        for (uint64_t n = 0; n < ops; ++n) {
          const uint64_t i = SplitMix64(&rng) % c.docs;
          EncodeKey(i, o.key_size, &k);
          bool f = false;
          BENCH_RETURN_IF_ERROR(e->Get(t, TreeOf(i, o), k, &v, &f));
          hits += f ? 1 : 0;
        }
        found[static_cast<size_t>(t)] = hits;
        return e->EndRead(t);
      };
      mem.Start();
      BENCH_RETURN_IF_ERROR(RunThreads(threads, body, &r->seconds));
      r->ops = c.docs;
      r->peak_mem_bytes = mem.GrowthBytes();
      r->peak_mem_exact = mem.exact();
      e->Report(&r->report);
      uint64_t hits = std::accumulate(found.begin(), found.end(), uint64_t{0});
      if (hits != c.docs) {
        return Fail(e->name(), std::to_string(c.docs - hits) + " point lookups missed");
      }
      return VerifyContents(e, c, c.docs, 0, c.docs);
    }
    case Mode::kScan:
    case Mode::kScanReverse: {
      const bool reverse = c.mode == Mode::kScanReverse;
      BENCH_RETURN_IF_ERROR(Load(e, c));
      BENCH_RETURN_IF_ERROR(Reopen(e, dir, o));
      const uint64_t first = reverse && c.docs > 0 ? c.docs - 1 : 0;
      ScanResult s;
      mem.Start();
      t0 = Clock::now();
      BENCH_RETURN_IF_ERROR(ScanAll(e, o, reverse, TreeOf(first, o), &s));
      r->seconds = Seconds(t0, Clock::now());
      r->ops = s.count;
      r->peak_mem_bytes = mem.GrowthBytes();
      r->peak_mem_exact = mem.exact();
      e->Report(&r->report);
      std::string want;
      EncodeKey(first, o.key_size, &want);
      if (s.count != c.docs) {
        return Fail(e->name(), "scan saw " + std::to_string(s.count) + " keys, expected " +
                                   std::to_string(c.docs));
      }
      if (c.docs > 0 && s.first_key != want) return Fail(e->name(), "scan started at a wrong key");
      uint64_t expected_sum = 0;
      std::string v;
      for (uint64_t i = 0; i < c.docs; ++i) {
        MakeValue(i, o.value_size, &v);
        expected_sum += v.size() + (v.empty() ? 0 : static_cast<unsigned char>(v[0]));
      }
      if (s.checksum != expected_sum) return Fail(e->name(), "scan values differ");
      return Status::OK();
    }
    case Mode::kMixed: {
      BENCH_RETURN_IF_ERROR(Load(e, c));
      BENCH_RETURN_IF_ERROR(Reopen(e, dir, o));
      const uint64_t key_space = 2 * c.docs;
      uint64_t rng = c.seed * 7919 + 17;
      std::string k;
      std::string v;
      uint64_t reads = 0;
      uint64_t hits = 0;
      uint64_t in_batch = 0;
      mem.Start();
      t0 = Clock::now();
      for (uint64_t n = 0; n < c.docs; ++n) {
        uint64_t x = SplitMix64(&rng);
        if (x % 10 < 7) {
          uint64_t i = (x >> 8) % key_space;
          if (in_batch == 0) BENCH_RETURN_IF_ERROR(e->BeginBatch());
          EncodeKey(i, o.key_size, &k);
          MakeValue(i, o.value_size, &v);
          BENCH_RETURN_IF_ERROR(e->Put(TreeOf(i, o), k, v));
          if (++in_batch == c.commit_every) {
            BENCH_RETURN_IF_ERROR(e->Commit());
            ++r->commits;
            in_batch = 0;
          }
        } else {
          const uint64_t i = (x >> 8) % c.docs;
          EncodeKey(i, o.key_size, &k);
          bool f = false;
          BENCH_RETURN_IF_ERROR(e->Get(0, TreeOf(i, o), k, &v, &f));
          ++reads;
          hits += f ? 1 : 0;
        }
      }
      if (in_batch != 0) {
        BENCH_RETURN_IF_ERROR(e->Commit());
        ++r->commits;
      }
      r->seconds = Seconds(t0, Clock::now());
      r->ops = c.docs;
      r->peak_mem_bytes = mem.GrowthBytes();
      r->peak_mem_exact = mem.exact();
      e->Report(&r->report);
      if (hits != reads) {
        return Fail(e->name(), std::to_string(reads - hits) + " of the mixed reads missed");
      }
      // Replay the op stream: the keys present are [0, docs) plus new writes.
      std::vector<bool> present(key_space, false);
      std::fill(present.begin(), present.begin() + static_cast<ptrdiff_t>(c.docs), true);
      rng = c.seed * 7919 + 17;
      for (uint64_t n = 0; n < c.docs; ++n) {
        uint64_t x = SplitMix64(&rng);
        if (x % 10 < 7) present[(x >> 8) % key_space] = true;
      }
      uint64_t expected = static_cast<uint64_t>(std::count(present.begin(), present.end(), true));
      return VerifyContents(e, c, expected, 0, c.docs);
    }
    case Mode::kCommitEvery: {
      auto body = [&](int t) -> Status {
        std::string k;
        std::string v;
        for (uint64_t i = static_cast<uint64_t>(t); i < c.docs; i += threads) {
          EncodeKey(i, o.key_size, &k);
          MakeValue(i, o.value_size, &v);
          BENCH_RETURN_IF_ERROR(e->PutSingle(t, k, v));
        }
        return Status::OK();
      };
      mem.Start();
      BENCH_RETURN_IF_ERROR(RunThreads(threads, body, &r->seconds));
      r->ops = c.docs;
      r->commits = c.docs;
      r->peak_mem_bytes = mem.GrowthBytes();
      r->peak_mem_exact = mem.exact();
      e->Report(&r->report);
      return VerifyContents(e, c, c.docs, 0, c.docs);
    }
  }
  return Status::InvalidArgument("unknown mode");
}

}  // namespace

const char* ModeName(Mode mode) {
  switch (mode) {
    case Mode::kInsertsOnly:
      return "inserts-only";
    case Mode::kInsertsRandom:
      return "inserts-random";
    case Mode::kReadsOnly:
      return "reads-only";
    case Mode::kScan:
      return "scan";
    case Mode::kScanReverse:
      return "scan-reverse";
    case Mode::kMixed:
      return "mixed";
    case Mode::kCommitEvery:
      return "commit-every";
    case Mode::kLoadSorted:
      return "load-sorted";
  }
  return "?";
}

std::vector<Mode> AllModes() {
  return {Mode::kInsertsOnly, Mode::kInsertsRandom, Mode::kReadsOnly,  Mode::kScan,
          Mode::kScanReverse, Mode::kMixed,         Mode::kCommitEvery};
}

bool ModeTakesTrees(Mode mode) { return mode != Mode::kCommitEvery; }

bool ParseMode(const std::string& name, Mode* mode) {
  std::vector<Mode> modes = AllModes();
  modes.push_back(Mode::kLoadSorted);
  for (Mode m : modes) {
    if (name == ModeName(m)) {
      *mode = m;
      return true;
    }
  }
  return false;
}

void EncodeKey(uint64_t i, size_t key_size, std::string* out) {
  out->assign(key_size, '\0');
  for (size_t b = 0; b < key_size && b < 8; ++b) {
    (*out)[key_size - 1 - b] = static_cast<char>((i >> (8 * b)) & 0xff);
  }
}

void MakeValue(uint64_t i, size_t value_size, std::string* out) {
  out->resize(value_size);
  uint64_t state = i;
  for (size_t off = 0; off < value_size; off += 8) {
    uint64_t x = SplitMix64(&state);
    std::memcpy(out->data() + off, &x, std::min<size_t>(8, value_size - off));
  }
}

Status RunWorkload(const std::string& name, const RunConfig& config, const std::string& dir,
                   RunResult* result) {
  std::string why;
  std::unique_ptr<Engine> e = NewEngine(name, &why);
  if (e == nullptr) return Status::NotSupported("skipped " + name + ": " + why);
  BENCH_RETURN_IF_ERROR(MakeFreshDir(dir));
  *result = RunResult();
  Status s = e->Open(dir, config.engine);
  if (s.ok()) s = RunTimed(e.get(), config, dir, result);
  Status closed = e->Close();
  if (s.ok()) s = closed;
  e.reset();
  result->file_bytes = DirBytes(dir);
  return s.WithContext(std::string(name) + " " + ModeName(config.mode));
}

}  // namespace sombra::bench
