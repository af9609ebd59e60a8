// env/reader_table.h: the shared reader table `<path>-shm`.
//
// Every handle of a database, writer or read-only, in any process, maps
// `<path>-shm` shared and read-write. A reader claims a slot once and then
// registers each snapshot it reads by storing the snapshot's LSN into the
// slot: one atomic store into the mapping, no syscall. The writer reads the
// minimum over the slots (OldestSnapshot) and never destroys what a
// registered snapshot still needs. The writer also publishes two words that
// readers poll: the newest committed LSN and the checkpoint sequence. The format
// (offsets, magic, checksum, locks, rebuild rule) is docs/format/shm.md; the
// constants below are defined there. The file is never needed for
// durability: it is rebuilt whenever it is missing or does not describe this
// database.
//
// Layout: 8192 bytes (two 4 KiB pages): a 64-byte header (magic "SOMBRSHM",
// version, slot count and size, database salt, table id, XXH3-64), a 64-byte
// line with the writer's two words, then kShmSlotCount = 126 slots of 64 bytes,
// one cache line each, so readers in different processes never write the
// same line. Slot: owner pid, owner nonce, snapshot LSN (0 = not reading).
//
// Liveness: a slot is owned by whoever holds the OFD write lock
// (fcntl F_OFD_SETLK) on the slot's first byte. The kernel drops the lock
// when the owner's last descriptor of the file closes, SIGKILL included, so
// "the lock can be taken" is exactly "no owner": robust to pid reuse, unlike
// kill(pid, 0). OFD locks, not POSIX process locks, because a process may
// hold several handles (a writer and a read-only handle, two threads each
// opening): each handle has its own open file description, its locks
// exclude the other handles of the same process, and closing one handle's
// descriptor drops nothing of another's. The pid and nonce in the slot are
// informational (which handle owns it: a pid alone cannot tell two handles
// of one process, nor a reused pid, apart); they are never trusted for
// liveness.
//
// Opening and rebuilding: Open takes the OFD write lock on byte 0 (the init
// lock, waited for, held only while it checks or initialises the header),
// then tries the write lock on byte 1 (the "in use" lock, as SQLite's DMS
// lock). Every open table holds a read lock on byte 1 until it is
// destroyed. Getting the write lock means no other handle has the table
// open: the file is then reinitialised from scratch (no slot of a dead
// process survives). Otherwise the header is checked; a header that is
// short, damaged or of another database (db_salt) is rebuilt in place,
// keeping every slot whose lock is held; a valid header of another format
// version is refused (NotSupported) while other handles use it.
//
// Thread safety: a ReaderTable may be used from any threads. Acquire,
// OldestSnapshot and slot release are serialised by a mutex of the handle
// (slot locks of one handle's descriptor do not exclude each other, so the
// handle keeps its own record of the slots it owns). A ReaderSlot is used
// by one thread at a time. The writer words may be stored and loaded from
// any thread; storing them is the writer's job (one writer process).
//
// Memory orders (the words live in shared memory; std::atomic_ref on
// 8-byte aligned words, lock-free and so address-free across processes):
//  - ReaderSlot::Publish is a seq_cst store and the writer's loads of the
//    slots and of its words are seq_cst: together with the writer's
//    seq_cst stores they make the handshake below a Dekker pair, which
//    needs store->load ordering on both sides (release/acquire alone would
//    let the reader's store and its re-check load be reordered). On x86-64
//    the store is one xchg, on AArch64 one stlr; still no syscall.
//  - ReaderSlot::Clear is a release store: the reader's page reads happen
//    before the writer sees the slot empty (its load is seq_cst, hence
//    acquire) and reuses what the snapshot read.
//
// The snapshot handshake (to be implemented by the pager; SQLite's
// read-mark protocol in walTryBeginRead is the same idea):
//   Writer, before destroying state that a snapshot below X needs
//   (restarting the log, overwriting a page a reader may still use):
//     W1. store the word readers re-check (PublishCheckpointSeq for a log
//         restart; PublishNewestLsn after a commit is durable);
//     W2. oldest = OldestSnapshot();
//     W3. destroy only what no snapshot >= min(oldest, newest) needs.
//   Reader, at BeginRead:
//     R1. g = CheckpointSeq(); s = NewestLsn() (or the pager's own newest);
//     R2. slot.Publish(s);
//     R3. if CheckpointSeq() != g, go back to R1 (reading the state s
//         needs may already be unsafe).
//   All four are seq_cst, so in their single total order either W2 comes
//   after R2 (the writer sees s and keeps what it needs) or R3 comes after
//   W1 (the reader sees the change and retries). Storing the LSN before
//   reading any page is therefore enough: no lock, no syscall per read.
//
// Invariants:
//  1. A slot's fields are changed only by the holder of its lock: the
//     owner (Publish, Clear, release: fields cleared before the unlock), or
//     a claimant or reclaimer that just took the lock (fields written after
//     the lock is taken).
//  2. A slot whose lock is free holds no live snapshot: its LSN is stale
//     (its owner died) and is never counted once seen to be free.
//  3. Every handle holds a read lock on byte 1 from the end of Open until
//     after it unmapped the file.
#pragma once

