#include "cli/escape.h"

namespace sombra::cli {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// The value of hex digit `c`, or -1.
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void AppendEscaped(std::string_view bytes, std::string* out) {
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '\t') {
      out->append("\\t");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '\\') {
      out->append("\\\\");
    } else if (b < 0x20 || b > 0x7E) {
      out->append("\\x");
      out->push_back(kHexDigits[b >> 4]);
      out->push_back(kHexDigits[b & 0xF]);
    } else {
      out->push_back(c);
    }
  }
}

std::string Escape(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  AppendEscaped(bytes, &out);
  return out;
}

bool Unescape(std::string_view text, std::string* out, std::string* error) {
  out->clear();
  out->reserve(text.size());
  for (size_t i = 0; i < text.size(); i++) {
    if (text[i] != '\\') {
      out->push_back(text[i]);
      continue;
    }
    if (i + 1 == text.size()) {
      *error = "backslash at the end of a field (write \\\\ for a backslash)";
      return false;
    }
    const char e = text[++i];
    switch (e) {
      case 't':
        out->push_back('\t');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case '\\':
        out->push_back('\\');
        break;
      case 'x': {
        const int hi = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
        const int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
          *error = "\\x at byte " + std::to_string(i - 1) + " is not followed by two hex digits";
          return false;
        }
        out->push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        break;
      }
      default:
        *error = "unknown escape \\" + Escape(std::string_view(&e, 1)) + " at byte " +
                 std::to_string(i - 1) + " (known: \\t \\n \\r \\\\ \\xHH)";
        return false;
    }
  }
  return true;
}

void AppendHex(std::string_view bytes, std::string* out) {
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out->push_back(kHexDigits[b >> 4]);
    out->push_back(kHexDigits[b & 0xF]);
  }
}

std::string HexEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  AppendHex(bytes, &out);
  return out;
}

bool HexDecode(std::string_view text, std::string* out, std::string* error) {
  out->clear();
  if (text.size() % 2 != 0) {
    *error = "odd number of hex digits (" + std::to_string(text.size()) + ")";
    return false;
  }
  out->reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    const int hi = HexValue(text[i]);
    const int lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) {
      *error = "not a hex digit at character " + std::to_string(hi < 0 ? i : i + 1);
      return false;
    }
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

}  // namespace sombra::cli
