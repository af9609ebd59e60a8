// sombra_cursor through the C API: both directions, seeks, the ends, its
// own transaction's writes, and its lifetime against its transaction's.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "capi_test_util.h"

namespace sombra::capitest {
namespace {

class CapiCursorTest : public CapiTest {
 protected:
  void SetUp() override {
    db_ = Open();
    Fill(db_.get(), {{"apple", "red"}, {"banana", "yellow"}, {"cherry", "dark red"}});
  }
  DbPtr db_;
};

TEST_F(CapiCursorTest, ForwardAndBackward) {
  TxnPtr r = BeginRead(db_.get());
  CursorPtr c = NewCursor(r.get());
  Error e;
  EXPECT_EQ(sombra_cursor_valid(c.get()), 0);  // a new cursor is not positioned
  std::vector<std::string> seen;
  for (sombra_status s = sombra_cursor_seek_to_first(c.get(), e.out());
       s == SOMBRA_OK && sombra_cursor_valid(c.get()); s = sombra_cursor_next(c.get(), e.out())) {
    seen.push_back(Key(c.get()) + "=" + Value(c.get()));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"apple=red", "banana=yellow", "cherry=dark red"}));
  EXPECT_EQ(e.get(), nullptr);
  seen.clear();
  for (sombra_cursor_seek_to_last(c.get(), e.out()); sombra_cursor_valid(c.get());
       sombra_cursor_prev(c.get(), e.out())) {
    seen.push_back(Key(c.get()));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"cherry", "banana", "apple"}));
  EXPECT_EQ(sombra_cursor_status(c.get(), e.out()), SOMBRA_OK);
}

TEST_F(CapiCursorTest, SeekIsTheFirstKeyAtOrAfter) {
  TxnPtr r = BeginRead(db_.get());
  CursorPtr c = NewCursor(r.get());
  Error e;
  ASSERT_EQ(sombra_cursor_seek(c.get(), "b", 1, e.out()), SOMBRA_OK);
  EXPECT_EQ(Key(c.get()), "banana");
  ASSERT_EQ(sombra_cursor_seek(c.get(), "banana", 6, e.out()), SOMBRA_OK);
  EXPECT_EQ(Key(c.get()), "banana");
  ASSERT_EQ(sombra_cursor_seek(c.get(), "", 0, e.out()), SOMBRA_OK);
  EXPECT_EQ(Key(c.get()), "apple");
  ASSERT_EQ(sombra_cursor_seek(c.get(), nullptr, 0, e.out()), SOMBRA_OK);
  EXPECT_EQ(Key(c.get()), "apple");
  const std::string huge(3000, 'z');  // longer than the key limit: a position
  ASSERT_EQ(sombra_cursor_seek(c.get(), huge.data(), huge.size(), e.out()), SOMBRA_OK);
  EXPECT_EQ(sombra_cursor_valid(c.get()), 0);
  size_t n = 7;
  EXPECT_EQ(sombra_cursor_key(c.get(), &n), nullptr);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(sombra_cursor_value(c.get(), &n), nullptr);
  EXPECT_EQ(sombra_cursor_seek(c.get(), nullptr, 2, e.out()), SOMBRA_INVALID_ARGUMENT);
}

TEST_F(CapiCursorTest, StepsOffTheEndsAndNextOnAnInvalidCursorIsRefused) {
  TxnPtr r = BeginRead(db_.get());
  CursorPtr c = NewCursor(r.get());
  Error e;
  EXPECT_EQ(sombra_cursor_next(c.get(), e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "not on a key")) << e.str();
  EXPECT_EQ(sombra_cursor_prev(c.get(), e.out()), SOMBRA_INVALID_ARGUMENT);
  ASSERT_EQ(sombra_cursor_seek_to_last(c.get(), e.out()), SOMBRA_OK);
  ASSERT_EQ(sombra_cursor_next(c.get(), e.out()), SOMBRA_OK);  // off the end: OK, invalid
  EXPECT_EQ(sombra_cursor_valid(c.get()), 0);
  ASSERT_EQ(sombra_cursor_seek_to_first(c.get(), e.out()), SOMBRA_OK);
  ASSERT_EQ(sombra_cursor_prev(c.get(), e.out()), SOMBRA_OK);
  EXPECT_EQ(sombra_cursor_valid(c.get()), 0);
  EXPECT_EQ(sombra_cursor_status(c.get(), e.out()), SOMBRA_OK);
}

TEST_F(CapiCursorTest, EmptyTree) {
  Error e;
  ASSERT_EQ(sombra_destroy_db(dir_.File("empty").c_str(), nullptr), SOMBRA_NOT_FOUND);
  sombra_options o = Defaults();
  DbPtr db = Open(o, dir_.File("empty"));
  TxnPtr r = BeginRead(db.get());
  CursorPtr c = NewCursor(r.get());
  EXPECT_EQ(sombra_cursor_seek_to_first(c.get(), e.out()), SOMBRA_OK);
  EXPECT_EQ(sombra_cursor_valid(c.get()), 0);
  EXPECT_EQ(sombra_cursor_seek_to_last(c.get(), e.out()), SOMBRA_OK);
  EXPECT_EQ(sombra_cursor_valid(c.get()), 0);
}

