#include "util/compress.h"

#include <lz4.h>

#include <climits>
#include <string>

namespace sombra {

size_t LZ4CompressBound(size_t input_size) {
  if (input_size > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) return 0;
  return static_cast<size_t>(LZ4_compressBound(static_cast<int>(input_size)));
}

void LZ4Compress(std::string_view input, std::string* out, int acceleration) {
  out->resize(LZ4CompressBound(input.size()));
  out->resize(LZ4CompressTo(input, out->data(), out->size(), acceleration));
}

size_t LZ4CompressTo(std::string_view input, char* out, size_t capacity, int acceleration) {
  if (input.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) return 0;
  // One compression state per thread, initialised once (16 KiB of zeros)
  // and cheaply reset for each block: LZ4_compress_default initialised its
  // own state on every call, 3% of a bulk load that logs page images. A
  // block started after LZ4_resetStream_fast references no earlier input,
  // so LZ4_decompress_safe decodes it alone, and the block depends on the
  // input alone.
  struct State {
    State() { LZ4_initStream(&stream, sizeof(stream)); }
    LZ4_stream_t stream;
  };
  thread_local State state;
  LZ4_resetStream_fast(&state.stream);
  const int cap = capacity > static_cast<size_t>(INT_MAX) ? INT_MAX : static_cast<int>(capacity);
  const int n = LZ4_compress_fast_continue(&state.stream, input.data(), out,
                                           static_cast<int>(input.size()), cap, acceleration);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

Status LZ4Decompress(std::string_view input, char* out, size_t out_size) {
  if (input.size() > INT_MAX || out_size > INT_MAX) {
    return Status::Corruption("lz4 block too large");
  }
  // LZ4_decompress_safe never writes past out_size nor reads past the input.
  int n = LZ4_decompress_safe(input.data(), out, static_cast<int>(input.size()),
                              static_cast<int>(out_size));
  if (n < 0) return Status::Corruption("lz4 block is malformed");
  if (static_cast<size_t>(n) != out_size) {
    return Status::Corruption("lz4 block decodes to " + std::to_string(n) + " bytes, expected " +
                              std::to_string(out_size));
  }
  return Status::OK();
}

}  // namespace sombra
