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
  Status Commit() override;
  void Abort() override;

 private:
  Status CheckOpen() const;

  const DBImpl* const db_;
  std::unique_ptr<pager::PagerTxn> txn_;
  std::unique_ptr<btree::BTreeWriter> writer_;
  // Shared with the transaction's cursors; false once it has finished.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sombra::db
