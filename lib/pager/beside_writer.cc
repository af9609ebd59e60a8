#include "pager/beside_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <utility>

#include "env/reader_table.h"

namespace sombra::pager {

bool WriterHoldsMark(const std::string& db_path) {
  const int fd = ::open((db_path + "-shm").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // no table: no handle has the database open
  struct flock fl = {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(kShmWriterLockByte);
  fl.l_len = 1;
  const bool held = ::fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

FileStamp StampOf(const std::string& path) {
  FileStamp s;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return s;
  s.exists = true;
  s.ino = static_cast<uint64_t>(st.st_ino);
  s.size = static_cast<int64_t>(st.st_size);
  s.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  s.ctime_ns = int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec;
  return s;
}

DbStamp StampDb(const std::string& db_path) {
  return DbStamp{StampOf(db_path), StampOf(db_path + "-wal")};
}

void RetryBesideWriter(const std::string& db_path, const std::function<std::string()>& attempt,
                       bool writer_counts) {
  std::string last;  // the previous quiet attempt's failure
  for (int n = 1;; ++n) {
    const DbStamp before = StampDb(db_path);
    std::string failure = attempt();
    if (failure.empty() || n >= kBesideWriterAttempts) return;
    const bool quiet = StampDb(db_path) == before && !(writer_counts && WriterHoldsMark(db_path));
    if (quiet && failure == last) return;
    last = quiet ? std::move(failure) : std::string();
    if (!quiet) std::this_thread::sleep_for(std::chrono::milliseconds(n < 10 ? 1 : 5));
  }
}

}  // namespace sombra::pager
