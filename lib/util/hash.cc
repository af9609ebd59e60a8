#include "util/hash.h"

// XXH3_state_t is a complete type only with XXH_STATIC_LINKING_ONLY.
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

namespace sombra {

uint64_t Hash64(const void* data, size_t size, uint64_t seed) {
  return XXH3_64bits_withSeed(data, size, seed);
}

uint64_t Hash64Pair(const void* a, size_t a_size, const void* b, size_t b_size, uint64_t seed) {
  XXH3_state_t state;
  XXH3_INITSTATE(&state);
  XXH3_64bits_reset_withSeed(&state, seed);
  XXH3_64bits_update(&state, a, a_size);
  XXH3_64bits_update(&state, b, b_size);
  return XXH3_64bits_digest(&state);
}

}  // namespace sombra
