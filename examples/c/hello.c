/* examples/c/hello.c: the C API (<sombra/c.h>): open, put, get, scan, close.
 * Build: cc -std=c99 hello.c $(pkg-config --cflags --libs sombra) -o hello */
#include <sombra/c.h>
#include <stdio.h>

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "/tmp/sombra-hello.db";
  sombra_db* db = NULL;
  sombra_txn* txn = NULL;
  sombra_cursor* it = NULL;
  sombra_error* err = NULL; /* the message of the call that failed */
  void* value = NULL;
  size_t len = 0;
  int ok = 0;

  /* Every call that can fail returns a sombra_status: SOMBRA_OK is 0, so
   * `||` stops at the first failure. */
  if (sombra_db_open(path, NULL, &db, &err)) goto done; /* NULL: default options */

  /* One write transaction: all three keys or none, durable once commit is OK. */
  if (sombra_db_begin_write(db, &txn, &err) || sombra_txn_put(txn, "apple", 5, "red", 3, &err) ||
      sombra_txn_put(txn, "banana", 6, "yellow", 6, &err) ||
      sombra_txn_put(txn, "cherry", 6, "dark red", 8, &err) || sombra_txn_commit(txn, &err))
    goto done;
  sombra_txn_free(txn);
  txn = NULL;

  /* A malloc'd copy (NUL-terminated) for sombra_free; NotFound when absent. */
  if (sombra_db_get_alloc(db, "apple", 5, &value, &len, &err)) goto done;
  printf("apple = %s\n", (const char*)value);

  /* A snapshot and a cursor over it, from the first key >= "b"; the key and
   * value views are valid until the cursor moves. */
  if (sombra_db_begin_read(db, &txn, &err) || sombra_txn_cursor(txn, &it, &err)) goto done;
  for (sombra_cursor_seek(it, "b", 1, &err); sombra_cursor_valid(it);
       sombra_cursor_next(it, &err)) {
    size_t klen, vlen;
    const char* k = sombra_cursor_key(it, &klen);
    const char* v = sombra_cursor_value(it, &vlen);
    printf("  %.*s -> %.*s\n", (int)klen, k, (int)vlen, v);
  }
  ok = sombra_cursor_status(it, &err) == SOMBRA_OK;

done:
  if (!ok) {
    fprintf(stderr, "hello: %s: %s\n", sombra_status_name(sombra_error_code(err)),
            sombra_error_message(err));
  }
  sombra_free(value);
  sombra_cursor_free(it); /* cursors and transactions go before their database */
  sombra_txn_free(txn);
  sombra_db_close(db, NULL); /* checkpoints and releases the lock */
  sombra_error_free(err);
  return ok ? 0 : 1;
}
