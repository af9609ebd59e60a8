// inspect/hex_dump.h: `hexdump -C` style dump of a byte range.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sombra::inspect {

// The lines of a canonical hex dump of data[0, size): 16 bytes a line as
// "OOOOOOOO  xx xx xx xx xx xx xx xx  xx xx xx xx xx xx xx xx  |ascii...|"
// with offsets relative to `data`; a run of all-zero lines after a first
// all-zero line is collapsed into one "*" line, and a last line holds the
// offset just past the end (as hexdump -C does). A short last line is
// padded so that its ascii column lines up.
std::vector<std::string> HexDumpLines(const uint8_t* data, size_t size);

}  // namespace sombra::inspect
