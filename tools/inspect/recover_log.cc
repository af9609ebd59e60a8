// recover: the log FILE-wal read without the pager, for a page file whose
// meta pages give the pager nothing to start from (docs/tools.md,
// "recover"). Every committed transaction of the valid prefix is replayed
// into memory as recovery would replay it (docs/format/wal.md, "Recovery",
// step 3): an image replaces the page, a delta or page ops apply on the
// page at their base LSN (the log's earlier version, else the file's valid
// page at that LSN, else the double-write file's copy of it,
// docs/format/dwb.md). Nothing is written.
#include <cstring>

#include "inspect/recover.h"
#include "pager/double_write.h"
#include "pager/format.h"
#include "util/coding.h"
#include "wal/wal_page_ops.h"
#include "wal/wal_reader.h"

namespace sombra::inspect::recover {

// One record of a transaction whose commit has not been read yet.
struct TxnRecord {
  wal::RecordType type = wal::RecordType::kInvalid;
  uint32_t page_no = 0;
  uint64_t base_lsn = 0;
  uint64_t new_lsn = 0;
  std::string page;                                      // image
  std::vector<std::pair<uint32_t, std::string>> ranges;  // delta
  std::string ops;                                       // page ops (checked by the reader)
};

namespace {

TxnRecord CopyRecord(const wal::Record& rec) {
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
  return r;
}

// Opens the reader on the header as checked or, when it is damaged, as
// stored (docs/format/wal.md, "Salvage"). "" when it opened; else why not.
std::string OpenReader(wal::WalReader* reader, LogSummary* log) {
  Status s = reader->Open();
  if (s.ok()) return "";
  if (s.IsNotFound()) return "the log is empty";
  log->damaged = true;
  const std::string why = s.message();
  s = reader->OpenAsStored();
  if (!s.ok()) return "the log's header is damaged (" + why + "), its fields unusable";
  log->note = "the log's header is damaged (" + why + "); read as stored; ";
  return "";
}

// Page `page_no` of the page file when it is valid; "" otherwise.
std::string ValidFilePage(File* file, uint32_t page_no, uint32_t page_size, uint64_t salt,
                          const std::string& path) {
  std::string page(page_size, '\0');
  size_t got = 0;
  const Status s = file->ReadAt(uint64_t{page_no} * page_size, page_size, page.data(), &got);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(page.data());
  if (!s.ok() || got != page_size || !pager::VerifyPage(p, page_size, page_no, salt, path).ok()) {
    return "";
  }
  return page;
}

// The double-write file's copy of page `page_no` at LSN `lsn`, when it has
// a valid one (a checkpoint that did not complete may have overwritten or
// torn the page file's); "" otherwise.
std::string DoubleWriteCopy(const std::string& path, uint32_t page_no, uint64_t lsn,
                            uint32_t page_size, uint64_t salt) {
  auto batch = pager::DoubleWriteBatch::Open(Env::Default(), path + "-dwb", page_size, salt);
  std::string page(page_size, '\0');
  uint8_t* p = reinterpret_cast<uint8_t*>(page.data());
  if (!batch.ok() || !(*batch)->ReadAtLsn(page_no, lsn, path, p)) return "";
  return page;
}

}  // namespace

bool PageSource::ApplyLogRecord(const TxnRecord& r) {
  const uint32_t ps = page_size();
  std::string& page = log_pages_[r.page_no];
  if (r.type == wal::RecordType::kPageImage) {
    page = r.page;
  } else {
    if (page.empty()) {
      page = ValidFilePage(file_.get(), r.page_no, ps, salt(), path_);
      if (page.size() != ps || DecodeFixed64(reinterpret_cast<const uint8_t*>(page.data()) +
                                             pager::kHeaderLsnOffset) != r.base_lsn) {
        page = DoubleWriteCopy(path_, r.page_no, r.base_lsn, ps, salt());
      }
    }
    uint8_t* p = reinterpret_cast<uint8_t*>(page.data());
    if (page.size() != ps || DecodeFixed64(p + pager::kHeaderLsnOffset) != r.base_lsn) {
      if (page.empty()) log_pages_.erase(r.page_no);
      return false;
    }
    for (const auto& [offset, bytes] : r.ranges) {
      std::memcpy(p + offset, bytes.data(), bytes.size());
    }
    if (r.type == wal::RecordType::kPageOps) wal::ApplyPageOps(r.ops, p);
  }
  EncodeFixed64(reinterpret_cast<uint8_t*>(page.data()) + pager::kHeaderLsnOffset, r.new_lsn);
  return true;
}

Status PageSource::ReadLog() {
  Result<std::unique_ptr<File>> file =
      Env::Default()->OpenFile(path_ + "-wal", OpenMode::kReadOnly);
  if (!file.ok()) {
    log_.note = file.status().IsNotFound() ? "no log" : "log not read: " + file.status().message();
    return Status::OK();
  }
  wal::WalReader reader(file->get());
  if (std::string why = OpenReader(&reader, &log_); !why.empty()) {
    log_.note = why;
    return Status::OK();
  }
  const wal::WalHeader& h = reader.header();
  if (h.page_size != page_size() || h.db_salt != salt()) {
    log_.note += "the log belongs to another database (its page size or salt differ)";
    return Status::OK();
  }
  std::vector<TxnRecord> txn;
  wal::Record rec;
  std::optional<wal::CommitInfo> last;
  while (reader.Next(&rec)) {
    if (rec.type != wal::RecordType::kCommit) {
      txn.push_back(CopyRecord(rec));
      continue;
    }
    for (const TxnRecord& r : txn) log_.not_applied += ApplyLogRecord(r) ? 0 : 1;
    txn.clear();
    last = rec.commit;
    ++log_.transactions;
  }
  if (reader.stop_reason() == wal::StopReason::kIOError) return reader.status();
  for (auto& [page_no, bytes] : log_pages_) {
    pager::SealPage(reinterpret_cast<uint8_t*>(bytes.data()), page_size(), salt());
  }
  if (last) {
    roots_.push_back({"the log's last commit (LSN " + std::to_string(last->lsn) + ")", last->root,
                      last->catalog_root, last->page_count, last->lsn});
  }
  if (std::string why; h.has_base() && wal::CheckWalBase(h.base, &why)) {
    roots_.push_back({"the log header (checkpoint LSN " + std::to_string(h.start_lsn - 1) + ")",
                      h.base.root, h.base.catalog_root, h.base.page_count, h.start_lsn - 1});
  }
  log_.note += Plural(log_.transactions, "committed transaction", "committed transactions") +
               " read from the log (its valid prefix ends at offset " +
               std::to_string(reader.stop_offset()) + ": " +
               wal::StopReasonName(reader.stop_reason()) + ")";
  Result<wal::WalReader::ProbeResult> probe = reader.ProbePastStop();
  if (probe.ok() && probe->stop_was_durable) {
    log_.damaged = true;
    log_.note += "; a committed transaction after it is damaged and lost";
  }
  return Status::OK();
}

}  // namespace sombra::inspect::recover
