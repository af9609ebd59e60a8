// env/file_map.h: a read-only map of a growing file.
//
// The map covers the first size() bytes of the file. Grow() maps a larger
// prefix after the file itself has been extended; the old MappedRegion stays
// valid for whoever still holds it (readers pin a region for the duration of
// a snapshot), and is unmapped when the last holder drops it.
//
// Thread safety: all methods may be called concurrently.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "env/env.h"

namespace sombra {

class FileMap {
 public:
  // Maps the first `size` bytes of `path`.
  static Result<std::unique_ptr<FileMap>> Open(Env* env, const std::string& path, uint64_t size);

  // The newest region; hold the shared_ptr for as long as its bytes are used.
  std::shared_ptr<const MappedRegion> current() const;
  uint64_t size() const;

  // Every region handed out that is still held by someone, current first.
  std::vector<std::shared_ptr<const MappedRegion>> LiveRegions() const;

  // Maps the file afresh at the same size: later readers get the file's
  // bytes even where an older region preserved old ones.
  Status Refresh();
  // The same with a map of `size` bytes (the file shrank since the current
  // map was made: a map never reaches past the end of the file when made).
  Status Refresh(uint64_t size);

  // Remaps to cover `new_size` bytes.
  // REQUIRES: new_size >= size() and the file is at least new_size bytes.
  Status Grow(uint64_t new_size);

 private:
  FileMap(Env* env, std::string path, std::shared_ptr<const MappedRegion> region)
      : env_(env), path_(std::move(path)), region_(std::move(region)) {}

  // Moves region_ to older_ (dropping expired entries). REQUIRES: mu_ held.
  void Retire();

  Env* const env_;
  const std::string path_;
  mutable std::mutex mu_;
  std::shared_ptr<const MappedRegion> region_;
  std::vector<std::weak_ptr<const MappedRegion>> older_;  // superseded regions
};

}  // namespace sombra
