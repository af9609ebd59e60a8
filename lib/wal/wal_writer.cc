#include "wal/wal_writer.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <random>

namespace sombra::wal {

namespace {

// A random salt, never 0 and never `avoid` (the previous generation's).
Result<uint64_t> NewSalt(uint64_t avoid) {
  try {
    std::random_device rd;
    for (;;) {
      const uint64_t salt = (static_cast<uint64_t>(rd()) << 32) ^ rd();
      if (salt != 0 && salt != avoid) return salt;
    }
  } catch (const std::exception& e) {
    return Status::IOError(std::string("no entropy source for the WAL salt: ") + e.what());
  }
}

const std::string& Zeros() {
  static const std::string zeros(WalWriter::kWritePiece, '\0');
  return zeros;
}

}  // namespace

Result<std::unique_ptr<WalWriter>> WalWriter::Open(Env* env, const std::string& path,
                                                   uint32_t page_size, uint64_t db_salt,
                                                   uint64_t generation, uint64_t start_lsn,
                                                   const WalBase& base, uint64_t preallocate_bytes,
                                                   MetricsRegistry* metrics, uint32_t version) {
  if (!IsValidPageSize(page_size)) {
    return Status::InvalidArgument("WAL page size " + std::to_string(page_size) +
                                   " is not a power of two from 4096 to 65536");
  }
  if (db_salt == 0) return Status::InvalidArgument("WAL database salt is 0");
  if (start_lsn == 0) return Status::InvalidArgument("WAL start LSN is 0");
  if (std::string why; !CheckWalBase(base, &why)) {
    return Status::InvalidArgument("WAL base meta: " + why);
  }
  const bool existed = env->FileExists(path);
  SOMBRA_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->OpenFile(path, OpenMode::kCreate));
  SOMBRA_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  WalHeader header;
  header.page_size = page_size;
  header.db_salt = db_salt;
  std::unique_ptr<WalWriter> writer(new WalWriter(std::move(file), header, size, metrics));
  const uint64_t target = std::max<uint64_t>(preallocate_bytes, kWalHeaderSize);
  if (size < target) {
    SOMBRA_RETURN_IF_ERROR(writer->WriteZeros(size, target));
    writer->file_size_ = target;
  }
  SOMBRA_RETURN_IF_ERROR(writer->WriteHeader(generation, start_lsn, base, version));
  if (!existed) SOMBRA_RETURN_IF_ERROR(env->SyncDir(DirName(path)));
  return writer;
}

Result<std::unique_ptr<WalWriter>> WalWriter::Resume(Env* env, const std::string& path,
                                                     const WalHeader& header, uint64_t end_offset,
                                                     uint64_t last_checksum,
                                                     MetricsRegistry* metrics) {
  if (header.version < kWalFormatVersion || header.version > kWalNewestFormatVersion) {
    return Status::NotSupported(
        "cannot continue log " + path + " of format version " + std::to_string(header.version) +
        " (this build continues versions " + std::to_string(kWalFormatVersion) + " to " +
        std::to_string(kWalNewestFormatVersion) + ")");
  }
  SOMBRA_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->OpenFile(path, OpenMode::kReadWrite));
  SOMBRA_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  if (end_offset < header.size() || end_offset > size) {
    return Status::InvalidArgument("cannot continue log " + path + " at offset " +
                                   std::to_string(end_offset) + ": outside its records");
  }
  std::unique_ptr<WalWriter> writer(new WalWriter(std::move(file), header, size, metrics));
  SOMBRA_RETURN_IF_ERROR(writer->file_->Sync());
  if (writer->fsyncs_ != nullptr) writer->fsyncs_->Add();
  std::lock_guard<std::mutex> lock(writer->mu_);
  writer->last_checksum_ = last_checksum;
  writer->written_ = writer->synced_ = writer->acked_ = end_offset;
  return writer;
}

WalWriter::WalWriter(std::unique_ptr<File> file, const WalHeader& header, uint64_t file_size,
                     MetricsRegistry* metrics)
    : file_(std::move(file)), file_size_(file_size), header_(header) {
  if (metrics != nullptr) {
    records_ = metrics->GetCounter("wal_records");
    bytes_ = metrics->GetCounter("wal_bytes");
    image_records_ = metrics->GetCounter("wal_image_records");
    delta_records_ = metrics->GetCounter("wal_delta_records");
    ops_records_ = metrics->GetCounter("wal_ops_records");
    group_records_ = metrics->GetCounter("wal_group_records");
    copy_ops_ = metrics->GetCounter("wal_copy_ops");
    compressed_saved_ = metrics->GetCounter("wal_compressed_bytes_saved");
    fsyncs_ = metrics->GetCounter("fsyncs");
    syncs_grouped_ = metrics->GetCounter("wal_syncs_grouped");
    commit_syncs_ = metrics->GetCounter("wal_commit_fsyncs");
    lingers_ = metrics->GetCounter("wal_sync_lingers");
  }
}

