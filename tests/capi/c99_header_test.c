/* The C API from C99: <sombra/c.h> compiled with -std=c99 -pedantic
 * -Werror (tests/capi/CMakeLists.txt), every type of it used, and a short
 * run through libsombra.so. Prints "c99 OK" when everything held. */
#include <sombra/c.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;

#define EXPECT(cond)                                                     \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                        \
    }                                                                    \
  } while (0)

static void count_stat(void* ctx, const char* name, uint64_t value) {
  (void)name;
  (void)value;
  ++*(int*)ctx;
}

static void on_progress(void* ctx, uint64_t done, uint64_t total) {
  (void)total;
  *(uint64_t*)ctx = done;
}

int main(int argc, char** argv) {
  char path[4096], copy[4096];
  sombra_options o;
  sombra_db* db = NULL;
  sombra_tree* tree = NULL;
  sombra_txn* txn = NULL;
  sombra_cursor* cur = NULL;
  sombra_error* err = NULL;
  sombra_stats stats;
  sombra_backup_stats backup;
  sombra_name* names = NULL;
  size_t count = 0, len = 0;
  char buf[16];
  int counters = 0;
  uint64_t progress = 0;

  if (argc < 2) return 2;
  snprintf(path, sizeof path, "%s/c99.db", argv[1]);
  snprintf(copy, sizeof copy, "%s/c99-copy.db", argv[1]);
  sombra_destroy_db(path, NULL);
  sombra_destroy_db(copy, NULL);

  EXPECT(SOMBRA_C_ABI_VERSION == 1 && sombra_c_abi_version() == SOMBRA_C_ABI_VERSION);
  EXPECT(strlen(sombra_version_string()) > 0);
  EXPECT(SOMBRA_OK == 0 && SOMBRA_BUSY == 6 && SOMBRA_BUFFER_TOO_SMALL == 100);
  EXPECT(sombra_max_key_size(4096) == 1024);

  sombra_options_init(&o);
  EXPECT(o.create_if_missing && !o.read_only && o.page_size == 4096);
  EXPECT(o.durability == SOMBRA_DURABILITY_FULL);
  o.durability = SOMBRA_DURABILITY_OFF;
  EXPECT(sombra_db_open(path, &o, &db, &err) == SOMBRA_OK && err == NULL);
  EXPECT(sombra_db_open_tree(db, "t", 1, &tree, &err) == SOMBRA_OK);

  EXPECT(sombra_db_begin_write(db, &txn, &err) == SOMBRA_OK);
  EXPECT(sombra_txn_put(txn, "b", 1, "2", 1, &err) == SOMBRA_OK);
  EXPECT(sombra_txn_put(txn, "a", 1, "1", 1, &err) == SOMBRA_OK);
  EXPECT(sombra_txn_put_tree(txn, tree, "t", 1, "tree", 4, &err) == SOMBRA_OK);
  EXPECT(sombra_txn_put(txn, "", 0, "x", 1, &err) == SOMBRA_INVALID_ARGUMENT);
  EXPECT(sombra_error_code(err) == SOMBRA_INVALID_ARGUMENT);
  EXPECT(strstr(sombra_error_message(err), "under the limit") != NULL);
  EXPECT(sombra_txn_commit(txn, &err) == SOMBRA_OK && err == NULL);
  sombra_txn_free(txn);

  EXPECT(sombra_db_get(db, "a", 1, buf, sizeof buf, &len, &err) == SOMBRA_OK);
  EXPECT(len == 1 && buf[0] == '1');
  EXPECT(sombra_db_get(db, "a", 1, NULL, 0, &len, &err) == SOMBRA_BUFFER_TOO_SMALL);
  EXPECT(sombra_db_get(db, "z", 1, buf, sizeof buf, &len, &err) == SOMBRA_NOT_FOUND);

  EXPECT(sombra_db_begin_read(db, &txn, &err) == SOMBRA_OK);
  EXPECT(sombra_txn_cursor(txn, &cur, &err) == SOMBRA_OK);
  EXPECT(sombra_cursor_seek_to_last(cur, &err) == SOMBRA_OK);
  EXPECT(sombra_cursor_valid(cur) && memcmp(sombra_cursor_key(cur, &len), "b", 1) == 0);
  EXPECT(sombra_cursor_prev(cur, &err) == SOMBRA_OK);
  EXPECT(memcmp(sombra_cursor_value(cur, &len), "1", 1) == 0 && len == 1);
  sombra_cursor_free(cur);
  sombra_txn_free(txn);

  EXPECT(sombra_db_list_trees(db, &names, &count, &err) == SOMBRA_OK);
  EXPECT(count == 1 && names[0].size == 1 && strcmp(names[0].data, "t") == 0);
  sombra_free(names);

  EXPECT(sombra_db_stats(db, &stats, &err) == SOMBRA_OK && stats.commits >= 2);
  EXPECT(sombra_db_stats_each(db, count_stat, &counters, &err) == SOMBRA_OK && counters > 0);
  EXPECT(sombra_db_backup_ex(db, copy, on_progress, &progress, &backup, &err) == SOMBRA_OK);
  EXPECT(backup.pages > 0 && progress > 0 && progress <= backup.pages);
  EXPECT(sombra_db_verify(db, &err) == SOMBRA_OK);
  EXPECT(sombra_db_close(db, &err) == SOMBRA_OK);
  sombra_error_free(err);

  if (failures == 0) printf("c99 OK\n");
  return failures == 0 ? 0 : 1;
}
