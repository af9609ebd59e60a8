// util/compress.h: lz4 block compression of page images.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "sombra/status.h"

namespace sombra {

// Upper bound of LZ4Compress's output for `input_size` bytes.
size_t LZ4CompressBound(size_t input_size);

// Replaces *out with the lz4 block compression of `input`.
void LZ4Compress(std::string_view input, std::string* out);

// Decompresses `input` into exactly `out_size` bytes at `out`. Returns
// Corruption (never reads or writes out of bounds) when `input` is not a
// valid lz4 block or does not decode to exactly `out_size` bytes.
Status LZ4Decompress(std::string_view input, char* out, size_t out_size);

}  // namespace sombra
