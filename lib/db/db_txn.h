// db/db_txn.h: ReadTxn over a pager Snapshot, WriteTxn over a PagerTxn
// with a BTreeWriter.
//
// Thread safety: one thread at a time per transaction.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "btree/btree.h"
#include "db/db_impl.h"
#include "pager/pager_txn.h"
#include "pager/snapshot.h"

namespace sombra::db {

class ReadTxnImpl final : public ReadTxn {
 public:
  ReadTxnImpl(const DBImpl* db, std::unique_ptr<pager::Snapshot> snap)
      : db_(db), snap_(std::move(snap)), reader_(btree::SnapshotReader(snap_.get())) {}

  Status Get(std::string_view key, std::string* value) override;
  std::unique_ptr<Cursor> NewCursor() override;
  uint64_t Sequence() const override { return snap_->lsn(); }
  Status Get(Tree* tree, std::string_view key, std::string* value) override;
  std::unique_ptr<Cursor> NewCursor(Tree* tree) override;

  const pager::Snapshot& snapshot() const { return *snap_; }

 private:
  // The root of `tree` in this snapshot (db_trees.cc): 0 when the tree is
  // not in it; InvalidArgument for a bad handle.
  Result<uint32_t> RootOf(Tree* tree);

  const DBImpl* const db_;
  std::unique_ptr<pager::Snapshot> snap_;
  btree::PageReader reader_;
  std::unordered_map<const Tree*, uint32_t> roots_;  // RootOf's lookups
};

// A WriteTxn is open, failed or finished (db_impl.h, invariant 2). Any
// error of Put, Delete or Get other than the argument checks made here
// (InvalidArgument for a bad key or value, or a finished transaction) and
// NotFound fails the transaction: the B+tree may have changed some pages
// and not others, so Commit returns that first error instead and nothing of
// the transaction reaches the log (docs/api.md, "Failed writes").
class WriteTxnImpl final : public WriteTxn {
 public:
  WriteTxnImpl(const DBImpl* db, std::unique_ptr<pager::PagerTxn> txn);
  ~WriteTxnImpl() override;

  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  // *existed (may be null) says whether the key was there.
  Status Delete(std::string_view key, bool* existed);
  Status Get(std::string_view key, std::string* value) override;
  std::unique_ptr<Cursor> NewCursor() override;
  Status Append(std::string_view key, std::string_view value) override;
  Status DeleteRange(std::string_view begin, std::string_view end) override;
  // *deleted (may be null) counts the keys deleted.
  Status DeleteRange(std::string_view begin, std::string_view end, uint64_t* deleted);
  Status Put(Tree* tree, std::string_view key, std::string_view value) override;
  Status Delete(Tree* tree, std::string_view key) override;
  Status Get(Tree* tree, std::string_view key, std::string* value) override;
  std::unique_ptr<Cursor> NewCursor(Tree* tree) override;
  Status Append(Tree* tree, std::string_view key, std::string_view value) override;
  Status DeleteRange(Tree* tree, std::string_view begin, std::string_view end) override;
  // *deleted (may be null) counts the keys deleted.
  Status DeleteRange(Tree* tree, std::string_view begin, std::string_view end, uint64_t* deleted);
  Status Commit() override;
  void Abort() override;

  // For DB::OpenTree and DB::DropTree (db_trees.cc), each in its own
  // transaction. CreateTree adds an empty tree `name` to the catalog
  // unless it is there. DropTree frees every page of tree `name` and
  // removes it from the catalog (NotFound, nothing changed, when there is
  // none); *pages counts the pages freed.
  Status CreateTree(std::string_view name);
  Status DropTree(std::string_view name, uint64_t* pages);

  // Tests only: the page-level transaction (to inject faults into it).
  // Null once the transaction has finished.
  pager::PagerTxn* pager_txn_for_test() const { return txn_.get(); }

 private:
  // InvalidArgument when finished, the first error when failed.
  Status CheckOpen() const;
  // The writer of `tree` in this transaction (db_trees.cc): the default
  // writer, or a named tree's, made on first use from its catalog entry.
  // InvalidArgument for a bad handle or a tree missing here (neither
  // fails the transaction); another error fails it.
  Result<btree::BTreeWriter*> WriterFor(Tree* tree);
  // The catalog's writer, made on first use.
  btree::BTreeWriter* Catalog();
  // Commit's first step: the new roots of the named trees into the
  // catalog, the catalog's root into the pager transaction.
  Status CommitTrees();
  // Hands every writer's leaf layouts to the DB's cache (none when a tree
  // was dropped: the cache is cleared instead) and destroys the writers.
  void ReleaseWriters();
  // Records `s` as the transaction's first error unless it is OK or
  // NotFound; returns `s`. Inline: every call of the transaction ends here.
  Status Check(Status s) {
    if (!s.ok()) [[unlikely]]
      NoteError(s);
    return s;
  }
  void NoteError(const Status& s);

  const DBImpl* const db_;
  std::unique_ptr<pager::PagerTxn> txn_;
  std::unique_ptr<btree::BTreeWriter> writer_;
  // The named trees this transaction touched.
  struct NamedTree {
    std::string name;
    uint32_t root = 0;      // as this transaction left it
    uint32_t original = 0;  // as the catalog has it
    std::unique_ptr<btree::BTreeWriter> writer;
  };
  std::unordered_map<const Tree*, std::unique_ptr<NamedTree>> named_;
  const Tree* last_tree_ = nullptr;  // WriterFor's last answer
  btree::BTreeWriter* last_writer_ = nullptr;
  uint32_t catalog_root_ = 0;  // the catalog writer's root
  std::unique_ptr<btree::BTreeWriter> catalog_;
  bool dropped_tree_ = false;
  // Shared with the transaction's cursors.
  std::shared_ptr<WriteTxnState> state_ = std::make_shared<WriteTxnState>();
};

}  // namespace sombra::db
