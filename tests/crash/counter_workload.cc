// The "counters" workload: group commit under kills. Eight threads each
// increment a counter on their own page, one transaction per increment,
// and report each acknowledged (thread, counter). After a kill, each page
// holds its last acknowledged counter or one more, and the LSN moved by
// exactly the number of increments the pages show.
#include <gtest/gtest.h>

#include <array>
#include <thread>

#include "kill_workloads.h"
#include "pager/pager_txn.h"
#include "util/coding.h"

namespace sombra::kill_test {
namespace {

using pager::kFirstDataPage;
using pager::Pager;

// Thread 0 checkpoints after this many of its commits.
constexpr uint64_t kCheckpointEvery = 32;

uint32_t CounterPage(int thread) { return kFirstDataPage + static_cast<uint32_t>(thread); }

void CounterThread(Pager* pager, Reporter* out, int thread) {
  for (uint64_t n = 1;; ++n) {
    uint64_t lsn = 0, value = 0;
    Status s = IncrementCounter(pager, CounterPage(thread), &lsn, &value);
    if (!s.ok()) ChildFail("increment: " + s.ToString());
    std::string ack;
    PutVarint32(&ack, static_cast<uint32_t>(thread));
    PutVarint64(&ack, value);
    out->Send(RecordType::kAck, lsn, ack);
    if (thread == 0 && n % kCheckpointEvery == 0) {
      s = pager->Checkpoint();
      if (!s.ok()) ChildFail("checkpoint: " + s.ToString());
    }
  }
}

class CountersWorkload final : public Workload {
 public:
  const char* name() const override { return "counters"; }

  void Setup(Pager* pager) override {
    Status s = CreateCounterPages(pager, kCounterThreads);
    ASSERT_TRUE(s.ok()) << s.ToString();
    lsn_ = pager->published().lsn;
  }

  void RunChild(Pager* pager, Reporter* out, Rng* rng) override {
    (void)rng;
    std::vector<std::thread> threads;
    for (int t = 0; t < kCounterThreads; ++t) threads.emplace_back(CounterThread, pager, out, t);
    for (auto& t : threads) t.join();  // never: the threads run until killed
  }

  void Check(Pager* pager, const std::vector<Record>& records) override {
    // The lowest value each counter may hold: its last acknowledged one.
    std::array<uint64_t, kCounterThreads> low = durable_;
    uint64_t max_acked = lsn_;
    for (const Record& r : records) {
      if (r.type == RecordType::kReady) {
        EXPECT_EQ(r.lsn, lsn_) << "the child opened the database at another LSN";
        continue;
      }
      ASSERT_EQ(r.type, RecordType::kAck);
      uint32_t thread = 0;
      uint64_t value = 0;
      const auto* p = reinterpret_cast<const uint8_t*>(r.payload.data());
      const auto* limit = p + r.payload.size();
      p = DecodeVarint32(p, limit, &thread);
      if (p != nullptr) p = DecodeVarint64(p, limit, &value);
      ASSERT_TRUE(p == limit && thread < kCounterThreads) << "malformed ack";
      ASSERT_GT(value, low[thread]) << "thread " << thread << " acknowledged out of order";
      low[thread] = value;
      max_acked = std::max(max_acked, r.lsn);
    }
    const pager::TreeState published = pager->published();
    EXPECT_GE(published.lsn, max_acked) << "acknowledged transactions lost";
    auto snap = pager->BeginRead();
    EXPECT_EQ(snap->lsn(), published.lsn);
    ASSERT_EQ(snap->state().page_count, kFirstDataPage + kCounterThreads);
    uint64_t increments = 0;
    for (int t = 0; t < kCounterThreads; ++t) {
      auto page = snap->Read(CounterPage(t));
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      const uint64_t value = DecodeFixed64(*page + kCounterOffset);
      EXPECT_GE(value, low[t]) << "thread " << t << ": acknowledged increment lost";
      EXPECT_LE(value, low[t] + 1) << "thread " << t << ": more than one unacknowledged increment";
      EXPECT_LE(DecodeFixed64(*page + pager::kHeaderLsnOffset), published.lsn) << "thread " << t;
      ASSERT_GE(value, durable_[t]);
      increments += value - durable_[t];
      durable_[t] = value;
    }
    EXPECT_EQ(published.lsn - lsn_, increments)
        << "each transaction increments exactly one counter";
    lsn_ = published.lsn;
  }

 private:
  std::array<uint64_t, kCounterThreads> durable_{};  // counters at the last check
  uint64_t lsn_ = 0;
};

}  // namespace

Status CreateCounterPages(Pager* pager, int n) {
  SOMBRA_ASSIGN_OR_RETURN(auto txn, pager->BeginWrite());
  for (int t = 0; t < n; ++t) {
    uint8_t* page = nullptr;
    SOMBRA_ASSIGN_OR_RETURN(uint32_t page_no, txn->Allocate(pager::PageKind::kRaw, &page));
    if (page_no != CounterPage(t)) {
      return Status::InvalidArgument("counter page " + std::to_string(page_no) +
                                     " on a database that is not new");
    }
  }
  return txn->Commit();
}

Status IncrementCounter(Pager* pager, uint32_t page_no, uint64_t* lsn, uint64_t* value) {
  SOMBRA_ASSIGN_OR_RETURN(auto txn, pager->BeginWrite());
  SOMBRA_ASSIGN_OR_RETURN(uint8_t * page, txn->Write(page_no));
  const uint64_t next = DecodeFixed64(page + kCounterOffset) + 1;
  EncodeFixed64(page + kCounterOffset, next);
  txn->NoteWrite(page_no, kCounterOffset, 8);
  const uint64_t txn_lsn = txn->base_lsn() + 1;
  SOMBRA_RETURN_IF_ERROR(txn->Commit());
  *lsn = txn_lsn;
  *value = next;
  return Status::OK();
}

std::unique_ptr<Workload> MakeCountersWorkload() { return std::make_unique<CountersWorkload>(); }

}  // namespace sombra::kill_test
