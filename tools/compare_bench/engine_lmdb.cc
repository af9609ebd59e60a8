// compare_bench/engine_lmdb.cc: LMDB, one environment (data.mdb + lock.mdb) per run.
//
// Configuration: MDB_NOTLS (read transactions are per bench thread, not per
// OS thread); --durability full / normal / off -> default (sync every
// commit) / MDB_NOMETASYNC / MDB_NOSYNC. The map size is virtual address
// space only: max(4 GiB, 8 x max_keys x (key + value + 64)). Every batch and
// every PutSingle is a write transaction (LMDB serialises writers).
// One tree: the unnamed main DBI. N trees: mdb_env_set_maxdbs(N) and named
// DBIs "t0".."t{N-1}" opened with MDB_CREATE in one write transaction by
// Open; a batch writes into all of them in its one transaction.
#include <lmdb.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "compare_bench/bench_engine.h"

namespace sombra::bench {
namespace {

Status LmdbError(const char* what, int rc) {
  return Status::IOError(std::string("lmdb: ") + what + ": " + mdb_strerror(rc));
}

MDB_val Val(std::string_view s) {
  MDB_val v;
  v.mv_size = s.size();
  v.mv_data = const_cast<char*>(s.data());
  return v;
}

class LmdbEngine : public Engine {
 public:
  ~LmdbEngine() override { (void)Close(); }

  const char* name() const override { return "lmdb"; }

  Status Open(const std::string& dir, const EngineOptions& options) override {
    int rc = mdb_env_create(&env_);
    if (rc != 0) return LmdbError("env_create", rc);
    uint64_t want = uint64_t{8} * options.max_keys * (options.key_size + options.value_size + 64);
    size_t map_size = static_cast<size_t>(std::max<uint64_t>(uint64_t{4} << 30, want));
    mdb_env_set_mapsize(env_, map_size);
    mdb_env_set_maxreaders(env_, static_cast<unsigned>(std::max(126, options.threads + 8)));
    if (options.trees > 1) mdb_env_set_maxdbs(env_, static_cast<MDB_dbi>(options.trees));
    unsigned flags = MDB_NOTLS;
    if (options.durability == Durability::kNormal) flags |= MDB_NOMETASYNC;
    if (options.durability == Durability::kOff) flags |= MDB_NOSYNC;
    rc = mdb_env_open(env_, dir.c_str(), flags, 0644);
    if (rc != 0) return LmdbError("env_open", rc);
    MDB_txn* txn = nullptr;
    rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc != 0) return LmdbError("txn_begin", rc);
    dbis_.clear();
    for (int t = 0; t < std::max(1, options.trees); ++t) {
      MDB_dbi dbi = 0;
      std::string name = "t" + std::to_string(t);
      rc = options.trees > 1 ? mdb_dbi_open(txn, name.c_str(), MDB_CREATE, &dbi)
                             : mdb_dbi_open(txn, nullptr, 0, &dbi);
      if (rc != 0) {
        mdb_txn_abort(txn);
        return LmdbError("dbi_open", rc);
      }
      dbis_.push_back(dbi);
    }
    rc = mdb_txn_commit(txn);
    if (rc != 0) return LmdbError("txn_commit", rc);
    readers_.assign(static_cast<size_t>(std::max(1, options.threads)), nullptr);
    return Status::OK();
  }

  Status Close() override {
    for (MDB_txn*& r : readers_) {
      if (r != nullptr) mdb_txn_abort(r);
      r = nullptr;
    }
    if (batch_ != nullptr) mdb_txn_abort(batch_);
    batch_ = nullptr;
    if (env_ != nullptr) mdb_env_close(env_);
    env_ = nullptr;
    return Status::OK();
  }

