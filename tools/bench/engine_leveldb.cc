// bench/engine_leveldb.cc: LevelDB with its default options.
//
// Configuration: leveldb::Options() with create_if_missing; batches are
// WriteBatch + DB::Write; PutSingle is DB::Put (LevelDB groups concurrent
// writers itself). --durability full -> WriteOptions::sync = true; normal
// and off -> sync = false (the WAL is still written). BeginRead pins a
// snapshot per thread.
#include <leveldb/db.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include <memory>
#include <string>
#include <vector>

#include "bench/bench_engine.h"

namespace sombra::bench {
namespace {

Status FromLevel(const leveldb::Status& s) {
  return s.ok() ? Status::OK() : Status::IOError("leveldb: " + s.ToString());
}

leveldb::Slice S(std::string_view s) { return leveldb::Slice(s.data(), s.size()); }

class LeveldbEngine : public Engine {
 public:
  ~LeveldbEngine() override { (void)Close(); }

  const char* name() const override { return "leveldb"; }

  Status Open(const std::string& dir, const EngineOptions& options) override {
    leveldb::Options o;
    o.create_if_missing = true;
    write_options_.sync = options.durability == Durability::kFull;
    snapshots_.assign(static_cast<size_t>(options.threads < 1 ? 1 : options.threads), nullptr);
    leveldb::DB* db = nullptr;
    leveldb::Status s = leveldb::DB::Open(o, dir + "/leveldb", &db);
    db_.reset(db);
    return FromLevel(s);
  }

  Status Close() override {
    if (db_ == nullptr) return Status::OK();
    for (const leveldb::Snapshot*& snap : snapshots_) {
      if (snap != nullptr) db_->ReleaseSnapshot(snap);
      snap = nullptr;
    }
    db_.reset();  // LevelDB closes in the destructor
    return Status::OK();
  }

  Status BeginBatch() override {
    batch_.Clear();
    return Status::OK();
  }
  Status Put(std::string_view key, std::string_view value) override {
    batch_.Put(S(key), S(value));
    return Status::OK();
  }
  Status Commit() override {
    Status s = FromLevel(db_->Write(write_options_, &batch_));
    batch_.Clear();
    return s;
  }

  Status PutSingle(int, std::string_view key, std::string_view value) override {
    return FromLevel(db_->Put(write_options_, S(key), S(value)));
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
    leveldb::ReadOptions ro;
    ro.snapshot = snapshots_[thread];
    leveldb::Status s = db_->Get(ro, S(key), value);
    *found = s.ok();
    return s.IsNotFound() ? Status::OK() : FromLevel(s);
  }

  Status Scan(int thread, bool reverse, ScanResult* result) override {
    leveldb::ReadOptions ro;
    ro.snapshot = snapshots_[thread];
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
    ScanResult r;
    if (reverse) {
      it->SeekToLast();
    } else {
      it->SeekToFirst();
    }
    for (; it->Valid(); reverse ? it->Prev() : it->Next()) {
      if (r.count == 0) r.first_key = it->key().ToString();
      leveldb::Slice v = it->value();
      r.checksum += v.size() + (v.empty() ? 0 : static_cast<unsigned char>(v[0]));
      ++r.count;
    }
    *result = r;
    return FromLevel(it->status());
  }

 private:
  std::unique_ptr<leveldb::DB> db_;
  leveldb::WriteOptions write_options_;
  leveldb::WriteBatch batch_;
  std::vector<const leveldb::Snapshot*> snapshots_;
};

}  // namespace

std::unique_ptr<Engine> NewLeveldbEngine() { return std::make_unique<LeveldbEngine>(); }

}  // namespace sombra::bench
