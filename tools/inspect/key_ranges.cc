#include "inspect/key_ranges.h"

#include <iterator>

namespace sombra::inspect {

bool KeyRanges::HighLess(std::string_view a, std::string_view b) {
  if (a.empty()) return false;  // +infinity is below nothing
  if (b.empty()) return true;
  return a < b;
}

void KeyRanges::Add(std::string_view low, std::string_view high) {
  if (!high.empty() && high <= low) return;
  std::string lo(low);
  std::string hi(high);
  // The first range that ends at or after `low` (touching counts).
  auto it = ranges_.upper_bound(low);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    const std::string& end = prev->second;
    if (end.empty() || end >= low) it = prev;  // it reaches `low`
  }
  // Merge every range that starts at or before `high`.
  while (it != ranges_.end() && (hi.empty() || it->first <= hi)) {
    if (it->first < lo) lo = it->first;
    if (HighLess(hi, it->second)) hi = it->second;
    it = ranges_.erase(it);
  }
  ranges_.emplace(std::move(lo), std::move(hi));
}

bool KeyRanges::Contains(std::string_view key) const {
  auto it = ranges_.upper_bound(key);
  if (it == ranges_.begin()) return false;
  --it;
  return HighLess(key, it->second);
}

bool KeyRanges::Covers(std::string_view low, std::string_view high) const {
  auto it = ranges_.upper_bound(low);
  if (it == ranges_.begin()) return false;
  --it;
  return !HighLess(it->second, high);
}

namespace {

// low < high for a low bound ("" is -infinity) and a high bound ("" is
// +infinity).
bool LowBelow(std::string_view low, std::string_view high) { return high.empty() || low < high; }

}  // namespace

bool KeyRanges::Overlaps(std::string_view low, std::string_view high) const {
  if (!LowBelow(low, high)) return false;
  auto it = ranges_.upper_bound(low);
  if (it != ranges_.begin() && LowBelow(low, std::prev(it)->second)) return true;
  return it != ranges_.end() && LowBelow(it->first, high);
}

bool KeyRanges::Intersect(const KeyRange& a, const KeyRange& b) {
  return LowBelow(a.low, b.high) && LowBelow(b.low, a.high) && LowBelow(a.low, a.high) &&
         LowBelow(b.low, b.high);
}

std::vector<KeyRange> KeyRanges::Ranges() const {
  std::vector<KeyRange> out;
  for (const auto& [low, high] : ranges_) out.push_back({low, high});
  return out;
}

std::vector<KeyRange> KeyRanges::Gaps() const {
  std::vector<KeyRange> out;
  std::string from;  // where the stretch not covered starts; first -infinity
  bool first = true;
  for (const auto& [low, high] : ranges_) {
    // Ranges are disjoint and not adjacent: only the first may start at
    // the stretch's start (-infinity).
    if (!first || !low.empty()) out.push_back({from, low});
    first = false;
    if (high.empty()) return out;  // covered up to +infinity
    from = high;
  }
  out.push_back({from, ""});
  return out;
}

}  // namespace sombra::inspect
