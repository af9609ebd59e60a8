// The follower: a read-only handle keeps up with a writer in another
// process (docs/design/readers.md). At open it reads the log under the
// snapshot handshake; at each BeginRead it registers a floor in its slot of
// the reader table, confirms it, and reads only what the writer appended
// since the last time, or the whole log again when the writer restarted it.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <thread>
#include <unordered_map>

#include "pager/double_write.h"
#include "pager/pager.h"
#include "pager/txn_replay.h"
#include "util/coding.h"
#include "wal/wal_page_ops.h"

namespace sombra::pager {
namespace {

// Attempts of a reading that raced with a restart of the log, before the
// handle settles for what it has (which is always a consistent state).
constexpr int kFollowAttempts = 50;

// Reads the committed transactions of `reader` from where it stands into
// `map` (versions of `page_size` bytes) and *state. A transaction's records
// wait for its commit record; deltas apply on the newest version of their
// page (this transaction's, else the map's head, else, in a log of format
// 8 or later, the page file's page, read by `file_base`), and copies read
// their source pages as the map's heads or the page file hold them before
// the transaction. False when the log does not fit what the map holds (a
// restart under the reading): the caller reads the log again from its
// start.
bool ApplyLog(wal::WalReader* reader, uint32_t page_size, VersionMap* map, std::mutex* map_mu,
              const std::function<bool(uint32_t, uint64_t, uint8_t*)>& file_base, TreeState* state,
              std::vector<uint32_t>* touched) {
  const uint32_t version = reader->header().version;
  const bool file_bases = wal::AllowsFileBases(version);
  struct Pending {
    uint32_t page_no;
    uint64_t lsn;
    PageBuffer buf;
  };
  std::vector<TxnRecord> records;
  std::vector<Pending> txn;
  std::unordered_map<uint32_t, size_t> in_txn;  // page -> index in txn
  CopySources sources;
  // The page before the transaction: the map's head, else the file's.
  const auto before = [&](uint32_t page_no, uint64_t lsn, uint8_t* out) -> bool {
    if (const PageVersion* head = map->Head(page_no)) {
      std::memcpy(out, head->data.get(), page_size);
      return true;
    }
    return file_bases && file_base(page_no, lsn, out);
  };
  // Applies one record on this transaction's copy of its page.
  const auto apply = [&](const TxnRecord& rec) -> bool {
    const uint32_t page_no = rec.page_no;
    auto it = in_txn.find(page_no);
    if (it == in_txn.end()) {
      it = in_txn.emplace(page_no, txn.size()).first;
      txn.push_back(Pending{page_no, rec.new_lsn, NewPageBuffer(page_size)});
      if (OnZeros(rec, version)) {
        std::memset(txn.back().buf.get(), 0, page_size);
      } else if (rec.type != wal::RecordType::kPageImage &&
                 !before(page_no, rec.base_lsn, txn.back().buf.get())) {
        return false;  // no base, or being rewritten by a checkpoint: read again
      }
    }
    uint8_t* buf = txn[it->second].buf.get();
    if (rec.type == wal::RecordType::kPageImage) {
      std::memcpy(buf, rec.page.data(), page_size);
    } else {
      if (DecodeFixed64(buf + kHeaderLsnOffset) != rec.base_lsn) return false;
      for (const auto& [offset, bytes] : rec.ranges) {
        std::memcpy(buf + offset, bytes.data(), bytes.size());
      }
      if (rec.type == wal::RecordType::kPageOps && !ApplyOps(rec, page_size, sources, buf).ok()) {
        return false;
      }
    }
    EncodeFixed64(buf + kHeaderLsnOffset, rec.new_lsn);
    return true;
  };
  wal::CommitInfo c;
  while (NextTxn(reader, &records, &c)) {
    if (c.lsn > state->lsn) {
      const Status kept =
          sources.Gather(records, page_size, [&](uint32_t page_no, uint64_t lsn, uint8_t* out) {
            return before(page_no, lsn, out) ? Status::OK() : Status::Corruption("no page before");
          });
      if (!kept.ok()) return false;
      for (const TxnRecord& r : records) {
        if (!apply(r)) return false;
      }
      std::lock_guard<std::mutex> lock(*map_mu);
      for (Pending& p : txn) {
        touched->push_back(p.page_no);
        map->Push(p.page_no, std::make_unique<PageVersion>(p.lsn, std::move(p.buf)));
      }
      *state = StateOfCommit(c);
    }
    txn.clear();
    in_txn.clear();
  }
  return true;
}

// True when the log behind `file` still has the header `h` (same
// generation and salt): what was read of it is this log's.
bool SameLog(File* file, const wal::WalHeader& h) {
  uint8_t raw[wal::kWalHeaderSize];
  size_t got = 0;
  if (!file->ReadAt(0, h.size(), reinterpret_cast<char*>(raw), &got).ok() || got != h.size()) {
    return false;
  }
  Result<wal::WalHeader> now = wal::DecodeWalHeader(raw, got);
  return now.ok() && now->salt == h.salt && now->generation == h.generation;
}

// The same for the log now at `path`: a compacted log replaces the log by
// a rename, which leaves the file a reader has open whole.
bool SameLogAt(Env* env, const std::string& path, const wal::WalHeader& h) {
  auto file = env->OpenFile(path, OpenMode::kReadOnly);
  return file.ok() && SameLog(file->get(), h);
}

}  // namespace

std::function<bool(uint32_t, uint64_t, uint8_t*)> Pager::FollowerFileBase() const {
  return [this](uint32_t page_no, uint64_t lsn, uint8_t* out) {
    // The page file's page; or, when a checkpoint has overwritten it (and
    // crashed before its meta page, or is writing it now), the copy its
    // double-write batch took first. Same page number and LSN, verified:
    // the same page (docs/format/dwb.md).
    if (file_->ReadUnmapped(page_no, out).ok() &&
        VerifyPage(out, page_size(), page_no, file_->salt(), path()).ok() &&
        DecodeFixed64(out + kHeaderLsnOffset) == lsn) {
      return true;
    }
    auto batch = DoubleWriteBatch::Open(env_, path() + "-dwb", page_size(), file_->salt());
    return batch.ok() && (*batch)->ReadAtLsn(page_no, lsn, path(), out);
  };
}

Status Pager::OpenFollower() {
  if (table_ == nullptr) return Recover();  // as it opened, Busy on rewritten pages
  Status s;
  uint64_t seq = 0;
  for (int attempt = 0; attempt < kFollowAttempts; ++attempt) {
    // The handshake (docs/design/readers.md): a floor below any state the
    // reading can end at, confirmed against the checkpoint sequence.
    for (;;) {
      seq = table_->CheckpointSeq();
      {
        std::lock_guard<std::mutex> lock(reader_mu_);
        slot_floor_ = 1;
        PublishSlotLocked();
      }
      if (table_->CheckpointSeq() == seq) break;
    }
    if (attempt > 0) {
      SOMBRA_RETURN_IF_ERROR(file_->ReloadMeta());
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    {
      std::lock_guard<std::mutex> lock(version_mu_);
      versions_ = std::make_shared<VersionMap>();
    }
    s = Recover();
    // Damage found from a meta page that a checkpoint has replaced since
    // it was read (a log that starts past it) is a writer's doing, even
    // when that writer has closed by now: read again from the new one.
    if (s.IsCorruption() && file_->NewerMetaInFile()) {
      saw_live_writer_ = true;
      s = LogChanged(s);
    }
    if (!s.IsBusy()) break;
  }
  follow_seq_ = seq;
  {
    std::lock_guard<std::mutex> lock(reader_mu_);
    slot_floor_ = 0;
    PublishSlotLocked();
  }
  SOMBRA_RETURN_IF_ERROR(s);
  file_->ForgetVerified();
  file_->TrustVerifiedReads();
  return file_->FollowGrowth(published_.page_count);
}

void Pager::CatchUp() {
  for (int attempt = 0;; ++attempt) {
    uint64_t seq = 0;
    uint64_t newest = 0;
    uint64_t have = 0;
    // R1-R3: the floor is at or below the state this BeginRead serves.
    for (;;) {
      seq = table_->CheckpointSeq();
      newest = table_->NewestLsn();
      {
        std::lock_guard<std::mutex> lock(reader_mu_);
        have = published_.lsn;
        slot_floor_ = std::max<uint64_t>(1, std::min(have, newest));
        PublishSlotLocked();
      }
      if (table_->CheckpointSeq() == seq) break;
    }
    if (seq == follow_seq_ && newest <= have) return;  // nothing new: no syscall
    if (table_->WriterAlive()) saw_live_writer_ = true;
    // A checkpoint since the last reading may have restarted the log in
    // place or replaced it: the header at the path tells.
    bool restarted = follow_reader_ == nullptr ||
                     (seq != follow_seq_ && !SameLogAt(env_, wal_path_, follow_reader_->header()));
    Status s = restarted ? Status::OK() : IngestLog(&restarted);
    if (s.ok() && (restarted || attempt > 0)) s = SwitchLog();
    if (s.ok()) follow_seq_ = seq;
    {
      std::lock_guard<std::mutex> lock(reader_mu_);
      have = published_.lsn;
    }
    (void)file_->FollowGrowth(published_.page_count);
    // Short of `newest` only when the writer restarted the log under the
    // reading; what was read is a consistent state either way.
    if (!s.ok() || have >= newest || attempt + 1 >= kFollowAttempts) return;
    std::this_thread::yield();
  }
}

Status Pager::IngestLog(bool* restarted) {
  *restarted = false;
  if (follow_reader_ == nullptr || !SameLog(follow_log_.get(), follow_reader_->header())) {
    *restarted = true;
    return Status::OK();
  }
  SOMBRA_RETURN_IF_ERROR(follow_reader_->Continue());
  TreeState state;
  {
    std::lock_guard<std::mutex> lock(reader_mu_);
    state = published_;
  }
  std::vector<uint32_t> touched;
  const bool fits = ApplyLog(follow_reader_.get(), page_size(), versions_.get(), &version_mu_,
                             FollowerFileBase(), &state, &touched);
  if (follow_reader_->stop_reason() == wal::StopReason::kIOError) {
    return follow_reader_->status();
  }
  // Transactions read before a restart are this log's (a restarted log's
  // records do not chain from the old salt); the caller reads the new one.
  if (!fits || !SameLog(follow_log_.get(), follow_reader_->header())) *restarted = true;
  std::vector<uint64_t> snapshots;
  {
    std::lock_guard<std::mutex> lock(reader_mu_);
    if (state.lsn > published_.lsn) published_ = state;
    snapshots = ReaderLsnsLocked();
  }
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  PruneVersions(touched, snapshots);
  return Status::OK();
}

Status Pager::SwitchLog() {
  // A new reading of the log from its start, into a new version map:
  // snapshots taken so far keep theirs.
  SOMBRA_ASSIGN_OR_RETURN(std::unique_ptr<File> log,
                          env_->OpenFile(wal_path_, OpenMode::kReadOnly));
  auto reader = std::make_unique<wal::WalReader>(log.get());
  Status opened = reader->Open();
  if (!opened.ok() || !reader->header().has_base() || reader->header().db_salt != file_->salt()) {
    // No log to follow now (an empty or foreign log, or a format-1 one
    // without its base): keep the state read so far.
    return Status::OK();
  }
  const wal::WalHeader& h = reader->header();
  TreeState state{h.start_lsn - 1,      h.base.root,           h.base.page_count,
                  h.base.freelist_head, h.base.freelist_count, h.base.catalog_root};
  auto map = std::make_shared<VersionMap>();
  std::mutex map_mu;  // the map is private until it is installed
  std::vector<uint32_t> touched;
  if (!ApplyLog(reader.get(), page_size(), map.get(), &map_mu, FollowerFileBase(), &state,
                &touched) ||
      reader->stop_reason() == wal::StopReason::kIOError || !SameLog(log.get(), h)) {
    return Status::OK();  // restarted again under the reading: the caller retries
  }
  {
    std::lock_guard<std::mutex> lock(reader_mu_);
    if (state.lsn < published_.lsn) return Status::OK();  // not newer than what we have
  }
  {
    std::lock_guard<std::mutex> lock(version_mu_);
    versions_ = std::move(map);
  }
  // The writer rewrote pages of the file before it restarted the log:
  // pages verified so far are verified again on their next read.
  file_->ForgetVerified();
  {
    std::lock_guard<std::mutex> lock(reader_mu_);
    published_ = state;
  }
  follow_log_ = std::move(log);
  follow_reader_ = std::move(reader);
  return Status::OK();
}

}  // namespace sombra::pager
