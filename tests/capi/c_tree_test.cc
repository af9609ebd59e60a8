// Named trees through the C API: open, list, drop, the _tree calls, one
// commit over several trees, and the handles' rules.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "capi_test_util.h"

namespace sombra::capitest {
namespace {

class CapiTreeTest : public CapiTest {
 protected:
  sombra_tree* OpenTree(sombra_db* db, std::string_view name) {
    sombra_tree* t = nullptr;
    Error e;
    EXPECT_EQ(sombra_db_open_tree(db, name.data(), name.size(), &t, e.out()), SOMBRA_OK) << e.str();
    return t;
  }
  std::vector<std::string> List(sombra_db* db) {
    sombra_name* names = nullptr;
    size_t count = 99;
    Error e;
    EXPECT_EQ(sombra_db_list_trees(db, &names, &count, e.out()), SOMBRA_OK) << e.str();
    MemPtr owned(names);
    std::vector<std::string> out;
    for (size_t i = 0; i < count; ++i) {
      EXPECT_EQ(names[i].data[names[i].size], '\0');
      out.emplace_back(names[i].data, names[i].size);
    }
    return out;
  }
};

TEST_F(CapiTreeTest, OpenListAndName) {
  DbPtr db = Open();
  EXPECT_TRUE(List(db.get()).empty());
  sombra_tree* users = OpenTree(db.get(), "users");
  sombra_tree* idx = OpenTree(db.get(), std::string("by\0email", 8));
  ASSERT_NE(users, nullptr);
  EXPECT_EQ(OpenTree(db.get(), "users"), users);  // the same handle
  EXPECT_NE(idx, users);
  size_t n = 0;
  EXPECT_STREQ(sombra_tree_name(users, &n), "users");
  EXPECT_EQ(n, 5u);
  const char* name = sombra_tree_name(idx, &n);
  EXPECT_EQ(std::string(name, n), std::string("by\0email", 8));
  sombra_tree* def = sombra_db_default_tree(db.get());
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(sombra_db_default_tree(db.get()), def);
  EXPECT_STREQ(sombra_tree_name(def, nullptr), "");
  EXPECT_EQ(List(db.get()), (std::vector<std::string>{std::string("by\0email", 8), "users"}));
}

TEST_F(CapiTreeTest, BadNames) {
  DbPtr db = Open();
  Error e;
  sombra_tree* t = nullptr;
  EXPECT_EQ(sombra_db_open_tree(db.get(), "", 0, &t, e.out()), SOMBRA_INVALID_ARGUMENT);
  const std::string long_name(256, 'n');
  EXPECT_EQ(sombra_db_open_tree(db.get(), long_name.data(), long_name.size(), &t, e.out()),
            SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(t, nullptr);
  EXPECT_EQ(sombra_db_open_tree(db.get(), "t", 1, nullptr, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_db_drop_tree(db.get(), "", 0, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_db_drop_tree(db.get(), "missing", 7, e.out()), SOMBRA_NOT_FOUND);
  size_t count = 0;
  EXPECT_EQ(sombra_db_list_trees(db.get(), nullptr, &count, e.out()), SOMBRA_INVALID_ARGUMENT);
  sombra_name* names = nullptr;
  EXPECT_EQ(sombra_db_list_trees(db.get(), &names, nullptr, e.out()), SOMBRA_INVALID_ARGUMENT);
}

TEST_F(CapiTreeTest, TreesAreSeparateKeySpacesCommittedTogether) {
  DbPtr db = Open();
  sombra_tree* users = OpenTree(db.get(), "users");
  sombra_tree* email = OpenTree(db.get(), "users.by_email");
  TxnPtr w = BeginWrite(db.get());
  Error e;
  ASSERT_EQ(PutTree(w.get(), users, "u1", "Ada Lovelace", &e), SOMBRA_OK) << e.str();
  ASSERT_EQ(PutTree(w.get(), email, "ada@example.org", "u1", &e), SOMBRA_OK) << e.str();
  ASSERT_EQ(Put(w.get(), "u1", "default", &e), SOMBRA_OK) << e.str();
  TxnPtr before = BeginRead(db.get());
  ASSERT_EQ(sombra_txn_commit(w.get(), e.out()), SOMBRA_OK) << e.str();
  TxnPtr r = BeginRead(db.get());
  EXPECT_EQ(Get(r.get(), "u1", users), "Ada Lovelace");
  EXPECT_EQ(Get(r.get(), "ada@example.org", email), "u1");
  EXPECT_EQ(Get(r.get(), "u1"), "default");
  EXPECT_EQ(Get(r.get(), "u1", email), "<NotFound>");
  EXPECT_EQ(Get(before.get(), "u1", users), "<NotFound>");
  // A cursor per tree.
  CursorPtr c = NewCursor(r.get(), users);
  ASSERT_EQ(sombra_cursor_seek_to_first(c.get(), e.out()), SOMBRA_OK);
  EXPECT_EQ(Key(c.get()), "u1");
  ASSERT_EQ(sombra_cursor_next(c.get(), e.out()), SOMBRA_OK);
  EXPECT_EQ(sombra_cursor_valid(c.get()), 0);
}

TEST_F(CapiTreeTest, EveryTreeCallOfAWriteTransaction) {
  DbPtr db = Open();
  sombra_tree* t = OpenTree(db.get(), "t");
  TxnPtr w = BeginWrite(db.get());
  Error e;
  ASSERT_EQ(sombra_txn_append_tree(w.get(), t, "a", 1, "1", 1, e.out()), SOMBRA_OK) << e.str();
  ASSERT_EQ(sombra_txn_append_tree(w.get(), t, "b", 1, "2", 1, e.out()), SOMBRA_OK) << e.str();
  ASSERT_EQ(sombra_txn_append_tree(w.get(), t, "c", 1, "3", 1, e.out()), SOMBRA_OK) << e.str();
  EXPECT_EQ(sombra_txn_append_tree(w.get(), t, "a", 1, "x", 1, e.out()), SOMBRA_INVALID_ARGUMENT);
  ASSERT_EQ(sombra_txn_delete_tree(w.get(), t, "a", 1, e.out()), SOMBRA_OK) << e.str();
  ASSERT_EQ(sombra_txn_delete_range_tree(w.get(), t, "c", 1, "d", 1, e.out()), SOMBRA_OK);
  char buf[4];
  size_t n = 0;
  ASSERT_EQ(sombra_txn_get_tree(w.get(), t, "b", 1, buf, sizeof(buf), &n, e.out()), SOMBRA_OK);
  EXPECT_EQ(std::string(buf, n), "2");
  void* v = nullptr;
  EXPECT_EQ(sombra_txn_get_alloc_tree(w.get(), t, "c", 1, &v, &n, e.out()), SOMBRA_NOT_FOUND);
  ASSERT_EQ(sombra_txn_commit(w.get(), e.out()), SOMBRA_OK) << e.str();
  TxnPtr r = BeginRead(db.get());
  EXPECT_EQ(Get(r.get(), "b", t), "2");
  EXPECT_EQ(Get(r.get(), "b"), "<NotFound>");  // not in the default tree
}

TEST_F(CapiTreeTest, NullTreeInATreeCallIsInvalidArgument) {
  DbPtr db = Open();
  TxnPtr w = BeginWrite(db.get());
  Error e;
  char buf[4];
  size_t n = 0;
  void* v = nullptr;
  const void* view = nullptr;
  sombra_cursor* c = nullptr;
  const sombra_status expect = SOMBRA_INVALID_ARGUMENT;
  EXPECT_EQ(PutTree(w.get(), nullptr, "k", "v", &e), expect);
  EXPECT_TRUE(Contains(e.message(), "tree is NULL")) << e.str();
  EXPECT_EQ(sombra_txn_delete_tree(w.get(), nullptr, "k", 1, e.out()), expect);
  EXPECT_EQ(sombra_txn_append_tree(w.get(), nullptr, "k", 1, "v", 1, e.out()), expect);
  EXPECT_EQ(sombra_txn_delete_range_tree(w.get(), nullptr, "a", 1, "b", 1, e.out()), expect);
  EXPECT_EQ(sombra_txn_get_tree(w.get(), nullptr, "k", 1, buf, 4, &n, e.out()), expect);
  EXPECT_EQ(sombra_txn_get_alloc_tree(w.get(), nullptr, "k", 1, &v, &n, e.out()), expect);
  EXPECT_EQ(sombra_txn_get_view_tree(w.get(), nullptr, "k", 1, &view, &n, e.out()), expect);
  EXPECT_EQ(sombra_txn_cursor_tree(w.get(), nullptr, &c, e.out()), expect);
  EXPECT_EQ(c, nullptr);
  // A bad argument: the transaction goes on.
  ASSERT_EQ(Put(w.get(), "k", "v", &e), SOMBRA_OK) << e.str();
  ASSERT_EQ(sombra_txn_commit(w.get(), e.out()), SOMBRA_OK) << e.str();
}

TEST_F(CapiTreeTest, DropThenUseIsInvalidArgument) {
  DbPtr db = Open();
  sombra_tree* t = OpenTree(db.get(), "t");
  {
    TxnPtr w = BeginWrite(db.get());
    Error e;
    ASSERT_EQ(PutTree(w.get(), t, "k", "v", &e), SOMBRA_OK);
    ASSERT_EQ(sombra_txn_commit(w.get(), e.out()), SOMBRA_OK);
  }
  Error e;
  ASSERT_EQ(sombra_db_drop_tree(db.get(), "t", 1, e.out()), SOMBRA_OK) << e.str();
  EXPECT_TRUE(List(db.get()).empty());
  EXPECT_STREQ(sombra_tree_name(t, nullptr), "t");  // the handle stays readable
  TxnPtr w = BeginWrite(db.get());
  EXPECT_EQ(PutTree(w.get(), t, "k", "v", &e), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "was dropped")) << e.str();
  EXPECT_EQ(Get(w.get(), "k", t), "<InvalidArgument>");
  sombra_cursor* c = nullptr;
  EXPECT_EQ(sombra_txn_cursor_tree(w.get(), t, &c, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(c, nullptr);
  w.reset();
  TxnPtr r = BeginRead(db.get());
  EXPECT_EQ(Get(r.get(), "k", t), "<InvalidArgument>");
  EXPECT_EQ(sombra_txn_cursor_tree(r.get(), t, &c, e.out()), SOMBRA_INVALID_ARGUMENT);
  r.reset();
  // The name opens again as a new, empty tree with a new handle.
  sombra_tree* again = OpenTree(db.get(), "t");
  EXPECT_NE(again, t);
  r = BeginRead(db.get());
  EXPECT_EQ(Get(r.get(), "k", again), "<NotFound>");
}

TEST_F(CapiTreeTest, TreeHandleOfAnotherDatabaseIsInvalidArgument) {
  DbPtr db = Open();
  DbPtr other = Open(Defaults(), dir_.File("other"));
  sombra_tree* foreign = OpenTree(other.get(), "t");
  TxnPtr w = BeginWrite(db.get());
  Error e;
  EXPECT_EQ(PutTree(w.get(), foreign, "k", "v", &e), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(PutTree(w.get(), sombra_db_default_tree(other.get()), "k", "v", &e),
            SOMBRA_INVALID_ARGUMENT);
}

TEST_F(CapiTreeTest, TreeCreationInsideAWriteTransactionIsBusy) {
  DbPtr db = Open();
  OpenTree(db.get(), "existing");
  TxnPtr w = BeginWrite(db.get());
  Error e;
  sombra_tree* t = nullptr;
  EXPECT_EQ(sombra_db_open_tree(db.get(), "new", 3, &t, e.out()), SOMBRA_BUSY);
  EXPECT_EQ(sombra_db_drop_tree(db.get(), "existing", 8, e.out()), SOMBRA_BUSY);
  // An existing tree's handle needs no transaction.
  EXPECT_EQ(sombra_db_open_tree(db.get(), "existing", 8, &t, e.out()), SOMBRA_OK) << e.str();
}

TEST_F(CapiTreeTest, TreesPersistAcrossReopen) {
  {
    DbPtr db = Open();
    sombra_tree* t = OpenTree(db.get(), "t");
    TxnPtr w = BeginWrite(db.get());
    Error e;
    ASSERT_EQ(PutTree(w.get(), t, "k", "v", &e), SOMBRA_OK);
    ASSERT_EQ(sombra_txn_commit(w.get(), e.out()), SOMBRA_OK);
  }
  DbPtr db = Open();
  EXPECT_EQ(List(db.get()), std::vector<std::string>{"t"});
  TxnPtr r = BeginRead(db.get());
  EXPECT_EQ(Get(r.get(), "k", OpenTree(db.get(), "t")), "v");
}

}  // namespace
}  // namespace sombra::capitest
