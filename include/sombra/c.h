/* sombra/c.h: the C99 API of Sombra (libsombra.so; docs/c-api.md).
 *
 * The whole public C++ API (<sombra/db.h>) behind opaque handles, for C
 * programs and for other languages' foreign-function interfaces. No C++
 * type and no exception crosses this header: every C++ exception
 * (std::bad_alloc included) is caught inside the library and returned as a
 * status.
 *
 * Handles (each opaque; docs/c-api.md, "Handles"):
 *   sombra_db      an open database (sombra_db_open ... sombra_db_close)
 *   sombra_tree    a named tree or the default tree; owned by its sombra_db,
 *                  valid until sombra_db_close (never freed by the caller)
 *   sombra_txn     a read or write transaction (sombra_db_begin_read/_write
 *                  ... sombra_txn_free); commit and abort end it, the handle
 *                  stays until freed, and every later call on it returns
 *                  SOMBRA_INVALID_ARGUMENT
 *   sombra_cursor  ordered iteration inside one transaction
 *                  (sombra_txn_cursor ... sombra_cursor_free)
 *   sombra_error   the message of a failed call (sombra_error_free)
 *
 * Errors: every call that can fail returns a sombra_status, SOMBRA_OK (0)
 * on success, and takes `sombra_error** err` last. `err` may be NULL (the
 * code alone); otherwise *err must be NULL or an earlier error on entry, and
 * the call sets it: to NULL on success, to a new error on failure (an error
 * *err held on entry is freed first). So one `sombra_error* err = NULL`
 * serves a whole function, and sombra_error_free(err) at its end.
 *
 * Keys, values and names are byte strings given as pointer + length (any
 * bytes, NUL included; a NULL pointer is allowed with length 0). Keys are 1
 * to sombra_db_max_key_size(db) bytes (page_size / 4), values 0 to
 * SOMBRA_MAX_VALUE_SIZE; keys sort bytewise (memcmp, shorter first on a tie).
 *
 * Memory returned by the library (sombra_txn_get_alloc, sombra_db_get_alloc,
 * sombra_db_list_trees) is freed with sombra_free. Views (`const void*` +
 * length from sombra_txn_get_view, sombra_cursor_key, sombra_cursor_value)
 * point into memory the library owns and are valid exactly as long as each
 * function's comment says.
 *
 * Thread safety: as in C++. A sombra_db is shared by threads. One write
 * transaction at a time per database (sombra_db_begin_write waits for the
 * writer slot); any number of read transactions at once, from any threads.
 * A sombra_txn and its cursors belong to one thread at a time.
 *
 * ABI: SOMBRA_C_ABI_VERSION is the SONAME's version (libsombra.so.N). Within
 * one ABI version functions are only added; a change to an existing
 * function or to the layout of sombra_options, sombra_stats,
 * sombra_backup_stats or sombra_name makes a new ABI version
 * (docs/c-api.md, "ABI version policy").
 */
#ifndef SOMBRA_C_H_
#define SOMBRA_C_H_

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define SOMBRA_C_API __attribute__((visibility("default")))
#else
#define SOMBRA_C_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions ---------------------------------------------------------- */

/* The ABI this header describes (libsombra.so.1). */
#define SOMBRA_C_ABI_VERSION 1

/* The ABI of the loaded library: compare with SOMBRA_C_ABI_VERSION. */
SOMBRA_C_API int sombra_c_abi_version(void);
/* The library's version, "0.9.0" (sombra::kVersion). Static storage. */
SOMBRA_C_API const char* sombra_version_string(void);

/* ---- Status codes and errors ------------------------------------------- */

/* Codes 0 to 99 are sombra::Status::Code's values (a code added there
 * takes the next free value below 100); 100 and up belong to the C API. */
