// env/env.h: the file system interface every layer uses.
//
// All file access in Sombra goes through an Env so that tests can swap in
// FaultInjectionEnv (fault_injection_env.h) and simulate power loss, torn
// writes and failing syscalls. Env::Default() is the POSIX implementation.
// Boost.Interprocess exceptions never leave this layer: they become Status.
//
// Thread safety: an Env may be used from any thread. A File may be used from
// several threads for positional reads and writes (pread/pwrite semantics);
// Append and Truncate must be serialised by the caller.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sombra/status.h"
#include "util/result.h"

namespace sombra {

enum class OpenMode {
  kReadOnly,         // the file must exist; no write is possible
  kReadWrite,        // the file must exist
  kCreate,           // read-write, created when missing
  kCreateExclusive,  // read-write, InvalidArgument when it already exists
};

class File {
 public:
  virtual ~File();

  virtual const std::string& path() const = 0;

  // Reads up to n bytes at offset into dst; *bytes_read < n only at end of
  // file.
  virtual Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* bytes_read) = 0;
  // Writes all of data at offset, extending the file when needed.
  virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  // Writes data at the current end of the file.
  virtual Status Append(std::string_view data) = 0;
  // fdatasync: the data written so far survives a power loss.
  virtual Status Sync() = 0;
  // Sets the file's size (shrinks or grows with zeros).
  virtual Status Truncate(uint64_t size) = 0;
  virtual Result<uint64_t> Size() = 0;

  // Reads exactly n bytes or returns IOError naming the short read.
  Status ReadExactly(uint64_t offset, size_t n, char* dst);
};

// An immutable read-only view of the first size() bytes of a file. The view
// stays valid for as long as the object lives, whatever happens to later
// mappings of the same file.
class MappedRegion {
 public:
  virtual ~MappedRegion();
  virtual const uint8_t* data() const = 0;
  virtual uint64_t size() const = 0;

  // Detaches bytes [offset, offset + length) of this view from the file:
  // they keep their present content in private memory, whatever is written
  // to the file afterwards. Pointers into the range stay valid and never
  // see a change. Used before a checkpoint overwrites a page that readers
  // holding this view may still be reading.
  // REQUIRES: offset and length are multiples of the OS page size.
  virtual Status Preserve(uint64_t offset, uint64_t length) const = 0;
};

// A held database lock; destroying it releases the lock.
class FileLock {
 public:
  virtual ~FileLock();
  virtual const std::string& path() const = 0;  // the lock file's name
};

class Env {
 public:
  virtual ~Env();

  // The process-wide POSIX environment. Never deleted.
  static Env* Default();

  virtual Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual bool IsDirectory(const std::string& path) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // fsync of the directory, so that creations and renames in it are durable.
  virtual Status SyncDir(const std::string& dir) = 0;

  // Maps the first `size` bytes of `path` read-only.
  // REQUIRES: the file is at least `size` bytes long (checked: InvalidArgument).
  virtual Result<std::shared_ptr<const MappedRegion>> MapReadOnly(const std::string& path,
                                                                  uint64_t size) = 0;

  // Takes the exclusive lock `<db_path>-lock`: Busy naming the lock file when
  // another process or another handle in this process holds it. Never waits.
  virtual Result<std::unique_ptr<FileLock>> LockDatabase(const std::string& db_path) = 0;

  // LockDatabase(db_path), tried again while it is Busy until `wait_ms`
  // milliseconds have passed (Options::busy_timeout_ms); then Busy naming
  // the lock file and saying how long it waited. 0 is one attempt, exactly
  // LockDatabase(db_path). Errors other than Busy return at once.
  // Not virtual: every Env waits the same way, through its own
  // LockDatabase(db_path) (posix_map_lock.cc says why it polls).
  Result<std::unique_ptr<FileLock>> LockDatabase(const std::string& db_path, uint32_t wait_ms);
};

// The directory part of a path ("." when it has none).
std::string DirName(const std::string& path);

}  // namespace sombra
