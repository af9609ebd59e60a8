// testutil/seed.h: every random test prints its seed and replays from
// SOMBRA_SEED (docs/testing.md, "Rules").
#pragma once

#include <cstdint>

namespace sombra::test {

// SOMBRA_SEED when set, else a fresh seed; printed (and attached to the
// test's properties) either way so a failure can be replayed.
uint64_t TestSeed();

}  // namespace sombra::test
