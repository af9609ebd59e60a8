// btree/tree_compact.cc: CompactStep and TrimFreeTail (tree_compact.h).
#include "btree/tree_compact.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "btree/tree_copy.h"
#include "pager/format.h"
#include "util/coding.h"

namespace sombra::btree {
namespace {

// What a step will do: the moves (source -> destination) and the new page
// count.
struct StepPlan {
  std::unordered_map<uint32_t, uint32_t> moves;
  std::vector<uint32_t> unlink;  // free pages leaving the freelist
  uint64_t page_count = 0;
  bool done = false;
};

void Choose(std::vector<uint32_t> live, std::vector<uint32_t> free, uint64_t max_moves,
            StepPlan* plan) {
  std::sort(live.begin(), live.end(), std::greater<>());
  std::sort(free.begin(), free.end());
  size_t n = 0;
  while (n < max_moves && n < live.size() && n < free.size() && free[n] < live[n]) {
    plan->moves.emplace(live[n], free[n]);
    ++n;
  }
  // Another step could move more only when this one stopped at max_moves.
  plan->done = !(n == max_moves && n < live.size() && n < free.size() && free[n] < live[n]);
  // Just past the highest page still in use: the highest live page not
  // moved, or the highest destination.
  uint64_t count = pager::kFirstDataPage;
  if (n < live.size()) count = std::max<uint64_t>(count, uint64_t{live[n]} + 1);
  if (n > 0) count = std::max<uint64_t>(count, uint64_t{free[n - 1]} + 1);
  plan->page_count = count;
  for (size_t i = 0; i < free.size(); ++i) {
    if (i < n || free[i] >= count) plan->unlink.push_back(free[i]);
  }
}

// Every live page that names a moved page, rewritten; every moved page
// written at its destination.
Status Apply(pager::PagerTxn* txn, const CopyPlan& live, const StepPlan& plan,
             CompactStepResult* result) {
  const uint32_t ps = txn->page_size();
  const PageRenumber map = [&plan](uint32_t p) {
    auto it = plan.moves.find(p);
    return it == plan.moves.end() ? p : it->second;
  };
  std::vector<uint8_t> scratch(ps);
  for (size_t i = 0; i < live.pages.size(); ++i) {
    const uint32_t page_no = live.pages[i];
    SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, txn->Read(page_no));
    std::memcpy(scratch.data(), page, ps);
    SOMBRA_RETURN_IF_ERROR(RenumberPage(map, live.roles[i], ps, scratch.data())
                               .WithContext("page " + std::to_string(page_no)));
    const uint32_t dest = map(page_no);
    if (dest == page_no && std::memcmp(scratch.data(), page, ps) == 0) continue;
    EncodeFixed32(scratch.data() + pager::kHeaderPageNoOffset, dest);
    SOMBRA_ASSIGN_OR_RETURN(uint8_t * out, txn->Write(dest));
    std::memcpy(out, scratch.data(), ps);
    txn->NoteWholePage(dest);
    if (dest == page_no) {
      result->pages_rewritten++;
    } else {
      result->pages_moved++;
    }
  }
  if (txn->root() != 0) txn->SetRoot(map(txn->root()));
  if (txn->catalog_root() != 0) txn->SetCatalogRoot(map(txn->catalog_root()));
  return Status::OK();
}

}  // namespace

Status CompactStep(pager::PagerTxn* txn, uint64_t max_moves, CompactStepResult* result) {
  *result = CompactStepResult{};
  const pager::TreeState& state = txn->state();
  const PageReader read = [txn](uint32_t page_no) { return txn->Read(page_no); };
  CopyPlan live;
  SOMBRA_RETURN_IF_ERROR(
      PlanCopy(read, txn->page_size(), state.page_count, state.root, state.catalog_root, &live));
  const uint64_t before = state.page_count;  // (state changes below)
  std::vector<uint32_t> free;
  SOMBRA_RETURN_IF_ERROR(txn->ListFree(&free));
  StepPlan plan;
  Choose(live.pages, std::move(free), max_moves, &plan);
  // The freelist first: its pages are read as it links them, before any
  // destination is overwritten.
  SOMBRA_RETURN_IF_ERROR(txn->UnlinkFree(plan.unlink));
  SOMBRA_RETURN_IF_ERROR(Apply(txn, live, plan, result));
  SOMBRA_RETURN_IF_ERROR(txn->ShrinkTo(plan.page_count));
  result->pages_given_back = before - plan.page_count;
  result->done = plan.done;
  return Status::OK();
}

Status TrimFreeTail(pager::PagerTxn* txn, uint64_t* pages_given_back) {
  *pages_given_back = 0;
  const uint64_t before = txn->state().page_count;
  const uint64_t free_pages = txn->state().freelist_count;
  std::vector<uint32_t> tail;
  uint64_t count = before;
  while (count > pager::kFirstDataPage && tail.size() < free_pages) {
    SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, txn->Read(static_cast<uint32_t>(count - 1)));
    if (page[pager::kHeaderKindOffset] != static_cast<uint8_t>(pager::PageKind::kFree)) break;
    tail.push_back(static_cast<uint32_t>(--count));
  }
  if (tail.empty()) return Status::OK();
  SOMBRA_RETURN_IF_ERROR(txn->UnlinkFree(tail));
  SOMBRA_RETURN_IF_ERROR(txn->ShrinkTo(count));
  *pages_given_back = before - count;
  return Status::OK();
}

}  // namespace sombra::btree
