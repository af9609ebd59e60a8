// The "pages" and "bank" workloads and the model they share.
#include <gtest/gtest.h>

#include <algorithm>

#include "kill_workloads.h"
#include "pager/pager_txn.h"
#include "util/coding.h"

namespace sombra::kill_test {
namespace {

using pager::kFirstDataPage;
using pager::kPageHeaderSize;
using pager::PageKind;
using pager::Pager;
using pager::PagerTxn;

// ---- Helpers for child loops ------------------------------------------

template <typename T>
T OrFail(Result<T> r, const char* what) {
  if (!r.ok()) ChildFail(std::string(what) + ": " + r.status().ToString());
  return std::move(*r);
}

void OkOrFail(const Status& s, const char* what) {
  if (!s.ok()) ChildFail(std::string(what) + ": " + s.ToString());
}

// Sends the intent, commits, sends the ack; sometimes checkpoints.
void CommitReported(Pager* pager, std::unique_ptr<PagerTxn> txn, uint64_t lsn,
                    const std::string& intent, Reporter* out, Rng* rng) {
  out->Send(RecordType::kIntent, lsn, intent);
  OkOrFail(txn->Commit(), "commit");
  out->Send(RecordType::kAck, lsn);
  txn.reset();
  if ((*rng)() % 16 == 0) OkOrFail(pager->Checkpoint(), "checkpoint");
}

// ---- pages --------------------------------------------------------------

constexpr uint32_t kMinPages = 8;
constexpr uint32_t kMaxPages = 160;
constexpr int kMaxOpsPerTxn = 6;

// Byte `offset` of page `page_no` as written by transaction `lsn`.
uint8_t PatternByte(uint64_t lsn, uint32_t page_no, uint32_t offset) {
  uint64_t x = lsn * 0x9E3779B97F4A7C15ull ^ (uint64_t{page_no} << 40) ^ (offset >> 3);
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  return static_cast<uint8_t>(x >> (8 * (offset & 7)));
}

struct PageOp {
  uint32_t page_no = 0;
  uint32_t offset = 0;
  uint32_t length = 0;
  bool allocate = false;
};

void FillPattern(uint8_t* page, uint64_t lsn, const PageOp& op) {
  for (uint32_t i = op.offset; i < op.offset + op.length; ++i) {
    page[i] = PatternByte(lsn, op.page_no, i);
  }
}

void PutOp(std::string* dst, const PageOp& op) {
  PutVarint32(dst, op.page_no);
  PutVarint32(dst, op.offset);
  PutVarint32(dst, op.length);
  dst->push_back(op.allocate ? 1 : 0);
}

std::vector<PageOp> ParseOps(std::string_view payload) {
  std::vector<PageOp> ops;
  const auto* p = reinterpret_cast<const uint8_t*>(payload.data());
  const auto* limit = p + payload.size();
  while (p < limit) {
    PageOp op;
    p = DecodeVarint32(p, limit, &op.page_no);
    if (p != nullptr) p = DecodeVarint32(p, limit, &op.offset);
    if (p != nullptr) p = DecodeVarint32(p, limit, &op.length);
    if (p == nullptr || p == limit) {
      ADD_FAILURE() << "malformed intent of " << payload.size() << " bytes";
      return {};
    }
    op.allocate = *p++ != 0;
    ops.push_back(op);
  }
  return ops;
}

class PagesWorkload final : public SequentialWorkload {
 public:
  const char* name() const override { return "pages"; }

  // A log of a few transactions: most children pass automatic checkpoints.
  Options options() const override {
    Options o = Workload::options();
    o.wal_checkpoint_bytes = 64 << 10;
    return o;
  }

  void Setup(Pager* pager) override {
    model_.set_page_size(pager->page_size());
    lsn_ = pager->published().lsn;
  }

  void RunChild(Pager* pager, Reporter* out, Rng* rng) override {
    for (;;) {
      std::unique_ptr<PagerTxn> txn = OrFail(pager->BeginWrite(), "begin");
      const uint64_t lsn = txn->base_lsn() + 1;
      std::string intent;
      const int n = 1 + static_cast<int>((*rng)() % kMaxOpsPerTxn);
      for (int k = 0; k < n; ++k) PutOp(&intent, RandomOp(txn.get(), lsn, rng));
      CommitReported(pager, std::move(txn), lsn, intent, out, rng);
    }
  }

 protected:
  void Apply(uint64_t lsn, std::string_view payload) override {
    for (const PageOp& op : ParseOps(payload)) {
      uint8_t* page = op.allocate ? model_.Create(op.page_no, lsn) : model_.Change(op.page_no, lsn);
      if (op.offset + op.length > model_.page_size()) {
        ADD_FAILURE() << "intent range past the page: " << op.offset << "+" << op.length;
        return;
      }
      FillPattern(page, lsn, op);
    }
  }

