#include "testutil/seed.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

namespace sombra::test {

uint64_t TestSeed() {
  uint64_t seed;
  const char* env = std::getenv("SOMBRA_SEED");
  if (env != nullptr && *env != '\0') {
    seed = std::strtoull(env, nullptr, 0);
  } else {
    std::random_device rd;
    seed = (static_cast<uint64_t>(rd()) << 32) | rd();
  }
  std::printf("[ seed     ] SOMBRA_SEED=%llu\n", static_cast<unsigned long long>(seed));
  ::testing::Test::RecordProperty("SOMBRA_SEED", std::to_string(seed));
  return seed;
}

}  // namespace sombra::test
