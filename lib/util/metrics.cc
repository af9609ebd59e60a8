#include "util/metrics.h"

#include <cstdlib>
#include <cstring>

namespace sombra {
namespace {

std::atomic<int>& ProfilingFlag() {
  static std::atomic<int> flag{[] {
    const char* v = std::getenv("SOMBRA_PROFILE");
    return (v != nullptr && std::strcmp(v, "1") == 0) ? 1 : 0;
  }()};
  return flag;
}

}  // namespace

bool ProfilingEnabled() { return ProfilingFlag().load(std::memory_order_relaxed) != 0; }
void SetProfilingEnabled(bool on) { ProfilingFlag().store(on ? 1 : 0); }

Counter* MetricsRegistry::GetCounter(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counter_index_.find(name);
  if (it != counter_index_.end()) return it->second;
  Counter* c = &counters_.emplace_back();
  counter_index_.emplace(name, c);
  return c;
}

Timer* MetricsRegistry::GetTimer(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = timer_index_.find(name);
  if (it != timer_index_.end()) return it->second;
  Timer* t = &timers_.emplace_back();
  timer_index_.emplace(name, t);
  return t;
}

std::vector<std::pair<std::string, uint64_t>> MetricsRegistry::CounterValues() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, uint64_t>> out;
  out.reserve(counter_index_.size());
  for (const auto& [name, c] : counter_index_) out.emplace_back(name, c->Get());
  return out;
}

std::vector<std::pair<std::string, MetricsRegistry::TimerValue>> MetricsRegistry::TimerValues()
    const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, TimerValue>> out;
  for (const auto& [name, t] : timer_index_) {
    out.emplace_back(name, TimerValue{t->count(), t->total_ns()});
  }
  return out;
}

uint64_t MetricsRegistry::Value(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counter_index_.find(name);
  return it == counter_index_.end() ? 0 : it->second->Get();
}

void MetricsRegistry::ResetAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& c : counters_) c.Reset();
  for (auto& t : timers_) t.Reset();
}

}  // namespace sombra
