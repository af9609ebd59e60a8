// compare_bench/workloads.h: the compare-bench modes, run once against one engine.
//
// Every run starts from an empty directory. Modes that need data (reads-only,
// scan, mixed) load `docs` sequential keys in batches of `commit_every`,
// close and reopen the engine, and only then start the clock, so the timed
// phase and the engine's counters cover the measured work alone. Every run
// is verified afterwards (keys scanned == keys expected, a sample of Gets
// finds the right values); a failed check is an error, never a number.
//
// Trees (EngineOptions::trees = N > 1): key i is written to and read from
// tree i mod N, in the same batches and snapshots as with one tree; scans
// and the checks scan every tree in turn. commit-every refuses N > 1
// (ModeTakesTrees).
//
// Thread safety: RunWorkload may not run concurrently with itself.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compare_bench/bench_engine.h"
#include "sombra/status.h"

namespace sombra::bench {

enum class Mode {
  kInsertsOnly,    // sequential keys, a commit every `commit_every` puts
  kInsertsRandom,  // a shuffled permutation of the same keys
  kReadsOnly,      // `docs` uniform random point lookups by `threads` readers
  kScan,           // one full ordered scan
  kScanReverse,    // one full ordered scan from the last key
  kMixed,          // `docs` ops: 70% puts of keys in [0, 2 docs), 30% gets
  kCommitEvery,    // one durable transaction per put, `threads` committers
  kLoadSorted,     // inserts-only through each engine's sorted-load path
};

const char* ModeName(Mode mode);
// Parses a mode name (not "all"); false when unknown.
bool ParseMode(const std::string& name, Mode* mode);
// The modes `--mode all` runs, in order (load-sorted is run by name only).
std::vector<Mode> AllModes();
// False for the modes that refuse EngineOptions::trees > 1 (commit-every).
bool ModeTakesTrees(Mode mode);

struct RunConfig {
  Mode mode = Mode::kInsertsOnly;
  uint64_t docs = 10000;
  uint64_t commit_every = 1000;
  EngineOptions engine;  // durability, key and value size, threads
  uint64_t seed = 1;
};

struct RunResult {
  uint64_t ops = 0;      // operations timed
  uint64_t commits = 0;  // commits issued by the timed phase
  double seconds = 0;
  uint64_t file_bytes = 0;  // every file in the engine's directory after Close
  int64_t peak_mem_bytes = -1;
  bool peak_mem_exact = false;
  EngineReport report;
};

// The key of index i: `key_size` bytes, big-endian (zero-padded in front
// when key_size > 8). REQUIRES: i < 256^key_size.
void EncodeKey(uint64_t i, size_t key_size, std::string* out);
// The value stored under key i: `value_size` pseudo-random bytes of i.
void MakeValue(uint64_t i, size_t value_size, std::string* out);

// Runs `config` against a new engine `name` in `dir` (emptied first).
Status RunWorkload(const std::string& name, const RunConfig& config, const std::string& dir,
                   RunResult* result);

}  // namespace sombra::bench
