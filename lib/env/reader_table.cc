// The shared reader table: opening (init lock, in-use lock, rebuild rule),
// slots (OFD byte-range locks) and the oldest snapshot. docs/format/shm.md.
// Every Boost.Interprocess exception is caught here and becomes a Status.
#include "env/reader_table.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/file_mapping.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <cassert>
#include <cstdio>
#include <cstring>
#include <random>
#include <utility>

#include "util/coding.h"
#include "util/hash.h"

namespace sombra {
namespace bip = boost::interprocess;

// The format is little-endian; the words stored through atomics are stored
// in native order, so the native order must be little-endian.
static_assert(std::endian::native == std::endian::little);
static_assert(std::atomic_ref<uint64_t>::is_always_lock_free);
static_assert(std::atomic_ref<uint64_t>::required_alignment <= 8);
static_assert(kShmSlotsOffset % 64 == 0 && kShmSlotSize % 64 == 0);
static_assert(kShmNewestLsnOffset % 8 == 0 && kShmCheckpointSeqOffset % 8 == 0);
static_assert(kShmSlotOwnerPidOffset % 8 == 0 && kShmSlotNonceOffset % 8 == 0 &&
              kShmSlotLsnOffset % 8 == 0);
static_assert(kShmHeaderSize % 8 == 0 && kShmHeaderChecksumOffset + 8 == kShmHeaderSize);

struct ReaderTable::Mapping {
  bip::mapped_region region;
};

namespace {

constexpr size_t kShmReservedOffset = 40;  // [40, 56): zero

Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  return Status::IOError(what + " " + path + ": " + std::strerror(err), err);
}

uint64_t SlotLockByte(uint32_t index) { return kShmSlotsOffset + uint64_t{index} * kShmSlotSize; }

// One-byte OFD lock (F_RDLCK, F_WRLCK or F_UNLCK) on `byte`. Returns 0, or
// the errno: EAGAIN / EACCES when another open file description holds a
// conflicting lock.
int OfdLock(int fd, short type, uint64_t byte, bool wait) {
  struct flock fl = {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(byte);
  fl.l_len = 1;
  fl.l_pid = 0;  // required by F_OFD_*
  for (;;) {
    if (::fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == 0) return 0;
    if (errno != EINTR) return errno;
  }
}
bool IsHeld(int err) { return err == EAGAIN || err == EACCES; }

uint64_t RandomNonZero() {
  std::random_device rd;
  uint64_t v = 0;
  while (v == 0) v = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(::getpid());
  return v;
}

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Why a header does not describe this table ("" when it does). Sets
// *other_version when it is a sealed header of another format version.
std::string CheckHeader(const uint8_t* h, uint64_t file_size, uint64_t db_salt,
                        bool* other_version) {
  *other_version = false;
  if (file_size == 0) return "new file";
  if (file_size < kShmFileSize) {
    return "file too short (" + std::to_string(file_size) + " bytes, expected " +
           std::to_string(kShmFileSize) + ")";
  }
  if (std::memcmp(h + kShmMagicOffset, kShmMagic, sizeof(kShmMagic)) != 0) return "bad magic";
  const uint64_t stored = DecodeFixed64(h + kShmHeaderChecksumOffset);
  const uint64_t computed = Hash64(h, kShmHeaderChecksumOffset, 0);
  if (stored != computed) {
    return "header checksum mismatch (stored " + Hex(stored) + ", computed " + Hex(computed) + ")";
  }
  const uint32_t version = DecodeFixed32(h + kShmVersionOffset);
  if (version != kShmVersion) {
    *other_version = true;
    return "format version " + std::to_string(version) + " (this is version " +
           std::to_string(kShmVersion) + ")";
  }
  if (DecodeFixed32(h + kShmSlotCountOffset) != kShmSlotCount ||
      DecodeFixed32(h + kShmSlotSizeOffset) != kShmSlotSize ||
      DecodeFixed32(h + kShmFileSizeOffset) != kShmFileSize) {
    return "slot count, slot size or file size not those of version 1";
  }
  const uint64_t salt = DecodeFixed64(h + kShmDbSaltOffset);
  if (salt != db_salt) {
    return "another database (salt " + Hex(salt) + ", expected " + Hex(db_salt) + ")";
  }
  if (DecodeFixed64(h + kShmTableIdOffset) == 0) return "table id 0";
  for (size_t i = kShmReservedOffset; i < kShmHeaderChecksumOffset; ++i) {
    if (h[i] != 0) return "reserved byte " + std::to_string(i) + " not zero";
  }
  return "";
}

std::array<uint8_t, kShmHeaderSize> BuildHeader(uint64_t db_salt, uint64_t table_id) {
  std::array<uint8_t, kShmHeaderSize> h{};
  std::memcpy(h.data() + kShmMagicOffset, kShmMagic, sizeof(kShmMagic));
  EncodeFixed32(h.data() + kShmVersionOffset, kShmVersion);
  EncodeFixed32(h.data() + kShmSlotCountOffset, kShmSlotCount);
  EncodeFixed32(h.data() + kShmSlotSizeOffset, kShmSlotSize);
  EncodeFixed32(h.data() + kShmFileSizeOffset, static_cast<uint32_t>(kShmFileSize));
  EncodeFixed64(h.data() + kShmDbSaltOffset, db_salt);
  EncodeFixed64(h.data() + kShmTableIdOffset, table_id);
  EncodeFixed64(h.data() + kShmHeaderChecksumOffset, Hash64(h.data(), kShmHeaderChecksumOffset, 0));
  return h;
}

// Bytes of the mapping moved as 8-byte relaxed atomics: other handles may
// read them at the same time (HeaderUnchanged), so plain memcpy would race.
void StoreWords(uint8_t* base, size_t offset, const uint8_t* src, size_t n) {
  for (size_t i = 0; i < n; i += 8) {
    uint64_t w;
    std::memcpy(&w, src + i, 8);
    std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(base + offset + i))
        .store(w, std::memory_order_relaxed);
  }
}
void LoadWords(const uint8_t* base, size_t offset, uint8_t* dst, size_t n) {
  for (size_t i = 0; i < n; i += 8) {
    uint64_t w = std::atomic_ref<uint64_t>(
                     *reinterpret_cast<uint64_t*>(const_cast<uint8_t*>(base) + offset + i))
                     .load(std::memory_order_relaxed);
    std::memcpy(dst + i, &w, 8);
  }
}

void ZeroSlot(uint8_t* base, uint32_t index) {
  const uint8_t zeros[kShmSlotSize] = {};
  StoreWords(base, SlotLockByte(index), zeros, kShmSlotSize);
}

// Closes the descriptor unless released; closing drops every OFD lock
// taken through it.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// What Open found in the file under the init lock, before changing it.
struct FoundFile {
  struct stat st = {};         // the file locked: the one that must be mapped
  uint64_t size = 0;           // its size as found
  std::string reason;          // why its header does not fit ("" when it does)
  bool other_version = false;  // a sealed header of another format version
};

// Takes the in-use lock for reading (a downgrade when this handle holds it for writing).
Status LockInUseShared(int fd, const std::string& shm_path) {
  if (int err = OfdLock(fd, F_RDLCK, kShmInUseLockByte, false); err != 0) {
    return ErrnoStatus("lock (in use, shared) reader table", shm_path, err);
  }
  return Status::OK();
}

// Open, step 2: the init lock (waited for), then the in-use lock: exclusive (*alone) or shared.
Status LockForOpen(int fd, const std::string& shm_path, bool* alone) {
  // The init lock: held until Open returns (the descriptor's close drops it
  // on every error path).
  if (int err = OfdLock(fd, F_WRLCK, kShmInitLockByte, /*wait=*/true); err != 0) {
    return ErrnoStatus("lock (init) reader table", shm_path, err);
  }
  // The in-use lock: exclusive only when no other handle has the table open.
  const int in_use_err = OfdLock(fd, F_WRLCK, kShmInUseLockByte, /*wait=*/false);
  if (in_use_err != 0 && !IsHeld(in_use_err)) {
    return ErrnoStatus("lock (in use) reader table", shm_path, in_use_err);
  }
  *alone = in_use_err == 0;
  if (*alone) return Status::OK();
  // Only an Open holds it exclusively, under the init lock we hold.
  return LockInUseShared(fd, shm_path);
}

// Open, step 3: reads the file's size and header as found and checks the header.
Status InspectFile(int fd, const std::string& shm_path, uint64_t db_salt, FoundFile* found) {
  if (::fstat(fd, &found->st) != 0) return ErrnoStatus("stat reader table", shm_path, errno);
  found->size = static_cast<uint64_t>(found->st.st_size);
  std::array<uint8_t, kShmHeaderSize> old_header{};
  if (found->size >= kShmFileSize && ::pread(fd, old_header.data(), old_header.size(), 0) !=
                                         static_cast<ssize_t>(kShmHeaderSize)) {
    return ErrnoStatus("read reader table", shm_path, errno == 0 ? EIO : errno);
  }
  found->reason = CheckHeader(old_header.data(), found->size, db_salt, &found->other_version);
  return Status::OK();
}

// Open, step 4: zeros when alone, extended when short; NotSupported for another version in use.
Status SizeFile(int fd, const std::string& shm_path, bool alone, const FoundFile& found) {
  if (alone) {
    // No other handle maps it (invariant 3): start from zeros.
    if (::ftruncate(fd, 0) != 0) return ErrnoStatus("truncate reader table", shm_path, errno);
  } else if (found.other_version) {
    return Status::NotSupported("reader table " + shm_path + " is in use by handles of " +
                                found.reason);
  }
  if (found.size < kShmFileSize || alone) {
    if (::ftruncate(fd, static_cast<off_t>(kShmFileSize)) != 0) {
      return ErrnoStatus("extend reader table", shm_path, errno);
    }
  }
  return Status::OK();
}

// Open, step 5: maps the path shared read-write, refusing it unless it is still the file `locked`.
Status MapFile(const std::string& shm_path, const struct stat& locked, bip::mapped_region* region) {
  try {
    bip::file_mapping file(shm_path.c_str(), bip::read_write);
    struct stat mapped_st;
    if (::fstat(file.get_mapping_handle().handle, &mapped_st) != 0) {
      return ErrnoStatus("stat reader table", shm_path, errno);
    }
    if (mapped_st.st_dev != locked.st_dev || mapped_st.st_ino != locked.st_ino) {
      return Status::IOError("reader table " + shm_path + " was replaced while it was opened");
    }
    *region = bip::mapped_region(file, bip::read_write, 0, kShmFileSize);
  } catch (const bip::interprocess_exception& e) {
    const int err = e.get_native_error();
    if (err != 0) return ErrnoStatus("mmap reader table", shm_path, err);
    return Status::IOError("mmap reader table " + shm_path + ": " + e.what());
  }
  return Status::OK();
}

}  // namespace

