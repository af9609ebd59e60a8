// util/compress.h: lz4 block compression of page images.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "sombra/status.h"

namespace sombra {

// Upper bound of LZ4Compress's output for `input_size` bytes.
size_t LZ4CompressBound(size_t input_size);

// lz4's acceleration for page images: how many positions its match search
// skips as it fails to find matches. On leaves of 8-byte keys and values it
// compresses a 4 KiB page in 3.0 us instead of 7.8 us at 1 (random load)
// and 6.5 us instead of 10.9 us (sequential load), storing 72.4% of the
// page instead of 70.9% and 75.5% instead of 74.2% (docs/architecture.md,
// "Commit, checkpoint and recovery"). Decoding does not depend on it.
constexpr int kPageLZ4Acceleration = 4;

// Replaces *out with the lz4 block compression of `input` (acceleration
// >= 1; 1 compresses best).
void LZ4Compress(std::string_view input, std::string* out, int acceleration = kPageLZ4Acceleration);

// The same block into [out, out + capacity): its size, or 0 when it does
// not fit (capacity >= LZ4CompressBound(input.size()) always fits). Any
// thread; each has its own compression state, so equal inputs give equal
// blocks on every thread.
size_t LZ4CompressTo(std::string_view input, char* out, size_t capacity,
                     int acceleration = kPageLZ4Acceleration);

// Decompresses `input` into exactly `out_size` bytes at `out`. Returns
// Corruption (never reads or writes out of bounds) when `input` is not a
// valid lz4 block or does not decode to exactly `out_size` bytes.
Status LZ4Decompress(std::string_view input, char* out, size_t out_size);

}  // namespace sombra
