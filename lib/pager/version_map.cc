#include "pager/version_map.h"

#include <algorithm>

namespace sombra::pager {

RetireBin::~RetireBin() {
  for (PageVersion* v : nodes_) delete v;
  // Release the chain of later bins iteratively: a long chain must not
  // recurse once per bin. A bin whose only owner is its predecessor cannot
  // be acquired by anyone else, so use_count() == 1 is stable here.
  std::shared_ptr<RetireBin> next = std::move(next_);
  while (next && next.use_count() == 1) {
    std::shared_ptr<RetireBin> after = std::move(next->next_);
    next.reset();
    next = std::move(after);
  }
}

VersionMap::VersionMap() = default;

VersionMap::~VersionMap() {
  for (auto& mid_slot : top_) {
    Mid* mid = mid_slot.load(std::memory_order_relaxed);
    if (mid == nullptr) continue;
    for (auto& leaf_slot : *mid) {
      Leaf* leaf = leaf_slot.load(std::memory_order_relaxed);
      if (leaf == nullptr) continue;
      for (auto& head : *leaf) {
        PageVersion* v = head.load(std::memory_order_relaxed);
        while (v != nullptr) {
          PageVersion* older = v->older.load(std::memory_order_relaxed);
          delete v;
          v = older;
        }
      }
      delete leaf;
    }
    delete mid;
  }
}

std::atomic<PageVersion*>* VersionMap::Slot(uint32_t page_no) const {
  Mid* mid = top_[page_no >> (kLeafBits + kMidBits)].load(std::memory_order_acquire);
  if (mid == nullptr) return nullptr;
  Leaf* leaf =
      (*mid)[(page_no >> kLeafBits) & ((1 << kMidBits) - 1)].load(std::memory_order_acquire);
  if (leaf == nullptr) return nullptr;
  return const_cast<std::atomic<PageVersion*>*>(&(*leaf)[page_no & ((1 << kLeafBits) - 1)]);
}

std::atomic<PageVersion*>* VersionMap::SlotOrCreate(uint32_t page_no) {
  auto& mid_slot = top_[page_no >> (kLeafBits + kMidBits)];
  Mid* mid = mid_slot.load(std::memory_order_relaxed);
  if (mid == nullptr) {
    mid = new Mid();
    mid_slot.store(mid, std::memory_order_release);
  }
  auto& leaf_slot = (*mid)[(page_no >> kLeafBits) & ((1 << kMidBits) - 1)];
  Leaf* leaf = leaf_slot.load(std::memory_order_relaxed);
  if (leaf == nullptr) {
    leaf = new Leaf();
    leaf_slot.store(leaf, std::memory_order_release);
  }
  return &(*leaf)[page_no & ((1 << kLeafBits) - 1)];
}

const PageVersion* VersionMap::Head(uint32_t page_no) const {
  std::atomic<PageVersion*>* slot = Slot(page_no);
  return slot == nullptr ? nullptr : slot->load(std::memory_order_acquire);
}

const PageVersion* VersionMap::Find(uint32_t page_no, uint64_t snapshot) const {
  const PageVersion* v = Head(page_no);
  while (v != nullptr && v->lsn > snapshot) v = v->older.load(std::memory_order_acquire);
  return v;
}

void VersionMap::Push(uint32_t page_no, std::unique_ptr<PageVersion> v) {
  std::atomic<PageVersion*>* slot = SlotOrCreate(page_no);
  v->older.store(slot->load(std::memory_order_relaxed), std::memory_order_relaxed);
  slot->store(v.release(), std::memory_order_release);
  pages_.insert(page_no);
  ++version_count_;
}

const PageVersion* VersionMap::Oldest(uint32_t page_no) const {
  const PageVersion* v = Head(page_no);
  while (v != nullptr) {
    const PageVersion* older = v->older.load(std::memory_order_acquire);
    if (older == nullptr) break;
    v = older;
  }
  return v;
}

size_t VersionMap::Prune(uint32_t page_no, const std::vector<uint64_t>& snapshots,
                         uint64_t file_lsn, RetireBin* bin) {
  std::atomic<PageVersion*>* slot = Slot(page_no);
  if (slot == nullptr || snapshots.empty()) return 0;
  PageVersion* head = slot->load(std::memory_order_relaxed);
  if (head == nullptr) return 0;

  // Walk newest to oldest; snapshots are visited from the newest down, so
  // each version is needed iff it is the first one at or below the next
  // unsatisfied snapshot.
  std::vector<PageVersion*> chain;
  for (PageVersion* v = head; v != nullptr; v = v->older.load(std::memory_order_relaxed)) {
    chain.push_back(v);
  }
  // The version the page file holds (the newest at or below file_lsn) is
  // kept like a reader's: the suffix rule below must find exactly it.
  std::vector<uint64_t> wanted(snapshots);
  if (file_lsn != 0) {
    wanted.insert(std::upper_bound(wanted.begin(), wanted.end(), file_lsn), file_lsn);
  }
  std::vector<bool> needed(chain.size(), false);
  auto snap = wanted.rbegin();
  for (size_t i = 0; i < chain.size(); ++i) {
    if (chain[i]->lsn > snapshots.back()) {
      needed[i] = true;  // not yet visible to anyone: the writer's
      continue;
    }
    while (snap != wanted.rend() && *snap >= chain[i]->lsn) {
      needed[i] = true;  // the newest version at or below *snap
      ++snap;
    }
  }
  // The file suffix: the version the file holds and everything older.
  size_t suffix = chain.size();
  if (file_lsn != 0) {
    for (size_t i = 0; i < chain.size(); ++i) {
      if (chain[i]->lsn <= file_lsn) {
        if (snapshots.front() >= chain[i]->lsn) suffix = i;
        break;
      }
    }
  }
  size_t cut = 0;
  PageVersion* newer = nullptr;  // last kept version
  for (size_t i = 0; i < chain.size(); ++i) {
    if (i < suffix && needed[i]) {
      newer = chain[i];
      continue;
    }
    // Unlink chain[i]: readers standing on it still find its older link.
    PageVersion* older = (i + 1 < chain.size() && i + 1 < suffix) ? chain[i + 1] : nullptr;
    if (i >= suffix) older = nullptr;
    if (newer == nullptr) {
      slot->store(older, std::memory_order_release);
    } else {
      newer->older.store(older, std::memory_order_release);
    }
    bin->Add(chain[i]);
    ++cut;
  }
  if (slot->load(std::memory_order_relaxed) == nullptr) pages_.erase(page_no);
  version_count_ -= cut;
  return cut;
}

}  // namespace sombra::pager
