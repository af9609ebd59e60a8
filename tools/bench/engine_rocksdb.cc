// bench/engine_rocksdb.cc: RocksDB with its default options.
//
// Configuration: rocksdb::Options() with create_if_missing; batches are
// WriteBatch + DB::Write; PutSingle is DB::Put (RocksDB groups concurrent
// writers itself). --durability full -> WriteOptions::sync = true; normal
// and off -> sync = false (the WAL is still written). BeginRead pins a
// snapshot per thread.
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <memory>
#include <string>
#include <vector>

#include "bench/bench_engine.h"

namespace sombra::bench {
namespace {

Status FromRocks(const rocksdb::Status& s) {
  return s.ok() ? Status::OK() : Status::IOError("rocksdb: " + s.ToString());
}

rocksdb::Slice S(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

class RocksdbEngine : public Engine {
 public:
  ~RocksdbEngine() override { (void)Close(); }

  const char* name() const override { return "rocksdb"; }

  Status Open(const std::string& dir, const EngineOptions& options) override {
    rocksdb::Options o;
    o.create_if_missing = true;
    write_options_.sync = options.durability == Durability::kFull;
    snapshots_.assign(static_cast<size_t>(options.threads < 1 ? 1 : options.threads), nullptr);
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(o, dir + "/rocksdb", &db);
    db_.reset(db);
    return FromRocks(s);
  }

  Status Close() override {
    if (db_ == nullptr) return Status::OK();
    for (const rocksdb::Snapshot*& snap : snapshots_) {
      if (snap != nullptr) db_->ReleaseSnapshot(snap);
      snap = nullptr;
    }
    rocksdb::Status s = db_->Close();
    db_.reset();
    return FromRocks(s);
  }

  Status BeginBatch() override {
    batch_.Clear();
    return Status::OK();
  }
  Status Put(std::string_view key, std::string_view value) override {
    return FromRocks(batch_.Put(S(key), S(value)));
  }
  Status Commit() override {
    Status s = FromRocks(db_->Write(write_options_, &batch_));
    batch_.Clear();
    return s;
  }

  Status PutSingle(int, std::string_view key, std::string_view value) override {
    return FromRocks(db_->Put(write_options_, S(key), S(value)));
  }

  Status BeginRead(int thread) override {
    snapshots_[thread] = db_->GetSnapshot();
    return Status::OK();
  }
  Status EndRead(int thread) override {
    db_->ReleaseSnapshot(snapshots_[thread]);
    snapshots_[thread] = nullptr;
    return Status::OK();
  }

  Status Get(int thread, std::string_view key, std::string* value, bool* found) override {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshots_[thread];
    rocksdb::Status s = db_->Get(ro, S(key), value);
    *found = s.ok();
    return s.IsNotFound() ? Status::OK() : FromRocks(s);
  }

  Status Scan(int thread, bool reverse, ScanResult* result) override {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshots_[thread];
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    ScanResult r;
    if (reverse) {
      it->SeekToLast();
    } else {
      it->SeekToFirst();
    }
    for (; it->Valid(); reverse ? it->Prev() : it->Next()) {
      if (r.count == 0) r.first_key = it->key().ToString();
      rocksdb::Slice v = it->value();
      r.checksum += v.size() + (v.empty() ? 0 : static_cast<unsigned char>(v[0]));
      ++r.count;
    }
    *result = r;
    return FromRocks(it->status());
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::WriteOptions write_options_;
  rocksdb::WriteBatch batch_;
  std::vector<const rocksdb::Snapshot*> snapshots_;
};

}  // namespace

std::unique_ptr<Engine> NewRocksdbEngine() { return std::make_unique<RocksdbEngine>(); }

}  // namespace sombra::bench
