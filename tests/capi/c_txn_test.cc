// sombra_txn through the C API: commit, abort and free; snapshots; the three
// gets; writes refused in a read transaction, after the end, on a read-only
// database, with bad keys; Append and DeleteRange.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "capi_test_util.h"

namespace sombra::capitest {
namespace {

class CapiTxnTest : public CapiTest {
 protected:
  // Every key of the default tree in `txn`, in order, as "k=v,".
  std::string Scan(sombra_txn* txn, sombra_tree* tree = nullptr) {
    CursorPtr c = NewCursor(txn, tree);
    std::string out;
    Error e;
    for (sombra_cursor_seek_to_first(c.get(), e.out()); sombra_cursor_valid(c.get());
         sombra_cursor_next(c.get(), e.out())) {
      out += Key(c.get()) + "=" + Value(c.get()) + ",";
    }
    EXPECT_EQ(sombra_cursor_status(c.get(), e.out()), SOMBRA_OK) << e.str();
    return out;
  }
};

TEST_F(CapiTxnTest, CommitIsVisibleToLaterSnapshotsOnly) {
  DbPtr db = Open();
  TxnPtr before = BeginRead(db.get());
  const uint64_t seq0 = sombra_txn_sequence(before.get());
  TxnPtr w = BeginWrite(db.get());
  Error e;
  ASSERT_EQ(Put(w.get(), "a", "1", &e), SOMBRA_OK) << e.str();
  ASSERT_EQ(Put(w.get(), "b", "2", &e), SOMBRA_OK) << e.str();
  EXPECT_EQ(Get(w.get(), "a"), "1");  // sees its own writes
  EXPECT_EQ(sombra_txn_sequence(w.get()), 0u);
  TxnPtr during = BeginRead(db.get());
  EXPECT_EQ(Get(during.get(), "a"), "<NotFound>");
  ASSERT_EQ(sombra_txn_commit(w.get(), e.out()), SOMBRA_OK) << e.str();
  EXPECT_EQ(e.get(), nullptr);
  TxnPtr after = BeginRead(db.get());
  EXPECT_EQ(Get(after.get(), "a"), "1");
  EXPECT_EQ(Get(after.get(), "b"), "2");
  EXPECT_GT(sombra_txn_sequence(after.get()), seq0);
  EXPECT_EQ(Get(before.get(), "a"), "<NotFound>");
  EXPECT_EQ(Get(during.get(), "b"), "<NotFound>");
}

TEST_F(CapiTxnTest, AbortAndFreeDiscardTheWrites) {
  DbPtr db = Open();
  Error e;
  {
    TxnPtr w = BeginWrite(db.get());
    ASSERT_EQ(Put(w.get(), "a", "1", &e), SOMBRA_OK);
    sombra_txn_abort(w.get());
    sombra_txn_abort(w.get());  // a no-op once ended
  }
  {
    TxnPtr w = BeginWrite(db.get());
    ASSERT_EQ(Put(w.get(), "b", "2", &e), SOMBRA_OK);
  }  // freed while open: aborted, and the writer slot is free again
  TxnPtr w = BeginWrite(db.get());
  ASSERT_NE(w, nullptr);
  ASSERT_EQ(sombra_txn_commit(w.get(), e.out()), SOMBRA_OK);
  EXPECT_EQ(DbGet(db.get(), "a"), "<NotFound>");
  EXPECT_EQ(DbGet(db.get(), "b"), "<NotFound>");
}

TEST_F(CapiTxnTest, ThreeWaysToGet) {
  DbPtr db = Open();
  Fill(db.get(), {{"k", "value"}, {"e", ""}});
  for (bool write : {false, true}) {
    SCOPED_TRACE(write ? "write" : "read");
    TxnPtr txn = write ? BeginWrite(db.get()) : BeginRead(db.get());
    sombra_tree* def = sombra_db_default_tree(db.get());
    Error e;
    char buf[8];
    size_t n = 0;
    ASSERT_EQ(sombra_txn_get(txn.get(), "k", 1, buf, sizeof(buf), &n, e.out()), SOMBRA_OK);
    EXPECT_EQ(std::string(buf, n), "value");
    ASSERT_EQ(sombra_txn_get_tree(txn.get(), def, "k", 1, buf, sizeof(buf), &n, e.out()),
              SOMBRA_OK);
    EXPECT_EQ(std::string(buf, n), "value");
    EXPECT_EQ(sombra_txn_get(txn.get(), "k", 1, buf, 2, &n, e.out()), SOMBRA_BUFFER_TOO_SMALL);
    EXPECT_EQ(n, 5u);
    EXPECT_EQ(sombra_txn_get_tree(txn.get(), def, "k", 1, nullptr, 0, &n, e.out()),
              SOMBRA_BUFFER_TOO_SMALL);
    EXPECT_EQ(sombra_txn_get(txn.get(), "x", 1, buf, sizeof(buf), &n, e.out()), SOMBRA_NOT_FOUND);

    void* v = nullptr;
    ASSERT_EQ(sombra_txn_get_alloc(txn.get(), "k", 1, &v, &n, e.out()), SOMBRA_OK);
    EXPECT_STREQ(static_cast<const char*>(v), "value");
    sombra_free(v);
    ASSERT_EQ(sombra_txn_get_alloc_tree(txn.get(), def, "e", 1, &v, nullptr, e.out()), SOMBRA_OK);
    EXPECT_STREQ(static_cast<const char*>(v), "");
    sombra_free(v);
    v = nullptr;
    EXPECT_EQ(sombra_txn_get_alloc(txn.get(), "x", 1, &v, &n, e.out()), SOMBRA_NOT_FOUND);
    EXPECT_EQ(v, nullptr);
    EXPECT_EQ(sombra_txn_get_alloc(txn.get(), "k", 1, nullptr, &n, e.out()),
              SOMBRA_INVALID_ARGUMENT);

    const void* view = nullptr;
    ASSERT_EQ(sombra_txn_get_view(txn.get(), "k", 1, &view, &n, e.out()), SOMBRA_OK);
    EXPECT_EQ(std::string(static_cast<const char*>(view), n), "value");
    ASSERT_EQ(sombra_txn_get_view_tree(txn.get(), def, "e", 1, &view, &n, e.out()), SOMBRA_OK);
    EXPECT_EQ(n, 0u);
    EXPECT_STREQ(static_cast<const char*>(view), "");
    EXPECT_EQ(sombra_txn_get_view(txn.get(), "x", 1, &view, &n, e.out()), SOMBRA_NOT_FOUND);
    EXPECT_EQ(sombra_txn_get_view(txn.get(), "k", 1, nullptr, &n, e.out()),
              SOMBRA_INVALID_ARGUMENT);
  }
}

TEST_F(CapiTxnTest, ViewStaysUntilTheNextViewOfTheTransaction) {
  DbPtr db = Open();
  const std::string big(5000, 'b');  // an overflow value
  Fill(db.get(), {{"a", "first"}, {"b", big}});
  TxnPtr txn = BeginRead(db.get());
  Error e;
  const void* a = nullptr;
  size_t an = 0;
  ASSERT_EQ(sombra_txn_get_view(txn.get(), "a", 1, &a, &an, e.out()), SOMBRA_OK);
  // Other calls on the transaction (a copy, a cursor) leave it alone.
  char buf[16];
  size_t n = 0;
  ASSERT_EQ(sombra_txn_get(txn.get(), "a", 1, buf, sizeof(buf), &n, e.out()), SOMBRA_OK);
  {
    CursorPtr c = NewCursor(txn.get());
    ASSERT_EQ(sombra_cursor_seek_to_last(c.get(), e.out()), SOMBRA_OK);
  }
  EXPECT_EQ(std::string(static_cast<const char*>(a), an), "first");
  const void* b = nullptr;
  ASSERT_EQ(sombra_txn_get_view(txn.get(), "b", 1, &b, &n, e.out()), SOMBRA_OK);
  EXPECT_EQ(std::string(static_cast<const char*>(b), n), big);
}

TEST_F(CapiTxnTest, WritesInAReadTransactionAreRefused) {
  DbPtr db = Open();
  Fill(db.get(), {{"a", "1"}});
  TxnPtr r = BeginRead(db.get());
  sombra_tree* def = sombra_db_default_tree(db.get());
  Error e;
  EXPECT_EQ(Put(r.get(), "b", "2", &e), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "put in a read transaction")) << e.str();
  EXPECT_EQ(sombra_txn_delete(r.get(), "a", 1, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_txn_append(r.get(), "z", 1, "v", 1, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_txn_delete_range(r.get(), "a", 1, "z", 1, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(PutTree(r.get(), def, "b", "2", &e), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_txn_delete_tree(r.get(), def, "a", 1, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_txn_append_tree(r.get(), def, "z", 1, "v", 1, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_txn_delete_range_tree(r.get(), def, "a", 1, "z", 1, e.out()),
            SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(Get(r.get(), "a"), "1");  // the snapshot goes on
  EXPECT_EQ(DbGet(db.get(), "b"), "<NotFound>");
}

TEST_F(CapiTxnTest, EveryCallAfterCommitIsInvalidArgument) {
  DbPtr db = Open();
  for (bool write : {true, false}) {
    SCOPED_TRACE(write ? "write" : "read");
    TxnPtr txn = write ? BeginWrite(db.get()) : BeginRead(db.get());
    CursorPtr c = NewCursor(txn.get());
    Error e;
    ASSERT_EQ(sombra_txn_commit(txn.get(), e.out()), SOMBRA_OK) << e.str();
    sombra_tree* def = sombra_db_default_tree(db.get());
    char buf[4];
    size_t n = 0;
    void* v = nullptr;
    const void* view = nullptr;
    sombra_cursor* c2 = nullptr;
    const sombra_status expect = SOMBRA_INVALID_ARGUMENT;
    EXPECT_EQ(sombra_txn_commit(txn.get(), e.out()), expect);
    EXPECT_TRUE(Contains(e.message(), "is finished (committed or aborted)")) << e.str();
    EXPECT_EQ(sombra_txn_get(txn.get(), "k", 1, buf, 4, &n, e.out()), expect);
    EXPECT_EQ(sombra_txn_get_alloc(txn.get(), "k", 1, &v, &n, e.out()), expect);
    EXPECT_EQ(sombra_txn_get_view(txn.get(), "k", 1, &view, &n, e.out()), expect);
    EXPECT_EQ(sombra_txn_get_tree(txn.get(), def, "k", 1, buf, 4, &n, e.out()), expect);
    EXPECT_EQ(Put(txn.get(), "k", "v", &e), expect);
    EXPECT_EQ(sombra_txn_delete(txn.get(), "k", 1, e.out()), expect);
    EXPECT_EQ(sombra_txn_append(txn.get(), "k", 1, "v", 1, e.out()), expect);
    EXPECT_EQ(sombra_txn_delete_range(txn.get(), "a", 1, "b", 1, e.out()), expect);
    EXPECT_EQ(sombra_txn_cursor(txn.get(), &c2, e.out()), expect);
    EXPECT_EQ(c2, nullptr);
    EXPECT_EQ(sombra_txn_sequence(txn.get()), 0u);
    // Its cursor turned invalid with it.
    EXPECT_EQ(sombra_cursor_valid(c.get()), 0);
    EXPECT_EQ(sombra_cursor_seek_to_first(c.get(), e.out()), expect);
    EXPECT_TRUE(Contains(e.message(), "cursor of a finished transaction")) << e.str();
    EXPECT_EQ(sombra_cursor_status(c.get(), e.out()), expect);
    sombra_txn_abort(txn.get());  // no-op
  }
  // The write transaction really committed and released the slot.
  TxnPtr w = BeginWrite(db.get());
  EXPECT_NE(w, nullptr);
}

TEST_F(CapiTxnTest, UseAfterAbortIsInvalidArgument) {
  DbPtr db = Open();
  TxnPtr w = BeginWrite(db.get());
  Error e;
  ASSERT_EQ(Put(w.get(), "a", "1", &e), SOMBRA_OK);
  sombra_txn_abort(w.get());
  EXPECT_EQ(Put(w.get(), "a", "1", &e), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_txn_commit(w.get(), e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(DbGet(db.get(), "a"), "<NotFound>");
}

TEST_F(CapiTxnTest, BadKeysWriteNothingAndTheTransactionGoesOn) {
  DbPtr db = Open();
  TxnPtr w = BeginWrite(db.get());
  Error e;
  const std::string over(1025, 'o');
  EXPECT_EQ(Put(w.get(), over, "v", &e), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "key of 1025 bytes is over the limit")) << e.str();
  EXPECT_EQ(Put(w.get(), "", "v", &e), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_txn_delete(w.get(), "", 0, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_txn_delete(w.get(), over.data(), over.size(), e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_txn_append(w.get(), "", 0, "v", 1, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(Get(w.get(), ""), "<InvalidArgument>");
  EXPECT_EQ(Get(w.get(), over), "<InvalidArgument>");
  ASSERT_EQ(Put(w.get(), "ok", "1", &e), SOMBRA_OK) << e.str();
  ASSERT_EQ(sombra_txn_commit(w.get(), e.out()), SOMBRA_OK) << e.str();
  TxnPtr r = BeginRead(db.get());
  EXPECT_EQ(Scan(r.get()), "ok=1,");
  EXPECT_EQ(Get(r.get(), ""), "<InvalidArgument>");
}

TEST_F(CapiTxnTest, AppendInOrderAndOutOfOrderRefused) {
  DbPtr db = Open();
  Fill(db.get(), {{"b", "0"}});
  TxnPtr w = BeginWrite(db.get());
  Error e;
  ASSERT_EQ(sombra_txn_append(w.get(), "c", 1, "1", 1, e.out()), SOMBRA_OK) << e.str();
  ASSERT_EQ(sombra_txn_append(w.get(), "d", 1, "2", 1, e.out()), SOMBRA_OK) << e.str();
  EXPECT_EQ(sombra_txn_append(w.get(), "a", 1, "x", 1, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "does not sort after")) << e.str();
  EXPECT_EQ(sombra_txn_append(w.get(), "d", 1, "x", 1, e.out()), SOMBRA_INVALID_ARGUMENT);
  // The transaction goes on and commits what was appended.
  sombra_tree* def = sombra_db_default_tree(db.get());
  ASSERT_EQ(sombra_txn_append_tree(w.get(), def, "e", 1, "3", 1, e.out()), SOMBRA_OK) << e.str();
  ASSERT_EQ(sombra_txn_commit(w.get(), e.out()), SOMBRA_OK) << e.str();
  TxnPtr r = BeginRead(db.get());
  EXPECT_EQ(Scan(r.get()), "b=0,c=1,d=2,e=3,");
}

TEST_F(CapiTxnTest, DeleteRange) {
  DbPtr db = Open();
  Fill(db.get(), {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {"e", "5"}});
  TxnPtr w = BeginWrite(db.get());
  Error e;
  ASSERT_EQ(sombra_txn_delete_range(w.get(), "b", 1, "d", 1, e.out()), SOMBRA_OK) << e.str();
  ASSERT_EQ(sombra_txn_delete_range(w.get(), "e", 1, "e", 1, e.out()), SOMBRA_OK) << e.str();
  EXPECT_EQ(sombra_txn_delete_range(w.get(), "z", 1, "a", 1, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "sorts before its begin")) << e.str();
  EXPECT_EQ(Scan(w.get()), "a=1,d=4,e=5,");
  // Positions, not keys: "" and a string longer than the key limit.
  const std::string huge(5000, '\xff');
  sombra_tree* def = sombra_db_default_tree(db.get());
  ASSERT_EQ(sombra_txn_delete_range_tree(w.get(), def, "", 0, "b", 1, e.out()), SOMBRA_OK);
  EXPECT_EQ(Scan(w.get()), "d=4,e=5,");
  ASSERT_EQ(sombra_txn_delete_range(w.get(), "e", 1, huge.data(), huge.size(), e.out()), SOMBRA_OK);
  ASSERT_EQ(sombra_txn_commit(w.get(), e.out()), SOMBRA_OK) << e.str();
  TxnPtr r = BeginRead(db.get());
  EXPECT_EQ(Scan(r.get()), "d=4,");
}

TEST_F(CapiTxnTest, DeleteInATransaction) {
  DbPtr db = Open();
  Fill(db.get(), {{"a", "1"}, {"b", "2"}});
  TxnPtr w = BeginWrite(db.get());
  Error e;
  ASSERT_EQ(sombra_txn_delete(w.get(), "a", 1, e.out()), SOMBRA_OK);
  ASSERT_EQ(sombra_txn_delete(w.get(), "zz", 2, e.out()), SOMBRA_OK);  // absent: OK
  ASSERT_EQ(sombra_txn_delete_tree(w.get(), sombra_db_default_tree(db.get()), "b", 1, e.out()),
            SOMBRA_OK);
  ASSERT_EQ(sombra_txn_commit(w.get(), e.out()), SOMBRA_OK);
  EXPECT_EQ(DbGet(db.get(), "a"), "<NotFound>");
  EXPECT_EQ(DbGet(db.get(), "b"), "<NotFound>");
}

TEST_F(CapiTxnTest, ReadOnlyDatabaseRefusesWrites) {
  {
    DbPtr db = Open();
    Fill(db.get(), {{"a", "1"}});
  }
  sombra_options o = Defaults();
  o.read_only = 1;
  DbPtr db = Open(o);
  Error e;
  sombra_txn* w = nullptr;
  EXPECT_EQ(sombra_db_begin_write(db.get(), &w, e.out()), SOMBRA_NOT_SUPPORTED);
  EXPECT_EQ(w, nullptr);
  EXPECT_EQ(DbPut(db.get(), "b", "2", &e), SOMBRA_NOT_SUPPORTED);
  EXPECT_TRUE(Contains(e.message(), "read-only")) << e.str();
  EXPECT_EQ(sombra_db_delete(db.get(), "a", 1, e.out()), SOMBRA_NOT_SUPPORTED);
  EXPECT_EQ(sombra_db_checkpoint(db.get(), e.out()), SOMBRA_NOT_SUPPORTED);
  sombra_tree* t = nullptr;
  EXPECT_EQ(sombra_db_open_tree(db.get(), "t", 1, &t, e.out()), SOMBRA_NOT_FOUND);
  EXPECT_EQ(t, nullptr);
  // Reading works.
  EXPECT_EQ(DbGet(db.get(), "a"), "1");
  TxnPtr r = BeginRead(db.get());
  EXPECT_EQ(Scan(r.get()), "a=1,");
  EXPECT_EQ(sombra_db_verify(db.get(), e.out()), SOMBRA_OK) << e.str();
}

}  // namespace
}  // namespace sombra::capitest
