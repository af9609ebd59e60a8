// env/posix_file.h: File over a POSIX file descriptor (internal to lib/env).
#pragma once

#include <string>

#include "env/env.h"

namespace sombra {

// "<what> <path>: <strerror(err)>" as an IOError carrying err.
Status PosixError(const std::string& what, const std::string& path, int err);

class PosixFile final : public File {
 public:
  PosixFile(std::string path, int fd, bool writable)
      : path_(std::move(path)), fd_(fd), writable_(writable) {}
  ~PosixFile() override;

  const std::string& path() const override { return path_; }
  Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* bytes_read) override;
  Status WriteAt(uint64_t offset, std::string_view data) override;
  Status Append(std::string_view data) override;
  Status Sync() override;
  Status Truncate(uint64_t size) override;
  Result<uint64_t> Size() override;

 private:
  Status CheckWritable() const;

  const std::string path_;
  const int fd_;
  const bool writable_;
};

}  // namespace sombra
