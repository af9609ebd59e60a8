// env/page_buffer.h: page buffers come back from the pool they were freed
// to, per size, up to the pool's cap, from any thread.
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

TEST(PageBufferTest, ThePoolKeepsAtMostItsCap) {
  constexpr size_t kSize = 65536;
  const size_t cap = kPooledBytesPerSize / kSize;
  std::vector<PageBuffer> held;
  Drain(kSize, &held);
  held.clear();  // back to the pool, at most cap of them
  std::vector<PageBuffer> many;
  for (size_t i = 0; i < cap + 10; ++i) many.push_back(NewPageBuffer(kSize));
  many.clear();
  EXPECT_EQ(PooledPageBuffers(kSize), cap);
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
