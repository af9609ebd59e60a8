// Overflow chains: written through a real Pager, read back through
// snapshots (before and after a checkpoint), freed to the freelist, and
// rejected with Corruption when damaged.
#include "btree/overflow.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "btree/node_format.h"
#include "pager/pager.h"
#include "pager/pager_txn.h"
#include "pager/snapshot.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"
#include "util/metrics.h"

namespace sombra::btree {
namespace {

using pager::PageKind;

std::string RandomValue(std::mt19937_64* rng, size_t n) {
  std::string v(n, '\0');
  for (char& ch : v) ch = static_cast<char>((*rng)());
  return v;
}

uint64_t ChainPages(uint64_t value_len, uint32_t page_size) {
  const uint64_t cap = page_size - kOverflowDataOffset;
  return value_len == 0 ? 1 : (value_len + cap - 1) / cap;
}

PageReader SnapshotReader(const pager::Snapshot* snap) {
  return [snap](uint32_t p) { return snap->Read(p); };
}

class OverflowTest : public ::testing::Test {
 protected:
  void Open() {
    pager_.reset();
    auto p = pager::Pager::Open(Env::Default(), path_, Options());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pager_ = std::move(*p);
  }
  std::unique_ptr<pager::PagerTxn> Begin() {
    auto txn = pager_->BeginWrite();
    EXPECT_TRUE(txn.ok()) << txn.status().ToString();
    return txn.ok() ? std::move(*txn) : nullptr;
  }
  uint32_t ps() const { return pager_->page_size(); }

