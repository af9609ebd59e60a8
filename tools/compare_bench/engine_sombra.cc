// compare_bench/engine_sombra.cc: Sombra through its public API (sombra/db.h).
//
// Batches are WriteTxns; PutSingle is DB::Put, so concurrent threads meet
// in group commit; reads use one ReadTxn per thread while pinned.
// One tree: the default tree through the calls without a Tree*. N trees:
// named trees "t0".."t{N-1}", opened (created when missing, each in its own
// transaction) by Open, before any timing; every batch is one WriteTxn
// writing into all of them through the Tree* calls.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "compare_bench/bench_engine.h"
#include "sombra/db.h"
#include "util/metrics.h"

namespace sombra::bench {
namespace {

class SombraEngine : public Engine {
 public:
  const char* name() const override { return "sombra"; }

  Status Open(const std::string& dir, const EngineOptions& options) override {
    Options o;
    o.durability = options.durability;
    readers_.clear();
    readers_.resize(static_cast<size_t>(options.threads < 1 ? 1 : options.threads));
    trees_.clear();
    Status s = DB::Open(o, dir + "/db.sombra", &db_);
    for (int t = 0; s.ok() && options.trees > 1 && t < options.trees; ++t) {
      Tree* tree = nullptr;
      s = db_->OpenTree("t" + std::to_string(t), &tree);
      trees_.push_back(tree);
    }
    return s;
  }

  Status Close() override {
    readers_.clear();
    batch_.reset();
    trees_.clear();
    db_.reset();
    return Status::OK();
  }

  Status BeginBatch() override { return db_->BeginWrite(&batch_); }
  Status Put(int tree, std::string_view key, std::string_view value) override {
    return trees_.empty() ? batch_->Put(key, value) : batch_->Put(trees_[tree], key, value);
  }
  Status PutSorted(int tree, std::string_view key, std::string_view value) override {
    return trees_.empty() ? batch_->Append(key, value) : batch_->Append(trees_[tree], key, value);
  }
  Status Commit() override {
    Status s = batch_->Commit();
    batch_.reset();
    return s;
  }

  Status PutSingle(int, std::string_view key, std::string_view value) override {
    return db_->Put(key, value);
  }

  Status BeginRead(int thread) override { return db_->BeginRead(&readers_[thread]); }
  Status EndRead(int thread) override {
    readers_[thread].reset();
    return Status::OK();
  }

  Status Get(int thread, int tree, std::string_view key, std::string* value, bool* found) override {
    Tree* t = trees_.empty() ? nullptr : trees_[tree];
    Status s;
    if (thread == 0 && batch_ != nullptr) {
      s = t == nullptr ? batch_->Get(key, value) : batch_->Get(t, key, value);
    } else if (readers_[thread] != nullptr) {
      s = t == nullptr ? readers_[thread]->Get(key, value) : readers_[thread]->Get(t, key, value);
    } else if (t == nullptr) {
      s = db_->Get(key, value);
    } else {
      std::unique_ptr<ReadTxn> own;
      s = db_->BeginRead(&own);
      if (s.ok()) s = own->Get(t, key, value);
    }
    *found = s.ok();
    return s.IsNotFound() ? Status::OK() : s;
  }

  Status Scan(int thread, int tree, bool reverse, ScanResult* result) override {
    std::unique_ptr<ReadTxn> own;
    ReadTxn* txn = readers_[thread].get();
    if (txn == nullptr) {
      Status s = db_->BeginRead(&own);
      if (!s.ok()) return s;
      txn = own.get();
    }
    std::unique_ptr<Cursor> c = trees_.empty() ? txn->NewCursor() : txn->NewCursor(trees_[tree]);
    if (reverse) {
      c->SeekToLast();
    } else {
      c->SeekToFirst();
    }
    ScanResult r;
    if (c->Valid()) r.first_key.assign(c->key());
    while (c->Valid()) {
      std::string_view v = c->value();
      r.checksum += v.size() + (v.empty() ? 0 : static_cast<unsigned char>(v[0]));
      ++r.count;
      if (reverse) {
        c->Prev();
      } else {
        c->Next();
      }
    }
    Status s = c->status();
    *result = r;
    return s;
  }

  void Report(EngineReport* report) override {
    Stats st = db_->GetStats();
    report->has_wal_bytes = true;
    report->wal_bytes = st.wal_bytes;
    report->commits = st.commits;
    if (!ProfilingEnabled()) return;
    char buf[1024];
    std::snprintf(
        buf, sizeof(buf),
        "metrics: wal_records=%llu wal_bytes=%llu fsyncs=%llu commits_per_fsync=%.2f "
        "key_decodes=%llu key_cmps=%llu memcopy_bytes=%llu allocator_builds=%llu "
        "allocator_cache_reuse=%llu allocator_split_triggers=%llu "
        "allocator_failures=%llu allocator_compactions=%llu "
        "allocator_bytes_moved=%llu leaf_splits=%llu leaf_shares=%llu "
        "allocator_page_parses=%llu "
        "insert_avg_us=%.3f "
        "search_avg_us=%.3f commit_avg_ms=%.3f",
        U(st.wal_records), U(st.wal_bytes), U(st.fsyncs), st.commits_per_fsync, U(st.key_decodes),
        U(st.key_cmps), U(st.memcopy_bytes), U(st.allocator_builds), U(st.allocator_cache_reuse),
        U(st.allocator_split_triggers), U(st.allocator_failures), U(st.allocator_compactions),
        U(st.allocator_bytes_moved), U(st.leaf_splits), U(st.leaf_shares),
        U(st.allocator_page_parses), st.insert_avg_us, st.search_avg_us, st.commit_avg_ms);
    report->metrics_line = buf;
    std::snprintf(buf, sizeof(buf),
                  "pager: page_size=%u page_count=%llu freelist=%llu file_bytes=%llu "
                  "versions=%llu checkpoints=%llu checkpoint_pages=%llu "
                  "pager_file_pages_read=%llu pager_file_pages_written=%llu",
                  st.page_size, U(st.page_count), U(st.freelist_pages), U(st.file_bytes),
                  U(st.versions_in_memory), U(st.checkpoints), U(st.checkpoint_pages),
                  U(st.pager_file_pages_read), U(st.pager_file_pages_written));
    report->pager_line = buf;
    const auto all = [&st](const char* name) {
      auto it = st.all.find(name);
      return it == st.all.end() ? 0ull : U(it->second);
    };
    std::snprintf(buf, sizeof(buf),
                  "log: image_records=%llu delta_records=%llu ops_records=%llu copy_ops=%llu "
                  "compressed_bytes_saved=%llu",
                  all("wal_image_records"), all("wal_delta_records"), all("wal_ops_records"),
                  all("wal_copy_ops"), all("wal_compressed_bytes_saved"));
    report->pager_line += std::string("\n") + buf;
  }

 private:
  static unsigned long long U(uint64_t v) { return static_cast<unsigned long long>(v); }

  std::unique_ptr<DB> db_;
  std::unique_ptr<WriteTxn> batch_;
  std::vector<std::unique_ptr<ReadTxn>> readers_;
  std::vector<Tree*> trees_;  // empty: the default tree only; owned by db_
};

}  // namespace

std::unique_ptr<Engine> NewSombraEngine() { return std::make_unique<SombraEngine>(); }

}  // namespace sombra::bench
