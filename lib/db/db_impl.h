// db/db_impl.h: the DB of <sombra/db.h> over the pager and the B+tree.
//
// DBImpl owns the Env-backed Pager (page file, log, versions, lock) and the
// database's MetricsRegistry. A WriteTxn is a PagerTxn (which holds the
// pager's writer slot) plus a BTreeWriter; a ReadTxn is a pager Snapshot;
// cursors wrap btree::TreeCursor. One-operation Put/Get/Delete are those
// transactions used once.
//
// Invariants:
//  1. Every ReadTxn, WriteTxn and Cursor is destroyed before the DBImpl
//     (the caller's contract, as in LMDB and LevelDB).
//  2. A WriteTxn is open (holds the writer slot), failed (holds the slot;
//     every call but Abort returns its first error; Commit returns it and
//     finishes the transaction) or finished; a finished one answers every
//     call with InvalidArgument.
//
// Thread safety: as DB (db.h).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "btree/btree.h"
#include "db/db_tree.h"
#include "env/env.h"
#include "pager/pager.h"
#include "sombra/db.h"
#include "util/metrics.h"

namespace sombra::db {

class WriteTxnImpl;

class DBImpl final : public DB {
 public:
  DBImpl(std::unique_ptr<MetricsRegistry> metrics, std::unique_ptr<pager::Pager> pager, Env* env);
  ~DBImpl() override;

  Status Put(std::string_view key, std::string_view value) override;
  Status Get(std::string_view key, std::string* value) override;
  Status Delete(std::string_view key) override;
  Status BeginRead(std::unique_ptr<ReadTxn>* txn) override;
  Status BeginWrite(std::unique_ptr<WriteTxn>* txn) override;
  Status Checkpoint() override;
  Status Verify() override;
  Stats GetStats() override;
  // Named trees (db_trees.cc).
  Status OpenTree(std::string_view name, Tree** tree) override;
  Tree* DefaultTree() override { return &default_tree_; }
  Status DropTree(std::string_view name) override;
  Status ListTrees(std::vector<std::string>* names) override;
  Status Compact() override { return Compact(nullptr); }
  Status Compact(CompactStats* stats) override;
  Status Backup(const std::string& dest_path) override;
  Status Backup(const std::string& dest_path, const BackupOptions& options,
                BackupStats* stats) override;
  // OK for the default tree's handle and a live named one of this DB;
  // InvalidArgument (naming why) for null, another DB's or a dropped one.
  Status CheckTree(const Tree* tree) const;
  bool IsDefaultTree(const Tree* tree) const { return tree == &default_tree_; }
  Tree* default_tree() const { return &default_tree_; }
  // The thread holding this DB's open WriteTxn, if any (OpenTree and
  // DropTree refuse to wait for themselves).
  void SetWriterThread(std::thread::id id) const { writer_thread_.store(id); }

  uint32_t page_size() const override { return pager_->page_size(); }
  size_t MaxKeySize() const override { return sombra::MaxKeySize(pager_->page_size()); }
  const std::string& path() const override { return pager_->path(); }

  pager::Pager* pager() const { return pager_.get(); }
  MetricsRegistry* metrics() const { return metrics_.get(); }
  // The B+tree counters of metrics(), looked up once for every tally.
  const btree::TickCounters* tick_counters() const { return &tick_counters_; }
  // The one limit check (sombra/limits.h) of every entry point that takes
  // a key (DB and WriteTxn Put/Delete/Get, ReadTxn Get), made before
  // anything is read or written: InvalidArgument for an empty or oversized
  // key. Below this edge the B+tree only asserts the limits (btree.h).
  Status CheckKey(std::string_view key) const { return CheckKeySize(key.size(), page_size()); }
  // CheckKey, then the value's limit: the check of DB and WriteTxn Put.
  Status CheckKeyValue(std::string_view key, std::string_view value) const {
    SOMBRA_RETURN_IF_ERROR(CheckKey(key));
    return CheckValueSize(value.size());
  }
  // Leaf layouts kept between write transactions (btree/layout_cache.h);
  // used only by the transaction holding the writer slot.
  btree::LayoutCache* layout_cache() const { return layout_cache_.get(); }
  Timer* insert_timer() const { return insert_timer_; }
  Timer* search_timer() const { return search_timer_; }

 private:
  // Busy when the calling thread holds this DB's open WriteTxn: `what`
  // would wait for the writer slot it holds.
  Status CheckNotWriterThread(const char* what) const;
  // The write transaction of a one-operation call `what` (Put, Delete,
  // OpenTree, DropTree): CheckNotWriterThread, then BeginWrite.
  Status BeginOwnWrite(const char* what, std::unique_ptr<WriteTxnImpl>* txn);
  // The handle of tree `name`, made on first use.
  Tree* HandleFor(std::string_view name);
  // One transaction giving back the free pages at the end of the file
  // (btree::TrimFreeTail); *pages: how many (db_compact.cc).
  Status TrimFreeTail(uint64_t* pages);

  std::unique_ptr<MetricsRegistry> metrics_;
  std::unique_ptr<pager::Pager> pager_;
  Env* const env_;
  const btree::TickCounters tick_counters_;
  Timer* insert_timer_;
  Timer* search_timer_;
  const std::unique_ptr<btree::LayoutCache> layout_cache_ = std::make_unique<btree::LayoutCache>();
  mutable TreeImpl default_tree_{this, std::string()};  // immutable but for its handle
  std::mutex trees_mu_;                                 // guards trees_ and dropped_
  std::map<std::string, std::unique_ptr<TreeImpl>, std::less<>> trees_;
  std::vector<std::unique_ptr<TreeImpl>> dropped_;  // kept until the DB goes
  mutable std::atomic<std::thread::id> writer_thread_{};
};

// DB::Open with an explicit Env (tests inject faults through it).
// REQUIRES: env outlives the DB.
Status OpenWithEnv(Env* env, const Options& options, const std::string& path,
                   std::unique_ptr<DB>* db);

// Options a DB rejects before touching the file system.
Status ValidateOptions(const Options& options, const std::string& path);

// The cursor over a read snapshot and the one inside a write transaction
// (db_cursor.cc). Each tallies its B+tree counts and adds them to
// `targets` when it is destroyed.
std::unique_ptr<Cursor> NewSnapshotCursor(const pager::Snapshot* snap, uint32_t root,
                                          const btree::TickCounters* targets);
// A cursor that is never valid and reports `error` (a bad tree handle).
std::unique_ptr<Cursor> NewErrorCursor(Status error);
// What a write transaction's cursors know of it (shared with them).
struct WriteTxnState {
  bool finished = false;  // committed or aborted
  Status error;           // the first error that failed it (docs/api.md)
};
// Once the transaction has finished the cursor turns invalid with
// InvalidArgument, once it has failed with its first error, instead of
// touching the writer.
std::unique_ptr<Cursor> NewWriteCursor(btree::BTreeWriter* writer, uint32_t page_size,
                                       const btree::TickCounters* targets,
                                       std::shared_ptr<const WriteTxnState> state);

}  // namespace sombra::db
