// db/db_cursor.cc: the two Cursors of <sombra/db.h>.
//
// A snapshot cursor is a btree::TreeCursor over immutable pages: key() and
// value() point into the pages. A write transaction's cursor runs over
// pages the transaction may change in place, so it keeps copies of the
// current key and value, and after any change in the transaction (the
// writer's version moved) it finds its place again from the saved key.
#include <memory>
#include <optional>
#include <string>

#include "db/db_impl.h"

namespace sombra::db {
namespace {

class SnapshotCursor final : public Cursor {
 public:
  SnapshotCursor(const pager::Snapshot* snap, uint32_t root, const btree::TickCounters* targets)
      : counters_(targets),
        cur_(btree::SnapshotReader(snap), snap->page_size(), root, &counters_) {}

  bool Valid() const override { return cur_.Valid(); }
  void SeekToFirst() override { cur_.SeekToFirst(); }
  void SeekToLast() override { cur_.SeekToLast(); }
  void Seek(std::string_view key) override { cur_.Seek(key); }
  void Next() override {
    if (cur_.Valid()) cur_.Next();
  }
  void Prev() override {
    if (cur_.Valid()) cur_.Prev();
  }
  std::string_view key() const override { return cur_.key(); }
  std::string_view value() const override { return cur_.value(); }
  Status status() const override { return cur_.status(); }

 private:
  const btree::BTreeCounters counters_;  // added to the registry when the cursor goes
  btree::TreeCursor cur_;
};

class WriteCursor final : public Cursor {
 public:
  WriteCursor(btree::BTreeWriter* writer, uint32_t page_size, const btree::TickCounters* targets,
              std::shared_ptr<const WriteTxnState> txn)
      : writer_(writer), page_size_(page_size), counters_(targets), txn_(std::move(txn)) {
    Finished();
  }

  bool Valid() const override { return valid_; }
  void SeekToFirst() override {
    if (!Fresh()) return;
    cur_->SeekToFirst();
    Save();
  }
  void SeekToLast() override {
    if (!Fresh()) return;
    cur_->SeekToLast();
    Save();
  }
  void Seek(std::string_view key) override {
    if (!Fresh()) return;
    cur_->Seek(key);
    Save();
  }
  void Next() override {
    if (!valid_ || Finished()) return;
    if (writer_->version() != version_) {
      // The tree changed under us: the first key after the saved one.
      const std::string at = key_;
      if (!Fresh()) return;
      cur_->Seek(at);
      if (cur_->Valid() && cur_->key() == at) cur_->Next();
    } else {
      cur_->Next();
    }
    Save();
  }
  void Prev() override {
    if (!valid_ || Finished()) return;
    if (writer_->version() != version_) {
      const std::string at = key_;
      if (!Fresh()) return;
      cur_->Seek(at);
      if (cur_->Valid()) {
        cur_->Prev();
      } else if (cur_->status().ok()) {
        cur_->SeekToLast();
      }
    } else {
      cur_->Prev();
    }
    Save();
  }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  Status status() const override { return status_; }

 private:
  // A cursor over the tree as it is now; false when the cursor is unusable.
  // True (and the cursor invalid) once the transaction has finished (status
  // InvalidArgument) or failed (its first error: its pages may be half
  // changed, so they are not read).
  bool Finished() {
    if (writer_ != nullptr && !txn_->finished && txn_->error.ok()) return false;
    valid_ = false;
    cur_.reset();
    if (status_.ok()) {
      status_ = writer_ != nullptr && !txn_->finished
                    ? txn_->error
                    : Status::InvalidArgument("cursor of a finished write transaction");
    }
    return true;
  }
  bool Fresh() {
    valid_ = false;
    if (Finished()) return false;
    if (!cur_.has_value() || writer_->version() != version_) {
      cur_.emplace(writer_->reader(), page_size_, writer_->root(), &counters_);
      version_ = writer_->version();
    }
    return true;
  }
  void Save() {
    status_ = cur_->status();
    valid_ = cur_->Valid();
    if (valid_) {
      key_.assign(cur_->key());
      value_.assign(cur_->value());
    }
  }

  btree::BTreeWriter* const writer_;
  const uint32_t page_size_;
  const btree::BTreeCounters counters_;  // added to the registry when the cursor goes
  const std::shared_ptr<const WriteTxnState> txn_;
  std::optional<btree::TreeCursor> cur_;
  uint64_t version_ = 0;
  bool valid_ = false;
  std::string key_;
  std::string value_;
  Status status_;
};

}  // namespace

std::unique_ptr<Cursor> NewSnapshotCursor(const pager::Snapshot* snap, uint32_t root,
                                          const btree::TickCounters* targets) {
  return std::make_unique<SnapshotCursor>(snap, root, targets);
}

namespace {

class ErrorCursor final : public Cursor {
 public:
  explicit ErrorCursor(Status error) : error_(std::move(error)) {}
  bool Valid() const override { return false; }
  void SeekToFirst() override {}
  void SeekToLast() override {}
  void Seek(std::string_view) override {}
  void Next() override {}
  void Prev() override {}
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  Status status() const override { return error_; }

 private:
  const Status error_;
};

}  // namespace

std::unique_ptr<Cursor> NewErrorCursor(Status error) {
  return std::make_unique<ErrorCursor>(std::move(error));
}

std::unique_ptr<Cursor> NewWriteCursor(btree::BTreeWriter* writer, uint32_t page_size,
                                       const btree::TickCounters* targets,
                                       std::shared_ptr<const WriteTxnState> state) {
  return std::make_unique<WriteCursor>(writer, page_size, targets, std::move(state));
}

}  // namespace sombra::db
