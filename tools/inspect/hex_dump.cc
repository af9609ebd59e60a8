#include "inspect/hex_dump.h"

#include <algorithm>
#include <cstdio>

#include "util/coding.h"

namespace sombra::inspect {
namespace {

constexpr size_t kBytesPerLine = 16;

std::string Offset(size_t offset) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%08zx", offset);
  return buf;
}

std::string Line(const uint8_t* data, size_t offset, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string line = Offset(offset);
  line += "  ";
  std::string ascii;
  for (size_t i = 0; i < kBytesPerLine; ++i) {
    if (i == 8) line += ' ';
    if (i < n) {
      const uint8_t b = data[offset + i];
      line += kDigits[b >> 4];
      line += kDigits[b & 0xF];
      line += ' ';
      ascii += (b >= 0x20 && b < 0x7F) ? static_cast<char>(b) : '.';
    } else {
      line += "   ";
    }
  }
  line += " |";
  line += ascii;
  line += '|';
  return line;
}

}  // namespace

std::vector<std::string> HexDumpLines(const uint8_t* data, size_t size) {
  std::vector<std::string> lines;
  bool previous_zero = false;  // the previous full line was all zeros
  bool starred = false;        // a "*" stands for the current run
  for (size_t offset = 0; offset < size; offset += kBytesPerLine) {
    const size_t n = std::min(kBytesPerLine, size - offset);
    const bool zero = n == kBytesPerLine && IsAllZero(data + offset, n);
    if (zero && previous_zero) {
      if (!starred) lines.emplace_back("*");
      starred = true;
      continue;
    }
    previous_zero = zero;
    starred = false;
    lines.push_back(Line(data, offset, n));
  }
  lines.push_back(Offset(size));
  return lines;
}

}  // namespace sombra::inspect