typedef enum sombra_status {
  SOMBRA_OK = 0,
  SOMBRA_NOT_FOUND = 1,
  SOMBRA_CORRUPTION = 2,
  SOMBRA_NOT_SUPPORTED = 3,
  SOMBRA_INVALID_ARGUMENT = 4,
  SOMBRA_IO_ERROR = 5,
  SOMBRA_BUSY = 6,
  /* The caller's buffer is smaller than the value; nothing was copied and
   * the value's length was reported (sombra_txn_get, sombra_db_get). */
  SOMBRA_BUFFER_TOO_SMALL = 100,
  /* Memory ran out inside the library (std::bad_alloc). */
  SOMBRA_NO_MEMORY = 101,
  /* Any other C++ exception caught at the boundary (a bug: please report). */
  SOMBRA_INTERNAL_ERROR = 102
} sombra_status;

/* "OK", "NotFound", "Corruption", "NotSupported", "InvalidArgument",
 * "IOError", "Busy" (as sombra::Status::ToString), "BufferTooSmall",
 * "NoMemory", "InternalError"; "Unknown" otherwise. Static storage. */
SOMBRA_C_API const char* sombra_status_name(sombra_status code);

typedef struct sombra_error sombra_error;

/* The code of `err`; SOMBRA_OK for NULL. */
SOMBRA_C_API sombra_status sombra_error_code(const sombra_error* err);
/* The message (sombra::Status::message(), without the code's name: "key of
 * 0 bytes is under the limit: ..."), NUL-terminated, valid until
 * sombra_error_free; "" for NULL. */
SOMBRA_C_API const char* sombra_error_message(const sombra_error* err);
/* The errno behind an SOMBRA_IO_ERROR, or 0 (sombra::Status::sys_errno). */
SOMBRA_C_API int sombra_error_sys_errno(const sombra_error* err);
/* Non-zero for an SOMBRA_IO_ERROR caused by a full disk (ENOSPC, EDQUOT). */
SOMBRA_C_API int sombra_error_is_no_space(const sombra_error* err);
/* Frees `err`; NULL is allowed. */
SOMBRA_C_API void sombra_error_free(sombra_error* err);

/* Frees memory the library allocated for the caller (the get_alloc
 * values, sombra_db_list_trees' names); NULL is allowed. */
SOMBRA_C_API void sombra_free(void* ptr);

/* ---- Limits (sombra/limits.h) ------------------------------------------ */

#define SOMBRA_MIN_KEY_SIZE 1
#define SOMBRA_MAX_VALUE_SIZE 4294967295ULL /* 4 GiB - 1 */

/* The largest key a database of this page size takes: page_size / 4. */
SOMBRA_C_API size_t sombra_max_key_size(uint32_t page_size);

/* ---- Options (sombra/options.h) ---------------------------------------- */

/* What a successful commit promises after a crash (sombra::Durability). */
typedef enum sombra_durability {
  SOMBRA_DURABILITY_FULL = 0,   /* fdatasync before commit returns */
  SOMBRA_DURABILITY_NORMAL = 1, /* a crash may lose the last commits */
  SOMBRA_DURABILITY_OFF = 2     /* never fdatasync */
} sombra_durability;

/* sombra::Options field for field (each documented in sombra/options.h;
 * the deprecated cache_bytes is left out). Fill with sombra_options_init,
 * then change fields. Flags are int: 0 false, any other value true. */
typedef struct sombra_options {
  int create_if_missing;         /* Default: 1 */
  int error_if_exists;           /* Default: 0 */
  int read_only;                 /* Default: 0 */
  uint32_t page_size;            /* new files only; power of two 4096..65536. Default: 4096 */
  sombra_durability durability;  /* Default: SOMBRA_DURABILITY_FULL */
  uint64_t wal_checkpoint_bytes; /* >= 65536. Default: 64 MiB */
  int wal_compression;           /* Default: 1 */
  int verify_checksums;          /* Default: 1 */
  uint32_t busy_timeout_ms;      /* Default: 0 (Busy at once) */
  int salvage_wal;               /* Default: 0 */
} sombra_options;

