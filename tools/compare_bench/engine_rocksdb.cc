// compare_bench/engine_rocksdb.cc: RocksDB with its default options
// (engine_lsm.h has the engine and its configuration).
//
// Trees: one tree is the default column family; N trees are the column
// families "t0".."t{N-1}" (create_missing_column_families; the default
// family is opened too, as RocksDB wants, and left empty), every batch one
// WriteBatch across them.
//
// Sorted load (--mode load-sorted): each batch's keys go through
// rocksdb::SstFileWriter into one SST file per tree written to the
// `rocksdb-ingest` directory beside the database, and the batch's commit is
// one DB::IngestExternalFiles over them (move_files: the files are linked
// in, not copied). The keys arrive in order and never overlap the
// database's, so RocksDB places each file at the bottom level without
// rewriting it. Ingestion syncs the files and the MANIFEST whatever
// --durability says.
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "compare_bench/engine_lsm.h"

namespace sombra::bench {
namespace {

// The column family handles: `owned` came from DB::Open and are destroyed
// before Close; `tree[t]` is tree t's family.
struct RocksdbFamilies {
  std::vector<rocksdb::ColumnFamilyHandle*> owned;
  std::vector<rocksdb::ColumnFamilyHandle*> tree;
};

class RocksdbSortedLoader {
 public:
  ~RocksdbSortedLoader() { Abort(); }

  Status Open(const std::string& dir, const rocksdb::Options& options, int trees) {
    Abort();
    dir_ = dir + "/rocksdb-ingest";
    options_ = options;
    writers_.clear();
    writers_.resize(static_cast<size_t>(trees));
    paths_.assign(static_cast<size_t>(trees), std::string());
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) return Status::IOError("rocksdb: cannot create " + dir_ + ": " + ec.message());
    return Status::OK();
  }

  bool active() const { return active_; }

  rocksdb::Status Add(rocksdb::DB* db, const RocksdbFamilies& f, int tree, rocksdb::Slice key,
                      rocksdb::Slice value) {
    (void)db;
    std::unique_ptr<rocksdb::SstFileWriter>& w = writers_[static_cast<size_t>(tree)];
    if (w == nullptr) {
      w = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), options_,
                                                   f.tree[static_cast<size_t>(tree)]);
      std::string& path = paths_[static_cast<size_t>(tree)];
      path = dir_ + "/" + std::to_string(next_file_++) + ".sst";
      rocksdb::Status s = w->Open(path);
      if (!s.ok()) return s;
      active_ = true;
    }
    return w->Put(key, value);
  }

  // The batch's commit: finishes every file and ingests them in one call.
  rocksdb::Status Ingest(rocksdb::DB* db, const RocksdbFamilies& f) {
    std::vector<rocksdb::IngestExternalFileArg> args;
    rocksdb::Status s;
    for (size_t t = 0; t < writers_.size(); ++t) {
      if (writers_[t] == nullptr) continue;
      if (s.ok()) s = writers_[t]->Finish();
      writers_[t].reset();
      rocksdb::IngestExternalFileArg arg;
      arg.column_family = f.tree[t];
      arg.external_files.push_back(paths_[t]);
      arg.options.move_files = true;
      args.push_back(std::move(arg));
    }
    if (s.ok() && !args.empty()) s = db->IngestExternalFiles(args);
    RemoveFiles();
    active_ = false;
    return s;
  }

  void Abort() {
    for (auto& w : writers_) w.reset();
    RemoveFiles();
    active_ = false;
  }

 private:
  // Files moved in are links: removing the names here leaves the DB's.
  void RemoveFiles() {
    for (std::string& p : paths_) {
      if (!p.empty()) std::remove(p.c_str());
      p.clear();
    }
  }

  std::string dir_;
  rocksdb::Options options_;
  std::vector<std::unique_ptr<rocksdb::SstFileWriter>> writers_;  // per tree, this batch
  std::vector<std::string> paths_;
  uint64_t next_file_ = 0;
  bool active_ = false;
};

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
  using Families = RocksdbFamilies;
  using SortedLoader = RocksdbSortedLoader;
  static constexpr const char* kName = "rocksdb";
  static constexpr bool kPrefixTrees = false;
  static constexpr bool kHasSortedLoader = true;

  static NativeStatus OpenDb(const Options& o, const std::string& path, int trees, DB** db,
                             Families* f) {
    if (trees <= 1) {
      NativeStatus s = DB::Open(o, path, db);
      if (s.ok()) f->tree.push_back((*db)->DefaultColumnFamily());
      return s;
    }
    Options opts = o;
    opts.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    cfs.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(opts));
    for (int t = 0; t < trees; ++t) {
      cfs.emplace_back("t" + std::to_string(t), rocksdb::ColumnFamilyOptions(opts));
    }
    NativeStatus s = DB::Open(rocksdb::DBOptions(opts), path, cfs, &f->owned, db);
    if (s.ok()) f->tree.assign(f->owned.begin() + 1, f->owned.end());
    return s;
  }
  static NativeStatus CloseDb(DB* db, Families* f) {
    NativeStatus s;
    for (rocksdb::ColumnFamilyHandle* h : f->owned) {
      NativeStatus d = db->DestroyColumnFamilyHandle(h);
      if (s.ok()) s = d;
    }
    f->owned.clear();
    f->tree.clear();
    NativeStatus c = db->Close();
    return s.ok() ? c : s;
  }
  static NativeStatus BatchPut(WriteBatch* b, const Families& f, int tree, Slice k, Slice v) {
    return b->Put(f.tree[static_cast<size_t>(tree)], k, v);
  }
  static NativeStatus DbPut(DB* db, const WriteOptions& wo, const Families& f, Slice k, Slice v) {
    return db->Put(wo, f.tree[0], k, v);
  }
  static NativeStatus DbGet(DB* db, const ReadOptions& ro, const Families& f, int tree, Slice k,
                            std::string* v) {
    return db->Get(ro, f.tree[static_cast<size_t>(tree)], k, v);
  }
  static Iterator* NewIterator(DB* db, const ReadOptions& ro, const Families& f, int tree) {
    return db->NewIterator(ro, f.tree[static_cast<size_t>(tree)]);
  }
};

}  // namespace

std::unique_ptr<Engine> NewRocksdbEngine() { return std::make_unique<LsmEngine<RocksdbTraits>>(); }

}  // namespace sombra::bench