 private:
  // Allocates a page or patches ranges of an existing one, in `txn`.
  static PageOp RandomOp(PagerTxn* txn, uint64_t lsn, Rng* rng) {
    const uint32_t ps = txn->page_size();
    const uint32_t body = ps - kPageHeaderSize;
    const uint32_t pages = static_cast<uint32_t>(txn->state().page_count) - kFirstDataPage;
    PageOp op;
    if (pages < kMinPages || (pages < kMaxPages && (*rng)() % 4 == 0)) {
      uint8_t* page = nullptr;
      op.page_no = OrFail(txn->Allocate(PageKind::kRaw, &page), "allocate");
      op.offset = kPageHeaderSize;
      op.length = (*rng)() % 4 == 0 ? static_cast<uint32_t>((*rng)() % (body + 1)) : body;
      op.allocate = true;
      FillPattern(page, lsn, op);
      return op;
    }
    op.page_no = kFirstDataPage + static_cast<uint32_t>((*rng)() % pages);
    uint8_t* page = OrFail(txn->Write(op.page_no), "write");
    op.offset = kPageHeaderSize + static_cast<uint32_t>((*rng)() % body);
    const uint32_t room = ps - op.offset;
    // Mostly small deltas; one in eight may be large enough to log an image.
    const uint32_t max_len = (*rng)() % 8 == 0 ? room : std::min<uint32_t>(room, 128);
    op.length = 1 + static_cast<uint32_t>((*rng)() % max_len);
    FillPattern(page, lsn, op);
    txn->NoteWrite(op.page_no, op.offset, op.length);
    return op;
  }
};

// ---- bank ---------------------------------------------------------------

constexpr uint32_t kAccounts = 16;
constexpr uint64_t kInitialBalance = 1000;
constexpr uint32_t kBalanceOffset = kPageHeaderSize;  // u64
constexpr uint64_t kMaxTransfer = 500;

uint32_t AccountPage(uint32_t account) { return kFirstDataPage + account; }

class BankWorkload final : public SequentialWorkload {
 public:
  const char* name() const override { return "bank"; }

  void Setup(Pager* pager) override {
    model_.set_page_size(pager->page_size());
    auto txn = pager->BeginWrite();
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    const uint64_t lsn = (*txn)->base_lsn() + 1;
    for (uint32_t a = 0; a < kAccounts; ++a) {
      uint8_t* page = nullptr;
      auto page_no = (*txn)->Allocate(PageKind::kRaw, &page);
      ASSERT_TRUE(page_no.ok()) << page_no.status().ToString();
      ASSERT_EQ(*page_no, AccountPage(a));
      EncodeFixed64(page + kBalanceOffset, kInitialBalance);
      EncodeFixed64(model_.Create(*page_no, lsn) + kBalanceOffset, kInitialBalance);
    }
    Status s = (*txn)->Commit();
    ASSERT_TRUE(s.ok()) << s.ToString();
    lsn_ = pager->published().lsn;
    ASSERT_EQ(lsn_, lsn);
  }

  void RunChild(Pager* pager, Reporter* out, Rng* rng) override {
    for (;;) {
      std::unique_ptr<PagerTxn> txn = OrFail(pager->BeginWrite(), "begin");
      const uint64_t lsn = txn->base_lsn() + 1;
      const uint32_t from = static_cast<uint32_t>((*rng)() % kAccounts);
      const uint32_t to =
          (from + 1 + static_cast<uint32_t>((*rng)() % (kAccounts - 1))) % kAccounts;
      uint8_t* from_page = OrFail(txn->Write(AccountPage(from)), "write");
      uint8_t* to_page = OrFail(txn->Write(AccountPage(to)), "write");
      const uint64_t have = DecodeFixed64(from_page + kBalanceOffset);
      const uint64_t amount = (*rng)() % (std::min(have, kMaxTransfer) + 1);
      EncodeFixed64(from_page + kBalanceOffset, have - amount);
      EncodeFixed64(to_page + kBalanceOffset, DecodeFixed64(to_page + kBalanceOffset) + amount);
      txn->NoteWrite(AccountPage(from), kBalanceOffset, 8);
      txn->NoteWrite(AccountPage(to), kBalanceOffset, 8);
      std::string intent;
      PutVarint32(&intent, from);
      PutVarint32(&intent, to);
      PutVarint64(&intent, amount);
      CommitReported(pager, std::move(txn), lsn, intent, out, rng);
    }
  }

 protected:
  void Apply(uint64_t lsn, std::string_view payload) override {
    const auto* p = reinterpret_cast<const uint8_t*>(payload.data());
    const auto* limit = p + payload.size();
    uint32_t from = 0, to = 0;
    uint64_t amount = 0;
    p = DecodeVarint32(p, limit, &from);
    if (p != nullptr) p = DecodeVarint32(p, limit, &to);
    if (p != nullptr) p = DecodeVarint64(p, limit, &amount);
    if (p != limit || from >= kAccounts || to >= kAccounts) {
      ADD_FAILURE() << "malformed transfer intent for LSN " << lsn;
      return;
    }
    uint8_t* f = model_.Change(AccountPage(from), lsn) + kBalanceOffset;
    uint8_t* t = model_.Change(AccountPage(to), lsn) + kBalanceOffset;
    EXPECT_GE(DecodeFixed64(f), amount) << "transfer " << lsn << " overdraws account " << from;
    EncodeFixed64(f, DecodeFixed64(f) - amount);
    EncodeFixed64(t, DecodeFixed64(t) + amount);
  }