/* Sets every field to sombra::Options' default. */
SOMBRA_C_API void sombra_options_init(sombra_options* options);

/* ---- Statistics (sombra/stats.h) --------------------------------------- */

/* sombra::Stats without its `all` map (see sombra_db_stats_each). */
typedef struct sombra_stats {
  uint32_t page_size;
  uint64_t sequence;
  uint64_t page_count;
  uint64_t freelist_pages;
  uint64_t file_bytes;
  uint64_t wal_file_bytes;
  uint64_t versions_in_memory;
  uint64_t commits;
  uint64_t wal_records;
  uint64_t wal_bytes;
  uint64_t fsyncs;
  double commits_per_fsync;
  uint64_t checkpoints;
  uint64_t checkpoint_pages;
  uint64_t recovery_records_replayed;
  uint64_t key_decodes;
  uint64_t key_cmps;
  uint64_t memcopy_bytes;
  uint64_t allocator_builds;
  uint64_t allocator_page_parses;
  uint64_t allocator_cache_reuse;
  uint64_t allocator_split_triggers;
  uint64_t allocator_failures;
  uint64_t allocator_compactions;
  uint64_t allocator_bytes_moved;
  uint64_t leaf_splits;
  uint64_t leaf_merges;
  uint64_t leaf_shares;
  uint64_t pager_file_pages_read;
  uint64_t pager_file_pages_written;
  uint64_t pager_checksum_failures;
  double insert_avg_us;
  double search_avg_us;
  double commit_avg_ms;
} sombra_stats;

/* DB::Backup's report (sombra::BackupStats). */
typedef struct sombra_backup_stats {
  uint64_t pages;    /* pages of the copy, its two meta pages included */
  uint64_t bytes;    /* the copy's size */
  uint64_t sequence; /* the commit sequence it holds */
  double seconds;    /* from the snapshot to the verified, renamed copy */
} sombra_backup_stats;

/* DB::Compact's report (sombra::CompactStats). */
typedef struct sombra_compact_stats {
  uint64_t steps;            /* transactions committed */
  uint64_t pages_moved;      /* live pages moved into lower free pages */
  uint64_t pages_rewritten;  /* pages rewritten for the moved pages' numbers */
  uint64_t pages_given_back; /* the page count's fall */
  uint64_t file_bytes_before;
  uint64_t file_bytes_after; /* after the final checkpoint */
  double seconds;
} sombra_compact_stats;

/* A tree's name from sombra_db_list_trees: `size` bytes at `data`, followed
 * by a NUL byte that `size` does not count. */
typedef struct sombra_name {
  const char* data;
  size_t size;
} sombra_name;

/* ---- Handles ----------------------------------------------------------- */

typedef struct sombra_db sombra_db;
typedef struct sombra_tree sombra_tree;
typedef struct sombra_txn sombra_txn;
typedef struct sombra_cursor sombra_cursor;

/* ---- Database ---------------------------------------------------------- */

/* Opens (or creates, per options) the database at `path` (DB::Open).
 * `options` NULL means the defaults. On success *db is the handle; on
 * failure *db is NULL. InvalidArgument: a bad option (no file is created),
 * error_if_exists on an existing database, not a Sombra file. NotFound: no
 * database and !create_if_missing (or read_only). Busy: open for writing by
 * another process or handle (after busy_timeout_ms). Corruption: damage. */
SOMBRA_C_API sombra_status sombra_db_open(const char* path, const sombra_options* options,
                                          sombra_db** db, sombra_error** err);
/* Closes the database (the DB's destructor: a checkpoint, the lock
 * released) and frees the handle and its tree handles. REQUIRES: no other
 * thread uses it. While transaction handles of it are not freed, nothing is
 * closed and the result is InvalidArgument (free them, then close again).
 * NULL is OK. */
