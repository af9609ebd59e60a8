// inspect/key_ranges.h: KeyRanges, a set of key ranges [low, high) over
// byte strings, for `sombra-inspect recover` (docs/tools.md, "recover"):
// the key space the leaves taken so far cover (newest wins), the ranges
// under a tree's unreadable pages, and what no leaf covers.
//
// A bound is a byte string; the empty string stands for -infinity as a low
// bound and +infinity as a high bound (a B+tree fence or separator is never
// empty, docs/format/page.md, so neither is ambiguous).
//
// Invariants: the ranges held are non-empty, disjoint and not adjacent
// (touching ranges are merged), keyed by their low bound.
//
// Thread safety: a value type.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sombra::inspect {

struct KeyRange {
  std::string low;   // "": -infinity
  std::string high;  // "": +infinity
};

class KeyRanges {
 public:
  // Adds [low, high); nothing when it is empty (high <= low).
  void Add(std::string_view low, std::string_view high);
  // True when `key` lies in a range held.
  bool Contains(std::string_view key) const;
  // True when [low, high) lies inside one range held.
  bool Covers(std::string_view low, std::string_view high) const;
  // True when [low, high) shares a key with a range held.
  bool Overlaps(std::string_view low, std::string_view high) const;
  // The ranges held, in key order.
  std::vector<KeyRange> Ranges() const;
  // The parts of (-infinity, +infinity) no range covers, in key order.
  std::vector<KeyRange> Gaps() const;
  bool empty() const { return ranges_.empty(); }

  // a < b for high bounds ("" is +infinity).
  static bool HighLess(std::string_view a, std::string_view b);
  // True when [a.low, a.high) and [b.low, b.high) share a key.
  static bool Intersect(const KeyRange& a, const KeyRange& b);

 private:
  std::map<std::string, std::string, std::less<>> ranges_;  // low -> high
};

}  // namespace sombra::inspect
