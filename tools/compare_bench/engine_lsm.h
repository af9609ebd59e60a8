// compare_bench/engine_lsm.h: the engine for LevelDB and RocksDB, whose C++
// APIs have the same shape (RocksDB began as a fork of LevelDB). Each
// engine_<name>.cc gives a traits struct naming its library's types and
// the calls that differ, and instantiates LsmEngine with it.
//
// Configuration (both): Options() with create_if_missing; batches are
// WriteBatch + DB::Write; PutSingle is DB::Put (both libraries group
// concurrent writers themselves). --durability full ->
// WriteOptions::sync = true; normal and off -> sync = false (the library's
// log is still written). BeginRead pins a snapshot per thread.
//
// Trees: the traits keep them. RocksDB: one column family per tree (the
// default column family for one tree). LevelDB has no column families
// (kPrefixTrees): with N > 1 trees this engine stores tree t's keys under
// the one-byte prefix t and scans a tree as its prefix range.
//
// Traits: types DB, Options, WriteOptions, ReadOptions, WriteBatch,
// Snapshot, Iterator, Slice, NativeStatus, Families (the per-tree handles
// the traits keep), SortedLoader (see below); kName (also the directory
// under the run's dir); kPrefixTrees; and the static calls
//   NativeStatus OpenDb(const Options&, const std::string& path, int trees,
//                       DB**, Families*)
//   NativeStatus CloseDb(DB*, Families*)     (before the handle is deleted)
//   NativeStatus BatchPut(WriteBatch*, const Families&, int tree, Slice, Slice)
//   NativeStatus DbPut(DB*, const WriteOptions&, const Families&, Slice, Slice)
//   NativeStatus DbGet(DB*, const ReadOptions&, const Families&, int tree,
//                      Slice, std::string*)
//   Iterator* NewIterator(DB*, const ReadOptions&, const Families&, int tree)
// SortedLoader: a sorted-load path of the library used by PutSorted, or
// kHasSortedLoader false: PutSorted is Put. Its calls: Open(dir, options,
// trees); Add(db, families, tree, key, value); bool active();
// Ingest(db, families) (the batch's commit); Abort().
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
    options_ = typename T::Options();
    options_.create_if_missing = true;
    write_options_.sync = options.durability == Durability::kFull;
    trees_ = options.trees < 1 ? 1 : options.trees;
    snapshots_.assign(static_cast<size_t>(options.threads < 1 ? 1 : options.threads), nullptr);
    keys_.assign(snapshots_.size(), std::string());
    typename T::DB* db = nullptr;
    families_ = typename T::Families();
    typename T::NativeStatus s =
        T::OpenDb(options_, dir + "/" + T::kName, PrefixTrees() ? 1 : trees_, &db, &families_);
    db_.reset(db);
    if (s.ok() && db_ == nullptr) return Status::IOError(std::string(T::kName) + ": no handle");
    Status st = From(s);
    if (st.ok()) st = loader_.Open(dir, options_, trees_);
    return st;
  }

  Status Close() override {
    if (db_ == nullptr) return Status::OK();
    loader_.Abort();
    for (const typename T::Snapshot*& snap : snapshots_) {
      if (snap != nullptr) db_->ReleaseSnapshot(snap);
      snap = nullptr;
    }
    typename T::NativeStatus s = T::CloseDb(db_.get(), &families_);
    db_.reset();
    return From(s);
  }

  Status BeginBatch() override {
    batch_.Clear();
    return Status::OK();
  }
  Status Put(int tree, std::string_view key, std::string_view value) override {
    return From(T::BatchPut(&batch_, families_, PrefixTrees() ? 0 : tree, S(TreeKey(0, tree, key)),
                            S(value)));
  }
  Status PutSorted(int tree, std::string_view key, std::string_view value) override {
    if constexpr (T::kHasSortedLoader) {
      return From(loader_.Add(db_.get(), families_, tree, S(key), S(value)));
    } else {
      return Put(tree, key, value);
    }
  }
  Status Commit() override {
    if (loader_.active()) return From(loader_.Ingest(db_.get(), families_));
    Status s = From(db_->Write(write_options_, &batch_));
    batch_.Clear();
    return s;
  }

  Status PutSingle(int, std::string_view key, std::string_view value) override {
    return From(T::DbPut(db_.get(), write_options_, families_, S(key), S(value)));
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

  Status Get(int thread, int tree, std::string_view key, std::string* value, bool* found) override {
    typename T::ReadOptions ro;
    ro.snapshot = snapshots_[thread];
    typename T::NativeStatus s = T::DbGet(db_.get(), ro, families_, PrefixTrees() ? 0 : tree,
                                          S(TreeKey(thread, tree, key)), value);
    *found = s.ok();
    return s.IsNotFound() ? Status::OK() : From(s);
  }

  Status Scan(int thread, int tree, bool reverse, ScanResult* result) override {
    typename T::ReadOptions ro;
    ro.snapshot = snapshots_[thread];
    std::unique_ptr<typename T::Iterator> it(
        T::NewIterator(db_.get(), ro, families_, PrefixTrees() ? 0 : tree));
    // With prefixes, tree t is the range [t, t + 1) of first bytes.
    const bool prefixed = PrefixTrees();
    const char prefix = static_cast<char>(tree);
    auto in_tree = [&]() { return !prefixed || (it->key().size() > 0 && it->key()[0] == prefix); };
    if (!prefixed) {
      reverse ? it->SeekToLast() : it->SeekToFirst();
    } else if (!reverse) {
      it->Seek(typename T::Slice(&prefix, 1));
    } else if (tree + 1 < kMaxTrees) {
      const char next = static_cast<char>(tree + 1);
      it->Seek(typename T::Slice(&next, 1));
      it->Valid() ? it->Prev() : it->SeekToLast();
    } else {
      it->SeekToLast();
    }
    ScanResult r;
    for (; it->Valid() && in_tree(); reverse ? it->Prev() : it->Next()) {
      if (r.count == 0) {
        r.first_key = it->key().ToString();
        if (prefixed) r.first_key.erase(0, 1);
      }
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

  // True when trees are key prefixes (LevelDB with more than one tree).
  bool PrefixTrees() const { return T::kPrefixTrees && trees_ > 1; }

  // `key` as stored in `tree`: itself, or behind the tree's prefix byte
  // (built in keys_[thread]).
  std::string_view TreeKey(int thread, int tree, std::string_view key) {
    if (!PrefixTrees()) return key;
    std::string& k = keys_[static_cast<size_t>(thread)];
    k.assign(1, static_cast<char>(tree));
    k.append(key);
    return k;
  }

  typename T::Options options_;
  std::unique_ptr<typename T::DB> db_;
  typename T::Families families_;
  typename T::SortedLoader loader_;
  typename T::WriteOptions write_options_;
  typename T::WriteBatch batch_;
  int trees_ = 1;
  std::vector<const typename T::Snapshot*> snapshots_;
  std::vector<std::string> keys_;  // TreeKey's buffers, one per thread
};

}  // namespace sombra::bench