WalWriter::~WalWriter() = default;

Status WalWriter::WriteZeros(uint64_t from, uint64_t to) {
  while (from < to) {
    const uint64_t n = std::min(to - from, kWritePiece);
    SOMBRA_RETURN_IF_ERROR(file_->WriteAt(from, std::string_view(Zeros()).substr(0, n)));
    from += n;
  }
  return Status::OK();
}

Status WalWriter::WritePieces(uint64_t offset, std::string_view data) {
  while (!data.empty()) {
    const size_t n = std::min<size_t>(data.size(), kWritePiece);
    SOMBRA_RETURN_IF_ERROR(file_->WriteAt(offset, data.substr(0, n)));
    offset += n;
    data.remove_prefix(n);
  }
  return Status::OK();
}

namespace {
std::atomic<uint32_t> g_test_format{0};
}  // namespace

void WalWriter::WriteFormatForTest(uint32_t version) { g_test_format = version; }

Status WalWriter::WriteHeader(uint64_t generation, uint64_t start_lsn, const WalBase& base,
                              uint32_t version) {
  WalHeader h = header();
  SOMBRA_ASSIGN_OR_RETURN(h.salt, NewSalt(h.salt));
  if (const uint32_t forced = g_test_format; forced != 0 && version > forced) {
    version = IsCarriedVersion(version) ? CarriedVersionOf(forced) : forced;
  }
  h.version = version;
  h.generation = generation;
  h.start_lsn = start_lsn;
  h.base = base;
  uint8_t raw[kWalHeaderSize];
  EncodeWalHeader(h, raw);
  SOMBRA_RETURN_IF_ERROR(
      file_->WriteAt(0, std::string_view(reinterpret_cast<const char*>(raw), kWalHeaderSize)));
  if (fsyncs_ != nullptr) fsyncs_->Add();
  SOMBRA_RETURN_IF_ERROR(file_->Sync());
  std::lock_guard<std::mutex> lock(mu_);
  header_ = h;
  last_checksum_ = h.salt;
  written_ = synced_ = acked_ = kWalHeaderSize;
  synced_batches_ = written_batches_;
  return Status::OK();
}

Status WalWriter::Restart(uint64_t generation, uint64_t start_lsn, const WalBase& base) {
  if (start_lsn == 0) return Status::InvalidArgument("WAL start LSN is 0");
  if (std::string why; !CheckWalBase(base, &why)) {
    return Status::InvalidArgument("WAL base meta: " + why);
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
    // A lingering leader waits for batches that cannot come while the
    // caller holds the writer lock: end its linger.
    ++restarts_waiting_;
    appended_.notify_all();
    sync_done_.wait(lock, [this] { return !syncing_; });
    --restarts_waiting_;
    syncing_ = true;  // keeps leaders out while the header changes
  }
  Status s = WriteHeader(generation, start_lsn, base);
  std::unique_lock<std::mutex> lock(mu_);
  syncing_ = false;
  if (!s.ok() && error_.ok()) error_ = s;
  sync_done_.notify_all();
  return s.ok() ? Status::OK() : error_;
}

uint64_t WalWriter::last_checksum() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_checksum_;
}

Result<uint64_t> WalWriter::Append(std::string_view batch, uint64_t batch_last_checksum,
                                   const BatchStats& stats) {
  uint64_t pos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
    pos = written_;
  }
  if (batch.empty()) return pos;
  const uint64_t end = pos + batch.size();
  Status s;
  const uint64_t size = file_size_;
  if (end > size) {
    // Zeros behind the batch only: the batch itself covers [size, end).
    // They go first, so that a disk too full for them fails the append
    // before any byte of the batch is written (a failed write of the batch
    // is the sticky error of every failed append, below).
    const uint64_t new_size = size + (end - size + kGrowStep - 1) / kGrowStep * kGrowStep;
    s = WriteZeros(end, new_size);
    if (s.ok()) file_size_ = new_size;
  }
  if (s.ok()) s = WritePieces(pos, batch);
  std::unique_lock<std::mutex> lock(mu_);
  if (!s.ok()) return Fail(lock, s);
  if (!error_.ok()) return error_;  // a sync failed meanwhile: this batch will never be durable
  written_ = end;
  last_checksum_ = batch_last_checksum;
  ++written_batches_;
  lock.unlock();
  appended_.notify_one();  // a lingering leader counts the batches waiting
  if (bytes_ != nullptr) {
    bytes_->Add(batch.size());
    records_->Add(stats.records);
    image_records_->Add(stats.image_records);
    delta_records_->Add(stats.delta_records);
    ops_records_->Add(stats.ops_records);
    group_records_->Add(stats.group_records);
    copy_ops_->Add(stats.copy_ops);
    compressed_saved_->Add(stats.compressed_bytes_saved);
  }
  return end;
}