  Status BeginBatch() override {
    int rc = mdb_txn_begin(env_, nullptr, 0, &batch_);
    return rc == 0 ? Status::OK() : LmdbError("txn_begin", rc);
  }
  Status Put(int tree, std::string_view key, std::string_view value) override {
    MDB_val k = Val(key);
    MDB_val v = Val(value);
    int rc = mdb_put(batch_, dbis_[tree], &k, &v, 0);
    return rc == 0 ? Status::OK() : LmdbError("put", rc);
  }
  Status PutSorted(int tree, std::string_view key, std::string_view value) override {
    MDB_val k = Val(key);
    MDB_val v = Val(value);
    int rc = mdb_put(batch_, dbis_[tree], &k, &v, MDB_APPEND);
    return rc == 0 ? Status::OK() : LmdbError("put (MDB_APPEND)", rc);
  }
  Status Commit() override {
    int rc = mdb_txn_commit(batch_);
    batch_ = nullptr;
    return rc == 0 ? Status::OK() : LmdbError("txn_commit", rc);
  }

  Status PutSingle(int, std::string_view key, std::string_view value) override {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc != 0) return LmdbError("txn_begin", rc);
    MDB_val k = Val(key);
    MDB_val v = Val(value);
    rc = mdb_put(txn, dbis_[0], &k, &v, 0);
    if (rc != 0) {
      mdb_txn_abort(txn);
      return LmdbError("put", rc);
    }
    rc = mdb_txn_commit(txn);
    return rc == 0 ? Status::OK() : LmdbError("txn_commit", rc);
  }

  Status BeginRead(int thread) override {
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &readers_[thread]);
    return rc == 0 ? Status::OK() : LmdbError("txn_begin(rdonly)", rc);
  }
  Status EndRead(int thread) override {
    mdb_txn_abort(readers_[thread]);
    readers_[thread] = nullptr;
    return Status::OK();
  }

  Status Get(int thread, int tree, std::string_view key, std::string* value, bool* found) override {
    MDB_txn* txn = thread == 0 && batch_ != nullptr ? batch_ : readers_[thread];
    MDB_txn* own = nullptr;
    if (txn == nullptr) {
      int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &own);
      if (rc != 0) return LmdbError("txn_begin(rdonly)", rc);
      txn = own;
    }
    MDB_val k = Val(key);
    MDB_val v;
    int rc = mdb_get(txn, dbis_[tree], &k, &v);
    *found = rc == 0;
    if (rc == 0) value->assign(static_cast<const char*>(v.mv_data), v.mv_size);
    if (own != nullptr) mdb_txn_abort(own);
    return rc == 0 || rc == MDB_NOTFOUND ? Status::OK() : LmdbError("get", rc);
  }

  Status Scan(int thread, int tree, bool reverse, ScanResult* result) override {
    MDB_txn* txn = readers_[thread];
    MDB_txn* own = nullptr;
    if (txn == nullptr) {
      int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &own);
      if (rc != 0) return LmdbError("txn_begin(rdonly)", rc);
      txn = own;
    }
    MDB_cursor* cursor = nullptr;
    int rc = mdb_cursor_open(txn, dbis_[tree], &cursor);
    ScanResult r;
    if (rc == 0) {
      MDB_val k;
      MDB_val v;
      MDB_cursor_op op = reverse ? MDB_LAST : MDB_FIRST;
      MDB_cursor_op step = reverse ? MDB_PREV : MDB_NEXT;
      while ((rc = mdb_cursor_get(cursor, &k, &v, op)) == 0) {
        if (r.count == 0) r.first_key.assign(static_cast<const char*>(k.mv_data), k.mv_size);
        const unsigned char* vp = static_cast<const unsigned char*>(v.mv_data);
        r.checksum += v.mv_size + (v.mv_size > 0 ? vp[0] : 0);
        ++r.count;
        op = step;
      }
      mdb_cursor_close(cursor);
    }
    if (own != nullptr) mdb_txn_abort(own);
    *result = r;
    return rc == MDB_NOTFOUND ? Status::OK() : LmdbError("cursor", rc);
  }

 private:
  MDB_env* env_ = nullptr;
  std::vector<MDB_dbi> dbis_;  // one per tree
  MDB_txn* batch_ = nullptr;
  std::vector<MDB_txn*> readers_;
};

}  // namespace

std::unique_ptr<Engine> NewLmdbEngine() { return std::make_unique<LmdbEngine>(); }

}  // namespace sombra::bench
