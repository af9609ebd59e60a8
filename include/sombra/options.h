// sombra/options.h: how a database is opened.
//
// Every field has a safe default; DB::Open validates each one and returns
// InvalidArgument (creating no file) for a value out of range.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sombra {

// What a successful Commit promises after a crash.
enum class Durability {
  // fdatasync before Commit returns: a committed transaction survives a
  // power loss.
  kFull,
  // fdatasync by a commit that comes 50 ms or more after the previous sync,
  // by each checkpoint and at close; no timer, so the commits before a
  // pause stay unsynced until one of those. A crash may lose the last
  // commits, never consistency (a prefix of the commits survives).
  kNormal,
  // Never fdatasync: for tests and bulk loads that can be redone.
  kOff,
};

// Fields are declared in the order of the API contract, which designated
// initializers (`Options{.read_only = true, ...}`) must follow.
struct Options {
  // Create the database when the file does not exist.
  // Default: true.
  bool create_if_missing = true;

  // Fail with InvalidArgument when the database already exists.
  // Default: false.
  bool error_if_exists = false;

  // Open without writing a byte to any file (no lock is taken for writing).
  // Default: false.
  bool read_only = false;

  // Page size used when the database is created (fixed for its life).
  // Opening an existing database with a different page_size is
  // InvalidArgument naming both sizes. REQUIRES: a power of two from 4096
  // to 65536. Default: 4096.
  uint32_t page_size = 4096;

  // See Durability. Default: kFull.
  Durability durability = Durability::kFull;

  // The write-ahead log is checkpointed into the page file once it holds
  // this many bytes. Default: 64 MiB.
  uint64_t wal_checkpoint_bytes = 64 << 20;

  // Compress full page images in the write-ahead log with lz4 when that
  // makes them smaller. Default: true.
  bool wal_compression = true;

  // Verify the checksum of every page read from the page file.
  // Default: true.
  bool verify_checksums = true;

  // Deprecated (README.md, "Changelog"): never read, and never was. Page
  // versions live in memory until the checkpoint that writes them, which
  // `wal_checkpoint_bytes` bounds; the page file is read through the OS
  // page cache, which Sombra does not size. Kept so that code setting it
  // still compiles; it will be removed in a later release. (Not marked
  // [[deprecated]]: GCC 12 then warns in every default-constructed Options,
  // not only where the field is set.)
  size_t cache_bytes = 0;

  // How long a writable open waits for the writer lock (`PATH-lock`) held by
  // another process or another handle before it returns Busy, in
  // milliseconds; the Busy message then says how long it waited. 0 fails at
  // once. The lock is tried again after a sleep that grows from 1 ms to
  // 20 ms (as SQLite's default busy handler), so a lock released while
  // waiting is taken within about 20 ms; a holder that never lets go costs
  // the wait, never a hang. Read-only opens take no lock and ignore it.
  // Default: 0.
  uint32_t busy_timeout_ms = 0;

  // Salvage a damaged write-ahead log. Without it (the default), a log
  // whose damage cannot be a crash's torn tail (a damaged record followed by
  // a commit that records it as durable, or a damaged log header followed
  // by committed transactions the page file lacks) makes Open return
  // Corruption naming the log, the offset and the record, and no file is
  // changed. With it, Open replays the transactions before the damage and
  // drops the rest: read-only, in memory only; for writing, the valid
  // prefix is checkpointed and the damaged log is kept aside as
  // `PATH-wal.salvaged` (replacing an older one) before a new log starts.
  // A log without damage opens exactly as without salvage. Default: false.
  bool salvage_wal = false;
};

}  // namespace sombra
