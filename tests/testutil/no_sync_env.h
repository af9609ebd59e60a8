// testutil/no_sync_env.h: Env::Default() with every fdatasync turned into
// a no-op. Tests that simulate crashes with FaultInjectionEnv (which tracks
// durability itself) run on it so that real fsyncs do not dominate their
// run time; never for a test of real durability.
#pragma once

#include <memory>
#include <string>

#include "env/env.h"
#include "env/env_wrapper.h"

namespace sombra::test {

class NoSyncEnv final : public EnvWrapper {
 public:
  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    SOMBRA_ASSIGN_OR_RETURN(auto file, base()->OpenFile(path, mode));
    return std::unique_ptr<File>(new NoSyncFile(std::move(file)));
  }
  Status SyncDir(const std::string&) override { return Status::OK(); }

 private:
  class NoSyncFile final : public FileWrapper {
   public:
    using FileWrapper::FileWrapper;
    Status Sync() override { return Status::OK(); }
  };
};

}  // namespace sombra::test
