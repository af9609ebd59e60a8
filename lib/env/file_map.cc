#include "env/file_map.h"

namespace sombra {

Result<std::unique_ptr<FileMap>> FileMap::Open(Env* env, const std::string& path, uint64_t size) {
  SOMBRA_ASSIGN_OR_RETURN(auto region, env->MapReadOnly(path, size));
  return std::unique_ptr<FileMap>(new FileMap(env, path, std::move(region)));
}

std::shared_ptr<const MappedRegion> FileMap::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return region_;
}

uint64_t FileMap::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return region_->size();
}

Status FileMap::Grow(uint64_t new_size) {
  std::lock_guard<std::mutex> lock(mu_);
  if (new_size < region_->size()) {
    return Status::InvalidArgument("FileMap::Grow cannot shrink the map of " + path_);
  }
  if (new_size == region_->size()) return Status::OK();
  SOMBRA_ASSIGN_OR_RETURN(auto region, env_->MapReadOnly(path_, new_size));
  Retire();
  region_ = std::move(region);
  return Status::OK();
}

Status FileMap::Refresh() { return Refresh(size()); }

Status FileMap::Refresh(uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  SOMBRA_ASSIGN_OR_RETURN(auto region, env_->MapReadOnly(path_, size));
  Retire();
  region_ = std::move(region);
  return Status::OK();
}

void FileMap::Retire() {
  std::erase_if(older_, [](const auto& w) { return w.expired(); });
  older_.push_back(region_);
}

std::vector<std::shared_ptr<const MappedRegion>> FileMap::LiveRegions() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<const MappedRegion>> out{region_};
  for (const auto& w : older_) {
    if (auto r = w.lock()) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace sombra
