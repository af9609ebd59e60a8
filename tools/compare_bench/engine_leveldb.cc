// compare_bench/engine_leveldb.cc: LevelDB with its default options
// (engine_lsm.h has the engine and its configuration).
//
// Trees: LevelDB has no column families; with N > 1 trees LsmEngine keeps
// tree t under the one-byte key prefix t (kPrefixTrees), the usual way to
// hold several key spaces in one LevelDB. Sorted load: LevelDB has no
// sorted-load call; PutSorted is the ordered WriteBatch of Put.
#include <leveldb/db.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include <memory>
#include <string>

#include "compare_bench/engine_lsm.h"

namespace sombra::bench {
namespace {

// No sorted-load path: PutSorted is Put, so nothing is ever added here.
struct NoSortedLoader {
  Status Open(const std::string&, const leveldb::Options&, int) { return Status::OK(); }
  bool active() const { return false; }
  template <typename Families>
  leveldb::Status Ingest(leveldb::DB*, const Families&) {
    return leveldb::Status::OK();
  }
  void Abort() {}
};

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
  struct Families {};
  using SortedLoader = NoSortedLoader;
  static constexpr const char* kName = "leveldb";
  static constexpr bool kPrefixTrees = true;
  static constexpr bool kHasSortedLoader = false;

  static NativeStatus OpenDb(const Options& o, const std::string& path, int, DB** db, Families*) {
    return DB::Open(o, path, db);
  }
  // LevelDB closes in the destructor.
  static NativeStatus CloseDb(DB*, Families*) { return NativeStatus::OK(); }
  static NativeStatus BatchPut(WriteBatch* b, const Families&, int, Slice k, Slice v) {
    b->Put(k, v);
    return NativeStatus::OK();
  }
  static NativeStatus DbPut(DB* db, const WriteOptions& wo, const Families&, Slice k, Slice v) {
    return db->Put(wo, k, v);
  }
  static NativeStatus DbGet(DB* db, const ReadOptions& ro, const Families&, int, Slice k,
                            std::string* v) {
    return db->Get(ro, k, v);
  }
  static Iterator* NewIterator(DB* db, const ReadOptions& ro, const Families&, int) {
    return db->NewIterator(ro);
  }
};

}  // namespace

std::unique_ptr<Engine> NewLeveldbEngine() { return std::make_unique<LsmEngine<LeveldbTraits>>(); }

}  // namespace sombra::bench
