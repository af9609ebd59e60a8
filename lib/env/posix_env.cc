// The POSIX Env: files through open/pread/pwrite/fdatasync, maps and locks
// through Boost.Interprocess (posix_map_lock.cc).
#include "env/posix_env.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "env/posix_file.h"

namespace sombra {

Env::~Env() = default;
MappedRegion::~MappedRegion() = default;
FileLock::~FileLock() = default;

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();
  return env;
}

Result<std::unique_ptr<File>> PosixEnv::OpenFile(const std::string& path, OpenMode mode) {
  int flags = O_CLOEXEC;
  bool writable = true;
  switch (mode) {
    case OpenMode::kReadOnly:
      flags |= O_RDONLY;
      writable = false;
      break;
    case OpenMode::kReadWrite:
      flags |= O_RDWR;
      break;
    case OpenMode::kCreate:
      flags |= O_RDWR | O_CREAT;
      break;
    case OpenMode::kCreateExclusive:
      flags |= O_RDWR | O_CREAT | O_EXCL;
      break;
  }
  int fd;
  do {
    fd = ::open(path.c_str(), flags, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("no such file: " + path);
    if (err == EEXIST) return Status::InvalidArgument("file already exists: " + path);
    if (err == EISDIR) return Status::InvalidArgument("is a directory, not a file: " + path);
    return PosixError("open", path, err);
  }
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument("is a directory, not a file: " + path);
  }
  return std::unique_ptr<File>(new PosixFile(path, fd, writable));
}

bool PosixEnv::FileExists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

bool PosixEnv::IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<uint64_t> PosixEnv::GetFileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound("no such file: " + path);
    return PosixError("stat", path, errno);
  }
  return static_cast<uint64_t>(st.st_size);
}

Status PosixEnv::RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return Status::NotFound("no such file: " + path);
    return PosixError("unlink", path, errno);
  }
  return Status::OK();
}

Status PosixEnv::RenameFile(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return PosixError("rename to " + to + " of", from, errno);
  }
  return Status::OK();
}

Status PosixEnv::SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return PosixError("open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return PosixError("fsync directory", dir, err);
  return Status::OK();
}

}  // namespace sombra
