// Read-only maps and the database lock, through Boost.Interprocess.
// Every Boost exception is caught here and becomes a Status.
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/file_mapping.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/sync/file_lock.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "env/posix_env.h"
#include "env/posix_file.h"

namespace sombra {
namespace bip = boost::interprocess;

namespace {

Status FromBoost(const std::string& what, const std::string& path,
                 const bip::interprocess_exception& e) {
  int err = e.get_native_error();
  if (err != 0) return PosixError(what, path, err);
  return Status::IOError(what + " " + path + ": " + e.what());
}

class BoostRegion final : public MappedRegion {
 public:
  explicit BoostRegion(bip::mapped_region region) : region_(std::move(region)) {}
  const uint8_t* data() const override {
    return static_cast<const uint8_t*>(region_.get_address());
  }
  uint64_t size() const override { return region_.get_size(); }

  // Copies the range into fresh anonymous memory, makes it read-only, and
  // moves it over the range with mremap(MREMAP_FIXED), which replaces the
  // old pages in one step: a reader sees the old mapping or the copy, both
  // with the same bytes, never a hole.
  Status Preserve(uint64_t offset, uint64_t length) const override {
    const uint64_t os_page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    if (offset % os_page != 0 || length % os_page != 0 || offset + length > size()) {
      return Status::InvalidArgument("Preserve: range not page-aligned or outside the map");
    }
    if (length == 0) return Status::OK();
    uint8_t* target = static_cast<uint8_t*>(region_.get_address()) + offset;
    void* copy = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (copy == MAP_FAILED) return PosixError("mmap (preserve)", "anonymous memory", errno);
    std::memcpy(copy, target, length);
    if (mprotect(copy, length, PROT_READ) != 0 ||
        mremap(copy, length, length, MREMAP_MAYMOVE | MREMAP_FIXED, target) == MAP_FAILED) {
      int err = errno;
      munmap(copy, length);
      return PosixError("mremap (preserve)", "mapped page file", err);
    }
    return Status::OK();
  }

 private:
  bip::mapped_region region_;
};

// A zero-length file cannot be mapped; its region is empty.
class EmptyRegion final : public MappedRegion {
 public:
  const uint8_t* data() const override { return nullptr; }
  uint64_t size() const override { return 0; }
  Status Preserve(uint64_t offset, uint64_t length) const override {
    if (offset == 0 && length == 0) return Status::OK();
    return Status::InvalidArgument("Preserve: range outside the map");
  }
};

// fcntl locks do not exclude two handles of one process, and closing any
// descriptor of the lock file drops the process's lock. So a process takes
// each lock file at most once: this table is consulted before the file is
// even opened.
std::mutex& LockTableMutex() {
  static std::mutex mu;
  return mu;
}
std::set<std::string>& LockTable() {
  static std::set<std::string>* table = new std::set<std::string>();
  return *table;
}

class BoostFileLock final : public FileLock {
 public:
  BoostFileLock(std::string path, std::string key, bip::file_lock lock)
      : path_(std::move(path)), key_(std::move(key)), lock_(std::move(lock)) {}
  ~BoostFileLock() override {
    std::lock_guard<std::mutex> guard(LockTableMutex());
    // Close the descriptor while the table still names the lock: closing it
    // after another thread took the lock again would drop that thread's lock.
    try {
      lock_->unlock();
    } catch (const bip::interprocess_exception&) {
      // Closing the descriptor releases the lock in any case.
    }
    lock_.reset();
    LockTable().erase(key_);
  }
  const std::string& path() const override { return path_; }

 private:
  const std::string path_;
  const std::string key_;
  std::optional<bip::file_lock> lock_;
};

Status BusyStatus(const std::string& lock_path) {
  return Status::Busy("database is locked: " + lock_path +
                      " is held by another process or another open handle");
}

}  // namespace

Result<std::shared_ptr<const MappedRegion>> PosixEnv::MapReadOnly(const std::string& path,
                                                                  uint64_t size) {
  SOMBRA_ASSIGN_OR_RETURN(uint64_t file_size, GetFileSize(path));
  if (size > file_size) {
    return Status::InvalidArgument("cannot map " + std::to_string(size) + " bytes of " + path +
                                   ": the file has only " + std::to_string(file_size));
  }
  if (size == 0) return std::shared_ptr<const MappedRegion>(std::make_shared<EmptyRegion>());
  try {
    bip::file_mapping mapping(path.c_str(), bip::read_only);
    bip::mapped_region region(mapping, bip::read_only, 0, static_cast<std::size_t>(size));
    return std::shared_ptr<const MappedRegion>(std::make_shared<BoostRegion>(std::move(region)));
  } catch (const bip::interprocess_exception& e) {
    return FromBoost("mmap", path, e);
  }
}

Result<std::unique_ptr<FileLock>> PosixEnv::LockDatabase(const std::string& db_path) {
  const std::string lock_path = db_path + "-lock";
  std::error_code ec;
  std::string key = std::filesystem::weakly_canonical(lock_path, ec).string();
  if (ec) key = lock_path;

  std::lock_guard<std::mutex> guard(LockTableMutex());
  if (LockTable().count(key) != 0) return BusyStatus(lock_path);

  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return PosixError("open lock file", lock_path, errno);
  ::close(fd);  // no lock is held yet, so closing drops nothing
  try {
    bip::file_lock lock(lock_path.c_str());
    if (!lock.try_lock()) return BusyStatus(lock_path);
    LockTable().insert(key);
    return std::unique_ptr<FileLock>(new BoostFileLock(lock_path, key, std::move(lock)));
  } catch (const bip::interprocess_exception& e) {
    return FromBoost("lock", lock_path, e);
  }
}

// Waiting for the lock polls: try LockDatabase(db_path), and while it is
// Busy sleep 1 ms, doubling up to 20 ms (about what SQLite's default busy
// handler does), until the deadline on the monotonic clock. Why not a
// blocking lock: fcntl's F_SETLKW (file_lock::lock) cannot be given a
// deadline, would wait forever for a holder that never lets go, and does
// not see the in-process table, whose holder is another handle of this
// process that releases it by closing; polling treats both holders alike.
// The cost is a lock released while waiting is taken up to ~20 ms late.
Result<std::unique_ptr<FileLock>> Env::LockDatabase(const std::string& db_path, uint32_t wait_ms) {
  using Clock = std::chrono::steady_clock;
  constexpr std::chrono::milliseconds kMaxPause(20);
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + std::chrono::milliseconds(wait_ms);
  std::chrono::milliseconds pause(1);
  for (;;) {
    Result<std::unique_ptr<FileLock>> lock = LockDatabase(db_path);
    if (lock.ok() || !lock.status().IsBusy() || wait_ms == 0) return lock;
    const Clock::time_point now = Clock::now();
    if (now >= deadline) {
      const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
      return Status::Busy(lock.status().message() + " (waited " + std::to_string(waited.count()) +
                          " ms)");
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, kMaxPause);
  }
}

}  // namespace sombra
