// sombra/db.h: the public API (one umbrella header).
//
// A DB is an ordered map from byte-string keys to byte-string values kept in
// a page file `<path>` with a write-ahead log `<path>-wal`, a lock file
// `<path>-lock` and a shared reader table `<path>-shm` beside it. Writes happen in transactions:
// one WriteTxn at a time per database, any number of ReadTxn snapshots at once, from any threads.
// See README.md for the durability each Options::durability gives.
//
// Rules (also ../docs and the README):
//  - Keys: 1 to MaxKeySize() bytes (page_size / 4: 1024 at 4 KiB pages),
//    ordered bytewise (memcmp, shorter first on a tie). Values: 0 bytes to
//    kMaxValueSize (4 GiB - 1; large values live in overflow pages). The
//    limits and their one check are in sombra/limits.h: Put, Delete and
//    Get (of DB, WriteTxn and ReadTxn) give InvalidArgument for an empty
//    or oversized key or an oversized value, in one message format, and
//    change nothing.
//  - Get of an absent key: NotFound, *value untouched.
//  - A committed transaction is visible to every BeginRead that starts
//    after Commit returned, never partly.
//  - A second writable Open of an open database (this process or another)
//    gets Busy naming the lock file; read_only opens are allowed beside a
//    writer, in any process: they follow the log in memory, write nothing
//    but their slot of `<path>-shm`, see at each BeginRead every commit
//    whose Commit returned before it, and keep each snapshot exactly as
//    it began whatever the writer does (docs/design/readers.md).
//
// Example:
//
//   std::unique_ptr<sombra::DB> db;
//   sombra::Status s = sombra::DB::Open(sombra::Options(), "/tmp/x.db", &db);
//   std::unique_ptr<sombra::WriteTxn> w;
//   s = db->BeginWrite(&w);
//   s = w->Put("k", "v");
//   s = w->Commit();
//
// Thread safety: a DB is shared by threads; a ReadTxn, WriteTxn or Cursor
// belongs to one thread at a time. Every ReadTxn, WriteTxn and Cursor must
// be destroyed before the DB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sombra/cursor.h"
#include "sombra/limits.h"
#include "sombra/options.h"
#include "sombra/stats.h"
#include "sombra/status.h"

namespace sombra {

// An independent ordered key space inside the same file (a named tree, or
// the default tree, whose name is empty). One transaction may touch any
// number of trees; its commit is atomic across all of them, and a snapshot
// sees every tree at the same commit. Handles come from DB::OpenTree and
// DB::DefaultTree; the DB owns them. The calls of ReadTxn and WriteTxn
// without a Tree* act on the default tree. A handle whose tree was
// dropped (DB::DropTree) turns invalid: every call with it returns
// InvalidArgument. A tree that does not exist in a snapshot (created after
// it began, or dropped by another process) reads as empty there.
class Tree {
 public:
  virtual ~Tree();
  virtual const std::string& name() const = 0;
};

// A consistent snapshot; many may be open at once.
class ReadTxn {
 public:
  virtual ~ReadTxn();
  virtual Status Get(std::string_view key, std::string* value) = 0;
  virtual std::unique_ptr<Cursor> NewCursor() = 0;
  virtual uint64_t Sequence() const = 0;  // commit sequence it sees
  virtual Status Get(Tree* tree, std::string_view key, std::string* value) = 0;
  virtual std::unique_ptr<Cursor> NewCursor(Tree* tree) = 0;
};

// One at a time per database; the destructor aborts an uncommitted one.
// After Commit or Abort every call returns InvalidArgument.
//
// A failed write is atomic (docs/api.md, "Failed writes"): after any error
// of Put, Delete or Get other than InvalidArgument for a bad key or value
// (which changes nothing and leaves the transaction usable) and NotFound,
// the transaction is failed. Every later Put, Delete and Get returns that
// first error, its cursors turn invalid with it, and Commit returns it,
// logs nothing and ends the transaction (as Abort does). The database stays
// exactly as before the transaction, and writable: a failed split cascade
// or overflow-value replacement never leaves orphaned or freed-but-used
// pages behind.
class WriteTxn {
 public:
  virtual ~WriteTxn();
  virtual Status Put(std::string_view key, std::string_view value) = 0;
  virtual Status Delete(std::string_view key) = 0;  // NotFound is not an error: returns OK
  virtual Status Get(std::string_view key, std::string* value) = 0;  // sees own writes
  virtual std::unique_ptr<Cursor> NewCursor() = 0;                   // sees own writes
  // Sorted bulk load (as LMDB's MDB_APPEND): `key` must sort after every
  // key of the tree, else InvalidArgument and nothing written (the
  // transaction stays usable). No descent per key; leaves are filled
  // completely. Mixes freely with Put and Delete in one transaction.
  virtual Status Append(std::string_view key, std::string_view value) = 0;
  // Deletes every key k with begin <= k < end (begin == end: none;
  // end < begin: InvalidArgument, nothing written), a leaf at a time with
  // no search per key; emptied pages go to the freelist.
  virtual Status DeleteRange(std::string_view begin, std::string_view end) = 0;
  // The same calls on `tree` (see Tree).
  virtual Status Put(Tree* tree, std::string_view key, std::string_view value) = 0;
  virtual Status Delete(Tree* tree, std::string_view key) = 0;
  virtual Status Get(Tree* tree, std::string_view key, std::string* value) = 0;
  virtual std::unique_ptr<Cursor> NewCursor(Tree* tree) = 0;
  virtual Status Append(Tree* tree, std::string_view key, std::string_view value) = 0;
  virtual Status DeleteRange(Tree* tree, std::string_view begin, std::string_view end) = 0;
  // Durable per Options::durability when it returns OK.
  virtual Status Commit() = 0;
  virtual void Abort() = 0;
};

// DB::Backup's options and report (docs/operations.md, "Backup").
struct BackupOptions {
  // Called on the calling thread as pages are written: (pages written,
  // pages in all). May be empty.
  std::function<void(uint64_t done, uint64_t total)> progress;
};
struct BackupStats {
  uint64_t pages = 0;     // pages of the copy, its two meta pages included
  uint64_t bytes = 0;     // the copy's size
  uint64_t sequence = 0;  // the commit sequence it holds (ReadTxn::Sequence)
  double seconds = 0;     // from the snapshot to the verified, renamed copy
};

// DB::Compact's report (docs/operations.md, "Compaction").
struct CompactStats {
  uint64_t steps = 0;             // transactions committed
  uint64_t pages_moved = 0;       // live pages moved into lower free pages
  uint64_t pages_rewritten = 0;   // pages rewritten for the moved pages' numbers
  uint64_t pages_given_back = 0;  // the page count's fall
  uint64_t file_bytes_before = 0;
  uint64_t file_bytes_after = 0;  // after the final checkpoint
  double seconds = 0;
};

class DB {
 public:
  // Opens (or creates, per options) the database at `path`.
  // options.page_size applies to a new file only: an existing database
  // opens with its own page size (page_size() reports it).
  // InvalidArgument: a bad option (no file is created), error_if_exists on
  // an existing database, a file that is not a Sombra database. NotFound: no
  // database and !create_if_missing (or read_only). Busy: open for writing
  // elsewhere. Corruption: damaged meta pages or log.
  static Status Open(const Options& options, const std::string& path, std::unique_ptr<DB>* db);
  // Clean close: checkpoints, releases the lock.
  virtual ~DB();

