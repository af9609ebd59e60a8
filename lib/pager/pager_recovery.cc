// Recovery: replay the committed transactions of the log over the page file
// (docs/format/wal.md, "Recovery"), then checkpoint them (or, read-only,
// keep them in memory).
#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "pager/double_write.h"
#include "pager/pager.h"
#include "pager/txn_replay.h"
#include "util/coding.h"
#include "wal/wal_page_ops.h"
#include "wal/wal_reader.h"

namespace sombra::pager {
namespace {

// Loads the page a delta that is its page's first record applies on: page
// `page_no` at LSN `lsn`, into `out`.
using FileBaseFn = std::function<Status(uint32_t page_no, uint64_t lsn, uint8_t* out)>;

// The meta page in force is the older of the two when the newer one is
// damaged. A log started from a newer meta tells (its start LSN is above
// the older meta's checkpoint LSN + 1); without such a log, a page of the
// file carrying an LSN above the checkpoint LSN does: it was written by a
// checkpoint whose meta page is the damaged one. Corruption naming the
// damaged meta page then; OK when nothing says the valid meta is stale.
Status CheckMetaNotStale(const PageFile& file, const std::string& wal_path) {
  const Status& other = file.other_meta_status();
  if (other.ok()) return Status::OK();
  const Meta& meta = file.durable_meta();
  const uint32_t ps = file.page_size();
  std::shared_ptr<const MappedRegion> region = file.Pin();
  // Every page of the file: a read-only handle maps only the pages the
  // (possibly stale) meta counts, so the rest are read.
  const uint64_t mapped = std::min<uint64_t>(region->size(), file.file_size()) / ps;
  const uint64_t pages = file.file_size() / ps;
  std::vector<uint8_t> buf(ps);
  for (uint64_t n = kFirstDataPage; n < pages && n <= UINT32_MAX; ++n) {
    const uint8_t* page = buf.data();
    if (n < mapped) {
      page = region->data() + n * ps;
    } else {
      SOMBRA_RETURN_IF_ERROR(file.ReadUnmapped(n, buf.data()));
    }
    const uint64_t lsn = DecodeFixed64(page + kHeaderLsnOffset);
    if (lsn <= meta.checkpoint_lsn) continue;
    if (!VerifyPage(page, ps, static_cast<uint32_t>(n), file.salt(), file.path()).ok()) continue;
    return Status::Corruption(
        "meta page " + std::to_string(1 - file.durable_meta_slot()) + " of " + file.path() +
        " is damaged (" + other.message() + ") and page " + std::to_string(n) + " carries LSN " +
        std::to_string(lsn) + ", newer than the checkpoint LSN " +
        std::to_string(meta.checkpoint_lsn) + " of meta page " +
        std::to_string(file.durable_meta_slot()) +
        ": the damaged meta page was the one in force, and the older one would serve stale "
        "data (no log " +
        wal_path + " tells the newer state)");
  }
  return Status::OK();
}

// The log header's copy of the meta page its generation starts from, when
// it can stand in for the damaged meta page in force: a format-2 header,
// the other meta page damaged, the copy's sequence newer than the valid
// meta's and in the damaged page's slot, and its pages inside the file.
std::optional<Meta> BaseMetaFromLog(const PageFile& file, const wal::WalHeader& h) {
  if (!h.has_base()) return std::nullopt;
  Meta m = file.durable_meta();
  m.page_count = h.base.page_count;
  m.root = h.base.root;
  m.freelist_head = h.base.freelist_head;
  m.freelist_count = h.base.freelist_count;
  m.checkpoint_seq = h.base.checkpoint_seq;
  m.catalog_root = h.base.catalog_root;
  m.checkpoint_lsn = h.start_lsn - 1;
  if (!file.CanRestoreMeta(m)) return std::nullopt;
  return m;
}

// Replay of one record of a committed transaction (docs/format/wal.md,
// "Recovery", step 3) on `buf`, the page as the previous change left it: an
// image replaces the page, a delta applies on the LSN it names; then the
// page carries the record's LSN. A delta that is a page's first record
// applies on the page as the page file held it at the checkpoint, loaded
// by `file_base` (null: the log's format does not allow it); page ops of
// base LSN 0 apply on zeros (formats 12 and 13). Copies read `sources`. Beside a live writer
// (`live`) a delta that does not fit gets a short message: the caller reads the log again.
Status ApplyRecord(const TxnRecord& r, uint64_t txn_lsn, uint32_t ps, const std::string& wal_path,
                   bool live, uint32_t log_version, const FileBaseFn& file_base,
                   const CopySources& sources, PageBuffer* page) {
  auto& buf = *page;
  if (r.type == wal::RecordType::kPageImage) {
    buf = NewPageBuffer(ps);
    std::memcpy(buf.get(), r.page.data(), ps);
  } else {
    if (OnZeros(r, log_version)) {
      buf = NewPageBuffer(ps);
      std::memset(buf.get(), 0, ps);
    }
    if (buf == nullptr && file_base) {
      buf = NewPageBuffer(ps);
      Status s = file_base(r.page_no, r.base_lsn, buf.get());
      if (!s.ok()) {
        buf.reset();
        if (live) return Status::Corruption("a delta on a page being rewritten");
        return s;
      }
    }
    if (buf == nullptr) {
      if (live) return Status::Corruption("a delta without its image");
      return Status::Corruption(
          "log " + wal_path + ": delta for page " + std::to_string(r.page_no) + " in transaction " +
          std::to_string(txn_lsn) + " has no page image since the checkpoint");
    }
    uint64_t have = DecodeFixed64(buf.get() + kHeaderLsnOffset);
    if (have != r.base_lsn) {
      if (live) return Status::Corruption("a delta on another LSN");
      return Status::Corruption(
          "log " + wal_path + ": delta for page " + std::to_string(r.page_no) + " applies on LSN " +
          std::to_string(r.base_lsn) + ", the page has LSN " + std::to_string(have));
    }
    for (const auto& [offset, bytes] : r.ranges) {
      std::memcpy(buf.get() + offset, bytes.data(), bytes.size());
    }
    if (r.type == wal::RecordType::kPageOps) {
      SOMBRA_RETURN_IF_ERROR(ApplyOps(r, ps, sources, buf.get()));
    }
  }
  EncodeFixed64(buf.get() + kHeaderLsnOffset, r.new_lsn);
  return Status::OK();
}

// A page as replay holds it before the transaction: its newest replayed
// content, else (a log of format 8 or later) the page file's at `lsn`.
Status PageBefore(const std::unordered_map<uint32_t, PageBuffer>& pages, uint32_t ps,
                  const FileBaseFn& file_base, uint32_t page_no, uint64_t lsn, uint8_t* out) {
  const auto it = pages.find(page_no);
  if (it != pages.end() && it->second != nullptr) {
    std::memcpy(out, it->second.get(), ps);
    return Status::OK();
  }
  if (file_base) return file_base(page_no, lsn, out);
  return Status::Corruption("page " + std::to_string(page_no) +
                            " has no image since the checkpoint");
}

}  // namespace

// What reading the log found, for the steps after it.
struct Pager::Replay {
  // Read-only beside a live writer (docs/design/readers.md): the log is
  // being appended to and may restart under the reading, so where it stops
  // is its tail, not damage, and anything that looks like damage is read
  // again (Busy tells OpenFollower to retry).
  bool live = false;
  uint64_t generation = 0;
  std::unordered_map<uint32_t, PageBuffer> pages;  // newest content
  bool log_vouches_for_meta = false;               // a log started from this meta (or an older one)
  bool salvaged = false;                           // damage past a torn tail was dropped (salvage)
  std::optional<Meta> restore;                     // the log's copy of a damaged meta page in force
  // The double-write batch (docs/format/dwb.md): copies of pages as the
  // page file held them before the last checkpoint that wrote any.
  std::unique_ptr<DoubleWriteBatch> dwb;
  std::unique_ptr<wal::WalReader> last_reader;  // the reading that stood
};

// Recovery (docs/format/wal.md, "Recovery"): step 1, the meta page, was
// read at open; steps 2-4 read the log (ReadLog); step 5 checkpoints what
// was replayed (CheckpointRecovered) or, read-only, keeps it in memory.
Status Pager::Recover() {
  const Meta& meta = file_->durable_meta();
  Replay r;
  r.live = read_only() && table_ != nullptr && table_->WriterAlive();
  if (r.live) saw_live_writer_ = true;
  if (!read_only() && env_->FileExists(wal_path_ + ".carry")) {
    // A compacted log that a crash kept from replacing the log: the log
    // it was made from is whole (docs/design/readers.md).
    SOMBRA_RETURN_IF_ERROR(env_->RemoveFile(wal_path_ + ".carry"));
  }
  auto log = env_->OpenFile(wal_path_, OpenMode::kReadOnly);
  if (!log.ok() && !log.status().IsNotFound()) return log.status();
  if (log.ok()) {
    SOMBRA_RETURN_IF_ERROR(ReadLog(log->get(), &r));
  } else {
    committed_ = StateOfMeta(meta);
  }
  if (!r.log_vouches_for_meta) SOMBRA_RETURN_IF_ERROR(CheckMetaNotStale(*file_, wal_path_));
  recovery_records_->Add(recovery_.records_replayed);
  recovery_bytes_discarded_->Add(recovery_.bytes_discarded);

  {
    std::lock_guard<std::mutex> lock(version_mu_);
    for (auto& [page_no, buf] : r.pages) {
      uint64_t lsn = DecodeFixed64(buf.get() + kHeaderLsnOffset);
      versions_->Push(page_no, std::make_unique<PageVersion>(lsn, std::move(buf)));
    }
  }
  published_ = committed_;
  durable_lsn_ = committed_.lsn;
  if (read_only()) {
    // The follower goes on from where this reading stopped.
    if (r.last_reader != nullptr) {
      follow_log_ = std::move(*log);
      follow_reader_ = std::move(r.last_reader);
    }
    return Status::OK();
  }
  return CheckpointRecovered(&r);
}

Status Pager::LogChanged(const Status& s) const {
  return Status::Busy("log " + wal_path_ + " changed while it was read (" + s.message() + ")");
}

// An I/O error of a follower is a race, not a failure, when the log
// changed size under the reading (a clean close truncates it, a
// checkpoint restarts it) or a writer holds the database now (it may
// have come after `live` was decided): OpenFollower reads again.
Status Pager::FollowerIoError(File* log, uint64_t size_seen, const Status& s, bool live) {
  if (!read_only() || table_ == nullptr) return s;
  auto now = log->Size();
  if (live || table_->WriterAlive() || !now.ok() || *now != size_seen) {
    saw_live_writer_ = saw_live_writer_ || table_->WriterAlive();
    return LogChanged(s);
  }
  return s;
}

// Steps 2-4: reads the log into r->pages and committed_; a Corruption
// verdict leaves every file untouched.
Status Pager::ReadLog(File* log, Replay* r) {
  committed_ = StateOfMeta(file_->durable_meta());
  r->pages.clear();
  r->dwb.reset();
  imaged_.clear();
  carried_.clear();
  recovery_ = RecoveryStats{};
  r->salvaged = false;
  r->restore.reset();
  r->log_vouches_for_meta = false;
  auto reader = std::make_unique<wal::WalReader>(log);
  bool replay = false;
  SOMBRA_RETURN_IF_ERROR(ReadLogHeader(log, reader.get(), r, &replay));
  if (!replay) return Status::OK();
  r->log_vouches_for_meta = true;
  SOMBRA_RETURN_IF_ERROR(LoadDoubleWrite(r));
  SOMBRA_RETURN_IF_ERROR(ReplayLog(reader.get(), r));
  SOMBRA_RETURN_IF_ERROR(JudgeStop(log, reader.get(), r));
  r->last_reader = std::move(reader);
  return Status::OK();
}

// Step 2, the log header. *replay is false when there is no log to replay
// (none, a torn header, another database's log).
Status Pager::ReadLogHeader(File* log, wal::WalReader* reader, Replay* r, bool* replay) {
  *replay = false;
  Status opened = reader->Open();
  if (opened.IsCorruption() && r->live) return LogChanged(opened);
  if (opened.IsIOError()) return FollowerIoError(log, reader->file_size(), opened, r->live);
  if (opened.IsNotSupported()) return opened;
  if (opened.IsCorruption()) {
    SOMBRA_RETURN_IF_ERROR(JudgeDamagedHeader(reader, &opened, r));
    if (!opened.ok()) return Status::OK();  // a torn header: no log to replay
  }
  if (!opened.ok()) return Status::OK();  // NotFound: an empty log
  r->generation = reader->header().generation;
  const bool usable =
      reader->header().db_salt == file_->salt() && reader->header().page_size == page_size();
  if (!usable) return Status::OK();  // another database's log
  SOMBRA_RETURN_IF_ERROR(CheckLogStart(*reader, r));
  *replay = true;
  return Status::OK();
}

// Step 2, a damaged header (H2-H7 failed; docs/format/wal.md, "A damaged
// header"). A crash during the log's restart can tear its header, but then
// every record behind it is already in the page file: a damaged header
// followed by committed transactions the page file lacks is damage, not
// "no log". *opened becomes OK when salvage replays what still chains from
// the header's fields as stored.
Status Pager::JudgeDamagedHeader(wal::WalReader* reader, Status* opened, Replay* r) {
  bool intact = false;
  SOMBRA_ASSIGN_OR_RETURN(
      auto probe, reader->ProbeBehindDamagedHeader(page_size(), committed_.lsn + 1, &intact));
  if (!probe.stop_was_durable && !intact) return Status::OK();
  const uint64_t at = intact ? probe.first_commit_offset : probe.max_durable_offset;
  const std::string evidence =
      intact ? "the records from offset " + std::to_string(reader->header().size()) +
                   " chain, seeded with its salt, to a commit of LSN " +
                   std::to_string(*probe.first_commit_lsn) + " at offset " + std::to_string(at)
             : "a commit at offset " + std::to_string(at) + " records LSN " +
                   std::to_string(*probe.max_durable_lsn) + " as durable";
  if (!pager_options_.salvage_wal) {
    return opened->WithContext(
        "WAL " + wal_path_ + ": record 0 at offset 0 (the log header) is damaged, but " + evidence +
        ", beyond the page file's checkpoint LSN " + std::to_string(committed_.lsn) +
        ": committed transactions would be lost (open with salvage to drop them)");
  }
  // Salvage: replay what still chains from the header's fields as
  // stored, when they fit this page file; else nothing.
  r->salvaged = true;
  recovery_.stop = opened->message();
  if (!reader->OpenAsStored().ok() || reader->header().start_lsn > committed_.lsn + 1) {
    return Status::OK();
  }
  *opened = Status::OK();
  return Status::OK();
}

// Step 2, a log that starts past the page file's checkpoint LSN + 1: the
// damaged meta page was the one in force, and the log's copy of it stands
// in when it can; else Corruption naming both meta pages.
Status Pager::CheckLogStart(const wal::WalReader& reader, Replay* r) {
  if (reader.header().start_lsn > committed_.lsn + 1 && r->live) {
    // The writer restarted the log after this handle read the meta page.
    return LogChanged(Status::Corruption("the log starts past the meta page read"));
  }
  if (reader.header().start_lsn > committed_.lsn + 1) {
    // The meta page the log starts from is newer than the valid one: the
    // damaged meta page was the one in force. The log's copy of it
    // stands in when it is that page (docs/format/file.md, "Meta
    // redundancy").
    r->restore = BaseMetaFromLog(*file_, reader.header());
    if (r->restore) {
      committed_ = StateOfMeta(*r->restore);
      recovery_.meta_from_log = true;
    }
  }
  if (reader.header().start_lsn <= committed_.lsn + 1) return Status::OK();
  const uint32_t slot = file_->durable_meta_slot();
  const Status& other = file_->other_meta_status();
  return Status::Corruption(
      "log " + wal_path_ + " starts at LSN " + std::to_string(reader.header().start_lsn) +
      " but the page file holds only up to LSN " + std::to_string(committed_.lsn) + " (meta page " +
      std::to_string(slot) + ", the only valid one" +
      (other.ok() ? "" : "; meta page " + std::to_string(1 - slot) + ": " + other.message()) +
      "): " +
      (other.ok() ? "the page file is older than its log (transactions in between are missing)"
                  : "the damaged meta page " + std::to_string(1 - slot) +
                        " was the one in force, the older one would serve stale data, and "
                        "the log holds no usable copy of it"));
}

// Step 3, replay: every transaction whose commit record is valid, unless
// the page file has it (LSN <= the checkpoint LSN).
Status Pager::ReplayLog(wal::WalReader* reader, Replay* r) {
  const uint32_t ps = page_size();
  FileBaseFn file_base;
  if (wal::AllowsFileBases(reader->header().version)) {
    file_base = [this, r](uint32_t page_no, uint64_t lsn, uint8_t* out) {
      return FileBase(*r, page_no, lsn, out);
    };
  }
  std::vector<TxnRecord> txn;
  CopySources sources;
  wal::CommitInfo c;
  while (NextTxn(reader, &txn, &c)) {
    // A valid commit: apply the transaction unless the file has it.
    if (c.lsn > committed_.lsn) {
      Status kept = sources.Gather(txn, ps, [&](uint32_t page_no, uint64_t lsn, uint8_t* out) {
        return PageBefore(r->pages, ps, file_base, page_no, lsn, out);
      });
      if (!kept.ok()) {
        kept = kept.WithContext("log " + wal_path_);
        return r->live ? LogChanged(kept) : kept;
      }
      for (const TxnRecord& t : txn) {
        Status s = ApplyRecord(t, c.lsn, ps, wal_path_, r->live, reader->header().version,
                               file_base, sources, &r->pages[t.page_no]);
        if (!s.ok()) return r->live ? LogChanged(s) : s;
        imaged_.insert(t.page_no);
        recovery_.records_replayed++;
      }
      committed_ = StateOfCommit(c);
      recovery_.transactions_replayed++;
      recovery_.records_replayed++;  // the commit record
    }
  }
  return Status::OK();
}

// Before replay (docs/format/dwb.md, "Recovery"). A checkpoint copies the
// pages it is about to overwrite, as the page file holds them, into the
// double-write file and syncs it first. When its target LSN is past the
// meta's checkpoint LSN, the checkpoint did not complete: some of those
// pages may be new, old or torn in the page file. A writable handle puts
// every one back as the copy has it (then syncs), so the page file is the
// checkpoint's state again, page for page, before the log is replayed on
// it (and before the recovery's own checkpoint rewrites the double-write
// file). A read-only handle keeps the batch: FileBase takes its copies.
// A batch that fails its header checks was torn while written, before any
// page was overwritten in place: nothing to put back.
Status Pager::LoadDoubleWrite(Replay* r) {
  auto batch = DoubleWriteBatch::Open(env_, path() + "-dwb", page_size(), file_->salt());
  if (!batch.ok()) {
    if (batch.status().IsIOError()) return batch.status();
    return Status::OK();  // missing, or torn while written
  }
  r->dwb = std::move(*batch);
  const DwbHeader& h = r->dwb->header();
  const uint64_t checkpoint_lsn = committed_.lsn;
  if (read_only() || h.from_lsn != checkpoint_lsn || h.to_lsn <= checkpoint_lsn) {
    return Status::OK();  // its checkpoint completed, or nothing to write
  }
  // A batch cut short (the header names a checksum of every copy) was
  // never synced, so its checkpoint wrote nothing in place.
  Status whole = r->dwb->CheckCopies();
  if (whole.IsIOError()) return whole;
  if (!whole.ok()) return Status::OK();
  const uint32_t ps = page_size();
  std::vector<uint8_t> copy(ps), now(ps);
  uint64_t restored = 0;
  for (uint32_t page_no : h.pages) {
    if (!r->dwb->Read(page_no, copy.data()) ||
        !VerifyPage(copy.data(), ps, page_no, file_->salt(), path()).ok() ||
        DecodeFixed64(copy.data() + kHeaderLsnOffset) > checkpoint_lsn) {
      continue;  // not a copy this batch wrote whole: nothing to put back
    }
    SOMBRA_RETURN_IF_ERROR(file_->ReadUnmapped(page_no, now.data()));
    if (std::memcmp(copy.data(), now.data(), ps) == 0) continue;
    SOMBRA_RETURN_IF_ERROR(file_->EnsureCapacity(uint64_t{page_no} + 1));
    SOMBRA_RETURN_IF_ERROR(file_->WritePage(page_no, copy.data()));
    ++restored;
  }
  if (restored > 0) SOMBRA_RETURN_IF_ERROR(file_->SyncData());
  recovery_.pages_restored = restored;
  return Status::OK();
}

Status Pager::FileBase(const Replay& r, uint32_t page_no, uint64_t lsn, uint8_t* out) const {
  const uint32_t ps = page_size();
  SOMBRA_RETURN_IF_ERROR(file_->ReadUnmapped(page_no, out));
  Status in_file = VerifyPage(out, ps, page_no, file_->salt(), path());
  uint64_t have = DecodeFixed64(out + kHeaderLsnOffset);
  if (in_file.ok() && have == lsn) return in_file;
  // A page of the page file identifies its content by its page number and
  // LSN (the checksum covers both): a copy with the same is the same page.
  if (r.dwb != nullptr && r.dwb->ReadAtLsn(page_no, lsn, path(), out)) return Status::OK();
  return Status::Corruption("log " + wal_path_ + ": a delta for page " + std::to_string(page_no) +
                            " applies on the page file's page at LSN " + std::to_string(lsn) +
                            ", but the page file " +
                            (in_file.ok() ? "holds it at LSN " + std::to_string(have)
                                          : "holds it damaged (" + in_file.message() + ")") +
                            " and the double-write file " + path() + "-dwb has no copy of it");
}

// Step 4, judge the stop: a torn tail is dropped; damage behind which a
// later commit records the damaged transaction as durable is Corruption
// (unless salvaging). Beside a live writer the stop is its tail.
Status Pager::JudgeStop(File* log, wal::WalReader* reader, Replay* r) {
  if (reader->stop_reason() == wal::StopReason::kIOError) {
    return FollowerIoError(log, reader->file_size(), reader->status(), r->live);
  }
  recovery_.bytes_discarded = reader->valid_end_offset() - reader->committed_end_offset();
  recovery_.stop = reader->stop_detail();
  if (r->live) {
    // The stop is the writer's tail. What was read stands only if the
    // log was not restarted meanwhile (its header unchanged).
    wal::WalReader again(log);
    Status reopened = again.Open();
    if (!reopened.ok() || again.header().salt != reader->header().salt ||
        again.header().generation != reader->header().generation) {
      return LogChanged(Status::Corruption("the log was restarted"));
    }
    return Status::OK();
  }
  SOMBRA_ASSIGN_OR_RETURN(auto probe, reader->ProbePastStop());
  if (probe.stop_was_durable) {
    if (!pager_options_.salvage_wal) {
      return reader->StopAsCorruption().WithContext(
          "a committed transaction of the log is damaged: the commit at offset " +
          std::to_string(probe.max_durable_offset) + " records LSN " +
          std::to_string(*probe.max_durable_lsn) +
          " as durable (open with salvage to keep the valid prefix)");
    }
    r->salvaged = true;
  }
  return Status::OK();
}

// Step 5, writable: the recovered state goes to the page file, then the log
// restarts as a new generation (continues, when readers elsewhere put the
// checkpoint off).
Status Pager::CheckpointRecovered(Replay* r) {
  if (r->restore) {
    // Heal the damaged meta page before anything else is written: from here
    // on the page file describes itself again.
    SOMBRA_RETURN_IF_ERROR(file_->RestoreMeta(*r->restore));
  }
  SOMBRA_RETURN_IF_ERROR(file_->EnsureCapacity(committed_.page_count));
  if (recovery_.transactions_replayed > 0) {
    // The recovered state goes to the page file before the log is reused.
    std::lock_guard<std::mutex> slot(writer_mu_);
    SOMBRA_RETURN_IF_ERROR(CheckpointLocked());
    if (file_->durable_meta().checkpoint_lsn != committed_.lsn) return ResumeLog(*r);
  }
  if (r->salvaged) {
    // The damaged log keeps transactions beyond the valid prefix whose LSNs
    // the new generation will reuse: it is kept aside, never behind a new
    // header (docs/format/wal.md, "Salvage").
    SOMBRA_RETURN_IF_ERROR(env_->RenameFile(wal_path_, wal_path_ + ".salvaged"));
  }
  return OpenLog(r->generation + 1);
}

// Step 5, put off: a reader elsewhere still reads an older state from the
// page file (docs/design/readers.md), so the log cannot restart: it goes on
// after its last committed record. REQUIRES: writer slot held.
Status Pager::ResumeLog(const Replay& r) {
  if (r.salvaged || r.last_reader == nullptr) {
    return Status::Busy("database " + path() +
                        ": cannot salvage its log while readers in other processes read "
                        "an older state (retry once they have closed)");
  }
  const wal::WalHeader header = r.last_reader->header();
  wal_generation_ = header.generation;
  SOMBRA_ASSIGN_OR_RETURN(
      std::unique_ptr<wal::WalWriter> wal,
      wal::WalWriter::Resume(env_, wal_path_, header, r.last_reader->committed_end_offset(),
                             r.last_reader->committed_checksum(), metrics_));
  {
    std::lock_guard<std::mutex> lock(wal_mu_);
    wal_ = std::move(wal);
  }
  checkpoint_due_bytes_ = wal_->log_bytes() + options_.wal_checkpoint_bytes / 2;
  return Status::OK();
}

}  // namespace sombra::pager
