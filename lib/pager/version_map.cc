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
  PageVersion* older = slot->load(std::memory_order_relaxed);
  v->older.store(older, std::memory_order_relaxed);
  slot->store(v.release(), std::memory_order_release);
  // pages_ holds exactly the pages whose chain is not empty.
  if (older == nullptr) pages_.insert(page_no);
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

PageVersion* VersionMap::InFile(uint32_t page_no) const {
  for (PageVersion* v = const_cast<PageVersion*>(Head(page_no)); v != nullptr;
       v = v->older.load(std::memory_order_relaxed)) {
    if (v->in_file) return v;
  }
  return nullptr;
}

void VersionMap::SetInFile(uint32_t page_no, PageVersion* v) {
  if (PageVersion* old = InFile(page_no)) old->in_file = false;
  if (v != nullptr) v->in_file = true;
}

size_t VersionMap::Prune(uint32_t page_no, const std::vector<uint64_t>& snapshots,
                         bool file_may_stand_in, RetireBin* bin, const SuffixCheck& check) {
  std::atomic<PageVersion*>* slot = Slot(page_no);
  if (slot == nullptr || snapshots.empty()) return 0;
  PageVersion* head = slot->load(std::memory_order_relaxed);
  if (head == nullptr) return 0;

  // The scratch vectors are members: Prune runs for every page of every
  // commit, and chains are short (two versions, mostly).
  std::vector<PageVersion*>& chain = chain_scratch_;  // newest first
  chain.clear();
  for (PageVersion* v = head; v != nullptr; v = v->older.load(std::memory_order_relaxed)) {
    chain.push_back(v);
  }
  // needed[i]: some snapshot reads chain[i], or the writer will (not yet
  // published), or the file holds it. Snapshots are visited from the
  // newest down: a version is the newest at or below every snapshot in
  // [its LSN, the next newer version's LSN).
  std::vector<uint8_t>& needed = needed_scratch_;
  needed.assign(chain.size(), 0);
  auto snap = snapshots.rbegin();
  size_t file_index = chain.size();
  for (size_t i = 0; i < chain.size(); ++i) {
    if (chain[i]->in_file) file_index = i;
    if (chain[i]->lsn > snapshots.back() || chain[i]->in_file) needed[i] = 1;
    while (snap != snapshots.rend() && *snap >= chain[i]->lsn) {
      needed[i] = 1;
      ++snap;
    }
  }
  // The suffix drop: every snapshot that would read the file version or an
  // older one reads the file's bytes, which are the file version's.
  size_t suffix = chain.size();
  if (file_may_stand_in && file_index < chain.size() &&
      snapshots.front() >= chain[file_index]->lsn) {
    if (check) check(page_no, *chain[file_index]);
    suffix = file_index;
  }
  size_t cut = 0;
  PageVersion* newer = nullptr;  // last kept version
  for (size_t i = 0; i < chain.size(); ++i) {
    if (i < suffix && needed[i]) {
      newer = chain[i];
      continue;
    }
    // Unlink chain[i]; readers standing on it still find its older link.
    // Its successor is the next version kept, found when that one is kept
    // (here: the next one, or nothing past the suffix).
    PageVersion* older = (i + 1 < suffix) ? chain[i + 1] : nullptr;
    if (newer == nullptr) {
      slot->store(older, std::memory_order_release);
    } else {
      newer->older.store(older, std::memory_order_release);
    }
    chain[i]->in_file = false;
    bin->Add(chain[i]);
    ++cut;
  }
  if (slot->load(std::memory_order_relaxed) == nullptr) pages_.erase(page_no);
  version_count_ -= cut;
  return cut;
}

size_t VersionMap::DropPage(uint32_t page_no, RetireBin* bin) {
  std::atomic<PageVersion*>* slot = Slot(page_no);
  if (slot == nullptr) return 0;
  PageVersion* v = slot->load(std::memory_order_relaxed);
  slot->store(nullptr, std::memory_order_release);
  size_t cut = 0;
  for (; v != nullptr; v = v->older.load(std::memory_order_relaxed)) {
    v->in_file = false;
    bin->Add(v);
    ++cut;
  }
  pages_.erase(page_no);
  version_count_ -= cut;
  return cut;
}

}  // namespace sombra::pager
