// VersionMap against a model: after every Push, Prune and DropPage,
// pages() is exactly the set of pages whose chain is not empty (a
// checkpoint writes the pages pages() lists, so a page missing there would
// be lost), version_count() is the number of versions in the chains, and
// Find returns the newest version at or below a snapshot that Prune kept.
#include "pager/version_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

namespace sombra::pager {
namespace {

constexpr size_t kPageSize = 4096;

std::unique_ptr<PageVersion> Version(uint64_t lsn) {
  PageBuffer buf = NewPageBuffer(kPageSize);
  std::memset(buf.get(), 0, kPageSize);
  std::memcpy(buf.get(), &lsn, sizeof lsn);
  return std::make_unique<PageVersion>(lsn, std::move(buf));
}

// The chain of a page, newest first, as LSNs.
std::vector<uint64_t> Chain(const VersionMap& map, uint32_t page_no) {
  std::vector<uint64_t> out;
  for (const PageVersion* v = map.Head(page_no); v != nullptr;
       v = v->older.load(std::memory_order_acquire)) {
    out.push_back(v->lsn);
  }
  return out;
}

void ExpectMatchesChains(const VersionMap& map, uint32_t max_page, const char* after) {
  std::set<uint32_t> nonempty;
  size_t versions = 0;
  for (uint32_t p = 0; p <= max_page; ++p) {
    const size_t n = Chain(map, p).size();
    versions += n;
    if (n != 0) nonempty.insert(p);
  }
  EXPECT_EQ(map.pages(), nonempty) << "after " << after;
  EXPECT_EQ(map.version_count(), versions) << "after " << after;
}

TEST(VersionMapTest, PagesListsExactlyThePagesWithVersions) {
  constexpr uint32_t kMaxPage = 40;
  VersionMap map;
  RetireBin bin;
  std::mt19937_64 rng(7);
  uint64_t lsn = 0;
  for (int step = 0; step < 5000; ++step) {
    const uint32_t page = 2 + static_cast<uint32_t>(rng() % (kMaxPage - 1));
    const int op = static_cast<int>(rng() % 10);
    if (op < 6) {
      map.Push(page, Version(++lsn));
      ExpectMatchesChains(map, kMaxPage, "Push");
    } else if (op < 9) {
      // One to three snapshots at or below the newest LSN.
      std::vector<uint64_t> snaps;
      const size_t n = 1 + rng() % 3;
      for (size_t i = 0; i < n; ++i) snaps.push_back(lsn == 0 ? 0 : rng() % (lsn + 1));
      std::sort(snaps.begin(), snaps.end());
      const std::vector<uint64_t> before = Chain(map, page);
      // What each snapshot reads before the prune.
      std::vector<const PageVersion*> seen;
      for (uint64_t s : snaps) seen.push_back(map.Find(page, s));
      const size_t cut = map.Prune(page, snaps, /*file_may_stand_in=*/false, &bin);
      EXPECT_EQ(Chain(map, page).size() + cut, before.size());
      for (size_t i = 0; i < snaps.size(); ++i) {
        EXPECT_EQ(map.Find(page, snaps[i]), seen[i]) << "a snapshot lost its version";
      }
      ExpectMatchesChains(map, kMaxPage, "Prune");
    } else {
      map.DropPage(page, &bin);
      EXPECT_TRUE(Chain(map, page).empty());
      ExpectMatchesChains(map, kMaxPage, "DropPage");
    }
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace sombra::pager