  // One-operation transactions.
  virtual Status Put(std::string_view key, std::string_view value) = 0;
  virtual Status Get(std::string_view key, std::string* value) = 0;
  virtual Status Delete(std::string_view key) = 0;

  virtual Status BeginRead(std::unique_ptr<ReadTxn>* txn) = 0;
  // Waits for the writer slot. NotSupported on a read_only database.
  virtual Status BeginWrite(std::unique_ptr<WriteTxn>* txn) = 0;

  // Writes every committed page to the page file and restarts the log.
  // Free pages at the end of the file are given back first (one small
  // transaction), and the file shrinks past them once no reader of an
  // older state remains.
  // While a read-only handle in another process reads a state older than
  // the last commit, nothing is written to the page file: the log is kept,
  // or compacted when it has grown (docs/design/readers.md); OK either way.
  virtual Status Checkpoint() = 0;
  // The check `sombra-inspect verify` runs too: both meta pages, every page's
  // checksum and header, the freelist and the tree's structure. Corruption
  // names the first problem's page and why, and counts the others.
  virtual Status Verify() = 0;
  virtual Stats GetStats() = 0;

  // Named trees (see Tree; docs/api.md, "Named trees").
  // A handle to the tree `name` (1 to 255 bytes; else InvalidArgument),
  // created in its own durable transaction when missing (NotFound instead
  // on a read_only database). Creating waits for the writer slot: a thread
  // holding an open WriteTxn of this DB gets Busy instead of waiting for
  // itself. The DB owns the handle; it stays valid until the DB is
  // destroyed or the tree dropped.
  virtual Status OpenTree(std::string_view name, Tree** tree) = 0;
  virtual Tree* DefaultTree() = 0;
  // Drops the tree and frees every page of it in one durable transaction
  // (its pages go to the freelist; no record is rewritten). NotFound if
  // absent; InvalidArgument for the default tree or a bad name; Busy as
  // OpenTree. Handles to it turn invalid.
  virtual Status DropTree(std::string_view name) = 0;
  // Names of every named tree, sorted (the default tree is not listed).
  virtual Status ListTrees(std::vector<std::string>* names) = 0;

  // A consistent copy of the latest committed state at `dest_path` while
  // readers and writers go on (the copy is taken from a snapshot; no lock
  // is held): a complete database holding only the live pages, renumbered
  // from page 2 without a gap, no log needed, synced, verified, and then
  // renamed into place (until then it is `dest_path` + ".partial", which a
  // killed backup leaves behind). It opens with default options.
  // InvalidArgument if dest_path (or its log) exists; Corruption if the
  // source's pages are damaged (nothing is left at dest_path).
  virtual Status Backup(const std::string& dest_path) = 0;
  virtual Status Backup(const std::string& dest_path, const BackupOptions& options,
                        BackupStats* stats) = 0;

  // Moves live pages from the end of the file into free pages, a few
  // hundred per durable transaction (writers commit between them; readers
  // keep their snapshots), until no live page sits above a free one; then
  // the page count drops past the last live page and a checkpoint gives
  // the file's tail back to the file system (at once, or at the first
  // checkpoint or close after this handle's older readers have ended).
  // Each step is an ordinary logged transaction: a crash keeps every step
  // whole or not at all. NotSupported on a read_only database; Busy when
  // the calling thread holds an open WriteTxn; Corruption when a page
  // walked is damaged (nothing of that step is written).
  virtual Status Compact() = 0;
  virtual Status Compact(CompactStats* stats) = 0;

  // The page size and key limit of this database.
  virtual uint32_t page_size() const = 0;
  virtual size_t MaxKeySize() const = 0;
  virtual const std::string& path() const = 0;
};

// Deletes the database at `path` (page file, log, lock file, reader table).
// REQUIRES: not open. NotFound when there is no page file.
Status DestroyDB(const std::string& path);

}  // namespace sombra