TEST_F(CapiCursorTest, WriteCursorSeesItsOwnWrites) {
  TxnPtr w = BeginWrite(db_.get());
  CursorPtr c = NewCursor(w.get(), sombra_db_default_tree(db_.get()));
  Error e;
  ASSERT_EQ(sombra_cursor_seek(c.get(), "banana", 6, e.out()), SOMBRA_OK);
  ASSERT_EQ(Put(w.get(), "blueberry", "blue", &e), SOMBRA_OK);
  ASSERT_EQ(sombra_txn_delete(w.get(), "cherry", 6, e.out()), SOMBRA_OK);
  // It continues from the key it was on.
  EXPECT_EQ(Key(c.get()), "banana");
  ASSERT_EQ(sombra_cursor_next(c.get(), e.out()), SOMBRA_OK);
  EXPECT_EQ(Key(c.get()) + "=" + Value(c.get()), "blueberry=blue");
  ASSERT_EQ(sombra_cursor_next(c.get(), e.out()), SOMBRA_OK);
  EXPECT_EQ(sombra_cursor_valid(c.get()), 0);
}

TEST_F(CapiCursorTest, KeyAndValueViewsStayUntilTheCursorMoves) {
  const std::string big(6000, 'v');  // an overflow value
  Fill(db_.get(), {{"big", big}});
  TxnPtr r = BeginRead(db_.get());
  CursorPtr c = NewCursor(r.get());
  Error e;
  ASSERT_EQ(sombra_cursor_seek(c.get(), "big", 3, e.out()), SOMBRA_OK);
  size_t kn = 0, vn = 0;
  const void* k = sombra_cursor_key(c.get(), &kn);
  const void* v = sombra_cursor_value(c.get(), &vn);
  // Other work on the transaction does not move the cursor.
  EXPECT_EQ(Get(r.get(), "apple"), "red");
  {
    CursorPtr other = NewCursor(r.get());
    ASSERT_EQ(sombra_cursor_seek_to_last(other.get(), e.out()), SOMBRA_OK);
  }
  EXPECT_EQ(std::string(static_cast<const char*>(k), kn), "big");
  EXPECT_EQ(std::string(static_cast<const char*>(v), vn), big);
  EXPECT_EQ(sombra_cursor_key(c.get(), nullptr), k);  // len may be NULL
}

TEST_F(CapiCursorTest, CursorsTurnInvalidWhenTheirTransactionEnds) {
  Error e;
  sombra_cursor* orphan = nullptr;
  {
    TxnPtr r = BeginRead(db_.get());
    ASSERT_EQ(sombra_txn_cursor(r.get(), &orphan, e.out()), SOMBRA_OK);
    ASSERT_EQ(sombra_cursor_seek_to_first(orphan, e.out()), SOMBRA_OK);
    EXPECT_EQ(sombra_cursor_valid(orphan), 1);
  }  // the transaction is freed before its cursor
  CursorPtr owned(orphan);
  EXPECT_EQ(sombra_cursor_valid(orphan), 0);
  EXPECT_EQ(sombra_cursor_key(orphan, nullptr), nullptr);
  EXPECT_EQ(sombra_cursor_seek_to_first(orphan, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_cursor_next(orphan, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_cursor_status(orphan, e.out()), SOMBRA_INVALID_ARGUMENT);

  // Aborting a write transaction detaches its cursors too; freeing them
  // in any order afterwards is fine.
  TxnPtr w = BeginWrite(db_.get());
  CursorPtr a = NewCursor(w.get());
  CursorPtr b = NewCursor(w.get());
  ASSERT_EQ(sombra_cursor_seek_to_first(b.get(), e.out()), SOMBRA_OK);
  a.reset();  // freed while attached
  sombra_txn_abort(w.get());
  EXPECT_EQ(sombra_cursor_valid(b.get()), 0);
  EXPECT_EQ(sombra_cursor_seek(b.get(), "a", 1, e.out()), SOMBRA_INVALID_ARGUMENT);
}

TEST_F(CapiCursorTest, ManyCursorsOnOneTransaction) {
  TxnPtr r = BeginRead(db_.get());
  std::vector<CursorPtr> cursors;
  Error e;
  for (int i = 0; i < 50; ++i) {
    cursors.push_back(NewCursor(r.get()));
    ASSERT_EQ(sombra_cursor_seek_to_first(cursors.back().get(), e.out()), SOMBRA_OK);
  }
  for (size_t i = 0; i < cursors.size(); i += 2) cursors[i].reset();
  for (size_t i = 1; i < cursors.size(); i += 2) EXPECT_EQ(Key(cursors[i].get()), "apple");
  ASSERT_EQ(sombra_txn_commit(r.get(), e.out()), SOMBRA_OK);
  for (size_t i = 1; i < cursors.size(); i += 2)
    EXPECT_EQ(sombra_cursor_valid(cursors[i].get()), 0);
}

}  // namespace
}  // namespace sombra::capitest
