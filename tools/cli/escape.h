// cli/escape.h: the text encodings the sombra tool uses for keys and values.
//
// Escaped text (the TSV dump format, docs/cli.md):
//   byte 0x09 (tab)        -> \t
//   byte 0x0A (newline)    -> \n
//   byte 0x5C (backslash)  -> \\ (two backslashes)
//   any other byte outside printable ASCII 0x20..0x7E -> \xHH (lowercase hex)
//   every other byte       -> itself
// so an escaped field never holds a tab, a newline or a byte that is not
// printable ASCII, and Unescape(Escape(s)) == s for every byte string s.
// Unescape also accepts \r and uppercase hex digits; any other backslash
// sequence is an error.
//
// Hex text: two hex digits per byte, lowercase on output, either case on
// input, nothing else (no 0x prefix, no spaces).
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace sombra::cli {

std::string Escape(std::string_view bytes);
// Appends the escaped form of `bytes` to *out.
void AppendEscaped(std::string_view bytes, std::string* out);
// False (and *error says why and at which byte) when `text` holds a bad
// escape sequence; *out is then unspecified.
bool Unescape(std::string_view text, std::string* out, std::string* error);

std::string HexEncode(std::string_view bytes);
void AppendHex(std::string_view bytes, std::string* out);
bool HexDecode(std::string_view text, std::string* out, std::string* error);

}  // namespace sombra::cli
