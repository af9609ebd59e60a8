// env/posix_env.h: the POSIX Env (internal; use Env::Default()).
#pragma once

#include "env/env.h"

namespace sombra {

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override;
  bool FileExists(const std::string& path) override;
  bool IsDirectory(const std::string& path) override;
  Result<uint64_t> GetFileSize(const std::string& path) override;
  Status RemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Result<std::shared_ptr<const MappedRegion>> MapReadOnly(const std::string& path,
                                                          uint64_t size) override;
  using Env::LockDatabase;  // the waiting overload
  Result<std::unique_ptr<FileLock>> LockDatabase(const std::string& db_path) override;
};

}  // namespace sombra
