// compare_bench/bench_engine.h: the one interface compare-bench drives every engine
// through (Sombra and the peers: SQLite, LMDB, RocksDB, LevelDB).
//
// Each engine lives in its own engine_<name>.cc and is compiled only when its
// library was found at configure time (SOMBRA_BENCH_HAVE_<NAME>); the
// registry (engine_registry.cc) reports the others as skipped, never fakes
// them.
//
// Usage by the workloads (workloads.cc):
//   Open(dir) -> [BeginBatch, Put(tree, ...)..., Commit]... -> Close   bulk writes
//   Open(dir) -> PutSingle(thread, ...) from many threads              durable commits
//   Open(dir) -> BeginRead(t), Get(t, tree, ...)..., EndRead(t)        point lookups
//   Open(dir) -> Scan(t, tree, reverse)                                ordered scan
//
// Trees (--trees N): an engine holds N independent ordered key spaces,
// numbered 0..N-1, every one of them written by the same batches and read
// in the same snapshots. N == 1 is the engine's single default key space
// (exactly what compare-bench measured before --trees existed); N > 1 is
// the engine's own way to keep several (see each engine_<name>.cc):
//   Sombra   named trees "t0".."t{N-1}" (DB::OpenTree, the Tree* calls)
//   LMDB     named DBIs "t0".. (mdb_env_set_maxdbs, mdb_dbi_open MDB_CREATE)
//   SQLite   tables t0.. (each as the one-tree table kv)
//   RocksDB  column families "t0".. (WriteBatch::Put(cf, ...))
//   LevelDB  no column families: tree t is the key prefix byte t
//
// Thread safety: Open, Close, BeginBatch, Put and Commit are called from one
// thread. PutSingle, BeginRead, Get, EndRead and Scan with distinct `thread`
// indexes (0 <= thread < EngineOptions::threads) run concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sombra/options.h"
#include "sombra/status.h"

namespace sombra::bench {

struct EngineOptions {
  // Applied to every engine the same way (see README in tools/compare_bench):
  //   kFull:   sync the log on every commit.
  //   kNormal: SQLite synchronous=NORMAL, LMDB MDB_NOMETASYNC, RocksDB and
  //            LevelDB sync=false, Sombra Durability::kNormal.
  //   kOff:    SQLite synchronous=OFF, LMDB MDB_NOSYNC, sync=false.
  Durability durability = Durability::kFull;
  size_t key_size = 8;
  size_t value_size = 8;
  // Upper bound of the keys the run may hold (sizes LMDB's map).
  uint64_t max_keys = 0;
  // Concurrent threads that call PutSingle / Get / Scan.
  int threads = 1;
  // Key spaces, 1..kMaxTrees (see the top of this file). PutSingle writes
  // tree 0 only; the workloads refuse commit-every with trees > 1.
  int trees = 1;
};

// LevelDB keeps tree t under the one-byte key prefix t.
constexpr int kMaxTrees = 256;

struct ScanResult {
  uint64_t count = 0;
  // Sum of value sizes plus each value's first byte: forces values to be read.
  uint64_t checksum = 0;
  // The first key the scan met (the largest when reverse).
  std::string first_key;
};

// What an engine can tell about the run beyond time (filled before Close).
struct EngineReport {
  // Log bytes written and commits, when the engine can measure them.
  bool has_wal_bytes = false;
  uint64_t wal_bytes = 0;
  uint64_t commits = 0;
  // Sombra with SOMBRA_PROFILE=1: the `metrics:` and `pager:` lines.
  std::string metrics_line;
  std::string pager_line;
};

class Engine {
 public:
  virtual ~Engine() = default;

  virtual const char* name() const = 0;

  // Opens, creating when missing, the engine's database inside `dir` (an
  // existing directory owned by this engine).
  virtual Status Open(const std::string& dir, const EngineOptions& options) = 0;
  // Releases every resource; the files stay. Safe to call twice.
  virtual Status Close() = 0;

  // One write transaction at a time.
  virtual Status BeginBatch() = 0;
  // REQUIRES: a batch is open; 0 <= tree < EngineOptions::trees.
  virtual Status Put(int tree, std::string_view key, std::string_view value) = 0;
  // Put of a key that sorts after every key stored in `tree` (--mode
  // load-sorted), through the engine's sorted-load path where it has one:
  // Sombra's WriteTxn::Append, LMDB's MDB_APPEND, RocksDB's SstFileWriter
  // + IngestExternalFiles at Commit. Default: Put (SQLite and LevelDB take
  // ordered inserts as they come). A batch holds PutSorted calls only or
  // Put calls only.
  virtual Status PutSorted(int tree, std::string_view key, std::string_view value) {
    return Put(tree, key, value);
  }
  // Durable per EngineOptions::durability when it returns OK.
  virtual Status Commit() = 0;

  // A one-operation transaction on tree 0, committed per
  // EngineOptions::durability.
  virtual Status PutSingle(int thread, std::string_view key, std::string_view value) = 0;

  // Pins a read snapshot for the following Get and Scan calls of `thread`.
  virtual Status BeginRead(int thread) = 0;
  virtual Status EndRead(int thread) = 0;
  // *found is false when the key is absent from `tree`. With a batch open,
  // thread 0 reads through the batch where the engine can (RocksDB and
  // LevelDB read the committed state).
  virtual Status Get(int thread, int tree, std::string_view key, std::string* value,
                     bool* found) = 0;
  // Full ordered scan of `tree`; inside the pinned snapshot when there is one.
  virtual Status Scan(int thread, int tree, bool reverse, ScanResult* result) = 0;

  // Engine counters for the run since Open. Default: nothing.
  virtual void Report(EngineReport* report) { (void)report; }
};

// The engines compare-bench knows, in the default order.
const std::vector<std::string>& AllEngineNames();
// True when `name` was compiled in.
bool EngineCompiledIn(const std::string& name);
// A new engine, or nullptr with *why set ("library not installed").
std::unique_ptr<Engine> NewEngine(const std::string& name, std::string* why);

// Factories of the engines compiled in (engine_<name>.cc).
std::unique_ptr<Engine> NewSombraEngine();
std::unique_ptr<Engine> NewSqliteEngine();
std::unique_ptr<Engine> NewLmdbEngine();
std::unique_ptr<Engine> NewRocksdbEngine();
std::unique_ptr<Engine> NewLeveldbEngine();

}  // namespace sombra::bench
