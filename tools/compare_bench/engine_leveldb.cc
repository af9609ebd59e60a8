// compare_bench/engine_leveldb.cc: LevelDB with its default options
// (engine_lsm.h has the engine and its configuration).
#include <leveldb/db.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include <memory>

#include "compare_bench/engine_lsm.h"

namespace sombra::bench {
namespace {

struct LeveldbTraits {
  using DB = leveldb::DB;
  using Options = leveldb::Options;
  using WriteOptions = leveldb::WriteOptions;
  using ReadOptions = leveldb::ReadOptions;
  using WriteBatch = leveldb::WriteBatch;
  using Snapshot = leveldb::Snapshot;
  using Iterator = leveldb::Iterator;
  using Slice = leveldb::Slice;
  using NativeStatus = leveldb::Status;
  static constexpr const char* kName = "leveldb";
  // LevelDB closes in the destructor.
  static NativeStatus CloseDb(DB*) { return NativeStatus::OK(); }
  static NativeStatus BatchPut(WriteBatch* b, Slice k, Slice v) {
    b->Put(k, v);
    return NativeStatus::OK();
  }
};

}  // namespace

std::unique_ptr<Engine> NewLeveldbEngine() { return std::make_unique<LsmEngine<LeveldbTraits>>(); }

}  // namespace sombra::bench