SOMBRA_C_API sombra_status sombra_db_close(sombra_db* db, sombra_error** err);
/* Deletes the database at `path`, which must not be open (DestroyDB).
 * NotFound when there is no page file. */
SOMBRA_C_API sombra_status sombra_destroy_db(const char* path, sombra_error** err);

/* The page size of this database (DB::page_size); 0 for NULL. */
SOMBRA_C_API uint32_t sombra_db_page_size(const sombra_db* db);
/* Its key limit, page_size / 4 (DB::MaxKeySize); 0 for NULL. */
SOMBRA_C_API size_t sombra_db_max_key_size(const sombra_db* db);
/* Its path, NUL-terminated, valid until sombra_db_close; "" for NULL. */
SOMBRA_C_API const char* sombra_db_path(const sombra_db* db);

/* One-operation transactions on the default tree (DB::Put, DB::Get,
 * DB::Delete). Delete of an absent key is OK. The get calls are as
 * sombra_txn_get and sombra_txn_get_alloc. */
SOMBRA_C_API sombra_status sombra_db_put(sombra_db* db, const void* key, size_t key_len,
                                         const void* value, size_t value_len, sombra_error** err);
SOMBRA_C_API sombra_status sombra_db_get(sombra_db* db, const void* key, size_t key_len, void* buf,
                                         size_t buf_size, size_t* value_len, sombra_error** err);
SOMBRA_C_API sombra_status sombra_db_get_alloc(sombra_db* db, const void* key, size_t key_len,
                                               void** value, size_t* value_len, sombra_error** err);
SOMBRA_C_API sombra_status sombra_db_delete(sombra_db* db, const void* key, size_t key_len,
                                            sombra_error** err);

/* DB::Checkpoint. NotSupported on a read-only database. */
SOMBRA_C_API sombra_status sombra_db_checkpoint(sombra_db* db, sombra_error** err);
/* DB::Verify: both meta pages, every page, the freelist and every tree.
 * Corruption names the first problem and counts the others. */
SOMBRA_C_API sombra_status sombra_db_verify(sombra_db* db, sombra_error** err);
/* DB::GetStats into *stats. */
SOMBRA_C_API sombra_status sombra_db_stats(sombra_db* db, sombra_stats* stats, sombra_error** err);
/* Calls fn(ctx, name, value) for every counter of Stats::all, by name in
 * sorted order (timers as "<name>.count" and "<name>.total_ns"); `name` is
 * valid during the call only. */
typedef void (*sombra_stat_fn)(void* ctx, const char* name, uint64_t value);
SOMBRA_C_API sombra_status sombra_db_stats_each(sombra_db* db, sombra_stat_fn fn, void* ctx,
                                                sombra_error** err);

/* DB::Backup: a compacted, verified copy of the latest committed state at
 * `dest_path` beside readers and writers. InvalidArgument if dest_path (or
 * its log) exists. The _ex form adds a progress callback, called on this
 * thread as pages are written (may be NULL), and a report (`stats` may be
 * NULL). */
SOMBRA_C_API sombra_status sombra_db_backup(sombra_db* db, const char* dest_path,
                                            sombra_error** err);
typedef void (*sombra_backup_progress_fn)(void* ctx, uint64_t done, uint64_t total);
SOMBRA_C_API sombra_status sombra_db_backup_ex(sombra_db* db, const char* dest_path,
                                               sombra_backup_progress_fn progress, void* ctx,
                                               sombra_backup_stats* stats, sombra_error** err);

/* DB::Compact: moves live pages from the end of the file into free pages,
 * a few hundred per durable transaction (writers commit between them),
 * then shrinks the file (docs/operations.md, "Compaction"). `stats` may be
 * NULL. NotSupported on a read-only database; Busy on the thread holding
 * the open write transaction. */
SOMBRA_C_API sombra_status sombra_db_compact(sombra_db* db, sombra_compact_stats* stats,
                                             sombra_error** err);

