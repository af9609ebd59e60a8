// btree/tree_compact.h: compaction steps (DB::Compact; docs/operations.md,
// "Compaction").
//
// A step runs inside one write transaction. It walks every live page of
// the transaction's state (PlanCopy: the default tree, the catalog, the
// named trees, their overflow chains) and the freelist, then moves up to
// `max_moves` of the highest-numbered live pages into the lowest free
// pages: the page's bytes go to the free page with every page number
// inside them renumbered, and every live page that names a moved page
// (its parent, its sibling leaves, the leaf or chain page before an
// overflow page, a catalog entry, the roots of the state) is rewritten
// with the new number. The page count then goes down to just past the
// highest page still live: the free pages past it leave the freelist, the
// moved pages are simply no longer counted. Everything is logged as any
// transaction is, so a crash keeps the step whole or not at all.
//
// With max_moves == 0 a step only gives back the free pages at the end
// of the file (DB::Checkpoint and a clean close do that much).
//
// Thread safety: the transaction's (one thread, writer slot held).
#pragma once

#include <cstdint>

#include "pager/pager_txn.h"
#include "util/result.h"

namespace sombra::btree {

struct CompactStepResult {
  uint64_t pages_moved = 0;       // live pages moved into lower free pages
  uint64_t pages_rewritten = 0;   // live pages rewritten for the new numbers
  uint64_t pages_given_back = 0;  // page count before minus after
  // No live page sits above a free page any more: another step would
  // neither move nor give back anything.
  bool done = false;
};

Status CompactStep(pager::PagerTxn* txn, uint64_t max_moves, CompactStepResult* result);

// The cheap form of CompactStep(txn, 0, ...): gives back the free pages at
// the end of the file, found by reading pages backwards from the last one
// while they are free pages; no walk of the trees. Does nothing when the
// last page is in use.
Status TrimFreeTail(pager::PagerTxn* txn, uint64_t* pages_given_back);

}  // namespace sombra::btree
