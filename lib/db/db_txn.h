// db/db_txn.h: ReadTxn over a pager Snapshot, WriteTxn over a PagerTxn
// with a BTreeWriter.
//
// Thread safety: one thread at a time per transaction.
#pragma once

#include <memory>
#include <string>

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

  const pager::Snapshot& snapshot() const { return *snap_; }

 private:
  const DBImpl* const db_;
  std::unique_ptr<pager::Snapshot> snap_;
  btree::PageReader reader_;
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
  Status Commit() override;
  void Abort() override;

  // Tests only: the page-level transaction (to inject faults into it).
  // Null once the transaction has finished.
  pager::PagerTxn* pager_txn_for_test() const { return txn_.get(); }

 private:
  // InvalidArgument when finished, the first error when failed.
  Status CheckOpen() const;
  // Records `s` as the transaction's first error unless it is OK or
  // NotFound; returns `s`.
  Status Check(Status s);

  const DBImpl* const db_;
  std::unique_ptr<pager::PagerTxn> txn_;
  std::unique_ptr<btree::BTreeWriter> writer_;
  // Shared with the transaction's cursors.
  std::shared_ptr<WriteTxnState> state_ = std::make_shared<WriteTxnState>();
};

}  // namespace sombra::db