  test::TempDir dir_;
  std::string path_ = dir_.File("db");
  std::unique_ptr<pager::Pager> pager_;
  MetricsRegistry metrics_;
  BTreeCounters counters_{&metrics_};
  const BTreeCounters* c_ = &counters_;
};

TEST_F(OverflowTest, ValuesRoundTripAndFreeTheirPages) {
  const uint64_t seed = test::TestSeed();
  std::mt19937_64 rng(seed);
  ASSERT_NO_FATAL_FAILURE(Open());
  const uint32_t cap = ps() - kOverflowDataOffset;
  std::vector<size_t> sizes = {0, 1, cap - 1, cap, cap + 1, 2 * cap, 3 * cap - 7, 200 * 1024};
  for (int i = 0; i < 24; ++i) sizes.push_back(rng() % (200 * 1024 + 1));
  sizes.push_back(5 * 1024 * 1024);
  std::vector<std::string> values;
  for (size_t n : sizes) values.push_back(RandomValue(&rng, n));

  // Write every value in one transaction; read each back through it too.
  std::vector<uint32_t> first(values.size());
  uint64_t expected_pages = 0;
  {
    auto txn = Begin();
    ASSERT_NE(txn, nullptr);
    for (size_t i = 0; i < values.size(); ++i) {
      auto r = WriteOverflow(txn.get(), values[i], c_);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      first[i] = *r;
      expected_pages += ChainPages(values[i].size(), ps());
    }
    counters_.Flush();
    EXPECT_EQ(metrics_.Value("overflow_pages"), expected_pages);
    pager::PagerTxn* t = txn.get();
    std::string out;
    ASSERT_TRUE(
        ReadOverflow([t](uint32_t p) { return t->Read(p); }, ps(), first[5], values[5].size(), &out)
            .ok());
    EXPECT_EQ(out, values[5]);
    ASSERT_TRUE(txn->Commit().ok());
  }

  auto check_all = [&](const char* when) {
    auto snap = pager_->BeginRead();
    for (size_t i = 0; i < values.size(); ++i) {
      std::string out = "stale";
      Status s = ReadOverflow(SnapshotReader(snap.get()), ps(), first[i], values[i].size(), &out);
      ASSERT_TRUE(s.ok()) << when << ", value " << i << ": " << s.ToString();
      ASSERT_EQ(out.size(), values[i].size()) << when;
      ASSERT_TRUE(out == values[i]) << when << ", value " << i;
      // The chain has exactly the pages the value needs, all full but the last.
      uint64_t pages = 0;
      for (uint32_t p = first[i]; p != 0; ++pages) {
        auto page = snap->Read(p);
        ASSERT_TRUE(page.ok());
        const uint32_t next = DecodeFixed32(*page + kOverflowNextOffset);
        if (next != 0) {
          ASSERT_EQ(DecodeFixed32(*page + kOverflowUsedOffset), cap);
        }
        ASSERT_EQ((*page)[pager::kHeaderKindOffset], static_cast<uint8_t>(PageKind::kOverflow));
        p = next;
      }
      EXPECT_EQ(pages, ChainPages(values[i].size(), ps())) << "value " << i;
    }
  };
  check_all("from the page versions");
  ASSERT_NO_FATAL_FAILURE(Open());  // checkpoint at close, read from the file
  check_all("from the page file");

  // Free every chain: the freelist grows by each chain's length.
  const uint64_t page_count = pager_->published().page_count;
  {
    auto txn = Begin();
    ASSERT_NE(txn, nullptr);
    for (size_t i = 0; i < values.size(); ++i) {
      const uint64_t before = txn->state().freelist_count;
      Status s = FreeOverflow(txn.get(), first[i], values[i].size());
      ASSERT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(txn->state().freelist_count - before, ChainPages(values[i].size(), ps()));
    }
    ASSERT_TRUE(txn->Commit().ok());
  }
  EXPECT_EQ(pager_->published().freelist_count, expected_pages);

  // A new chain reuses freed pages instead of growing the file.
  {
    auto txn = Begin();
    ASSERT_NE(txn, nullptr);
    auto r = WriteOverflow(txn.get(), values.back(), c_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(txn->state().page_count, page_count);
    std::string out;
    pager::PagerTxn* t = txn.get();
    ASSERT_TRUE(
        ReadOverflow([t](uint32_t p) { return t->Read(p); }, ps(), *r, values.back().size(), &out)
            .ok());
    EXPECT_TRUE(out == values.back());
    ASSERT_TRUE(txn->Commit().ok());
  }
}

// A chain damaged through the pager: Read and Free both refuse it, and
// Free releases nothing.
TEST_F(OverflowTest, DamagedChainInThePager) {
  std::mt19937_64 rng(test::TestSeed());
  ASSERT_NO_FATAL_FAILURE(Open());
  const std::string value = RandomValue(&rng, 5 * (ps() - kOverflowDataOffset) + 100);
  uint32_t first;
  std::vector<uint32_t> chain;
  {
    auto txn = Begin();
    ASSERT_NE(txn, nullptr);
    auto r = WriteOverflow(txn.get(), value, c_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    first = *r;
    for (uint32_t p = first; p != 0;) {
      chain.push_back(p);
      auto page = txn->Read(p);
      ASSERT_TRUE(page.ok());
      p = DecodeFixed32(*page + kOverflowNextOffset);
    }
    ASSERT_TRUE(txn->Commit().ok());
  }
  ASSERT_EQ(chain.size(), 6u);

  struct Damage {
    const char* name;
    size_t page;  // index in the chain
    uint32_t offset;
    uint32_t value;  // written as u32, or u8 at offset 0
  };
  const std::vector<Damage> damages = {
      {"kind", 3, pager::kHeaderKindOffset, static_cast<uint8_t>(PageKind::kRaw)},
      {"loop", 4, kOverflowNextOffset, 0},  // set to chain[1] below
      {"short", 2, kOverflowNextOffset, 0},
      {"past the file", 1, kOverflowNextOffset, 1u << 30},
      {"too many bytes", 5, kOverflowUsedOffset, ps()},
  };
  for (const Damage& d : damages) {
    SCOPED_TRACE(d.name);
    {
      auto txn = Begin();
      ASSERT_NE(txn, nullptr);
      auto page = txn->Write(chain[d.page]);
      ASSERT_TRUE(page.ok());
      if (d.offset == pager::kHeaderKindOffset) {
        (*page)[0] = static_cast<uint8_t>(d.value);
      } else {
        const uint32_t v = std::string(d.name) == "loop" ? chain[1] : d.value;
        EncodeFixed32(*page + d.offset, v);
      }
      txn->NoteWrite(chain[d.page], d.offset, 4);
      ASSERT_TRUE(txn->Commit().ok());
    }
    auto snap = pager_->BeginRead();
    std::string out = "untouched";
    Status s = ReadOverflow(SnapshotReader(snap.get()), ps(), first, value.size(), &out);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_EQ(out, "untouched");
    snap.reset();
    {
      auto txn = Begin();
      ASSERT_NE(txn, nullptr);
      const uint64_t free_before = txn->state().freelist_count;
      s = FreeOverflow(txn.get(), first, value.size());
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_EQ(txn->state().freelist_count, free_before);
      txn->Abort();
    }
    // Repair: rewrite the value's pages as they were.
    {
      auto txn = Begin();
      ASSERT_NE(txn, nullptr);
      auto page = txn->Write(chain[d.page]);
      ASSERT_TRUE(page.ok());
      const uint32_t cap = ps() - kOverflowDataOffset;
      (*page)[0] = static_cast<uint8_t>(PageKind::kOverflow);
      EncodeFixed32(*page + kOverflowNextOffset, d.page + 1 < chain.size() ? chain[d.page + 1] : 0);
      EncodeFixed32(
          *page + kOverflowUsedOffset,
          d.page + 1 < chain.size() ? cap : static_cast<uint32_t>(value.size() - 5 * cap));
      txn->NoteWholePage(chain[d.page]);
      ASSERT_TRUE(txn->Commit().ok());
    }
    snap = pager_->BeginRead();
    s = ReadOverflow(SnapshotReader(snap.get()), ps(), first, value.size(), &out);
    ASSERT_TRUE(s.ok()) << "after repair: " << s.ToString();
    EXPECT_TRUE(out == value);
  }
}

// Hand-built chains in memory: every rule of a valid chain.
class FakePages {
 public:
  explicit FakePages(uint32_t page_size) : ps_(page_size) {}
  uint8_t* Page(uint32_t no, PageKind kind = PageKind::kOverflow) {
    auto& p = pages_[no];
    p.assign(ps_, 0);
    p[pager::kHeaderKindOffset] = static_cast<uint8_t>(kind);
    EncodeFixed32(p.data() + pager::kHeaderPageNoOffset, no);
    return p.data();
  }
  // A chain over `nos` holding `value`, pages full but the last.
  void Chain(const std::vector<uint32_t>& nos, const std::string& value) {
    const uint32_t cap = ps_ - kOverflowDataOffset;
    size_t pos = 0;
    for (size_t i = 0; i < nos.size(); ++i) {
      uint8_t* p = Page(nos[i]);
      const size_t n = std::min<size_t>(cap, value.size() - pos);
      EncodeFixed32(p + kOverflowNextOffset, i + 1 < nos.size() ? nos[i + 1] : 0);
      EncodeFixed32(p + kOverflowUsedOffset, static_cast<uint32_t>(n));
      std::memcpy(p + kOverflowDataOffset, value.data() + pos, n);
      pos += n;
    }
  }
  uint8_t* Get(uint32_t no) { return pages_.at(no).data(); }
  PageReader Reader() {
    return [this](uint32_t no) -> Result<const uint8_t*> {
      auto it = pages_.find(no);
      if (it == pages_.end()) {
        return Status::InvalidArgument("page " + std::to_string(no) + " is beyond the page count");
      }
      return static_cast<const uint8_t*>(it->second.data());
    };
  }

 private:
  uint32_t ps_;
  std::map<uint32_t, std::vector<uint8_t>> pages_;
};

TEST(OverflowChainTest, EveryDamageIsCorruption) {
  constexpr uint32_t kPs = 4096;
  constexpr uint32_t kCap = kPs - kOverflowDataOffset;
  const std::string value(3 * kCap + 10, 'v');
  auto expect_corrupt = [&](FakePages& f, uint32_t first, uint64_t len, const char* what,
                            const char* says = "") {
    std::string out;
    Status s = ReadOverflow(f.Reader(), kPs, first, len, &out);
    EXPECT_TRUE(s.IsCorruption()) << what << ": " << s.ToString();
    EXPECT_NE(s.message().find("from page " + std::to_string(first)), std::string::npos)
        << s.ToString();
    EXPECT_NE(s.message().find(says), std::string::npos) << what << ": " << s.ToString();
  };

  {
    FakePages f(kPs);
    f.Chain({7, 3, 9, 4}, value);
    std::string out;
    ASSERT_TRUE(ReadOverflow(f.Reader(), kPs, 7, value.size(), &out).ok());
    EXPECT_EQ(out, value);
    expect_corrupt(f, 7, value.size() + 1, "value longer than the chain");
    expect_corrupt(f, 7, value.size() - 1, "value shorter than the chain");
    expect_corrupt(f, 7, 2 * kCap, "chain longer than the value");
    expect_corrupt(f, 0, value.size(), "page 0");
    expect_corrupt(f, 1, value.size(), "page 1 (meta)");
    expect_corrupt(f, 5, value.size(), "missing page");
  }
  {
    FakePages f(kPs);
    f.Chain({7, 3, 9, 4}, value);
    f.Get(9)[pager::kHeaderKindOffset] = static_cast<uint8_t>(PageKind::kLeaf);
    expect_corrupt(f, 7, value.size(), "a leaf in the chain");
  }
  {
    FakePages f(kPs);
    f.Chain({7, 3, 9, 4}, value);
    EncodeFixed32(f.Get(3) + pager::kHeaderPageNoOffset, 33);
    expect_corrupt(f, 7, value.size(), "misdirected page");
  }
  {
    FakePages f(kPs);
    f.Chain({7, 3, 9, 4}, value);
    EncodeFixed32(f.Get(3) + kOverflowUsedOffset, kCap + 1);
    expect_corrupt(f, 7, value.size(), "bytes used above capacity");
  }
  {
    FakePages f(kPs);
    f.Chain({7, 3, 9, 4}, value);
    EncodeFixed32(f.Get(9) + kOverflowNextOffset, 3);  // 7 3 9 3 9 ...
    expect_corrupt(f, 7, value.size(), "a loop of full pages");
    EncodeFixed32(f.Get(3) + kOverflowUsedOffset, 0);
    EncodeFixed32(f.Get(9) + kOverflowUsedOffset, 0);
    expect_corrupt(f, 7, value.size(), "a loop of empty pages");
    expect_corrupt(f, 7, 1ull << 40, "a loop and a huge length", "loops");
  }
  {
    FakePages f(kPs);
    f.Chain({12}, "");
    std::string out = "x";
    ASSERT_TRUE(ReadOverflow(f.Reader(), kPs, 12, 0, &out).ok());
    EXPECT_EQ(out, "");
    EncodeFixed32(f.Get(12) + kOverflowNextOffset, 12);
    expect_corrupt(f, 12, 0, "an empty page linking to itself");
  }
  {
    // A read error other than a bad page number passes through.
    PageReader failing = [](uint32_t) -> Result<const uint8_t*> {
      return Status::IOError("disk on fire");
    };
    std::string out;
    Status s = ReadOverflow(failing, kPs, 7, 10, &out);
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
  }
}

}  // namespace
}  // namespace sombra::btree
