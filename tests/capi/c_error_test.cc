// The C API's versions, status codes and error contract (docs/c-api.md,
// "Errors"): *err is cleared on success, replaced on failure, optional; every
// handle argument is checked for NULL.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "capi_test_util.h"

namespace sombra::capitest {
namespace {

TEST(CapiVersionTest, AbiAndLibraryVersions) {
  EXPECT_EQ(sombra_c_abi_version(), SOMBRA_C_ABI_VERSION);
  EXPECT_STREQ(sombra_version_string(), SOMBRA_TEST_PROJECT_VERSION);
}

TEST(CapiVersionTest, Limits) {
  EXPECT_EQ(sombra_max_key_size(4096), 1024u);
  EXPECT_EQ(sombra_max_key_size(65536), 16384u);
  EXPECT_EQ(SOMBRA_MIN_KEY_SIZE, 1);
  EXPECT_EQ(SOMBRA_MAX_VALUE_SIZE, 4294967295ULL);
}

TEST(CapiStatusTest, CodesAndNames) {
  // Codes below 100 are sombra::Status::Code's values.
  EXPECT_EQ(SOMBRA_OK, 0);
  EXPECT_EQ(SOMBRA_NOT_FOUND, 1);
  EXPECT_EQ(SOMBRA_CORRUPTION, 2);
  EXPECT_EQ(SOMBRA_NOT_SUPPORTED, 3);
  EXPECT_EQ(SOMBRA_INVALID_ARGUMENT, 4);
  EXPECT_EQ(SOMBRA_IO_ERROR, 5);
  EXPECT_EQ(SOMBRA_BUSY, 6);
  const struct {
    sombra_status code;
    const char* name;
  } names[] = {{SOMBRA_OK, "OK"},
               {SOMBRA_NOT_FOUND, "NotFound"},
               {SOMBRA_CORRUPTION, "Corruption"},
               {SOMBRA_NOT_SUPPORTED, "NotSupported"},
               {SOMBRA_INVALID_ARGUMENT, "InvalidArgument"},
               {SOMBRA_IO_ERROR, "IOError"},
               {SOMBRA_BUSY, "Busy"},
               {SOMBRA_BUFFER_TOO_SMALL, "BufferTooSmall"},
               {SOMBRA_NO_MEMORY, "NoMemory"},
               {SOMBRA_INTERNAL_ERROR, "InternalError"},
               {static_cast<sombra_status>(77), "Unknown"}};
  for (const auto& n : names) EXPECT_STREQ(sombra_status_name(n.code), n.name);
}

TEST(CapiStatusTest, NullErrorAccessors) {
  EXPECT_EQ(sombra_error_code(nullptr), SOMBRA_OK);
  EXPECT_STREQ(sombra_error_message(nullptr), "");
  EXPECT_EQ(sombra_error_sys_errno(nullptr), 0);
  EXPECT_EQ(sombra_error_is_no_space(nullptr), 0);
  sombra_error_free(nullptr);
  sombra_free(nullptr);
}

class CapiErrorTest : public CapiTest {};

TEST_F(CapiErrorTest, ErrorIsSetOnFailureAndClearedOnSuccess) {
  DbPtr db = Open();
  Error e;
  ASSERT_EQ(sombra_db_get_alloc(db.get(), "absent", 6, nullptr, nullptr, e.out()),
            SOMBRA_INVALID_ARGUMENT);  // value (the output) is NULL
  EXPECT_EQ(e.code(), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "value is NULL")) << e.str();
  EXPECT_EQ(sombra_error_sys_errno(e.get()), 0);

  // A second failure replaces the first (which is freed: ASan checks).
  void* v = nullptr;
  ASSERT_EQ(sombra_db_get_alloc(db.get(), "absent", 6, &v, nullptr, e.out()), SOMBRA_NOT_FOUND);
  EXPECT_EQ(e.code(), SOMBRA_NOT_FOUND);
  EXPECT_EQ(v, nullptr);

