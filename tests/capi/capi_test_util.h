// capi/capi_test_util.h: RAII and string helpers for the tests of the C API.
//
// The tests call only <sombra/c.h> (through libsombra.so); these helpers
// own its handles and errors so that a failing assertion leaks nothing, and
// take std::string_view so the tests read like the C++ ones.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "sombra/c.h"
#include "testutil/temp_dir.h"

namespace sombra::capitest {

// A sombra_error* out-parameter owned by the test.
class Error {
 public:
  Error() = default;
  Error(const Error&) = delete;
  Error& operator=(const Error&) = delete;
  ~Error() { sombra_error_free(e_); }

  sombra_error** out() { return &e_; }
  sombra_error* get() const { return e_; }
  sombra_status code() const { return sombra_error_code(e_); }
  std::string message() const { return sombra_error_message(e_); }
  // "<code name>: <message>", for assertion output.
  std::string str() const {
    return std::string(sombra_status_name(code())) + ": " + sombra_error_message(e_);
  }

 private:
  sombra_error* e_ = nullptr;
};

struct DbCloser {
  void operator()(sombra_db* db) const {
    Error err;
    EXPECT_EQ(sombra_db_close(db, err.out()), SOMBRA_OK) << err.str();
  }
};
struct TxnFree {
  void operator()(sombra_txn* txn) const { sombra_txn_free(txn); }
};
struct CursorFree {
  void operator()(sombra_cursor* c) const { sombra_cursor_free(c); }
};
struct MemFree {
  void operator()(void* p) const { sombra_free(p); }
};
using DbPtr = std::unique_ptr<sombra_db, DbCloser>;
using TxnPtr = std::unique_ptr<sombra_txn, TxnFree>;
using CursorPtr = std::unique_ptr<sombra_cursor, CursorFree>;
using MemPtr = std::unique_ptr<void, MemFree>;

inline bool Contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

// The C calls with string_view arguments.
inline sombra_status Put(sombra_txn* txn, std::string_view k, std::string_view v, Error* e) {
  return sombra_txn_put(txn, k.data(), k.size(), v.data(), v.size(), e->out());
}
inline sombra_status PutTree(sombra_txn* txn, sombra_tree* t, std::string_view k,
                             std::string_view v, Error* e) {
  return sombra_txn_put_tree(txn, t, k.data(), k.size(), v.data(), v.size(), e->out());
}
inline sombra_status DbPut(sombra_db* db, std::string_view k, std::string_view v, Error* e) {
  return sombra_db_put(db, k.data(), k.size(), v.data(), v.size(), e->out());
}

// The value of `k` through sombra_txn_get_view (tree null: the default
// tree), or "<code name>" when the get fails.
inline std::string Get(sombra_txn* txn, std::string_view k, sombra_tree* tree = nullptr) {
  const void* v = nullptr;
  size_t n = 0;
  Error e;
  const sombra_status s =
      tree == nullptr ? sombra_txn_get_view(txn, k.data(), k.size(), &v, &n, e.out())
                      : sombra_txn_get_view_tree(txn, tree, k.data(), k.size(), &v, &n, e.out());
  if (s != SOMBRA_OK) return "<" + std::string(sombra_status_name(s)) + ">";
  return std::string(static_cast<const char*>(v), n);
}

// The value of `k` through sombra_db_get_alloc, or "<code name>".
inline std::string DbGet(sombra_db* db, std::string_view k) {
  void* v = nullptr;
  size_t n = 0;
  const sombra_status s = sombra_db_get_alloc(db, k.data(), k.size(), &v, &n, nullptr);
  if (s != SOMBRA_OK) return "<" + std::string(sombra_status_name(s)) + ">";
  MemPtr owned(v);
  return std::string(static_cast<const char*>(v), n);
}

inline std::string Key(const sombra_cursor* c) {
  size_t n = 0;
  const void* k = sombra_cursor_key(c, &n);
  return k == nullptr ? std::string() : std::string(static_cast<const char*>(k), n);
}
inline std::string Value(const sombra_cursor* c) {
  size_t n = 0;
  const void* v = sombra_cursor_value(c, &n);
  return v == nullptr ? std::string() : std::string(static_cast<const char*>(v), n);
}

// A temporary directory with a database path in it and helpers to open it.
class CapiTest : public ::testing::Test {
 protected:
  static sombra_options Defaults() {
    sombra_options o;
    sombra_options_init(&o);
    o.durability = SOMBRA_DURABILITY_OFF;  // the tests check behaviour, not fsyncs
    return o;
  }
  // Opens `path` (default path_) with `o`; fails the test when it cannot.
  DbPtr Open(const sombra_options& o = Defaults(), const std::string& path = {}) {
    sombra_db* db = nullptr;
    Error e;
    const std::string& p = path.empty() ? path_ : path;
    EXPECT_EQ(sombra_db_open(p.c_str(), &o, &db, e.out()), SOMBRA_OK) << e.str();
    return DbPtr(db);
  }
  TxnPtr BeginWrite(sombra_db* db) {
    sombra_txn* txn = nullptr;
    Error e;
    EXPECT_EQ(sombra_db_begin_write(db, &txn, e.out()), SOMBRA_OK) << e.str();
    return TxnPtr(txn);
  }
  TxnPtr BeginRead(sombra_db* db) {
    sombra_txn* txn = nullptr;
    Error e;
    EXPECT_EQ(sombra_db_begin_read(db, &txn, e.out()), SOMBRA_OK) << e.str();
    return TxnPtr(txn);
  }
  CursorPtr NewCursor(sombra_txn* txn, sombra_tree* tree = nullptr) {
    sombra_cursor* c = nullptr;
    Error e;
    const sombra_status s = tree == nullptr ? sombra_txn_cursor(txn, &c, e.out())
                                            : sombra_txn_cursor_tree(txn, tree, &c, e.out());
    EXPECT_EQ(s, SOMBRA_OK) << e.str();
    return CursorPtr(c);
  }
  // Commits `pairs` in one write transaction.
  void Fill(sombra_db* db,
            std::initializer_list<std::pair<std::string_view, std::string_view>> kv) {
    TxnPtr txn = BeginWrite(db);
    Error e;
    for (const auto& [k, v] : kv) ASSERT_EQ(Put(txn.get(), k, v, &e), SOMBRA_OK) << e.str();
    ASSERT_EQ(sombra_txn_commit(txn.get(), e.out()), SOMBRA_OK) << e.str();
  }

  test::TempDir dir_;
  std::string path_ = dir_.File("db");
};

}  // namespace sombra::capitest