/* ---- Trees ------------------------------------------------------------- */

/* The tree `name` (1 to 255 bytes, else InvalidArgument), created in its
 * own durable transaction when missing (DB::OpenTree). NotFound for a
 * missing tree on a read-only database. Busy when this thread holds the
 * database's open write transaction. The same name gives the same handle.
 * The handle belongs to `db`: valid until sombra_db_close, never freed by
 * the caller; once the tree is dropped every call with it is
 * InvalidArgument. */
SOMBRA_C_API sombra_status sombra_db_open_tree(sombra_db* db, const char* name, size_t name_len,
                                               sombra_tree** tree, sombra_error** err);
/* The default tree (DB::DefaultTree), the one the calls without a tree
 * use; NULL for NULL. Owned by `db` as above. */
SOMBRA_C_API sombra_tree* sombra_db_default_tree(sombra_db* db);
/* DB::DropTree: frees every page of the tree in one durable transaction.
 * NotFound if absent, InvalidArgument for the default tree ("") or a bad
 * name, Busy as sombra_db_open_tree. */
SOMBRA_C_API sombra_status sombra_db_drop_tree(sombra_db* db, const char* name, size_t name_len,
                                               sombra_error** err);
/* DB::ListTrees: the named trees, sorted (the default tree is not listed).
 * *names is one block (free it with sombra_free) of *count entries; NULL
 * when *count is 0. */
SOMBRA_C_API sombra_status sombra_db_list_trees(sombra_db* db, sombra_name** names, size_t* count,
                                                sombra_error** err);
/* The tree's name ("" for the default tree), NUL-terminated, valid while
 * the handle is; *name_len (may be NULL) gets its length. */
SOMBRA_C_API const char* sombra_tree_name(const sombra_tree* tree, size_t* name_len);

/* ---- Transactions ------------------------------------------------------ */

/* A snapshot (DB::BeginRead): it sees every commit whose commit returned
 * before it began. Any number at once, from any threads. */
SOMBRA_C_API sombra_status sombra_db_begin_read(sombra_db* db, sombra_txn** txn,
                                                sombra_error** err);
/* A write transaction (DB::BeginWrite); waits for the writer slot. It sees
 * its own writes. NotSupported on a read-only database; Busy when this
 * thread already holds the database's open write transaction (it would
 * wait for itself). */
SOMBRA_C_API sombra_status sombra_db_begin_write(sombra_db* db, sombra_txn** txn,
                                                 sombra_error** err);
/* Ends the transaction. A write transaction's commit is atomic and durable
 * per options.durability when it returns OK (WriteTxn::Commit); a failed
 * one ends it too (and commits nothing). A read transaction's commit
 * releases its snapshot (OK). Either way the transaction's cursors turn
 * invalid (SOMBRA_INVALID_ARGUMENT) and every later call on `txn` but
 * sombra_txn_free returns SOMBRA_INVALID_ARGUMENT. */
SOMBRA_C_API sombra_status sombra_txn_commit(sombra_txn* txn, sombra_error** err);
/* Ends the transaction without committing (WriteTxn::Abort), as commit
 * ends it otherwise. No-op on an ended transaction or NULL. */
SOMBRA_C_API void sombra_txn_abort(sombra_txn* txn);
/* Aborts the transaction if it has not ended and frees the handle. Its
 * cursors turn invalid; each must still be freed with sombra_cursor_free.
 * NULL is allowed. */
SOMBRA_C_API void sombra_txn_free(sombra_txn* txn);
/* The commit sequence a read transaction sees (ReadTxn::Sequence); 0 for
 * a write transaction, an ended one, or NULL. */
SOMBRA_C_API uint64_t sombra_txn_sequence(const sombra_txn* txn);

