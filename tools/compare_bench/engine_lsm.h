// compare_bench/engine_lsm.h: the engine for LevelDB and RocksDB, whose C++
// APIs have the same shape (RocksDB began as a fork of LevelDB). Each
// engine_<name>.cc gives a traits struct naming its library's types and
// the two calls that differ, and instantiates LsmEngine with it.
//
// Configuration (both): Options() with create_if_missing; batches are
// WriteBatch + DB::Write; PutSingle is DB::Put (both libraries group
// concurrent writers themselves). --durability full ->
// WriteOptions::sync = true; normal and off -> sync = false (the library's
// log is still written). BeginRead pins a snapshot per thread.
//
// Traits: types DB, Options, WriteOptions, ReadOptions, WriteBatch,
// Snapshot, Iterator, Slice, NativeStatus; kName (also the directory
// under the run's dir); static NativeStatus CloseDb(DB*) (before the
// handle is deleted); static NativeStatus BatchPut(WriteBatch*, Slice, Slice).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "compare_bench/bench_engine.h"

namespace sombra::bench {

template <typename T>
class LsmEngine final : public Engine {
 public:
  ~LsmEngine() override { (void)Close(); }

  const char* name() const override { return T::kName; }

  Status Open(const std::string& dir, const EngineOptions& options) override {
    typename T::Options o;
    o.create_if_missing = true;
    write_options_.sync = options.durability == Durability::kFull;
    snapshots_.assign(static_cast<size_t>(options.threads < 1 ? 1 : options.threads), nullptr);
    typename T::DB* db = nullptr;
    typename T::NativeStatus s = T::DB::Open(o, dir + "/" + T::kName, &db);
    db_.reset(db);
    return From(s);
  }

  Status Close() override {
    if (db_ == nullptr) return Status::OK();
    for (const typename T::Snapshot*& snap : snapshots_) {
      if (snap != nullptr) db_->ReleaseSnapshot(snap);
      snap = nullptr;
    }
    typename T::NativeStatus s = T::CloseDb(db_.get());
    db_.reset();
    return From(s);
  }

  Status BeginBatch() override {
    batch_.Clear();
    return Status::OK();
  }
  Status Put(std::string_view key, std::string_view value) override {
    return From(T::BatchPut(&batch_, S(key), S(value)));
  }
  Status Commit() override {
    Status s = From(db_->Write(write_options_, &batch_));
    batch_.Clear();
    return s;
  }

  Status PutSingle(int, std::string_view key, std::string_view value) override {
    return From(db_->Put(write_options_, S(key), S(value)));
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
    typename T::ReadOptions ro;
    ro.snapshot = snapshots_[thread];
    typename T::NativeStatus s = db_->Get(ro, S(key), value);
    *found = s.ok();
    return s.IsNotFound() ? Status::OK() : From(s);
  }

  Status Scan(int thread, bool reverse, ScanResult* result) override {
    typename T::ReadOptions ro;
    ro.snapshot = snapshots_[thread];
    std::unique_ptr<typename T::Iterator> it(db_->NewIterator(ro));
    ScanResult r;
    if (reverse) {
      it->SeekToLast();
    } else {
      it->SeekToFirst();
    }
    for (; it->Valid(); reverse ? it->Prev() : it->Next()) {
      if (r.count == 0) r.first_key = it->key().ToString();
      typename T::Slice v = it->value();
      r.checksum += v.size() + (v.empty() ? 0 : static_cast<unsigned char>(v[0]));
      ++r.count;
    }
    *result = r;
    return From(it->status());
  }

 private:
  static Status From(const typename T::NativeStatus& s) {
    return s.ok() ? Status::OK() : Status::IOError(std::string(T::kName) + ": " + s.ToString());
  }
  static typename T::Slice S(std::string_view s) { return typename T::Slice(s.data(), s.size()); }

  std::unique_ptr<typename T::DB> db_;
  typename T::WriteOptions write_options_;
  typename T::WriteBatch batch_;
  std::vector<const typename T::Snapshot*> snapshots_;
};

}  // namespace sombra::bench
