// util/hash.h: XXH3-64 checksums (libxxhash), always seeded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sombra {

uint64_t Hash64(const void* data, size_t size, uint64_t seed);
inline uint64_t Hash64(std::string_view s, uint64_t seed) {
  return Hash64(s.data(), s.size(), seed);
}

// Hash of the concatenation a ++ b, without copying them together.
uint64_t Hash64Pair(const void* a, size_t a_size, const void* b, size_t b_size, uint64_t seed);

}  // namespace sombra
