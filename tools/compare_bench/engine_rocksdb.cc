// compare_bench/engine_rocksdb.cc: RocksDB with its default options
// (engine_lsm.h has the engine and its configuration).
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <memory>

#include "compare_bench/engine_lsm.h"

namespace sombra::bench {
namespace {

struct RocksdbTraits {
  using DB = rocksdb::DB;
  using Options = rocksdb::Options;
  using WriteOptions = rocksdb::WriteOptions;
  using ReadOptions = rocksdb::ReadOptions;
  using WriteBatch = rocksdb::WriteBatch;
  using Snapshot = rocksdb::Snapshot;
  using Iterator = rocksdb::Iterator;
  using Slice = rocksdb::Slice;
  using NativeStatus = rocksdb::Status;
  static constexpr const char* kName = "rocksdb";
  static NativeStatus CloseDb(DB* db) { return db->Close(); }
  static NativeStatus BatchPut(WriteBatch* b, Slice k, Slice v) { return b->Put(k, v); }
};

}  // namespace

std::unique_ptr<Engine> NewRocksdbEngine() { return std::make_unique<LsmEngine<RocksdbTraits>>(); }

}  // namespace sombra::bench
