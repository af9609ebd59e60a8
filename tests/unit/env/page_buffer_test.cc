// env/page_buffer.h: page buffers come back from the pool they were freed
// to, per size, from any thread; slabs that empty past the pool's cap are
// unmapped.
#include "env/page_buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <thread>
#include <vector>

namespace sombra {
namespace {

// Empties the pool of one size (tests share the process-wide pool).
void Drain(size_t size, std::vector<PageBuffer>* keep) {
  while (PooledPageBuffers(size) > 0) keep->push_back(NewPageBuffer(size));
}

TEST(PageBufferTest, AFreedBufferIsTheNextOneHandedOut) {
  std::vector<PageBuffer> held;
  Drain(8192, &held);
  PageBuffer a = NewPageBuffer(8192);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.get()) % 16, 0u);
  std::memset(a.get(), 0xAB, 8192);  // all of it is writable
  uint8_t* const where = a.get();
  a.reset();
  EXPECT_EQ(PooledPageBuffers(8192), 1u);
  PageBuffer b = NewPageBuffer(8192);
  EXPECT_EQ(b.get(), where);
  EXPECT_EQ(PooledPageBuffers(8192), 0u);
}

TEST(PageBufferTest, SizesHaveSeparatePools) {
  std::vector<PageBuffer> held;
  Drain(4096, &held);
  Drain(16384, &held);
  PageBuffer small = NewPageBuffer(4096);
  small.reset();
  EXPECT_EQ(PooledPageBuffers(4096), 1u);
  EXPECT_EQ(PooledPageBuffers(16384), 0u);
  PageBuffer big = NewPageBuffer(16384);  // not the 4 KiB one
  std::memset(big.get(), 1, 16384);
  EXPECT_EQ(PooledPageBuffers(4096), 1u);
}

// Every buffer is aligned to its size and lies in one 2 MiB slab, wholly
// writable.
TEST(PageBufferTest, BuffersAreAlignedToTheirSize) {
  for (size_t size : {size_t{4096}, size_t{8192}, size_t{65536}}) {
    std::vector<PageBuffer> held;
    for (size_t i = 0; i < PageBuffersPerSlab(size) + 3; ++i) {  // more than a slab
      held.push_back(NewPageBuffer(size));
      const auto at = reinterpret_cast<uintptr_t>(held.back().get());
      EXPECT_EQ(at % size, 0u) << size;
      EXPECT_EQ(at / kSlabBytes, (at + size - 1) / kSlabBytes) << size;
      EXPECT_NE(at % kSlabBytes, 0u) << "the first slot is the slab's header";
      std::memset(held.back().get(), 0x3c, size);
    }
  }
  EXPECT_GE(PageBuffersPerSlab(4096), kSlabBytes / 4096 / 2 - 1);
  EXPECT_LE(PageBuffersPerSlab(4096), kSlabBytes / 4096 - 1);
}

// A slab whose last buffer comes back while the pool holds more than its
// cap is unmapped (its buffers leave the pool); under the cap, emptied
// slabs stay for the next buffers.
TEST(PageBufferTest, AnEmptiedSlabPastTheCapIsUnmapped) {
  constexpr size_t kSize = 65536;
  const size_t cap = kPooledBytesPerSize / kSize;
  const size_t per = PageBuffersPerSlab(kSize);
  std::vector<PageBuffer> held;
  Drain(kSize, &held);  // the pool is empty; `held` keeps those slabs alive
  // Enough whole slabs for twice the cap, in allocation order.
  const size_t slabs = (2 * cap + per - 1) / per + 1;
  std::vector<PageBuffer> many;
  const size_t slabs0 = PageBufferSlabs(kSize);
  for (size_t i = 0; i < slabs * per; ++i) {
    many.push_back(NewPageBuffer(kSize));
    std::memset(many.back().get(), 1, kSize);
  }
  EXPECT_GE(PageBufferSlabs(kSize), slabs0 + slabs - 1);
  const size_t mapped = PageBufferSlabs(kSize);
  // Free them in order: slabs empty one after another.
  size_t freed = 0;
  size_t under_cap_slabs = 0;
  for (PageBuffer& b : many) {
    b.reset();
    ++freed;
    if (freed * kSize <= kPooledBytesPerSize && freed % per == 0) ++under_cap_slabs;
  }
  // Every slab that emptied past the cap went, with its buffers.
  EXPECT_LT(PageBufferSlabs(kSize), mapped);
  EXPECT_LE(PooledPageBuffers(kSize) * kSize, kPooledBytesPerSize + per * kSize);
  EXPECT_GE(PooledPageBuffers(kSize), under_cap_slabs * per);
  EXPECT_GT(under_cap_slabs, 0u);
  // The pool's buffers are whole and writable; a new one comes from them.
  std::vector<PageBuffer> again;
  const size_t pooled = PooledPageBuffers(kSize);
  for (size_t i = 0; i < pooled; ++i) {
    again.push_back(NewPageBuffer(kSize));
    std::memset(again.back().get(), 2, kSize);
  }
  EXPECT_EQ(PooledPageBuffers(kSize), 0u);
}

// Buffers freed by other threads than the one that took them (a reader
// releasing the last snapshot frees versions the writer made); run under
// TSan by the sanitizer pass (its filter takes "Concurren"). Every buffer handed out is distinct
// from every other one alive.
TEST(PageBufferTest, ConcurrentThreadsTakeAndFree) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  std::vector<std::thread> threads;
  std::vector<std::vector<PageBuffer>> handoff(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &handoff] {
      std::vector<PageBuffer> mine;
      for (int i = 0; i < kRounds; ++i) {
        mine.push_back(NewPageBuffer(4096));
        std::memset(mine.back().get(), t, 4096);
        if (mine.size() > 8) mine.erase(mine.begin());
      }
      for (PageBuffer& b : mine) {
        for (int k = 0; k < 4096; ++k) ASSERT_EQ(b[k], static_cast<uint8_t>(t));
      }
      handoff[t] = std::move(mine);
    });
  }
  for (std::thread& th : threads) th.join();
  std::set<uint8_t*> distinct;
  for (auto& v : handoff) {
    for (PageBuffer& b : v) distinct.insert(b.get());
  }
  EXPECT_EQ(distinct.size(), size_t{kThreads} * 8);
  std::thread freer([&handoff] { handoff.clear(); });  // freed on another thread
  freer.join();
}

}  // namespace
}  // namespace sombra
