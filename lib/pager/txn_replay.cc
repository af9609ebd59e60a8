#include "pager/txn_replay.h"

#include <algorithm>

#include "pager/format.h"
#include "util/coding.h"
#include "wal/wal_format.h"

namespace sombra::pager {

TxnRecord RecordOf(const wal::Record& rec) {
  TxnRecord r;
  r.type = rec.type;
  r.page_no = rec.page_no;
  if (rec.type == wal::RecordType::kPageImage) {
    r.new_lsn = rec.page_lsn;
    r.page.assign(rec.page);
    return r;
  }
  r.base_lsn = rec.base_lsn;
  r.new_lsn = rec.new_lsn;
  for (const wal::DeltaRange& d : rec.ranges) r.ranges.emplace_back(d.offset, std::string(d.bytes));
  r.ops.assign(rec.ops);
  r.copies = rec.copies;
  return r;
}

bool NextTxn(wal::WalReader* reader, std::vector<TxnRecord>* txn, wal::CommitInfo* commit) {
  txn->clear();
  wal::Record rec;
  while (reader->Next(&rec)) {
    if (rec.type == wal::RecordType::kCommit) {
      *commit = rec.commit;
      return true;
    }
    txn->push_back(RecordOf(rec));
  }
  return false;
}

Status CopySources::Gather(const std::vector<TxnRecord>& txn, uint32_t page_size,
                           const BeforeFn& before) {
  pages_.clear();
  std::vector<uint32_t> wanted;
  for (const TxnRecord& r : txn) {
    if (!r.copies) continue;  // the reader flags page ops holding copies
    wal::ForEachCopySource(r.ops, page_size, [&](uint32_t p) { wanted.push_back(p); });
  }
  if (wanted.empty()) return Status::OK();
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  for (uint32_t page_no : wanted) {
    const auto own = std::find_if(txn.begin(), txn.end(), [&](const TxnRecord& r) {
      return r.page_no == page_no && r.type != wal::RecordType::kPageImage;
    });
    const uint64_t lsn = txn.empty() ? 0 : txn.front().new_lsn;
    if (own == txn.end() || own->base_lsn == 0) {
      return Status::Corruption("transaction " + std::to_string(lsn) + " copies from page " +
                                std::to_string(page_no) +
                                ", which it logs with no delta or page ops on an earlier state");
    }
    PageBuffer buf = NewPageBuffer(page_size);
    SOMBRA_RETURN_IF_ERROR(before(page_no, own->base_lsn, buf.get()));
    const uint64_t have = DecodeFixed64(buf.get() + kHeaderLsnOffset);
    if (have != own->base_lsn) {
      return Status::Corruption("transaction " + std::to_string(lsn) + " copies from page " +
                                std::to_string(page_no) + " at LSN " +
                                std::to_string(own->base_lsn) + ", but the page has LSN " +
                                std::to_string(have));
    }
    pages_.emplace(page_no, std::move(buf));
  }
  return Status::OK();
}

const uint8_t* CopySources::Find(uint32_t page_no) const {
  const auto it = pages_.find(page_no);
  return it == pages_.end() ? nullptr : it->second.get();
}

wal::CopySourceFn CopySources::AsFn() const {
  return [this](uint32_t page_no) { return Find(page_no); };
}

bool OnZeros(const TxnRecord& r, uint32_t log_version) {
  return r.type == wal::RecordType::kPageOps && r.base_lsn == 0 && wal::AllowsCopies(log_version);
}

Status ApplyOps(const TxnRecord& r, uint32_t page_size, const CopySources& sources, uint8_t* page) {
  if (wal::ApplyPageOps(r.ops, page_size, page, sources.AsFn())) return Status::OK();
  return Status::Corruption("page ops of page " + std::to_string(r.page_no) + " in transaction " +
                            std::to_string(r.new_lsn) +
                            " copy from a page the transaction does not log");
}

}  // namespace sombra::pager
