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

namespace {

using pager::TxnRecord;

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

std::string PageSource::PageBefore(uint32_t page_no, uint64_t lsn) {
  const uint32_t ps = page_size();
  const auto it = log_pages_.find(page_no);
  if (it != log_pages_.end() && !it->second.empty()) return it->second;
  std::string page = ValidFilePage(file_.get(), page_no, ps, salt(), path_);
  if (page.size() != ps || DecodeFixed64(reinterpret_cast<const uint8_t*>(page.data()) +
                                         pager::kHeaderLsnOffset) != lsn) {
    page = DoubleWriteCopy(path_, page_no, lsn, ps, salt());
  }
  return page;
}

bool PageSource::ApplyLogRecord(const TxnRecord& r, const pager::CopySources& sources) {
  const uint32_t ps = page_size();
  std::string& page = log_pages_[r.page_no];
  if (r.type == wal::RecordType::kPageImage) {
    page = r.page;
  } else {
    if (pager::OnZeros(r, log_version_)) {
      page.assign(ps, '\0');
    } else if (page.empty()) {
      page = PageBefore(r.page_no, r.base_lsn);
    }
    uint8_t* p = reinterpret_cast<uint8_t*>(page.data());
    if (page.size() != ps || DecodeFixed64(p + pager::kHeaderLsnOffset) != r.base_lsn) {
      if (page.empty()) log_pages_.erase(r.page_no);
      return false;
    }
    for (const auto& [offset, bytes] : r.ranges) {
      std::memcpy(p + offset, bytes.data(), bytes.size());
    }
    if (r.type == wal::RecordType::kPageOps && !pager::ApplyOps(r, ps, sources, p).ok()) {
      return false;
    }
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
  log_version_ = h.version;
  if (h.page_size != page_size() || h.db_salt != salt()) {
    log_.note += "the log belongs to another database (its page size or salt differ)";
    return Status::OK();
  }
  std::vector<TxnRecord> txn;
  pager::CopySources sources;
  std::optional<wal::CommitInfo> last;
  wal::CommitInfo commit;
  while (pager::NextTxn(&reader, &txn, &commit)) {
    // Copies read their source pages as they were before the transaction;
    // a source that cannot be kept leaves the records that copy from it
    // unapplied.
    (void)sources.Gather(txn, page_size(), [&](uint32_t page_no, uint64_t lsn, uint8_t* out) {
      const std::string page = PageBefore(page_no, lsn);
      if (page.size() != page_size()) return Status::Corruption("no page before");
      std::memcpy(out, page.data(), page.size());
      return Status::OK();
    });
    for (const TxnRecord& r : txn) log_.not_applied += ApplyLogRecord(r, sources) ? 0 : 1;
    last = commit;
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
