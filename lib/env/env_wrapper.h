// env/env_wrapper.h: an Env and a File that forward every call to another
// one (as LevelDB's EnvWrapper), for an Env that changes one or two calls:
// the fault-injection Env and test Envs. Override what is changed; the
// rest passes through.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "env/env.h"

namespace sombra {

class FileWrapper : public File {
 public:
  explicit FileWrapper(std::unique_ptr<File> base) : base_(std::move(base)) {}
  const std::string& path() const override { return base_->path(); }
  Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* bytes_read) override {
    return base_->ReadAt(offset, n, dst, bytes_read);
  }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    return base_->WriteAt(offset, data);
  }
  Status Append(std::string_view data) override { return base_->Append(data); }
  Status Sync() override { return base_->Sync(); }
  Status Truncate(uint64_t size) override { return base_->Truncate(size); }
  Result<uint64_t> Size() override { return base_->Size(); }

 protected:
  File* base() const { return base_.get(); }

 private:
  std::unique_ptr<File> base_;
};

class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* base = Env::Default()) : base_(base) {}
  using Env::LockDatabase;  // the waiting overload
  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    return base_->OpenFile(path, mode);
  }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  bool IsDirectory(const std::string& path) override { return base_->IsDirectory(path); }
  Result<uint64_t> GetFileSize(const std::string& path) override {
    return base_->GetFileSize(path);
  }
  Status RemoveFile(const std::string& path) override { return base_->RemoveFile(path); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return base_->RenameFile(from, to);
  }
  Status SyncDir(const std::string& dir) override { return base_->SyncDir(dir); }
  Result<std::shared_ptr<const MappedRegion>> MapReadOnly(const std::string& path,
                                                          uint64_t size) override {
    return base_->MapReadOnly(path, size);
  }
  Result<std::unique_ptr<FileLock>> LockDatabase(const std::string& db_path) override {
    return base_->LockDatabase(db_path);
  }

 protected:
  Env* base() const { return base_; }

 private:
  Env* const base_;
};

}  // namespace sombra
