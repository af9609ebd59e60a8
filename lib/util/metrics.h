// util/metrics.h: counters and timers for telemetry (docs/architecture.md, "Telemetry").
//
// Counters are relaxed atomics and always on: an increment is one
// uncontended atomic add. Timers measure only when profiling is enabled
// (environment variable SOMBRA_PROFILE=1, read once per process), so timed
// comparisons never pay for clock reads.
//
// Thread safety: all methods may be called from any thread. Pointers
// returned by GetCounter/GetTimer stay valid for the registry's lifetime.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace sombra {

class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Get() const { return value_.load(std::memory_order_relaxed); }
  void Reset() { value_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Timer {
 public:
  void Record(uint64_t nanos) {
    count_.fetch_add(1, std::memory_order_relaxed);
    total_ns_.fetch_add(nanos, std::memory_order_relaxed);
  }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t total_ns() const { return total_ns_.load(std::memory_order_relaxed); }
  void Reset() {
    count_.store(0, std::memory_order_relaxed);
    total_ns_.store(0, std::memory_order_relaxed);
  }

 private:
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> total_ns_{0};
};

// True when SOMBRA_PROFILE=1 was set when the process first asked.
bool ProfilingEnabled();
// Overrides the environment (tests and tools).
void SetProfilingEnabled(bool on);

// Records the lifetime of the scope into `timer` when profiling is enabled.
class ScopedTimer {
 public:
  explicit ScopedTimer(Timer* timer) : timer_(ProfilingEnabled() ? timer : nullptr) {
    if (timer_ != nullptr) start_ = std::chrono::steady_clock::now();
  }
  ~ScopedTimer() {
    if (timer_ != nullptr) {
      auto d = std::chrono::steady_clock::now() - start_;
      timer_->Record(
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()));
    }
  }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  Timer* timer_;
  std::chrono::steady_clock::time_point start_;
};

class MetricsRegistry {
 public:
  // The counter or timer of that name, created on first use.
  Counter* GetCounter(const std::string& name);
  Timer* GetTimer(const std::string& name);

  struct TimerValue {
    uint64_t count;
    uint64_t total_ns;
  };
  // Sorted by name.
  std::vector<std::pair<std::string, uint64_t>> CounterValues() const;
  std::vector<std::pair<std::string, TimerValue>> TimerValues() const;
  // The counter's value, or 0 when it was never created.
  uint64_t Value(const std::string& name) const;
  void ResetAll();

 private:
  mutable std::mutex mu_;
  std::deque<Counter> counters_;
  std::deque<Timer> timers_;
  std::map<std::string, Counter*> counter_index_;
  std::map<std::string, Timer*> timer_index_;
};

}  // namespace sombra