Status WalWriter::SyncTo(uint64_t end_offset) {
  std::unique_lock<std::mutex> lock(mu_);
  ++syncers_;
  struct Leave {
    uint32_t* syncers;
    ~Leave() {  // runs with mu_ held: every return below holds it
      if (syncers != nullptr) --*syncers;
    }
  } leave{&syncers_};
  for (;;) {
    if (!error_.ok()) return error_;
    if (end_offset <= synced_ || end_offset > written_) return Status::OK();
    if (syncing_) {
      sync_done_.wait(lock);
      continue;
    }
    // Become the leader: one fdatasync for everything written so far, once
    // the committers of the last sync have appended again (or the linger
    // is over).
    syncing_ = true;
    Linger(lock);
    if (!error_.ok()) {  // an append failed meanwhile
      syncing_ = false;
      sync_done_.notify_all();
      return error_;
    }
    const uint64_t target = written_;
    const uint64_t batches = written_batches_;
    lock.unlock();
    if (fsyncs_ != nullptr) {
      fsyncs_->Add();
      commit_syncs_->Add();
    }
    const auto start = std::chrono::steady_clock::now();
    Status s = file_->Sync();
    const auto took = std::chrono::steady_clock::now() - start;
    lock.lock();
    syncing_ = false;
    if (!s.ok()) return Fail(lock, s);
    const uint64_t covered = batches - synced_batches_;
    if (covered > 1 && syncs_grouped_ != nullptr) syncs_grouped_->Add(covered - 1);
    synced_ = target;
    synced_batches_ = batches;
    last_sync_ = took;
    committers_ = syncers_;
    // The leader's batch is covered (end_offset <= written_ above). It
    // leaves, then wakes the followers with mu_ released, so that they do
    // not wake only to wait for mu_ behind it.
    --syncers_;
    leave.syncers = nullptr;
    lock.unlock();
    sync_done_.notify_all();
    return Status::OK();
  }
}

void WalWriter::Linger(std::unique_lock<std::mutex>& lock) {
  // Over: a batch per committer of the last sync waits, a Restart waits
  // (no batch can come), or an append failed.
  const auto over = [this] {
    return !error_.ok() || restarts_waiting_ != 0 ||
           written_batches_ - synced_batches_ >= committers_;
  };
  if (committers_ <= 1 || over()) return;
  const auto limit = linger_fixed_
                         ? std::chrono::nanoseconds(max_linger_)
                         : std::min<std::chrono::nanoseconds>(last_sync_ / 2, max_linger_);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  if (lingers_ != nullptr) lingers_->Add();
  appended_.wait_until(lock, deadline, over);
}

void WalWriter::SetMaxLingerForTest(std::chrono::microseconds max) {
  std::lock_guard<std::mutex> lock(mu_);
  max_linger_ = max;
  linger_fixed_ = true;  // the bound is max, whatever the syncs took
}

uint32_t WalWriter::syncers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return syncers_;
}

void WalWriter::Acknowledge(uint64_t end_offset) {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_.ok() && end_offset <= written_) acked_ = std::max(acked_, end_offset);
}

Status WalWriter::Fail(std::unique_lock<std::mutex>& lock, const Status& s) {
  (void)lock;  // held: no later write or sync may succeed before the error is set
  if (!error_.ok()) return error_;
  error_ = s;
  // Best effort: zero the header of the first record that was never
  // acknowledged, so that a reopen ends the log there. That is the synced
  // offset, or (durability normal/off, where commits are acknowledged
  // before their sync) the acknowledged one: both are record boundaries.
  const uint64_t cut = std::max(synced_, acked_);
  if (cut + kRecordHeaderSize <= file_size_) {
    if (file_->WriteAt(cut, std::string_view(Zeros()).substr(0, kRecordHeaderSize)).ok()) {
      if (fsyncs_ != nullptr) fsyncs_->Add();
      (void)file_->Sync();
    }
  }
  sync_done_.notify_all();
  appended_.notify_all();  // a lingering leader stops
  return error_;
}

uint64_t WalWriter::written_offset() const {
  std::lock_guard<std::mutex> lock(mu_);
  return written_;
}

uint64_t WalWriter::synced_offset() const {
  std::lock_guard<std::mutex> lock(mu_);
  return synced_;
}

uint64_t WalWriter::log_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return written_ - kWalHeaderSize;
}

WalHeader WalWriter::header() const {
  std::lock_guard<std::mutex> lock(mu_);
  return header_;
}

Status WalWriter::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

}  // namespace sombra::wal