// Steps (docs/format/shm.md, "Opening and the rebuild rule"): open the file,
// lock, inspect, size, map, take or write the header, release the init lock.
Result<std::unique_ptr<ReaderTable>> ReaderTable::Open(const std::string& shm_path,
                                                       uint64_t db_salt) {
  if (db_salt == 0) {
    return Status::InvalidArgument("reader table " + shm_path + ": database salt 0");
  }
  // Step 1: open or create the file.
  const int fd = ::open(shm_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("open reader table", shm_path, errno);
  FdGuard fd_guard(fd);

  bool alone = false;
  SOMBRA_RETURN_IF_ERROR(LockForOpen(fd, shm_path, &alone));
  FoundFile found;
  SOMBRA_RETURN_IF_ERROR(InspectFile(fd, shm_path, db_salt, &found));
  SOMBRA_RETURN_IF_ERROR(SizeFile(fd, shm_path, alone, found));
  auto mapping = std::make_unique<Mapping>();
  SOMBRA_RETURN_IF_ERROR(MapFile(shm_path, found.st, &mapping->region));

  // Step 6: from here the table owns the descriptor (and its locks).
  std::unique_ptr<ReaderTable> table(
      new ReaderTable(shm_path, db_salt, fd_guard.release(), std::move(mapping)));
  if (alone || !found.reason.empty()) {
    table->WriteNewHeader(alone, std::move(found.reason));
  } else {
    LoadWords(table->base_, 0, table->header_.data(), kShmHeaderSize);
    table->open_kind_ = OpenKind::kJoined;
  }
  table->table_id_ = DecodeFixed64(table->header_.data() + kShmTableIdOffset);
  SOMBRA_RETURN_IF_ERROR(table->FinishOpen(alone));
  return table;
}

// Open, step 6 when alone or the header does not fit: clears what must go, writes a new header.
void ReaderTable::WriteNewHeader(bool alone, std::string reason) {
  if (!alone) {
    // Rebuilt while in use: keep every slot whose owner holds its lock.
    std::lock_guard<std::mutex> guard(mu_);  // ReclaimIfDead's rule; no other thread has it yet
    for (uint32_t i = 0; i < kShmSlotCount; ++i) ReclaimIfDead(i);
    open_kind_ = OpenKind::kRebuilt;
  } else {
    open_kind_ = OpenKind::kInitialized;
    if (reason.empty()) reason = "no other handle had it open";
  }
  PublishNewestLsn(0);
  PublishCheckpointSeq(0);
  const uint8_t zeros[kShmSlotsOffset - kShmHeaderSize] = {};
  StoreWords(base_, kShmHeaderSize, zeros, sizeof(zeros));
  header_ = BuildHeader(db_salt_, RandomNonZero());
  StoreWords(base_, 0, header_.data(), kShmHeaderSize);
  open_reason_ = std::move(reason);
}

// Open, step 7: in-use lock down to shared when alone (invariant 3), init lock released.
Status ReaderTable::FinishOpen(bool alone) {
  if (alone) {
    SOMBRA_RETURN_IF_ERROR(LockInUseShared(fd_, path_));
  }
  if (int err = OfdLock(fd_, F_UNLCK, kShmInitLockByte, false); err != 0) {
    return ErrnoStatus("unlock (init) reader table", path_, err);
  }
  return Status::OK();
}

ReaderTable::ReaderTable(std::string path, uint64_t db_salt, int fd,
                         std::unique_ptr<Mapping> mapping)
    : path_(std::move(path)),
      db_salt_(db_salt),
      fd_(fd),
      mapping_(std::move(mapping)),
      base_(static_cast<uint8_t*>(mapping_->region.get_address())),
      pid_(static_cast<uint64_t>(::getpid())),
      nonce_(RandomNonZero()) {}

ReaderTable::~ReaderTable() {
  {
    std::lock_guard<std::mutex> guard(mu_);
    assert(owned_count_ == 0 && "ReaderTable destroyed while a ReaderSlot is held");
    for (uint32_t i = 0; i < kShmSlotCount; ++i) {
      if (!owned_[i]) continue;
      ZeroSlot(base_, i);
      OfdLock(fd_, F_UNLCK, SlotLockByte(i), false);
    }
  }
  mapping_.reset();  // unmap before the in-use lock goes (invariant 3)
  ::close(fd_);
}

Result<ReaderSlot> ReaderTable::Acquire() {
  std::lock_guard<std::mutex> guard(mu_);
  int last_err = 0;
  // Pass 0: slots that look free; pass 1: slots that look owned (their
  // owner may be gone).
  for (int pass = 0; pass < 2; ++pass) {
    for (uint32_t i = 0; i < kShmSlotCount; ++i) {
      if (owned_[i]) continue;
      auto owner = SlotWord(i, kShmSlotOwnerPidOffset);
      uint64_t observed = owner.load(std::memory_order_relaxed);
      const bool looks_free =
          observed == 0 && SlotWord(i, kShmSlotLsnOffset).load(std::memory_order_relaxed) == 0;
      if (looks_free != (pass == 0)) continue;
      if (int err = OfdLock(fd_, F_WRLCK, SlotLockByte(i), false); err != 0) {
        if (!IsHeld(err)) last_err = err;
        continue;
      }
      // Ours (invariant 1): whatever the slot holds is a dead owner's.
      observed = owner.load(std::memory_order_relaxed);
      SlotWord(i, kShmSlotLsnOffset).store(0, std::memory_order_relaxed);
      SlotWord(i, kShmSlotNonceOffset).store(nonce_, std::memory_order_relaxed);
      if (!owner.compare_exchange_strong(observed, pid_, std::memory_order_seq_cst)) {
        // Changed without its lock: not a Sombra handle's doing; leave it.
        OfdLock(fd_, F_UNLCK, SlotLockByte(i), false);
        continue;
      }
      owned_[i] = true;
      ++owned_count_;
      return ReaderSlot(this, i,
                        reinterpret_cast<uint64_t*>(base_ + kShmSlotsOffset +
                                                    size_t{i} * kShmSlotSize + kShmSlotLsnOffset));
    }
  }
  if (last_err != 0) return ErrnoStatus("lock a slot of reader table", path_, last_err);
  return Status::Busy("reader table " + path_ + " is full: all " + std::to_string(kShmSlotCount) +
                      " slots are held by open readers");
}

void ReaderTable::ReleaseSlot(uint32_t index) {
  std::lock_guard<std::mutex> guard(mu_);
  assert(owned_[index]);
  SlotWord(index, kShmSlotLsnOffset).store(0, std::memory_order_release);
  SlotWord(index, kShmSlotNonceOffset).store(0, std::memory_order_relaxed);
  SlotWord(index, kShmSlotOwnerPidOffset).store(0, std::memory_order_release);
  OfdLock(fd_, F_UNLCK, SlotLockByte(index), false);  // closing the fd would drop it anyway
  owned_[index] = false;
  --owned_count_;
}

bool ReaderTable::ReclaimIfDead(uint32_t index) {
  // An error other than "held" counts as alive: never drop a live snapshot.
  if (OfdLock(fd_, F_WRLCK, SlotLockByte(index), false) != 0) return false;
  ZeroSlot(base_, index);
  OfdLock(fd_, F_UNLCK, SlotLockByte(index), false);
  return true;
}

uint64_t ReaderTable::OldestSnapshot(bool exclude_own) {
  std::lock_guard<std::mutex> guard(mu_);
  std::array<bool, kShmSlotCount> reclaimed{};
  for (;;) {
    uint64_t oldest = kNoSnapshot;
    uint32_t at = kShmSlotCount;
    for (uint32_t i = 0; i < kShmSlotCount; ++i) {
      if (reclaimed[i] || (exclude_own && owned_[i])) continue;
      const uint64_t lsn = SlotWord(i, kShmSlotLsnOffset).load(std::memory_order_seq_cst);
      if (lsn != 0 && lsn < oldest) {
        oldest = lsn;
        at = i;
      }
    }
    if (at == kShmSlotCount || owned_[at] || !ReclaimIfDead(at)) return oldest;
    reclaimed[at] = true;
  }
}

Status ReaderTable::ClaimWriter() {
  const int err = OfdLock(fd_, F_WRLCK, kShmWriterLockByte, /*wait=*/false);
  if (err == 0) return Status::OK();
  if (IsHeld(err)) return Status::Busy("another handle holds the writer's mark of " + path_);
  return ErrnoStatus("cannot lock the writer's mark of", path_, err);
}

bool ReaderTable::WriterAlive() const {
  struct flock fl = {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(kShmWriterLockByte);
  fl.l_len = 1;
  fl.l_pid = 0;
  if (::fcntl(fd_, F_OFD_GETLK, &fl) != 0) return true;  // cannot tell: assume live
  return fl.l_type != F_UNLCK;
}

ReaderTable::SlotView ReaderTable::Peek(uint32_t index) const {
  assert(index < kShmSlotCount);
  return SlotView{SlotWord(index, kShmSlotOwnerPidOffset).load(std::memory_order_relaxed),
                  SlotWord(index, kShmSlotNonceOffset).load(std::memory_order_relaxed),
                  SlotWord(index, kShmSlotLsnOffset).load(std::memory_order_relaxed)};
}

bool ReaderTable::HeaderUnchanged() const {
  std::array<uint8_t, kShmHeaderSize> now;
  LoadWords(base_, 0, now.data(), now.size());
  return now == header_;
}

ReaderSlot& ReaderSlot::operator=(ReaderSlot&& other) noexcept {
  if (this != &other) {
    Release();
    table_ = std::exchange(other.table_, nullptr);
    index_ = std::exchange(other.index_, 0);
    lsn_word_ = std::exchange(other.lsn_word_, nullptr);
  }
  return *this;
}

void ReaderSlot::Release() {
  if (table_ == nullptr) return;
  table_->ReleaseSlot(index_);
  table_ = nullptr;
  lsn_word_ = nullptr;
}

}  // namespace sombra