  // Success frees it and sets it to NULL.
  ASSERT_EQ(DbPut(db.get(), "k", "v", &e), SOMBRA_OK);
  EXPECT_EQ(e.get(), nullptr);
}

TEST_F(CapiErrorTest, ErrorOutParameterIsOptional) {
  DbPtr db = Open();
  EXPECT_EQ(sombra_db_put(db.get(), "", 0, "v", 1, nullptr), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_db_put(db.get(), "k", 1, "v", 1, nullptr), SOMBRA_OK);
  EXPECT_EQ(sombra_db_delete(db.get(), "zz", 2, nullptr), SOMBRA_OK);
}

TEST_F(CapiErrorTest, MessagesAreTheCppMessages) {
  DbPtr db = Open();
  Error e;
  const std::string big(1025, 'k');
  ASSERT_EQ(DbPut(db.get(), big, "v", &e), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(e.message(),
            "key of 1025 bytes is over the limit: keys are 1 to 1024 bytes at page size 4096");
}

TEST_F(CapiErrorTest, NullHandlesAreInvalidArgument) {
  Error e;
  sombra_txn* txn = nullptr;
  sombra_cursor* cur = nullptr;
  sombra_tree* tree = nullptr;
  size_t n = 0;
  char buf[4];
  void* v = nullptr;
  const void* view = nullptr;
  sombra_stats st;
  sombra_name* names = nullptr;
  const sombra_status expect = SOMBRA_INVALID_ARGUMENT;
  EXPECT_EQ(sombra_db_open(nullptr, nullptr, nullptr, e.out()), expect);
  sombra_db* out = reinterpret_cast<sombra_db*>(&n);  // must be reset to NULL
  EXPECT_EQ(sombra_db_open(nullptr, nullptr, &out, e.out()), expect);
  EXPECT_EQ(out, nullptr);
  EXPECT_TRUE(Contains(e.message(), "path is NULL")) << e.str();
  EXPECT_EQ(sombra_destroy_db(nullptr, e.out()), expect);
  EXPECT_EQ(sombra_db_put(nullptr, "k", 1, "v", 1, e.out()), expect);
  EXPECT_EQ(sombra_db_get(nullptr, "k", 1, buf, 4, &n, e.out()), expect);
  EXPECT_EQ(sombra_db_get_alloc(nullptr, "k", 1, &v, &n, e.out()), expect);
  EXPECT_EQ(sombra_db_delete(nullptr, "k", 1, e.out()), expect);
  EXPECT_EQ(sombra_db_checkpoint(nullptr, e.out()), expect);
  EXPECT_EQ(sombra_db_verify(nullptr, e.out()), expect);
  EXPECT_EQ(sombra_db_stats(nullptr, &st, e.out()), expect);
  EXPECT_EQ(sombra_db_stats_each(nullptr, nullptr, nullptr, e.out()), expect);
  EXPECT_EQ(sombra_db_backup(nullptr, "x", e.out()), expect);
  EXPECT_EQ(sombra_db_backup_ex(nullptr, "x", nullptr, nullptr, nullptr, e.out()), expect);
  EXPECT_EQ(sombra_db_open_tree(nullptr, "t", 1, &tree, e.out()), expect);
  EXPECT_EQ(sombra_db_drop_tree(nullptr, "t", 1, e.out()), expect);
  EXPECT_EQ(sombra_db_list_trees(nullptr, &names, &n, e.out()), expect);
  EXPECT_EQ(sombra_db_begin_read(nullptr, &txn, e.out()), expect);
  EXPECT_EQ(sombra_db_begin_write(nullptr, &txn, e.out()), expect);
  EXPECT_EQ(sombra_txn_commit(nullptr, e.out()), expect);
  EXPECT_EQ(sombra_txn_get(nullptr, "k", 1, buf, 4, &n, e.out()), expect);
  EXPECT_EQ(sombra_txn_get_alloc(nullptr, "k", 1, &v, &n, e.out()), expect);
  EXPECT_EQ(sombra_txn_get_view(nullptr, "k", 1, &view, &n, e.out()), expect);
  EXPECT_EQ(sombra_txn_put(nullptr, "k", 1, "v", 1, e.out()), expect);
  EXPECT_EQ(sombra_txn_delete(nullptr, "k", 1, e.out()), expect);
  EXPECT_EQ(sombra_txn_append(nullptr, "k", 1, "v", 1, e.out()), expect);
  EXPECT_EQ(sombra_txn_delete_range(nullptr, "a", 1, "b", 1, e.out()), expect);
  EXPECT_EQ(sombra_txn_cursor(nullptr, &cur, e.out()), expect);
  EXPECT_EQ(sombra_cursor_seek_to_first(nullptr, e.out()), expect);
  EXPECT_EQ(sombra_cursor_seek_to_last(nullptr, e.out()), expect);
  EXPECT_EQ(sombra_cursor_seek(nullptr, "k", 1, e.out()), expect);
  EXPECT_EQ(sombra_cursor_next(nullptr, e.out()), expect);
  EXPECT_EQ(sombra_cursor_prev(nullptr, e.out()), expect);
  EXPECT_EQ(sombra_cursor_status(nullptr, e.out()), expect);
  EXPECT_EQ(e.code(), expect);

  // The calls that cannot fail answer NULL handles with a neutral value.
  EXPECT_EQ(sombra_db_close(nullptr, e.out()), SOMBRA_OK);
  EXPECT_EQ(sombra_db_page_size(nullptr), 0u);
  EXPECT_EQ(sombra_db_max_key_size(nullptr), 0u);
  EXPECT_STREQ(sombra_db_path(nullptr), "");
  EXPECT_EQ(sombra_db_default_tree(nullptr), nullptr);
  EXPECT_STREQ(sombra_tree_name(nullptr, &n), "");
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(sombra_txn_sequence(nullptr), 0u);
  EXPECT_EQ(sombra_cursor_valid(nullptr), 0);
  EXPECT_EQ(sombra_cursor_key(nullptr, &n), nullptr);
  EXPECT_EQ(sombra_cursor_value(nullptr, &n), nullptr);
  sombra_txn_abort(nullptr);
  sombra_txn_free(nullptr);
  sombra_cursor_free(nullptr);
  sombra_options_init(nullptr);
}

TEST_F(CapiErrorTest, NullBytesWithALengthAreInvalidArgument) {
  DbPtr db = Open();
  TxnPtr txn = BeginWrite(db.get());
  Error e;
  size_t n = 0;
  EXPECT_EQ(sombra_db_put(db.get(), nullptr, 3, "v", 1, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "key is NULL with a length of 3")) << e.str();
  EXPECT_EQ(sombra_txn_put(txn.get(), "k", 1, nullptr, 2, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "value is NULL")) << e.str();
  EXPECT_EQ(sombra_txn_get(txn.get(), "k", 1, nullptr, 8, &n, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "buf is NULL")) << e.str();
  EXPECT_EQ(sombra_txn_delete_range(txn.get(), nullptr, 1, "b", 1, e.out()),
            SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_db_open_tree(db.get(), nullptr, 2, nullptr, e.out()), SOMBRA_INVALID_ARGUMENT);
  // A NULL value of length 0 is the empty value.
  ASSERT_EQ(sombra_txn_put(txn.get(), "k", 1, nullptr, 0, e.out()), SOMBRA_OK) << e.str();
  EXPECT_EQ(Get(txn.get(), "k"), "");
}

}  // namespace
}  // namespace sombra::capitest