/* Get: three ways to receive the value of `key` (of the default tree, or of
 * `tree` in the _tree forms). NotFound when the key is absent;
 * InvalidArgument for an empty or oversized key. On any failure
 * sombra_txn_get writes nothing but *value_len (and that only for
 * SOMBRA_BUFFER_TOO_SMALL); the _alloc and _view forms set *value to NULL.
 *
 * sombra_txn_get copies the value into buf[0 .. buf_size) and sets
 * *value_len to its length. When buf_size < *value_len it copies nothing
 * and returns SOMBRA_BUFFER_TOO_SMALL with *value_len set: call again with
 * a buffer that large (buf may be NULL when buf_size is 0: a size query). */
SOMBRA_C_API sombra_status sombra_txn_get(sombra_txn* txn, const void* key, size_t key_len,
                                          void* buf, size_t buf_size, size_t* value_len,
                                          sombra_error** err);
/* sombra_txn_get_alloc: *value is a new malloc'd copy of *value_len bytes
 * plus a NUL byte not counted (never NULL on success, even for an empty
 * value); free it with sombra_free. value_len may be NULL. */
SOMBRA_C_API sombra_status sombra_txn_get_alloc(sombra_txn* txn, const void* key, size_t key_len,
                                                void** value, size_t* value_len,
                                                sombra_error** err);
/* sombra_txn_get_view: *value points at *value_len bytes (plus a NUL byte
 * not counted) that the transaction owns, valid until the next
 * sombra_txn_get_view or sombra_txn_get_view_tree call on the same
 * transaction or until the transaction ends (commit, abort, free),
 * whichever comes first. No allocation per call once the buffer is large
 * enough. value_len may be NULL. */
SOMBRA_C_API sombra_status sombra_txn_get_view(sombra_txn* txn, const void* key, size_t key_len,
                                               const void** value, size_t* value_len,
                                               sombra_error** err);
SOMBRA_C_API sombra_status sombra_txn_get_tree(sombra_txn* txn, sombra_tree* tree, const void* key,
                                               size_t key_len, void* buf, size_t buf_size,
                                               size_t* value_len, sombra_error** err);
SOMBRA_C_API sombra_status sombra_txn_get_alloc_tree(sombra_txn* txn, sombra_tree* tree,
                                                     const void* key, size_t key_len, void** value,
                                                     size_t* value_len, sombra_error** err);
SOMBRA_C_API sombra_status sombra_txn_get_view_tree(sombra_txn* txn, sombra_tree* tree,
                                                    const void* key, size_t key_len,
                                                    const void** value, size_t* value_len,
                                                    sombra_error** err);

/* Writes (WriteTxn::Put, Delete, Append, DeleteRange, each on the default
 * tree or on `tree`). InvalidArgument, nothing written and the transaction
 * still usable: a read transaction, an empty or oversized key, an oversized
 * value, a bad tree handle (NULL, another database's, dropped). Any other
 * error fails the transaction (docs/api.md, "Failed writes"): every later
 * call returns that first error and commit refuses.
 *
 * Delete of an absent key is OK. Append is a sorted bulk load: `key` must
 * sort after every key of the tree, else InvalidArgument with nothing
 * written (the transaction goes on). DeleteRange deletes every key k with
 * begin <= k < end (positions: any bytes); end < begin is InvalidArgument. */
SOMBRA_C_API sombra_status sombra_txn_put(sombra_txn* txn, const void* key, size_t key_len,
                                          const void* value, size_t value_len, sombra_error** err);
SOMBRA_C_API sombra_status sombra_txn_delete(sombra_txn* txn, const void* key, size_t key_len,
                                             sombra_error** err);
SOMBRA_C_API sombra_status sombra_txn_append(sombra_txn* txn, const void* key, size_t key_len,
                                             const void* value, size_t value_len,
                                             sombra_error** err);
SOMBRA_C_API sombra_status sombra_txn_delete_range(sombra_txn* txn, const void* begin,
                                                   size_t begin_len, const void* end,
                                                   size_t end_len, sombra_error** err);
