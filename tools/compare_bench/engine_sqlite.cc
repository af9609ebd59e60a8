// compare_bench/engine_sqlite.cc: SQLite as an ordered key-value store.
//
// Configuration: WAL mode, page_size 4096, one table
//   CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID
// (N trees: tables t0..t{N-1} of the same shape, all written by each
// batch's one transaction; every table has its own prepared statements)
// synchronous FULL / NORMAL / OFF for --durability full / normal / off,
// every statement prepared once per connection. One connection per thread
// (opened with SQLITE_OPEN_NOMUTEX, busy_timeout 10 s); connection 0 runs the
// batches. Log bytes: pages written to the WAL (SQLITE_DBSTATUS_CACHE_WRITE,
// summed over connections) times the frame size (24 + page_size).
#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "compare_bench/bench_engine.h"

namespace sombra::bench {
namespace {

constexpr int kPageSize = 4096;

class Connection {
 public:
  ~Connection() { Close(); }

  Status Open(const std::string& path, const char* sync, bool first, int trees) {
    int rc =
        sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) return Error("open", rc);
    sqlite3_busy_timeout(db_, 10000);
    if (first) {
      Status s = Exec("PRAGMA page_size=4096");
      if (s.ok()) s = Exec("PRAGMA journal_mode=WAL");
      for (int t = 0; s.ok() && t < trees; ++t) {
        s = Exec("CREATE TABLE IF NOT EXISTS " + TableName(t, trees) +
                 "(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID");
      }
      if (!s.ok()) return s;
    }
    Status s = Exec(std::string("PRAGMA synchronous=") + sync);
    if (!s.ok()) return s;
    s = Prepare("BEGIN", &begin_);
    if (s.ok()) s = Prepare("COMMIT", &commit_);
    tables_.resize(static_cast<size_t>(trees));
    for (int t = 0; s.ok() && t < trees; ++t) {
      const std::string name = TableName(t, trees);
      Table& tb = tables_[static_cast<size_t>(t)];
      s = Prepare("INSERT OR REPLACE INTO " + name + "(k, v) VALUES(?1, ?2)", &tb.insert);
      if (s.ok()) s = Prepare("SELECT v FROM " + name + " WHERE k = ?1", &tb.select);
      if (s.ok()) s = Prepare("SELECT k, v FROM " + name + " ORDER BY k ASC", &tb.scan_forward);
      if (s.ok()) s = Prepare("SELECT k, v FROM " + name + " ORDER BY k DESC", &tb.scan_reverse);
    }
    return s;
  }

  void Close() {
    for (sqlite3_stmt** st : {&begin_, &commit_}) {
      sqlite3_finalize(*st);
      *st = nullptr;
    }
    for (Table& tb : tables_) {
      for (sqlite3_stmt* st : {tb.insert, tb.select, tb.scan_forward, tb.scan_reverse}) {
        sqlite3_finalize(st);
      }
    }
    tables_.clear();
    if (db_ != nullptr) sqlite3_close(db_);
    db_ = nullptr;
  }

  Status Begin() { return StepDone(begin_, "BEGIN"); }
  Status Commit() { return StepDone(commit_, "COMMIT"); }