#include <array>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "util/result.h"

namespace sombra {

// docs/format/shm.md.
constexpr char kShmMagic[8] = {'S', 'O', 'M', 'B', 'R', 'S', 'H', 'M'};
constexpr uint32_t kShmVersion = 1;
constexpr uint64_t kShmFileSize = 8192;
constexpr uint32_t kShmSlotCount = 126;
constexpr uint32_t kShmSlotSize = 64;
// Header (immutable while the table is open).
constexpr size_t kShmMagicOffset = 0;            // 8 bytes
constexpr size_t kShmVersionOffset = 8;          // u32
constexpr size_t kShmSlotCountOffset = 12;       // u32
constexpr size_t kShmSlotSizeOffset = 16;        // u32
constexpr size_t kShmFileSizeOffset = 20;        // u32
constexpr size_t kShmDbSaltOffset = 24;          // u64
constexpr size_t kShmTableIdOffset = 32;         // u64
constexpr size_t kShmHeaderChecksumOffset = 56;  // u64: XXH3-64 of [0, 56), seed 0
constexpr size_t kShmHeaderSize = 64;
// The writer's words.
constexpr size_t kShmNewestLsnOffset = 64;      // u64
constexpr size_t kShmCheckpointSeqOffset = 72;  // u64
constexpr size_t kShmSlotsOffset = 128;
// Within a slot.
constexpr size_t kShmSlotOwnerPidOffset = 0;  // u64, 0 = never owned or released
constexpr size_t kShmSlotNonceOffset = 8;     // u64
constexpr size_t kShmSlotLsnOffset = 16;      // u64, 0 = not reading
// Lock bytes (OFD byte-range locks on the file).
constexpr uint64_t kShmInitLockByte = 0;
constexpr uint64_t kShmInUseLockByte = 1;
constexpr uint64_t kShmWriterLockByte = 2;
// Slot i's lock is on the slot's first byte: kShmSlotsOffset + i * kShmSlotSize.

static_assert(kShmSlotsOffset + uint64_t{kShmSlotCount} * kShmSlotSize == kShmFileSize);

// OldestSnapshot() when no live slot holds a snapshot.
constexpr uint64_t kNoSnapshot = std::numeric_limits<uint64_t>::max();

class ReaderTable;

// A claimed slot. Movable; releases the slot when destroyed.
// REQUIRES: destroyed (or Release()d) before its ReaderTable.
class ReaderSlot {
 public:
  ReaderSlot() = default;
  ReaderSlot(ReaderSlot&& other) noexcept { *this = std::move(other); }
  ReaderSlot& operator=(ReaderSlot&& other) noexcept;
  ReaderSlot(const ReaderSlot&) = delete;
  ReaderSlot& operator=(const ReaderSlot&) = delete;
  ~ReaderSlot() { Release(); }

  bool valid() const { return table_ != nullptr; }
  uint32_t index() const { return index_; }

  // Registers snapshot `lsn`: a seq_cst store into the mapping.
  // REQUIRES: valid(), lsn != 0.
  void Publish(uint64_t lsn) {
    assert(lsn != 0);
    std::atomic_ref<uint64_t>(*lsn_word_).store(lsn, std::memory_order_seq_cst);
  }
  // Not reading any more: a release store of 0. REQUIRES: valid().
  void Clear() { std::atomic_ref<uint64_t>(*lsn_word_).store(0, std::memory_order_release); }
  // The LSN this slot publishes now (0: none). REQUIRES: valid().
  uint64_t published() const {
    return std::atomic_ref<uint64_t>(*lsn_word_).load(std::memory_order_relaxed);
  }

  // Clears the slot and gives it back; the slot becomes invalid. Idempotent.
  void Release();

 private:
  friend class ReaderTable;
  ReaderSlot(ReaderTable* table, uint32_t index, uint64_t* lsn_word)
      : table_(table), index_(index), lsn_word_(lsn_word) {}

  ReaderTable* table_ = nullptr;
  uint32_t index_ = 0;
  uint64_t* lsn_word_ = nullptr;
};

class ReaderTable {
 public:
  // How Open found the file.
  enum class OpenKind {
    kJoined,       // valid and in use by other handles: used as it was
    kInitialized,  // no other handle had it open: reinitialised from scratch
    kRebuilt,      // in use, but its header was short, damaged or another
                   // database's: rebuilt in place, live slots kept
  };

  // Opens or creates `shm_path` (normally `<db path>-shm`) for the database
  // whose salt is `db_salt`, and maps it. InvalidArgument when db_salt is 0;
  // NotSupported when other handles use a table of another format version;
  // IOError (naming the file) when it cannot be created, locked or mapped.
  static Result<std::unique_ptr<ReaderTable>> Open(const std::string& shm_path, uint64_t db_salt);

