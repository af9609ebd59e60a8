// sombra_db through the C API: options, open and close, the one-operation
// calls, the key and value limits, the three ways a value comes out,
// checkpoint, verify, stats and DestroyDB.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "capi_test_util.h"

namespace sombra::capitest {
namespace {

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

class CapiDbTest : public CapiTest {};

TEST_F(CapiDbTest, OptionsInitMirrorsTheCppDefaults) {
  sombra_options o;
  std::memset(&o, 0x5a, sizeof(o));
  sombra_options_init(&o);
  EXPECT_EQ(o.create_if_missing, 1);
  EXPECT_EQ(o.error_if_exists, 0);
  EXPECT_EQ(o.read_only, 0);
  EXPECT_EQ(o.page_size, 4096u);
  EXPECT_EQ(o.durability, SOMBRA_DURABILITY_FULL);
  EXPECT_EQ(o.wal_checkpoint_bytes, uint64_t{64} << 20);
  EXPECT_EQ(o.wal_compression, 1);
  EXPECT_EQ(o.verify_checksums, 1);
  EXPECT_EQ(o.busy_timeout_ms, 0u);
  EXPECT_EQ(o.salvage_wal, 0);
}

TEST_F(CapiDbTest, NullOptionsAreTheDefaults) {
  sombra_db* db = nullptr;
  Error e;
  ASSERT_EQ(sombra_db_open(path_.c_str(), nullptr, &db, e.out()), SOMBRA_OK) << e.str();
  DbPtr owned(db);
  EXPECT_EQ(sombra_db_page_size(db), 4096u);
  EXPECT_EQ(sombra_db_max_key_size(db), 1024u);
  EXPECT_EQ(std::string(sombra_db_path(db)), path_);
}

TEST_F(CapiDbTest, BadOptionsAreInvalidArgumentAndCreateNoFile) {
  Error e;
  sombra_db* db = nullptr;
  sombra_options o = Defaults();
  o.page_size = 5000;
  EXPECT_EQ(sombra_db_open(path_.c_str(), &o, &db, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "page_size 5000")) << e.str();
  o = Defaults();
  const int nine = 9;  // what a C caller may store; no C++ enum value
  static_assert(sizeof(o.durability) == sizeof(nine));
  std::memcpy(&o.durability, &nine, sizeof(nine));
  EXPECT_EQ(sombra_db_open(path_.c_str(), &o, &db, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "unknown durability 9")) << e.str();
  EXPECT_TRUE(Contains(e.message(), path_)) << e.str();
  o = Defaults();
  o.wal_checkpoint_bytes = 1000;
  EXPECT_EQ(sombra_db_open(path_.c_str(), &o, &db, e.out()), SOMBRA_INVALID_ARGUMENT);
  o = Defaults();
  o.read_only = 1;
  o.error_if_exists = 1;
  EXPECT_EQ(sombra_db_open(path_.c_str(), &o, &db, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_db_open("", &o, &db, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(db, nullptr);
  EXPECT_FALSE(Exists(path_));
}

TEST_F(CapiDbTest, MissingDatabase) {
  Error e;
  sombra_db* db = nullptr;
  sombra_options o = Defaults();
  o.create_if_missing = 0;
  EXPECT_EQ(sombra_db_open(path_.c_str(), &o, &db, e.out()), SOMBRA_NOT_FOUND);
  EXPECT_TRUE(Contains(e.message(), path_)) << e.str();
  o = Defaults();
  o.read_only = 1;
  EXPECT_EQ(sombra_db_open(path_.c_str(), &o, &db, e.out()), SOMBRA_NOT_FOUND);
  EXPECT_EQ(db, nullptr);
  EXPECT_FALSE(Exists(path_));
}

TEST_F(CapiDbTest, ErrorIfExistsAndNotADatabase) {
  { DbPtr db = Open(); }
  Error e;
  sombra_db* db = nullptr;
  sombra_options o = Defaults();
  o.error_if_exists = 1;
  EXPECT_EQ(sombra_db_open(path_.c_str(), &o, &db, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "already exists")) << e.str();
  o = Defaults();
  EXPECT_EQ(sombra_db_open(dir_.path().c_str(), &o, &db, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "is a directory")) << e.str();
}

TEST_F(CapiDbTest, PageSizeOfAnExistingFileWins) {
  sombra_options o = Defaults();
  o.page_size = 8192;
  {
    DbPtr db = Open(o);
    EXPECT_EQ(sombra_db_page_size(db.get()), 8192u);
    EXPECT_EQ(sombra_db_max_key_size(db.get()), 2048u);
  }
  o.page_size = 4096;
  DbPtr db = Open(o);
  EXPECT_EQ(sombra_db_page_size(db.get()), 8192u);
}

TEST_F(CapiDbTest, EveryOptionReachesTheDatabase) {
  sombra_options o = Defaults();
  o.durability = SOMBRA_DURABILITY_NORMAL;
  o.wal_checkpoint_bytes = 1 << 16;
  o.wal_compression = 0;
  o.verify_checksums = 0;
  o.busy_timeout_ms = 5;
  o.salvage_wal = 1;
  DbPtr db = Open(o);
  Error e;
  ASSERT_EQ(DbPut(db.get(), "k", std::string(70000, 'v'), &e), SOMBRA_OK) << e.str();
  sombra_stats st;
  ASSERT_EQ(sombra_db_stats(db.get(), &st, e.out()), SOMBRA_OK) << e.str();
  EXPECT_GE(st.checkpoints, 1u);  // 64 KiB of log passed: checkpointed
}

TEST_F(CapiDbTest, OneOperationPutGetDelete) {
  DbPtr db = Open();
  Error e;
  ASSERT_EQ(DbPut(db.get(), "apple", "red", &e), SOMBRA_OK) << e.str();
  EXPECT_EQ(DbGet(db.get(), "apple"), "red");
  ASSERT_EQ(DbPut(db.get(), "apple", "green", &e), SOMBRA_OK) << e.str();
  EXPECT_EQ(DbGet(db.get(), "apple"), "green");
  ASSERT_EQ(sombra_db_delete(db.get(), "apple", 5, e.out()), SOMBRA_OK) << e.str();
  EXPECT_EQ(DbGet(db.get(), "apple"), "<NotFound>");
  // Delete of an absent key: OK.
  EXPECT_EQ(sombra_db_delete(db.get(), "apple", 5, e.out()), SOMBRA_OK) << e.str();
}

TEST_F(CapiDbTest, AbsentKeyIsNotFoundAndLeavesOutputsAlone) {
  DbPtr db = Open();
  Error e;
  char buf[8] = "xxxxxxx";
  size_t n = 99;
  EXPECT_EQ(sombra_db_get(db.get(), "nope", 4, buf, sizeof(buf), &n, e.out()), SOMBRA_NOT_FOUND);
  EXPECT_EQ(e.code(), SOMBRA_NOT_FOUND);
  EXPECT_EQ(n, 99u);
  EXPECT_STREQ(buf, "xxxxxxx");
  void* v = &n;
  EXPECT_EQ(sombra_db_get_alloc(db.get(), "nope", 4, &v, &n, e.out()), SOMBRA_NOT_FOUND);
  EXPECT_EQ(v, nullptr);
}

TEST_F(CapiDbTest, KeyAndValueLimitsWriteNothing) {
  DbPtr db = Open();
  Error e;
  const std::string max_key(1024, 'm');
  const std::string over(1025, 'o');
  ASSERT_EQ(DbPut(db.get(), max_key, "v", &e), SOMBRA_OK) << e.str();
  EXPECT_EQ(DbPut(db.get(), over, "v", &e), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "key of 1025 bytes is over the limit")) << e.str();
  EXPECT_EQ(DbPut(db.get(), "", "v", &e), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "key of 0 bytes is under the limit")) << e.str();
  EXPECT_EQ(sombra_db_delete(db.get(), over.data(), over.size(), e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_db_delete(db.get(), "", 0, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(DbGet(db.get(), over), "<InvalidArgument>");
  EXPECT_EQ(DbGet(db.get(), ""), "<InvalidArgument>");
  // A value over 4 GiB - 1: refused from its length, before a byte is read.
  char small = 'v';
  EXPECT_EQ(sombra_db_put(db.get(), "big", 3, &small, size_t{1} << 32, e.out()),
            SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "value of 4294967296 bytes is over the limit")) << e.str();
  // Nothing was written: one key, one commit.
  sombra_stats st;
  ASSERT_EQ(sombra_db_stats(db.get(), &st, e.out()), SOMBRA_OK);
  EXPECT_EQ(st.commits, 1u);
  EXPECT_EQ(DbGet(db.get(), "big"), "<NotFound>");
}

TEST_F(CapiDbTest, SmallBufferReportsTheLengthAndCopiesNothing) {
  DbPtr db = Open();
  Error e;
  ASSERT_EQ(DbPut(db.get(), "k", "0123456789", &e), SOMBRA_OK);
  char buf[16];
  std::memset(buf, '#', sizeof(buf));
  size_t n = 0;
  EXPECT_EQ(sombra_db_get(db.get(), "k", 1, buf, 4, &n, e.out()), SOMBRA_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 10u);
  EXPECT_EQ(buf[0], '#');
  EXPECT_TRUE(Contains(e.message(), "value of 10 bytes does not fit a buffer of 4 bytes"))
      << e.str();
  // A size query: no buffer at all.
  EXPECT_EQ(sombra_db_get(db.get(), "k", 1, nullptr, 0, &n, e.out()), SOMBRA_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 10u);
  // Exactly large enough.
  ASSERT_EQ(sombra_db_get(db.get(), "k", 1, buf, 10, &n, e.out()), SOMBRA_OK) << e.str();
  EXPECT_EQ(std::string(buf, n), "0123456789");
  EXPECT_EQ(e.get(), nullptr);
  // value_len is required.
  EXPECT_EQ(sombra_db_get(db.get(), "k", 1, buf, 10, nullptr, e.out()), SOMBRA_INVALID_ARGUMENT);
}

TEST_F(CapiDbTest, EmptyValueIsAllocatedAndTerminated) {
  DbPtr db = Open();
  Error e;
  ASSERT_EQ(DbPut(db.get(), "empty", "", &e), SOMBRA_OK);
  void* v = nullptr;
  size_t n = 7;
  ASSERT_EQ(sombra_db_get_alloc(db.get(), "empty", 5, &v, &n, e.out()), SOMBRA_OK) << e.str();
  MemPtr owned(v);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(static_cast<const char*>(v)[0], '\0');
  // And through the buffer form: OK with no buffer.
  ASSERT_EQ(sombra_db_get(db.get(), "empty", 5, nullptr, 0, &n, e.out()), SOMBRA_OK) << e.str();
  EXPECT_EQ(n, 0u);
}

TEST_F(CapiDbTest, BinaryKeysAndValues) {
  DbPtr db = Open();
  Error e;
  const std::string key("a\0b", 3), value("\0\xff\0", 3);
  ASSERT_EQ(DbPut(db.get(), key, value, &e), SOMBRA_OK);
  EXPECT_EQ(DbGet(db.get(), key), value);
  EXPECT_EQ(DbGet(db.get(), "a"), "<NotFound>");
}

TEST_F(CapiDbTest, DataSurvivesReopen) {
  {
    DbPtr db = Open();
    Fill(db.get(), {{"a", "1"}, {"b", "2"}});
  }
  DbPtr db = Open();
  EXPECT_EQ(DbGet(db.get(), "a"), "1");
  EXPECT_EQ(DbGet(db.get(), "b"), "2");
}

TEST_F(CapiDbTest, CheckpointAndVerify) {
  DbPtr db = Open();
  Fill(db.get(), {{"a", "1"}, {"b", "2"}});
  Error e;
  ASSERT_EQ(sombra_db_checkpoint(db.get(), e.out()), SOMBRA_OK) << e.str();
  ASSERT_EQ(sombra_db_verify(db.get(), e.out()), SOMBRA_OK) << e.str();
  sombra_stats st;
  ASSERT_EQ(sombra_db_stats(db.get(), &st, e.out()), SOMBRA_OK);
  EXPECT_GE(st.checkpoints, 1u);
}

TEST_F(CapiDbTest, VerifyReportsDamage) {
  {
    DbPtr db = Open();
    Fill(db.get(), {{"a", "1"}, {"b", "2"}});
  }  // closed: checkpointed into the page file, log trimmed
  // Damage page 2 (the first tree page) in the middle.
  FILE* f = std::fopen(path_.c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fseek(f, 2 * 4096 + 2000, SEEK_SET), 0);
  ASSERT_GE(std::fputs("damage", f), 0);
  ASSERT_EQ(std::fclose(f), 0);
  sombra_options o = Defaults();
  o.read_only = 1;
  DbPtr db = Open(o);
  ASSERT_NE(db, nullptr);
  Error e;
  EXPECT_EQ(sombra_db_verify(db.get(), e.out()), SOMBRA_CORRUPTION);
  EXPECT_TRUE(Contains(e.message(), "page 2")) << e.str();
}

TEST_F(CapiDbTest, StatsMirrorGetStats) {
  DbPtr db = Open();
  Fill(db.get(), {{"a", "1"}, {"b", "2"}});
  Fill(db.get(), {{"c", "3"}});
  Error e;
  sombra_stats st;
  std::memset(&st, 0xff, sizeof(st));
  ASSERT_EQ(sombra_db_stats(db.get(), &st, e.out()), SOMBRA_OK) << e.str();
  EXPECT_EQ(st.page_size, 4096u);
  EXPECT_EQ(st.commits, 2u);
  EXPECT_GE(st.page_count, 3u);
  EXPECT_GT(st.wal_bytes, 0u);
  EXPECT_GT(st.wal_records, 0u);
  EXPECT_GT(st.sequence, 0u);
  EXPECT_EQ(st.pager_checksum_failures, 0u);
  EXPECT_EQ(sombra_db_stats(db.get(), nullptr, e.out()), SOMBRA_INVALID_ARGUMENT);

  std::map<std::string, uint64_t> all;
  auto collect = [](void* ctx, const char* name, uint64_t value) {
    (*static_cast<std::map<std::string, uint64_t>*>(ctx))[name] = value;
  };
  ASSERT_EQ(sombra_db_stats_each(db.get(), collect, &all, e.out()), SOMBRA_OK) << e.str();
  EXPECT_FALSE(all.empty());
  ASSERT_TRUE(all.count("commits")) << "no counter named commits";
  EXPECT_EQ(all["commits"], 2u);
  EXPECT_EQ(sombra_db_stats_each(db.get(), nullptr, nullptr, e.out()), SOMBRA_INVALID_ARGUMENT);
}

TEST_F(CapiDbTest, DestroyDb) {
  { DbPtr db = Open(); }
  Error e;
  ASSERT_EQ(sombra_destroy_db(path_.c_str(), e.out()), SOMBRA_OK) << e.str();
  EXPECT_FALSE(Exists(path_));
  EXPECT_FALSE(Exists(path_ + "-wal"));
  EXPECT_EQ(sombra_destroy_db(path_.c_str(), e.out()), SOMBRA_NOT_FOUND);
}

TEST_F(CapiDbTest, CloseIsRefusedWhileTransactionHandlesLive) {
  sombra_db* db = nullptr;
  Error e;
  sombra_options o = Defaults();
  ASSERT_EQ(sombra_db_open(path_.c_str(), &o, &db, e.out()), SOMBRA_OK);
  sombra_txn* r = nullptr;
  sombra_txn* w = nullptr;
  ASSERT_EQ(sombra_db_begin_read(db, &r, e.out()), SOMBRA_OK);
  ASSERT_EQ(sombra_db_begin_write(db, &w, e.out()), SOMBRA_OK);
  ASSERT_EQ(sombra_txn_commit(w, e.out()), SOMBRA_OK);
  EXPECT_EQ(sombra_db_close(db, e.out()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(e.message(), "2 transaction handle(s) not freed")) << e.str();
  sombra_txn_free(w);
  EXPECT_EQ(sombra_db_close(db, e.out()), SOMBRA_INVALID_ARGUMENT);
  // Still open and usable.
  EXPECT_EQ(Get(r, "k"), "<NotFound>");
  sombra_txn_free(r);
  EXPECT_EQ(sombra_db_close(db, e.out()), SOMBRA_OK) << e.str();
  EXPECT_EQ(e.get(), nullptr);
}

}  // namespace
}  // namespace sombra::capitest
