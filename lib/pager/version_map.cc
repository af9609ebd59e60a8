#include "pager/version_map.h"

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
  Leaf* leaf = (*mid)[(page_no >> kLeafBits) & ((1 << kMidBits) - 1)].load(
      std::memory_order_acquire);
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

void VersionMap::AppendOldest(uint32_t page_no, std::unique_ptr<PageVersion> v) {
  std::atomic<PageVersion*>* slot = SlotOrCreate(page_no);
  PageVersion* tail = slot->load(std::memory_order_relaxed);
  if (tail == nullptr) {
    Push(page_no, std::move(v));
    return;
  }
  while (PageVersion* older = tail->older.load(std::memory_order_relaxed)) tail = older;
  tail->older.store(v.release(), std::memory_order_release);
  ++version_count_;
}

size_t VersionMap::Prune(uint32_t page_no, uint64_t keep_lsn, uint64_t drop_through,
                         RetireBin* bin) {
  std::atomic<PageVersion*>* slot = Slot(page_no);
  if (slot == nullptr) return 0;
  PageVersion* head = slot->load(std::memory_order_relaxed);
  size_t cut = 0;
  auto retire_from = [&](PageVersion* v) {
    while (v != nullptr) {
      PageVersion* older = v->older.load(std::memory_order_relaxed);
      bin->Add(v);
      ++cut;
      v = older;
    }
  };
  if (head == nullptr) return 0;
  if (drop_through != 0 && keep_lsn >= drop_through && head->lsn <= drop_through) {
    // The whole chain is at or below what the file holds.
    slot->store(nullptr, std::memory_order_release);
    retire_from(head);
    pages_.erase(page_no);
  } else {
    PageVersion* keep = head;
    while (keep != nullptr && keep->lsn > keep_lsn) {
      keep = keep->older.load(std::memory_order_relaxed);
    }
    if (keep != nullptr) {
      PageVersion* older = keep->older.load(std::memory_order_relaxed);
      keep->older.store(nullptr, std::memory_order_release);
      retire_from(older);
    }
  }
  version_count_ -= cut;
  return cut;
}

}  // namespace sombra::pager