  Status Insert(int tree, std::string_view key, std::string_view value) {
    sqlite3_stmt* insert = tables_[static_cast<size_t>(tree)].insert;
    sqlite3_bind_blob(insert, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_blob(insert, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    return StepDone(insert, "INSERT");
  }

  Status Get(int tree, std::string_view key, std::string* value, bool* found) {
    sqlite3_stmt* select = tables_[static_cast<size_t>(tree)].select;
    sqlite3_bind_blob(select, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    int rc = sqlite3_step(select);
    *found = rc == SQLITE_ROW;
    if (*found) {
      const void* v = sqlite3_column_blob(select, 0);
      value->assign(static_cast<const char*>(v), sqlite3_column_bytes(select, 0));
      rc = SQLITE_DONE;
    }
    sqlite3_reset(select);
    return rc == SQLITE_DONE ? Status::OK() : Error("SELECT", rc);
  }

  Status Scan(int tree, bool reverse, ScanResult* result) {
    const Table& tb = tables_[static_cast<size_t>(tree)];
    sqlite3_stmt* st = reverse ? tb.scan_reverse : tb.scan_forward;
    ScanResult r;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      if (r.count == 0) {
        r.first_key.assign(static_cast<const char*>(sqlite3_column_blob(st, 0)),
                           sqlite3_column_bytes(st, 0));
      }
      const unsigned char* v = static_cast<const unsigned char*>(sqlite3_column_blob(st, 1));
      int n = sqlite3_column_bytes(st, 1);
      r.checksum += static_cast<uint64_t>(n) + (n > 0 ? v[0] : 0);
      ++r.count;
    }
    sqlite3_reset(st);
    *result = r;
    return rc == SQLITE_DONE ? Status::OK() : Error("scan", rc);
  }

  // Pages this connection wrote to the WAL.
  uint64_t PagesWritten() {
    int cur = 0;
    int hi = 0;
    sqlite3_db_status(db_, SQLITE_DBSTATUS_CACHE_WRITE, &cur, &hi, 0);
    return static_cast<uint64_t>(cur);
  }

 private:
  // The statements of one tree's table.
  struct Table {
    sqlite3_stmt* insert = nullptr;
    sqlite3_stmt* select = nullptr;
    sqlite3_stmt* scan_forward = nullptr;
    sqlite3_stmt* scan_reverse = nullptr;
  };

  // One tree: the table kv, as before --trees existed; N trees: t0..t{N-1}.
  static std::string TableName(int tree, int trees) {
    return trees == 1 ? std::string("kv") : "t" + std::to_string(tree);
  }

  Status Prepare(const std::string& sql, sqlite3_stmt** st) {
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, st, nullptr);
    return rc == SQLITE_OK ? Status::OK() : Error(sql.c_str(), rc);
  }

  Status Exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status::OK();
    std::string msg = sql + ": " + (err != nullptr ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    return Status::IOError("sqlite: " + msg);
  }

  Status StepDone(sqlite3_stmt* st, const char* what) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? Status::OK() : Error(what, rc);
  }

  Status Error(const char* what, int rc) {
    return Status::IOError(std::string("sqlite: ") + what + ": " +
                           (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)));
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  std::vector<Table> tables_;  // one per tree
};

class SqliteEngine : public Engine {
 public:
  const char* name() const override { return "sqlite"; }

  Status Open(const std::string& dir, const EngineOptions& options) override {
    const char* sync = options.durability == Durability::kFull     ? "FULL"
                       : options.durability == Durability::kNormal ? "NORMAL"
                                                                   : "OFF";
    int n = options.threads < 1 ? 1 : options.threads;
    conns_.clear();
    in_batch_ = false;
    for (int i = 0; i < n; ++i) {
      conns_.push_back(std::make_unique<Connection>());
      Status s = conns_.back()->Open(dir + "/db.sqlite", sync, i == 0, std::max(1, options.trees));
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  Status Close() override {
    // The last connection closed checkpoints and removes the WAL.
    conns_.clear();
    return Status::OK();
  }

  Status BeginBatch() override {
    in_batch_ = true;
    return conns_[0]->Begin();
  }
  // PutSorted is this same INSERT: SQLite has no sorted-load call; keys
  // arriving in order make every insert land at the right edge of the
  // table's B-tree.
  Status Put(int tree, std::string_view key, std::string_view value) override {
    return conns_[0]->Insert(tree, key, value);
  }
  Status Commit() override {
    in_batch_ = false;
    return conns_[0]->Commit();
  }

  Status PutSingle(int thread, std::string_view key, std::string_view value) override {
    return conns_[thread]->Insert(0, key, value);  // autocommit: one transaction
  }

  Status BeginRead(int thread) override { return conns_[thread]->Begin(); }
  Status EndRead(int thread) override { return conns_[thread]->Commit(); }

  Status Get(int thread, int tree, std::string_view key, std::string* value, bool* found) override {
    return conns_[thread]->Get(tree, key, value, found);
  }

  Status Scan(int thread, int tree, bool reverse, ScanResult* result) override {
    return conns_[thread]->Scan(tree, reverse, result);
  }

  void Report(EngineReport* report) override {
    uint64_t pages = 0;
    for (auto& c : conns_) pages += c->PagesWritten();
    report->has_wal_bytes = true;
    report->wal_bytes = pages * (24 + kPageSize);
  }

 private:
  std::vector<std::unique_ptr<Connection>> conns_;
  bool in_batch_ = false;
};

}  // namespace

std::unique_ptr<Engine> NewSqliteEngine() { return std::make_unique<SqliteEngine>(); }

}  // namespace sombra::bench
