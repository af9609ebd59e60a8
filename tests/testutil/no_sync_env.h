// testutil/no_sync_env.h: Env::Default() with every fdatasync turned into
// a no-op. Tests that simulate crashes with FaultInjectionEnv (which tracks
// durability itself) run on it so that real fsyncs do not dominate their
// run time; never for a test of real durability.
#pragma once

#include <memory>
#include <string>

#include "env/env.h"

namespace sombra::test {

class NoSyncEnv final : public Env {
 public:
  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    SOMBRA_ASSIGN_OR_RETURN(auto file, base_->OpenFile(path, mode));
    return std::unique_ptr<File>(new NoSyncFile(std::move(file)));
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
  Status SyncDir(const std::string&) override { return Status::OK(); }
  Result<std::shared_ptr<const MappedRegion>> MapReadOnly(const std::string& path,
                                                          uint64_t size) override {
    return base_->MapReadOnly(path, size);
  }
  Result<std::unique_ptr<FileLock>> LockDatabase(const std::string& db_path) override {
    return base_->LockDatabase(db_path);
  }

 private:
  class NoSyncFile final : public File {
   public:
    explicit NoSyncFile(std::unique_ptr<File> base) : base_(std::move(base)) {}
    const std::string& path() const override { return base_->path(); }
    Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* bytes_read) override {
      return base_->ReadAt(offset, n, dst, bytes_read);
    }
    Status WriteAt(uint64_t offset, std::string_view data) override {
      return base_->WriteAt(offset, data);
    }
    Status Append(std::string_view data) override { return base_->Append(data); }
    Status Sync() override { return Status::OK(); }
    Status Truncate(uint64_t size) override { return base_->Truncate(size); }
    Result<uint64_t> Size() override { return base_->Size(); }

   private:
    std::unique_ptr<File> base_;
  };
  Env* const base_ = Env::Default();
};

}  // namespace sombra::test
