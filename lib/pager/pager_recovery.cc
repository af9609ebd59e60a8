// Recovery: replay the committed transactions of the log over the page file
// (docs/format/wal.md, "Recovery"), then checkpoint them (or, read-only,
// keep them in memory).
#include <cstring>
#include <unordered_map>

#include "pager/pager.h"
#include "util/coding.h"
#include "wal/wal_reader.h"

namespace sombra::pager {
namespace {

struct TxnRecord {
  wal::RecordType type;
  uint32_t page_no;
  uint64_t base_lsn;
  uint64_t new_lsn;
  std::string page;                                      // image
  std::vector<std::pair<uint32_t, std::string>> ranges;  // delta
};

}  // namespace

Status Pager::Recover() {
  const Meta& meta = file_->durable_meta();
  committed_ = TreeState{meta.checkpoint_lsn, meta.root, meta.page_count, meta.freelist_head,
                         meta.freelist_count};
  durable_lsn_ = meta.checkpoint_lsn;
  checkpoint_lsn_ = meta.checkpoint_lsn;
  uint64_t generation = 0;
  std::unordered_map<uint32_t, std::unique_ptr<uint8_t[]>> pages;  // newest content
  const uint32_t ps = page_size();

  auto log = env_->OpenFile(wal_path_, OpenMode::kReadOnly);
  if (!log.ok() && !log.status().IsNotFound()) return log.status();
  if (log.ok()) {
    wal::WalReader reader(log->get());
    Status opened = reader.Open();
    if (opened.IsNotSupported() || opened.IsIOError()) return opened;
    const bool usable =
        opened.ok() && reader.header().db_salt == file_->salt() && reader.header().page_size == ps;
    if (opened.ok()) generation = reader.header().generation;
    if (usable && reader.header().start_lsn > committed_.lsn + 1) {
      return Status::Corruption(
          "log " + wal_path_ + " starts at LSN " + std::to_string(reader.header().start_lsn) +
          " but the page file holds only up to LSN " + std::to_string(committed_.lsn) +
          ": the page file is older than its log (transactions in between are missing)");
    }
    if (usable) {
      std::vector<TxnRecord> txn;
      wal::Record rec;
      while (reader.Next(&rec)) {
        if (rec.type == wal::RecordType::kPageImage) {
          txn.push_back(
              TxnRecord{rec.type, rec.page_no, 0, rec.page_lsn, std::string(rec.page), {}});
          continue;
        }
        if (rec.type == wal::RecordType::kPageDelta) {
          TxnRecord r{rec.type, rec.page_no, rec.base_lsn, rec.new_lsn, {}, {}};
          for (const auto& range : rec.ranges) r.ranges.emplace_back(range.offset, range.bytes);
          txn.push_back(std::move(r));
          continue;
        }
        // A valid commit: apply the transaction unless the file has it.
        const wal::CommitInfo& c = rec.commit;
        if (c.lsn > committed_.lsn) {
          for (TxnRecord& r : txn) {
            auto& buf = pages[r.page_no];
            if (r.type == wal::RecordType::kPageImage) {
              buf.reset(new uint8_t[ps]);
              std::memcpy(buf.get(), r.page.data(), ps);
              imaged_.insert(r.page_no);
            } else {
              if (buf == nullptr) {
                return Status::Corruption("log " + wal_path_ + ": delta for page " +
                                          std::to_string(r.page_no) + " in transaction " +
                                          std::to_string(c.lsn) +
                                          " has no page image since the checkpoint");
              }
              uint64_t have = DecodeFixed64(buf.get() + kHeaderLsnOffset);
              if (have != r.base_lsn) {
                return Status::Corruption("log " + wal_path_ + ": delta for page " +
                                          std::to_string(r.page_no) + " applies on LSN " +
                                          std::to_string(r.base_lsn) + ", the page has LSN " +
                                          std::to_string(have));
              }
              for (const auto& [offset, bytes] : r.ranges) {
                std::memcpy(buf.get() + offset, bytes.data(), bytes.size());
              }
            }
            EncodeFixed64(buf.get() + kHeaderLsnOffset, r.new_lsn);
            recovery_.records_replayed++;
          }
          committed_ = TreeState{c.lsn, c.root, c.page_count, c.freelist_head, c.freelist_count};
          recovery_.transactions_replayed++;
          recovery_.records_replayed++;  // the commit record
        }
        txn.clear();
      }
      if (reader.stop_reason() == wal::StopReason::kIOError) return reader.status();
      recovery_.bytes_discarded = reader.valid_end_offset() - reader.committed_end_offset();
      recovery_.stop = reader.stop_detail();
      const auto reason = reader.stop_reason();
      if (reason != wal::StopReason::kEndOfLog && reason != wal::StopReason::kTruncated) {
        SOMBRA_ASSIGN_OR_RETURN(auto probe, reader.ProbePastStop());
        if (probe.stop_was_durable && !pager_options_.salvage_wal) {
          return reader.StopAsCorruption().WithContext(
              "a committed transaction of the log is damaged (open with salvage to keep the "
              "valid prefix)");
        }
      }
    }
  }
  recovery_records_->Add(recovery_.records_replayed);
  recovery_bytes_discarded_->Add(recovery_.bytes_discarded);

  {
    std::lock_guard<std::mutex> lock(version_mu_);
    for (auto& [page_no, buf] : pages) {
      uint64_t lsn = DecodeFixed64(buf.get() + kHeaderLsnOffset);
      versions_.Push(page_no, std::make_unique<PageVersion>(lsn, std::move(buf)));
    }
  }
  published_ = committed_;
  durable_lsn_ = committed_.lsn;
  if (read_only()) return Status::OK();
  SOMBRA_RETURN_IF_ERROR(file_->EnsureCapacity(committed_.page_count));
  if (recovery_.transactions_replayed > 0) {
    // The recovered state goes to the page file before the log is reused.
    std::lock_guard<std::mutex> slot(writer_mu_);
    SOMBRA_RETURN_IF_ERROR(CheckpointLocked());
  }
  return OpenLog(generation + 1);
}

}  // namespace sombra::pager
