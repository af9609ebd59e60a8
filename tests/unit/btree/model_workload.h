// Keys and values for the B+tree model tests: keys of 1..300 bytes built
// from a few long shared prefixes (some nested, so one prefix is a prefix
// of another) plus a random suffix over an alphabet rich in 0x00, 0x01,
// 0xfe and 0xff; values of 0..max bytes with 1% large ones (overflow pages).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace sombra::btree::model_test {

class Workload {
 public:
  // max_value / big_min / big_max: sizes of ordinary and large values.
  Workload(std::mt19937_64& rng, uint32_t page_size, size_t max_key = 300, size_t max_value = 3000,
           size_t big_min = 20000, size_t big_max = 200000)
      : rng_(rng), max_key_(max_key), max_value_(max_value), big_min_(big_min), big_max_(big_max) {
    (void)page_size;
    const std::string a = Random(8);
    const std::string b = a + Random(32);
    const std::string c = b + Random(110);
    prefixes_ = {"", a, b, c, Random(std::min<size_t>(280, max_key_ - 10)), "k"};
  }

  std::string Key() {
    const std::string& p = prefixes_[rng_() % prefixes_.size()];
    const size_t room = max_key_ - p.size();
    size_t len = rng_() % 4 == 0 ? 1 + rng_() % room : 1 + rng_() % std::min<size_t>(10, room);
    std::string key = p;
    for (size_t i = 0; i < len; ++i) {
      static const char kAlphabet[] = {'\x00', '\x01', 'a', 'b', '\xfe', '\xff'};
      key += rng_() % 2 == 0 ? kAlphabet[rng_() % sizeof(kAlphabet)] : static_cast<char>(rng_());
    }
    return key;
  }

  size_t ValueSize() {
    if (rng_() % 100 == 0) return big_min_ + rng_() % (big_max_ - big_min_ + 1);
    return rng_() % (max_value_ + 1);
  }
  std::string Value() { return Fill(ValueSize()); }
  // A value whose size differs from `old`.
  std::string ValueOtherThan(size_t old) {
    size_t n = ValueSize();
    if (n == old) n = old + 1 + rng_() % 64;
    return Fill(n);
  }
  std::string Fill(size_t n) {
    std::string v(n, '\0');
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const uint64_t x = rng_();
      std::memcpy(v.data() + i, &x, 8);
    }
    for (; i < n; ++i) v[i] = static_cast<char>(rng_());
    return v;
  }

 private:
  std::string Random(size_t n) {
    std::string s(n, '\0');
    for (auto& ch : s) ch = static_cast<char>('a' + rng_() % 26);
    return s;
  }

  std::mt19937_64& rng_;
  size_t max_key_, max_value_, big_min_, big_max_;
  std::vector<std::string> prefixes_;
};

}  // namespace sombra::btree::model_test
