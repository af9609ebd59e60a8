// btree/btree_counters.cc: the registry names of the B+tree's counters.
#include "btree/btree_counters.h"

namespace sombra::btree {

namespace {

constexpr std::array<const char*, static_cast<size_t>(Tick::kCount)> kNames = {
    "key_decodes",
    "key_cmps",
    "memcopy_bytes",
    "allocator_builds",
    "allocator_page_parses",
    "allocator_cache_reuse",
    "allocator_split_triggers",
    "allocator_failures",
    "allocator_compactions",
    "allocator_bytes_moved",
    "leaf_splits",
    "internal_splits",
    "leaf_merges",
    "leaf_borrows",
    "leaf_shares",
    "overflow_pages",
    "freed_leaves_decoded"};

}  // namespace

const char* TickName(Tick t) { return kNames[static_cast<size_t>(t)]; }

TickCounters::TickCounters(MetricsRegistry* registry) {
  if (registry == nullptr) return;
  for (size_t i = 0; i < kNames.size(); ++i) counters_[i] = registry->GetCounter(kNames[i]);
}

void BTreeCounters::FlushTouched() const {
  for (uint32_t bits = touched_; bits != 0; bits &= bits - 1) {
    const auto i = static_cast<size_t>(__builtin_ctz(bits));
    if (pending_[i] == 0) continue;
    Counter* target = targets_ != nullptr ? targets_->of(i) : nullptr;
    if (target != nullptr) target->Add(pending_[i]);
    pending_[i] = 0;
  }
  touched_ = 0;
}

}  // namespace sombra::btree