  // REQUIRES: every ReaderSlot of this table was released.
  ~ReaderTable();
  ReaderTable(const ReaderTable&) = delete;
  ReaderTable& operator=(const ReaderTable&) = delete;

  // Claims a free slot, or a slot whose owner is gone (its lock is free).
  // Busy, naming the file and the slot count, when all are held.
  Result<ReaderSlot> Acquire();

  // The smallest snapshot LSN published by a live slot, kNoSnapshot when
  // there is none. A slot met as the minimum whose owner is gone is
  // reclaimed (cleared) and not counted. Costs one fcntl(F_OFD_GETLK) for
  // the minimum (when it is not this handle's own), one more per dead slot
  // reclaimed; no syscall when no slot publishes.
  // With exclude_own, the slots of this handle are not counted (the writer
  // protects its own snapshots in process).
  uint64_t OldestSnapshot(bool exclude_own = false);

  // The writer's mark: an OFD write lock on byte kShmWriterLockByte, held
  // by the handle that writes the database while it is open (dropped by
  // the kernel when its process dies). Busy when another handle holds it.
  Status ClaimWriter();
  // True when another handle (any process) holds the writer's mark: a
  // writer is live, so a stop in the log is its tail, not damage.
  bool WriterAlive() const;

  // The writer's words (seq_cst stores and loads; see the handshake above).
  // Newest LSN: the newest commit that is durable and visible to readers.
  // Checkpoint sequence: changes when a checkpoint starts, before it reads
  // the oldest snapshot (step W1 of the handshake); a reader that catches
  // up on the log incrementally compares it with the value it
  // read from. Both are 0 after the table is (re)initialised.
  void PublishNewestLsn(uint64_t lsn) { Word(kShmNewestLsnOffset).store(lsn); }
  uint64_t NewestLsn() const { return Word(kShmNewestLsnOffset).load(); }
  void PublishCheckpointSeq(uint64_t seq) { Word(kShmCheckpointSeqOffset).store(seq); }
  uint64_t CheckpointSeq() const { return Word(kShmCheckpointSeqOffset).load(); }

  // A slot as it reads now (relaxed loads; for tools, tests and messages).
  // REQUIRES: index < kShmSlotCount.
  struct SlotView {
    uint64_t owner_pid;
    uint64_t nonce;
    uint64_t lsn;
  };
  SlotView Peek(uint32_t index) const;

  // True while the header is the one this handle opened (same table id,
  // salt and checksum): false when another open rebuilt the file since.
  bool HeaderUnchanged() const;

  const std::string& path() const { return path_; }
  OpenKind open_kind() const { return open_kind_; }
  // Why the table was rebuilt or reinitialised ("" when joined).
  const std::string& open_reason() const { return open_reason_; }
  uint64_t db_salt() const { return db_salt_; }
  uint64_t table_id() const { return table_id_; }
  uint64_t nonce() const { return nonce_; }

 private:
  friend class ReaderSlot;
  struct Mapping;  // the Boost.Interprocess region (reader_table.cc)
  ReaderTable(std::string path, uint64_t db_salt, int fd, std::unique_ptr<Mapping> mapping);
  // Open's steps once the file is mapped (the others are in reader_table.cc).
  // Writes a new header (new table id), zeroing the writer's words; when
  // `alone` is false (rebuilt in use) first clears every slot whose lock is
  // free. Sets open_kind_, open_reason_ (`reason`, or a default) and header_.
  void WriteNewHeader(bool alone, std::string reason);
  // Downgrades the in-use lock to shared when `alone`, then drops the init lock.
  Status FinishOpen(bool alone);

  std::atomic_ref<uint64_t> Word(size_t offset) const {
    return std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(base_ + offset));
  }
  std::atomic_ref<uint64_t> SlotWord(uint32_t index, size_t field) const {
    return Word(kShmSlotsOffset + size_t{index} * kShmSlotSize + field);
  }
  void ReleaseSlot(uint32_t index);
  // Takes slot `index`'s lock when it is free; clears the slot (true) or
  // leaves it to its live owner (false). REQUIRES: mu_ held, not owned_.
  bool ReclaimIfDead(uint32_t index);

  const std::string path_;
  const uint64_t db_salt_;
  const int fd_;  // this handle's open file description: its locks
  std::unique_ptr<Mapping> mapping_;
  uint8_t* base_ = nullptr;                       // kShmFileSize bytes, mapped shared read-write
  std::array<uint8_t, kShmHeaderSize> header_{};  // as this handle opened it
  uint64_t pid_ = 0;
  uint64_t nonce_ = 0;
  uint64_t table_id_ = 0;
  OpenKind open_kind_ = OpenKind::kJoined;
  std::string open_reason_;

  std::mutex mu_;
  std::array<bool, kShmSlotCount> owned_{};  // guarded by mu_
  uint32_t owned_count_ = 0;                 // guarded by mu_
};

}  // namespace sombra