  void VerifyMore(const pager::Snapshot& snap) override {
    uint64_t total = 0;
    for (uint32_t a = 0; a < kAccounts; ++a) {
      auto page = snap.Read(AccountPage(a));
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      total += DecodeFixed64(*page + kBalanceOffset);
    }
    EXPECT_EQ(total, kAccounts * kInitialBalance)
        << "money created or destroyed at LSN " << snap.lsn();
  }
};

}  // namespace

// ---- PageModel ----------------------------------------------------------

uint8_t* PageModel::Create(uint32_t page_no, uint64_t lsn) {
  Page& p = pages_[page_no];
  if (!p.bytes.empty()) ADD_FAILURE() << "page " << page_no << " allocated twice";
  p.bytes.assign(page_size_, 0);
  p.lsn = lsn;
  return p.bytes.data();
}

uint8_t* PageModel::Change(uint32_t page_no, uint64_t lsn) {
  Page& p = pages_[page_no];
  if (p.bytes.empty()) {
    ADD_FAILURE() << "page " << page_no << " changed before it was allocated";
    p.bytes.assign(page_size_, 0);
  }
  p.lsn = lsn;
  return p.bytes.data();
}

void PageModel::Verify(const pager::Snapshot& snap) const {
  const uint64_t want_count = pages_.empty() ? kFirstDataPage : pages_.rbegin()->first + 1;
  EXPECT_EQ(snap.state().page_count, want_count) << "at LSN " << snap.lsn();
  for (uint32_t page_no = kFirstDataPage; page_no < snap.state().page_count; ++page_no) {
    SCOPED_TRACE("page " + std::to_string(page_no) + " at LSN " + std::to_string(snap.lsn()));
    auto page = snap.Read(page_no);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    auto it = pages_.find(page_no);
    ASSERT_NE(it, pages_.end()) << "a page the model does not know";
    const uint8_t* got = *page;
    const Page& want = it->second;
    EXPECT_EQ(got[pager::kHeaderKindOffset], static_cast<uint8_t>(PageKind::kRaw));
    EXPECT_EQ(DecodeFixed32(got + pager::kHeaderPageNoOffset), page_no);
    EXPECT_EQ(DecodeFixed64(got + pager::kHeaderLsnOffset), want.lsn) << "the page's LSN";
    const auto diff = std::mismatch(got + kPageHeaderSize, got + page_size_,
                                    want.bytes.begin() + kPageHeaderSize);
    EXPECT_EQ(diff.first, got + page_size_)
        << "content differs from offset " << (diff.first - got) << " (page LSN "
        << DecodeFixed64(got + pager::kHeaderLsnOffset) << ", model LSN " << want.lsn << ")";
  }
}

// ---- SequentialWorkload -------------------------------------------------

void SequentialWorkload::Check(Pager* pager, const std::vector<Record>& records) {
  const Record* pending = nullptr;
  uint64_t acked = lsn_;
  for (const Record& r : records) {
    switch (r.type) {
      case RecordType::kReady:
        EXPECT_EQ(r.lsn, lsn_) << "the child opened the database at another LSN";
        break;
      case RecordType::kIntent:
        ASSERT_EQ(pending, nullptr)
            << "intent " << r.lsn << " with " << pending->lsn << " unacknowledged";
        ASSERT_EQ(r.lsn, acked + 1) << "intent LSN";
        pending = &r;
        break;
      case RecordType::kAck:
        ASSERT_TRUE(pending != nullptr && pending->lsn == r.lsn) << "ack " << r.lsn;
        Apply(r.lsn, pending->payload);
        acked = r.lsn;
        pending = nullptr;
        break;
      case RecordType::kOpening:  // dropped by the harness
        break;
    }
  }
  const pager::TreeState published = pager->published();
  ASSERT_GE(published.lsn, acked) << "acknowledged transactions lost";
  ASSERT_LE(published.lsn, acked + 1) << "more than the one unacknowledged transaction";
  if (published.lsn == acked + 1) {
    ASSERT_TRUE(pending != nullptr && pending->lsn == published.lsn)
        << "the LSN moved past the last acknowledged commit " << acked
        << " with no transaction in flight";
    Apply(published.lsn, pending->payload);  // committed, not yet acknowledged
  }
  lsn_ = published.lsn;
  auto snap = pager->BeginRead();
  EXPECT_EQ(snap->lsn(), published.lsn);
  model_.Verify(*snap);
  VerifyMore(*snap);
}

std::unique_ptr<Workload> MakeWorkload(const std::string& name) {
  if (name == "pages") return std::make_unique<PagesWorkload>();
  if (name == "bank") return std::make_unique<BankWorkload>();
  if (name == "counters") return MakeCountersWorkload();
  return nullptr;
}

}  // namespace sombra::kill_test
