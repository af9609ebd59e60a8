// compare_bench/engine_registry.cc: which engines were compiled in.
#include <string>
#include <vector>

#include "compare_bench/bench_engine.h"

namespace sombra::bench {

const std::vector<std::string>& AllEngineNames() {
  static const std::vector<std::string> kNames = {"sombra", "sqlite", "lmdb", "rocksdb", "leveldb"};
  return kNames;
}

namespace {

using Factory = std::unique_ptr<Engine> (*)();

Factory FactoryFor(const std::string& name) {
#ifdef SOMBRA_BENCH_HAVE_SOMBRA
  if (name == "sombra") return &NewSombraEngine;
#endif
#ifdef SOMBRA_BENCH_HAVE_SQLITE
  if (name == "sqlite") return &NewSqliteEngine;
#endif
#ifdef SOMBRA_BENCH_HAVE_LMDB
  if (name == "lmdb") return &NewLmdbEngine;
#endif
#ifdef SOMBRA_BENCH_HAVE_ROCKSDB
  if (name == "rocksdb") return &NewRocksdbEngine;
#endif
#ifdef SOMBRA_BENCH_HAVE_LEVELDB
  if (name == "leveldb") return &NewLeveldbEngine;
#endif
  (void)name;
  return nullptr;
}

}  // namespace

bool EngineCompiledIn(const std::string& name) { return FactoryFor(name) != nullptr; }

std::unique_ptr<Engine> NewEngine(const std::string& name, std::string* why) {
  Factory factory = FactoryFor(name);
  if (factory == nullptr) {
    *why = name == "sombra" ? "library target sombra_db not built" : "library not installed";
    return nullptr;
  }
  return factory();
}

}  // namespace sombra::bench
