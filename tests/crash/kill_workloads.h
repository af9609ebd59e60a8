// The workloads of the kill tests and the parent's models of them.
//
//   pages    random multi-page transactions: allocations and patches of
//            random ranges with a pattern derived from (lsn, page, offset),
//            explicit and automatic checkpoints.
//   bank     16 account pages; each transaction moves an amount between
//            two of them; the total never changes.
//   counters 8 threads, each incrementing a counter on its own page, one
//            page per transaction (group commit).
#pragma once

#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include "kill_harness.h"
#include "pager/format.h"
#include "pager/pager.h"
#include "pager/snapshot.h"

namespace sombra::kill_test {

// The content the parent expects of every data page: kRaw pages, each
// with its bytes and the LSN of the last transaction that changed it.
class PageModel {
 public:
  void set_page_size(uint32_t page_size) { page_size_ = page_size; }
  uint32_t page_size() const { return page_size_; }
  // A new zeroed page, as PagerTxn::Allocate returns it, changed at `lsn`.
  uint8_t* Create(uint32_t page_no, uint64_t lsn);
  // The bytes of an existing page, to change at `lsn`.
  uint8_t* Change(uint32_t page_no, uint64_t lsn);
  // Every page of `snap` reads without error and equals the model; the
  // page count is the model's.
  void Verify(const pager::Snapshot& snap) const;

 private:
  struct Page {
    std::vector<uint8_t> bytes;
    uint64_t lsn = 0;
  };
  uint32_t page_size_ = 0;
  std::map<uint32_t, Page> pages_;
};

// A workload whose child commits one transaction at a time: it sends an
// intent before each Commit and an ack after it. After a kill the
// database holds every acknowledged transaction, plus (or not) the one in
// flight, entirely.
class SequentialWorkload : public Workload {
 public:
  void Check(pager::Pager* pager, const std::vector<Record>& records) final;

 protected:
  // Applies transaction `lsn`, described by its intent, to model_.
  virtual void Apply(uint64_t lsn, std::string_view payload) = 0;
  // Checks beyond model_.Verify.
  virtual void VerifyMore(const pager::Snapshot& snap) { (void)snap; }

  PageModel model_;
  uint64_t lsn_ = 0;  // the database's LSN at the last check
};

// ---- counters -----------------------------------------------------------

inline constexpr int kCounterThreads = 8;
inline constexpr uint32_t kCounterOffset = pager::kPageHeaderSize;  // u64

// Creates `n` counter pages (2 .. 2+n-1), all zero, in one transaction.
Status CreateCounterPages(pager::Pager* pager, int n);
// One transaction: the counter on `page_no` plus one. On OK, *lsn is the
// transaction's LSN and *value the counter it wrote.
Status IncrementCounter(pager::Pager* pager, uint32_t page_no, uint64_t* lsn, uint64_t* value);

std::unique_ptr<Workload> MakeCountersWorkload();

}  // namespace sombra::kill_test
