// Tests of util/metrics: counters, timers and the registry.
#include "util/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace sombra {
namespace {

// Restores the process-wide profiling flag after each test.
class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = ProfilingEnabled(); }
  void TearDown() override { SetProfilingEnabled(saved_); }

 private:
  bool saved_ = false;
};

TEST_F(MetricsTest, CounterCreatedOnFirstUseWithStablePointer) {
  MetricsRegistry reg;
  EXPECT_TRUE(reg.CounterValues().empty());
  Counter* c = reg.GetCounter("pager.reads");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->Get(), 0u);
  ASSERT_EQ(reg.CounterValues().size(), 1u);
  EXPECT_EQ(reg.GetCounter("pager.reads"), c);
  // Creating many more counters must not move the first one.
  std::vector<Counter*> others;
  for (int i = 0; i < 1000; ++i) others.push_back(reg.GetCounter("c" + std::to_string(i)));
  EXPECT_EQ(reg.GetCounter("pager.reads"), c);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(reg.GetCounter("c" + std::to_string(i)), others[i]);
  EXPECT_NE(others[0], others[1]);
  EXPECT_NE(others[0], c);
  EXPECT_EQ(reg.CounterValues().size(), 1001u);
}

TEST_F(MetricsTest, AddGetAndValue) {
  MetricsRegistry reg;
  Counter* c = reg.GetCounter("wal.bytes");
  c->Add();
  c->Add(41);
  EXPECT_EQ(c->Get(), 42u);
  EXPECT_EQ(reg.Value("wal.bytes"), 42u);
  EXPECT_EQ(reg.Value("never.created"), 0u);
  // Value() does not create the counter.
  EXPECT_EQ(reg.CounterValues().size(), 1u);
  c->Reset();
  EXPECT_EQ(reg.Value("wal.bytes"), 0u);
}

TEST_F(MetricsTest, CounterValuesSortedByName) {
  MetricsRegistry reg;
  const std::vector<std::string> names = {"zeta", "alpha", "mid.b", "mid.a", "Beta"};
  uint64_t n = 1;
  for (const std::string& name : names) reg.GetCounter(name)->Add(n++);
  auto values = reg.CounterValues();
  ASSERT_EQ(values.size(), names.size());
  std::vector<std::string> got;
  for (const auto& [name, v] : values) got.push_back(name);
  std::vector<std::string> want = names;
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  for (const auto& [name, v] : values) EXPECT_EQ(v, reg.Value(name)) << name;
  EXPECT_EQ(reg.Value("zeta"), 1u);
  EXPECT_EQ(reg.Value("Beta"), 5u);
}

TEST_F(MetricsTest, ConcurrentAddSumsExactly) {
  MetricsRegistry reg;
  constexpr int kThreads = 4;
  constexpr int kIters = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&reg, t] {
      // Every thread looks the counter up itself, racing on creation too.
      Counter* c = reg.GetCounter("shared");
      Counter* own = reg.GetCounter("own." + std::to_string(t));
      for (int i = 0; i < kIters; ++i) {
        c->Add();
        own->Add(2);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(reg.Value("shared"), uint64_t{kThreads} * kIters);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(reg.Value("own." + std::to_string(t)), 2u * kIters);
  }
}

TEST_F(MetricsTest, ScopedTimerRecordsOnlyWhenProfilingEnabled) {
  MetricsRegistry reg;
  Timer* t = reg.GetTimer("btree.get");
  EXPECT_EQ(reg.GetTimer("btree.get"), t);

  SetProfilingEnabled(false);
  EXPECT_FALSE(ProfilingEnabled());
  { ScopedTimer st(t); }
  EXPECT_EQ(t->count(), 0u);
  EXPECT_EQ(t->total_ns(), 0u);

  SetProfilingEnabled(true);
  EXPECT_TRUE(ProfilingEnabled());
  {
    ScopedTimer st(t);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(t->count(), 1u);
  EXPECT_GE(t->total_ns(), 1000000u);  // slept at least 2 ms
  { ScopedTimer st(t); }
  EXPECT_EQ(t->count(), 2u);

  SetProfilingEnabled(false);
  { ScopedTimer st(t); }
  EXPECT_EQ(t->count(), 2u);

  auto timers = reg.TimerValues();
  ASSERT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers[0].first, "btree.get");
  EXPECT_EQ(timers[0].second.count, 2u);
  EXPECT_EQ(timers[0].second.total_ns, t->total_ns());
}

TEST_F(MetricsTest, TimerRecordDirectly) {
  MetricsRegistry reg;
  Timer* t = reg.GetTimer("x");
  t->Record(10);
  t->Record(32);
  EXPECT_EQ(t->count(), 2u);
  EXPECT_EQ(t->total_ns(), 42u);
}

TEST_F(MetricsTest, ResetAll) {
  MetricsRegistry reg;
  Counter* a = reg.GetCounter("a");
  Counter* b = reg.GetCounter("b");
  Timer* t = reg.GetTimer("t");
  a->Add(3);
  b->Add(4);
  t->Record(100);
  reg.ResetAll();
  EXPECT_EQ(reg.Value("a"), 0u);
  EXPECT_EQ(reg.Value("b"), 0u);
  EXPECT_EQ(t->count(), 0u);
  EXPECT_EQ(t->total_ns(), 0u);
  // Names and pointers survive a reset.
  EXPECT_EQ(reg.CounterValues().size(), 2u);
  EXPECT_EQ(reg.GetCounter("a"), a);
  EXPECT_EQ(reg.GetTimer("t"), t);
  a->Add();
  EXPECT_EQ(reg.Value("a"), 1u);
}

}  // namespace
}  // namespace sombra
