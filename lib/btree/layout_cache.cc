#include "btree/layout_cache.h"

#include <cassert>
#include <utility>

#include "pager/format.h"
#include "util/coding.h"

namespace sombra::btree {

bool LayoutCache::Take(uint32_t page_no, const uint8_t* page, LeafLayout* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(page_no);
  if (it == map_.end()) return false;
  slots_ -= it->second.size();
  // Only the writer changes leaves and every commit gives the pages it
  // changes its LSN: a page still at the LSN its layout was kept at is the
  // page it was kept for. The header check catches a page that is no
  // longer a leaf (freed, or reached through a damaged link); debug
  // builds compare the slot directory too.
  const bool same = it->second.kept_lsn() != 0 &&
                    it->second.kept_lsn() == DecodeFixed64(page + pager::kHeaderLsnOffset) &&
                    it->second.DescribesHeader(page);
  assert(!same || it->second.Describes(page));
  if (same) *out = std::move(it->second);
  map_.erase(it);
  return same;
}

void LayoutCache::Keep(std::unordered_map<uint32_t, LeafLayout>&& layouts) {
  size_t incoming = 0;
  for (const auto& [page_no, layout] : layouts) incoming += layout.size();
  if (incoming > max_slots_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (slots_ + incoming > max_slots_) ClearLocked();
  for (auto& [page_no, layout] : layouts) {
    layout.RebindCounters(nullptr);  // its writer's tally ends with the writer
    auto [it, fresh] = map_.try_emplace(page_no);
    if (!fresh) slots_ -= it->second.size();
    slots_ += layout.size();
    it->second = std::move(layout);
  }
}

void LayoutCache::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  ClearLocked();
}

void LayoutCache::ClearLocked() {
  map_.clear();
  slots_ = 0;
}

size_t LayoutCache::layouts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return map_.size();
}

size_t LayoutCache::slots() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slots_;
}

}  // namespace sombra::btree
