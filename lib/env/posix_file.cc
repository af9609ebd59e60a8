#include "env/posix_file.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sombra {

Status PosixError(const std::string& what, const std::string& path, int err) {
  return Status::IOError(what + " " + path + ": " + strerror(err), err);
}

File::~File() = default;

Status File::ReadExactly(uint64_t offset, size_t n, char* dst) {
  size_t got = 0;
  SOMBRA_RETURN_IF_ERROR(ReadAt(offset, n, dst, &got));
  if (got != n) {
    return Status::IOError("short read of " + path() + " at offset " + std::to_string(offset) +
                           ": wanted " + std::to_string(n) + " bytes, got " + std::to_string(got));
  }
  return Status::OK();
}

PosixFile::~PosixFile() { ::close(fd_); }

Status PosixFile::CheckWritable() const {
  if (!writable_) return Status::IOError("file opened read-only: " + path_, EBADF);
  return Status::OK();
}

Status PosixFile::ReadAt(uint64_t offset, size_t n, char* dst, size_t* bytes_read) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd_, dst + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return PosixError("pread at offset " + std::to_string(offset + done) + " of", path_, errno);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  *bytes_read = done;
  return Status::OK();
}

Status PosixFile::WriteAt(uint64_t offset, std::string_view data) {
  SOMBRA_RETURN_IF_ERROR(CheckWritable());
  size_t done = 0;
  while (done < data.size()) {
    ssize_t r =
        ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return PosixError("pwrite at offset " + std::to_string(offset + done) + " of", path_, errno);
    }
    done += static_cast<size_t>(r);
  }
  return Status::OK();
}

Status PosixFile::Append(std::string_view data) {
  SOMBRA_ASSIGN_OR_RETURN(uint64_t end, Size());
  return WriteAt(end, data);
}

Status PosixFile::Sync() {
  SOMBRA_RETURN_IF_ERROR(CheckWritable());
  if (::fdatasync(fd_) != 0) return PosixError("fdatasync", path_, errno);
  return Status::OK();
}

Status PosixFile::Truncate(uint64_t size) {
  SOMBRA_RETURN_IF_ERROR(CheckWritable());
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    return PosixError("ftruncate to " + std::to_string(size) + " bytes of", path_, errno);
  }
  return Status::OK();
}

Result<uint64_t> PosixFile::Size() {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return PosixError("fstat", path_, errno);
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace sombra
