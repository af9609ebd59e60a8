// btree/write_sink.h: what the files of BTreeWriter share (btree_write.cc,
// btree_append.cc): the sink that tells the pager each edit of a page, and
// the key and value check of Put and Append.
#pragma once

#include <cstdint>
#include <string_view>

#include "btree/btree.h"
#include "pager/pager_txn.h"

namespace sombra::btree {

// Reports a page's edits to its transaction, which logs them as page ops
// or a delta (pager/pager_txn.h, NoteWrite and NoteMove).
class BTreeWriter::Sink final : public ChangeSink {
 public:
  // A page logged whole needs no notes (PagerTxn::LoggedWhole, asked once:
  // it stays true): an Append into a leaf this transaction made, or any
  // edit of a page first touched since the checkpoint, notes nothing.
  Sink(pager::PagerTxn* txn, uint32_t page_no)
      : txn_(txn), page_no_(page_no), whole_(txn->LoggedWhole(page_no)) {}
  void Changed(uint32_t offset, uint32_t length) override {
    if (!whole_) txn_->NoteWrite(page_no_, offset, length);
  }
  void Moved(uint32_t src, uint32_t dst, uint32_t length) override {
    if (!whole_) txn_->NoteMove(page_no_, src, dst, length);
  }
  // Record bytes written from the page CopyFrom names are logged as copies
  // from it (PagerTxn::NoteCopy), others as writes.
  void Copied(uint32_t offset, std::string_view from) override {
    if (whole_) return;
    const auto length = static_cast<uint32_t>(from.size());
    const auto at = reinterpret_cast<uintptr_t>(from.data());
    if (src_bytes_ != 0 && at >= src_bytes_ && at - src_bytes_ + length <= txn_->page_size()) {
      txn_->NoteCopy(page_no_, offset, src_page_, static_cast<uint32_t>(at - src_bytes_), length);
    } else {
      txn_->NoteWrite(page_no_, offset, length);
    }
  }
  // Records read from `page` (the bytes of page `page_no` as the
  // transaction read them: its last commit's or its own copy) are copies
  // from that page: a share's receiver.
  void CopyFrom(uint32_t page_no, const uint8_t* page) {
    src_page_ = page_no;
    src_bytes_ = reinterpret_cast<uintptr_t>(page);
  }

 private:
  pager::PagerTxn* txn_;
  uint32_t page_no_;
  bool whole_;
  uint32_t src_page_ = 0;
  uintptr_t src_bytes_ = 0;
};

// Put's and Append's REQUIRES (btree.h): key and value within
// sombra/limits.h; asserted, and the key's check stays on in release
// builds (btree_write.cc says why).
Status PutRequires(std::string_view key, std::string_view value, uint32_t page_size);

}  // namespace sombra::btree