SOMBRA_C_API sombra_status sombra_txn_put_tree(sombra_txn* txn, sombra_tree* tree, const void* key,
                                               size_t key_len, const void* value, size_t value_len,
                                               sombra_error** err);
SOMBRA_C_API sombra_status sombra_txn_delete_tree(sombra_txn* txn, sombra_tree* tree,
                                                  const void* key, size_t key_len,
                                                  sombra_error** err);
SOMBRA_C_API sombra_status sombra_txn_append_tree(sombra_txn* txn, sombra_tree* tree,
                                                  const void* key, size_t key_len,
                                                  const void* value, size_t value_len,
                                                  sombra_error** err);
SOMBRA_C_API sombra_status sombra_txn_delete_range_tree(sombra_txn* txn, sombra_tree* tree,
                                                        const void* begin, size_t begin_len,
                                                        const void* end, size_t end_len,
                                                        sombra_error** err);

/* ---- Cursors (sombra/cursor.h) ----------------------------------------- */

/* A new cursor over the default tree or `tree` in `txn` (NewCursor), not
 * yet positioned. A write transaction's cursor sees its own writes. An
 * error the C++ cursor would start with (a bad tree handle, a failed or
 * ended transaction) is returned here instead, with *cursor NULL. The
 * cursor must be freed with sombra_cursor_free; when its transaction ends
 * first it turns invalid and every call on it returns
 * SOMBRA_INVALID_ARGUMENT. */
SOMBRA_C_API sombra_status sombra_txn_cursor(sombra_txn* txn, sombra_cursor** cursor,
                                             sombra_error** err);
SOMBRA_C_API sombra_status sombra_txn_cursor_tree(sombra_txn* txn, sombra_tree* tree,
                                                  sombra_cursor** cursor, sombra_error** err);

/* Positioning: the first key, the last key, the first key >= `key` (a
 * position: any bytes, empty and longer than the key limit included).
 * Next and prev step from a valid position (InvalidArgument when the cursor
 * is not valid). Each returns the cursor's status after the move: OK when
 * it is on a key or ran off either end (sombra_cursor_valid tells which),
 * else the error (a damaged page) that made it invalid. */
SOMBRA_C_API sombra_status sombra_cursor_seek_to_first(sombra_cursor* cursor, sombra_error** err);
SOMBRA_C_API sombra_status sombra_cursor_seek_to_last(sombra_cursor* cursor, sombra_error** err);
SOMBRA_C_API sombra_status sombra_cursor_seek(sombra_cursor* cursor, const void* key,
                                              size_t key_len, sombra_error** err);
SOMBRA_C_API sombra_status sombra_cursor_next(sombra_cursor* cursor, sombra_error** err);
SOMBRA_C_API sombra_status sombra_cursor_prev(sombra_cursor* cursor, sombra_error** err);
/* Non-zero when the cursor is on a key; 0 otherwise (and for NULL). */
SOMBRA_C_API int sombra_cursor_valid(const sombra_cursor* cursor);
/* Views of the current key and value (Cursor::key, Cursor::value), valid
 * until the cursor moves (seek*, next, prev), is freed, or its transaction
 * ends. NULL with *len 0 when the cursor is not valid. `len` may be NULL. */
SOMBRA_C_API const void* sombra_cursor_key(const sombra_cursor* cursor, size_t* len);
SOMBRA_C_API const void* sombra_cursor_value(const sombra_cursor* cursor, size_t* len);
/* Cursor::status: OK, or the error that made the cursor invalid. */
SOMBRA_C_API sombra_status sombra_cursor_status(const sombra_cursor* cursor, sombra_error** err);
/* Frees the cursor; NULL is allowed. */
SOMBRA_C_API void sombra_cursor_free(sombra_cursor* cursor);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SOMBRA_C_H_ */
